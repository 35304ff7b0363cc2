"""Outages, faults and hostile data: never a crash, never a hang, never
ENOENT for an outage; valid JSON or a clean errno with a log line."""
import errno
import json
import os
import subprocess
import time

import pytest

from mountlib import read_log, status, wait_for
from ticket_model import expected_ticket, is_done, nul_to_fffd


def timed_errno(fn):
    t0 = time.monotonic()
    try:
        fn()
    except OSError as e:
        return e.errno, time.monotonic() - t0
    return 0, time.monotonic() - t0


def listing_after_the_pause(path, timeout=30):
    """List path until it answers again after a failed listing: the names.
    Until then (the pause after a failure, RETRY_PAUSE_MS in fs/tree.c,
    doubled after each further one) it fails with EIO or ETIMEDOUT, never
    another errno."""
    def listed():
        try:
            return os.listdir(path)
        except OSError as e:
            assert e.errno in (errno.EIO, errno.ETIMEDOUT), (path, e)
            return None
    return wait_for(listed, timeout, f"a listing of {path}")


def hung_on(emu, path):
    """Has a request for path reached a "hang" rule (and hangs there)?"""
    return any(r["action"] == "hang" and r.get("path") == path and r["applied"]
               for r in emu.faults())


def cat(path):
    return subprocess.run(["cat", path], capture_output=True, timeout=120)


def test_outage_serves_cached_listing_and_fails_unfetched_with_eio(fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu, "cache_ttl=1", "timeout=3")
    listing = sorted(os.listdir(m.p("SEC")))
    some = [n for n in listing if n.endswith(".json")][0]
    content = open(m.p("SEC", some)).read()
    emu.stop()

    def served_while_stale():
        t0 = time.monotonic()
        assert sorted(os.listdir(m.p("SEC"))) == listing
        assert open(m.p("SEC", some)).read() == content
        assert time.monotonic() - t0 < 3
        return "cannot refresh SEC" in read_log(m)
    # until the listing is stale (cache_ttl=1) and a refresh of it failed
    wait_for(served_while_stale, 30, "a failed refresh of the stale SEC listing")

    for path in (m.p("OPS", "OPS-1.json"), m.p("SEC", "SEC-99999.json"), m.p("WEB")):
        err, took = timed_errno(lambda: os.listdir(path) if path.endswith("WEB")
                                else os.stat(path))
        assert err in (errno.EIO, errno.ETIMEDOUT), (path, err)
        assert took <= 3 + 1
    r = cat(m.p("OPS", "OPS-2.json"))
    assert r.returncode != 0 and b"No such file" not in r.stderr

    st = status(m)
    assert st["transport"]["state"] == "down"
    assert st["last_error"]
    log = read_log(m)
    assert "cannot refresh SEC" in log and "showing the listing" in log
    assert "cannot list OPS" in log

    emu.restart()
    assert any(n.endswith(".json") for n in listing_after_the_pause(m.p("OPS")))


def test_hung_server_times_out_within_the_deadline(fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu, "timeout=2")
    os.listdir(m.p("SEC"))
    emu.add_faults([{"action": "hang", "path": "/rest/api/2/search"},
                    {"action": "hang", "path": "/rest/api/2/issue/"}])
    err, took = timed_errno(lambda: os.listdir(m.p("OPS")))
    assert err in (errno.ETIMEDOUT, errno.EIO)
    assert took <= 2 + 1
    err, took = timed_errno(lambda: os.stat(m.p("SEC", "SEC-99999.json")))
    assert err in (errno.ETIMEDOUT, errno.EIO)
    assert took <= 2 + 1
    assert os.listdir(m.p("SEC"))        # the cached project still answers
    emu.clear_faults()


@pytest.mark.parametrize("fault,word", [
    ({"action": "html", "status": 200}, "HTML"),
    ({"action": "status", "status": 502, "html": True}, "502"),
    ({"action": "truncate"}, ""),
    ({"action": "status", "status": 500}, "500"),
    ({"action": "drop"}, ""),
])
def test_bad_answers_give_eio_and_a_log_line(fresh_emulator, mount, fault, word):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu, "timeout=4")
    emu.add_faults([dict(fault, path="/rest/api/2/search")])
    err, took = timed_errno(lambda: os.listdir(m.p("OPS")))
    assert err == errno.EIO
    log = read_log(m)
    assert "cannot list OPS" in log and word in log
    emu.clear_faults()
    assert any(n.endswith(".json") for n in listing_after_the_pause(m.p("OPS")))


def test_transient_failures_are_retried_within_the_deadline(fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu, "timeout=10")
    emu.add_faults([
        {"action": "status", "status": 503, "count": 1, "path": "/rest/api/2/search"},
        {"action": "drop", "count": 1, "path": "/rest/api/2/search"},
        {"action": "status", "status": 429, "retry_after": 1, "count": 1,
         "path": "/rest/api/2/search"},
    ])
    since = emu.request_seq()
    t0 = time.monotonic()
    names = os.listdir(m.p("OPS"))
    assert any(n.endswith(".json") for n in names)
    assert time.monotonic() - t0 >= 1.0          # Retry-After honoured
    tries = [r for r in emu.requests(since=since) if r["path"] == "/rest/api/2/search"]
    # curl itself resends once on a connection that died before answering
    assert len(tries) == 4
    assert status(m)["counters"]["retries"] >= 2


def test_hostile_ticket_data_renders_valid_json(fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    key = sorted(b["key"] for b in emu.issues("WEB") if not is_done(b))[0]
    hostile = {
        "summary": "quotes \" ' ` \\ back\\slash {\"json\": [1]} <script>",
        "description": ("unicode: é ü 日本語 🔒 \u200b\u2028 "
                        "controls: \x00\x01\x07\x1b[31m\x7f tabs\tand\r\nnewlines\n\n"
                        + "x" * 32000),
        "labels": ["ünï", "a\"b", "new\nline"],
        "customfield_10021": "\x00" * 10,
    }
    emu.set_issue(key, fields=hostile,
                  comments=[{"author": "bob", "body": "comment\u0000with\u0001controls 🔒"}])
    m = mount(emu)
    path = m.p("WEB", key + ".json")
    raw = open(path, "rb").read()
    assert os.stat(path).st_size == len(raw)
    doc = json.loads(raw.decode("utf-8"))
    assert doc == nul_to_fffd(expected_ticket(emu.issue(key)))
    assert "\ufffd" * 10 == doc["fields"]["customfield_10021"]
    assert len(doc["description"]) > 32000
    assert subprocess.run(["jq", "-e", ".key"], input=raw, capture_output=True).returncode == 0


def test_many_parallel_readers_during_faults_do_not_crash(fresh_emulator, mount):
    emu = fresh_emulator(seed_projects=["P:600:3"])
    m = mount(emu, "timeout=5", "cache_ttl=0")
    emu.add_faults([{"action": "status", "status": 500, "path": "/rest/api/2/search",
                     "count": 6},
                    {"action": "drop", "path": "/rest/api/2/search", "count": 3}])
    procs = [subprocess.Popen(f"ls -l {m.p('P')} >/dev/null; cat {m.p('P')}/*.json >/dev/null",
                              shell=True) for _ in range(6)]
    for p in procs:
        p.wait(timeout=60)
    emu.clear_faults()
    # closed/, scans/, attachments/ + open tickets
    assert len(listing_after_the_pause(m.p("P"))) == 3 + 400


def test_token_expiring_during_the_mount_is_eacces_never_enoent(fresh_emulator, mount, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    token = emu.new_pat("alice", expires_in=3)
    tf = tmp_path / "short-token"
    tf.write_text(token)
    tf.chmod(0o600)
    m = mount(emu, "auth=pat", f"token_file={tf}", "timeout=5", auth=False)
    os.listdir(m.p("SEC"))
    time.sleep(3.5)                                   # the token has expired
    for probe in (lambda: os.stat(m.p("SEC", "SEC-99999.json")),
                  lambda: os.listdir(m.p("OPS"))):
        err, _ = timed_errno(probe)
        assert err == errno.EACCES, err
    assert "credentials were not accepted" in read_log(m)
    # the 404 an anonymous request got was not remembered as "missing"
    since = emu.request_seq()
    err, _ = timed_errno(lambda: os.stat(m.p("SEC", "SEC-99999.json")))
    assert err == errno.EACCES
    assert [r["path"] for r in emu.requests(since=since)] == ["/rest/api/2/issue/SEC-99999"]


def test_hung_refresh_does_not_hold_up_readers_of_the_cache(fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu, "cache_ttl=1", "timeout=4")
    names = sorted(os.listdir(m.p("SEC")))
    some = [n for n in names if n.endswith(".json")][0]
    emu.add_faults([{"action": "hang", "path": "/rest/api/2/search"}])
    import threading
    errors = []

    def refresh():
        # lists SEC until the listing is stale (cache_ttl=1) and its refresh hangs
        try:
            wait_for(lambda: os.listdir(m.p("SEC")) and hung_on(emu, "/rest/api/2/search"),
                     30, "a refresh of SEC hanging on the search")
        except BaseException as e:
            errors.append(e)
    refresher = threading.Thread(target=refresh)
    refresher.start()
    wait_for(lambda: hung_on(emu, "/rest/api/2/search"), 30, "the hung search")
    t0 = time.monotonic()
    assert open(m.p("SEC", some)).read()              # served from the held listing
    assert sorted(os.listdir(m.p("SEC"))) == names
    # what is held is shown after waiting at most the grace a Jira that has
    # been answering gets (a second, README "How it fetches"), never for
    # the hung search; the listing measures 0.90-0.99 s here, so a bound
    # of exactly 1.0 failed on a loaded machine
    assert time.monotonic() - t0 < 1.5
    refresher.join(timeout=10)
    assert not refresher.is_alive()
    assert not errors, errors
    emu.clear_faults()


def test_unmount_during_a_hung_background_refresh_is_prompt_and_clean(fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu, "cache_ttl=1", "timeout=30")
    os.listdir(m.p("SEC"))
    emu.add_faults([{"action": "hang", "path": "/rest/api/2/search"},
                    {"action": "hang", "path": "/rest/api/2/project"}])

    def answered_from_the_held_listing():
        t0 = time.monotonic()
        os.listdir(m.p("SEC"))                  # answered from the held listing...
        assert time.monotonic() - t0 < 2.0      # ...after at most the grace second
        return hung_on(emu, "/rest/api/2/search")
    # until the listing is stale (cache_ttl=1) and its background refresh hangs
    wait_for(answered_from_the_held_listing, 30, "a refresh of SEC hanging on the search")
    t0 = time.monotonic()
    m.unmount()                             # exit status 0, no sanitizer report
    assert time.monotonic() - t0 < 5.0
    emu.clear_faults()
