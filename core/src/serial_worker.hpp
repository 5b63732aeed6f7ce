// One thread that runs queued tasks in order. Plugin loads and unloads wait
// for plugin code (bounded, seconds); they run here, never on a network
// thread (where waiting for a strand could wait for itself) nor on the
// console's or control endpoint's threads, which must stay free to take the
// next command.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace p2pnet {

class SerialWorker {
 public:
  SerialWorker() = default;
  ~SerialWorker();
  SerialWorker(const SerialWorker&) = delete;
  SerialWorker& operator=(const SerialWorker&) = delete;

  // The thread starts with the first task. False once shut down.
  bool post(std::function<void()> task);
  // Runs what is queued, then joins the thread. Posts after this are dropped.
  void shut_down();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool shutting_down_ = false;
  std::thread thread_;
};

}  // namespace p2pnet
