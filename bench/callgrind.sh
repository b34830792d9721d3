#!/usr/bin/env bash
# Counts the instructions the server spends per inbound Twilio message, with
# requests sent one at a time: `shopbot serve` runs under valgrind's callgrind,
# a warm-up of 50 requests is sent, the counters are zeroed, N requests go one
# after another (8 customers walking the menu), and the counters are dumped.
# Instructions do not depend on the machine's load, so two builds compare
# exactly where a ratio of times is too noisy.
#
#   bench/callgrind.sh                          # this checkout's release build
#   BIN=/other/target/release/shopbot \
#   LOADGEN=/other/target/release/loadgen bench/callgrind.sh   # another build
#   N=2000 bench/callgrind.sh                   # more requests (default 500)
#   OUT=cg.out bench/callgrind.sh               # keep the profile (callgrind_annotate cg.out)
#   MENU=bench/menus/three-languages.toml bench/callgrind.sh   # another menu file
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-500}
PORT=${PORT:-18090}
TOKEN=bench-token
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet -p shopbot -p shopbot-bench
  BIN=target/release/shopbot
fi
LOADGEN=${LOADGEN:-target/release/loadgen}
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
DIR=$(mktemp -d)
trap 'kill "${SERVER:-}" 2>/dev/null || true; wait "${SERVER:-}" 2>/dev/null || true; rm -rf "$DIR"' EXIT
. bench/common.sh
SERVER_LINES="workers = 2"
if [ -n "${MENU:-}" ]; then
  printf '[menu]\npath = "%s"\n' "$(realpath "$MENU")" | write_config
else
  write_config </dev/null
fi
SHOPBOT_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$DIR/callgrind.out.%p" \
  "$BIN" serve --config "$DIR/config.toml" 2>>"$DIR/server.log" &
SERVER=$!
wait_ready 60
send() { "$LOADGEN" --addr "127.0.0.1:$PORT" --token "$TOKEN" -c 1 --customers 8 -d 600 --requests "$1" --label "$2"; }
send 50 warm-up >/dev/null
callgrind_control --zero "$SERVER" >/dev/null
send "$N" measured
callgrind_control --dump=measured "$SERVER" >/dev/null
sleep 0.5
total=$(grep -h '^summary:' "$DIR"/callgrind.out.* | tail -n 1 | awk '{print $2}')
echo "instructions: $total for $N requests one at a time: $((total / N)) per request ($BIN)"
if [ -n "${OUT:-}" ]; then cp "$(grep -l '^summary:' "$DIR"/callgrind.out.* | tail -n 1)" "$OUT"; fi
