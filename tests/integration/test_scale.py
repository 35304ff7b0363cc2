"""Speed and scale by request counts (CONTRACT §8): the targets of the
benchmark (bench/) checked on a 5,000-ticket project.  Counts are stable on
a noisy machine; times are not, so none is asserted here."""
import os
import subprocess

from mountlib import wait_for_refresh
from testenv import build_dir

N = 5000
PAGE = 500


def searches(reqs):
    return [r for r in reqs if r["path"] == "/rest/api/2/search"]


def ticket_gets(reqs):
    return [r for r in reqs if r["method"] == "GET" and r["path"].startswith("/rest/api/2/issue/")
            and r["path"].count("/") == 4]


def memory_kib(pid):
    """(VmHWM, VmRSS) of a process, in KiB."""
    v = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, rest = line.partition(":")
            if k in ("VmHWM", "VmRSS"):
                v[k] = int(rest.split()[0])
    return v["VmHWM"], v["VmRSS"]


def test_listing_grep_and_refresh_cost_what_the_targets_say(fresh_emulator, mount):
    emu = fresh_emulator(seed_projects=[f"SCALE:{N}:4"], max_results=PAGE)
    m = mount(emu, "cache_ttl=3600")
    os.listdir(m.path)

    # (a) a cold `ls -l` of the whole project: ceil(N/P) pages and little else
    since = emu.request_seq()
    out = subprocess.run(["ls", "-l", m.p("SCALE"), m.p("SCALE", "closed")], check=True,
                         capture_output=True, text=True).stdout
    assert sum(1 for line in out.splitlines() if line.endswith(".json")) == N
    cold = emu.requests(since=since)
    assert len(searches(cold)) <= -(-N // PAGE) + 3, len(searches(cold))
    assert ticket_gets(cold) == []
    # (g) memory grows with the tickets held, not with the pages read: the
    # high-water mark of the listing stays close to what is held after it
    # (about 1.3x: the answers in flight).  Pages parsed as whole trees, 12
    # MiB each here, took it to 3.3x.  Not under ASan, whose allocator
    # keeps freed memory in quarantine.
    hwm, rss = memory_kib(m.proc.pid)
    print(f"daemon after listing {N}: VmRSS {rss} KiB, VmHWM {hwm} KiB")
    if "asan" not in os.path.basename(build_dir()):
        assert hwm <= 1.6 * rss, (hwm, rss)
    # a warm one makes no request at all
    since = emu.request_seq()
    subprocess.run(["ls", "-l", m.p("SCALE"), m.p("SCALE", "closed")], check=True,
                   capture_output=True)
    assert emu.requests(since=since) == []

    # (b) grep -rl over every ticket: no per-ticket request
    since = emu.request_seq()
    r = subprocess.run(["grep", "-rl", "CVE-2023-0286", m.p("SCALE")], capture_output=True,
                       text=True)
    assert r.returncode == 0 and len(r.stdout.split()) > 10
    assert emu.requests(since=since) == []

    # (f) 10 of 5,000 changed in Jira: the refresh costs at most 3 requests
    # and shows every change
    m2 = mount(emu, "cache_ttl=1")
    os.listdir(m2.p("SCALE"))
    changed = [f"SCALE-{k}" for k in range(1, N, N // 10)]
    for k in changed:
        emu.set_issue(k, fields={"summary": f"changed in Jira: {k}"})
    since = emu.request_seq()
    wait_for_refresh(m2, "SCALE")                # the listing goes stale: one refresh
    refresh = emu.requests(since=since)
    assert len(refresh) <= 3, [(r["method"], r["path"], r["body"]) for r in refresh]
    for k in changed:
        path = m2.p("SCALE", f"{k}.json")
        if not os.path.exists(path):
            path = m2.p("SCALE", "closed", f"{k}.json")
        assert f"changed in Jira: {k}" in open(path).read()

    # a ticket deleted and one moved away in Jira: the count tells, and the
    # project is listed again
    emu.delete_issue("SCALE-2")
    emu.create_project("ELSE")
    moved = emu.move_issue("SCALE-3", "ELSE")
    wait_for_refresh(m2, "SCALE")
    names = set(os.listdir(m2.p("SCALE"))) | set(os.listdir(m2.p("SCALE", "closed")))
    assert "SCALE-2.json" not in names and "SCALE-3.json" not in names
    assert len([n for n in names if n.endswith(".json")]) == N - 2
    assert moved.startswith("ELSE-")


