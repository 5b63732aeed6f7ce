#include "serial_worker.hpp"

namespace p2pnet {

SerialWorker::~SerialWorker() { shut_down(); }

bool SerialWorker::post(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return false;
  tasks_.push_back(std::move(task));
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  wake_.notify_one();
  return true;
}

void SerialWorker::shut_down() {
  std::thread thread;
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
    wake_.notify_one();
    thread.swap(thread_);
  }
  if (thread.joinable()) thread.join();
}

void SerialWorker::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return shutting_down_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // shutting down with nothing left
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace p2pnet
