/* A plugin library that needs a symbol nothing provides: the dynamic loader
   refuses it at load time (RTLD_NOW) with "undefined symbol: NAME". */
#include <p2pnet/plugin_abi.h>

extern const p2pnet_plugin_descriptor* p2pnet_test_symbol_nobody_defines(void);

P2PNET_EXPORT const p2pnet_plugin_descriptor* p2pnet_plugin_entry(void) { return p2pnet_test_symbol_nobody_defines(); }
