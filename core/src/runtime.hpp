// The io_context and threads behind p2pnet::Runtime.
#pragma once

#include "p2pnet/node.hpp"

#include <asio.hpp>

#include <thread>
#include <vector>

namespace p2pnet {

struct Runtime::Impl {
  Impl(unsigned network_threads, unsigned background_threads);
  ~Impl();

  // True when called from one of this runtime's network threads, where
  // blocking on the runtime itself would deadlock.
  bool on_network_thread() const;

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> keep_running;
  asio::thread_pool background;
  std::vector<std::thread> threads;
};

}  // namespace p2pnet
