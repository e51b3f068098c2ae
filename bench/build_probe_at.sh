#!/usr/bin/env bash
# Builds cairn-append-probe (bench/append_probe.cc, taken from this checkout) against the
# core at COMMIT, in a git worktree under OUT_DIR, and prints the probe's path.
#   bench/build_probe_at.sh COMMIT OUT_DIR
set -euo pipefail
commit="$1"
out="$(realpath -m "$2")"
here="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$out"
tree="$out/tree"
[ -d "$tree" ] || git -C "$here" worktree add --detach "$tree" "$commit" > /dev/null
git -C "$tree" checkout --quiet --detach "$commit"
cmake -S "$tree" -B "$out/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1" -DCAIRN_BENCH=OFF -DBUILD_TESTING=OFF > /dev/null
ninja -C "$out/build" cairn_core > /dev/null
b="$out/build"
g++ -std=c++20 -O2 -I"$tree" "$here/bench/append_probe.cc" "$b/core/libcairn_core.a" \
  "$b/simfs/libcairn_simfs.a" "$b/properties/libcairn_properties.a" -lfmt -lcrypto -lisal \
  -o "$out/cairn-append-probe"
echo "$out/cairn-append-probe"
