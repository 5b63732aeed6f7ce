// The console side of the Downloader: `download K`, `download SHA256 [NAME]`
// and `downloads`.
#include "downloader.hpp"
#include "file_names.hpp"

#include <p2pnet/counted.hpp>
#include <p2pnet/printable.hpp>

#include "progress_format.hpp"
#include "sha256.hpp"

#include <algorithm>
#include <cctype>

namespace p2pnet::download {

namespace {

constexpr const char* kUsage = "usage: download [--force] K | download [--force] SHA256 [NAME]";

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
  // --force (or -f), anywhere: fetch even if an identical copy is already here.
  std::vector<std::string> args;
  bool force = false;
  for (const auto& arg : cmd.args()) {
    if (arg == "--force" || arg == "-f")
      force = true;
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
    Transfer* t = start_transfer(cmd, first, name, -1, force);
    if (!t) return;
    // A shared copy is checked before any search: the network would not
    // name this node as a source of its own file.
    if (!force && index_lists(first)) return prepare(*t);
    begin_search(*t);
    return show_progress(*t, Clock::now());
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
  Transfer* t = start_transfer(cmd, result->sha256, name, result->size, force);
  if (!t) return;
  add_sources(*t, result->sources);
  if (t->sources.empty()) {
    begin_search(*t);  // only this node had it: look again
    return show_progress(*t, Clock::now());
  }
  prepare(*t);
}

void Downloader::run_downloads(Command& cmd) {
  if (transfers_.empty()) return cmd.print("no downloads");
  int active = 0;
  for (const auto& [id, transfer] : transfers_) {
    const Transfer& t = *transfer;
    std::string line = "[" + std::to_string(id) + "] " + t.display_name() + "  ";
    int sources = 0;
    for (const auto& [node, s] : t.sources) sources += s.state == SourceState::ready ? 1 : 0;
    switch (t.phase) {
      case Phase::searching:
        line += "searching for sources";
        break;
      case Phase::preparing:
        line += "preparing";
        break;
      case Phase::finishing:
        line += "checking sha256";
        break;
      case Phase::fetching:
        if (!t.has_manifest) {
          line += "asking " + count_sources(t.live_sources());
        } else {
          line += "active  " + progress_line({"", t.bytes_written, t.size, t.speed, sources}).substr(2);
        }
        break;
      case Phase::saved:
      case Phase::failed:
        line += t.outcome;
        break;
    }
    active += t.active() ? 1 : 0;
    cmd.print(line);
  }
  cmd.print(counted(static_cast<long long>(transfers_.size()), "download") + " (" + std::to_string(active) +
            " active)");
}

}  // namespace p2pnet::download
