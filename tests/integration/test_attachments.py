"""Attachments (issue 15): PROJECT/attachments/KEY/ holds one read-only file
per attachment of the ticket, downloaded on the first read into a capped
cache in the state directory; a file created there is uploaded through the
outbox (multipart POST issue/KEY/attachments), exactly once.

Jira's side is seeded and checked through the emulator's control API
(add_attachment, attachment_info, issue beans, config, faults, the request
log), never through the mount."""
import errno
import hashlib
import json
import os
import shlex
import stat
import subprocess
import time
from datetime import datetime

import pytest

from mountlib import SLOW, drained, outbox_files, quiesce, read_log, status, wait_for
from testenv import build_dir

KiB, MiB = 1 << 10, 1 << 20
DATE_FMT = "%Y-%m-%dT%H:%M:%S.%f%z"
STATUS_KEYS = {"cached", "cached_bytes", "cache_max", "downloads", "uploads"}


# ------------------------------------------------------------------ the tree
def adir(m, project, *parts):
    """PROJECT/attachments/[KEY[/NAME]] in the mount."""
    return m.p(project, "attachments", *parts)


def sh(cmd, cwd=None):
    return subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def sha256_of(path, chunk=MiB):
    """The file's SHA-256, read in chunks (never whole in this process either)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                return h.hexdigest()
            h.update(b)


def epoch(jira_date):
    return datetime.strptime(jira_date, DATE_FMT).timestamp()


def hwm_kib(pid):
    """VmHWM of a process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, rest = line.partition(":")
            if k == "VmHWM":
                return int(rest.split()[0])
    raise AssertionError(f"no VmHWM in /proc/{pid}/status")


def state_dir(m):
    """The mount's state directory (the last state_dir= option wins)."""
    return [o.split("=", 1)[1] for o in m.options if o.startswith("state_dir=")][-1]


def files_of_size(root, size):
    """Regular files under root whose size is size (where the cache keeps
    attachments is the daemon's business: found by their size)."""
    out = []
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            try:
                st = os.lstat(p)
            except FileNotFoundError:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_size == size:
                out.append(p)
    return out


def open_fails(path, flags, want):
    with pytest.raises(OSError) as e:
        fd = os.open(path, flags)
        os.close(fd)
    assert e.value.errno == want, (path, flags, e.value)


# ------------------------------------------------------------------ the outbox
def settle(m, emu, timeout=90):
    """The outbox drained, and the traffic after it (a look after the last
    try) over."""
    wait_for(lambda: drained(m), timeout, f"the outbox of {m.path} to drain")
    quiesce(emu)
    wait_for(lambda: drained(m), timeout, f"the outbox of {m.path} to drain")


# ------------------------------------------------------------------ Jira's side
def jira_atts(emu, key):
    """The ticket's attachment beans, in Jira's order (fields.attachment)."""
    return emu.issue(key)["fields"].get("attachment") or []


def named(emu, key, name):
    return [a for a in jira_atts(emu, key) if a["filename"] == name]


def upload_posts(emu, since, key):
    return emu.requests(since=since, method="POST", path=f"/rest/api/2/issue/{key}/attachments")


def all_upload_posts(emu, since):
    return [r for r in emu.requests(since=since, method="POST")
            if r["path"].endswith("/attachments")]


def downloads(emu, since, aid=None):
    prefix = "/secure/attachment/" + (f"{aid}/" if aid is not None else "")
    return emu.requests(since=since, method="GET", path=prefix)


def writes(emu, since):
    return [r for r in emu.requests(since=since) if r["method"] in ("POST", "PUT", "DELETE")
            and r["path"] != "/rest/api/2/search"]


def refusals(m, name):
    """The lines of .jirafs/log refusing something about name."""
    return [ln for ln in read_log(m).splitlines() if "refused" in ln and name in ln]


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def emu(fresh_emulator):
    return fresh_emulator(extra_args=["--seed", "demo"])


@pytest.fixture
def m(emu, mount):
    mnt = mount(emu, "timeout=5")
    os.listdir(mnt.p("SEC"))
    return mnt


# ================================================================== 1. the tree
def test_the_tree_lists_keys_with_attachments_and_their_files_in_id_order(fresh_emulator,
                                                                         mount):
    emu = fresh_emulator(seed_projects=["AT:8:4"], extra_args=["--seed", "demo"])
    t1, t2 = "2024-03-01T10:00:00.000+0000", "2024-03-02T11:30:15.250+0000"
    seeded = [emu.add_attachment("AT-2", "zeta.txt", content=b"zeta\n", created=t1),
              emu.add_attachment("AT-2", "alpha.txt", content=b"alpha, second\n", created=t2),
              emu.add_attachment("AT-2", "shot.png", content=b"\x89PNG first"),
              emu.add_attachment("AT-2", "notes", content=b"first notes"),
              emu.add_attachment("AT-2", "shot.png", content=b"\x89PNG the second one"),
              emu.add_attachment("AT-2", "notes", content=b"later notes, longer")]
    ids = [int(a["id"]) for a in seeded]
    assert ids == sorted(ids)
    # "dup (D).txt" exists, then the next "dup.txt" gets the id D: its first
    # choice is taken, so it is "dup (D-2).txt"
    d1 = emu.add_attachment("AT-2", "dup.txt", content=b"dup 1")
    d = int(d1["id"]) + 2
    d2 = emu.add_attachment("AT-2", f"dup ({d}).txt", content=b"dup 2 is a real name")
    d3 = emu.add_attachment("AT-2", "dup.txt", content=b"dup 3")
    assert int(d3["id"]) == d
    closed = emu.add_attachment("AT-4", "closed.log", content=b"on a closed ticket\n")
    assert emu.issue("AT-4")["fields"]["status"]["statusCategory"]["key"] == "done"

    m = mount(emu, "cache_ttl=3600")
    assert "attachments" in os.listdir(m.p("SEC"))
    assert sorted(os.listdir(adir(m, "SEC"))) == sorted(
        b["key"] for b in emu.issues("SEC") if b["fields"].get("attachment"))
    assert "attachments" in os.listdir(m.p("AT"))
    st = os.stat(adir(m, "AT"))
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o755
    # the keys with an attachment, open or closed, as the project listing
    # knows them: no request of its own
    os.listdir(m.p("AT", "closed"))
    since = emu.request_seq()
    assert sorted(os.listdir(adir(m, "AT"))) == ["AT-2", "AT-4"]
    assert emu.requests(since=since) == [], [r["path"] for r in emu.requests(since=since)]
    # a ticket without attachments can be entered all the same: empty
    assert stat.S_ISDIR(os.stat(adir(m, "AT", "AT-7")).st_mode)
    assert os.listdir(adir(m, "AT", "AT-7")) == []
    assert "AT-7" not in os.listdir(adir(m, "AT"))
    # a key Jira does not have, a key of another project, a name that is no key
    for bad in ("AT-99", "SEC-1", "notakey", "AT-"):
        with pytest.raises(OSError) as e:
            os.stat(adir(m, "AT", bad))
        assert e.value.errno == errno.ENOENT, bad
        with pytest.raises(OSError) as e:
            os.listdir(adir(m, "AT", bad))
        assert e.value.errno == errno.ENOENT, bad

    # the files: attachment-id order, later namesakes as STEM (ID).EXT
    want = ["zeta.txt", "alpha.txt", "shot.png", "notes", f"shot ({ids[4]}).png",
            f"notes ({ids[5]})", "dup.txt", f"dup ({d}).txt", f"dup ({d}-2).txt"]
    assert os.listdir(adir(m, "AT", "AT-2")) == want
    out = subprocess.run(["ls", "-U", adir(m, "AT", "AT-2")], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out == want
    assert os.listdir(adir(m, "AT", "AT-4")) == ["closed.log"]
    beans = seeded + [d1, d2, d3]
    for name, bean in zip(want, beans):
        path = adir(m, "AT", "AT-2", name)
        st = os.stat(path)
        assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o444, name
        assert st.st_uid == os.getuid() and st.st_gid == os.getgid(), name
        assert st.st_size == bean["size"], name
        assert st.st_mtime == pytest.approx(epoch(bean["created"]), abs=0.001), name
        assert st.st_ctime == pytest.approx(epoch(bean["created"]), abs=0.001), name
        assert hashlib.sha256(read_bytes(path)).hexdigest() == bean["sha256"], name
    assert os.stat(adir(m, "AT", "AT-2", "zeta.txt")).st_mtime == pytest.approx(
        epoch(t1), abs=0.001)
    assert read_bytes(adir(m, "AT", "AT-2", f"shot ({ids[4]}).png")) == b"\x89PNG the second one"
    assert read_bytes(adir(m, "AT", "AT-2", f"notes ({ids[5]})")) == b"later notes, longer"
    assert read_bytes(adir(m, "AT", "AT-4", "closed.log")) == b"on a closed ticket\n"
    assert closed["issue"] == "AT-4"
    with pytest.raises(OSError) as e:
        os.stat(adir(m, "AT", "AT-2", "nosuch.txt"))
    assert e.value.errno == errno.ENOENT


# ================================================================== 2. downloads
def test_a_20_mib_attachment_streams_through_a_file_and_is_downloaded_once(emu, mount):
    big = emu.add_attachment("SEC-3", "big.bin", size=20 * MiB,
                             pattern=b"jirafs attachment pattern 0123456789\n")
    m = mount(emu, "timeout=10", "cache_ttl=3600")
    path = adir(m, "SEC", "SEC-3", "big.bin")
    assert os.stat(path).st_size == 20 * MiB
    before = hwm_kib(m.proc.pid)
    since = emu.request_seq()
    assert sha256_of(path) == big["sha256"]
    got = downloads(emu, since)
    assert [r["path"].split("/")[3] for r in got] == [big["id"]], [r["path"] for r in got]
    after = hwm_kib(m.proc.pid)
    print(f"daemon VmHWM before {before} KiB, after the 20 MiB read {after} KiB")
    # never whole in memory (not under ASan, whose allocator quarantines frees)
    if "asan" not in os.path.basename(build_dir()):
        assert after - before < 12 * 1024, (before, after)
    # it went to a file of the state directory
    assert files_of_size(state_dir(m), 20 * MiB), "no 20 MiB file in the state directory"
    # a second reader, another process: from the cache, no request
    mark = emu.request_seq()
    r = subprocess.run(["sha256sum", path], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.split()[0] == big["sha256"], r.stderr
    assert subprocess.run(["cat", path], stdout=subprocess.DEVNULL).returncode == 0
    assert downloads(emu, mark) == []


def test_the_cache_cap_drops_the_least_recently_used(emu, mount):
    size = 600 * KiB
    atts = [emu.add_attachment("SEC-3", f"part{i}.bin", size=size, pattern=f"part {i} ".encode())
            for i in range(3)]
    m = mount(emu, "attachment_cache=1M", "cache_ttl=3600", "timeout=5")
    assert status(m)["attachments"]["cache_max"] == MiB
    paths = [adir(m, "SEC", "SEC-3", a["filename"]) for a in atts]
    since = emu.request_seq()
    for p, a in zip(paths, atts):
        assert hashlib.sha256(read_bytes(p)).hexdigest() == a["sha256"]
    assert len(downloads(emu, since)) == 3
    # the last one read is kept
    mark = emu.request_seq()
    assert hashlib.sha256(read_bytes(paths[2])).hexdigest() == atts[2]["sha256"]
    assert downloads(emu, mark) == []
    # the first one was dropped: one new download
    mark = emu.request_seq()
    with open(paths[0], "rb") as f:            # whatever the kernel kept of it: dropped
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    assert hashlib.sha256(read_bytes(paths[0])).hexdigest() == atts[0]["sha256"]
    again = downloads(emu, mark)
    assert len(again) == 1 and again[0]["path"].split("/")[3] == atts[0]["id"], \
        [r["path"] for r in again]
    # what the state directory holds: the cap and at most the one over it
    held = files_of_size(state_dir(m), size)
    assert held, "the cached attachments are not files of the state directory"
    assert sum(os.path.getsize(p) for p in held) <= MiB + size, held
    a = status(m)["attachments"]
    assert a["cached_bytes"] <= MiB + size and a["cached"] <= 2, a


def test_a_failed_download_fails_the_read_and_leaves_nothing_half_written(emu, mount):
    att = emu.add_attachment("SEC-3", "half.bin", size=256 * KiB, pattern=b"half ")
    m = mount(emu, "timeout=3", "cache_ttl=3600")
    path = adir(m, "SEC", "SEC-3", "half.bin")
    assert os.stat(path).st_size == 256 * KiB
    # every download of it is cut short: the full Content-Length, half the bytes
    emu.add_faults({"action": "truncate", "method": "GET",
                    "path": f"/secure/attachment/{att['id']}/"})
    ok = (errno.EIO, errno.ETIMEDOUT, errno.EHOSTUNREACH)
    for _ in range(2):                            # and not served from a half file later
        with pytest.raises(OSError) as e:
            read_bytes(path)
        assert e.value.errno in ok, e.value
    emu.clear_faults()
    since = emu.request_seq()
    assert hashlib.sha256(read_bytes(path)).hexdigest() == att["sha256"]
    assert len(downloads(emu, since, att["id"])) == 1


# ================================================================== 3. uploads
@pytest.mark.parametrize("how", ["cp", "cat"])
def test_an_upload_lands_once_with_its_bytes(emu, mount, tmp_path, how):
    m = mount(emu, "timeout=5", "cache_ttl=1")
    key = "SEC-3"
    assert jira_atts(emu, key) == []
    data = os.urandom(300 * KiB) + b"the end\n"
    src = tmp_path / "report.bin"
    src.write_bytes(data)
    name = "report.bin" if how == "cp" else "redirected.log"
    since = emu.request_seq()
    if how == "cp":
        r = subprocess.run(["cp", str(src), adir(m, "SEC", key) + "/"], capture_output=True,
                           text=True, timeout=60)
    else:
        r = sh(f"cat {shlex.quote(str(src))} > {shlex.quote(adir(m, 'SEC', key, name))}")
    assert r.returncode == 0, r.stderr                    # close() returned 0
    settle(m, emu)
    got = named(emu, key, name)
    assert len(got) == 1, [a["filename"] for a in jira_atts(emu, key)]
    bean = got[0]
    info = emu.attachment_info(bean["id"])
    assert info["size"] == len(data) and info["sha256"] == hashlib.sha256(data).hexdigest()
    assert info["issue"] == key
    posts = upload_posts(emu, since, key)
    assert [p["status"] for p in posts] == [200]
    hdrs = {k.lower(): v for k, v in posts[0]["headers"].items()}
    assert hdrs.get("x-atlassian-token") == "no-check"
    assert hdrs.get("content-type", "").startswith("multipart/form-data")
    parts = posts[0]["body"]["multipart"]
    assert [(p["name"], p["filename"], p["size"]) for p in parts] == [("file", name, len(data))]
    # the listing shows Jira's attachment
    path = adir(m, "SEC", key, name)

    def shown():
        st = os.stat(path)
        return stat.S_IMODE(st.st_mode) == 0o444 and st.st_size == bean["size"]
    wait_for(shown, 30, "the uploaded attachment as Jira's")
    assert os.listdir(adir(m, "SEC", key)) == [name]
    assert key in os.listdir(adir(m, "SEC"))
    assert read_bytes(path) == data
    # the ticket file shows fields.attachment as Jira gives it
    ticket = m.p("SEC", f"{key}.json")

    def listed():
        os.listdir(m.p("SEC"))
        doc = json.load(open(ticket))
        return [(a["id"], a["filename"], a["size"])
                for a in doc["fields"].get("attachment") or []]
    want = [(a["id"], a["filename"], a["size"]) for a in jira_atts(emu, key)]
    wait_for(lambda: listed() == want, 30, f"fields.attachment of {key}.json")


# ================================================================== 4. Jira down
@pytest.mark.parametrize("outage", ["stopped", "503"])
def test_an_upload_during_an_outage_waits_and_lands_once(emu, mount, tmp_path, outage):
    m = mount(emu, "timeout=3", "cache_ttl=3600")
    key = "SEC-3"
    os.listdir(adir(m, "SEC"))
    os.listdir(adir(m, "SEC", key))
    data = os.urandom(128 * KiB)
    src = tmp_path / "outage.bin"
    src.write_bytes(data)
    since = emu.request_seq()
    if outage == "stopped":
        emu.stop()
    else:
        emu.add_faults({"action": "status", "status": 503})     # every request
    t0 = time.monotonic()
    r = subprocess.run(["cp", str(src), adir(m, "SEC", key) + "/"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t0 < (2 * 3 + 2) * SLOW
    assert len(outbox_files(m)) == 1 and status(m)["outbox"] == 1
    # pending: listed with the spooled size, writable mode, and the key listed
    st = os.stat(adir(m, "SEC", key, "outage.bin"))
    assert st.st_size == len(data) and stat.S_IMODE(st.st_mode) == 0o644
    assert key in os.listdir(adir(m, "SEC"))
    time.sleep(1)
    if outage == "stopped":
        emu.restart()
        since = 0                     # a restarted emulator's log starts afresh
    else:
        emu.clear_faults()
    settle(m, emu, timeout=120)
    got = named(emu, key, "outage.bin")
    assert len(got) == 1, [a["filename"] for a in jira_atts(emu, key)]
    assert emu.attachment_info(got[0]["id"])["sha256"] == hashlib.sha256(data).hexdigest()
    posts = upload_posts(emu, since, key)
    assert [p["status"] for p in posts].count(200) == 1, [p["status"] for p in posts]
    assert all(p["status"] in (200, 503) for p in posts), [p["status"] for p in posts]


def test_an_upload_waiting_at_unmount_is_sent_once_by_the_next_mount(emu, mount, tmp_path):
    """The spooled bytes and the record outlive the mount."""
    state = tmp_path / "st"
    m = mount(emu, f"state_dir={state}", "timeout=2", "cache_ttl=3600")
    key = "SEC-3"
    os.listdir(adir(m, "SEC", key))
    data = os.urandom(200 * KiB)
    src = tmp_path / "later.bin"
    src.write_bytes(data)
    emu.stop()
    r = subprocess.run(["cp", str(src), adir(m, "SEC", key) + "/"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    m.unmount()
    assert "still waiting" in m.log()
    records = [json.load(open(state / "outbox" / n)) for n in os.listdir(state / "outbox")]
    assert [(r["kind"], r["key"], r["name"], r["size"]) for r in records] == \
        [("attach", key, "later.bin", len(data))]
    assert open(records[0]["body"], "rb").read() == data         # spooled in the state dir
    assert records[0]["body"].startswith(str(state) + "/")
    # a spooled file no record names (a crash before its close): swept at the mount
    orphan = os.path.join(os.path.dirname(records[0]["body"]), "orphan.bin")
    open(orphan, "wb").write(b"never closed")
    emu.restart()
    m2 = mount(emu, f"state_dir={state}", "cache_ttl=3600")
    assert not os.path.exists(orphan)
    assert os.path.exists(records[0]["body"]) or named(emu, key, "later.bin")
    settle(m2, emu, timeout=120)
    assert "orphan.bin" not in os.listdir(adir(m2, "SEC", key))
    got = named(emu, key, "later.bin")
    assert len(got) == 1, [a["filename"] for a in jira_atts(emu, key)]
    assert emu.attachment_info(got[0]["id"])["sha256"] == hashlib.sha256(data).hexdigest()
    assert not os.path.exists(records[0]["body"])                # the spool went with it
    with open(adir(m2, "SEC", key, "later.bin"), "rb") as f:
        assert f.read() == data


@pytest.mark.parametrize("refusal", ["403", "413"])
def test_an_upload_accepted_while_jira_was_down_and_refused_later_is_dropped(emu, mount,
                                                                           tmp_path, refusal):
    """Jira could not be asked at create time (every request 503): the create is
    accepted; once Jira answers, it refuses the upload (no Create Attachments,
    or a limit below the file): the record is dropped, the reason logged."""
    m = mount(emu, "timeout=3", "cache_ttl=3600")
    key = "SEC-3"
    os.listdir(adir(m, "SEC", key))
    src = tmp_path / f"late{refusal}.bin"
    src.write_bytes(os.urandom(64 * KiB))
    emu.add_faults({"action": "status", "status": 503})     # every request
    r = subprocess.run(["cp", str(src), adir(m, "SEC", key) + "/"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert len(outbox_files(m)) == 1
    if refusal == "403":
        emu.config(attachment_create_denied=["alice"])
    else:
        emu.config(attachment_upload_limit=1024)
    emu.clear_faults()
    settle(m, emu, timeout=120)
    assert jira_atts(emu, key) == []
    lines = [ln for ln in read_log(m).splitlines() if src.name in ln]
    assert any(w in ln.lower() for ln in lines
               for w in ("permission", "403", "413", "large", "limit")), lines


# ================================================================== 5. lost answers
@pytest.mark.parametrize("fault,sent", [("drop_after", 1), ("status_after", 1), ("drop", 2)])
def test_an_upload_whose_outcome_is_unknown_is_looked_up_not_repeated(emu, m, tmp_path,
                                                                      fault, sent):
    """drop_after / status_after 502: Jira made the attachment, the answer is
    lost; the retry looks for one of that name and size and sends nothing
    more.  drop: Jira made nothing; the look finds none, and it is sent again."""
    key = "SEC-3"
    rule = {"action": fault, "method": "POST", "path": f"/rest/api/2/issue/{key}/attachments",
            "count": 1}
    if fault == "status_after":
        rule["status"] = 502
    emu.add_faults(rule)
    data = os.urandom(64 * KiB)
    src = tmp_path / "lost.bin"
    src.write_bytes(data)
    since = emu.request_seq()
    r = subprocess.run(["cp", str(src), adir(m, "SEC", key) + "/"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    settle(m, emu, timeout=120)
    got = named(emu, key, "lost.bin")
    assert len(got) == 1, [a["filename"] for a in jira_atts(emu, key)]
    assert emu.attachment_info(got[0]["id"])["sha256"] == hashlib.sha256(data).hexdigest()
    posts = upload_posts(emu, since, key)
    assert len(posts) == sent, [(p["status"], p["fault"]) for p in posts]
    # between the first try and what followed, a look at the ticket's attachments
    first = posts[0]["seq"]
    looks = [q for q in emu.requests(since=first + 1, method="GET")
             if q["path"].startswith(f"/rest/api/2/issue/{key}")
             or q["path"] == "/rest/api/2/search"]
    assert looks, [(q["method"], q["path"]) for q in emu.requests(since=first + 1)]
    if sent == 2:
        assert looks[0]["seq"] < posts[1]["seq"]
    assert outbox_files(m) == []


# ================================================================== 6. the upload limit
def test_a_file_over_the_upload_limit_is_refused_with_efbig(emu, mount, tmp_path):
    emu.config(attachment_upload_limit=MiB)
    m = mount(emu, "timeout=5")
    key = "SEC-3"
    os.listdir(adir(m, "SEC", key))
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(2 * MiB))
    since = emu.request_seq()
    r = subprocess.run(["cp", str(src), adir(m, "SEC", key) + "/"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0 and "File too large" in r.stderr, (r.returncode, r.stderr)
    # a program writing by itself: the write past the limit fails with EFBIG
    fd = os.open(adir(m, "SEC", key, "written.bin"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    chunk, written = os.urandom(64 * KiB), 0
    with pytest.raises(OSError) as e:
        while written < 2 * MiB:
            written += os.write(fd, chunk)
    assert e.value.errno == errno.EFBIG
    assert written <= MiB
    try:
        os.close(fd)
    except OSError as ce:                          # not uploaded at close either
        assert ce.errno == errno.EFBIG, ce
    time.sleep(1)
    assert all_upload_posts(emu, since) == []
    assert emu.requests(since=0, method="GET", path="/rest/api/2/attachment/meta")
    assert jira_atts(emu, key) == []
    assert outbox_files(m) == [] and status(m)["outbox"] == 0
    assert refusals(m, "big.bin") and refusals(m, "written.bin"), read_log(m)[-2000:]
    # below the limit, in the same mount: uploaded
    ok = tmp_path / "small.bin"
    ok.write_bytes(os.urandom(512 * KiB))
    r = subprocess.run(["cp", str(ok), adir(m, "SEC", key) + "/"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    settle(m, emu)
    assert [a["filename"] for a in jira_atts(emu, key)] == ["small.bin"]
    assert len(all_upload_posts(emu, since)) == 1


# ================================================================== 7. refused at create
def test_attachments_disabled_in_jira_refuse_a_create_with_enotsup(emu, mount, tmp_path):
    emu.config(attachments_enabled=False)
    assert emu.rest("GET", "attachment/meta").json["enabled"] is False
    m = mount(emu, "timeout=5")
    key = "SEC-3"
    since = emu.request_seq()
    with pytest.raises(OSError) as e:
        open(adir(m, "SEC", key, "x.txt"), "w")
    assert e.value.errno == errno.ENOTSUP == errno.EOPNOTSUPP
    src = tmp_path / "y.txt"
    src.write_text("y\n")
    r = subprocess.run(["cp", str(src), adir(m, "SEC", key) + "/"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0 and "not supported" in r.stderr, r.stderr
    lines = refusals(m, "x.txt")
    assert lines and any("disabled" in ln.lower() for ln in lines), read_log(m)[-2000:]
    assert all_upload_posts(emu, since) == []
    assert outbox_files(m) == [] and status(m)["outbox"] == 0
    assert "x.txt" not in os.listdir(adir(m, "SEC", key))


def test_an_account_without_create_attachments_is_refused_with_eacces(emu, mount):
    emu.config(attachment_create_denied=["alice"])             # the mounting account
    # what the daemon asks (the spec's permission check); the emulator must answer it
    r = emu.rest("GET", "mypermissions",
                 query={"issueKey": "SEC-3", "permissions": "CREATE_ATTACHMENTS"})
    assert r.status == 200, ("the emulator does not answer GET /rest/api/2/mypermissions",
                             r.status, r.body[:200])
    assert r.json["permissions"]["CREATE_ATTACHMENTS"]["havePermission"] is False
    m = mount(emu, "timeout=5")
    since = emu.request_seq()
    with pytest.raises(OSError) as e:
        open(adir(m, "SEC", "SEC-3", "denied.txt"), "w")
    assert e.value.errno == errno.EACCES
    assert refusals(m, "denied.txt"), read_log(m)[-2000:]
    assert all_upload_posts(emu, since) == []
    assert outbox_files(m) == [] and status(m)["outbox"] == 0


# ================================================================== 8. Jira's files stay
def test_attachments_cannot_be_removed_renamed_overwritten_or_given_dirs(emu, m, tmp_path):
    key = "SEC-1"
    before = [(a["id"], a["filename"], a["size"]) for a in jira_atts(emu, key)]
    names = os.listdir(adir(m, "SEC", key))
    assert "scan-report.txt" in names and len(names) == len(before) == 2
    att = adir(m, "SEC", key, "scan-report.txt")
    content = read_bytes(att)
    ticket = sorted(n for n in os.listdir(m.p("SEC"))
                    if n.endswith(".json") and not os.path.islink(m.p("SEC", n)))[0]
    since = emu.request_seq()
    cases = [
        lambda: os.unlink(att),
        lambda: os.rename(att, adir(m, "SEC", key, "renamed.txt")),
        lambda: os.rename(att, adir(m, "SEC", "SEC-2", "scan-report.txt")),
        lambda: os.rename(att, adir(m, "SEC", "SEC-3", "scan-report.txt")),
        lambda: os.rename(att, m.p("SEC", "scan-report.txt")),
        lambda: os.rename(m.p("SEC", ticket), adir(m, "SEC", "SEC-3", ticket)),
        lambda: os.rename(adir(m, "SEC", key), adir(m, "SEC", "SEC-999")),
        lambda: os.mkdir(adir(m, "SEC", "newdir")),
        lambda: os.mkdir(adir(m, "SEC", "SEC-999")),
        lambda: os.mkdir(adir(m, "SEC", key, "newdir")),
        lambda: os.truncate(att, 0),
        lambda: open(att, "a"),
    ]
    for fn in cases:
        with pytest.raises(OSError) as e:
            fn()
        assert e.value.errno == errno.EPERM, (fn, e.value)
    for flags in (os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_TRUNC, os.O_RDWR | os.O_APPEND):
        open_fails(att, flags, errno.EPERM)
    # the tools say so too
    for cmd in (f"rm -f {shlex.quote(att)}", f"echo x > {shlex.quote(att)}",
                f"mv {shlex.quote(att)} SEC/", "mkdir SEC/attachments/SEC-1/sub"):
        r = sh(cmd, m.path)
        assert r.returncode != 0 and "not permitted" in r.stderr, (cmd, r.stderr)
    assert writes(emu, since) == []
    assert [(a["id"], a["filename"], a["size"]) for a in jira_atts(emu, key)] == before
    assert os.listdir(adir(m, "SEC", key)) == names
    assert read_bytes(att) == content
    assert os.path.exists(m.p("SEC", ticket))
    assert outbox_files(m) == []


# ================================================================== 9. hostile names
def test_hostile_names_from_jira_stay_inside_the_directory(emu, mount):
    key = "SEC-3"
    long_name = "\u00e9" * 150                       # 300 bytes of UTF-8
    long_ext = "\u00e9" * 150 + ".txt"
    hostile = ["../x", "a/b", "a\nb", ".", "..", long_name, long_ext, 'x"y', "tab\there",
               "del\x7f", "..\\..\\win"]
    beans = [emu.add_attachment(key, n, content=f"content of {n!r}".encode()) for n in hostile]
    a_nl = beans[2]["id"]
    want = [".._x", "a_b", f"a_b ({a_nl})", "_.", "_..", "\u00e9" * 127,
            "\u00e9" * 125 + ".txt", 'x"y', "tab_here", "del_", "..\\..\\win"]
    assert all(len(n.encode()) <= 255 for n in want)
    m = mount(emu, "cache_ttl=3600")
    root = sorted(os.listdir(m.path))
    project = sorted(os.listdir(m.p("SEC")))
    assert os.listdir(adir(m, "SEC", key)) == want
    for name, bean in zip(want, beans):
        path = adir(m, "SEC", key, name)
        assert os.path.dirname(os.path.realpath(path)) == os.path.realpath(adir(m, "SEC", key))
        assert stat.S_ISREG(os.stat(path).st_mode), name
        assert os.stat(path).st_size == bean["size"], name
        assert read_bytes(path) == f"content of {bean['filename']!r}".encode(), name
    # nothing escaped into the parents
    assert sorted(os.listdir(adir(m, "SEC"))) == ["SEC-1", "SEC-2", "SEC-3"]
    assert "x" not in os.listdir(m.p("SEC")) and "x" not in os.listdir(adir(m, "SEC"))
    assert sorted(os.listdir(m.p("SEC"))) == project and sorted(os.listdir(m.path)) == root
    for p in (m.p("SEC", "x"), adir(m, "SEC", "x"), adir(m, "SEC", "a"), m.p("x")):
        assert not os.path.lexists(p), p


def test_names_written_through_the_mount_reach_jira_exactly(emu, m):
    key = "SEC-3"
    names = ["a\nb.txt", 'q"uo\\te=?.txt', "n" * 251 + ".txt", "\u00fcn\u00ef.txt"]
    assert len(names[2].encode()) == 255
    for n in names:
        with open(adir(m, "SEC", key, n), "wb") as f:
            f.write(f"bytes of {n!r}\n".encode())
    settle(m, emu)
    got = {a["filename"]: a for a in jira_atts(emu, key)}
    assert sorted(got) == sorted(names), sorted(got)
    for n in names:
        info = emu.attachment_info(got[n]["id"])
        assert info["sha256"] == hashlib.sha256(f"bytes of {n!r}\n".encode()).hexdigest(), n
    # and are shown under their safe names, as Jira's
    shown = {"a_b.txt", 'q"uo\\te=?.txt', names[2], names[3]}
    wait_for(lambda: set(os.listdir(adir(m, "SEC", key))) == shown, 30,
             "the uploads listed as Jira's attachments")
    assert read_bytes(adir(m, "SEC", key, "a_b.txt")) == b"bytes of 'a\\nb.txt'\n"


# ================================================================== 10. status
def test_status_counts_the_cache_and_the_downloads(emu, mount):
    m = mount(emu, "cache_ttl=3600")
    a = status(m)["attachments"]
    assert set(a) == STATUS_KEYS, a
    assert all(isinstance(v, int) for v in a.values()), a
    assert a["cache_max"] == 256 * MiB                     # the default
    assert a["cached"] == a["cached_bytes"] == a["downloads"] == a["uploads"] == 0, a
    beans = jira_atts(emu, "SEC-1")
    assert len(beans) == 2
    for b in beans:
        os.stat(adir(m, "SEC", "SEC-1", b["filename"]))
        read_bytes(adir(m, "SEC", "SEC-1", b["filename"]))
    a = status(m)["attachments"]
    assert a["downloads"] == 2 and a["cached"] == 2, a
    assert a["cached_bytes"] == sum(b["size"] for b in beans), a
    for b in beans:                                        # from the cache: no download
        read_bytes(adir(m, "SEC", "SEC-1", b["filename"]))
    assert status(m)["attachments"]["downloads"] == 2
    m2 = mount(emu, "attachment_cache=64M")
    assert status(m2)["attachments"]["cache_max"] == 64 * MiB
