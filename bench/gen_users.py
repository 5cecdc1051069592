#!/usr/bin/python3
"""Write an `fmnctl import` document for N users, each with confirmed
e-mail and IRC destinations, the default filters in both contexts (taken
from `fmnctl filter defaults` on a scratch database, so they stay the
shipped ones) and ~20 owned packages from a 20,000-package universe that
includes the corpus's packages.

With --topic-share S, a share S (0 to 1) of the users also has a filter
of their own in the e-mail preference, one topic glob about a kind of
event drawn evenly from a universe of them (the corpus's topics and
three times as many it does not have: people's interests spread over
the bus, not in proportion to its traffic): nine times in ten its last
three segments (*.bodhi.update.comment), else its category in
production (org.fedoraproject.prod.bodhi.*) or anywhere (*.bodhi.*).
bench/bench_match.c draws the same kinds of filter.

usage: bench/gen_users.py N [--topic-share S] [--fmnctl build/fmnctl]
                            [--corpus FILE] > users.json
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


def topic_universe(topics):
    """The kinds of event people's topic filters are about: the corpus's
    topics, and three times as many the corpus sample does not have
    (its topics with another last segment), as bench_match.c has them."""
    base = sorted(set(topics))
    return base + ["%s.kind%d" % (t.rsplit(".", 1)[0], k)
                   for k in range(3) for t in base]


def topic_glob(rnd, universe):
    """A topic glob such as a person adds (see the module's comment)."""
    parts = rnd.choice(universe).split(".")
    cat = parts[3] if len(parts) > 3 else parts[-1]
    r = rnd.randrange(20)
    if r < 18:
        return "*." + ".".join(parts[-3:])
    if r < 19:
        return "org.fedoraproject.prod.%s.*" % cat
    return "*.%s.*" % cat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--fmnctl", default=os.path.join(ROOT, "build", "fmnctl"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, "tests", "data",
                                                     "fmfi-dev.json"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--topic-share", type=float, default=0.0)
    opts = ap.parse_args()
    rnd = random.Random(opts.seed)
    template = json.dumps(default_filters(opts.fmnctl))

    corpus_users, corpus_pkgs, topics = [], [], []
    path = opts.corpus
    if not os.path.exists(path):
        path = "/work/shared/corpus/fmfi-dev.json"
    for item in json.load(open(path)):
        corpus_users += item.get("expected_usernames", [])
        corpus_pkgs += item.get("expected_packages", [])
        topics.append(item["msg"]["topic"])
    corpus_users = sorted(set(corpus_users))
    corpus_pkgs = sorted(set(corpus_pkgs))
    universe = corpus_pkgs + ["pkg-%05d" % i
                              for i in range(20000 - len(corpus_pkgs))]

    users, owners = [], {}
    names = corpus_users + ["user%05d" % i for i in range(opts.n)]
    with_topic = int(opts.n * opts.topic_share)
    universe = topic_universe(topics)
    for k, name in enumerate(names[:opts.n]):
        filters = json.loads(template.replace("NICK", name))
        own = [{"name": "my topic", "active": True,
                "rules": ["topic:" + topic_glob(rnd, universe)]}] \
            if k < with_topic else []
        prefs = [{"context": ctx, "enabled": True, "batch_delta": None,
                  "batch_count": None, "verbose": True, "markup": False,
                  "filters": filters + (own if ctx == "email" else [])}
                 for ctx in ("email", "irc")]
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
