#include "runtime.hpp"

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <algorithm>

namespace p2pnet {

Runtime::Impl::Impl(unsigned network_threads, unsigned background_threads)
    : keep_running(asio::make_work_guard(io)), background(std::max(1u, background_threads)) {
  // OpenSSL would otherwise tear its locks down in an atexit handler while a
  // runtime that outlives main() may still free TLS objects on its threads.
  OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT, nullptr);
  for (unsigned i = 0; i < std::max(1u, network_threads); ++i) threads.emplace_back([this] { io.run(); });
}

Runtime::Impl::~Impl() {
  keep_running.reset();
  io.stop();
  for (auto& thread : threads) thread.join();
  background.join();
}

bool Runtime::Impl::on_network_thread() const {
  auto self = std::this_thread::get_id();
  return std::any_of(threads.begin(), threads.end(), [&](const std::thread& t) { return t.get_id() == self; });
}

Runtime::Runtime(unsigned network_threads, unsigned background_threads)
    : impl_(std::make_unique<Impl>(network_threads, background_threads)) {}

Runtime::~Runtime() = default;

}  // namespace p2pnet
