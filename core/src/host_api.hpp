#pragma once

#include <p2pnet/plugin_abi.h>

namespace p2pnet {

// The one host function table every plugin instance receives.
const p2pnet_host_api& host_api_table();

}  // namespace p2pnet
