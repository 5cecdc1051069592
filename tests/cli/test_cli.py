"""fmnctl against a temporary database: every command's happy path, and
every bad input refused with the right exit code, a message that says
why, and the database left exactly as it was."""

import json
import os
import sqlite3
import subprocess

import fmntest
from fmntest import fmnctl, fmnctl_json, dump


def setup_alice():
    db = fmntest.tmpdb()
    fmnctl("user", "add", "alice", db=db, check=0)
    fmnctl("dest", "add", "alice", "email", "alice@example.org",
           "--confirmed", db=db, check=0)
    fmnctl("filter", "add", "alice", "email", "mine", "user:alice", db=db,
           check=0)
    return db


def refused(db, args, code, *words):
    """fmnctl ARGS exits with code, says each word on stderr, changes
    nothing in db."""
    before = dump(db)
    p = fmnctl(*args, db=db)
    assert p.returncode == code, (args, p.returncode, p.stdout, p.stderr)
    for w in words:
        assert w in p.stderr, (args, w, p.stderr)
    assert p.stderr.count("\n") <= 2, p.stderr
    assert dump(db) == before, args


def test_init_creates_and_migrates():
    db = fmntest.tmpdb()
    migrations = sorted(f for f in os.listdir(
        os.path.join(fmntest.SOURCE, "schema")) if f.endswith(".sql"))
    newest = int(migrations[-1].split("_")[0])
    p = fmnctl("init", db=db, check=0)
    assert "schema version %d" % newest in p.stdout, p.stdout
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT count(*) FROM schema_migrations"
                       ).fetchone()[0] == len(migrations)
    # A second run applies nothing again.
    fmnctl("init", db=db, check=0)
    assert con.execute("SELECT count(*) FROM schema_migrations"
                       ).fetchone()[0] == len(migrations)


def test_db_default_order():
    d = fmntest.tmpdir()
    env_db = os.path.join(d, "env.db")
    fmnctl("user", "add", "bob", env={"FMN_DB": env_db}, check=0)
    assert os.path.exists(env_db)
    conf = os.path.join(d, "fmn.conf")
    conf_db = os.path.join(d, "conf.db")
    with open(conf, "w") as f:
        f.write("[store]\ndb = %s\n" % conf_db)
    fmnctl("user", "add", "carol", env={"FMN_DB": env_db,
                                        "FMN_CONFIG": conf}, check=0)
    assert os.path.exists(conf_db)
    # With neither, ./fmn.db in the working directory.
    p = subprocess.run([fmntest.FMNCTL, "user", "add", "dave"], cwd=d,
                       capture_output=True, text=True,
                       env={"PATH": os.environ["PATH"]})
    assert p.returncode == 0, p.stderr
    assert os.path.exists(os.path.join(d, "fmn.db"))


def test_user_add_list_show_rm():
    db = setup_alice()
    fmnctl("user", "add", "bob", db=db, check=0)
    users = fmnctl_json("user", "list", db=db)
    assert [u["name"] for u in users] == ["alice", "bob"]
    show = fmnctl_json("user", "show", "alice", db=db)
    assert show["name"] == "alice"
    assert show["destinations"] == [{"context": "email", "confirmed": True,
                                     "address": "alice@example.org"}]
    assert show["preferences"][0]["filters"] == [
        {"name": "mine", "active": True, "rules": ["user:alice"]}]
    text = fmnctl("user", "show", "alice", db=db, check=0).stdout
    assert "alice@example.org" in text and "user:alice" in text
    fmnctl("user", "rm", "alice", db=db, check=0)
    assert [u["name"] for u in fmnctl_json("user", "list", db=db)] == ["bob"]
    con = sqlite3.connect(db)
    for t in ("destinations", "preferences", "filters", "rules"):
        assert con.execute("SELECT count(*) FROM %s" % t).fetchone()[0] == 0


def test_name_with_quotes_is_just_a_name():
    db = fmntest.tmpdb()
    name = "o'brien\"--);DROP/**/TABLE/**/users;--"
    fmnctl("user", "add", name, db=db, check=0)
    fmnctl("filter", "add", name, "email", "it's \"mine\"", "user:" + name,
           db=db, check=0)
    assert fmnctl_json("user", "list", db=db)[0]["name"] == name
    f = fmnctl_json("filter", "show", name, "email", "it's \"mine\"", db=db)
    assert f["rules"] == ["user:" + name]


def test_alias_add_list_rm():
    db = fmntest.tmpdb()
    fmnctl("alias", "add", "rbean@redhat.com", "ralph", db=db, check=0)
    fmnctl("alias", "add", "threebean", "ralph", db=db, check=0)
    assert fmnctl_json("alias", "list", db=db) == {
        "rbean@redhat.com": "ralph", "threebean": "ralph"}
    fmnctl("alias", "add", "threebean", "someone", db=db, check=0)
    assert fmnctl_json("alias", "list", db=db)["threebean"] == "someone"
    fmnctl("alias", "rm", "threebean", db=db, check=0)
    assert list(fmnctl_json("alias", "list", db=db)) == ["rbean@redhat.com"]
    refused(db, ["alias", "rm", "nobody"], 1, "no alias")


def test_dest_pending_confirm():
    db = fmntest.tmpdb()
    fmnctl("user", "add", "alice", db=db, check=0)
    out = fmnctl_json("dest", "add", "alice", "irc", "alice_", db=db)
    assert out["confirmed"] is False and len(out["secret"]) == 32
    d = fmnctl_json("dest", "list", "alice", db=db)
    assert d[0]["confirmed"] is False
    refused(db, ["dest", "confirm", "0" * 32], 1, "no pending destination")
    fmnctl("dest", "confirm", out["secret"], db=db, check=0)
    assert fmnctl_json("dest", "list", db=db)[0]["confirmed"] is True
    # The secret is spent.
    refused(db, ["dest", "confirm", out["secret"]], 1, "no pending")


def test_dest_secret_expires():
    db = fmntest.tmpdb()
    fmnctl("user", "add", "alice", db=db, check=0)
    out = fmnctl_json("dest", "add", "alice", "email", "a@example.org",
                      "--expires", "60", db=db)
    con = sqlite3.connect(db)
    con.execute("UPDATE destinations SET expires = 1")
    con.commit()
    refused(db, ["dest", "confirm", out["secret"]], 1, "expired")


def test_dest_rm():
    db = setup_alice()
    fmnctl("dest", "rm", "alice", "email", "alice@example.org", db=db,
           check=0)
    assert fmnctl_json("dest", "list", db=db) == []
    refused(db, ["dest", "rm", "alice", "email", "alice@example.org"], 1,
            "no email destination")


def test_dest_reset_clears_failing():
    db = setup_alice()
    refused(db, ["dest", "reset", "alice", "email", "alice@example.org"], 1,
            "no failing email destination")
    con = sqlite3.connect(db)
    con.execute("UPDATE destinations SET failing = 1, "
                "last_error = '550 no such user'")
    con.commit()
    d = fmnctl_json("dest", "list", "alice", db=db)[0]
    assert d["failing"] is True and d["last_error"] == "550 no such user"
    fmnctl("dest", "reset", "alice", "email", "alice@example.org", db=db,
           check=0)
    d = fmnctl_json("dest", "list", "alice", db=db)[0]
    assert d["failing"] is False and d.get("last_error") is None


def test_pref_set_and_list():
    db = setup_alice()
    fmnctl("pref", "set", "alice", "email", "--batch-delta", "3600",
           "--batch-count", "10", "--verbose", "off", "--markup", "on",
           db=db, check=0)
    p = fmnctl_json("pref", "list", "alice", db=db)[0]
    assert (p["batch_delta"], p["batch_count"], p["verbose"],
            p["markup"], p["enabled"]) == (3600, 10, False, True, True)
    fmnctl("pref", "set", "alice", "email", "--disable", "--batch-count",
           "none", db=db, check=0)
    p = fmnctl_json("pref", "list", "alice", db=db)[0]
    assert (p["batch_delta"], p["batch_count"], p["enabled"]) == (
        3600, None, False)
    # A preference for a new context is created.
    fmnctl("pref", "set", "alice", "irc", "--enable", db=db, check=0)
    assert len(fmnctl_json("pref", "list", "alice", db=db)) == 2


def test_filter_add_list_move_enable_rm():
    db = setup_alice()
    fmnctl("filter", "add", "alice", "email", "second", "package:kernel",
           "!topic:*.buildsys.*", db=db, check=0)
    fmnctl("filter", "add", "alice", "email", "third", "category:bodhi",
           "--inactive", db=db, check=0)
    names = [f["name"] for f in fmnctl_json("filter", "list", "alice",
                                            "email", db=db)]
    assert names == ["mine", "second", "third"]
    fmnctl("filter", "move", "alice", "email", "third", "1", db=db, check=0)
    fl = fmnctl_json("filter", "list", "alice", db=db)
    assert [(f["name"], f["position"]) for f in fl] == [
        ("third", 1), ("mine", 2), ("second", 3)]
    assert fl[0]["active"] is False
    fmnctl("filter", "enable", "alice", "email", "third", db=db, check=0)
    assert fmnctl_json("filter", "show", "alice", "email", "third",
                       db=db)["active"] is True
    fmnctl("filter", "disable", "alice", "email", "mine", db=db, check=0)
    assert fmnctl_json("filter", "show", "alice", "email", "mine",
                       db=db)["active"] is False
    assert fmnctl_json("filter", "show", "alice", "email", "second",
                       db=db)["rules"] == ["package:kernel",
                                           "!topic:*.buildsys.*"]
    fmnctl("filter", "rm", "alice", "email", "mine", db=db, check=0)
    assert [f["name"] for f in fmnctl_json("filter", "list", "alice",
                                           db=db)] == ["third", "second"]


def test_every_rule_kind_is_accepted():
    db = setup_alice()
    rules = ["topic:org.fedoraproject.*.bodhi.update.comment",
             "topic-re:\\.buildsys\\.build\\.state\\.change$",
             "category:bodhi,buildsys", "user:ralph", "agent:kevin",
             "package:kernel", "package-re:^python-", "owned:alice",
             "group:kernel-maint", "field:/msg/new=1",
             "field:/msg/update/title~^kernel", "body-re:FTBFS",
             "!user:alice"]
    fmnctl("filter", "add", "alice", "irc", "all kinds", *rules, db=db,
           check=0)
    got = fmnctl_json("filter", "show", "alice", "irc", "all kinds",
                      db=db)["rules"]
    assert got == rules, got


def test_rules_prints_every_kind_from_the_table():
    p = fmnctl("rules", db=fmntest.tmpdb(), check=0)
    kinds = fmnctl_json("rules", db=fmntest.tmpdb())
    names = [k["kind"] for k in kinds]
    for k in ("topic", "topic-re", "category", "user", "agent", "package",
              "package-re", "owned", "group", "field", "body-re"):
        assert k in names, k
        assert k + ":" in p.stdout
    assert all(k["doc"] for k in kinds)


def test_help_and_usage():
    p = fmnctl("--help", check=0)
    for cmd in ("user add", "dest confirm", "filter move", "rules",
                "pref set"):
        assert cmd in p.stdout, cmd
    p = fmnctl("filter", "add", "--help", check=0)
    assert "USER CONTEXT NAME RULE" in p.stdout
    assert "fmnctl rules" in p.stdout
    p = fmnctl("user", "--help", check=0)
    assert "fmnctl user add" in p.stdout
    # Unique prefixes resolve.
    db = fmntest.tmpdb()
    fmnctl("us", "ad", "zed", db=db, check=0)
    assert fmnctl_json("user", "li", db=db)[0]["name"] == "zed"


def test_usage_errors_exit_2():
    db = setup_alice()
    refused(db, [], 2, "usage")
    refused(db, ["frobnicate"], 2, "unknown command")
    refused(db, ["user", "frob"], 2, "unknown command")
    refused(db, ["user", "add"], 2, "expected one USER")
    refused(db, ["user", "add", "x", "y"], 2, "expected one USER")
    refused(db, ["user", "add", "x", "--bogus"], 2, "unknown option --bogus")
    refused(db, ["dest", "add", "alice", "email"], 2, "expected")
    refused(db, ["filter", "add", "alice", "email", "nameonly"], 2,
            "at least one RULE")
    refused(db, ["pref", "set", "alice", "email", "--batch-delta", "soon"],
            2, "--batch-delta", "soon")
    refused(db, ["pref", "set", "alice", "email", "--verbose", "maybe"], 2,
            "--verbose")
    refused(db, ["pref", "set", "alice", "email", "--enable", "--disable"],
            2, "--enable and --disable")
    refused(db, ["filter", "move", "alice", "email", "mine", "first"], 2,
            "POSITION")
    refused(db, ["--db"], 2, "needs a value")


def test_bad_data_refused_and_nothing_changes():
    db = setup_alice()
    cases = [
        (["dest", "add", "nobody", "email", "n@example.org"], "no user named"),
        (["filter", "add", "nobody", "email", "f", "user:x"], "no user named"),
        (["dest", "add", "alice", "sms", "12345"], "unknown context"),
        (["filter", "add", "alice", "fax", "f", "user:x"], "unknown context"),
        (["pref", "set", "alice", "pager", "--enable"], "unknown context"),
        (["user", "add", "alice"], "already exists"),
        (["dest", "add", "alice", "email", "alice@example.org"],
         "already has"),
        (["filter", "add", "alice", "email", "mine", "user:bob"],
         "already has"),
        (["dest", "add", "alice", "email", "not-an-address"],
         "not an e-mail address"),
        (["dest", "add", "alice", "email", "a b@example.org"],
         "not an e-mail address"),
        (["dest", "add", "alice", "email", "alice@exa\r\nmple.org"],
         "not an e-mail address"),
        (["dest", "add", "alice", "irc", "bad nick"], "not an IRC nick"),
        (["dest", "add", "alice", "irc", "bad\x01nick"], "not an IRC nick"),
        (["dest", "add", "alice", "irc", "nick\r\nQUIT"], "not an IRC nick"),
        (["pref", "set", "alice", "email", "--batch-delta", "-5"],
         "must not be negative"),
        (["pref", "set", "alice", "email", "--batch-count", "-1"],
         "must not be negative"),
        (["filter", "add", "alice", "email", "f", "topic-re:(unclosed"],
         "topic-re:(unclosed"),
        (["filter", "add", "alice", "email", "f", "body-re:a{2,1}"],
         "body-re:a{2,1}"),
        (["filter", "add", "alice", "email", "f", "field:msg/new=1"],
         "field:msg/new=1"),
        (["filter", "add", "alice", "email", "f", "field:/msg/new"],
         "field:/msg/new"),
        (["filter", "add", "alice", "email", "f", "user:ok", "nosuch:x"],
         "nosuch:x"),
        (["filter", "add", "alice", "email", "f", "user:"], "user:"),
        (["filter", "add", "alice", "email", "", "user:x"], "empty"),
        (["user", "add", "bad name"], "space"),
        (["user", "add", "bad\x07name"], "control"),
        (["user", "add", ""], "empty"),
        (["filter", "rm", "alice", "email", "nosuch"], "no email filter"),
        (["filter", "move", "alice", "email", "mine", "5"], "past the last"),
        (["filter", "move", "alice", "email", "mine", "0"], "starts at 1"),
        (["user", "rm", "nobody"], "no user named"),
        (["user", "show", "nobody"], "no user named"),
    ]
    for args, why in cases:
        refused(db, args, 1, why)


# Addresses the mail side could never deliver to: refused when they are
# added, not failed on forever after.
UNDELIVERABLE = [
    '"quoted"@example.org',
    '"a b"@example.org',
    "alice(comment)@example.org",
    "alice@example.org (Alice)",
    "j\u00f6rg@example.org",
    ".alice@example.org",
    "al..ice@example.org",
    "alice@-example.org",
    "alice@example.org.",
    "a\\b@example.org",
    "alice@[192.0.2.1]",
    "a" * 65 + "@example.org",
    "alice@" + "b" * 250 + ".org",
]


def test_arguments_that_are_not_utf8_refused_whole():
    """A byte that is not UTF-8 in any argument refuses the command with
    the argument's place: no rule of a filter is dropped on the way to
    JSON text, nothing changes."""
    db = setup_alice()
    bad = "b\udcffob"      # the byte 0xff, as os.fsencode passes it
    for args, at in [(["filter", "add", "alice", "email", "x", "user:alice",
                       "!user:" + bad], 5),
                     (["user", "add", bad], 1),
                     (["dest", "add", "alice", "irc", bad], 3),
                     (["filter", "add", "alice", "email", bad,
                       "user:alice"], 3)]:
        refused(db, args, 2, "argument %d is not valid UTF-8" % at)
    assert "x" not in fmnctl("filter", "list", "alice", db=db,
                             check=0).stdout.split()


def test_dest_add_refuses_addresses_mail_cannot_deliver():
    db = setup_alice()
    for address in UNDELIVERABLE:
        refused(db, ["dest", "add", "alice", "email", address], 1,
                "not an e-mail address")
    p = fmnctl("dest", "add", "alice", "email", '"quoted"@example.org',
               db=db)
    assert "quote" in p.stderr, p.stderr
    fmnctl("dest", "add", "alice", "email", "o'brien+fmn@example.org",
           db=db, check=0)


def test_bad_rule_message_names_token_and_reason():
    db = setup_alice()
    p = fmnctl("filter", "add", "alice", "email", "f", "user:ok",
               "topic-re:([a-z]+", db=db)
    assert p.returncode == 1
    assert "topic-re:([a-z]+" in p.stderr
    # PCRE2 says what is wrong.
    assert "missing" in p.stderr or "parenthes" in p.stderr, p.stderr


def test_pointer_escapes_other_than_0_and_1_refused():
    """RFC 6901 knows ~0 and ~1; fmnctl refuses any other '~' in a
    pointer instead of storing a rule that means something else."""
    db = setup_alice()
    for rule, esc in [("field:/a~2b=x", "~2"), ("field:/msg/x~9", "~9"),
                      ("!field:/msg/a~=x", "~"), ("field:/msg/a~", "~")]:
        refused(db, ["filter", "add", "alice", "email", "f", rule], 1,
                rule, esc, "only ~0")
    fmnctl("filter", "add", "alice", "email", "ok", "field:/a~1b~0c=x",
           "field:/msg/n~[2]", db=db, check=0)
    d = fmntest.tmpdir()
    doc = write_json(d, "doc.json", {"users": [
        {"name": "bob", "preferences": [{"context": "email", "filters": [
            {"name": "f", "rules": ["field:/a~2b=x"]}]}]}]})
    refused(db, ["import", doc], 1, "doc.json", "bob", "~2")
    defs = os.path.join(d, "defs.json")
    with open(defs, "w") as f:
        json.dump({"defs": [{"topic": "*.x",
                             "usernames": ["/msg/a~2b"]}]}, f)
    p = fmnctl("meta", "--defs", defs, "-", db=db, input="")
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "defs.json" in p.stderr and "~2" in p.stderr, p.stderr


def test_unreadable_database_is_a_data_error():
    d = fmntest.tmpdir()
    bad = os.path.join(d, "notadb")
    with open(bad, "w") as f:
        f.write("this is not a database" * 100)
    p = fmnctl("user", "list", db=bad)
    assert p.returncode == 1 and "fmnctl:" in p.stderr, p.stderr
    p = fmnctl("user", "add", "x", db=os.path.join(d, "no", "such",
                                                   "dir.db"))
    assert p.returncode == 1 and "cannot open" in p.stderr, p.stderr


# Every command that needs data a new database cannot hold: those that
# read, and those that change what must already be there.
NEEDS_DATA = [
    ["user", "list"], ["user", "show", "alice"], ["alias", "list"],
    ["dest", "list"], ["pref", "list"], ["filter", "list", "alice"],
    ["filter", "show", "alice", "email", "mine"], ["meta", "-"],
    ["match", "-"], ["owners", "list"], ["groups", "list"], ["export"],
    ["status"], ["queue"],
    ["user", "rm", "alice"], ["alias", "rm", "a@example.org"],
    ["dest", "add", "alice", "email", "alice@example.org"],
    ["dest", "confirm", "0123456789abcdef"],
    ["dest", "rm", "alice", "email", "alice@example.org"],
    ["dest", "reset", "alice", "email", "alice@example.org"],
    ["pref", "set", "alice", "email", "--disable"],
    ["filter", "add", "alice", "email", "mine", "category:bodhi"],
    ["filter", "rm", "alice", "email", "mine"],
    ["filter", "enable", "alice", "email", "mine"],
    ["filter", "disable", "alice", "email", "mine"],
    ["filter", "move", "alice", "email", "mine", "1"],
    ["filter", "defaults", "alice", "email"],
]


def test_commands_that_need_data_refuse_a_missing_database():
    d = fmntest.tmpdir()
    db = os.path.join(d, "typo.db")
    for args in NEEDS_DATA:
        p = fmnctl(*args, db=db, input="")
        assert p.returncode == 1, (args, p.returncode, p.stdout, p.stderr)
        assert p.stderr == ("fmnctl: no database at %s; create it with "
                            "fmnctl init\n" % db), (args, p.stderr)
        assert p.stdout == "", (args, p.stdout)
        assert os.listdir(d) == [], (args, os.listdir(d))
    # The path as given, relative too; from $FMN_DB and the config file.
    p = fmnctl("--db", "typo.db", "status", cwd=d)
    assert p.returncode == 1 and p.stderr == (
        "fmnctl: no database at typo.db; create it with fmnctl init\n"), p
    env_db = os.path.join(d, "env.db")
    p = fmnctl("user", "list", env={"FMN_DB": env_db})
    assert p.returncode == 1 and "no database at %s;" % env_db in p.stderr
    conf = os.path.join(fmntest.tmpdir(), "fmn.conf")
    with open(conf, "w") as f:
        f.write("[store]\ndb = %s\n" % os.path.join(d, "conf.db"))
    p = fmnctl("export", env={"FMN_CONFIG": conf})
    assert p.returncode == 1 and "conf.db; create it with fmnctl init" in \
        p.stderr, p.stderr
    # rules needs no database at all.
    fmnctl("rules", db=db, check=0)
    assert os.listdir(d) == []
    # Once created, the same commands read it.
    fmnctl("init", db=db, check=0)
    assert fmnctl_json("user", "list", db=db) == []
    fmnctl("status", db=db, check=0)


def write_json(d, name, doc):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def test_commands_that_write_create_the_database():
    d = fmntest.tmpdir()
    doc = write_json(d, "doc.json", {"users": [{"name": "erin"}]})
    owners = write_json(d, "owners.json", {"rpms": {"bash": ["erin"]}})
    groups = write_json(d, "groups.json", {"qa": ["erin"]})
    for i, args in enumerate([["init"], ["user", "add", "alice"],
                              ["alias", "add", "a@example.org", "alice"],
                              ["import", doc], ["owners", "import", owners],
                              ["groups", "import", groups]]):
        db = os.path.join(d, "new%d.db" % i)
        fmnctl(*args, db=db, check=0)
        assert os.path.exists(db), args
        fmnctl("export", db=db, check=0)


def test_usage_errors_are_short():
    db = setup_alice()
    cases = [["--frob"], ["-x"], ["--db"], ["-c"], ["--db=", "user", "list"],
             ["frobnicate"], ["user"], ["us"], ["user", "-x"],
             ["filter", "--json"], ["user", "frob"], ["init", "extra"],
             ["user", "add", "x", "--bogus"], ["meta", "--defs"],
             ["pref", "set", "alice", "email", "--batch-delta"],
             ["filter", "move", "alice", "email", "mine"]]
    for args in cases:
        before = dump(db)
        p = fmnctl(*args, db=db)
        err = p.stderr.splitlines()
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert 1 <= len(err) <= 2, (args, p.stderr)
        assert err[0].startswith("fmnctl"), (args, p.stderr)
        if len(err) == 2:
            assert err[1].startswith("usage: fmnctl") or \
                "see fmnctl" in err[1], (args, p.stderr)
        # Never the whole help, nor a listing of subcommands.
        assert "Commands:" not in p.stderr and \
            "remove a user" not in p.stderr, (args, p.stderr)
        assert p.stdout == "", (args, p.stdout)
        assert dump(db) == before, args
    # The group listing is what --help is for.
    p = fmnctl("user", "--help", check=0)
    assert "fmnctl user add USER" in p.stdout and p.stderr == ""


def test_help_tells_config_default_and_missing_database_rule():
    with open(os.path.join(fmntest.BUILD, "generated",
                           "fmn_version.h")) as f:
        default = [l.split('"')[1] for l in f
                   if "FMN_DEFAULT_CONFIG" in l and "#define" in l][0]
    text = " ".join(fmnctl("--help", check=0).stdout.split())
    assert "-c FILE config file (default: $FMN_CONFIG, where set but " \
        "empty means none; else %s if it exists)" % default in text, text
    assert "$FMN_CONFIG, if set)" not in text
    assert "every other command refuses it" in text, text
    assert "fmnctl init" in text, text


if __name__ == "__main__":
    fmntest.main(globals())
