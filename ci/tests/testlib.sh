# Helpers shared by the shell tests (sourced, not run).
#   fail MESSAGE             stop the test with FAIL: MESSAGE
#   expect_rc RC OUT CMD...  run CMD (stdout+stderr to OUT); it must exit with RC
#   says OUT TEXT            OUT must contain TEXT (a fixed string)
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() {
  local want="$1" out="$2"; shift 2
  set +e; "$@" > "$out" 2>&1; local rc=$?; set -e
  [ "$rc" -eq "$want" ] || { cat "$out" >&2; fail "exit $rc (expected $want): $*"; }
}
says() { grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "expected '$2' in the output"; }; }
