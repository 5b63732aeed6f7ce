// A poisoning source (issue 15, item 3): a node that answers a search for a
// file's SHA-256 with another file of the same size, serving a manifest and
// chunks that agree with each other but not with that SHA-256. The victim
// must end with the right file from an honest source, blame the liar, and
// never keep a record that trusts the poisoned chunks.
#include "download_support.hpp"

#include <future>

using namespace p2pnet;
using namespace p2pnet::test;
using namespace p2pnet::test::download_tests;
namespace fs = std::filesystem;

namespace {

constexpr size_t kSize = 256 * 1024;  // 16 chunks of 16 KiB

struct PoisonSetup {
  TempDir honest_shared{"shared"}, poison_shared{"shared"}, downloads{"downloads"};
  std::string sha;
  std::unique_ptr<TestNode> poisoner;
  std::unique_ptr<TestNode> honest;

  // The liar's file is `fake_size` bytes: as long as the real one, or a
  // size that contradicts every honest source.
  explicit PoisonSetup(size_t fake_size = kSize) {
    sha = write_random_file(honest_shared / "real.bin", kSize, 21);
    write_random_file(poison_shared / "fake.bin", fake_size, 22);
    poisoner = std::make_unique<TestNode>(file_node(poison_shared.path(), {{"test_poison", true}}, kFakeSearchPlugin));
    honest = std::make_unique<TestNode>(file_node(honest_shared.path(), {}, kFakeSearchPlugin));
    REQUIRE(poisoner->run("fake-claim fake.bin " + sha).contains("claimed fake.bin"));
  }

  NodeConfig victim_config(int64_t max_searches) const {
    return file_node({},
                     {{"download_dir", downloads.path().string()},
                      {"chunk_size", 16384},
                      {"search_timeout_ms", 2000},
                      {"max_searches", max_searches}},
                     kFakeSearchPlugin);
  }
};

// The download ended with the real file, under the name asked for.
void check_saved_and_verified(const CommandResult& download, const PoisonSetup& setup) {
  INFO(download.text());
  CHECK(download.status == 0);
  CHECK(last_line(download) == saved_line(setup.downloads / "wanted.bin", kSize));
  CHECK(sha256_hex(read_file(setup.downloads / "wanted.bin")) == setup.sha);
}

// No record, or one that trusts no chunk.
bool trusts_nothing(const fs::path& record) { return !fs::exists(record) || recorded_chunks(record) == 0; }

}  // namespace

TEST_CASE("a poisoning source is blamed after the end check and an honest source found later completes the download") {
  PoisonSetup setup;
  TestNode victim(setup.victim_config(1000));
  REQUIRE(victim.connect_to(*setup.poisoner) == setup.poisoner->id());

  auto pending = std::async(
      std::launch::async, [&] { return victim.run("download --wait " + setup.sha + " wanted.bin", kDownloadTimeout); });
  // Only the poisoner is reachable: its manifest is adopted, every chunk
  // matches it, the whole file does not.
  REQUIRE(wait_until([&] { return counter(victim, "download.sources_blamed") == 1; }, std::chrono::seconds(20)));
  CHECK(trusts_nothing(setup.downloads / "wanted.bin.part.json"));
  const int64_t served_by_poisoner = counter(*setup.poisoner, "download.chunks_served");
  CHECK(served_by_poisoner == 16);

  REQUIRE(victim.connect_to(*setup.honest) == setup.honest->id());
  check_saved_and_verified(pending.get(), setup);
  CHECK(counter(*setup.honest, "download.chunks_served") == 16);
  CHECK(counter(*setup.poisoner, "download.chunks_served") == served_by_poisoner);  // never asked again
  CHECK(counter(victim, "download.sources_blacklisted") >= 1);
}

TEST_CASE("a retry after a failed end check fetches again instead of trusting the poisoned chunks") {
  PoisonSetup setup;
  TestNode victim(setup.victim_config(1));
  REQUIRE(victim.connect_to(*setup.poisoner) == setup.poisoner->id());

  auto failed = victim.run("download --wait " + setup.sha + " wanted.bin", kDownloadTimeout);
  INFO(failed.text());
  CHECK(failed.status == 1);
  CHECK(failed.contains("is not used again for this file"));
  CHECK(trusts_nothing(setup.downloads / "wanted.bin.part.json"));

  REQUIRE(victim.connect_to(*setup.honest) == setup.honest->id());
  auto retry = victim.run("download --wait " + setup.sha + " wanted.bin", kDownloadTimeout);
  INFO(retry.text());
  CHECK(retry.status == 0);
  CHECK_FALSE(retry.contains("resuming"));
  CHECK(last_line(retry) == saved_line(setup.downloads / "wanted.bin", kSize));
  CHECK(sha256_hex(read_file(setup.downloads / "wanted.bin")) == setup.sha);
  CHECK(counter(*setup.honest, "download.chunks_served") == 16);
}

TEST_CASE("one poisoning and one honest source at once - the download ends saved and verified") {
  PoisonSetup setup;
  TestNode victim(setup.victim_config(3));
  REQUIRE(victim.connect_to(*setup.poisoner) == setup.poisoner->id());
  REQUIRE(victim.connect_to(*setup.honest) == setup.honest->id());

  auto download = victim.run("download --wait " + setup.sha + " wanted.bin", kDownloadTimeout);
  INFO(download.text());
  CHECK(download.status == 0);
  CHECK(last_line(download) == saved_line(setup.downloads / "wanted.bin", kSize));
  CHECK(sha256_hex(read_file(setup.downloads / "wanted.bin")) == setup.sha);
  // Whichever manifest came first, the liar's chunks are never what is saved.
  CHECK(counter(victim, "download.sources_dropped") <= 1);
}

TEST_CASE("a liar that names another size first does not lock the honest sources out") {
  PoisonSetup setup(kSize / 2);
  TestNode victim(setup.victim_config(1000));
  REQUIRE(victim.connect_to(*setup.poisoner) == setup.poisoner->id());

  auto pending = std::async(
      std::launch::async, [&] { return victim.run("download --wait " + setup.sha + " wanted.bin", kDownloadTimeout); });
  // The liar's answer, with its size, is the only one the download has seen.
  REQUIRE(wait_until([&] { return counter(victim, "download.sources_blamed") == 1; }, std::chrono::seconds(20)));
  REQUIRE(victim.connect_to(*setup.honest) == setup.honest->id());
  check_saved_and_verified(pending.get(), setup);
}
