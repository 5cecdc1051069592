"""A real IRC server and a real IRC client for the tests.

Ngircd runs Debian's ngircd in the foreground with a generated
configuration on a free loopback port (no PAM, no ident or DNS lookups,
long nicks allowed). Client speaks the protocol over a plain socket:
registers, answers PING, and lets a test wait for lines with a timeout,
never for a fixed time.
"""

import os
import socket
import subprocess
import time

import fmntest

NGIRCD = "/usr/sbin/ngircd"

CONF = """\
[Global]
\tName = irc.fmn.test
\tInfo = fmn test server
\tAdminInfo1 = fmn tests
\tAdminInfo2 = loopback
\tAdminEMail = root@localhost
\tListen = 127.0.0.1
\tPorts = {port}
\tMotdPhrase = "fmn test server"
\tPidFile = {dir}/ngircd.pid
[Limits]
\tMaxNickLength = 30
\tMaxConnectionsIP = 0
\tPingTimeout = 120
\tPongTimeout = 30
[Options]
\tDNS = no
\tIdent = no
\tPAM = no
"""


class Ngircd:
    """ngircd on 127.0.0.1:port; restart() keeps the port."""

    def __init__(self, port=None):
        self.dir = fmntest.tmpdir()
        os.chmod(self.dir, 0o777)   # ngircd drops root for "nobody"
        self.port = port or fmntest.free_port()
        self.conf = os.path.join(self.dir, "ngircd.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(port=self.port, dir=self.dir))
        self.log = os.path.join(self.dir, "ngircd.log")
        self.proc = None
        self.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def start(self, timeout=15):
        logf = open(self.log, "a")
        self.proc = subprocess.Popen([NGIRCD, "-n", "-f", self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("ngircd exited: %s" % self.tail())
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("ngircd not listening on %d: %s" %
                                         (self.port, self.tail()))
                time.sleep(0.05)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self):
        self.stop()
        self.start()

    def tail(self):
        try:
            with open(self.log) as f:
                return f.read()[-2000:]
        except OSError:
            return ""


def parse(line):
    """An IRC line as (prefix, command, params)."""
    prefix = ""
    if line.startswith(":"):
        prefix, _, line = line[1:].partition(" ")
    if " :" in line:
        head, _, trailing = line.partition(" :")
        params = head.split() + [trailing]
    else:
        params = line.split()
    command = params.pop(0).upper() if params else ""
    return prefix, command, params


def nick_of(prefix):
    return prefix.split("!", 1)[0]


class Client:
    """One IRC user. Every line received is kept in self.lines."""

    def __init__(self, server, nick, timeout=15):
        self.nick = nick
        self.sock = socket.create_connection(("127.0.0.1", server.port),
                                             timeout)
        self.buf = b""
        self.lines = []
        self.pending = []       # parsed lines not yet consumed by a wait
        self.token = 0
        self.send("NICK %s" % nick)
        self.send("USER %s 0 * :fmn test user" % nick)
        self.wait(lambda m: m[1] == "001", timeout, "registration")

    def send(self, line):
        assert "\r" not in line and "\n" not in line
        self.sock.sendall(line.encode("utf-8") + b"\r\n")

    def privmsg(self, target, text):
        self.send("PRIVMSG %s :%s" % (target, text))

    def _read(self, deadline):
        while b"\r\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not data:
                raise AssertionError("%s: server closed the connection" %
                                     self.nick)
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\r\n")
        text = line.decode("utf-8", "replace")
        self.lines.append(text)
        msg = parse(text)
        if msg[1] == "PING":
            self.send("PONG :%s" % (msg[2][-1] if msg[2] else ""))
        return msg

    def wait(self, pred, timeout=15, what="a line"):
        """The first received line (prefix, command, params) that pred
        accepts; lines it skips stay available for later waits."""
        for i, m in enumerate(self.pending):
            if pred(m):
                return self.pending.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            m = self._read(deadline)
            if m is None:
                raise AssertionError("%s: no %s within %gs; got:\n%s" % (
                    self.nick, what, timeout, "\n".join(self.lines[-30:])))
            if pred(m):
                return m
            self.pending.append(m)

    def wait_privmsg(self, sender, timeout=30, contains=None):
        """The text of the next private message from sender."""
        def pred(m):
            return (m[1] == "PRIVMSG" and nick_of(m[0]).lower() ==
                    sender.lower() and len(m[2]) == 2 and
                    (contains is None or contains in m[2][1]))
        return self.wait(pred, timeout, "PRIVMSG from %s%s" % (
            sender, " containing %r" % contains if contains else ""))[2][1]

    def sync(self, timeout=15):
        """Round trip to the server: everything sent to us before is in."""
        self.token += 1
        tok = "sync-%d" % self.token
        self.send("PING :%s" % tok)
        self.wait(lambda m: m[1] == "PONG" and m[2] and m[2][-1] == tok,
                  timeout, "PONG")

    def privmsgs(self):
        """Every private message received so far, as (sender, text)."""
        out = []
        for line in self.lines:
            p, c, a = parse(line)
            if c == "PRIVMSG" and len(a) == 2:
                out.append((nick_of(p), a[1]))
        return out

    def take_privmsgs(self):
        """Private messages not yet consumed by a wait, consumed now."""
        out = [(nick_of(m[0]), m[2][1]) for m in self.pending
               if m[1] == "PRIVMSG" and len(m[2]) == 2]
        self.pending = [m for m in self.pending if m[1] != "PRIVMSG"]
        return out

    def ison(self, nick, timeout=15):
        self.send("ISON %s" % nick)
        m = self.wait(lambda m: m[1] == "303", timeout, "ISON reply")
        return nick.lower() in m[2][-1].lower().split()

    def wait_online(self, nick, timeout=30):
        """Ask the server until nick is on (the bot connects on its own)."""
        deadline = time.monotonic() + timeout
        while not self.ison(nick):
            if time.monotonic() > deadline:
                raise AssertionError("%s not on IRC within %gs" %
                                     (nick, timeout))
            time.sleep(0.1)

    def wait_offline(self, nick, timeout=30):
        deadline = time.monotonic() + timeout
        while self.ison(nick):
            if time.monotonic() > deadline:
                raise AssertionError("%s still on IRC after %gs" %
                                     (nick, timeout))
            time.sleep(0.1)

    def signon(self, nick, timeout=15):
        """When nick connected (WHOIS 317), to tell a reconnection."""
        self.send("WHOIS %s" % nick)
        m = self.wait(lambda m: m[1] in ("317", "401"), timeout, "WHOIS")
        assert m[1] == "317", "%s is not on IRC" % nick
        self.wait(lambda m: m[1] == "318", timeout, "end of WHOIS")
        return int(m[2][3])

    def quit(self):
        try:
            self.send("QUIT :bye")
            self.sock.close()
        except OSError:
            pass
