#!/usr/bin/python3
"""Fill a database with N stored messages for the history benchmarks,
as fmnd's intake would have stored them (migration 007): the real corpus
messages of tests/data/fmfi-dev.json with fresh msg_ids, spread evenly
over DAYS days up to now, each with its facts (from `fmnctl meta`) plus
one of USERS synthetic users and one of PACKAGES synthetic packages,
drawn with a Zipf-like skew so that a few names are in many messages.

usage: bench/gen_history.py DB [--messages 1000000] [--days 30]
                               [--users 20000] [--packages 30000]
                               [--build build] [--seed 1]
"""
import argparse
import json
import os
import random
import sqlite3
import subprocess
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def corpus_with_facts(fmnctl, db):
    with open(os.path.join(ROOT, "tests", "data", "fmfi-dev.json")) as f:
        corpus = [c["msg"] for c in json.load(f)]
    envs = []
    for i, m in enumerate(corpus):
        env = dict(m)
        env.setdefault("msg_id", "corpus-%d" % i)
        env.setdefault("timestamp", 0)
        envs.append(env)
    out = subprocess.run([fmnctl, "--db", db, "meta", "-"], check=False,
                         input="".join(json.dumps(e) + "\n" for e in envs),
                         capture_output=True, text=True).stdout
    facts = [json.loads(line) for line in out.splitlines()]
    return [(e, f) for e, f in zip(envs, facts) if "error" not in f]


def zipf_names(prefix, n, rng, count):
    # Weights 1/k: name 1 is in about 1/ln(n) of the draws.
    weights = [1.0 / k for k in range(1, n + 1)]
    return ["%s%d" % (prefix, k) for k in
            rng.choices(range(1, n + 1), weights=weights, k=count)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--messages", type=int, default=1000000)
    ap.add_argument("--days", type=float, default=30)
    ap.add_argument("--users", type=int, default=20000)
    ap.add_argument("--packages", type=int, default=30000)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seed", type=int, default=1)
    o = ap.parse_args()
    fmnctl = os.path.join(o.build, "fmnctl")
    subprocess.run([fmnctl, "--db", o.db, "init"], check=True,
                   stdout=subprocess.DEVNULL)
    rng = random.Random(o.seed)
    corpus = corpus_with_facts(fmnctl, o.db)
    users = zipf_names("user", o.users, rng, o.messages)
    packages = zipf_names("pkg", o.packages, rng, o.messages)
    con = sqlite3.connect(o.db)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -262144")
    now = time.time()
    first = now - o.days * 86400
    step = (now - first) / o.messages
    t0 = time.time()
    chunk = 20000
    for base in range(0, o.messages, chunk):
        msgs, names, pkgs = [], [], []
        for i in range(base, min(base + chunk, o.messages)):
            env, facts = corpus[i % len(corpus)]
            env = dict(env)
            env["msg_id"] = "%d-%s" % (time.gmtime(now).tm_year,
                                       uuid.UUID(int=rng.getrandbits(128)))
            env["timestamp"] = first + i * step
            env["i"] = i + 1
            un = sorted(set(facts["usernames"]) | {users[i]})
            pk = sorted(set(facts["packages"]) | {packages[i]})
            summary = {"topic": env["topic"], "msg_id": env["msg_id"],
                       "timestamp": env["timestamp"],
                       "category": facts["category"], "usernames": un,
                       "packages": pk}
            msgs.append((i + 1, env["msg_id"], env["topic"],
                         env["timestamp"], env["timestamp"] + 0.01,
                         json.dumps(env), json.dumps(summary),
                         facts["category"]))
            names += [(i + 1, u, env["timestamp"]) for u in un]
            pkgs += [(i + 1, p, env["timestamp"]) for p in pk]
        con.execute("BEGIN")
        con.executemany("INSERT INTO messages (id, msg_id, topic, timestamp,"
                        " received, envelope, summary, category) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?)", msgs)
        con.executemany("INSERT INTO message_users VALUES (?, ?, ?)", names)
        con.executemany("INSERT INTO message_packages VALUES (?, ?, ?)", pkgs)
        con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    print("gen_history: %d messages in %.1f s, %.0f MB" %
          (o.messages, time.time() - t0, os.path.getsize(o.db) / 1e6))


if __name__ == "__main__":
    main()
