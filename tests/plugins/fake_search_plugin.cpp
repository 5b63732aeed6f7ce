// fake_search: a test-only stand-in for the stock search plugin, implementing
// just the bus contract the download plugin relies on:
//   search.index   published after every scan of shared_dir: {shared_dir, files: [{path, size, sha256, mtime}]}
//   search.results published when a search finishes: {request, query, results: [{index, name, size, sha256, sources}]}
//   search.request answered with search.results carrying the same request id
// Searches flood to depth D over "fake_search.query" and come back along the
// reverse path as "fake_search.hits". The console `search QUERY [DEPTH]`
// prints the stock format: "[K] NAME  SIZE  SHA256-PREFIX  (N sources)", then
// "N results". `fake-index-add` puts arbitrary entries (unsafe paths, escaping
// symlinks) into the published index so tests can check the download plugin
// refuses them. `fake-claim PATH SHA256` makes a shared file answer for
// another file's hash (a poisoning source, serving a self-consistent but wrong
// manifest and chunks).
#include <p2pnet/counted.hpp>
#include <p2pnet/fields.hpp>
#include <p2pnet/flood_table.hpp>
#include <p2pnet/plugin.hpp>
#include <p2pnet/settings.hpp>

#include "common/sha256.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include <sys/stat.h>

namespace {

namespace fs = std::filesystem;
using p2pnet::json;

struct Entry {
  std::string path;
  int64_t size = 0;
  std::string sha256;
  int64_t mtime = 0;
};

std::string sha256_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  p2pnet::Sha256 hash;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() > 0) hash.update(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  return p2pnet::to_hex(hash.finish());
}

bool has_suffix(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<Entry> scan(const fs::path& root) {
  std::vector<Entry> out;
  std::error_code error;
  for (fs::recursive_directory_iterator it(root, error), end; !error && it != end; it.increment(error)) {
    if (it->is_symlink() || !it->is_regular_file()) continue;
    std::string relative = fs::relative(it->path(), root).generic_string();
    if (has_suffix(relative, ".part") || has_suffix(relative, ".part.json")) continue;
    struct stat info {};
    if (::stat(it->path().c_str(), &info) != 0) continue;
    out.push_back(
        {relative, static_cast<int64_t>(info.st_size), sha256_file(it->path()), static_cast<int64_t>(info.st_mtime)});
  }
  return out;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

class FakeSearchPlugin : public p2pnet::Plugin {
 public:
  void on_load(const json& table) override {
    p2pnet::Settings settings(table, "fake_search");
    shared_dir_ = settings.string("shared_dir", "");
    // The stock search plugin's names: how long a search collects answers.
    window_ms_ = settings.integer("answer_wait_ms", 300, 10, 60000);
    settings.integer("answer_quiet_ms", 0, 0, 60000);  // accepted for the same configs; the window alone ends a search
    for (const auto& key : settings.unknown_keys()) warn("unknown setting " + key + " ignored");

    handle("fake_search.query", [this](const p2pnet::PeerRef& peer, const p2pnet::Message& m) { on_query(peer, m); });
    handle("fake_search.hits", [this](const p2pnet::PeerRef& peer, const p2pnet::Message& m) { on_hits(peer, m); });
    subscribe("search.request", [this](const json& event) {
      auto request = p2pnet::fields::string(event, "request", 128);
      auto query = p2pnet::fields::string(event, "query", 1024);
      if (!request || request->empty() || !query) return;
      auto depth = p2pnet::fields::integer(event, "depth", 1, 16).value_or(3);
      start_search(*query, static_cast<int>(depth), *request, std::nullopt);
    });
    command("search", "search QUERY [DEPTH]", "find files on the network (test stand-in)",
            [this](p2pnet::Command& cmd) {
              if (cmd.args().empty() || cmd.args().size() > 2) {
                cmd.print("usage: search QUERY [DEPTH]");
                return cmd.done(2);
              }
              int depth = cmd.args().size() == 2 ? std::stoi(cmd.args()[1]) : 3;
              start_search(cmd.args()[0], depth, "", cmd.keep());
            });
    command("fake-rescan", "fake-rescan", "hash shared_dir again and publish search.index",
            [this](p2pnet::Command& cmd) { rescan(cmd.keep()); });
    command("fake-index-add", "fake-index-add PATH SIZE SHA256 MTIME", "publish an arbitrary index entry",
            [this](p2pnet::Command& cmd) {
              const auto& a = cmd.args();
              if (a.size() != 4) return cmd.done(2);
              extras_.push_back({a[0], std::stoll(a[1]), a[2], std::stoll(a[3])});
              publish_index();
              cmd.print("added " + a[0]);
            });
    command("fake-claim", "fake-claim PATH SHA256", "make a shared file answer for another hash",
            [this](p2pnet::Command& cmd) {
              const auto& a = cmd.args();
              if (a.size() != 2) return cmd.done(2);
              claims_[a[0]] = a[1];
              apply_claims();
              publish_index();
              cmd.print("claimed " + a[0]);
            });
  }

  void on_start() override { rescan(std::nullopt); }

 private:
  struct Search {
    std::optional<p2pnet::Command> command;
    std::string request;
    std::string query;
    std::vector<json> hits;
  };

  void rescan(std::optional<p2pnet::Command> cmd) {
    if (shared_dir_.empty()) {
      publish_index();
      if (cmd) cmd->done();
      return;
    }
    auto found = std::make_shared<std::vector<Entry>>();
    fs::path root = shared_dir_;
    // Scans may finish out of order on the background pool; only the latest
    // started one may publish, or the start-up scan could undo a later one.
    uint64_t generation = ++scan_generation_;
    background([found, root] { *found = scan(root); },
               [this, found, cmd, generation]() mutable {
                 if (generation == scan_generation_) {
                   files_ = std::move(*found);
                   apply_claims();
                   publish_index();
                 }
                 if (cmd) {
                   cmd->print("indexed " + std::to_string(files_.size()) + " files");
                   cmd->done();
                 }
               });
  }

  void apply_claims() {
    for (auto& e : files_)
      if (auto it = claims_.find(e.path); it != claims_.end()) e.sha256 = it->second;
  }

  void publish_index() {
    json files = json::array();
    for (const auto* list : {&files_, &extras_})
      for (const auto& e : *list)
        files.push_back({{"path", e.path}, {"size", e.size}, {"sha256", e.sha256}, {"mtime", e.mtime}});
    std::error_code error;
    std::string dir = shared_dir_.empty() ? "/nonexistent" : fs::canonical(shared_dir_, error).string();
    publish("search.index", {{"shared_dir", dir}, {"files", files}});
  }

  json local_matches(const std::string& query) {
    json hits = json::array();
    bool by_hash = query.rfind("sha256:", 0) == 0;
    for (const auto& e : files_) {
      std::string name = fs::path(e.path).filename().string();
      bool match = by_hash ? e.sha256 == query.substr(7) : lower(name).find(lower(query)) != std::string::npos;
      if (match)
        hits.push_back({{"name", name},
                        {"size", e.size},
                        {"sha256", e.sha256},
                        {"node_id", node_id()},
                        {"host", listen_host()},
                        {"port", listen_port()}});
    }
    return hits;
  }

  void start_search(const std::string& query, int depth, const std::string& request,
                    std::optional<p2pnet::Command> cmd) {
    std::string id = std::to_string(random_());
    flood_.record(id, "");
    searches_[id] = Search{std::move(cmd), request, query, {}};
    broadcast({{"type", "fake_search.query"}, {"id", id}, {"query", query}, {"depth", depth}});
    after(static_cast<uint64_t>(window_ms_), [this, id] { finish(id); });
  }

  void on_query(const p2pnet::PeerRef& peer, const p2pnet::Message& m) {
    auto id = p2pnet::fields::string(m.header, "id", 64);
    auto query = p2pnet::fields::string(m.header, "query", 1024);
    auto depth = p2pnet::fields::integer(m.header, "depth", 1, 16);
    if (!id || !query || !depth || !flood_.record(*id, std::string(peer.id()))) return;
    auto hits = local_matches(*query);
    if (!hits.empty()) send(peer.id(), {{"type", "fake_search.hits"}, {"id", *id}, {"hits", hits}});
    if (*depth > 1)
      broadcast({{"type", "fake_search.query"}, {"id", *id}, {"query", *query}, {"depth", *depth - 1}},
                {std::string(peer.id())});
  }

  void on_hits(const p2pnet::PeerRef&, const p2pnet::Message& m) {
    auto id = p2pnet::fields::string(m.header, "id", 64);
    const auto* hits = p2pnet::fields::array(m.header, "hits", 1000);
    if (!id || !hits) return;
    auto origin = flood_.origin(*id);
    if (!origin) return;
    if (!origin->empty()) {
      send(*origin, m.header);
      return;
    }
    auto it = searches_.find(*id);
    if (it == searches_.end()) return;
    for (const auto& hit : *hits) it->second.hits.push_back(hit);
  }

  void finish(const std::string& id) {
    auto it = searches_.find(id);
    if (it == searches_.end()) return;
    Search search = std::move(it->second);
    searches_.erase(it);
    std::vector<std::string> order;
    std::map<std::string, json> merged;
    for (const auto& hit : search.hits) {
      std::string sha = hit.value("sha256", "");
      if (!merged.count(sha)) {
        order.push_back(sha);
        merged[sha] = {{"name", hit.value("name", "")},
                       {"size", hit.value("size", 0)},
                       {"sha256", sha},
                       {"sources", json::array()}};
      }
      auto& sources = merged[sha]["sources"];
      std::string node = hit.value("node_id", "");
      bool known =
          std::any_of(sources.begin(), sources.end(), [&](const json& s) { return s.value("node_id", "") == node; });
      if (!known)
        sources.push_back({{"node_id", node}, {"host", hit.value("host", "")}, {"port", hit.value("port", 0)}});
    }
    json results = json::array();
    int index = 0;
    for (const auto& sha : order) {
      json result = merged[sha];
      result["index"] = ++index;
      results.push_back(result);
      if (search.command) {
        auto sources = result["sources"].size();
        search.command->print("[" + std::to_string(index) + "] " + result["name"].get<std::string>() + "  " +
                              std::to_string(result["size"].get<int64_t>()) + "  " + sha.substr(0, 16) + "  (" +
                              p2pnet::counted(static_cast<long long>(sources), "source") + ")");
      }
    }
    publish("search.results", {{"request", search.request}, {"query", search.query}, {"results", results}});
    if (search.command) {
      search.command->print(p2pnet::counted(static_cast<long long>(results.size()), "result"));
      search.command->done();
    }
  }

  std::string shared_dir_;
  int64_t window_ms_ = 300;
  std::vector<Entry> files_;
  std::vector<Entry> extras_;
  std::map<std::string, std::string> claims_;  // path -> the hash it answers for
  uint64_t scan_generation_ = 0;
  std::map<std::string, Search> searches_;
  p2pnet::FloodTable flood_{10000, std::chrono::seconds(60)};
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace

P2PNET_PLUGIN(FakeSearchPlugin, "fake_search", "1.0.0", "test stand-in for search: index, results and sha256 searches")
