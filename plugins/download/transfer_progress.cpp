// What the user sees of transfers while they run and when they end: the
// progress line of a `download --wait` command (show_progress), the
// console's status area over all transfers (show_status, each tick),
// download.progress events for programs that follow the node
// (publish_progress), and a transfer's lines and final line (say, end).
#include "downloader.hpp"
#include "progress_format.hpp"
#include "transfer_events.hpp"

namespace p2pnet::download {
namespace {

constexpr auto kProgressInterval = std::chrono::milliseconds(500);
constexpr auto kSpeedSampleInterval = std::chrono::milliseconds(500);
constexpr size_t kMaxStatusItems = 3;
// Programs following the node's events get each running transfer this often.
constexpr auto kProgressEventInterval = std::chrono::seconds(1);

std::string percent_text(int64_t done, int64_t total) {
  if (total <= 0) return "0%";
  return std::to_string(static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total))) + "%";
}

}  // namespace

void Downloader::show_progress(Transfer& t, Clock::time_point now) {
  if (now - t.sampled_at >= kSpeedSampleInterval) {
    double seconds = std::chrono::duration<double>(now - t.sampled_at).count();
    double current = static_cast<double>(t.bytes_this_run - t.sampled_bytes) / seconds;
    t.speed = t.speed == 0 ? current : 0.6 * t.speed + 0.4 * current;
    t.sampled_bytes = t.bytes_this_run;
    t.sampled_at = now;
  }
  if (!t.command || now - t.printed_at < kProgressInterval) return;
  t.printed_at = now;
  int sources = 0;
  for (const auto& [id, s] : t.sources) sources += s.state == SourceState::ready || s.state == SourceState::asking;
  switch (t.phase) {
    case Phase::searching:
      return t.command->progress(t.display_name() + "  searching for sources");
    case Phase::preparing:
      return;
    case Phase::finishing:
      return t.command->progress(t.display_name() + "  checking sha256");
    case Phase::fetching:
      if (!t.has_manifest())
        return t.command->progress(t.display_name() + "  asking " + count_sources(t.live_sources()));
      return t.command->progress(progress_line({t.display_name(), t.bytes_written, t.size, t.speed, sources}));
    default:
      return;
  }
}

// The status area: "[2 active, 1 queued: a.iso 40% 3.1 MiB/s, b.bin searching]".
void Downloader::show_status() {
  std::string text;
  if (!stopping_) {
    std::vector<std::string> items;
    size_t active = 0, queued = 0;
    for (const auto& [id, transfer] : transfers_) {
      const Transfer& t = *transfer;
      queued += t.phase == Phase::queued ? 1 : 0;
      if (!t.active()) continue;
      ++active;
      if (items.size() == kMaxStatusItems) continue;
      std::string item = t.display_name() + " ";
      if (t.phase == Phase::fetching && t.has_manifest())
        item += percent_text(t.bytes_written, t.size) + " " + human_bytes(t.speed) + "/s";
      else if (t.phase == Phase::finishing)
        item += "checking";
      else
        item += "searching";
      items.push_back(item);
    }
    if (active + queued > 0) {
      text = "[" + std::to_string(active) + " active" + (queued ? ", " + std::to_string(queued) + " queued" : "");
      for (size_t i = 0; i < items.size(); ++i) text += (i == 0 ? ": " : ", ") + items[i];
      if (active > items.size()) text += ", ...";
      text += "]";
    }
  }
  if (text == status_) return;
  status_ = text;
  host_.status(text);
}

// download.progress for each running transfer, to programs following the
// node's public events (download.finished goes out with remember_ended).
void Downloader::publish_progress(Clock::time_point now) {
  if (now - progress_events_at_ < kProgressEventInterval) return;
  progress_events_at_ = now;
  for (const auto& [id, t] : transfers_)
    if (t->active()) host_.publish_public(kProgressEvent, progress_event(*t));
}

void Downloader::say(Transfer& t, const std::string& line) {
  if (t.command)
    t.command->print(line);
  else
    host_.print(line);
}

// Every transfer that ends with an outcome (saved, failed, already here)
// ends here; a cancel reports its own line.
void Downloader::end(Transfer& t, const std::string& line, int status) {
  t.stop_clock(Clock::now());
  t.outcome = line;
  if (t.command) {
    t.command->print(line);
    t.command->done(status);
    t.command.reset();
  } else {
    host_.print(line);
  }
  remember_ended(t);
}

}  // namespace p2pnet::download
