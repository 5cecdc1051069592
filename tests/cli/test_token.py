"""fmnctl token create, list and rm on a database, and what fmnctl does
with --server before it reaches any server: the token is printed once
and only its SHA-256 digest is kept, the list never shows it, a removed
user takes their tokens along while an import keeps them, and the
client's settings are checked."""

import hashlib
import json
import os
import re
import sqlite3

import fmntest
from fmntest import dump, fmnctl, fmnctl_json

TOKEN = re.compile(r"^fmn_(\d+)_[0-9a-f]{64}$")


def test_a_token_is_printed_once_and_only_its_digest_kept():
    db = fmntest.initdb()
    fmnctl("user", "add", "alice", db=db, check=0)
    out = fmnctl("token", "create", "alice", db=db, check=0).stdout
    tok = out.splitlines()[0]
    m = TOKEN.match(tok)
    assert m, out
    assert "shown only now" in out
    doc = fmnctl_json("token", "create", "alice", "--admin", db=db)
    assert TOKEN.match(doc["token"]) and doc["admin"] is True, doc
    assert doc["token"] != tok
    con = sqlite3.connect(db)
    rows = con.execute("SELECT id, digest, admin FROM tokens ORDER BY id"
                       ).fetchall()
    con.close()
    assert rows[0] == (int(m.group(1)), hashlib.sha256(tok.encode())
                       .digest(), 0), rows
    assert rows[1][2] == 1
    # The text is nowhere in the database's files.
    for name in os.listdir(os.path.dirname(db)):
        with open(os.path.join(os.path.dirname(db), name), "rb") as f:
            data = f.read()
        assert tok.encode() not in data and tok[-64:].encode() not in data
    # The list shows who and when, never the token.
    listed = fmnctl_json("token", "list", db=db)
    assert [(t["id"], t["user"], t["admin"], t["last_used"])
            for t in listed] == [(rows[0][0], "alice", False, None),
                                 (rows[1][0], "alice", True, None)], listed
    text = fmnctl("token", "list", "alice", db=db, check=0).stdout
    assert "last used never" in text and "admin" in text, text
    assert tok not in text and doc["token"] not in json.dumps(listed)
    fmnctl("token", "rm", str(rows[0][0]), db=db, check=0)
    assert [t["id"] for t in fmnctl_json("token", "list", db=db)] == [
        rows[1][0]]


def test_token_commands_refuse_bad_input_and_change_nothing():
    db = fmntest.initdb()
    fmnctl("user", "add", "alice", db=db, check=0)
    before = dump(db)
    for args, code, word in [
            (["token", "create"], 2, "expected one USER"),
            (["token", "create", "nobody"], 1, "no user named"),
            (["token", "create", "alice", "--root"], 2, "unknown option"),
            (["token", "rm", "x"], 2, "token's number"),
            (["token", "rm", "0"], 2, "token's number"),
            (["token", "rm", "99"], 1, "no token 99"),
            (["token", "list", "nobody"], 1, "no user named")]:
        p = fmnctl(*args, db=db)
        assert p.returncode == code and word in p.stderr, (args, p)
    assert dump(db) == before


def test_a_removed_user_takes_their_tokens_an_import_keeps_them():
    db = fmntest.initdb()
    for u in ("alice", "bob"):
        fmnctl("user", "add", u, db=db, check=0)
        fmnctl("token", "create", u, db=db, check=0)
    fmnctl("filter", "add", "alice", "email", "f", "topic:*", db=db, check=0)
    doc = fmnctl("export", db=db, check=0).stdout
    fmnctl("import", "-", db=db, input=doc, check=0)
    assert sorted(t["user"] for t in fmnctl_json("token", "list", db=db)) \
        == ["alice", "bob"]
    assert fmnctl("export", db=db, check=0).stdout == doc
    fmnctl("user", "rm", "bob", db=db, check=0)
    assert [t["user"] for t in fmnctl_json("token", "list", db=db)] == [
        "alice"]


def test_client_settings_are_checked_before_any_request():
    db = fmntest.initdb()
    home = fmntest.tmpdir()
    env = {"XDG_CONFIG_HOME": home, "FMN_SERVER": "", "FMN_TOKEN": ""}
    for args, env_more, code, word in [
            (["--server", "http://127.0.0.1:1", "--db", db, "rules"], {}, 2,
             "--db and --server together"),
            (["--server", "http://127.0.0.1:1", "rules"], {}, 2,
             "needs a token"),
            (["--server", "ftp://x", "--token", "t", "rules"], {}, 2,
             "expected http://"),
            (["--token", "t", "rules"], {}, 2, "--token goes with --server"),
            (["rules"], {"FMN_SERVER": "http://127.0.0.1:1"}, 2,
             "needs a token"),
            (["--server", "http://127.0.0.1:1", "--token", "t", "user",
              "add", "x"], {}, 2, "server's database only"),
            (["--server", "http://127.0.0.1:1", "--token", "t", "rules"], {},
             1, "fmnctl: http://127.0.0.1:1: ")]:
        e = dict(env)
        e.update(env_more)
        p = fmnctl(*args, env=e)
        assert p.returncode == code and word in p.stderr, (args, p)
        assert p.stderr.count("\n") == 1, p.stderr
    # Without --server, the environment or the file: the database.
    assert "topic:GLOB" in fmnctl("rules", env=env, check=0).stdout


if __name__ == "__main__":
    fmntest.main(globals())
