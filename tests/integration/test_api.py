"""The token API (issue 19): fmnd serving [http] on loopback, fmnctl as a
client (--server, --token) and raw HTTP. A user edits their own
destinations, preferences and filters remotely and the database and the
daemon show it; whatever is aimed at another user is refused and changes
nothing; a destination added remotely is confirmed through the link of
its mail; a command prints the same thing locally and remotely; failed
attempts are limited per address; tokens are refused over plain HTTP
from afar. Nothing waits a fixed time."""

import json
import mailbox
import os
import re
import socket
import subprocess

from apitest import Api, config, pending
import fmndtest
from fmndtest import envelope, wait_until
import fmntest

WIKI = "org.fedoraproject.prod.wiki.article.edit"
BAD = "fmn_9_" + "ab" * 32     # well formed, but no such token


def user_doc(db, name):
    doc = json.loads(fmntest.fmnctl("export", db=db, check=0).stdout)
    return next(u for u in doc["users"] if u["name"] == name)


def mail_text(api):
    if not os.path.exists(api.mbox):
        return ""
    with open(api.mbox, encoding="utf-8", errors="replace") as f:
        return f.read()


def confirm_link(api, address):
    """The link of the confirmation mailed to address, once it is there."""
    try:
        for m in mailbox.mbox(api.mbox):
            if m.get("X-Fmn-Kind") == "confirm" and address in m["To"]:
                body = m.get_payload(decode=True).decode("utf-8")
                found = re.search(r"(https?://\S+/confirm/[0-9a-f]{32})",
                                  body)
                return found.group(1) if found else None
    except (OSError, mailbox.Error, AttributeError):
        pass    # not there yet, or being written
    return None


def test_a_user_edits_own_settings_remotely_and_the_database_shows_it():
    api = Api()
    try:
        t = api.tokens["alice"]
        api.ctl(t, "dest", "add", "alice", "email", "alice@example.org",
                check=0)
        api.ctl(t, "pref", "set", "alice", "email", "--verbose", "off",
                "--batch-count", "5", check=0)
        api.ctl(t, "filter", "add", "alice", "email", "wiki",
                "topic:*.wiki.*", check=0)
        api.ctl(t, "filter", "add", "alice", "email", "my packages",
                "owned:alice", "!user:alice", "--inactive", check=0)
        api.ctl(t, "filter", "move", "alice", "email", "my packages", "1",
                check=0)
        api.ctl(t, "filter", "enable", "alice", "email", "my packages",
                check=0)
        api.ctl(t, "filter", "disable", "alice", "email", "wiki", check=0)
        u = user_doc(api.db, "alice")
        assert u["destinations"] == [{"context": "email", "confirmed": False,
                                      "address": "alice@example.org"}], u
        p = u["preferences"][0]
        assert (p["verbose"], p["batch_count"], p["batch_delta"]) == (
            False, 5, None), p
        assert [(f["name"], f["active"], f["rules"]) for f in p["filters"]] \
            == [("my packages", True, ["owned:alice", "!user:alice"]),
                ("wiki", False, ["topic:*.wiki.*"])], p
        # What the user reads back through the API is what is stored.
        show = json.loads(api.ctl(t, "--json", "user", "show", "alice",
                                  check=0).stdout)
        assert show["preferences"][0]["filters"] == p["filters"]
        # The daemon took the changes, as it takes fmnctl's.
        fmndtest.wait_changes_applied(api.d, api.db)
        api.ctl(t, "filter", "rm", "alice", "email", "wiki", check=0)
        api.ctl(t, "pref", "set", "alice", "email", "--batch-count", "none",
                "--disable", check=0)
        api.ctl(t, "dest", "rm", "alice", "email", "alice@example.org",
                check=0)
        u = user_doc(api.db, "alice")
        assert u["destinations"] == []
        p = u["preferences"][0]
        assert (p["enabled"], p["batch_count"]) == (False, None)
        assert [f["name"] for f in p["filters"]] == ["my packages"]
        # A list without USER is the token's user's own.
        api.local("dest", "add", "bob", "email", "bob@example.org",
                  "--confirmed", check=0)
        api.ctl(t, "dest", "add", "alice", "email", "a/b@example.org",
                check=0)
        rows = json.loads(api.ctl(t, "--json", "dest", "list",
                                  check=0).stdout)
        assert [r["user"] for r in rows] == ["alice"], rows
        assert "bob" not in api.ctl(t, "pref", "list", check=0).stdout
        fmndtest.wait_changes_applied(api.d, api.db)
    finally:
        api.close()


def test_a_destination_added_remotely_is_confirmed_through_its_link():
    api = Api()
    try:
        t = api.tokens["alice"]
        out = api.ctl(t, "dest", "add", "alice", "email",
                      "alice@example.org", check=0).stdout
        # A user's token is not shown the secret: the address must agree.
        assert "pending" in out and "dest confirm" not in out, out
        assert "secret" not in api.ctl(t, "--json", "dest", "add", "alice",
                                       "email", "other@example.org",
                                       check=0).stdout
        api.ctl(t, "filter", "add", "alice", "email", "wiki",
                "topic:*.wiki.*", check=0)
        link = wait_until(lambda: confirm_link(api, "alice@example.org"),
                          30, 0.05, "the confirmation mail")
        # BASE_URL is the proxy's: the path goes to the daemon's port.
        assert link.startswith(api.BASE_URL + "/confirm/"), link
        path = link[len(api.BASE_URL):]
        secret = path.rsplit("/", 1)[1]
        assert pending(api.db, "alice@example.org") == (0, secret)
        # Opening the link (mail scanners do) changes nothing.
        for method in ("GET", "HEAD", "GET"):
            st, h, page = api.request(method, path)
            assert st == 200, (method, st, page)
            assert h["content-type"].startswith("text/html")
            assert "script-src" not in h["content-security-policy"]
            assert "frame-ancestors 'none'" in h["content-security-policy"]
            assert h["cache-control"] == "no-store"
            if method == "GET":
                assert "alice@example.org" in page
                assert '<form method="post">' in page
                assert "<script" not in page.lower()
            assert pending(api.db, "alice@example.org") == (0, secret)
        st, _, page = api.request("POST", path, body="")
        assert st == 200 and "now receives" in page, (st, page)
        assert pending(api.db, "alice@example.org") == (1, None)
        # Used: the link is no more.
        assert api.request("GET", path)[0] == 404
        assert api.request("POST", path)[0] == 404
        assert api.request("PUT", path)[0] == 405
        # The daemon sends to it now: a wiki edit reaches the mailbox.
        fmndtest.wait_changes_applied(api.d, api.db)
        mid = api.pub.send(envelope(WIKI, {"user": "ralph", "title": "x",
                                           "url": "http://x.org/w"}))
        wait_until(lambda: mid in mail_text(api), 30, 0.05, "the notification")
        box = mail_text(api)
        assert "(from your machine: fmnctl --server %s ...;" % \
            api.BASE_URL in box
        # The user sees it among their recent notifications.
        rows = json.loads(api.ctl(t, "--json", "notifications",
                                  check=0).stdout)
        assert [r["msg_id"] for r in rows] == [mid], rows
        assert rows[0]["filter"] == "wiki" and rows[0]["user"] == "alice"
        line = api.ctl(t, "notifications", check=0).stdout
        assert 'filter "wiki"' in line and "alice@example.org" in line, line
        # And match --id explains it against their own filters only.
        api.local("dest", "add", "bob", "email", "bob@example.org",
                  "--confirmed", check=0)
        api.local("filter", "add", "bob", "email", "all", "topic:*", check=0)
        m = json.loads(api.ctl(t, "match", "--id", mid, "--explain",
                               check=0).stdout)
        assert [r["user"] for r in m["recipients"]] == ["alice"], m
        assert m["explain"], m
        admin = api.token("bob", admin=True)
        m = json.loads(api.ctl(admin, "match", "--id", mid, check=0).stdout)
        assert sorted(r["user"] for r in m["recipients"]) == ["alice", "bob"]
    finally:
        api.close()


# Every command of the API, aimed at bob with alice's token.
def commands_on(user, secret, msg_id):
    return [
        ["user", "show", user],
        ["dest", "add", user, "email", "x@example.org"],
        ["dest", "add", user, "email", "y@example.org", "--confirmed"],
        ["dest", "list", user],
        ["dest", "rm", user, "email", "bob@example.org"],
        ["pref", "set", user, "email", "--disable"],
        ["pref", "list", user],
        ["filter", "add", user, "email", "x", "topic:*"],
        ["filter", "list", user],
        ["filter", "show", user, "email", "f"],
        ["filter", "rm", user, "email", "f"],
        ["filter", "enable", user, "email", "f"],
        ["filter", "disable", user, "email", "f"],
        ["filter", "move", user, "email", "f", "1"],
        ["match", "--id", msg_id, "--user", user],
        ["notifications", user],
    ]


def test_every_command_aimed_at_another_user_is_refused_and_changes_nothing():
    api = Api(users=("alice", "bob", "carol"))
    try:
        for args in (["dest", "add", "bob", "email", "bob@example.org",
                      "--confirmed"],
                     ["dest", "add", "bob", "email", "new@example.org"],
                     ["filter", "add", "bob", "email", "f", "topic:*"]):
            api.local(*args, check=0)
        secret = pending(api.db, "new@example.org")[1]
        mid = api.pub.send(envelope(WIKI, {"user": "bob"}))
        wait_until(lambda: fmndtest.counter(api.db, "messages_processed"),
                   30, 0.05, "the message")
        t = api.tokens["alice"]
        before = config(api.db)
        for user in ("bob", "nobody"):
            for args in commands_on(user, secret, mid):
                p = api.ctl(t, *args)
                assert p.returncode == 1, (args, p.returncode, p.stderr)
                assert p.stderr == "fmnctl: this token is alice's: it does " \
                    "not reach the data of %s\n" % user, (args, p.stderr)
                assert p.stdout == "", (args, p.stdout)
        # bob's secret does not confirm bob's address with alice's token.
        p = api.ctl(t, "dest", "confirm", secret)
        assert p.returncode == 1 and "no pending destination" in p.stderr
        assert config(api.db) == before
        # Raw requests the same, whatever the body says.
        for method, path, body in [
                ("GET", "/api/v1/users/bob", None),
                ("POST", "/api/v1/users/bob/filters",
                 {"context": "email", "name": "g", "rules": ["topic:*"]}),
                ("PATCH", "/api/v1/users/bob/preferences/email",
                 {"enabled": False}),
                ("DELETE", "/api/v1/users/bob/filters/email/f", None),
                ("POST", "/api/v1/confirmations",
                 {"secret": secret, "user": "bob"}),
                ("GET", "/api/v1/match?id=%s&user=bob" % mid, None)]:
            st, doc = api.json(method, path, t, body)
            assert st == 403, (method, path, st, doc)
        assert config(api.db) == before
        # An admin token reaches bob's data; carol's token, carol's only.
        admin = api.token("carol", admin=True)
        assert json.loads(api.ctl(admin, "--json", "user", "show", "bob",
                                  check=0).stdout)["name"] == "bob"
        api.ctl(admin, "filter", "disable", "bob", "email", "f", check=0)
        assert user_doc(api.db, "bob")["preferences"][0]["filters"][0][
            "active"] is False
    finally:
        api.close()


def test_raw_http_no_token_401_wrong_token_401_other_403_own_200():
    api = Api()
    try:
        a = api.tokens["alice"]
        for path in ("/api/v1/users/alice", "/api/v1/users/bob",
                     "/api/v1/rules", "/api/v1/nothing", "/api/v1"):
            st, h, text = api.request("GET", path)
            assert st == 401, (path, st, text)
            assert h["www-authenticate"] == 'Bearer realm="fmn"'
            assert json.loads(text)["error"]
            for tok in (BAD, a + "0", a[:-1], "", "not a token"):
                st, h, _ = api.request("GET", path, tok,
                                       source="127.0.1.%d" % len(path))
                assert st == 401, (path, tok, st)
            st, _, _ = api.request("GET", path, headers={
                "Authorization": "Basic " + a}, source="127.0.0.3")
            assert st == 401
        st, doc = api.json("GET", "/api/v1/users/alice", a)
        assert st == 200 and doc["name"] == "alice", doc
        st, doc = api.json("GET", "/api/v1/users/bob", a)
        assert st == 403 and "alice's" in doc["error"], doc
        st, doc = api.json("GET", "/api/v1/rules", a)
        assert st == 200 and {k["kind"] for k in doc} >= {"topic", "user"}
        # The rest of the API's answers.
        st, doc = api.json("GET", "/api/v1/nothing", a)
        assert st == 404
        st, h, _ = api.request("PUT", "/api/v1/users/alice/filters", a)
        assert st == 405 and h["allow"] == "GET, POST", h
        st, doc = api.json("POST", "/api/v1/users/alice/filters", a,
                           {"context": "email", "name": "f",
                            "rules": ["topic:*"], "colour": "red"})
        assert st == 400 and "colour" in doc["error"], doc
        st, doc = api.json("POST", "/api/v1/users/alice/filters", a,
                           {"context": "email", "name": "f", "rules": "x"})
        assert st == 400 and "rules" in doc["error"], doc
        st, _, _ = api.request("POST", "/api/v1/users/alice/filters", a,
                               body="{not json")
        assert st == 400
        st, _, _ = api.request("POST", "/api/v1/users/alice/filters", a,
                               body="[1]")
        assert st == 400
        st, _, _ = api.request("POST", "/api/v1/users/alice/filters", a,
                               body="{" + " " * 70000 + "}")
        assert st == 413
        st, _, _ = api.request("GET", "/api/v1/users/alice", a, body="{}")
        assert st == 400
        st, doc = api.json("POST", "/api/v1/users/alice/filters", a,
                           {"context": "email", "name": "f",
                            "rules": ["topic:*"]})
        assert st == 200 and doc["position"] == 1, doc
        st, doc = api.json("POST", "/api/v1/users/alice/filters", a,
                           {"context": "email", "name": "f",
                            "rules": ["topic:*"]})
        assert st == 409, doc
        st, doc = api.json("PATCH", "/api/v1/users/alice/filters/email/"
                           "nope", a, {"active": False})
        assert st == 404 and "no email filter" in doc["error"], doc
        st, doc = api.json("PATCH", "/api/v1/users/alice/filters/email/f",
                           a, {"active": False, "position": 1})
        assert st == 200 and doc["active"] is False, doc
        st, doc = api.json("GET", "/api/v1/users/alice/filters?context=irc",
                           a)
        assert st == 200 and doc == [], doc
        st, doc = api.json("GET", "/api/v1/users/alice/filters?context=x&"
                           "context=y", a)
        assert st == 400 and "twice" in doc["error"], doc
        # A name with a slash is one segment; percent-encoded UTF-8 too.
        name = "a/b \u00e9t\u00e9"
        api.ctl(a, "filter", "add", "alice", "irc", name, "user:x", check=0)
        st, doc = api.json("GET", "/api/v1/users/alice/filters/irc/"
                           "a%2Fb%20%C3%A9t%C3%A9", a)
        assert st == 200 and doc["name"] == name, doc
        assert api.request("GET", "/api/v1/users/alice/filters/irc/%ff",
                           a)[0] == 400
        assert api.request("GET", "/api/v1/users/alice/filters/irc/a%00",
                           a)[0] == 400
    finally:
        api.close()


def normalize(text):
    text = re.sub(r"\b[0-9a-f]{32}\b", "SECRET", text)
    return re.sub(r'"expires":[0-9.e+]+', '"expires":T', text)


def test_a_command_prints_the_same_locally_and_remotely():
    """The same commands on two databases alike, one through the API
    with an admin token: the same output, errors and exit codes."""
    api = Api()
    try:
        local = fmntest.initdb()
        for u in ("alice", "bob"):
            fmntest.fmnctl("user", "add", u, db=local, check=0)
        admin = api.token("alice", admin=True)
        steps = [
            ["user", "show", "alice"], ["--json", "user", "show", "alice"],
            ["dest", "add", "alice", "email", "alice@example.org",
             "--confirmed"],
            ["dest", "add", "alice", "irc", "alice_"],
            ["--json", "dest", "add", "bob", "irc", "bob_", "--expires", "60"],
            ["dest", "add", "alice", "email", "alice@example.org"],
            ["dest", "add", "alice", "email", "not an address"],
            ["dest", "add", "alice", "fax", "123"],
            ["dest", "add", "nobody", "email", "x@example.org"],
            ["dest", "add", "alice", "email", "x@example.org", "--expires",
             "soon"],
            ["dest", "list"], ["dest", "list", "alice"],
            ["--json", "dest", "list"], ["dest", "list", "nobody"],
            ["pref", "set", "alice", "email", "--batch-delta", "60",
             "--verbose", "off"],
            ["pref", "set", "alice", "email", "--batch-count", "-1"],
            ["pref", "set", "alice", "email", "--batch-delta", "soon"],
            ["pref", "set", "alice", "irc", "--markup", "on", "--disable"],
            ["pref", "list"], ["--json", "pref", "list", "alice"],
            ["filter", "add", "alice", "email", "mine", "user:alice",
             "!topic:*.wiki.*"],
            ["filter", "add", "alice", "email", "mine", "user:alice"],
            ["filter", "add", "alice", "email", "bad", "nokind:x"],
            ["filter", "add", "alice", "email", "re", "topic-re:("],
            ["filter", "add", "alice", "email", "", "user:x"],
            ["filter", "add", "alice", "irc", "two", "package:kernel",
             "--oneshot", "--inactive"],
            ["filter", "add", "alice", "email", "only"],
            ["filter", "list", "alice"], ["--json", "filter", "list", "alice"],
            ["filter", "list", "alice", "irc"], ["filter", "list", "alice",
                                                  "fax"],
            ["filter", "show", "alice", "email", "mine"],
            ["--json", "filter", "show", "alice", "irc", "two"],
            ["filter", "show", "alice", "email", "nope"],
            ["filter", "show", "alice", "fax", "mine"],
            ["filter", "move", "alice", "email", "mine", "1"],
            ["filter", "move", "alice", "email", "mine", "9"],
            ["filter", "move", "alice", "email", "mine", "0"],
            ["filter", "move", "alice", "email", "mine", "first"],
            ["filter", "disable", "alice", "email", "mine"],
            ["filter", "enable", "alice", "email", "mine"],
            ["filter", "enable", "bob", "email", "mine"],
            ["rules"], ["--json", "rules"],
            ["user", "show", "alice"], ["--json", "user", "show", "alice"],
            ["notifications", "alice"], ["--json", "notifications"],
            ["notifications", "alice", "--limit", "0"],
            ["match", "--id", "nope", "--user", "alice"],
            ["match", "--id", "nope", "--user", "nobody"],
            ["dest", "confirm", "00ff"],
            ["dest", "rm", "alice", "email", "alice@example.org"],
            ["dest", "rm", "alice", "email", "alice@example.org"],
            ["filter", "rm", "alice", "email", "mine"],
            ["filter", "rm", "alice", "email", "mine"],
            ["pref", "list", "alice"], ["user", "show", "bob"],
        ]
        for args in steps:
            here = fmntest.fmnctl(*args, db=local)
            there = api.ctl(admin, *args)
            assert (here.returncode, normalize(here.stdout),
                    normalize(here.stderr)) == (
                there.returncode, normalize(there.stdout),
                normalize(there.stderr)), (args, here, there)
        # A pending destination confirmed with its secret, both ways.
        for db, run in ((local, lambda *a: fmntest.fmnctl(*a, db=local)),
                        (api.db, lambda *a: api.ctl(admin, *a))):
            p = run("dest", "confirm", pending(db, "alice_")[1])
            assert (p.returncode, p.stdout) == (0, "confirmed alice_ for "
                                                "alice\n"), p
        assert normalize(fmntest.fmnctl("export", db=local).stdout) == \
            normalize(api.local("export").stdout)
    finally:
        api.close()


def test_failed_attempts_are_limited_per_address():
    api = Api()
    try:
        a = api.tokens["alice"]
        path = "/api/v1/users/alice"
        for _ in range(10):
            assert api.request("GET", path, BAD, source="127.0.0.5")[0] == 401
        st, h, text = api.request("GET", path, a, source="127.0.0.5")
        assert st == 429 and 1 <= int(h["retry-after"]) <= 60, (st, h, text)
        assert api.request("GET", path, source="127.0.0.5")[0] == 429
        # Another address is not concerned.
        assert api.request("GET", path, a, source="127.0.0.6")[0] == 200
        # Requests without a token are no attempt at one.
        for _ in range(20):
            assert api.request("GET", path, source="127.0.0.9")[0] == 401
        assert api.request("GET", path, a, source="127.0.0.9")[0] == 200
        # Links that are not valid count as well.
        link = "/confirm/" + "0" * 32
        for _ in range(10):
            assert api.request("GET", link, source="127.0.0.7")[0] == 404
        st, h, page = api.request("GET", link, source="127.0.0.7")
        assert st == 429 and h["content-type"].startswith("text/html")
        # Behind a proxy on this host: the address it forwards.
        xff = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}
        for _ in range(10):
            assert api.request("GET", path, BAD, headers=xff,
                               source="127.0.0.8")[0] == 401
        assert api.request("GET", path, a, headers={
            "X-Forwarded-For": "198.51.100.7"}, source="127.0.0.10")[0] == 429
        assert api.request("GET", path, a, headers={
            "X-Forwarded-For": "198.51.100.8"}, source="127.0.0.8")[0] == 200
        assert "failed attempts in 60 s" in api.d.log()
    finally:
        api.close()


def outside_address():
    """An address of this host that is not loopback, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))     # UDP: nothing is sent
        addr = s.getsockname()[0]
    except OSError:
        addr = None
    finally:
        s.close()
    if addr and not addr.startswith("127.") and addr != "0.0.0.0":
        return addr
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope",
                          "global"], capture_output=True, text=True).stdout
    m = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", out)
    return m.group(1) if m else None


def test_tokens_over_plain_http_from_afar_are_refused():
    addr = outside_address()
    added = None
    if addr is None and os.geteuid() == 0:
        # A host with no network of its own: lend it an address from the
        # benchmarking range, on lo, for the length of the test.
        added = "198.18.0.1"
        subprocess.run(["ip", "addr", "add", added + "/32", "dev", "lo"],
                       check=True)
        addr = added
    assert addr, "this test needs an address of this host that is not " \
        "loopback, or root to lend one to lo"
    try:
        _refused_from_afar(addr)
    finally:
        if added:
            subprocess.run(["ip", "addr", "del", added + "/32", "dev",
                            "lo"], check=True)


def _refused_from_afar(addr):
    for conf, want in (("", 403), ("allow_insecure = yes\n", 200)):
        api = Api(listen="0.0.0.0", conf=conf)
        try:
            a = api.tokens["alice"]
            st, h, text = api.request("GET", "/api/v1/users/alice", a,
                                      source=addr, host=addr)
            assert st == want, (conf, st, text)
            if want == 403:
                assert "HTTPS" in json.loads(text)["error"]
            assert api.request("GET", "/api/v1/users/alice", a)[0] == 200
            # Without a token: 401, as anywhere.
            assert api.request("GET", "/api/v1/users/alice", source=addr,
                               host=addr)[0] == 401
            # Confirmation links need no token, and work from afar.
            api.local("dest", "add", "alice", "email", "a@example.org",
                      check=0)
            secret = pending(api.db, "a@example.org")[1]
            st, _, page = api.request("GET", "/confirm/" + secret,
                                      source=addr, host=addr)
            assert st == 200 and "a@example.org" in page
            assert api.request("POST", "/confirm/" + secret, source=addr,
                               host=addr)[0] == 200
            assert pending(api.db, "a@example.org")[0] == 1
        finally:
            api.close()


def test_commands_that_make_no_sense_remotely_say_so():
    api = Api()
    try:
        t = api.tokens["alice"]
        before = config(api.db)
        for args in (["user", "add", "zed"], ["user", "list"],
                     ["user", "rm", "alice"], ["init"], ["status"],
                     ["export"], ["import", "-"], ["queue"], ["history"],
                     ["match", "-"], ["match", "--history", "--user",
                                      "alice"],
                     ["dest", "reset", "alice", "email", "a@example.org"],
                     ["filter", "defaults", "alice", "email"],
                     ["token", "create", "alice"], ["token", "list"],
                     ["alias", "add", "x", "y"], ["owners", "list"],
                     ["groups", "list"], ["meta", "-"]):
            p = api.ctl(t, *args)
            assert p.returncode == 2, (args, p.returncode, p.stderr)
            assert "server's database only" in p.stderr or \
                "only --id works with --server" in p.stderr, (args, p.stderr)
            assert p.stdout == ""
        assert config(api.db) == before
        # The help marks the commands that go through the API.
        text = fmntest.fmnctl("--help", check=0).stdout
        assert re.search(r"filter add\s+\*", text) and \
            re.search(r"user add\s+[^*]", text), text
    finally:
        api.close()


def test_a_removed_token_stops_working_at_once():
    api = Api()
    try:
        t = api.tokens["alice"]
        api.ctl(t, "user", "show", "alice", check=0)
        rows = fmntest.fmnctl_json("token", "list", db=api.db)
        row = next(r for r in rows if r["user"] == "alice")
        assert row["last_used"] is not None
        assert t not in json.dumps(rows)
        api.local("token", "rm", str(row["id"]), check=0)
        p = api.ctl(t, "user", "show", "alice")
        assert p.returncode == 1 and "not valid" in p.stderr, p.stderr
        # A removed user's tokens go with them.
        b = api.tokens["bob"]
        api.local("user", "rm", "bob", check=0)
        assert api.ctl(b, "rules").returncode == 1
    finally:
        api.close()


def test_client_settings_from_the_environment_and_the_client_file():
    api = Api()
    try:
        t = api.tokens["alice"]
        env = {"FMN_SERVER": api.base, "FMN_TOKEN": t}
        p = fmntest.fmnctl("user", "show", "alice", env=env, check=0)
        assert "user alice" in p.stdout
        # --db means the database, whatever the environment says.
        p = fmntest.fmnctl("user", "list", db=api.db, env=env, check=0)
        assert "alice" in p.stdout
        home = fmntest.tmpdir()
        os.makedirs(os.path.join(home, "fmn"))
        path = os.path.join(home, "fmn", "client.conf")
        with open(path, "w") as f:
            f.write("# mine\nserver = %s/\ntoken = %s\n" % (api.base, t))
        os.chmod(path, 0o600)
        env = {"XDG_CONFIG_HOME": home, "FMN_SERVER": "", "FMN_TOKEN": ""}
        p = fmntest.fmnctl("dest", "add", "alice", "email", "c@example.org",
                           env=env, check=0)
        assert pending(api.db, "c@example.org")[0] == 0
        # A token others may read is refused, as ssh refuses such a key.
        os.chmod(path, 0o644)
        p = fmntest.fmnctl("user", "show", "alice", env=env, check=1)
        assert "chmod 600" in p.stderr, p.stderr
        os.chmod(path, 0o600)
        with open(path, "a") as f:
            f.write("colour = red\n")
        p = fmntest.fmnctl("user", "show", "alice", env=env, check=1)
        assert "unknown key colour" in p.stderr, p.stderr
    finally:
        api.close()


if __name__ == "__main__":
    fmntest.main(globals())
