// The interactive console of p2pnode: reads command lines from stdin (a
// terminal or a pipe), runs each to completion on the node, and treats end of
// input as `stop`.
#pragma once

#include "p2pnet/node.hpp"

#include <atomic>
#include <thread>

namespace p2pnet {

class Console {
 public:
  explicit Console(Node& node);
  ~Console();

  void start();
  void shut_down();  // stops reading and joins the reader thread

 private:
  void loop();
  void run_line(const std::string& line);

  Node& node_;
  std::thread reader_;
  int wake_pipe_[2] = {-1, -1};
  std::atomic<bool> shutting_down_{false};
};

}  // namespace p2pnet
