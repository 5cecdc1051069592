"""Installing fmn as a system service: `cmake --install` into a
temporary prefix puts the programs, the man pages, the sample
configuration, the systemd unit and the sysusers.d file in place; the
pages format without a warning, systemd accepts the unit, and the
installed fmnd starts with the installed configuration. Nothing here
changes the machine: no user is created, no unit is loaded."""

import os
import re
import signal
import stat
import subprocess

import fmntest
import fmndtest
from fmndtest import wait_until

PAGES = ("share/man/man1/fmnctl.1", "share/man/man5/fmn.conf.5",
         "share/man/man8/fmnd.8")
UNIT = "lib/systemd/system/fmnd.service"
SYSUSERS = "lib/sysusers.d/fmn.conf"


def cache(name):
    """A value of the build's CMakeCache.txt, or None."""
    with open(os.path.join(fmntest.BUILD, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(r"%s:[A-Z]+=(.*)$" % re.escape(name), line)
            if m:
                return m.group(1)
    return None


class Install:
    """`cmake --install BUILD --prefix DIR` into a fresh directory."""

    def __init__(self):
        self.top = fmntest.tmpdir()
        self.prefix = os.path.join(self.top, "prefix")
        self.root = ""
        env = dict(os.environ)
        env.pop("DESTDIR", None)
        self.sysconf = cache("CMAKE_INSTALL_SYSCONFDIR") or "etc"
        if os.path.isabs(self.sysconf):
            # A build configured with an absolute sysconfdir (/etc, as
            # distributions do) puts the configuration outside any
            # prefix: stage everything under DESTDIR so that the machine's
            # /etc is not written to.
            self.root = os.path.join(self.top, "destdir")
            env["DESTDIR"] = self.root
        self.run([cache("CMAKE_COMMAND") or "cmake", "--install",
                  fmntest.BUILD, "--prefix", self.prefix], env=env)

    def run(self, cmd, env=None):
        p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                           timeout=120)
        assert p.returncode == 0, (cmd, p.returncode, p.stdout, p.stderr)
        return p

    def path(self, rel):
        """Where a file installed under the prefix landed."""
        return self.root + os.path.join(self.prefix, rel)

    def conf(self, name="fmn.conf"):
        d = self.sysconf if os.path.isabs(self.sysconf) else os.path.join(
            self.prefix, self.sysconf)
        return self.root + os.path.join(d, "fmn", name)


def project_version():
    with open(os.path.join(fmntest.SOURCE, "CMakeLists.txt")) as f:
        return re.search(r"project\(fmn VERSION ([0-9.]+)", f.read()).group(1)


def unit_settings(path):
    """The unit file's Key=value lines, as a list of pairs."""
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and line[0] not in "#;[" and "=" in line:
                k, v = line.split("=", 1)
                out.append((k.strip(), v.strip()))
    return out


def documented_keys():
    """Every (section, key) of docs/configuration.md's tables."""
    keys = []
    section = None
    with open(os.path.join(fmntest.SOURCE, "docs",
                           "configuration.md")) as f:
        for line in f:
            m = re.match(r"## \[(\w+)\]", line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r"\| (`\w+`(?:, `\w+`)*) \|", line)
            if section and m:
                keys += [(section, k) for k in re.findall(r"`(\w+)`",
                                                          m.group(1))]
    return keys


def test_every_file_in_place():
    inst = Install()
    for rel in ("sbin/fmnd", "bin/fmnctl"):
        mode = os.stat(inst.path(rel)).st_mode
        assert stat.S_ISREG(mode) and mode & stat.S_IXUSR, (rel, oct(mode))
    for rel in PAGES + (UNIT, SYSUSERS):
        assert os.path.isfile(inst.path(rel)), rel
    assert os.path.isfile(inst.conf()), inst.conf()
    assert not os.path.exists(inst.conf("fmn.conf.new"))

    version = project_version()
    fmnd = inst.run([inst.path("sbin/fmnd"), "--version"]).stdout
    fmnctl = inst.run([inst.path("bin/fmnctl"), "--version"]).stdout
    assert fmnd == "fmnd %s\n" % version, fmnd
    assert fmnctl == "fmnctl %s\n" % version, fmnctl

    # The unit names the fmnd and the configuration of the configured
    # prefix, not this one: cmake --install --prefix moves files only.
    sbindir = cache("CMAKE_INSTALL_SBINDIR") or "sbin"
    if not os.path.isabs(sbindir):
        sbindir = os.path.join(cache("CMAKE_INSTALL_PREFIX"), sbindir)
    conf = cache("FMN_CONFIG_FILE")
    assert ("ExecStart", "%s/fmnd -c %s" % (sbindir, conf)) in \
        unit_settings(inst.path(UNIT))


def test_man_pages_format_without_a_warning():
    inst = Install()
    for rel in PAGES:
        p = subprocess.run(["groff", "-man", "-ww", "-z", inst.path(rel)],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and p.stderr == "" and p.stdout == "", (
            rel, p.returncode, p.stderr)
        with open(inst.path(rel)) as f:
            th = f.read()
        name, section = re.search(r"^\.TH (\S+) (\d)", th, re.M).groups()
        assert os.path.basename(rel) == "%s.%s" % (name.lower(), section), rel


def test_unit_passes_systemd_analyze_verify():
    inst = Install()
    unit = inst.path(UNIT)
    settings = unit_settings(unit)
    for want in (("Type", "notify"), ("NotifyAccess", "main"),
                 ("ExecReload", "/bin/kill -HUP $MAINPID"),
                 ("Restart", "on-failure"), ("User", "fmn"),
                 ("Group", "fmn"), ("StateDirectory", "fmn"),
                 ("WorkingDirectory", "/var/lib/fmn"),
                 ("ProtectSystem", "strict"), ("CapabilityBoundingSet", ""),
                 ("SystemCallFilter", "@system-service"),
                 ("UMask", "0027")):
        assert want in settings, want
    # PCRE2's JIT needs memory that becomes executable.
    assert "MemoryDenyWriteExecute" not in dict(settings)
    assert int(dict(settings)["TimeoutStopSec"]) > 5

    # verify checks that ExecStart names an executable; the unit names
    # the configured prefix's fmnd, which need not exist here, so a copy
    # of the installed unit points at this prefix's instead. Nothing
    # else changes. Documentation=man: pages are looked up with man, in
    # this prefix's pages.
    d = os.path.join(inst.top, "verify")
    os.mkdir(d)
    copy = os.path.join(d, "fmnd.service")
    with open(unit) as f:
        text = f.read()
    text, n = re.subn(r"^ExecStart=\S+/fmnd ",
                      "ExecStart=%s " % inst.path("sbin/fmnd"), text,
                      flags=re.M)
    assert n == 1, text
    with open(copy, "w") as f:
        f.write(text)
    env = dict(os.environ, MANPATH=inst.path("share/man"))
    p = subprocess.run(["systemd-analyze", "verify", copy],
                       capture_output=True, text=True, env=env, timeout=120)
    out = p.stdout + p.stderr
    # User=fmn is not looked up by verify (systemd 252 says nothing about
    # a user that does not exist), so the user is checked below, against
    # the sysusers.d file, without creating it on this machine.
    assert p.returncode == 0, (p.returncode, out)
    assert "fmnd.service" not in out and copy not in out, out

    # The sysusers.d file makes the user and group the unit runs as: let
    # systemd-sysusers create them in a private root and read them back.
    root = os.path.join(inst.top, "sysroot")
    os.makedirs(os.path.join(root, "etc"))
    inst.run(["systemd-sysusers", "--root", root, inst.path(SYSUSERS)])
    with open(os.path.join(root, "etc", "passwd")) as f:
        users = {line.split(":")[0]: line.rstrip("\n").split(":")
                 for line in f}
    with open(os.path.join(root, "etc", "group")) as f:
        groups = {line.split(":")[0]: line.split(":") for line in f}
    user = dict(settings)["User"]
    assert user in users, users
    assert dict(settings)["Group"] in groups, groups
    assert users[user][5] == "/var/lib/fmn", users[user]
    assert users[user][3] == groups[dict(settings)["Group"]][2]


def test_sample_config_starts_fmnd():
    inst = Install()
    tmp = fmntest.tmpdir()
    db = os.path.join(tmp, "fmn.db")
    mbox = os.path.join(tmp, "fmn.mbox")
    bus = "tcp://127.0.0.1:%d" % fmntest.free_port()
    log = os.path.join(tmp, "fmnd.log")
    env = dict(os.environ)
    env.pop("FMN_DB", None)
    env.pop("FMN_CONFIG", None)
    with open(log, "wb") as logf:
        # The paths of the sample are those of the installed service
        # (/var/lib/fmn); the command line moves them here.
        proc = subprocess.Popen(
            [inst.path("sbin/fmnd"), "-c", inst.conf(), "--db", db,
             "--smtp", "mbox:" + mbox, "--bus", bus],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, env=env,
            cwd=tmp)
    try:
        def text():
            with open(log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        wait_until(lambda: "fmnd: ready" in text()
                   or proc.poll() is not None, 30, 0.02, "fmnd: ready")
        assert proc.poll() is None, (proc.returncode, text())
        assert "mbox:" + mbox in text(), text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0, text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert os.path.exists(db)


def test_sample_config_lists_every_key():
    inst = Install()
    set_keys, listed = [], []
    section = None
    with open(inst.conf()) as f:
        for line in f:
            m = re.match(r"\[(\w+)\]$", line)
            if m:
                section = m.group(1)
            m = re.match(r"([;#]?)(\w+) =", line)
            if m:
                listed.append((section, m.group(2)))
                if not m.group(1):
                    set_keys.append((section, m.group(2), line.strip()))
    keys = documented_keys()
    assert len(keys) > 30, keys
    for k in keys:
        assert k in listed, k
    for k in listed:
        assert k in keys, k
    # Only the paths of the installed service are set.
    assert [s[2] for s in set_keys] == [
        "db = /var/lib/fmn/fmn.db", "smtp = mbox:/var/lib/fmn/fmn.mbox"], \
        set_keys
    # fmn.conf(5) has an entry for each, in its section.
    with open(inst.path(PAGES[1])) as f:
        parts = re.split(r'^\.SH "\[(\w+)\]"$', f.read(), flags=re.M)
    sections = dict(zip(parts[1::2], parts[2::2]))
    for section, key in keys:
        assert re.search(r"^\.BI %s " % key, sections.get(section, ""),
                         re.M), (section, key)


def test_reinstall_keeps_an_edited_config():
    inst = Install()
    with open(inst.conf(), "a") as f:
        f.write("[log]\nlevel = debug\n")
    with open(inst.conf()) as f:
        edited = f.read()
    again = inst.run([cache("CMAKE_COMMAND") or "cmake", "--install",
                      fmntest.BUILD, "--prefix", inst.prefix],
                     env=dict(os.environ, DESTDIR=inst.root))
    with open(inst.conf()) as f:
        assert f.read() == edited
    with open(os.path.join(fmntest.SOURCE, "fmnd", "fmn.conf")) as f:
        sample = f.read()
    with open(inst.conf("fmn.conf.new")) as f:
        assert f.read() == sample
    assert "fmn.conf.new" in again.stdout, again.stdout


if __name__ == "__main__":
    fmntest.main(globals())
