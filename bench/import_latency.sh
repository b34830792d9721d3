#!/usr/bin/env bash
# The webhook's latency while an orders import tells 500 customers their
# order changed ([notify] order_status): a release server, an open loop of
# 500 requests/s (64 connections) for DURATION seconds, once without an
# import and once with `shopbot orders import` of a sheet that changes 500
# statuses started a few seconds in. Prints the loop's latency both times
# and how long the import took.
#
#   bench/import_latency.sh               # 500 changes, 20 s loops
#   CHANGES=2000 DURATION=30 bench/import_latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20}
CHANGES=${CHANGES:-500}
PORT=${PORT:-18091}
TOKEN=bench-token
cargo build --release --quiet -p shopbot -p shopbot-bench
BIN=target/release
DIR=$(mktemp -d)
trap 'kill "${SERVER:-}" 2>/dev/null || true; wait "${SERVER:-}" 2>/dev/null || true; rm -rf "$DIR"' EXIT
. bench/common.sh
write_config <<TOML
[notify]
order_status = true
order_content_sid = "HX00000000000000000000000000000001"
TOML
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
