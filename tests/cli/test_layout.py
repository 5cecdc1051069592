"""The house's rules, read off the source tree (docs/architecture.md):
each folder includes only from the folders below it, and no C file is
over 1,000 lines. The build enforces the include paths too; this says
which include broke a rule, and keeps the rule when the build changes."""

import os
import re

import fmntest

# Each folder, and the folders it may include from (itself aside).
LAYERS = {
    "lib": [],
    "schema": ["lib"],
    "filters": ["schema", "lib"],
    "backends": ["filters", "schema", "lib"],
    "fmnd": ["backends", "filters", "schema", "lib"],
    "fmnctl": ["filters", "schema", "lib"],
}
# Headers made by the build, and where they count as living.
GENERATED = {"fmn_version.h": "lib"}
MAX_LINES = 1000

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(folder, exts=(".c", ".h")):
    d = os.path.join(fmntest.SOURCE, folder)
    for name in sorted(os.listdir(d)):
        if name.endswith(exts):
            yield os.path.join(d, name)


def header_homes():
    """Header name -> the folder that has it."""
    homes = dict(GENERATED)
    for folder in LAYERS:
        for path in sources(folder, (".h",)):
            name = os.path.basename(path)
            assert name not in homes, "two headers named %s" % name
            homes[name] = folder
    return homes


def test_includes_point_only_downward():
    homes = header_homes()
    wrong = []
    for folder, below in LAYERS.items():
        allowed = set(below) | {folder}
        for path in sources(folder):
            with open(path) as f:
                for name in INCLUDE.findall(f.read()):
                    home = homes.get(name)
                    if home is None:
                        wrong.append("%s: %s is no header of the project"
                                     % (path, name))
                    elif home not in allowed:
                        wrong.append("%s includes %s, from %s/"
                                     % (os.path.relpath(path,
                                                        fmntest.SOURCE),
                                        name, home))
    assert not wrong, "\n".join(wrong)


def test_rules_are_read_from_every_source():
    # The checks above must see the files: a layout change that empties
    # a folder or renames the sources would make them pass vacuously.
    for folder in LAYERS:
        assert list(sources(folder, (".c",))), folder
    homes = header_homes()
    for header in ("fmn_util.h", "fmn_hmap.h", "fmn_store.h", "fmn_match.h",
                   "fmn_backend.h", "fmn_daemon.h", "ctl.h"):
        assert header in homes, header


def test_no_c_file_over_a_thousand_lines():
    long = []
    for top in list(LAYERS) + ["tests", "bench"]:
        for root, dirs, files in os.walk(os.path.join(fmntest.SOURCE, top)):
            for name in files:
                if not name.endswith(".c"):
                    continue
                path = os.path.join(root, name)
                with open(path) as f:
                    n = sum(1 for _ in f)
                if n > MAX_LINES:
                    long.append("%s: %d lines" % (
                        os.path.relpath(path, fmntest.SOURCE), n))
    assert not long, "\n".join(long)


if __name__ == "__main__":
    fmntest.main(globals())
