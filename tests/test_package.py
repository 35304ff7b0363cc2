"""The Debian package (CONTRACT §12): `dpkg-buildpackage -us -uc -b` on a copy
of the tree builds jirafs_VERSION_ARCH.deb; it holds the binary, the man page,
the mount helper name, the systemd units and the examples where they belong;
lintian finds no error in it; systemd-analyze accepts its units; and the
binary in it mounts the emulator, by itself and through `mount -t fuse.jirafs`
and the shipped /etc/fstab line.

The package is built once for the module, in a temporary directory (the
working tree gets no debian/ build artifacts, nor a .deb in its parent).
"""
import glob
import json
import os
import re
import shutil
import subprocess

import pytest

from emulator.control import Emulator
from mountlib import Mount, creates, is_mounted, wait_for
from testenv import IN_CI, ROOT

# the build and the checks of the module's first test fit in this (it is
# about 30 s on two cores)
pytestmark = pytest.mark.timeout(900)

PAT = "alice-pat"
AGENT_UNIT = "jirafs-agent@.service"
MOUNT_EXAMPLE = "mnt-jira.mount.example"


def meson_version():
    text = open(os.path.join(ROOT, "meson.build")).read()
    m = re.search(r"^project\(.*?\bversion\s*:\s*'([^']+)'", text, re.S | re.M)
    assert m, "no version : '...' in meson.build's project()"
    return m.group(1)


def changelog_version():
    first = open(os.path.join(ROOT, "debian", "changelog")).readline()
    m = re.match(r"jirafs \(([^)\s]+)\) ", first)
    assert m, f"debian/changelog does not start with 'jirafs (VERSION)': {first!r}"
    return m.group(1)


def missing_or_fail(what):
    msg = f"cannot build the Debian package here: {what} (scripts/deps installs it)"
    if IN_CI:
        pytest.fail(msg + " (CI=true: this is a failure, not a skip)")
    pytest.skip(msg)


def copy_tree(dest):
    """The source tree as git sees it (tracked and untracked files, not the
    ignored build directories) copied to dest; a tree without git is copied
    whole, less its build directories."""
    r = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others",
                        "--exclude-standard"], capture_output=True)
    if r.returncode != 0:
        shutil.copytree(ROOT, dest, symlinks=True, ignore=shutil.ignore_patterns(
            ".git", "build", "build-*", "obj-*", "__pycache__"))
        return
    for rel in r.stdout.decode().split("\0"):
        src = os.path.join(ROOT, rel)
        if not rel or not os.path.lexists(src):          # deleted, not yet committed
            continue
        os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, rel), follow_symlinks=False)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """(the .deb, the directory it is unpacked in, the version)."""
    for tool in ("dpkg-buildpackage", "dh", "dpkg-deb"):
        if not shutil.which(tool):
            missing_or_fail(tool)
    version = meson_version()
    top = tmp_path_factory.mktemp("package")
    src = top / "jirafs"
    copy_tree(str(src))
    # nocheck: the test suites do not run inside the package build (see
    # debian/rules)
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=2")
    env = {k: v for k, v in env.items() if not k.startswith("JIRAFS_")}
    r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=env,
                       capture_output=True, text=True, timeout=800)
    assert r.returncode == 0, "dpkg-buildpackage failed:\n" + (r.stdout + r.stderr)[-6000:]
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                          text=True, check=True).stdout.strip()
    deb = top / f"jirafs_{version}_{arch}.deb"
    assert deb.exists(), sorted(os.listdir(top))
    root = top / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return deb, root, version


def test_changelog_carries_the_meson_version():
    """meson.build's version is the one place it lives; debian/changelog
    names the same upstream version (native: no Debian revision)."""
    upstream = changelog_version().split(":")[-1].rsplit("-", 1)[0]
    assert upstream == meson_version()


def test_package_installs_the_files_where_they_belong(package):
    deb, root, version = package

    def p(rel):
        return root / rel
    assert os.access(p("usr/bin/jirafs"), os.X_OK)
    assert p("usr/share/man/man1/jirafs.1.gz").is_file()
    # the mount helper name, for mount -t fuse.jirafs: fuse3's mount.fuse3
    # under the name that gives it the type
    helper = p("usr/sbin/mount.fuse.jirafs")
    assert helper.is_symlink() and os.readlink(helper) == "mount.fuse3"
    assert os.readlink(p("usr/share/man/man8/mount.fuse.jirafs.8.gz")) == \
        "../man1/jirafs.1.gz"
    units = glob.glob(str(root / "*" / "systemd" / "system" / AGENT_UNIT)) + \
        glob.glob(str(root / "usr" / "*" / "systemd" / "system" / AGENT_UNIT))
    assert units, "no " + AGENT_UNIT
    doc = p("usr/share/doc/jirafs")
    for name in ("copyright", "changelog.gz", "fstab.example", MOUNT_EXAMPLE):
        assert (doc / name).is_file(), name
    assert "fuse.jirafs" in (doc / "fstab.example").read_text()


def test_package_control_fields(package):
    deb, root, version = package

    def field(name):
        return subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True,
                              text=True, check=True).stdout.strip()
    assert field("Package") == "jirafs"
    assert field("Version") == version
    depends = field("Depends")
    for lib in ("libfuse3", "libcurl", "fuse3"):
        assert lib in depends, depends
    assert "openssh-client" in field("Depends") + field("Recommends")
    info = subprocess.run(["dpkg-deb", "-I", str(deb)], capture_output=True, text=True,
                          check=True).stdout
    assert "Package: jirafs" in info and f"Version: {version}" in info


def test_packaged_binary_prints_the_version(package):
    deb, root, version = package
    r = subprocess.run([str(root / "usr/bin/jirafs"), "--version"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == f"jirafs {version}", r.stdout


def test_lintian_reports_no_error(package):
    deb, root, version = package
    if not shutil.which("lintian"):
        missing_or_fail("lintian")
    r = subprocess.run(["lintian", str(deb)], capture_output=True, text=True, timeout=300)
    errors = [line for line in r.stdout.splitlines() if line.startswith("E:")]
    assert errors == [], r.stdout + r.stderr
    # lintian exits 2 when it could not check at all
    assert r.returncode in (0, 1), r.stdout + r.stderr


# ---- mounting with the packaged binary -------------------------------------

@pytest.fixture
def fuse_ready():
    missing = [w for w, ok in (("/dev/fuse", os.path.exists("/dev/fuse")),
                               ("fusermount3", shutil.which("fusermount3"))) if not ok]
    if missing:
        msg = "FUSE is not usable here: missing " + ", ".join(missing)
        if IN_CI:
            pytest.fail(msg + " (CI=true: this is a failure, not a skip)")
        pytest.skip(msg)


@pytest.fixture
def emu(tmp_path, fuse_ready):
    e = Emulator.start(str(tmp_path / "emu"), max_results=100, extra_args=["--seed", "demo"])
    yield e
    e.kill()


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "token"
    path.write_text(PAT + "\n")
    path.chmod(0o600)
    return str(path)


def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("JIRAFS_")}


def test_packaged_binary_mounts_reads_and_creates(package, emu, token_file, tmp_path):
    deb, root, version = package
    m = Mount(str(root / "usr/bin/jirafs"), emu.url, str(tmp_path / "mnt"),
              ["auth=pat", f"token_file={token_file}", f"state_dir={tmp_path}/state"],
              clean_env(), str(tmp_path / "jirafs.log"))
    try:
        m.start()
        names = os.listdir(m.p("SEC"))
        key = sorted(n for n in names if n.endswith(".json"))[0][:-5]
        # the one version, from meson.build, in .jirafs/status too
        assert json.load(open(m.p(".jirafs", "status")))["jirafs"] == version
        doc = json.load(open(m.p("SEC", key + ".json")))
        assert doc["key"] == key and doc["summary"] == emu.issue(key)["fields"]["summary"]
        since = emu.request_seq()
        with open(m.p("SEC", "from-the-package.json"), "w") as f:
            f.write('{"summary": "filed by the packaged jirafs", "issuetype": "Bug"}\n')
        posts = creates(emu, since)
        assert len(posts) == 1 and posts[0]["status"] == 201, posts
        new = os.readlink(m.p("SEC", "from-the-package.json"))[:-5]
        assert emu.issue(new)["fields"]["summary"] == "filed by the packaged jirafs"
        m.unmount()
    finally:
        m.cleanup()


# In a mount namespace of the test's own, the package's /usr/bin and /usr/sbin
# lie over the system's (overlayfs), so that the names are where an
# installed package puts them, and the generic /sbin/mount.fuse is removed:
# only the package's mount.fuse.jirafs can serve fuse.jirafs.  Then
# mount -t fuse.jirafs with the options of an fstab line, and mount -T with
# the first line of the shipped fstab.example.
HELPER_SCRIPT = r"""set -eu
mount -t tmpfs tmpfs "$WORK"
for d in bin sbin; do
	mkdir "$WORK/$d.up" "$WORK/$d.work"
	mount -t overlay overlay \
		-o "lowerdir=$PKG/usr/$d:/usr/$d,upperdir=$WORK/$d.up,workdir=$WORK/$d.work" \
		"/usr/$d" || exit 97
done
rm -f /usr/sbin/mount.fuse
test ! -e /sbin/mount.fuse
command -v jirafs > "$OUT/which"

mount -t fuse.jirafs "$URL" "$MNT" -o "noauto,_netdev,nofail,x-systemd.automount,$OPTS"
grep " $MNT " /proc/self/mounts > "$OUT/mounts"
ls "$MNT/SEC" > "$OUT/sec"
cat "$MNT/SEC/SEC-1.json" > "$OUT/sec-1"
printf '{"summary": "filed through mount -t fuse.jirafs"}\n' > "$MNT/SEC/by-helper.json"
readlink "$MNT/SEC/by-helper.json" > "$OUT/created"
umount "$MNT"

mount -T "$FSTAB" "$MNT"
ls -A "$MNT" > "$OUT/fstab-root"
umount "$MNT"
"""


def test_mount_t_fuse_jirafs_through_the_packaged_helper(package, emu, token_file, tmp_path):
    deb, root, version = package
    if os.geteuid() != 0 or not shutil.which("unshare"):
        if IN_CI:
            pytest.fail("CI runs as root, with util-linux's unshare")
        pytest.skip("mount(8) with a helper, in a mount namespace, needs root")
    mnt, out, work = tmp_path / "mnt", tmp_path / "out", tmp_path / "work"
    for d in (mnt, out, work):
        d.mkdir()
    state = tmp_path / "state"
    # the emulator speaks http: allow_http, on top of what an admin writes
    opts = f"auth=pat,token_file={token_file},state_dir={state},allow_http"
    example = (root / "usr/share/doc/jirafs/fstab.example").read_text()
    line = next(x for x in example.splitlines() if x and not x.startswith("#"))
    line = (line.replace("https://jira.example.com", emu.url)
                .replace("/mnt/jira", str(mnt))
                .replace("/etc/jirafs/token", token_file)
                .replace("/var/lib/jirafs/jira.example.com", str(tmp_path / "state2")))
    fields = line.split()
    assert len(fields) == 6 and fields[2] == "fuse.jirafs", line
    fields[3] += ",allow_http"
    fstab = tmp_path / "fstab"
    fstab.write_text(" ".join(fields) + "\n")
    env = clean_env()
    env.update(PKG=str(root), WORK=str(work), URL=emu.url, MNT=str(mnt), OUT=str(out),
               OPTS=opts, FSTAB=str(fstab))
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                        HELPER_SCRIPT], env=env, capture_output=True, text=True, timeout=180)
    if r.returncode == 97 and not IN_CI:
        pytest.skip("no overlayfs here: " + r.stderr)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (out / "which").read_text().strip() == "/usr/bin/jirafs"
    assert " fuse.jirafs " in (out / "mounts").read_text()
    assert json.loads((out / "sec-1").read_text())["key"] == "SEC-1"
    created = (out / "created").read_text().strip()[:-5]
    assert emu.issue(created)["fields"]["summary"] == "filed through mount -t fuse.jirafs"
    assert {".jirafs", "SEC", "queries"} <= set((out / "fstab-root").read_text().split())
    assert not is_mounted(str(mnt))
    # each daemon went away with its unmount
    wait_for(lambda: subprocess.run(["pgrep", "-f", f"jirafs {emu.url} {mnt}"],
                                    capture_output=True).returncode != 0,
             20, "jirafs's exit after umount")


# ---- systemd units ---------------------------------------------------------

VERIFY_SCRIPT = r"""set -eu
mount -t tmpfs tmpfs "$WORK"
mkdir "$WORK/up" "$WORK/work"
mount -t overlay overlay -o "lowerdir=$PKG/usr/bin:/usr/bin,upperdir=$WORK/up,workdir=$WORK/work" \
	/usr/bin || exit 97
exec systemd-analyze verify "$@"
"""


def test_systemd_analyze_verifies_the_units(package, tmp_path):
    deb, root, version = package
    if not os.path.exists("/usr/bin/systemd-analyze"):
        missing_or_fail("systemd-analyze (package systemd)")
    units = glob.glob(str(root / "*" / "systemd" / "system" / "*")) + \
        glob.glob(str(root / "usr" / "*" / "systemd" / "system" / "*"))
    assert any(u.endswith(AGENT_UNIT) for u in units), units
    # the example under the name it is to be installed with
    d = tmp_path / "units"
    d.mkdir()
    shutil.copy(root / "usr/share/doc/jirafs" / MOUNT_EXAMPLE, d / "mnt-jira.mount")
    for u in units:
        shutil.copy(u, d / os.path.basename(u))
    names = sorted(os.listdir(d))
    paths = [str(d / n) for n in names]
    # Documentation=man:jirafs(1) is looked up with man(1): the packaged page
    env = dict(os.environ, MANPATH=str(root / "usr/share/man"))
    if os.geteuid() == 0 and shutil.which("unshare"):
        # ExecStart=/usr/bin/jirafs must exist: the package's /usr/bin over
        # the system's, in a mount namespace of the test's own
        work = tmp_path / "work"
        work.mkdir()
        env.update(PKG=str(root), WORK=str(work))
        r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            VERIFY_SCRIPT, "sh"] + paths, env=env, capture_output=True,
                           text=True, timeout=120)
        tolerated = []
    else:
        r = subprocess.run(["systemd-analyze", "verify"] + paths, env=env,
                           capture_output=True, text=True, timeout=120)
        tolerated = ["Command /usr/bin/jirafs is not executable"]
    if r.returncode == 97 and not IN_CI:
        pytest.skip("no overlayfs here: " + r.stderr)
    report = (r.stdout + r.stderr).splitlines()
    ours = [n.split("@")[0] for n in names]
    errors = [line for line in report
              if any(o in line for o in ours) and not any(t in line for t in tolerated)]
    assert errors == [], "\n".join(report)
    if not tolerated:
        assert r.returncode == 0, "\n".join(report)
