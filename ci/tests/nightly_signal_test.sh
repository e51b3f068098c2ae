#!/usr/bin/env bash
# ci/nightly-sim stopped by SIGTERM (a CI timeout, a cancelled job) leaves a partial,
# mergeable report and exits 143.
#   nightly_signal_test.sh BUILD_DIR
set -euo pipefail
build="$(cd "$1" && pwd)"
here="$(cd "$(dirname "$0")/../.." && pwd)"
out=$(mktemp -d)
trap 'rm -rf "${out}"' EXIT
CAIRN_NIGHTLY_BUILD="${build}" CAIRN_NIGHTLY_OUT="${out}" "${here}/ci/nightly-sim" 30 > "${out}/log" 2>&1 &
pid=$!
sleep 3
kill -TERM "${pid}"
set +e; wait "${pid}"; rc=$?; set -e
fail() { cat "${out}/log" >&2; echo "FAIL: $*" >&2; exit 1; }
[ "${rc}" -eq 143 ] || fail "exit ${rc}, expected 143"
grep -q "stopped by SIGTERM" "${out}/log" || fail "cairn-sim did not stop on the forwarded SIGTERM"
tail -n 1 "${out}/sim.jsonl" | grep -q '"partial":true' || fail "sim.jsonl is not marked partial"
grep -q '"partial_runs": 1' "${out}/properties.json" || fail "the merged report does not count the partial run"
echo "nightly_signal_test: passed"
