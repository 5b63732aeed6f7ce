// TCP hole punching over a relayed link (after DCUtR, wire/relay.hpp): the
// end that opened the circuit sends punch.connect; the other end answers
// with its own if it will punch; the opener then dials and at once sends
// punch.sync, and the other end dials on reading the sync. Each dials from its
// own listen port (SO_REUSEPORT) to the address the relay saw the other's
// connection come from, at the port the other's hello listens on. The
// opener's SYN goes first: it opens the opener's NAT and is dropped at the
// other's; the other's SYN, a moment later, passes the opener's NAT and
// meets the opener's socket still connecting (a simultaneous open), never
// its listener. So the opener is always the TLS client and the other end
// the server. Where the opener's SYN does reach a listener (no NAT), that
// link is an ordinary inbound one with the same roles.
// A direct link replaces the relayed one (PeerTable: direct beats relayed);
// otherwise the relay stays. Nobody can aim these dials: the address is the
// relay's word, the dial is pinned to the peer's id, each link gets
// kMaxPunchTries, and at most kMaxPunchDials run at once.
#include "node_core.hpp"

#include "socket_deadline.hpp"

#include <fmt/core.h>

#include <sys/socket.h>

namespace p2pnet {
namespace {

constexpr int kMaxPunchTries = 3;
constexpr int kMaxPunchDials = 4;
constexpr auto kPunchRetryDelay = std::chrono::milliseconds(200);
// A punch that works completes within a round trip or two; one through a
// NAT that changes ports never does, and the caller waits for the verdict.
constexpr auto kMaxPunchDialTime = std::chrono::milliseconds(1500);

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

}  // namespace

bool NodeCore::wants_punch(const Connection& link) const {
  return config_.relay.punching && listen_port_ != 0 && link.relayed() && link.hello().port != 0 &&
         !link.peer_host_seen_by_relay().empty() && link.hello().has_feature(wire::kPunchFeature);
}

bool NodeCore::start_punch(const std::string& peer_id, ConnectDone done) {
  auto link = peer(peer_id);
  if (!link || link->inbound() || !wants_punch(*link)) return false;
  {
    std::lock_guard lock(punch_mutex_);
    auto& punch = punches_[peer_id];
    punch.waiters.push_back(std::move(done));
    if (punch.deadline) return true;  // under way: this caller hears of its end too
    punch.deadline = std::make_shared<asio::steady_timer>(runtime_.io, 3 * config_.handshake_timeout);
    punch.deadline->async_wait([weak = weak_from_this(), peer_id](const std::error_code& error) {
      if (auto self = weak.lock(); self && !error) self->end_punch(peer_id, "no direct link in time");
    });
  }
  count_event("punches_started");
  send_punch_connect(link);
  return true;
}

void NodeCore::send_punch_connect(const std::shared_ptr<Connection>& link) {
  {
    std::lock_guard lock(punch_mutex_);
    auto& punch = punches_[link->peer_id()];
    ++punch.tries;
    punch.connect_pending = true;
  }
  link->send(wire::make_frame(wire::encode_punch(wire::kPunchConnectType)));
}

void NodeCore::on_punch_frame(const std::shared_ptr<Connection>& link, const std::string& type) {
  if (!link->relayed()) return count_event("punch_frames_off_relay");  // a direct link has nothing to punch
  if (!wants_punch(*link)) return count_event("punch_requests_ignored");
  const bool opener = !link->inbound();  // it opened the circuit and leads the exchange
  {
    std::lock_guard lock(punch_mutex_);
    auto& punch = punches_[link->peer_id()];
    if (opener) {
      if (type != wire::kPunchConnectType || !punch.deadline || !punch.connect_pending)
        return count_event("punch_frames_unexpected");
      punch.connect_pending = false;
    } else if (type == wire::kPunchConnectType) {
      if (punch.tries >= kMaxPunchTries) return count_event("punch_requests_refused");
      ++punch.tries;
      punch.awaiting_sync = true;
    } else {
      if (!punch.awaiting_sync) return count_event("punch_frames_unexpected");
      punch.awaiting_sync = false;
    }
  }
  if (opener) {
    // The dial's SYN leaves before the sync does. Were the other end's SYN to
    // arrive first where no NAT stands in its way, it would meet this node's
    // listener instead of a connecting socket, and both ends would speak TLS
    // as the server (seen on loopback under load: every retry then found the
    // address pair taken).
    if (punch_dial(link, true)) link->send(wire::make_frame(wire::encode_punch(wire::kPunchSyncType)));
    return;
  }
  if (type == wire::kPunchConnectType) {
    link->send(wire::make_frame(wire::encode_punch(wire::kPunchConnectType)));
    return;
  }
  punch_dial(link, false);
}

bool NodeCore::punch_dial(const std::weak_ptr<Connection>& weak_link, bool opener) {
  auto link = weak_link.lock();
  if (!link || link->closing()) return false;
  if (punch_dials_.fetch_add(1) >= kMaxPunchDials) {
    punch_dials_.fetch_sub(1);
    count_event("punch_dials_refused");
    if (opener) end_punch(link->peer_id(), "too many punches under way");
    return false;
  }
  count_event("punch_dials");
  const std::string peer_id = link->peer_id();
  if (opener) {
    std::lock_guard lock(punch_mutex_);
    punches_[peer_id].dialing = true;
  }
  return dial_from_listen_port(
      link->peer_host_seen_by_relay(), link->hello().port,
      [self = shared_from_this(), weak_link, opener, peer_id](std::shared_ptr<asio::ip::tcp::socket> socket,
                                                              const std::string& error) {
        self->punch_dials_.fetch_sub(1);
        if (!socket) {
          self->count_event("punch_dials_failed");
          self->log_->debug("punching to {}: {}", peer_id.substr(0, 8), error);
          if (opener) self->retry_punch(weak_link, peer_id, error);
          return;
        }
        // The opener speaks TLS as the client, the other end as the server,
        // whichever SYN the NATs let through first.
        self->adopt(
            std::move(*socket), !opener,
            [self, weak_link, opener, peer_id](const std::string& id, const std::string& e) {
              if (!e.empty() || !self->peer(peer_id) || self->peer(peer_id)->relayed()) {
                self->count_event("punch_links_failed");
                if (opener) self->retry_punch(weak_link, peer_id, e.empty() ? "the link did not replace the relay" : e);
                return;
              }
              self->count_event("punches_succeeded");
              if (opener) return self->end_punch(id, "");
              self->punch_link_lost(peer_id);  // the relayed link it replaced took no notice of its own
            },
            peer_id);
      });
}

void NodeCore::retry_punch(const std::weak_ptr<Connection>& weak_link, const std::string& peer_id,
                           const std::string& error) {
  int tries;
  {
    std::lock_guard lock(punch_mutex_);
    auto punch = punches_.find(peer_id);
    if (punch == punches_.end()) return;
    punch->second.dialing = false;
    tries = punch->second.tries;
  }
  auto link = weak_link.lock();
  if (!link || link->closing()) return end_punch(peer_id, "the relayed link closed");
  if (tries >= kMaxPunchTries) return end_punch(peer_id, error);
  auto timer = std::make_shared<asio::steady_timer>(runtime_.io, kPunchRetryDelay);
  timer->async_wait([self = shared_from_this(), timer, weak_link](const std::error_code&) {
    if (auto link = weak_link.lock(); link && !link->closing()) self->send_punch_connect(link);
  });
}

void NodeCore::end_punch(const std::string& peer_id, const std::string& error) {
  std::vector<ConnectDone> waiters;
  {
    std::lock_guard lock(punch_mutex_);
    auto punch = punches_.find(peer_id);
    if (punch == punches_.end() || !punch->second.deadline) return;
    punch->second.deadline->cancel();
    waiters.swap(punch->second.waiters);
    punches_.erase(punch);
  }
  if (!error.empty()) {
    count_event("punches_failed");
    log_->info("hole punching to {} failed ({}); the link stays relayed", peer_id.substr(0, 8), error);
  }
  // Whichever link there is now: direct after a punch, else the relayed one.
  for (auto& done : waiters) done(peer_id, "");
}

void NodeCore::end_punches(const std::string& why) {
  std::vector<std::string> under_way;
  {
    std::lock_guard lock(punch_mutex_);
    for (const auto& [peer_id, punch] : punches_)
      if (punch.deadline) under_way.push_back(peer_id);
  }
  for (const auto& peer_id : under_way) end_punch(peer_id, why);
}

void NodeCore::punch_link_lost(const std::string& peer_id) {
  bool punching;
  {
    std::lock_guard lock(punch_mutex_);
    auto punch = punches_.find(peer_id);
    if (punch == punches_.end()) return;
    // The far end may have replaced the relayed link by the punched one
    // first: the dial under way here says how the punch ended.
    if (punch->second.dialing) return;
    punching = punch->second.deadline != nullptr;
    if (!punching) punches_.erase(punch);
  }
  if (punching) end_punch(peer_id, "the link closed");
}

bool NodeCore::dial_from_listen_port(const std::string& host, uint16_t port, SocketDone done) {
  auto fail = [&done](const std::string& why) {
    done(nullptr, why);
    return false;
  };
  if (stopping_) return fail("node is stopping");
  std::error_code error;
  auto remote_address = asio::ip::make_address(host, error);
  if (error) return fail("not an address: " + host);
  auto local = listen_endpoint_;
  if (local.address().is_v4() != remote_address.is_v4() && !local.address().is_unspecified())
    return fail("the peer's address is of another IP version than the listen address");
  asio::ip::tcp::endpoint remote(remote_address, port);
  if (local.address().is_unspecified()) local = asio::ip::tcp::endpoint(remote.protocol(), local.port());
  auto socket = std::make_shared<asio::ip::tcp::socket>(asio::make_strand(runtime_.io));
  socket->open(remote.protocol(), error);
  if (!error) socket->set_option(asio::socket_base::reuse_address(true), error);
  if (!error) socket->set_option(ReusePort(true), error);
  if (!error) socket->bind(local, error);
  if (error) return fail("cannot dial from the listen port: " + error.message());
  auto deadline = close_after(socket, std::min(config_.handshake_timeout, kMaxPunchDialTime));
  socket->async_connect(remote, [socket, deadline, done](const std::error_code& e) {
    deadline->cancel();
    if (e) return done(nullptr, connect_failure(e));
    done(socket, "");
  });
  return true;
}

}  // namespace p2pnet
