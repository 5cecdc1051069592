"""fmnd end to end: a real ZeroMQ publisher, a temporary database, the
capture or mbox backend; nothing waits a fixed time, everything waits
for a log line, a counter or a file with a timeout."""

import json
import mailbox
import os
import re
import signal
import sqlite3
import threading
import time

import fmntest
import fmndtest
from fmndtest import envelope, wait_until

WIKI = "org.fedoraproject.prod.wiki.article.edit"
BUILD = "org.fedoraproject.prod.buildsys.build.state.change"


def wiki(title="Messaging SIG", **kw):
    return envelope(WIKI, {"user": "Ralph", "title": title,
                           "url": "http://x.org/w"}, **kw)


def build_msg(**kw):
    return envelope(BUILD, {"name": "kernel", "owner": "jforbes",
                            "version": "6.1", "release": "1.fc40",
                            "new": 1, "instance": "primary",
                            "build_id": 1, "task_id": 2}, **kw)


class Setup:
    def __init__(self, users=(), conf="", backend="capture", args=()):
        self.tmp = fmntest.tmpdir()
        self.db = os.path.join(self.tmp, "fmn.db")
        fmntest.fmnctl("init", db=self.db, check=0)
        for u in users:
            fmndtest.add_user(self.db, *u[:1], **u[1]) if isinstance(
                u, tuple) else fmndtest.add_user(self.db, u)
        self.cap = os.path.join(self.tmp, "capture.jsonl")
        self.mbox = os.path.join(self.tmp, "fmn.mbox")
        url = ("capture:" + self.cap) if backend == "capture" else (
            "mbox:" + self.mbox)
        self.pub = fmndtest.Publisher()
        self.d = fmndtest.Daemon(self.db, self.pub.endpoint, url, conf,
                                 args, tmp=self.tmp)
        self.pub.wait_subscriber()

    def sync(self, timeout=10):
        """Wait until the daemon applied every change made so far."""
        fmndtest.wait_changes_applied(self.d, self.db, timeout)

    def deliveries(self, kind=None):
        return [d for d in fmndtest.read_capture(self.cap)
                if kind is None or d["kind"] == kind]

    def status(self):
        return fmndtest.status(self.db)

    def wait_counter(self, name, value, timeout=30):
        return wait_until(lambda: self.status()[name] >= value, timeout,
                          0.05, "%s >= %d" % (name, value))

    def close(self):
        rc = self.d.stop()
        self.pub.close()
        return rc


def test_expected_notifications_arrive():
    """What the daemon delivers is exactly what `fmnctl match` says."""
    s = Setup()
    try:
        fmndtest.add_user(s.db, "ralph", rules=["user:ralph"])
        fmndtest.add_user(s.db, "kernelfan", rules=["package:kernel"])
        fmndtest.add_user(s.db, "wikifan", rules=["category:wiki"])
        fmndtest.add_user(s.db, "nobody", rules=["user:nobody-at-all"])
        envs = []
        for env in fmntest.corpus():
            env = dict(env)
            env["msg_id"] = fmndtest.fresh_id()
            envs.append(env)
        lines = "".join(json.dumps(e) + "\n" for e in envs)
        expected = set()
        for line in fmntest.fmnctl("match", "-", db=s.db, input=lines,
                                   check=0).stdout.splitlines():
            m = json.loads(line)
            for r in m.get("recipients", []):
                expected.add((m["msg_id"], r["user"], r["filter"]))
        assert expected, "the corpus matches nobody"
        # The users were added after the daemon started: live changes.
        s.sync()
        for env in envs:
            s.pub.send(env)
        s.wait_counter("messages_processed", len(envs))
        s.wait_counter("notifications_delivered", len(expected))
        got = set()
        for d in s.deliveries():
            assert d["kind"] == "single", d
            for n in d["notices"]:
                got.add((n["msg_id"], d["user"], n["filter"]))
                assert n["topic"] and n["subtitle"], n
        assert got == expected, (sorted(expected - got)[:5],
                                 sorted(got - expected)[:5])
        st = s.status()
        assert st["notifications_queued"] == len(expected), st
        assert st["messages_invalid"] == 0, st
    finally:
        assert s.close() == 0


def test_mbox_is_readable_and_carries_fedmsg_headers():
    s = Setup(backend="mbox")
    try:
        fmndtest.add_user(s.db, "ralph", rules=["category:wiki"])
        s.sync()
        ids = [s.pub.send(wiki(title="From the start %d" % i))
               for i in range(3)]
        s.wait_counter("notifications_delivered", 3)
        box = mailbox.mbox(s.mbox)
        msgs = list(box)
        assert len(msgs) == 3, len(msgs)
        assert sorted(m["X-Fedmsg-Id"] for m in msgs) == sorted(ids)
        for m in msgs:
            assert m["X-Fedmsg-Topic"] == WIKI, m["X-Fedmsg-Topic"]
            assert m["To"] and "ralph@example.org" in m["To"]
            assert m["Subject"]
        with open(s.mbox, "rb") as f:
            raw = f.read()
        assert b"\r\n" not in raw
        assert raw.startswith(b"From ")
    finally:
        assert s.close() == 0


def test_digest_forms_by_count():
    s = Setup()
    try:
        fmndtest.add_user(s.db, "ralph", rules=["category:wiki"])
        fmntest.fmnctl("pref", "set", "ralph", "email", "--batch-count", "3",
                       db=s.db, check=0)
        s.sync()
        ids = [s.pub.send(wiki()) for _ in range(7)]
        s.wait_counter("messages_processed", 7)
        digests = wait_until(lambda: len(s.deliveries("digest")) >= 2 and
                             s.deliveries("digest"), 10, 0.05, "2 digests")
        assert [len(d["notices"]) for d in digests] == [3, 3], digests
        got = [n["msg_id"] for d in digests for n in d["notices"]]
        assert got == ids[:6], (got, ids)
        q = fmntest.fmnctl_json("queue", db=s.db)
        assert q["totals"]["batched"] == 1, q
        assert not s.deliveries("single")
    finally:
        assert s.close() == 0


def test_digest_forms_by_time():
    s = Setup()
    try:
        fmndtest.add_user(s.db, "ralph", rules=["category:wiki"])
        fmntest.fmnctl("pref", "set", "ralph", "email", "--batch-delta", "1",
                       db=s.db, check=0)
        s.sync()
        t0 = time.time()
        ids = [s.pub.send(wiki()) for _ in range(4)]
        digest = wait_until(lambda: s.deliveries(), 10, 0.05, "a digest")
        assert len(digest) == 1 and digest[0]["kind"] == "digest", digest
        assert [n["msg_id"] for n in digest[0]["notices"]] == ids
        assert digest[0]["t"] >= t0 + 0.9, digest[0]["t"] - t0
        # A digest of one goes out as a normal notification.
        one = s.pub.send(wiki())
        single = wait_until(lambda: s.deliveries("single"), 10, 0.05,
                            "a single")
        assert [n["msg_id"] for n in single[0]["notices"]] == [one]
    finally:
        assert s.close() == 0


def test_invalid_frames_are_counted_and_the_daemon_goes_on():
    s = Setup(conf="[bus]\nmax_message_size = 4096\n")
    try:
        fmndtest.add_user(s.db, "ralph", rules=["category:wiki"])
        s.sync()
        good = wiki()
        body = json.dumps(good).encode()
        s.pub.send_raw([WIKI.encode()])                          # 1 frame
        s.pub.send_raw([WIKI.encode(), body, b"extra"])          # 3 frames
        s.pub.send_raw([WIKI.encode(), b"{not json"])            # JSON
        s.pub.send_raw([WIKI.encode(), b'{"topic": "\xff\xfe"}'])  # UTF-8
        s.pub.send_raw([b"\xc3\x28", body])                      # UTF-8
        s.pub.send_raw([b"org.other.topic", body])               # topic
        s.pub.send_raw([WIKI.encode(), b"[1, 2, 3]"])            # envelope
        big = wiki(title="x" * 5000)
        s.pub.send_raw([WIKI.encode(), json.dumps(big).encode()])  # size
        s.pub.send_raw([WIKI.encode(), b""])                     # empty
        s.pub.send(good)
        s.wait_counter("notifications_delivered", 1)
        st = s.wait_counter("messages_invalid", 9)
        st = s.status()
        assert st["messages_invalid_frames"] == 2, st
        assert st["messages_invalid_json"] == 2, st
        assert st["messages_invalid_utf8"] == 2, st
        assert st["messages_invalid_topic"] == 1, st
        assert st["messages_invalid_envelope"] == 1, st
        assert st["messages_invalid_size"] == 1, st
        assert st["messages_processed"] == 1, st
        log = s.d.log()
        # Logged once per kind, not once per message.
        assert log.count("invalid message (frames)") == 1, log
        assert s.d.proc.poll() is None
    finally:
        assert s.close() == 0


def test_duplicates_dropped_also_after_restart():
    s = Setup()
    try:
        fmndtest.add_user(s.db, "ralph", rules=["category:wiki"])
        s.sync()
        env = wiki()
        s.pub.send(env)
        s.pub.send(env)
        s.wait_counter("messages_duplicate", 1)
        s.wait_counter("notifications_delivered", 1)
        assert s.d.stop() == 0
        s.d.start()
        s.pub.wait_subscriber()
        s.pub.send(env)
        s.pub.send(wiki())
        s.wait_counter("messages_duplicate", 2)
        s.wait_counter("notifications_delivered", 2)
        ids = [n["msg_id"] for d in s.deliveries() for n in d["notices"]]
        assert ids.count(env["msg_id"]) == 1, ids
    finally:
        assert s.close() == 0


def test_empty_msg_id_is_no_id_and_never_a_duplicate():
    """A publisher that sends msg_id "" (or blanks) has no ids: every
    such message is processed, none is taken for a copy of the first,
    and none is stored under the id ""."""
    s = Setup()
    try:
        fmndtest.add_user(s.db, "ralph", rules=["category:wiki"])
        s.sync()
        for i, mid in enumerate(["", "", " \t"]):
            env = wiki(title="No id %d" % i)
            env["msg_id"] = mid
            s.pub.send(env)
        st = wait_until(lambda: (lambda st: st["messages_processed"] +
                                 st["messages_duplicate"] >= 3 and st)(
            s.status()), 30, 0.05, "3 messages processed or dropped")
        assert st["messages_processed"] == 3, st
        assert st["messages_duplicate"] == 0, st
        s.wait_counter("notifications_delivered", 3)
        con = sqlite3.connect(s.db)
        try:
            ids = [r[0] for r in con.execute("SELECT msg_id FROM messages")]
        finally:
            con.close()
        assert ids == [None, None, None], ids
    finally:
        assert s.close() == 0


def test_huge_integers_are_processed_not_invalid_json():
    """An envelope with an integer past 64 bits is valid JSON: fmnd
    processes and delivers it rather than counting invalid JSON."""
    s = Setup()
    try:
        fmndtest.add_user(s.db, "kernelfan", rules=["package:kernel"])
        s.sync()
        env = build_msg()
        env["msg"]["build_id"] = 123456789012345678901234567890
        s.pub.send(env)
        s.pub.send(build_msg())
        st = wait_until(lambda: (lambda st: st["messages_processed"] +
                                 st["messages_invalid"] >= 2 and st)(
            s.status()), 30, 0.05, "2 messages processed or refused")
        assert st["messages_invalid_json"] == 0, st
        assert st["messages_processed"] == 2, st
        s.wait_counter("notifications_delivered", 2)
        ids = [n["msg_id"] for d in s.deliveries() for n in d["notices"]]
        assert env["msg_id"] in ids, ids
    finally:
        assert s.close() == 0


def test_msg_id_of_500_kb_is_an_invalid_envelope():
    """A msg_id no publisher uses (past 1024 bytes) is refused at
    intake with a reason, not stored, matched and put in mail headers."""
    s = Setup()
    try:
        fmndtest.add_user(s.db, "ralph", rules=["category:wiki"])
        s.sync()
        s.pub.send(wiki(msg_id="2024-" + "x" * (500 * 1024)))
        s.pub.send(wiki(msg_id="2024-" + "y" * 1019))
        st = wait_until(lambda: (lambda st: st["messages_processed"] +
                                 st["messages_invalid"] >= 2 and st)(
            s.status()), 30, 0.05, "2 messages processed or refused")
        assert st["messages_invalid_envelope"] == 1, st
        assert st["messages_processed"] == 1, st
        log = s.d.log()
        assert "invalid message (envelope)" in log, log
        assert "msg_id is 512005 bytes" in log, log
        s.wait_counter("notifications_delivered", 1)
        con = sqlite3.connect(s.db)
        try:
            lens = [r[0] for r in con.execute(
                "SELECT length(msg_id) FROM messages")]
        finally:
            con.close()
        assert lens == [1024], lens
    finally:
        assert s.close() == 0


def test_retention_removes_old_rows_and_keeps_pending_ones():
    s = Setup(conf="[store]\nretention = 2\n[delivery]\nretry_max = 1\n")
    try:
        fmndtest.add_user(s.db, "ralph", rules=["category:wiki"])
        fmndtest.add_user(s.db, "kevin", rules=["category:wiki"],
                          address="tempfail@example.org")
        s.sync()
        # kevin's notifications fail temporarily and stay pending.
        open(s.cap + ".tempfail", "w").close()
        for _ in range(3):
            s.pub.send(wiki())
        s.wait_counter("notifications_delivered", 3)

        def rows():
            con = sqlite3.connect(s.db)
            try:
                return (con.execute("SELECT count(*) FROM messages"
                                    ).fetchone()[0],
                        con.execute("SELECT state, count(*) FROM "
                                    "notifications GROUP BY state"
                                    ).fetchall())
            finally:
                con.close()
        # ralph's delivered notifications go; kevin's queued ones and
        # the messages they refer to stay.
        try:
            wait_until(lambda: rows() == (3, [("queued", 3)]), 15, 0.2,
                       "delivered rows removed")
        except AssertionError:
            raise AssertionError("rows %r; log:\n%s" % (rows(),
                                                        s.d.log()[-2000:]))
        assert "retention:" in s.d.log()
        os.unlink(s.cap + ".tempfail")
        s.wait_counter("notifications_delivered", 6)
        wait_until(lambda: rows() == (0, []), 15, 0.2, "all rows removed")
    finally:
        assert s.close() == 0


def test_crash_and_restart_loses_nothing():
    """SIGKILL mid-stream while the publisher keeps re-sending: after a
    restart every notification arrives, duplicates are a handful."""
    s = Setup()
    stop = threading.Event()
    try:
        fmndtest.add_user(s.db, "ralph", rules=["category:wiki"])
        fmndtest.add_user(s.db, "bob", rules=["category:buildsys"])
        s.sync()
        envs = [wiki() if i % 2 else build_msg() for i in range(3000)]

        def publish():
            # Round after round, like a publisher that re-sends what it
            # has no acknowledgement for; paced like a busy bus.
            while not stop.is_set():
                for i, env in enumerate(envs):
                    if stop.is_set():
                        return
                    s.pub.send(env)
                    if i % 50 == 49:
                        time.sleep(0.01)
        t = threading.Thread(target=publish, daemon=True)
        t.start()
        s.wait_counter("messages_processed", 800)
        assert s.d.kill() == -signal.SIGKILL
        s.d.start()
        wait_until(lambda: s.status()["messages_processed"] >= len(envs),
                   120, 0.1, "every message processed")
        stop.set()
        t.join()
        st = wait_until(lambda: (lambda st: st["notifications_delivered"]
                                 >= st["notifications_queued"] and st)(
                                     s.status()), 60, 0.1, "all delivered")
        assert st["notifications_queued"] == len(envs), st
        con = sqlite3.connect(s.db)
        left = con.execute("SELECT count(*) FROM notifications WHERE "
                           "state != 'delivered'").fetchone()[0]
        con.close()
        assert left == 0, left
        ids = [n["msg_id"] for d in s.deliveries() for n in d["notices"]]
        assert set(ids) == set(e["msg_id"] for e in envs)
        dups = len(ids) - len(set(ids))
        assert dups <= 50, dups
    finally:
        stop.set()
        assert s.close() == 0


def test_half_line_left_by_a_kill_is_cut_on_start():
    """A kill between the text of a capture line and its end leaves a half
    line; the next start cuts it instead of gluing the next line to it."""
    s = Setup()
    try:
        fmndtest.add_user(s.db, "ralph", rules=["category:wiki"])
        s.sync()
        s.pub.send(wiki())
        s.wait_counter("notifications_delivered", 1)
        assert s.d.kill() == -signal.SIGKILL
        with open(s.cap, "a") as f:
            f.write('{"kind": "single", "user": "ral')
        s.d.start()
        s.pub.wait_subscriber()
        after = s.pub.send(wiki())
        s.wait_counter("notifications_delivered", 2)
        got = s.deliveries()
        assert [n["msg_id"] for d in got for n in d["notices"]][-1] == \
            after, got
        assert len(got) == 2, got
    finally:
        assert s.close() == 0


def test_filter_added_live_applies_to_the_next_message():
    s = Setup()
    try:
        fmndtest.add_user(s.db, "ralph")
        s.sync()
        s.pub.send(wiki())
        s.wait_counter("messages_processed", 1)
        assert not s.deliveries()
        fmntest.fmnctl("filter", "add", "ralph", "email", "wiki",
                       "category:wiki", db=s.db, check=0)
        # Committed before the message is sent: the daemon reads the
        # change before it takes the message, however busy it is.
        after = s.pub.send(wiki())
        s.wait_counter("messages_processed", 2)
        got = wait_until(s.deliveries, 30, 0.05, "a delivery")
        assert [n["msg_id"] for d in got for n in d["notices"]] == [after]
    finally:
        assert s.close() == 0


def test_sigterm_exits_zero_promptly():
    s = Setup()
    try:
        fmndtest.add_user(s.db, "ralph", rules=["category:wiki"])
        s.sync()
        for _ in range(200):
            s.pub.send(wiki())
        t0 = time.monotonic()
        rc = s.d.stop(signal.SIGTERM, timeout=10)
        took = time.monotonic() - t0
        assert rc == 0, (rc, s.d.log())
        assert took < 6, took
        con = sqlite3.connect(s.db)
        sending = con.execute("SELECT count(*) FROM notifications WHERE "
                              "state = 'sending'").fetchone()[0]
        con.close()
        assert sending == 0
    finally:
        s.pub.close()


def test_sighup_reloads_the_configuration():
    s = Setup(conf="[delivery]\nretry_max = 60\n")
    try:
        with open(s.d.conf, "a") as f:
            f.write("[log]\nlevel = debug\n")
        s.d.send_signal(signal.SIGHUP)
        wait_until(lambda: "configuration reloaded" in s.d.log(), 10, 0.05,
                   "reload")
        with open(s.d.conf, "a") as f:
            f.write("nonsense\n")
        s.d.send_signal(signal.SIGHUP)
        wait_until(lambda: "keeping the running configuration" in s.d.log(),
                   10, 0.05, "refused reload")
        assert s.d.proc.poll() is None
    finally:
        assert s.close() == 0


def test_temporary_failure_retried_with_backoff():
    s = Setup(conf="[delivery]\nretry_initial = 1\nretry_max = 1\n")
    try:
        fmndtest.add_user(s.db, "ralph", address="tempfail@example.org",
                          rules=["category:wiki"])
        s.sync()
        open(s.cap + ".tempfail", "w").close()
        mid = s.pub.send(wiki())
        s.wait_counter("notifications_retried", 2)
        assert not s.deliveries()
        q = fmntest.fmnctl_json("queue", db=s.db)
        assert q["totals"]["queued"] + q["totals"]["sending"] == 1, q
        os.unlink(s.cap + ".tempfail")
        s.wait_counter("notifications_delivered", 1)
        assert [n["msg_id"] for n in s.deliveries()[0]["notices"]] == [mid]
    finally:
        assert s.close() == 0


def test_permanent_failure_marks_destination_failing():
    s = Setup()
    try:
        fmndtest.add_user(s.db, "ralph", address="permfail@example.org",
                          rules=["category:wiki"])
        fmndtest.add_user(s.db, "alice", rules=["category:wiki"])
        s.sync()
        s.pub.send(wiki())
        st = s.wait_counter("notifications_failed", 1)
        s.wait_counter("notifications_delivered", 1)
        st = s.status()
        assert [f["address"] for f in st["failing_destinations"]] == [
            "permfail@example.org"], st
        assert "550" in st["failing_destinations"][0]["last_error"]
        # No more deliveries are tried to it; alice keeps getting hers.
        s.pub.send(wiki())
        s.wait_counter("notifications_delivered", 2)
        assert s.status()["notifications_failed"] == 1
        assert "marked failing" in s.d.log()
        out = fmntest.fmnctl("status", db=s.db, check=0).stdout
        assert "permfail@example.org" in out
    finally:
        assert s.close() == 0


def corpus_envelopes(n):
    """The first n corpus envelopes, each with a fresh msg_id."""
    envs = []
    for env in fmntest.corpus()[:n]:
        env = dict(env)
        env["msg_id"] = fmndtest.fresh_id()
        envs.append(env)
    return envs


def test_hostile_regexes_marked_broken_others_unaffected():
    """One user's 50 catastrophic regex filters: the others get every
    notification, the filters are marked broken after a few messages,
    with the reason, the log says so once per filter (not once per
    message), and filter enable clears the mark."""
    s = Setup()
    try:
        fmndtest.add_user(s.db, "normal", rules=["topic:*"])
        fmndtest.add_user(s.db, "mallory")
        names = ["h%02d" % i for i in range(50)]
        for i, name in enumerate(names):
            # Distinct patterns: identical ones would run once, shared.
            fmntest.fmnctl("filter", "add", "mallory", "email", name,
                           "body-re:(?:.*a){%d}x" % (40 + i), db=s.db,
                           check=0)
        envs = corpus_envelopes(300)
        # The pattern does reach its match limit on corpus messages.
        out = fmntest.fmnctl("match", "--explain", "-", db=s.db, input="".join(
            json.dumps(e) + "\n" for e in envs[:40]), check=0).stdout
        errors = [f for line in out.splitlines()
                  for x in json.loads(line)["explain"]
                  if x["user"] == "mallory" for f in x["filters"]
                  if f["result"] == "error"]
        assert errors, out[:2000]
        s.sync()
        for env in envs:
            s.pub.send(env)
        s.wait_counter("messages_processed", len(envs), timeout=60)
        s.wait_counter("notifications_delivered", len(envs), timeout=60)
        got = sorted(n["msg_id"] for d in s.deliveries()
                     if d["user"] == "normal" for n in d["notices"])
        assert got == sorted(e["msg_id"] for e in envs), len(got)
        assert not [d for d in s.deliveries() if d["user"] == "mallory"]

        fl = fmntest.fmnctl_json("filter", "list", "mallory", db=s.db)
        assert [f["name"] for f in fl] == names
        for f in fl:
            assert f["broken"], f
            assert f["broken"]["reason"].startswith(
                "failed on 3 messages within 100; last, body-re:"), f
            assert ("match limit" in f["broken"]["reason"] or
                    "allowance" in f["broken"]["reason"]), f
        st = s.status()
        assert sorted((b["user"], b["context"], b["filter"])
                      for b in st["broken_filters"]) == [
            ("mallory", "email", n) for n in names], st["broken_filters"]
        assert all(b["reason"] and b["since"] > 0
                   for b in st["broken_filters"])
        assert st["filters_broken"] == 50, st
        log = s.d.log()
        # One warning per filter marked, and per rule that failed at
        # most once a minute: not one per message and filter.
        assert log.count("is marked broken") == 50, log[-3000:]
        assert log.count("failed to evaluate") <= 50, log[-3000:]
        assert st["rule_errors"] >= 50, st

        p = fmntest.fmnctl("filter", "enable", "mallory", "email", "h00",
                           db=s.db, check=0)
        assert "broken mark is cleared" in p.stdout, p.stdout
        f = fmntest.fmnctl_json("filter", "show", "mallory", "email", "h00",
                                db=s.db)
        assert f["broken"] is None and f["active"] is True, f
        assert "h00" not in [b["filter"] for b in
                             s.status()["broken_filters"]]
        assert len(s.status()["broken_filters"]) == 49
        # fmnd tries it again, and marks it again as it keeps failing.
        s.sync()
        more = corpus_envelopes(100)
        for env in more:
            s.pub.send(env)
        s.wait_counter("messages_processed", len(envs) + len(more),
                       timeout=60)
        wait_until(lambda: fmntest.fmnctl_json(
            "filter", "show", "mallory", "email", "h00", db=s.db)["broken"],
            10, 0.1, "h00 marked again")
        assert s.status()["filters_broken"] == 51
    finally:
        assert s.close() == 0


def test_confirmation_request_sent_once():
    s = Setup()
    try:
        fmntest.fmnctl("user", "add", "carol", db=s.db, check=0)
        out = fmntest.fmnctl_json("dest", "add", "carol", "email",
                                  "carol@example.org", db=s.db)
        d = wait_until(lambda: s.deliveries("confirm"), 10, 0.05,
                       "a confirmation")
        assert d[0]["secret"] == out["secret"], (d, out)
        assert d[0]["address"] == "carol@example.org"
        s.wait_counter("confirmations_sent", 1)
        fmntest.fmnctl("filter", "add", "carol", "email", "w",
                       "category:wiki", db=s.db, check=0)
        s.pub.send(wiki())
        s.wait_counter("messages_processed", 1)
        assert len(s.deliveries()) == 1   # pending: nothing else
    finally:
        assert s.close() == 0


if __name__ == "__main__":
    fmntest.main(globals())
