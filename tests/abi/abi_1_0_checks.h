/*
 * Compile-time checks of a plugin_abi.h against the 1.0 layout. Include after
 * the header under test. P2PNET_ABI_SIZE_CHECK decides how a struct's size
 * may differ: == for the frozen 1.0 header, >= for today's (structs grow only
 * at their end).
 */
#ifndef P2PNET_ABI_1_0_CHECKS_H
#define P2PNET_ABI_1_0_CHECKS_H

#include "abi_1_0_layout.h"

#include <stddef.h>

#if defined(__x86_64__) && defined(__LP64__)
#define P2PNET_ABI_CHECK_SIZE(type, size) \
  _Static_assert(sizeof(type) P2PNET_ABI_SIZE_CHECK size, #type " is not the size ABI 1.0 promises");
#define P2PNET_ABI_CHECK_MEMBER(type, member, offset, size)                                             \
  _Static_assert(offsetof(type, member) == offset, #type "." #member " moved from its ABI 1.0 offset"); \
  _Static_assert(sizeof(((type*)0)->member) == size, #type "." #member " changed its ABI 1.0 size");
P2PNET_ABI_1_0_SIZES(P2PNET_ABI_CHECK_SIZE)
P2PNET_ABI_1_0_MEMBERS(P2PNET_ABI_CHECK_MEMBER)
#endif

#endif /* P2PNET_ABI_1_0_CHECKS_H */
