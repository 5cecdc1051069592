"""Helpers for tests that run the real daemon: start fmnd on a private
port and wait for its readiness line, publish fedmsg frames over a real
ZeroMQ socket, poll for a condition with a timeout, read what the
capture backend recorded."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
import uuid

import zmq

import fmntest


def wait_until(pred, timeout=30, interval=0.02, what="condition"):
    """Call pred until it returns something true; return that value.
    Raises AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %gs waiting for %s"
                                 % (timeout, what))
        time.sleep(interval)


def fresh_id():
    return "%d-%s" % (time.gmtime().tm_year, uuid.uuid4())


def envelope(topic, body, msg_id=None, **extra):
    env = {"topic": topic, "msg": body, "timestamp": time.time(),
           "msg_id": msg_id or fresh_id()}
    env.update(extra)
    return env


class Publisher:
    """A fedmsg endpoint: an XPUB socket bound on a free port. XPUB sees
    subscriptions, so wait_subscriber() knows the daemon is listening."""

    def __init__(self, port=None):
        self.port = port or fmntest.free_port()
        self.endpoint = "tcp://127.0.0.1:%d" % self.port
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.XPUB)
        self.sock.setsockopt(zmq.XPUB_VERBOSE, 1)
        self.sock.setsockopt(zmq.SNDHWM, 0)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind(self.endpoint)
        self.i = 0
        self.lock = threading.Lock()

    def wait_subscriber(self, timeout=30):
        """Wait for a (new) subscription: a daemon connected. Messages
        about subscribers that went away (first byte 0) are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.sock.poll(int(left * 1000) + 1,
                                               zmq.POLLIN):
                raise AssertionError("no subscriber within %gs" % timeout)
            if self.sock.recv()[:1] == b"\x01":
                break
        while self.sock.poll(0, zmq.POLLIN):
            self.sock.recv()

    def send_raw(self, frames):
        with self.lock:
            self.sock.send_multipart(frames)

    def send(self, env):
        """Send an envelope in fedmsg frames; returns its msg_id."""
        self.i += 1
        env = dict(env)
        env.setdefault("i", self.i)
        env.setdefault("username", "fmntest")
        self.send_raw([env["topic"].encode(), json.dumps(env).encode()])
        return env.get("msg_id")

    def close(self):
        self.sock.close()
        self.ctx.term()


class Daemon:
    """fmnd in the foreground with its stderr in a log file."""

    def __init__(self, db, bus, smtp_url, conf="", args=(), tmp=None):
        self.tmp = tmp or fmntest.tmpdir()
        self.conf = os.path.join(self.tmp, "fmnd.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.cmd = [fmntest.FMND, "-c", self.conf, "--db", db, "--bus", bus,
                    "--smtp", smtp_url] + list(args)
        self.logpath = os.path.join(self.tmp, "fmnd-%s.log" % uuid.uuid4().hex)
        self.proc = None
        self.start()

    def start(self, timeout=30):
        env = dict(os.environ)
        env["FMN_CONFIG"] = ""  # not /etc/fmn/fmn.conf
        env.pop("FMN_DB", None)
        self.logf = open(self.logpath, "ab")
        self.mark = self.logf.tell()
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf,
                                     env=env)
        wait_until(lambda: "fmnd: ready" in self.log(since_start=True)
                   or self.proc.poll() is not None, timeout, 0.01,
                   "fmnd: ready")
        if self.proc.poll() is not None:
            raise AssertionError("fmnd exited %d:\n%s"
                                 % (self.proc.returncode, self.log()))

    def log(self, since_start=False):
        with open(self.logpath, "rb") as f:
            if since_start:
                f.seek(self.mark)
            return f.read().decode("utf-8", "replace")

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signal the daemon and return its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("fmnd did not stop within %gs:\n%s"
                                 % (timeout, self.log()))
        self.logf.close()
        return rc

    def kill(self):
        return self.stop(signal.SIGKILL)


def wait_changes_applied(daemon, db, timeout=10):
    """Wait until the daemon applied every change committed to db so
    far (its "changes up to SEQ applied" line for the last seq)."""
    con = sqlite3.connect(db)
    try:
        seq = con.execute("SELECT coalesce(max(seq), 0) FROM changes"
                          ).fetchone()[0]
    finally:
        con.close()

    def applied():
        done = [int(x) for x in re.findall(r"changes up to (\d+) applied",
                                           daemon.log())]
        return seq == 0 or (done and max(done) >= seq)
    wait_until(applied, timeout, 0.02, "changes up to %d" % seq)


def status(db):
    return fmntest.fmnctl_json("status", db=db)


def counter(db, name):
    return status(db).get(name, 0)


def read_capture(path):
    """The deliveries the capture backend recorded, in order."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.endswith("\n")]


def add_user(db, name, context="email", address=None, rules=(),
             filter_name="f"):
    """A user with a confirmed destination and one filter."""
    fmntest.fmnctl("user", "add", name, db=db, check=0)
    fmntest.fmnctl("dest", "add", name, context,
                   address or ("%s@example.org" % name), "--confirmed",
                   db=db, check=0)
    if rules:
        fmntest.fmnctl("filter", "add", name, context, filter_name, *rules,
                       db=db, check=0)
