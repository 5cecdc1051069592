"""Signing for the tests, with the publisher's own code
(scripts/fmn-publish.py: Python's json.dumps, independent of fmn's C),
and the test PKI of tests/data/pki (fedmsg's)."""

import datetime
import importlib.util
import json
import os

import fmntest

PKI = os.path.join(fmntest.DATA, "pki")
APP01 = "shell-app01.phx2.fedoraproject.org"
APP02 = "shell-app02.phx2.fedoraproject.org"

_spec = importlib.util.spec_from_file_location(
    "fmn_publish", os.path.join(fmntest.SOURCE, "scripts", "fmn-publish.py"))
publish = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(publish)

_signers = {}


def pki(name):
    return os.path.join(PKI, name)


def signer(name=APP01):
    """The key and certificate pki/NAME.{key,crt}."""
    if name not in _signers:
        _signers[name] = publish.load_signer(pki(name + ".key"),
                                             pki(name + ".crt"))
    return _signers[name]


def sign(env, name=APP01):
    return publish.sign(env, signer(name))


def jsonl(envs):
    return "".join(json.dumps(e) + "\n" for e in envs)


def make_pki(directory, crl_expired=False, revoke_host=False):
    """A CA of our own, a host certificate it signed and its CRL, in
    directory: ca.crt, host.key, host.crt, crl.pem. With crl_expired the
    CRL's next update is in the past (the CRL is otherwise good)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.utcnow()
    day = datetime.timedelta(days=1)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (x509.CertificateBuilder().subject_name(name("test ca"))
          .issuer_name(name("test ca")).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - day)
          .not_valid_after(now + 365 * day)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                         critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    host = (x509.CertificateBuilder().subject_name(name("host.example.org"))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(2).not_valid_before(now - day)
            .not_valid_after(now + 30 * day).sign(ca_key, hashes.SHA256()))
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject)
           .last_update(now - (10 * day if crl_expired else day))
           .next_update(now - day if crl_expired else now + 30 * day))
    if revoke_host:
        crl = crl.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(2)
            .revocation_date(now - day).build())
    crl = crl.sign(ca_key, hashes.SHA256())
    pem = serialization.Encoding.PEM
    files = {
        "ca.crt": ca.public_bytes(pem),
        "host.crt": host.public_bytes(pem),
        "host.key": key.private_bytes(
            pem, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption()),
        "crl.pem": crl.public_bytes(pem),
    }
    for n, data in files.items():
        with open(os.path.join(directory, n), "wb") as f:
            f.write(data)
    return {n: os.path.join(directory, n) for n in files}
