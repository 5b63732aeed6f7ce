"""What the webui tests share: p2pnode processes, HTTP requests with any
headers, and a minimal WebSocket client (python3's standard library only)."""

import base64
import hashlib
import http.client
import json
import os
import queue
import re
import socket
import struct
import subprocess
import sys
import threading
import time


class Failure(Exception):
    pass


def run_test(main):
    """Runs a test's main: exit status 1 with a FAIL line on a failed check."""
    try:
        main()
    except Failure as e:
        print(f"FAIL: {e}")
        sys.exit(1)


def check(condition, what):
    if not condition:
        raise Failure(what)


def wait_for(condition, what, timeout=20.0, interval=0.05):
    """Polls condition() until it returns something true, or fails at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- p2pnode processes ---------------------------------------------------------


def node_config(source_config, path, webui=False, max_download_rate=0):
    """A copy of config/node.toml, with the webui enabled on port 0 if asked."""
    text = open(source_config).read()
    head, sep, webui_table = text.partition("[plugins.webui]")
    check(sep, "config/node.toml has no [plugins.webui] table")
    if webui:
        webui_table = webui_table.replace("enabled = false", "enabled = true", 1)
        webui_table = webui_table.replace('listen = "127.0.0.1:7102"', 'listen = "127.0.0.1:0"', 1)
    head = head.replace("max_download_rate = 0", f"max_download_rate = {max_download_rate}", 1)
    with open(path, "w") as f:
        f.write(head + sep + webui_table)
    return path


class Node:
    """A p2pnode --no-console process; its stdout lines are read on a thread."""

    def __init__(self, p2pnode, config, work_dir, name, extra=(), shared_files=None):
        """shared_files: {name: bytes}, written before the node starts (and so indexed at its start)."""
        self.dir = os.path.join(work_dir, name)
        self.shared = os.path.join(self.dir, "shared")
        self.downloads = os.path.join(self.dir, "downloads")
        os.makedirs(self.shared, exist_ok=True)
        for file_name, content in (shared_files or {}).items():
            with open(os.path.join(self.shared, file_name), "wb") as f:
                f.write(content)
        self.log = open(os.path.join(work_dir, name + ".log"), "w")
        self.lines = []
        self.process = subprocess.Popen(
            [p2pnode, "--config", config, "--port", "0", "--data-dir", os.path.join(self.dir, "data"),
             "--shared-dir", self.shared, "--download-dir", self.downloads, "--no-console", *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def wait_line(self, pattern, what, timeout=20.0, nth=1):
        """The nth line (from 1) that matches pattern."""
        regex = re.compile(pattern)

        def find():
            if self.process.poll() is not None:
                raise Failure(f"p2pnode exited ({self.process.returncode}) before {what}; output: {self.lines}")
            with self._lock:
                matches = [m for m in (regex.search(line) for line in self.lines) if m]
            return matches[nth - 1] if len(matches) >= nth else None

        return wait_for(find, what, timeout)

    def listen_port(self):
        return int(self.wait_line(r"^listening on 127\.0\.0\.1:(\d+) ", "listening on").group(1))

    def webui(self, nth=1):
        match = self.wait_line(r"^webui listening on http://127\.0\.0\.1:(\d+)/ \(token in (.+)\)$", "webui listening",
                               nth=nth)
        port = int(match.group(1))
        token = open(match.group(2)).read().strip()
        return WebUi(port, token)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# --- HTTP and WebSocket ----------------------------------------------------------


class WebUi:
    def __init__(self, port, token):
        self.port = port
        self.token = token
        self.host = f"127.0.0.1:{port}"
        self.origin = f"http://{self.host}"

    def request(self, method, path, body=None, token=True, headers=None, timeout=30):
        """Returns (status, parsed JSON or raw text)."""
        all_headers = {"Host": self.host}
        if token:
            all_headers["Authorization"] = "Bearer " + (self.token if token is True else token)
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            data = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        try:
            return response.status, json.loads(data)
        except ValueError:
            return response.status, data

    def command(self, line, timeout=60):
        status, body = self.request("POST", "/api/command", {"command": line}, timeout=timeout)
        check(status == 200, f"POST /api/command {line!r}: HTTP {status} {body}")
        return body

    def search_until(self, query, last_line, timeout=60):
        """Searches until the answer ends with last_line: the other node hashes its files after it starts."""
        def found():
            result = self.command(f'search "{query}"')
            return result if result["status"] == 0 and result["lines"][-1:] == [last_line] else None
        return wait_for(found, f"search {query} to end with {last_line!r}", timeout, interval=0.2)

    def events(self, token=True, headers=None):
        path = "/api/events" + (f"?token={self.token if token is True else token}" if token else "")
        return WebSocket(self.port, path, {"Host": self.host, **(headers or {})})


class Refused(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class Closed(Exception):
    pass


class WebSocket:
    """Just enough of RFC 6455 for a client: a handshake, masked text frames
    out, unfragmented frames in."""

    def __init__(self, port, path, headers, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buffer = b""
        head = self._read_until(b"\r\n\r\n").decode("latin-1")
        status = int(head.split(" ", 2)[1])
        if status != 101:
            length = re.search(r"(?im)^content-length:\s*(\d+)", head)
            body = self._read_exactly(int(length.group(1))) if length else b""
            self.sock.close()
            try:
                raise Refused(status, json.loads(body))
            except ValueError:
                raise Refused(status, body.decode("utf-8", "replace"))

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise Closed("connection closed")
        self.buffer += data

    def _read_until(self, marker):
        while marker not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def _read_exactly(self, n):
        while len(self.buffer) < n:
            self._fill()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send_text(self, text):
        payload = text.encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def receive(self, timeout):
        """The next text message, or raises Closed / socket.timeout."""
        self.sock.settimeout(timeout)
        while True:
            first, second = self._read_exactly(2)
            opcode = first & 0x0F
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read_exactly(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read_exactly(8))[0]
            payload = self._read_exactly(length)
            if opcode == 0x8:
                raise Closed("closed by the server")
            if opcode == 0x1:
                return payload.decode()

    def next_event(self, predicate, what, timeout=30.0):
        """Reads events until one satisfies predicate; returns it and every event read."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(f"timed out waiting for the event: {what}; saw {[e['event'] for e in seen]}")
            try:
                event = json.loads(self.receive(left))
            except socket.timeout:
                continue
            seen.append(event)
            if predicate(event):
                return event, seen

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
