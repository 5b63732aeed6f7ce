// One TCP connection to a peer: reads and decodes frames, runs the hello
// exchange, and writes from a bounded queue. The node decides what a hello
// means and where messages go (ConnectionOwner); the connection only moves
// bytes and enforces the wire rules.
#pragma once

#include "logger.hpp"
#include "tls_stream.hpp"
#include "wire/frame.hpp"
#include "wire/hello.hpp"
#include "wire/opening.hpp"

#include <p2pnet/plugin_abi.h>

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace p2pnet {

class Connection;

struct HandshakeVerdict {
  bool accept = false;
  std::string reason;  // why not; sent to the peer in a bye when say_bye
  bool say_bye = true;
};

class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // Our hello for this connection, once any TLS handshake is done (it may
  // carry a proof bound to the TLS session).
  virtual std::string hello_for(const Connection& connection) = 0;
  // On the connection's strand, once the peer's hello arrived and checked out.
  virtual HandshakeVerdict on_hello(const std::shared_ptr<Connection>& connection, const wire::Hello& hello) = 0;
  // On the connection's strand, for every frame after the handshake.
  virtual void on_frame(const std::shared_ptr<Connection>& connection, const std::string& type,
                        const wire::FrameView& frame) = 0;
  // Exactly once per connection, after it closed for good.
  // A pinned dial met another id (proven by its TLS key, or claimed in a
  // plaintext hello): returns the close reason. Thread-safe.
  virtual std::string on_pinned_mismatch(const Connection& connection, const std::string& actual_id) = 0;
  virtual void on_closed(const std::shared_ptr<Connection>& connection, const std::string& reason) = 0;
  // An inbound connection opened with a relay line (wire/relay.hpp): the
  // socket, nothing read from it yet, is the relay service's now. The
  // connection then closes without a word.
  virtual void on_relay_opening(asio::ip::tcp::socket socket) {
    std::error_code ignored;
    socket.close(ignored);
  }
  // A limit bit (a frame too large, a handshake too slow, a full write
  // queue, ...): counted in the node's `stats` under this name. Thread-safe.
  virtual void count_event(const std::string& name) = 0;
};

struct ConnectionLimits {
  wire::FrameLimits frames;
  size_t write_queue_limit_bytes;
  size_t plugin_queue_limit_bytes;  // reading pauses above it, resumes at half
  std::chrono::milliseconds handshake_timeout;
  // Bytes queued by all of the node's connections together, and their cap:
  // a frame beyond it is refused, so non-reading peers cannot add up to
  // max_connections times write_queue_limit_bytes.
  std::shared_ptr<std::atomic<size_t>> node_queued_bytes = std::make_shared<std::atomic<size_t>>(0);
  size_t max_total_queued_bytes = SIZE_MAX;
  // Bytes queued to the inbound peers of one address group, and their cap (a
  // share of the node's): a few addresses that read slowly enough to dodge
  // the stall check cannot fill the node's budget and starve everyone else.
  // Null for outbound peers and exempt addresses.
  std::shared_ptr<std::atomic<size_t>> group_queued_bytes;
  size_t max_group_queued_bytes = SIZE_MAX;
  // An inbound connection sends its hello (and the network proof in it) only
  // after the dialer's hello checked out: a stranger learns no proof to
  // attack offline.
  bool inbound_hello_after_peer = false;
};

struct ConnectionCounters {
  std::atomic<uint64_t> messages_in{0};
  std::atomic<uint64_t> messages_out{0};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::atomic<uint64_t> errors{0};
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // With a TLS context, the connection runs TLS 1.3 before the hello; without
  // one it speaks plaintext frames. Either way it recognises a peer in the
  // other mode and closes with a reason both sides can read.
  Connection(asio::ip::tcp::socket socket, bool inbound, std::weak_ptr<ConnectionOwner> owner,
             const ConnectionLimits& limits, std::shared_ptr<const Logger> log, asio::ssl::context* tls);

  // Runs the TLS handshake if any, sends our hello, then reads; the peer
  // must get through all of it within the handshake timeout.
  void start();

  // Thread-safe. False when the connection is closing or the frame would
  // overflow the write queue (the connection is then closed).
  bool send(const wire::SharedFrame& frame);
  // Thread-safe. With say_bye, the peer gets a bye with the reason first.
  void close(std::string reason, bool say_bye);
  // Instead of start(), for an inbound connection the node has no slot for:
  // a TLS dialer gets the bye inside TLS once the TLS handshake is done (a
  // plaintext one would read as "the peer has encryption = false"), a
  // plaintext dialer at once.
  void refuse(std::string reason);
  bool refusing() const { return refusing_; }

  bool inbound() const { return inbound_; }
  // A close was asked for (it may still be saying goodbye). Thread-safe.
  bool closing() const { return close_requested_.load(std::memory_order_relaxed); }
  bool established() const { return established_.load(std::memory_order_acquire); }
  const std::string& remote_address() const { return remote_address_; }
  uint16_t remote_port() const { return remote_port_; }
  std::string describe() const;  // "ID at host:port" or "host:port" before the hello

  // Valid once established.
  const std::string& peer_id() const { return hello_.id; }
  const wire::Hello& hello() const { return hello_; }
  // The peer view lists the hello's types; handles() and types() follow
  // the peer's later "p2pnet.types" updates. Thread-safe.
  const p2pnet_peer& peer_view() const { return view_; }
  bool handles(std::string_view type) const;
  std::vector<std::string> types() const;
  void replace_types(std::vector<std::string> types);

  bool encrypted() const { return tls_context_ != nullptr; }
  // The id the peer's TLS certificate proves (empty in plaintext).
  const std::string& peer_key_id() const { return peer_key_id_; }
  // This side's, or the peer's, proof of the network key for this session.
  std::string network_proof(const std::string& network_key, bool ours) const;
  // The id a caller insisted the peer must have (connect HOST PORT ID).
  void expect_peer_id(std::string id) { expected_peer_id_ = std::move(id); }
  // A dial-back probe: it proves the peer listens here, then closes.
  void mark_dialback() { dialback_ = true; }
  bool dialback() const { return dialback_; }
  const std::string& expected_peer_id() const { return expected_peer_id_; }
  // A link through a relay (set before start): the relay's id. The
  // addresses seen on it are the relay's, so they say nothing of the peer;
  // the relay names where it sees the peer's own connection come from.
  void mark_relayed(std::string relay_id, std::string peer_host_seen_by_relay) {
    relayed_via_ = std::move(relay_id);
    peer_host_seen_by_relay_ = std::move(peer_host_seen_by_relay);
  }
  const std::string& relayed_via() const { return relayed_via_; }
  const std::string& peer_host_seen_by_relay() const { return peer_host_seen_by_relay_; }
  bool relayed() const { return !relayed_via_.empty(); }
  // The socket went to the relay service (set on the strand before the close).
  bool handed_to_relay() const { return handed_to_relay_; }
  size_t queued_bytes() const { return queued_bytes_.load(std::memory_order_relaxed); }
  // How long frames have waited in the queue without any being written
  // (zero while the queue is empty). Thread-safe.
  std::chrono::steady_clock::duration write_stalled_for(std::chrono::steady_clock::time_point now) const;
  // On the strand, from on_hello once the peer's hello checked out: an
  // inbound connection that held its hello back sends it now.
  void answer_hello();

  std::chrono::steady_clock::time_point connected_at() const { return connected_at_; }
  // The peer's last message that was more than a keep-alive; the node decides
  // which are. Thread-safe.
  void note_useful_traffic();
  std::optional<std::chrono::steady_clock::time_point> last_useful_traffic() const;

  // Flow control towards plugins: bytes handed to plugins and not yet
  // handled. Reading pauses while too much is waiting and resumes once the
  // plugins catch up, so a slow plugin slows its peers instead of filling memory.
  void hold_dispatched(size_t bytes) { dispatched_bytes_.fetch_add(bytes, std::memory_order_relaxed); }
  void release_dispatched(size_t bytes);
  const ConnectionCounters& counters() const { return counters_; }
  uint64_t serial() const { return serial_; }

 private:
  void begin_tls();
  void begin_plaintext();
  void hand_to_relay();
  void send_hello();
  template <class Handler>
  void read_some(asio::mutable_buffer buffer, Handler&& handler);
  asio::ip::tcp::socket& tcp_socket() { return tls_ ? tls_->socket() : socket_; }
  void read_more();
  void resize_read_buffer(size_t capacity);
  void on_read(const std::error_code& error, size_t bytes);
  bool handle_frame(const wire::FrameView& frame);  // false: the connection closed
  bool handle_hello(const std::string& type, const wire::FrameView& frame);
  void establish(const wire::Hello& hello);
  void write_more();
  void on_written(const std::error_code& error);
  void close_on_strand(const std::string& reason, bool say_bye);
  void finish_close();
  void count_event(const char* name);
  // Takes frame bytes from the node's (and the address group's) write
  // budget; false, taking nothing, when either is spent.
  bool take_write_budget(size_t bytes);
  // Queues a frame; a hello or bye skips the shared budgets (each is one
  // small frame per connection), so a full budget never blocks handshakes.
  bool enqueue(const wire::SharedFrame& frame, bool budgeted);
  void charge_budgets(size_t bytes);
  void release_budgets(size_t bytes);
  void add_queued(size_t bytes);
  void remove_queued(size_t bytes);
  void note_write_progress();

  asio::strand<asio::any_io_executor> strand_;
  asio::ip::tcp::socket socket_;  // until TLS takes it over
  asio::ssl::context* tls_context_;
  std::unique_ptr<TlsStream> tls_;
  std::string peer_key_id_;
  std::string expected_peer_id_;
  bool dialback_ = false;
  std::string relayed_via_;
  std::string peer_host_seen_by_relay_;
  bool handed_to_relay_ = false;
  std::array<std::byte, wire::kShownBytes + 1> first_bytes_{};  // peeked before TLS, to tell who is calling
  bool first_bytes_checked_ = false;
  asio::steady_timer timer_;  // handshake deadline, then the deadline of a graceful close
  const bool inbound_;
  std::weak_ptr<ConnectionOwner> owner_;
  const ConnectionLimits limits_;
  std::shared_ptr<const Logger> log_;
  const uint64_t serial_;
  std::string remote_address_;
  uint16_t remote_port_ = 0;
  std::string local_address_;

  // Reading (strand only).
  std::unique_ptr<std::byte[]> read_buffer_;
  size_t read_capacity_ = 0;
  size_t read_target_ = 2 * 1024;  // the size an empty buffer should have
  size_t last_read_space_ = 0;
  size_t read_begin_ = 0;
  size_t read_end_ = 0;
  size_t next_frame_size_ = 0;
  std::atomic<size_t> dispatched_bytes_{0};
  bool read_paused_ = false;

  // Writing: the queue is shared with senders on other threads.
  std::mutex write_mutex_;
  std::deque<wire::SharedFrame> write_queue_;
  bool writing_ = false;
  bool closing_ = false;  // no more frames accepted
  std::atomic<size_t> queued_bytes_{0};
  std::atomic<int64_t> write_progress_ns_{0};  // steady clock: queue became busy, or a write finished
  std::atomic<bool> close_requested_{false};
  std::string refusal_;      // strand only; set before start
  bool refusing_ = false;    // set before start, then read-only
  bool hello_sent_ = false;  // strand only
  const std::chrono::steady_clock::time_point connected_at_ = std::chrono::steady_clock::now();
  std::atomic<int64_t> last_useful_ns_{0};    // steady clock; 0: never
  std::vector<wire::SharedFrame> in_flight_;  // strand only
  std::vector<asio::const_buffer> in_flight_buffers_;

  // State (strand only, except the atomics).
  std::atomic<bool> established_{false};
  bool closed_ = false;
  bool bye_pending_ = false;
  std::string close_reason_;
  wire::Hello hello_;
  p2pnet_peer view_{};
  std::vector<const char*> type_pointers_;
  mutable std::mutex types_mutex_;
  std::shared_ptr<const std::vector<std::string>> updated_types_;  // null until the peer sends an update

  ConnectionCounters counters_;
};

}  // namespace p2pnet
