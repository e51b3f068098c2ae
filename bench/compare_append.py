#!/usr/bin/env python3
"""Compares cairn's append throughput between two builds of cairn-bench in one command.

    bench/compare_append.py OLD_CAIRN_BENCH NEW_CAIRN_BENCH [--rounds 3] [--dir /work]

The two binaries run alternately (old, new, old, new, ...), each a full `--runs 1` bench
into a scratch directory, so both see the same disk and machine load. For every record
size and batch it prints the median of cairn's records/s and of cairn x raw (raw measured
in the same bench run) for each build, and new / old. Exit status 0; the verdict is for a
person to read (a timed threshold would be a flaky test).
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile


def run(binary, scratch):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([binary, "--out", out, "--runs", "1", "--dir", scratch], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(os.path.join(out, "results.json")) as f:
            return json.load(f)["append"]


def cairn_rows(rows):
    out = {}
    for r in rows:
        if r["system"] == "cairn":
            out[(r["record_bytes"], r["batch"])] = (r["records_per_s"], r["ratio_to_raw"])
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--dir", default="/tmp")
    a = p.parse_args()
    seen = {"old": [], "new": []}
    for i in range(a.rounds):
        for name in ("old", "new"):
            seen[name].append(cairn_rows(run(getattr(a, name), a.dir)))
            print(f"round {i + 1}/{a.rounds}: {name} done", flush=True)
    print("| record | batch | old rec/s | new rec/s | new/old | old x raw | new x raw |")
    print("|---|---|---|---|---|---|---|")
    for key in sorted(seen["old"][0]):
        old_rps = statistics.median(r[key][0] for r in seen["old"])
        new_rps = statistics.median(r[key][0] for r in seen["new"])
        old_ratio = statistics.median(r[key][1] for r in seen["old"])
        new_ratio = statistics.median(r[key][1] for r in seen["new"])
        print(f"| {key[0]} B | {key[1]} | {old_rps:.0f} | {new_rps:.0f} | {new_rps / old_rps:.3f} | "
              f"{old_ratio:.2f} | {new_ratio:.2f} |")


if __name__ == "__main__":
    main()
