// What the download plugin tells whoever follows the node's public events (a
// control client, the web page): each running transfer's progress about once
// a second, and every end. The fields are an interface: scripts read them.
#pragma once

#include "download_history.hpp"
#include "transfer.hpp"

#include <p2pnet/plugin.hpp>

namespace p2pnet::download {

constexpr const char* kProgressEvent = "download.progress";
constexpr const char* kFinishedEvent = "download.finished";

// {id, name, sha256, phase, size, done, bytes_per_s, eta_s (null while unknown), sources}
json progress_event(const Transfer& t);
// {id, name, sha256, size, outcome ("saved", "already here", "failed", "cancelled"), line}
json finished_event(const EndedDownload& ended);

}  // namespace p2pnet::download
