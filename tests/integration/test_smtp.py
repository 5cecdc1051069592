"""E-mail end to end: fmnd on a private bus and a temporary database
delivers over SMTP to a real server (aiosmtpd on loopback), which records
what it receives. Covers the headers people filter on, text from the bus
that tries to add headers or recipients, a server outage, a refused
recipient, a refused message, a slow and a silent server, and the
confirmation of a new address."""

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import uuid

import fmndtest
from fmndtest import wait_until
import fmntest
import smtptest
import zmq

WIKI = "org.fedoraproject.stg.wiki.article.edit"


class Daemon:
    """fmnd with a config file for quick retries; its stderr is kept."""

    def __init__(self, db, bus, smtp_url, conf="", email=None):
        """email: [email] settings over the test's own (timeout = 5)."""
        path = os.path.join(fmntest.tmpdir(), "fmn.ini")
        settings = {"timeout": 5}
        settings.update(email or {})
        with open(path, "w") as f:
            f.write("[delivery]\nretry_initial = 1\nretry_max = 2\n"
                    "[email]\n" + "".join("%s = %s\n" % kv for kv in
                                          settings.items()) + conf)
        self.lines = []
        self.ready = threading.Event()
        self.proc = subprocess.Popen(
            [fmntest.FMND, "-c", path, "--db", db, "--bus", bus,
             "--smtp", smtp_url,
             "--mail-from", "Fedora Notifications <fmn@example.net>"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.ready.wait(30) or not any(
                l.startswith("fmnd: ready") for l in self.lines):
            self.stop()
            raise AssertionError("fmnd not ready (exit %r):\n%s" %
                                 (self.proc.returncode, self.log()))

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line)
            if line.startswith("fmnd: ready"):
                self.ready.set()
        self.ready.set()

    def log(self):
        return "".join(self.lines)

    def terminate(self, timeout=60):
        """SIGTERM; returns the exit code and the seconds it took."""
        t0 = time.monotonic()
        self.proc.terminate()
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("fmnd did not stop within %gs:\n%s" %
                                 (timeout, self.log()))
        secs = time.monotonic() - t0
        self.reader.join(10)    # its last words: a sanitizer's report
        return rc, secs

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(10)


class Bus:
    """A publisher in real fedmsg frames. XPUB, so that we publish only
    once the daemon's subscription has arrived (no slow-joiner loss)."""

    def __init__(self):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.XPUB)
        self.port = fmntest.free_port()
        self.endpoint = "tcp://127.0.0.1:%d" % self.port
        self.sock.bind(self.endpoint)
        self.i = 0

    def wait_subscriber(self, timeout=30):
        if not self.sock.poll(timeout * 1000):
            raise AssertionError("no subscription")
        self.sock.recv()

    def publish(self, topic, body, msg_id=None):
        self.i += 1
        env = {"topic": topic, "msg": body, "timestamp": time.time(),
               "msg_id": msg_id or "2024-%s" % uuid.uuid4(), "i": self.i,
               "username": "apache"}
        self.sock.send_multipart([topic.encode(), json.dumps(env).encode()])
        return env["msg_id"]

    def close(self):
        self.sock.close(0)
        self.ctx.term()


def wiki(title="Messaging SIG", user="Ralph", url="http://x.org/w"):
    return {"title": title, "user": user, "url": url, "summary": "",
            "text": "The diff goes here...", "minor_edit": 0}


def rich_msg():
    """A real corpus message whose derived facts have users, packages
    and a link (found with fmnctl meta, so whichever definitions give
    them): (topic, body, facts)."""
    envs = fmntest.corpus()
    p = fmntest.fmnctl("meta", "-", db=fmntest.initdb(), input="".join(
        json.dumps(e) + "\n" for e in envs), check=0)
    for env, line in zip(envs, p.stdout.splitlines()):
        facts = json.loads(line)
        if facts.get("packages") and facts.get("usernames") and \
                facts.get("link") and facts.get("subtitle"):
            return env["topic"], env["msg"], facts
    raise AssertionError("no corpus message with users, packages and link")


def setup(users, reject=(), conf="", email=None, **server):
    """A database where each user has one confirmed address NAME@example.org
    and a filter that matches everything; a server (server: more arguments
    for smtptest.Server); a bus; fmnd."""
    db = fmntest.tmpdb()
    fmntest.fmnctl("init", db=db, check=0)
    for u in users:
        fmntest.fmnctl("user", "add", u, db=db, check=0)
        fmntest.fmnctl("dest", "add", u, "email", "%s@example.org" % u,
                       "--confirmed", db=db, check=0)
        fmntest.fmnctl("filter", "add", u, "email", "everything", "topic:*",
                       db=db, check=0)
    srv = smtptest.Server(reject=reject, **server).start()
    bus = Bus()
    d = Daemon(db, bus.endpoint, srv.url, conf, email)
    try:
        bus.wait_subscriber()
    except AssertionError:
        teardown(srv, bus, d)
        raise AssertionError("fmnd never subscribed to the bus:\n" +
                             d.log())
    return db, srv, bus, d


def teardown(srv, bus, d):
    d.stop()
    bus.close()
    srv.stop()
    # A sanitizer build of fmnd reports memory errors and leaks at exit.
    if sys.exc_info()[0] is None:
        log = d.log()
        assert "Sanitizer" not in log and "runtime error:" not in log, log


def to(addr):
    return lambda m: addr in m.rcpt_tos


def with_id(msg_id):
    return lambda m: m.message()["X-Fedmsg-Id"] == msg_id


def test_headers_and_body():
    db, srv, bus, d = setup(["alice"])
    try:
        topic, body, facts = rich_msg()
        id1 = bus.publish(WIKI, wiki())
        id2 = bus.publish(topic, body)
        mails = srv.wait_for(2, timeout=60)
        by_id = {m.message()["X-Fedmsg-Id"]: m for m in mails}
        assert set(by_id) == {id1, id2}, by_id
        for m in mails:
            assert m.mail_from == "fmn@example.net", m.mail_from
            assert m.rcpt_tos == ["alice@example.org"], m.rcpt_tos
            msg = m.message()
            assert not msg.defects, msg.defects
            for h in ("From", "To", "Subject", "Date", "Message-ID",
                      "MIME-Version", "Content-Type",
                      "Content-Transfer-Encoding", "Precedence",
                      "Auto-Submitted", "X-Fedmsg-Id", "X-Fedmsg-Topic",
                      "X-Fedmsg-Category", "X-Fedmsg-Username"):
                assert msg[h] is not None, (h, m.data)
            assert msg["From"] == "Fedora Notifications <fmn@example.net>"
            assert msg["To"] == "alice@example.org"
            assert msg["Precedence"] == "bulk"
            assert msg["Auto-Submitted"] == "auto-generated"
            assert msg.get_content_type() == "text/plain"
            assert msg.get_content_charset() == "utf-8"
            assert re.fullmatch(r"<fmn\.\d+\.\d+@example\.net>",
                                msg["Message-ID"]), msg["Message-ID"]
            assert msg["Date"].datetime is not None
            body = msg.get_content()
            assert "When:" in body and " UTC" in body, body
            assert 'fmnctl filter disable alice email "everything"' in body
            assert "fmnctl pref set alice email --disable" in body
        w = by_id[id1].message()
        assert w["Subject"] == 'Ralph made a wiki edit to "Messaging SIG"', \
            w["Subject"]
        assert w["X-Fedmsg-Topic"] == WIKI
        assert w["X-Fedmsg-Category"] == "wiki"
        assert w.get_all("X-Fedmsg-Username") == ["ralph"]
        b = by_id[id2].message()
        assert b["Subject"] == facts["subtitle"], (b["Subject"], facts)
        assert b["X-Fedmsg-Topic"] == topic
        assert b["X-Fedmsg-Category"] == topic.split(".")[3]
        assert b.get_all("X-Fedmsg-Username") == facts["usernames"]
        assert b.get_all("X-Fedmsg-Package") == facts["packages"][:20]
        if len(facts["packages"]) > 20:
            assert b["X-Fedmsg-Num-Packages"] == str(len(facts["packages"]))
        assert "Link:     %s" % facts["link"] in b.get_content()
    finally:
        teardown(srv, bus, d)


def test_no_injected_header_or_recipient():
    db, srv, bus, d = setup(["alice"])
    try:
        clean = bus.publish(WIKI, wiki())
        evil = bus.publish(
            WIKI,
            wiki(title="SIG\r\nBcc: victim@example.org\r\nX-Evil: 1\r\n\r\n"
                       "body\r\n.\r\nRCPT TO:<victim@example.org>",
                 user="Ralph\r\nTo: victim@example.org\nX-Evil: 2",
                 url="http://x.org/\r\nX-Evil: 3"),
            msg_id="2024-evil\r\nX-Evil: 4")
        mails = srv.wait_for(2, timeout=60)
        # The daemon has recorded both deliveries: anything else it sent
        # would have been sent by then.
        wait_until(lambda: fmndtest.counter(db, "notifications_delivered")
                   >= 2, 30, 0.05, "both deliveries recorded")
        assert len(srv.mails) == 2, srv.mails
        for m in srv.mails:
            assert m.rcpt_tos == ["alice@example.org"], m.rcpt_tos
        c = [m for m in mails if m.message()["X-Fedmsg-Id"] == clean][0]
        e = [m for m in mails if m is not c][0]
        cm, em = c.message(), e.message()
        assert not em.defects, em.defects
        # Same header names, and as many of each (one username each).
        names = lambda msg: sorted(k.lower() for k in msg.keys())
        assert names(cm) == names(em), (names(cm), names(em))
        assert em["Bcc"] is None and em["X-Evil"] is None
        assert em.get_all("To") == ["alice@example.org"]
        assert "victim@example.org" in em["Subject"]  # kept, as text
        assert "\n" not in em["Subject"] and "\r" not in em["Subject"]
        for line in e.data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
            assert len(line) <= 998
            assert not re.match(rb"(?i)(bcc|x-evil|rcpt)", line), line
        assert srv.rejected == []
    finally:
        teardown(srv, bus, d)


def test_server_outage_loses_nothing():
    db, srv, bus, d = setup(["alice"])
    try:
        ids = [bus.publish(WIKI, wiki(title="before %d" % i))
               for i in range(5)]
        srv.wait_for(5, timeout=60)
        srv.stop()
        ids += [bus.publish(WIKI, wiki(title="during %d" % i))
                for i in range(10)]
        # The outage itself: every mail of it failed and is retried.
        wait_until(lambda: fmndtest.counter(db, "notifications_retried")
                   >= 10, 60, 0.1, "the outage's mails retried")
        srv.start()
        ids += [bus.publish(WIKI, wiki(title="after %d" % i))
                for i in range(5)]
        ids_of = lambda mails: [m.message()["X-Fedmsg-Id"] for m in mails]
        try:
            srv.wait_until(lambda mails: set(ids) <= set(ids_of(mails)),
                           timeout=90)
        except AssertionError:
            pass
        got = ids_of(srv.mails)
        missing = set(ids) - set(got)
        assert not missing, "lost %r\n%s" % (missing, d.log())
        dups = len(got) - len(set(got))
        assert dups <= 2, "%d duplicates" % dups
        assert set(got) == set(ids)
    finally:
        teardown(srv, bus, d)


def test_refused_recipient_marked_failing():
    db, srv, bus, d = setup(["alice", "bob", "carol"],
                            reject=["bob@example.org"])
    try:
        ids = [bus.publish(WIKI, wiki(title="page %d" % i))
               for i in range(3)]
        for u in ("alice", "carol"):
            srv.wait_for(3, timeout=60, what=to("%s@example.org" % u))
        srv.wait_rejected(1, timeout=60)
        deadline = time.monotonic() + 30
        while True:
            dests = {x["address"]: x for x in
                     fmntest.fmnctl_json("dest", "list", db=db)}
            if dests["bob@example.org"]["failing"] or \
                    time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert dests["bob@example.org"]["failing"], dests
        assert "550" in (dests["bob@example.org"]["last_error"] or ""), \
            dests
        assert not dests["alice@example.org"]["failing"]
        assert not dests["carol@example.org"]["failing"]
        refused = len(srv.rejected)
        # Later mail keeps flowing to the others; bob is not retried.
        more = [bus.publish(WIKI, wiki(title="later %d" % i))
                for i in range(3)]
        for u in ("alice", "carol"):
            got = srv.wait_for(6, timeout=60, what=to("%s@example.org" % u))
            assert set(more) <= {m.message()["X-Fedmsg-Id"] for m in got}
        # Not tried again: bob's first three failed after one attempt,
        # the later three wait, never handed over (his address is
        # marked failing), while the others' mail went through.
        con = sqlite3.connect(db)
        rows = con.execute("SELECT n.state, n.attempts FROM notifications n "
                           "JOIN destinations d ON d.id = n.destination_id "
                           "WHERE d.address = 'bob@example.org' "
                           "ORDER BY n.id").fetchall()
        con.close()
        assert rows == [("failed", 1)] * 3 + [("queued", 0)] * 3, rows
        # Each of the first three refused once (they may have been in
        # flight together); nothing after.
        assert refused <= len(srv.rejected) <= 3, srv.rejected
        assert not any("bob@example.org" in m.rcpt_tos for m in srv.mails)
        assert ids
    finally:
        teardown(srv, bus, d)


def test_confirmation_flow():
    db, srv, bus, d = setup(["alice"])
    try:
        fmntest.fmnctl("user", "add", "dave", db=db, check=0)
        fmntest.fmnctl("filter", "add", "dave", "email", "everything",
                       "topic:*", db=db, check=0)
        fmntest.fmnctl("dest", "add", "dave", "email", "dave@example.org",
                       db=db, check=0)
        conf = srv.wait_for(1, timeout=60, what=to("dave@example.org"))[0]
        msg = conf.message()
        assert not msg.defects
        assert msg["Auto-Submitted"] == "auto-generated"
        assert msg["Message-ID"].startswith("<fmn.confirm.")
        body = msg.get_content()
        m = re.search(r"fmnctl dest confirm (\S+)", body)
        assert m, body
        secret = m.group(1)
        assert "expires" in body and " UTC" in body, body

        # Pending: nothing else reaches dave (alice's copy shows the
        # message went through the daemon).
        before = bus.publish(WIKI, wiki(title="before confirmation"))
        srv.wait_for(1, timeout=60, what=with_id(before))
        assert [x for x in srv.mails if to("dave@example.org")(x)] == [conf]

        fmntest.fmnctl("dest", "confirm", secret, db=db, check=0)
        dests = {x["address"]: x for x in
                 fmntest.fmnctl_json("dest", "list", db=db)}
        assert dests["dave@example.org"]["confirmed"], dests

        deadline = time.monotonic() + 60
        after = None
        while time.monotonic() < deadline:
            # The daemon picks up the change on its own schedule: publish
            # until one reaches dave.
            after = bus.publish(WIKI, wiki(title="after confirmation"))
            try:
                srv.wait_for(1, timeout=2, what=lambda x: to(
                    "dave@example.org")(x) and with_id(after)(x))
                break
            except AssertionError:
                pass
        got = [x.message()["X-Fedmsg-Id"] for x in srv.mails
               if to("dave@example.org")(x)]
        assert after in got, (got, d.log())
        assert before not in got
        assert len([x for x in srv.mails if to("dave@example.org")(x)
                    and x.message()["X-Fmn-Kind"] == "confirm"]) == 1
    finally:
        teardown(srv, bus, d)


def processed(db):
    return fmndtest.status(db)["messages_processed"]


def notifications(db, msg_id=None):
    """(state, attempts, last_error) of every notification, or of those
    for one message."""
    con = sqlite3.connect(db)
    try:
        return con.execute(
            "SELECT n.state, n.attempts, n.last_error FROM notifications n "
            "JOIN messages m ON m.id = n.message_id "
            "WHERE ?1 IS NULL OR m.msg_id = ?1 ORDER BY n.id",
            (msg_id,)).fetchall()
    finally:
        con.close()


def test_silent_server_stalls_neither_intake_nor_stop():
    """A server takes the message and never answers its end. Every
    message is still matched and queued at once, and SIGTERM stops fmnd
    within its grace, every notification back in the queue."""
    db, srv, bus, d = setup(["alice", "bob", "carol"],
                            data_delay=smtptest.NEVER, email={"timeout": 30})
    try:
        t0 = time.monotonic()
        for i in range(45):
            bus.publish(WIKI, wiki(title="page %d" % i))
        fmndtest.wait_until(lambda: processed(db) >= 45, timeout=60,
                            interval=0.1, what="45 messages processed")
        took = time.monotonic() - t0
        print("45 messages processed %.2f s after publishing" % took)
        assert took < 10, d.log()
        # Every connection waits for the reply to the end of a message.
        srv.wait_holding(4, timeout=30)
        rc, secs = d.terminate()
        print("fmnd exited %.2f s after SIGTERM" % secs)
        assert rc == 0, d.log()
        # The grace is 5 s; a second more for a loaded machine.
        assert secs < 6, (secs, d.log())
        assert "go back to the queue" in d.log(), d.log()
        states = [n[0] for n in notifications(db)]
        assert states == ["queued"] * 135, (states, d.log())
        assert srv.mails == []
    finally:
        teardown(srv, bus, d)


def test_intake_keeps_up_while_mail_is_stuck():
    db, srv, bus, d = setup(["alice"], data_delay=smtptest.NEVER,
                            email={"timeout": 30})
    try:
        bus.publish(WIKI, wiki(title="stuck"))
        srv.wait_holding(1, timeout=30)
        t0 = time.monotonic()
        for i in range(10):
            bus.publish(WIKI, wiki(title="while stuck %d" % i))
        fmndtest.wait_until(lambda: processed(db) >= 11, timeout=60,
                            interval=0.1, what="11 messages processed")
        lag = time.monotonic() - t0
        print("10 messages published while a mail was stuck, processed "
              "in %.2f s" % lag)
        assert lag < 5, d.log()
    finally:
        teardown(srv, bus, d)


def test_slow_server_uses_every_connection():
    """The server answers the end of each message after 2 s: with 4
    connections, 4 mails are answered at once, about 2 mails/s."""
    db, srv, bus, d = setup(["alice"], data_delay=2,
                            email={"connections": 4})
    try:
        t0 = time.monotonic()
        ids = [bus.publish(WIKI, wiki(title="page %d" % i))
               for i in range(16)]
        mails = srv.wait_for(16, timeout=120)
        took = time.monotonic() - t0
        print("16 mails in %.1f s: %.2f mails/s; sessions at once: %d, "
              "messages answered at once: %d" % (took, 16 / took,
                                                 srv.max_sessions,
                                                 srv.max_holding))
        assert srv.max_sessions == 4, srv.max_sessions
        assert srv.max_holding == 4, srv.max_holding
        assert 16 / took >= 1.0, took
        assert sorted(m.message()["X-Fedmsg-Id"] for m in mails) == \
            sorted(ids)
    finally:
        teardown(srv, bus, d)


def test_refused_message_fails_only_that_notification():
    """554 after DATA (a content filter) fails that notification; the
    address stays in service. A 550 to RCPT still marks it failing
    (test_refused_recipient_marked_failing)."""
    db, srv, bus, d = setup(["alice"], refuse_content=b"FORBIDDEN")
    try:
        bad = bus.publish(WIKI, wiki(title="FORBIDDEN words"))
        fmndtest.wait_until(
            lambda: fmndtest.status(db)["notifications_failed"] >= 1,
            timeout=60, interval=0.1, what="a failed notification")
        st = fmndtest.status(db)
        assert st["failing_destinations"] == [], st
        good = bus.publish(WIKI, wiki(title="harmless words"))
        srv.wait_for(1, timeout=60, what=with_id(good))
        [(state, attempts, error)] = notifications(db, bad)
        assert (state, attempts) == ("failed", 1), (state, attempts)
        assert error == "message refused (DATA): 554 5.7.1 message " \
            "content rejected", error
        # The server has it; the row says so once the daemon commits.
        wait_until(lambda: notifications(db, good)[0][0] == "delivered",
                   30, 0.05, "the good one's row delivered")
        st = fmndtest.status(db)
        assert st["failing_destinations"] == [], st
        assert st["notifications_failed"] == 1, st
        dests = fmntest.fmnctl_json("dest", "list", db=db)
        assert not dests[0]["failing"], dests
        assert "refused: alice email alice@example.org, 1 notification " \
            "(message %s): message refused (DATA): 554 5.7.1" % bad \
            in d.log(), d.log()
        assert "marked failing" not in d.log(), d.log()
        assert len(srv.refused_messages) == 1
    finally:
        teardown(srv, bus, d)


if __name__ == "__main__":
    fmntest.main(globals())
