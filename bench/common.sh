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
