/*
 * A plain-C plugin that probes what the host allows, and, built with the
 * definitions below, a descriptor or callback table of an odd shape:
 *   CPROBE_NAME                 the plugin's name (a string)
 *   CPROBE_WITHOUT_ON_COMMAND   registers its command but has no on_command
 *   CPROBE_CALLBACKS_SIZE       the callback table's struct_size
 *   CPROBE_DESCRIPTOR_SIZE      the descriptor's struct_size
 *   CPROBE_DESCRIPTOR_EXTRA     the descriptor is followed by members this host does not know
 * Commands (arguments are raw text):
 *   cprobe publish TEXT     publishes TEXT as event cprobe.event, prints "publish: STATUS"
 *   cprobe subscribe        subscribes after load, prints "subscribe: STATUS"
 */
#include <p2pnet/plugin_abi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cprobe_state {
  const p2pnet_host_api* api;
  p2pnet_host* host;
} cprobe_state;

static void* create(const p2pnet_host_api* api, p2pnet_host* host, const char* config, size_t config_len, char* error,
                    size_t error_cap) {
  (void)config;
  (void)config_len;
  int status = api->register_command(host, "cprobe", "cprobe publish TEXT|subscribe", "probes the host's checks");
  if (status != P2PNET_OK) {
    snprintf(error, error_cap, "cprobe cannot register its command (status %d)", status);
    return NULL;
  }
  cprobe_state* state = calloc(1, sizeof *state);
  if (!state) return NULL;
  state->api = api;
  state->host = host;
  return state;
}

static void destroy(void* self) { free(self); }

#ifndef CPROBE_WITHOUT_ON_COMMAND
static void on_command(void* self, uint64_t token, const char* name, const char* args, size_t args_len) {
  cprobe_state* state = self;
  char line[128];
  (void)name;
  if (args_len >= 8 && memcmp(args, "publish ", 8) == 0) {
    int status = state->api->publish(state->host, "cprobe.event", args + 8, args_len - 8);
    snprintf(line, sizeof line, "publish: %d", status);
  } else if (args_len == 9 && memcmp(args, "subscribe", 9) == 0) {
    snprintf(line, sizeof line, "subscribe: %d", state->api->subscribe(state->host, "cprobe.event"));
  } else {
    snprintf(line, sizeof line, "usage: cprobe publish TEXT|subscribe");
  }
  state->api->print(state->host, token, line, strlen(line), 0);
  state->api->command_done(state->host, token, 0);
}
#else
#define on_command NULL
#endif

#ifndef CPROBE_CALLBACKS_SIZE
#define CPROBE_CALLBACKS_SIZE sizeof(p2pnet_plugin_api)
#endif
#ifndef CPROBE_DESCRIPTOR_SIZE
#define CPROBE_DESCRIPTOR_SIZE sizeof(p2pnet_plugin_descriptor)
#endif

static const p2pnet_plugin_api callbacks = {
    CPROBE_CALLBACKS_SIZE, create, destroy, NULL, NULL, NULL, NULL, NULL, NULL, NULL, on_command, NULL, NULL, NULL, NULL,
};

/* A descriptor as a later minor might write it: longer, with members appended. */
static const struct {
  p2pnet_plugin_descriptor known;
  const char* future_members[4];
} descriptor = {
    {
#ifdef CPROBE_DESCRIPTOR_EXTRA
        sizeof descriptor,
#else
        CPROBE_DESCRIPTOR_SIZE,
#endif
        P2PNET_ABI_MAJOR, 0, CPROBE_NAME, "1.1.0", "probes the host", &callbacks},
    {"a", "b", "c", "d"},
};

P2PNET_EXPORT const p2pnet_plugin_descriptor* p2pnet_plugin_entry(void) { return &descriptor.known; }
