#!/usr/bin/python3
"""Benchmark of the history API (issue 18), on loopback:

  1. /raw page latency over a database of N stored messages (made by
     bench/gen_history.py, kept between runs with --db): each query of a
     set typical of datagrepper's users, asked R times through fmnd's
     [http] server, p50 / p99 / max of the whole request;
  2. intake while /raw is hammered: a burst of B messages published with
     build/bench/bench_load into the same fmnd (no users), first alone,
     then with C client threads asking /raw pages in a loop; messages
     per second processed in each case, and the pages served meanwhile.

Prints the figures; asserts nothing.

usage: bench/bench_history.py [--db PATH] [--messages 1000000]
                              [--repeat 50] [--burst 50000] [--clients 4]
                              [--build build]
"""
import argparse
import http.client
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p / 100.0))] if v else float("nan")


class Fmnd:
    def __init__(self, fmnd, db, bus_port, tmp):
        conf = os.path.join(tmp, "fmnd.conf")
        with open(conf, "w") as f:
            f.write("[http]\nlisten = 127.0.0.1:0\n")
        env = dict(os.environ, FMN_CONFIG="")
        self.proc = subprocess.Popen(
            [fmnd, "-c", conf, "--db", db, "--bus",
             "tcp://127.0.0.1:%d" % bus_port, "--smtp",
             "capture:" + os.path.join(tmp, "mail.jsonl")],
            stderr=subprocess.PIPE, text=True, env=env)
        self.port = None
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                m = re.search(r"\(port (\d+)\)", line)
                if m:
                    self.port = int(m.group(1))
                if "fmnd: ready" in line:
                    ready.set()
        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(300):
            self.proc.kill()
            raise SystemExit("bench_history: fmnd not ready")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(60)


def get(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        raise SystemExit("bench_history: %s: %d %s" % (path, r.status,
                                                       body[:200]))
    return body


def queries(con):
    """The query set: names and parameters over what the database has."""
    now = time.time()
    topic = con.execute("SELECT topic FROM messages WHERE id = "
                        "(SELECT max(id) FROM messages)").fetchone()[0]
    cat = con.execute("SELECT category FROM messages WHERE id = "
                      "(SELECT max(id) FROM messages)").fetchone()[0]
    total = con.execute("SELECT max(id) FROM messages").fetchone()[0]
    return [
        ("newest page, no filter (total counts all)", {}),
        ("last hour", {"delta": 3600}),
        ("one day, 10 days ago, asc", {"start": now - 10 * 86400,
                                       "end": now - 9 * 86400,
                                       "order": "asc"}),
        ("catch-up page: start + end, asc, page 1",
         {"start": now - 600, "end": now + 60, "order": "asc",
          "rows_per_page": 100}),
        ("one topic", {"topic": topic}),
        ("one category, page 50", {"category": cat, "page": 50}),
        ("busiest user (~10%)", {"user": "user1"}),
        ("an ordinary user", {"user": "user500"}),
        ("busiest package, asc, page 20", {"package": "pkg1",
                                           "order": "asc", "page": 20}),
        ("user + category", {"user": "user1", "category": cat}),
        ("two users", {"user": ["user1", "user2"]}),
        ("category minus a user", {"category": cat, "not_user": "user1"}),
        ("not_topic (scans to count)", {"not_topic": topic}),
        ("category + contains, last day", {"category": cat,
                                           "contains": "fedora",
                                           "delta": 86400}),
        ("deep page: %d messages in, asc" % (total // 2),
         {"order": "asc", "rows_per_page": 100,
          "page": total // 200}),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db")
    ap.add_argument("--messages", type=int, default=1000000)
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--burst", type=int, default=50000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    o = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-history-")
    db = o.db or os.path.join(tmp, "fmn.db")
    if not os.path.exists(db):
        subprocess.run([sys.executable, os.path.join(HERE, "gen_history.py"),
                        db, "--messages", str(o.messages), "--build",
                        o.build], check=True)
    con = sqlite3.connect(db)
    stored = con.execute("SELECT count(*) FROM messages").fetchone()[0]
    qs = queries(con)
    con.close()
    bus = free_port()
    d = Fmnd(os.path.join(o.build, "fmnd"), db, bus, tmp)
    try:
        print("history: %d messages stored, %.0f MB" %
              (stored, os.path.getsize(db) / 1e6))
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=60)
        for name, params in qs:
            path = "/raw?" + urllib.parse.urlencode(params, doseq=True)
            get(conn, path)     # warm
            lat = []
            for _ in range(o.repeat):
                t = time.perf_counter()
                body = get(conn, path)
                lat.append((time.perf_counter() - t) * 1000)
            total = json.loads(body)["total"]
            print("  %-45s p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms  "
                  "(total %d)" % (name, pct(lat, 50), pct(lat, 99),
                                   max(lat), total))
        conn.close()
        load = os.path.join(o.build, "bench", "bench_load")
        corpus = os.path.join(ROOT, "tests", "data", "fmfi-dev.json")

        def burst(seed):
            """Messages stored, and per second from the first publish to
            the last one's commit."""
            c = sqlite3.connect(db)
            before = c.execute("SELECT max(id) FROM messages").fetchone()[0]
            t0 = time.time()
            subprocess.run([load, "--endpoint", "tcp://127.0.0.1:%d" % bus,
                            "--count", str(o.burst), "--rate", "0", "--seed",
                            str(seed), "--corpus", corpus], check=True,
                           capture_output=True)
            deadline = time.time() + 600
            while time.time() < deadline:
                n = c.execute("SELECT count(*) FROM messages WHERE id > ?",
                              (before,)).fetchone()[0]
                if n >= o.burst:
                    break
                time.sleep(0.02)
            c.close()
            return n, n / (time.time() - t0)

        time.sleep(1)
        burst(10)   # the first writes into a cold database
        n, rate = burst(11)
        print("intake alone: %d messages, %.0f messages/s" % (n, rate))
        stop = threading.Event()
        served = []

        def hammer(k):
            c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=60)
            i = 0
            while not stop.is_set():
                name, params = qs[(k + i) % 12]  # not the scanning ones
                i += 1
                t = time.perf_counter()
                get(c, "/raw?" + urllib.parse.urlencode(params, doseq=True))
                served.append((time.perf_counter() - t) * 1000)
            c.close()
        ts = [threading.Thread(target=hammer, args=(k,))
              for k in range(o.clients)]
        for t in ts:
            t.start()
        time.sleep(1)
        n, rate = burst(12)
        stop.set()
        for t in ts:
            t.join()
        print("intake while %d clients hammer /raw: %d messages, %.0f "
              "messages/s; %d pages served meanwhile (p50 %.1f ms, p99 "
              "%.1f ms)" % (o.clients, n, rate, len(served), pct(served, 50),
                            pct(served, 99)))
    finally:
        d.stop()


if __name__ == "__main__":
    main()
