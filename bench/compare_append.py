#!/usr/bin/env python3
"""Compares the append path of two builds of the core in one command.

    bench/build_probe_at.sh COMMIT OUT_DIR     # cairn-append-probe built at COMMIT
    bench/compare_append.py OLD_PROBE NEW_PROBE [--rounds 30] [--dir /work]

For every record size and batch of cairn-bench's append table, the two probes run in
ABBA order (old, new, new, old, ...), so a drift of the disk or the machine over the
command favours neither, each on a fresh store in --dir with sync=always. It prints the
median records/s of each (stream creation excluded) and new / old, then the median time
of the first commit, which creates the stream. A timed threshold would be a flaky test:
the verdict is for a person to read, with the host stated beside it.
"""
import argparse
import os
import statistics
import subprocess

# (record bytes, batch, commits): the sizes and batches of cairn-bench's append table.
CONFIGS = [(256, 1, 600), (256, 16, 600), (256, 64, 300), (256, 1024, 50),
           (4096, 1, 600), (4096, 16, 200), (4096, 64, 60), (4096, 1024, 8)]


def run(probe, size, batch, commits, scratch):
    out = subprocess.run([probe, str(size), str(batch), str(commits), scratch],
                         capture_output=True, text=True, check=True)
    return float(out.stdout), float(out.stderr)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--dir", default="/tmp")
    a = p.parse_args()
    scratch = {"old": os.path.join(a.dir, "cairn-probe-old"), "new": os.path.join(a.dir, "cairn-probe-new")}
    first = {"old": [], "new": []}
    print("| record | batch | old records/s | new records/s | new / old |")
    print("|---|---|---|---|---|")
    for size, batch, commits in CONFIGS:
        rate = {"old": [], "new": []}
        for i in range(a.rounds):
            for name in (("old", "new") if i % 2 == 0 else ("new", "old")):
                r, f = run(getattr(a, name), size, batch, commits, scratch[name])
                rate[name].append(r)
                first[name].append(f)
        old, new = statistics.median(rate["old"]), statistics.median(rate["new"])
        print(f"| {size} B | {batch} | {old:.0f} | {new:.0f} | {new / old:.3f} |", flush=True)
    print(f"first commit (creates the stream): old {statistics.median(first['old']):.0f} us, "
          f"new {statistics.median(first['new']):.0f} us")


if __name__ == "__main__":
    main()
