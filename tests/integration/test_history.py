"""History over HTTP and catch-up (issue 18): fmnd's datagrepper API
(/raw, /id) checked against what was published, and a second fmnd that
catches up from it, or from a static copy of a real datagrepper answer,
after being stopped. Real ZeroMQ publisher, real HTTP on loopback;
nothing waits a fixed time."""

import collections
import http.client
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse

import fmntest
import fmndtest
from fmndtest import envelope, wait_until

WIKI = "org.fedoraproject.prod.wiki.article.edit"
FIXTURE = os.path.join(fmntest.DATA, "datagrepper-raw.json")


def http_get(port, path, method="GET", body=None):
    """(status, parsed JSON or None, raw text) of one request."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request(method, path, body=body)
        r = c.getresponse()
        text = r.read().decode("utf-8")
        try:
            doc = json.loads(text) if text.strip() else None
        except ValueError:
            doc = None
        return r.status, doc, text
    finally:
        c.close()


def http_port(daemon):
    m = re.search(r"http: serving .* \(port (\d+)\)", daemon.log())
    assert m, daemon.log()
    return int(m.group(1))


def stored(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM messages").fetchone()[0]
    finally:
        con.close()


class Node:
    """One fmnd with its database, the capture backend and a config."""

    def __init__(self, pub, conf, users=()):
        self.tmp = fmntest.tmpdir()
        self.db = os.path.join(self.tmp, "fmn.db")
        self.cap = os.path.join(self.tmp, "capture.jsonl")
        fmntest.fmnctl("init", db=self.db, check=0)
        for name, rules in users:
            fmndtest.add_user(self.db, name, rules=rules)
        self.pub = pub
        self.conf = conf
        self.d = fmndtest.Daemon(self.db, pub.endpoint, "capture:" + self.cap,
                                 conf, tmp=self.tmp)
        pub.wait_subscriber()

    def restart(self):
        self.d.start()
        self.pub.wait_subscriber()

    def status(self):
        return fmndtest.status(self.db)

    def wait_counter(self, name, value, timeout=60):
        return wait_until(lambda: self.status().get(name, 0) >= value,
                          timeout, 0.05, "%s >= %d" % (name, value))

    def delivered_ids(self):
        return [n["msg_id"] for d in fmndtest.read_capture(self.cap)
                for n in d["notices"]]


def wiki(i, **kw):
    return envelope(WIKI, {"user": "Ralph", "title": "page %d" % i,
                           "url": "http://x.org/w"}, **kw)


def catchup_case(sig):
    pub = fmndtest.Publisher()
    a = b = None
    try:
        a = Node(pub, "[http]\nlisten = 127.0.0.1:0\n")
        port = http_port(a.d)
        b = Node(pub, "[catchup]\nurl = http://127.0.0.1:%d/\n" % port,
                 users=[("all", ["topic:*"])])
        sent = [pub.send(wiki(i)) for i in range(10)]
        b.wait_counter("notifications_delivered", 10)
        a.wait_counter("messages_processed", 10)
        assert b.d.stop(sig) in (0, -signal.SIGKILL)
        sent += [pub.send(wiki(i)) for i in range(10, 410)]
        # A, the datagrepper, has them (as Fedora's would).
        a.wait_counter("messages_processed", 410)
        b.restart()
        sent += [pub.send(wiki(i)) for i in range(410, 510)]
        try:
            b.wait_counter("notifications_delivered", 510, timeout=120)
        except AssertionError:
            raise AssertionError("B: %r\n%s" % (b.status(),
                                                b.d.log()[-3000:]))
        st = b.status()
        # Nothing more comes: the catch-up has finished its run.
        wait_until(lambda: "catch-up: " in b.d.log(since_start=True) and
                   "taken from" in b.d.log(since_start=True), 30, 0.05,
                   "the catch-up's run")
        st = b.status()
        got = collections.Counter(b.delivered_ids())
        assert set(got) == set(sent), (len(got), len(sent))
        twice = [m for m, n in got.items() if n != 1]
        assert not twice, twice[:5]
        assert st["messages_processed"] == 510, st
        assert st["messages_caught_up"] == 400, st
        assert st["catchup_requests"] >= 5, st
        assert st["catchup_errors"] == 0, st
    finally:
        for n in (b, a):
            if n is not None:
                n.d.stop()
        pub.close()


def test_catchup_after_sigterm_delivers_each_message_once():
    catchup_case(signal.SIGTERM)


def test_catchup_after_sigkill_delivers_each_message_once():
    catchup_case(signal.SIGKILL)


def corpus():
    with open(os.path.join(fmntest.DATA, "fmfi-dev.json")) as f:
        return [c["msg"] for c in json.load(f)]


def test_raw_filters_paging_and_order_match_what_was_published():
    pub = fmndtest.Publisher()
    a = None
    try:
        a = Node(pub, "[http]\nlisten = 127.0.0.1:0\n")
        port = http_port(a.d)
        base = time.time() - 1000
        envs = []
        for i, m in enumerate(corpus()[:120]):
            env = dict(m)
            env["msg_id"] = fmndtest.fresh_id()
            env["timestamp"] = base + i     # distinct, in publish order
            env.setdefault("i", i + 1)      # as Publisher.send would
            env.setdefault("username", "fmntest")
            envs.append(env)
        for env in envs:
            pub.send(env)
        a.wait_counter("messages_processed", len(envs))
        meta = fmntest.fmnctl("meta", "-", db=a.db, input="".join(
            json.dumps(e) + "\n" for e in envs), check=0).stdout
        facts = {f["msg_id"]: f for f in map(json.loads, meta.splitlines())}
        by_id = {e["msg_id"]: e for e in envs}

        def raw(params):
            q = urllib.parse.urlencode(params, doseq=True)
            st, doc, text = http_get(port, "/raw?" + q)
            assert st == 200, (params, st, text)
            return doc

        def all_ids(params):
            ids, page = [], 1
            while True:
                doc = raw(dict(params, page=page, rows_per_page=7))
                ids += [m["msg_id"] for m in doc["raw_messages"]]
                assert doc["count"] == len(doc["raw_messages"])
                if page >= doc["pages"]:
                    assert len(ids) == doc["total"], (params, doc)
                    return ids
                page += 1

        order = [e["msg_id"] for e in envs]
        # Paging and both orders walk the whole set, once.
        assert all_ids({"order": "asc"}) == order
        assert all_ids({}) == order[::-1]
        doc = raw({"rows_per_page": 100})
        assert (doc["total"], doc["pages"], doc["count"]) == (120, 2, 100)
        assert raw({"page": 3, "rows_per_page": 100})["raw_messages"] == []
        # Whole envelopes, as they were published.
        assert doc["raw_messages"][0] == by_id[order[-1]]
        # Time: start, end, delta.
        sub = [e["msg_id"] for e in envs if base + 10 <= e["timestamp"] <= base + 20]
        assert all_ids({"start": base + 10, "end": base + 20,
                        "order": "asc"}) == sub
        assert all_ids({"start": base + 10, "delta": 10,
                        "order": "asc"}) == sub
        assert all_ids({"end": base + 20, "delta": 10,
                        "order": "asc"}) == sub
        assert all_ids({"delta": 3600}) == order[::-1]
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + 100))
        assert all_ids({"start": iso + "Z", "order": "asc"}) == [
            e["msg_id"] for e in envs if e["timestamp"] >= int(base + 100)]

        # Each list and its not_ form against the facts.
        def pick(field, key):
            vals = collections.Counter(v for f in facts.values()
                                       for v in ([f[field]] if isinstance(
                                           f[field], str) else f[field]))
            return [v for v, _ in vals.most_common(2) if v]
        lists = {"topic": ("topic", None), "category": ("category", None),
                 "user": ("usernames", None), "package": ("packages", None)}
        for param, (field, _) in lists.items():
            values = pick(field, param)
            assert values, param

            def has(mid, vs):
                v = facts[mid][field]
                return (v in vs) if isinstance(v, str) else bool(set(v) & set(vs))
            for vs in ([values[0]], values):
                want = [m for m in order if has(m, vs)]
                assert all_ids({param: vs, "order": "asc"}) == want, (param, vs)
                want = [m for m in order if not has(m, vs)]
                assert all_ids({"not_" + param: vs, "order": "asc"}) == want, (
                    "not_" + param, vs)
        # Two lists AND together.
        u = pick("usernames", "user")[0]
        c = facts[next(m for m in order if u in facts[m]["usernames"])]["category"]
        want = [m for m in order if u in facts[m]["usernames"] and
                facts[m]["category"] == c]
        assert all_ids({"user": u, "category": c, "order": "asc"}) == want
        # contains, with a category as datagrepper requires: a key of
        # one body of the commonest category, found in some of its others.
        cat = pick("category", "category")[0]
        bodies = {m: json.dumps(by_id[m]["msg"]) for m in order
                  if facts[m]["category"] == cat}
        word = sorted(k for m in bodies for k in (by_id[m]["msg"] or {})
                      if isinstance(by_id[m]["msg"], dict) and
                      0 < sum(k in b for b in bodies.values()) < len(bodies))[0]
        want = [m for m in bodies if word in bodies[m]]
        assert all_ids({"category": cat, "contains": word,
                        "order": "asc"}) == want
        want = [m for m in bodies if word not in bodies[m]]
        assert all_ids({"category": cat, "not_contains": word,
                        "order": "asc"}) == want

        # /id
        st, doc, _ = http_get(port, "/id?id=" + urllib.parse.quote(order[5]))
        assert st == 200 and doc == by_id[order[5]]
        assert http_get(port, "/id?id=nope")[0] == 404
        assert http_get(port, "/id")[0] == 400
        # The answer has datagrepper's shape (fields as in the fixture).
        with open(FIXTURE) as f:
            fix = json.load(f)
        doc = raw({})
        assert set(fix) <= set(doc), set(fix) - set(doc)
        assert set(fix["arguments"]) <= set(doc["arguments"]), (
            set(fix["arguments"]) - set(doc["arguments"]))
        for k, v in fix["arguments"].items():
            assert type(doc["arguments"][k]) in (type(v), type(None)), k
    finally:
        if a is not None:
            assert a.d.stop() == 0
        pub.close()


def test_bad_requests_get_400_naming_the_parameter():
    pub = fmndtest.Publisher()
    a = Node(pub, "[http]\nlisten = 127.0.0.1:0\n")
    try:
        port = http_port(a.d)
        for q, param in [("page=0", "page"), ("page=x", "page"),
                         ("rows_per_page=101", "rows_per_page"),
                         ("rows_per_page=0", "rows_per_page"),
                         ("order=up", "order"), ("start=yesterday", "start"),
                         ("end=1e999", "end"), ("delta=-5", "delta"),
                         ("contains=x", "contains"), ("topics=a", "topics"),
                         ("callback=f", "callback"), ("user=", "user")]:
            st, doc, text = http_get(port, "/raw?" + q)
            assert st == 400, (q, st, text)
            assert doc["parameter"] == param and doc["error"], (q, doc)
        assert http_get(port, "/nothing")[0] == 404
        assert http_get(port, "/raw", method="POST", body=b"x=1")[0] in (
            400, 405)
        assert http_get(port, "/raw", method="DELETE")[0] == 405
        assert http_get(port, "/raw/")[0] == 200
    finally:
        assert a.d.stop() == 0
        pub.close()


def test_hostile_requests_never_hurt_the_server():
    """Random paths, parameters, bytes and broken HTTP: every request
    gets an answer or a closed connection, and the daemon serves and
    stops as before. Bounded: 1,500 requests, loopback only."""
    pub = fmndtest.Publisher()
    a = Node(pub, "[http]\nlisten = 127.0.0.1:0\n")
    try:
        port = http_port(a.d)
        for i in range(20):
            pub.send(wiki(i))
        a.wait_counter("messages_processed", 20)
        rng = random.Random(18)
        names = ["topic", "not_topic", "category", "user", "package",
                 "contains", "not_contains", "start", "end", "delta", "page",
                 "rows_per_page", "order", "id", "meta", "x", "", "%00",
                 "page[]", "\u00e9"]
        values = ["", "0", "-1", "1e308", "nan", "inf", "asc", "desc",
                  "99999999999999999999", "2024-02-30T25:61:61Z", "%00",
                  "%ff%fe", "'; DROP TABLE messages; --", "x" * 3000,
                  "\u2603", "1.5", "%", "%zz", "a&b=c"]
        for i in range(1500):
            path = rng.choice(["/raw", "/id", "/raw/", "/", "/raw//",
                               "/%00", "/" + "a" * rng.randint(0, 500),
                               "/raw?" + "&" * rng.randint(0, 50)])
            parts = []
            for _ in range(rng.randint(0, 12)):
                parts.append("%s=%s" % (rng.choice(names),
                                        rng.choice(values)))
            url = path + ("?" if "?" not in path else "&") + "&".join(parts)
            url = url.encode("utf-8")
            kind = rng.random()
            if kind < 0.8:
                req = b"GET " + url.replace(b" ", b"%20") + \
                    b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            elif kind < 0.9:
                req = bytes(rng.getrandbits(8) for _ in
                            range(rng.randint(1, 300))) + b"\r\n\r\n"
            else:
                req = b"GET /raw?" + b"a=1&" * 20000 + \
                    b" HTTP/1.1\r\nHost: x\r\n\r\n"
            data = fmntest.raw_http(port, req)
            if data:
                m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
                assert m, data[:200]
                assert int(m.group(1)) in (200, 400, 404, 405, 413, 414,
                                           431, 501, 505), data[:300]
                if int(m.group(1)) == 200 and b"application/json" in data:
                    json.loads(data.split(b"\r\n\r\n", 1)[1])
        st, doc, _ = http_get(port, "/raw?rows_per_page=100")
        assert st == 200 and doc["total"] == 20
        assert a.d.proc.poll() is None
    finally:
        assert a.d.stop() == 0
        pub.close()


def test_catchup_from_a_static_copy_of_a_real_datagrepper_answer():
    """B asks a plain web server that answers every request with the
    fixture (Fedora's datagrepper, signatures included): its 25
    messages are stored as they came, matched and delivered once."""
    web = fmntest.tmpdir()
    with open(FIXTURE, "rb") as f:
        data = f.read()
    with open(os.path.join(web, "raw"), "wb") as f:
        f.write(data)
    port = fmntest.free_port()
    srv = subprocess.Popen([sys.executable, "-m", "http.server", str(port),
                            "--bind", "127.0.0.1", "--directory", web],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pub = fmndtest.Publisher()
    b = None
    try:
        wait_until(lambda: http_get_ok(port), 30, 0.05, "the web server")
        conf = ("[store]\nretention = 0\n[catchup]\nurl = http://127.0.0.1:%d\n"
                % port)
        b = Node(pub, conf, users=[("all", ["topic:*"])])
        # A first run leaves the time it stopped; the second catches up.
        b.d.stop()
        b.restart()
        try:
            b.wait_counter("notifications_delivered", 25)
        except AssertionError:
            raise AssertionError("%r\n%s" % (b.status(), b.d.log()))
        fix = json.loads(data)["raw_messages"]
        ids = [m["msg_id"] for m in fix]
        got = collections.Counter(b.delivered_ids())
        assert set(got) == set(ids) and set(got.values()) == {1}, got
        st = b.status()
        assert st["messages_caught_up"] == 25, st
        assert st["catchup_requests"] >= 1 and st["catchup_errors"] == 0, st
        con = sqlite3.connect(b.db)
        try:
            rows = dict(con.execute("SELECT msg_id, envelope FROM messages"))
        finally:
            con.close()
        for m in fix:
            env = json.loads(rows[m["msg_id"]])
            assert env["signature"] == m["signature"]
            assert env["certificate"] == m["certificate"]
            assert env == m
    finally:
        if b is not None:
            b.d.stop()
        pub.close()
        srv.terminate()
        srv.wait()


def http_get_ok(port):
    try:
        return http_get(port, "/raw")[0] == 200
    except OSError:
        return False


def test_unreachable_catchup_is_retried_and_never_blocks_delivery():
    pub = fmndtest.Publisher()
    dead = fmntest.free_port()
    b = Node(pub, "[catchup]\nurl = http://127.0.0.1:%d\n" % dead,
             users=[("all", ["topic:*"])])
    try:
        b.d.stop()
        b.restart()
        for i in range(20):
            pub.send(wiki(i))
        b.wait_counter("notifications_delivered", 20)
        b.wait_counter("catchup_errors", 2, timeout=30)
        assert "catch-up: http://127.0.0.1:%d/raw" % dead in b.d.log()
        t0 = time.monotonic()
        assert b.d.stop() == 0
        assert time.monotonic() - t0 < 5
    finally:
        b.d.stop()
        pub.close()


def test_fmnctl_history_and_match_history():
    pub = fmndtest.Publisher()
    a = Node(pub, "", users=[("ralph", ["user:ralph"])])
    try:
        old = time.time() - 3 * 86400
        envs = []
        for i, m in enumerate(corpus()[:60]):
            env = dict(m)
            env["msg_id"] = fmndtest.fresh_id()
            # The first ten are three days old.
            env["timestamp"] = (old if i < 10 else time.time() - 60) + i
            envs.append(env)
            pub.send(env)
        a.wait_counter("messages_processed", len(envs))
    finally:
        assert a.d.stop() == 0
        pub.close()
    db = a.db
    meta = fmntest.fmnctl("meta", "-", db=db, input="".join(
        json.dumps(e) + "\n" for e in envs), check=0).stdout
    facts = {f["msg_id"]: f for f in map(json.loads, meta.splitlines())}
    newest = [e["msg_id"] for e in envs][::-1]

    def lines(*args):
        return fmntest.fmnctl("history", *args, db=db, check=0
                              ).stdout.splitlines()
    # Newest first, 20 by default, and how many there are.
    out = lines()
    assert [l.split()[3] for l in out[:-1]] == newest[:20]
    assert out[-1] == "(20 of 60; --limit shows more)"
    got = [json.loads(l)["msg_id"] for l in lines("--json", "--limit", 100)]
    assert got == newest
    assert len(lines("--json", "--since", "1d", "--limit", 100)) == 50
    assert len(lines("--json", "--since", "4d", "--limit", 100)) == 60
    for opt, field in [("--user", "usernames"), ("--package", "packages"),
                       ("--category", "category"), ("--topic", "topic")]:
        v = next(f[field] for f in facts.values() if f[field])
        v = v if isinstance(v, str) else v[0]
        want = [m for m in newest if v == facts[m][field] or (
            isinstance(facts[m][field], list) and v in facts[m][field])]
        got = [json.loads(l)["msg_id"]
               for l in lines("--json", opt, v, "--limit", 100)]
        assert got == want, (opt, v)
    fmntest.fmnctl("history", "--since", "soon", db=db, check=2)
    fmntest.fmnctl("history", "--limit", "0", db=db, check=2)
    # The history fed back to fmnctl match gives the same answer.
    hist = fmntest.fmnctl("history", "--json", "--limit", 100, db=db,
                          check=0).stdout
    matched = [json.loads(l) for l in fmntest.fmnctl(
        "match", "-", db=db, input=hist, check=0).stdout.splitlines()]
    want = sorted(m["msg_id"] for m in matched if m["recipients"])
    assert want and len(want) < 60
    # match --history: ralph's filter, on the stored messages.
    out = [json.loads(l) for l in fmntest.fmnctl(
        "match", "--history", "--user", "ralph", "--since", "4d", "--json",
        db=db, check=0).stdout.splitlines()]
    assert sorted(o["msg_id"] for o in out) == want
    assert all(r["user"] == "ralph" and r["filter"] == "f"
               for o in out for r in o["recipients"])
    out = [json.loads(l) for l in fmntest.fmnctl(
        "match", "--history", "--user", "ralph", "--json", db=db,
        check=0).stdout.splitlines()]
    recent = {e["msg_id"] for e in envs[10:]}
    assert sorted(o["msg_id"] for o in out) == sorted(set(want) & recent)
    text = fmntest.fmnctl("match", "--history", "--user", "ralph", db=db,
                          check=0).stdout
    assert 'filter "f"' in text and "would have notified ralph" in text
    fmntest.fmnctl("match", "--history", db=db, check=2)
    fmntest.fmnctl("match", "--history", "--user", "nobody", db=db, check=1)


if __name__ == "__main__":
    fmntest.main(globals())
