#include "transfer_events.hpp"

namespace p2pnet::download {
namespace {

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::searching:
      return "searching";
    case Phase::preparing:
      return "preparing";
    case Phase::fetching:
      return "fetching";
    case Phase::finishing:
      return "checking";
    case Phase::queued:
      return "queued";
    case Phase::paused:
      return "paused";
    case Phase::saved:
      return "saved";
    case Phase::failed:
      return "failed";
    case Phase::cancelled:
      return "cancelled";
  }
  return "unknown";
}

}  // namespace

json progress_event(const Transfer& t) {
  const int64_t size = t.has_manifest ? t.size : t.expected_size;
  json eta = nullptr;
  if (t.has_manifest && t.speed > 0) eta = static_cast<double>(t.size - t.bytes_written) / t.speed;
  return {{"id", t.id},
          {"name", t.display_name()},
          {"sha256", t.sha256},
          {"phase", phase_name(t.phase)},
          {"size", size},
          {"done", t.bytes_written},
          {"bytes_per_s", t.speed},
          {"eta_s", eta},
          {"sources", t.live_sources()}};
}

json finished_event(const EndedDownload& ended) {
  return {{"id", ended.id},     {"name", ended.name},     {"sha256", ended.sha256},
          {"size", ended.size}, {"outcome", ended.state}, {"line", ended.outcome}};
}

}  // namespace p2pnet::download
