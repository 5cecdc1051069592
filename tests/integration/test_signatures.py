"""fmnd with [bus] validate_signatures = yes, end to end: a real ZeroMQ
publisher sends messages signed with fedmsg's test PKI
(tests/data/pki) by the publisher's code; the good ones are delivered,
altered or unsigned ones are dropped, counted and logged, and never
matched."""

import json
import os
import signal
import subprocess
import sys

import fmntest
import fmndtest
import signtest
from fmndtest import envelope, wait_until
from signtest import APP01, APP02, pki, sign

WIKI = "org.fedoraproject.prod.wiki.article.edit"


def signed_envelope(topic, body, **kw):
    """An envelope with all a publisher sets, "i" and "username" too:
    the test publisher adds what is missing, after the signature."""
    kw.setdefault("i", 1)
    kw.setdefault("username", "fedmsg")
    return envelope(topic, body, **kw)


def wiki(title="Messaging SIG", **kw):
    return signed_envelope(WIKI, {"user": "Ralph", "title": title,
                                  "url": "http://x.org/w"}, **kw)


def conf(crl=True, policy=None, nitpicky=False):
    text = "[bus]\nvalidate_signatures = yes\nca_cert = %s\n" % pki("ca.crt")
    if crl:
        text += "crl = %s\n" % pki("crl.pem")
    if policy:
        text += "routing_policy = %s\n" % policy
    if nitpicky:
        text += "routing_nitpicky = yes\n"
    return text


class Setup:
    def __init__(self, conf_text):
        self.tmp = fmntest.tmpdir()
        self.db = os.path.join(self.tmp, "fmn.db")
        fmntest.fmnctl("init", db=self.db, check=0)
        fmndtest.add_user(self.db, "ralph", rules=["category:wiki"])
        self.cap = os.path.join(self.tmp, "capture.jsonl")
        self.pub = fmndtest.Publisher()
        self.d = fmndtest.Daemon(self.db, self.pub.endpoint,
                                 "capture:" + self.cap, conf_text,
                                 tmp=self.tmp)
        self.pub.wait_subscriber()

    def status(self):
        return fmndtest.status(self.db)

    def wait_counter(self, name, value, timeout=30):
        return wait_until(lambda: self.status()[name] >= value, timeout,
                          0.05, "%s >= %d" % (name, value))

    def delivered_ids(self):
        return [n["msg_id"] for d in fmndtest.read_capture(self.cap)
                for n in d["notices"]]

    def close(self):
        rc = self.d.stop()
        self.pub.close()
        return rc


def test_good_message_is_delivered_and_the_same_altered_is_not():
    s = Setup(conf())
    try:
        good = sign(wiki())
        altered = json.loads(json.dumps(good))
        altered["msg"]["title"] = "Click here to reset your password"
        # The forgery first: had it been taken, the good one (same
        # msg_id) would be a duplicate, not delivered.
        s.pub.send(altered)
        s.wait_counter("messages_invalid_signature", 1)
        s.pub.send(good)
        s.wait_counter("notifications_delivered", 1)
        unsigned = wiki()
        other = sign(wiki())
        other["certificate"] = sign(wiki(), APP02)["certificate"]
        wrong_ca = signtest.publish.sign(wiki(), signtest.publish.load_signer(
            pki("signed_by_expired_ca.key"), pki("signed_by_expired_ca.crt")))
        for env in (unsigned, other, wrong_ca):
            s.pub.send(env)
        s.wait_counter("messages_invalid_signature", 4)
        # Something valid after them: they are behind us.
        last = sign(wiki(title="last"))
        s.pub.send(last)
        s.wait_counter("messages_processed", 2)
        st = s.status()
        assert st["messages_invalid_signature"] == 4, st
        assert st["messages_invalid"] == 4, st
        assert st["messages_processed"] == 2, st
        assert st["messages_duplicate"] == 0, st
        wait_until(lambda: len(s.delivered_ids()) == 2, 10, 0.05,
                   "two deliveries")
        assert s.delivered_ids() == [good["msg_id"], last["msg_id"]]
        log = s.d.log()
        for kind in ("signature: signature", "signature: unsigned",
                     "signature: chain"):
            assert "invalid message (%s)" % kind in log, log
        assert altered["msg_id"] in log, log
        # Nothing of them was stored either.
        out = fmntest.fmnctl("status", "--json", db=s.db, check=0).stdout
        assert json.loads(out)["messages_invalid_signature"] == 4
    finally:
        assert s.close() == 0


def test_a_revoked_certificate_is_refused_after_a_reload_with_the_crl():
    s = Setup(conf(crl=False))
    try:
        s.pub.send(sign(wiki(), "dummy-revoked"))
        s.wait_counter("notifications_delivered", 1)
        with open(s.d.conf, "w") as f:
            f.write(conf(crl=True))
        mark = len(s.d.log())
        s.d.send_signal(signal.SIGHUP)
        wait_until(lambda: "configuration reloaded" in s.d.log()[mark:],
                   10, 0.02, "the reload")
        # The intake thread takes the new CRL with its next command.
        wait_until(lambda: s.d.log()[mark:].count(
            "signatures are checked") >= 1, 10, 0.02, "the new CRL")
        s.pub.send(sign(wiki(), "dummy-revoked"))
        s.wait_counter("messages_invalid_signature", 1)
        s.pub.send(sign(wiki()))
        s.wait_counter("notifications_delivered", 2)
        assert "invalid message (signature: revoked)" in s.d.log()
        # A CA that cannot be read keeps the running one.
        with open(s.d.conf, "w") as f:
            f.write(conf().replace(pki("ca.crt"), "/nonexistent/ca.crt"))
        mark = len(s.d.log())
        s.d.send_signal(signal.SIGHUP)
        wait_until(lambda: "the CA, CRL and routing policy in use stay" in
                   s.d.log()[mark:], 10, 0.02, "the refused reload")
        s.pub.send(sign(wiki()))
        s.wait_counter("notifications_delivered", 3)
    finally:
        assert s.close() == 0


def test_routing_policy_in_the_daemon():
    pol = os.path.join(fmntest.tmpdir(), "policy.json")
    with open(pol, "w") as f:
        json.dump({WIKI: [APP02]}, f)
    s = Setup(conf(policy=pol, nitpicky=True))
    try:
        s.pub.send(sign(wiki()))           # APP01 may not publish wiki
        s.pub.send(sign(signed_envelope("org.fedoraproject.prod.other.x",
                                        {}), APP02))            # not in the policy: nitpicky
        s.wait_counter("messages_invalid_signature", 2)
        s.pub.send(sign(wiki(), APP02))
        s.wait_counter("notifications_delivered", 1)
        assert "invalid message (signature: policy)" in s.d.log()
    finally:
        assert s.close() == 0


def test_the_publisher_script_signs_for_a_validating_daemon():
    s = Setup(conf())
    try:
        corpus = os.path.join(s.tmp, "wiki.jsonl")
        with open(corpus, "w") as f:
            for i in range(5):
                f.write(json.dumps(wiki(title="page %d" % i)) + "\n")
        s.pub.close()   # the script binds its own socket on that port
        p = subprocess.run(
            [sys.executable, os.path.join(fmntest.SOURCE, "scripts",
                                          "fmn-publish.py"),
             "--bind", s.pub.endpoint, "--sign-key",
             pki(APP01 + ".key"), "--sign-cert", pki(APP01 + ".crt"),
             corpus], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        s.wait_counter("notifications_delivered", 5)
        st = s.status()
        assert st["messages_invalid"] == 0, st
    finally:
        rc = s.d.stop()
        assert rc == 0


def test_validation_without_a_ca_does_not_start():
    tmp = fmntest.tmpdir()
    path = os.path.join(tmp, "fmn.conf")
    with open(path, "w") as f:
        f.write("[bus]\nvalidate_signatures = yes\n")
    env = dict(os.environ, FMN_CONFIG="")
    p = subprocess.run([fmntest.FMND, "-c", path, "--db",
                        os.path.join(tmp, "fmn.db"), "--bus",
                        "tcp://127.0.0.1:%d" % fmntest.free_port()],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode != 0, p.stderr
    assert "ca_cert" in p.stderr, p.stderr
    with open(path, "w") as f:
        f.write("[bus]\nvalidate_signatures = yes\nca_cert = %s\n"
                % os.path.join(tmp, "missing.crt"))
    p = subprocess.run([fmntest.FMND, "-c", path, "--db",
                        os.path.join(tmp, "fmn.db"), "--bus",
                        "tcp://127.0.0.1:%d" % fmntest.free_port()],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode != 0 and "missing.crt" in p.stderr, p.stderr


if __name__ == "__main__":
    fmntest.main(globals())
