"""Bounded libFuzzer runs (sanitizer build): the ticket JSON rendering of
what Jira sends, and the checks of what users write."""
import os
import shutil
import subprocess

import pytest

from testenv import HERE, IN_CI, build_dir

SECONDS = int(os.environ.get("JIRAFS_FUZZ_SECONDS", "30"))


@pytest.mark.parametrize("target", ["issue", "op"])
def test_fuzz(tmp_path, target):
    FUZZER = os.path.join(build_dir(), "tests", "fuzz", f"fuzz-{target}")
    if not os.access(FUZZER, os.X_OK):
        if IN_CI and "asan" in build_dir():
            pytest.fail(f"{FUZZER} was not built (the sanitizer build has -Dfuzz=true)")
        pytest.skip("the fuzz target exists only in the sanitizer build (-Dfuzz=true)")
    corpus = tmp_path / "corpus"
    shutil.copytree(os.path.join(HERE, "fuzz", f"corpus-{target}"), corpus)
    r = subprocess.run([FUZZER, f"-max_total_time={SECONDS}", "-max_len=8192",
                        "-timeout=10", "-rss_limit_mb=2048",
                        f"-artifact_prefix={tmp_path}/", str(corpus)],
                       capture_output=True, text=True, timeout=SECONDS + 120)
    tail = r.stderr[-4000:]
    assert r.returncode == 0, tail
    assert "Done " in r.stderr and " runs in " in r.stderr, tail
