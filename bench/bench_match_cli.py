#!/usr/bin/python3
"""fmnctl match over many messages against the bare parse of the same
lines (docs/benchmarks.md, "fmnctl match"): the messages are the corpus
again and again with fresh msg_ids, one compact envelope per line; each
round runs `bench_match --floor FILE` (json_loadb + json_decref of each
line, nothing else), then `fmnctl match FILE` and `fmnctl match` of an
empty file (its loading alone), so that the rate is of the messages,
the engine's loading left out. Rates are by CPU time (user + system) of
each process, less sensitive than wall time to what else runs on the
machine; wall time is shown too.

usage: bench/bench_match_cli.py --db DB [--messages N] [--rounds R]
                                [--build build]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(argv, out=subprocess.DEVNULL):
    """Run argv: (CPU seconds, wall seconds, peak RSS in kB, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.PIPE if out is None else out,
                       check=True, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime -
                                                before.ru_stime)
    return cpu, wall, after.ru_maxrss, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, "tests", "data",
                                                     "fmfi-dev.json"))
    opts = ap.parse_args()
    fmnctl = os.path.join(opts.build, "fmnctl")
    floor = os.path.join(opts.build, "bench", "bench_match")
    envs = [item["msg"] for item in json.load(open(opts.corpus))]
    with tempfile.TemporaryDirectory() as tmp:
        lines = os.path.join(tmp, "messages.jsonl")
        empty = os.path.join(tmp, "empty.jsonl")
        with open(lines, "w") as f:
            for i in range(opts.messages):
                env = dict(envs[i % len(envs)])
                env["msg_id"] = "%d-%s" % (2024, uuid.UUID(int=i + 1))
                f.write(json.dumps(env, separators=(",", ":")) + "\n")
        open(empty, "w").close()
        n = opts.messages
        print("%d messages, users from %s" % (n, opts.db))
        for r in range(opts.rounds):
            fc, fw, _, _ = run([floor, "--floor", lines])
            lc, lw, _, _ = run([fmnctl, "--db", opts.db, "match", empty])
            mc, mw, rss, _ = run([fmnctl, "--db", opts.db, "match", lines])
            print("round %d: floor %.0f messages/s; fmnctl match %.0f "
                  "messages/s (loading %.2f s left out); ratio %.2f by CPU "
                  "time, %.2f by wall time; peak RSS %.0f MB" % (
                      r + 1, n / fc, n / (mc - lc), lc, fc / (mc - lc),
                      fw / max(mw - lw, 1e-9), rss / 1024.0))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
