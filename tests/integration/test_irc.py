"""IRC delivery end to end: a real ngircd on loopback, fmnd with its IRC
bot, real bus messages from a ZeroMQ publisher, and plain-socket IRC
clients in the role of the people being notified."""

import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import time

import fmndtest
import fmntest
import irctest

BOT = "fmnbot"
WIKI = "org.fedoraproject.prod.wiki.article.edit"
PUBLISH = os.path.join(fmntest.SOURCE, "scripts", "fmn-publish.py")


def wiki_edit(title, user="Kevin"):
    return {"topic": WIKI, "timestamp": time.time(),
            "msg": {"user": user, "title": title,
                    "url": "https://fedoraproject.org/wiki/Test"}}


class Fmnd:
    """fmnd on a temporary database, its bus endpoint and an IRC server."""

    def __init__(self, irc, nick=BOT, users=("alice",)):
        self.irc = irc
        self.dir = fmntest.tmpdir()
        self.db = os.path.join(self.dir, "fmn.db")
        self.bus = "tcp://127.0.0.1:%d" % fmntest.free_port()
        self.log = os.path.join(self.dir, "fmnd.log")
        fmntest.fmnctl("init", db=self.db, check=0)
        for u in users:
            self.add_user(u)
        conf = os.path.join(self.dir, "fmn.ini")
        with open(conf, "w") as f:
            f.write("[delivery]\nretry_initial = 1\nretry_max = 2\n"
                    "[irc]\nreconnect_max = 2\n")
        env = dict(os.environ)
        env["FMN_CONFIG"] = ""  # not /etc/fmn/fmn.conf
        env.pop("FMN_DB", None)
        self.proc = subprocess.Popen(
            [fmntest.FMND, "-c", conf, "--db", self.db, "--bus", self.bus,
             "--smtp", "mbox:" + os.path.join(self.dir, "mbox"),
             "--irc", irc.address, "--irc-nick", nick],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(self.log, "w"), env=env)
        self.wait_log("fmnd: ready")

    def add_user(self, name, nick=None, confirmed=True):
        fmntest.fmnctl("user", "add", name, db=self.db, check=0)
        args = ["dest", "add", name, "irc", nick or name]
        if confirmed:
            args.append("--confirmed")
        fmntest.fmnctl(*args, db=self.db, check=0)
        fmntest.fmnctl("filter", "add", name, "irc", "wiki", "category:wiki",
                       db=self.db, check=0)

    def logtext(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def wait_log(self, text, timeout=30):
        def seen():
            if self.proc.poll() is not None:
                raise AssertionError("fmnd exited %s:\n%s" %
                                     (self.proc.returncode, self.logtext()))
            return text in self.logtext()
        self.wait_for(seen, "%r from fmnd" % text, timeout)

    def changes_applied(self):
        return self.logtext().count("changes up to")

    def wait_changes(self, before, timeout=30):
        """Until the daemon has applied a change made after before."""
        self.wait_for(lambda: self.changes_applied() > before,
                      "a change applied", timeout)

    def publish_start(self, *envelopes, keep_timestamps=False):
        """Start publishing; the caller waits for the returned process."""
        path = os.path.join(self.dir, "pub-%d.json" % time.monotonic_ns())
        with open(path, "w") as f:
            for e in envelopes:
                f.write(json.dumps(e) + "\n")
        return subprocess.Popen(
            ["/usr/bin/python3", PUBLISH, "--bind", self.bus,
             "--timeout", "30", path] +
            (["--keep-timestamps"] if keep_timestamps else []),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)

    def publish(self, *envelopes, keep_timestamps=False):
        published(self.publish_start(*envelopes,
                                     keep_timestamps=keep_timestamps))

    def sql(self, query, *args):
        con = sqlite3.connect(self.db, timeout=30)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()

    def wait_for(self, pred, what, timeout=30):
        """wait_until, with the daemon's log when it times out."""
        try:
            return fmndtest.wait_until(pred, timeout, 0.05, what)
        except AssertionError as e:
            raise AssertionError("%s\n%s" % (e, self.logtext())) from None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        log = self.logtext()
        assert "Sanitizer" not in log and "runtime error" not in log, log


def published(proc):
    """Wait for a publisher from Fmnd.publish_start to have sent all."""
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    assert proc.returncode == 0, (proc.returncode, out, err)


def start(users=("alice",), nick=BOT):
    irc = irctest.Ngircd()
    clients = {u: irctest.Client(irc, u) for u in users}
    fmnd = Fmnd(irc, nick=nick, users=users)
    first = next(iter(clients.values()))
    first.wait_online(nick)
    return irc, fmnd, clients


def test_notification_arrives_as_privmsg():
    irc, fmnd, c = start()
    try:
        fmnd.publish(wiki_edit("Release schedule"))
        text = c["alice"].wait_privmsg(BOT, contains="Release schedule")
        assert text == ('[wiki] Kevin made a wiki edit to "Release schedule"'
                        ' https://fedoraproject.org/wiki/Test'), text
        # Delivered means the notification row says so.
        fmnd.wait_for(lambda: fmnd.sql("SELECT count(*) FROM notifications "
                                       "WHERE state = 'delivered'")[0][0]
                      == 1, "the row delivered")
    finally:
        fmnd.stop()
        irc.stop()


def test_markup_and_long_text_split():
    irc, fmnd, c = start()
    try:
        fmntest.fmnctl("pref", "set", "alice", "irc", "--markup", "on",
                       db=fmnd.db, check=0)
        # Long enough for three lines, short of the subtitle's 1 KB cap.
        title = " ".join("w\u00f6rd%d" % i for i in range(110))
        fmnd.publish(wiki_edit(title))
        first = c["alice"].wait_privmsg(BOT, contains="w\u00f6rd0 ")
        assert first.startswith("\x0306[wiki]\x0f Kevin made"), repr(first)
        rest = [c["alice"].wait_privmsg(BOT)]
        while "\x0312https://" not in rest[-1]:
            rest.append(c["alice"].wait_privmsg(BOT))
        lines = [first] + rest
        assert len(lines) >= 3, lines
        for line in lines:
            relay = ":%s!~fmn@%s PRIVMSG alice :%s\r\n" % (BOT, "h" * 63,
                                                          line)
            assert len(relay.encode("utf-8")) <= 512, line
        words = " ".join(lines)
        for i in range(110):
            assert "w\u00f6rd%d" % i in words, i
    finally:
        fmnd.stop()
        irc.stop()


def test_crlf_and_commands_stay_text():
    irc, fmnd, c = start(users=("alice", "other"))
    alice, other = c["alice"], c["other"]
    try:
        signon = alice.signon(BOT)
        evil = ("Page\r\nQUIT :pwned\r\nPRIVMSG other :hijacked\r\n"
                "JOIN #evil\nNICK evilbot\r\n\x01VERSION\x01")
        env = wiki_edit(evil)
        env["msg"]["user"] = "alice"    # "other" has the same filter:
        fmnd.publish(env)               # both get it; "other" checks below
        text = alice.wait_privmsg(BOT, contains="QUIT :pwned")
        assert "PRIVMSG other :hijacked" in text, text
        assert "JOIN #evil" in text and "NICK evilbot" in text, text
        assert "\r" not in text and "\n" not in text, repr(text)
        assert "\x01" not in text and "VERSION" in text, repr(text)
        other.wait_privmsg(BOT, contains="QUIT :pwned")
        # Then an ordinary one: the same connection still works.
        fmnd.publish(wiki_edit("After the storm"))
        alice.wait_privmsg(BOT, contains="After the storm")
        other.wait_privmsg(BOT, contains="After the storm")
        assert alice.signon(BOT) == signon, "the bot reconnected"
        assert alice.ison(BOT)
        assert not alice.ison("evilbot")
        # Nothing else: no message to anyone, no channel joined.
        alice.sync()
        other.sync()
        for cl in (alice, other):
            msgs = [m for m in cl.privmsgs() if m[0] == BOT]
            assert len(msgs) == 2, msgs
            assert all(m[1].startswith("[wiki] ") for m in msgs), msgs
        other.send("NAMES #evil")
        names = other.wait(lambda m: m[1] in ("353", "366"))
        assert names[1] == "366" or BOT not in names[2][-1], names
    finally:
        fmnd.stop()
        irc.stop()


def test_help_stop_start():
    irc, fmnd, c = start()
    alice = c["alice"]
    try:
        alice.privmsg(BOT, "help")
        alice.wait_privmsg(BOT, contains="Commands")
        text = alice.wait_privmsg(BOT, contains="stop")
        assert "start" in text, text
        text = alice.wait_privmsg(BOT, contains="list filters")
        assert "confirm CODE" in text, text

        seen = fmnd.changes_applied()
        alice.privmsg(BOT, "stop")
        alice.wait_privmsg(BOT, contains="stopped")
        assert fmnd.sql("SELECT enabled FROM preferences") == [(0,)]
        fmnd.wait_changes(seen)     # the daemon saw it: nothing matches
        alice.privmsg(BOT, "list filters")
        alice.wait_privmsg(BOT, contains="notifications stopped")
        alice.wait_privmsg(BOT, contains="1. wiki: category:wiki")
        fmnd.publish(wiki_edit("While stopped"))

        seen = fmnd.changes_applied()
        alice.privmsg(BOT, "start")
        alice.wait_privmsg(BOT, contains="on again")
        assert fmnd.sql("SELECT enabled FROM preferences") == [(1,)]
        fmnd.wait_changes(seen)
        fmnd.publish(wiki_edit("After start"))
        alice.wait_privmsg(BOT, contains="After start")
        alice.sync()
        assert not any("While stopped" in t for _, t in alice.privmsgs())
    finally:
        fmnd.stop()
        irc.stop()


def test_commands_refused_from_another_nick():
    irc, fmnd, c = start()
    mallory = irctest.Client(irc, "mallory")
    try:
        before = fmnd.sql("SELECT enabled FROM preferences")
        replies = []
        for cmd in ("help", "stop", "list filters"):
            mallory.privmsg(BOT, cmd)
            replies.append(mallory.wait_privmsg(BOT))
        for r in replies:
            assert r.startswith("Sorry, I only take commands"), r
            assert "alice" not in r and "wiki" not in r, r
        assert len(set(replies)) == 1, replies
        assert fmnd.sql("SELECT enabled FROM preferences") == before == [(1,)]
        # alice's notifications are unaffected.
        fmnd.publish(wiki_edit("Still on"))
        c["alice"].wait_privmsg(BOT, contains="Still on")
    finally:
        fmnd.stop()
        irc.stop()


def secret_of(text):
    m = re.search(r"confirm (\S+)", text)
    assert m, text
    return m.group(1)


def test_confirmation_end_to_end():
    irc, fmnd, c = start(users=("alice",))
    bob = irctest.Client(irc, "bob")
    carol = irctest.Client(irc, "carol")
    try:
        # bob confirms by talking to the bot.
        fmnd.add_user("bob", confirmed=False)
        text = bob.wait_privmsg(BOT, contains="account bob")
        text = bob.wait_privmsg(BOT, contains="fmnctl dest confirm")
        secret = secret_of(text)
        bob.wait_privmsg(BOT, contains="expires")
        assert fmnd.sql("SELECT confirmed FROM destinations WHERE "
                        "address = 'bob'") == [(0,)]
        bob.privmsg(BOT, "confirm wrong-%s" % secret)
        bob.wait_privmsg(BOT, contains="not valid")
        bob.privmsg(BOT, "confirm %s" % secret)
        bob.wait_privmsg(BOT, contains="Confirmed")
        assert fmnd.sql("SELECT confirmed, secret FROM destinations WHERE "
                        "address = 'bob'") == [(1, None)]

        # carol with fmnctl, using the secret the bot sent her.
        fmnd.add_user("carol", confirmed=False)
        text = carol.wait_privmsg(BOT, contains="fmnctl dest confirm")
        fmntest.fmnctl("dest", "confirm", secret_of(text), db=fmnd.db,
                       check=0)
        assert fmnd.sql("SELECT confirmed FROM destinations WHERE "
                        "address = 'carol'") == [(1,)]

        fmnd.publish(wiki_edit("For everyone"))
        for cl in (c["alice"], bob, carol):
            cl.wait_privmsg(BOT, contains="For everyone")
    finally:
        fmnd.stop()
        irc.stop()


def test_server_restart_reconnects_and_delivers():
    irc, fmnd, c = start()
    try:
        fmnd.publish(wiki_edit("Before the restart"))
        c["alice"].wait_privmsg(BOT, contains="Before the restart")
        irc.stop()
        fmnd.wait_log("reconnecting")
        # Due while the server is away: kept and retried.
        fmnd.publish(wiki_edit("During the outage"))
        fmnd.wait_for(lambda: fmnd.sql(
            "SELECT attempts FROM notifications WHERE "
            "attempts > 0 AND state != 'delivered'"), "a failed attempt")
        irc.start()
        alice = irctest.Client(irc, "alice")
        alice.wait_online(BOT, timeout=60)
        alice.wait_privmsg(BOT, contains="During the outage", timeout=90)
    finally:
        fmnd.stop()
        irc.stop()


def test_offline_nick_is_retried():
    irc, fmnd, c = start(users=("alice", "dave"))
    dave = c["dave"]
    try:
        dave.quit()
        c["alice"].wait_offline("dave")
        fmnd.publish(wiki_edit("While dave was away"))
        c["alice"].wait_privmsg(BOT, contains="While dave was away")
        fmnd.wait_log("dave is not on IRC")
        rows = fmnd.sql("SELECT state FROM notifications n JOIN users u "
                        "ON u.id = n.user_id WHERE u.name = 'dave'")
        assert rows == [("queued",)] or rows == [("sending",)], rows
        dave = irctest.Client(irc, "dave")
        dave.wait_privmsg(BOT, contains="While dave was away", timeout=90)
        assert fmnd.sql("SELECT failing FROM destinations WHERE "
                        "address = 'dave'") == [(0,)]
    finally:
        fmnd.stop()
        irc.stop()


def test_offline_nick_past_max_age_drops_the_notification_only():
    irc, fmnd, c = start(users=("alice", "dave"))
    dave = c["dave"]
    try:
        dave.quit()
        c["alice"].wait_offline("dave")
        old = wiki_edit("Two days ago")
        old["timestamp"] = time.time() - 2 * 86400
        fmnd.publish(old, keep_timestamps=True)
        c["alice"].wait_privmsg(BOT, contains="Two days ago")
        # The state itself, committed, not the log line that comes first.
        fmnd.wait_for(lambda: fmnd.sql(
            "SELECT n.state FROM notifications n JOIN users u "
            "ON u.id = n.user_id WHERE u.name = 'dave'") == [("failed",)],
            "dave's notification given up", timeout=60)
        assert "has not been on IRC" in fmnd.logtext()
        # The destination itself is not marked failing: dave gets the
        # next one once back.
        assert fmnd.sql("SELECT failing FROM destinations WHERE "
                        "address = 'dave'") == [(0,)]
        dave = irctest.Client(irc, "dave")
        c["alice"].wait_online("dave")
        fmnd.publish(wiki_edit("Back again"))
        dave.wait_privmsg(BOT, contains="Back again", timeout=60)
    finally:
        fmnd.stop()
        irc.stop()


def test_nick_in_use_takes_alternate():
    irc = irctest.Ngircd()
    squatter = irctest.Client(irc, BOT)
    alice = irctest.Client(irc, "alice")
    fmnd = Fmnd(irc)
    try:
        alice.wait_online(BOT + "_")
        fmnd.publish(wiki_edit("From the alternate"))
        alice.wait_privmsg(BOT + "_", contains="From the alternate")
        squatter.quit()
    finally:
        fmnd.stop()
        irc.stop()


def test_digest_summary_and_more():
    irc, fmnd, c = start()
    try:
        fmntest.fmnctl("pref", "set", "alice", "irc", "--batch-count", "13",
                       db=fmnd.db, check=0)
        fmnd.publish(*[wiki_edit("Page %02d" % i) for i in range(13)])
        alice = c["alice"]
        alice.wait_privmsg(BOT, contains="fmn digest: 13 notifications")
        entries = [alice.wait_privmsg(BOT) for _ in range(10)]
        assert all(e.startswith("- [wiki] Kevin made") for e in entries), \
            entries
        alice.wait_privmsg(BOT, contains="and 3 more")
    finally:
        fmnd.stop()
        irc.stop()


def test_bidi_controls_and_separators_never_reach_irc():
    irc, fmnd, c = start()
    try:
        env = wiki_edit("Release\u2028QUIT :x\u2029\u202eNotes\u2066"
                        "\u200f\u2067\u061c\ufeff\u200b")
        env["msg"]["user"] = "Ke\u202evin\u2069"
        env["msg"]["url"] = "https://fedoraproject.org/wiki/\u202eTest\u200e"
        fmnd.publish(env)
        text = c["alice"].wait_privmsg(BOT, contains="Release")
        assert text == ('[wiki] Kevin made a wiki edit to "Release QUIT :x '
                        'Notes" https://fedoraproject.org/wiki/Test'), \
            ascii(text)
        for ch in ("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068"
                   "\u2069\u200e\u200f\u061c\u2028\u2029\u200b\ufeff"):
            assert ch not in text, ascii(text)
    finally:
        fmnd.stop()
        irc.stop()


# What a nick that owns nothing may be told per minute (IRC_STRANGER_REPLIES).
STRANGER_REPLIES = 3
REFUSAL = "Sorry, I only take commands from nicks registered with fmn."
CONFIRM_FAILED = "That confirmation code is not valid for this nick"


def send_commands(client, commands, chunk=5):
    """Send commands to the bot a few at a time, each few acknowledged by
    the server (PING, PONG), so that the server's own flood control does
    not hold them back: in a few seconds the bot has all of them."""
    for i in range(0, len(commands), chunk):
        for cmd in commands[i:i + chunk]:
            client.privmsg(BOT, cmd)
        client.sync()


def replies(client):
    """Every private message the bot has sent to client so far (the
    caller makes sure, with a server round trip, that all are in)."""
    return [t for n, t in client.privmsgs() if n.lower() == BOT.lower()]


def collect(client, contains, n, timeout=60):
    """The next n private messages from the bot containing text, each
    with the time it arrived."""
    out = []
    for _ in range(n):
        text = client.wait_privmsg(BOT, contains=contains, timeout=timeout)
        out.append((time.monotonic(), text))
    return out


def test_stranger_flood_gets_a_few_replies_and_notifications_go_on():
    irc, fmnd, c = start()
    alice = c["alice"]
    mallory = irctest.Client(irc, "mallory")
    try:
        commands = []
        for i in range(30):
            commands.append([
                "confirm %s" % secrets.token_hex(16), "help",
                "frobnicate %s" % secrets.token_hex(4),
                "confirm %s" % secrets.token_hex(16),
                ("stop", "start", "list filters")[i % 3],
                "confirm"][i % 6])
        n = 8
        pub = fmnd.publish_start(*[wiki_edit("Flood %02d" % i)
                                   for i in range(n)])
        began = time.monotonic()
        send_commands(mallory, commands)
        got = collect(alice, "Flood ", n)
        published(pub)
        assert sorted(t for _, t in got) == sorted(
            '[wiki] Kevin made a wiki edit to "Flood %02d" '
            'https://fedoraproject.org/wiki/Test' % i for i in range(n)), got

        # Every command mallory sent reached the bot before alice's
        # "help" (the server relays in order; mallory's last PONG came
        # after all of them). Replies to different nicks take turns, so
        # by alice's 6th line every reply queued for mallory before it
        # (3 if the budget holds) has gone out.
        for _ in range(2):
            alice.privmsg(BOT, "help")
            for _ in range(3):
                alice.wait_privmsg(BOT)
        mallory.sync()
        elapsed = time.monotonic() - began
        answered = replies(mallory)
        windows = 1 + int(elapsed // 60)
        assert STRANGER_REPLIES <= len(answered) <= \
            STRANGER_REPLIES * windows, (elapsed, answered)
        for text in answered:
            assert text.startswith(REFUSAL) or \
                text.startswith(CONFIRM_FAILED), text
        assert fmnd.sql("SELECT enabled FROM preferences") == [(1,)]

        # Prompt: once the first notification was out, the rest needed
        # the bucket's time for their own lines, the few budgeted
        # replies and the delivery markers (at most one a second, so at
        # least 0.4 of each second is left for lines at 0.6 s a line),
        # plus slack for a busy machine. Behind 30 replies they would
        # take twice that.
        spread = max(t for t, _ in got) - min(t for t, _ in got)
        assert spread <= 1.5 * (n + STRANGER_REPLIES + 1) + 10, spread

        # The owner's own commands still work.
        alice.privmsg(BOT, "stop")
        alice.wait_privmsg(BOT, contains="stopped")
        assert fmnd.sql("SELECT enabled FROM preferences") == [(0,)]
        alice.privmsg(BOT, "start")
        alice.wait_privmsg(BOT, contains="on again")
        assert fmnd.sql("SELECT enabled FROM preferences") == [(1,)]
    finally:
        fmnd.stop()
        irc.stop()


def test_notifications_go_before_replies():
    irc, fmnd, c = start()
    alice = c["alice"]
    strangers = [irctest.Client(irc, "stranger%d" % i) for i in range(6)]
    try:
        n = 12
        fmnd.publish(*[wiki_edit("Queued %02d" % i) for i in range(n)])
        # After 5 the bucket's burst is spent: the rest wait in the bot,
        # one line per 0.6 s at best.
        got = collect(alice, "Queued ", 5)
        for s in strangers:
            s.privmsg(BOT, "help")
            s.privmsg(BOT, "confirm %s" % secrets.token_hex(16))
        for s in strangers:
            s.sync()            # the server has passed them to the bot
        got += collect(alice, "Queued ", n - 5)
        # The 12 replies waited for the 7 notifications still queued.
        # Anything the bot sent before alice's last line reached the
        # strangers before their PONG. After it the bot sends a marker,
        # then replies at 0.6 s a line: a few may get in before the
        # PONGs on a slow machine. Taking turns with alice's lines, all
        # 12 would be out after her second.
        early = 0
        for s in strangers:
            s.sync()
            early += len(replies(s))
        assert early <= 5, early
        for s in strangers:
            s.wait_privmsg(BOT, contains=REFUSAL)
            s.wait_privmsg(BOT, contains=CONFIRM_FAILED)
    finally:
        fmnd.stop()
        irc.stop()


def test_right_secret_confirms_after_wrong_guesses():
    irc, fmnd, c = start()
    bob = irctest.Client(irc, "bob")
    try:
        fmnd.add_user("bob", confirmed=False)
        secret = secret_of(bob.wait_privmsg(BOT,
                                            contains="fmnctl dest confirm"))
        bob.wait_privmsg(BOT, contains="expires")
        before = len(replies(bob))
        guesses = ["confirm %s" % secrets.token_hex(16) for _ in range(6)]
        send_commands(bob, guesses + ["confirm %s" % secret])
        # Replies to one nick keep their order: the last one is last.
        bob.wait_privmsg(BOT, contains="Confirmed")
        bob.sync()
        answered = replies(bob)[before:]
        assert answered[-1].startswith("Confirmed"), answered
        wrong = answered[:-1]
        assert len(wrong) == STRANGER_REPLIES, answered
        assert all(t.startswith(CONFIRM_FAILED) for t in wrong), answered
        assert fmnd.sql("SELECT confirmed, secret FROM destinations WHERE "
                        "address = 'bob'") == [(1, None)]
        # Now an owner, with an owner's budget: help answers at once.
        bob.privmsg(BOT, "help")
        bob.wait_privmsg(BOT, contains="Commands")
    finally:
        fmnd.stop()
        irc.stop()


if __name__ == "__main__":
    fmntest.main(globals())
