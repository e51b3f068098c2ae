#!/usr/bin/env bash
# The run's page in a real browser: a canary's shrunk tape and a passing seed are drawn by
# cairn-sim --html, opened in headless Chromium, and the DOM after the page's script ran
# must show one row per event of the --trace-json output and, for the failing run only,
# the failure marker carrying the failure text. A screenshot goes to REPORTS_DIR.
#   html_page_test.sh CAIRN_SIM_CANARY REPORTS_DIR
# Skips (exit 77) without Chromium unless CAIRN_REQUIRE_BROWSER=1 (ci/test sets it).
set -euo pipefail
. "$(dirname "$0")/../../ci/tests/testlib.sh"
sim="$1"
reports="$2"
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "${browser}" ]; then
  [ "${CAIRN_REQUIRE_BROWSER:-0}" = 1 ] && fail "no chromium (ci/setup installs it)"
  echo "SKIP: no chromium"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT
mkdir -p "${reports}"

dom() {  # the DOM of page $1 after its scripts ran
  timeout 120 "${browser}" --headless --no-sandbox --disable-gpu --user-data-dir="${tmp}/profile" \
    --virtual-time-budget=5000 --dump-dom "file://$1" 2>"${tmp}/browser.err" || { cat "${tmp}/browser.err" >&2; fail "chromium failed on $1"; }
}
rows() { grep -o '<tr id="ev-[0-9]*" class="event' "$1" | wc -l; }

# A failing run: seed 11 of failed-fsync-retried, shrunk with a run limit (deterministic).
expect_rc 1 "${tmp}/shrink.out" "${sim}" --canary failed-fsync-retried --seed 11 --shrink --shrink-runs 1500 \
  --tape-out "${tmp}/shrunk.tape"
expect_rc 1 "${tmp}/replay.out" "${sim}" --replay "${tmp}/shrunk.tape" --trace-json "${tmp}/run.jsonl" --html "${tmp}/run.html"
says "${tmp}/replay.out" "the same failure as the tape records"
dom "${tmp}/run.html" > "${tmp}/run.dom"
want=$(wc -l < "${tmp}/run.jsonl")
got=$(rows "${tmp}/run.dom")
[ "${got}" -eq "${want}" ] || fail "the page shows ${got} events, the trace has ${want}"
grep -q "data-rendered=\"${want}\"" "${tmp}/run.dom" || fail "the page's script did not finish"
failure=$(tail -n 1 "${tmp}/run.jsonl" | python3 -c 'import json,sys; e=json.loads(sys.stdin.read()); assert e["kind"]=="failure"; print(e["result"])')
python3 - "${tmp}/run.dom" "${failure}" <<'PY' || fail "the failure marker does not carry the failure"
import html, re, sys
dom, failure = open(sys.argv[1]).read(), sys.argv[2]
m = re.search(r'<div id="failure" class="failure" data-check="([^"]*)"', dom)
assert m and html.unescape(m.group(1)) == failure, m and html.unescape(m.group(1))
assert 'class="event kind-failure cause"' in dom
causes = len(re.findall(r'class="event kind-[a-z]* cause"', dom))
assert causes >= 2, causes  # the failure and at least one event that caused it
PY
timeout 120 "${browser}" --headless --no-sandbox --disable-gpu --user-data-dir="${tmp}/profile" --hide-scrollbars \
  --window-size=1400,1000 --screenshot="${reports}/sim-html-page.png" "file://${tmp}/run.html" 2>/dev/null
[ -s "${reports}/sim-html-page.png" ] || fail "no screenshot"

# A passing run: no failure marker, every event shown.
expect_rc 0 "${tmp}/pass.out" "${sim}" --seed 5 --ops 30 --trace-json "${tmp}/pass.jsonl" --html "${tmp}/pass.html"
dom "${tmp}/pass.html" > "${tmp}/pass.dom"
[ "$(rows "${tmp}/pass.dom")" -eq "$(wc -l < "${tmp}/pass.jsonl")" ] || fail "the passing page lost events"
grep -q 'id="failure"' "${tmp}/pass.dom" && fail "a passing run shows a failure"
grep -q 'id="passed"' "${tmp}/pass.dom" || fail "a passing run does not say so"
echo "PASS: ${want} events shown; screenshot ${reports}/sim-html-page.png"
