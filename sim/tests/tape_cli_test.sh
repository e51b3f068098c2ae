#!/usr/bin/env bash
# cairn-sim's decision-tape commands end to end: a seed's tape and an engine fuzzer's input
# replay with the same digest and verdict; a fuzzer's failing input converts to a tape
# that fails the same way; --shrink writes a smaller tape that fails the same way; a sweep
# writes --trace-json / --html per failing seed; bad tapes and flag mixes are usage errors.
#   tape_cli_test.sh CAIRN_SIM CAIRN_SIM_CANARY ENGINE_CORPUS_DIR
set -euo pipefail
. "$(dirname "$0")/../../ci/tests/testlib.sh"
sim="$1"; canary="$2"; corpus="$3"
tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT
digest() { grep -o 'digest [0-9a-f]\{16\}' "$1" | head -1; }

# A seed's recorded tape replays the same run.
expect_rc 0 "${tmp}/seed.out" "${sim}" --seed 7 --ops 120 --tape-out "${tmp}/s7.tape"
says "${tmp}/seed.out" "tape: ${tmp}/s7.tape"
expect_rc 0 "${tmp}/replay.out" "${sim}" --replay "${tmp}/s7.tape"
[ "$(digest "${tmp}/seed.out")" = "$(digest "${tmp}/replay.out")" ] || fail "the tape replays another digest"
expect_rc 0 "${tmp}/det.out" "${sim}" --replay "${tmp}/s7.tape" --check-determinism
says "${tmp}/det.out" "1 passed, 0 failed"

# An engine fuzzer's input that fails (under a planted bug) converts to a tape that fails
# the same way, with the same digest.
expect_rc 1 "${tmp}/bytes.out" "${canary}" --canary always-no-fsync --replay "${corpus}/random-0" --tape-out "${tmp}/f.tape"
says "${tmp}/bytes.out" "FAILED seed 0"
grep -q '^failure stream 0: sync=always' "${tmp}/f.tape" || fail "the converted tape does not record the failure"
expect_rc 1 "${tmp}/ftape.out" "${canary}" --replay "${tmp}/f.tape"
says "${tmp}/ftape.out" "the same failure as the tape records"
[ "$(digest "${tmp}/bytes.out")" = "$(digest "${tmp}/ftape.out")" ] || fail "the converted tape replays another digest"
says "${tmp}/ftape.out" "replay: ${canary} --replay ${tmp}/f.tape"

# --shrink: a smaller tape, the same check; a passing seed has nothing to shrink.
expect_rc 1 "${tmp}/shrink.out" "${canary}" --canary torn-tail-fatal --seed 1 --shrink --shrink-runs 600 --tape-out "${tmp}/small.tape"
says "${tmp}/shrink.out" "fails the same way: the store could not be reopened: corruption: torn tail"
says "${tmp}/shrink.out" "replay: ${canary} --replay ${tmp}/small.tape"
grep -qE '^# shrunk in [0-9]+ runs' "${tmp}/small.tape" || fail "the shrunk tape does not say how it was made"
expect_rc 1 "${tmp}/small.out" "${canary}" --replay "${tmp}/small.tape"
says "${tmp}/small.out" "the same failure as the tape records"
expect_rc 0 "${tmp}/nothing.out" "${sim}" --seed 7 --ops 50 --shrink --tape-out "${tmp}/none.tape"
says "${tmp}/nothing.out" "seed 7 passes: nothing to shrink"
[ ! -e "${tmp}/none.tape" ] || fail "a passing seed wrote a shrunk tape"

# A sweep writes one JSON trace and one page per failing seed into the folders.
expect_rc 1 "${tmp}/sweep.out" "${canary}" --canary always-no-fsync --seeds 1..4 --trace-json "${tmp}/json" --html "${tmp}/html"
failing=$(grep -c '^FAILED seed' "${tmp}/sweep.out")
[ "$(ls "${tmp}/json" | grep -c '\.jsonl$')" -eq "${failing}" ] || fail "not one JSON trace per failing seed"
[ "$(ls "${tmp}/html" | grep -c '\.html$')" -eq "${failing}" ] || fail "not one page per failing seed"
first=$(grep -m1 -o '^FAILED seed [0-9]*' "${tmp}/sweep.out" | awk '{print $3}')
tail -n 1 "${tmp}/json/seed-${first}.jsonl" | grep -q '"kind":"failure"' || fail "the JSON trace does not end in the failure"

# Usage errors: exit 2, naming the problem.
expect_rc 2 "${tmp}/u1.out" "${sim}" --replay "${tmp}/s7.tape" --seed 3
says "${tmp}/u1.out" "--replay runs its tape"
expect_rc 2 "${tmp}/u2.out" "${sim}" --replay "${tmp}/s7.tape" --set streams=2
says "${tmp}/u2.out" "the tape holds its ops, sets and canary"
expect_rc 2 "${tmp}/u3.out" "${sim}" --replay "${tmp}/missing.tape"
says "${tmp}/u3.out" "${tmp}/missing.tape"
head -n 12 "${tmp}/s7.tape" > "${tmp}/cut.tape"
expect_rc 2 "${tmp}/u4.out" "${sim}" --replay "${tmp}/cut.tape"
says "${tmp}/u4.out" "a cut or edited tape"
expect_rc 2 "${tmp}/u5.out" "${sim}" --seeds 1..3 --shrink
says "${tmp}/u5.out" "--shrink take one seed"
echo PASS
