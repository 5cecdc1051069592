"""fmnctl meta: the facts derived from envelopes, one JSON line each."""
import json
import os

import fmntest


def _meta(lines, *args, db=None):
    db = db or fmntest.initdb()
    p = fmntest.fmnctl("meta", *args, "-", db=db,
                       input="".join(l + "\n" for l in lines), check=0)
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
                 '{"topic": "a.b.c.d", "msg": {}, "timestamp": "x"}', good])
    assert len(out) == 5
    assert "error" not in out[0] and "error" not in out[4]
    assert out[1]["line"] == 2 and "error" in out[1]
    assert out[2]["line"] == 3 and "topic" in out[2]["error"]
    assert out[3]["line"] == 4 and "timestamp" in out[3]["error"]


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


if __name__ == "__main__":
    fmntest.main(globals())
