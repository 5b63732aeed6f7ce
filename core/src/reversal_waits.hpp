// The nodes this node asked, through relays, to dial it back (connection
// reversal): each wait ends when the node's link arrives, when every relay
// asked said it could not pass the request on, or at its deadline.
// Thread-safe; every `done` runs on the io_context, never under the lock.
#pragma once

// A standard header first: asio chooses how it allocates handler memory
// from the standard library's configuration macros, and a file where asio
// came first would build asio's inline allocator differently from every
// other file (an ODR break that ASan reports as alloc-dealloc-mismatch).
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <asio.hpp>

namespace p2pnet {

class ReversalWaits : public std::enable_shared_from_this<ReversalWaits> {
 public:
  // arrived: the node's link is here; otherwise why not.
  using Done = std::function<void(bool arrived, const std::string& why_not)>;
  static constexpr size_t kMaxWaits = 64;

  explicit ReversalWaits(asio::io_context& io) : io_(io) {}

  // False (done not called) when kMaxWaits already wait.
  bool begin(const std::string& node_id, std::set<std::string> relays_asked, std::chrono::milliseconds deadline,
             Done done);
  // A relay's answer; false when no wait asked that relay about node_id.
  bool answered(const std::string& relay_id, const std::string& node_id, bool passed_on, const std::string& reason);
  // A link with node_id was established: its waits end, arrived.
  void arrived(const std::string& node_id);
  // The link to a relay is gone: it will not answer.
  void relay_lost(const std::string& relay_id);
  // Ends every wait, not arrived.
  void stop();

 private:
  struct Wait {
    std::string node_id;
    std::set<std::string> unanswered;  // relays asked that have not answered
    bool passed_on = false;            // a relay passed the request on
    std::string refusals;
    Done done;
    std::shared_ptr<asio::steady_timer> deadline;
  };
  // Takes a wait out (under the lock) and lets its done run on the io_context.
  void finish_locked(std::map<uint64_t, Wait>::iterator it, bool arrived, const std::string& why_not);
  // When nobody passed the request on and nobody is left to answer.
  void finish_if_hopeless_locked(std::map<uint64_t, Wait>::iterator it);

  asio::io_context& io_;
  std::mutex mutex_;
  bool stopped_ = false;
  uint64_t next_key_ = 0;
  std::map<uint64_t, Wait> waits_;
};

}  // namespace p2pnet
