// The interactive console of p2pnode: reads command lines from stdin (a
// terminal or a pipe) and hands each to the node without waiting for it to
// finish, so `stop`, `peers` or `cancel` answer while a download runs. On a
// terminal it edits the line itself (TerminalLine) so that output above the
// prompt never garbles what the user types. End of input acts like `stop`:
// at once on a terminal (Ctrl-D); from a pipe, once the commands it gave
// have finished, so that `printf 'download --wait ...\n' | p2pnode` works.
#pragma once

#include "p2pnet/node.hpp"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace p2pnet {

class Console {
 public:
  explicit Console(Node& node);
  ~Console();

  void start();
  void shut_down();  // stops reading and joins the reader thread

 private:
  struct Running {
    std::mutex mutex;
    std::condition_variable changed;
    int commands = 0;
  };

  void loop();
  void run_line(const std::string& line);
  void wait_for_running_commands();

  Node& node_;
  std::thread reader_;
  int wake_pipe_[2] = {-1, -1};
  std::atomic<bool> shutting_down_{false};
  std::shared_ptr<Running> running_ = std::make_shared<Running>();
};

}  // namespace p2pnet
