"""Exactly once against a stock Jira (CONTRACT §4.6): the emulator refuses JQL on
issue properties (as Jira without an indexing app does), proxies answer 5xx after
Jira committed, lookups fail; every accepted operation is applied once, nothing
accepted is dropped but for Jira's own 4xx, and the files stay honest meanwhile."""
import errno
import json
import os
import subprocess
import time

import pytest

from mountlib import creates, outbox_files, read_log, status, wait_for, wait_for_refresh


@pytest.fixture
def emu(fresh_emulator):
    return fresh_emulator(extra_args=["--seed", "demo"])


@pytest.fixture
def m(emu, mount):
    return mount(emu, "timeout=5")


def by_summary(emu, project, summary):
    return [i for i in emu.issues(project) if i["fields"]["summary"] == summary]


def first_open_key(m, project):
    return sorted(n for n in os.listdir(m.p(project))
                  if n.endswith(".json") and not os.path.islink(m.p(project, n)))[0][:-5]


def test_emulator_is_stock_by_default(emu):
    """What the daemon's lookup must live with: no JQL over issue properties."""
    r = emu.rest("POST", "search", {"jql": 'project = SEC AND issue.property[jirafs].op = "x"'})
    assert r.status == 400
    assert r.json["errorMessages"] == [
        "Field 'issue.property[jirafs].op' does not exist or you do not have permission "
        "to view it."]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_create_answered_5xx_after_jira_committed_makes_one_ticket(emu, m, status):
    """A proxy gave up waiting after Jira made the ticket: the retry looks first."""
    os.listdir(m.p("SEC"))
    emu.add_faults([{"action": "status_after", "status": status, "method": "POST",
                     "path": "/rest/api/2/issue", "count": 1}])
    since = emu.request_seq()
    with open(m.p("SEC", f"proxy{status}.json"), "w") as f:     # close() succeeds: queued
        f.write(json.dumps({"summary": f"behind a proxy {status}"}))
    wait_for(lambda: os.path.islink(m.p("SEC", f"proxy{status}.json")), what="the alias")
    key = os.readlink(m.p("SEC", f"proxy{status}.json"))[:-5]
    assert [r["status"] for r in creates(emu, since)] == [status]   # sent once, never again
    assert [i["key"] for i in by_summary(emu, "SEC", f"behind a proxy {status}")] == [key]
    assert f"{key} was created by an earlier try" in read_log(m)
    assert outbox_files(m) == []


def test_a_failed_lookup_is_never_a_refusal(emu, m):
    """The answer of the create is lost and the lookup's search is refused (400):
    the record stays queued with the reason, and ends as one ticket with its alias."""
    os.listdir(m.p("OPS"))
    emu.add_faults([
        {"action": "drop_after", "method": "POST", "path": "/rest/api/2/issue", "count": 1},
        {"action": "status", "status": 400, "method": "POST", "path": "/rest/api/2/search",
         "count": 2, "body": {"errorMessages": ["Error in the JQL Query: nope"], "errors": {}}},
    ])
    since = emu.request_seq()
    with open(m.p("OPS", "lookup.json"), "w") as f:
        f.write('{"summary": "lookup refused"}')
    # the lookup failed once at least: the record waits and says why
    def waiting_with_reason():
        for name in outbox_files(m):
            rec = json.load(open(m.p(".jirafs", "outbox", name)))
            if "cannot tell whether an earlier try" in (rec.get("last_error") or ""):
                return rec
        return None
    rec = wait_for(waiting_with_reason, what="the lookup failure in the outbox record")
    assert rec["kind"] == "create"
    assert "cannot tell whether an earlier try" in read_log(m)
    wait_for(lambda: os.path.islink(m.p("OPS", "lookup.json")), what="the alias")
    key = os.readlink(m.p("OPS", "lookup.json"))[:-5]
    assert len(creates(emu, since)) == 1
    assert [i["key"] for i in by_summary(emu, "OPS", "lookup refused")] == [key]
    assert "refused create" not in read_log(m)


def test_a_jira_400_to_the_create_itself_still_refuses(emu, m):
    since = emu.request_seq()
    with open(m.p("SEC", "long.json"), "w") as f:
        f.write(json.dumps({"summary": "x" * 300}))
        with pytest.raises(OSError) as e:
            f.close()
    assert e.value.errno == errno.EINVAL
    assert [r["status"] for r in creates(emu, since)] == [400]
    assert outbox_files(m) == []


@pytest.mark.parametrize("status", [502, 504])
def test_comment_answered_5xx_after_commit_is_added_once(emu, m, status):
    key = first_open_key(m, "OPS")
    before = len(emu.issue(key)["fields"]["comment"]["comments"])
    emu.add_faults([{"action": "status_after", "status": status, "method": "POST",
                     "path": f"/rest/api/2/issue/{key}/comment", "count": 1}])
    since = emu.request_seq()
    with open(m.p("OPS", f"{key}.json"), "a") as f:
        f.write(f"seen behind the proxy ({status})\n")
    wait_for(lambda: outbox_files(m) == [], what="the outbox to drain")
    bodies = [c["body"] for c in emu.issue(key)["fields"]["comment"]["comments"]]
    assert len(bodies) == before + 1
    assert bodies.count(f"seen behind the proxy ({status})") == 1
    posts = emu.requests(since=since, method="POST", path=f"/rest/api/2/issue/{key}/comment")
    assert [r["status"] for r in posts] == [status]
    # the retry looked (read the comments) instead of posting again
    assert emu.requests(since=since, method="GET", path=f"/rest/api/2/issue/{key}/comment")


def test_close_answered_502_after_commit_is_confirmed_not_repeated(emu, m):
    key = first_open_key(m, "WEB")
    emu.add_faults([{"action": "status_after", "status": 502, "method": "POST",
                     "path": f"/rest/api/2/issue/{key}/transitions", "count": 1}])
    since = emu.request_seq()
    os.rename(m.p("WEB", f"{key}.json"), m.p("WEB", "closed", f"{key}.json"))
    wait_for(lambda: outbox_files(m) == [], what="the outbox to drain")
    assert emu.issue(key)["fields"]["status"]["statusCategory"]["key"] == "done"
    moves = emu.requests(since=since, method="POST", path=f"/rest/api/2/issue/{key}/transitions")
    assert [r["status"] for r in moves] == [502]


def test_a_waiting_comment_keeps_the_file_valid_json(emu, m):
    key = first_open_key(m, "SEC")
    path = m.p("SEC", f"{key}.json")
    before = json.load(open(path))["comments"]
    emu.add_faults([{"action": "status", "status": 429, "retry_after": 1, "method": "POST",
                     "path": f"/rest/api/2/issue/{key}/comment", "count": 3}])
    with open(path, "a") as f:
        f.write("first, while Jira is busy\n")
    with open(path, "a") as f:
        f.write('{"body": "second, as JSON"}')
    out = subprocess.run(["jq", "-c", ".comments[-2:]", path], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr                     # jq reads it
    waiting = json.loads(out.stdout)
    assert waiting == [{"body": "first, while Jira is busy", "pending": True},
                       {"body": "second, as JSON", "pending": True}]
    assert json.load(open(path))["comments"][:len(before)] == before
    assert os.getxattr(path, "user.jira.state") == b"pending"
    # an editor saving the view back changes nothing, and posts nothing twice
    text = open(path).read()
    with open(path, "w") as f:
        f.write(text)
    wait_for(lambda: outbox_files(m) == [], what="the outbox to drain")
    comments = emu.issue(key)["fields"]["comment"]["comments"]
    bodies = [c["body"] for c in comments]
    assert bodies.count("first, while Jira is busy") == 1
    assert bodies.count("second, as JSON") == 1
    shown = wait_for(lambda: (lambda c: c if all("id" in x for x in c) else None)(
        json.load(open(path))["comments"]), what="the comments to show with ids")
    assert [c["body"] for c in shown][-2:] == ["first, while Jira is busy", "second, as JSON"]
    assert not any(c.get("pending") for c in shown)


def test_rm_of_a_draft_whose_create_never_left_cancels_it(emu, m):
    os.listdir(m.p("SEC"))
    emu.add_faults([{"action": "status", "status": 429, "retry_after": 30, "method": "POST",
                     "path": "/rest/api/2/issue", "count": 1}])
    since = emu.request_seq()
    with open(m.p("SEC", "never.json"), "w") as f:          # queued: Jira said 429
        f.write('{"summary": "never sent"}')
    assert len(outbox_files(m)) == 1
    os.unlink(m.p("SEC", "never.json"))
    assert outbox_files(m) == []
    assert "never.json" not in os.listdir(m.p("SEC"))
    assert "its create was cancelled" in read_log(m)
    emu.clear_faults()
    time.sleep(1.5)
    assert [r["status"] for r in creates(emu, since)] == [429]
    assert by_summary(emu, "SEC", "never sent") == []


def test_rm_of_a_draft_whose_create_may_have_left_is_refused(emu, m):
    os.listdir(m.p("SEC"))
    emu.add_faults([{"action": "status", "status": 503, "method": "POST",
                     "path": "/rest/api/2/issue", "count": 1}])
    with open(m.p("SEC", "maybe.json"), "w") as f:          # queued: a 503 proves nothing
        f.write('{"summary": "maybe sent"}')
    with pytest.raises(OSError) as e:
        os.unlink(m.p("SEC", "maybe.json"))
    assert e.value.errno == errno.EBUSY
    assert "may have reached Jira" in read_log(m)
    wait_for(lambda: os.path.islink(m.p("SEC", "maybe.json")), what="the alias")
    assert len(by_summary(emu, "SEC", "maybe sent")) == 1


def test_an_alias_of_a_deleted_ticket_is_dropped_not_followed(emu, mount):
    m = mount(emu, "timeout=5", "cache_ttl=1")
    with open(m.p("SEC", "gone.json"), "w") as f:
        f.write('{"summary": "soon deleted"}')
    key = os.readlink(m.p("SEC", "gone.json"))[:-5]
    emu.delete_issue(key)
    wait_for_refresh(m, "SEC")                             # the listing went stale
    assert not os.path.lexists(m.p("SEC", "gone.json"))
    assert f"its ticket {key} is gone from Jira" in read_log(m)
    with open(m.p("SEC", "gone.json"), "w") as f:           # a new ticket, not EPERM
        f.write('{"summary": "made again"}')
    new = os.readlink(m.p("SEC", "gone.json"))[:-5]
    assert new != key and emu.issue(new)["fields"]["summary"] == "made again"


def test_a_removed_alias_of_a_moved_ticket_creates_anew(emu, mount):
    m = mount(emu, "timeout=5", "cache_ttl=1")
    with open(m.p("SEC", "moved.json"), "w") as f:
        f.write('{"summary": "soon moved"}')
    key = os.readlink(m.p("SEC", "moved.json"))[:-5]
    os.unlink(m.p("SEC", "moved.json"))                     # hidden: the name still updates it
    emu.move_issue(key, "OPS")
    wait_for_refresh(m, "SEC")                             # the listing went stale
    with open(m.p("SEC", "moved.json"), "w") as f:
        f.write('{"summary": "written after the move"}')
    new = os.readlink(m.p("SEC", "moved.json"))[:-5]
    assert new.startswith("SEC-") and new != key
    assert emu.issue(new)["fields"]["summary"] == "written after the move"
    assert "is gone from Jira" in read_log(m)


def test_comments_beyond_the_search_cap_are_read(emu, mount):
    """Jira may cut the comment page of a search answer short: the ticket file
    still carries every comment."""
    key = None
    m0 = mount(emu, "timeout=5")
    key = first_open_key(m0, "WEB")
    for i in range(7):
        with open(m0.p("WEB", f"{key}.json"), "a") as f:
            f.write(f"note {i}\n")
    total = len(emu.issue(key)["fields"]["comment"]["comments"])
    assert total >= 7
    m0.unmount()
    emu.config(search_comments_max=2)
    m = mount(emu, "timeout=5")
    since = emu.request_seq()
    listing = os.listdir(m.p("WEB"))                           # one search: capped comments
    assert f"{key}.json" in listing
    shown = json.load(open(m.p("WEB", f"{key}.json")))["comments"]
    assert [c["body"] for c in shown][-7:] == [f"note {i}" for i in range(7)]
    assert len(shown) == total
    assert emu.requests(since=since, method="GET", path=f"/rest/api/2/issue/{key}/comment")


def test_a_create_in_closed_found_later_whose_close_is_refused_keeps_its_alias(emu, m):
    """The create's answer was lost; the retry finds the ticket by its marker,
    and the workflow then refuses the close: the name still becomes the
    ticket's alias, so that writing it again never makes a second ticket."""
    os.listdir(m.p("SEC", "closed"))
    emu.config(ignore_transitions=True)                  # 204, and the ticket stays open
    emu.add_faults([{"action": "status_after", "status": 504, "method": "POST",
                     "path": "/rest/api/2/issue", "count": 1}])
    since = emu.request_seq()
    with open(m.p("SEC", "closed", "late.json"), "w") as f:
        f.write('{"summary": "found late, close refused"}')
    wait_for(lambda: os.path.islink(m.p("SEC", "closed", "late.json")), what="the alias")
    emu.config(ignore_transitions=False)
    key = os.readlink(m.p("SEC", "closed", "late.json")).split("/")[-1][:-5]
    assert [i["key"] for i in by_summary(emu, "SEC", "found late, close refused")] == [key]
    assert os.getxattr(m.p("SEC", f"{key}.json"), "user.jira.error")
    since = emu.request_seq()
    with open(m.p("SEC", "closed", "late.json"), "w") as f:      # updates that ticket
        f.write('{"summary": "found late, written again"}')
    assert creates(emu, since) == []
    assert len(creates(emu, 0)) == 1


# ---- writes on kept connections --------------------------------------------
#
# Writes go out on a kept connection (one round trip).  When that connection
# closes before an answer, libcurl would send the request again on a new one
# by itself; jirafs stops that second sending and treats the outcome as
# unknown, so the outbox looks for its effect first.  Each test below has a
# kept connection close after Jira committed (drop_after): without the stop,
# Jira would get the write twice.

@pytest.fixture
def m1(emu, mount):
    """One connection: every request after the first goes out on it."""
    return mount(emu, "timeout=5", "max_connections=1")


def conns_of(emu, since):
    return {r["conn"] for r in emu.requests(since=since)}


def test_writes_share_one_kept_connection(emu, m1):
    """Creates, comments and a close on a warm mount: one connection for all."""
    os.listdir(m1.p("SEC"))
    since = emu.request_seq()
    for i in range(3):
        with open(m1.p("SEC", f"kept{i}.json"), "w") as f:
            f.write(json.dumps({"summary": f"on a kept connection {i}"}))
        wait_for(lambda: os.path.islink(m1.p("SEC", f"kept{i}.json")), what="the alias")
    key = os.readlink(m1.p("SEC", "kept0.json"))[:-5]
    for i in range(3):
        with open(m1.p("SEC", f"{key}.json"), "a") as f:
            f.write(f"kept comment {i}\n")
    os.rename(m1.p("SEC", f"{key}.json"), m1.p("SEC", "closed", f"{key}.json"))
    wait_for(lambda: outbox_files(m1) == [], what="the outbox to drain")
    writes = [r for r in emu.requests(since=since) if r["method"] in ("POST", "PUT")]
    assert len([r for r in writes if r["path"] == "/rest/api/2/issue"]) == 3
    assert len([r for r in writes if r["path"].endswith("/comment")]) == 3
    assert len([r for r in writes if r["path"].endswith("/transitions")]) == 1
    assert all(r["status"] < 300 for r in writes), writes
    assert len(conns_of(emu, since)) == 1, conns_of(emu, since)
    assert status(m1)["counters"]["writes_resent_stopped"] == 0


def test_a_create_whose_kept_connection_dropped_is_looked_up_not_resent(emu, m1):
    os.listdir(m1.p("SEC"))                         # the connection is warm
    emu.add_faults([{"action": "drop_after", "method": "POST", "path": "/rest/api/2/issue",
                     "exact": True, "count": 1}])
    since = emu.request_seq()
    with open(m1.p("SEC", "dropped.json"), "w") as f:
        f.write(json.dumps({"summary": "dropped on a kept connection"}))
    wait_for(lambda: os.path.islink(m1.p("SEC", "dropped.json")), what="the alias")
    key = os.readlink(m1.p("SEC", "dropped.json"))[:-5]
    # sent once: libcurl's own second sending was stopped, and the retry looked first
    assert [r["fault"] for r in creates(emu, since)] == ["drop_after"]
    assert [i["key"] for i in by_summary(emu, "SEC", "dropped on a kept connection")] == [key]
    assert f"{key} was created by an earlier try" in read_log(m1)
    assert status(m1)["counters"]["writes_resent_stopped"] == 1
    wait_for(lambda: outbox_files(m1) == [], what="the outbox to drain")


def test_a_comment_whose_kept_connection_dropped_is_added_once(emu, m1):
    key = first_open_key(m1, "OPS")
    with open(m1.p("OPS", f"{key}.json")) as f:     # the connection is warm
        f.read()
    before = len(emu.issue(key)["fields"]["comment"]["comments"])
    path = f"/rest/api/2/issue/{key}/comment"
    emu.add_faults([{"action": "drop_after", "method": "POST", "path": path, "count": 1}])
    since = emu.request_seq()
    with open(m1.p("OPS", f"{key}.json"), "a") as f:
        f.write("said once on a kept connection\n")
    wait_for(lambda: outbox_files(m1) == [], what="the outbox to drain")
    bodies = [c["body"] for c in emu.issue(key)["fields"]["comment"]["comments"]]
    assert len(bodies) == before + 1
    assert bodies.count("said once on a kept connection") == 1
    assert [r["fault"] for r in emu.requests(since=since, method="POST", path=path)] == \
        ["drop_after"]
    assert status(m1)["counters"]["writes_resent_stopped"] == 1


def test_a_close_whose_kept_connection_dropped_is_confirmed_not_repeated(emu, m1):
    key = first_open_key(m1, "WEB")
    with open(m1.p("WEB", f"{key}.json")) as f:
        f.read()
    path = f"/rest/api/2/issue/{key}/transitions"
    emu.add_faults([{"action": "drop_after", "method": "POST", "path": path, "count": 1}])
    since = emu.request_seq()
    os.rename(m1.p("WEB", f"{key}.json"), m1.p("WEB", "closed", f"{key}.json"))
    wait_for(lambda: outbox_files(m1) == [], what="the outbox to drain")
    assert emu.issue(key)["fields"]["status"]["statusCategory"]["key"] == "done"
    assert [r["fault"] for r in emu.requests(since=since, method="POST", path=path)] == \
        ["drop_after"]
    assert status(m1)["counters"]["writes_resent_stopped"] == 1
