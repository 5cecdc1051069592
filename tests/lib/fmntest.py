"""Helpers shared by the Python tests: run a case by name, run fmnctl
against a temporary database, find free ports, dump a database."""

import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import traceback

SOURCE = os.environ.get("FMN_SOURCE") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("FMN_BUILD") or os.path.join(SOURCE, "build")
DATA = os.path.join(SOURCE, "tests", "data")
FMNCTL = os.path.join(BUILD, "fmnctl")
FMND = os.path.join(BUILD, "fmnd")

_tmpdirs = []


def main(namespace):
    """Run the test function named in argv[1] (or all), print a verdict."""
    names = sys.argv[1:] or sorted(n for n in namespace
                                   if n.startswith("test_"))
    failed = 0
    for name in names:
        fn = namespace.get(name)
        if fn is None:
            print("no test named %s" % name, file=sys.stderr)
            sys.exit(2)
        try:
            fn()
            print("%s: ok" % name)
        except Exception:
            traceback.print_exc()
            print("%s: FAILED" % name)
            failed += 1
        finally:
            cleanup()
    sys.exit(1 if failed else 0)


def cleanup():
    while _tmpdirs:
        shutil.rmtree(_tmpdirs.pop(), ignore_errors=True)


def tmpdir():
    """A temporary directory removed when the test ends."""
    d = tempfile.mkdtemp(prefix="fmntest-")
    _tmpdirs.append(d)
    return d


def tmpdb():
    """A path for a fresh database in a temporary directory."""
    return os.path.join(tmpdir(), "fmn.db")


def initdb():
    """A fresh database, created: commands that only read refuse a
    database that does not exist."""
    db = tmpdb()
    fmnctl("init", db=db, check=0)
    return db


def fmnctl(*args, db=None, input=None, env=None, check=None, cwd=None):
    """Run fmnctl (in cwd, if given); returns CompletedProcess with text
    stdout/stderr. check=N asserts the exit code is N and shows the
    output if not."""
    cmd = [FMNCTL]
    if db is not None:
        cmd += ["--db", db]
    cmd += [str(a) for a in args]
    e = dict(os.environ)
    e.pop("FMN_DB", None)
    e["FMN_CONFIG"] = ""  # not /etc/fmn/fmn.conf
    if env:
        e.update(env)
    p = subprocess.run(cmd, input=input, capture_output=True, text=True,
                       env=e, timeout=120, cwd=cwd)
    if check is not None:
        assert p.returncode == check, (
            "fmnctl %s: exit %d, expected %d\nstdout: %s\nstderr: %s" %
            (" ".join(cmd[1:]), p.returncode, check, p.stdout, p.stderr))
    return p


def fmnctl_json(*args, db=None, input=None):
    """Run fmnctl --json, assert success, parse the output."""
    p = fmnctl("--json", *args, db=db, input=input, check=0)
    return json.loads(p.stdout)


def dump(db):
    """Every table's rows, to show a database did not change."""
    con = sqlite3.connect(db)
    try:
        out = {}
        for (name,) in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "ORDER BY name"):
            out[name] = con.execute(
                'SELECT * FROM "%s" ORDER BY 1' % name).fetchall()
        return out
    finally:
        con.close()


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now, drawn
    below the kernel's ephemeral range: a port the kernel hands out (bind
    to 0) is also what it gives the next outgoing connection of any test
    running beside this one, which then holds it when the test binds."""
    low = min(_ephemeral_low(), 65536)
    first = 10000 if low > 12000 else 1024
    for _ in range(200):
        port = random.randrange(first, low)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            s.close()
        return port
    raise AssertionError("no free port in %d..%d" % (first, low - 1))


def raw_http(port, request, source="127.0.0.1"):
    """Send request (bytes, whatever they hold) to 127.0.0.1:port from
    the loopback address source, and return what came back until the
    server closed the connection (b"" when it closed without answering:
    a request it refused to read)."""
    data = b""
    s = socket.create_connection(("127.0.0.1", port), timeout=30,
                                 source_address=(source, 0))
    try:
        s.sendall(request)
        s.shutdown(socket.SHUT_WR)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass    # the server closed a connection it refused
    finally:
        s.close()
    return data


def sanitized():
    """Is the build under test the one with AddressSanitizer (which keeps
    freed memory in quarantine, so a process's size says little)?"""
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            return any(l.strip() == "FMN_SANITIZE:BOOL=ON" for l in f)
    except OSError:
        return False


def corpus():
    """The real bus messages of tests/data/fmfi-dev.json (envelopes)."""
    with open(os.path.join(DATA, "fmfi-dev.json")) as f:
        return [v["msg"] for v in json.load(f)]
