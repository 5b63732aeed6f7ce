/*
 * p2pnet plugin ABI: the only contract between a node and a plugin library.
 *
 * Only C types cross this boundary, so a plugin built with another compiler,
 * standard library or nlohmann/json version keeps working. Rules:
 *   - ABI major changes break compatibility: the host refuses another major.
 *   - ABI minor changes only append: new members go at the end of a struct,
 *     never in the middle. Every struct starts with its own size, so each
 *     side can tell which members the other side knows about.
 *   - A plugin built against minor N runs in any host with minor >= N.
 *   - Strings are UTF-8 and NUL-terminated unless a length is passed beside
 *     them. Pointers handed to a callback are valid only during that call.
 *   - No exception may leave a plugin callback (the C++ layer catches them).
 *
 * ABI 1.1 adds no struct member; it is the first minor whose host keeps the
 * append-only promise in both directions:
 *   - it accepts a descriptor or callback table of any size from 1.0's up
 *     (missing trailing members are absent, unknown ones ignored) and rounds
 *     a callback table whose size ends inside a member down to whole members;
 *   - it refuses register_command from a plugin without on_command, subscribe
 *     after the load hook, and publish of text that is not JSON
 *     (P2PNET_ERR_INVALID / P2PNET_ERR_NOT_ALLOWED);
 *   - it calls destroy only once every run_background work has returned, and
 *     may skip a done callback when the node stops first.
 * A plugin that relies on these sets abi_minor to 1; one that does not keeps
 * 0 and loads into 1.0 nodes too. P2PNET_HAS_MEMBER checks, member by member,
 * what the other side's table holds.
 *
 * ABI 1.2 appends what a plugin needs to drive its own node, as a remote
 * control or a web page does: run_command (a console line, its output back
 * through on_command_output and on_command_finished), and the node's public
 * events (publish_public, subscribe_public, on_public_event). Public events
 * are the ones the node shows outside: to control clients following events
 * and to plugins that subscribed to them all.
 *
 * ABI 1.3 appends p2pnet_peer.relay_id: the path of a link. A peer reached
 * through a relay is a peer like any other (same hooks, messages, bodies);
 * relay_id names the relay, "" for a direct link (hole-punched and reversed
 * links are direct). Check P2PNET_HAS_MEMBER(p2pnet_peer, peer, relay_id)
 * first: a 1.2 host's peer struct ends before it.
 *
 * ABI 1.4 appends own_relay and remember_relay to the host table: a node
 * behind a router that holds a place on a relay names that relay in the
 * answers it gives (discovery, search), and a node that hears of it
 * remembers it, so that connecting to the node by id goes through its relay
 * even when no relay is among its own peers.
 */
#ifndef P2PNET_PLUGIN_ABI_H
#define P2PNET_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define P2PNET_ABI_MAJOR 1
#define P2PNET_ABI_MINOR 4

/* Whether the table *ptr (of struct type `type`) is large enough to hold
   `member`: use it before calling a member added after 1.0 (since 1.1). */
#define P2PNET_HAS_MEMBER(type, ptr, member) \
  ((size_t)(ptr)->struct_size >= offsetof(type, member) + sizeof(((type*)0)->member))

/* Name of the function every plugin library exports (see p2pnet_plugin_entry_fn). */
#define P2PNET_ENTRY_SYMBOL "p2pnet_plugin_entry"

#if defined(_WIN32)
#define P2PNET_EXPORT __declspec(dllexport)
#else
#define P2PNET_EXPORT __attribute__((visibility("default")))
#endif

/* Status codes returned by host functions. */
#define P2PNET_OK 0
#define P2PNET_ERR_INVALID -1     /* malformed argument (bad JSON, missing type, bad id) */
#define P2PNET_ERR_NOT_FOUND -2   /* no such peer, node, timer or command */
#define P2PNET_ERR_QUEUE_FULL -3  /* the peer's write queue is over its cap; the peer is dropped */
#define P2PNET_ERR_NOT_ALLOWED -4 /* not allowed now (e.g. registering a type after load) */
#define P2PNET_ERR_STOPPED -5     /* the node is stopping */
#define P2PNET_ERR_TOO_LARGE -6   /* header or body over the node's frame limits */
#define P2PNET_ERR_CONFLICT -7    /* name or type already taken */
#define P2PNET_ERR_UNSUPPORTED -8 /* the peer does not handle this message type */

/* The most console lines one plugin may have running through run_command at once. */
#define P2PNET_MAX_RUNNING_COMMANDS 32

/* Log levels for p2pnet_host_api.log. */
#define P2PNET_LOG_TRACE 0
#define P2PNET_LOG_DEBUG 1
#define P2PNET_LOG_INFO 2
#define P2PNET_LOG_WARN 3
#define P2PNET_LOG_ERROR 4

/* Flags for p2pnet_host_api.print. */
#define P2PNET_PRINT_TRANSIENT                         \
  1u /* a status line: redrawn in place on a terminal, \
        throttled to one line every few seconds otherwise */

/* Opaque handle of one plugin instance inside one node. */
typedef struct p2pnet_host p2pnet_host;

/* A connected peer, as its hello described it. */
typedef struct p2pnet_peer {
  uint32_t struct_size;
  const char* id;           /* 64 lowercase hex characters */
  const char* host;         /* the peer's address as seen from this node */
  uint16_t port;            /* the peer's listen port (from its hello); 0 if it does not listen */
  uint8_t inbound;          /* 1: the peer connected to us; 0: we connected to it */
  uint8_t authenticated;    /* 1: the peer proved its id cryptographically */
  const char* const* types; /* message types the peer handles */
  size_t type_count;
  const char* local_host; /* this node's address on this connection */
  const char* relay_id;   /* 1.3: the relay this link runs through; "" for a direct link */
} p2pnet_peer;

/* An entry of the node's peer store: a node we know how to reach. */
typedef struct p2pnet_known_node {
  uint32_t struct_size;
  const char* id;
  const char* host;
  uint16_t port;        /* listen port */
  int64_t last_seen_ms; /* unix time in milliseconds */
} p2pnet_known_node;

typedef void (*p2pnet_peer_visitor)(void* user, const p2pnet_peer* peer);
typedef void (*p2pnet_node_visitor)(void* user, const p2pnet_known_node* node);
typedef void (*p2pnet_work_fn)(void* user);

/*
 * Functions the host offers a plugin. All are thread-safe. The table is
 * append-only: check struct_size before using a member added after 1.0.
 */
typedef struct p2pnet_host_api {
  uint32_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;

  /* Node facts; the returned strings live as long as the node. */
  const char* (*node_id)(p2pnet_host* host);
  const char* (*listen_host)(p2pnet_host* host);
  uint16_t (*listen_port)(p2pnet_host* host);
  const char* (*data_dir)(p2pnet_host* host);

  void (*log)(p2pnet_host* host, int level, const char* text, size_t len);

  /* Registration: only during create (the load hook). */
  int (*register_type)(p2pnet_host* host, const char* type);
  int (*register_command)(p2pnet_host* host, const char* name, const char* usage, const char* help);
  int (*subscribe)(p2pnet_host* host, const char* event);

  /* Messaging. header is a JSON object with a string "type". */
  int (*send)(p2pnet_host* host, const char* peer_id, const char* header, size_t header_len, const void* body,
              size_t body_len);
  /* Sends to every connected peer that handles the type, except the listed ids.
     Returns the number of peers it was queued for, or a negative status. */
  int (*broadcast)(p2pnet_host* host, const char* header, size_t header_len, const void* body, size_t body_len,
                   const char* const* except_ids, size_t except_count);
  /* Bytes waiting in the peer's write queue (for back-pressure); 0 if unknown. */
  size_t (*queued_bytes)(p2pnet_host* host, const char* peer_id);

  /* Peers. */
  void (*list_peers)(p2pnet_host* host, p2pnet_peer_visitor visit, void* user);
  int (*get_peer)(p2pnet_host* host, const char* peer_id, p2pnet_peer_visitor visit, void* user);
  /* Connects asynchronously; the result arrives through on_connect_result with the
     token written to *token. */
  int (*connect)(p2pnet_host* host, const char* address, uint16_t port, uint64_t* token);
  /* Dials the peer store's address for node_id, pinned: the peer must prove that id.
     Node-wide at most max_known_dials_per_s new dials a second. */
  int (*connect_id)(p2pnet_host* host, const char* node_id, uint64_t* token);
  int (*disconnect)(p2pnet_host* host, const char* peer_id);

  /* Peer store: nodes we know how to reach. remember_node stores hearsay (what a
     peer said): numeric addresses only, never unspecified or multicast, loopback
     only when this node listens on loopback (else P2PNET_ERR_INVALID); it never
     replaces an address a handshake proved. */
  int (*remember_node)(p2pnet_host* host, const char* node_id, const char* address, uint16_t port);
  void (*list_known_nodes)(p2pnet_host* host, p2pnet_node_visitor visit, void* user);

  /* Local event bus; json is a JSON value. Events never leave the node. */
  int (*publish)(p2pnet_host* host, const char* event, const char* json, size_t json_len);

  /* Timers: on_timer(timer id) fires after delay_ms, then every repeat_ms if non-zero. */
  uint64_t (*timer_start)(p2pnet_host* host, uint64_t delay_ms, uint64_t repeat_ms);
  void (*timer_cancel)(p2pnet_host* host, uint64_t timer_id);

  /* Console. command_token 0 prints outside any command; with
     P2PNET_PRINT_TRANSIENT it replaces the node's status area (a line at the
     bottom of a terminal, "" clears it; a 1.0 host drops it). */
  void (*print)(p2pnet_host* host, uint64_t command_token, const char* text, size_t len, uint32_t flags);
  /* Ends a command started by on_command; status 0 is success. */
  void (*command_done)(p2pnet_host* host, uint64_t command_token, int status);

  /* Runs work(user) on a background thread, then done(user) on the plugin's own
     serial context. Use it for disk I/O and hashing, never the network threads. */
  int (*run_background)(p2pnet_host* host, p2pnet_work_fn work, p2pnet_work_fn done, void* user);

  /* Adds delta to a named counter of this plugin (shown by `stats`). */
  void (*count)(p2pnet_host* host, const char* counter, int64_t delta);

  /* --- Since 1.2 ------------------------------------------------------------ */
  /* Like publish, and the event is public: it also reaches control clients
     following the node's events and plugins that called subscribe_public.
     json must be a JSON object. Events of the node itself: peer.connected,
     peer.disconnected, notice (see sdk/README.md). */
  int (*publish_public)(p2pnet_host* host, const char* event, const char* json, size_t json_len);
  /* From now on every public event reaches on_public_event (load hook only). */
  int (*subscribe_public)(p2pnet_host* host);
  /* Runs a console line as if typed at the console: core commands and every
     plugin's. Writes a token to *token; the command's output arrives through
     on_command_output and its end through on_command_finished, both on the
     plugin's own serial context and never inside this call.
     P2PNET_ERR_QUEUE_FULL beyond P2PNET_MAX_RUNNING_COMMANDS of its own. */
  int (*run_command)(p2pnet_host* host, const char* line, size_t len, uint64_t* token);

  /* --- Since 1.4 ------------------------------------------------------------ */
  /* Visits the relay that holds this node's place (its id, and the address
     and listen port this node reaches it at; last_seen_ms is 0), once.
     P2PNET_ERR_NOT_FOUND when the node holds no place. */
  int (*own_relay)(p2pnet_host* host, p2pnet_node_visitor visit, void* user);
  /* Hearsay that node_id holds a place on relay relay_id, which listens at
     relay_host:relay_port (an IP literal): connecting to node_id by id then
     goes through that relay (linking to it first) before any direct dial.
     Checked like remember_node's addresses; the relay must prove relay_id
     and the node its own id, so a false hint costs one failed dial.
     P2PNET_ERR_INVALID for a malformed or unusable id or address. */
  int (*remember_relay)(p2pnet_host* host, const char* node_id, const char* relay_id, const char* relay_host,
                        uint16_t relay_port);
} p2pnet_host_api;

/*
 * Callbacks of one plugin. Any of them may be NULL. The host calls the
 * callbacks of one instance one at a time, never concurrently.
 */
typedef struct p2pnet_plugin_api {
  uint32_t struct_size;

  /* Load hook: returns the instance, or NULL with a one-line reason in error. */
  void* (*create)(const p2pnet_host_api* api, p2pnet_host* host, const char* config_json, size_t config_len,
                  char* error, size_t error_cap);
  void (*destroy)(void* self);

  void (*on_start)(void* self); /* the node listens; peers may follow */
  void (*on_stop)(void* self);  /* the node is stopping; peers are still connected */

  void (*on_peer_connected)(void* self, const p2pnet_peer* peer);
  void (*on_peer_disconnected)(void* self, const p2pnet_peer* peer, const char* reason);

  /* A message of a type this plugin registered. header is the JSON text. */
  void (*on_message)(void* self, const p2pnet_peer* peer, const char* type, size_t type_len, const char* header,
                     size_t header_len, const void* body, size_t body_len);

  void (*on_event)(void* self, const char* event, const char* json, size_t json_len);
  void (*on_timer)(void* self, uint64_t timer_id);

  /* A console command this plugin registered. args is the rest of the line.
     The command lasts until the plugin calls command_done(token). */
  void (*on_command)(void* self, uint64_t token, const char* name, const char* args, size_t args_len);

  /* Outcome of connect/connect_id: peer_id on success, else NULL and error. */
  void (*on_connect_result)(void* self, uint64_t token, const char* peer_id, const char* error);

  /* --- Since 1.2 ------------------------------------------------------------ */
  /* A public event, after subscribe_public. */
  void (*on_public_event)(void* self, const char* event, const char* json, size_t json_len);
  /* A line of a command started with run_command; flags as print's. */
  void (*on_command_output)(void* self, uint64_t token, const char* text, size_t len, uint32_t flags);
  /* That command ended; status 0 is success. Its last call for the token. */
  void (*on_command_finished)(void* self, uint64_t token, int status);
} p2pnet_plugin_api;

/* What a plugin library describes itself with. */
typedef struct p2pnet_plugin_descriptor {
  uint32_t struct_size;
  uint16_t abi_major; /* P2PNET_ABI_MAJOR the plugin was built with */
  uint16_t abi_minor; /* the lowest host minor the plugin needs */
  const char* name;
  const char* version;
  const char* description;
  const p2pnet_plugin_api* api;
} p2pnet_plugin_descriptor;

typedef const p2pnet_plugin_descriptor* (*p2pnet_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* P2PNET_PLUGIN_ABI_H */
