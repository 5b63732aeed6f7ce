// TEMPORARY LOCAL SHIM, delete once ABI 1.2 (run_command, subscribe_public)
// is merged from main: lets the plugin build against the 1.1 SDK meanwhile.
#pragma once
#include <p2pnet/plugin.hpp>

#if P2PNET_ABI_MINOR < 2
namespace webui {
class ShimPlugin : public p2pnet::Plugin {
 public:
  static constexpr uint16_t abi_minor = 1;
  using CommandOutputHandler = std::function<void(std::string_view line, bool transient)>;
  using CommandDoneHandler = std::function<void(int status)>;
  using PublicEventHandler = std::function<void(std::string_view event, const p2pnet::json& data)>;
  int run_line(std::string_view, CommandOutputHandler, CommandDoneHandler) { return P2PNET_ERR_NOT_ALLOWED; }
  void subscribe_public(PublicEventHandler) {}
};
}  // namespace webui
using WebuiBase = webui::ShimPlugin;
#else
using WebuiBase = p2pnet::Plugin;
#endif
