/*
 * The layout of every ABI 1.0 struct as released (x86-64 / LP64 Linux): size,
 * and offset and size of each member. Both sides check against this one
 * list: the frozen 1.0 header (so the list is 1.0's) and today's header (so
 * an edit that moves, resizes or removes a 1.0 member fails the build).
 * Appending members at a struct's end only grows its size, which may never
 * shrink.
 *
 * P2PNET_ABI_1_0_SIZES(S) calls S(struct, size);
 * P2PNET_ABI_1_0_MEMBERS(X) calls X(struct, member, offset, size).
 */
#ifndef P2PNET_ABI_1_0_LAYOUT_H
#define P2PNET_ABI_1_0_LAYOUT_H

#define P2PNET_ABI_1_0_SIZES(S) \
  S(p2pnet_peer, 56)            \
  S(p2pnet_known_node, 40)      \
  S(p2pnet_host_api, 208)       \
  S(p2pnet_plugin_api, 96)      \
  S(p2pnet_plugin_descriptor, 40)

#define P2PNET_ABI_1_0_MEMBERS(X)                   \
  X(p2pnet_peer, struct_size, 0, 4)                 \
  X(p2pnet_peer, id, 8, 8)                          \
  X(p2pnet_peer, host, 16, 8)                       \
  X(p2pnet_peer, port, 24, 2)                       \
  X(p2pnet_peer, inbound, 26, 1)                    \
  X(p2pnet_peer, authenticated, 27, 1)              \
  X(p2pnet_peer, types, 32, 8)                      \
  X(p2pnet_peer, type_count, 40, 8)                 \
  X(p2pnet_peer, local_host, 48, 8)                 \
  X(p2pnet_known_node, struct_size, 0, 4)           \
  X(p2pnet_known_node, id, 8, 8)                    \
  X(p2pnet_known_node, host, 16, 8)                 \
  X(p2pnet_known_node, port, 24, 2)                 \
  X(p2pnet_known_node, last_seen_ms, 32, 8)         \
  X(p2pnet_host_api, struct_size, 0, 4)             \
  X(p2pnet_host_api, abi_major, 4, 2)               \
  X(p2pnet_host_api, abi_minor, 6, 2)               \
  X(p2pnet_host_api, node_id, 8, 8)                 \
  X(p2pnet_host_api, listen_host, 16, 8)            \
  X(p2pnet_host_api, listen_port, 24, 8)            \
  X(p2pnet_host_api, data_dir, 32, 8)               \
  X(p2pnet_host_api, log, 40, 8)                    \
  X(p2pnet_host_api, register_type, 48, 8)          \
  X(p2pnet_host_api, register_command, 56, 8)       \
  X(p2pnet_host_api, subscribe, 64, 8)              \
  X(p2pnet_host_api, send, 72, 8)                   \
  X(p2pnet_host_api, broadcast, 80, 8)              \
  X(p2pnet_host_api, queued_bytes, 88, 8)           \
  X(p2pnet_host_api, list_peers, 96, 8)             \
  X(p2pnet_host_api, get_peer, 104, 8)              \
  X(p2pnet_host_api, connect, 112, 8)               \
  X(p2pnet_host_api, connect_id, 120, 8)            \
  X(p2pnet_host_api, disconnect, 128, 8)            \
  X(p2pnet_host_api, remember_node, 136, 8)         \
  X(p2pnet_host_api, list_known_nodes, 144, 8)      \
  X(p2pnet_host_api, publish, 152, 8)               \
  X(p2pnet_host_api, timer_start, 160, 8)           \
  X(p2pnet_host_api, timer_cancel, 168, 8)          \
  X(p2pnet_host_api, print, 176, 8)                 \
  X(p2pnet_host_api, command_done, 184, 8)          \
  X(p2pnet_host_api, run_background, 192, 8)        \
  X(p2pnet_host_api, count, 200, 8)                 \
  X(p2pnet_plugin_api, struct_size, 0, 4)           \
  X(p2pnet_plugin_api, create, 8, 8)                \
  X(p2pnet_plugin_api, destroy, 16, 8)              \
  X(p2pnet_plugin_api, on_start, 24, 8)             \
  X(p2pnet_plugin_api, on_stop, 32, 8)              \
  X(p2pnet_plugin_api, on_peer_connected, 40, 8)    \
  X(p2pnet_plugin_api, on_peer_disconnected, 48, 8) \
  X(p2pnet_plugin_api, on_message, 56, 8)           \
  X(p2pnet_plugin_api, on_event, 64, 8)             \
  X(p2pnet_plugin_api, on_timer, 72, 8)             \
  X(p2pnet_plugin_api, on_command, 80, 8)           \
  X(p2pnet_plugin_api, on_connect_result, 88, 8)    \
  X(p2pnet_plugin_descriptor, struct_size, 0, 4)    \
  X(p2pnet_plugin_descriptor, abi_major, 4, 2)      \
  X(p2pnet_plugin_descriptor, abi_minor, 6, 2)      \
  X(p2pnet_plugin_descriptor, name, 8, 8)           \
  X(p2pnet_plugin_descriptor, version, 16, 8)       \
  X(p2pnet_plugin_descriptor, description, 24, 8)   \
  X(p2pnet_plugin_descriptor, api, 32, 8)

#endif /* P2PNET_ABI_1_0_LAYOUT_H */
