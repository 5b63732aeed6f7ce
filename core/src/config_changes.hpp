// What a re-read node.toml changes that only a restart applies: `reload`
// names each such key instead of ignoring it.
#pragma once

#include "p2pnet/config.hpp"

#include <string>
#include <vector>

namespace p2pnet {

// The keys ([node], [control], [[peers]]) whose value differs, in file order.
std::vector<std::string> restart_only_changes(const NodeConfig& running, const NodeConfig& fresh);

}  // namespace p2pnet
