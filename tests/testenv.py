"""Where the tests find things, shared by every suite.

  JIRAFS_BUILD   the meson build directory to test (default: build)
  CI             "true" in CI: missing prerequisites fail instead of skipping
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
IN_CI = os.environ.get("CI", "").lower() == "true"


def build_dir():
    return os.path.abspath(os.environ.get("JIRAFS_BUILD", os.path.join(ROOT, "build")))
