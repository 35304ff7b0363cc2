"""`jirafs agent` (CONTRACT §12): the inside half of the reverse layout, a
supervised `ssh -N -R`, against a real OpenSSH server on loopback.

The emulator plays the internal Jira at https://jira.internal.test:PORT, a
name that never resolves: the agent reaches it with forward_to=127.0.0.1,
the mount with the connect_to= line the agent prints.  It runs with
--peer-exe, serving only connections opened by ssh (the agent's) and by the
test itself, so a request that bypassed the agent would be refused and
counted."""
import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest

from mountlib import SLOW, free_port, outbox_files, sanitizer_report, wait_for
from sshlib import SSH, Sshd, answers, ssh_children


def comment_bodies(emu, key):
    return [c["body"] for c in emu.issue(key)["fields"]["comment"]["comments"]]


def summaries(emu, project):
    return [i["fields"]["summary"] for i in emu.issues(project)]


class Agent:
    """A running `jirafs agent`; its standard error goes to a file."""

    def __init__(self, binary, options, logpath):
        self.logpath = logpath
        self.logf = open(logpath, "ab")
        self.cmdline = [binary, "agent", "-o", ",".join(options)]
        self.proc = subprocess.Popen(self.cmdline, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self.logf,
                                     start_new_session=True)
        r, _, _ = select.select([self.proc.stdout], [], [], 10 * SLOW)
        self.line = self.proc.stdout.readline().decode().rstrip("\n") if r else ""

    def log(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def count(self, what):
        return sum(1 for ln in self.log().splitlines() if what in ln)

    def ssh_pids(self):
        return ssh_children(self.proc.pid)

    def wait_up(self, n=1, timeout=15):
        wait_for(lambda: self.count("jirafs agent: up: ") >= n, timeout,
                 f"the agent's forward up ({n})")

    def stop(self, sig=signal.SIGTERM, timeout=5):
        """Signal it; it must exit 0 within timeout (scaled), with no
        sanitizer report.  -> seconds it took."""
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=timeout * SLOW)
        took = time.monotonic() - t0
        self.logf.close()
        out = self.log()
        report = sanitizer_report(out)
        assert report is None, f"sanitizer report in the agent's output:\n{report}"
        assert rc == 0, f"the agent exited with {rc}:\n{out}"
        return took

    def cleanup(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        self.proc.stdout.close()
        if not self.logf.closed:
            self.logf.close()


def run_agent(jirafs_bin, *args, timeout=10):
    """A run that must end by itself: (exit status, stdout, stderr)."""
    p = subprocess.run([jirafs_bin, "agent", *args], capture_output=True, text=True,
                       timeout=timeout * SLOW, stdin=subprocess.DEVNULL)
    report = sanitizer_report(p.stdout + p.stderr)
    assert report is None, f"sanitizer report:\n{report}"
    return p.returncode, p.stdout, p.stderr


@pytest.fixture
def sshd(tmp_path):
    s = Sshd(tmp_path / "sshd").start()
    yield s
    s.stop()


@pytest.fixture
def agent(jirafs_bin, tmp_path):
    """agent(*options) -> Agent (killed at teardown if still running)."""
    agents = []

    def make(*options):
        a = Agent(jirafs_bin, list(options), str(tmp_path / f"agent{len(agents)}.log"))
        agents.append(a)
        assert a.line, f"the agent printed nothing:\n{a.log()}"
        return a
    yield make
    for a in agents:
        a.cleanup()


@pytest.fixture
def site(fresh_emulator):
    """The internal Jira: (emulator, its URL), serving only ssh and the test."""
    port = free_port()
    url = f"https://jira.internal.test:{port}"
    emu = fresh_emulator(tls=True, port=port,
                         extra_args=["--seed", "demo", "--base-url", url,
                                     "--peer-exe", SSH, "--peer-exe", sys.executable])
    return emu, url


def agent_options(sshd, url, p2):
    return [f"jira={url}", f"to=ssh://{sshd.dest}", f"listen=127.0.0.1:{p2}",
            "forward_to=127.0.0.1", f"ssh_command={sshd.ssh_command}"]


# ------------------------------------------------------------------ carrying a mount

def test_agent_prints_connect_to_and_carries_a_mount(sshd, site, agent, mount):
    emu, url = site
    p2 = free_port()
    ag = agent(*agent_options(sshd, url, p2))
    assert ag.line == f"connect_to=jira.internal.test:{emu.port}:127.0.0.1:{p2}"
    ag.wait_up()
    assert answers(p2)

    pids = ag.ssh_pids()
    assert len(pids) == 1
    argv = open(f"/proc/{pids[0]}/cmdline").read().split("\0")
    for word in ("-N", "BatchMode=yes", "ExitOnForwardFailure=yes",
                 "ServerAliveInterval=15", "ServerAliveCountMax=3",
                 f"127.0.0.1:{p2}:127.0.0.1:{emu.port}", f"{sshd.user}@127.0.0.1"):
        assert word in argv, argv
    assert argv[argv.index("-R") + 1] == f"127.0.0.1:{p2}:127.0.0.1:{emu.port}"
    assert argv[argv.index("-p") + 1] == str(sshd.port)
    assert argv[:len(sshd.ssh_command.split())] == sshd.ssh_command.split()

    m = mount(emu, ag.line, f"cacert={emu.ca_path}", url=url)
    names = sorted(n for n in os.listdir(m.p("SEC")) if n.endswith(".json"))
    key = names[0][:-5]
    with open(m.p("SEC", names[0])) as f:
        assert json.load(f)["key"] == key
    assert os.getxattr(m.p("SEC", names[0]), "user.jira.url").decode() == \
        f"{url}/browse/{key}"
    with open(m.p("SEC", names[0]), "a") as f:
        f.write("through jirafs agent\n")
    assert comment_bodies(emu, key).count("through jirafs agent") == 1
    conns = emu.connections()
    assert conns["refused"] == 0 and conns["accepted"] >= 1, conns
    m.unmount()

    log = ag.log()
    assert f"starting ssh (pid {pids[0]})" in log
    assert f"up: 127.0.0.1:{p2} on ssh://{sshd.dest} forwards to 127.0.0.1:{emu.port}" in log
    assert "debug1:" not in log                      # -v's chatter stays out
    ag.stop()


def test_agent_restarts_ssh_and_the_outbox_drains_once(sshd, site, agent, mount):
    emu, url = site
    p2 = free_port()
    ag = agent(*agent_options(sshd, url, p2))
    ag.wait_up()
    m = mount(emu, ag.line, f"cacert={emu.ca_path}", "timeout=3", "cache_ttl=3600", url=url)
    key = sorted(n[:-5] for n in os.listdir(m.p("SEC")) if n.endswith(".json"))[0]
    open(m.p("SEC", f"{key}.json")).read()

    # 1. ssh is killed: the agent says so and starts another one, after 1 s
    first = ag.ssh_pids()
    assert len(first) == 1
    t0 = time.monotonic()
    os.kill(first[0], signal.SIGKILL)
    ag.wait_up(2, timeout=10)
    assert time.monotonic() - t0 < 1 + 5 * SLOW
    second = ag.ssh_pids()
    assert len(second) == 1 and second != first
    log = ag.log()
    assert "down: ssh was killed by signal 9" in log
    assert "restarting ssh in 1 s" in log
    assert f"starting ssh (pid {second[0]})" in log

    # 2. down for a while (the far side is gone too): writes are accepted
    # and wait in the outbox; nothing reaches Jira
    sshd.stop()
    os.kill(second[0], signal.SIGKILL)
    wait_for(lambda: "Connection refused" in ag.log(), timeout=10,
             what="a refused restart")
    assert not answers(p2)
    since = emu.request_seq()
    with open(m.p("SEC", "behind-the-agent.json"), "w") as f:
        f.write(json.dumps({"summary": "queued behind the agent"}))
    with open(m.p("SEC", f"{key}.json"), "a") as f:
        f.write("queued comment behind the agent\n")
    assert len(outbox_files(m)) == 2
    assert emu.requests(since=since) == []

    # 3. the far side is back: the agent's next start comes up and the
    # queue drains, each write exactly once
    sshd.start()
    wait_for(lambda: outbox_files(m) == [], timeout=45, what="the outbox draining")
    assert ag.count("jirafs agent: up: ") >= 3
    assert summaries(emu, "SEC").count("queued behind the agent") == 1
    assert comment_bodies(emu, key).count("queued comment behind the agent") == 1
    posts = [r for r in emu.requests(since=since)
             if r["method"] == "POST" and r["path"] == "/rest/api/2/issue"]
    assert [r["status"] for r in posts] == [201]
    assert emu.connections()["refused"] == 0
    assert "restarting ssh in 2 s" in ag.log()       # the backoff doubled
    m.unmount()
    ag.stop()


# ------------------------------------------------------------------ stopping

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_ends_ssh_and_the_agent_exits_0(sshd, agent, sig):
    p2 = free_port()
    ag = agent(*agent_options(sshd, "https://jira.internal.test", p2))
    assert ag.line == f"connect_to=jira.internal.test:443:127.0.0.1:{p2}"
    ag.wait_up()
    pids = ag.ssh_pids()
    assert len(pids) == 1
    pid = ag.proc.pid
    took = ag.stop(sig)
    assert took < 3 * SLOW
    assert ssh_children(pid) == [] and not os.path.exists(f"/proc/{pids[0]}")
    wait_for(lambda: not answers(p2), timeout=5, what="the forward closing")
    name = signal.Signals(sig).name
    assert ag.log().splitlines()[-1] == f"jirafs agent: stopped on {name}"
    assert f"stopping on {name}: ending ssh (pid {pids[0]})" in ag.log()


def test_sigterm_while_waiting_to_restart(agent, tmp_path):
    nobody = free_port()                             # no sshd there
    ag = agent("jira=http://jira.internal.test", f"to=ssh://127.0.0.1:{nobody}",
               "listen=127.0.0.1:9443", f"ssh_command={SSH} -F /dev/null")
    assert ag.line == "connect_to=jira.internal.test:80:127.0.0.1:9443"
    wait_for(lambda: "restarting ssh in" in ag.log(), timeout=10, what="a failed start")
    assert "Connection refused" in ag.log()
    assert ag.stop() < 3 * SLOW
    assert ag.log().splitlines()[-1] == "jirafs agent: stopped on SIGTERM"


# ------------------------------------------------------------------ usage

GOOD = {"jira": "jira=https://jira.internal", "to": "to=ssh://agent@jirafs-host",
        "listen": "listen=127.0.0.1:9443"}


@pytest.mark.parametrize("name,bad", [
    ("jira", None), ("to", None), ("listen", None),
    ("jira", "jira=ftp://jira.internal"), ("jira", "jira=https://"),
    ("to", "to=http://jirafs-host"), ("to", "to=ssh://"), ("to", "to=ssh://host/path"),
    ("to", "to=ssh://-oProxyCommand=x"), ("to", "to=ssh://host:22x"),
    ("listen", "listen=9443"), ("listen", "listen=127.0.0.1:"),
    ("listen", "listen=127.0.0.1:70000"), ("listen", "listen=127.0.0.1:x"),
    ("listen", "listen=-oFoo:1"), ("listen", "listen=[::1:9443"),
    ("forward_to", "forward_to=a b"), ("alive_interval", "alive_interval=0"),
    ("alive_count", "alive_count=x"), ("colour", "colour=blue"),
])
def test_bad_or_missing_option_is_one_line_and_exit_1(jirafs_bin, name, bad):
    opts = dict(GOOD)
    opts.pop(name, None)
    args = list(opts.values()) + ([bad] if bad else [])
    rc, out, err = run_agent(jirafs_bin, "-o", ",".join(args))
    assert rc == 1, err
    assert out == ""                                 # no connect_to= line
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("jirafs agent: "), err
    assert name in lines[0], err


def test_help_and_stray_arguments(jirafs_bin):
    rc, out, err = run_agent(jirafs_bin, "--help")
    assert rc == 0 and err == ""
    assert out.startswith("usage: jirafs agent -o jira=URL,to=ssh://")
    for opt in ("jira=", "to=", "listen=", "forward_to=", "ssh_command=", "alive_interval=",
                "alive_count=", "config=", "debug"):
        assert opt in out, opt
    rc, out, err = run_agent(jirafs_bin, "-o", ",".join(GOOD.values()), "stray")
    assert rc == 1 and out == "" and "stray" in err and len(err.splitlines()) == 1


# ------------------------------------------------------------------ config=

def test_config_file_gives_the_options(sshd, agent, jirafs_bin, tmp_path):
    p2, p3 = free_port(), free_port()
    conf = tmp_path / "agent.conf"
    conf.write_text("# the agent of the tests\n\n"
                    + "\n".join(agent_options(sshd, "https://jira.internal.test:8443", p2))
                    + "\n  alive_interval=7  \n")
    conf.chmod(0o600)
    ag = agent(f"config={conf}")
    assert ag.line == f"connect_to=jira.internal.test:8443:127.0.0.1:{p2}"
    ag.wait_up()
    argv = open(f"/proc/{ag.ssh_pids()[0]}/cmdline").read().split("\0")
    assert "ServerAliveInterval=7" in argv and "ServerAliveCountMax=3" in argv
    ag.stop()

    # the command line wins over the file
    ag = agent(f"config={conf}", f"listen=127.0.0.1:{p3}")
    assert ag.line == f"connect_to=jira.internal.test:8443:127.0.0.1:{p3}"
    ag.wait_up()
    ag.stop()

    # a file others may write is refused (it names the program to run)
    conf.chmod(0o620)
    rc, out, err = run_agent(jirafs_bin, "-o", f"config={conf}")
    assert rc == 1 and out == "" and len(err.splitlines()) == 1, err
    assert str(conf) in err and "chmod" in err
    # and so is a missing one
    rc, out, err = run_agent(jirafs_bin, "-o", f"config={tmp_path}/none.conf")
    assert rc == 1 and "none.conf" in err and len(err.splitlines()) == 1, err
    # a mount's default config file is not the agent's
    home = tmp_path / "home"
    (home / ".config" / "jirafs").mkdir(parents=True)
    (home / ".config" / "jirafs" / "config").write_text("cache_ttl=60\n")
    args = [GOOD["to"], GOOD["listen"], "jira=ftp://x"]
    p = subprocess.run([jirafs_bin, "agent", "-o", ",".join(args)], capture_output=True,
                       text=True, env={**os.environ, "HOME": str(home),
                                       "XDG_CONFIG_HOME": str(home / ".config")},
                       timeout=10 * SLOW)
    assert p.returncode == 1 and "cache_ttl" not in p.stderr and "jira=" in p.stderr
