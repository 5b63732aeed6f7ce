// A plugin whose descriptor claims another ABI version (set at build time).
#include <p2pnet/plugin_abi.h>

namespace {
p2pnet_plugin_api make_callbacks() {
  p2pnet_plugin_api callbacks{};
  callbacks.struct_size = sizeof callbacks;
  return callbacks;
}
const p2pnet_plugin_api callbacks = make_callbacks();
const p2pnet_plugin_descriptor descriptor = {
    sizeof(p2pnet_plugin_descriptor), CLAIMED_ABI_MAJOR, CLAIMED_ABI_MINOR, "wrongabi", "1.0.0", "", &callbacks};
}  // namespace

extern "C" P2PNET_EXPORT const p2pnet_plugin_descriptor* p2pnet_plugin_entry(void) { return &descriptor; }
