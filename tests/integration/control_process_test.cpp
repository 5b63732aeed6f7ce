// The control endpoint (issue 13) as users drive it: `p2pnode ctl` against a
// p2pnode started with --control, and hostile clients on its socket.
#include "download_processes.hpp"
#include "node_process.hpp"
#include "wait.hpp"

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

#include <sys/stat.h>

using namespace p2pnet::test;

namespace {

const std::string kConfig = std::string(P2PNET_SOURCE_DIR) + "/config/node.toml";

struct CtlRun {
  int status = -1;
  std::vector<std::string> lines;
  std::string errors;
  bool has(const std::string& line) const { return std::find(lines.begin(), lines.end(), line) != lines.end(); }
};

CtlRun ctl(std::vector<std::string> args) {
  args.insert(args.begin(), "ctl");
  Process process(P2PNODE_PATH, args);
  CtlRun run;
  auto status = process.wait_exit(std::chrono::seconds(30));
  REQUIRE(status);
  process.drain_output();
  run.status = *status;
  run.lines = process.stdout_lines();
  run.errors = process.stderr_text();
  return run;
}

// A client that speaks the endpoint's JSON lines itself.
class ControlClient {
 public:
  explicit ControlClient(const std::filesystem::path& socket) : socket_(io_) {
    socket_.connect(asio::local::stream_protocol::endpoint(socket.string()));
  }
  explicit ControlClient(uint16_t tcp_port) : socket_(io_) {
    socket_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), tcp_port));
  }
  bool send(const std::string& bytes) {
    std::error_code error;
    asio::write(socket_, asio::buffer(bytes), error);
    return !error;
  }
  // The next message, or nothing once the node closed the connection.
  std::optional<nlohmann::json> next() {
    std::error_code error;
    size_t length = asio::read_until(socket_, input_, '\n', error);
    if (error) return std::nullopt;
    std::string text(asio::buffers_begin(input_.data()), asio::buffers_begin(input_.data()) + length - 1);
    input_.consume(length);
    return nlohmann::json::parse(text);
  }

 private:
  asio::io_context io_;
  asio::generic::stream_protocol::socket socket_;
  asio::streambuf input_;
};

}  // namespace

TEST_CASE("p2pnode ctl runs console commands on a node started with --control and exits with their status") {
  NodeProcess a(P2PNODE_PATH, kConfig, {"--control"}), b(P2PNODE_PATH, kConfig, {"--control"});
  auto socket = a.data_dir() / "control.sock";
  struct stat info {};
  REQUIRE(::stat(socket.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);

  auto connect = ctl({"-d", a.data_dir().string(), "connect", "127.0.0.1", std::to_string(b.port())});
  INFO(connect.errors);
  CHECK(connect.status == 0);
  CHECK(connect.has("connected to " + b.id() + " at 127.0.0.1:" + std::to_string(b.port())));
  auto peers = ctl({"--data-dir", a.data_dir().string(), "peers"});
  CHECK(peers.status == 0);
  CHECK(peers.has(b.id() + " 127.0.0.1:" + std::to_string(b.port()) + " outbound verified direct"));

  auto unknown = ctl({"-d", a.data_dir().string(), "frobnicate", "--now"});
  CHECK(unknown.status == 1);
  CHECK(unknown.has("unknown command 'frobnicate'; type help for the list"));

  auto stop = ctl({"-d", b.data_dir().string(), "stop"});
  CHECK(stop.status == 0);
  CHECK(b.process().wait_exit() == 0);
  auto gone = ctl({"-d", b.data_dir().string(), "peers"});
  CHECK(gone.status == 2);
  CHECK(gone.errors.find("cannot reach the node's control socket") != std::string::npos);
}

TEST_CASE("the control socket refuses what is not a request and too many clients - and keeps serving") {
  NodeProcess node(P2PNODE_PATH, kConfig, {"--control"});
  auto socket = node.data_dir() / "control.sock";

  ControlClient garbage(socket);
  REQUIRE(garbage.send("\x1b]0;not json\n"));
  auto refused = garbage.next();
  REQUIRE(refused);
  CHECK(refused->contains("error"));
  CHECK_FALSE(garbage.next());  // closed

  ControlClient flooder(socket);
  flooder.send(std::string(100 * 1024, 'x'));
  auto too_long = flooder.next();
  REQUIRE(too_long);
  CHECK((*too_long)["error"] == "request longer than 65536 bytes");

  // Several commands at once from one client, answered by id.
  ControlClient client(socket);
  REQUIRE(client.send(R"({"id": 7, "command": "peers"})"
                      "\n"
                      R"({"id": 8, "command": "nodes"})"
                      "\n"));
  std::set<int64_t> ended;
  while (ended.size() < 2) {
    auto message = client.next();
    REQUIRE(message);
    if (message->contains("status")) ended.insert((*message)["id"].get<int64_t>());
  }
  CHECK(ended == std::set<int64_t>{7, 8});

  // The default allows 8 clients: with 8 held, a 9th is told why.
  std::vector<std::unique_ptr<ControlClient>> held;
  held.push_back(std::make_unique<ControlClient>(socket));  // with `client`, 2 held
  for (int i = 0; i < 6; ++i) held.push_back(std::make_unique<ControlClient>(socket));
  for (auto& one : held) {  // each is served, so each holds its slot now
    REQUIRE(one->send(R"({"id": 1, "command": "peers"})"
                      "\n"));
    while (auto message = one->next())
      if (message->contains("status")) break;
  }
  ControlClient ninth(socket);
  auto full = ninth.next();
  REQUIRE(full);
  CHECK((*full)["error"] == "too many control clients (at most 8)");

  // Once they leave, their slots are free again.
  held.clear();
  CHECK(wait_until([&] { return ctl({"--socket", socket.string(), "peers"}).status == 0; }));
}

TEST_CASE("p2pnode ctl --events follows the public events of the node as JSON lines until the node stops") {
  NodeProcess node(P2PNODE_PATH, kConfig, {"--control"});
  Process events(P2PNODE_PATH, {"ctl", "-d", node.data_dir().string(), "--events"});
  REQUIRE(wait_until([&] { return events.stderr_text().find("following the node's events") != std::string::npos; }));

  NodeProcess peer(P2PNODE_PATH, kConfig);
  REQUIRE(peer.command("connect 127.0.0.1 " + std::to_string(node.port()), "^connected to " + node.id()));
  auto joined = events.wait_for_line(std::regex(R"("event":"peer\.connected")"));
  REQUIRE(joined);
  auto event = nlohmann::json::parse(events.stdout_lines()[joined->first]);
  CHECK(event["data"]["id"] == peer.id());
  CHECK(event["data"]["inbound"] == true);
  CHECK(event["data"]["authenticated"] == true);
  CHECK(event["time_ms"].is_number_integer());

  peer.process().write_line("stop");
  auto left = events.wait_for_line(std::regex(R"("event":"peer\.disconnected")"));
  REQUIRE(left);
  CHECK(nlohmann::json::parse(events.stdout_lines()[left->first])["data"]["id"] == peer.id());
  CHECK(ctl({"-d", node.data_dir().string(), "stop"}).status == 0);
  CHECK(events.wait_exit() == 0);
}

TEST_CASE("on TCP the control endpoint serves only requests that carry the node's token, and counts the others") {
  NodeProcess node(P2PNODE_PATH, kConfig, {"--control-tcp", "127.0.0.1:0"});
  auto listening =
      node.process().wait_for_line(std::regex(R"(control listening on 127\.0\.0\.1:(\d+) \(token in (.+)\))"));
  REQUIRE(listening);
  auto port = static_cast<uint16_t>(std::stoi(listening->second[1]));
  auto token_file = node.data_dir() / "control.token";
  CHECK(listening->second[2] == token_file.string());
  struct stat info {};
  REQUIRE(::stat(token_file.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  std::string token;
  std::ifstream(token_file) >> token;
  CHECK(token.size() == 64);

  auto address = "127.0.0.1:" + std::to_string(port);
  auto peers = ctl({"--connect", address, "-d", node.data_dir().string(), "peers"});
  INFO(peers.errors);
  CHECK(peers.status == 0);
  CHECK(peers.has("0 peers"));

  TempDir elsewhere;
  auto wrong_file = elsewhere.path() / "token";
  std::ofstream(wrong_file) << std::string(64, 'a') << "\n";
  auto wrong = ctl({"--connect", address, "--token-file", wrong_file.string(), "peers"});
  CHECK(wrong.status == 2);
  CHECK(wrong.errors.find("the node refused: wrong token") != std::string::npos);
  CHECK(wrong.errors.find(token) == std::string::npos);  // never a hint of the right one

  ControlClient bare(port);
  REQUIRE(bare.send(R"({"id": 1, "command": "stop"})"
                    "\n"));
  auto refused = bare.next();
  REQUIRE(refused);
  CHECK((*refused)["error"].get<std::string>().rfind("missing token", 0) == 0);
  CHECK_FALSE(bare.next());  // closed, and the node did not stop

  // What a browser page would send: refused like any line that is not a request.
  ControlClient browser(port);
  REQUIRE(browser.send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  auto not_request = browser.next();
  REQUIRE(not_request);
  CHECK(not_request->contains("error"));

  // Every request on the connection carries the token, not only the first.
  ControlClient client(port);
  REQUIRE(client.send(nlohmann::json{{"id", 1}, {"command", "peers"}, {"token", token}}.dump() + "\n" +
                      nlohmann::json{{"id", 2}, {"command", "stop"}}.dump() + "\n"));
  std::string refusal;
  while (auto message = client.next())
    if (message->contains("error")) refusal = (*message)["error"].get<std::string>();
  CHECK(refusal.rfind("missing token", 0) == 0);

  auto stats = ctl({"-d", node.data_dir().string(), "stats"});
  CHECK(stats.has("  control_token_refused 3"));
  CHECK(ctl({"--connect", address, "-d", node.data_dir().string(), "stop"}).status == 0);
  CHECK(node.process().wait_exit() == 0);
}

TEST_CASE("the control TCP flag refuses an address other machines could reach") {
  TempDir data;
  Process node(P2PNODE_PATH, {"--config", kConfig, "--port", "0", "--data-dir", data.path().string(), "--control-tcp",
                              "0.0.0.0:7101"});
  CHECK(node.wait_exit() == 1);
  node.drain_output();
  CHECK(node.stderr_text().find("--control-tcp 0.0.0.0:7101: must be a loopback address") != std::string::npos);
}

TEST_CASE("a control client that leaves while its command runs does not disturb the node") {
  TempDir dir;
  auto config = dir / "node.toml";
  std::ofstream(config) << "[node]\nhandshake_timeout_ms = 300\n";
  NodeProcess node(P2PNODE_PATH, config.string(), {"--control"});
  auto socket = node.data_dir() / "control.sock";
  // A listener that accepts and never says hello: a connect to it runs until
  // the handshake times out.
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto connect =
      R"({"id": 1, "command": "connect 127.0.0.1 )" + std::to_string(silent.local_endpoint().port()) + "\"}\n";
  {
    ControlClient leaver(socket);
    REQUIRE(leaver.send(connect));
  }  // gone before the command ends
  // The same command from a client that stays ends once the first has ended
  // too (same timeout, started later); then the node still serves.
  ControlClient stayer(socket);
  REQUIRE(stayer.send(connect));
  std::vector<std::string> lines;
  int status = -1;
  while (auto message = stayer.next()) {
    if (message->contains("line")) lines.push_back((*message)["line"].get<std::string>());
    if (message->contains("status")) {
      status = (*message)["status"].get<int>();
      break;
    }
  }
  CHECK(status == 1);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back().find("handshake") != std::string::npos);
  auto peers = ctl({"-d", node.data_dir().string(), "peers"});
  CHECK(peers.status == 0);
  CHECK(peers.has("0 peers"));
  CHECK(ctl({"-d", node.data_dir().string(), "stop"}).status == 0);
  CHECK(node.process().wait_exit() == 0);
}

TEST_CASE("a node started with --no-console is searched and downloaded with and watched and stopped from p2pnode ctl") {
  using namespace p2pnet::test::download_tests;
  TempDir dir("service");
  const size_t size = 1024 * 1024 + 3;
  auto sha = write_random_file(dir / "shared" / "holiday.mp4", size, 31);
  NodeProcess source(P2PNODE_PATH, write_config(dir, "source", dir / "shared", dir / "source-downloads").string());
  NodeProcess service(P2PNODE_PATH, write_config(dir, "service", {}, dir / "service-downloads").string(),
                      {"--no-console", "--control"});
  const std::string data_dir = service.data_dir().string();
  Process events(P2PNODE_PATH, {"ctl", "-d", data_dir, "--events"});
  REQUIRE(wait_until([&] { return events.stderr_text().find("following the node's events") != std::string::npos; }));

  CHECK(ctl({"-d", data_dir, "connect", "127.0.0.1", port_of(source)}).status == 0);
  CtlRun search;
  REQUIRE(wait_until(
      [&] {
        return (search = ctl({"-d", data_dir, "search", "holiday"})).has("1 result");
      },
      std::chrono::seconds(20)));
  CHECK(search.has("[1] holiday.mp4  " + std::to_string(size) + "  " + sha.substr(0, 16) + "  (1 source)"));
  auto download = ctl({"-d", data_dir, "download", "--wait", "1"});
  INFO(download.errors);
  CHECK(download.status == 0);
  CHECK(download.has(saved_line(dir / "service-downloads" / "holiday.mp4", size)));
  CHECK(sha256_hex(read_file(dir / "service-downloads" / "holiday.mp4")) == sha);

  // Whoever follows the events saw the results and the end of the transfer, as data.
  auto results = events.wait_for_line(std::regex(R"("event":"search\.results")"));
  REQUIRE(results);
  auto found = nlohmann::json::parse(events.stdout_lines()[results->first])["data"];
  CHECK(found.dump().find(sha) != std::string::npos);
  auto finished = events.wait_for_line(std::regex(R"("event":"download\.finished")"));
  REQUIRE(finished);
  auto ended = nlohmann::json::parse(events.stdout_lines()[finished->first])["data"];
  CHECK(ended["outcome"] == "saved");
  CHECK(ended["sha256"] == sha);
  CHECK(ended["size"] == size);

  CHECK(ctl({"-d", data_dir, "stop"}).status == 0);
  CHECK(service.process().wait_exit() == 0);
  CHECK(events.wait_exit() == 0);
}
