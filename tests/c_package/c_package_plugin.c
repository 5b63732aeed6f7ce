/* The smallest C plugin: a name, a load hook, and one function that is not
   static yet must not be exported (p2pnet_add_plugin hides symbols). */
#include <p2pnet/plugin_abi.h>

#include <stdlib.h>

int c_package_internal_helper(void) { return 7; }

static void* create(const p2pnet_host_api* api, p2pnet_host* host, const char* config, size_t config_len, char* error,
                    size_t error_cap) {
  (void)api, (void)host, (void)config, (void)config_len, (void)error, (void)error_cap;
  return malloc((size_t)c_package_internal_helper());
}

static void destroy(void* self) { free(self); }

static const p2pnet_plugin_api callbacks = {sizeof(p2pnet_plugin_api), create, destroy};

static const p2pnet_plugin_descriptor descriptor = {
    sizeof(p2pnet_plugin_descriptor),    P2PNET_ABI_MAJOR, 0, "c_package", "1.0.0",
    "a C plugin from the installed SDK", &callbacks,
};

P2PNET_EXPORT const p2pnet_plugin_descriptor* p2pnet_plugin_entry(void) { return &descriptor; }
