"""The chaos soak (issue 10, CONTRACT §4.6): exactly once under faults and a crash.

Four writers create, comment and close tickets at once through a real mount
while the emulator answers about a quarter of all REST requests with a fault
of every kind: 5xx before and after the request was committed (a proxy's
502/503/504), 429 with Retry-After, HTML error and login pages, connections
dropped before and after the commit, and latency.  Mid-stream the daemon is
killed with SIGKILL and mounted again on the same state directory.  Then the
faults stop, the outbox drains, and Jira (the emulator) must hold

  - every operation whose close()/rename() returned 0 exactly once (a create
    with its alias, a comment on its ticket, a close as a done ticket),
  - nothing of an operation that was refused (and nothing of the deliberately
    bad ones: a summary Jira refuses with 400, invalid JSON, a move to another
    project),
  - at most one of each operation the kill interrupted.

The counts are printed at the end, also when the test passes, in one line,
then the details:
    soak: accepted=N refused=N interrupted=N bad=N sent=N (N while faults on)
          faulted=N (P% of those; errors P%) applied=N duplicated=0 lost=0
On a failure every problem is listed with its requests in the emulator's log
and the daemon's lines about it; soak-report.json in the test's temporary
directory holds every operation and every request.
"""
import collections
import errno
import json
import os
import random
import signal
import subprocess
import threading
import time

import pytest

from mountlib import SLOW, is_mounted, sanitizer_report, status
from ticket_model import is_done

SEED = 20261210
WRITERS = 4
OPS_PER_WRITER = 60            # 240 operations, ~220 of them well-formed
KILL_AFTER = 0.45              # the share of operations done when the daemon is killed
PROJECTS = ("SEC", "OPS", "WEB")
REST = "/rest/api/2"
TIMEOUT_S = max(3, round(3 * SLOW))          # -o timeout=, the bound of every call
DRAIN_S = 150 + 30 * SLOW                    # faults off -> outbox empty
RUN = "%04x" % (os.getpid() & 0xFFFF)        # tells this run's tickets apart in logs

# (rule, probability).  Rules are tried in order; one that does not fire lets
# the request go on to the next, so the combined rate is 1 - prod(1 - p):
# about 24% errors plus 6% latency on every request under /rest/api/2.
FAULTS = [
    ({"action": "status", "status": 500}, 0.020),
    ({"action": "status", "status": 502}, 0.020),
    ({"action": "status", "status": 503}, 0.020),
    ({"action": "status", "status": 504}, 0.020),
    ({"action": "status_after", "status": 502}, 0.030),
    ({"action": "status_after", "status": 503, "html": False}, 0.020),
    ({"action": "status_after", "status": 504}, 0.020),
    ({"action": "status", "status": 429, "retry_after": 1}, 0.030),
    ({"action": "status", "status": 502, "html": True}, 0.020),
    ({"action": "html"}, 0.015),
    ({"action": "drop"}, 0.025),
    ({"action": "drop_after"}, 0.030),
    ({"action": "latency", "ms": 300}, 0.060),
]
ERROR_ACTIONS = {"status", "status_after", "html", "drop", "drop_after"}
AFTER_COMMIT = {"status_after", "drop_after"}


def fault_rules():
    return [dict(rule, path=REST, p=p, seed=SEED + i)
            for i, (rule, p) in enumerate(FAULTS)]


# ---- the writers --------------------------------------------------------------

class Gate:
    """Writers pass it before each operation; closed while the daemon is
    killed and mounted again.  Knows the current mount point."""

    def __init__(self, root):
        self.cv = threading.Condition()
        self.root = root
        self.open = True
        self.active = 0
        self.done = 0
        self.kill_window = None      # (t_kill, t_remounted), monotonic

    def enter(self):
        with self.cv:
            while not self.open:
                self.cv.wait()
            self.active += 1
            return self.root

    def leave(self):
        with self.cv:
            self.active -= 1
            self.done += 1
            self.cv.notify_all()

    def shut(self):
        with self.cv:
            self.open = False

    def wait_idle(self, timeout):
        with self.cv:
            return self.cv.wait_for(lambda: self.active == 0, timeout)

    def reopen(self, root):
        with self.cv:
            self.root = root
            self.open = True
            self.cv.notify_all()


class Writer(threading.Thread):
    def __init__(self, w, gate, nops, ops, lock):
        super().__init__(name=f"soak-writer-{w}", daemon=True)
        self.w = w
        self.gate = gate
        self.nops = nops
        self.ops = ops              # shared list of every operation's record
        self.lock = lock
        self.rng = random.Random(f"{SEED}/{w}")
        self.mine = []              # creates of this writer that close() accepted
        self.last_commented = None
        self.crash = None

    def run(self):
        try:
            for i in range(self.nops):
                root = self.gate.enter()
                try:
                    self.one(root, i)
                finally:
                    self.gate.leave()
                time.sleep(self.rng.uniform(0, 0.05))
        except BaseException as exc:   # reported by the test
            self.crash = exc

    # an operation record: kind, what it names, t0/t1, rc (0 or errno), stage
    def record(self, **kw):
        kw.setdefault("w", self.w)
        with self.lock:
            self.ops.append(kw)
        return kw

    def live(self, root):
        """Accepted creates whose alias shows the ticket, not closed."""
        out = []
        for c in self.mine:
            if c["closed"] or c["tainted"]:
                continue
            try:
                target = os.readlink(os.path.join(root, c["project"], c["name"]))
            except OSError:
                continue
            if "/" in target:             # closed/KEY.json: not ours to close again
                continue
            out.append((c, target[:-len(".json")]))
        return out

    def one(self, root, i):
        r = self.rng.random()
        if r < 0.07:
            return self.bad(root, i)
        if r < 0.50:
            live = self.live(root)
            if live:
                c, key = self.rng.choice(live)
                if r < 0.37:
                    return self.comment(root, i, c, key)
                return self.close(root, i, c, key)
        return self.create(root, i)

    def create(self, root, i, closed=None):
        project = self.rng.choice(PROJECTS)
        if closed is None:
            closed = self.rng.random() < 0.1           # created in closed/: create, then close
        name = f"soak-w{self.w}-{i}-{RUN}.json"
        summary = f"soak w{self.w} #{i} {RUN}"
        body = json.dumps({"summary": summary,
                           "description": f"written by writer {self.w}, operation {i}",
                           "labels": ["soak"]}, indent=2) + "\n"
        d = os.path.join(root, project, "closed") if closed else os.path.join(root, project)
        op = self.record(kind="create", project=project, name=name, summary=summary,
                         in_closed=closed, closed=closed, tainted=False, t0=time.monotonic())
        self.finish(op, write_file(os.path.join(d, name), body, os.O_CREAT | os.O_TRUNC))
        if op["rc"] == 0:
            self.mine.append(op)
        return op

    def comment(self, root, i, c, key):
        via_alias = self.rng.random() < 0.5
        name = c["name"] if via_alias else f"{key}.json"
        text = f"soak w{self.w} note #{i} {RUN}"
        op = self.record(kind="comment", project=c["project"], key=key, via=name, body=text,
                         create=c["summary"], t0=time.monotonic())
        self.finish(op, write_file(os.path.join(root, c["project"], name), text + "\n",
                                   os.O_APPEND))
        self.last_commented = key
        if op["rc"] not in (0, None) and op["stage"] == "close":
            c["tainted"] = True   # a refused append is retried with the next one: stop here
        return op

    def close(self, root, i, c, key):
        c["closed"] = True
        src = os.path.join(root, c["project"], f"{key}.json")
        dst = os.path.join(root, c["project"], "closed", f"{key}.json")
        op = self.record(kind="close", project=c["project"], key=key, create=c["summary"],
                         t0=time.monotonic())
        self.finish(op, call("rename", os.rename, src, dst))
        return op

    def bad(self, root, i):
        """Operations that must change nothing in Jira."""
        project = self.rng.choice(PROJECTS)
        marker = f"soak bad w{self.w} #{i} {RUN}"
        name = f"soak-bad-w{self.w}-{i}-{RUN}.json"
        r = self.rng.random()
        if r < 0.5:      # Jira answers 400: summary longer than 255 characters
            body = json.dumps({"summary": marker + " " + "x" * 300}) + "\n"
            kind = "bad-long-summary"
        elif r < 0.65:   # not JSON: EINVAL, nothing sent
            body = '{"summary": "%s", oops\n' % marker
            kind = "bad-json"
        else:            # a ticket cannot move to another project: EPERM
            live = self.live(root)
            if not live:
                return self.create(root, i)
            c, key = self.rng.choice(live)
            for c2, key2 in live:   # rather one just commented on: its comment may wait
                if key2 == self.last_commented:
                    c, key = c2, key2
            other = self.rng.choice([p for p in PROJECTS if p != c["project"]])
            op = self.record(kind="bad-move", project=c["project"], key=key, to=other,
                             marker=marker, t0=time.monotonic())
            self.finish(op, call("rename", os.rename,
                                 os.path.join(root, c["project"], f"{key}.json"),
                                 os.path.join(root, other, f"{key}.json")))
            return op
        op = self.record(kind=kind, project=project, name=name, marker=marker,
                         t0=time.monotonic())
        self.finish(op, write_file(os.path.join(root, project, name), body,
                                   os.O_CREAT | os.O_TRUNC))
        return op

    def finish(self, op, result):
        op["stage"], op["rc"], op["err"] = result
        op["t1"] = time.monotonic()


def call(stage, fn, *args):
    try:
        fn(*args)
    except OSError as e:
        return stage, e.errno, str(e)
    return stage, 0, None


def write_file(path, text, flags):
    """open, write, close with the errno of the first call that failed;
    the result that counts is close()'s (the write is applied there)."""
    try:
        fd = os.open(path, os.O_WRONLY | flags, 0o644)
    except OSError as e:
        return "open", e.errno, str(e)
    first = None
    data = text.encode()
    try:
        while data:
            n = os.write(fd, data)
            data = data[n:]
    except OSError as e:
        first = ("write", e.errno, str(e))
    try:
        os.close(fd)
    except OSError as e:
        return first or ("close", e.errno, str(e))
    return first or ("close", 0, None)


# ---- the daemon ---------------------------------------------------------------

def task_stacks(pid):
    """The kernel stacks of a process's threads (root only), one line each."""
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tasks:
        try:
            stack = open(f"/proc/{pid}/task/{t}/stack").read().split()
        except OSError:
            stack = []
        frames = [f.split("+")[0] for f in stack if "+" in f][:4]
        out.append(f"thread {t}: " + " <- ".join(frames))
    return out


def kill_daemon(m):
    """SIGKILL the daemon's whole process group and clean the dead mount.
    -> None, or what kept the killed daemon from exiting: a thread that
    waits in the kernel (FUSE notifications take the directory's lock,
    which a request the dead daemon will never answer holds) keeps the
    FUSE device open, so the connection is not aborted and every caller
    hangs.  Then the connection is aborted as an administrator would
    (umount -f), and the test goes on."""
    stuck = None
    os.killpg(m.proc.pid, signal.SIGKILL)
    try:
        m.proc.wait(timeout=5 * SLOW)
    except subprocess.TimeoutExpired:
        stuck = task_stacks(m.proc.pid)
        subprocess.run(["umount", "-f", m.path], capture_output=True)
        m.proc.wait(timeout=30)
    subprocess.run(["fusermount3", "-uz", m.path], capture_output=True)
    assert not is_mounted(m.path)
    m.proc = None
    m.logf.close()
    return stuck


def remount(mount, emu, options, tries=5):
    """Mount again, faults still on: the check of /myself at mount may meet
    one; a refused mount is tried again, as systemd would."""
    errors = []
    for _ in range(tries):
        try:
            return mount(emu, *options), errors
        except AssertionError as e:
            errors.append(str(e).splitlines()[0:3])
    raise AssertionError(f"could not mount again in {tries} tries: {errors}")


def outbox_state(m):
    names = sorted(os.listdir(m.p(".jirafs", "outbox")))
    return names, status(m).get("outbox")


def wait_drained(m, state_dir, timeout):
    t0 = time.monotonic()
    last = None
    while time.monotonic() - t0 < timeout:
        try:
            names, n = outbox_state(m)
            last = (names, n)
            if not names and n == 0 and not records_in(state_dir):
                return time.monotonic() - t0
        except (OSError, ValueError) as e:
            last = repr(e)
        time.sleep(0.25)
    records = []
    for name in (last[0] if isinstance(last, tuple) else [])[:20]:
        try:
            records.append(open(m.p(".jirafs", "outbox", name)).read())
        except OSError as e:
            records.append(f"{name}: {e}")
    raise AssertionError(f"the outbox did not drain within {timeout:.0f} s after the faults "
                         f"stopped: {last if not isinstance(last, tuple) else last[1]} "
                         f"left; in {state_dir}/outbox: {records_in(state_dir)}\n"
                         + "\n".join(records) + "\n" + log_tail(m, 60))


def records_in(state_dir):
    """The outbox records in the state directory (what a mount replays:
    NAME.json; a temporary file of an interrupted write is not one)."""
    return sorted(f for f in os.listdir(os.path.join(state_dir, "outbox"))
                  if f.endswith(".json") and not f.startswith("."))


def log_tail(m, n):
    try:
        lines = open(m.p(".jirafs", "log"), errors="replace").read().splitlines()
    except OSError:
        lines = []
    return ".jirafs/log (last %d):\n  " % n + "\n  ".join(lines[-n:])


def log_lines(texts, words, limit=12):
    out = []
    for text in texts:
        for line in text.splitlines():
            if any(w in line for w in words):
                out.append(line.strip())
    return out[-limit:]


# ---- the check ----------------------------------------------------------------

class Jira:
    """What the emulator holds at the end, read through its control API
    (never faulted, never in the request log)."""

    def __init__(self, emu):
        self.emu = emu
        self.issues = {}
        for p in PROJECTS:
            for b in emu.issues(p):
                c = b["fields"].get("comment") or {}
                if c.get("total", 0) > len(c.get("comments", [])):
                    b = emu.issue(b["key"])
                self.issues[b["key"]] = b
        self.by_summary = collections.defaultdict(list)
        self.comments = collections.defaultdict(list)      # body -> [keys]
        for k, b in self.issues.items():
            self.by_summary[b["fields"]["summary"]].append(k)
            for c in (b["fields"].get("comment") or {}).get("comments", []):
                self.comments[c["body"]].append(k)

    def with_marker(self, marker):
        return sorted(k for s, ks in self.by_summary.items() if marker in s for k in ks)


def classify(ops, window):
    t_kill, t_back = window or (float("inf"), float("inf"))
    for op in ops:
        bad = op["kind"].startswith("bad")
        if op["rc"] == 0:
            op["outcome"] = "bad-accepted" if bad else "accepted"
        elif op["t0"] < t_back and op["t1"] >= t_kill:
            op["outcome"] = "interrupted"
        else:
            op["outcome"] = "refused"


def alias_key(m, op):
    d = m.p(op["project"], "closed") if op.get("in_closed") else m.p(op["project"])
    try:
        return os.path.basename(os.readlink(os.path.join(d, op["name"])))[:-len(".json")]
    except OSError as e:
        return f"<{errno.errorcode.get(e.errno, e.errno)}>"


def check(ops, jira, m):
    """-> (counts, problems): every op against what Jira holds."""
    n = collections.Counter()
    problems = []

    def problem(what, op, detail):
        n[what] += 1
        problems.append((what, op, detail))

    for op in ops:
        kind, outcome = op["kind"], op["outcome"]
        n[outcome] += 1
        if kind == "create":
            keys = jira.by_summary.get(op["summary"], [])
            if outcome == "accepted" or (outcome == "interrupted" and keys):
                if len(keys) == 0:
                    problem("lost", op, "no ticket with this summary")
                elif len(keys) > 1:
                    problem("duplicated", op, f"{len(keys)} tickets: {sorted(keys)}")
                else:
                    n["applied"] += outcome == "accepted"
                    n["interrupted-applied"] += outcome == "interrupted"
                    got = alias_key(m, op)
                    if got != keys[0]:
                        problem("alias-wrong", op, f"ticket {keys[0]}, alias -> {got}")
                    if op["in_closed"] and not is_done(jira.issues[keys[0]]):
                        problem("lost", op, f"created in closed/, {keys[0]} is not done")
            elif keys:
                problem("refused-in-jira", op, f"refused (errno {op['rc']}) but {keys} exist")
        elif kind == "comment":
            where = jira.comments.get(op["body"], [])
            here = where.count(op["key"])
            if outcome == "accepted" or (outcome == "interrupted" and where):
                if here == 0 and not where:
                    problem("lost", op, f"not on {op['key']}")
                elif len(where) > 1:
                    problem("duplicated", op, f"on {where}")
                elif here == 0:
                    problem("lost", op, f"on {where}, not on {op['key']}")
                else:
                    n["applied"] += outcome == "accepted"
                    n["interrupted-applied"] += outcome == "interrupted"
            if outcome in ("refused",) and (where or any(
                    op["body"] in body for body in jira.comments)):
                problem("refused-in-jira", op, f"refused (errno {op['rc']}) but on {where}")
        elif kind == "close":
            bean = jira.issues.get(op["key"])
            done = bean is not None and is_done(bean)
            if outcome == "accepted":
                if done:
                    n["applied"] += 1
                else:
                    problem("lost", op, f"{op['key']} is "
                            f"{bean['fields']['status']['name'] if bean else 'gone'}")
            elif outcome == "interrupted":
                n["interrupted-applied"] += done
            elif done:
                problem("refused-in-jira", op, f"refused (errno {op['rc']}) but done")
        elif kind == "bad-move":
            bean = jira.issues.get(op["key"])
            if bean is None or bean["fields"]["project"]["key"] != op["project"]:
                problem("refused-in-jira", op, f"{op['key']} moved")
            if op["rc"] != errno.EPERM and outcome != "interrupted":
                problem("wrong-errno", op, f"errno {op['rc']}, EPERM expected")
        else:                       # bad-long-summary, bad-json
            keys = jira.with_marker(op["marker"])
            if keys:
                problem("refused-in-jira", op, f"bad create is in Jira: {keys}")
            if kind == "bad-json" and op["rc"] != errno.EINVAL and outcome != "interrupted":
                problem("wrong-errno", op, f"errno {op['rc']}, EINVAL expected")
    # creates no operation accounts for
    ours = {op["summary"] for op in ops if op["kind"] == "create"}
    for s, keys in jira.by_summary.items():
        if s.startswith("soak w") and RUN in s and s not in ours:
            problem("unexpected", {"kind": "create", "summary": s}, f"{keys}")
    return n, problems


def evidence(reqs, op):
    """The write requests of op in the request log, one short line each."""
    out = []
    for r in reqs:
        if r["method"] not in ("POST", "PUT"):
            continue
        body = r.get("body") if isinstance(r.get("body"), dict) else {}
        if op["kind"] == "create":
            hit = r["path"] == f"{REST}/issue" and \
                (body.get("fields") or {}).get("summary") == op["summary"]
        elif op["kind"] == "comment":
            hit = r["path"].endswith("/comment") and op["body"] in str(body.get("body"))
        elif op["kind"] == "close":
            hit = r["path"] == f"{REST}/issue/{op['key']}/transitions"
        else:
            hit = False
        if hit:
            out.append(f"#{r['seq']} {r['method']} {r['path']} -> {r.get('status')} "
                       f"(processed: {r.get('processed_status')}) fault={r.get('fault')} "
                       f"t={r['time']:.2f}+{r.get('duration_ms')}ms conn={r.get('conn')}")
    return out


def request_counts(emu, since, until):
    reqs = [r for r in emu.requests(since=since) if r["seq"] < until]
    faulted = [r for r in reqs if r.get("fault")]
    return reqs, faulted


def committed_then_lost(reqs):
    """Write requests that Jira committed but whose answer was lost
    (a fault after the commit): {kind: [summary or comment body]}."""
    out = collections.defaultdict(list)
    for r in reqs:
        if r.get("fault") not in AFTER_COMMIT or r["method"] != "POST":
            continue
        body = r.get("body") if isinstance(r.get("body"), dict) else {}
        ok = r.get("processed_status") in (200, 201, 204)
        if not ok:
            continue
        if r["path"] == f"{REST}/issue":
            out["create"].append((body.get("fields") or {}).get("summary"))
        elif r["path"].endswith("/comment"):
            out["comment"].append(body.get("body"))
        elif r["path"].endswith("/transitions"):
            out["close"].append(r["path"].split("/")[-2])
    return out


# ---- the test -----------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.timeout(int(300 + 120 * SLOW))     # a run takes ~20 s (plain and ASan)
def test_chaos_soak_applies_every_accepted_operation_exactly_once(
        fresh_emulator, mount, tmp_path, capsys):
    t_start = time.monotonic()
    emu = fresh_emulator(extra_args=["--seed", "demo"])      # stock: no indexed properties
    state = str(tmp_path / "soak-state")
    options = [f"state_dir={state}", f"timeout={TIMEOUT_S}"]
    m1 = mount(emu, *options)
    for p in PROJECTS:
        assert os.listdir(m1.p(p)), p

    ops, lock = [], threading.Lock()
    gate = Gate(m1.path)
    writers = [Writer(w, gate, OPS_PER_WRITER, ops, lock) for w in range(WRITERS)]
    total = WRITERS * OPS_PER_WRITER

    seq_on = emu.request_seq()
    emu.add_faults(fault_rules())
    for w in writers:
        w.start()

    # mid-stream: SIGKILL, clean the dead mount, mount the same state again
    deadline = time.monotonic() + 200 * SLOW
    while gate.done < total * KILL_AFTER and any(w.is_alive() for w in writers):
        assert time.monotonic() < deadline, f"only {gate.done} operations in 200 s"
        time.sleep(0.02)
    while gate.active < 2 and time.monotonic() < deadline and \
            any(w.is_alive() for w in writers):
        time.sleep(0.005)                   # kill while operations are under way
    gate.shut()
    t_kill = time.monotonic()
    in_flight = gate.active
    stuck = kill_daemon(m1)
    assert gate.wait_idle(60 * SLOW), "writers still blocked on the dead mount"
    m2, mount_errors = remount(mount, emu, options)
    gate.kill_window = (t_kill, time.monotonic())
    gate.reopen(m2.path)

    for w in writers:
        w.join(timeout=300 * SLOW)
        assert not w.is_alive(), f"{w.name} did not finish"
        if w.crash:
            raise w.crash
    t_writes = time.monotonic()

    # faults off; everything accepted must now reach Jira
    emu.clear_faults()
    seq_off = emu.request_seq()
    drain_s = wait_drained(m2, state, DRAIN_S)
    seq_end = emu.request_seq()
    litter = sorted(set(os.listdir(os.path.join(state, "outbox"))) - set(records_in(state)))

    classify(ops, gate.kill_window)
    jira = Jira(emu)
    n, problems = check(ops, jira, m2)

    reqs, faulted = request_counts(emu, seq_on, seq_off)
    all_reqs = emu.requests(since=seq_on)
    errors = [r for r in faulted if r["fault"] in ERROR_ACTIONS]
    by_action = collections.Counter(
        r["fault"] + (f"-{r['status']}" if r["fault"] in ("status", "status_after")
                      and r.get("status") else "") for r in faulted)
    after = committed_then_lost(reqs)
    sent = seq_end - seq_on
    rate = len(faulted) / max(1, len(reqs))
    err_rate = len(errors) / max(1, len(reqs))

    # a create whose answer was lost ends as one ticket and its alias
    by_summary = {op["summary"]: op for op in ops if op["kind"] == "create"}
    lost_answer = [s for s in after["create"] if s in by_summary
                   and by_summary[s]["outcome"] in ("accepted", "interrupted")]

    nbad = sum(o["kind"].startswith("bad") for o in ops)
    line = (f"soak: accepted={n['accepted']} refused={n['refused']} "
            f"interrupted={n['interrupted']} bad={nbad} "
            f"sent={sent} ({len(reqs)} while faults on) faulted={len(faulted)} "
            f"({rate:.0%} of those; errors {err_rate:.0%}) "
            f"applied={n['applied']} duplicated={n['duplicated']} lost={n['lost']}")
    kinds = collections.Counter((o["kind"], o["outcome"]) for o in ops)
    detail = (f"soak: ops {dict(sorted(kinds.items()))}; {in_flight} under way at the kill, "
              f"{n['interrupted-applied']} interrupted applied; answers lost after commit: "
              f"{len(after['create'])} creates ({len(lost_answer)} of accepted/interrupted ones), "
              f"{len(after['comment'])} comments, {len(after['close'])} transitions; "
              f"faults {dict(sorted(by_action.items()))}; remount retries {len(mount_errors)}; "
              f"{'killed daemon did not exit: ' + '; '.join(stuck) + '; ' if stuck else ''}"
              f"{'left in the state directory: ' + str(litter) + '; ' if litter else ''}"
              f"writes {t_writes - t_start:.0f} s, drain {drain_s:.0f} s, "
              f"total {time.monotonic() - t_start:.0f} s (slowdown {SLOW:g})")
    print(line)
    print(detail)
    with capsys.disabled():
        print("\n" + line + "\n" + detail)

    # what went wrong, with the daemon's words about it
    report = []
    logs = [m1.log(), m2.log()]
    try:
        raw = open(m2.p(".jirafs", "log"), "rb").read()
    except OSError:
        raw = b""
    logs.append(raw.decode("utf-8", "replace"))
    for ln in raw.splitlines():     # .jirafs/log is text: bytes that are not are a bug
        try:
            ln.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(("log-not-utf8", {"kind": "log"}, repr(ln)))
            n["log-not-utf8"] += 1
    for what, op, det in problems[:25]:
        words = [w for w in (op.get("name"), op.get("key"), op.get("summary"),
                             op.get("body"), op.get("marker")) if w]
        report.append(f"{what}: {op.get('kind')} {op.get('outcome', '')} "
                      f"w{op.get('w')} {op.get('project', '')}/"
                      f"{op.get('name') or op.get('key') or ''} "
                      f"rc={op.get('rc')} stage={op.get('stage')} "
                      f"{op.get('summary') or op.get('body') or ''}: {det}")
        report += ["    > " + x for x in evidence(all_reqs, op)]
        report += ["    | " + x for x in log_lines(logs, words)]
    dump = tmp_path / "soak-report.json"
    with open(dump, "w") as f:
        json.dump({"line": line, "detail": detail, "ops": ops, "kill_window": gate.kill_window,
                   "problems": [[w, o, d] for w, o, d in problems], "requests": all_reqs},
                  f, indent=1, default=str)
    tally = collections.Counter(w for w, _, _ in problems)
    msg = (line + "\n" + detail + f"\nproblems: {dict(tally)}\n" + "\n".join(report)
           + f"\n(everything: {dump})")

    report_m1 = sanitizer_report(m1.log())
    assert report_m1 is None, f"sanitizer report before the kill:\n{report_m1}"
    assert n["duplicated"] == 0 and n["lost"] == 0, msg
    assert not problems, msg
    assert n["accepted"] >= 100, msg
    assert rate >= 0.20 and err_rate >= 0.20, msg
    kinds_seen = {a.split("-")[0] for a in by_action} | {a for a in by_action}
    for want in ("status-500", "status-502", "status-503", "status-504", "status-429",
                 "status_after-502", "status_after-503", "status_after-504",
                 "html", "drop", "drop_after", "latency"):
        assert want in kinds_seen, f"no {want} fault happened\n{msg}"
    assert lost_answer, f"no create lost its answer after the commit\n{msg}"
