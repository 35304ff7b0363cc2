"""The read side of the mount (CONTRACT §2, §3, §8) with ordinary tools."""
import errno
import json
import math
import os
import random
import stat
import subprocess
import time

import pytest

from emulator.control import max_overlap
from mountlib import read_log, status, status_text, wait_for, wait_for_refresh
from ticket_model import KEY_ORDER, expected_ticket, is_done


def search_requests(emu, since):
    return [r for r in emu.requests(since=since)
            if r["path"] == "/rest/api/2/search"]


def issue_gets(emu, since):
    return [r for r in emu.requests(since=since)
            if r["method"] == "GET" and r["path"].startswith("/rest/api/2/issue/")]


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture(scope="module")
def big_issues(emulator):
    return {b["key"]: b for b in emulator.issues("BIG")}


def test_listing_2500_tickets_matches_emulator_in_the_pages_needed(emulator, mount, big_issues):
    m = mount(emulator)
    since = emulator.request_seq()
    open_keys = sorted(k for k, b in big_issues.items() if not is_done(b))
    done_keys = sorted(k for k, b in big_issues.items() if is_done(b))
    assert len(open_keys) == 2000 and len(done_keys) == 500

    listed = sorted(n[:-5] for n in os.listdir(m.p("BIG")) if n.endswith(".json"))
    closed = sorted(n[:-5] for n in os.listdir(m.p("BIG", "closed")))
    assert listed == open_keys
    assert closed == done_keys
    assert "closed" in os.listdir(m.p("BIG"))

    searches = search_requests(emulator, since)
    assert len(searches) == math.ceil(2500 / 100)          # the clamp is 100
    starts = sorted(r["body"]["startAt"] for r in searches)
    assert starts == list(range(0, 2500, 100))
    assert all(r["body"]["maxResults"] >= 100 for r in searches)
    # the listing is cached: listing again, with every file's attributes, costs nothing
    since = emulator.request_seq()
    assert sh(f"ls -l {m.p('BIG')} | grep -c '.json$'").stdout.strip() == "2000"
    assert sh(f"ls -l {m.p('BIG', 'closed')} | grep -c '.json$'").stdout.strip() == "500"
    assert emulator.requests(since=since) == []


def test_cat_of_sampled_tickets_equals_emulator_data(emulator, mount, big_issues):
    m = mount(emulator)
    rnd = random.Random(2)
    sample = rnd.sample(sorted(big_issues), 100)
    os.listdir(m.p("BIG"))
    since = emulator.request_seq()
    for key in sample:
        bean = big_issues[key]
        path = m.p("BIG", "closed" if is_done(bean) else "", key + ".json")
        out = subprocess.run(["cat", path], capture_output=True, check=True).stdout
        text = out.decode("utf-8")
        assert text.endswith("}\n")
        doc = json.loads(text)
        assert doc == expected_ticket(bean)
        assert list(doc) == KEY_ORDER
        assert text.startswith('{\n  "key": ')           # two-space indent
        jq = subprocess.run(["jq", "-e", ".key"], input=out, capture_output=True)
        assert jq.returncode == 0 and json.loads(jq.stdout) == key
    assert issue_gets(emulator, since) == []


def test_stat_size_equals_bytes_read(emulator, mount):
    m = mount(emulator)
    checked = 0
    for d in ("SEC", "SEC/closed", "OPS", "WEB", "BIG"):
        names = sorted(os.listdir(m.p(d)))
        for name in names[:150]:
            path = m.p(d, name)
            st = os.stat(path)
            if not stat.S_ISREG(st.st_mode):
                continue
            with open(path, "rb") as f:
                data = f.read()
            assert st.st_size == len(data), path
            checked += 1
    assert checked > 150


def test_grep_r_finds_tickets_without_per_ticket_requests(emulator, mount, big_issues):
    m = mount(emulator)
    since = emulator.request_seq()
    word = "CVE-2023-0286"
    want = sorted(
        ("closed/" if is_done(b) else "") + k + ".json"
        for k, b in big_issues.items()
        if word in json.dumps(expected_ticket(b), ensure_ascii=False))
    r = sh(f"grep -rl {word} .", cwd=m.p("BIG"))
    got = sorted(p[2:] for p in r.stdout.split())
    assert got == want
    assert issue_gets(emulator, since) == []
    assert len(search_requests(emulator, since)) == 25


def test_tree_shape_modes_times_and_owner(emulator, mount):
    m = mount(emulator)
    root = sorted(os.listdir(m.path))
    assert root == [".jirafs", "BIG", "OPS", "SEC", "WEB", "queries"]
    assert sorted(os.listdir(m.p(".jirafs"))) == ["log", "outbox", "status"]
    # writable where files can be created, read-only where they cannot
    for d, mode in ((m.path, 0o555), (m.p("SEC"), 0o755), (m.p("SEC", "closed"), 0o755),
                    (m.p(".jirafs"), 0o555), (m.p(".jirafs", "outbox"), 0o555)):
        st = os.stat(d)
        assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == mode, d
        assert st.st_uid == os.getuid() and st.st_gid == os.getgid()
    for f in ("status", "log"):
        assert stat.S_IMODE(os.stat(m.p(".jirafs", f)).st_mode) == 0o444
    bean = emulator.issue("SEC-1")
    path = m.p("SEC", "closed" if is_done(bean) else "", "SEC-1.json")
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o644 and st.st_uid == os.getuid()
    from datetime import datetime
    fmt = "%Y-%m-%dT%H:%M:%S.%f%z"
    assert st.st_mtime == pytest.approx(
        datetime.strptime(bean["fields"]["updated"], fmt).timestamp(), abs=0.001)
    assert st.st_ctime == pytest.approx(
        datetime.strptime(bean["fields"]["created"], fmt).timestamp(), abs=0.001)


def test_xattrs_key_url_status(emulator, mount):
    m = mount(emulator)
    names = [n for n in os.listdir(m.p("SEC")) if n.endswith(".json")]
    path = m.p("SEC", names[0])
    key = names[0][:-5]
    bean = emulator.issue(key)
    assert os.getxattr(path, "user.jira.key") == key.encode()
    assert os.getxattr(path, "user.jira.url") == f"{emulator.url}/browse/{key}".encode()
    assert os.getxattr(path, "user.jira.status") == bean["fields"]["status"]["name"].encode()
    assert set(os.listxattr(path)) >= {"user.jira.key", "user.jira.url", "user.jira.status"}
    with pytest.raises(OSError) as e:
        os.getxattr(path, "user.jira.nothing")
    assert e.value.errno == errno.ENODATA
    r = sh(f"getfattr -n user.jira.key --only-values {path}")
    assert r.stdout == key


def test_ls_l_asks_for_selinux_and_acls_once_per_mount(emulator, mount, tmp_path):
    """ls -l asks every file for its SELinux context and its ACL. jirafs
    has neither namespace and says so (ENOTSUP, not ENODATA), which
    coreutils remembers for the device: two calls for the whole listing
    instead of two FUSE round trips per entry."""
    m = mount(emulator)
    names = sorted(n for n in os.listdir(m.p("SEC")) if n.endswith(".json"))
    assert len(names) >= 10
    path = m.p("SEC", names[0])
    for name in ("security.selinux", "system.posix_acl_access", "trusted.x"):
        with pytest.raises(OSError) as e:
            os.getxattr(path, name)
        assert e.value.errno == errno.ENOTSUP, name
    with pytest.raises(OSError) as e:  # the user namespace is jirafs's
        os.getxattr(path, "user.other")
    assert e.value.errno == errno.ENODATA
    out = tmp_path / "strace.txt"
    subprocess.run(["strace", "-f", "-o", str(out), "-e", "trace=getxattr,lgetxattr",
                    "ls", "-l", m.p("SEC")], check=True, capture_output=True)
    calls = [ln for ln in out.read_text().splitlines() if "getxattr(" in ln]
    assert 1 <= len(calls) <= 2, calls
    assert all("ENOTSUP" in ln or "EOPNOTSUPP" in ln for ln in calls), calls


def test_status_file_is_json_and_log_has_events(emulator, mount):
    m = mount(emulator)
    os.listdir(m.p("SEC"))
    text = status_text(m)
    st = json.loads(text)
    assert st["server"] == emulator.url
    assert st["user"] == "alice"
    assert st["auth"] == "pat"
    assert st["jira_version"]
    assert st["transport"]["state"] == "up"
    assert st["outbox"] == 0
    assert st["counters"]["requests"] >= 2          # projects + one search page
    assert os.stat(m.p(".jirafs", "status")).st_size == len(text.encode())
    log = read_log(m)
    assert "mounted " + emulator.url in log
    assert os.listdir(m.p(".jirafs", "outbox")) == []


def test_unknown_names_are_enoent_without_requests(emulator, mount):
    m = mount(emulator)
    os.listdir(m.p("SEC"))
    since = emulator.request_seq()
    for name in ("SEC/notes.txt", "SEC/.SEC-1.json.swp", "SEC/OPS-1.json", "NOPE",
                 "SEC/closed/x", "lowercase", ".jirafs/nothing", "SEC/SEC-1.json/x"):
        with pytest.raises(OSError) as e:
            os.stat(m.p(name))
        assert e.value.errno in (errno.ENOENT, errno.ENOTDIR), name
    # only a (rate-limited) look at the project list, for the unknown "NOPE"
    paths = [r["path"] for r in emulator.requests(since=since)]
    assert paths in ([], ["/rest/api/2/project"]), paths


def test_ticket_missing_from_listing_is_fetched_once(emulator, mount):
    m = mount(emulator)
    os.listdir(m.p("OPS"))
    since = emulator.request_seq()
    with pytest.raises(FileNotFoundError):
        os.stat(m.p("OPS", "OPS-99999.json"))
    with pytest.raises(FileNotFoundError):
        os.stat(m.p("OPS", "OPS-99999.json"))
    gets = issue_gets(emulator, since)
    assert len(gets) == 1 and gets[0]["status"] == 404


def test_projects_option_limits_the_tree(emulator, mount):
    m = mount(emulator, "projects=SEC,OPS")
    assert sorted(os.listdir(m.path)) == [".jirafs", "OPS", "SEC", "queries"]
    # another project is never listed (a search's links may still lead into it)
    with pytest.raises(PermissionError):
        os.listdir(m.p("WEB"))
    with pytest.raises(FileNotFoundError):
        os.listdir(m.p("NOPE"))


def test_cache_ttl_refreshes_listing_and_content(fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu, "cache_ttl=1")
    key = sorted(n for n in os.listdir(m.p("OPS")) if n.endswith(".json"))[0][:-5]
    before = open(m.p("OPS", key + ".json")).read()
    emu.set_issue(key, fields={"summary": "changed behind jirafs's back"})
    wait_for_refresh(m, "OPS")                       # the listing went stale
    after = json.loads(open(m.p("OPS", key + ".json")).read())
    assert after["summary"] == "changed behind jirafs's back"
    assert json.loads(before)["summary"] != after["summary"]


def test_parallel_readers_share_one_listing(emulator, mount):
    m = mount(emulator)
    since = emulator.request_seq()
    procs = [subprocess.Popen(["ls", "-l", m.p("BIG")], stdout=subprocess.DEVNULL)
             for _ in range(8)]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    assert len(search_requests(emulator, since)) == 25


def test_pages_after_the_first_are_fetched_in_parallel_over_a_kept_pool(fresh_emulator, mount):
    emu = fresh_emulator(seed_projects=["PAR:1200:4"], latency_ms=100)
    m = mount(emu, "max_connections=4", "cache_ttl=1")
    since = emu.request_seq()
    os.listdir(m.p("PAR"))
    first = [r for r in emu.requests(since=since) if r["path"] == "/rest/api/2/search"]
    assert len(first) == 12                                  # 1,200 at a clamp of 100
    assert first[0]["body"]["startAt"] == 0
    assert 2 <= max_overlap(first[1:]) <= 4                  # parallel, within the pool
    # a ticket deleted in Jira: the incremental refresh (changes + count)
    # sees the count fall and lists the project again
    emu.delete_issue("PAR-5")
    # listed until the listing goes stale and the refresh notices the deletion
    wait_for(lambda: "PAR-5.json" not in os.listdir(m.p("PAR")), 20,
             "the deletion of PAR-5 noticed")
    after = [r for r in emu.requests(since=since) if r["path"] == "/rest/api/2/search"]
    assert len(after) == 12 + 2 + 12                         # first, delta + count, again
    assert 'updated >= "-' in after[12]["body"]["jql"]      # what changed lately
    assert after[13]["body"]["maxResults"] == 0              # the count
    conns = {r["conn"] for r in emu.requests(since=since)}
    assert len(conns) <= 4, conns                            # connections are kept and reused


def test_a_read_of_a_ticket_parses_its_name_once(emulator, mount):
    """The name is taken apart at lookup and the inode keeps what it is:
    getattr, open, read, flush and release use that, not the name again.
    With cache_ttl=0 every cat looks the ticket up (one parse); reading the
    status between costs the lookup of "status" (one more)."""
    m = mount(emulator, "cache_ttl=0")
    key = sorted(n for n in os.listdir(m.p("SEC")) if n.endswith(".json"))[0]
    path = m.p("SEC", key)
    with open(path) as f:  # warm: SEC and its listing are known
        f.read()
    before = status(m)["counters"]["names_parsed"]
    reads = 10
    for _ in range(reads):
        r = sh(f"cat {path} > /dev/null && stat -c %s {path} > /dev/null")
        assert r.returncode == 0, r.stderr
    after = status(m)["counters"]["names_parsed"]
    # each cat and stat: one lookup of the ticket; and "status" once
    assert after - before == 2 * reads + 1, (before, after)


def test_tickets_beyond_memory_max_are_served_from_the_state_directory(emulator, mount):
    """Ticket files are kept compressed; beyond memory_max in a file of the
    state directory. A mount with a 64 KiB limit serves 2,500 tickets
    exactly as one without, and reads, greps and writes still work."""
    big = mount(emulator)
    small = mount(emulator, "memory_max=64K")
    names = sorted(os.listdir(big.p("BIG")))
    assert sorted(os.listdir(small.p("BIG"))) == names
    files = [n for n in names if n.endswith(".json")]
    assert len(files) > 1000
    for n in files:
        with open(big.p("BIG", n), "rb") as a, open(small.p("BIG", n), "rb") as b:
            assert a.read() == b.read(), n
    tx = status(small)["cache"]["texts"]
    assert tx["memory_max"] == 64 * 1024
    assert tx["memory_bytes"] <= 64 * 1024
    assert tx["spilled"] > 2000 and tx["spilled_bytes"] > 0
    # the big mount keeps them all in memory, compressed
    bt = status(big)["cache"]["texts"]
    assert bt["spilled"] == 0 and 0 < bt["memory_bytes"] < bt["bytes"] / 2
    # nothing of it is left as a file in the state directory
    state = next(o.split("=", 1)[1] for o in small.options if o.startswith("state_dir="))
    assert not [f for f in os.listdir(state) if f.startswith("texts")]
    r = sh(f"grep -rl 'BIG-1\"' {small.p('BIG')}")
    assert r.stdout.strip().endswith("BIG-1.json"), r.stdout
    path = small.p("BIG", files[0])
    key = files[0][:-5]
    with open(path, "a") as f:
        f.write("a comment through a spilled ticket\n")
    wait_for(lambda: any(c["body"] == "a comment through a spilled ticket"
                         for c in emulator.issue(key)["fields"]["comment"]["comments"]))
    for bad in ("12Q", "-1", "M", "99999999999999G"):
        rc, out = mount(emulator, f"memory_max={bad}", start=False).run_expect_failure()
        assert rc != 0 and "memory_max=" in out, out


def test_a_first_listing_is_shown_as_its_pages_come(fresh_emulator, mount):
    """A cold project directory is given to its reader page by page: the
    tickets of the pages read come while a slow page is still on its way,
    and the whole is exactly the listing (no ticket twice, none missing,
    each in its directory), for a reader of closed/ at the same time too."""
    emu = fresh_emulator(seed_projects=["STR:1200:4"])
    emu.config(max_results=100)
    m = mount(emu, "max_connections=4")
    os.listdir(m.p())                                        # the project list only
    # the fourth page to be asked for takes 3 s; the others come at once
    emu.add_faults({"method": "POST", "path": "/rest/api/2/search", "skip": 3,
                    "count": 1, "action": "latency", "ms": 3000})
    since = emu.request_seq()
    t0 = time.monotonic()
    first = None
    names = []
    with os.scandir(m.p("STR")) as it:
        for e in it:
            if e.name.endswith(".json") and first is None:
                first = time.monotonic() - t0
                assert e.stat().st_size > 0                  # readdirplus gave its size
            names.append(e.name)
    whole = time.monotonic() - t0
    closed = os.listdir(m.p("STR", "closed"))
    assert whole >= 3.0, whole                               # the slow page was waited for
    assert first < 1.5, (first, whole)                       # but not before the first tickets
    pages = search_requests(emu, since)
    assert len(pages) == 12, len(pages)                      # one listing, 1,200 at 100
    assert sum(1 for r in pages if r["fault"] == "latency") == 1
    tickets = [n for n in names if n.endswith(".json")]
    assert len(tickets) == len(set(tickets)), "a ticket listed twice"
    want = {b["key"] for b in emu.issues("STR")}
    want_closed = {b["key"] for b in emu.issues("STR") if is_done(b)}
    assert {n[:-5] for n in tickets} == want - want_closed
    assert {n[:-5] for n in closed if n.endswith(".json")} == want_closed
    assert {"closed", "scans"} <= set(names)
    # the directory read again, from what is held, is the same
    assert sorted(os.listdir(m.p("STR"))) == sorted(names)
    assert len(search_requests(emu, since)) == 12


def test_a_first_listing_that_fails_midway_is_an_error_then_is_read_again(fresh_emulator, mount):
    """A page that fails (after retries) while the listing is shown fails
    the directory read with EIO, not a short listing; the next read lists
    the project whole."""
    emu = fresh_emulator(seed_projects=["STF:600:4"])
    emu.config(max_results=100)
    m = mount(emu, "max_connections=2", "timeout=5")
    os.listdir(m.p())
    # Jira drops the connection of every page after the second
    emu.add_faults({"method": "POST", "path": "/rest/api/2/search", "skip": 2,
                    "action": "drop"})
    with pytest.raises(OSError) as e:
        os.listdir(m.p("STF"))
    assert e.value.errno == errno.EIO, e.value
    emu.clear_faults()
    time.sleep(2.5)                                          # past the pause after a failure
    names = [n for n in os.listdir(m.p("STF")) if n.endswith(".json")]
    assert len(names) == len(set(names)) == 450              # 600, a quarter closed
