#include <p2pnet/flood_table.hpp>

#include <catch2/catch.hpp>

using p2pnet::FloodTable;
using namespace std::chrono_literals;

TEST_CASE("a flood table drops repeats and remembers the reverse path") {
  FloodTable table(100, 60s);
  auto now = FloodTable::Clock::now();
  CHECK(table.record("own-1", "", now));
  CHECK(table.record("req-1", "peer-a", now));
  CHECK_FALSE(table.record("req-1", "peer-b", now));  // a repeat, from anywhere
  CHECK(table.origin("req-1", now) == std::optional<std::string>("peer-a"));
  CHECK(table.is_own("own-1", now));
  CHECK_FALSE(table.is_own("req-1", now));
  CHECK_FALSE(table.origin("never-seen", now));
}

TEST_CASE("a flood table forgets after its ttl") {
  FloodTable table(100, 10s);
  auto start = FloodTable::Clock::now();
  table.record("old", "peer", start);
  table.record("newer", "peer", start + 8s);
  CHECK(table.origin("old", start + 11s) == std::nullopt);
  CHECK(table.origin("newer", start + 11s).has_value());
  CHECK(table.size() == 1);
}

TEST_CASE("a flood of unique ids keeps the table at its cap") {
  FloodTable table(1000, 3600s);
  auto now = FloodTable::Clock::now();
  for (int i = 0; i < 100000; ++i) table.record("id-" + std::to_string(i), "peer", now);
  CHECK(table.size() == 1000);
  CHECK(table.origin("id-99999", now).has_value());  // the newest stay
  CHECK_FALSE(table.origin("id-0", now).has_value());
}

TEST_CASE("a flood table counts the live ids each peer put there") {
  FloodTable table(3, 10s);
  auto now = FloodTable::Clock::now();
  table.record("a1", "peer-a", now);
  table.record("a2", "peer-a", now);
  table.record("b1", "peer-b", now);
  CHECK(table.held_by("peer-a") == 2);
  CHECK(table.held_by("peer-b") == 1);
  CHECK(table.held_by("peer-c") == 0);
  table.record("c1", "peer-c", now);  // evicts a1, the oldest
  CHECK(table.held_by("peer-a") == 1);
  table.expire(now + 11s);
  CHECK(table.held_by("peer-a") == 0);
  CHECK(table.held_by("peer-c") == 0);
}
