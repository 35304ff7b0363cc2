"""The man page and README stay true: lint-clean, and they name every option."""
import os
import re
import subprocess

from testenv import ROOT

MAN = os.path.join(ROOT, "man", "jirafs.1")
README = os.path.join(ROOT, "README.md")

OPTIONS = ["auth", "token_file", "user", "password_file", "projects", "cache_ttl", "timeout",
           "cacert", "insecure", "state_dir", "debug", "max_connections", "default_issuetype",
           "close_transition", "resolution", "allow_http", "consumer_key", "private_key",
           "client_id", "client_secret_file", "redirect_uri", "proxy", "tunnel", "forward_to",
           "alive_interval", "alive_count", "listen",
           "ssh_command", "connect_to", "config", "uid", "gid", "umask", "allow_other",
           "scan_autoclose", "scan_autoclose_max", "scan_min_severity", "scan_priority",
           "scan_group", "scan_accepted"]


def test_man_page_is_lint_clean():
    r = subprocess.run(["mandoc", "-Tlint", "-W", "warning", MAN], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "", r.stdout + r.stderr


def test_man_page_documents_options_files_and_exit_status():
    text = open(MAN).read()
    for opt in OPTIONS:
        assert re.search(r"\b" + opt + r"\b", text), opt
    for f in (".jirafs/status", ".jirafs/log", ".jirafs/outbox", "closed/", "user.jira.state",
              "ENOSPC"):
        assert f in text, f
    for section in ("SYNOPSIS", "OPTIONS", "FILES", "EXIT STATUS", "EXAMPLES",
                    "TROUBLESHOOTING"):
        assert re.search(r"^\.Sh " + section, text, re.M), section


def test_readme_has_the_two_commands_and_options():
    text = open(README).read()
    assert "scripts/demo" in text and "scripts/test" in text
    for opt in OPTIONS:
        assert f"`{opt}" in text, opt


def test_ci_runs_the_readme_test_command():
    ci = open(os.path.join(ROOT, ".ci", "run")).read()
    assert "scripts/test" in ci


def test_readme_shows_the_committed_benchmark_run():
    """The Speed section is the last committed bench/run: its table, its
    chart, its date and machine, and every target it missed named there as
    missed (a target is met in the run, or the README says it is not)."""
    import json
    text = open(README).read()
    results = os.path.join(ROOT, "bench", "results")
    table = open(os.path.join(results, "latest.md")).read().strip()
    assert table in text
    assert "](bench/results/latest.png)" in text
    assert os.path.getsize(os.path.join(results, "latest.png")) > 1000
    run = json.load(open(os.path.join(results, "latest.json")))
    assert run["date"] in table and run["machine"] in table
    assert len(run["targets"]) == 17, run["targets"]
    speed = text[text.index("## Speed"):text.index("## Development")]
    for t in run["targets"]:
        if not t["met"]:
            said = " ".join(speed.replace("**", "").split())
            assert f"Missed: {t['target']}" in said, t["target"]
    assert "\n    bench/run\n" in text


def test_readme_pictures_every_source_file():
    """The Development section's table names every .c file of fs/, scan/,
    jira/, check/, cli/ and agent/, so that the picture of the house stays true."""
    text = open(README).read()
    house = text[text.index("### The house"):]
    for folder in ("fs", "scan", "jira", "check", "cli", "agent"):
        for name in sorted(os.listdir(os.path.join(ROOT, folder))):
            if name.endswith(".c"):
                assert f"`{folder}/{name}`" in house, f"{folder}/{name}"


def check_lines():
    """The names of the lines `jirafs check` prints, read from its source:
    every literal a check_say() or a `what` gets, "project %s" as "project KEY"."""
    names = set()
    for name in os.listdir(os.path.join(ROOT, "check")):
        if not name.endswith(".c"):
            continue
        src = open(os.path.join(ROOT, "check", name)).read()
        names |= set(re.findall(r'check_say\([^,]+,[^,"]+,\s*"([^"]+)"', src))
        names |= set(re.findall(r'\bwhat\s*=\s*"([^"]+)"', src))
        if '"project %s"' in src:
            names.add("project KEY")
    return names


def test_readme_prerequisites_mirror_jirafs_check_line_by_line():
    text = open(README).read()
    start = text.index("## Before you start: what your Jira admin sets up")
    section = text[start:text.index("\n## ", start + 1)]
    rows = re.findall(r"^\| `([^`]+)` \|", section, re.M)
    lines = check_lines()
    assert len(lines) >= 18, sorted(lines)
    assert set(rows) == lines, (sorted(set(rows) - lines), sorted(lines - set(rows)))
    man = open(MAN).read()
    for name in lines:
        assert name in man, name
