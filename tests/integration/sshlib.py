"""A real OpenSSH server for the tunnel tests: Debian's sshd on a loopback
port, with a throwaway host key and user key, run by the test itself.

Sshd(workdir).start() starts it; ssh_command is the client command line
(for jirafs's -o ssh_command= and for the tests' own agents) that trusts
exactly that host key and logs in with exactly that user key."""
import getpass
import os
import socket
import subprocess
import time

from mountlib import free_port  # noqa: F401 (sshlib.free_port, as before)

SSHD = "/usr/sbin/sshd"
SSH = "/usr/bin/ssh"


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_port(port, timeout=10, proc=None, what="the port"):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if answers(port):
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}")
        time.sleep(0.05)
    raise AssertionError(f"{what} did not answer on 127.0.0.1:{port} within {timeout} s")


class Sshd:
    def __init__(self, workdir):
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.user = getpass.getuser()
        self.port = free_port()
        self.proc = None
        self.host_key = os.path.join(self.dir, "host_ed25519")
        self.user_key = os.path.join(self.dir, "user_ed25519")
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        self.log_path = os.path.join(self.dir, "sshd.log")
        for key in (self.host_key, self.user_key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "jirafs-test",
                            "-f", key], check=True)
        authorized = os.path.join(self.dir, "authorized_keys")
        with open(self.user_key + ".pub") as f, open(authorized, "w") as out:
            out.write(f.read())
        os.chmod(authorized, 0o600)
        with open(self.host_key + ".pub") as f:
            host_pub = " ".join(f.read().split()[:2])
        with open(self.known_hosts, "w") as f:
            f.write(f"[127.0.0.1]:{self.port} {host_pub}\n")
        self.config = os.path.join(self.dir, "sshd_config")
        with open(self.config, "w") as f:
            f.write(f"""ListenAddress 127.0.0.1
Port {self.port}
HostKey {self.host_key}
AuthorizedKeysFile {authorized}
PidFile {self.dir}/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
GatewayPorts no
PermitTTY no
LogLevel VERBOSE
""")
        # Debian's sshd wants its privilege separation directory
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)

    @property
    def dest(self):
        return f"{self.user}@127.0.0.1:{self.port}"

    @property
    def ssh_command(self):
        """The client with this server's trust and key, no user or system config."""
        return (f"{SSH} -F /dev/null -i {self.user_key} -o IdentitiesOnly=yes "
                f"-o UserKnownHostsFile={self.known_hosts} -o StrictHostKeyChecking=yes")

    def start(self):
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", self.config],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        wait_port(self.port, proc=self.proc, what="sshd")
        return self

    def stop(self):
        """Stop the listener.  Sessions already open keep running, as with a
        real sshd; kill the client to end them."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def agent(self, remote_port, target_port):
        """The reverse ("agent") layout: an ssh client inside the network
        opens 127.0.0.1:remote_port on this host, forwarded to
        127.0.0.1:target_port on its side.  -> Popen (running, forward up)."""
        argv = self.ssh_command.split() + [
            "-N", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes",
            "-R", f"127.0.0.1:{remote_port}:127.0.0.1:{target_port}",
            "-p", str(self.port), f"{self.user}@127.0.0.1"]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        wait_port(remote_port, proc=p, what="the agent's ssh -R")
        return p


def ssh_children(parent_pid):
    """PIDs of the ssh processes whose parent is parent_pid."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == parent_pid and os.path.realpath(f"/proc/{pid}/exe") == SSH:
                out.append(int(pid))
        except (OSError, ValueError, IndexError):
            continue
    return out
