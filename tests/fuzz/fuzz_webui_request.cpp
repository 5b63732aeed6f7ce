// Fuzzes the webui plugin's decision about one HTTP request (route_request,
// check_socket): whatever the fields hold, nothing but a request with this
// server's Host, no foreign Origin and the right token reaches the node.
//
// Input: method, target, Host, Origin, Authorization and body, separated by
// NUL bytes (missing fields are empty).
#include "webui_routes.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

const webui::AccessRules& rules() {
  static const webui::AccessRules value{{"127.0.0.1", 7102}, "fuzz-token-0123456789abcdef", "the data dir"};
  return value;
}

bool authorized(const webui::HttpRequest& request) {
  std::string given = webui::bearer_token(request.authorization);
  if (given.empty()) given = webui::query_value(request.target, "token");
  return webui::host_allowed(request.host, rules().listen) && webui::origin_allowed(request.origin, rules().listen) &&
         given == rules().token;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> fields(6);
  size_t field = 0;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0 && field + 1 < fields.size())
      ++field;
    else
      fields[field] += static_cast<char>(data[i]);
  }
  webui::HttpRequest request{fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]};
  auto route = webui::route_request(request, rules());
  if (!std::holds_alternative<webui::Answer>(route) && !authorized(request)) std::abort();
  if (auto* command = std::get_if<webui::RunCommand>(&route))
    if (command->line.size() > webui::kMaxCommandLineBytes) std::abort();
  if (!webui::check_socket(request, rules()) && !authorized(request)) std::abort();
  return 0;
}
