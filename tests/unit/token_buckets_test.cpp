#include <p2pnet/token_buckets.hpp>

#include <catch2/catch.hpp>

using p2pnet::TokenBuckets;
using namespace std::chrono_literals;

TEST_CASE("token buckets let a burst through, then the rate, per key") {
  TokenBuckets buckets(10, 10);
  auto now = TokenBuckets::Clock::now();
  int taken = 0;
  for (int i = 0; i < 100; ++i) taken += buckets.take("a", now);
  CHECK(taken == 10);
  CHECK(buckets.take("b", now));  // another key has its own
  CHECK_FALSE(buckets.has_token("a", now + 50ms));
  CHECK(buckets.take("a", now + 100ms));  // one refilled
  CHECK_FALSE(buckets.take("a", now + 100ms));
}

TEST_CASE("has_token spends nothing - sweep forgets full buckets - rate 0 is no limit") {
  TokenBuckets buckets(1, 1);
  auto now = TokenBuckets::Clock::now();
  CHECK(buckets.has_token("a", now));
  CHECK(buckets.has_token("a", now));
  buckets.spend("a", now);
  CHECK_FALSE(buckets.has_token("a", now));
  buckets.take("b", now);
  buckets.sweep(now + 2s);
  CHECK(buckets.size() == 0);
  TokenBuckets unlimited(0, 0);
  for (int i = 0; i < 1000; ++i) CHECK(unlimited.take("x", now));
}
