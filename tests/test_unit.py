"""The C unit tests (tests/unit), one pytest case per C test."""
import os
import subprocess

import pytest

from testenv import build_dir

UNIT = os.path.join(build_dir(), "tests", "unit", "jirafs-unit")


def unit_names():
    if not os.access(UNIT, os.X_OK):
        return ["<missing unit binary>"]
    out = subprocess.run([UNIT, "--list"], capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.mark.parametrize("name", unit_names())
def test_c_unit(name):
    assert os.access(UNIT, os.X_OK), f"{UNIT} was not built"
    r = subprocess.run([UNIT, name], capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    assert "AddressSanitizer" not in out and "runtime error:" not in out, out
    assert r.returncode == 0 and f"ok 1 - {name}" in r.stdout, out
