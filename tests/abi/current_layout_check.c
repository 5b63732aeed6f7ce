/* Today's plugin_abi.h keeps every 1.0 member where 1.0 put it: this file
   does not compile otherwise. */
#include <p2pnet/plugin_abi.h>

#define P2PNET_ABI_SIZE_CHECK >=
#include "abi_1_0_checks.h"

int p2pnet_abi_layout_checked(void) { return 1; }
