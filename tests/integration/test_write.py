"""The write side (CONTRACT §4.1-§4.5, first bullets of §4.6) with ordinary
tools: shell redirects, >>, mv, vim, sed -i, rsync, cp, xargs -P."""
import errno
import json
import os
import subprocess

import pytest

from emulator.control import max_overlap
from mountlib import creates, read_log, wait_for
from ticket_model import is_done


def sh(cmd, cwd, check=True):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True, cwd=cwd, timeout=120)
    if check:
        assert r.returncode == 0, f"{cmd}: {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def writes(emu, since):
    """Requests that change Jira, as (method, path) with their bodies."""
    return [r for r in emu.requests(since=since)
            if r["method"] in ("POST", "PUT", "DELETE") and r["path"] != "/rest/api/2/search"]


@pytest.fixture
def emu(fresh_emulator):
    return fresh_emulator(extra_args=["--seed", "demo"])


@pytest.fixture
def m(emu, mount):
    # a long cache: every read after a write shows it only if jirafs
    # itself keeps its reads and writes consistent
    return mount(emu, "cache_ttl=3600")


def open_keys(m, project):
    return sorted(n[:-5] for n in os.listdir(m.p(project))
                  if n.endswith(".json") and not os.path.islink(m.p(project, n)))


# ---- create (§4.1) -------------------------------------------------------

def test_shell_redirect_creates_one_ticket_and_an_alias(emu, m):
    os.listdir(m.p("SEC"))
    since = emu.request_seq()
    finding = {"summary": "OpenSSL 3.0.7 on web-09 (CVE-2023-0286)",
               "description": "found by the scanner", "priority": "High",
               "labels": ["security", "cve-2023-0286"], "components": ["web"],
               "issuetype": "Bug"}
    sh(f"cat > SEC/new-finding.json <<'EOF'\n{json.dumps(finding)}\nEOF", m.path)
    posts = creates(emu, since)
    assert len(posts) == 1 and posts[0]["status"] == 201
    target = os.readlink(m.p("SEC", "new-finding.json"))
    key = target[:-5]
    newest = max(emu.issues("SEC"), key=lambda b: int(b["key"].split("-")[1]))
    assert newest["key"] == key
    bean = emu.issue(key)
    f = bean["fields"]
    assert f["summary"] == finding["summary"]
    assert f["issuetype"]["name"] == "Bug" and f["priority"]["name"] == "High"
    assert [c["name"] for c in f["components"]] == ["web"]
    assert sorted(f["labels"]) == sorted(finding["labels"])
    # the marker of the create travels in the create request itself
    props = posts[0]["body"]["properties"]
    assert props[0]["key"] == "jirafs" and len(props[0]["value"]["op"]) == 32
    # read-your-writes: listed and readable at once, through the alias too
    assert key in open_keys(m, "SEC")
    doc = json.load(open(m.p("SEC", "new-finding.json")))
    assert doc["key"] == key and doc["summary"] == finding["summary"]
    assert os.path.islink(m.p("SEC", "new-finding.json"))


def test_writing_the_alias_again_updates_instead_of_creating(emu, m):
    sh("""printf '{"summary": "first"}' > SEC/again.json""", m.path)
    key = os.readlink(m.p("SEC", "again.json"))[:-5]
    since = emu.request_seq()
    sh("""printf '{"summary": "second"}' > SEC/again.json""", m.path)
    w = writes(emu, since)
    assert [(r["method"], r["path"]) for r in w] == [("PUT", f"/rest/api/2/issue/{key}")]
    assert w[0]["body"] == {"fields": {"summary": "second"}}
    assert emu.issue(key)["fields"]["summary"] == "second"
    assert json.load(open(m.p("SEC", "again.json")))["summary"] == "second"


def test_editing_through_the_alias_updates_the_ticket(emu, m):
    sh("""printf '{"summary": "TLS 1.0 on web-03"}' > SEC/tls.json""", m.path)
    key = os.readlink(m.p("SEC", "tls.json"))[:-5]
    since = emu.request_seq()
    sh("sed -i 's/web-03/web-04/' SEC/tls.json", m.path)
    w = writes(emu, since)
    assert [(r["method"], r["path"]) for r in w] == [("PUT", f"/rest/api/2/issue/{key}")]
    assert w[0]["body"] == {"fields": {"summary": "TLS 1.0 on web-04"}}
    assert os.readlink(m.p("SEC", "tls.json")) == f"{key}.json"     # still the alias
    sh("vim -es -c '%s/web-04/web-05/' -c 'wq' SEC/tls.json", m.path)
    assert emu.issue(key)["fields"]["summary"] == "TLS 1.0 on web-05"
    assert os.readlink(m.p("SEC", "tls.json")) == f"{key}.json"
    assert creates(emu, since) == []


def test_alias_survives_a_remount(emu, mount, tmp_path):
    state = tmp_path / "state-kept"
    m1 = mount(emu, f"state_dir={state}")
    sh("""printf '{"summary": "kept"}' > OPS/kept.json""", m1.path)
    key = os.readlink(m1.p("OPS", "kept.json"))[:-5]
    m1.unmount()
    m2 = mount(emu, f"state_dir={state}")
    assert os.readlink(m2.p("OPS", "kept.json")) == f"{key}.json"
    since = emu.request_seq()
    sh("""printf '{"summary": "kept, then updated"}' > OPS/kept.json""", m2.path)
    assert creates(emu, since) == []
    assert emu.issue(key)["fields"]["summary"] == "kept, then updated"


def test_native_fields_shape_and_default_issuetype(emu, mount):
    m = mount(emu, "default_issuetype=Bug")
    since = emu.request_seq()
    sh("""printf '{"fields": {"summary": "native", "labels": ["n"]}}' > WEB/native.json""",
       m.path)
    sh("""printf '{"summary": "plain"}' > WEB/plain.json""", m.path)
    assert len(creates(emu, since)) == 2
    for name in ("native.json", "plain.json"):
        key = os.readlink(m.p("WEB", name))[:-5]
        f = emu.issue(key)["fields"]
        assert f["issuetype"]["name"] == "Bug"
        assert f["project"]["key"] == "WEB"


def test_creating_in_closed_creates_then_closes(emu, m):
    sh("""printf '{"summary": "already fixed"}' > SEC/closed/fixed.json""", m.path)
    target = os.readlink(m.p("SEC", "closed", "fixed.json"))
    key = target[:-5]
    bean = emu.issue(key)
    assert is_done(bean) and bean["fields"]["resolution"]["name"] == "Done"
    assert json.load(open(m.p("SEC", "closed", f"{key}.json")))["status"] == "Closed"


def test_cp_clones_a_ticket_into_another_project(emu, m):
    src = open_keys(m, "SEC")[0]
    since = emu.request_seq()
    sh(f"cp SEC/{src}.json OPS/copy.json", m.path)
    assert len(creates(emu, since)) == 1
    key = os.readlink(m.p("OPS", "copy.json"))[:-5]
    assert key.startswith("OPS-")
    a, b = emu.issue(src)["fields"], emu.issue(key)["fields"]
    for f in ("summary", "description", "labels", "priority", "issuetype"):
        assert a[f] == b[f], f


def test_rsync_of_20_findings_creates_exactly_20(emu, m, tmp_path):
    src = tmp_path / "findings"
    src.mkdir()
    for i in range(20):
        (src / f"finding-{i:02}.json").write_text(
            json.dumps({"summary": f"finding {i}", "labels": ["scan"]}))
    since = emu.request_seq()
    sh(f"rsync -a {src}/ SEC/", m.path)
    assert len(creates(emu, since)) == 20
    names = os.listdir(m.p("SEC"))
    assert sum(os.path.islink(m.p("SEC", n)) for n in names) == 20
    assert not [n for n in names if n.startswith(".")]        # rsync's temporaries are gone
    summaries = {emu.issue(os.readlink(m.p("SEC", f"finding-{i:02}.json"))[:-5])
                 ["fields"]["summary"] for i in range(20)}
    assert summaries == {f"finding {i}" for i in range(20)}


def test_50_parallel_creates_give_exactly_50_tickets(emu, m):
    before = len(emu.issues("WEB"))
    since = emu.request_seq()
    sh("""seq 1 50 | xargs -P 8 -I{} sh -c 'printf "{\\"summary\\": \\"parallel {}\\"}" > WEB/p-{}.json'""",
       m.path)
    assert len(creates(emu, since)) == 50
    assert len(emu.issues("WEB")) == before + 50
    keys = {os.readlink(m.p("WEB", f"p-{i}.json")) for i in range(1, 51)}
    assert len(keys) == 50


def test_writes_run_in_parallel_within_the_pool_and_one_ticket_stays_in_order(fresh_emulator,
                                                                               mount, tmp_path):
    """§8: independent writes proceed at once, up to max_connections; the
    comments of one ticket, written at once by several processes, go one
    after the other."""
    emu = fresh_emulator(extra_args=["--seed", "demo"], latency_ms=150)
    m = mount(emu, "cache_ttl=3600", "max_connections=4")
    key = open_keys(m, "SEC")[0]
    create = tmp_path / "create.sh"
    create.write_text("""printf '{"summary": "at once %s"}' "$1" > "WEB/at-once-$1.json"\n""")
    since = emu.request_seq()
    sh(f"seq 1 12 | xargs -P 8 -n 1 sh {create}", m.path)
    posts = creates(emu, since)
    assert len(posts) == 12
    assert 3 <= max_overlap(posts) <= 4, max_overlap(posts)

    note = tmp_path / "note.sh"
    note.write_text(f'echo "note $1" >> "SEC/{key}.json"\n')
    since = emu.request_seq()
    sh(f"seq 1 18 | xargs -P 6 -n 1 sh {note}", m.path)
    # the ones that found the ticket busy wait in the outbox, in order
    wait_for(lambda: len([r for r in writes(emu, since) if r["path"].endswith("/comment")])
             >= 18, 30, "18 comments sent")
    comments = [r for r in writes(emu, since) if r["path"].endswith("/comment")]
    assert len(comments) == 18 and max_overlap(comments) == 1
    bodies = [c["body"] for c in emu.issue(key)["fields"]["comment"]["comments"]]
    assert sorted(b for b in bodies if b.startswith("note ")) == \
        sorted(f"note {i}" for i in range(1, 19))


# ---- comment (§4.2) -------------------------------------------------------

def test_append_adds_exactly_one_comment(emu, m):
    key = open_keys(m, "SEC")[0]
    n0 = len(emu.issue(key)["fields"]["comment"]["comments"])
    since = emu.request_seq()
    sh(f"echo 'Retested: still vulnerable' >> SEC/{key}.json", m.path)
    w = writes(emu, since)
    assert [(r["method"], r["path"]) for r in w] == [("POST", f"/rest/api/2/issue/{key}/comment")]
    comments = emu.issue(key)["fields"]["comment"]["comments"]
    assert len(comments) == n0 + 1 and comments[-1]["body"] == "Retested: still vulnerable"
    doc = json.load(open(m.p("SEC", f"{key}.json")))
    assert doc["comments"][-1]["body"] == "Retested: still vulnerable"


def test_appends_in_a_row_cost_one_post_each_and_reads_see_them_all(emu, m):
    """§8: a comment is one POST. An append does not read the ticket, so
    the one written a moment ago is not read back for the next append;
    stat and cat afterwards read it back and show every comment."""
    keys = open_keys(m, "SEC")[:3]
    n0 = {k: len(emu.issue(k)["fields"]["comment"]["comments"]) for k in keys}
    since = emu.request_seq()
    for i in range(4):
        for k in keys:
            sh(f"echo 'round {i} on {k}' >> SEC/{k}.json", m.path)
    reqs = emu.requests(since=since)
    assert [(r["method"], r["path"]) for r in reqs] == \
        [("POST", f"/rest/api/2/issue/{k}/comment") for _ in range(4) for k in keys]
    for k in keys:
        size = os.stat(m.p("SEC", f"{k}.json")).st_size
        data = open(m.p("SEC", f"{k}.json"), "rb").read()
        assert size == len(data)
        bodies = [c["body"] for c in json.loads(data)["comments"]]
        assert len(bodies) == n0[k] + 4
        assert bodies[-4:] == [f"round {i} on {k}" for i in range(4)]
        assert json.loads(data)["updated"] == emu.issue(k)["fields"]["updated"]


def test_append_json_body_with_visibility(emu, m):
    key = open_keys(m, "OPS")[0]
    sh(f"""echo '{{"body": "internal note", "visibility": {{"type": "role", "value": "Developers"}}}}' >> OPS/{key}.json""",
       m.path)
    c = emu.issue(key)["fields"]["comment"]["comments"][-1]
    assert c["body"] == "internal note"
    assert c["visibility"] == {"type": "role", "value": "Developers"}


def test_empty_append_adds_nothing(emu, m):
    key = open_keys(m, "OPS")[0]
    since = emu.request_seq()
    sh(f"printf '' >> OPS/{key}.json; echo >> OPS/{key}.json; : >> OPS/{key}.json", m.path)
    assert writes(emu, since) == []


def test_comment_over_32767_characters_is_efbig(emu, m):
    key = open_keys(m, "OPS")[0]
    since = emu.request_seq()
    with pytest.raises(OSError) as e:
        with open(m.p("OPS", f"{key}.json"), "a") as f:
            f.write("é" * 32768)
    assert e.value.errno == errno.EFBIG
    assert writes(emu, since) == []


# ---- update (§4.3) --------------------------------------------------------

def unique_summary_ticket(emu, m, project, marker):
    key = open_keys(m, project)[0]
    emu.set_issue(key, fields={"summary": f"{marker} old summary"})
    os.listdir(m.p(project))
    return key


def test_vim_edit_is_one_put_with_only_summary(emu, mount):
    m = mount(emu, "cache_ttl=0")
    key = unique_summary_ticket(emu, m, "SEC", "VIMTEST")
    since = emu.request_seq()
    sh(f"vim -es -c '%s/VIMTEST old summary/VIMTEST new summary/' -c 'wq' SEC/{key}.json", m.path)
    w = writes(emu, since)
    assert [(r["method"], r["path"]) for r in w] == [("PUT", f"/rest/api/2/issue/{key}")]
    assert w[0]["body"] == {"fields": {"summary": "VIMTEST new summary"}}
    assert creates(emu, since) == []                       # not from .swp, 4913 or the backup
    assert sorted(n for n in os.listdir(m.p("SEC")) if not n.startswith("SEC-")) == ["attachments", "closed", "scans"]
    assert json.load(open(m.p("SEC", f"{key}.json")))["summary"] == "VIMTEST new summary"


def test_sed_i_is_one_put_with_only_summary(emu, mount):
    m = mount(emu, "cache_ttl=0")
    key = unique_summary_ticket(emu, m, "OPS", "SEDTEST")
    os.listdir(m.p("OPS"))
    since = emu.request_seq()
    sh(f"sed -i 's/SEDTEST old summary/SEDTEST new summary/' OPS/{key}.json", m.path)
    w = writes(emu, since)
    assert [(r["method"], r["path"]) for r in w] == [("PUT", f"/rest/api/2/issue/{key}")]
    assert w[0]["body"] == {"fields": {"summary": "SEDTEST new summary"}}
    assert sorted(n for n in os.listdir(m.p("OPS")) if not n.startswith("OPS-")) == ["attachments", "closed", "scans"]
    assert json.load(open(m.p("OPS", f"{key}.json")))["summary"] == "SEDTEST new summary"


def test_jq_rewrite_changes_status_fields_and_adds_comment(emu, m):
    key = [k for k in open_keys(m, "WEB")
           if emu.issue(k)["fields"]["status"]["name"] == "Open"][0]
    doc = json.load(open(m.p("WEB", f"{key}.json")))
    doc["labels"] = ["a", "b"]
    doc["priority"] = "Low"
    doc["status"] = "In Progress"
    doc["fields"]["customfield_10021"] = "host-77"
    doc["comments"].append({"body": "moving it along"})
    since = emu.request_seq()
    with open(m.p("WEB", f"{key}.json"), "w") as f:
        json.dump(doc, f)
    w = writes(emu, since)
    assert [r["method"] for r in w] == ["PUT", "POST", "POST"]
    assert w[0]["body"] == {"fields": {"priority": {"name": "Low"}, "labels": ["a", "b"],
                                       "customfield_10021": "host-77"}}
    assert w[1]["body"] == {"body": "moving it along"}
    bean = emu.issue(key)
    assert bean["fields"]["status"]["name"] == "In Progress"
    assert bean["fields"]["customfield_10021"] == "host-77"
    assert json.load(open(m.p("WEB", f"{key}.json")))["status"] == "In Progress"


def test_changed_read_only_key_is_refused(emu, m):
    key = open_keys(m, "WEB")[0]
    doc = json.load(open(m.p("WEB", f"{key}.json")))
    doc["reporter"] = "mallory"
    since = emu.request_seq()
    with pytest.raises(OSError) as e:
        with open(m.p("WEB", f"{key}.json"), "w") as f:
            json.dump(doc, f)
    assert e.value.errno == errno.EINVAL
    assert writes(emu, since) == []
    assert "read-only" in os.getxattr(m.p("WEB", f"{key}.json"), "user.jira.error").decode()


# ---- close and reopen (§4.4) ---------------------------------------------

def test_mv_into_closed_and_back(emu, m):
    key = open_keys(m, "SEC")[0]
    since = emu.request_seq()
    sh(f"mv SEC/{key}.json SEC/closed/", m.path)
    bean = emu.issue(key)
    assert is_done(bean) and bean["fields"]["resolution"]["name"] == "Done"
    reqs = [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in emu.requests(since=since)]
    assert reqs == [("GET", "transitions"), ("POST", "transitions"), ("GET", key)]
    assert not os.path.exists(m.p("SEC", f"{key}.json"))
    assert json.load(open(m.p("SEC", "closed", f"{key}.json")))["resolution"] == "Done"
    sh(f"mv SEC/closed/{key}.json SEC/", m.path)
    bean = emu.issue(key)
    assert not is_done(bean) and bean["fields"]["resolution"] is None
    assert key in open_keys(m, "SEC")


def test_close_with_resolution_and_transition_options(emu, mount):
    m = mount(emu, "resolution=Won't Fix", "close_transition=Resolve Issue")
    key = open_keys(m, "OPS")[0]
    sh(f"mv OPS/{key}.json OPS/closed/", m.path)
    f = emu.issue(key)["fields"]
    assert f["status"]["name"] == "Resolved" and f["resolution"]["name"] == "Won't Fix"


def test_transition_not_confirmed_by_read_back_is_an_error(emu, m):
    key = open_keys(m, "OPS")[0]
    emu.config(ignore_transitions=True)            # Jira answers 204 and moves nothing
    r = sh(f"mv OPS/{key}.json OPS/closed/", m.path, check=False)
    assert r.returncode != 0
    emu.config(ignore_transitions=False)
    assert key in open_keys(m, "OPS")
    assert "still" in read_log(m)


# ---- refusals (§4.5) ------------------------------------------------------

def test_refusals_change_nothing_in_jira(emu, m, tmp_path):
    sec, ops = open_keys(m, "SEC"), open_keys(m, "OPS")
    since = emu.request_seq()
    cases = [
        (lambda: os.unlink(m.p("SEC", f"{sec[0]}.json")), errno.EPERM),
        (lambda: os.mkdir(m.p("SEC", "sub")), errno.EPERM),
        (lambda: os.rename(m.p("SEC", f"{sec[0]}.json"), m.p("OPS", f"{sec[0]}.json")), errno.EPERM),
        (lambda: os.rename(m.p("SEC", f"{sec[0]}.json"), m.p("SEC", f"{sec[1]}.json")), errno.EPERM),
        (lambda: os.chmod(m.p("SEC", f"{sec[0]}.json"), 0o600), errno.EPERM),
        (lambda: os.chown(m.p("SEC", f"{sec[0]}.json"), 12345, 12345), errno.EPERM),
        (lambda: open(m.p(".jirafs", "status"), "w"), errno.EROFS),
        (lambda: open(m.p(".jirafs", "new"), "w"), errno.EROFS),
    ]
    for fn, want in cases:
        with pytest.raises(OSError) as e:
            fn()
        assert e.value.errno == want, (fn, e.value)
    # mv across projects must not fall back to copy + delete
    r = sh(f"mv SEC/{sec[0]}.json OPS/", m.path, check=False)
    assert r.returncode != 0 and "not permitted" in r.stderr
    # a body over 1 MiB: the write fails, and so does the close
    fd = os.open(m.p("OPS", "huge.json"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    body = json.dumps({"summary": "huge", "description": "x" * (1 << 20)}).encode()
    with pytest.raises(OSError) as e:
        while body:
            body = body[os.write(fd, body):]
    assert e.value.errno == errno.EFBIG
    with pytest.raises(OSError) as e:
        os.close(fd)
    assert e.value.errno == errno.EFBIG
    assert writes(emu, since) == []
    assert emu.issue(sec[0])                       # still there
    log = read_log(m)
    assert "refused rm" in log and "refused mkdir" in log and "refused rename" in log
    # no-op permission changes are fine (cp -p, rsync, install do them)
    os.chmod(m.p("SEC", f"{sec[0]}.json"), 0o644)
    os.chown(m.p("SEC", f"{sec[0]}.json"), os.getuid(), os.getgid())
    os.utime(m.p("SEC", f"{sec[0]}.json"))


# ---- rejections (§4.6, first two bullets) --------------------------------

@pytest.mark.parametrize("content,why", [
    (b'{"summary": "broken', "not valid JSON"),
    (b'{"summary": "bad \xff\xfe utf8"}', "UTF-8"),
    (b'{"description": "no summary"}', "summary"),
    (b'{"summary": "x", "issuetype": "Spaceship"}', "Spaceship"),
    (b'{"summary": "x", "components": ["no-such-component"]}', "no-such-component"),
    (b'{"summary": "x", "assignee": "nobody-here"}', "nobody-here"),
])
def test_rejected_create_keeps_the_bytes_and_the_reason(emu, m, content, why):
    since = emu.request_seq()
    path = m.p("SEC", "rejected.json")
    with pytest.raises(OSError) as e:
        with open(path, "wb") as f:
            f.write(content)
    assert e.value.errno == errno.EINVAL
    assert creates(emu, since) == [] or all(r["status"] == 400 for r in creates(emu, since))
    assert not os.path.islink(path)
    assert open(path, "rb").read() == content              # exactly what was written
    err = os.getxattr(path, "user.jira.error").decode()
    assert why in err
    assert why in read_log(m)
    # writing it again retries
    with open(path, "w") as f:
        f.write('{"summary": "fixed now"}')
    key = os.readlink(path)[:-5]
    assert emu.issue(key)["fields"]["summary"] == "fixed now"


def test_rejected_update_is_shown_until_rewritten(emu, m):
    key = open_keys(m, "OPS")[0]
    path = m.p("OPS", f"{key}.json")
    since = emu.request_seq()
    with pytest.raises(OSError) as e:
        with open(path, "w") as f:
            f.write('{"summary": "oops"')
    assert e.value.errno == errno.EINVAL
    assert writes(emu, since) == []
    assert open(path).read() == '{"summary": "oops"'
    assert "not valid JSON" in os.getxattr(path, "user.jira.error").decode()
    doc = dict(emu.issue(key)["fields"])
    with open(path, "w") as f:
        f.write(json.dumps({"summary": doc["summary"] + " (retried)"}))
    assert json.load(open(path))["summary"].endswith("(retried)")
    assert emu.issue(key)["fields"]["summary"].endswith("(retried)")


def test_jira_400_on_update_is_verbatim(emu, m):
    key = open_keys(m, "OPS")[0]
    path = m.p("OPS", f"{key}.json")
    doc = json.load(open(path))
    doc["fields"]["creator"] = {"name": "mallory"}            # not on any edit screen
    with pytest.raises(OSError) as e:
        with open(path, "w") as f:
            json.dump(doc, f)
    assert e.value.errno == errno.EINVAL
    err = os.getxattr(path, "user.jira.error").decode()
    assert "creator" in err and "cannot be set" in err          # Jira's own words
    os.unlink(path)                                              # drop the refused version
    assert json.load(open(path))["key"] == key


# ---- scratch files (§4 intro) ---------------------------------------------

def test_scratch_files_are_posix_and_never_reach_jira(emu, m):
    since = emu.request_seq()
    d = m.p("SEC")
    for name in (".x.swp", "x~", "#x#", "4913", ".x.XXXXXX", "sedAbc123", "notes.txt"):
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write("hello")
        with open(p, "r+") as f:
            f.seek(2)
            f.write("LL")
        assert open(p).read() == "heLLo"
        os.truncate(p, 2)
        assert os.stat(p).st_size == 2
        with open(p, "a") as f:
            f.write("!")
        assert open(p).read() == "he!"
        os.chmod(p, 0o600)
        assert os.stat(p).st_mode & 0o777 == 0o600
        os.rename(p, p + ".moved")
        assert not os.path.exists(p) and open(p + ".moved").read() == "he!"
        assert name + ".moved" in os.listdir(d)
        os.unlink(p + ".moved")
        assert not os.path.exists(p + ".moved")
    # unlinked while open keeps working
    p = os.path.join(d, "tmp-open")
    f = open(p, "w+")
    os.unlink(p)
    f.write("still here")
    f.seek(0)
    assert f.read() == "still here"
    f.close()
    open(os.path.join(d, "x"), "w").close()
    with pytest.raises(FileExistsError):
        os.open(os.path.join(d, "x"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    assert writes(emu, since) == []


def test_unlinking_a_draft_and_an_alias(emu, m):
    sh("touch SEC/draft.json", m.path)                 # an empty new file: no ticket yet
    assert os.path.exists(m.p("SEC", "draft.json"))
    os.unlink(m.p("SEC", "draft.json"))
    sh("""printf '{"summary": "aliased"}' > SEC/a.json""", m.path)
    key = os.readlink(m.p("SEC", "a.json"))[:-5]
    os.unlink(m.p("SEC", "a.json"))                   # the alias goes, the ticket stays
    assert key in open_keys(m, "SEC")


# ---- what tools and scripts do to descriptors ------------------------------

def test_script_appending_through_children_is_one_comment(emu, m):
    key = open_keys(m, "SEC")[0]
    n0 = len(emu.issue(key)["fields"]["comment"]["comments"])
    since = emu.request_seq()
    # the group's shell opened the file; /bin/echo children inherit it
    sh(f"{{ echo line-a; /bin/echo line-b; sh -c '/bin/echo line-c'; }} >> SEC/{key}.json",
       m.path)
    posts = [r for r in writes(emu, since) if r["path"].endswith("/comment")]
    assert len(posts) == 1
    comments = emu.issue(key)["fields"]["comment"]["comments"]
    assert len(comments) == n0 + 1
    assert comments[-1]["body"] == "line-a\nline-b\nline-c"


def test_comment_json_followed_by_text_is_text(emu, m):
    key = open_keys(m, "OPS")[0]
    sh(f"""printf '{{"body": "first"}}\\nsecond line of notes\\n' >> OPS/{key}.json""", m.path)
    c = emu.issue(key)["fields"]["comment"]["comments"][-1]
    assert c["body"] == '{"body": "first"}\nsecond line of notes'


def test_comment_of_escaped_json_near_the_limit(emu, m):
    key = open_keys(m, "OPS")[0]
    body = json.dumps({"body": "я" * 25000})            # 150,012 bytes, 25,000 characters
    with open(m.p("OPS", f"{key}.json"), "a") as f:
        f.write(body)
    assert emu.issue(key)["fields"]["comment"]["comments"][-1]["body"] == "я" * 25000


def test_two_writers_of_one_new_name_make_one_ticket(emu, m):
    import threading
    for round_ in range(5):
        name = m.p("WEB", f"race{round_}.json")
        barrier = threading.Barrier(2)

        def writer():
            barrier.wait()
            try:
                with open(name, "w") as f:
                    f.write(json.dumps({"summary": f"race {round_}"}))
            except OSError:
                pass
        since = emu.request_seq()
        threads = [threading.Thread(target=writer) for _ in range(2)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert len(creates(emu, since)) == 1, round_
        assert os.path.islink(name)


def test_rsync_and_install_again_update_instead_of_duplicating(emu, m, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"f{i}.json").write_text(json.dumps({"summary": f"finding {i}"}))
    sh(f"rsync -a {src}/ OPS/", m.path)
    keys = {i: os.readlink(m.p("OPS", f"f{i}.json")) for i in range(3)}
    (src / "f1.json").write_text(json.dumps({"summary": "finding 1, seen again"}))
    since = emu.request_seq()
    sh(f"rsync -a {src}/ OPS/", m.path)                   # replaces the symlinks
    assert creates(emu, since) == []
    assert {i: os.readlink(m.p("OPS", f"f{i}.json")) for i in range(3)} == keys
    assert emu.issue(keys[1][:-5])["fields"]["summary"] == "finding 1, seen again"
    sh(f"install -m 644 {src}/f0.json OPS/inst.json", m.path)
    first = os.readlink(m.p("OPS", "inst.json"))
    since = emu.request_seq()
    sh(f"install -m 644 {src}/f2.json OPS/inst.json", m.path)
    assert creates(emu, since) == []
    assert os.readlink(m.p("OPS", "inst.json")) == first
    assert emu.issue(first[:-5])["fields"]["summary"] == "finding 2"


def test_create_answered_by_a_dropped_connection_is_not_sent_twice(emu, m):
    """Jira made the ticket but the answer was lost: close() succeeds (the
    record waits in the outbox), libcurl does not resend it, and the retry
    finds the ticket by its marker instead of creating another -- with what a
    stock Jira offers: ordinary JQL for candidates (the emulator refuses JQL
    on issue properties, as Jira without an indexing app does), then the
    marker property read of each candidate."""
    os.listdir(m.p("WEB"))
    emu.add_faults([{"action": "drop_after", "method": "POST", "path": "/rest/api/2/issue",
                     "count": 1}])
    before = len(emu.issues("WEB"))
    since = emu.request_seq()
    with open(m.p("WEB", "dropped.json"), "w") as f:
        f.write('{"summary": "dropped"}')
    wait_for(lambda: os.path.islink(m.p("WEB", "dropped.json")), 30, "the alias dropped.json")
    key = os.readlink(m.p("WEB", "dropped.json"))[:-5]
    assert len(creates(emu, since)) == 1
    assert len(emu.issues("WEB")) == before + 1
    assert emu.issue(key)["fields"]["summary"] == "dropped"
    log = emu.requests(since=since)
    lookups = [r for r in log if r["path"] == "/rest/api/2/search"
               and "creator = currentUser()" in (r["body"] or {}).get("jql", "")]
    assert len(lookups) == 1 and "issue.property" not in lookups[0]["body"]["jql"]
    assert lookups[0]["status"] == 200
    reads = [r for r in log if r["path"] == f"/rest/api/2/issue/{key}/properties/jirafs"]
    assert [r["status"] for r in reads] == [200]
    assert read_log(m).count(
        f"{key} was created by an earlier try") == 1


def test_create_in_closed_whose_close_fails_still_leaves_the_alias(emu, m):
    emu.config(ignore_transitions=True)
    since = emu.request_seq()
    # cat reports close() errors (a shell builtin's redirect does not)
    r = sh("""echo '{"summary": "cc"}' | cat > SEC/closed/cc.json""", m.path, check=False)
    emu.config(ignore_transitions=False)
    assert r.returncode != 0
    assert len(creates(emu, since)) == 1
    key = os.readlink(m.p("SEC", "closed", "cc.json"))
    assert key.endswith(".json")
    since = emu.request_seq()
    sh("""printf '{"summary": "cc again"}' > SEC/closed/cc.json""", m.path)
    assert creates(emu, since) == []                     # the name updates that ticket


def test_failed_comment_keeps_the_text_and_the_next_append_retries(emu, m):
    key = open_keys(m, "OPS")[0]
    path = m.p("OPS", f"{key}.json")
    n0 = len(emu.issue(key)["fields"]["comment"]["comments"])
    emu.add_faults([{"action": "status", "status": 400, "method": "POST",
                     "path": f"/rest/api/2/issue/{key}/comment", "count": 1}])
    r = sh(f"echo 'first try' | cat >> OPS/{key}.json", m.path, check=False)
    assert r.returncode != 0
    text = open(path).read()
    assert text.endswith("}\nfirst try\n")               # the ticket, then what was appended
    assert os.getxattr(path, "user.jira.error")
    sh(f"echo 'second try' >> OPS/{key}.json", m.path)
    comments = emu.issue(key)["fields"]["comment"]["comments"]
    assert len(comments) == n0 + 1
    assert comments[-1]["body"] == "first try\nsecond try"
    assert json.load(open(path))["key"] == key           # the ticket shows again


def test_draft_renamed_while_open_is_created_under_its_new_name(emu, m):
    f = open(m.p("WEB", "first.json"), "w")
    f.write('{"summary": "renamed while ')
    f.flush()
    os.rename(m.p("WEB", "first.json"), m.p("WEB", "second.json"))
    f.write('open"}')
    f.close()
    assert not os.path.lexists(m.p("WEB", "first.json"))
    key = os.readlink(m.p("WEB", "second.json"))[:-5]
    assert emu.issue(key)["fields"]["summary"] == "renamed while open"


def test_partial_update_is_not_repeated(emu, m):
    key = [k for k in open_keys(m, "WEB")
           if emu.issue(k)["fields"]["status"]["name"] == "Open"][0]
    path = m.p("WEB", f"{key}.json")
    doc = json.load(open(path))
    doc["summary"] = "partly applied"
    doc["status"] = "In Progress"
    doc["comments"].append({"body": "once only"})
    emu.config(ignore_transitions=True)                   # the transition will not take
    with pytest.raises(OSError):
        with open(path, "w") as f:
            json.dump(doc, f)
    emu.config(ignore_transitions=False)
    shown = json.load(open(path))                         # what Jira has, not the refused file
    assert shown["summary"] == "partly applied" and shown["status"] == "Open"
    assert [c["body"] for c in shown["comments"]].count("once only") == 1


def test_reading_back_survives_a_deleted_ticket(emu, m):
    a, b = open_keys(m, "OPS")[:2]
    sh(f"echo note >> OPS/{a}.json; echo note >> OPS/{b}.json", m.path)
    emu.delete_issue(a)
    names = os.listdir(m.p("OPS"))
    assert f"{a}.json" not in names and f"{b}.json" in names
