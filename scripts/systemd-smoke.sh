#!/usr/bin/env bash
# Installs the .deb into Debian bookworm booted with its own systemd (systemd-nspawn)
# and checks what static checks cannot: that shopbot really runs under its sandbox,
# Type=notify and the watchdog work, the backup unit's escaping makes new files,
# and install / upgrade / remove / purge do what packaging/README.md says.
#
# Usage: scripts/systemd-smoke.sh target/debian/shopbot_VERSION_amd64.deb
# Needs root and Debian's packages (apt-get: debootstrap, systemd-container, curl).
# The bookworm tree is made once with debootstrap (about 40 s, 250 MB) in
# $SHOPBOT_SMOKE_CACHE (default /var/tmp/shopbot-smoke-bookworm) and copied per run.
# The container shares the host's network; shopbot listens on a random 127.0.0.1 port.
# Exit status: 0 passed, 1 a check failed, 77 this machine cannot run the test
# (no debootstrap mirror, no nspawn): the caller may skip it.
set -euo pipefail
deb=$(realpath "${1:?usage: scripts/systemd-smoke.sh PATH/TO/shopbot_*.deb}")
[ "$(id -u)" = 0 ] || { echo "systemd-smoke: needs root (debootstrap, systemd-nspawn)" >&2; exit 1; }

missing=()
for p in debootstrap systemd-container curl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { echo "systemd-smoke: cannot install ${missing[*]}" >&2; exit 77; }
fi

cache=${SHOPBOT_SMOKE_CACHE:-/var/tmp/shopbot-smoke-bookworm}
if [ ! -x "$cache/lib/systemd/systemd" ]; then
  echo "== debootstrap bookworm into $cache"
  rm -rf "$cache"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm "$cache" \
    >/tmp/shopbot-smoke-debootstrap.log 2>&1 \
    || { tail -20 /tmp/shopbot-smoke-debootstrap.log >&2; rm -rf "$cache"; echo "systemd-smoke: debootstrap failed" >&2; exit 77; }
fi

root=$(mktemp -d /var/tmp/shopbot-smoke.XXXXXX)
nspawn=""
cleanup() {
  if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
    [ -z "${init:-}" ] || nsenter -t "$init" -a systemctl poweroff >/dev/null 2>&1 || true
    for _ in $(seq 20); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.5; done
    kill "$nspawn" 2>/dev/null || true
    wait "$nspawn" 2>/dev/null || true
  fi
  rm -rf "$root" "$root.log"
}
trap cleanup EXIT
cp -a "$cache/." "$root/"
cp "$deb" "$root/root/shopbot.deb"
echo shopbot-smoke > "$root/etc/hostname"

fail() { echo "systemd-smoke: FAILED: $*" >&2; ct journalctl --no-pager -n 40 -u shopbot -u shopbot-backup >&2 || true; exit 1; }
ok() { echo "  ok  $*"; }

echo "== boot systemd in $root"
systemd-nspawn -D "$root" -b --register=no --keep-unit --console=pipe >"$root.log" 2>&1 </dev/null &
nspawn=$!
init=""
state=""
for _ in $(seq 200); do
  init=$(pgrep -P "$nspawn" | head -1 || true)
  [ -n "$init" ] && state=$(nsenter -t "$init" -a systemctl is-system-running 2>/dev/null || true) \
    && { [ "$state" = running ] || [ "$state" = degraded ]; } && break
  sleep 0.3
done
ct() { nsenter -t "$init" -a "$@"; }   # run a command in the container
# journal_has UNIT TEXT: TEXT is in UNIT's journal within 10 s (journald may
# show a process's last lines a moment after the command that caused them)
journal_has() {
  for _ in $(seq 20); do
    ct journalctl -u "$1" --no-pager | grep -q "$2" && return 0
    sleep 0.5
  done
  return 1
}
case "${state:-}" in
  running|degraded) ;;
  *) cat "$root.log" >&2; echo "systemd-smoke: the container did not boot (state: ${state:-none})" >&2; exit 77 ;;
esac
ok "systemd $(ct systemctl --version | head -1 | cut -d' ' -f2) booted"

echo "== first install, example config: installed but not started"
out=$(ct dpkg -i /root/shopbot.deb 2>&1) || { echo "$out" >&2; fail "dpkg -i"; }
grep -q "not configured" <<<"$out" || fail "postinst did not say it is not configured: $out"
[ "$(ct systemctl is-enabled shopbot.service 2>&1)" = disabled ] || fail "shopbot.service enabled although not configured"
[ "$(ct systemctl is-active shopbot-backup.timer)" = active ] || fail "the backup timer is not active"
[ "$(ct stat -c '%U:%G %a' /etc/shopbot/config.toml)" = "root:shopbot 640" ] || fail "config.toml mode"
[ "$(ct stat -c '%U:%G %a' /etc/shopbot/env)" = "root:root 600" ] || fail "env mode"
ok "not started, timer active, config root:shopbot 640, env root:root 600"

echo "== configure and start"
port=$((20000 + RANDOM % 20000))
sed "s/^listen = .*/listen = \"127.0.0.1:$port\"/" "$root/usr/share/shopbot/config.example.toml" > "$root/etc/shopbot/config.toml"
echo "TWILIO_AUTH_TOKEN=smoke-token" >> "$root/etc/shopbot/env"
ct systemctl enable --now shopbot >/dev/null 2>&1 || fail "systemctl enable --now shopbot"
[ "$(ct systemctl is-active shopbot)" = active ] || fail "shopbot is not active"
ct journalctl -u shopbot --no-pager | grep -q "listening on 127.0.0.1:$port" || fail "no 'listening on' before Started"
health=$(curl -sf "http://127.0.0.1:$port/healthz") || fail "/healthz"
grep -q '"status":"ok"' <<<"$health" || fail "/healthz said $health"
ok "active under the sandbox (Type=notify), /healthz: $health"

post() {  # post BODY: a signed webhook as Twilio sends it; prints the TwiML
  local sid="SM$(date +%s%N)" params=() sig
  params=(--param "MessageSid=$sid" --param "From=whatsapp:+27820000001" --param "To=whatsapp:+14155238886" --param "Body=$1")
  sig=$(ct shopbot sign --key smoke-token --url https://bot.example.com/twilio/inbound "${params[@]}" | sed -n 's/^X-Twilio-Signature: //p')
  curl -sf -H "X-Twilio-Signature: $sig" --data-urlencode "MessageSid=$sid" --data-urlencode "From=whatsapp:+27820000001" \
    --data-urlencode "To=whatsapp:+14155238886" --data-urlencode "Body=$1" "http://127.0.0.1:$port/twilio/inbound"
}
for text in hi 2 1; do post "$text" >/dev/null || fail "webhook '$text'"; done
reply=$(post "Screen is cracked") || fail "webhook 'Screen is cracked'"
grep -q "Defect Submitted" <<<"$reply" || fail "no submission: $reply"
ok "signed conversation: $(grep -o 'ID: [A-Z0-9-]*' <<<"$reply")"

echo "== watchdog"
first=$(ct systemctl show -p WatchdogTimestampMonotonic --value shopbot)
for _ in $(seq 40); do
  pinged=$(ct systemctl show -p WatchdogTimestampMonotonic --value shopbot)
  [ "$pinged" != "$first" ] && break
  sleep 1
done
[ "$pinged" != "$first" ] || fail "no watchdog ping within 40 s"
[ "$(ct systemctl show -p NRestarts --value shopbot)" = 0 ] || fail "shopbot was restarted"
ok "WATCHDOG=1 pings arrive, no restarts"

echo "== reload (systemctl reload: SIGHUP, the menu read again)"
pid=$(ct systemctl show -p MainPID --value shopbot)
ct systemctl reload shopbot || fail "systemctl reload shopbot"
journal_has shopbot "reloaded on SIGHUP" || fail "no 'reloaded on SIGHUP' after systemctl reload"
[ "$(ct systemctl is-active shopbot)" = active ] && [ "$(ct systemctl show -p MainPID --value shopbot)" = "$pid" ] \
  || fail "reload restarted or stopped shopbot"
ok "reloaded on SIGHUP, same PID $pid, still active"

echo "== backups"
for _ in 1 2 3; do ct systemctl start shopbot-backup || fail "shopbot-backup"; done
n=$(ct sh -c 'ls /var/lib/shopbot/backups/shopbot-*.db | wc -l')
[ "$n" = 3 ] || fail "3 backup runs made $n files"
journal_has shopbot-backup "integrity ok" || fail "no 'integrity ok' from the backup"
ok "3 runs, 3 new files, integrity ok"

echo "== upgrade (the same package again)"
before=$(ct systemctl show -p MainPID --value shopbot)
ct dpkg -i /root/shopbot.deb >/dev/null 2>&1 || fail "dpkg -i (upgrade)"
after=$(ct systemctl show -p MainPID --value shopbot)
[ "$(ct systemctl is-active shopbot)" = active ] && [ "$before" != "$after" ] || fail "not restarted on upgrade ($before -> $after)"
journal_has shopbot "stopped cleanly" || fail "the old shopbot did not drain"
ok "drained (stopped cleanly) and restarted: PID $before -> $after"

echo "== remove, purge"
ct dpkg -r shopbot >/dev/null 2>&1 || fail "dpkg -r"
[ "$(ct systemctl is-active shopbot)" = inactive ] || fail "still running after remove"
ct dpkg -P shopbot >/dev/null 2>&1 || fail "dpkg -P"
ct test ! -e /etc/shopbot || fail "/etc/shopbot left after purge"
ct test -f /var/lib/shopbot/shopbot.db || fail "purge deleted the database"
ok "stopped on remove; purge removed /etc/shopbot and kept the database"

echo "== systemd-smoke passed"
