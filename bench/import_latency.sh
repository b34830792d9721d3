#!/usr/bin/env bash
# The webhook's latency while an orders import tells 500 customers their
# order changed ([notify] order_status): a release server, an open loop of
# 500 requests/s (64 connections) for DURATION seconds, once without an
# import and once with `shopbot orders import` of a sheet that changes 500
# statuses started a few seconds in. Prints the loop's latency both times
# and how long the import took. The 500 updates are really sent: the
# server's Twilio REST calls go to a local mock (python3's http.server,
# answering each like Twilio's Messages API) at the outbox's pace
# ([outbox] messages_per_second, 20), so the loop with the import also
# covers the sending that follows it; how many the mock took is printed.
#
#   bench/import_latency.sh               # 500 changes, 30 s loops
#   CHANGES=2000 DURATION=60 bench/import_latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30}
CHANGES=${CHANGES:-500}
PORT=${PORT:-18091}
MOCK_PORT=${MOCK_PORT:-18092}
TOKEN=bench-token
cargo build --release --quiet -p shopbot -p shopbot-bench
BIN=target/release
DIR=$(mktemp -d)
trap 'kill "${SERVER:-}" "${MOCK:-}" 2>/dev/null || true; wait "${SERVER:-}" "${MOCK:-}" 2>/dev/null || true; rm -rf "$DIR"' EXIT
. bench/common.sh
# Twilio's Messages API on loopback: every POST is a queued message; the
# count of POSTs is kept in $DIR/sent.
cat >"$DIR/mock.py" <<'PY'
import http.server, json, sys, threading, uuid
count = 0
lock = threading.Lock()
class Twilio(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            count += 1
            open(sys.argv[2], "w").write(str(count))
        body = json.dumps({"sid": "SM" + uuid.uuid4().hex, "status": "queued"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Twilio).serve_forever()
PY
echo 0 >"$DIR/sent"
python3 "$DIR/mock.py" "$MOCK_PORT" "$DIR/sent" &
MOCK=$!
write_config <<TOML
[notify]
order_status = true
order_content_sid = "HX00000000000000000000000000000001"
TOML
sed -i "/^\[twilio\]/a account_sid = \"AC00000000000000000000000000000000\"\napi_base_url = \"http://127.0.0.1:$MOCK_PORT\"" "$DIR/config.toml"
sheet() {
  echo "Order,Status,Phone"
  for n in $(seq 1 "$CHANGES"); do printf 'B%05d,%s,+2782%07d\n' "$n" "$1" "$n"; done
}
sheet "In production" >"$DIR/before.csv"
sheet "Ready for collection" >"$DIR/after.csv"
SHOPBOT_LOG=warn "$BIN/shopbot" serve --config "$DIR/config.toml" 2>>"$DIR/server.log" &
SERVER=$!
wait_ready 30
"$BIN/shopbot" orders import "$DIR/before.csv" --config "$DIR/config.toml" >/dev/null
run() { "$BIN/loadgen" --addr "127.0.0.1:$PORT" --token "$TOKEN" --pid "$SERVER" -c 64 -r 500 "$@"; }
run --label warm-up -d 5 >/dev/null
echo "== without an import"
run --label "500 req/s" -d "$DURATION"
echo "== with an import of $CHANGES changed statuses starting after 3 s"
( sleep 3
  started=$(date +%s%N)
  "$BIN/shopbot" orders import "$DIR/after.csv" --config "$DIR/config.toml" | sed 's/^/import: /'
  echo "import: took $(( ($(date +%s%N) - started) / 1000000 )) ms" ) &
importer=$!
run --label "500 req/s, importing" -d "$DURATION"
wait "$importer"
echo "sent to the Twilio mock by the end of the loop: $(cat "$DIR/sent") messages"
