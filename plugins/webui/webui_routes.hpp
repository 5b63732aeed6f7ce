// What one HTTP request asks for, decided from the request alone: a refusal
// or a page file (answered at once), or work for the plugin (a command line,
// the peer list). Pure, so the hostile-input checks are unit-tested and
// fuzzed without a server.
#pragma once

#include "http_server.hpp"
#include "page_files.hpp"
#include "webui_access.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <variant>

namespace webui {

constexpr size_t kMaxCommandLineBytes = 4096;

struct RunCommand {
  std::string line;
};
struct ListPeers {};
// An answer now; `counter` names the refusal for stats ("" for none).
struct Answer {
  HttpResponse response;
  std::string counter;
};
using Route = std::variant<Answer, RunCommand, ListPeers>;

struct AccessRules {
  ListenAddress listen;
  std::string token;
  std::string token_place;  // where the user finds the token, for the "missing token" answer
};

inline std::string dump_json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

inline HttpResponse json_response(int status, const nlohmann::json& body) {
  return {status, "application/json", dump_json(body), {}};
}

inline Answer refusal(int status, const std::string& text, std::string counter = "") {
  return {json_response(status, {{"error", text}}), std::move(counter)};
}

// Host, Origin and (for the API) the token; nullopt when the request may go on.
inline std::optional<Answer> check_access(const HttpRequest& request, const AccessRules& rules, bool needs_token) {
  if (!host_allowed(request.host, rules.listen))
    return refusal(403, "Host header must name this server (127.0.0.1, localhost or ::1 with its port)",
                   "host_refused");
  if (!origin_allowed(request.origin, rules.listen))
    return refusal(403, "cross-origin requests are refused", "origin_refused");
  if (!needs_token) return std::nullopt;
  std::string given = bearer_token(request.authorization);
  if (given.empty()) given = query_value(request.target, "token");
  if (given.empty())
    return refusal(401, "missing token: send Authorization: Bearer TOKEN (the token is in " + rules.token_place + ")",
                   "token_refused");
  if (!tokens_equal(rules.token, given)) return refusal(401, "wrong token", "token_refused");
  return std::nullopt;
}

// A WebSocket upgrade: nullopt admits it.
inline std::optional<Answer> check_socket(const HttpRequest& request, const AccessRules& rules) {
  if (target_path(request.target) != "/api/events") return refusal(404, "no such socket");
  return check_access(request, rules, true);
}

inline Answer page_file(std::string_view path, const std::string& method) {
  if (method != "GET") return refusal(405, "use GET");
  auto file = find_page_file(path == "/" ? "/index.html" : path);
  if (!file) return refusal(404, "no such page");
  HttpResponse response{200, std::string(file->content_type), std::string(file->content), {}};
  // The page runs only its own script and style, and no other site may frame it.
  response.headers = {{"Content-Security-Policy",
                       "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'"},
                      {"X-Frame-Options", "DENY"},
                      {"Referrer-Policy", "no-referrer"}};
  return {std::move(response), ""};
}

inline Route route_request(const HttpRequest& request, const AccessRules& rules) {
  std::string_view path = target_path(request.target);
  bool api = path.substr(0, 5) == "/api/";
  if (auto refused = check_access(request, rules, api)) return *refused;
  if (!api) return page_file(path, request.method);
  if (path == "/api/peers") {
    if (request.method != "GET") return refusal(405, "use GET");
    return ListPeers{};
  }
  if (path != "/api/command") return refusal(404, "no such API");
  if (request.method != "POST") return refusal(405, "use POST");
  auto body = nlohmann::json::parse(request.body, nullptr, false);
  auto command = body.is_object() ? body.find("command") : body.end();
  if (!body.is_object() || command == body.end() || !command->is_string())
    return refusal(400, "expected {\"command\": \"LINE\"}");
  std::string line = command->get<std::string>();
  if (line.size() > kMaxCommandLineBytes)
    return refusal(413, "a command line has at most " + std::to_string(kMaxCommandLineBytes) + " bytes");
  return RunCommand{std::move(line)};
}

}  // namespace webui
