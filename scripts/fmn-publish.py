#!/usr/bin/python3
"""Publish real bus messages in fedmsg frames (topic, JSON envelope).

Binds a ZeroMQ XPUB socket, waits until a subscriber has subscribed (the
subscription message is the readiness signal: nothing is sent into the
void), then sends the envelopes of a corpus file: a JSON array whose
elements are envelopes or {"msg": envelope, ...} records (the format of
fmfi-dev.json), or JSON lines of envelopes.

Each message gets a fresh msg_id unless --keep-ids, the time of sending
unless --keep-timestamps, and the publisher's own "i" counter and
username, as a fedmsg endpoint would send them. With --sign-key and
--sign-cert each is signed as fedmsg.crypto.x509 signs (python3-
cryptography), so that fmnd can run with [bus] validate_signatures;
sign() and canonical() can be imported by tests for the same.
"""

import argparse
import base64
import json
import socket
import sys
import time
import uuid

import zmq


def load(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            data = [data]
    except ValueError:
        data = [json.loads(line) for line in text.splitlines() if line.strip()]
    out = []
    for item in data:
        env = item.get("msg") if "topic" not in item else item
        if isinstance(env, dict) and isinstance(env.get("topic"), str):
            out.append(env)
    return out


def canonical(env):
    """The bytes fedmsg signs for env: Python's json.dumps with sorted
    keys, compact, ASCII, of env without signature and certificate; in
    the form datagrepper stores (source_name and source_version), also
    without those, without empty headers, with an integer timestamp
    (fedmsg.crypto.strip_credentials, utils.fix_datagrepper_message)."""
    env = {k: v for k, v in env.items()
           if k not in ("signature", "certificate")}
    if "source_name" in env and "source_version" in env:
        del env["source_name"], env["source_version"]
        if "headers" in env and not env["headers"]:
            del env["headers"]
        if "timestamp" in env:
            env["timestamp"] = int(env["timestamp"])
    return json.dumps(env, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True).encode("utf-8")


def load_signer(key_path, cert_path):
    """(private key, certificate as PEM) for sign()."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    with open(key_path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    with open(cert_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    return key, cert.public_bytes(serialization.Encoding.PEM)


def _lines76(text):
    return "".join(text[i:i + 76] + "\n" for i in range(0, len(text), 76))


def sign(env, signer):
    """A copy of env signed as fedmsg does: "crypto": "x509", then an
    RSA PKCS#1 v1.5 signature over SHA-1 of canonical(env) and the
    certificate, both base64 in lines of 76 characters."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    key, cert_pem = signer
    env = {k: v for k, v in env.items()
           if k not in ("signature", "certificate")}
    env["crypto"] = "x509"
    sig = key.sign(canonical(env), padding.PKCS1v15(), hashes.SHA1())
    env["signature"] = _lines76(base64.b64encode(sig).decode("ascii"))
    env["certificate"] = _lines76(base64.b64encode(cert_pem).decode("ascii"))
    return env


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bind", required=True,
                    help="endpoint to bind, e.g. tcp://127.0.0.1:9940")
    ap.add_argument("--count", type=int, default=0,
                    help="messages to send (default: the whole file once)")
    ap.add_argument("--rate", type=float, default=0,
                    help="messages per second (default: as fast as possible)")
    ap.add_argument("--keep-ids", action="store_true",
                    help="keep the corpus msg_ids instead of fresh ones")
    ap.add_argument("--keep-timestamps", action="store_true",
                    help="keep the envelopes' timestamps instead of now")
    ap.add_argument("--timeout", type=float, default=30,
                    help="seconds to wait for a subscriber")
    ap.add_argument("--ids-out", help="write the msg_ids sent, one a line")
    ap.add_argument("--sign-key", help="sign with this PEM private key "
                    "(with --sign-cert)")
    ap.add_argument("--sign-cert", help="the PEM certificate of that key")
    ap.add_argument("file", help="corpus file")
    args = ap.parse_args()

    if bool(args.sign_key) != bool(args.sign_cert):
        sys.exit("fmn-publish: --sign-key and --sign-cert go together")
    signer = load_signer(args.sign_key, args.sign_cert) if args.sign_key \
        else None
    envs = load(args.file)
    if not envs:
        sys.exit("fmn-publish: %s: no envelopes" % args.file)
    count = args.count or len(envs)

    ctx = zmq.Context()
    pub = ctx.socket(zmq.XPUB)
    pub.setsockopt(zmq.SNDHWM, 0)
    pub.setsockopt(zmq.LINGER, 10000)
    pub.bind(args.bind)
    if not pub.poll(int(args.timeout * 1000), zmq.POLLIN):
        sys.exit("fmn-publish: no subscriber within %gs" % args.timeout)
    pub.recv()      # the subscription

    ids = open(args.ids_out, "w") if args.ids_out else None
    host = socket.gethostname()
    start = time.monotonic()
    for n in range(count):
        env = dict(envs[n % len(envs)])
        if not args.keep_ids or "msg_id" not in env:
            env["msg_id"] = "%d-%s" % (time.gmtime().tm_year, uuid.uuid4())
        env["i"] = n + 1
        env["username"] = "fmn-publish"
        if not args.keep_timestamps or "timestamp" not in env:
            env["timestamp"] = time.time()
        env.setdefault("source_name", "fmn-publish@" + host)
        if signer:
            env = sign(env, signer)
        pub.send_multipart([env["topic"].encode("utf-8"),
                            json.dumps(env).encode("utf-8")])
        if ids:
            ids.write(env["msg_id"] + "\n")
        if args.rate > 0:
            delay = start + (n + 1) / args.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    if ids:
        ids.close()
    print("fmn-publish: %d message(s) sent" % count, file=sys.stderr)
    pub.close()     # lingers until the queue is flushed
    ctx.term()


if __name__ == "__main__":
    main()
