// The search plugin between real nodes: flooding with depth and dedup,
// answers back along the reverse path, the kinds of query, merging of
// sources, bounds, and the bus contract the download plugin relies on.
#include "raw_peer.hpp"
#include "search_nodes.hpp"

#include <p2pnet/counted.hpp>

#include <map>
#include <set>

using namespace p2pnet;
using namespace p2pnet::test;

namespace {

using Files = SharingNode::Files;

std::string result_line(int index, const std::string& name, const std::string& content, int sources) {
  return "[" + std::to_string(index) + "] " + name + "  " + std::to_string(content.size()) + "  " +
         sha256_hex(content).substr(0, 16) + "  (" + counted(sources, "source") + ")";
}

// The lines of a finished search command.
std::vector<std::string> search(TestNode& node, const std::string& args) {
  auto result = node.run("search " + args);
  INFO(result.text());
  REQUIRE(result.status == 0);
  return result.lines;
}

}  // namespace

TEST_CASE("three nodes in a line: C finds the file of A through B and the answer goes back the way it came") {
  const std::string report = "quarterly numbers\n";
  SharingNode a({{"docs/report.txt", report}, {"unrelated.bin", "xyz"}});
  SharingNode b(Files{{"other.txt", "not it"}}), c, d;
  REQUIRE(a->connect_to(*b) == b->id());
  REQUIRE(c->connect_to(*b) == b->id());
  REQUIRE(d->connect_to(*b) == b->id());

  auto lines = search(*c, "report");
  CHECK(lines == std::vector<std::string>{result_line(1, "report.txt", report, 1), "1 result"});

  auto published = bus_events(*c, "search.results");
  REQUIRE(published.size() == 1);
  const auto& result = published[0]["results"][0];
  CHECK(published[0]["request"] == "");
  CHECK(published[0]["query"] == "report");
  CHECK(result["index"] == 1);
  CHECK(result["name"] == "report.txt");
  CHECK(result["size"] == report.size());
  CHECK(result["sha256"] == sha256_hex(report));
  REQUIRE(result["sources"].size() == 1);
  CHECK(result["sources"][0] == nlohmann::json{{"node_id", a->id()}, {"host", "127.0.0.1"}, {"port", a->port()}});

  CHECK(counter(*a, "answers_sent") == 1);
  CHECK(counter(*b, "searches_relayed") == 1);
  CHECK(counter(*b, "results_relayed") == 1);
  // B and D have no match and stay silent; D, off the reverse path, never sees the answer.
  CHECK(counter(*b, "searches_unmatched") == 1);
  CHECK(counter(*b, "answers_sent") == 0);
  CHECK(counter(*d, "searches_received") == 1);
  CHECK(counter(*d, "searches_unmatched") == 1);
  CHECK(counter(*d, "answers_sent") == 0);
  CHECK(counter(*d, "results_unknown") + counter(*d, "results_relayed") + counter(*d, "results_received") == 0);
  CHECK(counter(*c, "results_received") == 1);
}

TEST_CASE("depth limits how far a search goes") {
  SharingNode a(Files{{"report.txt", "numbers"}}), b, c;
  REQUIRE(a->connect_to(*b) == b->id());
  REQUIRE(c->connect_to(*b) == b->id());
  CHECK(search(*c, "report 1") == std::vector<std::string>{"0 results"});
  CHECK(counter(*b, "searches_received") == 1);
  CHECK(counter(*b, "searches_relayed") == 0);
  CHECK(counter(*a, "searches_received") == 0);
  CHECK(search(*c, "report 2").back() == "1 result");
  CHECK(search(*c, "report -1").back() == "1 result");
  CHECK(counter(*a, "searches_received") == 2);
  auto bad = c->run("search report 0");
  CHECK(bad.status == 2);
  CHECK(bad.contains("usage: search QUERY [DEPTH]"));
}

TEST_CASE("queries: case-insensitive name parts - globs - sha256 and quoted spaces") {
  const std::string photo = "jpeg bytes";
  SharingNode a({{"Report-2023.PDF", "pdf"},
                 {"notes.txt", "notes"},
                 {"photo.jpg", photo},
                 {"old/Notes-old.txt", "old notes"},
                 {"my file.txt", "spaces"}});
  SharingNode c;
  REQUIRE(c->connect_to(*a) == a->id());

  auto names = [&](const std::string& args) {
    std::vector<std::string> out;
    for (const auto& line : search(*c, args))
      if (line.rfind("[", 0) == 0) out.push_back(line.substr(line.find(' ') + 1, line.find("  ") - line.find(' ') - 1));
    return out;
  };
  CHECK(names("REPORT") == std::vector<std::string>{"Report-2023.PDF"});
  CHECK(names("*.txt") == std::vector<std::string>{"my file.txt", "Notes-old.txt", "notes.txt"});
  CHECK(names("n?tes*") == std::vector<std::string>{"Notes-old.txt", "notes.txt"});
  CHECK(names("*.tx").empty());
  CHECK(names("\"my file\"") == std::vector<std::string>{"my file.txt"});
  CHECK(names("sha256:" + sha256_hex(photo)) == std::vector<std::string>{"photo.jpg"});

  auto bad = c->run("search sha256:1234");
  CHECK(bad.status == 2);
  CHECK(bad.contains("error: sha256: needs 64 hex digits"));
  CHECK(c->run("search my file").status == 2);  // unquoted: "file" is no depth
}

TEST_CASE("the same file on two nodes is one result with two sources") {
  const std::string song = "the same bytes", live = "other bytes";
  SharingNode a({{"song.mp3", song}}), b({{"music/song.mp3", song}, {"song-live.mp3", live}}), c;
  REQUIRE(c->connect_to(*a) == a->id());
  REQUIRE(c->connect_to(*b) == b->id());
  auto lines = search(*c, "song");
  CHECK(lines == std::vector<std::string>{result_line(1, "song-live.mp3", live, 1), result_line(2, "song.mp3", song, 2),
                                          "2 results"});
  auto published = bus_events(*c, "search.results");
  REQUIRE(published.size() == 1);
  auto sources = published[0]["results"][1]["sources"];
  REQUIRE(sources.size() == 2);
  std::set<std::string> ids{sources[0]["node_id"], sources[1]["node_id"]};
  CHECK(ids == std::set<std::string>{a->id(), b->id()});
}

TEST_CASE("an answer carries at most max_answer_files files") {
  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 0; i < 30; ++i)
    files.push_back({"file" + std::to_string(100 + i) + ".dat", "content " + std::to_string(i)});
  SharingNode a(files, {{"max_answer_files", 10}}), c;
  REQUIRE(c->connect_to(*a) == a->id());
  CHECK(search(*c, "file").back() == "10 results");
  CHECK(counter(*a, "answer_files_left_out") == 20);
}

TEST_CASE("search messages with unknown ids - bad fields or repeated ids are dropped and counted") {
  SharingNode node(Files{{"x.txt", "x"}}, {}, true, false);
  auto raw = std::make_unique<RawPeer>(node->port());
  auto& peer = *raw;
  REQUIRE(peer.handshake(random_id(), {"search", "search_result"}));

  nlohmann::json answer = {{"type", "search_result"},
                           {"id", "never-asked"},
                           {"node_id", random_id()},
                           {"host", "127.0.0.1"},
                           {"port", 9},
                           {"files", {{{"name", "a"}, {"size", 1}, {"sha256", sha256_hex("a")}}}}};
  REQUIRE(peer.send_json(answer));
  answer["node_id"] = "bad";
  REQUIRE(peer.send_json(answer));
  REQUIRE(peer.send_json({{"type", "search"}, {"id", "q0"}, {"query", "x"}, {"depth", 0}}));
  REQUIRE(peer.send_json({{"type", "search"}, {"id", "q1"}, {"query", std::string(300, 'x')}, {"depth", 1}}));
  REQUIRE(peer.send_json({{"type", "search"}, {"id", "dup"}, {"query", "x.TXT"}, {"depth", 1}}));
  REQUIRE(peer.send_json({{"type", "search"}, {"id", "dup"}, {"query", "x.TXT"}, {"depth", 1}}));
  REQUIRE(wait_until([&] { return counter(*node, "searches_duplicate") == 1; }));
  CHECK(counter(*node, "results_unknown") == 1);
  CHECK(counter(*node, "results_malformed") == 1);
  CHECK(counter(*node, "searches_malformed") == 2);

  auto frame = peer.read_frame();
  REQUIRE(frame);
  auto json = frame->json();
  CHECK(json["type"] == "search_result");
  CHECK(json["id"] == "dup");
  CHECK(json["node_id"] == node->id());
  CHECK(json["port"] == node->port());
  CHECK(json["files"] == nlohmann::json::array({{{"name", "x.txt"}, {"size", 1}, {"sha256", sha256_hex("x")}}}));
  CHECK_FALSE(peer.read_frame(std::chrono::milliseconds(300)));  // one answer only
  CHECK((*node)->peers().size() == 1);                           // bad messages do not cost the connection
  raw.reset();  // see ~SharingNode: let the node see the peer go before it stops
  CHECK(wait_until([&] { return (*node)->peers().empty(); }));
}

TEST_CASE("the bus contract: search.index - search.request and search.results") {
  const std::string guide = "how to";
  SharingNode a({{"docs/guide.txt", guide}}), c;
  REQUIRE(c->connect_to(*a) == a->id());

  auto index = bus_events(*a, "search.index");
  REQUIRE(!index.empty());
  CHECK(index.back()["shared_dir"] == std::filesystem::canonical(a.shared.path()).string());
  // Where the chunk manifests computed while indexing are kept, for the download plugin.
  CHECK(index.back()["manifest_dir"] == (a->data_dir() / "search" / "manifests").string());
  REQUIRE(index.back()["files"].size() == 1);
  const auto& file = index.back()["files"][0];
  CHECK(file["path"] == "docs/guide.txt");
  CHECK(file["size"] == guide.size());
  CHECK(file["sha256"] == sha256_hex(guide));
  CHECK(file["mtime"].is_number_integer());
  CHECK(file["mtime"].get<int64_t>() > 0);

  // Another plugin asks; the answer comes back with its request id and the same numbering as the console.
  CHECK(c->run("searchprobe-request r1 sha256:" + sha256_hex(guide)).status == 0);
  CHECK(c->run("searchprobe-request r2 guide 1").status == 0);
  CHECK(c->run("searchprobe-request r3 sha256:nothex").status == 0);
  std::map<std::string, nlohmann::json> answers;
  REQUIRE(wait_until([&] {
    for (const auto& event : bus_events(*c, "search.results")) answers[event["request"]] = event;
    return answers.size() == 3;
  }));
  for (const char* id : {"r1", "r2"}) {
    INFO(id);
    const auto& results = answers[id]["results"];
    REQUIRE(results.size() == 1);
    CHECK(results[0]["index"] == 1);
    CHECK(results[0]["name"] == "guide.txt");
    CHECK(results[0]["sha256"] == sha256_hex(guide));
    CHECK(results[0]["sources"][0]["node_id"] == a->id());
    CHECK(results[0]["sources"][0]["port"] == a->port());
  }
  CHECK(answers["r1"]["query"] == "sha256:" + sha256_hex(guide));
  CHECK(answers["r3"]["results"].empty());
  CHECK(answers["r3"]["error"] == "sha256: needs 64 hex digits");
  CHECK(c->run("searchprobe-log").text().find("\"request\":\"\"") == std::string::npos);  // no console search yet
}

TEST_CASE("a node answers searches while it is still hashing") {
  SharingNode a(Files{{"small.txt", "tiny"}, {"big.bin", std::string(6 << 20, 'b')}},
                {{"hash_bytes_per_second", 1 << 20}}, false);
  SharingNode c;
  REQUIRE(c->connect_to(*a) == a->id());
  REQUIRE(wait_until([&] { return counter(*a, "files_hashed") == 1; }));  // small files go first
  CHECK(search(*c, "small").back() == "1 result");
  CHECK(counter(*a, "scans_completed") == 0);
  CHECK(a->run("shared").contains("scanning: 1 file left to hash"));
}

TEST_CASE("a peer flooding searches does not use up the searches of other peers") {
  // One search a second per peer: the flood empties the flooder's bucket at once.
  SharingNode node(Files{{"x.txt", "x"}}, {{"max_incoming_searches_per_s", 1}}, true, false);
  auto flooder = std::make_unique<RawPeer>(node->port());
  auto honest = std::make_unique<RawPeer>(node->port());
  REQUIRE(flooder->handshake(random_id(), {"search", "search_result"}));
  REQUIRE(honest->handshake(random_id(), {"search", "search_result"}));
  for (int i = 0; i < 100; ++i)
    REQUIRE(flooder->send_json(
        {{"type", "search"}, {"id", "flood" + std::to_string(i)}, {"query", "nothing-matches"}, {"depth", 1}}));
  REQUIRE(wait_until([&] { return counter(*node, "searches_throttled") >= 90; }));
  REQUIRE(honest->send_json({{"type", "search"}, {"id", "honest"}, {"query", "x.txt"}, {"depth", 1}}));
  auto frame = honest->read_frame();
  REQUIRE(frame);
  CHECK(frame->json()["id"] == "honest");
  flooder.reset();  // see ~SharingNode: let the node see the peers go before it stops
  honest.reset();
  CHECK(wait_until([&] { return (*node)->peers().empty(); }));
}
