"""`meson install` installs the daemon and its man page."""
import os
import subprocess

from testenv import build_dir


def test_meson_install_installs_binary_and_man_page(tmp_path):
    r = subprocess.run(["meson", "install", "-C", build_dir(), "--no-rebuild", "--destdir",
                        str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    files = {os.path.relpath(os.path.join(d, f), tmp_path)
             for d, _, fs in os.walk(tmp_path) for f in fs}
    assert any(f.endswith("bin/jirafs") for f in files), files
    assert any(f.endswith("man/man1/jirafs.1") for f in files), files
    binary = [os.path.join(tmp_path, f) for f in files if f.endswith("bin/jirafs")][0]
    out = subprocess.run([binary, "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("jirafs ")
