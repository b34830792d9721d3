# Shared by the bench scripts (sourced, not run): the config of a bench
# server, and waiting for one to answer.

# Writes $DIR/config.toml for a server on $PORT whose Twilio auth token is
# $TOKEN, with $SERVER_LINES (if set) in its [server] table; the lines given
# on stdin are appended.
write_config() {
  cat >"$DIR/config.toml" <<TOML
[server]
listen = "127.0.0.1:$PORT"
public_base_url = "https://bot.example.com"
${SERVER_LINES:-}
[database]
path = "shopbot.db"
[shop]
name = "Bench Shop"
timezone = "UTC"
[twilio]
auth_token = "$TOKEN"
whatsapp_from = "whatsapp:+14155238886"
TOML
  cat >>"$DIR/config.toml"
}

# Waits until the server $SERVER answers on $PORT, at most $1 seconds
# (default 30); prints its log and exits if it stops first.
wait_ready() {
  local started limit=$(( ${1:-30} * 1000000000 ))
  started=$(date +%s%N)
  until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
    kill -0 "$SERVER" 2>/dev/null || { cat "$DIR/server.log"; exit 1; }
    (( $(date +%s%N) - started < limit )) || { echo "not ready after ${1:-30} s" >&2; exit 1; }
    sleep 0.005
  done
}

# Starts a server and waits until it answers: `start_server KIND BIN [WORDS…]`
# with KIND `shopbot` (`BIN serve` with $DIR/config.toml, see write_config) or
# `baseline` (BIN, the minimal server of bench/src/bin/baseline.rs, with its
# database in $DIR, $BASELINE_WORKERS workers (default 16, as shopbot) and the options in
# $BASELINE_ARGS), on $PORT with the token $TOKEN, run behind WORDS if given
# (`valgrind --tool=callgrind …`).
# Sets SERVER; waits at most $READY seconds (default 60).
start_server() {
  local kind=$1 bin=$2
  shift 2
  case $kind in
    shopbot)
      SHOPBOT_LOG=warn "$@" "$bin" serve --config "$DIR/config.toml" 2>>"$DIR/server.log" &
      ;;
    baseline)
      "$@" "$bin" --listen "127.0.0.1:$PORT" --database "$DIR/baseline.db" --token "$TOKEN" \
        --workers "${BASELINE_WORKERS:-16}" ${BASELINE_ARGS:-} 2>>"$DIR/server.log" &
      ;;
    *)
      echo "start_server: unknown kind $kind (shopbot or baseline)" >&2
      exit 2
      ;;
  esac
  SERVER=$!
  wait_ready "${READY:-60}"
}
