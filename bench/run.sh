#!/usr/bin/env bash
# Builds release, starts `shopbot serve` on a temp database, and drives it with
# the load generator: a warm-up, a closed loop (C=16, 20 s), then fixed rates of
# 500 and 2,000 requests/s (20 s each). Prints one table.
#
#   bench/run.sh                 # the full run (~90 s)
#   DURATION=5 bench/run.sh      # shorter runs
#   BIN=/other/target/release bench/run.sh   # another build's shopbot and loadgen (no build)
#   SOAK=300 bench/run.sh        # also a 1,000 req/s soak of 300 s (RSS at start and end)
#   PREFILL=1 bench/run.sh       # then fill the database with 1,000,000 messages from
#                                # 100,000 contacts (through the webhook, ~2 min), restart
#                                # the server on it and run the fixed rates again
#                                # (PREFILL_MESSAGES, PREFILL_CONTACTS change the sizes)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20}
PORT=${PORT:-18080}
TOKEN=bench-token
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet -p shopbot -p shopbot-bench
  BIN=target/release
fi
DIR=$(mktemp -d)
trap 'kill ${sampler:-} "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$DIR"' EXIT
. bench/common.sh
write_config </dev/null
# Starts the server and waits until it answers: sets SERVER and ready_ms.
start_server() {
  local started
  started=$(date +%s%N)
  SHOPBOT_LOG=warn "$BIN/shopbot" serve --config "$DIR/config.toml" 2>>"$DIR/server.log" &
  SERVER=$!
  wait_ready 30
  ready_ms=$(( ($(date +%s%N) - started) / 1000000 ))
}
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }
start_server
idle_rss=$(rss_kib)
run() { "$BIN/loadgen" --addr "127.0.0.1:$PORT" --token "$TOKEN" --pid "$SERVER" "$@"; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); binary $(stat -c %s "$BIN/shopbot") bytes; first start to ready ${ready_ms} ms (new database); idle RSS $(mib "$idle_rss")"
run --label warm-up -c 16 -d 5 >/dev/null
run --label max -c 16 -d "$DURATION"
run --label fixed -c 64 -r 500 -d "$DURATION"
run --label fixed -c 64 -r 2000 -d "$DURATION"
if [ -n "${SOAK:-}" ]; then
  echo "soak: RSS at start $(rss_kib) KiB"
  (while sleep 60; do echo "soak: RSS $(rss_kib) KiB"; done) &
  sampler=$!
  run --label soak -c 64 -r 1000 -d "$SOAK"
  kill "$sampler"
  echo "soak: RSS at end $(rss_kib) KiB"
fi
if [ -n "${PREFILL:-}" ]; then
  messages=${PREFILL_MESSAGES:-1000000}
  contacts=${PREFILL_CONTACTS:-100000}
  run --label prefill -c 16 --customers $(( (contacts + 15) / 16 )) --requests "$messages" -d 7200 | sed -n 1p
  kill "$SERVER"
  wait "$SERVER" || true
  start_server
  echo "restart on the filled database ($(du -m "$DIR/shopbot.db" | cut -f1) MB): ready in ${ready_ms} ms, idle RSS $(mib "$(rss_kib)")"
  run --label "fixed, filled" -c 64 -r 500 -d "$DURATION"
  run --label "fixed, filled" -c 64 -r 2000 -d "$DURATION"
fi
