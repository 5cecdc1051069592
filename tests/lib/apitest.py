"""Helpers for the tests of fmnd's token API: a daemon serving [http]
on a private port with its database and an mbox, tokens made with
fmnctl, fmnctl as a client (--server, --token), raw HTTP requests from
a chosen loopback address, and the configuration tables of a database
to show that nothing changed."""

import http.client
import json
import os
import re
import sqlite3

import fmndtest
import fmntest


class Api:
    """fmnd with [http] on a port of its choosing, users with a token
    each, and the mbox its mail goes to. Its base_url is the public
    address a reverse proxy would have; links in mail are read against
    the daemon's own port."""

    BASE_URL = "https://fmn.example.org"

    def __init__(self, users=("alice", "bob"), conf="", listen="127.0.0.1"):
        self.tmp = fmntest.tmpdir()
        self.db = os.path.join(self.tmp, "fmn.db")
        self.mbox = os.path.join(self.tmp, "fmn.mbox")
        fmntest.fmnctl("init", db=self.db, check=0)
        for u in users:
            fmntest.fmnctl("user", "add", u, db=self.db, check=0)
        self.pub = fmndtest.Publisher()
        self.d = None
        try:
            self.d = fmndtest.Daemon(
                self.db, self.pub.endpoint, "mbox:" + self.mbox,
                "[http]\nlisten = %s:0\nbase_url = %s\n%s"
                % (listen, self.BASE_URL, conf), tmp=self.tmp)
            self.pub.wait_subscriber()
        except BaseException:
            self.close()
            raise
        m = re.search(r"http: serving .* \(port (\d+)\)", self.d.log())
        assert m, self.d.log()
        self.port = int(m.group(1))
        self.base = "http://127.0.0.1:%d" % self.port
        self.tokens = {u: self.token(u) for u in users}

    def token(self, user, admin=False):
        args = ["token", "create", user] + (["--admin"] if admin else [])
        return fmntest.fmnctl_json(*args, db=self.db)["token"]

    def ctl(self, token, *args, check=None, env=None, server=None):
        """fmnctl through the API."""
        return fmntest.fmnctl("--server", server or self.base, "--token",
                              token, *args, check=check, env=env)

    def local(self, *args, check=None):
        return fmntest.fmnctl(*args, db=self.db, check=check)

    def request(self, method, path, token=None, body=None, headers=None,
                source="127.0.0.1", host="127.0.0.1"):
        """(status, headers as a dict with lower-case names, text)."""
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c = http.client.HTTPConnection(host, self.port, timeout=30,
                                       source_address=(source, 0))
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            text = r.read().decode("utf-8")
            return (r.status, {k.lower(): v for k, v in r.getheaders()},
                    text)
        finally:
            c.close()

    def json(self, method, path, token=None, body=None, source="127.0.0.1"):
        st, _, text = self.request(method, path, token, body, source=source)
        return st, (json.loads(text) if text.strip() else None)

    def close(self):
        if self.d is not None:
            assert self.d.stop() == 0, self.d.log()
            self.d = None
        self.pub.close()


# The tables that hold configuration and credentials; the daemon's own
# bookkeeping (counters, its status row, applied changes, what it sent)
# is left out.
CONFIG_TABLES = ("users", "aliases", "destinations", "preferences", "filters",
                 "rules", "owners", "group_members", "tokens")


def config(db):
    """What a refusal must not change: the configuration tables (a
    token's last use aside) and fmnctl export."""
    con = sqlite3.connect(db)
    try:
        out = {}
        for t in CONFIG_TABLES:
            rows = con.execute('SELECT * FROM "%s" ORDER BY 1' % t).fetchall()
            if t == "tokens":
                rows = [r[:5] for r in rows]    # id .. created
            elif t == "destinations":
                # id .. created: confirm_sent, failing and last_error are
                # the daemon's, written when it mails a confirmation.
                rows = [r[:8] for r in rows]
            out[t] = rows
    finally:
        con.close()
    out["export"] = fmntest.fmnctl("export", db=db, check=0).stdout
    return out


def pending(db, address):
    """(confirmed, secret) of a destination."""
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT confirmed, secret FROM destinations "
                           "WHERE address = ?", (address,)).fetchone()
    finally:
        con.close()
