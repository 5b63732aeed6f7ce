// A warning that peers can trigger at will (a throttled request, an answer
// to nothing) must not flood the log: RareWarnings counts each occurrence
// and says which ones to log, the first ten and then every power of two, so
// the log still shows that it goes on and how often.
#pragma once

#include <cstdint>

namespace p2pnet {

class RareWarnings {
 public:
  // Counts one more occurrence; true when this one deserves a log line.
  bool note() {
    ++count_;
    return count_ <= 10 || (count_ & (count_ - 1)) == 0;
  }
  uint64_t count() const { return count_; }

 private:
  uint64_t count_ = 0;
};

}  // namespace p2pnet
