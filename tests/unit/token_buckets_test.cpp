#include <p2pnet/rare_warnings.hpp>
#include <p2pnet/request_budgets.hpp>
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

TEST_CASE("a request is charged to its peer and its address - a refused one costs nothing") {
  p2pnet::RequestBudgets budgets(2, 3, 100);
  CHECK(budgets.charge("a", "10.0.0.1", 0) == nullptr);
  CHECK(budgets.charge("a", "10.0.0.1", 0) == nullptr);
  CHECK(std::string(budgets.charge("a", "10.0.0.1", 0)) == "its budget of requests per second is spent");
  // Another peer at the same address has its own budget but shares the address's.
  CHECK(budgets.charge("b", "10.0.0.1", 0) == nullptr);
  CHECK(std::string(budgets.charge("c", "10.0.0.1", 0)) == "its address's budget of requests per second is spent");
  CHECK(budgets.charge("c", "10.0.0.2", 0) == nullptr);
  CHECK(std::string(budgets.charge("d", "10.0.0.3", 100)) == "it holds its whole share of the request table");
  CHECK(budgets.charge("d", "10.0.0.3", 99) == nullptr);  // the refusal above spent nothing
  CHECK(budgets.charge("d", "10.0.0.3", 99) == nullptr);
}

TEST_CASE("a rare warning is logged the first ten times and then at powers of two") {
  p2pnet::RareWarnings warnings;
  std::vector<uint64_t> logged;
  for (int i = 0; i < 100; ++i)
    if (warnings.note()) logged.push_back(warnings.count());
  CHECK(logged == std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 32, 64});
  CHECK(warnings.count() == 100);
}
