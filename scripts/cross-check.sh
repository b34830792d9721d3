#!/usr/bin/env bash
# Cross-build and run the whole test suite for
#   win   x86_64-pc-windows-gnu       (tests run under wine)
#   pi64  aarch64-unknown-linux-gnu   (Raspberry Pi 3/4/5, 64-bit OS; tests run under qemu-user)
#   pi32  armv7-unknown-linux-gnueabihf (32-bit Pi OS; only when asked)
# using the shared cross recipe (shared/tools/cross: setup-cross.sh installs the
# cross compilers, wine, qemu and the `xcargo` wrapper; idempotent, needs root).
#
# Usage: scripts/cross-check.sh [win] [pi64] [pi32]      (default: win pi64)
#        scripts/cross-check.sh --release [TARGETS]       also build release binaries, print sizes
# The tools are looked for in $SHOPBOT_CROSS_TOOLS, else ../shared/tools/cross
# beside the repository (where CI and the developers' machines have them).
# Fails on any build or test failure. Builds run under `nice` so that they
# disturb other work on the machine less.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

release=no
targets=()
for arg in "$@"; do
  case "$arg" in
    --release) release=yes ;;
    win|pi64|pi32) targets+=("$arg") ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "cross-check: unknown argument '$arg' (expected win, pi64, pi32, --release)" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(win pi64)

tools=${SHOPBOT_CROSS_TOOLS:-$repo/../shared/tools/cross}
setup=$tools/setup-cross.sh
if [ ! -f "$setup" ]; then
  echo "cross-check: the cross recipe is missing: $setup not found." >&2
  echo "  It lives in the project's shared/ folder (shared/tools/cross/setup-cross.sh) beside the repository;" >&2
  echo "  point SHOPBOT_CROSS_TOOLS at the folder that holds setup-cross.sh if it is elsewhere." >&2
  exit 1
fi

step() { printf '\n== %s\n' "$*"; }
timings=()
timed() {
  local label=$1; shift
  local t0=$SECONDS
  "$@"
  timings+=("$(printf '%-34s %4d s' "$label" $((SECONDS - t0)))")
}

step "setup-cross.sh ($setup)"
timed "setup-cross.sh" bash "$setup"
command -v xcargo >/dev/null || { echo "cross-check: setup-cross.sh did not install xcargo" >&2; exit 1; }

target_dir=${CARGO_TARGET_DIR:-$repo/target}
triple() {
  case "$1" in
    win) echo x86_64-pc-windows-gnu ;;
    pi64) echo aarch64-unknown-linux-gnu ;;
    pi32) echo armv7-unknown-linux-gnueabihf ;;
  esac
}
runner() {
  case "$1" in win) echo "wine" ;; *) echo "qemu-user" ;; esac
}

for t in "${targets[@]}"; do
  step "xcargo $t test --locked   ($(triple "$t"), tests run under $(runner "$t"))"
  timed "xcargo $t test" nice -n 10 xcargo "$t" test --locked
done

if [ $release = yes ]; then
  sizes=()
  for t in "${targets[@]}"; do
    step "xcargo $t build --release --locked"
    timed "xcargo $t build --release" nice -n 10 xcargo "$t" build --release --locked
    exe=$target_dir/$(triple "$t")/release/shopbot
    [ "$t" = win ] && exe=$exe.exe
    sizes+=("$(printf '%-6s %s  %s bytes' "$t" "$exe" "$(stat -c %s "$exe")")")
  done
fi

step "cross-check passed: ${targets[*]}"
printf '  %s\n' "${timings[@]}"
if [ $release = yes ]; then printf '  %s\n' "${sizes[@]}"; fi
