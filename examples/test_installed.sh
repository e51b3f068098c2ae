#!/usr/bin/env bash
# Installs cairn from BUILD into a fresh prefix, then builds examples/crash_test against it
# twice (the CMake package, and pkg-config alone) and runs it: the engine must lose
# nothing, and with its planted bug (--forget-dir-sync) it must be caught.
#   examples/test_installed.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/cairn/sut/run.h"
test -f "$work/prefix/lib/cmake/cairn/cairnConfig.cmake"
cmake -S "$here/crash_test" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
"$work/cmake-build/crash_test" 100
if "$work/cmake-build/crash_test" 100 --forget-dir-sync >/dev/null; then
  echo "the planted bug (--forget-dir-sync) was not caught" >&2
  exit 1
fi
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
# shellcheck disable=SC2046
g++ -o "$work/pc-crash-test" "$here/crash_test/main.cc" $(pkg-config --cflags --libs cairn)
"$work/pc-crash-test" 50
echo "installed package: CMake and pkg-config builds pass, the planted bug is caught"
