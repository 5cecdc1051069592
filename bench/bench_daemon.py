#!/usr/bin/python3
"""Benchmark of the running daemon (issue 8): N users imported with
`fmnctl import` (default filters in two contexts, ~20 owned packages
each), fmnd on the capture backends, then

  1. a burst of B messages published as fast as possible: messages per
     second processed, messages lost, notifications queued, peak memory;
  2. a steady run at R messages/s: p50/p99 from publish to the hand-off
     to the backend, over every notification delivered.

Real corpus messages with fresh msg_ids, published in fedmsg frames by
build/bench/bench_load. Prints the figures; asserts nothing.

With --signed bench_load signs every message with the test PKI's
shell-app01 key, as a real fedmsg bus carries them (each message then
has some 2.4 KB of signature and certificate text to parse); with
--validate fmnd also checks them ([bus] validate_signatures = yes, the
test CA and CRL of tests/data/pki): the verified throughput, and beside
--signed alone what the checks cost.

With --db, a copy of that database's users is used instead of N made
here (bench/gen_users.py and fmnctl import, as docs/benchmarks.md shows
for 100,000 users).

usage: bench/bench_daemon.py [--users 10000 | --db DB] [--burst 50000]
                             [--rate 1000] [--steady 10000] [--build build]
                             [--keep] [--signed] [--validate]
"""
import argparse
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PKI = os.path.join(ROOT, "tests", "data", "pki")
SIGNER = os.path.join(PKI, "shell-app01.phx2.fedoraproject.org")
SIGN_ARGS = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def peak_rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise SystemExit("bench_daemon: timed out waiting for " + what)


class Daemon:
    def __init__(self, fmnd, db, port, tmp, signed=False):
        self.ready = threading.Event()
        self.lines = []
        conf = os.path.join(tmp, "fmn.conf")
        with open(conf, "w") as f:
            if signed:
                f.write("[bus]\nvalidate_signatures = yes\n"
                        "ca_cert = %s\ncrl = %s\n" % (
                            os.path.join(PKI, "ca.crt"),
                            os.path.join(PKI, "crl.pem")))
        self.proc = subprocess.Popen(
            [fmnd, "-c", conf, "--db", db, "--bus",
             "tcp://127.0.0.1:%d" % port,
             "--smtp", "capture:" + os.path.join(tmp, "mail.jsonl"),
             "--irc", "capture:" + os.path.join(tmp, "irc.jsonl")],
            stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(120):
            self.proc.kill()
            raise SystemExit("bench_daemon: fmnd not ready:\n" +
                             "".join(self.lines[-20:]))

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line)
            if "fmnd: ready" in line:
                self.ready.set()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def bench_messages(con, seed):
    """(count, first received, last received) of a run's messages."""
    return con.execute(
        "SELECT count(*), min(received), max(received) FROM messages "
        "WHERE msg_id LIKE ?", ("2026-bench-%d-%%" % seed,)).fetchone()


def counters(con):
    return dict(con.execute("SELECT name, value FROM counters"))


def pending(con):
    # One count per state, so each uses its partial index.
    return con.execute(
        "SELECT (SELECT count(*) FROM notifications WHERE state = 'queued')"
        " + (SELECT count(*) FROM notifications WHERE state = 'sending')"
        " + (SELECT count(*) FROM notifications WHERE state = 'batched')"
    ).fetchone()[0]


def publish(load, port, count, rate, seed, corpus):
    out = subprocess.run(
        [load, "--endpoint", "tcp://127.0.0.1:%d" % port, "--count",
         str(count), "--rate", str(rate), "--seed", str(seed),
         "--corpus", corpus] + SIGN_ARGS, capture_output=True, text=True,
        check=True)
    return out.stdout.strip()


def latencies(tmp, seed):
    prefix = "2026-bench-%d-" % seed
    lat = []
    for name in ("mail.jsonl", "irc.jsonl"):
        path = os.path.join(tmp, name)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                d = json.loads(line)
                for n in d["notices"]:
                    mid = n.get("msg_id") or ""
                    if mid.startswith(prefix):
                        sent = int(mid.rsplit("-", 1)[1]) / 1e6
                        lat.append(d["t"] - sent)
    lat.sort()
    return lat


def pct(v, p):
    return v[min(len(v) - 1, int(len(v) * p / 100.0))] if v else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--burst", type=int, default=50000)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--steady", type=int, default=10000,
                    help="messages in the steady-rate latency run")
    ap.add_argument("--db", help="a database of users to copy instead")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--signed", action="store_true",
                    help="signed messages")
    ap.add_argument("--validate", action="store_true",
                    help="signed messages, and fmnd checking them")
    o = ap.parse_args()
    o.signed = o.signed or o.validate
    if o.signed:
        SIGN_ARGS.extend(["--sign-key", SIGNER + ".key", "--sign-cert",
                          SIGNER + ".crt"])
        print("signed messages (1024-bit RSA, test PKI), fmnd with "
              "validate_signatures = %s" % ("yes" if o.validate else "no"))
    fmnctl = os.path.join(o.build, "fmnctl")
    fmnd = os.path.join(o.build, "fmnd")
    load = os.path.join(o.build, "bench", "bench_load")
    corpus = os.path.join(ROOT, "tests", "data", "fmfi-dev.json")
    tmp = tempfile.mkdtemp(prefix="fmn-bench-")
    db = os.path.join(tmp, "fmn.db")
    try:
        if o.db:
            shutil.copyfile(o.db, db)
            print("users from %s" % o.db)
        else:
            users = os.path.join(tmp, "users.json")
            with open(users, "w") as f:
                subprocess.run([sys.executable,
                                os.path.join(HERE, "gen_users.py"),
                                str(o.users), "--fmnctl", fmnctl], stdout=f,
                               check=True)
            t = time.time()
            subprocess.run([fmnctl, "--db", db, "import", users],
                           check=True, stdout=subprocess.DEVNULL)
            print("import of %d users: %.1f s" % (o.users, time.time() - t))

        port = free_port()
        t = time.time()
        d = Daemon(fmnd, db, port, tmp, o.validate)
        try:
            run(o, d, db, port, load, corpus, tmp, t)
        finally:
            if d.proc.poll() is None:
                d.proc.kill()
    finally:
        if o.keep:
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(o, d, db, port, load, corpus, tmp, started):
    """The burst, then the steady run, against a ready daemon."""
    print("fmnd ready in %.1f s (engine compiled), %.0f MB" %
          (time.time() - started, peak_rss_mb(d.proc.pid)))
    con = sqlite3.connect(db, timeout=30)

    # 1. The burst. Polling reads only the counters table, so the
    # measurement costs the daemon nothing.
    base = counters(con).get("messages_processed", 0)
    t0 = time.time()
    print("burst: " + publish(load, port, o.burst, 0, 1, corpus))

    def burst_done():
        return (counters(con).get("messages_processed", 0) - base >=
                o.burst)

    try:
        wait_for(burst_done, 600, "the burst to be processed")
    except SystemExit:
        pass
    n, first, last = bench_messages(con, 1)
    c = counters(con)
    if o.signed and first:
        # bench_load signed them all before sending the first: from the
        # first message's arrival (the first commit is within 50 ms).
        t0 = first
    rate = n / (last - t0) if n and last > t0 else 0
    print("burst: %d of %d messages processed in %.2f s: %.0f "
          "messages/s; lost %d; %d notifications queued; invalid %d, "
          "duplicate %d, dropped %d" %
          (n, o.burst, (last or t0) - t0, rate, o.burst - n,
           con.execute("SELECT count(*) FROM notifications n JOIN "
                       "messages m ON m.id = n.message_id WHERE "
                       "m.msg_id LIKE '2026-bench-1-%'").fetchone()[0],
           c.get("messages_invalid", 0), c.get("messages_duplicate", 0),
           c.get("messages_dropped", 0)))
    print("burst: peak memory %.0f MB" % peak_rss_mb(d.proc.pid))
    wait_for(lambda: pending(con) == 0, 900,
             "the burst's notifications to be delivered")
    print("burst: its notifications all handed off %.1f s after the "
          "last message was processed" % (time.time() - last))

    # 2. Latency at a steady rate.
    base = counters(con).get("messages_processed", 0)
    print("steady: " + publish(load, port, o.steady, o.rate, 2, corpus))
    wait_for(lambda: counters(con).get("messages_processed", 0) - base >=
             o.steady, 300, "the steady run to be processed")
    wait_for(lambda: pending(con) == 0, 300,
             "the steady run to be delivered")
    lat = latencies(tmp, 2)
    print("steady: %d messages at %d/s, %d notifications: publish to "
          "hand-off p50 %.1f ms, p99 %.1f ms, max %.1f ms" %
          (o.steady, o.rate, len(lat), pct(lat, 50) * 1e3,
           pct(lat, 99) * 1e3, (lat[-1] if lat else float("nan")) * 1e3))
    print("peak memory of fmnd over the whole run: %.0f MB" %
          peak_rss_mb(d.proc.pid))
    d.stop()
    print("fmnd exit status %d" % d.proc.returncode)


if __name__ == "__main__":
    main()
