// A deadline for what a socket waits for (a connect, an opening line): when
// it expires the socket is closed, and the wait ends with operation_aborted.
// Cancel it once the wait ended. Both run on the socket's executor.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <system_error>

#include <asio.hpp>

namespace p2pnet {

inline std::shared_ptr<asio::steady_timer> close_after(const std::shared_ptr<asio::ip::tcp::socket>& socket,
                                                       std::chrono::milliseconds timeout) {
  auto deadline = std::make_shared<asio::steady_timer>(socket->get_executor(), timeout);
  deadline->async_wait([socket](const std::error_code& error) {
    if (error) return;  // cancelled: the wait ended first
    std::error_code ignored;
    socket->close(ignored);
  });
  return deadline;
}

// Why a connect ended without a connection.
inline std::string connect_failure(const std::error_code& error) {
  return error == asio::error::operation_aborted ? "timed out" : error.message();
}

}  // namespace p2pnet
