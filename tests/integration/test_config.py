"""Operating it (CONTRACT §7): options from ~/.config/jirafs/config or
-o config=FILE, and mounting through mount(8) and an /etc/fstab line."""
import os
import shutil
import subprocess

import pytest

from mountlib import is_mounted, status, wait_for
from testenv import IN_CI


def write_config(path, text, mode=0o600):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def projects(path):
    return sorted(n for n in os.listdir(path) if n not in (".jirafs", "queries"))


def test_config_file_supplies_options_and_the_command_line_wins(emulator, mount, token_file,
                                                                tmp_path):
    xdg = tmp_path / "xdg"
    write_config(str(xdg / "jirafs" / "config"),
                 "# jirafs options, one a line\n"
                 "\n"
                 f"  auth=pat\n"
                 f"token_file={token_file}   \r\n"
                 "cache_ttl=7\n"
                 "projects=SEC,OPS\n")
    m = mount(emulator, auth=False, env={"XDG_CONFIG_HOME": str(xdg)})
    assert projects(m.path) == ["OPS", "SEC"]
    assert status(m)["cache"]["ttl_seconds"] == 7
    m.unmount()
    # -o after the file: the last of an option wins, projects= included
    m = mount(emulator, "cache_ttl=9", "projects=WEB", auth=False,
              env={"XDG_CONFIG_HOME": str(xdg)})
    assert projects(m.path) == ["WEB"]
    assert status(m)["cache"]["ttl_seconds"] == 9


def test_config_option_names_another_file(emulator, mount, token_file, tmp_path):
    other = tmp_path / "elsewhere.conf"
    write_config(str(other), f"auth=pat\ntoken_file={token_file}\nprojects=WEB\n")
    # the default file is not read when config= names one
    write_config(str(tmp_path / "xdg" / "jirafs" / "config"), "projects=SEC\n")
    m = mount(emulator, f"config={other}", auth=False,
              env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    assert projects(m.path) == ["WEB"]


@pytest.mark.parametrize("case", ["missing", "others-may-write", "config-inside", "control-char",
                                  "unknown-option"])
def test_bad_config_file_refuses_to_mount(emulator, mount, token_file, tmp_path, case):
    conf = tmp_path / "bad.conf"
    body = f"auth=pat\ntoken_file={token_file}\n"
    if case == "others-may-write":
        write_config(str(conf), body, mode=0o622)
    elif case == "config-inside":
        write_config(str(conf), body + f"config={conf}\n")
    elif case == "control-char":
        write_config(str(conf), body + "cache_ttl=5\x1b[2J\n")
    elif case == "unknown-option":
        write_config(str(conf), body + "no_such_option=1\n")
    m = mount(emulator, f"config={conf}", auth=False, start=False)
    since = emulator.request_seq()
    rc, out = m.run_expect_failure()
    assert rc == 1, out
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    if case == "unknown-option":
        assert "no_such_option" in lines[0]
    else:
        assert str(conf) in lines[0]
    assert not is_mounted(m.path)
    assert emulator.requests(since=since) == []                  # refused before any request


@pytest.fixture
def as_root():
    if os.geteuid() != 0 or not shutil.which("unshare") or not os.path.exists("/sbin/mount.fuse"):
        if IN_CI:
            pytest.fail("CI runs as root, with util-linux and fuse3's mount.fuse")
        pytest.skip("mount(8) with a helper needs root and fuse3's mount.fuse")


HELPER_SCRIPT = """set -e
# jirafs as `meson install` puts it: by name, in the PATH mount(8) gives
# its helpers (here in a mount namespace of this test's own)
mount --bind "$BIN" /usr/local/bin
mount -t fuse.jirafs -o "$OPTS,projects=SEC,_netdev,nofail" "$URL" "$MNT"
ls -A "$MNT" > "$OUT/first"
ls "$MNT/SEC" > "$OUT/sec"
umount "$MNT"
mount -T "$FSTAB" "$MNT"
ls -A "$MNT" > "$OUT/second"
# the source is the URL, so that mount -a knows the line is mounted
findmnt -n -o SOURCE,FSTYPE "$MNT" > "$OUT/source"
mount -a -T "$FSTAB_AUTO"
mount -a -T "$FSTAB_AUTO"
findmnt -n -o SOURCE "$MNT" | wc -l > "$OUT/count"
umount "$MNT"
"""


def test_mount_t_fuse_jirafs_and_an_fstab_line(as_root, emulator, jirafs_bin, token_file,
                                                tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(jirafs_bin, bindir / "jirafs")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    opts = f"auth=pat,token_file={token_file},state_dir={tmp_path}/state"
    fstab = tmp_path / "fstab"
    fstab.write_text(f"# jirafs, as in /etc/fstab\n{emulator.url} {mnt} fuse.jirafs "
                     f"noauto,_netdev,x-systemd.automount,{opts},projects=OPS 0 0\n")
    auto = tmp_path / "fstab-auto"
    auto.write_text(f"{emulator.url} {mnt} fuse.jirafs _netdev,{opts},projects=OPS 0 0\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIRAFS_")}
    env.update(BIN=str(bindir), OPTS=opts, URL=emulator.url, MNT=str(mnt), OUT=str(out),
               FSTAB=str(fstab), FSTAB_AUTO=str(auto))
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                        HELPER_SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (out / "first").read_text().split() == [".jirafs", "SEC", "queries"]
    assert any(n.endswith(".json") for n in (out / "sec").read_text().split())
    assert (out / "second").read_text().split() == [".jirafs", "OPS", "queries"]
    assert (out / "source").read_text().split() == [emulator.url, "fuse.jirafs"]
    assert (out / "count").read_text().strip() == "1"      # mounted once, not twice
    # each daemon went away with its unmount
    wait_for(lambda: subprocess.run(["pgrep", "-f", f"jirafs {emulator.url} {mnt}"],
                                    capture_output=True).returncode != 0,
             20, "jirafs's exit after umount")
