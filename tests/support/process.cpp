#include "process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace p2pnet::test {
namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

// posix_spawn rather than fork: the child shares no copy of a large parent's
// page tables (a bench that has moved gigabytes would otherwise time its own
// fork), and exec failures come back as an error here.
Process::Process(const std::string& program, const std::vector<std::string>& args, const std::string& working_dir) {
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC))
    throw std::runtime_error("pipe failed");
  std::vector<std::string> argv_storage{program};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  if (!working_dir.empty()) posix_spawn_file_actions_addchdir_np(&actions, working_dir.c_str());
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);  // the child starts with no signal blocked
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
  int error = ::posix_spawn(&pid_, program.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  for (int fd : {in[0], out[1], err[1]}) ::close(fd);
  if (error != 0) {
    for (int fd : {in[1], out[0], err[0]}) ::close(fd);
    pid_ = -1;
    throw std::runtime_error("cannot start " + program + ": " + std::strerror(error));
  }
  stdin_fd_ = in[1];
  stdout_fd_ = out[0];
  stderr_fd_ = err[0];
  stdout_reader_ = std::thread([this] { read_stdout(); });
  stderr_reader_ = std::thread([this] { read_stderr(); });
}

Process::~Process() {
  if (!wait_exit(std::chrono::milliseconds(0))) {
    signal(SIGKILL);
    wait_exit(std::chrono::seconds(10));
  }
  close_fd(stdin_fd_);
  if (stdout_reader_.joinable()) stdout_reader_.join();
  if (stderr_reader_.joinable()) stderr_reader_.join();
  close_fd(stdout_fd_);
  close_fd(stderr_fd_);
}

bool Process::write_line(const std::string& line) {
  std::string data = line + "\n";
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(stdin_fd_, p, left);
    if (n <= 0) return false;
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

void Process::close_stdin() { close_fd(stdin_fd_); }

void Process::read_stdout() {
  std::string partial;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(stdout_fd_, buffer, sizeof buffer);
    if (n <= 0) break;
    std::lock_guard lock(mutex_);
    for (ssize_t i = 0; i < n; ++i) {
      if (buffer[i] == '\n') {
        lines_.push_back(partial);
        partial.clear();
      } else {
        partial += buffer[i];
      }
    }
    changed_.notify_all();
  }
  std::lock_guard lock(mutex_);
  if (!partial.empty()) lines_.push_back(partial);
  stdout_closed_ = true;
  changed_.notify_all();
}

void Process::read_stderr() {
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(stderr_fd_, buffer, sizeof buffer);
    if (n <= 0) break;
    std::lock_guard lock(mutex_);
    stderr_.append(buffer, static_cast<size_t>(n));
  }
}

std::optional<std::pair<size_t, std::smatch>> Process::wait_for_line(const std::regex& pattern,
                                                                     std::chrono::milliseconds timeout, size_t from) {
  std::unique_lock lock(mutex_);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t next = from;
  while (true) {
    for (; next < lines_.size(); ++next) {
      std::smatch match;
      if (std::regex_search(lines_[next], match, pattern)) return std::make_pair(next, match);
    }
    if (stdout_closed_) return std::nullopt;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && next >= lines_.size()) return std::nullopt;
  }
}

std::vector<std::string> Process::stdout_lines() {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::string Process::stderr_text() {
  std::lock_guard lock(mutex_);
  return stderr_;
}

size_t Process::line_count() {
  std::lock_guard lock(mutex_);
  return lines_.size();
}

void Process::drain_output() {
  if (stdout_reader_.joinable()) stdout_reader_.join();
  if (stderr_reader_.joinable()) stderr_reader_.join();
}

void Process::signal(int number) {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, number);
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

RunResult run_program(const std::string& program, const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout, const std::string& working_dir) {
  Process process(program, args, working_dir);
  process.close_stdin();
  auto code = process.wait_exit(timeout);
  if (code) process.drain_output();
  std::string output;
  for (const auto& line : process.stdout_lines()) output += line + "\n";
  output += process.stderr_text();
  return {code.value_or(-1), output};
}

}  // namespace p2pnet::test
