"""A real SMTP server for the tests: aiosmtpd on a free loopback port that
records every envelope, can refuse chosen recipients with 550, can refuse
a message by its content with 554 after DATA, can be slow or silent in
answering the end of a message (data_delay, NEVER), counts the sessions
open at once, and can be stopped and started again on the same port.

In a Python test:

    srv = smtptest.Server(reject=["bad@example.org"])
    srv.start()
    ...
    mails = srv.wait_for(3, timeout=30)    # list of Mail
    srv.stop()

As a program (for the C tests), it serves until killed and writes each
mail received to SPOOL/N.eml, with SPOOL/N.json holding the envelope:

    python3 smtptest.py --port PORT --spool DIR [--reject ADDR]...
        [--tls CERT KEY] [--auth USER PASSWORD]
        [--delay SECONDS|never] [--refuse-content TEXT]

With --delay it also writes SPOOL/held-N when the end of message N has
come and its reply waits.
"""

import argparse
import asyncio
import email
import email.policy
import json
import math
import os
import signal
import socket
import ssl
import threading
import time

import fmntest

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult

NEVER = math.inf        # data_delay: never answer, keep the connection open


class Mail:
    """One message as the server received it."""

    def __init__(self, mail_from, rcpt_tos, data, peer, tls=False,
                 login=None):
        self.mail_from = mail_from
        self.rcpt_tos = list(rcpt_tos)
        self.data = data            # bytes, as sent after DATA
        self.peer = peer            # (host, port) of the client
        self.tls = tls              # sent over TLS (STARTTLS)
        self.login = login          # the AUTH user name, or None

    def message(self):
        """The mail parsed by Python's standard parser."""
        return email.message_from_bytes(self.data, policy=email.policy.default)

    def __repr__(self):
        return "Mail(%r -> %r, %d bytes)" % (self.mail_from, self.rcpt_tos,
                                            len(self.data))


class _Handler:
    def __init__(self, server):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        if address.lower() in self.server.reject:
            with self.server.cond:
                self.server.rejected.append(address)
                self.server.cond.notify_all()
            return "550 5.1.1 <%s>: Recipient address rejected: " \
                   "User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        srv = self.server
        if srv.data_delay:
            srv._hold(+1)
            try:
                if math.isinf(srv.data_delay):
                    # Cancelled when the client goes or the server stops.
                    await asyncio.Event().wait()
                else:
                    await asyncio.sleep(srv.data_delay)
            finally:
                srv._hold(-1)
        if srv.refuse_content is not None and srv.refuse_content in data:
            with srv.cond:
                srv.refused_messages.append(data)
                srv.cond.notify_all()
            return "554 5.7.1 message content rejected"
        login = session.auth_data if session.authenticated else None
        mail = Mail(envelope.mail_from, envelope.rcpt_tos, data,
                    tuple(session.peer[:2]) if session.peer else None,
                    tls=session.ssl is not None, login=login)
        self.server._record(mail)
        return "250 2.0.0 Ok: queued"


class _Session(SMTP):
    """aiosmtpd's session, counted while its connection is open."""

    def __init__(self, owner, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._owner = owner
        self._counted = False

    def connection_made(self, transport):
        # Called again when STARTTLS wraps the connection: count once.
        if not self._counted:
            self._counted = True
            self._owner._session(+1)
        super().connection_made(transport)

    def connection_lost(self, error):
        try:
            super().connection_lost(error)
        finally:
            if self._counted:
                self._counted = False
                self._owner._session(-1)


class _Controller(Controller):
    def __init__(self, owner, *args, **kwargs):
        self._owner = owner
        super().__init__(*args, **kwargs)

    def factory(self):
        return _Session(self._owner, self.handler, **self.SMTP_kwargs)


class Server:
    """aiosmtpd on 127.0.0.1:port; port is chosen when not given."""

    def __init__(self, port=None, reject=(), spool=None, tls=None,
                 auth=None, data_delay=0, refuse_content=None):
        """tls=(certfile, keyfile): offer STARTTLS and require it.
        auth=(user, password): require AUTH (over TLS) with these.
        data_delay: seconds before the reply to the end of a message;
        NEVER: no reply at all, the connection stays open.
        refuse_content: bytes; a message that holds them is refused
        after DATA with 554 5.7.1."""
        self.tls = tls
        self.auth = auth
        self.port = port or fmntest.free_port()
        self.reject = set(a.lower() for a in reject)
        self.spool = spool
        self.data_delay = data_delay
        self.refuse_content = refuse_content
        self.mails = []
        self.rejected = []
        self.refused_messages = []
        self.sessions = 0           # connections open now
        self.max_sessions = 0       # the most open at once
        self.holding = 0            # messages whose reply waits (data_delay)
        self.max_holding = 0
        self.held = 0               # messages that waited, in all
        self.cond = threading.Condition()
        self._controller = None

    @property
    def url(self):
        return "smtp://127.0.0.1:%d" % self.port

    def start(self):
        """Listen (again); returns once the server answers."""
        assert self._controller is None
        params = {"data_size_limit": 64 * 1024 * 1024}
        if self.tls is not None:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*self.tls)
            params.update(tls_context=ctx, require_starttls=True)
        if self.auth is not None:
            params.update(auth_required=True,
                          authenticator=self._authenticate)
        self._controller = _Controller(self, _Handler(self),
                                       hostname="127.0.0.1", port=self.port,
                                       ready_timeout=10, **params)
        self._controller.start()
        # aiosmtpd's own readiness check was a session: not one of ours.
        self.wait_sessions(lambda n: n == 0, timeout=10)
        with self.cond:
            self.max_sessions = 0
        return self

    def stop(self):
        """Stop listening and drop open connections."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def restart(self):
        self.stop()
        self.start()

    def _authenticate(self, server, session, envelope, mechanism, data):
        user, password = self.auth
        ok = getattr(data, "login", None) == user.encode() and \
            getattr(data, "password", None) == password.encode()
        return AuthResult(success=ok, handled=False,
                          auth_data=user if ok else None)

    def _session(self, delta):
        with self.cond:
            self.sessions += delta
            self.max_sessions = max(self.max_sessions, self.sessions)
            self.cond.notify_all()

    def _hold(self, delta):
        with self.cond:
            self.holding += delta
            self.max_holding = max(self.max_holding, self.holding)
            if delta > 0:
                if self.spool is not None:
                    open(os.path.join(self.spool, "held-%d" % self.held),
                         "w").close()
                self.held += 1
            self.cond.notify_all()

    def _wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("%s not within %ss" %
                                         (what, timeout))
                self.cond.wait(left)

    def wait_sessions(self, pred, timeout=30):
        """Wait until pred(number of sessions open) is true."""
        self._wait(lambda: pred(self.sessions), timeout,
                   "sessions (%d open)" % self.sessions)

    def wait_holding(self, n, timeout=30):
        """Wait until n messages at once wait for their reply."""
        self._wait(lambda: self.holding >= n, timeout,
                   "%d messages held (%d)" % (n, self.holding))

    def _record(self, mail):
        with self.cond:
            n = len(self.mails)
            self.mails.append(mail)
            if self.spool is not None:
                base = os.path.join(self.spool, "%d" % n)
                with open(base + ".tmp", "wb") as f:
                    f.write(mail.data)
                with open(base + ".json", "w") as f:
                    json.dump({"mail_from": mail.mail_from,
                               "rcpt_tos": mail.rcpt_tos,
                               "peer": list(mail.peer or []),
                               "tls": mail.tls, "login": mail.login}, f)
                os.rename(base + ".tmp", base + ".eml")
            self.cond.notify_all()

    def wait_for(self, n, timeout=30, what=None):
        """Wait until n mails (matching what(mail), if given) arrived;
        returns them. Raises AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [m for m in self.mails if what is None or what(m)]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        "expected %d mails within %ss, got %d: %r" %
                        (n, timeout, len(got), got))
                self.cond.wait(left)

    def wait_until(self, pred, timeout=30):
        """Wait until pred(all mails so far) is true. Raises
        AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred(list(self.mails)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("condition not met within %ss: "
                                         "%r" % (timeout, self.mails))
                self.cond.wait(left)

    def wait_rejected(self, n, timeout=30):
        """Wait until n recipients were refused; returns them."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.rejected) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("expected %d refused recipients, "
                                         "got %r" % (n, self.rejected))
                self.cond.wait(left)
            return list(self.rejected)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _serve():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--spool", required=True)
    ap.add_argument("--reject", action="append", default=[])
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--auth", nargs=2, metavar=("USER", "PASSWORD"))
    ap.add_argument("--delay", default="0")
    ap.add_argument("--refuse-content")
    args = ap.parse_args()
    srv = Server(port=args.port, reject=args.reject, spool=args.spool,
                 tls=args.tls, auth=args.auth,
                 data_delay=NEVER if args.delay == "never"
                 else float(args.delay),
                 refuse_content=args.refuse_content.encode()
                 if args.refuse_content else None)
    # Blocked before the server's threads start, so they inherit the
    # mask and the main thread takes the signal with sigwait: a Python
    # handler calling Event.set() can deadlock if it runs while the main
    # thread holds the event's lock.
    stops = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    srv.start()
    signal.sigwait(stops)
    # Open connections are dropped; a stop that hangs does not keep the
    # process (and the test that waits for it) alive.
    t = threading.Thread(target=srv.stop, daemon=True)
    t.start()
    t.join(5)
    os._exit(0)


if __name__ == "__main__":
    _serve()
