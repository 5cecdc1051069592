#!/usr/bin/python3
"""Write an `fmnctl import` document for N users, each with confirmed
e-mail and IRC destinations, the default filters in both contexts (taken
from `fmnctl filter defaults` on a scratch database, so they stay the
shipped ones) and ~20 owned packages from a 20,000-package universe that
includes the corpus's packages.

usage: bench/gen_users.py N [--fmnctl build/fmnctl] [--corpus FILE] > users.json
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def default_filters(fmnctl):
    """The default filters of a template user, with NICK in place of the name."""
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "t.db")
        for args in (["user", "add", "NICK"],
                     ["filter", "defaults", "NICK", "email"]):
            subprocess.run([fmnctl, "--db", db] + args, check=True,
                           stdout=subprocess.DEVNULL)
        doc = json.loads(subprocess.run([fmnctl, "--db", db, "export"],
                                        check=True, capture_output=True,
                                        text=True).stdout)
    return doc["users"][0]["preferences"][0]["filters"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--fmnctl", default=os.path.join(ROOT, "build", "fmnctl"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, "tests", "data",
                                                     "fmfi-dev.json"))
    ap.add_argument("--seed", type=int, default=1)
    opts = ap.parse_args()
    rnd = random.Random(opts.seed)
    template = json.dumps(default_filters(opts.fmnctl))

    corpus_users, corpus_pkgs = [], []
    path = opts.corpus
    if not os.path.exists(path):
        path = "/work/shared/corpus/fmfi-dev.json"
    for item in json.load(open(path)):
        corpus_users += item.get("expected_usernames", [])
        corpus_pkgs += item.get("expected_packages", [])
    corpus_users = sorted(set(corpus_users))
    corpus_pkgs = sorted(set(corpus_pkgs))
    universe = corpus_pkgs + ["pkg-%05d" % i
                              for i in range(20000 - len(corpus_pkgs))]

    users, owners = [], {}
    names = corpus_users + ["user%05d" % i for i in range(opts.n)]
    for name in names[:opts.n]:
        filters = json.loads(template.replace("NICK", name))
        prefs = [{"context": ctx, "enabled": True, "batch_delta": None,
                  "batch_count": None, "verbose": True, "markup": False,
                  "filters": filters} for ctx in ("email", "irc")]
        users.append({"name": name,
                      "destinations": [
                          {"context": "email",
                           "address": "%s@example.org" % name,
                           "confirmed": True},
                          {"context": "irc", "address": name,
                           "confirmed": True}],
                      "preferences": prefs})
        for pkg in rnd.sample(universe, 20):
            owners.setdefault(pkg, []).append(name)
    json.dump({"users": users, "owners": {"rpms": owners}, "groups": {},
               "aliases": {}}, sys.stdout)


if __name__ == "__main__":
    main()
