"""Mounting the real jirafs daemon for tests.

A Mount runs `jirafs -f` against an emulator, waits until the mount point
is really mounted (failing fast, with the daemon's output, if the daemon
died), and on unmount requires the daemon to exit 0 with no sanitizer
report in its output.  `cleanup()` lazily unmounts and kills leftovers; the
fixtures call it whatever happened.

It also holds the helpers every suite shares: wait_for, free_port, status,
read_log, creates and wait_for_refresh.
"""
import json
import os
import re
import signal
import socket
import subprocess
import time

SANITIZER_RE = re.compile(
    r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
    r"WARNING: ThreadSanitizer|UndefinedBehaviorSanitizer")

# The ASan build is several times slower; waits scale with this.
SLOW = float(os.environ.get("JIRAFS_TEST_SLOWDOWN", "1"))


def wait_for(fn, timeout=60, what="the condition", interval=0.1):
    """fn()'s first true value within timeout seconds (scaled by SLOW), else a
    failure naming what and fn()'s last value.  An exception from fn() fails
    at once: fn() catches what it means to wait out."""
    t0 = time.monotonic()
    deadline = timeout * SLOW
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() - t0 >= deadline:
            raise AssertionError(f"{what} did not happen within {deadline:.0f} s "
                                 f"(last: {v!r})")
        time.sleep(interval)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_text(m):
    """The text of the mount's .jirafs/status."""
    with open(m.p(".jirafs", "status")) as f:
        return f.read()


def status(m):
    """The mount's .jirafs/status, parsed."""
    return json.loads(status_text(m))


def read_log(m):
    """The mount's .jirafs/log (not the daemon's output: Mount.log())."""
    with open(m.p(".jirafs", "log")) as f:
        return f.read()


def outbox_files(m):
    """The records waiting in the outbox, by file name."""
    return os.listdir(m.p(".jirafs", "outbox"))


def drained(m):
    return status(m)["outbox"] == 0 and outbox_files(m) == []


def quiesce(emu, idle=0.5, timeout=60):
    """Wait until the emulator has seen no request for `idle` seconds."""
    last, since, t0 = emu.mark(), time.monotonic(), time.monotonic()
    while time.monotonic() - t0 < timeout:
        time.sleep(0.1)
        now = emu.mark()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= idle:
            return now
    raise AssertionError("the emulator never went quiet")


def creates(emu, since):
    """The creates (POST /rest/api/2/issue) the emulator logged from seq since."""
    return [r for r in emu.requests(since=since, method="POST", path="/rest/api/2/issue")
            if r["path"] == "/rest/api/2/issue"]


def wait_for_refresh(m, project, timeout=30):
    """List project until jirafs has listed it from Jira again: for a listing
    that goes stale (cache_ttl, at least the 1 s floor of LOOKUP_MIN_FRESH_MS
    in fs/tree.c), rather than sleeping for that long.  Returns the names of
    the last listing."""
    before = status(m)["counters"]["listings"]
    names = []

    def refreshed():
        names[:] = os.listdir(m.p(project))
        return status(m)["counters"]["listings"] > before
    wait_for(refreshed, timeout, f"a refresh of {project}")
    return names


def is_mounted(path):
    path = os.path.realpath(path)
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 2 and fields[1] == path and fields[2].startswith("fuse"):
                return True
    return False


def sanitizer_report(text):
    m = SANITIZER_RE.search(text)
    return text[max(0, m.start() - 200):m.start() + 3000] if m else None


class Mount:
    def __init__(self, binary, url, mountpoint, options, env, logpath):
        self.binary = binary
        self.url = url
        self.path = mountpoint
        self.options = options
        self.env = env
        self.logpath = logpath
        self.proc = None

    @property
    def cmdline(self):
        cmd = [self.binary, "-f"]
        if self.options:
            cmd += ["-o", ",".join(self.options)]
        return cmd + [self.url, self.path]

    def log(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def start(self, timeout=10):
        os.makedirs(self.path, exist_ok=True)
        self.logf = open(self.logpath, "ab")
        self.proc = subprocess.Popen(self.cmdline, stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=self.env, start_new_session=True)
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            if is_mounted(self.path):
                return self
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"jirafs exited with {self.proc.returncode} before mounting:\n{self.log()}")
            time.sleep(0.02)
        raise AssertionError(f"jirafs did not mount within {timeout} s:\n{self.log()}")

    def run_expect_failure(self, timeout=20):
        """Run a mount that must be refused: returns (exit status, output)."""
        os.makedirs(self.path, exist_ok=True)
        p = subprocess.run(self.cmdline, env=self.env, capture_output=True, text=True,
                           timeout=timeout * SLOW)
        assert not is_mounted(self.path), "a refused mount left something mounted"
        out = p.stdout + p.stderr
        report = sanitizer_report(out)
        assert report is None, f"sanitizer report:\n{report}"
        return p.returncode, out

    def unmount(self, timeout=20):
        """Unmount; the daemon must exit 0 without a sanitizer report."""
        subprocess.run(["fusermount3", "-u", self.path], check=True, capture_output=True,
                       timeout=timeout)
        rc = self.proc.wait(timeout=timeout * SLOW)
        self.logf.close()
        out = self.log()
        report = sanitizer_report(out)
        assert report is None, f"sanitizer report in the daemon's output:\n{report}"
        assert rc == 0, f"jirafs exited with {rc}:\n{out}"
        self.proc = None

    def cleanup(self):
        if is_mounted(self.path):
            subprocess.run(["fusermount3", "-uz", self.path], capture_output=True)
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        if getattr(self, "logf", None) and not self.logf.closed:
            self.logf.close()

    def p(self, *parts):
        return os.path.join(self.path, *parts)
