// Transfers in the background: admission under max_active (the rest queue),
// `pause`, `resume`, `cancel`, the console's status area, and the history of
// ended downloads with the unfinished ones found on disk at start.
#include "downloader.hpp"
#include "file_names.hpp"
#include "progress_format.hpp"
#include "transfer_events.hpp"

#include <p2pnet/counted.hpp>
#include <p2pnet/printable.hpp>

#include <unistd.h>
#include <algorithm>
#include <cctype>

namespace p2pnet::download {
namespace {

constexpr const char* kPauseUsage = "usage: pause ID";
constexpr const char* kResumeUsage = "usage: resume ID | resume all";
constexpr const char* kCancelUsage = "usage: cancel ID [--keep]";
constexpr size_t kMaxStatusItems = 3;

std::string size_text(int64_t size) { return size < 0 ? "size unknown" : human_bytes(static_cast<double>(size)); }

std::string percent_text(int64_t done, int64_t total) {
  if (total <= 0) return "0%";
  return std::to_string(static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total))) + "%";
}

}  // namespace

size_t Downloader::running() const {
  size_t n = 0;
  for (const auto& [id, t] : transfers_) n += t->active() ? 1 : 0;
  return n;
}

void Downloader::admit(Transfer& t) {
  const std::string what = std::to_string(t.id) + ": " + t.display_name() + " (" + size_text(t.expected_size) + ")";
  if (running() >= static_cast<size_t>(settings_.max_active)) {
    t.phase = Phase::queued;
    return say(t, "queued " + what + "; " + std::to_string(running()) + " running (max_active)");
  }
  say(t, "started " + what);
  launch(t);
}

void Downloader::launch(Transfer& t) {
  const auto now = Clock::now();
  t.started = now;
  t.clock_running = true;
  t.bytes_this_run = t.sampled_bytes = 0;
  t.sampled_at = now;
  t.speed = 0;
  t.searches_without_progress = 0;
  t.next_search = now;
  if (t.file) {  // prepared before a pause: ask the sources again
    t.phase = Phase::fetching;
    return activate_sources(t);
  }
  t.written = t.bytes_written = 0;  // the record says again what is verified
  if (!t.sources.empty() || (!t.force && index_lists(t.sha256))) return prepare(t);
  t.phase = Phase::searching;
  begin_search(t);
  show_progress(t, now);
}

void Downloader::start_queued() {
  if (stopping_) return;
  for (auto& [id, t] : transfers_) {
    if (running() >= static_cast<size_t>(settings_.max_active)) return;
    if (t->phase != Phase::queued) continue;
    say(*t, "started " + std::to_string(id) + ": " + t->display_name() + " (" + size_text(t->expected_size) + ")");
    launch(*t);
  }
}

void Downloader::halt(Transfer& t) {
  for (auto it = requests_.begin(); it != requests_.end();) {
    if (it->second.transfer != t.id) {
      ++it;
      continue;
    }
    if (it->second.chunk >= 0 && t.phase == Phase::fetching && t.has_manifest) requeue(t, it->second.chunk);
    it = requests_.erase(it);
  }
  t.in_flight = 0;
  t.search_pending = false;
  if (t.adopting) {  // its hash arrives for nothing: the next run adopts again
    t.adopting = false;
    t.digests.clear();
  }
  for (auto& [id, s] : t.sources) {
    if (s.live()) release(t, id);
    if (s.live() || s.state == SourceState::gone) s.state = SourceState::standby;
    s.in_flight = 0;
    s.has_manifest = false;
    s.adopting = false;
  }
}

Transfer* Downloader::transfer_from_args(Command& cmd, const std::string& usage) {
  std::string id_text;
  for (const auto& arg : cmd.args())
    if (arg != "--keep") id_text = arg;
  if (id_text.empty() || id_text.size() > 9 ||
      !std::all_of(id_text.begin(), id_text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    cmd.print(usage);
    cmd.done(2);
    return nullptr;
  }
  Transfer* t = find(std::stoull(id_text));
  if (!t) {
    bool ended = std::any_of(history_.begin(), history_.end(),
                             [&](const EndedDownload& e) { return std::to_string(e.id) == id_text; });
    cmd.print("error: download " + id_text + (ended ? " has ended" : " does not exist") + "; see downloads");
    cmd.done(1);
  }
  return t;
}

void Downloader::run_pause(Command& cmd) {
  if (cmd.args().size() != 1) return cmd.print(kPauseUsage), cmd.done(2);
  Transfer* t = transfer_from_args(cmd, kPauseUsage);
  if (!t) return;
  const std::string id = std::to_string(t->id);
  if (t->ended()) return cmd.print("error: download " + id + " has ended; see downloads"), cmd.done(1);
  if (t->phase == Phase::paused) return cmd.print("error: download " + id + " is already paused"), cmd.done(1);
  if (t->phase == Phase::preparing || t->phase == Phase::finishing)
    return cmd.print("error: download " + id + " is busy on disk; try again in a moment"), cmd.done(1);
  t->stop_clock(Clock::now());
  halt(*t);
  t->phase = Phase::paused;
  t->record_dirty = t->has_manifest;
  flush_record(*t);
  t->pausing = cmd.keep();
  finish_waiting_commands();
}

void Downloader::resume_transfer(Transfer& t, Command& cmd, bool wait) {
  if (wait && !t.command) t.command = cmd.keep();
  const std::string what = std::to_string(t.id) + ": " + t.display_name();
  if (running() >= static_cast<size_t>(settings_.max_active)) {
    t.phase = Phase::queued;
    cmd.print("queued " + what + "; " + std::to_string(running()) + " running (max_active)");
  } else {
    cmd.print("resumed " + what);
    launch(t);
  }
  if (!wait) cmd.done(0);
}

void Downloader::run_resume(Command& cmd) {
  if (cmd.args().size() != 1) return cmd.print(kResumeUsage), cmd.done(2);
  if (stopping_) return cmd.print("error: the node is stopping"), cmd.done(1);
  if (cmd.args()[0] == "all") {
    int resumed = 0;
    for (auto& [id, t] : transfers_) {
      if (t->phase != Phase::paused) continue;
      ++resumed;
      if (running() >= static_cast<size_t>(settings_.max_active)) {
        t->phase = Phase::queued;
        cmd.print("queued " + std::to_string(id) + ": " + t->display_name());
      } else {
        cmd.print("resumed " + std::to_string(id) + ": " + t->display_name());
        launch(*t);
      }
    }
    if (resumed == 0) cmd.print("nothing to resume");
    return cmd.done(0);
  }
  Transfer* t = transfer_from_args(cmd, kResumeUsage);
  if (!t) return;
  if (t->phase != Phase::paused) {
    cmd.print("error: download " + std::to_string(t->id) + " is not paused");
    return cmd.done(1);
  }
  resume_transfer(*t, cmd, false);
}

void Downloader::run_cancel(Command& cmd) {
  const auto& args = cmd.args();
  const bool keep = std::find(args.begin(), args.end(), "--keep") != args.end();
  if (args.size() != (keep ? 2u : 1u)) return cmd.print(kCancelUsage), cmd.done(2);
  Transfer* t = transfer_from_args(cmd, kCancelUsage);
  if (!t) return;
  const std::string id = std::to_string(t->id);
  if (t->ended()) return cmd.print("error: download " + id + " has ended; see downloads"), cmd.done(1);
  if (t->phase == Phase::preparing || t->phase == Phase::finishing)
    return cmd.print("error: download " + id + " is busy on disk; try again in a moment"), cmd.done(1);
  t->stop_clock(Clock::now());
  halt(*t);
  t->phase = Phase::cancelled;
  if (t->command) {
    t->command->print("error: cancelled");
    t->command->done(1);
    t->command.reset();
  }
  const bool has_part = t->file || !t->paths.part.empty();
  if (keep || !has_part) {
    t->record_dirty = t->has_manifest;
    flush_record(*t);
    t->outcome =
        "cancelled " + id + ": " + t->display_name() + (has_part ? " (" + t->paths.part.string() + " kept)" : "");
    cmd.print(t->outcome);
    remember_ended(*t);
    return cmd.done(0);
  }
  t->remove_part = true;
  t->removing = cmd.keep();
  finish_waiting_commands();
}

void Downloader::remove_part_files(Transfer& t) {
  t.remove_part = false;
  t.file.reset();
  host_.background(
      [paths = t.paths] {
        ::unlink(paths.record.c_str());  // the record first: a .part without one is never resumed
        ::unlink(paths.part.c_str());
      },
      [this, id = t.id] {
        Transfer* t = find(id);
        if (!t || !t->removing) return;
        t->outcome =
            "cancelled " + std::to_string(id) + ": " + t->display_name() + " (" + t->paths.part.string() + " removed)";
        t->removing->print(t->outcome);
        t->removing->done(0);
        t->removing.reset();
        remember_ended(*t);
      });
}

// Answers `pause` once nothing more reaches NAME.part, and `cancel` once its
// files can go: no chunk write, hash step or record write is still running.
void Downloader::finish_waiting_commands() {
  for (auto& [id, transfer] : transfers_) {
    Transfer& t = *transfer;
    const bool disk_idle = t.verifying == 0 && !t.hashing && !t.record_busy;
    if (t.pausing && disk_idle) {
      if (t.phase == Phase::paused && t.record_dirty && t.file && t.has_manifest) {
        flush_record(t);
      } else {
        const int64_t total = t.has_manifest ? t.size : t.expected_size;
        t.pausing->print("paused " + std::to_string(id) + ": " + t.display_name() + " at " +
                         std::to_string(t.bytes_written) + " of " +
                         (total < 0 ? std::string("?") : std::to_string(total)) + " bytes");
        t.pausing->done(0);
        t.pausing.reset();
      }
    }
    if (t.remove_part && t.removing && disk_idle) remove_part_files(t);
  }
}

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
      if (t.phase == Phase::fetching && t.has_manifest)
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

void Downloader::remember_ended(const Transfer& t) {
  if (stopping_) return;  // unfinished, not ended: listed as paused after the restart
  EndedDownload ended;
  ended.id = t.id;
  ended.name = t.display_name();
  ended.sha256 = t.sha256;
  ended.size = t.has_manifest ? t.size : t.expected_size;
  ended.state = t.already_here                ? "already here"
                : t.phase == Phase::saved     ? "saved"
                : t.phase == Phase::cancelled ? "cancelled"
                                              : "failed";
  ended.outcome = t.outcome;
  ended.elapsed_seconds = t.elapsed_before;
  for (const auto& [id, s] : t.sources) ended.sources += s.chunks > 0 ? 1 : 0;
  host_.publish_public(kFinishedEvent, finished_event(ended));
  history_.push_back(std::move(ended));
  while (history_.size() > kMaxHistory) history_.pop_front();
  save_history();
}

void Downloader::save_history() {
  if (history_writing_) {
    history_dirty_ = true;
    return;
  }
  history_writing_ = true;
  auto error = std::make_shared<std::string>();
  host_.background(
      [error, path = history_path(host_.data_dir()), history = history_] { *error = write_history(path, history); },
      [this, error] {
        history_writing_ = false;
        if (!error->empty()) host_.warn(*error);
        if (history_dirty_) {
          history_dirty_ = false;
          save_history();
        }
      });
}

void Downloader::load_state() {
  struct Loaded {
    std::deque<EndedDownload> history;
    std::string warning;
    std::vector<UnfinishedPart> parts;
  };
  auto loaded = std::make_shared<Loaded>();
  host_.background(
      [loaded, path = history_path(host_.data_dir()), dir = settings_.download_dir] {
        loaded->history = read_history(path, loaded->warning);
        loaded->parts = find_unfinished_parts(dir);
      },
      [this, loaded] {
        if (!loaded->warning.empty()) host_.warn(loaded->warning);
        for (const auto& ended : loaded->history) next_transfer_ = std::max<uint64_t>(next_transfer_, ended.id + 1);
        // This run's (if any ended already) stay the newest.
        history_.insert(history_.begin(), loaded->history.begin(), loaded->history.end());
        while (history_.size() > kMaxHistory) history_.pop_front();
        int paused = 0;
        for (const auto& part : loaded->parts) {
          if (find_unended(part.sha256)) continue;
          auto transfer = std::make_unique<Transfer>();
          transfer->id = next_transfer_++;
          transfer->sha256 = part.sha256;
          transfer->wanted_name = part.name;
          transfer->expected_size = part.size;
          transfer->paths = part_paths(settings_.download_dir, part.name);
          transfer->bytes_written = part.verified_bytes;
          transfer->phase = Phase::paused;
          transfers_.emplace(transfer->id, std::move(transfer));
          ++paused;
        }
        if (paused > 0)
          host_.print(counted(paused, "unfinished download") + " paused (see downloads); resume all continues " +
                      (paused == 1 ? "it" : "them"));
      });
}

}  // namespace p2pnet::download
