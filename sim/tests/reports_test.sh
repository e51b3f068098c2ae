#!/usr/bin/env bash
# cairn-sim and cairn-props as a nightly job uses them: nothing fails in silence.
# Unwritable report paths and inputs that test nothing stop the run before a seed runs
# (exit 2, the path or flag named); SIGTERM and SIGINT stop a sweep with every report
# written and marked partial (exit 143 / 130), and the partial property report merges;
# a non-terminal stderr gets progress lines; cairn-props refuses files that are not
# property reports.
#   reports_test.sh path/to/cairn-sim path/to/cairn-props path/to/cairn-sim-canary
set -euo pipefail
sim="$1"
props="$2"
canary="$3"
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=ci/tests/testlib.sh
. "$(dirname "$0")/../../ci/tests/testlib.sh"

# 1. Report paths are checked before the first seed runs.
for flag in --jsonl --junit --trace-out --properties-out; do
  expect_rc 2 "$work/out" "$sim" --seed 1 "$flag" "$work/no-such-dir/report"
  says "$work/out" "cannot write $work/no-such-dir/report: No such file or directory"
  grep -q "passed" "$work/out" && fail "$flag: a seed ran although its report cannot be written"
done

# 2. Numbers out of range and configurations that test nothing are refused.
for args in "--seed -1" "--seeds -1..3" "--count -5" "--ops 0" "--ops -3" "--time-budget -5" \
            "--seed 1 --set streams=0" "--seed 1 --set lost_write_ppm=2000000" "--seeds 1..3 --trace"; do
  # shellcheck disable=SC2086
  expect_rc 2 "$work/out" "$sim" $args
done
expect_rc 2 "$work/out" "$sim" --seed 1 --set no_such_key=1
says "$work/out" "cairn-sim --list-keys lists them"
expect_rc 0 "$work/out" "$sim" --version
grep -Eq "^cairn-sim commit [0-9a-f]{7,}|^cairn-sim commit unknown" "$work/out" || fail "--version: $(cat "$work/out")"
expect_rc 0 "$work/out" "$props" --version
grep -Eq "^cairn-props commit ([0-9a-f]{7,}|unknown)" "$work/out" || fail "cairn-props --version: $(cat "$work/out")"

# 2b. On a sweep, --trace-out is a directory with one trace per failing seed.
: > "$work/a-file"
expect_rc 2 "$work/out" "$sim" --seeds 1..3 --trace-out "$work/a-file"
says "$work/out" "cannot create directory $work/a-file"
expect_rc 1 "$work/out" "$canary" --canary ack-before-fsync --seeds 1..20 --trace-out "$work/traces"
first=$(grep -m1 -o '^FAILED seed [0-9]*' "$work/out" | awk '{print $3}')
[ -n "$first" ] || fail "the canary sweep found no failing seed"
says "$work/out" "trace:  $work/traces/seed-$first.trace"
[ "$(ls "$work/traces" | wc -l)" -eq "$(grep -c '^FAILED seed' "$work/out")" ] || fail "not one trace per failing seed"
"$canary" --canary ack-before-fsync --seed "$first" --trace-out "$work/one.trace" > /dev/null || true
cmp "$work/one.trace" "$work/traces/seed-$first.trace" || fail "a sweep's trace differs from the single seed's"

# 3. SIGTERM in a long sweep: partial reports, exit 143, progress lines on a pipe.
"$sim" --seeds 1..100000000 --jobs 2 --progress-every 0.2 --jsonl "$work/sim.jsonl" --junit "$work/junit.xml" \
  --properties-out "$work/properties.jsonl" > "$work/stdout" 2> "$work/stderr" &
pid=$!
sleep 2
kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
pid=""
[ "$rc" -eq 143 ] || { cat "$work/stdout" "$work/stderr" >&2; fail "SIGTERM: exit $rc, expected 143"; }
says "$work/stdout" "stopped by SIGTERM"
says "$work/stderr" "cairn-sim: ["
tail -n 1 "$work/sim.jsonl" | grep -q '"partial":true' || fail "sim.jsonl not marked partial"
tail -n 1 "$work/sim.jsonl" | grep -q '"signal":"SIGTERM"' || fail "sim.jsonl does not name SIGTERM"
[ "$(wc -l < "$work/sim.jsonl")" -gt 10 ] || fail "sim.jsonl holds too few seeds"
says "$work/junit.xml" '<property name="partial" value="true"/>'
# A property report of a run cut short still merges (a short run may leave rare
# properties unhit, so the gate may say FAIL: exit 1, never 2).
set +e; "$props" merge "$work/properties.jsonl" --out "$work/merged.json" > "$work/merge" 2>&1; rc=$?; set -e
[ "$rc" -le 1 ] || { cat "$work/merge" >&2; fail "the partial property report does not merge (exit $rc)"; }
says "$work/merge" "1 of the 1 runs were stopped before their end"
grep -q '"partial_runs": 1' "$work/merged.json" || fail "merged report does not count the partial run"

# 4. SIGINT the same way: exit 130.
"$sim" --seeds 1..100000000 --jsonl "$work/int.jsonl" > "$work/stdout" 2>&1 &
pid=$!
sleep 1
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
pid=""
[ "$rc" -eq 130 ] || fail "SIGINT: exit $rc, expected 130"
tail -n 1 "$work/int.jsonl" | grep -q '"signal":"SIGINT"' || fail "int.jsonl not marked partial by SIGINT"

# 5. cairn-props refuses what is not a property report.
: > "$work/empty.jsonl"
expect_rc 2 "$work/out" "$props" merge "$work/empty.jsonl"
says "$work/out" "no property lines"
expect_rc 2 "$work/out" "$props" merge "$work/sim.jsonl"
says "$work/out" "not a property line"
echo "reports_test: all checks passed"
