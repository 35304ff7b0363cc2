"""Fixtures of the integration suites: the emulator, and real mounts."""
import os
import shutil

import pytest

from testenv import IN_CI, build_dir
from emulator.control import Emulator
from mountlib import Mount

PAT = "alice-pat"


@pytest.fixture(scope="session")
def jirafs_bin():
    path = os.path.join(build_dir(), "jirafs")
    if not os.access(path, os.X_OK):
        pytest.fail(f"no jirafs binary at {path}: build first (meson setup build && ninja -C build)")
    return path


@pytest.fixture(scope="session", autouse=True)
def fuse_ready():
    missing = [w for w, ok in (("/dev/fuse", os.path.exists("/dev/fuse")),
                               ("fusermount3", shutil.which("fusermount3")))
               if not ok]
    if missing:
        msg = "FUSE is not usable here: missing " + ", ".join(missing)
        if IN_CI:
            pytest.fail(msg + " (CI=true: this is a failure, not a skip)")
        pytest.skip(msg)


def start_emulator(tmp, **kw):
    emu = Emulator.start(str(tmp), **kw)
    return emu


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """One emulator for the read-only suites: demo projects plus BIG, a
    2,500-ticket project with every 5th ticket closed, at a clamp of 100."""
    emu = start_emulator(tmp_path_factory.mktemp("emu"), max_results=100,
                         seed_projects=["BIG:2500:5"], extra_args=["--seed", "demo"])
    yield emu
    emu.stop()


@pytest.fixture
def fresh_emulator(tmp_path):
    """An emulator of this test's own (for faults, outages, hostile data)."""
    emus = []

    def make(**kw):
        kw.setdefault("max_results", 100)
        emu = start_emulator(tmp_path / f"emu{len(emus)}", **kw)
        emus.append(emu)
        return emu
    yield make
    for e in emus:
        e.kill()


@pytest.fixture(scope="session")
def token_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("secrets")
    path = d / "token"
    path.write_text(PAT + "\n")
    path.chmod(0o600)
    return str(path)


@pytest.fixture
def mount(jirafs_bin, token_file, tmp_path):
    """mount(emu, *options, start=True) -> Mount (unmounted at teardown,
    which must succeed cleanly for mounts the test left mounted)."""
    mounts = []

    def make(emu, *options, start=True, auth=True, url=None, env=None):
        n = len(mounts)
        opts = []
        if auth:
            opts += ["auth=pat", f"token_file={token_file}"]
        opts += [f"state_dir={tmp_path}/state{n}"]
        opts += list(options)
        e = {k: v for k, v in os.environ.items() if not k.startswith("JIRAFS_")}
        e.update(env or {})
        m = Mount(jirafs_bin, url or emu.url, str(tmp_path / f"mnt{n}"), opts, e,
                  str(tmp_path / f"jirafs{n}.log"))
        mounts.append(m)
        if start:
            m.start()
        return m
    yield make
    errors = []
    for m in mounts:
        if m.proc is not None and m.proc.poll() is None:
            try:
                m.unmount()
            except Exception as exc:  # report after cleaning up the rest
                errors.append(exc)
        m.cleanup()
    if errors:
        raise errors[0]
