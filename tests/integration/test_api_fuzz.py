"""The token API under random requests: methods, paths made of the API's
own and of garbage, headers (tokens absent, malformed, guessed, another
user's; forwarded addresses), bodies (none, JSON of the right and wrong
shapes, bytes, too many). Properties: every request gets an HTTP answer
or a closed connection, never a 5xx (no storage fails here); nothing
changes without a valid token; a user's token never changes another
user's data; the daemon serves and stops as before. Seeded, bounded,
loopback only."""

import json
import random
import re

from apitest import Api, config
import fmndtest
from fmndtest import envelope, wait_until
import fmntest

TEMPLATES = [
    "/api/v1/users/{u}", "/api/v1/users/{u}/destinations",
    "/api/v1/destinations", "/api/v1/users/{u}/destinations/{c}/{a}",
    "/api/v1/users/{u}/confirmations", "/api/v1/confirmations",
    "/api/v1/users/{u}/preferences/{c}", "/api/v1/users/{u}/preferences",
    "/api/v1/preferences", "/api/v1/users/{u}/filters",
    "/api/v1/users/{u}/filters/{c}/{n}", "/api/v1/rules",
    "/api/v1/users/{u}/match", "/api/v1/match",
    "/api/v1/users/{u}/notifications", "/api/v1/notifications",
    "/api/v1/", "/api/v1", "/api/v2/rules", "/api/v1//users/{u}",
    "/api/v1/users/{u}/filters/{c}/{n}/{n}", "/confirm/{s}", "/confirm/",
    "/", "/raw", "/id", "/%61pi/v1/rules",
]
PIECES = ["alice", "bob", "nobody", "", "%00", "%ff", "%", "%2", "a%2Fb",
          "..", ".", "%2e%2e", "\u00e9", "%C3%A9", "x" * 300, "email", "irc",
          "fax", "f", "mine", "'; DROP TABLE users; --", "a b", "+",
          "%20", "{u}", "0" * 32]
PARAMS = ["user", "context", "address", "confirmed", "expires", "secret",
          "enabled", "batch_delta", "batch_count", "verbose", "markup",
          "name", "rules", "active", "oneshot", "position", "id", "explain",
          "limit", "x", ""]
VALUES = [None, True, False, 0, -1, 1, 2 ** 62, 2 ** 70, 1.5, "", "alice",
          "bob", "email", "irc", "f", "topic:*", "nokind:x", "x@example.org",
          "not an address", "\u2603", "0" * 32, [], ["topic:*"], [1, 2],
          {"a": 1}, "x" * 5000]
METHODS = ["GET"] * 4 + ["POST"] * 3 + ["PATCH"] * 2 + ["DELETE"] * 2 + [
    "PUT", "HEAD", "OPTIONS", "get", "FROB"]


# What a piece of a path would be in a request that makes sense.
LIKELY = {"{u}": ["alice", "bob"], "{c}": ["email", "irc"],
          "{a}": ["a@example.org", "b@example.org"], "{n}": ["f", "mine"],
          "{s}": ["0" * 32]}


def path(rng):
    p = rng.choice(TEMPLATES)
    for k in ("{u}", "{c}", "{a}", "{n}", "{s}"):
        while k in p:
            p = p.replace(k, rng.choice(LIKELY[k] if rng.random() < 0.7
                                        else PIECES), 1)
    if rng.random() < 0.3:
        p += "?" + "&".join("%s=%s" % (rng.choice(PARAMS),
                                       rng.choice(PIECES))
                            for _ in range(rng.randint(0, 5)))
    return p.replace(" ", "%20").encode("utf-8")


# Bodies an operation takes, so that valid tokens reach the writes too.
PLAUSIBLE = [
    {"context": "email", "name": "n", "rules": ["topic:*"]},
    {"context": "irc", "name": "\u00e9/x", "rules": ["user:bob", "!x:y"]},
    {"context": "email", "address": "c@example.org"},
    {"context": "irc", "address": "nick_", "expires": 60},
    {"active": False}, {"active": True}, {"position": 1}, {"position": 7},
    {"enabled": False, "batch_delta": 60}, {"batch_count": None},
    {"secret": "0" * 32}, {"verbose": "off"},
]


def body(rng):
    k = rng.random()
    if k < 0.35:
        return b""
    if k < 0.55:
        return json.dumps(rng.choice(PLAUSIBLE)).encode()
    if k < 0.8:
        doc = {rng.choice(PARAMS): rng.choice(VALUES)
               for _ in range(rng.randint(0, 6))}
        return json.dumps(doc).encode()
    if k < 0.9:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200)))
    if k < 0.95:
        return json.dumps(rng.choice(VALUES)).encode()
    return b"{" + b" " * 70000 + b"}"


def token(rng, good):
    k = rng.random()
    if k < 0.2:
        return None
    if k < 0.4:
        return "fmn_%d_%064x" % (rng.randint(0, 9), rng.getrandbits(256))
    if k < 0.5:
        t = list(rng.choice(good))
        i = rng.randrange(len(t))
        t[i] = "0" if t[i] != "0" else "1"
        return "".join(t)
    if k < 0.6:
        return rng.choice(good)[:-1]
    return rng.choice(["", "x", "Bearer", "fmn_", "fmn_1_", "\u00e9",
                       "fmn_1_" + "g" * 64, "fmn_-1_" + "0" * 64,
                       "fmn_99999999999999999999_" + "0" * 64])


def send(port, source, raw):
    """The answer's status, or None when the server closed the
    connection without one (a request it refused to read)."""
    data = fmntest.raw_http(port, raw, source)
    if not data:
        return None, b""
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    assert m, data[:200]
    return int(m.group(1)), data


def request(rng, port, source, auth, bearer=True):
    method = rng.choice(METHODS)
    b = body(rng) if method in ("POST", "PATCH", "PUT") or \
        rng.random() < 0.1 else b""
    head = [b"%s %s HTTP/1.1" % (method.encode(), path(rng)),
            b"Host: x", b"Connection: close"]
    if auth is not None:
        head.append(("Authorization: %s%s" % (
            "Bearer " if bearer else rng.choice(["Basic ", "bearer ", ""]),
            auth)).encode("utf-8"))
    if rng.random() < 0.3:
        head.append(b"X-Forwarded-For: " + rng.choice(
            [b"198.51.100.%d" % rng.randint(0, 255), b"garbage", b"::1",
             b"2001:db8::%x" % rng.getrandbits(16), b"1.2.3.4, 5.6.7.8"]))
    if rng.random() < 0.5:
        head.append(b"Content-Type: " + rng.choice(
            [b"application/json", b"text/plain", b"multipart/form-data",
             b"application/x-www-form-urlencoded"]))
    if b:
        head.append(b"Content-Length: %d" % len(b))
    return method, send(port, source, b"\r\n".join(head) + b"\r\n\r\n" + b)


def check(status, data, what):
    if status is None:
        return
    assert status < 500, (what, status, data[:400])
    if status == 200 and what[1] != "HEAD" and \
            b"application/json" in data.split(b"\r\n\r\n")[0]:
        json.loads(data.split(b"\r\n\r\n", 1)[1])


def test_random_requests_never_crash_never_5xx_never_change_without_a_token():
    api = Api()
    try:
        rng = random.Random(19)
        for args in (["dest", "add", "alice", "email", "a@example.org",
                      "--confirmed"],
                     ["dest", "add", "bob", "email", "b@example.org"],
                     ["filter", "add", "alice", "email", "f", "topic:*"],
                     ["filter", "add", "bob", "email", "f", "topic:*"],
                     ["filter", "add", "bob", "irc", "mine", "user:bob"]):
            api.local(*args, check=0)
        api.pub.send(envelope("org.fedoraproject.prod.wiki.article.edit",
                              {"user": "bob"}))
        wait_until(lambda: fmndtest.counter(api.db, "messages_processed"),
                   30, 0.05, "the message")
        good = list(api.tokens.values())
        before = config(api.db)
        seen = {}
        # Without a valid token, from many addresses (each under the limit
        # or over it: 429 is an answer too).
        for i in range(1200):
            auth = token(rng, good)
            if auth in good:
                auth = None
            source = "127.0.2.%d" % rng.randint(1, 250)
            method, (st, data) = request(rng, api.port, source, auth,
                                         bearer=rng.random() < 0.9)
            check(st, data, (i, method))
            seen[st] = seen.get(st, 0) + 1
            if i % 200 == 0:
                assert config(api.db) == before, i
        assert config(api.db) == before
        assert {401, 404, 429} <= set(seen), seen
        # With alice's token: whatever is asked, bob's data stays bob's.
        bob = json.loads(fmntest.fmnctl("--json", "user", "show", "bob",
                                        db=api.db, check=0).stdout)
        for i in range(800):
            method, (st, data) = request(rng, api.port, "127.0.3.%d" % (
                i % 100 + 1), api.tokens["alice"])
            check(st, data, (i, method))
            seen[st] = seen.get(st, 0) + 1
        assert json.loads(fmntest.fmnctl(
            "--json", "user", "show", "bob", db=api.db,
            check=0).stdout) == bob
        assert 200 in seen and 403 in seen, seen
        print("statuses:", sorted(seen.items(), key=str))
        # An admin token, anything: answers, never a 5xx.
        admin = api.token("alice", admin=True)
        for i in range(400):
            method, (st, data) = request(rng, api.port, "127.0.4.%d" % (
                i % 100 + 1), admin)
            check(st, data, (i, method))
        # Still serving, as before.
        st, doc = api.json("GET", "/api/v1/users/alice", api.tokens["alice"])
        assert st == 200 and doc["name"] == "alice"
        assert api.d.proc.poll() is None
    finally:
        api.close()


if __name__ == "__main__":
    fmntest.main(globals())
