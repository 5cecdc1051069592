"""`fmnctl filter defaults` against Fedora FMN's default filters, case by
case: tests/data/fmn-defaults-parity.json holds, for real bus messages
and variants of them, a user's situation towards each (named, owner of
its packages, both, neither), a context, and whether FMN's defaults
notify; it was written from FMN's rule code (see its "doc"). Each row
gets its own database: the user with confirmed e-mail and IRC
destinations and the default filters in both contexts, ownership as the
situation says, then `fmnctl match`. Every disagreement is reported,
not only the first."""

import copy
import json
import os
import sqlite3

import fmntest
from fmntest import fmnctl

TABLE = os.path.join(fmntest.DATA, "fmn-defaults-parity.json")
SITUATIONS = ("named", "owner", "both", "neither")
FILTERS = ("Events referring to my username", "Events on packages that I own",
           "Critical taskotron tasks on my packages")


def load():
    with open(TABLE) as f:
        table = json.load(f)
    with open(os.path.join(fmntest.DATA, "fmfi-dev.json")) as f:
        corpus = json.load(f)
    return table, corpus


def set_pointer(doc, pointer, value):
    """Set the value at an RFC 6901 pointer whose parent exists."""
    keys = [k.replace("~1", "/").replace("~0", "~")
            for k in pointer.split("/")[1:]]
    for k in keys[:-1]:
        doc = doc[int(k)] if isinstance(doc, list) else doc[k]
    doc[keys[-1]] = value


def envelope(table, corpus, row):
    """The row's envelope: a corpus vector or a named envelope of the
    table, with the variant's changes and a msg_id of its own."""
    m = row["message"]
    if "corpus" in m:
        vector = corpus[m["corpus"]]
        assert vector["class"] == m["class"], (row["id"], vector["class"])
        env = copy.deepcopy(vector["msg"])
    else:
        env = copy.deepcopy(table["envelopes"][m["envelope"]])
    for pointer, value in m.get("set", {}).items():
        set_pointer(env, pointer, value)
    env["msg_id"] = "parity-" + row["id"]
    return env


class World:
    """A configuration file with the table's definitions, and one
    template database per user (aliases, destinations, the defaults in
    both contexts) that each row copies."""

    def __init__(self, table):
        self.dir = fmntest.tmpdir()
        defs = os.path.join(self.dir, "defs.json")
        with open(defs, "w") as f:
            json.dump(table["definitions"], f)
        self.conf = os.path.join(self.dir, "fmn.conf")
        with open(self.conf, "w") as f:
            f.write("[facts]\ndefinitions = %s\n" % defs)
        with open(os.path.join(fmntest.DATA, "identities.json")) as f:
            self.aliases = json.load(f)["aliases"]
        self.templates = {}
        self.n = 0
        self.facts_user = table["users"]["neither"]

    def run(self, *args, db, input=None):
        return fmnctl("-c", self.conf, *args, db=db, input=input, check=0)

    def template(self, user):
        if user not in self.templates:
            db = os.path.join(self.dir, "user-%s.db" % user)
            self.run("init", db=db)
            for alias, account in sorted(self.aliases.items()):
                self.run("alias", "add", alias, account, db=db)
            self.run("user", "add", user, db=db)
            self.run("dest", "add", user, "email", user + "@example.org",
                     "--confirmed", db=db)
            self.run("dest", "add", user, "irc", user, "--confirmed", db=db)
            for ctx in ("email", "irc"):
                self.run("filter", "defaults", user, ctx, db=db)
            self.templates[user] = db
        return self.templates[user]

    def database(self, user, owns):
        """A copy of the user's template owning the packages in owns."""
        self.n += 1
        db = os.path.join(self.dir, "row-%d.db" % self.n)
        src = sqlite3.connect(self.template(user))
        dst = sqlite3.connect(db)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        if owns:
            path = os.path.join(self.dir, "owners-%d.json" % self.n)
            with open(path, "w") as f:
                json.dump({"rpms": {p: [user] for p in owns}}, f)
            self.run("owners", "import", path, db=db)
        return db

    def meta(self, envs):
        db = self.template(self.facts_user)
        p = self.run("meta", "-", db=db,
                     input="".join(json.dumps(e) + "\n" for e in envs))
        return [json.loads(l) for l in p.stdout.splitlines()]


def premise(row, facts):
    """What is wrong with the row's situation, given the facts fmn
    derives for its message; None when it holds."""
    named = row["user"] in facts["usernames"]
    if row["situation"] in ("named", "both") and not named:
        return "%s is not among the usernames %s" % (row["user"],
                                                    facts["usernames"])
    if row["situation"] in ("owner", "neither") and named:
        return "%s is among the usernames" % row["user"]
    if row["situation"] in ("owner", "both") and not facts["packages"]:
        return "the message has no packages to own"
    return None


def test_table_covers_every_default_rule():
    table, corpus = load()
    rows = table["rows"]
    fmn = table["fmn"]
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "row ids are not unique"
    rules = set()
    for name in FILTERS:
        rules |= {r.lstrip("!").split("(")[0] for r in fmn[name]
                  if not r.startswith("!exclusion_")}
    for name in ("exclusion_packages", "exclusion_username",
                 "exclusion_mutual"):
        rules |= set(fmn[name])
    used = {r["rule"] for r in rows}
    problems = []
    # Every rule of FMN's defaults decides at least one row; a row names
    # a rule of the defaults (or one a default rule calls).
    for rule in sorted(rules - used):
        problems.append("no row for FMN's %s" % rule)
    for rule in sorted(used - rules):
        problems.append("rows name %s, not a rule of FMN's defaults" % rule)
    for r in rows:
        if r["situation"] not in SITUATIONS:
            problems.append("%s: situation %r" % (r["id"], r["situation"]))
        if r["context"] not in ("email", "irc"):
            problems.append("%s: context %r" % (r["id"], r["context"]))
        if r["user"] != table["users"].get(r["situation"], r["user"]):
            problems.append("%s: the %s user is %s" % (
                r["id"], r["situation"], table["users"][r["situation"]]))
        differs = r.get("fmn_differs")
        if r["notify"] and not r.get("filter"):
            problems.append("%s: notifies without a filter" % r["id"])
        if differs and differs["notify"] and \
                not differs.get("filter", r.get("filter")):
            problems.append("%s: fmn notifies without a filter" % r["id"])
        if differs and (differs["notify"] == r["notify"] or
                        not differs.get("why")):
            problems.append("%s: fmn_differs needs another answer and a "
                            "why" % r["id"])
        if "corpus" in r["message"] and \
                corpus[r["message"]["corpus"]]["class"] != \
                r["message"]["class"]:
            problems.append("%s: corpus vector %d is not %s" % (
                r["id"], r["message"]["corpus"], r["message"]["class"]))
    # Rows for each defect of the issue, and positive rows for each filter
    # in both contexts, so that the table is not only "nothing notifies".
    for item in (1, 2, 3, 4, 5, 6, "also"):
        if not any(r.get("issue_item") == item for r in rows):
            problems.append("no row for issue item %s" % item)
    for name in FILTERS:
        for ctx in ("email", "irc"):
            if not any(r["notify"] and r["filter"] == name and
                       r["context"] == ctx and "fmn_differs" not in r
                       for r in rows):
                problems.append("no row where %s fires in %s" % (name, ctx))
    for s in SITUATIONS:
        if not any(r["situation"] == s for r in rows):
            problems.append("no %s row" % s)
    assert not problems, "\n".join(problems)


def test_every_row_agrees_with_fmn_defaults():
    table, corpus = load()
    rows = table["rows"]
    world = World(table)
    for user in sorted({r["user"] for r in rows}):
        world.template(user)
    envs = [envelope(table, corpus, r) for r in rows]
    facts = world.meta(envs)
    assert len(facts) == len(rows), facts
    bad = []
    for row, env, fact in zip(rows, envs, facts):
        why = premise(row, fact)
        if why is not None:
            bad.append("%s: premise: %s" % (row["id"], why))
            continue
        owns = fact["packages"] if row["situation"] in ("owner", "both") \
            else []
        db = world.database(row["user"], owns)
        p = world.run("match", "-", db=db, input=json.dumps(env) + "\n")
        out = [json.loads(l) for l in p.stdout.splitlines()]
        assert len(out) == 1 and "error" not in out[0], (row["id"], out)
        got = sorted({r["filter"] for r in out[0]["recipients"]
                      if r["user"] == row["user"] and
                      r["context"] == row["context"]})
        want = row.get("fmn_differs", row)
        expect = [want.get("filter", row.get("filter"))] \
            if want["notify"] else []
        if got != expect:
            bad.append("%s: %s %s in %s: expected %s, got %s (%s)" % (
                row["id"], row["situation"], row["user"], row["context"],
                expect[0] if expect else "no notification",
                got[0] if len(got) == 1 else got or "no notification",
                row["why"]))
    assert not bad, "%d of %d rows disagree:\n%s" % (
        len(bad), len(rows), "\n".join(bad))


if __name__ == "__main__":
    fmntest.main(globals())
