"""The README's demo command: it mounts the emulator, prints what to try,
the suggested commands work, and Ctrl-C stops everything cleanly."""
import json
import os
import signal
import subprocess
import time

from mountlib import is_mounted
from testenv import ROOT


def start_demo(tmp_path, mnt):
    """scripts/demo in its own session; returns it once it says what to try."""
    env = dict(os.environ, JIRAFS_DEMO_DIR=str(tmp_path / "demo"))
    out = open(tmp_path / "demo.out", "w+")
    # As from a terminal, where Ctrl-C is heard: a shell that was started
    # with SIGINT ignored (a background job of a script, as the suite may
    # be) can never trap it, so the demo is started with it at its default.
    p = subprocess.Popen(["env", "--default-signal=INT,QUIT",
                          os.path.join(ROOT, "scripts", "demo"), str(mnt)], stdout=out,
                         stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + 300
    while "Press Ctrl-C" not in open(tmp_path / "demo.out").read():
        if p.poll() is not None or time.monotonic() > deadline:
            os.killpg(p.pid, signal.SIGINT)
            raise AssertionError("the demo did not start:\n" + open(tmp_path / "demo.out").read())
        time.sleep(0.1)
    return p


def stop_demo(p):
    os.killpg(p.pid, signal.SIGINT)                              # Ctrl-C
    try:
        return p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        ps = subprocess.run(["ps", "-o", "pid,stat,wchan:16,args", "-g", str(p.pid)],
                            capture_output=True, text=True).stdout
        raise AssertionError("the demo did not stop on Ctrl-C:\n" + ps) from None


def test_demo_mounts_prints_what_to_try_and_stops_on_ctrl_c(tmp_path):
    mnt = tmp_path / "mnt"
    p = start_demo(tmp_path, mnt)
    try:
        text = open(tmp_path / "demo.out").read()
        assert f"jirafs is mounted at {mnt}" in text
        assert is_mounted(str(mnt))
        # what the demo suggests works
        assert {"SEC", "OPS", "WEB", "BIG"} <= set(os.listdir(mnt))
        r = subprocess.run("jq -r '.key + \"  \" + .summary' SEC/*.json", shell=True, cwd=mnt,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "SEC-1  " in r.stdout
        r = subprocess.run("grep -rl CVE-2023-0286 BIG | head", shell=True, cwd=mnt,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout.strip()
        # closed/, scans/, attachments/ + open tickets
        assert len(os.listdir(mnt / "BIG")) == 3 + 3750
        assert json.loads(open(mnt / ".jirafs" / "status").read())["user"] == "alice"
        # the searches it suggests: the favourite filter, one written, one refused
        todo = ("echo 'project in (SEC, OPS) AND resolution = Unresolved ORDER BY priority DESC'"
                " > queries/todo.jql")
        assert todo in text
        r = subprocess.run(todo + " && ls -U queries/todo && ls -U 'queries/My open SEC tickets'",
                           shell=True, cwd=mnt, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "OPS-" in r.stdout and "SEC-" in r.stdout
        assert os.readlink(mnt / "queries" / "todo" / r.stdout.split()[0]).startswith("../../")
        r = subprocess.run("echo 'project = SEC AND' > queries/bad.jql;"
                           " getfattr -n user.jira.error queries/bad.jql", shell=True, cwd=mnt,
                           capture_output=True, text=True, timeout=60)
        assert "Error in the JQL Query" in r.stdout, r.stdout + r.stderr
        # the attachments it suggests: a download, an upload
        assert "cat SEC/attachments/SEC-1/scan-report.txt" in text
        r = subprocess.run("ls -l SEC/attachments/SEC-1 && cat SEC/attachments/SEC-1/scan-report.txt"
                           " && cp /etc/os-release SEC/attachments/SEC-2/",
                           shell=True, cwd=mnt, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "screenshot.png" in r.stdout and "Nessus scan report" in r.stdout
        with open("/etc/os-release", "rb") as f:
            assert open(mnt / "SEC" / "attachments" / "SEC-2" / "os-release", "rb").read() == f.read()
        # and the writes it suggests
        r = subprocess.run(
            "echo '{\"summary\": \"TLS 1.0 on web-03\", \"priority\": \"High\"}' > SEC/tls.json"
            " && echo 'Retested: still vulnerable' >> SEC/tls.json"
            " && sed -i 's/web-03/web-04/' SEC/tls.json"
            " && mv SEC/$(readlink SEC/tls.json) SEC/closed/",
            shell=True, cwd=mnt, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        doc = json.loads(open(mnt / "SEC" / "tls.json").read())
        assert doc["summary"] == "TLS 1.0 on web-04" and doc["status"] == "Closed"
        assert doc["comments"][-1]["body"] == "Retested: still vulnerable"
        # the scanner report it suggests: tickets once, nothing the second time
        fixture = os.path.join(ROOT, "tests", "fixtures", "scans", "trivy-report.json")
        assert f"cp {fixture} SEC/scans/web-01.json" in text
        result = mnt / "SEC" / "scans" / "web-01.json.result.json"
        r = subprocess.run(f"cp {fixture} SEC/scans/web-01.json", shell=True, cwd=mnt,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        first = json.loads(open(result).read())
        assert first["counts"]["new"] >= 3
        deadline = time.monotonic() + 60
        while os.listdir(mnt / ".jirafs" / "outbox"):
            assert time.monotonic() < deadline, "the import's creates did not drain"
            time.sleep(0.2)
        r = subprocess.run("grep -l jfs-fp- SEC/*.json", shell=True, cwd=mnt,
                           capture_output=True, text=True, timeout=60)
        assert len(r.stdout.split()) == first["counts"]["new"]
        r = subprocess.run(f"cp {fixture} SEC/scans/web-01.json", shell=True, cwd=mnt,
                           capture_output=True, text=True, timeout=120)
        again = json.loads(open(result).read())
        assert r.returncode == 0 and again["counts"]["new"] == 0
        assert again["counts"]["unchanged"] == first["counts"]["new"]
        # the checklist it suggests passes (http:// is its one warning)
        cmd = [line.strip() for line in text.splitlines() if "/jirafs check " in line]
        assert len(cmd) == 1, text
        r = subprocess.run(cmd[0], shell=True, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "\u2713 credentials: logged in as alice (auth=pat)" in r.stdout
        assert r.stdout.rstrip().endswith("0 failed, 1 warning"), r.stdout
        # pulling the plug on Jira as the demo suggests loses nothing
        jira = str(tmp_path / "demo" / "jira")
        assert f"{jira} stop" in text and f"{jira} start" in text
        sh = lambda cmd: subprocess.run(cmd, shell=True, cwd=mnt, capture_output=True,
                                        text=True, timeout=120)
        assert sh(f"{jira} stop").returncode == 0
        r = sh("echo 'written while Jira was down' >> SEC/SEC-1.json")
        assert r.returncode == 0, r.stderr
        assert len(os.listdir(mnt / ".jirafs" / "outbox")) == 1
        assert os.getxattr(mnt / "SEC" / "SEC-1.json", "user.jira.state") == b"pending"
        assert sh(f"{jira} start").returncode == 0          # from inside the mount
        deadline = time.monotonic() + 60
        while os.listdir(mnt / ".jirafs" / "outbox"):
            assert time.monotonic() < deadline, "the outbox did not drain"
            time.sleep(0.2)
        doc = json.loads(open(mnt / "SEC" / "SEC-1.json").read())
        assert [c["body"] for c in doc["comments"]].count("written while Jira was down") == 1
        assert "outbox: comment of SEC-1 applied" in open(mnt / ".jirafs" / "log").read()
    finally:
        rc = stop_demo(p)
    assert not is_mounted(str(mnt))
    assert "jirafs demo stopped" in open(tmp_path / "demo.out").read()
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path / "demo")], capture_output=True)
    assert leftovers.returncode != 0, leftovers.stdout
    assert rc in (0, 130), rc

    # run again, as a user coming back to it would: a fresh Jira, and no
    # alias or outbox left over from the Jira of the first run
    p = start_demo(tmp_path, mnt)
    try:
        r = subprocess.run(
            "echo '{\"summary\": \"TLS 1.0 on web-03\"}' > SEC/tls.json && readlink SEC/tls.json",
            shell=True, cwd=mnt, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert json.loads(open(mnt / "SEC" / "tls.json").read())["status"] != "Closed"
        assert os.listdir(mnt / ".jirafs" / "outbox") == []
    finally:
        assert stop_demo(p) in (0, 130)
    assert not is_mounted(str(mnt))
