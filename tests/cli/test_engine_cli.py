"""fmnctl commands of the filter engine against a temporary database:
meta, match (--explain), owners and groups, filter defaults, export and
import. Messages are real bus envelopes from the corpus; the facts a
filter is built on are first asked of fmnctl meta, so the filters test
matching, not a copy of the definitions."""

import json
import os
import sqlite3

import fmntest
from fmntest import fmnctl, fmnctl_json, dump


def refused(db, args, code, *words, input=None):
    """fmnctl ARGS exits with code, says each word on stderr, changes
    nothing in db."""
    before = dump(db)
    p = fmnctl(*args, db=db, input=input)
    assert p.returncode == code, (args, p.returncode, p.stdout, p.stderr)
    for w in words:
        assert w in p.stderr, (args, w, p.stderr)
    assert p.stderr.count("\n") <= 2, p.stderr
    assert dump(db) == before, args


def sample(cls):
    """The corpus entry (envelope and expectations) of a test class."""
    with open(os.path.join(fmntest.DATA, "fmfi-dev.json")) as f:
        for v in json.load(f):
            if v["class"] == cls:
                return v
    raise AssertionError("no corpus entry " + cls)


def lines(*envs):
    return "".join((e if isinstance(e, str) else json.dumps(e)) + "\n"
                   for e in envs)


def write(path_dir, name, content):
    path = os.path.join(path_dir, name)
    with open(path, "w") as f:
        f.write(content if isinstance(content, str) else json.dumps(content))
    return path


def meta(db, *envs, check=0):
    p = fmnctl("meta", "-", db=db, input=lines(*envs), check=check)
    return [json.loads(l) for l in p.stdout.splitlines()]


def match(db, *envs, explain=False):
    args = ["match"] + (["--explain"] if explain else []) + ["-"]
    p = fmnctl(*args, db=db, input=lines(*envs), check=0)
    return [json.loads(l) for l in p.stdout.splitlines()]


def rcpts(out):
    """Recipients of one match line as a sorted list of tuples."""
    return sorted((r["user"], r["context"], r["destination"], r["filter"])
                  for r in out["recipients"])


def user_with_email(db, name, *more):
    fmnctl("user", "add", name, db=db, check=0)
    fmnctl("dest", "add", name, "email", name + "@example.org",
           "--confirmed", db=db, check=0)
    for addr in more:
        fmnctl("dest", "add", name, "email", addr, "--confirmed", db=db,
               check=0)


KOJI_DONE = "TestKojiBuildStateChangeComplete"
KOJI_START = "TestKojiBuildStateChangeStart"
KOJI_S390 = "TestKojiBuildStateChangeFail"
SCM = "TestSCM"
BZ = "TestLegacy030BugzillaUpdate"


def koji_facts(db):
    env = sample(KOJI_DONE)["msg"]
    f = meta(db, env)[0]
    assert "error" not in f, f
    assert f["usernames"] and f["packages"], f
    return env, f


# meta


def test_meta_facts_of_corpus_messages():
    db = fmntest.initdb()
    classes = [KOJI_DONE, KOJI_START, SCM, "TestLegacy2015BodhiComment"]
    entries = [sample(c) for c in classes]
    p = fmnctl("meta", write(fmntest.tmpdir(), "in.jsonl",
                             lines(*[e["msg"] for e in entries])),
               db=db, check=0)
    out = [json.loads(l) for l in p.stdout.splitlines()]
    assert len(out) == len(entries), p.stdout
    for e, o in zip(entries, out):
        env = e["msg"]
        assert set(o) >= {"msg_id", "topic", "category", "usernames",
                          "packages", "agent", "link", "subtitle"}, o
        assert o["msg_id"] == env.get("msg_id"), o
        assert o["topic"] == env["topic"]
        assert o["category"] == env["topic"].split(".")[3]
        # What fedmsg_meta said of the same message.
        assert o["usernames"] == sorted(e["expected_usernames"]), (e, o)
        assert o["packages"] == sorted(e["expected_packages"]), (e, o)
        assert o["link"] == e["expected_link"], (e, o)
        assert o["subtitle"] == e["expected_subti"], (e, o)
    assert out[0]["agent"] == sample(KOJI_DONE)["msg"]["msg"]["owner"]
    # Sets come out sorted whatever the message's order.
    env = {"topic": "org.fedoraproject.prod.bodhi.update.comment",
           "msg": {"comment": {"author": "zed", "karma": 0,
                               "text": "/cc @amy @mike",
                               "update_title": "zlib-1.0-1 aalib-1.0-1"}}}
    o = meta(db, env)[0]
    assert o["usernames"] == sorted(o["usernames"]) and len(
        o["usernames"]) == 3, o
    assert o["packages"] == ["aalib", "zlib"], o


def test_meta_bad_lines_give_error_and_rest_go_on():
    db = fmntest.initdb()
    good = sample(KOJI_DONE)["msg"]
    bad = ["not json at all",
           "[1, 2, 3]",
           '"a string"',
           json.dumps({"msg": {"owner": "kevin"}, "timestamp": 1}),
           json.dumps({"topic": 42, "msg": {}}),
           json.dumps({"topic": "", "msg": {}}),
           '{"topic": "org.fedoraproject.prod.x.y", "msg": {',
           ]
    out = meta(db, good, *bad, good, check=1)
    assert len(out) == len(bad) + 2, out
    for o in (out[0], out[-1]):
        assert "error" not in o and o["msg_id"] == good["msg_id"], o
    for i, o in enumerate(out[1:-1]):
        assert o.get("error"), (i, o)
        assert o["line"] == i + 2, o
        assert "usernames" not in o, o
    assert "topic" in out[4]["error"], out[4]
    assert "topic" in out[5]["error"], out[5]


def test_meta_aliases_turn_addresses_into_accounts():
    db = fmntest.initdb()
    e = sample(BZ)
    before = meta(db, e["msg"])[0]
    assert "ralph" not in before["usernames"], before
    assert not any("@" in u for u in before["usernames"]), before
    fmnctl("alias", "add", "rbean@redhat.com", "ralph", db=db, check=0)
    fmnctl("alias", "add", "puiterwijk@gmail.com", "puiterwijk", db=db,
           check=0)
    after = meta(db, e["msg"])[0]
    assert after["usernames"] == sorted(e["expected_usernames"]), after
    assert after["subtitle"].startswith("ralph updated"), after
    # A nick alias applies to names that are not addresses too.
    fmnctl("alias", "add", "kevin", "kfenzi", db=db, check=0)
    o = meta(db, sample(KOJI_DONE)["msg"])[0]
    assert o["usernames"] == ["kfenzi"], o
    fmnctl("alias", "rm", "rbean@redhat.com", db=db, check=0)
    assert "ralph" not in meta(db, e["msg"])[0]["usernames"]


# match


def test_match_first_filter_fires_one_per_confirmed_destination():
    db = fmntest.initdb()
    env, f = koji_facts(db)
    user, pkg = f["usernames"][0], f["packages"][0]
    user_with_email(db, "alice")
    fmnctl("filter", "add", "alice", "email", "nothing", "user:nobody-here",
           db=db, check=0)
    fmnctl("filter", "add", "alice", "email", "my package", "package:" + pkg,
           db=db, check=0)
    fmnctl("filter", "add", "alice", "email", "my friend", "user:" + user,
           db=db, check=0)
    # Two confirmed addresses and a pending one; a pending IRC nick.
    user_with_email(db, "bob", "bob@work.example.org")
    fmnctl("dest", "add", "bob", "email", "bob@pending.example.org", db=db,
           check=0)
    pending = fmnctl_json("dest", "add", "bob", "irc", "bob_", db=db)
    fmnctl("filter", "add", "bob", "email", "builds",
           "category:" + f["category"], db=db, check=0)
    fmnctl("filter", "add", "bob", "irc", "builds",
           "category:" + f["category"], db=db, check=0)
    # Someone whose filters are about something else.
    user_with_email(db, "carol")
    fmnctl("filter", "add", "carol", "email", "other", "package:" + pkg + "x",
           db=db, check=0)
    fmnctl("filter", "add", "carol", "email", "other topic",
           "topic:*.bodhi.*", db=db, check=0)
    out = match(db, env)
    assert len(out) == 1 and out[0]["msg_id"] == env["msg_id"], out
    assert rcpts(out[0]) == [
        ("alice", "email", "alice@example.org", "my package"),
        ("bob", "email", "bob@example.org", "builds"),
        ("bob", "email", "bob@work.example.org", "builds"),
    ], out
    # Once the IRC nick is confirmed, it gets its own notification.
    fmnctl("dest", "confirm", pending["secret"], db=db, check=0)
    assert ("bob", "irc", "bob_", "builds") in rcpts(match(db, env)[0])
    # A message about neither gets nobody.
    other = sample(SCM)["msg"]
    assert match(db, other)[0]["recipients"] == []


def test_match_disabled_preference_and_inactive_filter():
    db = fmntest.initdb()
    env, f = koji_facts(db)
    user_with_email(db, "alice")
    fmnctl("filter", "add", "alice", "email", "first", "user:" +
           f["usernames"][0], "--inactive", db=db, check=0)
    fmnctl("filter", "add", "alice", "email", "second", "package:" +
           f["packages"][0], db=db, check=0)
    assert [r[3] for r in rcpts(match(db, env)[0])] == ["second"]
    fmnctl("filter", "disable", "alice", "email", "second", db=db, check=0)
    assert match(db, env)[0]["recipients"] == []
    fmnctl("filter", "enable", "alice", "email", "first", db=db, check=0)
    assert [r[3] for r in rcpts(match(db, env)[0])] == ["first"]
    fmnctl("pref", "set", "alice", "email", "--disable", db=db, check=0)
    out = match(db, env, explain=True)[0]
    assert out["recipients"] == [], out
    fmnctl("pref", "set", "alice", "email", "--enable", db=db, check=0)
    assert [r[3] for r in rcpts(match(db, env)[0])] == ["first"]


def test_match_negation():
    db = fmntest.initdb()
    env, f = koji_facts(db)
    user, pkg = f["usernames"][0], f["packages"][0]
    assert env["msg"]["new"] == 1
    user_with_email(db, "alice")
    cases = [
        (["package:" + pkg, "!user:" + user], False),
        (["package:" + pkg, "!user:someone-else"], True),
        (["!package:" + pkg], False),
        (["!package:not-" + pkg], True),
        (["package:" + pkg, "field:/msg/new=1"], True),
        (["package:" + pkg, "!field:/msg/new=1"], False),
        # Data the message lacks: false, and its negation true.
        (["package:" + pkg, "field:/msg/no/such=1"], False),
        (["package:" + pkg, "!field:/msg/no/such=1"], True),
        (["!topic:" + env["topic"]], False),
        (["!topic:*.bodhi.*", "!category:bodhi"], True),
    ]
    for rules, fires in cases:
        fmnctl("filter", "add", "alice", "email", "f", *rules, db=db,
               check=0)
        got = match(db, env)[0]["recipients"]
        assert bool(got) == fires, (rules, got)
        fmnctl("filter", "rm", "alice", "email", "f", db=db, check=0)
    # A message with no agent: agent:x is false, !agent:x true.
    no_agent = {"topic": "com.example.prod.widget.made", "msg": {}}
    assert meta(db, no_agent)[0]["agent"] is None
    fmnctl("filter", "add", "alice", "email", "a", "agent:x", db=db, check=0)
    fmnctl("filter", "add", "alice", "email", "b", "!agent:x", db=db, check=0)
    assert [r[3] for r in rcpts(match(db, no_agent)[0])] == ["b"]


def test_match_explain_names_fired_filter_or_failing_rule():
    db = fmntest.initdb()
    env, f = koji_facts(db)
    user, pkg = f["usernames"][0], f["packages"][0]
    user_with_email(db, "alice")
    fmnctl("filter", "add", "alice", "email", "nobody", "user:nobody-here",
           db=db, check=0)
    fmnctl("filter", "add", "alice", "email", "not by them",
           "package:" + pkg, "!user:" + user, db=db, check=0)
    fmnctl("filter", "add", "alice", "email", "builds",
           "category:" + f["category"], "package:" + pkg, db=db, check=0)
    fmnctl("filter", "add", "alice", "email", "after", "package:" + pkg,
           db=db, check=0)
    user_with_email(db, "bob")
    fmnctl("filter", "add", "bob", "email", "started",
           "package:" + pkg, "field:/msg/new=0", db=db, check=0)
    out = match(db, env, explain=True)[0]
    assert [r[3] for r in rcpts(out)] == ["builds"], out
    ex = {(e["user"], e["context"]): e for e in out["explain"]}
    a = ex[("alice", "email")]
    assert a["fired"] == "builds", a
    fl = {x["name"]: x for x in a["filters"]}
    assert fl["nobody"]["result"] == "no match"
    assert fl["nobody"]["rule"] == "user:nobody-here"
    assert fl["not by them"]["result"] == "no match"
    assert fl["not by them"]["rule"] == "!user:" + user
    assert fl["builds"]["result"] == "match"
    # Filters are listed in order; the first that matches is the one fired.
    names = [x["name"] for x in a["filters"]]
    assert names[:3] == ["nobody", "not by them", "builds"], a
    assert [x["name"] for x in a["filters"]
            if x["result"] == "match"][0] == a["fired"], a
    b = ex[("bob", "email")]
    assert b["fired"] is None, b
    assert [(x["name"], x["rule"]) for x in b["filters"]] == [
        ("started", "field:/msg/new=0")], b
    # Without --explain, no explanation.
    assert "explain" not in match(db, env)[0]


def test_match_lines_escape_text_as_json_does():
    """The lines of fmnctl match are written by hand, not by jansson:
    quotes, backslashes, control characters and UTF-8, in runs shorter
    and longer than a word, come out as the --explain path (jansson)
    writes them and parse back to the same strings."""
    db = fmntest.initdb()
    names = ['q"', 'quo"te\\back \u00e9 tab there and more',
             "plain name of more than eight bytes", "\u00e9" * 5,
             'the "quoted" words and the \\ of a name']
    for i, name in enumerate(names):
        user_with_email(db, "u%d" % i)
        fmnctl("filter", "add", "u%d" % i, "email", name, "topic:*", db=db,
               check=0)
    envs = []
    for i, mid in enumerate(["id\u0001\"q\\\\\u00e9\u2028 and a long tail",
                             "\u001f\u0008\u000c\n\r\t\"\\",
                             "short", "x" * 40 + "\u007f",
                             "abcdefg\u0001hijklmno"]):
        envs.append({"topic": "org.fedoraproject.prod.x.y", "msg": {},
                     "msg_id": mid, "timestamp": 1, "i": i})
    # Split on newlines only: U+2028 is written as it is.
    plain = fmnctl("match", "-", db=db, input=lines(*envs),
                   check=0).stdout.split("\n")[:-1]
    explained = fmnctl("match", "--explain", "-", db=db,
                       input=lines(*envs), check=0).stdout.split("\n")[:-1]
    assert len(plain) == len(envs) == len(explained), (plain, explained)
    want = sorted(("u%d" % i, "email", "u%d@example.org" % i, name)
                  for i, name in enumerate(names))
    for env, p, e in zip(envs, plain, explained):
        assert p.startswith('{"msg_id":') and e.endswith(p[1:]), (p, e)
        out = json.loads(p)
        assert out["msg_id"] == env["msg_id"], (out, env)
        assert rcpts(out) == want, out


def test_match_explain_says_which_index_found_each_filter():
    """--explain names the index through which the message found each
    filter (its kind and key), or null when it did not find it: the
    filter could not have matched, and was only evaluated to explain."""
    db = fmntest.initdb()
    env, f = koji_facts(db)
    user, pkg = f["usernames"][0], f["packages"][0]
    user_with_email(db, "alice")
    filters = [
        ("by package", ["package:" + pkg, "!user:nobody"],
         {"kind": "package", "key": pkg}),
        ("state changes", ["topic:*.build.state.change"],
         {"kind": "topic-suffix", "key": "build.state.change"}),
        ("koji", ["topic-re:\\.buildsys\\."],
         {"kind": "topic-text", "key": ".buildsys."}),
        ("owner", ["field:/msg/owner=" + env["msg"]["owner"]],
         {"kind": "field", "key": "/msg/owner=" + env["msg"]["owner"]}),
        ("ansible body", ["body-re:\"name\":\"ansible\""],
         {"kind": "body-text", "key": "\"name\":\"ansible\""}),
        ("not me", ["!user:nobody"], {"kind": "always"}),
        ("bodhi", ["topic:*.bodhi.*"], None),
    ]
    for name, rules, _ in filters:
        fmnctl("filter", "add", "alice", "email", name, *rules, db=db,
               check=0)
    out = match(db, env, explain=True)[0]
    ex = out["explain"][0]["filters"]
    assert [x["name"] for x in ex] == [x[0] for x in filters], ex
    for x, (name, rules, index) in zip(ex, filters):
        assert x["index"] == index, (name, x)
    assert ex[-1]["result"] == "no match", ex
    # Without --explain, the same recipients, and no explanation.
    plain = match(db, env)[0]
    assert plain["recipients"] == out["recipients"], (plain, out)


def test_import_streams_users_and_tells_a_daemon_once_per_user():
    """import reads its document as it streams, whatever the order of
    its members; a running daemon hears of each user replaced or
    created once (not of each of their rules), and other commands still
    tell it of their changes afterwards."""
    db = fmntest.tmpdb()
    fmnctl("init", db=db, check=0)
    d = fmntest.tmpdir()
    doc = good_doc()
    # Owners, groups and aliases before the users, all on one line.
    text = json.dumps({"aliases": doc["aliases"], "owners": doc["owners"],
                       "groups": doc["groups"], "users": doc["users"]})
    fmnctl("import", write(d, "first.json", text), db=db, check=0)
    con = sqlite3.connect(db)

    def changes():
        return con.execute("SELECT what, count(*) FROM changes "
                           "GROUP BY what ORDER BY what").fetchall()

    rules = con.execute("SELECT count(*) FROM rules").fetchone()[0]
    assert rules > len(doc["users"]), rules
    assert changes() == [("aliases", 1), ("groups", 1), ("owners", 1),
                         ("user", 2)], changes()
    # Replaced: the configuration goes, the record (its id, its tokens)
    # stays; each user is told of once more.
    ids = con.execute("SELECT name, id FROM users ORDER BY name").fetchall()
    fmnctl("import", write(d, "again.json", doc), db=db, check=0)
    assert con.execute("SELECT count(*) FROM rules").fetchone()[0] == rules
    assert con.execute("SELECT name, id FROM users "
                       "ORDER BY name").fetchall() == ids
    assert dict(changes())["user"] == 4, changes()
    assert fmnctl_json("export", db=db)["users"] == fmnctl_json(
        "export", db=db)["users"]
    # The triggers are on again for everything else.
    fmnctl("filter", "add", "erin", "email", "more", "user:x", db=db,
           check=0)
    assert dict(changes())["rule"] == 1, changes()
    con.close()
    # Whatever follows the document, or a comma with nothing after it,
    # is refused, and nothing of it stays.
    good = json.dumps(doc)
    for name, bad in [("garbage", good + " x"), ("comma", good[:-1] + ",}"),
                      ("usercomma", good.replace("]}]}]}", "]}]},]}", 1)),
                      ("twodocs", good + good)]:
        refused(db, ["import", write(d, name + ".json", bad)], 1,
                name + ".json")


def test_match_bad_lines_give_error_and_rest_go_on():
    db = fmntest.initdb()
    env, f = koji_facts(db)
    user_with_email(db, "alice")
    fmnctl("filter", "add", "alice", "email", "p", "package:" +
           f["packages"][0], db=db, check=0)
    inp = lines(env, "{oops", json.dumps({"msg": {}}), "[]",
                json.dumps({"topic": "a.b.c.d", "msg": {},
                            "timestamp": "yesterday"}), env)
    path = write(fmntest.tmpdir(), "in.jsonl", inp)
    for src, stdin in ((path, None), ("-", inp)):
        p = fmnctl("match", "--explain", src, db=db, input=stdin, check=1)
        out = [json.loads(l) for l in p.stdout.splitlines()]
        assert len(out) == 6, p.stdout
        for o in (out[0], out[5]):
            assert o["msg_id"] == env["msg_id"] and len(o["recipients"]) == 1
        for i in range(1, 5):
            assert out[i].get("error") and out[i]["line"] == i + 1, out[i]
            assert "recipients" not in out[i]
        assert "topic" in out[2]["error"] and "timestamp" in out[4]["error"]


def test_match_bad_lines_reported_on_stderr():
    db = fmntest.initdb()
    env, f = koji_facts(db)
    user_with_email(db, "alice")
    fmnctl("filter", "add", "alice", "email", "p", "package:" +
           f["packages"][0], db=db, check=0)
    inp = lines(env, "{oops", "", json.dumps({"msg": {}}), env)
    path = write(fmntest.tmpdir(), "in.jsonl", inp)
    for src, name, stdin in ((path, path, None), ("-", "<stdin>", inp)):
        p = fmnctl("match", src, db=db, input=stdin, check=1)
        out = [json.loads(l) for l in p.stdout.splitlines()]
        assert [o.get("line") for o in out] == [None, 2, 4, None], out
        assert len(out[0]["recipients"]) == 1 and out[0] == out[3], out
        assert out[1]["error"] == ("invalid JSON at line 2 column 2: "
                                   "string or '}' expected near 'oops'")
        assert p.stderr.splitlines() == [
            "fmnctl: %s:2:2: invalid JSON: string or '}' expected near "
            "'oops'" % name,
            "fmnctl: %s:4: not an envelope: envelope has no topic (a "
            "non-empty string)" % name,
            "fmnctl: 2 of 4 lines were not valid envelopes"], p.stderr
    # An array of envelopes: how to make lines of it, for this command.
    arr = write(fmntest.tmpdir(), "arr.json", json.dumps([env], indent=1))
    p = fmnctl("match", "--explain", arr, db=db, check=1)
    assert ("fmnctl: the input looks like one JSON document, not one "
            "envelope per line; try: jq -c '.[]' %s | fmnctl match -" % arr
            ) in p.stderr.splitlines(), p.stderr
    p = fmnctl("match", "-", db=db, input=lines(env), check=0)
    assert p.stderr == ""


def test_match_whole_corpus_one_line_per_message():
    db = fmntest.tmpdb()
    envs = fmntest.corpus()
    user_with_email(db, "alice")
    fmnctl("filter", "add", "alice", "email", "buildsys",
           "category:buildsys", db=db, check=0)
    fmnctl("filter", "add", "alice", "email", "the rest", "topic:*", db=db,
           check=0)
    facts = meta(db, *envs)
    out = match(db, *envs)
    assert len(out) == len(envs) == len(facts)
    for env, f, o in zip(envs, facts, out):
        assert o["msg_id"] == env.get("msg_id"), (env, o)
        want = "buildsys" if f["category"] == "buildsys" else "the rest"
        assert rcpts(o) == [("alice", "email", "alice@example.org", want)], o


def test_match_uses_configured_definitions():
    d = fmntest.tmpdir()
    db = os.path.join(d, "fmn.db")
    defs = write(d, "defs.json", {"category": "widget", "defs": [
        {"topic": "*.widget.made", "usernames": ["/msg/who"],
         "packages": ["/msg/what"], "subtitle": "{/msg/who} made a widget"}]})
    conf = write(d, "fmn.conf", "[store]\ndb = %s\n[facts]\ndefinitions = %s\n"
                 % (db, defs))
    env = {"topic": "com.example.prod.widget.made",
           "msg": {"who": "alice", "what": "gizmo"}}
    e = {"FMN_CONFIG": conf}
    fmnctl("user", "add", "alice", env=e, check=0)
    fmnctl("dest", "add", "alice", "email", "a@example.org", "--confirmed",
           env=e, check=0)
    fmnctl("filter", "add", "alice", "email", "widgets", "user:alice",
           "package:gizmo", env=e, check=0)
    p = fmnctl("meta", "-", input=lines(env), env=e, check=0)
    assert json.loads(p.stdout)["usernames"] == ["alice"], p.stdout
    p = fmnctl("match", "-", input=lines(env), env=e, check=0)
    assert rcpts(json.loads(p.stdout)) == [
        ("alice", "email", "a@example.org", "widgets")], p.stdout


# owners and groups


def test_owners_import_list_and_replace_namespace():
    db = fmntest.tmpdb()
    d = fmntest.tmpdir()
    doc = {"rpms": {"kernel": ["jforbes", "@kernel-maint", "alice"],
                    "bash": ["kdudka"]},
           "modules": {"nodejs": ["@nodejs-sig"]}}
    fmnctl("owners", "import", write(d, "o.json", doc), db=db, check=0)
    got = fmnctl_json("owners", "list", db=db)
    assert {ns: {p: sorted(o) for p, o in pk.items()}
            for ns, pk in got.items()} == {
        ns: {p: sorted(o) for p, o in pk.items()} for ns, pk in doc.items()}
    assert fmnctl_json("owners", "list", "bash", db=db) == {
        "rpms": {"bash": ["kdudka"]}}
    text = fmnctl("owners", "list", db=db, check=0).stdout
    assert "rpms/kernel:" in text and "@kernel-maint" in text, text
    # A second import replaces the namespaces it names, and only those.
    fmnctl("owners", "import", write(d, "o2.json",
                                     {"rpms": {"vim": ["zdohnal"]}}),
           db=db, check=0)
    got = fmnctl_json("owners", "list", db=db)
    assert got == {"modules": {"nodejs": ["@nodejs-sig"]},
                   "rpms": {"vim": ["zdohnal"]}}, got


def test_groups_import_list_and_replace_groups():
    db = fmntest.tmpdb()
    d = fmntest.tmpdir()
    fmnctl("groups", "import", write(d, "g.json", {
        "kernel-maint": ["jforbes", "alice"], "qa": ["adamw"]}),
        db=db, check=0)
    got = fmnctl_json("groups", "list", db=db)
    assert {g: sorted(m) for g, m in got.items()} == {
        "kernel-maint": ["alice", "jforbes"], "qa": ["adamw"]}, got
    fmnctl("groups", "import", write(d, "g2.json", {"qa": ["kparal"]}),
           db=db, check=0)
    got = fmnctl_json("groups", "list", db=db)
    assert {g: sorted(m) for g, m in got.items()} == {
        "kernel-maint": ["alice", "jforbes"], "qa": ["kparal"]}, got
    text = fmnctl("groups", "list", db=db, check=0).stdout
    assert "qa: kparal" in text, text


def test_owned_and_group_rules_fire_in_match():
    db = fmntest.initdb()
    d = fmntest.tmpdir()
    env, f = koji_facts(db)
    user, pkg = f["usernames"][0], f["packages"][0]
    for name, rule in (("alice", "owned:alice"), ("bob", "owned:bob"),
                       ("carol", "group:builders"),
                       ("dave", "owned:dave")):
        user_with_email(db, name)
        fmnctl("filter", "add", name, "email", "f", rule, db=db, check=0)
    assert match(db, env)[0]["recipients"] == []
    fmnctl("owners", "import", write(d, "o.json", {
        "rpms": {pkg: ["alice", "@maint"], "other": ["dave"]}}),
        db=db, check=0)
    fmnctl("groups", "import", write(d, "g.json", {
        "maint": ["bob"], "builders": ["x", user]}), db=db, check=0)
    assert [r[0] for r in rcpts(match(db, env)[0])] == [
        "alice", "bob", "carol"]
    # Another namespace counts too.
    fmnctl("owners", "import", write(d, "o2.json", {
        "modules": {pkg: ["dave"]}}), db=db, check=0)
    assert [r[0] for r in rcpts(match(db, env)[0])] == [
        "alice", "bob", "carol", "dave"]
    # Group membership replaced: bob and carol's rules no longer hold.
    fmnctl("groups", "import", write(d, "g2.json", {
        "maint": ["eve"], "builders": ["x"]}), db=db, check=0)
    assert [r[0] for r in rcpts(match(db, env)[0])] == ["alice", "dave"]


def test_owners_and_groups_malformed_refused():
    db = fmntest.tmpdb()
    d = fmntest.tmpdir()
    fmnctl("owners", "import", write(d, "ok.json",
                                     {"rpms": {"kernel": ["jforbes"]}}),
           db=db, check=0)
    fmnctl("groups", "import", write(d, "okg.json", {"qa": ["adamw"]}),
           db=db, check=0)
    owners = [
        ("notjson", '{"rpms": {"kernel": ["x"]'),
        ("empty", ""),
        ("list", ["rpms"]),
        ("nsstring", {"rpms": "kernel"}),
        ("pkgstring", {"rpms": {"kernel": "jforbes"}}),
        ("ownernum", {"rpms": {"kernel": ["alice", 7]}}),
        ("ownernull", {"rpms": {"bash": ["alice"], "kernel": [None]}}),
        ("ownerat", {"rpms": {"kernel": ["@"]}}),
        ("ownerspace", {"rpms": {"kernel": ["a b"]}}),
        ("pkgempty", {"rpms": {"": ["alice"]}}),
    ]
    for name, content in owners:
        path = write(d, name + ".json", content)
        refused(db, ["owners", "import", path], 1, name + ".json")
    groups = [
        ("gnotjson", "{qa: [adamw]}"),
        ("glist", [["qa", "adamw"]]),
        ("gstring", {"qa": "adamw"}),
        ("gmembernum", {"qa": ["adamw", 3]}),
        ("gat", {"@qa": ["adamw"]}),
        ("gspace", {"qa": ["adam w"]}),
    ]
    for name, content in groups:
        path = write(d, name + ".json", content)
        refused(db, ["groups", "import", path], 1, name + ".json")
    refused(db, ["owners", "import", os.path.join(d, "missing.json")], 1,
            "missing.json")
    refused(db, ["owners", "import"], 2)


# filter defaults


def test_filter_defaults_creates_documented_filters():
    db = fmntest.tmpdb()
    user_with_email(db, "alice")
    fmnctl("filter", "add", "alice", "email", "mine first", "user:zzz",
           db=db, check=0)
    fmnctl("filter", "defaults", "alice", "email", db=db, check=0)
    fl = fmnctl_json("filter", "list", "alice", "email", db=db)
    assert [(x["name"], x["position"], x["active"]) for x in fl] == [
        ("mine first", 1, True),
        ("Events referring to my username", 2, True),
        ("Events on packages that I own", 3, True),
        ("Critical taskotron tasks on my packages", 4, True)], fl
    urules, prules, trules = fl[1]["rules"], fl[2]["rules"], fl[3]["rules"]
    # docs/filters.md: 12 + 13 rules, one positive rule leading each.
    assert len(urules) == 12 and len(prules) == 13, (urules, prules)
    assert urules[0] == "user:alice"
    assert prules[:2] == ["owned:alice", "!user:alice"]
    assert all(r.startswith("!") for r in urules[1:] + prules[2:])
    # The shared exclusions end both filters; the rest belong to one.
    shared = [r for r in prules if r in urules]
    assert len(shared) == 5 and urules[-5:] == prules[-5:] == shared, shared
    for r in ("!topic:*.taskotron.result.new", "!topic:*.mdapi.repo.update",
              "!topic:*.bodhi.masher.start"):
        assert r in prules and r not in urules, r
    for r in ("!topic:*.ansible.playbook.start", "!topic:*.mailman.receive"):
        assert r in urules and r not in prules, r
    assert "!category:anitya,fedoratagger,summershum" in shared
    # The third filter: owned critical tasks that failed or changed.
    assert trules[:2] == ["owned:alice", "topic:*.taskotron.result.new"]
    assert len(trules) == 4 and not any(r.startswith("!") for r in trules)
    # Every rule is valid as filter add takes it.
    fmnctl("filter", "add", "alice", "irc", "copy", *urules, db=db, check=0)
    # A context without a preference gets one, enabled and unbatched.
    fmnctl("user", "add", "bob", db=db, check=0)
    fmnctl("filter", "defaults", "bob", "irc", db=db, check=0)
    p = fmnctl_json("pref", "list", "bob", db=db)
    assert [(x["context"], x["enabled"], x["batch_delta"],
             x["batch_count"]) for x in p] == [("irc", True, None, None)], p
    bl = fmnctl_json("filter", "list", "bob", db=db)
    assert [x["position"] for x in bl] == [1, 2, 3], bl
    assert bl[1]["rules"][:2] == ["owned:bob", "!user:bob"]


def test_filter_defaults_behave_as_documented():
    db = fmntest.initdb()
    d = fmntest.tmpdir()
    done, start, s390 = (sample(c)["msg"] for c in
                         (KOJI_DONE, KOJI_START, KOJI_S390))
    scm = sample(SCM)["msg"]
    fd, fs, fx, fg = meta(db, done, start, s390, scm)
    # The builder of each, and the owner of each package.
    people = {fd["usernames"][0], fs["usernames"][0], fx["usernames"][0],
              fg["usernames"][0], "owner"}
    for who in sorted(people):
        user_with_email(db, who)
        fmnctl("filter", "defaults", who, "email", db=db, check=0)
    fmnctl("owners", "import", write(d, "o.json", {"rpms": {
        p: ["owner"] for p in fd["packages"] + fs["packages"] +
        fx["packages"] + fg["packages"]}}), db=db, check=0)
    out = match(db, done, start, s390, scm)
    U, P = "Events referring to my username", "Events on packages that I own"
    # A completed build: its builder and the package's owner hear of it.
    assert [(r[0], r[3]) for r in rcpts(out[0])] == sorted(
        [(fd["usernames"][0], U), ("owner", P)]), out[0]
    # A build that just started, a secondary-architecture build: nobody.
    assert out[1]["recipients"] == [], out[1]
    assert out[2]["recipients"] == [], out[2]
    # One's own dist-git push is an echo; the package's owner still hears.
    assert [(r[0], r[3]) for r in rcpts(out[3])] == [("owner", P)], out[3]
    # When the owner is the one acting, the username filter decides.
    fmnctl("owners", "import", write(d, "o2.json", {"rpms": {
        fd["packages"][0]: [fd["usernames"][0]]}}), db=db, check=0)
    assert [(r[0], r[3]) for r in rcpts(match(db, done)[0])] == [
        (fd["usernames"][0], U)]


def test_filter_defaults_refused_twice_and_for_unknown_user():
    db = fmntest.tmpdb()
    user_with_email(db, "alice")
    fmnctl("filter", "defaults", "alice", "email", db=db, check=0)
    refused(db, ["filter", "defaults", "alice", "email"], 1, "already has")
    # A renamed default still blocks, the other name being there.
    fmnctl("filter", "rm", "alice", "email", "Events on packages that I own",
           db=db, check=0)
    refused(db, ["filter", "defaults", "alice", "email"], 1,
            "Events referring to my username")
    refused(db, ["filter", "defaults", "nobody", "email"], 1,
            "no user named")
    refused(db, ["filter", "defaults", "alice", "pager"], 1,
            "unknown context")
    refused(db, ["filter", "defaults", "alice"], 2)


# export and import


def build_config(db):
    d = fmntest.tmpdir()
    user_with_email(db, "alice", "alice@work.example.org")
    fmnctl("dest", "add", "alice", "irc", "alice_", "--confirmed", db=db,
           check=0)
    fmnctl("filter", "defaults", "alice", "email", db=db, check=0)
    fmnctl("filter", "add", "alice", "irc", "odd ones \"quoted\"",
           "field:/msg/a~1b~0c~^x[0-9]+$", "!body-re:\\\"FTBFS\\\"",
           "category:bodhi,buildsys", db=db, check=0)
    fmnctl("filter", "add", "alice", "irc", "off", "package-re:^python-",
           "--inactive", db=db, check=0)
    fmnctl("pref", "set", "alice", "email", "--batch-delta", "3600",
           "--batch-count", "25", "--markup", "on", "--verbose", "off",
           db=db, check=0)
    fmnctl("user", "add", "bob", db=db, check=0)
    fmnctl("dest", "add", "bob", "email", "bob@example.org", db=db, check=0)
    fmnctl("pref", "set", "bob", "email", "--disable", db=db, check=0)
    fmnctl("user", "add", "carol", db=db, check=0)
    fmnctl("owners", "import", write(d, "o.json", {
        "rpms": {"kernel": ["alice", "@kernel-maint"]},
        "modules": {"nodejs": ["carol"]}}), db=db, check=0)
    fmnctl("groups", "import", write(d, "g.json", {
        "kernel-maint": ["alice", "bob"]}), db=db, check=0)
    fmnctl("alias", "add", "rbean@redhat.com", "ralph", db=db, check=0)
    fmnctl("alias", "add", "threebean", "ralph", db=db, check=0)


def test_broken_filter_shown_skipped_and_cleared_by_enable():
    """What fmnd writes when it marks a filter broken (filters.broken and
    broken_since): list, show, user show and status show it with the
    reason, match --explain skips it, export leaves it out, filter enable
    clears it."""
    db = fmntest.initdb()
    user_with_email(db, "alice")
    fmnctl("filter", "add", "alice", "email", "slow",
           "body-re:(?:.*a){40}x", db=db, check=0)
    fmnctl("filter", "add", "alice", "email", "all", "topic:*", db=db,
           check=0)
    reason = ("failed on 3 messages within 100; last, body-re:(?:.*a){40}x "
              "reached the regex match limit (10000 units)")
    since = 1764000000.0
    con = sqlite3.connect(db)
    con.execute("UPDATE filters SET broken = ?, broken_since = ? WHERE "
                "name = 'slow'", (reason, since))
    con.commit()
    con.close()
    mark = {"reason": reason, "since": since}

    fl = fmnctl_json("filter", "list", "alice", db=db)
    assert [(f["name"], f["broken"]) for f in fl] == [
        ("slow", mark), ("all", None)], fl
    text = fmnctl("filter", "list", "alice", db=db, check=0).stdout
    assert "slow (broken: %s)" % reason in text, text
    assert fmnctl_json("filter", "show", "alice", "email", "slow",
                       db=db)["broken"] == mark
    text = fmnctl("filter", "show", "alice", "email", "slow", db=db,
                  check=0).stdout
    assert reason in text and "2025-11-24 16:00:00 UTC" in text, text
    assert "fmnctl filter enable" in text, text
    u = fmnctl_json("user", "show", "alice", db=db)
    assert u["preferences"][0]["filters"][0]["broken"] == mark, u
    st = fmnctl_json("status", db=db)
    assert st["broken_filters"] == [{"user": "alice", "context": "email",
                                     "filter": "slow", "reason": reason,
                                     "since": since}], st
    text = fmnctl("status", db=db, check=0).stdout
    assert 'alice email "slow"' in text and reason in text, text

    out = match(db, sample(SCM)["msg"], explain=True)[0]
    assert [r[3] for r in rcpts(out)] == ["all"], out
    ex = out["explain"][0]["filters"]
    assert ex[0] == {"name": "slow", "result": "skipped", "rule": None,
                     "why": "broken: " + reason}, ex
    assert ex[1]["result"] == "match", ex

    # The mark is this installation's judgement: it does not travel.
    doc = fmnctl_json("export", db=db)
    assert "broken" not in json.dumps(doc), doc
    other = fmntest.initdb()
    fmnctl("import", write(fmntest.tmpdir(), "doc.json", doc), db=other,
           check=0)
    assert [f["broken"] for f in fmnctl_json("filter", "list", "alice",
                                             db=other)] == [None, None]

    p = fmnctl("filter", "enable", "alice", "email", "slow", db=db, check=0)
    assert "its broken mark is cleared" in p.stdout, p.stdout
    assert fmnctl_json("filter", "show", "alice", "email", "slow",
                       db=db)["broken"] is None
    assert fmnctl_json("status", db=db)["broken_filters"] == []
    assert "no broken filters" in fmnctl("status", db=db, check=0).stdout
    p = fmnctl("filter", "enable", "alice", "email", "all", db=db, check=0)
    assert "broken" not in p.stdout, p.stdout
    help = fmnctl("filter", "enable", "--help", check=0).stdout
    assert "broken" in help and "clears" in help, help


def test_export_import_round_trip():
    db = fmntest.tmpdb()
    build_config(db)
    doc = fmnctl_json("export", db=db)
    assert [u["name"] for u in doc["users"]] == ["alice", "bob", "carol"]
    alice = doc["users"][0]
    assert sorted((x["context"], x["address"], x["confirmed"])
                  for x in alice["destinations"]) == [
        ("email", "alice@example.org", True),
        ("email", "alice@work.example.org", True),
        ("irc", "alice_", True)], alice
    email = [p for p in alice["preferences"] if p["context"] == "email"][0]
    assert (email["batch_delta"], email["batch_count"], email["markup"],
            email["verbose"], email["enabled"]) == (3600, 25, True, False,
                                                    True), email
    irc = [p for p in alice["preferences"] if p["context"] == "irc"][0]
    assert irc["filters"][0]["rules"] == [
        "field:/msg/a~1b~0c~^x[0-9]+$", "!body-re:\\\"FTBFS\\\"",
        "category:bodhi,buildsys"], irc
    assert irc["filters"][1]["active"] is False
    assert doc["users"][1]["destinations"][0]["confirmed"] is False
    assert doc["owners"]["rpms"] == {"kernel": ["alice", "@kernel-maint"]}
    assert doc["groups"] == {"kernel-maint": ["alice", "bob"]}
    assert doc["aliases"] == {"rbean@redhat.com": "ralph",
                              "threebean": "ralph"}
    # Into a fresh database, from a file and from stdin.
    path = write(fmntest.tmpdir(), "export.json", doc)
    db2 = fmntest.tmpdb()
    fmnctl("import", path, db=db2, check=0)
    assert fmnctl_json("export", db=db2) == doc
    db3 = fmntest.tmpdb()
    fmnctl("import", "-", db=db3, input=json.dumps(doc), check=0)
    assert fmnctl_json("export", db=db3) == doc
    # Importing it again over itself changes nothing visible.
    fmnctl("import", path, db=db2, check=0)
    assert fmnctl_json("export", db=db2) == doc
    # The imported configuration matches as the original does.
    fl = fmnctl_json("filter", "list", "alice", db=db2)
    assert sorted(x["position"] for x in fl if x["context"] == "irc") == [1, 2]
    envs = fmntest.corpus()
    assert match(db2, *envs) == match(db, *envs)


def test_import_creates_and_replaces_named_users_only():
    db = fmntest.tmpdb()
    build_config(db)
    bob_before = fmnctl_json("user", "show", "bob", db=db)
    doc = {"users": [
        {"name": "alice",
         "destinations": [{"context": "irc", "address": "alice2",
                           "confirmed": True}],
         "preferences": [{"context": "irc", "filters": [
             {"name": "only", "rules": ["user:alice"]}]}]},
        {"name": "dave",
         "destinations": [{"context": "email", "address": "d@example.org",
                           "confirmed": False}],
         "preferences": [{"context": "email", "enabled": False,
                          "filters": []}]}],
        "aliases": {"dave@example.org": "dave"},
        "groups": {"qa": ["dave"]}}
    fmnctl("import", write(fmntest.tmpdir(), "d.json", doc), db=db, check=0)
    out = fmnctl_json("export", db=db)
    users = {u["name"]: u for u in out["users"]}
    assert sorted(users) == ["alice", "bob", "carol", "dave"]
    assert users["alice"]["destinations"] == [
        {"context": "irc", "address": "alice2", "confirmed": True}]
    assert [(p["context"], [x["name"] for x in p["filters"]])
            for p in users["alice"]["preferences"]] == [("irc", ["only"])]
    assert fmnctl_json("user", "show", "bob", db=db) == bob_before
    assert users["dave"]["destinations"][0]["confirmed"] is False
    assert users["dave"]["preferences"][0]["enabled"] is False
    # Aliases and groups are added to; what is not named stays.
    assert out["aliases"]["dave@example.org"] == "dave"
    assert out["aliases"]["threebean"] == "ralph"
    assert out["groups"] == {"kernel-maint": ["alice", "bob"], "qa": ["dave"]}
    assert out["owners"]["modules"] == {"nodejs": ["carol"]}
    # A pending destination from an import still needs confirming.
    env, f = koji_facts(db)
    fmnctl("filter", "add", "dave", "email", "all", "topic:*", db=db, check=0)
    fmnctl("pref", "set", "dave", "email", "--enable", db=db, check=0)
    assert match(db, env)[0]["recipients"] == []


def good_doc():
    return {"users": [
        {"name": "erin",
         "destinations": [{"context": "email", "address": "erin@example.org",
                           "confirmed": True}],
         "preferences": [{"context": "email", "filters": [
             {"name": "one", "rules": ["user:erin"]}]}]},
        {"name": "frank",
         "destinations": [{"context": "email", "address": "f@example.org",
                           "confirmed": True},
                          {"context": "irc", "address": "frank",
                           "confirmed": True}],
         "preferences": [
             {"context": "email", "batch_delta": 60, "batch_count": 5,
              "filters": [{"name": "a", "rules": ["user:frank"]},
                          {"name": "b", "rules": ["package:kernel",
                                                  "!user:frank"]}]},
             {"context": "irc", "filters": [
                 {"name": "c", "rules": ["category:bodhi"]}]}]}],
        "owners": {"rpms": {"kernel": ["frank"]}},
        "groups": {"g": ["erin"]},
        "aliases": {"erin@example.com": "erin"}}


def test_import_refused_whole_on_any_bad_part():
    db = fmntest.tmpdb()
    build_config(db)
    d = fmntest.tmpdir()
    # The good document imports (into another database).
    fmnctl("import", write(d, "good.json", good_doc()), db=fmntest.tmpdb(),
           check=0)

    def frank(doc):
        return doc["users"][1]

    def mut(fn):
        doc = good_doc()
        fn(doc)
        return doc

    cases = [
        ("badrule", lambda doc: frank(doc)["preferences"][0]["filters"][1]
         ["rules"].append("topic-re:(unclosed"),
         ["frank", "filter 2", "topic-re:(unclosed"]),
        ("unknownkind", lambda doc: frank(doc)["preferences"][1]["filters"][0]
         ["rules"].insert(0, "colour:red"), ["frank", "colour:red"]),
        ("rulenotstring", lambda doc: frank(doc)["preferences"][1]["filters"]
         [0]["rules"].append(5), ["frank", "rule 2"]),
        ("badaddress", lambda doc: frank(doc)["destinations"][0].update(
            address="f at example.org"), ["frank", "destination 1",
                                          "f at example.org"]),
        ("crlfaddress", lambda doc: frank(doc)["destinations"][0].update(
            address="f@example.org\r\nBcc: x@example.org"),
         ["frank", "destination 1"]),
        ("badnick", lambda doc: frank(doc)["destinations"][1].update(
            address="frank nick"), ["frank", "destination 2", "IRC nick"]),
        ("negdelta", lambda doc: frank(doc)["preferences"][0].update(
            batch_delta=-1), ["frank", "preference 1", "batch_delta"]),
        ("negcount", lambda doc: frank(doc)["preferences"][0].update(
            batch_count=-5), ["frank", "preference 1", "batch_count"]),
        ("strcount", lambda doc: frank(doc)["preferences"][0].update(
            batch_count="5"), ["frank", "batch_count"]),
        ("destctx", lambda doc: frank(doc)["destinations"][1].update(
            context="sms"), ["frank", "destination 2", "context"]),
        ("prefctx", lambda doc: frank(doc)["preferences"][1].update(
            context="pager"), ["frank", "preference 2", "context"]),
        ("twoprefs", lambda doc: frank(doc)["preferences"][1].update(
            context="email"), ["frank", "preference 2"]),
        ("dupfilter", lambda doc: frank(doc)["preferences"][0]["filters"]
         [1].update(name="a"), ["frank", "\"a\""]),
        ("dupuser", lambda doc: doc["users"].append({"name": "erin"}),
         ["erin", "twice"]),
        ("spacename", lambda doc: doc["users"].append({"name": "x y"}),
         ["users[2]", "name"]),
        ("ctrlname", lambda doc: doc["users"].append({"name": "x\u0007y"}),
         ["users[2]", "name"]),
        ("badowner", lambda doc: doc["owners"]["rpms"]["kernel"].append(3),
         ["owners", "kernel"]),
        ("badgroup", lambda doc: doc["groups"].update(g="erin"),
         ["groups", "g"]),
        ("badalias", lambda doc: doc["aliases"].update({"a b": "erin"}),
         ["alias", "a b"]),
        ("unknownkey", lambda doc: doc.update(people=[]), ["people"]),
        ("usersobject", lambda doc: doc.update(users={}), ["users"]),
        ("boolstring", lambda doc: frank(doc)["destinations"][0].update(
            confirmed="yes"), ["frank", "confirmed"]),
    ]
    for name, fn, words in cases:
        path = write(d, name + ".json", mut(fn))
        refused(db, ["import", path], 1, name + ".json", *words)
    refused(db, ["import", write(d, "trunc.json",
                                 json.dumps(good_doc())[:-3])], 1,
            "trunc.json")
    refused(db, ["import", write(d, "list.json", [good_doc()])], 1,
            "list.json")
    refused(db, ["import", "-"], 1, input="{")
    refused(db, ["import"], 2)
    # A clash only the database sees (the same address twice) is refused
    # whole too.
    path = write(d, "dupdest.json", mut(lambda doc: frank(doc)[
        "destinations"].append(dict(frank(doc)["destinations"][0]))))
    refused(db, ["import", path], 1, "frank")


def test_import_refuses_addresses_mail_cannot_deliver():
    db = fmntest.tmpdb()
    build_config(db)
    d = fmntest.tmpdir()
    for i, address in enumerate(['"quoted"@example.org',
                                 "frank(work)@example.org",
                                 "fr..ank@example.org",
                                 "frank@-example.org"]):
        doc = good_doc()
        doc["users"][1]["destinations"][0]["address"] = address
        refused(db, ["import", write(d, "addr%d.json" % i, doc)], 1,
                "addr%d.json" % i, "frank", "destination 1", address,
                "nothing imported")


def test_import_checks_batch_values_as_pref_set_does():
    """A batch value import takes is one pref set takes, and the other
    way round; a refused one names the user and the field."""
    db = fmntest.tmpdb()
    build_config(db)
    d = fmntest.tmpdir()
    day = 86400
    values = [("batch_delta", "--batch-delta", v) for v in
              (-1, 366 * day + 1, 10 ** 12, 2 ** 62, 1.5)] + \
             [("batch_count", "--batch-count", v) for v in
              (-5, 1000001, 2 ** 31 - 1, 2.0, "5", True)]
    for i, (field, opt, v) in enumerate(values):
        doc = good_doc()
        doc["users"][1]["preferences"][0][field] = v
        path = write(d, "batch%d.json" % i, doc)
        refused(db, ["import", path], 1, "batch%d.json" % i, "frank",
                field, "nothing imported")
        if isinstance(v, int) and not isinstance(v, bool):
            refused(db, ["pref", "set", "alice", "email", opt, str(v)], 1,
                    opt)
    # The limits themselves are accepted by both, and so is 0.
    for i, (delta, count) in enumerate([(366 * day, 1000000), (0, 0)]):
        doc = good_doc()
        doc["users"][1]["preferences"][0].update(batch_delta=delta,
                                                 batch_count=count)
        fmnctl("import", write(d, "ok%d.json" % i, doc), db=db, check=0)
        fmnctl("pref", "set", "alice", "email", "--batch-delta", delta,
               "--batch-count", count, db=db, check=0)


def test_documents_with_duplicate_keys_refused():
    """JSON with a key twice would keep the last one silently: every
    document fmnctl reads refuses it, naming the key and the line."""
    db = fmntest.tmpdb()
    build_config(db)
    d = fmntest.tmpdir()
    users = json.dumps(good_doc()["users"])
    cases = [
        (["import"], '{"users": %s,\n "users": []}' % users, "users", 2),
        (["import"], '{"users": [{"name": "erin",\n\n "name": "x"}]}',
         "name", 3),
        (["owners", "import"], '{"rpms": {"kernel": ["a"],\n'
         '"kernel": ["b"]}}', "kernel", 2),
        (["groups", "import"], '{"qa": ["a"],\n "qa": ["b"]}', "qa", 2),
    ]
    for i, (cmd, text, key, line) in enumerate(cases):
        path = write(d, "dup%d.json" % i, text)
        refused(db, cmd + [path], 1, "dup%d.json" % i, key,
                "line %d" % line, "duplicate")
        refused(db, cmd + ["-"], 1, key, "line %d" % line, "duplicate",
                input=text)


if __name__ == "__main__":
    fmntest.main(globals())
