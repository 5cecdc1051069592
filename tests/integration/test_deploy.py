"""fmnd as an admin deploys it: a reload keeps intake going, one daemon
per database, fmnctl status and queue tell a running daemon from a
stopped one, systemd's notification protocol and the journal's
priorities, one log line per delivery, a strict configuration file and
short usage errors. Everything goes through the programs, with a real
ZeroMQ publisher and a real SQLite file."""

import mailbox
import os
import re
import signal
import socket
import subprocess
import time

import fmntest
import fmndtest
from fmndtest import envelope, wait_until

WIKI = "org.fedoraproject.prod.wiki.article.edit"
COMMENT = "org.fedoraproject.stg.bodhi.update.comment"


def wiki(title="Messaging SIG", **kw):
    return envelope(WIKI, {"user": "Ralph", "title": title,
                           "url": "http://x.org/w"}, **kw)


def project_version():
    with open(os.path.join(fmntest.SOURCE, "CMakeLists.txt")) as f:
        return re.search(r"project\(fmn VERSION ([0-9.]+)", f.read()).group(1)


class Setup:
    """A database with users, a publisher and fmnd with the capture
    backend (or mbox)."""

    def __init__(self, users=("ralph",), conf="", backend="capture",
                 args=()):
        self.tmp = fmntest.tmpdir()
        self.db = os.path.join(self.tmp, "fmn.db")
        fmntest.fmnctl("init", db=self.db, check=0)
        for u in users:
            fmndtest.add_user(self.db, u, rules=["topic:*"])
        self.cap = os.path.join(self.tmp, "capture.jsonl")
        self.mbox = os.path.join(self.tmp, "fmn.mbox")
        url = ("capture:" + self.cap) if backend == "capture" else (
            "mbox:" + self.mbox)
        self.pub = fmndtest.Publisher()
        self.d = fmndtest.Daemon(self.db, self.pub.endpoint, url, conf,
                                 args, tmp=self.tmp)
        self.pub.wait_subscriber()

    def status(self):
        return fmndtest.status(self.db)

    def sync(self):
        fmndtest.wait_changes_applied(self.d, self.db)

    def wait_counter(self, name, value, timeout=30):
        return wait_until(lambda: self.status()[name] >= value, timeout,
                          0.05, "%s >= %d" % (name, value))

    def reload(self, conf=None):
        """Rewrite the config file (if given), SIGHUP, wait for the
        daemon to say it reloaded."""
        if conf is not None:
            with open(self.d.conf, "w") as f:
                f.write(conf)
        n = self.d.log().count("configuration reloaded")
        self.d.send_signal(signal.SIGHUP)
        wait_until(lambda: self.d.log().count("configuration reloaded") > n,
                   10, 0.02, "configuration reloaded")

    def close(self):
        rc = self.d.stop()
        self.pub.close()
        return rc


def test_reload_keeps_processing_messages():
    s = Setup()
    try:
        for i in range(3):
            s.pub.send(wiki("before %d" % i))
        s.wait_counter("messages_processed", 3)
        s.reload()
        for i in range(3):
            s.pub.send(wiki("after %d" % i))
        s.wait_counter("messages_processed", 6)
        st = s.status()
        assert st["messages_invalid"] == 0, st
        wait_until(lambda: len(fmndtest.read_capture(s.cap)) == 6, 10, 0.05,
                   "6 deliveries")
        # Twice more: a reload is not a one-off.
        s.reload()
        s.reload()
        s.pub.send(wiki("after three reloads"))
        s.wait_counter("messages_processed", 7)
        assert s.status()["messages_invalid"] == 0
    finally:
        assert s.close() == 0


def test_reload_applies_a_new_max_message_size():
    s = Setup()
    big = "x" * 3000
    try:
        s.reload("[bus]\nmax_message_size = 2048\n")
        s.pub.send(wiki(big))
        s.pub.send(wiki("small"))
        s.wait_counter("messages_processed", 1)
        wait_until(lambda: s.status()["messages_invalid_size"] == 1, 10,
                   0.05, "one message too big")
        s.reload("[bus]\nmax_message_size = 1048576\n")
        s.pub.send(wiki(big))
        s.wait_counter("messages_processed", 2)
        st = s.status()
        assert st["messages_invalid_size"] == 1, st
        assert st["messages_invalid"] == 1, st
    finally:
        assert s.close() == 0


def test_second_daemon_on_the_same_database_refused():
    s = Setup()
    try:
        other = fmndtest.Publisher()
        env = dict(os.environ, FMN_CONFIG="")
        p = subprocess.run([fmntest.FMND, "--db", s.db, "--bus",
                            other.endpoint, "--smtp",
                            "capture:" + s.cap + ".2"],
                           capture_output=True, text=True, env=env,
                           timeout=30)
        other.close()
        assert p.returncode == 1, (p.returncode, p.stderr)
        assert "pid %d" % s.d.proc.pid in p.stderr, p.stderr
        assert "fmnd: ready" not in p.stderr, p.stderr
        # The first one goes on as before, and the row is still its own.
        s.pub.send(wiki())
        s.wait_counter("messages_processed", 1)
        assert s.status()["daemon"]["pid"] == s.d.proc.pid
    finally:
        assert s.close() == 0
    # Once it stopped, the database is free again.
    s2 = fmndtest.Daemon(s.db, s.pub.endpoint, "capture:" + s.cap,
                         tmp=s.tmp)
    assert s2.stop() == 0


def test_status_tells_a_running_daemon_from_a_stopped_one():
    s = Setup()
    version = project_version()
    try:
        dm = s.status()["daemon"]
        assert dm["running"] is True, dm
        assert dm["pid"] == s.d.proc.pid, dm
        assert dm["version"] == version, dm
        assert 0 <= dm["uptime"] < 300, dm
        assert dm["stopped"] is None, dm
        assert [(b["context"], b["backend"]) for b in dm["backends"]] == [
            ("email", "capture")], dm
        assert dm["backends"][0]["state"] == "idle", dm
        s.pub.send(wiki())
        # The backend is seen working once a delivery went through.
        wait_until(lambda: s.status()["daemon"]["backends"][0]["state"] ==
                   "connected", 15, 0.1, "backend connected")
        text = fmntest.fmnctl("status", db=s.db, check=0).stdout
        assert "fmnd: running, pid %d, version %s" % (
            s.d.proc.pid, version) in text, text
        assert re.search(r"email\s+capture\s+connected", text), text
    finally:
        assert s.close() == 0
    dm = s.status()["daemon"]
    assert dm["running"] is False and dm["stopped"] is not None, dm
    assert dm["uptime"] is None, dm
    text = fmntest.fmnctl("status", db=s.db, check=0).stdout
    assert "fmnd: not running; it last ran as pid %d" % s.d.proc.pid in text
    assert "stopped at" in text, text

    # Killed: the row stays as it was, the lock says it is gone.
    s.d.start()
    s.d.kill()
    dm = s.status()["daemon"]
    assert dm["running"] is False and dm["stopped"] is None, dm
    text = fmntest.fmnctl("status", db=s.db, check=0).stdout
    assert "did not stop cleanly" in text, text


def test_status_shows_the_engines_filters_per_index():
    """The daemon writes how its engine files the filters into the
    status row it keeps; fmnctl status shows them, the always list
    (filters evaluated for every message) among them."""
    s = Setup()
    try:
        fmntest.fmnctl("filter", "add", "ralph", "email", "mine",
                       "user:ralph", db=s.db, check=0)
        fmntest.fmnctl("filter", "add", "ralph", "email", "comments",
                       "topic:*.bodhi.update.comment", db=s.db, check=0)
        s.sync()

        def engine():
            return s.status()["daemon"].get("engine") or {}
        # The row is written at the daemon's next heartbeat.
        wait_until(lambda: engine().get("filters") == 3, 30, 0.2,
                   "the engine's counts in the status row")
        idx = engine()["indexes"]
        assert idx["always"] == 1, idx          # ralph's topic:*
        assert idx["user"] == 1 and idx["topic-suffix"] == 1, idx
        assert sum(idx.values()) == 3, idx
        assert all("context" in b for b in s.status()["daemon"]["backends"])
        text = fmntest.fmnctl("status", db=s.db, check=0).stdout
        assert re.search(r"engine: 3 filters; by index: user 1, "
                         r"topic-suffix 1, always 1", text), text
    finally:
        assert s.close() == 0


def test_status_of_a_database_no_daemon_ever_ran_on():
    db = fmntest.tmpdb()
    fmntest.fmnctl("init", db=db, check=0)
    dm = fmndtest.status(db)["daemon"]
    assert dm["running"] is False and dm["pid"] is None, dm
    assert dm["backends"] == [], dm
    text = fmntest.fmnctl("status", db=db, check=0).stdout
    assert "fmnd: not running (it never ran on this database)" in text


def test_queue_names_the_running_daemons_backends():
    # fmnctl runs without a configuration (its default would be mbox);
    # the daemon delivers to capture and its IRC context has none.
    s = Setup(users=())
    try:
        fmntest.fmnctl("user", "add", "nick", db=s.db, check=0)
        fmntest.fmnctl("dest", "add", "nick", "irc", "nick", "--confirmed",
                       db=s.db, check=0)
        fmntest.fmnctl("filter", "add", "nick", "irc", "all", "topic:*",
                       db=s.db, check=0)
        s.sync()
        s.pub.send(wiki())
        s.wait_counter("messages_processed", 1)
        q = fmntest.fmnctl_json("queue", db=s.db)
        assert q["contexts"]["email"]["backend"] == "capture", q
        assert q["contexts"]["irc"]["backend"] is None, q
        assert [w["waiting_because"] for w in q["waiting"]] == [
            "fmnd has no backend for this context"], q
    finally:
        assert s.close() == 0
    q = fmntest.fmnctl_json("queue", db=s.db)
    assert [w["waiting_because"] for w in q["waiting"]] == [
        "fmnd is not running"], q
    text = fmntest.fmnctl("queue", db=s.db, check=0).stdout
    assert "fmnd is not running on this database" in text, text


def test_one_info_line_per_delivery():
    s = Setup(users=("ralph", "kevin"))
    try:
        ids = [s.pub.send(wiki("page %d" % i)) for i in range(2)]
        s.wait_counter("notifications_delivered", 4)
        log = s.d.log()
        lines = [l for l in log.splitlines() if "info: delivered:" in l]
        assert len(lines) == 4, log
        for user in ("ralph", "kevin"):
            for mid in ids:
                want = ("delivered: %s email %s@example.org, 1 notification "
                        "(message %s)" % (user, user, mid))
                assert any(want in l for l in lines), (want, lines)
    finally:
        assert s.close() == 0


def test_one_warning_per_temporary_smtp_failure():
    # An SMTP server that is not there: every attempt fails temporarily.
    tmp = fmntest.tmpdir()
    db = os.path.join(tmp, "fmn.db")
    fmndtest.add_user(db, "ralph", rules=["topic:*"])
    pub = fmndtest.Publisher()
    d = fmndtest.Daemon(db, pub.endpoint, "smtp://127.0.0.1:%d"
                        % fmntest.free_port(), "[delivery]\n"
                        "retry_initial = 1\nretry_max = 1\n", tmp=tmp)
    try:
        pub.wait_subscriber()
        pub.send(wiki())
        wait_until(lambda: fmndtest.counter(db, "notifications_retried") >= 3,
                   30, 0.1, "three attempts")
    finally:
        assert d.stop() == 0
        pub.close()
    retried = fmndtest.counter(db, "notifications_retried")
    warnings = [l for l in d.log().splitlines() if "warning:" in l]
    assert len(warnings) == retried, (retried, warnings)
    assert all("failed temporarily" in w and "ralph email "
               "ralph@example.org, 1 notification" in w
               for w in warnings), warnings


def test_digest_entries_keep_the_subtitle_as_heading():
    s = Setup(users=(), backend="mbox")
    try:
        fmndtest.add_user(s.db, "ralph", rules=["topic:*"])
        fmntest.fmnctl("pref", "set", "ralph", "email", "--batch-count", "2",
                       "--verbose", "on", db=s.db, check=0)
        s.sync()
        comment = [e for e in fmntest.corpus() if e["topic"] == COMMENT][0]
        comment = dict(comment, msg_id=fmndtest.fresh_id())
        s.pub.send(wiki())
        s.pub.send(comment)
        s.wait_counter("digests", 1)
        mails = list(mailbox.mbox(s.mbox))
        assert len(mails) == 1, mails
        body = mails[0].get_payload(decode=True).decode()
        head = re.search(r"^2\. (.*)$", body, re.M)
        assert head, body
        assert head.group(1).startswith(
            "ralph commented on bodhi update fedmsg-1.0-1"), head.group(1)
        after = body[head.end():]
        assert after.lstrip("\n").startswith(
            "Can you believe how much testing"), after[:300]
    finally:
        assert s.close() == 0


def _fmnd(args, env=None):
    e = dict(os.environ, FMN_CONFIG="")
    e.update(env or {})
    return subprocess.run([fmntest.FMND] + list(args), capture_output=True,
                          text=True, env=e, timeout=30)


def _conf(text):
    path = os.path.join(fmntest.tmpdir(), "fmn.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def test_config_errors_name_file_and_line():
    db = fmntest.tmpdb()
    cases = [
        ("[log]\nlevel = verbose\n", 2, "\"verbose\" is not one of "
         "error|warning|info|debug"),
        ("[store]\nretention = 60\n[nonsense]\n", 3,
         "unknown section [nonsense]"),
        ("[store]\nretention = 99999999999\n", 2,
         "between 0 and 315360000"),
        ("[irc]\nline_interval = nan\n", 2, "is not a number between 0 "
         "and 60"),
        ("[email]\nstarttls = maybe\n", 2, "\"maybe\" is not one of "
         "no|try|required"),
        ("[email]\nsmtp = http://mail.example.org\n", 2, "expected smtp://"),
        ("\n[bus]\nbogus = 1\n", 3, "unknown key [bus] bogus"),
    ]
    for text, line, want in cases:
        path = _conf(text)
        for prog in ("fmnd", "fmnctl"):
            if prog == "fmnd":
                p = _fmnd(["-c", path, "--db", db])
            else:
                p = fmntest.fmnctl("-c", path, "user", "list", db=db)
            assert p.returncode == 1, (prog, text, p.returncode, p.stderr)
            assert "%s:%d: " % (path, line) in p.stderr, (prog, text,
                                                           p.stderr)
            assert want in p.stderr, (prog, text, p.stderr)
    # Refused before anything was opened.
    assert not os.path.exists(db) and not os.path.exists(db + ".lock")


def test_one_version_and_short_usage_errors():
    version = project_version()
    assert _fmnd(["--version"]).stdout == "fmnd %s\n" % version
    assert fmntest.fmnctl("--version").stdout == "fmnctl %s\n" % version
    for args in (["--bogus"], ["-x"], ["--db"], ["extra"]):
        p = _fmnd(args)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        lines = p.stderr.splitlines()
        assert len(lines) == 2, (args, p.stderr)
        assert lines[0].startswith("fmnd: "), lines
        assert "fmnd --help" in lines[1], lines


def test_journal_priorities_when_stderr_is_the_journal():
    tmp = fmntest.tmpdir()
    db = os.path.join(tmp, "fmn.db")
    logpath = os.path.join(tmp, "journal.log")
    pub = fmndtest.Publisher()
    try:
        for journal in (True, False):
            with open(logpath, "w") as log:
                st = os.fstat(log.fileno())
                stream = "%d:%d" % (st.st_dev, st.st_ino)
                env = dict(os.environ, FMN_CONFIG="",
                           JOURNAL_STREAM=stream if journal else "1:2")
                p = subprocess.Popen(
                    [fmntest.FMND, "--db", db, "--bus", pub.endpoint,
                     "--smtp", "capture:" + os.path.join(tmp, "c.jsonl")],
                    stdout=log, stderr=log, env=env)
                try:
                    wait_until(lambda: "fmnd: ready" in open(logpath).read(),
                               30, 0.02, "ready")
                finally:
                    p.send_signal(signal.SIGTERM)
                    assert p.wait(10) == 0
            lines = open(logpath).read().splitlines()
            assert lines, lines
            if journal:
                assert all(re.match(r"<[3-7]>", l) for l in lines), lines
                assert "<6>fmnd: ready" in lines, lines
                assert any(l.startswith("<6>info: ") for l in lines), lines
            else:
                assert not any(l.startswith("<") for l in lines), lines
                assert any(l.startswith("fmnd: info: ") for l in lines)
    finally:
        pub.close()


def test_log_lines_escape_control_characters():
    s = Setup()
    try:
        hostile = "2024-abc\nfmnd: error: forged line\x1b[31m"
        s.pub.send(wiki(msg_id=hostile))
        s.wait_counter("notifications_delivered", 1)
        log = s.d.log()
        assert "forged" in log, log
        assert not any(l.startswith("fmnd: error: forged")
                       for l in log.splitlines()), log
        assert "\x1b" not in log, log
    finally:
        assert s.close() == 0


def _notify_socket(tmp):
    path = os.path.join(tmp, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)
    return path, sock


def _wait_notify(sock, want, got, seen=0):
    """Read notifications until one holds the line want, looking first
    at those in got from index seen on; returns the index after it."""
    deadline = time.monotonic() + 30
    i = seen
    while True:
        while i < len(got):
            i += 1
            if want in got[i - 1].split("\n"):
                return i
        if time.monotonic() > deadline:
            raise AssertionError("no %s in %r" % (want, got))
        got.append(sock.recv(4096).decode())


def test_systemd_notify_with_the_sample_config():
    tmp = fmntest.tmpdir()
    sample = os.path.join(fmntest.SOURCE, "fmnd", "fmn.conf")
    path, sock = _notify_socket(tmp)
    pub = fmndtest.Publisher()
    env = dict(os.environ, NOTIFY_SOCKET=path)
    env.pop("FMN_CONFIG", None)
    log = open(os.path.join(tmp, "fmnd.log"), "w")
    p = subprocess.Popen([fmntest.FMND, "-c", sample,
                          "--db", os.path.join(tmp, "fmn.db"),
                          "--smtp", "mbox:" + os.path.join(tmp, "fmn.mbox"),
                          "--bus", pub.endpoint],
                         stdout=log, stderr=log, env=env)
    got = []
    try:
        ready = _wait_notify(sock, "READY=1", got)
        _wait_notify(sock, "STATUS=0 messages processed, 0 notifications "
                     "delivered, 0 failed; email: mbox idle", got)
        pub.wait_subscriber()
        p.send_signal(signal.SIGHUP)
        i = _wait_notify(sock, "RELOADING=1", got, ready)
        _wait_notify(sock, "READY=1", got, i)
        p.send_signal(signal.SIGTERM)
        _wait_notify(sock, "STOPPING=1", got, i)
        assert p.wait(10) == 0, open(log.name).read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        sock.close()
        pub.close()
        log.close()


if __name__ == "__main__":
    fmntest.main(globals())
