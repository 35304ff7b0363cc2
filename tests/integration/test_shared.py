"""A shared mount (issue 11): root mounts with allow_other, and the kernel enforces the
owner, group and mode bits jirafs reports, so only those umask= lets write can act as
the Jira account.  Two throwaway local users: one in a throwaway group, one not."""
import errno
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import PAT
from mountlib import Mount

# What one user does, as that user: prints "ok" or the errno's name.
SCRIPT = r"""
import errno, os, sys
op, path = sys.argv[1], sys.argv[2]
try:
    if op == "ls":
        os.listdir(path)
    elif op == "cat":
        open(path).read()
    elif op == "create":
        with open(path, "x") as f:
            f.write('{"summary": "made by %s"}' % os.getuid())
    elif op == "append":
        with open(path, "a") as f:
            f.write("a note from %d\n" % os.getuid())
    elif op == "overwrite":
        with open(path, "r+") as f:
            f.write(" ")
    elif op == "rename":
        os.rename(path, sys.argv[3])
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])
"""

PY = "/usr/bin/python3"


def run(cmd):
    subprocess.run(cmd, check=True, capture_output=True)


@pytest.fixture
def people():
    """(member, outsider, group): created for the test, removed after it."""
    tag = "%05d" % (os.getpid() % 100000)
    group, member, outsider = f"jfsg{tag}", f"jfsm{tag}", f"jfso{tag}"
    run(["groupadd", group])
    run(["useradd", "-M", "-N", "-s", "/bin/sh", "-G", group, member])
    run(["useradd", "-M", "-N", "-s", "/bin/sh", outsider])
    yield member, outsider, group
    for u in (member, outsider):
        subprocess.run(["userdel", u], capture_output=True)
    subprocess.run(["groupdel", group], capture_output=True)


@pytest.fixture
def shared_mount(jirafs_bin, token_file, tmp_path):
    """mount(emu, *options) on a mount point others can reach (tmp_path is 0700)."""
    base = tempfile.mkdtemp(prefix="jirafs-shared-")
    os.chmod(base, 0o755)
    mounts = []

    def make(emu, *options):
        mp = os.path.join(base, f"mnt{len(mounts)}")
        opts = ["auth=pat", f"token_file={token_file}",
                f"state_dir={tmp_path}/state{len(mounts)}"] + list(options)
        env = {k: v for k, v in os.environ.items() if not k.startswith("JIRAFS_")}
        m = Mount(jirafs_bin, emu.url, mp, opts, env, str(tmp_path / f"jirafs{len(mounts)}.log"))
        mounts.append(m)
        return m.start()
    yield make
    for m in mounts:
        if m.proc is not None and m.proc.poll() is None:
            m.unmount()
        m.cleanup()
    shutil.rmtree(base, ignore_errors=True)


def as_user(user, op, *paths):
    p = subprocess.run(["runuser", "-u", user, "--", PY, "-c", SCRIPT, op, *paths],
                       capture_output=True, text=True, timeout=60, cwd="/")
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def writes(emu, since):
    return [r for r in emu.requests(since=since) if r["method"] in ("POST", "PUT", "DELETE")]


def open_key(m, project):
    return sorted(n for n in os.listdir(m.p(project))
                  if n.endswith(".json") and not os.path.islink(m.p(project, n)))[0][:-5]


def test_group_members_write_others_only_read(fresh_emulator, shared_mount, people):
    member, outsider, group = people
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = shared_mount(emu, "allow_other", f"gid={group}", "umask=002")
    gid = int(subprocess.run(["getent", "group", group], capture_output=True,
                             text=True).stdout.split(":")[2])
    st = os.stat(m.p("SEC"))
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (os.getuid(), gid, 0o775)
    assert os.stat(m.path).st_mode & 0o777 == 0o555
    assert os.stat(m.p(".jirafs")).st_mode & 0o777 == 0o555
    assert os.stat(m.p(".jirafs", "status")).st_mode & 0o777 == 0o444
    a, b = open_key(m, "SEC"), open_key(m, "OPS")
    assert os.stat(m.p("SEC", f"{a}.json")).st_mode & 0o777 == 0o664

    # the outsider reads, and every write is refused by the kernel: nothing reaches Jira
    since = emu.request_seq()
    matrix = {}
    matrix["outsider"] = {
        "ls": as_user(outsider, "ls", m.p("SEC")),
        "cat": as_user(outsider, "cat", m.p("SEC", f"{a}.json")),
        "create": as_user(outsider, "create", m.p("SEC", "outsider.json")),
        "append": as_user(outsider, "append", m.p("SEC", f"{a}.json")),
        "overwrite": as_user(outsider, "overwrite", m.p("SEC", f"{a}.json")),
        "rename": as_user(outsider, "rename", m.p("SEC", f"{a}.json"),
                          m.p("SEC", "closed", f"{a}.json")),
    }
    assert matrix["outsider"] == {"ls": "ok", "cat": "ok", "create": "EACCES",
                                  "append": "EACCES", "overwrite": "EACCES",
                                  "rename": "EACCES"}, matrix
    assert writes(emu, since) == []
    assert os.listdir(m.p(".jirafs", "outbox")) == []

    # the member does all of it
    matrix["member"] = {
        "ls": as_user(member, "ls", m.p("OPS")),
        "cat": as_user(member, "cat", m.p("OPS", f"{b}.json")),
        "create": as_user(member, "create", m.p("OPS", "member.json")),
        "append": as_user(member, "append", m.p("OPS", f"{b}.json")),
        "rename": as_user(member, "rename", m.p("OPS", f"{b}.json"),
                          m.p("OPS", "closed", f"{b}.json")),
    }
    assert set(matrix["member"].values()) == {"ok"}, matrix
    print("shared mount:", matrix)
    key = os.readlink(m.p("OPS", "member.json"))[:-5]
    assert emu.issue(key)["fields"]["summary"].startswith("made by ")
    bean = emu.issue(b)
    assert bean["fields"]["status"]["statusCategory"]["key"] == "done"
    assert any(c["body"].startswith("a note from") for c in bean["fields"]["comment"]["comments"])
    # the state directory stays the mounting user's, and private
    state = m.options[2].split("=", 1)[1]
    for root, dirs, files in os.walk(state):
        for name in dirs + files:
            st = os.lstat(os.path.join(root, name))
            assert st.st_uid == os.getuid()
            assert st.st_mode & 0o077 == 0, (name, oct(st.st_mode))


def test_without_allow_other_others_cannot_even_look(fresh_emulator, shared_mount, people):
    member, outsider, _ = people
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = shared_mount(emu)
    assert as_user(member, "ls", m.path) == "EACCES"
    assert as_user(outsider, "ls", m.p("SEC")) == "EACCES"


def test_owner_options_are_checked_at_mount(fresh_emulator, jirafs_bin, token_file, tmp_path):
    emu = fresh_emulator()
    for opt, words in (("uid=nosuchuser", "uid=nosuchuser: no such user"),
                       ("gid=nosuchgroup", "gid=nosuchgroup: no such group"),
                       ("umask=9", "umask=9: give octal digits")):
        m = Mount(jirafs_bin, emu.url, str(tmp_path / "mnt"),
                  ["auth=pat", f"token_file={token_file}", f"state_dir={tmp_path}/st", opt],
                  dict(os.environ), str(tmp_path / "log"))
        rc, out = m.run_expect_failure()
        assert rc != 0 and words in out, out


def test_uid_by_name_owns_the_tree(fresh_emulator, shared_mount, people):
    member, _, group = people
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = shared_mount(emu, f"uid={member}", f"gid={group}", "umask=027")
    st = os.stat(m.p("SEC"))
    import pwd
    assert st.st_uid == pwd.getpwnam(member).pw_uid
    assert st.st_mode & 0o777 == 0o750
    key = open_key(m, "SEC")
    assert os.stat(m.p("SEC", f"{key}.json")).st_mode & 0o777 == 0o640
    with pytest.raises(OSError) as e:
        os.chown(m.p("SEC", f"{key}.json"), 0, 0)
    assert e.value.errno == errno.EPERM
