#!/usr/bin/env bash
# End-to-end test of the `cairn` command on a real directory: append a real text file,
# read it back byte for byte, verify, damage one byte mid-log and check that verify names
# it, cut the tail and check it is reported as a torn tail, and check usage errors.
#   cli_test.sh path/to/cairn
set -euo pipefail
cairn="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

src="$work/input.log"
if [ -s /var/log/dpkg.log ]; then
  cp /var/log/dpkg.log "$src"
else
  for i in $(seq 1 5000); do echo "2026-11-21 12:00:$((i % 60)) status installed package-$i:amd64 1.$i"; done > "$src"
fi
lines=$(wc -l < "$src")
echo "input: $lines lines, $(wc -c < "$src") bytes"

# Round trip.
out=$("$cairn" append --dir "$work/store" --stream 1 --batch 16 --max-segment-bytes 65536 < "$src")
echo "$out"
echo "$out" | grep -q "appended offsets 0\.\." || fail "append did not print its offset range"
"$cairn" read --dir "$work/store" --stream 1 > "$work/out.log"
cmp "$src" "$work/out.log" || fail "read did not round-trip byte for byte"
"$cairn" verify --dir "$work/store" > "$work/verify.txt" || fail "verify of a clean store failed"
grep -q "^clean" "$work/verify.txt" || fail "verify did not say clean"
"$cairn" stat --dir "$work/store" --json | grep -q '"next_offset"' || fail "stat --json"
"$cairn" read --dir "$work/store" --stream 1 --from 3 --limit 2 --json > "$work/two.jsonl"
[ "$(wc -l < "$work/two.jsonl")" -eq 2 ] || fail "read --limit 2 --json did not print two lines"

# Damage one byte in the middle of the first segment: verify must name file, byte, offset.
cp -r "$work/store" "$work/damaged"
seg=$(ls "$work/damaged/stream-00000000000000000001/"*.log | head -n 1)
size=$(stat -c %s "$seg")
pos=$((size / 2))
python3 - "$seg" "$pos" <<'PY'
import sys
path, pos = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(pos); b = f.read(1); f.seek(pos); f.write(bytes([b[0] ^ 0x55]))
PY
set +e
"$cairn" verify --dir "$work/damaged" > "$work/damaged.txt" 2>&1
rc=$?
set -e
cat "$work/damaged.txt"
[ "$rc" -eq 1 ] || fail "verify exit $rc on a damaged store, expected 1"
grep -q "damage: stream 1 file $(basename "$seg") byte [0-9]* offset [0-9]*" "$work/damaged.txt" \
  || fail "verify did not name the file, byte position and offset"
set +e
"$cairn" read --dir "$work/damaged" --stream 1 > /dev/null 2> "$work/read-err.txt"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "read through damage exit $rc, expected 1"
grep -q "corruption" "$work/read-err.txt" || fail "read through damage did not report corruption"

# Repair needs --yes; with it the stream is cut at the damage and verifies clean.
set +e
"$cairn" repair --dir "$work/damaged" --stream 1 2> /dev/null
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "repair without --yes exit $rc, expected 2"
"$cairn" repair --dir "$work/damaged" --stream 1 --yes
ls "$work/damaged/stream-00000000000000000001/" | grep -q quarantine || fail "repair kept no quarantine file"
"$cairn" verify --dir "$work/damaged" > /dev/null || fail "verify after repair is not clean"

# A tail cut mid-frame is a torn tail: truncated, reported, not damage.
cp -r "$work/store" "$work/torn"
last=$(ls "$work/torn/stream-00000000000000000001/"*.log | tail -n 1)
truncate -s -7 "$last"
"$cairn" verify --dir "$work/torn" > "$work/torn.txt" || fail "verify after a torn tail should exit 0"
grep -q "^torn tail: stream 1 file $(basename "$last") cut at byte" "$work/torn.txt" || fail "torn tail not reported"

# Usage errors exit 2.
set +e
"$cairn" read --stream 1 > /dev/null 2>&1; [ $? -eq 2 ] || fail "missing --dir should exit 2"
"$cairn" purge --dir "$work/store" > /dev/null 2>&1; [ $? -eq 2 ] || fail "purge without a limit should exit 2"
"$cairn" purge --dir "$work/store" --older-than 3x > /dev/null 2>&1; [ $? -eq 2 ] || fail "bad duration should exit 2"
"$cairn" frobnicate > /dev/null 2>&1; [ $? -eq 2 ] || fail "unknown command should exit 2"
set -e
"$cairn" purge --dir "$work/store" --max-bytes 0 | grep -q "^purged" || fail "purge --max-bytes"
echo "cli test passed"
