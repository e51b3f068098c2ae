#!/usr/bin/env bash
# End-to-end test of the `cairn` command on a real directory, as a new user would run it:
# a text file round-trips byte for byte, a binary one through --length-prefixed and
# --json; one writer at a time; stat/verify/read never change a byte, also beside a live
# writer; a deleted oldest segment, a truncated sealed or active segment after a clean
# close and a raised --max-record-bytes end in a clear error or a damage report and lose
# nothing; repair previews exactly what it does and keeps what it removes; compressed and
# pipelined appends round-trip.
#   cli_test.sh path/to/cairn
set -euo pipefail
cairn="$1"
work=$(mktemp -d)
writer_pid=""
cleanup() {
  [ -n "$writer_pid" ] && kill "$writer_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=ci/tests/testlib.sh
. "$(dirname "$0")/../../../ci/tests/testlib.sh"
snapshot() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
stream1() { echo "$1/stream-00000000000000000001"; }

src="$work/input.log"
if [ -s /var/log/dpkg.log ]; then
  cp /var/log/dpkg.log "$src"
else
  for i in $(seq 1 5000); do echo "2026-11-21 12:00:$((i % 60)) status installed package-$i:amd64 1.$i"; done > "$src"
fi
echo "input: $(wc -l < "$src") lines, $(wc -c < "$src") bytes"

# ---- Round trip of a text file.
out=$("$cairn" append --dir "$work/store" --stream 1 --batch 16 --max-segment-bytes 65536 < "$src")
echo "$out"
echo "$out" | grep -q "appended offsets 0\.\." || fail "append did not print its offset range"
"$cairn" read --dir "$work/store" --stream 1 > "$work/out.log"
cmp "$src" "$work/out.log" || fail "read did not round-trip byte for byte"
expect_rc 0 "$work/verify.txt" "$cairn" verify --dir "$work/store"
grep -q "^clean" "$work/verify.txt" || fail "verify did not say clean"
"$cairn" stat --dir "$work/store" --json | grep -q '"next_offset"' || fail "stat --json"
"$cairn" read --dir "$work/store" --stream 1 --from 3 --limit 2 --json > "$work/two.jsonl"
[ "$(wc -l < "$work/two.jsonl")" -eq 2 ] || fail "read --limit 2 --json did not print two lines"

# ---- Binary records: --length-prefixed is the exact inverse of itself; --json is lossless.
python3 - "$work/binary.in" <<'PY'
import random, struct, sys
rng = random.Random(7)
with open(sys.argv[1], "wb") as f:
    for i in range(300):
        n = rng.choice([0, 1, 7, 255, 256, 4000, rng.randrange(0, 70000)])
        f.write(struct.pack("<I", n) + bytes(rng.randrange(256) for _ in range(n)))
PY
"$cairn" append --dir "$work/bin" --stream 4 --length-prefixed --batch 7 > /dev/null < "$work/binary.in"
"$cairn" read --dir "$work/bin" --stream 4 --length-prefixed > "$work/binary.out"
cmp "$work/binary.in" "$work/binary.out" || fail "read --length-prefixed is not the inverse of append --length-prefixed"
"$cairn" read --dir "$work/bin" --stream 4 --json > "$work/binary.jsonl"
python3 - "$work/binary.in" "$work/binary.jsonl" <<'PY' || fail "read --json lost bytes of binary records"
import base64, json, struct, sys
raw = open(sys.argv[1], "rb").read()
want, pos = [], 0
while pos < len(raw):
    n = struct.unpack_from("<I", raw, pos)[0]; want.append(raw[pos + 4:pos + 4 + n]); pos += 4 + n
got = []
for line in open(sys.argv[2]):
    j = json.loads(line)
    if j["kind"] != "data": continue
    got.append(base64.b64decode(j["payload"]) if j["encoding"] == "base64" else j["payload"].encode("utf-8"))
assert got == want, (len(got), len(want))
assert any(json.loads(l)["encoding"] == "base64" for l in open(sys.argv[2]))
PY

# ---- One writer: a second writer is refused and changes nothing; readers work beside it.
mkfifo "$work/feed"
"$cairn" append --dir "$work/store" --stream 2 < "$work/feed" > "$work/writer.out" 2>&1 &
writer_pid=$!
exec 7> "$work/feed"
for i in $(seq 1 50); do echo "live record $i" >&7; done
sleep 0.5
before=$(snapshot "$work/store")
expect_rc 1 "$work/second.txt" "$cairn" append --dir "$work/store" --stream 2 < "$src"
grep -q "locked" "$work/second.txt" || fail "a second writer did not get a 'locked' error: $(cat "$work/second.txt")"
expect_rc 0 "$work/live-stat.txt" "$cairn" stat --dir "$work/store"
expect_rc 0 "$work/live-verify.txt" "$cairn" verify --dir "$work/store"
grep -qi "damage" "$work/live-verify.txt" && fail "verify beside a live writer reported damage"
[ "$(snapshot "$work/store")" = "$before" ] || fail "stat, verify or a refused writer changed the store"
exec 7>&-
wait "$writer_pid" || fail "the live writer failed: $(cat "$work/writer.out")"
writer_pid=""
[ "$("$cairn" read --dir "$work/store" --stream 2 | wc -l)" -eq 50 ] || fail "the live writer's records are not all there"

# ---- Damage is reported, never cut; read, verify and repair name the same byte.
cp -r "$work/store" "$work/damaged"
seg=$(ls "$(stream1 "$work/damaged")/"*.log | head -n 1)
pos=$(( $(stat -c %s "$seg") / 2 ))
python3 - "$seg" "$pos" <<'PY'
import sys
path, pos = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(pos); b = f.read(1); f.seek(pos); f.write(bytes([b[0] ^ 0x55]))
PY
before=$(snapshot "$work/damaged")
expect_rc 1 "$work/damaged.txt" "$cairn" verify --dir "$work/damaged"
cat "$work/damaged.txt"
where=$(grep -o "file $(basename "$seg") byte [0-9]* offset [0-9]*" "$work/damaged.txt" | head -n 1)
[ -n "$where" ] || fail "verify did not name the file, byte position and offset"
expect_rc 1 "$work/read-err.txt" "$cairn" read --dir "$work/damaged" --stream 1
grep -q "corruption" "$work/read-err.txt" || fail "read through damage did not report corruption"
byte=$(echo "$where" | awk '{print $4}')
[ "$(grep -c "file $(basename "$seg") byte $byte " "$work/damaged.txt")" -eq 1 ] || fail "verify printed the finding more than once"
grep -q "byte $byte" "$work/read-err.txt" || fail "read named another byte than verify ($where): $(cat "$work/read-err.txt")"
[ "$(snapshot "$work/damaged")" = "$before" ] || fail "verify or read changed a damaged store"
# The report is the same on one thread as on three (--threads: helper threads hash sealed segments).
expect_rc 1 "$work/damaged-1.txt" "$cairn" verify --dir "$work/damaged" --threads 1
expect_rc 1 "$work/damaged-3.txt" "$cairn" verify --dir "$work/damaged" --threads 3
cmp -s "$work/damaged-1.txt" "$work/damaged-3.txt" || fail "verify --threads 3 reported otherwise than --threads 1"
cmp -s "$work/damaged-1.txt" "$work/damaged.txt" || fail "verify --threads 1 reported otherwise than the default"
expect_rc 2 /dev/null "$cairn" verify --dir "$work/damaged" --threads 0
expect_rc 2 "$work/repair-usage.txt" "$cairn" repair --dir "$work/damaged" --stream 1
expect_rc 0 "$work/dry.txt" "$cairn" repair --dir "$work/damaged" --stream 1 --dry-run
grep -q "repair would" "$work/dry.txt" || fail "repair --dry-run did not preview"
[ "$(snapshot "$work/damaged")" = "$before" ] || fail "repair --dry-run changed the store"
expect_rc 0 "$work/repair.txt" "$cairn" repair --dir "$work/damaged" --stream 1 --yes
cat "$work/repair.txt"
diff <(grep "remove" "$work/dry.txt") <(grep "remove" "$work/repair.txt") || fail "repair did other than its dry run said"
kept=$(ls "$(stream1 "$work/damaged")" | grep "removed-at-" | head -n 1)
[ -n "$kept" ] || fail "repair kept no file of the bytes it removed"
expect_rc 0 "$work/after-repair.txt" "$cairn" verify --dir "$work/damaged"
removed=$(grep -o "[0-9]* records): damaged" "$work/repair.txt" | head -n 1 | awk '{print $1}')
"$cairn" read --dir "$work/damaged" --stream 1 > "$work/repaired.log" 2> "$work/repaired.err"
grep -q "removed by repair; skipping them" "$work/repaired.err" || fail "read did not say it skipped the removed offsets"
[ $(( $(wc -l < "$work/repaired.log") + removed )) -eq "$(wc -l < "$src")" ] || fail "repair removed more than it said"

# ---- A deleted oldest segment is damage, not retention.
cp -r "$work/store" "$work/deleted"
rm "$(ls "$(stream1 "$work/deleted")/"*.log | head -n 1)"
expect_rc 1 "$work/deleted.txt" "$cairn" verify --dir "$work/deleted"
grep -q "segment file is missing" "$work/deleted.txt" || fail "a deleted oldest segment was not reported: $(cat "$work/deleted.txt")"

# ---- A segment truncated after a clean close is damage, never a torn tail: nothing is cut.
for which in head tail; do
  cp -r "$work/store" "$work/trunc-$which"
  victim=$(ls "$(stream1 "$work/trunc-$which")/"*.log | "$which" -n 1)
  truncate -s -100 "$victim"
  size=$(stat -c %s "$victim")
  expect_rc 1 "$work/trunc-$which.txt" "$cairn" verify --dir "$work/trunc-$which"
  grep -q "^torn tail" "$work/trunc-$which.txt" && fail "a $which segment cut after a clean close was taken for a torn tail"
  grep -q "shorter" "$work/trunc-$which.txt" || fail "a $which segment cut after a clean close was not reported: $(cat "$work/trunc-$which.txt")"
  [ "$(stat -c %s "$victim")" -eq "$size" ] || fail "verify cut the $which segment"
  # A damaged sealed segment does not stop appends (reads of it fail); a damaged active
  # one does until repair: appending after it would bury it.
  want=$([ "$which" = tail ] && echo 1 || echo 0)
  expect_rc "$want" "$work/trunc-append-$which.txt" "$cairn" append --dir "$work/trunc-$which" --stream 1 <<< "more"
  grep -q "shorter" "$work/trunc-append-$which.txt" || fail "a writer's open did not report the cut $which segment"
  [ "$(stat -c %s "$victim")" -eq "$size" ] || fail "a writer's open cut the $which segment"
done

# ---- A record above the default limit, appended with a raised one, survives plain commands.
python3 -c "import sys; sys.stdout.buffer.write((2_000_000).to_bytes(4, 'little') + bytes(range(256)) * 7812 + bytes(128))" > "$work/big.in"
"$cairn" append --dir "$work/big" --stream 9 --length-prefixed --max-record-bytes 4194304 > /dev/null < "$work/big.in"
expect_rc 0 "$work/big-stat.txt" "$cairn" stat --dir "$work/big"
grep -q "offsets 0\.\.0," "$work/big-stat.txt" || fail "stat lost the large record: $(cat "$work/big-stat.txt")"
"$cairn" read --dir "$work/big" --stream 9 --length-prefixed > "$work/big.out"
cmp "$work/big.in" "$work/big.out" || fail "the large record did not read back"
"$cairn" append --dir "$work/big" --stream 9 <<< "small" > /dev/null
"$cairn" read --dir "$work/big" --stream 9 --limit 1 --length-prefixed | cmp - "$work/big.in" || fail "a plain writer lost the large record"

# ---- A torn tail after a writer died is cut by a writer, only reported by readers.
mkfifo "$work/feed2"
"$cairn" append --dir "$work/torn" --stream 1 --batch 1 < "$work/feed2" > /dev/null 2>&1 &
writer_pid=$!
exec 8> "$work/feed2"
for i in $(seq 1 200); do echo "record $i before the crash" >&8; done
sleep 0.5
kill -9 "$writer_pid"
wait "$writer_pid" 2>/dev/null || true
writer_pid=""
exec 8>&-
last=$(ls "$(stream1 "$work/torn")/"*.log | tail -n 1)
truncate -s -7 "$last"
size=$(stat -c %s "$last")
expect_rc 0 "$work/torn.txt" "$cairn" verify --dir "$work/torn"
grep -q "^torn tail: stream 1 file $(basename "$last") would be cut at byte" "$work/torn.txt" || fail "torn tail not reported: $(cat "$work/torn.txt")"
grep -q "possibly acknowledged" "$work/torn.txt" || fail "the cut record, acknowledged before the crash, was not called possibly acknowledged"
[ "$(stat -c %s "$last")" -eq "$size" ] || fail "a read-only verify cut the torn tail"
"$cairn" append --dir "$work/torn" --stream 1 <<< "after the tail" > "$work/torn-append.txt" 2>&1
grep -q "torn tail: stream 1 file $(basename "$last") cut at byte" "$work/torn-append.txt" || fail "the writer did not cut the torn tail"
[ "$("$cairn" read --dir "$work/torn" --stream 1 | wc -l)" -eq 200 ] || fail "199 records and the new one should read back"

# ---- Usage errors exit 2.
expect_rc 2 /dev/null "$cairn" read --stream 1
expect_rc 2 /dev/null "$cairn" purge --dir "$work/store"
expect_rc 2 /dev/null "$cairn" purge --dir "$work/store" --older-than 3x
expect_rc 2 /dev/null "$cairn" frobnicate
expect_rc 2 /dev/null "$cairn" read --dir "$work/store" --stream 1 --json --length-prefixed
# Numbers: a negative or malformed value is refused with the value named, never wrapped.
expect_rc 2 "$work/neg.txt" "$cairn" read --dir "$work/store" --stream 1 --limit -5
grep -q "not '-5'" "$work/neg.txt" || fail "read --limit -5: $(cat "$work/neg.txt")"
expect_rc 2 /dev/null "$cairn" read --dir "$work/store" --stream -1
expect_rc 2 /dev/null "$cairn" read --dir "$work/store" --stream 1 --from -3
expect_rc 2 /dev/null "$cairn" verify --dir "$work/store" --stream 18446744073709551616
expect_rc 2 /dev/null "$cairn" append --dir "$work/never" --stream 1 --max-record-bytes -1 < /dev/null
expect_rc 2 /dev/null "$cairn" purge --dir "$work/store" --max-bytes -1
[ ! -e "$work/never" ] || fail "a refused append created its store"
expect_rc 0 "$work/version.txt" "$cairn" --version
grep -Eq "^cairn commit ([0-9a-f]+|unknown), segment format version 1, manifest version 1" "$work/version.txt" ||
  fail "--version: $(cat "$work/version.txt")"

# ---- Input that ends inside a length-prefixed record: the records before it are named, durable.
python3 -c "import sys; w=sys.stdout.buffer.write; [w((5).to_bytes(4,'little') + b'rec-%d' % i) for i in range(3)]; w((9).to_bytes(4,'little') + b'cut')" > "$work/cut.in"
expect_rc 1 "$work/cut.txt" "$cairn" append --dir "$work/cut" --stream 1 --length-prefixed < "$work/cut.in"
grep -q "stdin ends inside a length-prefixed record" "$work/cut.txt" || fail "no error for the cut record: $(cat "$work/cut.txt")"
grep -q "appended offsets 0\.\.2 (3 records, 15 bytes) to stream 1 before the error" "$work/cut.txt" || fail "the appended records were not named: $(cat "$work/cut.txt")"
grep -q "durable: all 3 of them" "$work/cut.txt" || fail "durability of the appended records not stated"
[ "$("$cairn" read --dir "$work/cut" --stream 1 | wc -l)" -eq 3 ] || fail "the three records before the cut did not read back"
expect_rc 0 "$work/cut-stat.txt" "$cairn" stat --dir "$work/cut"
grep -q "stream 1: offsets 0\.\.2," "$work/cut-stat.txt" || fail "stat range is not inclusive: $(cat "$work/cut-stat.txt")"

# ---- Compression: the same file round-trips byte for byte through lz4 and zstd stores,
# which take fewer bytes than the plain one, and verify clean.
plain_bytes=$(du -sb "$work/store" | cut -f1)
for c in lz4 zstd; do
  "$cairn" append --dir "$work/$c" --stream 1 --batch 16 --max-segment-bytes 65536 --compression "$c" < "$src" > /dev/null
  "$cairn" read --dir "$work/$c" --stream 1 | cmp - "$src" || fail "$c: read did not round-trip byte for byte"
  expect_rc 0 "$work/$c-verify.txt" "$cairn" verify --dir "$work/$c"
  [ "$(du -sb "$work/$c" | cut -f1)" -lt "$plain_bytes" ] || fail "$c: the compressed store is not smaller"
  "$cairn" read --dir "$work/$c" --stream 1 --mapped | cmp - "$src" || fail "$c: a mapped read did not round-trip"
  expect_rc 0 "$work/$c-verify-mapped.txt" "$cairn" verify --dir "$work/$c" --mapped
  ls "$work/$c"/stream-*/seg-*.log | sed -n 2p | grep -q . || fail "$c: one segment only: no sealed segment was mapped"
done
expect_rc 2 "$work/bad-codec.txt" "$cairn" append --dir "$work/x" --stream 1 --compression gzip

# ---- Pipelined appends: each batch's fdatasync runs while the next is written; the file
# round-trips byte for byte across several segments and verifies clean.
expect_rc 0 "$work/pipelined.txt" "$cairn" append --dir "$work/pipelined" --stream 1 --batch 8 --max-segment-bytes 65536 \
  --pipelined < "$src"
"$cairn" read --dir "$work/pipelined" --stream 1 | cmp - "$src" || fail "pipelined: read did not round-trip byte for byte"
expect_rc 0 "$work/pipelined-verify.txt" "$cairn" verify --dir "$work/pipelined"
ls "$work/pipelined"/stream-*/seg-*.log | sed -n 2p | grep -q . || fail "pipelined: one segment only: no rotation with a sync in flight"

# ---- Merkle proofs: a record's inclusion and the log's consistency verify without the
# store, also after retention removed the records they are about; altered ones do not.
root_of() { "$cairn" root --dir "$work/store" --stream 1 --size "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["root"])'; }
"$cairn" prove --dir "$work/store" --stream 1 --offset 3 --size 40 > "$work/inc.json"
"$cairn" prove --dir "$work/store" --stream 1 --old-size 10 --size 40 > "$work/con.json"
root40=$(root_of 40)
expect_rc 0 "$work/inc.txt" "$cairn" check-proof "$work/inc.json" --root "$root40"
says "$work/inc.txt" "verified: leaf 3 "
expect_rc 0 "$work/con.txt" "$cairn" check-proof --root "$root40" < "$work/con.json"
says "$work/con.txt" "verified: the tree of 10 leaves"
expect_rc 1 "$work/wrong-root.txt" "$cairn" check-proof "$work/inc.json" --root "$(root_of 41)"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); p=d['path'][0]; d['path'][0]=('0' if p[0]!='0' else '1')+p[1:]; print(json.dumps(d))" \
  "$work/inc.json" > "$work/bad.json"
expect_rc 1 "$work/bad.txt" "$cairn" check-proof "$work/bad.json"
says "$work/bad.txt" "does not verify"
echo '{"type":"inclusion"}' > "$work/malformed.json"
expect_rc 1 "$work/malformed.txt" "$cairn" check-proof "$work/malformed.json"
says "$work/malformed.txt" "malformed proof"
expect_rc 2 "$work/prove-usage.txt" "$cairn" prove --dir "$work/store" --stream 1

"$cairn" purge --dir "$work/store" --max-bytes 0 | grep -q "^purged" || fail "purge --max-bytes"
expect_rc 0 "$work/after-purge.txt" "$cairn" verify --dir "$work/store"
[ "$(root_of 40)" = "$root40" ] || fail "the root of the first 40 records changed with the purge"
"$cairn" prove --dir "$work/store" --stream 1 --offset 3 --size 40 | cmp - "$work/inc.json" || fail "the proof changed with the purge"
expect_rc 0 "$work/inc-after.txt" "$cairn" check-proof "$work/inc.json" --root "$root40"

# ---- A damaged spine entry (leaf 3, long sealed): verify names it, proofs over it fail.
spine=$(ls "$work"/store/stream-*1/spine)
printf '\xff\xff\xff\xff' | dd of="$spine" bs=1 seek=$((32 + 3 * 36 + 8)) conv=notrunc status=none
expect_rc 1 "$work/spine-verify.txt" "$cairn" verify --dir "$work/store"
says "$work/spine-verify.txt" "spine: stream 1"
says "$work/spine-verify.txt" "spine entry for offset 3 fails its CRC32C"
expect_rc 1 "$work/spine-root.txt" "$cairn" root --dir "$work/store" --stream 1 --size 40
echo "cli test passed"
