#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace p2pnet::test {

// Waits until `condition` holds or the deadline passes; true if it held.
// Polls: the conditions are states of other threads and processes.
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace p2pnet::test
