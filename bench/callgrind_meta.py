#!/usr/bin/env python3
"""Instructions the server spends per customer message on Meta's path.

The Meta counterpart of bench/callgrind.sh (issue 25, item 4): shopbot runs
under valgrind's callgrind with `[meta]` pointed at a local Graph API mock
(this script, which answers every send with a message id). Signed webhooks
are sent one at a time, each a batch of B text messages from different
customers walking the example menu; a warm-up, then R webhooks between a
`callgrind_control --zero` and a dump, then 3R the same way. After each run
the script waits until the outbox has sent every reply (the mock saw no send
for two seconds), so the Graph sends are counted with the webhook that caused
them. Instructions per message are (3R run - R run) / (2 R B).

    bench/callgrind_meta.py                  # B = 1 and B = 10, R = 200
    R=100 BATCHES=1,5,20 bench/callgrind_meta.py
    BIN=/other/target/profiling/shopbot bench/callgrind_meta.py

Needs valgrind and Python 3 (standard library only).
"""

import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

APP_SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "106540352242922"
WALK = ["hi", "1", "A1002", "0", "2", "1", "Screen is cracked", "0", "3", "0"]


class GraphMock(http.server.BaseHTTPRequestHandler):
    """Answers every Graph send with a new message id, and counts them; keeps
    the connection alive, as Graph does."""

    protocol_version = "HTTP/1.1"

    sent = 0
    last_at = time.monotonic()
    lock = threading.Lock()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with GraphMock.lock:
            GraphMock.sent += 1
            GraphMock.last_at = time.monotonic()
            n = GraphMock.sent
        body = json.dumps({"messaging_product": "whatsapp", "messages": [{"id": f"wamid.out.{n}"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass


class Load:
    """Signed Meta webhooks of B messages each, from customers walking the menu."""

    def __init__(self, port, batch):
        self.port = port
        self.batch = batch
        self.sent = 0
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def message(self):
        n = self.sent
        self.sent += 1
        customer = 27820000000 + (n % 64) + 64 * self.batch
        step = (n // 64) % len(WALK)
        return {
            "from": str(customer),
            "id": f"wamid.bench.{self.batch}.{n}.{time.monotonic_ns()}",
            "timestamp": str(int(time.time())),
            "text": {"body": WALK[step]},
            "type": "text",
        }

    def webhook(self):
        messages = [self.message() for _ in range(self.batch)]
        contacts = [{"profile": {"name": "Bench"}, "wa_id": m["from"]} for m in messages]
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": contacts,
            "messages": messages,
        }
        change = {"value": value, "field": "messages"}
        body = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}
        return json.dumps(body).encode()

    def send(self, count):
        for _ in range(count):
            body = self.webhook()
            signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
            try:
                self.conn.request("POST", "/meta/webhook", body, headers)
                answer = self.conn.getresponse()
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                # The server closed an idle kept-alive connection: a new one
                # (the same message ids again are answered as already stored).
                self.conn.close()
                self.conn.request("POST", "/meta/webhook", body, headers)
                answer = self.conn.getresponse()
            answer.read()
            if answer.status != 200:
                sys.exit(f"a webhook got {answer.status}")


def drained(quiet=2.0, limit=600):
    """Waits until the mock saw no send for `quiet` seconds."""
    started = time.monotonic()
    while time.monotonic() - GraphMock.last_at < quiet:
        if time.monotonic() - started > limit:
            sys.exit("the outbox did not drain")
        time.sleep(0.2)


def total(path):
    with open(path) as f:
        for line in f:
            if line.startswith("summary:"):
                return int(line.split()[1])
    sys.exit(f"no summary in {path}")


def dump(server, folder, name):
    subprocess.run(["callgrind_control", f"--dump={name}", str(server.pid)], capture_output=True, check=False)
    for _ in range(300):
        for file in os.listdir(folder):
            path = os.path.join(folder, file)
            if file.startswith("cg.out.") and not file.endswith(".cg"):
                text = open(path).read()
                if f"desc: Trigger: dump {name}\n" in text and "summary:" in text:
                    os.rename(path, os.path.join(folder, f"{name}.cg"))
                    return total(os.path.join(folder, f"{name}.cg"))
        time.sleep(0.1)
    sys.exit(f"no callgrind dump for {name}")


def ready(server, port, log, limit=120):
    """Waits until the server answers, or says why it stopped."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if server.poll() is not None:
            sys.exit(f"the server stopped: {open(log).read()}")
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=5).request("GET", "/healthz")
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"the server did not answer in {limit} s")


def write_config(folder, port, mock_port):
    """$folder/config.toml: bench/common.sh's bench config (as callgrind.sh's,
    two workers) with `[meta]` pointed at the mock."""
    meta = f"""[meta]
phone_number_id = "{PHONE_NUMBER_ID}"
access_token = "bench-access-token"
app_secret = "{APP_SECRET}"
verify_token = "bench-verify"
graph_base_url = "http://127.0.0.1:{mock_port}"
[outbox]
messages_per_second = 80
"""
    env = {**os.environ, "DIR": folder, "PORT": str(port), "TOKEN": "bench-token", "SERVER_LINES": "workers = 2"}
    subprocess.run(["bash", "-c", ". bench/common.sh && write_config"], input=meta.encode(), env=env, check=True)
    return os.path.join(folder, "config.toml")


def measure(binary, batch, requests):
    mock = http.server.ThreadingHTTPServer(("127.0.0.1", 0), GraphMock)
    threading.Thread(target=mock.serve_forever, daemon=True).start()
    port = int(os.environ.get("PORT", "18091"))
    keep = os.environ.get("OUT")
    with tempfile.TemporaryDirectory() as scratch:
        folder = keep or scratch
        os.makedirs(folder, exist_ok=True)
        path = write_config(folder, port, mock.server_address[1])
        log = open(os.path.join(folder, "server.log"), "w")
        server = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/cg.out", binary, "serve", "--config", path],
            stderr=log,
            env={**os.environ, "SHOPBOT_LOG": "warn"},
        )
        try:
            ready(server, port, os.path.join(folder, "server.log"))
            load = Load(port, batch)
            load.send(20)
            drained()
            runs = {}
            for name, count in (("r", requests), ("3r", 3 * requests)):
                subprocess.run(["callgrind_control", "--zero", str(server.pid)], capture_output=True, check=False)
                before = GraphMock.sent
                load.send(count)
                drained()
                runs[name] = (dump(server, folder, name), GraphMock.sent - before)
        finally:
            server.terminate()
            server.wait()
            mock.shutdown()
    (r_total, r_sends), (t_total, t_sends) = runs["r"], runs["3r"]
    per_message = (t_total - r_total) // (2 * requests * batch)
    sends = (t_sends - r_sends) / (2 * requests * batch)
    print(
        f"meta, batches of {batch}: instructions per message {per_message:,} "
        f"= ({t_total:,} for {3 * requests} webhooks - {r_total:,} for {requests}) / {2 * requests * batch} messages; "
        f"{sends:.2f} Graph sends per message"
    )
    return per_message


def main():
    binary = os.environ.get("BIN")
    if not binary:
        subprocess.run(["cargo", "build", "--profile", "profiling", "--quiet", "-p", "shopbot"], check=True)
        binary = "target/profiling/shopbot"
    requests = int(os.environ.get("R", "200"))
    batches = [int(b) for b in re.split(r"[ ,]+", os.environ.get("BATCHES", "1,10")) if b]
    for batch in batches:
        measure(binary, batch, requests)


if __name__ == "__main__":
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    main()
