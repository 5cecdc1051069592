"""fmnctl meta: the facts derived from envelopes, one JSON line each."""
import json
import os

import fmntest


def _meta(lines, *args, db=None, check=0):
    db = db or fmntest.initdb()
    p = fmntest.fmnctl("meta", *args, "-", db=db,
                       input="".join(l + "\n" for l in lines), check=check)
    return [json.loads(l) for l in p.stdout.splitlines()]


def _corpus_line(topic_part):
    for env in fmntest.corpus():
        if topic_part in env["topic"]:
            return json.dumps(env)
    raise AssertionError("no corpus message for " + topic_part)


def test_one_line_per_envelope():
    envs = fmntest.corpus()[:20]
    out = _meta([json.dumps(e) for e in envs])
    assert len(out) == 20
    for env, o in zip(envs, out):
        assert o["topic"] == env["topic"]
        assert o["msg_id"] == env.get("msg_id")
        for key in ("category", "usernames", "packages", "agent", "link",
                    "subtitle"):
            assert key in o, (key, o)
        assert o["usernames"] == sorted(o["usernames"])
        assert o["packages"] == sorted(o["packages"])


def test_bodhi_facts():
    out = _meta([_corpus_line("bodhi.update.comment")])
    o = out[0]
    assert o["category"] == "bodhi"
    assert o["usernames"] == ["codeblock", "ralph"]
    assert o["packages"] == ["fedmsg"]
    assert o["link"] == "https://bodhi.fedoraproject.org/updates/fedmsg-1.0-1"
    assert o["subtitle"].startswith("ralph commented on bodhi update")


def test_bad_lines_go_on():
    good = _corpus_line("bodhi.update.eject")
    out = _meta([good, "not json", '{"msg": {}}',
                 '{"topic": "a.b.c.d", "msg": {}, "timestamp": "x"}', good],
                check=1)
    assert len(out) == 5
    assert "error" not in out[0] and "error" not in out[4]
    assert out[1]["line"] == 2 and "error" in out[1]
    assert out[2]["line"] == 3 and "topic" in out[2]["error"]
    assert out[3]["line"] == 4 and "timestamp" in out[3]["error"]


def test_huge_integers_are_valid_json():
    """A number past 64 bits is valid JSON: the envelope gets its facts."""
    env = json.loads(_corpus_line("buildsys.build.state.change"))
    env["msg"]["build_id"] = 123456789012345678901234567890
    env["msg_id"] = "2024-huge-build-id"
    db = fmntest.initdb()
    p = fmntest.fmnctl("meta", "-", db=db, input=json.dumps(env) + "\n")
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    assert p.stderr == "", p.stderr
    o = json.loads(p.stdout)
    assert "error" not in o, o
    assert o["msg_id"] == "2024-huge-build-id"
    assert o["category"] == "buildsys"
    assert o["packages"], o
    assert o["subtitle"], o
    p = fmntest.fmnctl("match", "-", db=db, input=json.dumps(env) + "\n",
                       check=0)
    assert json.loads(p.stdout)["msg_id"] == "2024-huge-build-id"


def test_unknown_topic_generic_subtitle():
    out = _meta([json.dumps({"topic": "com.example.prod.widget.made",
                             "msg": {"who": "alice"}})])
    o = out[0]
    assert "error" not in o
    assert o["category"] == "widget"
    assert o["usernames"] == [] and o["packages"] == []
    assert o["subtitle"] == "widget.made"


def test_aliases_from_database():
    db = fmntest.tmpdb()
    fmntest.fmnctl("alias", "add", "threebean", "ralph", db=db, check=0)
    env = {"topic": "org.fedoraproject.prod.bodhi.update.comment",
           "msg": {"comment": {"author": "threebean", "karma": 1,
                               "text": "ok", "update_title": "fedmsg-1.0-1"}}}
    out = _meta([json.dumps(env)], db=db)
    assert out[0]["usernames"] == ["ralph"], out


def test_defs_option_overrides():
    d = os.path.join(fmntest.tmpdir(), "defs.json")
    with open(d, "w") as f:
        json.dump({"category": "widget", "defs": [
            {"topic": "*.widget.made", "usernames": ["/msg/who"],
             "subtitle": "{/msg/who} made a widget",
             "link": "https://example.com/{/msg/who}"}]}, f)
    out = _meta([json.dumps({"topic": "com.example.prod.widget.made",
                             "msg": {"who": "alice"}})], "--defs", d)
    assert out[0]["usernames"] == ["alice"]
    assert out[0]["subtitle"] == "alice made a widget"
    assert out[0]["link"] == "https://example.com/alice"


def test_bad_defs_file_refused():
    d = os.path.join(fmntest.tmpdir(), "bad.json")
    with open(d, "w") as f:
        f.write('{"defs": [\n  {"topic": "*.x", "subtitle": "{/msg/a|nope}"}\n]}\n')
    p = fmntest.fmnctl("meta", "--defs", d, "-", db=fmntest.tmpdb(),
                       input="")
    assert p.returncode == 1, p
    assert "bad.json" in p.stderr and "defs[0].subtitle" in p.stderr
    assert "nope" in p.stderr
    with open(d, "w") as f:
        f.write('{"defs": [\n  {"topic": "*.x",}\n]}\n')
    p = fmntest.fmnctl("meta", "--defs", d, "-", db=fmntest.tmpdb(),
                       input="")
    assert p.returncode == 1 and "bad.json:2:" in p.stderr, p.stderr


NOT_AN_ENVELOPE = "envelope is not a JSON object"
NO_TOPIC = "envelope has no topic (a non-empty string)"


def _run(inp, *args, path=None, db=None):
    """fmnctl meta on inp (text), from a file when path is given."""
    db = db or fmntest.initdb()
    if path is not None:
        with open(path, "w") as f:
            f.write(inp)
        return fmntest.fmnctl("meta", *args, path, db=db)
    return fmntest.fmnctl("meta", *args, "-", db=db, input=inp)


def test_bad_lines_reported_with_input_line_and_column():
    good = _corpus_line("bodhi.update.eject")
    inp = "\n".join([good, "not json", "", '{"msg": {}}', "[1,2,3]",
                     '"a string"', '{"topic": "a.b.c.d", "msg": {',
                     good]) + "\n"
    path = os.path.join(fmntest.tmpdir(), "in.jsonl")
    for name, p in (("<stdin>", _run(inp)), (path, _run(inp, path=path))):
        assert p.returncode == 1, p
        out = [json.loads(l) for l in p.stdout.splitlines()]
        # One output line per input line that is not blank.
        assert len(out) == 7, p.stdout
        assert "error" not in out[0] and "error" not in out[6]
        assert [o["line"] for o in out[1:6]] == [2, 4, 5, 6, 7], out
        assert out[1]["error"] == ("invalid JSON at line 2 column 1: "
                                   "'[' or '{' expected near 'not'")
        assert out[2]["error"] == NO_TOPIC
        assert out[3]["error"] == NOT_AN_ENVELOPE
        assert out[4]["error"] == ("invalid JSON at line 6 column 1: "
                                   "'[' or '{' expected near '\"a string\"'")
        assert out[5]["error"] == ("invalid JSON at line 7 column 30: "
                                   "string or '}' expected near end of file")
        assert p.stderr.splitlines() == [
            "fmnctl: %s:2:1: invalid JSON: '[' or '{' expected near 'not'"
            % name,
            "fmnctl: %s:4: not an envelope: %s" % (name, NO_TOPIC),
            "fmnctl: %s:5: not an envelope: %s" % (name, NOT_AN_ENVELOPE),
            "fmnctl: %s:6:1: invalid JSON: '[' or '{' expected near "
            "'\"a string\"'" % name,
            "fmnctl: %s:7:30: invalid JSON: string or '}' expected near "
            "end of file" % name,
            "fmnctl: 5 of 7 lines were not valid envelopes",
        ], p.stderr


def test_column_points_at_the_offending_token():
    cases = [
        ('{"a":', 6),                    # the end of the line, not line 2
        ('{"a": tru}', 7),
        ('   {oops', 5),
        ('{"a": 1} x', 10),
        ('{"\u00e9\u00e9": x}', 8),      # characters, not bytes
        ('{"a": "%s\\q"}' % ("z" * 30), 7),   # too long to be quoted
        ('{"a": "\x01"}', 7),
    ]
    for line, column in cases:
        p = _run(line + "\n")
        assert p.returncode == 1, (line, p)
        out = json.loads(p.stdout)
        assert out["line"] == 1, (line, out)
        assert out["error"].startswith(
            "invalid JSON at line 1 column %d: " % column), (line, out)
        assert p.stderr.startswith("fmnctl: <stdin>:1:%d: invalid JSON: "
                                   % column), (line, p.stderr)


def test_only_ten_bad_lines_described():
    good = _corpus_line("bodhi.update.eject")
    p = _run("".join("bad %d\n" % i for i in range(12)) + good + "\n")
    assert p.returncode == 1
    assert len(p.stdout.splitlines()) == 13
    err = p.stderr.splitlines()
    assert err[:10] == ["fmnctl: <stdin>:%d:1: invalid JSON: '[' or '{' "
                        "expected near 'bad'" % i for i in range(1, 11)], err
    assert err[10:] == ["fmnctl: 12 of 13 lines were not valid envelopes"]


def test_good_input_exits_0_and_says_nothing():
    p = _run(_corpus_line("bodhi.update.eject") + "\n\n")
    assert p.returncode == 0 and p.stderr == "", p
    assert "error" not in json.loads(p.stdout)


def test_json_array_input_says_how_to_convert_it():
    src = os.path.join(fmntest.DATA, "fmfi-dev.json")
    with open(src) as f:
        text = f.read()
    nlines = sum(1 for l in text.splitlines() if l.strip())
    hint = ("fmnctl: the input looks like one JSON document, not one "
            "envelope per line; try: %s | fmnctl meta -")
    for p, name, how in (
            (fmntest.fmnctl("meta", src, db=fmntest.initdb()), src,
             "jq -c '.[]' " + src),
            (_run(text), "<stdin>", "... | jq -c '.[]'")):
        assert p.returncode == 1, (p.returncode, p.stderr)
        assert len(p.stdout.splitlines()) == nlines
        err = p.stderr.splitlines()
        assert len(err) == 12, p.stderr
        assert err[0] == ("fmnctl: %s:1:2: invalid JSON: ']' expected "
                          "near end of file" % name), err
        for i, e in enumerate(err[:10]):
            assert e.startswith("fmnctl: %s:%d:" % (name, i + 1)), err
        assert err[10] == hint % how, err
        assert err[11] == ("fmnctl: %d of %d lines were not valid envelopes"
                           % (nlines, nlines)), err
    # Its envelopes, one per line, are what meta reads.
    envs = "".join(json.dumps(v["msg"]) + "\n" for v in json.loads(text))
    p = _run(envs)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    # An array on one line is one document too; so is one pretty envelope.
    p = _run("[1,2,3]\n")
    assert p.returncode == 1
    assert json.loads(p.stdout) == {"error": NOT_AN_ENVELOPE, "line": 1}
    assert p.stderr.splitlines() == [
        "fmnctl: <stdin>:1: not an envelope: " + NOT_AN_ENVELOPE,
        hint % "... | jq -c '.[]'",
        "fmnctl: 1 of 1 lines were not valid envelopes"], p.stderr
    p = _run('{\n  "topic": "a.b.c.d",\n  "msg": {}\n}\n')
    assert p.returncode == 1 and hint % "... | jq -c ." in p.stderr, p.stderr
    # A bad line further down is just a bad line.
    p = _run(_corpus_line("bodhi.update.eject") + "\n[1,2,3]\n")
    assert p.returncode == 1 and "jq" not in p.stderr, p.stderr


if __name__ == "__main__":
    fmntest.main(globals())
