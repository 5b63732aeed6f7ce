// search: shares one folder and finds files on the network. Searches flood
// like discovery's requests (dedup by id, depth, answers back along the
// reverse path only); results are printed numbered and published on the bus
// for the download plugin, which also asks for searches over the bus.
//
// Bus contract (the download plugin relies on it exactly):
//   search.index   published: {"shared_dir", "files": [{"path","size","sha256","mtime"}]}
//   search.results published: {"request", "query", "results": [{"index","name","size","sha256",
//                              "sources": [{"node_id","host","port"}]}]}
//   search.request subscribed: {"request", "query", "depth"?} -> search.results with that request id
#include "indexer.hpp"
#include "messages.hpp"
#include "names.hpp"
#include "query.hpp"
#include "result_set.hpp"
#include "search_settings.hpp"

#include <p2pnet/counted.hpp>
#include <p2pnet/fields.hpp>
#include <p2pnet/flood_table.hpp>
#include <p2pnet/plugin.hpp>
#include <p2pnet/rare_warnings.hpp>
#include <p2pnet/request_budgets.hpp>
#include <p2pnet/settings.hpp>
#include <p2pnet/token_buckets.hpp>

#include <charconv>
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>

namespace {

using namespace p2pnet::search;
using Clock = std::chrono::steady_clock;
using p2pnet::counted;

constexpr size_t kMaxBusRequestId = 128;
constexpr uint64_t kBucketSweepIntervalMs = 30000;  // idle address budgets are forgotten

std::string random_request_id(std::mt19937_64& random) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int word = 0; word < 2; ++word) {
    uint64_t bits = random();
    for (int i = 0; i < 16; ++i, bits >>= 4) id += kHex[bits & 0xF];
  }
  return id;
}

std::optional<int> parse_depth(const std::string& text) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !is_valid_depth(value)) return std::nullopt;
  return value;
}

class SearchPlugin : public p2pnet::Plugin {
 public:
  // Its events reach control clients and the web page: publish_public (ABI 1.2).
  static constexpr uint16_t abi_minor = 2;

  void on_load(const p2pnet::json& table) override {
    p2pnet::Settings settings(table, "search");
    settings_ = SearchSettings::read(settings);
    for (const auto& key : settings.unknown_keys()) warn("unknown setting " + key + " ignored");
    flood_.emplace(settings_.flood_table_size, std::chrono::milliseconds(settings_.flood_ttl_ms));
    // Bursts of one second's worth, as before these budgets were per address.
    budgets_.emplace(settings_.max_incoming_searches_per_s, settings_.max_incoming_searches_per_s_per_address,
                     settings_.flood_ids_per_peer);
    relayed_per_address_.emplace(settings_.max_relayed_searches_per_s_per_address,
                                 settings_.max_relayed_searches_per_s_per_address);

    handle("search", [this](const p2pnet::PeerRef& peer, const p2pnet::Message& m) { on_search(peer, m); });
    handle("search_result", [this](const p2pnet::PeerRef& peer, const p2pnet::Message& m) { on_result(peer, m); });
    command("search", "search QUERY [DEPTH]",
            "find files on the network: a name part, a glob (* ?) or sha256:HEX; DEPTH -1 is the whole network",
            [this](p2pnet::Command& cmd) { search_command(cmd); });
    command("rescan", "rescan", "look for new, changed and removed files in the shared folder now",
            [this](p2pnet::Command& cmd) { rescan_command(cmd); });
    command("shared", "shared", "list the files this node shares: path, size, hash prefix",
            [this](p2pnet::Command& cmd) { shared_command(cmd); });
    subscribe("search.request", [this](const p2pnet::json& data) { on_bus_request(data); });
  }

  void on_start() override {
    IndexerSettings settings;
    settings.shared_dir = settings_.shared_dir;
    settings.hash_bytes_per_second = static_cast<uint64_t>(settings_.hash_bytes_per_second);
    auto data = data_dir();
    if (!data.empty()) {
      settings.cache_file = data / "search" / "index.json";
      settings.manifest_dir = data / "search" / "manifests";
      settings.never_share.push_back(data);  // the node's identity and state are never shared
      settings.private_dirs.push_back(data);
    }
    indexer_.emplace(*this, std::move(settings));
    indexer_->start();
    if (settings_.rescan_interval_ms > 0)
      every(static_cast<uint64_t>(settings_.rescan_interval_ms), [this] { indexer_->rescan_if_idle(); });
    every(kBucketSweepIntervalMs, [this] {
      budgets_->sweep();
      relayed_per_address_->sweep();
    });
  }

  void on_peer_disconnected(const p2pnet::PeerRef& peer, std::string_view) override {
    budgets_->forget_peer(std::string(peer.id()));
  }

  void on_stop() override {
    if (indexer_) indexer_->stop();
    std::vector<std::string> ids;
    for (const auto& [id, search] : searches_) ids.push_back(id);
    for (const auto& id : ids) finish_search(id);
  }

 private:
  // A search this node started, from the console or the bus.
  struct OwnSearch {
    std::string request;  // the bus request id; empty for the console
    std::string query;
    std::optional<p2pnet::Command> command;
    ResultSet results;
    p2pnet::TimerId deadline = 0;
    p2pnet::TimerId quiet = 0;
  };

  // --- The network side -------------------------------------------------------

  void on_search(const p2pnet::PeerRef& peer, const p2pnet::Message& message) {
    auto request = parse_search(message.header, settings_.max_query_length);
    auto query = request ? Query::parse(request->query, settings_.max_query_length) : std::nullopt;
    if (!query) return count("searches_malformed");
    std::string from(peer.id());
    flood_->expire();
    // A repeat costs nothing: copies of one honest search arriving over
    // several paths must not use up the budgets that new searches need.
    if (flood_->origin(request->id)) return count("searches_duplicate");
    if (!within_budget(peer)) return;
    bool full = flood_->size() >= flood_->capacity();
    flood_->record(request->id, from);
    if (full) count("flood_ids_evicted");  // the oldest id made room
    count("searches_received");

    if (indexer_) {
      auto matches = indexer_->index().match(*query, settings_.max_answer_files);
      if (matches.files.empty()) {
        count("searches_unmatched");  // silence: only nodes with matches answer
      } else {
        std::string host = listen_host();
        if (is_unspecified_host(host)) host = std::string(peer.local_host());
        SearchAnswer answer{request->id, node_id(), host, listen_port(), {}, std::nullopt};
        if (auto relay = own_relay()) answer.relay = p2pnet::RelayAddress{relay->id, relay->host, relay->port};
        for (const auto* file : matches.files)
          answer.files.push_back({std::string(base_name(file->path)), file->size, file->sha256});
        if (!reads_its_answers(from))
          count("answers_withheld");
        else if (send(from, make_search_result(answer)) == P2PNET_OK)
          count("answers_sent");
        if (matches.left_out) count("answer_files_left_out", static_cast<int64_t>(matches.left_out));
      }
    }

    if (request->depth == kWholeNetwork || request->depth > 1) {
      // What one address sends is passed on at a lower rate than it may
      // ask: a flooder's searches would otherwise fill the budget that the
      // next node keeps for everything arriving over this one link.
      if (!relayed_per_address_->take(std::string(peer.host()))) return count("searches_not_relayed");
      auto relayed = *request;
      if (relayed.depth != kWholeNetwork) --relayed.depth;
      if (broadcast(make_search(relayed), {from}) > 0) count("searches_relayed");
    }
  }

  void on_result(const p2pnet::PeerRef& peer, const p2pnet::Message& message) {
    size_t bad_files = 0;
    auto answer = parse_search_result(message.header, &bad_files);
    if (bad_files) count("result_files_malformed", static_cast<int64_t>(bad_files));
    if (!answer) return count("results_malformed");
    // The node that answers knows its port; whether its listen host is
    // reachable only its direct peer can tell.
    if (answer->node_id == peer.id() && is_unspecified_host(answer->host)) answer->host = std::string(peer.host());

    std::string from_peer(peer.id());
    auto origin = flood_->origin(answer->id);
    if (!origin) return count("results_unknown");  // never asked, or forgotten: drop it
    if (!origin->empty()) {
      if (!reads_its_answers(*origin)) return count("answers_withheld");
      int status = send(*origin, make_search_result(*answer));
      count(status == P2PNET_OK ? "results_relayed" : "results_undeliverable");
      return;
    }
    auto it = searches_.find(answer->id);
    if (it == searches_.end()) return count("results_late");
    count("results_received");
    // The core reaches a node by id through the relay it named.
    if (answer->relay) {
      int status = remember_relay(answer->node_id, answer->relay->id, answer->relay->host, answer->relay->port);
      if (status == P2PNET_OK) count("relays_learned");
      if (status == P2PNET_ERR_INVALID) count("result_relays_rejected");
    }
    auto& search = it->second;
    size_t crowded = 0;
    size_t dropped =
        search.results.add({answer->node_id, answer->host, answer->port}, answer->files, from_peer, &crowded);
    if (dropped) count("result_files_dropped", static_cast<int64_t>(dropped));
    if (crowded) count("sources_crowded_out", static_cast<int64_t>(crowded));
    // Answers come in a burst; once they stop for a while, the search is done.
    if (search.quiet) cancel(search.quiet);
    std::string id = answer->id;
    search.quiet = after(static_cast<uint64_t>(settings_.answer_quiet_ms), [this, id] { finish_search(id); });
  }

  // A new search is charged to its peer and to the peer's address, and the
  // peer may hold only its share of the flood table: a peer flooding unique
  // ids costs at most this much matching, and neither it nor many sessions
  // from one address can use up what other addresses' searches get, or
  // evict the ids that route their results back.
  bool within_budget(const p2pnet::PeerRef& peer) {
    std::string id(peer.id()), address(peer.host());
    const char* refused = budgets_->charge(id, address, flood_->held_by(id));
    if (!refused) return true;
    count("searches_throttled");
    if (throttled_.note())
      warn("throttled: dropped a search from " + id + " at " + address + ": " + refused + " (" +
           std::to_string(throttled_.count()) + " dropped so far)");
    return false;
  }

  // A peer that leaves answers unread gets no more of them.
  bool reads_its_answers(const std::string& peer_id) {
    return settings_.max_unread_answer_bytes == 0 || queued_bytes(peer_id) <= settings_.max_unread_answer_bytes;
  }

  // --- Searches of this node ------------------------------------------------

  // Starts a search; returns an error text, or "" once it runs. It ends with
  // finish_search, which prints (for the console) and publishes the results.
  std::string start_search(const std::string& text, int depth, std::optional<p2pnet::Command> command,
                           const std::string& request) {
    std::string problem;
    auto query = Query::parse(text, settings_.max_query_length, &problem);
    if (!query) return problem;
    if (searches_.size() >= static_cast<size_t>(settings_.max_searches))
      return "too many searches running (" + std::to_string(settings_.max_searches) + ")";
    std::string id = random_request_id(random_);
    flood_->record(id, "");
    count("searches_started");
    OwnSearch search{request,
                     text,
                     std::move(command),
                     ResultSet(static_cast<size_t>(settings_.max_results), static_cast<size_t>(settings_.max_sources)),
                     0,
                     0};
    searches_.emplace(id, std::move(search));
    int sent = broadcast(make_search({id, query->text(), depth}));
    if (sent <= 0) {
      auto& own = searches_.at(id);
      if (own.command) own.command->print("no connected peer handles search");
      finish_search(id);
      return "";
    }
    searches_.at(id).deadline =
        after(static_cast<uint64_t>(settings_.answer_wait_ms), [this, id] { finish_search(id); });
    return "";
  }

  void finish_search(const std::string& id) {
    auto it = searches_.find(id);
    if (it == searches_.end()) return;
    OwnSearch search = std::move(it->second);
    searches_.erase(it);
    if (search.deadline) cancel(search.deadline);
    if (search.quiet) cancel(search.quiet);
    auto results = search.results.numbered();
    // Published before the command ends: an event is queued on each
    // subscriber's strand ahead of any command typed after this one, so
    // `download K` right after a search always sees these results.
    publish_public("search.results", results_json(search.request, search.query, results));
    if (search.command) {
      for (const auto& result : results) search.command->print(format_result_line(result));
      search.command->print(counted(static_cast<long long>(results.size()), "result"));
      search.command->done(0);
    }
  }

  void search_command(p2pnet::Command& cmd) {
    const auto& args = cmd.args();
    std::optional<int> depth = settings_.default_depth;
    if (args.size() == 2) depth = parse_depth(args[1]);
    if (args.empty() || args.size() > 2 || !depth) {
      cmd.print("usage: search QUERY [DEPTH] (DEPTH: -1 for the whole network or 1 to 255; quote a QUERY with spaces)");
      return cmd.done(2);
    }
    auto kept = cmd.keep();
    std::string problem = start_search(args[0], *depth, kept, "");
    if (!problem.empty()) {
      kept.print("error: " + problem);
      kept.done(2);
    }
  }

  void on_bus_request(const p2pnet::json& data) {
    auto request = p2pnet::fields::string(data, "request", kMaxBusRequestId);
    if (!request || request->empty()) return count("bus_requests_bad");
    count("bus_requests");
    auto reply_error = [&](const std::string& problem) {
      auto reply =
          results_json(*request, p2pnet::fields::string(data, "query", settings_.max_query_length).value_or(""), {});
      reply["error"] = problem;
      publish_public("search.results", reply);
    };
    auto query = p2pnet::fields::string(data, "query", settings_.max_query_length);
    if (!query)
      return reply_error("query missing or longer than " + std::to_string(settings_.max_query_length) + " bytes");
    int depth = settings_.default_depth;
    if (data.is_object() && data.contains("depth")) {
      auto given = p2pnet::fields::integer(data, "depth", kWholeNetwork, kMaxDepth);
      if (!given || !is_valid_depth(*given)) return reply_error("depth must be -1 or 1 to 255");
      depth = static_cast<int>(*given);
    }
    std::string problem = start_search(*query, depth, std::nullopt, *request);
    if (!problem.empty()) reply_error(problem);
  }

  // --- The shared folder ----------------------------------------------------

  void rescan_command(p2pnet::Command& cmd) {
    if (!cmd.args().empty()) {
      cmd.print("usage: rescan (it takes no arguments)");
      return cmd.done(1);
    }
    if (!indexer_) {
      cmd.print("error: the node has not started");
      return cmd.done(1);
    }
    auto kept = cmd.keep();
    indexer_->rescan([kept](const ScanReport& report) mutable {
      if (!report.error.empty()) {
        kept.print("error: " + report.error);
        return kept.done(1);
      }
      kept.print("indexed " + counted(static_cast<long long>(report.files), "file") + " (" +
                 std::to_string(report.hashed) + " hashed)");
      kept.done(0);
    });
  }

  void shared_command(p2pnet::Command& cmd) {
    if (!indexer_) return cmd.print(counted(0, "file"));
    const auto& index = indexer_->index();
    for (const auto& [path, file] : index.files())
      cmd.print(path + "  " + std::to_string(file.size) + "  " + file.sha256.substr(0, kHashPrefixLength));
    if (!indexer_->problem().empty()) cmd.print("not sharing: " + indexer_->problem());
    if (indexer_->scanning())
      cmd.print("scanning: " + counted(static_cast<long long>(indexer_->left_to_hash()), "file") + " left to hash");
    const auto& walk = indexer_->last_walk();
    for (const auto& [path, why] : walk.refused_names) cmd.print("refused: " + path + " (" + why + ")");
    if (walk.bad_names > walk.refused_names.size())
      cmd.print("refused: " + std::to_string(walk.bad_names - walk.refused_names.size()) + " more");
    size_t skipped = walk.partial_downloads + walk.symlinks_outside + walk.bad_names + walk.special_files;
    if (skipped)
      cmd.print("not shared: " + counted(walk.partial_downloads, "partial download") + ", " +
                counted(walk.symlinks_outside, "symlink") + " leading outside, " +
                counted(walk.bad_names, "unusable name") + ", " + counted(walk.special_files, "special file"));
    cmd.print(counted(static_cast<long long>(index.size()), "file"));
  }

  SearchSettings settings_;  // [plugins.search] in node.toml
  std::optional<Indexer> indexer_;
  std::optional<p2pnet::FloodTable> flood_;
  std::map<std::string, OwnSearch> searches_;
  std::mt19937_64 random_{std::random_device{}()};
  std::optional<p2pnet::RequestBudgets> budgets_;
  std::optional<p2pnet::TokenBuckets> relayed_per_address_;
  p2pnet::RareWarnings throttled_;
};

}  // namespace

P2PNET_PLUGIN(SearchPlugin, "search", "1.0.0", "shares a folder and finds files on the network")
