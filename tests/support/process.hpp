// A child process (p2pnode, cmake, ...) with its stdin, stdout and stderr on
// pipes, for tests that run the programs the way users do.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace p2pnet::test {

class Process {
 public:
  Process(const std::string& program, const std::vector<std::string>& args, const std::string& working_dir = "");
  ~Process();  // kills the process if it still runs
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool write_line(const std::string& line);
  void close_stdin();

  // Waits for a stdout line matching `pattern` (searching from line `from`);
  // returns its index and the match, or nothing on timeout.
  std::optional<std::pair<size_t, std::smatch>> wait_for_line(const std::regex& pattern,
                                                             std::chrono::milliseconds timeout = std::chrono::seconds(15),
                                                             size_t from = 0);
  std::vector<std::string> stdout_lines();
  std::string stderr_text();
  size_t line_count();

  // After exit: waits until everything the process wrote has been read.
  void drain_output();
  void signal(int number);
  // Waits for exit; the exit code, or nothing if it did not exit in time.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(15));

 private:
  void read_stdout();
  void read_stderr();

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::thread stdout_reader_;
  std::thread stderr_reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  std::string stderr_;
  bool stdout_closed_ = false;
  std::optional<int> exit_code_;
};

// Runs a program to completion; returns its exit code and output.
struct RunResult {
  int exit_code;
  std::string output;
};
RunResult run_program(const std::string& program, const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::minutes(5), const std::string& working_dir = "");

}  // namespace p2pnet::test
