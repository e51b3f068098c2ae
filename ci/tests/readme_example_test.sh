#!/usr/bin/env bash
# The README's "When a seed fails" example is what the build prints: its replay line, run
# against this build, fails on the same seed with the same message. (The digest and the
# commit belong to the build the example was taken from; the trace excerpt is not checked.)
#   readme_example_test.sh BUILD_DIR
set -euo pipefail
build="$(cd "$1" && pwd)"
root="$(cd "$(dirname "$0")/../.." && pwd)"
readme="${root}/README.md"
. "$(dirname "$0")/testlib.sh"
failed=$(grep -m1 '^FAILED seed ' "${readme}") || fail "README has no FAILED example"
replay=$(grep -m1 '^  replay: ' "${readme}" | sed 's/^  replay: //; s/ *#.*$//') || fail "README has no replay line"
seed_and_msg() { sed -E 's/^FAILED seed ([0-9]+) \(digest [0-9a-f]+\): /\1 /'; }
want=$(echo "${failed}" | seed_and_msg)
read -r -a cmd <<< "${replay}"
cmd[0]="${build}/${cmd[0]#build/release/}"
set +e
got_out=$("${cmd[@]}" 2>&1)
rc=$?
set -e
[ "${rc}" -eq 1 ] || fail "the README's replay line exited ${rc}, expected 1: ${replay}"
got=$(echo "${got_out}" | grep -m1 '^FAILED seed ' | seed_and_msg)
[ "${got}" = "${want}" ] || fail "the README's example is stale:
  README: ${want}
  build:  ${got}"
echo "readme_example_test: the README's failing seed replays as shown"
