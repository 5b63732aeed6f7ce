// How console lines (typed, from a control client, or run by a plugin) reach
// the core's and the plugins' commands, and where a node's output goes: a
// command's own sink, the embedder's event sink, the public events.
#include "node_core.hpp"

#include <fmt/core.h>
#include <p2pnet/printable.hpp>

namespace p2pnet {

// --- Console ----------------------------------------------------------------

void NodeCore::execute(std::string_view line, OutputSink out, std::function<void(int)> done) {
  if (!out) out = [](std::string_view, bool) {};
  if (!done) done = [](int) {};
  if (auto quote = unterminated_quote(line)) {
    out(fmt::format("error: unterminated quote at column {}", *quote + 1), false);
    return done(2);
  }
  auto args = split_command_line(line);
  if (args.empty()) return done(0);
  std::string name = args.front();
  args.erase(args.begin());
  if (is_core_command(name)) return run_core_command(name, args, out, done);
  auto plugin = plugins_.command_owner(name);
  if (!plugin) {
    out(fmt::format("unknown command '{}'; type help for the list", printable_excerpt(name)), false);
    return done(1);
  }
  if (stopping_) {
    out("error: node is stopping", false);
    return done(1);
  }
  uint64_t token = running_commands_.add(std::move(out), std::move(done), plugin.get());
  // The rest of the line, untouched, so a plugin can parse its own syntax.
  auto start = line.find_first_not_of(" \t");
  auto rest = line.substr(std::min(line.size(), start + name.size()));
  auto first = rest.find_first_not_of(" \t");
  plugin->command(token, name, first == std::string_view::npos ? "" : std::string(rest.substr(first)));
}

void NodeCore::print(uint64_t token, std::string_view text, bool transient) {
  OutputSink out = running_commands_.output(token);
  if (out) return out(text, transient);
  // Outside any command, a transient line is the node's status area; a
  // plugin's other lines are notices (`saved PATH (...)` of a background
  // download), which programs following the node's events get too.
  print_event(std::string(text), transient);
  if (!transient)
    publish_public("notice",
                   nlohmann::json{{"text", text}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void NodeCore::finish_command(uint64_t token, int status) { running_commands_.finish(token, status); }

void NodeCore::set_event_sink(OutputSink sink) {
  std::lock_guard lock(event_sink_mutex_);
  event_sink_ = std::move(sink);
}

bool NodeCore::print_event(const std::string& line, bool transient) {
  // Called under the lock so that once stop() clears the sink, no call to
  // it is still running: the embedder may destroy what it captured.
  std::lock_guard lock(event_sink_mutex_);
  if (!event_sink_) return false;
  event_sink_(line, transient);
  return true;
}

void NodeCore::report_peer_event(const std::string& line) {
  // One place says it: the console when there is one (p2pnode), else the log
  // at info. A terminal would otherwise show every peer event twice.
  bool printed = print_event(line);
  log_->log(printed ? LogSeverity::debug : LogSeverity::info, "{}", line);
}

void NodeCore::publish_public(const std::string& event, std::string json) {
  bus_.publish(event, std::move(json), true);
}

void NodeCore::set_stop_request_handler(std::function<void()> handler) {
  std::lock_guard lock(stop_request_mutex_);
  stop_request_handler_ = std::move(handler);
}

void NodeCore::request_stop() {
  std::function<void()> handler;
  {
    std::lock_guard lock(stop_request_mutex_);
    handler = stop_request_handler_;
  }
  if (handler) handler();
}

}  // namespace p2pnet
