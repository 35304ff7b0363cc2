"""Transport (CONTRACT §6): proxy=, connect_to= and tunnel=ssh:// against a
real OpenSSH server.  The emulator runs with --peer-exe, serving only
connections opened by the program the path must go through (sshd, ssh or
the test's proxy), so a request that bypassed the tunnel would be refused,
and is counted."""
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from mountlib import SLOW, free_port, status, status_text, wait_for
from sshlib import SSHD, SSH, Sshd, ssh_children
from ticket_model import is_done


def tunnel(m):
    return status(m)["transport"]["tunnel"]


def summaries(emu, project):
    return [i["fields"]["summary"] for i in emu.issues(project)]


def comment_bodies(emu, key):
    return [c["body"] for c in emu.issue(key)["fields"]["comment"]["comments"]]


@pytest.fixture
def sshd(tmp_path):
    s = Sshd(tmp_path / "sshd").start()
    yield s
    s.stop()


def only_through(program):
    """Emulator arguments: serve the named program and the test itself."""
    return ["--peer-exe", program, "--peer-exe", sys.executable]


# ------------------------------------------------------------------ tunnel=ssh://

def test_tunnel_carries_every_request_through_sshd(sshd, fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"] + only_through(SSHD))
    # the same mount without the tunnel is refused: jirafs itself may not connect
    direct = mount(emu, "timeout=5", start=False)
    rc, out = direct.run_expect_failure()
    assert rc == 3, out
    refused = emu.connections()["refused"]
    assert refused >= 1 and emu.requests() == []

    # no_proxy in the environment must not let anything bypass the tunnel
    m = mount(emu, f"tunnel=ssh://{sshd.dest}", f"ssh_command={sshd.ssh_command}",
              "timeout=10", env={"no_proxy": "127.0.0.1,localhost",
                                 "NO_PROXY": "127.0.0.1,localhost"})
    names = sorted(n for n in os.listdir(m.p("SEC")) if n.endswith(".json"))
    t = tunnel(m)
    assert t["state"] == "up" and t["to"] == f"ssh://{sshd.dest}"
    assert t["socks_port"] > 0 and t["restarts"] == 0
    assert status(m)["transport"]["state"] == "up"
    key = names[0][:-5]
    doc = json.loads(subprocess.run(["jq", ".", m.p("SEC", names[0])], check=True,
                                    capture_output=True, text=True).stdout)
    assert doc["key"] == key
    with open(m.p("SEC", "via-tunnel.json"), "w") as f:
        f.write('{"summary": "filed through the ssh tunnel"}')
    with open(m.p("SEC", names[0]), "a") as f:
        f.write("a comment through the tunnel\n")
    assert summaries(emu, "SEC").count("filed through the ssh tunnel") == 1
    assert comment_bodies(emu, key).count("a comment through the tunnel") == 1

    conns = emu.connections()
    assert conns["refused"] == refused, conns        # nothing bypassed the tunnel
    assert conns["accepted"] >= 1
    assert any(r["method"] == "POST" and r["path"] == "/rest/api/2/issue"
               and r["status"] == 201 for r in emu.requests())
    assert "Accepted publickey" in sshd.log()

    ssh_pids = ssh_children(m.proc.pid)
    assert len(ssh_pids) == 1
    cmdline = open(f"/proc/{ssh_pids[0]}/cmdline").read().split("\0")
    for word in ("-N", "-D", f"127.0.0.1:{t['socks_port']}", "BatchMode=yes",
                 "ExitOnForwardFailure=yes"):
        assert word in cmdline, cmdline
    assert any(w.startswith("ServerAliveInterval=") for w in cmdline)

    pid = m.proc.pid
    m.unmount()                                      # ends ssh with it
    assert ssh_children(pid) == []
    assert not os.path.exists(f"/proc/{ssh_pids[0]}")


def test_tunnel_restarts_and_the_outbox_drains(sshd, fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"] + only_through(SSHD))
    m = mount(emu, f"tunnel=ssh://{sshd.dest}", f"ssh_command={sshd.ssh_command}",
              "timeout=3", "cache_ttl=3600")
    keys = sorted(n[:-5] for n in os.listdir(m.p("SEC")) if n.endswith(".json"))[:2]
    for k in keys:
        open(m.p("SEC", f"{k}.json")).read()

    # 1. ssh dies: jirafs starts another one and keeps working
    first = ssh_children(m.proc.pid)
    assert len(first) == 1
    os.kill(first[0], signal.SIGKILL)
    wait_for(lambda: tunnel(m)["restarts"] >= 1 and tunnel(m)["state"] == "up",
             timeout=20, what="the ssh restart")
    assert ssh_children(m.proc.pid) not in ([], first)
    assert "ssh tunnel" in m.log() and "is down" in m.log()

    # 2. the far side is gone for a while: writes are accepted and queue
    sshd.stop()
    for pid in ssh_children(m.proc.pid):
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: tunnel(m)["state"] != "up", timeout=10, what="the outage")
    assert status(m)["transport"]["state"] == "down"
    since = emu.request_seq()
    t0 = time.monotonic()
    for i in range(3):
        with open(m.p("SEC", f"queued-{i}.json"), "w") as f:
            f.write(json.dumps({"summary": f"queued behind the tunnel {i}"}))
    for k in keys:
        with open(m.p("SEC", f"{k}.json"), "a") as f:
            f.write(f"queued comment on {k}\n")
    subprocess.run(["mv", m.p("SEC", f"{keys[0]}.json"), m.p("SEC", "closed")], check=True)
    assert time.monotonic() - t0 < 6 * 3 * SLOW   # every close()/rename() within its bound
    assert len(os.listdir(m.p(".jirafs", "outbox"))) == 6
    assert os.getxattr(m.p("SEC", "queued-0.json"), "user.jira.state") == b"pending"
    assert emu.requests(since=since) == []           # nothing got through meanwhile
    err = tunnel(m)["last_error"]
    assert err and "ssh exited" in err

    # 3. sshd is back: ssh is restarted, the queue drains, once each
    sshd.start()
    wait_for(lambda: os.listdir(m.p(".jirafs", "outbox")) == [], timeout=90,
             what="the outbox draining")
    assert tunnel(m)["state"] == "up" and tunnel(m)["restarts"] >= 2
    sec = summaries(emu, "SEC")
    for i in range(3):
        assert sec.count(f"queued behind the tunnel {i}") == 1
    for k in keys:
        assert comment_bodies(emu, k).count(f"queued comment on {k}") == 1
    assert is_done(emu.issue(keys[0]))
    posts = [r for r in emu.requests(since=since)
             if r["method"] == "POST" and r["path"] == "/rest/api/2/issue"]
    assert [r["status"] for r in posts] == [201] * 3
    assert emu.connections()["refused"] == 0


def test_tunnel_that_cannot_log_in_refuses_the_mount(sshd, fresh_emulator, mount, tmp_path):
    emu = fresh_emulator(extra_args=only_through(SSHD))
    other = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)],
                   check=True)
    cmd = sshd.ssh_command.replace(sshd.user_key, str(other))
    m = mount(emu, f"tunnel=ssh://{sshd.dest}", f"ssh_command={cmd}", "timeout=10",
              start=False)
    t0 = time.monotonic()
    rc, out = m.run_expect_failure()
    assert rc == 3, out
    assert time.monotonic() - t0 < 10 * SLOW       # ssh's answer, not a timeout
    assert "tunnel" in out and "Permission denied" in out, out
    assert emu.requests() == []


@pytest.mark.parametrize("spec", ["http://host", "ssh://", "ssh://-oProxyCommand=x",
                                  "ssh://host:22x", "ssh://host/path"])
def test_bad_tunnel_option_is_a_usage_error(fresh_emulator, mount, spec):
    emu = fresh_emulator()
    m = mount(emu, f"tunnel={spec}", start=False)
    rc, out = m.run_expect_failure()
    assert rc == 1, out
    assert "tunnel" in out


# ------------------------------------------------------------------ connect_to=

def test_connect_to_through_a_reverse_agent_verifies_the_original_name(
        sshd, fresh_emulator, mount):
    emu = fresh_emulator(tls=True, extra_args=["--seed", "demo",
                                               "--base-url", "https://jira.internal.test:8443"]
                         + only_through(SSH))
    # the agent, inside the network: ssh -N -R 127.0.0.1:P2:<jira>:<port> jirafs-host
    p2 = free_port()
    agent = sshd.agent(p2, emu.port)
    try:
        url = "https://jira.internal.test:8443"
        m = mount(emu, f"connect_to=jira.internal.test:8443:127.0.0.1:{p2}",
                  f"cacert={emu.ca_path}", url=url)
        assert status(m)["transport"]["connect_to"] == \
            f"jira.internal.test:8443:127.0.0.1:{p2}"
        names = sorted(n for n in os.listdir(m.p("SEC")) if n.endswith(".json"))
        key = names[0][:-5]
        assert os.getxattr(m.p("SEC", names[0]), "user.jira.url").decode() == \
            f"{url}/browse/{key}"
        with open(m.p("SEC", names[0]), "a") as f:
            f.write("through the agent\n")
        assert comment_bodies(emu, key).count("through the agent") == 1
        assert emu.connections()["refused"] == 0
        assert emu.connections()["accepted"] >= 1
        m.unmount()

        # TLS is verified against the URL's name, not the address connected
        # to: 127.0.0.1 is in the certificate, wrong.internal.test is not
        bad = mount(emu, f"connect_to=wrong.internal.test:8443:127.0.0.1:{p2}",
                    f"cacert={emu.ca_path}", url="https://wrong.internal.test:8443",
                    start=False)
        rc, out = bad.run_expect_failure()
        assert rc == 3, out
        assert "TLS" in out, out
    finally:
        agent.terminate()
        agent.wait(timeout=10)


# ------------------------------------------------------------------ proxy=

class ConnectProxy:
    """An HTTP proxy that only does CONNECT, and remembers what it was asked."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        with c:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = c.recv(4096)
                if not chunk:
                    return
                head += chunk
            lines = head.split(b"\r\n")
            method, target, _ = lines[0].decode().split(" ", 2)
            headers = {ln.split(b":", 1)[0].decode().lower(): ln.split(b":", 1)[1].strip()
                       .decode() for ln in lines[1:] if b":" in ln}
            with self.lock:
                self.requests.append((method, target, headers.get("proxy-authorization")))
            if method != "CONNECT":
                c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            host, port = target.rsplit(":", 1)
            with socket.create_connection((host, int(port))) as up:
                c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                socks = [c, up]
                while True:
                    r, _, _ = select.select(socks, [], [], 60)
                    if not r:
                        return
                    for s in r:
                        data = s.recv(65536)
                        if not data:
                            return
                        (up if s is c else c).sendall(data)

    def close(self):
        self.sock.close()


def test_http_proxy_carries_the_traffic_and_its_password_stays_hidden(fresh_emulator, mount):
    # only the test's Python (the proxy) may connect
    emu = fresh_emulator(tls=True, extra_args=["--seed", "demo", "--peer-exe",
                                               sys.executable])
    proxy = ConnectProxy()
    try:
        purl = f"http://scanner:proxy-secret@127.0.0.1:{proxy.port}"
        m = mount(emu, f"proxy={purl}", f"cacert={emu.ca_path}",
                  env={"https_proxy": "http://127.0.0.1:9"})   # proxy= wins
        names = [n for n in os.listdir(m.p("SEC")) if n.endswith(".json")]
        assert names
        with open(m.p("SEC", "via-proxy.json"), "w") as f:
            f.write('{"summary": "filed through the proxy"}')
        assert summaries(emu, "SEC").count("filed through the proxy") == 1
        assert proxy.requests and all(
            r[0] == "CONNECT" and r[1] == f"127.0.0.1:{emu.port}" for r in proxy.requests)
        assert proxy.requests[0][2].startswith("Basic ")   # credentials sent to the proxy
        assert emu.connections()["refused"] == 0
        text = status_text(m)
        assert json.loads(text)["transport"]["proxy"] == f"http://***@127.0.0.1:{proxy.port}"
        assert "proxy-secret" not in text
        m.unmount()
        assert "proxy-secret" not in m.log()
    finally:
        proxy.close()


def test_without_proxy_option_the_environment_applies(fresh_emulator, mount):
    emu = fresh_emulator(tls=True, extra_args=["--seed", "demo", "--peer-exe",
                                               sys.executable])
    proxy = ConnectProxy()
    try:
        m = mount(emu, f"cacert={emu.ca_path}",
                  env={"https_proxy": f"http://127.0.0.1:{proxy.port}"})
        assert "SEC" in os.listdir(m.path)
        assert proxy.requests and emu.connections()["refused"] == 0
    finally:
        proxy.close()
