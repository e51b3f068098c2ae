#!/usr/bin/env bash
# The README's "When a seed fails" walkthrough is what this build prints: the block
# between the walkthrough markers equals ci/readme-walkthrough's output, run now.
#   readme_walkthrough_test.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$(dirname "$0")/testlib.sh"
got=$("${root}/ci/readme-walkthrough" "$1")
want=$(python3 - "${root}/README.md" <<'PY'
import sys
text = open(sys.argv[1]).read()
begin, end = "<!-- walkthrough:begin (ci/readme-walkthrough --update) -->\n", "<!-- walkthrough:end -->"
print(text[text.index(begin) + len(begin):text.index(end)], end="")
PY
) || fail "README.md has no walkthrough markers"
if [ "${got}" != "${want}" ]; then
  diff <(echo "${want}") <(echo "${got}") >&2 || true
  fail "the README's walkthrough is stale (README above, this build below): run ci/readme-walkthrough --update"
fi
echo "readme_walkthrough_test: the README's walkthrough is what this build prints"
