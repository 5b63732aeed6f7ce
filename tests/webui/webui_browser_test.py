#!/usr/bin/env python3
"""The webui page in headless Chromium, driven over the DevTools protocol:
node A's page searches, finds node B's file, the Download button starts the
transfer, the progress bar reaches 100% and the saved file's SHA-256 is
right. Node B also shares a file whose name is HTML: it must show as text.
Exits 77 (skip) when chromium is missing, unless CI=true.

usage: webui_browser_test.py P2PNODE NODE_TOML WORK_DIR [--screenshot PNG]"""

import base64
import json
import os
import shutil
import subprocess
import sys
import urllib.request

from webui_support import Failure, Node, WebSocket, check, node_config, run_test, sha256_of, wait_for

FILE_SIZE = 2 * 1024 * 1024
RATE = 1024 * 1024
HOSTILE_NAME = "holiday <img src=x onerror=window.pwned=1>.txt"


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """Headless Chromium with one page, driven over its DevTools WebSocket."""

    def __init__(self, chromium, profile):
        self.process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
             "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1280,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(profile, "DevToolsActivePort")
        wait_for(lambda: os.path.exists(port_file) and open(port_file).read().count("\n") >= 1,
                 "chromium's DevToolsActivePort", 30)
        port = int(open(port_file).read().split("\n")[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        page = next(t for t in targets if t["type"] == "page")
        path = page["webSocketDebuggerUrl"].split(f":{port}", 1)[1]
        self.devtools = WebSocket(port, path, {"Host": f"127.0.0.1:{port}"})
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.devtools.send_text(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.devtools.receive(30))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise Failure(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise Failure(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self):
        self.devtools.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def main():
    p2pnode, source_config, work = sys.argv[1:4]
    screenshot = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == "--screenshot" else None
    chromium = find_chromium()
    if not chromium:
        if os.environ.get("CI") == "true":
            print("FAIL: the browser test cannot run: chromium is not installed (CI=true: a skip is a failure)")
            sys.exit(1)
        print("SKIP: the browser test cannot run: chromium is not installed (scripts/install-deps.sh installs it)")
        sys.exit(77)

    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    plain = node_config(source_config, os.path.join(work, "b.toml"))
    with_webui = node_config(source_config, os.path.join(work, "a.toml"), webui=True, max_download_rate=RATE)
    b = Node(p2pnode, plain, work, "b",
             shared_files={"holiday.mp4": os.urandom(FILE_SIZE), HOSTILE_NAME: b"names are text, not HTML\n"})
    a = browser = None
    try:
        expected_hash = sha256_of(os.path.join(b.shared, "holiday.mp4"))
        a = Node(p2pnode, with_webui, work, "a", extra=["--connect", f"127.0.0.1:{b.listen_port()}"])
        webui = a.webui()
        wait_for(lambda: len(webui.request("GET", "/api/peers")[1]["peers"]) == 1, "node A to have node B as peer")
        webui.search_until("holiday", "2 results")

        browser = Browser(chromium, os.path.join(work, "profile"))
        browser.call("Page.navigate", url=f"http://127.0.0.1:{webui.port}/#token={webui.token}")
        wait_for(lambda: browser.evaluate(
            "document.body && document.body.dataset.ready === 'yes' && "
            "document.getElementById('connection').textContent === 'live' && "
            "document.querySelectorAll('#peers tbody tr').length === 1"), "the page to be live with one peer")
        check(browser.evaluate("location.hash") == "", "the token stayed in the address bar")

        browser.evaluate("document.getElementById('search-query').value = 'holiday';"
                         "document.getElementById('search-button').click()")
        wait_for(lambda: browser.evaluate("document.querySelectorAll('#results tbody tr').length") == 2,
                 "two search results in the page")
        names = browser.evaluate("[...document.querySelectorAll('#results .result-name')].map(td => td.textContent)")
        check(sorted(names) == sorted(["holiday.mp4", HOSTILE_NAME]), f"result names: {names}")
        check(browser.evaluate("document.querySelector('#results img') === null && window.pwned === undefined"),
              "a file name was rendered as HTML")

        browser.evaluate("[...document.querySelectorAll('#results tbody tr')]"
                         ".find(tr => tr.querySelector('.result-name').textContent === 'holiday.mp4')"
                         ".querySelector('button.download').click()")
        wait_for(lambda: browser.evaluate("document.querySelector('.transfer') !== null"), "a transfer row", 20)
        saw_partial = False

        def saved():
            nonlocal saw_partial
            state = browser.evaluate(
                "(() => { const t = document.querySelector('.transfer'); const p = t.querySelector('progress');"
                " return {saved: t.classList.contains('saved'), value: p.value, max: p.max,"
                " detail: t.querySelector('.detail').textContent}; })()")
            if 0 < state["value"] < state["max"]:
                saw_partial = True
            return state if state["saved"] else None

        state = wait_for(saved, "the transfer to be saved", 60)
        check(state["value"] == state["max"] == FILE_SIZE, f"progress bar at {state['value']} of {state['max']}")
        check(saw_partial, "the progress bar never showed a partial transfer")
        check(state["detail"].startswith("saved "), f"transfer detail: {state['detail']}")
        check(sha256_of(os.path.join(a.downloads, "holiday.mp4")) == expected_hash, "the saved file's SHA-256 differs")
        wait_for(lambda: browser.evaluate("document.querySelectorAll('#stats li').length > 3"), "stats in the page")

        if screenshot:
            shot = browser.call("Page.captureScreenshot", format="png")
            with open(screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
            print(f"screenshot in {screenshot}")
        print("PASS")
    finally:
        if browser:
            browser.close()
        if a:
            a.stop()
        b.stop()


if __name__ == "__main__":
    run_test(main)
