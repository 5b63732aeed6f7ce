// One peer connection from socket to frames and back: its TLS, handshake,
// read loop, write queue with its budgets, and close. Near 600 lines on
// purpose: these share the connection's strand and state, and every
// invariant (what is charged where, when a frame may go out, how a close
// settles the budgets) is easiest to check when read in one place.
#include "connection.hpp"

#include "tls_identity.hpp"
#include "wire/header_scan.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>

namespace p2pnet {
namespace {

// An idle connection keeps a small read buffer; one whose reads fill the
// buffer gets a bigger one, up to kBusyReadBuffer, and gives it back once
// traffic calms down. Frames larger than the buffer grow it to their size.
constexpr size_t kIdleReadBuffer = 2 * 1024;
constexpr size_t kBusyReadBuffer = 64 * 1024;
constexpr size_t kMinReadSpace = 1024;
constexpr size_t kMaxWriteBatchFrames = 64;
constexpr size_t kMaxWriteBatchBytes = 1024 * 1024;
constexpr auto kGoodbyeGrace = std::chrono::seconds(1);

std::atomic<uint64_t> next_serial{1};

int64_t steady_ns(std::chrono::steady_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

std::string endpoint_address(const asio::ip::tcp::endpoint& endpoint) {
  auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, bool inbound, std::weak_ptr<ConnectionOwner> owner,
                       const ConnectionLimits& limits, std::shared_ptr<const Logger> log, asio::ssl::context* tls)
    : strand_(asio::make_strand(socket.get_executor())),
      socket_(std::move(socket)),
      tls_context_(tls),
      timer_(strand_),
      inbound_(inbound),
      owner_(std::move(owner)),
      limits_(limits),
      log_(std::move(log)),
      serial_(next_serial.fetch_add(1)) {
  std::error_code error;
  auto remote = socket_.remote_endpoint(error);
  if (!error) {
    remote_address_ = endpoint_address(remote);
    remote_port_ = remote.port();
  }
  auto local = socket_.local_endpoint(error);
  if (!error) local_address_ = endpoint_address(local);
  socket_.set_option(asio::ip::tcp::no_delay(true), error);
}

std::string Connection::describe() const {
  if (established()) return fmt::format("{} at {}:{}", hello_.id.substr(0, 12), remote_address_, remote_port_);
  return fmt::format("{}:{}", remote_address_, remote_port_);
}

bool Connection::handles(std::string_view type) const {
  std::lock_guard lock(types_mutex_);
  const auto& types = updated_types_ ? *updated_types_ : hello_.types;
  return std::find(types.begin(), types.end(), type) != types.end();
}

std::vector<std::string> Connection::types() const {
  std::lock_guard lock(types_mutex_);
  return updated_types_ ? *updated_types_ : hello_.types;
}

void Connection::replace_types(std::vector<std::string> types) {
  auto updated = std::make_shared<const std::vector<std::string>>(std::move(types));
  std::lock_guard lock(types_mutex_);
  updated_types_ = std::move(updated);
}

void Connection::start() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    self->timer_.expires_after(self->limits_.handshake_timeout);
    self->timer_.async_wait([self](const std::error_code& error) {
      if (error || self->established() || self->closed_ || self->bye_pending_) return;
      self->count_event("handshake_timeouts");
      self->close_on_strand(fmt::format("handshake timeout after {} ms", self->limits_.handshake_timeout.count()),
                            false);
    });
    if (!self->inbound_) return self->tls_context_ ? self->begin_tls() : self->begin_plaintext();
    // A TLS client opens with a handshake record (0x16); a plaintext node
    // with a frame, and gets a plaintext bye it can read; a relay circuit
    // with its opening line, and goes to the relay service; anything else
    // is not a p2pnet node and is only told goodbye by closing.
    self->socket_.async_receive(
        asio::buffer(self->first_bytes_), asio::socket_base::message_peek,
        asio::bind_executor(self->strand_, [self](const std::error_code& error, size_t bytes) {
          if (self->closed_) return;
          if (error || bytes == 0)
            return self->close_on_strand(error ? error.message() : "peer closed the connection", false);
          switch (wire::classify_opening(self->first_bytes_[0])) {
            case wire::Opening::tls:
              // A plaintext node reads the record as a frame and says why it closes.
              return self->tls_context_ ? self->begin_tls() : self->begin_plaintext();
            case wire::Opening::frame:
              if (!self->tls_context_) return self->begin_plaintext();
              return self->close_on_strand(
                  "the peer sent plaintext but this node requires encryption (TLS): set encryption = true on both",
                  true);
            case wire::Opening::relay:
              if (self->relayed()) {  // no circuit inside a circuit
                self->count_event("foreign_peers");
                return self->close_on_strand("a relay opening inside a relayed link", false);
              }
              return self->hand_to_relay();
            case wire::Opening::foreign:
              self->count_event("foreign_peers");
              return self->close_on_strand(wire::foreign_peer_reason({self->first_bytes_.data(), bytes}), false);
          }
        }));
  });
}

void Connection::begin_plaintext() {
  hello_sent_ = true;
  send_hello();
  read_more();
}

void Connection::hand_to_relay() {
  auto owner = owner_.lock();
  if (!owner) return close_on_strand("node is stopping", false);
  handed_to_relay_ = true;
  owner->on_relay_opening(std::move(socket_));
  close_on_strand("handed to the relay service", false);
}

void Connection::refuse(std::string reason) {
  refusing_ = true;
  refusal_ = std::move(reason);
  if (!tls_context_ || !inbound_) return close(refusal_, inbound_);
  start();
}

void Connection::begin_tls() {
  if (closed_) return;  // closed (node stopping) before the handshake began
  try {
    tls_ = std::make_unique<TlsStream>(std::move(socket_), tls_context_->native_handle(),
                                       inbound_ ? TlsStream::Role::server : TlsStream::Role::client);
    tls_->on_write_progress([this] { note_write_progress(); });  // the stream lives no longer than this
  } catch (const std::system_error& error) {
    return close_on_strand(fmt::format("TLS setup failed: {}", error.what()), false);
  }
  tls_->async_handshake(asio::bind_executor(strand_, [self = shared_from_this()](const std::error_code& error) {
    if (self->closed_) return;
    if (error) {
      auto answer = self->tls_->first_bytes_received();
      if (!answer.empty() && wire::classify_opening(answer[0]) == wire::Opening::foreign) {
        self->count_event("foreign_peers");
        return self->close_on_strand(wire::foreign_peer_reason(answer), false);
      }
      return self->close_on_strand(fmt::format("TLS handshake failed: {}{}", error.message(),
                                               self->inbound_ ? "" : " (does the peer have encryption = false?)"),
                                   false);
    }
    self->peer_key_id_ = p2pnet::peer_key_id(self->tls_->native_handle());
    if (self->peer_key_id_.empty()) return self->close_on_strand("the peer presented no Ed25519 node key", false);
    // A pinned dial learns who answered from the TLS key alone: an impostor
    // at that address gets no hello, so it never sees a network-key proof.
    if (!self->inbound_ && !self->expected_peer_id_.empty() && self->peer_key_id_ != self->expected_peer_id_) {
      auto owner = self->owner_.lock();
      if (!owner) return self->close_on_strand("node is stopping", false);
      return self->close_on_strand(owner->on_pinned_mismatch(*self, self->peer_key_id_), false);
    }
    if (self->refusing_) {
      self->close_on_strand(self->refusal_, true);
      return self->read_more();  // until the dialer closes too, or the goodbye grace ends
    }
    if (!self->inbound_ || !self->limits_.inbound_hello_after_peer) {
      self->hello_sent_ = true;
      self->send_hello();
    }
    self->read_more();
  }));
}

void Connection::send_hello() {
  auto owner = owner_.lock();
  if (!owner) return close_on_strand("node is stopping", false);
  enqueue(wire::make_frame(owner->hello_for(*this)), false);
}

void Connection::answer_hello() {
  if (hello_sent_ || closed_) return;
  hello_sent_ = true;
  send_hello();
}

void Connection::note_useful_traffic() {
  last_useful_ns_.store(steady_ns(std::chrono::steady_clock::now()), std::memory_order_relaxed);
}

std::optional<std::chrono::steady_clock::time_point> Connection::last_useful_traffic() const {
  int64_t ns = last_useful_ns_.load(std::memory_order_relaxed);
  if (ns == 0) return std::nullopt;
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::nanoseconds(ns)));
}

std::chrono::steady_clock::duration Connection::write_stalled_for(std::chrono::steady_clock::time_point now) const {
  if (queued_bytes_.load(std::memory_order_acquire) == 0) return {};
  auto since = std::chrono::nanoseconds(steady_ns(now) - write_progress_ns_.load(std::memory_order_relaxed));
  return std::max(std::chrono::steady_clock::duration{},
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(since));
}

void Connection::note_write_progress() {
  write_progress_ns_.store(steady_ns(std::chrono::steady_clock::now()), std::memory_order_release);
}

void Connection::charge_budgets(size_t bytes) {
  limits_.node_queued_bytes->fetch_add(bytes, std::memory_order_relaxed);
  if (limits_.group_queued_bytes) limits_.group_queued_bytes->fetch_add(bytes, std::memory_order_relaxed);
}

void Connection::release_budgets(size_t bytes) {
  limits_.node_queued_bytes->fetch_sub(bytes, std::memory_order_relaxed);
  if (limits_.group_queued_bytes) limits_.group_queued_bytes->fetch_sub(bytes, std::memory_order_relaxed);
}

void Connection::add_queued(size_t bytes) {
  queued_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  charge_budgets(bytes);
}

void Connection::remove_queued(size_t bytes) {
  queued_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  release_budgets(bytes);
}

bool Connection::take_write_budget(size_t bytes) {
  size_t node_before = limits_.node_queued_bytes->fetch_add(bytes, std::memory_order_relaxed);
  if (node_before + bytes > limits_.max_total_queued_bytes) {
    // The node as a whole holds too much for peers that do not read: refuse
    // this frame; the stall check drops the peers that hold it.
    limits_.node_queued_bytes->fetch_sub(bytes, std::memory_order_relaxed);
    count_event("node_write_queue_full");
    return false;
  }
  if (!limits_.group_queued_bytes) return true;
  size_t group_before = limits_.group_queued_bytes->fetch_add(bytes, std::memory_order_relaxed);
  if (group_before + bytes > limits_.max_group_queued_bytes) {
    limits_.group_queued_bytes->fetch_sub(bytes, std::memory_order_relaxed);
    limits_.node_queued_bytes->fetch_sub(bytes, std::memory_order_relaxed);
    count_event("group_write_queue_full");
    return false;
  }
  return true;
}

std::string Connection::network_proof(const std::string& network_key, bool ours) const {
  if (!tls_) return "";
  bool from_server = ours ? inbound_ : !inbound_;
  return p2pnet::network_proof(tls_->native_handle(), network_key, from_server);
}

template <class Handler>
void Connection::read_some(asio::mutable_buffer buffer, Handler&& handler) {
  if (tls_)
    tls_->async_read_some(buffer, asio::bind_executor(strand_, std::forward<Handler>(handler)));
  else
    socket_.async_read_some(buffer, asio::bind_executor(strand_, std::forward<Handler>(handler)));
}

// --- Reading ----------------------------------------------------------------

void Connection::resize_read_buffer(size_t capacity) {
  auto fresh = std::make_unique_for_overwrite<std::byte[]>(capacity);
  size_t pending = read_end_ - read_begin_;
  if (pending) std::memcpy(fresh.get(), read_buffer_.get() + read_begin_, pending);
  read_buffer_ = std::move(fresh);
  read_capacity_ = capacity;
  read_begin_ = 0;
  read_end_ = pending;
}

void Connection::read_more() {
  if (closed_) return;
  size_t pending = read_end_ - read_begin_;
  size_t wanted = std::max({next_frame_size_, pending + kMinReadSpace, read_target_});
  bool idle = pending == 0 && read_target_ == kIdleReadBuffer;  // give a big buffer back only when calm
  if (!read_buffer_ || read_capacity_ < wanted || (idle && read_capacity_ > wanted)) {
    resize_read_buffer(wanted);
  } else if (read_begin_ > 0 && read_capacity_ - read_end_ < kMinReadSpace) {
    std::memmove(read_buffer_.get(), read_buffer_.get() + read_begin_, pending);
    read_begin_ = 0;
    read_end_ = pending;
  }
  last_read_space_ = read_capacity_ - read_end_;
  read_some(asio::buffer(read_buffer_.get() + read_end_, last_read_space_),
            [self = shared_from_this()](const std::error_code& error, size_t bytes) { self->on_read(error, bytes); });
}

void Connection::on_read(const std::error_code& error, size_t bytes) {
  if (closed_) return;
  if (error) {
    if (bye_pending_) return finish_close();
    std::string reason = error == asio::error::eof ? "peer closed the connection" : error.message();
    return close_on_strand(reason, false);
  }
  counters_.bytes_in.fetch_add(bytes, std::memory_order_relaxed);
  if (bye_pending_) {  // draining until the peer closes too
    read_begin_ = read_end_ = 0;
    return read_more();
  }
  read_end_ += bytes;
  if (!first_bytes_checked_) {
    first_bytes_checked_ = true;
    const auto opening = wire::classify_opening(read_buffer_.get()[read_begin_]);
    if (!tls_context_ && opening == wire::Opening::tls)
      return close_on_strand("the peer uses TLS but encryption = false on this node: set the same on both", true);
    if (opening == wire::Opening::foreign) {
      count_event("foreign_peers");
      return close_on_strand(wire::foreign_peer_reason({read_buffer_.get() + read_begin_,
                                                        std::min(read_end_ - read_begin_, wire::kShownBytes + 1)}),
                             false);
    }
  }
  while (true) {
    // Before the handshake only a hello (or a bye) may come, neither with a
    // body: a stranger cannot make this node buffer max_body_bytes. Checked
    // per frame: the hello and the first frames after it may share a read.
    const wire::FrameLimits limits =
        established() ? limits_.frames : wire::FrameLimits{limits_.frames.max_header_bytes, 0};
    auto result = wire::decode_frame({read_buffer_.get() + read_begin_, read_end_ - read_begin_}, limits);
    if (result.status == wire::DecodeResult::Status::need_more) {
      next_frame_size_ = result.frame_size;
      break;
    }
    if (result.status == wire::DecodeResult::Status::error) {
      counters_.errors.fetch_add(1, std::memory_order_relaxed);
      count_event(result.announced ? "frames_too_large" : "malformed_frames");
      return close_on_strand(fmt::format("malformed frame: {} ({} bytes announced)", result.error, result.announced),
                             false);
    }
    read_begin_ += result.frame_size;
    next_frame_size_ = 0;
    if (!handle_frame(result.frame)) return;
  }
  if (read_begin_ == read_end_) {
    read_begin_ = read_end_ = 0;
    if (bytes == last_read_space_)
      read_target_ = std::min(kBusyReadBuffer, read_target_ * 2);  // more was waiting
    else if (bytes < read_target_ / 4)
      read_target_ = kIdleReadBuffer;
  }
  if (dispatched_bytes_.load(std::memory_order_relaxed) > limits_.plugin_queue_limit_bytes) {
    read_paused_ = true;  // release_dispatched resumes
    count_event("reads_paused");
    return;
  }
  read_more();
}

void Connection::release_dispatched(size_t bytes) {
  size_t before = dispatched_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  const size_t low_water = limits_.plugin_queue_limit_bytes / 2;
  if (before > low_water && before - bytes <= low_water) {
    asio::dispatch(strand_, [self = shared_from_this()] {
      if (self->read_paused_ && !self->closed_) {
        self->read_paused_ = false;
        self->read_more();
      }
    });
  }
}

bool Connection::handle_frame(const wire::FrameView& frame) {
  auto scan = wire::scan_header(frame.header);
  if (!scan.ok) {
    counters_.errors.fetch_add(1, std::memory_order_relaxed);
    count_event("malformed_frames");
    close_on_strand("malformed frame: " + scan.error, false);
    return false;
  }
  if (!established()) return handle_hello(scan.type, frame);
  if (scan.type == "bye") {
    close_on_strand("peer said goodbye: " + wire::parse_bye_reason(frame.header), false);
    return false;
  }
  if (scan.type == "hello") {
    counters_.errors.fetch_add(1, std::memory_order_relaxed);
    close_on_strand("protocol error: second hello", true);
    return false;
  }
  counters_.messages_in.fetch_add(1, std::memory_order_relaxed);
  if (auto owner = owner_.lock()) owner->on_frame(shared_from_this(), scan.type, frame);
  return !closed_;
}

bool Connection::handle_hello(const std::string& type, const wire::FrameView& frame) {
  if (type == "bye") {
    close_on_strand("peer refused the connection: " + wire::parse_bye_reason(frame.header), false);
    return false;
  }
  if (type != "hello") {
    counters_.errors.fetch_add(1, std::memory_order_relaxed);
    close_on_strand(fmt::format("protocol error: expected hello, got '{}'", type), true);
    return false;
  }
  auto parsed = wire::parse_hello(frame.header);
  if (!parsed.hello) {
    counters_.errors.fetch_add(1, std::memory_order_relaxed);
    close_on_strand("bad hello: " + parsed.error, true);
    return false;
  }
  if (parsed.hello->protocol != wire::kProtocolVersion) {
    close_on_strand(fmt::format("protocol version {} not supported (this node speaks {})", parsed.hello->protocol,
                                wire::kProtocolVersion),
                    true);
    return false;
  }
  establish(*parsed.hello);
  auto owner = owner_.lock();
  if (!owner) {
    close_on_strand("node is stopping", true);
    return false;
  }
  HandshakeVerdict verdict = owner->on_hello(shared_from_this(), hello_);
  if (!verdict.accept) {
    close_on_strand(verdict.reason, verdict.say_bye);
    return false;
  }
  established_.store(true, std::memory_order_release);
  timer_.cancel();
  return !closed_;
}

void Connection::establish(const wire::Hello& hello) {
  hello_ = hello;
  type_pointers_.clear();
  for (const auto& type : hello_.types) type_pointers_.push_back(type.c_str());
  view_ = p2pnet_peer{};
  view_.struct_size = sizeof(p2pnet_peer);
  view_.id = hello_.id.c_str();
  view_.host = remote_address_.c_str();
  // The address of a relayed link is the relay's: no port there is the
  // peer's, so plugins see it as a peer that does not listen (discovery
  // then passes no address on for it).
  view_.port = relayed() ? 0 : hello_.port;
  view_.inbound = inbound_ ? 1 : 0;
  view_.authenticated = tls_ ? 1 : 0;  // accepted only once the key proved the id
  view_.types = type_pointers_.data();
  view_.type_count = type_pointers_.size();
  view_.local_host = local_address_.c_str();
  view_.relay_id = relayed_via_.c_str();
}

// --- Writing ----------------------------------------------------------------

bool Connection::send(const wire::SharedFrame& frame) { return enqueue(frame, true); }

bool Connection::enqueue(const wire::SharedFrame& frame, bool budgeted) {
  bool start_writing = false;
  bool overflow = false;
  {
    std::lock_guard lock(write_mutex_);
    if (closing_) return false;
    size_t queued = queued_bytes_.load(std::memory_order_relaxed);
    if (queued + frame.size() > limits_.write_queue_limit_bytes) {
      overflow = true;
      closing_ = true;
    } else {
      if (budgeted) {
        if (!take_write_budget(frame.size())) return false;
      } else {
        charge_budgets(frame.size());
      }
      // Stamped before the bytes show in queued_bytes_ (release, read with
      // acquire by the stall check), so the sweep never sees new bytes
      // against an old stamp and drops a healthy peer.
      if (!writing_) note_write_progress();
      write_queue_.push_back(frame);
      queued_bytes_.fetch_add(frame.size(), std::memory_order_release);
      if (!writing_) writing_ = start_writing = true;
    }
  }
  if (overflow) {
    counters_.errors.fetch_add(1, std::memory_order_relaxed);
    count_event("write_queue_overflows");
    close(fmt::format("write queue over {} bytes: peer is not reading", limits_.write_queue_limit_bytes), false);
    return false;
  }
  counters_.messages_out.fetch_add(1, std::memory_order_relaxed);
  if (start_writing) asio::dispatch(strand_, [self = shared_from_this()] { self->write_more(); });
  return true;
}

void Connection::write_more() {
  if (closed_) return;
  in_flight_.clear();
  in_flight_buffers_.clear();
  {
    std::lock_guard lock(write_mutex_);
    size_t bytes = 0;
    while (!write_queue_.empty() && in_flight_.size() < kMaxWriteBatchFrames && bytes < kMaxWriteBatchBytes) {
      bytes += write_queue_.front().size();
      in_flight_.push_back(std::move(write_queue_.front()));
      write_queue_.pop_front();
    }
    if (in_flight_.empty()) {
      writing_ = false;
      return;
    }
  }
  for (const auto& frame : in_flight_) in_flight_buffers_.emplace_back(frame.bytes().data(), frame.size());
  auto done = asio::bind_executor(
      strand_, [self = shared_from_this()](const std::error_code& error, size_t) { self->on_written(error); });
  // Progress is every time the socket takes bytes, not a whole batch: a slow
  // but honest reader may need longer than write_stall_timeout for a batch.
  if (tls_) {
    tls_->async_write(in_flight_buffers_, std::move(done));
  } else {
    auto note_progress = [self = shared_from_this()](const std::error_code& error, size_t transferred) {
      if (transferred > 0) self->note_write_progress();
      return asio::transfer_all()(error, transferred);
    };
    asio::async_write(socket_, in_flight_buffers_, std::move(note_progress), std::move(done));
  }
}

void Connection::on_written(const std::error_code& error) {
  if (closed_) return;
  if (error) {
    if (bye_pending_) return finish_close();
    return close_on_strand("write failed: " + error.message(), false);
  }
  size_t written = 0;
  for (const auto& frame : in_flight_) written += frame.size();
  counters_.bytes_out.fetch_add(written, std::memory_order_relaxed);
  remove_queued(written);
  note_write_progress();
  bool more;
  {
    std::lock_guard lock(write_mutex_);
    more = !write_queue_.empty();
    if (!more) writing_ = false;
  }
  if (more) return write_more();
  if (bye_pending_) {
    // The bye is out: half-close so the peer reads it before our FIN, then
    // wait for its FIN (or the grace period) before closing.
    std::error_code ignored;
    tcp_socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  }
}

// --- Closing ----------------------------------------------------------------

void Connection::close(std::string reason, bool say_bye) {
  close_requested_.store(true, std::memory_order_relaxed);
  asio::dispatch(strand_, [self = shared_from_this(), reason = std::move(reason), say_bye] {
    self->close_on_strand(reason, say_bye);
  });
}

void Connection::close_on_strand(const std::string& reason, bool say_bye) {
  if (closed_ || bye_pending_) return;
  close_reason_ = reason;
  timer_.cancel();
  bool start_writing = false;
  {
    std::lock_guard lock(write_mutex_);
    closing_ = true;
    if (say_bye) {
      auto bye = wire::make_frame(wire::encode_bye(reason));
      add_queued(bye.size());
      write_queue_.push_back(std::move(bye));
      if (!writing_) {
        writing_ = start_writing = true;
        note_write_progress();
      }
    }
  }
  if (!say_bye) return finish_close();
  bye_pending_ = true;
  timer_.expires_after(kGoodbyeGrace);
  timer_.async_wait([self = shared_from_this()](const std::error_code& error) {
    if (!error) self->finish_close();
  });
  if (start_writing) write_more();
}

void Connection::count_event(const char* name) {
  if (auto owner = owner_.lock()) owner->count_event(name);
}

void Connection::finish_close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  std::error_code ignored;
  tcp_socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  tcp_socket().close(ignored);
  {
    std::lock_guard lock(write_mutex_);
    closing_ = true;
    write_queue_.clear();
    release_budgets(queued_bytes_.exchange(0, std::memory_order_relaxed));
  }
  read_buffer_.reset();
  read_capacity_ = 0;
  if (auto owner = owner_.lock()) owner->on_closed(shared_from_this(), close_reason_);
}

}  // namespace p2pnet
