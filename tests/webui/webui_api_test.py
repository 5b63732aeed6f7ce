#!/usr/bin/env python3
"""The webui plugin's HTTP API and events socket against real p2pnode
processes: node A (webui on port 0, downloads rate-limited so that progress
events come) connects to node B, which shares a file; everything is driven
over HTTP and the WebSocket the way the page does, plus what a hostile page
or client would send.

usage: webui_api_test.py P2PNODE NODE_TOML WORK_DIR"""

import json
import os
import shutil
import socket
import subprocess
import sys

from webui_support import Closed, Failure, Node, Refused, check, node_config, run_test, sha256_of, wait_for

FILE_SIZE = 3 * 1024 * 1024
RATE = 1024 * 1024  # bytes/s: about three seconds, so progress events come


def expect_status(result, status, what):
    check(result[0] == status, f"{what}: expected HTTP {status}, got {result[0]} {result[1]}")
    return result[1]


def expect_refused_socket(open_socket, status, what):
    try:
        ws = open_socket()
    except Refused as refused:
        check(refused.status == status, f"{what}: expected HTTP {status}, got {refused.status} {refused.body}")
        return refused.body
    ws.close()
    raise Failure(f"{what}: the WebSocket upgrade was accepted")


def counter(webui, name):
    for line in webui.command("stats")["lines"]:
        parts = line.split()
        if len(parts) == 2 and parts[0] == name:
            return int(parts[1])
    return 0


def main():
    p2pnode, source_config, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    plain = node_config(source_config, os.path.join(work, "b.toml"))
    with_webui = node_config(source_config, os.path.join(work, "a.toml"), webui=True, max_download_rate=RATE)

    # Anything but loopback stops start-up with the reason.
    exposed = os.path.join(work, "exposed.toml")
    with open(exposed, "w") as f:
        f.write(open(with_webui).read().replace('listen = "127.0.0.1:0"', 'listen = "0.0.0.0:0"'))
    refused = subprocess.run([p2pnode, "--config", exposed, "--port", "0", "--data-dir", os.path.join(work, "exposed"),
                              "--no-console"], capture_output=True, text=True, timeout=60)
    check(refused.returncode == 1 and "plugins.webui.listen: must be a loopback address" in refused.stderr,
          f"a webui on 0.0.0.0 was not refused: {refused.returncode} {refused.stderr}")

    b = Node(p2pnode, plain, work, "b", shared_files={"holiday.mp4": os.urandom(FILE_SIZE)})
    a = None
    try:
        expected_hash = sha256_of(os.path.join(b.shared, "holiday.mp4"))
        b_port = b.listen_port()
        a = Node(p2pnode, with_webui, work, "a", extra=["--connect", f"127.0.0.1:{b_port}", "--control"])
        webui = a.webui()
        print(f"webui on port {webui.port}")

        # The token file is the user's alone.
        token_file = os.path.join(a.dir, "data", "webui.token")
        check(os.stat(token_file).st_mode & 0o777 == 0o600, "webui.token is not mode 0600")

        # The page itself needs no token; the API does.
        status, page = webui.request("GET", "/", token=False)
        check(status == 200 and "<title>p2pnet node</title>" in page, f"GET / gave {status}")
        check(webui.request("GET", "/app.js", token=False)[0] == 200, "GET /app.js failed")

        wait_for(lambda: len(webui.request("GET", "/api/peers")[1]["peers"]) == 1, "node A to have node B as peer")

        # Refusals: token, Host (DNS rebinding), Origin (cross-site), size.
        missing = expect_status(webui.request("GET", "/api/peers", token=False), 401, "no token")
        check("missing token" in missing["error"], f"no token: {missing}")
        wrong = expect_status(webui.request("POST", "/api/command", {"command": "peers"}, token="x" * 64), 401,
                              "wrong token")
        check(wrong == {"error": "wrong token"}, f"wrong token said more than that: {wrong}")
        expect_refused_socket(lambda: webui.events(token=False), 401, "events without a token")
        expect_refused_socket(lambda: webui.events(token="y" * 64), 401, "events with a wrong token")
        refused = counter(webui, "webui.token_refused")
        check(refused == 4, f"stats shows webui.token_refused {refused}, expected 4")

        expect_status(webui.request("GET", "/api/peers", headers={"Host": "attacker.example:%d" % webui.port}), 403,
                      "a rebound Host")
        expect_status(webui.request("GET", "/", token=False, headers={"Host": "attacker.example"}), 403,
                      "the page under a rebound Host")
        expect_status(webui.request("POST", "/api/command", {"command": "peers"},
                                    headers={"Origin": "http://attacker.example"}), 403, "a foreign Origin")
        expect_refused_socket(lambda: webui.events(headers={"Origin": "http://attacker.example"}), 403,
                              "events from a foreign Origin")
        expect_refused_socket(lambda: webui.events(headers={"Host": "attacker.example"}), 403,
                              "events under a rebound Host")
        expect_status(webui.request("POST", "/api/command", "x" * (65 * 1024)), 413, "a body over 64 KiB")
        expect_status(webui.request("POST", "/api/command", "not json"), 400, "a body that is not JSON")
        same_origin = webui.request("GET", "/api/peers", headers={"Origin": webui.origin})
        expect_status(same_origin, 200, "the page's own Origin")

        events = webui.events(headers={"Origin": webui.origin})

        # A client that leaves in the middle of a command: the node keeps serving.
        leaver = socket.create_connection(("127.0.0.1", webui.port))
        body = json.dumps({"command": "search nothing-matches-this"})
        leaver.sendall((f"POST /api/command HTTP/1.1\r\nHost: {webui.host}\r\nAuthorization: Bearer {webui.token}\r\n"
                        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode())
        leaver.close()

        webui.search_until("holiday", "1 result")
        results, _ = events.next_event(
            lambda e: e["event"] == "search.results" and e["data"].get("query") == "holiday" and e["data"]["results"],
            "search.results")
        check(results["data"]["results"][0]["name"] == "holiday.mp4", f"search.results: {results}")
        check(isinstance(results["time_ms"], int), "an event without time_ms")

        started = webui.command("download 1")
        check(started["status"] == 0 and started["lines"][0].startswith("started 1: holiday.mp4"),
              f"download 1: {started}")
        finished, seen = events.next_event(lambda e: e["event"] == "download.finished", "download.finished", 60)
        check(finished["data"]["outcome"] == "saved", f"download.finished: {finished}")
        progress = [e["data"] for e in seen if e["event"] == "download.progress"]
        check(progress, "no download.progress event before download.finished")
        check(all(p["size"] == FILE_SIZE and 0 <= p["done"] <= FILE_SIZE for p in progress), f"progress: {progress}")
        saved = os.path.join(a.downloads, "holiday.mp4")
        check(sha256_of(saved) == expected_hash, "the downloaded file's SHA-256 differs")

        # Unloading the plugin closes its port and its sockets; loading it again serves anew.
        ctl = [p2pnode, "ctl", "--data-dir", os.path.join(a.dir, "data")]
        unloaded = subprocess.run(ctl + ["plugin", "unload", "webui"], capture_output=True, text=True, timeout=60)
        check(unloaded.returncode == 0, f"plugin unload webui: {unloaded.stdout} {unloaded.stderr}")
        try:
            socket.create_connection(("127.0.0.1", webui.port), timeout=5).close()
            raise Failure("the webui port still accepts connections after plugin unload webui")
        except ConnectionRefusedError:
            pass
        try:
            events.next_event(lambda e: False, "the events socket to close", 10)
        except (Closed, ConnectionError):
            pass
        events.close()
        loaded = subprocess.run(ctl + ["plugin", "load", "webui"], capture_output=True, text=True, timeout=60)
        check(loaded.returncode == 0, f"plugin load webui: {loaded.stdout} {loaded.stderr}")
        webui = a.webui(nth=2)
        check(webui.request("GET", "/api/peers")[0] == 200, "the reloaded webui does not serve")

        # stop through the API: the answer comes (its end may come after the
        # plugin stopped: then it says so), then the node exits.
        try:
            stopping = webui.command("stop", timeout=10)
            check(stopping["lines"] == ["stopping"] and
                  (stopping["status"] == 0 or stopping.get("error") == "the node is stopping"), f"stop: {stopping}")
            print(f"stop answered {stopping}")
        except (ConnectionError, socket.timeout) as e:
            raise Failure(f"stop got no answer: {e}")
        a.process.wait(timeout=20)
        check(a.process.returncode == 0, f"p2pnode exited with {a.process.returncode} after stop")
        print("PASS")
    finally:
        if a:
            a.stop()
        b.stop()


if __name__ == "__main__":
    run_test(main)
