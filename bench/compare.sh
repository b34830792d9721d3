#!/usr/bin/env bash
# shopbot against the minimal server of bench/src/bin/baseline.rs (the
# design's limit, issue 25) on the same machine, the same traffic: signed
# Twilio webhooks of customers walking the example menu, every reply checked.
# Both release servers run side by side on loopback, each on its own new
# database; a warm-up each, then ROUNDS rounds of one PHASE-second closed loop
# (C connections) per server, alternating (the order flips every round, so a
# drift of the machine's speed falls on both). Each phase reports the server's
# CPU per request (/proc/PID/stat), throughput and context switches per
# request (/proc/PID/task/*/status, voluntary and involuntary, summed over the
# server's threads); the medians and the ratios shopbot/baseline follow. Then,
# unless CALLGRIND=0, bench/callgrind.sh counts the instructions per request
# of both (one request at a time, the N and 3N difference).
#
#   bench/compare.sh                    # 8 s phases, 3 rounds, C=16, callgrind N=500 (~2 min after the builds)
#   PHASE=4 ROUNDS=2 CALLGRIND=0 bench/compare.sh   # a quick look
#   N=1000 TOP=30 bench/compare.sh      # passed on to bench/callgrind.sh
#   BASELINE_ARGS=--writer-answers bench/compare.sh # the baseline's writer answers (one hop fewer)
set -euo pipefail
cd "$(dirname "$0")/.."
PHASE=${PHASE:-8}
ROUNDS=${ROUNDS:-3}
C=${C:-16}
WARMUP=${WARMUP:-3}
CALLGRIND=${CALLGRIND:-1}
SHOPBOT_PORT=${SHOPBOT_PORT:-18110}
BASELINE_PORT=${BASELINE_PORT:-18111}
TOKEN=bench-token
cargo build --release --quiet -p shopbot -p shopbot-bench
BIN=target/release
ROOT=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$ROOT"
}
trap cleanup EXIT
. bench/common.sh
declare -A PID SIZE IDLE
for kind in shopbot baseline; do
  DIR=$ROOT/$kind
  mkdir -p "$DIR"
  if [ "$kind" = shopbot ]; then PORT=$SHOPBOT_PORT; else PORT=$BASELINE_PORT; fi
  write_config </dev/null
  READY=30 start_server "$kind" "$BIN/$kind"
  PIDS+=("$SERVER")
  PID[$kind]=$SERVER
  SIZE[$kind]=$(stat -c %s "$BIN/$kind")
done
sleep 1
for kind in shopbot baseline; do
  IDLE[$kind]=$(awk '/VmRSS/ {print $2}' "/proc/${PID[$kind]}/status")
done
port() { if [ "$1" = shopbot ]; then echo "$SHOPBOT_PORT"; else echo "$BASELINE_PORT"; fi; }
# Runs the load against $1 for $2 seconds; the loadgen's report on stdout.
load() {
  timeout $(($2 + 60)) "$BIN/loadgen" --addr "127.0.0.1:$(port "$1")" --token "$TOKEN" \
    --pid "${PID[$1]}" -c "$C" -d "$2" --label "$1"
}
for kind in shopbot baseline; do load "$kind" "$WARMUP" >/dev/null; done

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "closed loop C=$C, ${PHASE} s phases, $ROUNDS rounds, alternating; example menu, signed webhooks, every reply checked"
echo
printf '%-6s %-9s %9s %11s %11s %13s %7s\n' round server "req/s" "CPU µs/req" "of it sys" "switches/req" errors
RESULTS=$ROOT/results
: >"$RESULTS"
for round in $(seq "$ROUNDS"); do
  if ((round % 2)); then order="shopbot baseline"; else order="baseline shopbot"; fi
  for kind in $order; do
    out=$(load "$kind" "$PHASE")
    rate=$(sed -n 's/.*: \([0-9.]*\) req\/s ok over.*/\1/p' <<<"$out")
    errors=$(sed -n 's/.* ok, \([0-9]*\) errors$/\1/p' <<<"$out")
    cpu=$(sed -n 's/.*server: \([0-9.]*\) µs CPU per request.*/\1/p' <<<"$out")
    system=$(sed -n 's/.*µs CPU per request (\([0-9.]*\) µs system).*/\1/p' <<<"$out")
    switches=$(sed -n 's/.*server: \([0-9.]*\) context switches per request.*/\1/p' <<<"$out")
    if [ -z "$rate" ] || [ -z "$cpu" ] || [ -z "$system" ] || [ -z "$switches" ]; then
      echo "could not read the load generator's report:" >&2
      echo "$out" >&2
      exit 1
    fi
    printf '%-6s %-9s %9s %11s %11s %13s %7s\n' "$round" "$kind" "$rate" "$cpu" "$system" "$switches" "$errors"
    if [ "$errors" != 0 ]; then echo "$out" | sed 's/^/    /'; fi
    echo "$kind $rate $cpu $system $switches $errors" >>"$RESULTS"
  done
done
# The median of column $2 of server $1's rows.
median() {
  awk -v k="$1" -v c="$2" '$1 == k {print $c}' "$RESULTS" | sort -n |
    awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }
echo
printf '%-22s %12s %12s %16s\n' "median of $ROUNDS" shopbot baseline "shopbot/baseline"
for metric in "req/s:2" "CPU µs per request:3" "  of it system:4" "switches per request:5"; do
  name=${metric%:*}
  col=${metric##*:}
  s=$(median shopbot "$col")
  b=$(median baseline "$col")
  printf '%-22s %12s %12s %16s\n' "$name" "$s" "$b" "$(ratio "$s" "$b")"
done
printf '%-22s %12s %12s\n' "idle RSS" "$(mib "${IDLE[shopbot]}")" "$(mib "${IDLE[baseline]}")"
printf '%-22s %12s %12s\n' "binary bytes" "${SIZE[shopbot]}" "${SIZE[baseline]}"
errors=$(awk '{n += $6} END {print n + 0}' "$RESULTS")
if [ "$errors" != 0 ]; then echo "$errors errors in the timed phases (above)"; fi

if [ "$CALLGRIND" != 0 ]; then
  # The timed servers stop first: callgrind runs are long and single-threaded.
  cleanup
  PIDS=()
  echo
  echo "callgrind, one request at a time (bench/callgrind.sh, N=${N:-500} and 3N):"
  declare -A IPR
  for kind in shopbot baseline; do
    out=$(SUBJECT=$kind bench/callgrind.sh)
    echo "$out"
    echo
    IPR[$kind]=$(sed -n "s/^$kind: instructions per request \([0-9]*\) =.*/\1/p" <<<"$out")
  done
  echo "instructions per request: shopbot ${IPR[shopbot]}, baseline ${IPR[baseline]}, shopbot/baseline $(ratio "${IPR[shopbot]}" "${IPR[baseline]}")"
fi
