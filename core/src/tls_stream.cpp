#include "tls_stream.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <asio/ssl/error.hpp>

#include <sys/socket.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

namespace p2pnet {
namespace {

// Buffers at least this big are encrypted in place; smaller ones are copied
// together so a batch of small frames becomes one record and one send.
constexpr size_t kDirectWriteBytes = 4 * 1024;
constexpr size_t kRecordBytes = 16 * 1024;  // TLS's largest record payload

TlsSocketState& state(BIO* bio) { return *static_cast<TlsSocketState*>(BIO_get_data(bio)); }

bool would_block() { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR; }

// OpenSSL's socket BIO writes with write(), which raises SIGPIPE when the
// peer is gone and would kill an application that embeds a node. This one
// sends with MSG_NOSIGNAL.
int socket_write(BIO* bio, const char* data, size_t size, size_t* written) {
  BIO_clear_retry_flags(bio);
  ssize_t sent = ::send(state(bio).socket->native_handle(), data, size, MSG_NOSIGNAL);
  if (sent >= 0) {
    *written = static_cast<size_t>(sent);
    return 1;
  }
  if (would_block()) BIO_set_retry_write(bio);
  return 0;
}

int socket_read(BIO* bio, char* data, size_t size, size_t* read) {
  BIO_clear_retry_flags(bio);
  ssize_t received = ::recv(state(bio).socket->native_handle(), data, size, 0);
  if (received > 0) {
    *read = static_cast<size_t>(received);
    auto& seen = state(bio);
    size_t keep = std::min(seen.first_bytes.size() - seen.first_bytes_size, *read);
    std::memcpy(seen.first_bytes.data() + seen.first_bytes_size, data, keep);
    seen.first_bytes_size += keep;
    return 1;
  }
  if (received == 0) state(bio).ended = true;
  if (received < 0 && would_block()) BIO_set_retry_read(bio);
  return 0;  // end of stream, or an error left in errno
}

// BIO_CTRL_EOF lets OpenSSL tell a peer that closed (an end of stream, as
// SSL_OP_IGNORE_UNEXPECTED_EOF asks) from a failed read.
long socket_control(BIO* bio, int command, long, void*) {
  if (command == BIO_CTRL_FLUSH) return 1;
  if (command == BIO_CTRL_EOF) return state(bio).ended ? 1 : 0;
  return 0;
}

int socket_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* socket_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "p2pnet socket");
    if (made && BIO_meth_set_write_ex(made, socket_write) == 1 && BIO_meth_set_read_ex(made, socket_read) == 1 &&
        BIO_meth_set_ctrl(made, socket_control) == 1 && BIO_meth_set_create(made, socket_create) == 1)
      return made;
    BIO_meth_free(made);
    return static_cast<BIO_METHOD*>(nullptr);
  }();
  return method;
}

[[noreturn]] void throw_tls_error(const char* what) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) throw std::system_error(std::make_error_code(std::errc::not_enough_memory), what);
  throw std::system_error(std::error_code(static_cast<int>(code), asio::error::get_ssl_category()), what);
}

}  // namespace

std::span<const std::byte> TlsStream::first_bytes_received() const {
  return {bio_state_.first_bytes.data(), bio_state_.first_bytes_size};
}

TlsStream::TlsStream(asio::ip::tcp::socket socket, SSL_CTX* context, Role role) : socket_(std::move(socket)) {
  std::error_code error;
  socket_.native_non_blocking(true, error);  // OpenSSL's own reads and writes must never block
  if (error) throw std::system_error(error, "cannot start TLS on this socket");
  ERR_clear_error();
  if (!socket_method()) throw_tls_error("cannot make the TLS socket method");
  BIO* bio = BIO_new(socket_method());
  if (!bio) throw_tls_error("cannot make a TLS socket");
  BIO_set_data(bio, &bio_state_);
  ssl_ = SSL_new(context);
  if (!ssl_) {
    BIO_free(bio);
    throw_tls_error("cannot make a TLS session");
  }
  SSL_set_bio(ssl_, bio, bio);
  // Partial writes let a big buffer go out record by record; the peer closing
  // without close_notify is an ordinary end of stream, as with plain TCP.
  // Read-ahead takes a record in one recv instead of a header read and a body read.
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  SSL_set_options(ssl_, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_set_read_ahead(ssl_, 1);
  if (role == Role::server)
    SSL_set_accept_state(ssl_);
  else
    SSL_set_connect_state(ssl_);
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

TlsStream::Outcome TlsStream::classify(int result) {
  int saved_errno = errno;
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ:
      return {Step::want_read, {}};
    case SSL_ERROR_WANT_WRITE:
      return {Step::want_write, {}};
    case SSL_ERROR_ZERO_RETURN:
      return {Step::done, asio::error::eof};
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      if (saved_errno == 0) return {Step::done, asio::error::eof};
      return {Step::done, std::error_code(saved_errno, std::system_category())};
    default: {
      unsigned long code = ERR_get_error();
      ERR_clear_error();
      if (code == 0) return {Step::done, asio::error::connection_aborted};
      return {Step::done, std::error_code(static_cast<int>(code), asio::error::get_ssl_category())};
    }
  }
}

TlsStream::Outcome TlsStream::handshake_step() {
  ERR_clear_error();
  errno = 0;
  int result = SSL_do_handshake(ssl_);
  if (result == 1) return {};
  return classify(result);
}

TlsStream::Outcome TlsStream::read_step(asio::mutable_buffer buffer, size_t& bytes) {
  ERR_clear_error();
  errno = 0;
  if (SSL_read_ex(ssl_, buffer.data(), buffer.size(), &bytes) == 1) return {};
  bytes = 0;
  return classify(0);
}

void TlsStream::begin_write(std::span<const asio::const_buffer> buffers) {
  write_buffers_ = buffers;
  write_index_ = write_offset_ = write_total_ = 0;
  pending_ = {};
}

asio::const_buffer TlsStream::next_write_piece() {
  while (write_index_ < write_buffers_.size() && write_buffers_[write_index_].size() == write_offset_) {
    ++write_index_;
    write_offset_ = 0;
  }
  if (write_index_ == write_buffers_.size()) return {};
  auto remaining_of = [this](size_t index) { return write_buffers_[index].size() - write_offset_; };
  auto start_of = [this](size_t index) {
    return static_cast<const std::byte*>(write_buffers_[index].data()) + write_offset_;
  };

  if (remaining_of(write_index_) >= kDirectWriteBytes) {
    asio::const_buffer piece(start_of(write_index_), remaining_of(write_index_));
    ++write_index_;
    write_offset_ = 0;
    return piece;
  }
  staging_.clear();
  staging_.reserve(kRecordBytes);
  while (write_index_ < write_buffers_.size() && staging_.size() < kRecordBytes) {
    size_t remaining = remaining_of(write_index_);
    if (remaining >= kDirectWriteBytes) break;  // goes out on its own next
    size_t take = std::min(remaining, kRecordBytes - staging_.size());
    staging_.insert(staging_.end(), start_of(write_index_), start_of(write_index_) + take);
    write_offset_ += take;
    if (write_offset_ == write_buffers_[write_index_].size()) {
      ++write_index_;
      write_offset_ = 0;
    }
  }
  return {staging_.data(), staging_.size()};
}

TlsStream::Outcome TlsStream::write_step(size_t& bytes) {
  while (true) {
    if (pending_.size() == 0) {
      pending_ = next_write_piece();
      if (pending_.size() == 0) {
        std::vector<std::byte>().swap(staging_);  // an idle connection keeps no record buffer
        bytes = write_total_;
        return {};
      }
    }
    ERR_clear_error();
    errno = 0;
    size_t written = 0;
    if (SSL_write_ex(ssl_, pending_.data(), pending_.size(), &written) != 1) {
      Outcome outcome = classify(0);
      if (outcome.step == Step::done) bytes = write_total_;
      return outcome;
    }
    write_total_ += written;
    pending_ += written;
    if (write_progress_) write_progress_();
  }
}

}  // namespace p2pnet
