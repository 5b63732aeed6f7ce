/*
 * A plugin as a third party built it against the released ABI 1.0 headers
 * (tests/abi/include_1_0, frozen), in plain C11. Today's host must keep
 * loading it and speaking to it.
 *   abi10 hello       prints which ABI it was built with and the host's
 *   abi10 send ID     sends an abi10.note message to peer ID
 *   abi10 count       prints how many abi10.note messages arrived
 */
#include <p2pnet/plugin_abi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P2PNET_ABI_SIZE_CHECK ==
#include "abi_1_0_checks.h"

_Static_assert(P2PNET_ABI_MAJOR == 1 && P2PNET_ABI_MINOR == 0, "built against the frozen 1.0 header");

typedef struct abi10_state {
  const p2pnet_host_api* api;
  p2pnet_host* host;
  unsigned long received;
} abi10_state;

static void print_line(abi10_state* state, uint64_t token, const char* text) {
  state->api->print(state->host, token, text, strlen(text), 0);
}

static void* create(const p2pnet_host_api* api, p2pnet_host* host, const char* config, size_t config_len, char* error,
                    size_t error_cap) {
  (void)config;
  (void)config_len;
  if (api->register_type(host, "abi10.note") != P2PNET_OK ||
      api->register_command(host, "abi10", "abi10 hello|send ID|count", "ABI 1.0 compatibility probe") != P2PNET_OK) {
    snprintf(error, error_cap, "abi10 cannot register its type or command");
    return NULL;
  }
  abi10_state* state = calloc(1, sizeof *state);
  if (!state) {
    snprintf(error, error_cap, "out of memory");
    return NULL;
  }
  state->api = api;
  state->host = host;
  return state;
}

static void destroy(void* self) { free(self); }

static void on_message(void* self, const p2pnet_peer* peer, const char* type, size_t type_len, const char* header,
                       size_t header_len, const void* body, size_t body_len) {
  (void)peer, (void)type, (void)type_len, (void)header, (void)header_len, (void)body, (void)body_len;
  ((abi10_state*)self)->received++;
}

static void on_command(void* self, uint64_t token, const char* name, const char* args, size_t args_len) {
  abi10_state* state = self;
  char line[160];
  (void)name;
  if (args_len == 5 && memcmp(args, "hello", 5) == 0) {
    snprintf(line, sizeof line, "abi10 built with ABI %d.%d, host has ABI %u.%u", P2PNET_ABI_MAJOR, P2PNET_ABI_MINOR,
             (unsigned)state->api->abi_major, (unsigned)state->api->abi_minor);
  } else if (args_len == 5 && memcmp(args, "count", 5) == 0) {
    snprintf(line, sizeof line, "abi10 received %lu", state->received);
  } else if (args_len == 5 + 64 && memcmp(args, "send ", 5) == 0) {
    char peer_id[65];
    memcpy(peer_id, args + 5, 64);
    peer_id[64] = '\0';
    const char* header = "{\"type\":\"abi10.note\"}";
    int status = state->api->send(state->host, peer_id, header, strlen(header), NULL, 0);
    snprintf(line, sizeof line, "abi10 send: %d", status);
  } else {
    snprintf(line, sizeof line, "usage: abi10 hello|send ID|count");
  }
  print_line(state, token, line);
  state->api->command_done(state->host, token, 0);
}

static const p2pnet_plugin_api callbacks = {
    sizeof(p2pnet_plugin_api), create, destroy, NULL, NULL, NULL, NULL, on_message, NULL, NULL, on_command, NULL,
};

static const p2pnet_plugin_descriptor descriptor = {
    sizeof(p2pnet_plugin_descriptor),           P2PNET_ABI_MAJOR, P2PNET_ABI_MINOR, "abi10", "1.0.0",
    "built against the frozen ABI 1.0 headers", &callbacks,
};

P2PNET_EXPORT const p2pnet_plugin_descriptor* p2pnet_plugin_entry(void) { return &descriptor; }
