#!/usr/bin/env bash
# Counts the instructions the server spends per inbound Twilio message, with
# requests sent one at a time, and names where they go. The server runs under
# valgrind's callgrind; a warm-up of 50 requests is sent, then N requests
# (8 customers walking the example menu, every reply checked) between a
# `callgrind_control --zero` and a dump, then 3N the same way. Instructions per
# request are (3N run − N run) / 2N, so what a run costs once (the load
# generator's connection and its thread, the dump) cancels out; the top
# functions, by self and by inclusive cost, are the same difference per
# function (callgrind_annotate). Instructions do not depend on the machine's
# load, so two builds compare exactly where a ratio of times is too noisy.
#
# The default build is `--profile profiling` (release with line tables and
# symbols, the same code), so functions have names.
#
#   bench/callgrind.sh                          # shopbot, this checkout
#   SUBJECT=baseline bench/callgrind.sh         # the minimal server (bench/src/bin/baseline.rs)
#   BIN=/other/target/profiling/shopbot \
#   LOADGEN=/other/target/profiling/loadgen bench/callgrind.sh   # another build
#   N=1000 bench/callgrind.sh                   # more requests (default 500, then 1,500)
#   TOP=40 bench/callgrind.sh                   # longer tables (default 20)
#   OUT=cg.out bench/callgrind.sh               # keep the profiles: cg.out (3N), cg.out.n (N);
#                                               # callgrind_annotate --inclusive=yes cg.out
#   MENU=bench/menus/three-languages.toml bench/callgrind.sh   # another menu file (shopbot only)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-500}
TOP=${TOP:-20}
PORT=${PORT:-18090}
SUBJECT=${SUBJECT:-shopbot}
TOKEN=bench-token
case $SUBJECT in
  shopbot | baseline) ;;
  *) echo "SUBJECT is shopbot or baseline, not $SUBJECT" >&2; exit 2 ;;
esac
if [ -n "${MENU:-}" ] && [ "$SUBJECT" = baseline ]; then
  echo "the baseline has the example menu built in; MENU is for shopbot" >&2
  exit 2
fi
if [ -z "${BIN:-}" ]; then
  cargo build --profile profiling --quiet -p shopbot -p shopbot-bench
  BIN=target/profiling/$SUBJECT
fi
if [ -z "${LOADGEN:-}" ]; then
  LOADGEN=target/profiling/loadgen
  [ -x "$LOADGEN" ] || LOADGEN=target/release/loadgen
fi
for tool in valgrind callgrind_control callgrind_annotate; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (apt-get install valgrind)" >&2; exit 1; }
done
DIR=$(mktemp -d)
trap 'kill "${SERVER:-}" 2>/dev/null || true; wait "${SERVER:-}" 2>/dev/null || true; rm -rf "$DIR"' EXIT
. bench/common.sh
# Two workers: requests come one at a time, and fewer threads make a smaller profile.
SERVER_LINES="workers = 2"
BASELINE_WORKERS=2
if [ -n "${MENU:-}" ]; then
  printf '[menu]\npath = "%s"\n' "$(realpath "$MENU")" | write_config
else
  write_config </dev/null
fi
READY=120 start_server "$SUBJECT" "$BIN" valgrind --tool=callgrind --callgrind-out-file="$DIR/cg.out"
send() {
  timeout 900 "$LOADGEN" --addr "127.0.0.1:$PORT" --token "$TOKEN" -c 1 --customers 8 -d 600 \
    --requests "$1" --label "$2" >"$DIR/$2.txt"
  if ! grep -q ", $1 ok, 0 errors" "$DIR/$2.txt"; then
    echo "the $2 run did not get $1 correct replies:" >&2
    cat "$DIR/$2.txt" >&2
    exit 1
  fi
}
# Sends $1 requests between a zero and a dump named $2; the dump's file is $DIR/$2.cg.
measure() {
  callgrind_control --zero "$SERVER" >/dev/null 2>&1
  send "$1" "$2"
  callgrind_control --dump="$2" "$SERVER" >/dev/null 2>&1
  local file
  for _ in $(seq 100); do
    file=$(grep -l "^desc: Trigger: dump $2\$" "$DIR"/cg.out.* 2>/dev/null || true)
    if [ -n "$file" ] && grep -q '^summary:' "$file"; then
      mv "$file" "$DIR/$2.cg"
      return
    fi
    sleep 0.1
  done
  echo "no callgrind dump for $2" >&2
  exit 1
}
send 50 warm-up
measure "$N" n
measure $((3 * N)) 3n
total() { awk '/^summary:/ {print $2}' "$1"; }
t1=$(total "$DIR/n.cg")
t3=$(total "$DIR/3n.cg")
echo "$SUBJECT: instructions per request $(( (t3 - t1) / (2 * N) )) = ($t3 for $((3 * N)) − $t1 for $N) / $((2 * N)), one at a time ($BIN)"

# Per function: "count<TAB>name". callgrind_annotate splits a function by the
# source file of each line (code inlined from another file is listed under
# that file, e.g. `transaction.rs:shopbot::writer::run`): the self costs of
# the pieces add up; of the inclusive costs, the largest is the function's
# (the cost of the calls into it), the others are parts of it.
functions() {
  callgrind_annotate --auto=no --threshold=100 --inclusive="$2" "$1" | awk -v inclusive="$2" '
    /^ *[0-9][0-9,]* +\( *[0-9.]+%\) +/ {
      count = $1; gsub(",", "", count); count += 0
      name = $0; sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", name)
      if (name == "PROGRAM TOTALS") next
      sub(/ \[\/[^]]*\]$/, "", name)          # the binary or library
      short = name; sub(/^[^:]*:/, "", short) # the source file
      if (substr(short, 1, 1) != ":") name = short
      if (inclusive == "yes") { if (count > sum[name]) sum[name] = count }
      else sum[name] += count
    }
    END { for (f in sum) printf "%d\t%s\n", sum[f], f }'
}
# Per request: "self<TAB>inclusive<TAB>name", from the N and 3N profiles.
per_request() {
  awk -F'\t' -v n="$N" '
    FILENAME ~ /self.n$/   { s1[$2] = $1; names[$2] = 1 }
    FILENAME ~ /self.3n$/  { s3[$2] = $1; names[$2] = 1 }
    FILENAME ~ /incl.n$/   { i1[$2] = $1 }
    FILENAME ~ /incl.3n$/  { i3[$2] = $1 }
    END {
      for (f in names) printf "%.0f\t%.0f\t%s\n", (s3[f] - s1[f]) / (2 * n), (i3[f] - i1[f]) / (2 * n), f
    }' "$DIR/self.n" "$DIR/self.3n" "$DIR/incl.n" "$DIR/incl.3n"
}
for run in n 3n; do
  # A call that was under way when the counters were zeroed (each thread's
  # loop) is written as `calls=0`, and callgrind_annotate (3.19) then counts
  # its whole inclusive cost as the caller's self cost; it is one call.
  sed -i 's/^calls=0 /calls=1 /' "$DIR/$run.cg"
  functions "$DIR/$run.cg" no >"$DIR/self.$run"
  functions "$DIR/$run.cg" yes >"$DIR/incl.$run"
done
per_request >"$DIR/per-request"
table() {
  echo
  echo "$SUBJECT: top $TOP functions by $1 instructions per request"
  echo "| self | inclusive | function |"
  echo "|---:|---:|---|"
  # Every thread starts in the same few functions (and their copies are
  # merged here), so they say nothing in the inclusive table.
  local plumbing=$'\t(clone|start_thread|.*::thread_start|core::ops::function::FnOnce::call_once\\{\\{vtable\\.shim\\}\\}|std::sys::backtrace::__rust_begin_short_backtrace)$'
  [ "$1" = inclusive ] || plumbing='^$'
  grep -v -E "$plumbing" "$DIR/per-request" |
    sort -t $'\t' -k "$2,$2" -n -r |
    awk -F'\t' -v top="$TOP" 'NR <= top { name = $3; if (length(name) > 110) name = substr(name, 1, 107) "..."; gsub(/\|/, "\\|", name)
                  printf "| %d | %d | `%s` |\n", $1, $2, name }'
}
table self 1
table inclusive 2
if [ -n "${OUT:-}" ]; then
  cp "$DIR/3n.cg" "$OUT"
  cp "$DIR/n.cg" "$OUT.n"
fi
