// The console side of the Downloader: `download K`, `download SHA256 [NAME]`
// and `downloads`.
#include "downloader.hpp"
#include "file_names.hpp"

#include <p2pnet/counted.hpp>
#include <p2pnet/printable.hpp>

#include <p2pnet/hex.hpp>
#include "progress_format.hpp"

#include <algorithm>
#include <cctype>

namespace p2pnet::download {

namespace {

constexpr const char* kUsage = "usage: download [--wait] [--force] K | download [--wait] [--force] SHA256 [NAME]";

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool all_digits(const std::string& text) {
  return !text.empty() && text.size() <= 9 &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

void Downloader::run_download(Command& cmd) {
  // --force (or -f), anywhere: fetch even if an identical copy is already
  // here. --wait (or -w): the command lasts until the transfer ends, with
  // progress, as scripts want; otherwise it runs in the background.
  std::vector<std::string> args;
  bool force = false, wait = false;
  for (const auto& arg : cmd.args()) {
    if (arg == "--force" || arg == "-f")
      force = true;
    else if (arg == "--wait" || arg == "-w")
      wait = true;
    else
      args.push_back(arg);
  }
  auto usage = [&] {
    cmd.print(kUsage);
    cmd.done(2);
  };
  if (args.empty() || args.size() > 2) return usage();
  std::string first = lowercase(args[0]);
  if (is_sha256_hex(first)) {
    std::string name;
    if (args.size() == 2) {
      if (args[1].find_first_of("/\\") != std::string::npos) {
        cmd.print("error: NAME must be a file name, not a path");
        return cmd.done(2);
      }
      if (auto why = name_refusal(args[1]); !why.empty()) {
        cmd.print("error: '" + printable_excerpt(args[1]) + "' cannot be used as a file name: " + why);
        return cmd.done(2);
      }
      name = sanitize_file_name(args[1]);
      if (name.empty()) {
        cmd.print("error: '" + printable_excerpt(args[1]) + "' cannot be used as a file name");
        return cmd.done(2);
      }
    }
    // A shared copy is checked before any search (launch): the network
    // would not name this node as a source of its own file.
    if (Transfer* t = start_transfer(cmd, first, name, -1, force, wait)) begin(*t, wait);
    return;
  }
  if (args.size() != 1 || !all_digits(args[0])) return usage();
  const int64_t k = std::stoll(args[0]);
  if (!last_console_search_) {
    cmd.print("error: no search results yet; run search first");
    return cmd.done(1);
  }
  const SearchResult* result = last_console_search_->find(k);
  if (!result) {
    cmd.print("error: no result " + args[0] + " in the last search (" +
              std::to_string(last_console_search_->results.size()) + " results)");
    return cmd.done(1);
  }
  if (auto why = name_refusal(result->name); !why.empty()) {
    host_.count("names_refused");
    cmd.print("error: refusing to save result " + args[0] + " as '" + printable(result->name) + "': " + why +
              "; choose a name: download " + result->sha256 + " NAME");
    return cmd.done(1);
  }
  std::string name = sanitize_file_name(result->name);
  Transfer* t = start_transfer(cmd, result->sha256, name, result->size, force, wait);
  if (!t) return;
  add_sources(*t, result->sources);  // none: only this node had it, launch searches again
  begin(*t, wait);
}

void Downloader::begin(Transfer& t, bool wait) {
  admit(t);
  if (wait || !t.command) return;  // waits, or already ended (and answered)
  t.command->done(0);
  t.command.reset();
}

std::string Downloader::describe(const Transfer& t, Clock::time_point now) const {
  std::string line = "[" + std::to_string(t.id) + "] " + t.display_name() + "  ";
  const std::string elapsed = "  elapsed " + format_duration(t.elapsed_seconds(now));
  const int64_t total = t.has_manifest() ? t.size : t.expected_size;
  const std::string size = total < 0 ? "size unknown" : human_bytes(static_cast<double>(total));
  int sources = 0;
  for (const auto& [node, s] : t.sources) sources += s.state == SourceState::ready ? 1 : 0;
  switch (t.phase) {
    case Phase::searching:
      return line + "searching for sources" + elapsed;
    case Phase::preparing:
      return line + "preparing" + elapsed;
    case Phase::finishing:
      return line + "checking sha256" + elapsed;
    case Phase::fetching:
      if (!t.has_manifest()) return line + "asking " + count_sources(t.live_sources()) + elapsed;
      return line + "active  " + progress_line({"", t.bytes_written, t.size, t.speed, sources}).substr(2) + elapsed;
    case Phase::queued:
      return line + "queued  " + size;
    case Phase::paused:
      return line + "paused  " + std::to_string(t.bytes_written) + "/" + (total < 0 ? "?" : std::to_string(total)) +
             " bytes" + elapsed;
    default:
      return line + t.outcome;
  }
}

void Downloader::run_downloads(Command& cmd) {
  const auto now = Clock::now();
  int active = 0, queued = 0, paused = 0, listed = 0;
  for (const auto& ended : history_) {
    std::string line = "[" + std::to_string(ended.id) + "] " + ended.name + "  " + ended.state + "  " +
                       (ended.size < 0 ? "size unknown" : human_bytes(static_cast<double>(ended.size)));
    if (ended.state == "saved" && ended.sources > 0 && ended.elapsed_seconds > 0)
      line += "  " + human_bytes(static_cast<double>(ended.size) / ended.elapsed_seconds) + "/s";
    line += "  " + count_sources(ended.sources) + "  elapsed " + format_duration(ended.elapsed_seconds);
    if (ended.state == "failed") line += "  (" + ended.outcome + ")";
    cmd.print(line);
    ++listed;
  }
  for (const auto& [id, transfer] : transfers_) {
    const Transfer& t = *transfer;
    if (t.ended()) continue;  // listed from the history
    active += t.active() ? 1 : 0;
    queued += t.phase == Phase::queued ? 1 : 0;
    paused += t.phase == Phase::paused ? 1 : 0;
    cmd.print(describe(t, now));
    ++listed;
  }
  if (listed == 0) return cmd.print("no downloads");
  cmd.print(counted(listed, "download") + " (" + std::to_string(active) + " active" +
            (queued ? ", " + std::to_string(queued) + " queued" : "") +
            (paused ? ", " + std::to_string(paused) + " paused" : "") + ")");
}

}  // namespace p2pnet::download
