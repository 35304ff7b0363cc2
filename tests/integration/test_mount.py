"""Mounting: the credential and transport checks, HTTPS, the command line."""
import os
import subprocess

import pytest

from mountlib import free_port, is_mounted, wait_for


def test_https_with_cacert(fresh_emulator, mount):
    emu = fresh_emulator(tls=True, extra_args=["--seed", "demo"])
    assert emu.url.startswith("https://")
    m = mount(emu, f"cacert={emu.ca_path}")
    assert "SEC" in os.listdir(m.path)
    assert any(n.endswith(".json") for n in os.listdir(m.p("SEC")))


def test_https_without_cacert_is_refused_cleanly(fresh_emulator, mount):
    emu = fresh_emulator(tls=True)
    m = mount(emu, start=False)
    rc, out = m.run_expect_failure()
    assert rc == 3
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert "TLS" in lines[0] and "cacert" in lines[0]
    assert emu.requests() == []          # nothing got through


def test_https_insecure_warns_and_mounts(fresh_emulator, mount):
    emu = fresh_emulator(tls=True, extra_args=["--seed", "demo"])
    m = mount(emu, "insecure")
    assert "SEC" in os.listdir(m.path)
    m.unmount()
    assert "insecure" in m.log() and "not verified" in m.log()


@pytest.mark.parametrize("token", ["wrong-token", "expired"])
def test_bad_or_expired_token_refuses_mount(fresh_emulator, mount, tmp_path, token):
    emu = fresh_emulator()
    if token == "expired":
        token = emu.new_pat("alice", expires_in=-60)
    tf = tmp_path / "bad-token"
    tf.write_text(token)
    tf.chmod(0o600)
    m = mount(emu, "auth=pat", f"token_file={tf}", start=False, auth=False)
    rc, out = m.run_expect_failure()
    assert rc == 2
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert "did not accept the credentials" in lines[0]
    assert token not in out                  # the secret never printed
    assert not is_mounted(m.path)


def test_token_file_readable_by_others_is_refused(fresh_emulator, mount, tmp_path):
    emu = fresh_emulator()
    tf = tmp_path / "loose-token"
    tf.write_text("alice-pat")
    tf.chmod(0o644)
    m = mount(emu, "auth=pat", f"token_file={tf}", start=False, auth=False)
    rc, out = m.run_expect_failure()
    assert rc == 1
    assert "chmod 600" in out
    assert emu.requests() == []


def test_token_from_environment(fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu, "auth=pat", auth=False, env={"JIRAFS_TOKEN": "alice-pat"})
    assert "SEC" in os.listdir(m.path)


def test_unreachable_host_refuses_mount(mount, tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    m = mount(None, "timeout=3", start=False, url=url)
    rc, out = m.run_expect_failure()
    assert rc == 3
    assert out.strip().splitlines() == [out.strip()]
    assert "cannot reach" in out and url in out


def test_options_checked_once_and_debug_said_once(jirafs_bin, tmp_path):
    # the options are checked before the network (a typo named by libfuse),
    # and -d's lines are not doubled by that check
    tok = tmp_path / "tok"
    tok.write_text("x\n")
    tok.chmod(0o600)
    url = f"http://127.0.0.1:{free_port()}"
    r = subprocess.run([jirafs_bin, "-d", "-o", f"token_file={tok},timeout=2", url,
                        str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 3, r.stderr
    assert r.stderr.count("FUSE library version") == 1, r.stderr
    r = subprocess.run([jirafs_bin, "-o", f"token_file={tok},max_read=x", url, str(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "max_read" in r.stderr and "cannot reach" not in r.stderr


def test_bad_url_and_usage(jirafs_bin, tmp_path):
    r = subprocess.run([jirafs_bin, "ftp://x", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 1 and "https://" in r.stderr
    r = subprocess.run([jirafs_bin], capture_output=True, text=True)
    assert r.returncode == 1 and "usage" in r.stderr
    r = subprocess.run([jirafs_bin, "-o", "no_such_option", "http://127.0.0.1:1", str(tmp_path)],
                       capture_output=True, text=True, env={"JIRAFS_TOKEN": "x"})
    assert r.returncode != 0 and "no_such_option" in r.stderr


def test_help_and_version(jirafs_bin):
    r = subprocess.run([jirafs_bin, "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for opt in ("auth=", "token_file=", "projects=", "cache_ttl=", "timeout=", "cacert=",
                "insecure", "state_dir=", "debug", "max_connections="):
        assert opt in r.stdout, opt
    r = subprocess.run([jirafs_bin, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("jirafs ")


def test_debug_trace_redacts_authorization(fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu, "debug")
    os.listdir(m.p("SEC"))
    m.unmount()
    log = m.log()
    assert "Authorization: <redacted>" in log
    assert "alice-pat" not in log
    assert "POST /rest/api/2/search" in log


def test_state_dir_is_created_private(fresh_emulator, mount, tmp_path):
    emu = fresh_emulator()
    m = mount(emu, f"state_dir={tmp_path}/st/deeper")
    assert os.path.isdir(tmp_path / "st" / "deeper")
    assert os.stat(tmp_path / "st" / "deeper").st_mode & 0o077 == 0


def test_daemonized_mount_with_relative_paths(fresh_emulator, jirafs_bin, token_file, tmp_path):
    """Without -f jirafs detaches (and changes to /): relative cacert= and
    state_dir= must still work, and the daemon must end at unmount."""
    import glob
    import shutil
    emu = fresh_emulator(tls=True, extra_args=["--seed", "demo"])
    shutil.copy(emu.ca_path, tmp_path / "ca.pem")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    env = dict(os.environ)
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):   # reports go to files once detached
        env[var] = env.get(var, "") + f":log_path={tmp_path}/sanitizer"
    r = subprocess.run([jirafs_bin, "-o", f"auth=pat,token_file={token_file},cacert=ca.pem,"
                        "state_dir=st", emu.url, "mnt"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    try:
        assert r.returncode == 0, r.stdout + r.stderr
        assert is_mounted(str(mnt))
        assert any(n.endswith(".json") for n in os.listdir(mnt / "SEC"))
        assert (tmp_path / "st").is_dir()
    finally:
        subprocess.run(["fusermount3", "-u", str(mnt)], capture_output=True)
    wait_for(lambda: subprocess.run(["pgrep", "-f", f"jirafs.*{emu.url} mnt"],
                                    capture_output=True).returncode != 0,
             10, "the daemon's exit after the unmount", interval=0.05)
    reports = glob.glob(f"{tmp_path}/sanitizer*")
    assert reports == [], open(reports[0]).read()
