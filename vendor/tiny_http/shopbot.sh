#!/usr/bin/env bash
# shopbot's helper for its patched copy of tiny_http 0.12.0 (see SHOPBOT-PATCHES.md).
#
#   vendor/tiny_http/shopbot.sh diff   rewrites shopbot.patch: this copy against the
#                                      pristine crate from cargo's registry
#   vendor/tiny_http/shopbot.sh test   runs the crate's own unit and integration
#                                      tests offline, with the dependencies a shopbot
#                                      build left in $CARGO_TARGET_DIR (default: target)
#
# Both need a `cargo build` of shopbot first (to fetch and build the dependencies).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

pristine() {
  local dir
  dir="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/tiny_http-0.12.0 2>/dev/null | head -n 1)"
  # shopbot's [patch] means its own build never downloads the pristine crate
  [ -n "$dir" ] || {
    echo "tiny_http-0.12.0 is not in cargo's registry; fetch it once with a scratch project:" >&2
    echo "  d=\$(mktemp -d) && cargo init -q --vcs none --name scratch \"\$d\" && (cd \"\$d\" && cargo add -q tiny_http@=0.12.0 && cargo fetch -q)" >&2
    exit 1
  }
  echo "$dir"
}

make_diff() {
  local tmp original
  original="$(pristine)"
  tmp="$(mktemp -d)"
  trap "rm -rf '$tmp'" EXIT
  mkdir -p "$tmp/a" "$tmp/b"
  cp -r "$original/src" "$original/tests" "$tmp/a/"
  cp -r "$here/src" "$here/tests" "$tmp/b/"
  # Apply in a tiny_http 0.12.0 checkout with: patch -p1 < shopbot.patch
  (cd "$tmp" && diff -ruN a b || true) | sed -E 's/^((---|\+\+\+) [^\t]+)\t.*/\1/' >"$here/shopbot.patch"
  echo "wrote $here/shopbot.patch"
}

run_tests() {
  local deps out ext=() name
  deps="${CARGO_TARGET_DIR:-$root/target}/debug/deps"
  out="$(mktemp -d)"
  trap "rm -rf '$out'" EXIT
  for name in ascii chunked_transfer httpdate log; do
    local rlib
    rlib="$(ls "$deps"/lib"$name"-*.rlib 2>/dev/null | head -n 1)"
    [ -n "$rlib" ] || { echo "no $name in $deps; run cargo build first" >&2; exit 1; }
    ext+=(--extern "$name=$rlib")
  done
  cd "$here"
  rustc --edition 2018 --test --crate-name tiny_http src/lib.rs -L "$deps" "${ext[@]}" -o "$out/unit"
  "$out/unit"
  rustc --edition 2018 --crate-type rlib --crate-name tiny_http src/lib.rs -L "$deps" "${ext[@]}" \
    -o "$out/libtiny_http.rlib"
  for t in tests/*.rs; do
    name="$(basename "$t" .rs | tr - _)"
    rustc --edition 2018 --test "$t" -L "$deps" -L "$out" --extern tiny_http="$out/libtiny_http.rlib" -o "$out/$name"
    "$out/$name"
  done
}

case "${1:-}" in
  diff) make_diff ;;
  test) run_tests ;;
  *) echo "usage: $0 diff|test" >&2; exit 2 ;;
esac
