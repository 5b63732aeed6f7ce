#include "dial_budget.hpp"

#include <catch2/catch.hpp>

using p2pnet::DialBudget;
using namespace std::chrono_literals;

TEST_CASE("the dial budget allows a second's worth at once, then its rate") {
  auto start = DialBudget::Clock::now();
  DialBudget budget(10);
  int taken = 0;
  for (int i = 0; i < 100; ++i) taken += budget.take(start);
  CHECK(taken == 10);
  CHECK_FALSE(budget.take(start + 50ms));
  CHECK(budget.take(start + 150ms));  // one token grew back
  CHECK_FALSE(budget.take(start + 150ms));
  taken = 0;
  for (int i = 0; i < 100; ++i) taken += budget.take(start + 60s);  // saved up: never more than a second's worth
  CHECK(taken == 10);
}
