"""fmnctl verify: fedmsg's x509 checks, one JSON line per envelope.

The real signed messages of tests/data/signed-dev.json against Fedora's
CA, and altered; fedmsg's own x509 cases (fedmsg/tests/crypto/
test_x509.py) with its test PKI (tests/data/pki), messages signed by the
publisher's Python code (scripts/fmn-publish.py), so that every valid
verdict also says that fmn's C canonical form is Python's json.dumps."""

import json
import os
import random
import struct

import fmntest
import signtest
from signtest import APP01, APP02, jsonl, pki, sign

WIKI = "org.fedoraproject.prod.wiki.article.edit"
CA = ("--ca", pki("ca.crt"), "--crl", pki("crl.pem"))


def vectors():
    with open(os.path.join(fmntest.DATA, "signed-dev.json")) as f:
        return json.load(f)["vectors"]


def verify(envs, *opts, check=None, env=None):
    """Run fmnctl verify on envelopes (or text); (process, verdicts)."""
    if isinstance(envs, dict):
        envs = [envs]
    text = envs if isinstance(envs, str) else jsonl(envs)
    p = fmntest.fmnctl("verify", *opts, "-", input=text, check=check,
                       env=env)
    return p, [json.loads(line) for line in p.stdout.splitlines()]


def envelope(topic=WIKI, **kw):
    env = {"topic": topic, "msg": {"user": "ralph", "title": "so secure"},
           "timestamp": 1700000000, "msg_id": "2023-%08x" %
           random.getrandbits(32), "i": 1, "username": "fedmsg"}
    env.update(kw)
    return env


def one(envs, *opts, valid, reason=None, signer=None):
    """Verify; every verdict is valid (or not), with reason's words."""
    p, out = verify(envs, *opts, check=0 if valid else 1)
    assert len(out) == (1 if isinstance(envs, dict) else len(envs)), out
    for v in out:
        assert v["valid"] is valid, (v, p.stderr)
        if valid:
            assert v["reason"] is None, v
        else:
            assert v["reason"], v
            if reason:
                assert reason in v["reason"], (reason, v)
        if signer:
            assert v["signer"] == signer, v
    return out


# The real bus.

def test_signed_dev_every_vector_verifies_with_its_signer():
    vec = vectors()
    assert len(vec) == 18
    p, out = verify([v["as_stored_in_datagrepper"] for v in vec],
                    "--ca", pki("fedora_ca.crt"), "--no-check-time",
                    check=0)
    assert len(out) == 18, out
    for v, o in zip(vec, out):
        assert o == {"msg_id": v["as_stored_in_datagrepper"]["msg_id"],
                     "valid": True, "signer": v["signer_cn"],
                     "reason": None}, o


def test_signed_dev_certificates_have_expired():
    vec = vectors()
    p, out = verify([v["as_stored_in_datagrepper"] for v in vec],
                    "--ca", pki("fedora_ca.crt"), check=1)
    for v, o in zip(vec, out):
        assert o["valid"] is False and o["signer"] == v["signer_cn"], o
        assert "expired" in o["reason"], o
    assert "18 of 18" in p.stderr, p.stderr
    # Another CA: the test CA of the same name, another key.
    p, out = verify([vec[0]["as_stored_in_datagrepper"]], "--ca",
                    pki("ca.crt"), "--no-check-time", check=1)
    assert "certificate chain" in out[0]["reason"], out


def test_signed_dev_altered_is_refused_with_a_reason():
    vec = [v["as_stored_in_datagrepper"] for v in vectors()]
    altered, why = [], []
    for n, env in enumerate(vec):
        body = json.loads(json.dumps(env))
        body["msg"]["fmn_added"] = 1
        topic = dict(env, topic=env["topic"] + ".x")
        other = dict(env, signature=vec[(n + 1) % len(vec)]["signature"])
        flipped = dict(env, signature=("B" if env["signature"][0] == "A"
                                       else "A") + env["signature"][1:])
        unsigned = {k: v for k, v in env.items() if k != "signature"}
        nocert = {k: v for k, v in env.items() if k != "certificate"}
        altered += [body, topic, other, flipped, unsigned, nocert]
        why += ["does not match"] * 4 + ["unsigned"] * 2
    p, out = verify(altered, "--ca", pki("fedora_ca.crt"),
                    "--no-check-time", check=1)
    assert len(out) == len(altered)
    for o, w, env in zip(out, why, altered):
        assert o["valid"] is False and w in o["reason"], (w, o)
        assert o["msg_id"] == env["msg_id"]
    # The unaltered ones still verify in the same run.
    p, out = verify(vec + altered[:1], "--ca", pki("fedora_ca.crt"),
                    "--no-check-time", check=1)
    assert [o["valid"] for o in out] == [True] * len(vec) + [False]


# fedmsg's own cases (fedmsg/tests/crypto/test_x509.py).

def test_good_signature():
    one(sign(envelope()), *CA, valid=True, signer=APP01)
    # The signature's base64 in one line is the same signature.
    env = sign(envelope())
    env["signature"] = env["signature"].replace("\n", "")
    one(env, *CA, valid=True, signer=APP01)


def test_unsigned():
    one(envelope(), *CA, valid=False, reason="unsigned")
    one({"my": "message"}, *CA, valid=False, reason="unsigned")


def test_wrong_ca():
    one(sign(envelope()), "--ca", pki("badca.crt"), valid=False,
        reason="certificate chain", signer=APP01)


def test_expired_ca():
    p, out = verify([sign(envelope(), "signed_by_expired_ca")], "--ca",
                    pki("expired_ca.crt"), check=1)
    assert "expired" in out[0]["reason"], out
    assert "expired" in p.stderr, p.stderr   # said of the CA at load


def test_revoked_certificate():
    one(sign(envelope(), "dummy-revoked"), *CA, valid=False,
        reason="revoked", signer="dummy-revoked")
    # Without the CRL, nothing says it is revoked.
    one(sign(envelope(), "dummy-revoked"), "--ca", pki("ca.crt"),
        valid=True)


def test_invalid_signature():
    env = sign(envelope(msg={"message": "so secure"}))
    env["msg"]["message"] = "so insecure!"
    one(env, *CA, valid=False, reason="does not match")
    # The certificate of another host than the one that signed.
    env = sign(envelope())
    env["certificate"] = sign(envelope(), APP02)["certificate"]
    one(env, *CA, valid=False, reason="does not match", signer=APP02)
    env = sign(envelope())
    env["signature"] = "\u00d6"
    one(env, *CA, valid=False, reason="base64")


def test_old_crl():
    p, out = verify([sign(envelope())], "--ca", pki("ca.crt"), "--crl",
                    pki("expired_crl.pem"), check=1)
    assert "CRL" in out[0]["reason"], out
    assert "expired" in p.stderr, p.stderr


def test_expired_crl_is_reported_and_refuses():
    files = signtest.make_pki(fmntest.tmpdir(), crl_expired=True)
    host = signtest.publish.load_signer(files["host.key"], files["host.crt"])
    env = signtest.publish.sign(envelope(), host)
    p, out = verify([env], "--ca", files["ca.crt"], "--crl",
                    files["crl.pem"], check=1)
    assert "CRL has expired" in out[0]["reason"], out
    assert out[0]["signer"] == "host.example.org"
    assert "expired" in p.stderr and "refused" in p.stderr, p.stderr
    # The same PKI with a current CRL.
    good = signtest.make_pki(fmntest.tmpdir())
    host = signtest.publish.load_signer(good["host.key"], good["host.crt"])
    one(signtest.publish.sign(envelope(), host), "--ca", good["ca.crt"],
        "--crl", good["crl.pem"], valid=True, signer="host.example.org")


def policy_file(policy):
    path = os.path.join(fmntest.tmpdir(), "policy.json")
    with open(path, "w") as f:
        json.dump(policy, f)
    return path


def test_routing_policy():
    pol = policy_file({"mytopic": ["Not " + APP01],
                       "ourtopic": [APP02, APP01]})
    opts = CA + ("--policy", pol)
    # Refused: the topic is in the policy, the signer is not.
    one(sign(envelope("mytopic")), *opts, valid=False,
        reason="does not let " + APP01)
    one(sign(envelope("mytopic")), *opts, "--nitpicky", valid=False)
    # Allowed.
    one(sign(envelope("ourtopic")), *opts, "--nitpicky", valid=True)
    one(sign(envelope("ourtopic"), APP02), *opts, valid=True,
        signer=APP02)
    # A topic the policy does not name: allowed, unless nitpicky.
    one(sign(envelope("othertopic")), *opts, valid=True)
    one(sign(envelope("othertopic")), *opts, "--nitpicky", valid=False,
        reason="no entry for the topic othertopic")


def test_options_default_to_the_configuration():
    pol = policy_file({"mytopic": [APP02]})
    conf = os.path.join(fmntest.tmpdir(), "fmn.conf")
    with open(conf, "w") as f:
        f.write("[bus]\nca_cert = %s\ncrl = %s\nrouting_policy = %s\n"
                "routing_nitpicky = yes\n" % (pki("ca.crt"), pki("crl.pem"),
                                             pol))
    envs = [sign(envelope("mytopic"), APP02), sign(envelope("mytopic")),
            sign(envelope("othertopic"), APP02),
            sign(envelope("mytopic"), "dummy-revoked")]
    p, out = verify(envs, check=1, env={"FMN_CONFIG": conf})
    assert [o["valid"] for o in out] == [True, False, False, False], out
    assert "revoked" in out[3]["reason"]
    # Options win over the file; --crl '' is none: then the policy.
    p, out = verify(envs[3:], "--crl", "", check=1, env={"FMN_CONFIG": conf})
    assert "does not let dummy-revoked" in out[0]["reason"], out


def test_no_ca_is_a_usage_error_and_a_bad_one_an_error():
    p = fmntest.fmnctl("verify", "-", input="{}\n", check=2)
    assert "--ca" in p.stderr, p.stderr
    p = fmntest.fmnctl("verify", "--ca", "/nonexistent.crt", "-",
                       input="{}\n", check=1)
    assert "/nonexistent.crt" in p.stderr, p.stderr
    p = fmntest.fmnctl("verify", "--ca", pki("ca.crt"), "--policy",
                       pki("ca.crt"), "-", input="{}\n", check=1)
    assert "routing policy" in p.stderr, p.stderr


def test_lines_that_are_not_json_are_refused_and_the_rest_go_on():
    text = jsonl([sign(envelope())]) + "{not json\n\n" + \
        jsonl([sign(envelope())])
    p, out = verify(text, *CA, check=1)
    assert [o["valid"] for o in out] == [True, False, True], out
    assert out[1]["msg_id"] is None and "line 2" in out[1]["reason"], out


# The canonical form, against Python's json.dumps itself.

def rand_text(r):
    pools = ["abcXYZ019 _-./:", "\"\\/\b\f\n\r\t\x01\x1f\x7f",
             "\u00e9\u00ff\u0100\u07ff\u0800\u2028\ufeff\uffff",
             "\U00010000\U0001d11e\U0001f600\U0010ffff"]
    return "".join(r.choice(r.choice(pools)) for _ in range(r.randint(0, 12)))


def rand_float(r):
    k = r.randint(0, 4)
    if k == 0:
        while True:
            d = struct.unpack("<d", struct.pack("<Q", r.getrandbits(64)))[0]
            if d == d and abs(d) != float("inf"):
                return d
    if k == 1:
        return float(r.randint(-10 ** 17, 10 ** 17))
    if k == 2:
        return r.uniform(-1, 1) * 10 ** r.randint(-30, 30)
    if k == 3:
        return round(r.uniform(0, 2e9), r.randint(0, 6))
    return r.choice([0.0, -0.0, 0.1, 1e16, 1e-5, 1e22, 5e-324, 2.0 ** 63])


def rand_value(r, depth=0):
    k = r.randint(0, 8 if depth < 4 else 5)
    if k == 0:
        return rand_text(r)
    if k == 1:
        return r.randint(-2 ** 63, 2 ** 63 - 1)
    if k == 2:
        return rand_float(r)
    if k == 3:
        return r.choice([True, False, None])
    if k == 4:
        return r.randint(-1000, 1000)
    if k == 5:   # past 64 bits: exact from the text
        return r.choice([1, -1]) * r.randint(2 ** 63, 10 ** 30)
    if k == 6:
        return [rand_value(r, depth + 1) for _ in range(r.randint(0, 4))]
    return {rand_text(r): rand_value(r, depth + 1)
            for _ in range(r.randint(0, 5))}


def test_python_json_dumps_and_fmn_agree_on_what_is_signed():
    seed = int(os.environ.get("FMN_TEST_SEED", "20261129"))
    r = random.Random(seed)
    envs = []
    for n in range(400):
        env = {"topic": "org.example.prod.t%d" % n,
               "msg": rand_value(r), "msg_id": "2026-%d" % n,
               "timestamp": r.choice([1700000000, 1700000000.25,
                                      rand_float(r)]),
               "i": n, "username": rand_text(r)}
        for _ in range(r.randint(0, 3)):
            env[rand_text(r)] = rand_value(r, 2)
        if n % 5 == 0:   # the form datagrepper stores
            env.update(source_name="datanommer", source_version="0.9.0",
                       headers=r.choice([{}, None, {"a": rand_text(r)}]))
        envs.append(sign(env))
    p, out = verify(envs, "--ca", pki("ca.crt"))
    bad = [(e["msg_id"], o["reason"]) for e, o in zip(envs, out)
           if not o["valid"]]
    assert len(out) == len(envs) and not bad, (seed, bad[:3])


if __name__ == "__main__":
    fmntest.main(globals())
