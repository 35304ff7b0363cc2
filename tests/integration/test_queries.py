"""Searches as directories (CONTRACT §11, issue 15): queries/NAME.jql
defines a search that Jira validates at close(), and queries/NAME/ holds
one symlink per ticket, in the JQL's order, to the ticket's own file."""
import errno
import json
import os
import subprocess

import pytest

from mountlib import read_log

FAVOURITE = "My open SEC tickets"   # the demo's favourite filter of alice


def mine(m):
    """queries/ but the demo's favourite filter."""
    return sorted(n for n in os.listdir(m.p("queries")) if not n.startswith(FAVOURITE))


def search_requests(emu, since):
    return [r for r in emu.requests(since=since) if r["path"] == "/rest/api/2/search"]


def define(m, name, jql):
    """Write queries/NAME.jql as a program does, close() reporting."""
    with open(m.p("queries", name + ".jql"), "w") as f:
        f.write(jql + "\n")


def keys_in_jira_order(emu, projects, unresolved):
    """The keys the emulator returns for the JQL used below (key DESC)."""
    beans = [b for p in projects for b in emu.issues(p)]
    if unresolved:
        beans = [b for b in beans if b["fields"].get("resolution") is None]

    def num(k):
        p, n = k.rsplit("-", 1)
        return (p, int(n))
    return sorted((b["key"] for b in beans), key=num, reverse=True)


def test_a_query_is_a_directory_of_links_to_the_tickets_in_its_order(emulator, mount):
    m = mount(emulator)
    assert "queries" in os.listdir(m.p())
    assert mine(m) == []
    since = emulator.request_seq()
    define(m, "open", "project in (SEC, OPS) AND resolution = Unresolved ORDER BY key DESC")
    # validated at close: one strict search asking for no ticket
    val = search_requests(emulator, since)
    assert len(val) == 1 and val[0]["body"]["maxResults"] == 0
    assert val[0]["body"].get("validateQuery", True) is not False
    assert mine(m) == ["open", "open.jql"]
    # ls -U: the directory's own order, which is the JQL's
    out = subprocess.run(["ls", "-U", m.p("queries", "open")], capture_output=True,
                         text=True, check=True).stdout.split()
    want = keys_in_jira_order(emulator, ["SEC", "OPS"], unresolved=True)
    assert [n[:-5] for n in out] == want
    assert {k.split("-")[0] for k in want} == {"SEC", "OPS"}   # across two projects
    for name in out[:5]:
        link = m.p("queries", "open", name)
        assert os.path.islink(link)
        key = name[:-5]
        assert os.readlink(link) == f"../../{key.split('-')[0]}/{name}"
        # followed: the ticket's own file
        with open(link) as f:
            assert json.load(f)["key"] == key
        assert open(link).read() == open(m.p(key.split("-")[0], name)).read()


def test_closed_tickets_link_into_closed(emulator, mount):
    m = mount(emulator)
    define(m, "sec", "project = SEC ORDER BY key ASC")
    closed = set(os.listdir(m.p("SEC", "closed")))
    assert closed, "the demo has closed SEC tickets"
    for name in os.listdir(m.p("queries", "sec")):
        target = os.readlink(m.p("queries", "sec", name))
        where = "closed/" if name in closed else ""
        assert target == f"../../SEC/{where}{name}"
        assert os.path.exists(m.p("queries", "sec", name))      # it resolves


def test_jql_jira_refuses_fails_close_with_einval_and_keeps_the_text(emulator, mount):
    m = mount(emulator)
    f = open(m.p("queries", "bad.jql"), "w")
    f.write("project = SEC AND\n")
    with pytest.raises(OSError) as e:
        f.close()
    assert e.value.errno == errno.EINVAL
    assert open(m.p("queries", "bad.jql")).read() == "project = SEC AND\n"   # as written
    why = os.getxattr(m.p("queries", "bad.jql"), "user.jira.error").decode()
    assert "Error in the JQL Query" in why, why
    assert mine(m) == ["bad.jql"]                                        # no directory
    assert not os.path.exists(m.p("queries", "bad"))
    assert "queries/bad.jql: Jira refuses the query: Error in the JQL Query" in read_log(m)
    # an unknown field is Jira's 400 too
    with pytest.raises(OSError) as e:
        define(m, "nofield", "nosuchfield = 1")
    assert e.value.errno == errno.EINVAL
    # fixed in place: the directory appears, the error goes
    define(m, "bad", "project = SEC")
    assert "bad" in os.listdir(m.p("queries"))
    with pytest.raises(OSError) as e:
        os.getxattr(m.p("queries", "bad.jql"), "user.jira.error")
    assert e.value.errno == errno.ENODATA
    # an empty text is no query
    with pytest.raises(OSError) as e:
        define(m, "empty", "   ")
    assert e.value.errno == errno.EINVAL


def test_append_and_cat_through_a_link_act_on_the_ticket(fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu)
    define(m, "one", "key = SEC-1")
    assert os.listdir(m.p("queries", "one")) == ["SEC-1.json"]
    r = subprocess.run("echo 'seen through the query' >> queries/one/SEC-1.json", shell=True,
                       cwd=m.p(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    comments = [c["body"] for c in emu.issue("SEC-1")["fields"]["comment"]["comments"]]
    assert comments.count("seen through the query") == 1
    doc = json.load(open(m.p("queries", "one", "SEC-1.json")))
    assert doc["comments"][-1]["body"] == "seen through the query"
    # the results are Jira's: a link is not removed, nor made by hand
    with pytest.raises(OSError) as e:
        os.unlink(m.p("queries", "one", "SEC-1.json"))
    assert e.value.errno == errno.EPERM
    with pytest.raises(OSError) as e:
        open(m.p("queries", "one", "x.json"), "w")
    assert e.value.errno in (errno.ENOENT, errno.EPERM, errno.EACCES)


def test_queries_outlast_the_mount_and_rm_removes_one(fresh_emulator, mount, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    state = tmp_path / "qstate"
    m = mount(emu, f"state_dir={state}")
    define(m, "web", "project = WEB ORDER BY key ASC")
    before = os.listdir(m.p("queries", "web"))
    assert before
    m.unmount()
    m2 = mount(emu, f"state_dir={state}")
    assert mine(m2) == ["web", "web.jql"]
    assert os.listdir(m2.p("queries", "web")) == before
    os.unlink(m2.p("queries", "web.jql"))
    assert mine(m2) == []
    assert not os.path.exists(m2.p("queries", "web"))


def test_results_are_paged_cached_and_kept_when_jira_is_down(fresh_emulator, mount):
    emu = fresh_emulator(seed_projects=["QP:250:4"])
    m = mount(emu, "cache_ttl=1", "max_connections=4")
    since = emu.request_seq()
    define(m, "all", "project = QP ORDER BY key DESC")
    names = os.listdir(m.p("queries", "all"))
    assert len(names) == len(set(names)) == 250
    pages = search_requests(emu, since)[1:]                  # after the validation
    assert len(pages) == 3, len(pages)                       # 250 at a clamp of 100
    assert sorted(p["body"]["startAt"] for p in pages) == [0, 100, 200]
    # within cache_ttl: no request
    mark = emu.request_seq()
    assert os.listdir(m.p("queries", "all")) == names
    assert search_requests(emu, mark) == []
    # Jira down: what was read is shown, and the log says why
    emu.add_faults({"path": "/rest/", "action": "status", "status": 503})
    import time
    time.sleep(1.5)
    assert os.listdir(m.p("queries", "all")) == names
    assert os.listdir(m.p("queries", "all")) == names
    emu.clear_faults()


def test_favourite_filters_are_read_only_queries(fresh_emulator, mount):
    """The account's favourite filters (GET /rest/api/2/filter/favourite)
    appear as read-only queries/<name>.jql with their directories; names
    are made safe for a file system."""
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    emu.add_filter("web/infra: all", "project = WEB ORDER BY key ASC", owner="alice",
                   favourite_of=["alice"])
    m = mount(emu)
    names = sorted(os.listdir(m.p("queries")))
    assert "My open SEC tickets.jql" in names and "My open SEC tickets" in names
    assert "web_infra: all.jql" in names                     # "/" made safe
    text = open(m.p("queries", "My open SEC tickets.jql")).read()
    assert "project = SEC" in text
    assert os.stat(m.p("queries", "My open SEC tickets.jql")).st_mode & 0o222 == 0
    links = os.listdir(m.p("queries", "My open SEC tickets"))
    assert links and all(n.startswith("SEC-") for n in links)
    web = sorted(os.listdir(m.p("queries", "web_infra: all")))
    assert web == sorted(b["key"] + ".json" for b in emu.issues("WEB"))
    # Jira's: not written, renamed or removed through the filesystem
    for act in (lambda: open(m.p("queries", "My open SEC tickets.jql"), "w"),
                lambda: os.unlink(m.p("queries", "My open SEC tickets.jql")),
                lambda: os.rename(m.p("queries", "My open SEC tickets.jql"),
                                  m.p("queries", "x.jql"))):
        with pytest.raises(OSError) as e:
            act()
        assert e.value.errno in (errno.EACCES, errno.EPERM)


def test_mv_of_a_link_into_closed_closes_the_ticket(fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu)
    open_keys = [b["key"] for b in emu.issues("SEC") if b["fields"].get("resolution") is None]
    key = sorted(open_keys)[0]
    define(m, "one", f"key = {key}")
    r = subprocess.run(["mv", m.p("queries", "one", key + ".json"), m.p("SEC", "closed") + "/"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert emu.issue(key)["fields"]["status"]["statusCategory"]["key"] == "done"
    assert key + ".json" in os.listdir(m.p("SEC", "closed"))
    assert key + ".json" not in os.listdir(m.p("SEC"))
    # the kernel forgot the link's old and new names: both are what they are
    assert not os.path.islink(m.p("SEC", "closed", key + ".json"))
    assert json.load(open(m.p("SEC", "closed", key + ".json")))["key"] == key
    assert os.readlink(m.p("queries", "one", key + ".json")) == \
        f"../../SEC/closed/{key}.json"


def test_queries_from_the_configuration_are_read_only(emulator, mount, tmp_path):
    """query.NAME=JQL lines of the config file (commas and all) and -o
    options (commas written \\,) are read-only searches; a bad name is
    refused at mount."""
    conf = tmp_path / "jirafs.conf"
    conf.write_text("query.two=project in (SEC, WEB) ORDER BY key ASC\n")
    conf.chmod(0o600)
    m = mount(emulator, f"config={conf}", "query.web=project = WEB AND key in (WEB-1\\, WEB-2)")
    assert {"two", "two.jql", "web", "web.jql"} <= set(mine(m))
    assert open(m.p("queries", "two.jql")).read() == "project in (SEC, WEB) ORDER BY key ASC\n"
    two = os.listdir(m.p("queries", "two"))
    assert {n.split("-")[0] for n in two} == {"SEC", "WEB"}
    assert sorted(os.listdir(m.p("queries", "web"))) == ["WEB-1.json", "WEB-2.json"]
    with pytest.raises(OSError) as e:
        open(m.p("queries", "two.jql"), "w")
    assert e.value.errno == errno.EACCES
    with pytest.raises(OSError) as e:
        os.unlink(m.p("queries", "web.jql"))
    assert e.value.errno == errno.EPERM
    bad = mount(emulator, "query..hidden=project = SEC", start=False)
    with pytest.raises(Exception):
        bad.start(timeout=5)
    assert "not a name for a file of queries/" in bad.log()


def test_a_ticket_linked_to_needs_no_request_of_its_own(fresh_emulator, mount):
    """The results carry every field: following a link to a ticket of a
    project not listed yet reads no listing of it, nor the ticket."""
    emu = fresh_emulator(seed_projects=["QL:300:4"])
    m = mount(emu)
    assert "QL" in os.listdir(m.p())                         # the project list only
    define(m, "few", "project = QL AND key in (QL-1, QL-2, QL-3) ORDER BY key ASC")
    names = os.listdir(m.p("queries", "few"))
    assert sorted(names) == ["QL-1.json", "QL-2.json", "QL-3.json"]
    since = emu.request_seq()
    for n in names:
        doc = json.load(open(m.p("queries", "few", n)))
        assert doc["key"] == n[:-5] and doc["summary"]
        assert open(m.p("queries", "few", n)).read() == \
            open(m.p("queries", "few", n)).read()
    assert emu.requests(since=since) == [], [r["path"] for r in emu.requests(since=since)]
    # listing the project still reads it whole, once
    assert len([n for n in os.listdir(m.p("QL")) if n.endswith(".json")]) == 225
    assert len(search_requests(emu, since)) == 3


def test_links_into_a_project_outside_projects_resolve_without_listing_it(fresh_emulator,
                                                                          mount):
    """projects= keeps a project off the top and never lists it, but a search's link into
    it resolves (the ticket as the search read it), and writes through it act on the
    ticket."""
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu, "projects=SEC", "cache_ttl=3600")
    assert "OPS" not in os.listdir(m.p())
    define(m, "both", "project in (SEC, OPS) AND resolution = Unresolved ORDER BY key DESC")
    ops = [n for n in os.listdir(m.p("queries", "both")) if n.startswith("OPS-")]
    assert ops and all(os.readlink(m.p("queries", "both", n)) == f"../../OPS/{n}"
                       for n in ops)
    since = emu.request_seq()
    for n in ops:
        with open(m.p("queries", "both", n)) as f:
            assert json.load(f)["key"] == n[:-5]       # it resolves
    assert emu.requests(since=since) == []               # from the results, no request
    key = ops[0][:-5]
    with open(m.p("queries", "both", ops[0]), "a") as f:
        f.write("seen from a mount of SEC only\n")
    bodies = [c["body"] for c in emu.issue(key)["fields"]["comment"]["comments"]]
    assert bodies[-1] == "seen from a mount of SEC only"
    # the project itself is never listed: not at the top, not whole
    with pytest.raises(PermissionError):
        os.listdir(m.p("OPS"))
    assert "outside projects=" in read_log(m)
    with pytest.raises(PermissionError):                 # nor written into anew
        open(m.p("OPS", "new.json"), "w")
    listings = [r for r in emu.requests(since=0) if r["path"] == "/rest/api/2/search"
                and (r.get("body") or {}).get("jql", "").startswith("project = ")]
    assert not [r for r in listings if "OPS" in r["body"]["jql"]]
