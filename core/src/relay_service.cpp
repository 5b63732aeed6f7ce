#include "relay_service.hpp"

#include "connection.hpp"
#include "relay_line.hpp"
#include "wire/relay.hpp"

#include <p2pnet/hex.hpp>

#include <fmt/core.h>
#include <openssl/rand.h>

#include <array>

namespace p2pnet {
namespace {

// Per direction: big enough that a circuit moves a download at close to
// the speed of a direct link, small enough that 32 circuits stay in 4 MiB.
constexpr size_t kCircuitBuffer = 64 * 1024;
// Openings being read at once, beyond the circuits' own limit: a crowd of
// silent connections holds no more than this many sockets here.
constexpr size_t kMaxOpeningsBeyondCircuits = 16;
// Openings being read and circuits waiting from one source address: one
// client cannot hold every place.
constexpr size_t kMaxPerAddress = 4;

std::string new_token() {
  std::array<unsigned char, wire::kRelayTokenLength / 2> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) return "";
  return to_hex(random.data(), random.size());
}

std::string remote_address_of(const asio::ip::tcp::socket& socket) {
  std::error_code error;
  auto address = socket.remote_endpoint(error).address();
  if (error) return "";
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

void close_socket(asio::ip::tcp::socket& socket) {
  std::error_code ignored;
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace

// A caller waiting for the reserved node to come and take the circuit.
struct RelayService::Waiting {
  std::shared_ptr<asio::ip::tcp::socket> caller;
  std::string caller_address;
  std::string target_id;
  std::string target_address;
  std::shared_ptr<asio::steady_timer> deadline;
};

// Two sockets spliced: each direction reads into its own buffer and writes
// it all to the other side before reading again, so a slow reader slows
// its writer (TCP's own back-pressure) and nothing piles up here.
class RelayService::Circuit : public std::enable_shared_from_this<Circuit> {
 public:
  Circuit(std::shared_ptr<asio::ip::tcp::socket> a, std::shared_ptr<asio::ip::tcp::socket> b,
          std::shared_ptr<RelayService> service, const RelayConfig& config)
      : strand_(asio::make_strand(a->get_executor())),
        timer_(strand_),
        a_(std::move(a)),
        b_(std::move(b)),
        service_(std::move(service)),
        max_bytes_(config.max_circuit_bytes),
        lifetime_(std::chrono::seconds(config.max_circuit_seconds)) {}

  void start() {
    asio::dispatch(strand_, [self = shared_from_this()] {
      if (self->ended_) return;  // stopped before it began
      self->timer_.expires_after(self->lifetime_);
      self->timer_.async_wait([self](const std::error_code& error) {
        if (!error) self->end("relay_circuit_time_limits");
      });
      self->pump(*self->a_, *self->b_, self->a_to_b_);
      self->pump(*self->b_, *self->a_, self->b_to_a_);
    });
  }
  void stop() {
    asio::dispatch(strand_, [self = shared_from_this()] { self->end(""); });
  }

 private:
  using Buffer = std::array<char, kCircuitBuffer>;
  void pump(asio::ip::tcp::socket& from, asio::ip::tcp::socket& to, Buffer& buffer) {
    from.async_read_some(
        asio::buffer(buffer), asio::bind_executor(strand_, [self = shared_from_this(), &from, &to, &buffer](
                                                               const std::error_code& error, size_t bytes) {
          if (self->ended_) return;
          if (error) return self->end("");
          self->bytes_ += bytes;
          self->service_->bytes_.fetch_add(bytes, std::memory_order_relaxed);
          if (self->bytes_ > self->max_bytes_) return self->end("relay_circuit_byte_limits");
          asio::async_write(
              to, asio::buffer(buffer.data(), bytes),
              asio::bind_executor(self->strand_, [self, &from, &to, &buffer](const std::error_code& e, size_t) {
                if (self->ended_) return;
                if (e) return self->end("");
                self->pump(from, to, buffer);
              }));
        }));
  }
  // Either end leaving ends both: the other sees its peer close, as it would
  // on a direct link.
  void end(const char* counter) {
    if (ended_) return;
    ended_ = true;
    timer_.cancel();
    close_socket(*a_);
    close_socket(*b_);
    if (*counter) service_->count(counter);
    service_->circuit_ended();
    std::lock_guard lock(service_->mutex_);
    service_->circuits_.erase(this);
  }

  asio::strand<asio::any_io_executor> strand_;
  asio::steady_timer timer_;
  std::shared_ptr<asio::ip::tcp::socket> a_, b_;
  // Held, not watched: a circuit's last handlers may run after the node let
  // go of the service (stop() only asks circuits to end), and they still
  // count its bytes. The service holds circuits only weakly: no cycle.
  std::shared_ptr<RelayService> service_;
  const uint64_t max_bytes_;
  const std::chrono::seconds lifetime_;
  uint64_t bytes_ = 0;
  bool ended_ = false;
  // Left uninitialised: a read fills what a write then sends, and pages
  // never touched stay out of the resident set while a circuit idles.
  Buffer a_to_b_, b_to_a_;
};

RelayService::RelayService(const RelayConfig& config, std::chrono::milliseconds opening_timeout, asio::io_context& io,
                           std::shared_ptr<Logger> log, Node node)
    : config_(config), opening_timeout_(opening_timeout), io_(io), log_(std::move(log)), node_(std::move(node)) {}

std::string RelayService::reserve(const std::shared_ptr<Connection>& peer) {
  if (!with_node([](Node& node) { return node.enabled(); })) return "the relay service is off on this node";
  if (peer->relayed()) return "a reservation needs a direct link to the relay";
  std::lock_guard lock(mutex_);
  if (stopped_) return "the relay is stopping";
  if (auto held = reservations_.find(peer->peer_id()); held != reservations_.end()) {
    held->second = peer->remote_address();  // its link may come from a new address now
    return "";
  }
  if (reservations_.size() >= config_.max_reservations) {
    count("relay_reservations_refused");
    return fmt::format("the relay holds its maximum of {} reservations", config_.max_reservations);
  }
  reservations_[peer->peer_id()] = peer->remote_address();
  count("relay_reservations_granted");
  return "";
}

bool RelayService::holds(const std::string& peer_id) const {
  std::lock_guard lock(mutex_);
  return reservations_.count(peer_id) != 0;
}

void RelayService::release(const std::string& peer_id) {
  std::lock_guard lock(mutex_);
  reservations_.erase(peer_id);
}

std::vector<std::string> RelayService::withdraw_all() {
  std::vector<std::string> holders;
  std::lock_guard lock(mutex_);
  for (const auto& [peer_id, address] : reservations_) holders.push_back(peer_id);
  reservations_.clear();
  return holders;
}

void RelayService::take_opening(asio::ip::tcp::socket socket) {
  // Onto a strand of its own: the opening's deadline, its read and its
  // answer then never touch the socket at once.
  std::error_code error;
  auto protocol = socket.local_endpoint(error).protocol();
  auto handle = error ? asio::ip::tcp::socket::native_handle_type(-1) : socket.release(error);
  if (error) return close_socket(socket);
  auto shared = std::make_shared<asio::ip::tcp::socket>(asio::make_strand(io_), protocol, handle);
  const auto address = remote_address_of(*shared);
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return close_socket(*shared);
    if (openings_ >= config_.max_circuits + kMaxOpeningsBeyondCircuits || per_address_[address] >= kMaxPerAddress) {
      if (per_address_[address] == 0) per_address_.erase(address);
      count("relay_openings_refused");
      return close_socket(*shared);
    }
    ++openings_;
    ++per_address_[address];
  }
  read_opening(std::move(shared));
}

bool RelayService::take_address_share(const std::string& address) {
  auto& used = per_address_[address];
  if (used >= kMaxPerAddress) return false;
  ++used;
  return true;
}

void RelayService::return_address_share(const std::string& address) {
  auto it = per_address_.find(address);
  if (it == per_address_.end()) return;
  if (--it->second == 0) per_address_.erase(it);
}

void RelayService::read_opening(std::shared_ptr<asio::ip::tcp::socket> socket) {
  // The deadline and the read share the socket's strand; a deadline that
  // expired as the line arrived sees `read` set and leaves the socket alone.
  auto read = std::make_shared<bool>(false);
  auto deadline = std::make_shared<asio::steady_timer>(socket->get_executor(), opening_timeout_);
  deadline->async_wait([socket, read](const std::error_code& error) {
    if (!error && !*read) close_socket(*socket);  // ends the read below
  });
  auto finish = [self = shared_from_this(), read, deadline, address = remote_address_of(*socket)] {
    *read = true;
    deadline->cancel();
    std::lock_guard lock(self->mutex_);
    --self->openings_;
    self->return_address_share(address);
  };
  // The opening byte is still there (it was only peeked at).
  auto byte = std::make_shared<char>(0);
  asio::async_read(*socket, asio::buffer(byte.get(), 1),
                   [self = shared_from_this(), socket, finish, byte](const std::error_code& error, size_t) {
                     if (error) {
                       finish();
                       return close_socket(*socket);
                     }
                     read_relay_line(socket, [self, socket, finish](const std::error_code& e, const std::string& line) {
                       finish();
                       if (e) {
                         self->count("relay_openings_failed");
                         return close_socket(*socket);
                       }
                       auto opening = wire::parse_relay_opening(line);
                       if (!opening) return self->refuse(socket, "relay_openings_malformed", "not a relay opening");
                       if (opening->kind == wire::RelayOpening::Kind::connect)
                         return self->on_connect(socket, opening->target_id);
                       self->on_accept(socket, opening->token);
                     });
                   });
}

void RelayService::refuse(const std::shared_ptr<asio::ip::tcp::socket>& socket, const std::string& counter,
                          const std::string& reason) {
  count(counter);
  log_->debug("relay: refusing {}: {}", remote_address_of(*socket), reason);
  write_relay_line(socket, wire::encode_relay_answer(reason),
                   [socket](const std::error_code&) { close_socket(*socket); });
}

void RelayService::on_connect(std::shared_ptr<asio::ip::tcp::socket> socket, const std::string& target_id) {
  if (!with_node([](Node& node) { return node.enabled(); }))
    return refuse(socket, "relay_circuits_refused", "the relay service is off on this node");
  auto target = with_node([&](Node& node) { return node.peer(target_id); });
  std::string token = new_token();
  std::string counter, refusal;
  std::shared_ptr<Waiting> waiting;
  const auto caller_address = remote_address_of(*socket);
  {
    std::lock_guard lock(mutex_);
    auto reservation = reservations_.find(target_id);
    if (stopped_ || reservation == reservations_.end() || !target) {
      counter = "relay_no_reservation";
      refusal = fmt::format("no reservation here for {}", target_id.substr(0, 8));
    } else if (linked_ + waiting_.size() >= config_.max_circuits) {
      counter = "relay_circuits_refused";
      refusal = fmt::format("the relay carries its maximum of {} circuits", config_.max_circuits);
    } else if (!take_address_share(caller_address)) {
      counter = "relay_circuits_refused";
      refusal = fmt::format("{} circuits already wait for this address", kMaxPerAddress);
    } else if (token.empty()) {
      return_address_share(caller_address);
      counter = "relay_circuits_refused";
      refusal = "the relay has no randomness for a token";
    } else {
      waiting = std::make_shared<Waiting>(
          Waiting{socket, caller_address, target_id, reservation->second,
                  std::make_shared<asio::steady_timer>(socket->get_executor(), opening_timeout_)});
      waiting_[token] = waiting;
    }
  }
  if (!waiting) return refuse(socket, counter, refusal);
  waiting->deadline->async_wait([weak = weak_from_this(), token](const std::error_code& error) {
    auto self = weak.lock();
    if (error || !self) return;
    std::shared_ptr<Waiting> expired;
    {
      std::lock_guard lock(self->mutex_);
      auto it = self->waiting_.find(token);
      if (it == self->waiting_.end()) return;
      expired = it->second;
      self->waiting_.erase(it);
      self->return_address_share(expired->caller_address);
    }
    self->refuse(expired->caller, "relay_circuits_unanswered", "the reserved node did not come to take the circuit");
  });
  target->send(wire::make_frame(wire::encode_relay_incoming(token)));
}

void RelayService::on_accept(std::shared_ptr<asio::ip::tcp::socket> socket, const std::string& token) {
  std::shared_ptr<Waiting> waiting;
  {
    std::lock_guard lock(mutex_);
    auto it = waiting_.find(token);
    // The token went only to the reserved node over its own link; it must
    // also come from where that link comes from.
    if (it != waiting_.end() && it->second->target_address == remote_address_of(*socket)) {
      waiting = it->second;
      waiting_.erase(it);
      return_address_share(waiting->caller_address);
      ++linked_;
    }
  }
  if (!waiting) return refuse(socket, "relay_bad_tokens", "no circuit waits for that token");
  // On the caller's strand: its deadline is touched there only (a
  // deadline that already fired finds the token gone and does nothing).
  asio::post(waiting->caller->get_executor(), [deadline = waiting->deadline] { deadline->cancel(); });
  link(waiting->caller, socket);
}

void RelayService::link(std::shared_ptr<asio::ip::tcp::socket> caller, std::shared_ptr<asio::ip::tcp::socket> callee) {
  count("relay_circuits_linked");
  // Both ends hear "linked" before a byte of the other's crosses: each
  // reads its answer a byte at a time, so the far end's TLS stays unread.
  auto written = std::make_shared<std::atomic<int>>(0);
  auto failed = std::make_shared<std::atomic<bool>>(false);
  auto both_written = [self = shared_from_this(), caller, callee, written, failed](const std::error_code& error) {
    if (error) failed->store(true);
    if (written->fetch_add(1) != 1) return;
    if (failed->load()) {
      close_socket(*caller);
      close_socket(*callee);
      return self->circuit_ended();
    }
    auto circuit = std::make_shared<Circuit>(caller, callee, self, self->config_);
    {
      std::lock_guard lock(self->mutex_);
      if (self->stopped_) {
        close_socket(*caller);
        close_socket(*callee);
        --self->linked_;
        return;
      }
      self->circuits_[circuit.get()] = circuit;
    }
    circuit->start();
  };
  // Each end hears where the other's connection comes from: hole punching
  // dials there, and nowhere a peer could name instead.
  write_relay_line(caller, wire::encode_relay_answer("", remote_address_of(*callee)), both_written);
  write_relay_line(callee, wire::encode_relay_answer("", remote_address_of(*caller)), both_written);
}

void RelayService::circuit_ended() {
  std::lock_guard lock(mutex_);
  if (linked_ > 0) --linked_;
}

void RelayService::stop() {
  std::vector<std::shared_ptr<Circuit>> circuits;
  std::map<std::string, std::shared_ptr<Waiting>> waiting;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    for (auto& [key, weak] : circuits_)
      if (auto circuit = weak.lock()) circuits.push_back(circuit);
    waiting.swap(waiting_);
    reservations_.clear();
    per_address_.clear();
  }
  {
    std::lock_guard lock(node_mutex_);
    node_gone_ = true;
  }
  for (auto& circuit : circuits) circuit->stop();
  for (auto& item : waiting) {
    auto entry = item.second;  // a name of its own: lambdas cannot capture a structured binding in C++17 clang
    asio::post(entry->caller->get_executor(), [entry] {
      entry->deadline->cancel();
      close_socket(*entry->caller);
    });
  }
}

RelayService::Summary RelayService::summary() const {
  std::lock_guard lock(mutex_);
  return {reservations_.size(), linked_ + waiting_.size(), bytes_.load(std::memory_order_relaxed)};
}

}  // namespace p2pnet
