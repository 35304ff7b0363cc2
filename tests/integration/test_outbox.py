"""Never lose a write (CONTRACT §4.6): the durable outbox, retries with
backoff and Retry-After, exactly-once across dropped answers and crashes,
deadlines, and a full state directory."""
import errno
import json
import os
import subprocess
import time

import pytest

from mountlib import creates, is_mounted, status, wait_for
from ticket_model import is_done


def outbox_len(m):
    return status(m)["outbox"]


def test_503s_during_a_create_give_exactly_one_ticket(fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu, "timeout=5")
    os.listdir(m.p("SEC"))
    emu.add_faults([{"action": "status", "status": 503, "method": "POST",
                     "path": "/rest/api/2/issue", "count": 5}])
    since = emu.request_seq()
    with open(m.p("SEC", "busy.json"), "w") as f:          # close() succeeds: stored
        f.write('{"summary": "filed while Jira was busy"}')
    assert os.getxattr(m.p("SEC", "busy.json"), "user.jira.state") == b"pending"
    wait_for(lambda: os.path.islink(m.p("SEC", "busy.json")), what="the create")
    posts = creates(emu, since)
    assert [r["status"] for r in posts] == [503] * 5 + [201]
    key = os.readlink(m.p("SEC", "busy.json"))[:-5]
    assert emu.issue(key)["fields"]["summary"] == "filed while Jira was busy"
    assert outbox_len(m) == 0 and os.listdir(m.p(".jirafs", "outbox")) == []


def test_429_retry_after_is_honoured(fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu, "timeout=5")
    key = sorted(n for n in os.listdir(m.p("OPS")) if n.endswith(".json"))[0][:-5]
    emu.add_faults([{"action": "status", "status": 429, "retry_after": 2, "method": "POST",
                     "path": f"/rest/api/2/issue/{key}/comment", "count": 1}])
    since = emu.request_seq()
    t0 = time.monotonic()
    with open(m.p("OPS", f"{key}.json"), "a") as f:
        f.write("after a 429\n")
    assert time.monotonic() - t0 < 2                     # close() did not wait for it
    wait_for(lambda: outbox_len(m) == 0, what="the retry")
    posts = [r for r in emu.requests(since=since) if r["path"].endswith("/comment")]
    assert [r["status"] for r in posts] == [429, 201]
    assert posts[1]["time"] - posts[0]["time"] >= 2.0    # Retry-After: 2
    bodies = [c["body"] for c in emu.issue(key)["fields"]["comment"]["comments"]]
    assert bodies.count("after a 429") == 1


def test_20_operations_survive_an_outage_and_a_crash(fresh_emulator, mount, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    state = tmp_path / "kept-state"
    m = mount(emu, f"state_dir={state}", "cache_ttl=3600", "timeout=3")
    keys = sorted(n[:-5] for n in os.listdir(m.p("SEC")) if n.endswith(".json"))[:5]
    for k in keys:
        open(m.p("SEC", f"{k}.json")).read()
    emu.stop()                                            # Jira is down
    t0 = time.monotonic()
    for i in range(5):                                    # 5 creates
        with open(m.p("SEC", f"outage-{i}.json"), "w") as f:
            f.write(json.dumps({"summary": f"filed during the outage {i}"}))
    for k in keys:                                        # 10 comments, 5 closes
        for j in (1, 2):
            with open(m.p("SEC", f"{k}.json"), "a") as f:
                f.write(f"note {j} on {k}\n")
        os.rename(m.p("SEC", f"{k}.json"), m.p("SEC", "closed", f"{k}.json"))
    assert time.monotonic() - t0 < 20 * 3 + 5              # each bounded by timeout
    assert outbox_len(m) == 20
    assert len(os.listdir(m.p(".jirafs", "outbox"))) == 20
    assert os.getxattr(m.p("SEC", "closed", f"{keys[0]}.json"), "user.jira.state") == b"pending"
    assert {f"{k}.json" for k in keys} <= set(os.listdir(m.p("SEC", "closed")))
    # the daemon dies without unmounting
    m.proc.kill()
    m.proc.wait()
    subprocess.run(["fusermount3", "-uz", m.path], capture_output=True)
    m.proc = None
    assert len(os.listdir(state / "outbox")) == 20
    emu.restart()
    since = emu.request_seq()
    m2 = mount(emu, f"state_dir={state}")
    wait_for(lambda: outbox_len(m2) == 0, timeout=120, what="the replay")
    assert os.listdir(state / "outbox") == []
    # every create exactly once, with its alias
    for i in range(5):
        summary = f"filed during the outage {i}"
        made = [b for b in emu.issues("SEC") if b["fields"]["summary"] == summary]
        assert len(made) == 1, summary
        assert os.readlink(m2.p("SEC", f"outage-{i}.json")) == f"{made[0]['key']}.json"
    # every comment exactly once, in order, before the close
    for k in keys:
        bean = emu.issue(k)
        notes = [c["body"] for c in bean["fields"]["comment"]["comments"]
                 if c["body"].startswith("note ")]
        assert notes == [f"note 1 on {k}", f"note 2 on {k}"]
        assert is_done(bean)
        order = [r["path"].rsplit("/", 1)[-1] for r in emu.requests(since=since)
                 if r["method"] == "POST" and f"/issue/{k}/" in r["path"]]
        assert order == ["comment", "comment", "transitions"]
        assert f"{k}.json" in os.listdir(m2.p("SEC", "closed"))


def test_comment_and_close_answered_by_dropped_connections_apply_once(fresh_emulator, mount):
    """Jira applied the comment and the transition but the answers were lost:
    the retries look first (the comment on the ticket, the status read back)
    and send nothing twice."""
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu, "timeout=5")
    key = sorted(n for n in os.listdir(m.p("OPS")) if n.endswith(".json"))[0][:-5]
    emu.add_faults([{"action": "drop_after", "method": "POST",
                     "path": f"/rest/api/2/issue/{key}/comment", "count": 1},
                    {"action": "drop_after", "method": "POST",
                     "path": f"/rest/api/2/issue/{key}/transitions", "count": 1}])
    since = emu.request_seq()
    with open(m.p("OPS", f"{key}.json"), "a") as f:
        f.write("said once, answer lost\n")
    os.rename(m.p("OPS", f"{key}.json"), m.p("OPS", "closed", f"{key}.json"))
    wait_for(lambda: outbox_len(m) == 0, what="the retries")
    bean = emu.issue(key)
    bodies = [c["body"] for c in bean["fields"]["comment"]["comments"]]
    assert bodies.count("said once, answer lost") == 1
    assert is_done(bean)
    posts = [r for r in emu.requests(since=since) if r["method"] == "POST"]
    assert [r["path"].rsplit("/", 1)[-1] for r in posts] == ["comment", "transitions"]
    assert all(r["fault"] == "drop_after" for r in posts)
    assert json.load(open(m.p("OPS", "closed", f"{key}.json")))["status"] != "Open"


def test_unmount_with_pending_operations_keeps_them(fresh_emulator, mount, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    state = tmp_path / "st"
    m = mount(emu, f"state_dir={state}", "timeout=2")
    os.listdir(m.p("OPS"))
    emu.stop()
    with open(m.p("OPS", "later.json"), "w") as f:
        f.write('{"summary": "later"}')
    m.unmount()
    assert "still waiting" in m.log()
    assert len(os.listdir(state / "outbox")) == 1
    record = json.loads(open(state / "outbox" / os.listdir(state / "outbox")[0]).read())
    assert record["kind"] == "create" and record["attempts"] >= 1 and record["last_error"]
    emu.restart()
    m2 = mount(emu, f"state_dir={state}")
    wait_for(lambda: os.path.islink(m2.p("OPS", "later.json")), what="the create")


def test_slow_jira_never_holds_a_call_past_the_timeout(fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu, "timeout=5")
    names = sorted(os.listdir(m.p("SEC")))
    emu.config(latency_ms=60000)
    t0 = time.monotonic()
    r = subprocess.run(["cat", m.p("OPS", "OPS-1.json")], capture_output=True, timeout=30)
    took = time.monotonic() - t0
    assert r.returncode != 0 and took <= 6.0, took
    assert b"No such file" not in r.stderr
    t0 = time.monotonic()
    assert sorted(os.listdir(m.p("SEC"))) == names       # the cached project answers at once
    assert time.monotonic() - t0 < 0.5
    t0 = time.monotonic()
    with open(m.p("SEC", "slow.json"), "w") as f:         # a write waits no longer either
        f.write('{"summary": "slow"}')
    assert time.monotonic() - t0 <= 6.0
    assert os.getxattr(m.p("SEC", "slow.json"), "user.jira.state") == b"pending"
    emu.config(latency_ms=0)


@pytest.fixture
def tiny_tmpfs(tmp_path):
    d = tmp_path / "tiny"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(d)], check=True)
    yield d
    subprocess.run(["umount", "-l", str(d)], capture_output=True)


def test_full_state_directory_is_enospc_and_nothing_is_sent(fresh_emulator, mount, tiny_tmpfs):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu, f"state_dir={tiny_tmpfs}/state")
    os.listdir(m.p("SEC"))
    with open(tiny_tmpfs / "fill", "wb", buffering=0) as f:  # fill it up
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as e:
            assert e.errno == errno.ENOSPC
    since = emu.request_seq()
    with pytest.raises(OSError) as e:
        with open(m.p("SEC", "nospace.json"), "w") as f:
            f.write('{"summary": "no space to keep it"}')
    assert e.value.errno == errno.ENOSPC
    assert creates(emu, since) == []
    assert "nospace" not in " ".join(str(r["body"]) for r in emu.requests(since=since))
    m.unmount()
