#!/usr/bin/env bash
# shopbot's helper for its patched copy of tiny_http 0.12.0 (see SHOPBOT-PATCHES.md).
# The copy is the pristine crate plus the patches in patches/, in the order of
# patches/series.
#
#   vendor/tiny_http/shopbot.sh check        applies the series to the pristine crate
#                                            and fails unless the result is this folder
#   vendor/tiny_http/shopbot.sh new NAME     writes what this folder changes beyond the
#                                            series as patches/NN-NAME.patch, and lists it
#   vendor/tiny_http/shopbot.sh test         runs the crate's own unit and integration
#                                            tests offline, with the dependencies a shopbot
#                                            build left in $CARGO_TARGET_DIR (default: target)
#
# The pristine crate comes from $TINY_HTTP_PRISTINE (a cached copy), else cargo's
# registry; shopbot's build never downloads it (it is patched), so check and new
# fetch it once with a scratch project when it is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# The whole crate is compared (sources, tests, Cargo.toml, examples, benches,
# licences), apart from shopbot's own files here, build output, and the
# registry's bookkeeping beside the published crate.
not_compared=(patches shopbot.sh SHOPBOT-PATCHES.md target Cargo.lock .cargo-ok
  .cargo_vcs_info.json Cargo.toml.orig)

# Copies the crate in $1 into $2, without what is not compared.
crate_copy() {
  local name
  mkdir -p "$2"
  cp -r "$1/." "$2/"
  for name in "${not_compared[@]}"; do rm -rf "${2:?}/$name"; done
}

pristine() {
  if [ -n "${TINY_HTTP_PRISTINE:-}" ]; then echo "$TINY_HTTP_PRISTINE"; return; fi
  local dir
  dir="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/tiny_http-0.12.0 2>/dev/null | head -n 1 || true)"
  if [ -z "$dir" ]; then
    echo "fetching the pristine tiny_http 0.12.0 into cargo's registry" >&2
    local scratch
    scratch="$(mktemp -d)"
    cargo init -q --vcs none --name scratch "$scratch"
    (cd "$scratch" && cargo add -q tiny_http@=0.12.0 && cargo fetch -q) >&2
    rm -rf "$scratch"
    dir="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/tiny_http-0.12.0 | head -n 1)"
  fi
  echo "$dir"
}

# The patches of the series, in order.
series() {
  sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$here/patches/series"
}

# Copies the pristine crate into $1 and applies the series to it.
apply_series() {
  local into="$1" original patch
  original="$(pristine)"
  crate_copy "$original" "$into"
  for patch in $(series); do
    [ -f "$here/patches/$patch" ] || { echo "patches/series names $patch, which is not in patches/" >&2; exit 1; }
    (cd "$into" && git apply --whitespace=nowarn "$here/patches/$patch") || {
      echo "patches/$patch does not apply to tiny_http 0.12.0 with the patches before it" >&2
      exit 1
    }
  done
}

check() {
  local tmp
  tmp="$(mktemp -d)"
  trap "rm -rf '$tmp'" EXIT
  apply_series "$tmp/series"
  crate_copy "$here" "$tmp/tree"
  if ! (cd "$tmp" && diff -ruN series tree >"$tmp/difference"); then
    echo "vendor/tiny_http differs from tiny_http 0.12.0 with patches/series applied:" >&2
    sed -E 's/^((---|\+\+\+) [^\t]+)\t.*/\1/' "$tmp/difference" | head -n 60 >&2
    echo "Keep each change in a patch: vendor/tiny_http/shopbot.sh new NAME (see CONTRIBUTING.md)." >&2
    exit 1
  fi
  echo "vendor/tiny_http is tiny_http 0.12.0 with its $(series | wc -l) patches applied"
}

new_patch() {
  local name="${1:-}" tmp number file
  [[ "$name" =~ ^[a-z0-9-]+$ ]] || { echo "usage: $0 new NAME (lower-case words joined by -)" >&2; exit 2; }
  tmp="$(mktemp -d)"
  trap "rm -rf '$tmp'" EXIT
  apply_series "$tmp/a"
  crate_copy "$here" "$tmp/b"
  (cd "$tmp" && diff -ruN a b || true) | sed -E 's/^((---|\+\+\+) [^\t]+)\t.*/\1/' >"$tmp/new.patch"
  [ -s "$tmp/new.patch" ] || { echo "nothing beyond the series: no patch written" >&2; exit 1; }
  number="$(printf '%02d' $(($(series | wc -l) + 1)))"
  file="$number-$name.patch"
  cp "$tmp/new.patch" "$here/patches/$file"
  printf '%-60s# SECTION · upstream: not sent yet\n' "$file" >>"$here/patches/series"
  echo "wrote patches/$file and listed it in patches/series; write its SHOPBOT-PATCHES.md section and fill in the series line"
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
  check) check ;;
  new) new_patch "${2:-}" ;;
  test) run_tests ;;
  *) echo "usage: $0 check|new NAME|test" >&2; exit 2 ;;
esac
