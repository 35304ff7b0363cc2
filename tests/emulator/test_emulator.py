"""Tests of the Jira emulator: /usr/bin/python3 -m pytest tests/emulator -q"""

import calendar
import concurrent.futures
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from control import Emulator, EmulatorError  # noqa: E402


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    e = Emulator.start(tmp_path_factory.mktemp("emu"), seed="demo",
                       seed_projects=["BIG:2500", "TEN:10:2"], max_results=100, state=False)
    yield e
    assert e.stop() == 0


def search(emu, jql, **kw):
    q = {"jql": jql}
    q.update(kw)
    return emu.rest("GET", "search", query=q)


def keys_of(r):
    return [i["key"] for i in r.json["issues"]]


def all_keys(emu, jql, fields="key"):
    r = search(emu, jql, maxResults=100, fields=fields)
    assert r.status == 200, r.body
    out = keys_of(r)
    while len(out) < r.json["total"]:
        r = search(emu, jql, maxResults=100, fields=fields, startAt=len(out))
        out += keys_of(r)
    return out


# ------------------------------------------------------------------ basics
def test_server_info_and_lists(emu):
    r = emu.rest("GET", "serverInfo", token=None)
    assert r.status == 200 and r.json["versionNumbers"][0] == 10
    assert r.json["baseUrl"] == emu.url
    for path in ("priority", "status", "resolution", "issuetype", "field"):
        r = emu.rest("GET", path)
        assert r.status == 200 and isinstance(r.json, list) and r.json, path
    st = {s["name"]: s["statusCategory"] for s in emu.rest("GET", "status").json}
    assert st["Open"] == {"self": emu.url + "/rest/api/2/statuscategory/2", "id": 2,
                          "key": "new", "colorName": "blue-gray", "name": "To Do"}
    assert st["In Progress"]["key"] == "indeterminate" and st["In Progress"]["colorName"] == "yellow"
    assert st["Closed"]["key"] == "done" and st["Resolved"]["id"] == 3
    fields = {f["id"]: f for f in emu.rest("GET", "field").json}
    assert fields["customfield_10020"]["name"] == "CVSS score"
    assert fields["customfield_10020"]["custom"] is True
    r = emu.rest("GET", "project")
    assert [p["key"] for p in r.json] == ["SEC", "OPS", "WEB", "BIG", "TEN"]
    r = emu.rest("GET", "project/SEC")
    assert {c["name"] for c in r.json["components"]} == {"web", "db", "infra"}
    assert r.json["issueTypes"]
    assert emu.rest("GET", "project/NOPE").status == 404
    assert emu.rest("GET", "nonexistent").status == 404


def test_demo_data_is_realistic(emu):
    sec = emu.issues("SEC")
    assert 15 <= len(sec) <= 30
    for p in ("OPS", "WEB"):
        assert 15 <= len(emu.issues(p)) <= 30
    i = emu.issue("SEC-1")
    f = i["fields"]
    assert f["summary"] == "OpenSSL 3.0.7 on web-01 (CVE-2023-0286)"
    assert f["created"][10] == "T" and f["created"].endswith(".000+0000") or \
        f["created"].endswith("+0000")
    for k in ("watches", "votes", "creator", "environment", "duedate", "fixVersions", "versions",
              "resolutiondate", "lastViewed", "timetracking", "customfield_10020",
              "customfield_10021", "comment", "issuetype", "project", "priority", "reporter"):
        assert k in f, k
    assert f["lastViewed"] is None and f["timetracking"] == {}
    assert set(f["reporter"]) >= {"self", "key", "name", "emailAddress", "avatarUrls",
                                  "displayName", "active", "deleted", "timeZone", "locale"}
    assert set(f["issuetype"]) >= {"self", "id", "description", "iconUrl", "name", "subtask",
                                   "avatarId"}
    assert set(f["project"]) >= {"self", "id", "key", "name", "projectTypeKey", "avatarUrls"}
    assert set(f["priority"]) == {"self", "iconUrl", "name", "id"}
    assert set(f["comment"]) == {"comments", "maxResults", "total", "startAt"}
    cats = {x["fields"]["status"]["statusCategory"]["key"] for x in sec}
    assert cats == {"new", "indeterminate", "done"}
    assert any(x["fields"]["comment"]["total"] for x in sec)
    assert any(x["fields"]["customfield_10021"] is None for x in sec)
    done = [x for x in sec if x["fields"]["status"]["statusCategory"]["key"] == "done"]
    assert all(x["fields"]["resolution"] and x["fields"]["resolutiondate"] for x in done)


# ------------------------------------------------------------------ paging
def test_paging_clamp_and_parallel_pages(emu):
    r = search(emu, "project = BIG", maxResults=1000, fields="summary")
    assert r.status == 200
    assert r.json["maxResults"] == 100 and r.json["total"] == 2500
    assert len(r.json["issues"]) == 100
    assert r.json["expand"] == "schema,names" and r.json["startAt"] == 0
    # default and negative maxResults -> 50
    assert search(emu, "project = BIG").json["maxResults"] == 50
    assert search(emu, "project = BIG", maxResults=-1).json["maxResults"] == 50
    r = search(emu, "project = BIG", maxResults=0)
    assert r.json["maxResults"] == 0 and r.json["issues"] == [] and r.json["total"] == 2500
    assert search(emu, "project = BIG", startAt=5000).json["issues"] == []

    def page(start):
        r = search(emu, "project = BIG ORDER BY key ASC", startAt=start, maxResults=1000,
                   fields="summary,updated,comment")
        assert r.status == 200
        return keys_of(r)
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        pages = list(ex.map(page, range(0, 2500, 100)))
    assert time.time() - t0 < 10
    keys = [k for p in pages for k in p]
    assert len(keys) == 2500 and len(set(keys)) == 2500
    assert keys[:3] == ["BIG-1", "BIG-2", "BIG-3"] and keys[-1] == "BIG-2500"
    # clamp change through the control API
    emu.config(max_results=1000)
    try:
        assert search(emu, "project = BIG", maxResults=1000).json["maxResults"] == 1000
    finally:
        emu.config(max_results=100)
    # POST search
    r = emu.rest("POST", "search", {"jql": "project = BIG", "startAt": 10, "maxResults": 500,
                                    "fields": ["summary", "status"]})
    assert r.status == 200 and r.json["maxResults"] == 100 and r.json["startAt"] == 10
    assert set(r.json["issues"][0]["fields"]) == {"summary", "status"}


def test_fields_selection(emu):
    def fields(**kw):
        r = search(emu, "key = SEC-2", **kw)
        assert r.status == 200, r.body
        return set(r.json["issues"][0]["fields"])
    nav = fields()
    assert "summary" in nav and "comment" not in nav and "customfield_10020" in nav
    assert "comment" in fields(fields="*all")
    assert "comment" not in fields(fields="*all,-comment")
    no_desc = fields(fields="-description")
    assert "description" not in no_desc and "summary" in no_desc and "comment" not in no_desc
    assert fields(fields="summary,comment") == {"summary", "comment"}
    assert fields(fields=["summary", "status"]) == {"summary", "status"}  # repeated params
    assert fields(fields="*navigable,comment") == nav | {"comment"}
    r = search(emu, "project = SEC", fields="key", maxResults=3)
    assert [set(i) for i in r.json["issues"]] == [{"expand", "id", "self", "key"}] * 3
    # GET issue default is *all
    r = emu.rest("GET", "issue/SEC-2")
    assert "comment" in r.json["fields"] and r.json["key"] == "SEC-2"
    assert set(r.json) >= {"expand", "id", "self", "key", "fields"}
    r = emu.rest("GET", "issue/SEC-2", query={"fields": "summary", "expand": "names,schema"})
    assert set(r.json["fields"]) == {"summary"} and r.json["names"] == {"summary": "Summary"}
    assert emu.rest("GET", "issue/SEC-9999").json == {"errorMessages": ["Issue Does Not Exist"],
                                                     "errors": {}}
    # by id and lower-case key
    i = emu.rest("GET", "issue/SEC-2").json
    assert emu.rest("GET", "issue/" + i["id"]).json["key"] == "SEC-2"
    assert emu.rest("GET", "issue/sec-2").json["key"] == "SEC-2"


# ------------------------------------------------------------------ JQL
def test_jql_subset(emu):
    sec = emu.issues("SEC")
    ops = emu.issues("OPS")
    f = lambda i: i["fields"]

    def expect(jql, pred, pool=None):
        pool = pool if pool is not None else sec + ops
        want = {i["key"] for i in pool if pred(i)}
        got = set(all_keys(emu, jql))
        assert got == want, jql
        return got

    expect("project = SEC", lambda i: True, sec)
    expect("project in (SEC, OPS)", lambda i: True)
    expect("project = sec", lambda i: True, sec)
    expect("key = SEC-3", lambda i: i["key"] == "SEC-3")
    expect("issuekey in (SEC-3, OPS-2)", lambda i: i["key"] in ("SEC-3", "OPS-2"))
    expect('project = SEC AND status = "In Progress"',
           lambda i: f(i)["status"]["name"] == "In Progress", sec)
    expect("project = SEC AND status in (Open, Reopened)",
           lambda i: f(i)["status"]["name"] in ("Open", "Reopened"), sec)
    expect("project = SEC AND statusCategory = Done",
           lambda i: f(i)["status"]["statusCategory"]["key"] == "done", sec)
    expect("project = SEC AND statusCategory != done",
           lambda i: f(i)["status"]["statusCategory"]["key"] != "done", sec)
    expect("project = SEC AND resolution is EMPTY", lambda i: f(i)["resolution"] is None, sec)
    expect("project = SEC AND resolution IS NOT EMPTY", lambda i: f(i)["resolution"] is not None,
           sec)
    expect("project = SEC AND resolution = Unresolved", lambda i: f(i)["resolution"] is None, sec)
    expect('project in (SEC, OPS) AND summary ~ "OpenSSL"', lambda i: "openssl" in f(i)["summary"].lower())
    expect('project = SEC AND text ~ "staging"',
           lambda i: "staging" in json.dumps([f(i)["summary"], f(i)["description"],
                                              f(i)["environment"],
                                              [c["body"] for c in f(i)["comment"]["comments"]]
                                              ]).lower(), sec)
    expect("labels = critical AND project in (SEC, OPS)", lambda i: "critical" in f(i)["labels"])
    expect("project = SEC AND assignee = jdoe",
           lambda i: (f(i)["assignee"] or {}).get("name") == "jdoe", sec)
    expect("project = SEC AND assignee is EMPTY", lambda i: f(i)["assignee"] is None, sec)
    expect("project = SEC AND assignee = currentUser()",
           lambda i: (f(i)["assignee"] or {}).get("name") == "alice", sec)
    expect("project = SEC AND assignee != jdoe",
           lambda i: f(i)["assignee"] is not None and f(i)["assignee"]["name"] != "jdoe", sec)
    expect("project = SEC AND NOT (status = Open OR status = Closed)",
           lambda i: f(i)["status"]["name"] not in ("Open", "Closed"), sec)
    expect("project = SEC AND priority = Highest AND component = web",
           lambda i: f(i)["priority"]["name"] == "Highest"
           and "web" in [c["name"] for c in f(i)["components"]], sec)
    expect("project = SEC AND cf[10020] >= 9", lambda i: (f(i)["customfield_10020"] or 0) >= 9,
           sec)
    expect('project = SEC AND "CVSS score" < 5',
           lambda i: f(i)["customfield_10020"] is not None and f(i)["customfield_10020"] < 5, sec)
    expect("project = SEC AND type = Bug", lambda i: True, sec)
    expect("(project = SEC OR project = OPS) AND issuetype = Task",
           lambda i: f(i)["issuetype"]["name"] == "Task")
    expect("project = SEC && status = Open || project = OPS && status = Closed",
           lambda i: (i["key"].startswith("SEC") and f(i)["status"]["name"] == "Open")
           or (i["key"].startswith("OPS") and f(i)["status"]["name"] == "Closed"))


def test_jql_dates_and_order(emu):
    sec = emu.issues("SEC")
    upd = sorted(i["fields"]["updated"] for i in sec)
    mid = upd[len(upd) // 2]          # 2026-11-02T09:14:03.000+0000
    jdate = mid[:10].replace("-", "/") + " " + mid[11:16]
    minute = mid[:16].replace("T", " ")

    def cnt(jql):
        r = search(emu, jql, maxResults=0)
        assert r.status == 200, (jql, r.body)
        return r.json["total"]
    ge = sum(1 for u in upd if u[:16].replace("T", " ") >= minute)
    assert cnt('project = SEC AND updated >= "%s"' % jdate) == ge
    assert cnt('project = SEC AND updated >= "%s"' % minute) == ge
    assert cnt('project = SEC AND updated < "%s"' % minute) == len(upd) - ge
    assert cnt("project = SEC AND updated >= %s" % mid[:10]) == \
        sum(1 for u in upd if u[:10] >= mid[:10])
    assert cnt('project = SEC AND updated > "-5m"') == 0
    assert cnt('project = SEC AND updated <= "-1m"') == len(upd)
    assert cnt("project = SEC AND created >= -1000d") == len(upd)
    assert cnt("project = SEC AND created > -2h") == 0
    assert cnt("project = SEC AND created < now()") == len(upd)
    # ORDER BY
    r = search(emu, "project = BIG ORDER BY key", maxResults=12, fields="key")
    assert keys_of(r)[:11] == ["BIG-%d" % n for n in range(1, 12)]
    r = search(emu, "project = BIG ORDER BY key DESC", maxResults=2)
    assert keys_of(r) == ["BIG-2500", "BIG-2499"]
    r = search(emu, "project in (TEN, BIG) ORDER BY key ASC", maxResults=100)
    assert keys_of(r)[0] == "BIG-1"
    r = search(emu, "project = SEC ORDER BY updated DESC, key ASC", maxResults=100,
               fields="updated")
    ups = [i["fields"]["updated"] for i in r.json["issues"]]
    assert ups == sorted(ups, reverse=True)
    r = search(emu, "project = SEC ORDER BY priority DESC", maxResults=100, fields="priority")
    assert r.json["issues"][0]["fields"]["priority"]["name"] == "Highest"
    # default order is key DESC
    r = search(emu, "project = TEN", maxResults=3)
    assert keys_of(r) == ["TEN-10", "TEN-9", "TEN-8"]
    # generated projects: every DONE_EVERY-th closed with resolution Done
    r = search(emu, "project = TEN AND status = Closed ORDER BY key", fields="resolution")
    assert keys_of(r) == ["TEN-%d" % n for n in (2, 4, 6, 8, 10)]
    assert {i["fields"]["resolution"]["name"] for i in r.json["issues"]} == {"Done"}
    assert cnt("project = BIG AND statusCategory = Done") == 625


def test_jql_errors(emu):
    def e(jql, **kw):
        r = search(emu, jql, **kw)
        assert r.status == 400, (jql, r.body)
        assert r.json["errors"] == {}
        return r.json["errorMessages"]
    assert e("project = ")[0].startswith("Error in the JQL Query: ")
    assert e("project = SEC AND (status = Open")[0].startswith("Error in the JQL Query: ")
    assert e('summary ~ "unterminated')[0].startswith("Error in the JQL Query: ")
    assert e("project = SEC ORDER key")[0].startswith("Error in the JQL Query: ")
    assert e("project SEC")[0].startswith("Error in the JQL Query: ")
    assert e("nosuchfield = 1") == [
        "Field 'nosuchfield' does not exist or you do not have permission to view it."]
    assert e("project = NOPE") == ["The value 'NOPE' does not exist for the field 'project'."]
    assert e("project in (SEC, NOPE)") == [
        "The value 'NOPE' does not exist for the field 'project'."]
    assert e("status = Bogus") == ["The value 'Bogus' does not exist for the field 'status'."]
    assert e("key = SEC-99999") == [
        "An issue with key 'SEC-99999' does not exist for field 'key'."]
    assert "not supported" in e("status ~ Open")[0]
    assert "Date value" in e('updated > "yesterday"')[0]
    assert "Unable to find JQL function" in e("assignee = whoever()")[0]
    # validateQuery=false turns value errors into warnings
    r = search(emu, "project in (SEC, NOPE)", validateQuery="warn", maxResults=0)
    assert r.status == 200 and r.json["total"] == len(emu.issues("SEC"))
    assert r.json["warningMessages"]
    # POST search errors too
    r = emu.rest("POST", "search", {"jql": "project = NOPE"})
    assert r.status == 400
    r = emu.rest("POST", "search", {"jql": "project in (SEC, NOPE)", "validateQuery": False,
                                    "maxResults": 0})
    assert r.status == 200 and r.json["warningMessages"]
    # validateQuery is a Boolean in Server/DC's SearchRequestBean: Cloud's "warn" is refused
    r = emu.rest("POST", "search", {"jql": "project = SEC", "validateQuery": "warn"})
    assert r.status == 400 and "java.lang.Boolean" in r.json["errorMessages"][0]


# ------------------------------------------------------------------ auth
def test_auth(emu):
    emu.reset_captcha()
    r = emu.rest("GET", "myself")
    assert r.status == 200 and r.json["name"] == "alice" and r.header("X-AUSERNAME") == "alice"
    assert emu.rest("GET", "myself", token="bot-pat").json["name"] == "nucleus-bot"
    # wrong PAT: anonymous, not 401 (except myself)
    r = emu.rest("GET", "project", token="wrong")
    assert r.status == 200 and r.json == []
    assert r.header("X-AUSERNAME") == "anonymous"
    assert r.header("X-Seraph-LoginReason") == "AUTHENTICATED_FAILED"
    r = emu.rest("GET", "myself", token="wrong")
    assert r.status == 401 and r.header("X-Seraph-LoginReason") == "AUTHENTICATED_FAILED"
    r = emu.rest("GET", "myself", token=None)
    assert r.status == 401 and r.header("X-AUSERNAME") == "anonymous"
    assert search(emu, "project = SEC").status == 200
    r = emu.rest("GET", "search", token="wrong", query={"jql": "project = SEC"})
    assert r.status == 400 and "does not exist for the field 'project'" in r.json["errorMessages"][0]
    assert emu.rest("GET", "issue/SEC-1", token=None).status == 404
    assert emu.rest("POST", "issue/SEC-1/comment", {"body": "x"}, token=None).status == 401
    # expiring PATs
    tok = emu.new_pat("bob", expires_in=0.5)
    assert emu.rest("GET", "myself", token=tok).json["name"] == "bob"
    time.sleep(0.7)
    r = emu.rest("GET", "myself", token=tok)
    assert r.status == 401 and r.header("X-Seraph-LoginReason") == "AUTHENTICATED_FAILED"
    # Basic
    r = emu.rest("GET", "myself", basic=("bob", "bob-pass"))
    assert r.status == 200 and r.json["name"] == "bob"
    for _ in range(3):
        r = emu.rest("GET", "myself", basic=("bob", "nope"))
        assert r.status == 401 and r.header("X-Seraph-LoginReason") == "AUTHENTICATED_FAILED"
    r = emu.rest("GET", "myself", basic=("bob", "bob-pass"))
    assert r.status == 403
    assert r.header("X-Seraph-LoginReason") == "AUTHENTICATION_DENIED"
    assert r.header("X-Authentication-Denied-Reason").startswith("CAPTCHA_CHALLENGE; login-url=")
    assert emu.rest("GET", "myself", basic=("alice", "alice-pass")).status == 200
    emu.reset_captcha()
    assert emu.rest("GET", "myself", basic=("bob", "bob-pass")).status == 200
    emu.config(basic_auth=False)
    try:
        r = emu.rest("GET", "myself", basic=("bob", "bob-pass"))
        assert r.status == 401 and r.header("X-Seraph-LoginReason") == "AUTHENTICATION_DENIED"
        assert r.header("X-Authentication-Denied-Reason") is None
        assert r.json == {"errorMessages": ["Basic authentication is disabled"], "errors": {}}
        assert emu.rest("GET", "myself").status == 200
    finally:
        emu.config(basic_auth=True)
    # restricted project
    emu.create_project("PRIV", "Private", browse=["bob"])
    emu.seed("PRIV", 3)
    assert "PRIV" not in [p["key"] for p in emu.rest("GET", "project").json]
    assert "PRIV" in [p["key"] for p in emu.rest("GET", "project", token="bob-pat").json]
    assert emu.rest("GET", "issue/PRIV-1").status == 404
    assert search(emu, "project = PRIV").status == 400
    # the log never holds credentials
    log = json.dumps(emu.requests())
    for secret in ("alice-pat", "bob-pass", "Basic ", "Bearer", tok):
        assert secret not in log


def test_xsrf_and_media_type(emu):
    r = emu.rest("POST", "issue/SEC-1/comment", b"body=x",
                 content_type="application/x-www-form-urlencoded")
    assert r.status == 403 and r.body == b"XSRF check failed"
    r = emu.rest("POST", "issue/SEC-1/comment", b"<x/>", content_type="application/xml")
    assert r.status == 415
    r = emu.rest("POST", "issue/SEC-1/comment", b"{not json")
    assert r.status == 400 and r.json["errorMessages"]


# ------------------------------------------------------------------ writes
def test_create_update_comment_transition(emu):
    r = emu.rest("POST", "issue", {"fields": {"project": {"key": "OPS"},
                                              "issuetype": {"name": "Task"}}})
    assert r.status == 400
    assert r.json == {"errorMessages": [],
                      "errors": {"summary": "You must specify a summary of the issue."}}
    r = emu.rest("POST", "issue", {"fields": {"project": {"key": "OPS"}, "summary": "x",
                                              "issuetype": {"name": "Nope"}}})
    assert r.status == 400 and "issuetype" in r.json["errors"]
    r = emu.rest("POST", "issue", {"fields": {"project": {"key": "OPS"}, "summary": "x",
                                              "issuetype": {"name": "Task"}, "status": "Open"}})
    assert r.status == 400 and "status" in r.json["errors"]
    r = emu.rest("POST", "issue", {"fields": {"project": {"key": "OPS"}, "summary": "x",
                                              "issuetype": {"name": "Task"},
                                              "components": [{"name": "nope"}]}})
    assert r.status == 400 and "components" in r.json["errors"]
    ops = emu.rest("GET", "project/OPS").json
    body = {"fields": {"project": {"id": ops["id"]}, "summary": "Rotate keys on db-01",
                       "issuetype": {"id": "3"}, "priority": {"name": "High"},
                       "components": [{"name": "db"}], "labels": ["ops", "keys"],
                       "assignee": {"name": "jdoe"}, "description": "Do it.\nNow.",
                       "customfield_10020": 5.5, "customfield_10021": "db-01",
                       "customfield_10022": {"value": "Manual"}}}
    r = emu.rest("POST", "issue", body)
    assert r.status == 201, r.body
    key = r.json["key"]
    assert set(r.json) == {"id", "key", "self"} and key.startswith("OPS-")
    i = emu.rest("GET", "issue/" + key).json["fields"]
    assert i["status"]["name"] == "Open" and i["resolution"] is None
    assert i["labels"] == ["keys", "ops"] and i["components"][0]["name"] == "db"
    assert i["assignee"]["name"] == "jdoe" and i["reporter"]["name"] == "alice"
    assert i["creator"]["name"] == "alice" and i["priority"]["name"] == "High"
    assert i["customfield_10022"]["value"] == "Manual" and i["customfield_10020"] == 5.5
    assert i["created"] == i["updated"]
    updated0 = i["updated"]
    time.sleep(0.01)
    # edit: fields + update
    r = emu.rest("PUT", "issue/" + key, {"fields": {"summary": "Rotate keys on db-02"},
                                         "update": {"labels": [{"add": "urgent"},
                                                               {"remove": "keys"}],
                                                    "components": [{"add": {"name": "infra"}}],
                                                    "comment": [{"add": {"body": "via edit"}}]}})
    assert r.status == 204 and r.body == b""
    i = emu.rest("GET", "issue/" + key).json["fields"]
    assert i["summary"] == "Rotate keys on db-02" and i["labels"] == ["ops", "urgent"]
    assert [c["name"] for c in i["components"]] == ["db", "infra"]
    assert i["comment"]["comments"][-1]["body"] == "via edit"
    assert i["updated"] > updated0
    r = emu.rest("PUT", "issue/" + key, {"fields": {"resolution": {"name": "Done"}}})
    assert r.status == 400 and "resolution" in r.json["errors"]
    r = emu.rest("PUT", "issue/" + key, {"fields": {"summary": "a\nb"}})
    assert r.status == 400 and "summary" in r.json["errors"]
    # comments
    r = emu.rest("POST", "issue/%s/comment" % key, {"body": "Patched on staging"})
    assert r.status == 201
    assert set(r.json) >= {"self", "id", "author", "body", "updateAuthor", "created", "updated"}
    assert r.json["author"]["name"] == "alice"
    r = emu.rest("POST", "issue/%s/comment" % key,
                 {"body": "restricted", "visibility": {"type": "role", "value": "Developers"}})
    assert r.status == 201 and r.json["visibility"] == {"type": "role", "value": "Developers"}
    r = emu.rest("POST", "issue/%s/comment" % key, {"body": "x" * 32768})
    assert r.status == 400 and r.json["errors"]["comment"].startswith("The entered text is too long")
    assert emu.rest("POST", "issue/%s/comment" % key, {"body": "x" * 32767}).status == 201
    r = emu.rest("GET", "issue/%s/comment" % key)
    assert r.json["total"] == 4 and len(r.json["comments"]) == 4
    # transitions
    r = emu.rest("GET", "issue/%s/transitions" % key, query={"expand": "transitions.fields"})
    ts = {t["name"]: t for t in r.json["transitions"]}
    assert set(ts) == {"Start Progress", "Resolve Issue", "Close Issue"}
    res = ts["Resolve Issue"]["fields"]["resolution"]
    assert res["required"] is True and res["schema"]["type"] == "resolution"
    assert {"Done", "Fixed"} <= {v["name"] for v in res["allowedValues"]}
    assert res["name"] == "Resolution" and res["operations"] == ["set"]
    assert ts["Resolve Issue"]["to"]["statusCategory"]["key"] == "done"
    assert ts["Start Progress"]["fields"] == {}
    r = emu.rest("GET", "issue/%s/transitions" % key)
    assert "fields" not in r.json["transitions"][0]
    r = emu.rest("POST", "issue/%s/transitions" % key, {"transition": {"id": "5"}})
    assert r.status == 400
    assert r.json == {"errorMessages": [], "errors": {"resolution": "Resolution is required."}}
    r = emu.rest("POST", "issue/%s/transitions" % key, {"transition": {"id": "3"}})
    assert r.status == 400 and r.json["errorMessages"]       # Reopen not available from Open
    r = emu.rest("POST", "issue/%s/transitions" % key, {"transition": {"id": "999"}})
    assert r.status == 400
    r = emu.rest("POST", "issue/%s/transitions" % key, {"transition": {"id": "4"}})
    assert r.status == 204
    assert emu.issue(key)["fields"]["status"]["name"] == "In Progress"
    r = emu.rest("POST", "issue/%s/transitions" % key,
                 {"transition": {"id": "2"}, "fields": {"resolution": {"name": "Won't Fix"}},
                  "update": {"comment": [{"add": {"body": "closing"}}]}})
    assert r.status == 204, r.body
    f = emu.issue(key)["fields"]
    assert f["status"]["name"] == "Closed" and f["resolution"]["name"] == "Won't Fix"
    assert f["resolutiondate"] and f["comment"]["comments"][-1]["body"] == "closing"
    ts = emu.rest("GET", "issue/%s/transitions" % key).json["transitions"]
    assert [t["name"] for t in ts] == ["Reopen Issue"]
    assert emu.rest("POST", "issue/%s/transitions" % key, {"transition": {"id": ts[0]["id"]}}
                    ).status == 204
    f = emu.issue(key)["fields"]
    assert f["status"]["name"] == "Reopened" and f["resolution"] is None
    assert f["resolutiondate"] is None
    assert search(emu, "key = %s AND statusCategory != Done" % key).json["total"] == 1
    # resolution by id
    r = emu.rest("POST", "issue/%s/transitions" % key,
                 {"transition": {"id": 5}, "fields": {"resolution": {"id": "10000"}}})
    assert r.status == 204 and emu.issue(key)["fields"]["resolution"]["name"] == "Done"
    # ignore_transitions: 204 but no move
    emu.config(ignore_transitions=True)
    try:
        assert emu.rest("POST", "issue/%s/transitions" % key, {"transition": {"id": "701"}}
                        ).status == 204
        assert emu.issue(key)["fields"]["status"]["name"] == "Resolved"
    finally:
        emu.config(ignore_transitions=False)


def test_summary_over_255_characters(emu):
    r = _create(emu, "s" * 256)
    assert r.status == 400
    assert r.json == {"errorMessages": [],
                      "errors": {"summary": "Summary must be less than 255 characters."}}
    assert _create(emu, "s" * 255).status == 201
    r = emu.rest("PUT", "issue/OPS-1", {"fields": {"summary": "s" * 256}})
    assert r.status == 400 and r.json["errors"] == {
        "summary": "Summary must be less than 255 characters."}


def test_comment_pages_and_search_cap(emu):
    emu.seed("CMT", 2, comments=7)
    all7 = emu.rest("GET", "issue/CMT-1/comment").json        # no maxResults: every comment
    assert set(all7) == {"startAt", "maxResults", "total", "comments"}
    assert (all7["startAt"], all7["maxResults"], all7["total"]) == (0, 7, 7)
    ids = [c["id"] for c in all7["comments"]]
    assert len(set(ids)) == 7
    assert [c["created"] for c in all7["comments"]] == sorted(c["created"]
                                                              for c in all7["comments"])

    def page(**q):
        r = emu.rest("GET", "issue/CMT-1/comment", query={k: str(v) for k, v in q.items()})
        assert r.status == 200, r.body
        return r.json
    p = page(startAt=2, maxResults=3)
    assert (p["startAt"], p["maxResults"], p["total"]) == (2, 3, 7)
    assert [c["id"] for c in p["comments"]] == ids[2:5]
    assert [c["id"] for c in page(startAt=5, maxResults=50)["comments"]] == ids[5:]
    assert page(startAt=9)["comments"] == [] and page(maxResults=0)["comments"] == []
    assert [c["id"] for c in page(orderBy="-created", maxResults=2)["comments"]] == \
        ids[::-1][:2]
    assert [c["id"] for c in page(orderBy="-created", startAt=5)["comments"]] == ids[::-1][5:]
    assert [c["id"] for c in page(orderBy="created")["comments"]] == ids
    assert [c["id"] for c in page(orderBy="+created")["comments"]] == ids
    assert emu.rest("GET", "issue/CMT-1/comment", query={"maxResults": "x"}).status == 400
    # search answers: uncapped by default (maxResults = total) ...
    r = search(emu, "key = CMT-1", fields="comment")
    c = r.json["issues"][0]["fields"]["comment"]
    assert (c["maxResults"], c["total"], c["startAt"], len(c["comments"])) == (7, 7, 0, 7)
    # ... and capped to the oldest N with search_comments_max (GET and POST search)
    emu.config(search_comments_max=3)
    try:
        for r in (search(emu, "project = CMT", fields="comment", expand="renderedFields"),
                  emu.rest("POST", "search", {"jql": "project = CMT", "fields": ["comment"]})):
            assert r.status == 200 and len(r.json["issues"]) == 2
            for i in r.json["issues"]:
                c = i["fields"]["comment"]
                assert (c["maxResults"], c["total"], c["startAt"]) == (3, 7, 0)
                assert len(c["comments"]) == 3
            c = [i for i in r.json["issues"] if i["key"] == "CMT-1"][0]["fields"]["comment"]
            assert [x["id"] for x in c["comments"]] == ids[:3]
        rendered = search(emu, "key = CMT-1", fields="comment", expand="renderedFields"
                          ).json["issues"][0]["renderedFields"]["comment"]
        assert rendered["maxResults"] == 3 and len(rendered["comments"]) == 3
        # GET issue and the comment resource stay whole
        c = emu.rest("GET", "issue/CMT-1").json["fields"]["comment"]
        assert (c["maxResults"], c["total"], len(c["comments"])) == (7, 7, 7)
        assert page()["total"] == 7 and len(page()["comments"]) == 7
        emu.config(search_comments_max=0)
        c = search(emu, "key = CMT-1", fields="comment").json["issues"][0]["fields"]["comment"]
        assert (c["maxResults"], c["total"], c["comments"]) == (0, 7, [])
        for bad in (-1, "x", True):
            with pytest.raises(EmulatorError):
                emu.config(search_comments_max=bad)
    finally:
        emu.config(search_comments_max=None)
    assert emu.config()["search_comments_max"] is None


def test_jql_recent_creates_of_the_caller(emu):
    """What a client runs to find the tickets it created a moment ago, on Jira's clock."""
    mine = [_create(emu, "recent %d" % n, project="SEC").json["key"] for n in range(3)]
    theirs = emu.rest("POST", "issue", {"fields": {"project": {"key": "SEC"}, "summary": "bob's",
                                                   "issuetype": {"name": "Bug"}}},
                      token="bob-pat").json["key"]
    old = _create(emu, "twenty minutes ago", project="SEC").json["key"]
    t_old = time.time() - 20 * 60
    emu.set_issue(old, fields={"created": time.strftime("%Y-%m-%dT%H:%M:%S.000+0000",
                                                        time.gmtime(t_old))})
    jql = ("project = SEC AND creator = currentUser() AND created >= -15m "
           "ORDER BY created ASC")
    now = time.time()
    for r in (search(emu, jql, fields="created,creator", maxResults=100),
              emu.rest("POST", "search", {"jql": jql, "fields": ["created", "creator"],
                                          "maxResults": 100})):
        assert r.status == 200, r.body
        got = keys_of(r)
        assert got[-3:] == mine and theirs not in got and old not in got
        created = [i["fields"]["created"] for i in r.json["issues"]]
        assert created == sorted(created)
        assert all(i["fields"]["creator"]["name"] == "alice" for i in r.json["issues"])
        assert all(now - 15 * 60 - 5 <= calendar.timegm(time.strptime(c[:19],
                                                                      "%Y-%m-%dT%H:%M:%S"))
                   <= now + 5 for c in created)
    # absolute "yyyy/MM/dd HH:mm" (UTC here), either side of the old ticket
    before_old = time.strftime("%Y/%m/%d %H:%M", time.gmtime(t_old - 60))
    after_old = time.strftime("%Y/%m/%d %H:%M", time.gmtime(t_old + 60))
    got = keys_of(search(emu, 'project = SEC AND creator = currentUser() AND created >= "%s" '
                              'ORDER BY created ASC' % before_old, maxResults=100))
    assert got.index(old) < got.index(mine[0]) and got[-3:] == mine
    got = keys_of(search(emu, 'project = SEC AND creator = currentUser() AND created >= "%s"'
                              % after_old, maxResults=100))
    assert old not in got and set(mine) <= set(got)
    got = keys_of(search(emu, 'project = SEC AND created < "%s"' % after_old, maxResults=100))
    assert old in got and not set(mine) & set(got)


def test_createmeta(emu):
    r = emu.rest("GET", "issue/createmeta/SEC/issuetypes")
    assert r.status == 200
    assert set(r.json) == {"maxResults", "startAt", "total", "isLast", "values"}
    names = {t["name"]: t for t in r.json["values"]}
    assert {"Bug", "Task", "Story"} <= set(names) and r.json["isLast"] is True
    r = emu.rest("GET", "issue/createmeta/SEC/issuetypes", query={"maxResults": 2})
    assert len(r.json["values"]) == 2 and r.json["isLast"] is False
    r = emu.rest("GET", "issue/createmeta/SEC/issuetypes/" + names["Bug"]["id"])
    assert r.status == 200
    fm = {f["fieldId"]: f for f in r.json["values"]}
    assert fm["summary"]["required"] is True and fm["summary"]["schema"]["type"] == "string"
    assert fm["description"]["required"] is False
    assert {v["name"] for v in fm["components"]["allowedValues"]} == {"web", "db", "infra"}
    assert {v["name"] for v in fm["priority"]["allowedValues"]} >= {"High", "Low"}
    assert fm["issuetype"]["allowedValues"][0]["name"] == "Bug"
    assert fm["labels"]["operations"] == ["add", "set", "remove"]
    assert fm["customfield_10020"]["name"] == "CVSS score"
    assert emu.rest("GET", "issue/createmeta/SEC/issuetypes/424242").status == 404
    assert emu.rest("GET", "issue/createmeta/NOPE/issuetypes").status == 404
    assert emu.rest("GET", "issue/createmeta", query={"projectKeys": "SEC"}).status == 404


def _no_field(name):
    return {"errorMessages": ["Field '%s' does not exist or you do not have permission to view "
                              "it." % name], "errors": {}}


def test_properties_and_property_jql(emu):
    marker = {"id": "3f1c-77", "host": "scanner-1"}
    r = emu.rest("POST", "issue", {"fields": {"project": {"key": "WEB"}, "summary": "with marker",
                                              "issuetype": {"name": "Bug"}},
                                   "properties": [{"key": "jirafs.create", "value": marker}]})
    assert r.status == 201, r.body
    key = r.json["key"]
    r = emu.rest("GET", "issue/%s/properties" % key)
    assert r.json == {"keys": [{"self": "%s/rest/api/2/issue/%s/properties/jirafs.create"
                                        % (emu.url, emu.issue(key)["id"]),
                                "key": "jirafs.create"}]}
    r = emu.rest("GET", "issue/%s/properties/jirafs.create" % key)
    assert r.json == {"key": "jirafs.create", "value": marker}
    r = emu.rest("GET", "issue/" + key, query={"properties": "jirafs.create"})
    assert r.json["properties"] == {"jirafs.create": marker}
    assert emu.rest("GET", "issue/" + key, query={"properties": "*all"}
                    ).json["properties"] == {"jirafs.create": marker}
    assert "properties" not in emu.rest("GET", "issue/" + key).json
    # stock Jira: no app indexes the property, so JQL knows no such field (GET, POST, ORDER BY)
    assert emu.config()["indexed_properties"] == []
    jql = 'issue.property[jirafs.create].id = "3f1c-77"'
    for r in (search(emu, jql), emu.rest("POST", "search", {"jql": jql}),
              search(emu, jql, validateQuery="false")):
        assert r.status == 400 and r.json == _no_field("issue.property[jirafs.create].id")
    r = search(emu, "project = WEB ORDER BY issue.property[jirafs.create].id")
    assert r.status == 400 and r.json == _no_field("issue.property[jirafs.create].id")
    r = search(emu, 'project = WEB AND ISSUE.Property[jirafs.create] IS NOT EMPTY')
    assert r.json == _no_field("ISSUE.Property[jirafs.create]")       # named as written
    # search never returns properties (DC's search has no such parameter)
    r = search(emu, "key = " + key, properties="jirafs.create")
    assert r.status == 200 and "properties" not in r.json["issues"][0]
    # and POST refuses the member, as Jackson does for SearchRequestBean
    r = emu.rest("POST", "search", {"jql": "key = " + key, "properties": ["*all"]})
    assert r.status == 400 and "Unrecognized field \"properties\"" in r.json["errorMessages"][0]
    before = emu.issue(key)["fields"]["updated"]
    time.sleep(0.01)
    assert emu.rest("PUT", "issue/%s/properties/p2" % key, {"n": 1}).status == 201
    assert emu.rest("PUT", "issue/%s/properties/p2" % key, {"n": 2}).status == 200
    assert emu.rest("PUT", "issue/%s/properties/p3" % key, "plain").status == 201
    assert emu.rest("GET", "issue/%s/properties/p2" % key).json["value"] == {"n": 2}
    assert emu.issue(key)["fields"]["updated"] > before
    # as if an app indexed these keys
    assert emu.config(indexed_properties=["jirafs.create", "p2", "p3"]
                      )["indexed_properties"] == ["jirafs.create", "p2", "p3"]
    try:
        assert search(emu, jql).json["total"] == 1
        assert keys_of(search(emu, "project = WEB AND " + jql)) == [key]
        assert emu.rest("POST", "search", {"jql": jql}).json["total"] == 1
        assert search(emu, 'issue.property[jirafs.create].id = "other"').json["total"] == 0
        assert search(emu, "project = WEB AND issue.property[jirafs.create].id IS NOT EMPTY"
                      ).json["total"] == 1
        assert search(emu, "issue.property[p2].n = 2").json["total"] == 1
        assert search(emu, "issue.property[p3] = plain").json["total"] == 1
        r = search(emu, "issue.property[p4].n = 2")
        assert r.status == 400 and r.json == _no_field("issue.property[p4].n")
        assert emu.rest("DELETE", "issue/%s/properties/p2" % key).status == 204
        assert search(emu, "issue.property[p2].n = 2").json["total"] == 0
    finally:
        emu.config(indexed_properties=[])
    assert emu.rest("DELETE", "issue/%s/properties/p2" % key).status == 404
    assert emu.rest("GET", "issue/%s/properties/p2" % key).status == 404
    assert emu.config(indexed_properties="one")["indexed_properties"] == ["one"]
    emu.config(indexed_properties=[])
    for bad in (5, [1], [""], {"a": 1}):
        with pytest.raises(EmulatorError):
            emu.config(indexed_properties=bad)
    with pytest.raises(EmulatorError):
        emu.config(property_search=True)          # gone: indexed_properties replaces it


def test_hostile_raw_fields_and_control(emu):
    emu.set_issue("WEB-3", fields={"summary": "\u202e evil \x00 \ud83d\ude00 " + "y" * 300,
                                       "customfield_99999": {"weird": [1, None, "x"]},
                                       "labels": ["a b", ""]},
                      comments=[{"author": "bob", "body": "raw comment"}])
    f = emu.rest("GET", "issue/WEB-3").json["fields"]
    assert f["summary"].startswith("\u202e evil \x00")
    assert f["customfield_99999"] == {"weird": [1, None, "x"]}
    assert f["labels"] == ["a b", ""]
    assert [c["body"] for c in f["comment"]["comments"]] == ["raw comment"]
    assert search(emu, 'summary ~ "evil"').json["total"] == 1
    # a normal edit of the field replaces the raw value
    assert emu.rest("PUT", "issue/WEB-3", {"fields": {"summary": "sane"}}).status == 204
    assert emu.rest("GET", "issue/WEB-3").json["fields"]["summary"] == "sane"
    st = emu.state()
    assert st["issues"] > 2500 and st["projects"] >= 5
    # delete and move
    emu.seed("TMP", 3)
    emu.delete_issue("TMP-1")
    assert emu.issue("TMP-1") is None
    new = emu.move_issue("TMP-2", "OPS")
    assert new.startswith("OPS-") and emu.rest("GET", "issue/TMP-2").json["key"] == new


# ------------------------------------------------------------------ faults
def _raw_get(emu, path, timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=timeout)
    c.request("GET", path, headers={"Authorization": "Bearer alice-pat"})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


def test_faults(emu):
    emu.clear_faults()
    m = emu.mark()
    p = "/rest/api/2/serverInfo"
    emu.add_faults([{"path": p, "action": "status", "status": 503, "retry_after": 7,
                     "count": 1, "skip": 1}])
    assert emu.rest("GET", p).status == 200            # skipped
    r = emu.rest("GET", p)
    assert r.status == 503 and r.header("Retry-After") == "7"
    assert r.header("Content-Type").startswith("application/json") and r.json["errorMessages"]
    assert emu.rest("GET", p).status == 200            # count used up
    assert emu.faults()[0]["applied"] == 1 and emu.faults()[0]["remaining"] == 0
    emu.clear_faults()
    emu.add_faults({"method": "GET", "path": p, "action": "status", "status": 429, "html": True,
                    "count": 1})
    assert emu.rest("POST", p, {}).status == 405     # method does not match
    r = emu.rest("GET", p)
    assert r.status == 429 and r.header("Content-Type").startswith("text/html")
    emu.add_faults({"path": p, "action": "html", "count": 1})
    r = emu.rest("GET", p)
    assert r.status == 200 and r.header("Content-Type").startswith("text/html")
    assert b"<html>" in r.body
    # control API is never faulted
    emu.add_faults({"path": None, "action": "status", "status": 500, "count": 1})
    assert emu.state()["issues"]
    emu.clear_faults()
    # drop: no answer
    emu.add_faults({"path": p, "action": "drop", "count": 1})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        _raw_get(emu, p)
    # drop_after: processed, then dropped
    emu.add_faults({"method": "POST", "path": "/rest/api/2/issue", "action": "drop_after",
                    "count": 1})
    n_before = len(emu.issues("OPS"))
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
        req = urllib.request.Request(
            emu.url + "/rest/api/2/issue", method="POST",
            data=json.dumps({"fields": {"project": {"key": "OPS"}, "summary": "dropped",
                                        "issuetype": {"name": "Task"}}}).encode(),
            headers={"Authorization": "Bearer alice-pat", "Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5).read()
    assert len(emu.issues("OPS")) == n_before + 1
    # truncate: full Content-Length, half the body
    emu.add_faults({"path": "/rest/api/2/issue/SEC-1", "action": "truncate", "count": 1})
    with pytest.raises(http.client.IncompleteRead):
        _raw_get(emu, "/rest/api/2/issue/SEC-1")
    # latency
    emu.add_faults({"path": p, "action": "latency", "ms": 300, "count": 1})
    t0 = time.time()
    assert emu.rest("GET", p).status == 200
    assert time.time() - t0 >= 0.3
    # global latency
    emu.config(latency_ms=200)
    t0 = time.time()
    emu.rest("GET", p)
    assert time.time() - t0 >= 0.2
    emu.config(latency_ms=0)
    # hang until the rule is deleted
    emu.add_faults({"path": p, "action": "hang", "count": 1})
    box = {}

    def hang():
        t = time.time()
        try:
            _raw_get(emu, p, timeout=10)
        except Exception as e:  # noqa: BLE001
            box["err"] = e
        box["t"] = time.time() - t
    th = threading.Thread(target=hang)
    th.start()
    time.sleep(0.4)
    assert th.is_alive()
    emu.clear_faults()
    th.join(5)
    assert not th.is_alive() and "err" in box and 0.3 < box["t"] < 5
    # the log names the faults
    log = emu.requests(since=m, path="/rest/")
    faults = [e["fault"] for e in log if e["fault"]]
    assert faults == ["status", "status", "html", "drop", "drop_after", "truncate", "latency",
                      "hang"]
    da = [e for e in log if e["fault"] == "drop_after"][0]
    assert da["status"] == 201 and da["body"]["fields"]["summary"] == "dropped"
    assert da["user"] == "alice" and da["auth"] == "pat"
    dr = [e for e in log if e["fault"] == "drop"][0]
    assert dr["status"] is None and dr["processed_status"] is None and dr["fault_rule"]
    assert da["processed_status"] == 201
    assert all(not e["path"].startswith("/_emu") for e in emu.requests())
    with pytest.raises(EmulatorError):
        emu.add_faults({"action": "explode"})


def _create(emu, summary, project="OPS"):
    return emu.rest("POST", "issue", {"fields": {"project": {"key": project}, "summary": summary,
                                                 "issuetype": {"name": "Task"}}})


def test_fault_status_after(emu):
    """Jira commits the write; the proxy in front of it answers 502/503/504 instead."""
    emu.clear_faults()
    m = emu.mark()
    rule = emu.add_faults({"method": "POST", "path": "/rest/api/2/issue", "action": "status_after",
                           "count": 1})[0]
    n = len(emu.issues("OPS"))
    r = _create(emu, "created behind a slow proxy")
    assert r.status == 502 and r.header("Content-Type") == "text/html"
    assert r.body.decode() == ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
                               "<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
                               "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
    assert r.header("X-AREQUESTID") is None and r.header("Retry-After") is None
    assert len(emu.issues("OPS")) == n + 1                     # committed all the same
    assert search(emu, 'project = OPS AND summary ~ "slow proxy"').json["total"] == 1
    key = emu.issues("OPS")[-1]["key"]
    # a comment: 504 page
    emu.add_faults({"path": "/rest/api/2/issue/%s/comment" % key, "action": "status_after",
                    "status": 504, "count": 1})
    r = emu.rest("POST", "issue/%s/comment" % key, {"body": "after the timeout"})
    assert r.status == 504 and b"<title>504 Gateway Time-out</title>" in r.body
    assert [c["body"] for c in emu.issue(key)["fields"]["comment"]["comments"]] == [
        "after the timeout"]
    # a transition: Jira-shaped JSON 503 with Retry-After
    emu.add_faults({"path": "/rest/api/2/issue/%s/transitions" % key, "action": "status_after",
                    "status": 503, "html": False, "retry_after": 9, "count": 1})
    r = emu.rest("POST", "issue/%s/transitions" % key, {"transition": {"id": "4"}})
    assert r.status == 503 and r.header("Retry-After") == "9"
    assert r.header("Content-Type").startswith("application/json")
    assert r.json == {"errorMessages": ["Injected fault: HTTP 503"], "errors": {}}
    assert emu.issue(key)["fields"]["status"]["name"] == "In Progress"
    # any status, a custom body; a read too
    emu.add_faults({"path": "/rest/api/2/myself", "action": "status_after", "status": 500,
                    "body": "<p>oops</p>", "count": 1})
    r = emu.rest("GET", "myself")
    assert r.status == 500 and r.body == b"<p>oops</p>"
    assert emu.rest("GET", "myself").status == 200                 # count used up
    assert emu.faults()[0]["id"] == rule["id"] and emu.faults()[0]["applied"] == 1
    log = emu.requests(since=m, faulted=True)
    assert [(e["fault"], e["status"], e["processed_status"]) for e in log] == [
        ("status_after", 502, 201), ("status_after", 504, 201), ("status_after", 503, 204),
        ("status_after", 500, 200)]
    assert log[0]["fault_rule"] == rule["id"] and log[0]["user"] == "alice"
    assert log[0]["auth"] == "pat" and log[0]["body"]["fields"]["summary"].startswith("created")
    ok = emu.requests(since=m, faulted=False)
    assert [e["path"] for e in ok if e["path"].startswith("/rest/api/2/myself")] == [
        "/rest/api/2/myself"]
    assert all(e["fault"] is None and e["fault_rule"] is None for e in ok)
    for bad in ({"action": "status_after", "status": 42}, {"action": "status_after",
                                                           "status": "502"}):
        with pytest.raises(EmulatorError):
            emu.add_faults(bad)
    emu.clear_faults()


def test_probabilistic_rules(emu):
    emu.clear_faults()
    p = "/rest/api/2/serverInfo"
    # three independent 30 % rules: about 1 - 0.7^3 = 66 % of requests faulted
    rules = emu.add_faults([{"path": p, "action": "status", "status": s, "p": 0.3}
                            for s in (500, 502, 503)])
    m = emu.mark()
    got = [emu.rest("GET", p).status for _ in range(300)]
    faulted = emu.requests(since=m, faulted=True)
    assert len(faulted) == sum(1 for s in got if s != 200)
    assert 0.55 < len(faulted) / 300.0 < 0.77
    d = {r["id"]: r for r in emu.faults()}
    a = [d[r["id"]]["applied"] for r in rules]
    assert [d[r["id"]]["matched"] for r in rules] == [300, 300 - a[0], 300 - a[0] - a[1]]
    assert sum(a) == len(faulted) and all(x > 0 for x in a)
    assert {e["fault_rule"] for e in faulted} == {r["id"] for r in rules}
    assert all(d[r["id"]]["remaining"] is None for r in rules)
    emu.clear_faults()
    # reproducible: the same seed gives the same sequence; default seed = the rule id
    def run(rule, n=40):
        emu.clear_faults()
        emu.add_faults(rule)
        out = [emu.rest("GET", p).status for _ in range(n)]
        emu.clear_faults()
        return out
    first = run({"path": p, "action": "status", "p": 0.5, "seed": 7})
    assert run({"path": p, "action": "status", "p": 0.5, "seed": 7}) == first
    assert run({"path": p, "action": "status", "p": 0.5, "seed": "other"}) != first
    assert 503 in first and 200 in first
    # a p-rule that does not fire keeps its count and skip; p=0 never, p=1 always fires
    r0, r1 = emu.add_faults([{"path": p, "action": "status", "p": 0, "count": 2, "skip": 1},
                             {"path": p, "action": "latency", "ms": 1, "p": 1, "count": 2,
                              "skip": 1}])
    assert [emu.rest("GET", p).status for _ in range(4)] == [200] * 4
    d = {r["id"]: r for r in emu.faults()}
    assert (d[r0["id"]]["matched"], d[r0["id"]]["applied"], d[r0["id"]]["remaining"],
            d[r0["id"]]["skip"]) == (4, 0, 2, 1)
    assert (d[r1["id"]]["matched"], d[r1["id"]]["applied"], d[r1["id"]]["remaining"],
            d[r1["id"]]["skip"]) == (3, 2, 0, 0)     # skipped one, applied two, then spent
    emu.clear_faults()
    # with writes: status_after commits what it faults; drop closes unanswered
    n = len(emu.issues("OPS"))
    emu.add_faults({"method": "POST", "path": "/rest/api/2/issue", "action": "status_after",
                    "p": 0.5, "seed": 3})
    m = emu.mark()
    st = [_create(emu, "p-rule %d" % k).status for k in range(16)]
    assert set(st) == {201, 502} and len(emu.issues("OPS")) == n + 16
    assert len(emu.requests(since=m, faulted=True)) == st.count(502)
    emu.clear_faults()
    emu.add_faults({"path": p, "action": "drop", "p": 0.5, "seed": 1})
    lost = 0
    for _ in range(12):
        try:
            _raw_get(emu, p)
        except (http.client.RemoteDisconnected, ConnectionError):
            lost += 1
    assert 0 < lost < 12 and emu.faults()[0]["applied"] == lost
    emu.clear_faults()
    # every action takes p: at p=0 none of them touches the request
    actions = ["status", "status_after", "html", "drop", "drop_after", "truncate", "latency",
               "hang"]
    emu.add_faults([{"path": p, "action": a, "p": 0} for a in actions])
    assert emu.rest("GET", p).status == 200
    assert [(r["action"], r["matched"], r["applied"]) for r in emu.faults()] == [
        (a, 1, 0) for a in actions]
    emu.clear_faults()
    for bad in (1.5, -0.1, "0.5", True):
        with pytest.raises(EmulatorError):
            emu.add_faults({"action": "status", "p": bad})
    with pytest.raises(EmulatorError):
        emu.add_faults({"action": "status", "p": 0.5, "seed": [1]})
    assert emu.faults() == []


def test_request_log(emu):
    m = emu.mark()
    search(emu, "project = SEC", maxResults=5)
    emu.rest("POST", "search", {"jql": "project = OPS"})
    emu.rest("GET", "myself", basic=("alice", "alice-pass"))
    log = emu.requests(since=m)
    assert [e["method"] for e in log] == ["GET", "POST", "GET"]
    e = log[0]
    assert e["path"] == "/rest/api/2/search" and e["query"]["maxResults"] == ["5"]
    assert e["status"] == 200 and e["user"] == "alice" and e["auth"] == "pat"
    assert (e["fault"], e["fault_rule"], e["processed_status"]) == (None, None, 200)
    assert e["seq"] == m and log[1]["body"] == {"jql": "project = OPS"}
    assert log[2]["auth"] == "basic"
    assert "Authorization" not in json.dumps(log) and "alice-pass" not in json.dumps(log)
    assert emu.requests(since=m, method="POST")[0]["path"] == "/rest/api/2/search"
    emu.clear_requests()
    assert emu.requests() == []


def test_request_log_counts_answer_bytes(emu):
    m = emu.mark()
    r = emu.rest("POST", "search", {"jql": "project = OPS", "maxResults": 3})
    e = emu.requests(since=m)[0]
    assert e["bytes"] == len(r.body) == int(r.header("Content-Length"))
    assert "page_cache" not in e                  # the default: no fast page mode
    assert emu.page_cache()["enabled"] is False and emu.page_cache()["hits"] == 0


def test_fast_page_mode_serves_rendered_pages_until_a_change(tmp_path):
    """--fast-pages (the benchmark's): a search answer's bytes are rendered once and served
    again for the same parameters, byte for byte, until any change drops them all."""
    with Emulator.start(tmp_path, seed_projects=["FP:30"], max_results=10, state=False,
                        fast_pages=True) as e:
        assert e.config()["fast_pages"] is True
        body = {"jql": "project = FP ORDER BY key ASC", "startAt": 10, "maxResults": 1000,
                "fields": ["*all", "-lastViewed"]}
        m = e.mark()
        first = e.rest("POST", "search", body)
        again = e.rest("POST", "search", body)
        assert first.status == again.status == 200
        assert again.body == first.body and again.json["maxResults"] == 10
        assert int(again.header("Content-Length")) == len(again.body)
        assert [i["key"] for i in again.json["issues"]] == ["FP-%d" % n for n in range(11, 21)]
        log = e.requests(since=m)
        assert [x["page_cache"] for x in log] == ["miss", "hit"]
        assert log[0]["bytes"] == log[1]["bytes"] == len(first.body)
        pc = e.page_cache()
        assert (pc["pages"], pc["bytes"], pc["hits"], pc["misses"]) == (1, len(first.body), 1, 1)
        # other parameters are another page
        other = e.rest("POST", "search", dict(body, startAt=20))
        assert [i["key"] for i in other.json["issues"]][0] == "FP-21"
        assert e.page_cache()["pages"] == 2
        # any write drops every page
        assert e.rest("PUT", "issue/FP-12", {"fields": {"summary": "changed"}}).status == 204
        assert e.page_cache()["pages"] == 0
        fresh = e.rest("POST", "search", body)
        assert fresh.json["issues"][1]["fields"]["summary"] == "changed"
        assert e.requests(since=m)[-1]["page_cache"] == "miss"
        e.set_issue("FP-13", fields={"summary": "set by control"})
        assert e.rest("POST", "search", body).json["issues"][2]["fields"]["summary"] == \
            "set by control"
        # a query with relative dates is never kept (its answer moves with the clock)
        rel = {"jql": "project = FP AND created >= -365d", "maxResults": 5}
        e.rest("POST", "search", rel)
        e.rest("POST", "search", rel)
        assert [x["page_cache"] for x in e.requests(since=m)[-2:]] == ["miss", "miss"]
        assert e.page_cache(clear=True)["pages"] == 0
        e.config(fast_pages=False)
        e.rest("POST", "search", body)
        assert "page_cache" not in e.requests(since=m)[-1]


# ------------------------------------------------------------------ python-jira
def test_python_jira(emu):
    jira = pytest.importorskip("jira")
    j = jira.JIRA(server=emu.url, token_auth="alice-pat")
    assert j.myself()["name"] == "alice"
    assert {"SEC", "OPS", "WEB"} <= {p.key for p in j.projects()}
    n_sec = len(emu.issues("SEC"))
    issues = j.search_issues("project = SEC", maxResults=False)
    assert len(issues) == n_sec
    big = j.search_issues("project = BIG", maxResults=False, fields="summary")
    assert len(big) == 2500 and len({i.key for i in big}) == 2500
    i = j.issue("SEC-2")
    assert i.fields.summary and i.fields.status.statusCategory.key in ("new", "indeterminate",
                                                                        "done")
    assert isinstance(i.fields.comment.comments, list)
    assert i.fields.reporter.name == "nucleus-bot"
    new = j.create_issue(project="SEC", summary="Found by python-jira",
                         issuetype={"name": "Bug"})
    assert new.key.startswith("SEC-") and new.fields.status.name == "Open"
    new2 = j.create_issue(project="SEC", summary="By name", issuetype="Task")
    assert new2.fields.issuetype.name == "Task"
    c = j.add_comment(new, "Retested: still vulnerable")
    assert c.body == "Retested: still vulnerable" and c.author.name == "alice"
    names = [t["name"] for t in j.transitions(new)]
    assert "Resolve Issue" in names
    j.transition_issue(new, "Resolve Issue", fields={"resolution": {"name": "Done"}})
    new = j.issue(new.key)
    assert new.fields.status.name == "Resolved" and new.fields.resolution.name == "Done"
    assert len(new.fields.comment.comments) == 1
    with pytest.raises(jira.JIRAError) as ei:
        j.transition_issue(new2, "Close Issue")
    assert ei.value.status_code == 400


# ------------------------------------------------------------------ TLS, persistence
def test_tls(tmp_path):
    with Emulator.start(tmp_path, tls=True, seed_projects=["TLS:5"], state=False) as e:
        assert e.url.startswith("https://") and os.path.exists(e.ca_path)
        ctx = ssl.create_default_context(cafile=e.ca_path)
        req = urllib.request.Request(e.url + "/rest/api/2/myself",
                                     headers={"Authorization": "Bearer alice-pat"})
        with urllib.request.urlopen(req, context=ctx, timeout=5) as r:
            assert json.loads(r.read())["name"] == "alice"
        req = urllib.request.Request("https://localhost:%d/rest/api/2/serverInfo" % e.port)
        with urllib.request.urlopen(req, context=ctx, timeout=5) as r:
            assert json.loads(r.read())["baseUrl"] == e.url
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(e.url + "/rest/api/2/serverInfo",
                                   context=ssl.create_default_context(), timeout=5)
        r = e.rest("GET", "search", query={"jql": "project = TLS"})
        assert r.json["total"] == 5
        assert e.seed("TLS", 2)["last"] == "TLS-7"
        # a garbage handshake does not hurt the server
        s = socket.create_connection(("127.0.0.1", e.port))
        s.sendall(b"GET / HTTP/1.1\r\n\r\n")
        s.close()
        assert e.rest("GET", "serverInfo").status == 200
    # certificates are reused
    ca = open(os.path.join(tmp_path, "tls", "ca.pem")).read()
    with Emulator.start(tmp_path, tls=True, state=False) as e2:
        assert open(e2.ca_path).read() == ca
        assert e2.rest("GET", "serverInfo").status == 200


def test_state_persistence(tmp_path):
    e = Emulator.start(tmp_path, seed_projects=["KEEP:20"])
    try:
        r = e.rest("POST", "issue", {"fields": {"project": {"key": "KEEP"}, "summary": "persist me",
                                                "issuetype": {"name": "Task"}},
                                     "properties": [{"key": "m", "value": {"id": 1}}]})
        key = r.json["key"]
        assert key == "KEEP-21"
        e.rest("POST", "issue/%s/comment" % key, {"body": "kept"})
        e.config(indexed_properties=["m"], search_comments_max=3,     # saved with the state
                 site_resolutions=["Not a Bug"])
        assert e.rest("POST", "issue/%s/transitions" % key, {
            "transition": {"id": "2"}, "fields": {"resolution": {"name": "Not a Bug"}}}
            ).status == 204
        before = e.issue(key)
        port = e.port
        assert e.stop() == 0
        assert os.path.exists(e.state_path)
        with open(e.state_path) as f:       # a file of an older emulator: obsolete setting
            saved = json.load(f)
        saved["config"]["property_search"] = True
        with open(e.state_path, "w") as f:
            json.dump(saved, f)
        e.restart()
        assert "property_search" not in e.config()
        assert e.port == port
        after = e.issue(key)
        assert after == before
        assert len(e.issues("KEEP")) == 21         # not seeded twice
        r = e.rest("POST", "issue", {"fields": {"project": {"key": "KEEP"}, "summary": "next",
                                                "issuetype": {"name": "Task"}}})
        assert r.json["key"] == "KEEP-22"
        assert e.config()["indexed_properties"] == ["m"]
        assert e.config()["search_comments_max"] == 3
        assert after["fields"]["resolution"]["name"] == "Not a Bug"
        assert e.rest("GET", "resolution/10100").json["name"] == "Not a Bug"
        assert search(e, "issue.property[m].id = 1").json["total"] == 1
        e.kill()                                    # SIGKILL: nothing saved
        e.restart()
        assert e.issue("KEEP-22") is None and e.issue(key) is not None
    finally:
        e.stop()


def test_token_file_and_cli(tmp_path):
    tf = tmp_path / "token"
    with Emulator.start(tmp_path, state=False, extra_args=["--token-file", str(tf)]) as e:
        assert oct(os.stat(tf).st_mode & 0o777) == "0o600"
        tok = tf.read_text().strip()
        assert e.rest("GET", "myself", token=tok).json["name"] == "alice"
        assert e.rest("GET", "project").json == []
    with pytest.raises(EmulatorError):
        Emulator.start(tmp_path, state=False, extra_args=["--seed-project", "bad"], timeout=10)
    with Emulator.start(tmp_path, state=False, seed_projects=["CLI:2"],
                        indexed_properties=("jirafs", "other"), search_comments_max=2) as e:
        cfg = e.config()
        assert cfg["indexed_properties"] == ["jirafs", "other"]
        assert cfg["search_comments_max"] == 2 and "property_search" not in cfg
        assert e.rest("PUT", "issue/CLI-1/properties/jirafs", {"op": "x1"}).status == 201
        assert search(e, 'issue.property[jirafs].op = "x1"').json["total"] == 1
    with Emulator.start(tmp_path, state=False) as e:
        assert e.config()["indexed_properties"] == [] and e.config()["search_comments_max"] is None
    with pytest.raises(EmulatorError):
        Emulator.start(tmp_path, state=False, search_comments_max=-1, timeout=10)


def test_peer_exe_serves_only_the_named_programs(tmp_path):
    curl = shutil.which("curl")
    with Emulator.start(tmp_path, seed_projects=["PEER:3"], state=False,
                        extra_args=["--peer-exe", sys.executable]) as e:
        assert e.rest("GET", "/rest/api/2/serverInfo").status == 200   # this Python
        r = subprocess.run([curl, "-s", "-o", "/dev/null", "-w", "%{http_code}",
                            e.url + "/rest/api/2/serverInfo"], capture_output=True, text=True)
        assert r.returncode != 0 and r.stdout == "000"                 # closed unanswered
        conns = e.connections()
        assert conns["refused"] == 1 and conns["accepted"] >= 1
        assert conns["refused_from"] == {os.path.realpath(curl): 1}
        assert len([x for x in e.requests() if "serverInfo" in x["path"]]) == 1


# ------------------------------------------------- what the scanner bridge (§10) relies on
def _new(emu, project="SCN", **fields):
    f = {"project": {"key": project}, "summary": fields.pop("summary", "finding"),
         "issuetype": {"name": "Bug"}}
    f.update(fields)
    return emu.rest("POST", "issue", {"fields": f})


def test_scanner_labels_jql(emu):
    """labels =, in (100 values), is EMPTY, combined with project; case-insensitive as Jira's
    folded label index (LabelsClauseQueryFactory, LabelIndexInfoResolver(true))."""
    emu.create_project("SCN")
    fp = ["jfs-fp-%020x" % n for n in range(100)]
    a = _new(emu, labels=["jirafs", fp[0], "jfs-scope-0123456789ab", "flawfinder"]).json["key"]
    b = _new(emu, labels=["jirafs", fp[99], "CWE-120"]).json["key"]
    c = _new(emu).json["key"]
    other = _create(emu, "same label elsewhere").json["key"]
    assert emu.rest("PUT", "issue/" + other, {"update": {"labels": [{"add": fp[0]}]}}).status == 204
    assert all_keys(emu, "project = SCN AND labels = %s ORDER BY key" % fp[0]) == [a]
    assert all_keys(emu, "labels = %s ORDER BY key" % fp[0]) == sorted([a, other])
    jql = "project = SCN AND labels in (%s) ORDER BY key" % ", ".join(fp)
    assert all_keys(emu, jql) == [a, b]
    assert all_keys(emu, "project = SCN AND labels in (\"%s\", %s) ORDER BY key"
                    % (fp[0], fp[50])) == [a]
    assert all_keys(emu, "project = SCN AND labels is EMPTY") == [c]
    assert all_keys(emu, "project = SCN AND labels is not EMPTY ORDER BY key") == [a, b]
    assert all_keys(emu, "project = SCN AND labels = jirafs ORDER BY key") == [a, b]
    assert all_keys(emu, "project = SCN AND labels != jirafs") == []     # != skips empty
    # case: stored as written, matched folded
    assert emu.issue(b)["fields"]["labels"] == sorted(["CWE-120", "jirafs", fp[99]])
    assert all_keys(emu, "project = SCN AND labels = cwe-120") == [b]
    assert all_keys(emu, "project = SCN AND labels in (%s)" % fp[99].upper()) == [b]
    # POST search with the JQL in the body
    r = emu.rest("POST", "search", {"jql": jql, "startAt": 0, "maxResults": 50,
                                    "fields": ["labels", "status", "resolution"]})
    assert r.status == 200 and r.json["total"] == 2
    assert [i["key"] for i in r.json["issues"]] == [a, b]
    assert set(r.json["issues"][0]["fields"]) == {"labels", "status", "resolution"}
    # the incremental form jirafs uses
    assert all_keys(emu, 'project = SCN AND updated >= "2000/01/01 00:00" ORDER BY key') \
        == [a, b, c]


def test_scanner_label_refusals(emu):
    """A label with a space, or over 255 characters, is a 400 on create and on edit."""
    emu.create_project("SCR")
    r = _new(emu, "SCR", labels=["ok", "a b"])
    assert r.status == 400
    # Jira's words (as quoted by a client: harness/harness-core JiraTask.java,
    # {"errorMessages":[],"errors":{"labels":"The label 'Test Application' contains spaces
    # which is invalid."}})
    assert r.json == {"errorMessages": [],
                      "errors": {"labels": "The label 'a b' contains spaces which is invalid."}}
    long = "x" * 256
    r = _new(emu, "SCR", labels=[long])
    assert r.status == 400
    # Jira's own web test (assertTooLongLabelError): "The label '…' exceeds the maximum
    # length for a single label of 255 characters."
    assert r.json["errors"] == {"labels": "The label '%s' exceeds the maximum length for a "
                                          "single label of 255 characters." % long}
    key = _new(emu, "SCR", labels=["y" * 255]).json["key"]
    assert emu.issue(key)["fields"]["labels"] == ["y" * 255]
    for body in ({"fields": {"labels": ["a b"]}}, {"update": {"labels": [{"add": "a\tb"}]}},
                 {"update": {"labels": [{"set": ["c d"]}]}}, {"fields": {"labels": [long]}}):
        r = emu.rest("PUT", "issue/" + key, body)
        assert r.status == 400 and set(r.json["errors"]) == {"labels"}, (body, r.body)
    assert emu.issue(key)["fields"]["labels"] == ["y" * 255]
    assert all_keys(emu, "project = SCR") == [key]


def test_scanner_priorities_resolutions_workflow(emu):
    """Highest..Lowest by name; a typical site's resolutions; close with Duplicate and reopen."""
    assert [p["name"] for p in emu.rest("GET", "priority").json] == [
        "Highest", "High", "Medium", "Low", "Lowest"]
    names = [r["name"] for r in emu.rest("GET", "resolution").json]
    assert {"Done", "Won't Do", "Duplicate", "Cannot Reproduce", "Fixed", "Won't Fix"} <= set(names)
    emu.create_project("SCW")
    keys = {}
    for p in ("Highest", "High", "Medium", "Low", "Lowest"):
        r = _new(emu, "SCW", summary="sev " + p, priority={"name": p})
        assert r.status == 201, r.body
        keys[p] = r.json["key"]
        assert emu.issue(keys[p])["fields"]["priority"]["name"] == p
    r = _new(emu, "SCW", priority={"name": "Critical"})
    assert r.status == 400 and "priority" in r.json["errors"]
    key = keys["High"]
    ts = emu.rest("GET", "issue/%s/transitions" % key,
                  query={"expand": "transitions.fields"}).json["transitions"]
    close = [t for t in ts if t["to"]["statusCategory"]["key"] == "done"
             and t["name"].startswith("Close")][0]
    allowed = {v["name"] for v in close["fields"]["resolution"]["allowedValues"]}
    assert {"Duplicate", "Won't Do", "Done"} <= allowed
    r = emu.rest("POST", "issue/%s/transitions" % key, {"transition": {"id": close["id"]}})
    assert r.status == 400 and r.json["errors"] == {"resolution": "Resolution is required."}
    r = emu.rest("POST", "issue/%s/transitions" % key,
                 {"transition": {"id": close["id"]}, "fields": {"resolution": {"name": "Duplicate"}},
                  "update": {"comment": [{"add": {"body": "duplicate of %s" % keys["Low"]}}]}})
    assert r.status == 204, r.body
    f = emu.issue(key)["fields"]
    assert f["status"]["statusCategory"]["key"] == "done" and f["resolution"]["name"] == "Duplicate"
    assert all_keys(emu, "project = SCW AND resolution = Duplicate") == [key]
    assert all_keys(emu, "project = SCW AND resolution in (\"Won't Fix\", \"Won't Do\", "
                         "Duplicate, \"Cannot Reproduce\")") == [key]
    ts = emu.rest("GET", "issue/%s/transitions" % key).json["transitions"]
    reopen = [t for t in ts if t["to"]["statusCategory"]["key"] != "done"]
    assert [t["name"] for t in reopen] == ["Reopen Issue"]
    assert emu.rest("POST", "issue/%s/transitions" % key,
                    {"transition": {"id": reopen[0]["id"]}}).status == 204
    f = emu.issue(key)["fields"]
    assert f["status"]["name"] == "Reopened" and f["resolution"] is None
    assert f["resolutiondate"] is None
    assert key in all_keys(emu, "project = SCW AND resolution = Unresolved")
    # Won't Do through the other done transition, from In Progress
    k2 = keys["Low"]
    assert emu.rest("POST", "issue/%s/transitions" % k2, {"transition": {"id": "4"}}).status == 204
    assert emu.rest("POST", "issue/%s/transitions" % k2, {
        "transition": {"id": "5"}, "fields": {"resolution": {"name": "Won't Do"}}}).status == 204
    assert emu.issue(k2)["fields"]["resolution"]["name"] == "Won't Do"
    # a site's own resolution (an admin adds it in the UI; REST cannot)
    k3 = keys["Lowest"]
    r = emu.rest("POST", "issue/%s/transitions" % k3, {
        "transition": {"id": "2"}, "fields": {"resolution": {"name": "Not a Bug"}}})
    assert r.status == 400 and "resolution" in r.json["errors"]
    with pytest.raises(EmulatorError):
        emu.config(site_resolutions=["Duplicate"])
    emu.config(site_resolutions=["Not a Bug"])
    try:
        res = emu.rest("GET", "resolution").json
        assert res[-1] == {"self": emu.url + "/rest/api/2/resolution/10100", "id": "10100",
                           "description": "", "name": "Not a Bug"}
        assert emu.rest("GET", "resolution/10100").json["name"] == "Not a Bug"
        ts = emu.rest("GET", "issue/%s/transitions" % k3,
                      query={"expand": "transitions.fields"}).json["transitions"]
        close = [t for t in ts if t["id"] == "2"][0]
        assert "Not a Bug" in {v["name"] for v in close["fields"]["resolution"]["allowedValues"]}
        assert emu.rest("POST", "issue/%s/transitions" % k3, {
            "transition": {"id": "2"}, "fields": {"resolution": {"name": "Not a Bug"}}}
            ).status == 204
        assert emu.issue(k3)["fields"]["resolution"]["name"] == "Not a Bug"
        assert all_keys(emu, 'project = SCW AND resolution = "Not a Bug"') == [k3]
        assert emu.rest("POST", "issue/%s/transitions" % k3, {"transition": {"id": "3"}}
                        ).status == 204
    finally:
        emu.config(site_resolutions=[])
    assert "Not a Bug" not in {r["name"] for r in emu.rest("GET", "resolution").json}


def test_scanner_text_limits(emu):
    """summary 255, description and comment 32,767 (jira.text.field.character.limit)."""
    emu.create_project("SCT")
    r = _new(emu, "SCT", summary="s" * 256)
    assert r.status == 400 and r.json["errors"] == {
        "summary": "Summary must be less than 255 characters."}
    too_long = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
    r = _new(emu, "SCT", description="d" * 32768)
    assert r.status == 400
    assert r.json == {"errorMessages": [], "errors": {"description": too_long}}
    r = _new(emu, "SCT", description="d" * 32767)
    assert r.status == 201
    key = r.json["key"]
    assert len(emu.issue(key)["fields"]["description"]) == 32767
    r = emu.rest("PUT", "issue/" + key, {"fields": {"description": "é" * 32768}})
    assert r.status == 400 and r.json["errors"] == {"description": too_long}
    # characters, not bytes: 32,767 two-byte characters fit
    assert emu.rest("PUT", "issue/" + key, {"fields": {"description": "é" * 32767}}).status == 204
    r = emu.rest("POST", "issue/%s/comment" % key, {"body": "c" * 32768})
    assert r.status == 400 and r.json == {"errorMessages": [], "errors": {"comment": too_long}}
    r = emu.rest("PUT", "issue/" + key, {"update": {"comment": [{"add": {"body": "c" * 32768}}]}})
    assert r.status == 400 and "comment" in r.json["errors"]
    assert len(emu.issue(key)["fields"]["comment"]["comments"]) == 0


def test_scanner_concurrent_creates_with_latency(emu):
    """A latency rule on POST /rest/api/2/issue only ("exact"), two creates at once: both
    succeed with two keys; comments are not slowed. "after" commits first, answers late."""
    emu.clear_faults()
    emu.create_project("SCL")
    key0 = _new(emu, "SCL").json["key"]
    try:
        rule = emu.add_faults({"method": "POST", "path": "/rest/api/2/issue", "exact": True,
                               "action": "latency", "ms": 800})[0]
        t0 = time.time()
        r = emu.rest("POST", "issue/%s/comment" % key0, {"body": "fast"})
        assert r.status == 201 and time.time() - t0 < 0.6
        barrier = threading.Barrier(2)

        def create(n):
            barrier.wait()
            return _new(emu, "SCL", summary="concurrent %d" % n)
        t0 = time.time()
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            rs = list(ex.map(create, (1, 2)))
        took = time.time() - t0
        assert [r.status for r in rs] == [201, 201], [r.body for r in rs]
        assert rs[0].json["key"] != rs[1].json["key"]
        assert 0.8 <= took < 1.5, took          # slowed, and in parallel (not 1.6 s)
        got = {i["fields"]["summary"] for i in emu.issues("SCL")}
        assert {"concurrent 1", "concurrent 2"} <= got
        assert [f for f in emu.faults() if f["id"] == rule["id"]][0]["applied"] == 2
        emu.clear_faults()
        # after: the create is in Jira before the answer leaves
        emu.add_faults({"method": "POST", "path": "/rest/api/2/issue", "exact": True,
                        "action": "latency", "after": True, "ms": 1500, "count": 1})
        box = {}
        th = threading.Thread(target=lambda: box.update(r=_new(emu, "SCL", summary="late")))
        th.start()
        deadline = time.time() + 1.2
        while time.time() < deadline and "late" not in {
                i["fields"]["summary"] for i in emu.issues("SCL")}:
            time.sleep(0.05)
        assert "late" in {i["fields"]["summary"] for i in emu.issues("SCL")}
        assert "r" not in box
        th.join(5)
        assert box["r"].status == 201
        with pytest.raises(EmulatorError):
            emu.add_faults({"path": "/rest/api/2/issue", "exact": "yes", "action": "latency"})
        with pytest.raises(EmulatorError):
            emu.add_faults({"action": "drop", "after": True})
        with pytest.raises(EmulatorError):
            emu.add_faults({"action": "latency", "exact": True})
    finally:
        emu.clear_faults()


# ------------------------------------------------------------------ attachments
import base64  # noqa: E402
import hashlib  # noqa: E402
import random  # noqa: E402

from control import multipart_body  # noqa: E402

NO_CREATE = {"errorMessages": ["You do not have permission to create attachments for this "
                               "issue."], "errors": {}}
SHORT_BEAN = {"self", "id", "filename", "author", "created", "size", "mimeType", "content"}


@pytest.fixture(scope="module")
def aemu(tmp_path_factory):
    """An emulator of its own: the attachment tests change settings and issue dates."""
    e = Emulator.start(tmp_path_factory.mktemp("aemu"), seed="demo",
                       seed_projects=["ATT:12"], state=False)
    e.create_project("PRV", "Private", browse=["bob"])
    e.seed("PRV", 2)
    yield e
    assert e.stop() == 0


def _raw_upload(emu, key, body, ctype, token="alice-pat", xsrf=True):
    h = {"Content-Type": ctype}
    if xsrf:
        h["X-Atlassian-Token"] = "no-check"
    return emu.rest("POST", "issue/%s/attachments" % key, body, token=token, headers=h,
                    content_type=None)


def _status_kb(pid, name):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return None


def test_attachment_fields_beans_and_meta(aemu):
    i = aemu.rest("GET", "issue/SEC-1").json          # *all by default
    atts = i["fields"]["attachment"]
    assert [a["filename"] for a in atts] == ["scan-report.txt", "screenshot.png"]
    for a in atts:
        assert set(a) == SHORT_BEAN | ({"thumbnail"} if a["mimeType"] == "image/png" else set())
        assert a["self"] == "%s/rest/api/2/attachment/%s" % (aemu.url, a["id"])
        assert a["content"] == "%s/secure/attachment/%s/%s" % (aemu.url, a["id"], a["filename"])
        assert a["author"]["name"] in ("alice", "nucleus-bot") and "displayName" in a["author"]
        assert a["created"].endswith("+0000") and a["created"][10] == "T"
    png = atts[1]
    assert png["thumbnail"] == "%s/secure/thumbnail/%s/_thumb_%s.png" % (aemu.url, png["id"],
                                                                       png["id"])
    assert png["size"] == len(aemu.download(png["content"]).body)
    # search: not in *navigable, there with fields=attachment or *all
    r = search(aemu, "key = SEC-1")
    assert "attachment" not in r.json["issues"][0]["fields"]
    for fields in ("attachment", "*all", "summary,attachment"):
        r = search(aemu, "key = SEC-1", fields=fields)
        assert r.json["issues"][0]["fields"]["attachment"] == atts, fields
    assert aemu.rest("POST", "search", {"jql": "key = SEC-1", "fields": ["attachment"]}
                     ).json["issues"][0]["fields"]["attachment"] == atts
    # order: file name (a collator: case and accents second), then creation date
    for name in ("b.txt", "A.txt", "a.txt", "B.txt", "\u00e0.txt", "a.txt"):
        aemu.add_attachment("ATT-1", name, content=name)
    names = [a["filename"] for a in aemu.issue("ATT-1")["fields"]["attachment"]]
    assert names == ["a.txt", "a.txt", "A.txt", "\u00e0.txt", "b.txt", "B.txt"]
    ids = [a["id"] for a in aemu.issue("ATT-1")["fields"]["attachment"]][:2]
    assert int(ids[0]) < int(ids[1])           # same name: the older first
    # GET attachment/{id}: AttachmentBean
    r = aemu.rest("GET", "attachment/" + png["id"])
    assert r.status == 200
    assert set(r.json) == {"self", "filename", "author", "created", "size", "mimeType",
                           "properties", "content", "thumbnail"}
    assert r.json["content"] == png["content"] and r.json["properties"] == {}
    for bad in ("99999", "abc"):
        r = aemu.rest("GET", "attachment/" + bad)
        assert r.status == 404 and r.json == {
            "errorMessages": ["The attachment with id '%s' does not exist" % bad], "errors": {}}
    # meta, anonymous too
    assert aemu.rest("GET", "attachment/meta", token=None).json == {
        "enabled": True, "uploadLimit": 10485760}
    # the content URL: the file name through java.net.URLEncoder
    a = aemu.add_attachment("ATT-1", "r\u00e9sum\u00e9 ~ 50% (final).txt", content="x")
    assert a["content"].endswith("/r%C3%A9sum%C3%A9+%7E+50%25+%28final%29.txt")
    assert a["mimeType"] == "text/plain"
    # JQL: attachments IS [NOT] EMPTY, nothing else
    assert set(all_keys(aemu, "project = SEC AND attachments IS NOT EMPTY")) == {"SEC-1",
                                                                                 "SEC-2"}
    assert search(aemu, "project = SEC AND attachments is EMPTY", maxResults=0
                  ).json["total"] == len(aemu.issues("SEC")) - 2
    r = search(aemu, "attachments = x")
    assert r.status == 400 and r.json["errorMessages"] == [
        "The operator '=' is not supported by the 'attachments' field."]


def test_attachment_upload_names_types_and_log(aemu):
    before = aemu.issue("ATT-2")["fields"]["updated"]
    m = aemu.mark()
    data1 = bytes(range(256)) * 3
    r = aemu.upload("ATT-2", [("report 2026.txt", b"first file\n"),
                              ("na\u00efve \u2013 r\u00e9sum\u00e9.pdf", data1),
                              ("../../etc/passwd", b"root:x:0:0\n", "text/plain"),
                              ("dir/sub/shot.png", b"\x89PNG....", "image/png"),
                              ("README", b"read me"),
                              (None, b"not a file", None, "comment"),
                              ("ignored.txt", b"other field", "text/plain", "other")])
    assert r.status == 200, r.body
    got = r.json
    assert [a["filename"] for a in got] == ["report 2026.txt",
                                            "na\u00efve \u2013 r\u00e9sum\u00e9.pdf",
                                            "passwd", "shot.png", "README"]
    assert [a["mimeType"] for a in got] == ["text/plain", "application/pdf", "text/plain",
                                            "image/png", "text/html"]
    assert all(set(a) >= SHORT_BEAN for a in got)
    assert "thumbnail" in got[3] and "thumbnail" not in got[0]
    assert [a["size"] for a in got] == [11, len(data1), 11, 8, 7]
    assert got[0]["author"]["name"] == "alice"
    assert aemu.download(got[1]["content"]).body == data1
    assert aemu.attachment_info(got[2]["id"])["sha256"] == hashlib.sha256(
        b"root:x:0:0\n").hexdigest()
    after = aemu.issue("ATT-2")
    assert after["fields"]["updated"] > before          # an upload is an issue update
    assert {a["id"] for a in got} <= {a["id"] for a in after["fields"]["attachment"]}
    # the log keeps the parts, not the bytes
    entry = aemu.requests(since=m, path="/rest/api/2/issue/ATT-2/attachments")[0]
    assert entry["status"] == 200 and entry["headers"]["X-Atlassian-Token"] == "no-check"
    parts = entry["body"]["multipart"]
    assert [p["filename"] for p in parts][:3] == ["report 2026.txt",
                                                 "na\u00efve \u2013 r\u00e9sum\u00e9.pdf",
                                                 "passwd"]
    assert parts[1] == {"name": "file", "filename": "na\u00efve \u2013 r\u00e9sum\u00e9.pdf",
                        "contentType": "application/octet-stream", "size": len(data1)}
    assert "root:x" not in json.dumps(entry)
    # hostile names as commons-fileupload reads them: quotes percent-encoded by the client
    # stay so; a backslash-escaped quote keeps its backslash; a bare LF stays; CRLF cannot
    # be in a header; RFC 2047 words are decoded
    b = "XyZzy"
    raw = ("--%s\r\n"
           'Content-Disposition: form-data; name="file"; filename="a\\"b.txt"\r\n\r\nq\r\n'
           "--%s\r\n"
           'Content-Disposition: form-data; name="file"; filename="line1\nline2.txt"\r\n\r\n'
           "lf\r\n"
           "--%s\r\n"
           'Content-Disposition: form-data; name="file"; filename="=?UTF-8?B?%s?="\r\n\r\n'
           "enc\r\n"
           "--%s\r\n"
           "Content-Disposition: form-data; name=file; filename=plain;x.txt\r\n\r\n"
           "semi\r\n"
           "--%s\r\n"
           "Content-Disposition: form-data; name=\"file\"; filename=\" ../up/ trim.txt \"\r\n"
           "\r\nspace\r\n"
           "--%s--\r\n" % (b, b, b, base64.b64encode("\u65e5\u672c.txt".encode()).decode(),
                           b, b, b)).encode("utf-8")
    r = _raw_upload(aemu, "ATT-2", raw, "multipart/form-data; boundary=%s" % b)
    assert r.status == 200, r.body
    assert [a["filename"] for a in r.json] == ['a\\"b.txt', "line1\nline2.txt",
                                               "\u65e5\u672c.txt", "plain", " trim.txt"]
    assert [len(aemu.download(a["content"]).body) for a in r.json] == [1, 2, 3, 4, 5]
    r = aemu.upload("ATT-2", [('say "hi".txt', b"x")])
    assert r.json[0]["filename"] == "say %22hi%22.txt"
    # an unknown charset in an encoded word: atlassian-rest's 400
    raw = ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"=?bogus-cs?B?"
           "eA==?=\"\r\n\r\nx\r\n--%s--\r\n" % (b, b)).encode()
    r = _raw_upload(aemu, "ATT-2", raw, "multipart/form-data; boundary=%s" % b)
    assert r.status == 400 and b"invalid according to RFC 2047" in r.body
    # malformed bodies: commons-fileupload gives up (500)
    for body in (b"--XyZzy\r\nContent-Disposition: form-data; name=\"file\"; "
                 b"filename=\"t.txt\"\r\n\r\nno end", b"garbage"):
        r = _raw_upload(aemu, "ATT-2", body, "multipart/form-data; boundary=XyZzy")
        assert r.status == 500 and r.json["status-code"] == 500
    assert _raw_upload(aemu, "ATT-2", b"x", "multipart/form-data").status == 500
    # no file part at all: an empty list
    r = aemu.upload("ATT-2", [(None, b"v", None, "comment")])
    assert r.status == 200 and r.json == []
    # unknown issue
    r = aemu.upload("ATT-99999", [("a.txt", b"a")])
    assert r.status == 404 and r.json["errorMessages"] == ["Issue Does Not Exist"]


def test_attachment_xsrf_and_media_type(aemu):
    r = aemu.upload("ATT-3", [("a.txt", b"a")], xsrf=False)
    assert r.status == 403 and r.body == b"XSRF check failed"
    assert r.header("Content-Type").startswith("text/plain")
    r = aemu.upload("ATT-3", [("a.txt", b"a")], xsrf=False,
                    headers={"X-Atlassian-Token": "nocheck"})     # the deprecated value
    assert r.status == 200
    r = aemu.rest("POST", "issue/ATT-3/attachments", {"file": "a"},
                  headers={"X-Atlassian-Token": "no-check"})
    assert r.status == 415
    assert aemu.rest("GET", "issue/ATT-3/attachments").status == 405
    # a multipart body on a JSON resource: XSRF first, then 415
    body, ctype = multipart_body([("a.txt", b"a")])
    assert aemu.rest("POST", "issue/ATT-3/comment", body, content_type=ctype).status == 403
    assert aemu.rest("POST", "issue/ATT-3/comment", body, content_type=ctype,
                     headers={"X-Atlassian-Token": "no-check"}).status == 415
    # authentication first: a wrong Basic password is 401 even without the header
    r = aemu.upload("ATT-3", [("a.txt", b"a")], xsrf=False, token=None,
                    basic=("bob", "wrong"))
    assert r.status == 401
    aemu.reset_captcha()


def test_attachment_upload_limit(aemu):
    try:
        aemu.config(attachment_upload_limit=1000)
        assert aemu.rest("GET", "attachment/meta").json["uploadLimit"] == 1000
        r = aemu.upload("ATT-4", [("exact.bin", b"e" * 1000)])
        assert r.status == 200 and r.json[0]["size"] == 1000
        n = len(aemu.issue("ATT-4")["fields"]["attachment"])
        r = aemu.upload("ATT-4", [("ok.bin", b"o"), ("big.bin", b"b" * 1001)])
        assert r.status == 413
        assert r.body == b"The field file exceeds its maximum permitted size of 1000 bytes."
        assert len(aemu.issue("ATT-4")["fields"]["attachment"]) == n    # nothing attached
        # the whole request: at most ten times the limit
        aemu.config(attachment_upload_limit=100)
        r = aemu.upload("ATT-4", [("p%d.bin" % k, b"p" * 90) for k in range(12)])
        assert r.status == 413 and r.body.startswith(
            b"the request was rejected because its size (")
        assert r.body.endswith(b") exceeds the configured maximum (1000)")
        # the size check comes before the issue and the permission checks
        r = aemu.upload("ATT-99999", [("big.bin", b"b" * 101)])
        assert r.status == 413
        # atlassian-rest's legacy mode (and the DC OpenAPI's words): 404
        aemu.config(attachment_too_large_status=404)
        r = aemu.upload("ATT-4", [("big.bin", b"b" * 101)])
        assert r.status == 404 and b"exceeds its maximum permitted size of 100 bytes" in r.body
    finally:
        aemu.config(attachment_upload_limit=10485760, attachment_too_large_status=413)


def test_attachments_disabled(aemu):
    a = aemu.add_attachment("ATT-5", "kept.txt", content="still here")
    try:
        aemu.config(attachments_enabled=False)
        assert aemu.rest("GET", "attachment/meta").json == {"enabled": False,
                                                           "uploadLimit": 10485760}
        r = aemu.upload("ATT-5", [("a.txt", b"a")])
        assert r.status == 403 and r.json == NO_CREATE
        r = aemu.rest("GET", "attachment/" + a["id"])
        assert r.status == 404 and r.body == b""
        assert aemu.rest("DELETE", "attachment/" + a["id"]).status == 404
        assert "attachment" not in aemu.rest("GET", "issue/ATT-5").json["fields"]
        assert "attachment" not in search(aemu, "key = ATT-5", fields="*all"
                                          ).json["issues"][0]["fields"]
        assert aemu.download(a["content"]).body == b"still here"    # the servlet still serves
    finally:
        aemu.config(attachments_enabled=True)
    assert aemu.rest("GET", "attachment/" + a["id"]).status == 200


def test_attachment_permissions(aemu):
    try:
        aemu.config(attachment_create_denied=["bob"])
        r = aemu.upload("ATT-6", [("a.txt", b"a")], token="bob-pat")
        assert r.status == 403 and r.json == NO_CREATE
        assert aemu.upload("ATT-6", [("a.txt", b"a")], token="jdoe-pat").status == 200
    finally:
        aemu.config(attachment_create_denied=[])
    assert aemu.config()["attachment_create_denied"] == []
    # anonymous: the issue is not visible (404); a bad PAT is anonymous
    assert aemu.upload("ATT-6", [("a.txt", b"a")], token=None).status == 404
    assert aemu.upload("ATT-6", [("a.txt", b"a")], token="nope").status == 404
    # an issue alice cannot browse
    priv = aemu.add_attachment("PRV-1", "secret.txt", content="s3cret", author="bob")
    r = aemu.rest("GET", "attachment/" + priv["id"])
    assert r.status == 403 and r.json["errorMessages"]
    assert aemu.rest("GET", "attachment/" + priv["id"], token="bob-pat").status == 200
    r = aemu.download(priv["content"])
    assert r.status == 403 and b"s3cret" not in r.body
    r = aemu.download(priv["content"], token=None)
    assert r.status == 302
    assert r.header("Location") == (
        "%s/login.jsp?permissionViolation=true&os_destination=%%2Fsecure%%2Fattachment%%2F%s"
        "%%2Fsecret.txt&page_caps=&user_role=" % (aemu.url, priv["id"]))
    assert aemu.download(priv["content"], token="bob-pat").body == b"s3cret"
    assert aemu.upload("PRV-1", [("a.txt", b"a")]).status == 404
    # delete: the author (Delete Own Attachments) or the lead (Delete All Attachments)
    mine = aemu.upload("ATT-6", [("alice.txt", b"a")]).json[0]
    bobs = aemu.upload("ATT-6", [("bob.txt", b"b")], token="bob-pat").json[0]
    r = aemu.rest("DELETE", "attachment/" + mine["id"], token="bob-pat")
    assert r.status == 403 and r.json == {"errorMessages": [
        "You do not have permission to delete attachment with id: %s" % mine["id"]],
        "errors": {}}
    assert aemu.rest("DELETE", "attachment/" + mine["id"], token=None).status == 403
    before = aemu.issue("ATT-6")["fields"]["updated"]
    assert aemu.rest("DELETE", "attachment/" + bobs["id"], token="bob-pat").status == 204
    assert aemu.rest("DELETE", "attachment/" + mine["id"]).status == 204   # alice leads ATT
    assert aemu.issue("ATT-6")["fields"]["updated"] > before
    assert aemu.rest("GET", "attachment/" + mine["id"]).status == 404
    assert aemu.rest("DELETE", "attachment/" + mine["id"]).status == 404
    assert aemu.download(mine["content"]).status == 404
    names = [a["filename"] for a in aemu.issue("ATT-6")["fields"]["attachment"]]
    assert "alice.txt" not in names and "bob.txt" not in names
    # an attachment follows its issue when it moves, and goes when the issue goes
    moved = aemu.add_attachment("ATT-11", "moves.txt", content="m")
    key = aemu.move_issue("ATT-11", "OPS")
    assert [a["id"] for a in aemu.issue(key)["fields"]["attachment"]] == [moved["id"]]
    assert aemu.attachment_info(moved["id"])["issue"] == key
    aemu.delete_issue(key)
    assert aemu.rest("GET", "attachment/" + moved["id"]).status == 404
    assert aemu.download(moved["content"]).status == 404


def test_attachment_download_paths_ranges_and_faults(aemu):
    a = aemu.add_attachment("ATT-7", "page.html", content="<b>hi</b>",
                            mime_type="text/html")
    r = aemu.download(a["content"])
    assert r.status == 200 and r.body == b"<b>hi</b>"
    assert r.header("Content-Type") == "text/html" and r.header("Content-Length") == "9"
    assert r.header("Content-Disposition") == "attachment; filename*=UTF-8''page.html;"
    assert r.header("X-Download-Options") == "noopen"
    assert r.header("Cache-Control") == "private, max-age=31536000"
    assert r.header("X-AUSERNAME") == "alice"
    t = aemu.add_attachment("ATT-7", "notes v2.txt", content="0123456789")
    r = aemu.download(t["content"])
    assert r.header("Content-Disposition") == "inline; filename*=UTF-8''notes%20v2.txt;"
    assert r.header("Accept-Ranges") is None
    # only the id counts; one more slash, no name, an unknown or odd id: 404 / 400
    assert aemu.download("/secure/attachment/%s/anything.bin" % t["id"]).body == b"0123456789"
    assert aemu.download(t["id"]).body == b"0123456789"
    assert aemu.download("/secure/attachment/%s/a/b" % t["id"]).status == 404
    assert aemu.download("/secure/attachment/%s" % t["id"]).status == 400
    assert aemu.download("/secure/attachment/99999/x").status == 404
    assert aemu.download("/secure/attachment/abc/x").status == 404
    assert aemu.download("/secure/thumbnail/%s/_thumb_%s.png" % (t["id"], t["id"])
                         ).status == 404
    # Basic and HEAD
    r = aemu.http("GET", urllib.parse.urlsplit(t["content"]).path,
                  headers={"Authorization": "Basic " + base64.b64encode(
                      b"alice:alice-pass").decode()})
    assert r.status == 200 and r.body == b"0123456789"
    r = aemu.http("HEAD", urllib.parse.urlsplit(t["content"]).path,
                  headers={"Authorization": "Bearer alice-pat"})
    assert r.status == 200 and r.body == b"" and r.header("Content-Length") == "10"
    # Range: ignored by the servlet (200, whole file); with attachment_ranges a single range
    r = aemu.download(t["content"], headers={"Range": "bytes=2-4"})
    assert r.status == 200 and r.body == b"0123456789"
    try:
        aemu.config(attachment_ranges=True)
        r = aemu.download(t["content"], headers={"Range": "bytes=2-4"})
        assert r.status == 206 and r.body == b"234"
        assert r.header("Content-Range") == "bytes 2-4/10" and r.header("Content-Length") == "3"
        assert aemu.download(t["content"], headers={"Range": "bytes=7-"}).body == b"789"
        assert aemu.download(t["content"], headers={"Range": "bytes=-3"}).body == b"789"
        assert aemu.download(t["content"], headers={"Range": "bytes=5-100"}).body == b"56789"
        r = aemu.download(t["content"], headers={"Range": "bytes=10-"})
        assert r.status == 416 and r.header("Content-Range") == "bytes */10"
        r = aemu.download(t["content"])
        assert r.status == 200 and r.header("Accept-Ranges") == "bytes"
        assert aemu.requests()[-1]["headers"].get("Range") is None
    finally:
        aemu.config(attachment_ranges=False)
    # faults apply to downloads
    try:
        aemu.add_faults({"path": "/secure/attachment/", "action": "status", "status": 503,
                         "count": 1})
        assert aemu.download(t["content"]).status == 503
        assert aemu.download(t["content"]).status == 200
        aemu.add_faults({"method": "POST", "path": "/rest/api/2/issue/ATT-7/attachments",
                         "action": "status", "status": 502, "count": 1})
        assert aemu.upload("ATT-7", [("f.txt", b"f")]).status == 502
        big = aemu.add_attachment("ATT-7", "big.bin", size=3 << 20)
        aemu.add_faults({"path": "/secure/attachment/%s/" % big["id"], "action": "truncate",
                         "count": 1})
        conn = http.client.HTTPConnection("127.0.0.1", aemu.port, timeout=10)
        conn.request("GET", urllib.parse.urlsplit(big["content"]).path,
                     headers={"Authorization": "Bearer alice-pat"})
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Content-Length") == str(3 << 20)
        with pytest.raises(http.client.IncompleteRead):
            resp.read()
        conn.close()
        log = aemu.requests(path="/secure/attachment/")
        assert [e["fault"] for e in log if e["fault"]][-2:] == ["status", "truncate"]
    finally:
        aemu.clear_faults()


def test_attachment_20mib_download_is_streamed(aemu):
    size = 20 << 20
    a = aemu.add_attachment("ATT-8", "big-dump.bin", size=size, pattern=b"jirafs!\n")
    assert a["size"] == size
    expect = hashlib.sha256((b"jirafs!\n" * (size // 8))).hexdigest()
    assert a["sha256"] == expect
    pid = aemu.proc.pid
    rss0 = _status_kb(pid, "VmRSS")
    try:        # reset the peak (VmHWM) to the current RSS (Linux >= 4.0)
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        peak_reset = True
    except OSError:
        peak_reset = False
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(_status_kb(pid, "VmRSS") or 0)
            time.sleep(0.01)
    th = threading.Thread(target=sample)
    th.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", aemu.port, timeout=30)
        conn.request("GET", urllib.parse.urlsplit(a["content"]).path,
                     headers={"Authorization": "Bearer alice-pat"})
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Content-Length") == str(size)
        assert resp.getheader("Content-Type") == "application/octet-stream"
        h = hashlib.sha256()
        got = 0
        while True:
            chunk = resp.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
            got += len(chunk)
            time.sleep(0.001)        # a slow reader: the server must wait, not buffer
        conn.close()
    finally:
        stop.set()
        th.join()
    assert got == size and h.hexdigest() == expect
    peak = _status_kb(pid, "VmHWM") if peak_reset else max(samples + [rss0])
    grew = (max(peak, max(samples or [0])) - rss0) * 1024
    assert grew < size // 2, "emulator memory grew by %d bytes serving %d" % (grew, size)
    assert aemu.requests()[-1]["bytes"] == size


def test_attachment_state_round_trip(tmp_path):
    e = Emulator.start(tmp_path, seed_projects=["KEEP:3"])
    try:
        blob = random.Random(7).randbytes(300000)
        up = e.upload("KEEP-1", [("blob.bin", blob), ("t\u00e9xt.txt", b"hello\n")])
        assert up.status == 200
        big = e.add_attachment("KEEP-2", "big.bin", size=6 << 20, pattern="abc")
        f = e.add_filter("Keepers", "project = KEEP", owner="bob", favourite_of=["bob", "alice"])
        e.config(attachment_upload_limit=500000, attachment_create_denied=["jdoe"])
        before = [e.issue(k) for k in ("KEEP-1", "KEEP-2")]
        fav = e.rest("GET", "filter/favourite", token="bob-pat").json
        assert e.stop() == 0
        assert os.path.getsize(e.state_path) < 2 << 20      # the 6 MiB pattern is not expanded
        e.restart()
        assert [e.issue(k) for k in ("KEEP-1", "KEEP-2")] == before
        assert e.download(up.json[0]["content"]).body == blob
        assert e.download(up.json[1]["content"]).body == b"hello\n"
        assert e.attachment_info(big["id"])["sha256"] == big["sha256"]
        assert e.config()["attachment_upload_limit"] == 500000
        assert e.config()["attachment_create_denied"] == ["jdoe"]
        assert e.rest("GET", "filter/favourite", token="bob-pat").json == fav
        assert e.rest("GET", "filter/%s" % f["id"]).json["favourite"] is True
        nxt = e.upload("KEEP-3", [("n.txt", b"n")]).json[0]
        assert int(nxt["id"]) > int(big["id"])
        assert int(e.add_filter("Next", "", owner="alice")["id"]) > int(f["id"])
        assert e.state()["attachments"] == 4 and e.state()["filters"] == 2
    finally:
        e.stop()


# ------------------------------------------------------------------ filters
def test_favourite_filters_for_two_users(aemu):
    demo = aemu.rest("GET", "filter/favourite").json
    assert [f["name"] for f in demo] == ["My open SEC tickets"]
    d = demo[0]
    assert d["owner"]["name"] == "alice" and d["favourite"] is True and d["editable"] is True
    assert d["viewUrl"] == "%s/issues/?filter=%s" % (aemu.url, d["id"])
    assert d["searchUrl"].startswith(aemu.url + "/rest/api/2/search?jql=project+%3D+SEC+AND+")
    assert d["sharePermissions"] == [] and d["sharedUsers"]["size"] == 0
    assert set(d) >= {"self", "id", "name", "description", "owner", "jql", "viewUrl",
                      "searchUrl", "favourite", "sharePermissions", "editable",
                      "sharedUsers", "subscriptions"}
    # its JQL runs in the emulator's engine: alice's unresolved SEC tickets
    want = {i["key"] for i in aemu.issues("SEC")
            if (i["fields"]["assignee"] or {}).get("name") == "alice"
            and i["fields"]["resolution"] is None}
    assert want and set(all_keys(aemu, d["jql"])) == want
    assert set(all_keys(aemu, "filter = %s" % d["id"])) == want
    assert set(all_keys(aemu, 'filter = "my open sec tickets"')) == want
    r = aemu.rest("GET", "search", token=None, query={"jql": "filter = %s" % d["id"]})
    assert r.status == 400 and "does not exist for the field 'filter'" in r.json[
        "errorMessages"][0]                 # anonymous: alice's filter is not visible
    # two users, their own favourites
    both = aemu.add_filter("Ops work", 'project = OPS AND text ~ "backup"', owner="bob",
                           favourite_of=["bob", "alice"], description="Backups")
    bobs = aemu.add_filter("Bob only", "project = WEB", owner="bob", favourite_of=["bob"])
    shared = aemu.add_filter("Everybody's", "type = Bug", owner="jdoe", shared=True,
                             favourite_of=["bob"])
    assert both["favourite_of"] == ["bob", "alice"]
    alice = aemu.rest("GET", "filter/favourite").json
    bob = aemu.rest("GET", "filter/favourite", token="bob-pat").json
    assert [f["name"] for f in alice] == ["My open SEC tickets", "Ops work"]
    assert [f["name"] for f in bob] == ["Ops work", "Bob only", "Everybody's"]
    assert all(f["favourite"] for f in alice + bob)
    ops_a = [f for f in alice if f["name"] == "Ops work"][0]
    ops_b = [f for f in bob if f["name"] == "Ops work"][0]
    assert ops_a["editable"] is False and ops_b["editable"] is True
    assert ops_a["description"] == "Backups" and ops_a["jql"] == 'project = OPS AND text ~ "backup"'
    assert ops_a["searchUrl"].endswith("/search?jql=project+%3D+OPS+AND+text+~+%22backup%22")
    assert "description" not in [f for f in bob if f["name"] == "Bob only"][0]
    assert aemu.rest("GET", "filter/favourite", token="jdoe-pat").json == []
    assert aemu.rest("GET", "filter/favourite", token=None).json == []
    # filter/{id}: what the caller can see, with the caller's favourite flag
    r = aemu.rest("GET", "filter/" + shared["id"])
    assert r.status == 200 and r.json["favourite"] is False
    assert r.json["sharePermissions"] == [{"id": int(shared["id"]), "type": "global"}]
    r = aemu.rest("GET", "filter/" + shared["id"], query={"expand": "sharedUsers"})
    assert len(r.json["sharedUsers"]["items"]) == r.json["sharedUsers"]["size"] == 4
    anon = aemu.rest("GET", "filter/" + shared["id"], token=None).json
    assert "jql" not in anon and "searchUrl" not in anon and anon["favourite"] is False
    for fid, tok in ((bobs["id"], "alice-pat"), (d["id"], "bob-pat"), ("99999", "alice-pat"),
                     ("abc", "alice-pat"), (bobs["id"], None)):
        r = aemu.rest("GET", "filter/" + fid, token=tok)
        assert r.status == 400 and r.json == {"errorMessages": [
            "The selected filter is not available to you, perhaps it has been deleted or "
            "had its permissions changed."], "errors": {}}, (fid, tok)
    # JQL filter clause: only the caller's filters
    r = search(aemu, "filter = %s" % bobs["id"])
    assert r.status == 400 and r.json["errorMessages"] == [
        "The value '%s' does not exist for the field 'filter'." % bobs["id"]]
    r = aemu.rest("GET", "search", token="bob-pat",
                  query={"jql": "filter = %s AND status = Open" % bobs["id"], "maxResults": 0})
    assert r.status == 200 and r.json["total"] == sum(
        1 for i in aemu.issues("WEB") if i["fields"]["status"]["name"] == "Open")
    loop = aemu.add_filter("Loop", "project = SEC", owner="alice")
    assert search(aemu, "filter != %s AND project = SEC" % loop["id"], maxResults=0
                  ).json["total"] == 0
    aemu.delete_filter(loop["id"])
    assert aemu.rest("GET", "filter/" + loop["id"]).status == 400
    ref = aemu.add_filter("Ref", 'filter = "Cyc"', owner="alice")
    cyc = aemu.add_filter("Cyc", "filter = Ref OR project = OPS", owner="alice")
    r = search(aemu, "filter = Cyc")
    assert r.status == 400 and "refers to itself" in r.json["errorMessages"][0]
    aemu.delete_filter(ref["id"])
    r = search(aemu, "filter = Cyc")        # Ref is gone: its clause is an unknown value
    assert r.status == 400 and r.json["errorMessages"] == [
        "The value 'Ref' does not exist for the field 'filter'."]
    aemu.delete_filter(cyc["id"])


# ------------------------------------------------------------------ JQL validation
def test_jql_strict_validation_with_max_results_0(emu):
    for post in (False, True):
        def run(jql):
            if post:
                return emu.rest("POST", "search", {"jql": jql, "maxResults": 0,
                                                   "validateQuery": True})
            return search(emu, jql, maxResults=0, validateQuery="true")
        r = run("project = SEC AND nosuchfield = 1")
        assert r.status == 400 and r.json == {"errorMessages": [
            "Field 'nosuchfield' does not exist or you do not have permission to view it."],
            "errors": {}}
        for bad in ("project = SEC AND (status = Open", "project = SEC ORDER BY",
                    "summary ~ \"x", "project in SEC", "= Open"):
            r = run(bad)
            assert r.status == 400, (bad, r.body)
            assert r.json["errorMessages"][0].startswith("Error in the JQL Query: "), bad
            assert r.json["errors"] == {}
        r = run("project = NOPE")
        assert r.status == 400 and r.json["errorMessages"] == [
            "The value 'NOPE' does not exist for the field 'project'."]
        r = run('project = SEC AND status = Open ORDER BY priority DESC')
        assert r.status == 200 and r.json["issues"] == [] and r.json["maxResults"] == 0
        assert r.json["total"] == sum(1 for i in emu.issues("SEC")
                                      if i["fields"]["status"]["name"] == "Open")
        assert "warningMessages" not in r.json
        r = run("")
        assert r.status == 200 and r.json["total"] >= len(emu.issues("SEC"))


# ------------------------------------------------------------------ python-jira
def test_python_jira_attachments_and_filters(aemu, tmp_path):
    jira = pytest.importorskip("jira")
    j = jira.JIRA(server=aemu.url, token_auth="alice-pat")
    p = tmp_path / "evidence log.txt"
    p.write_bytes(b"python-jira was here\n" * 100)
    att = j.add_attachment("ATT-9", str(p))
    assert att.filename == "evidence log.txt" and att.size == 2100
    assert att.mimeType == "text/plain" and att.author.name == "alice"
    got = j.attachment(att.id)
    assert got.filename == "evidence log.txt" and got.get() == p.read_bytes()
    assert b"".join(got.iter_content(256)) == p.read_bytes()
    assert j.attachment_meta() == {"enabled": True, "uploadLimit": 10485760}
    issue = j.issue("ATT-9")
    assert [a.filename for a in issue.fields.attachment] == ["evidence log.txt"]
    assert issue.fields.attachment[0].get() == p.read_bytes()
    j.delete_attachment(att.id)
    assert j.issue("ATT-9").fields.attachment == []
    with pytest.raises(jira.JIRAError) as ei:
        j.attachment(att.id)
    assert ei.value.status_code == 404
    favs = j.favourite_filters()
    assert "My open SEC tickets" in [f.name for f in favs]
    f = [f for f in favs if f.name == "My open SEC tickets"][0]
    assert j.filter(f.id).jql == f.jql and f.owner.name == "alice"
    assert {i.key for i in j.search_issues(f.jql, maxResults=False)} == set(
        all_keys(aemu, "filter = %s" % f.id))


# ------------------------------------------------------------------ permissions
PERMISSION_FACTS = {    # key: (id, name, type), as a Jira Server answered them
    "BROWSE_PROJECTS": ("10", "Browse Projects", "PROJECT"),
    "CREATE_ISSUES": ("11", "Create Issues", "PROJECT"),
    "EDIT_ISSUES": ("12", "Edit Issues", "PROJECT"),
    "ASSIGN_ISSUES": ("13", "Assign Issues", "PROJECT"),
    "RESOLVE_ISSUES": ("14", "Resolve Issues", "PROJECT"),
    "ADD_COMMENTS": ("15", "Add Comments", "PROJECT"),
    "CLOSE_ISSUES": ("18", "Close Issues", "PROJECT"),
    "CREATE_ATTACHMENTS": ("19", "Create Attachments", "PROJECT"),
    "ADMINISTER_PROJECTS": ("23", "Administer Projects", "PROJECT"),
    "DELETE_ALL_ATTACHMENTS": ("38", "Delete All Attachments", "PROJECT"),
    "DELETE_OWN_ATTACHMENTS": ("39", "Delete Own Attachments", "PROJECT"),
    "TRANSITION_ISSUES": ("46", "Transition Issues", "PROJECT"),
    "ADMINISTER": ("0", "Jira Administrators", "GLOBAL"),
    "SYSTEM_ADMIN": ("44", "Jira System Administrators", "GLOBAL"),
}
NEED_LOGIN = {"message": "Client must be authenticated to access this resource.",
              "status-code": 401}


@pytest.fixture(scope="module")
def pemu(tmp_path_factory):
    """An emulator of its own: the permission tests change settings."""
    e = Emulator.start(tmp_path_factory.mktemp("pemu"), seed="demo",
                       seed_projects=["PRM:8:0"], state=False)
    e.create_project("PRV", "Private", browse=["bob"])
    e.seed("PRV", 1)
    yield e
    assert e.stop() == 0


def _have(r):
    assert r.status == 200, r.body
    return {k: v["havePermission"] for k, v in r.json["permissions"].items()}


def test_mypermissions_shape_and_catalogue(pemu):
    r = pemu.my_permissions()
    perms = r.json["permissions"]
    for key, (pid, name, typ) in PERMISSION_FACTS.items():
        p = perms[key]
        assert (p["id"], p["key"], p["name"], p["type"]) == (pid, key, name, typ), key
        assert list(p) == ["id", "key", "name", "type", "description", "havePermission"]
        assert p["description"] and p["havePermission"] in (True, False)
    assert perms["BROWSE_PROJECTS"]["description"] == \
        "Ability to browse projects and the issues within them."
    # the deprecated aliases ride along, flagged, with the new key's id and answer
    for old, new in (("BROWSE", "BROWSE_PROJECTS"), ("EDIT_ISSUE", "EDIT_ISSUES"),
                     ("COMMENT_ISSUE", "ADD_COMMENTS"), ("CREATE_ATTACHMENT", "CREATE_ATTACHMENTS"),
                     ("ATTACHMENT_DELETE_OWN", "DELETE_OWN_ATTACHMENTS"),
                     ("TRANSITION_ISSUE", "TRANSITION_ISSUES")):
        assert perms[old]["deprecatedKey"] is True and perms[old]["key"] == old
        assert perms[old]["id"] == perms[new]["id"]
        assert perms[old]["havePermission"] == perms[new]["havePermission"]
        assert "deprecatedKey" not in perms[new]
    assert len(perms) == 66 and sum("deprecatedKey" in p for p in perms.values()) == 28
    assert all(p["type"] in ("PROJECT", "GLOBAL") for p in perms.values())
    # DC ignores "permissions": the same full answer
    assert pemu.my_permissions(permissions=["BROWSE_PROJECTS", "NOPE"]).json == r.json
    # the default scheme: every user may browse, create, edit, comment, transition...;
    # alice leads SEC (Administrators: delete all attachments, administer projects); nobody
    # is a Jira administrator until config administrators says so
    have = _have(r)
    for k in ("BROWSE_PROJECTS", "CREATE_ISSUES", "EDIT_ISSUES", "ADD_COMMENTS",
              "TRANSITION_ISSUES", "RESOLVE_ISSUES", "CLOSE_ISSUES", "ASSIGN_ISSUES",
              "CREATE_ATTACHMENTS", "DELETE_OWN_ATTACHMENTS", "DELETE_ALL_ATTACHMENTS",
              "ADMINISTER_PROJECTS", "BULK_CHANGE", "USER_PICKER"):
        assert have[k] is True, k
    assert have["ADMINISTER"] is False and have["SYSTEM_ADMIN"] is False
    assert have["SET_ISSUE_SECURITY"] is False
    # nucleus-bot leads nothing: no project where it is an Administrator
    bot = _have(pemu.my_permissions(token="bot-pat"))
    assert bot["ADMINISTER_PROJECTS"] is False and bot["DELETE_ALL_ATTACHMENTS"] is False
    assert bot["EDIT_ISSUES"] is True
    try:
        pemu.config(administrators=["nucleus-bot"])
        bot = _have(pemu.my_permissions(token="bot-pat"))
        assert bot["ADMINISTER"] is True and bot["SYSTEM_ADMIN"] is True
        assert bot["ADMINISTER_PROJECTS"] is False      # a global admin is not a project admin
        assert _have(pemu.my_permissions())["ADMINISTER"] is False
    finally:
        pemu.config(administrators=[])
    with pytest.raises(EmulatorError):
        pemu.config(administrators=["nobody"])
    # HEAD as GET, no body
    r = pemu.rest("HEAD", "mypermissions")
    assert r.status == 200 and r.body == b""


def test_mypermissions_context_and_errors(pemu):
    sec = pemu.rest("GET", "project/SEC").json
    # project context: alice leads SEC, bob leads OPS
    a = _have(pemu.my_permissions(project_key="SEC"))
    assert a["ADMINISTER_PROJECTS"] and a["DELETE_ALL_ATTACHMENTS"] and a["BROWSE_PROJECTS"]
    a = _have(pemu.my_permissions(project_key="OPS"))
    assert not a["ADMINISTER_PROJECTS"] and not a["DELETE_ALL_ATTACHMENTS"]
    assert a["DELETE_OWN_ATTACHMENTS"] and a["EDIT_ISSUES"]
    assert _have(pemu.my_permissions(project_id=sec["id"]))["ADMINISTER_PROJECTS"]
    assert _have(pemu.my_permissions(project_key="OPS", token="bob-pat"))["ADMINISTER_PROJECTS"]
    # issue context: the issue's project (the issue wins over a project given too)
    i = pemu.rest("GET", "issue/SEC-1").json
    assert _have(pemu.my_permissions(issue_key="SEC-1"))["ADMINISTER_PROJECTS"]
    assert _have(pemu.my_permissions(issue_id=i["id"]))["ADMINISTER_PROJECTS"]
    assert _have(pemu.my_permissions(issue_key="sec-1"))["ADMINISTER_PROJECTS"]
    assert _have(pemu.my_permissions(project_key="OPS", issue_key="SEC-1"))[
        "ADMINISTER_PROJECTS"]
    # a project or issue the caller cannot browse: found all the same, nothing held there
    prv = _have(pemu.my_permissions(project_key="PRV"))
    assert prv["BROWSE_PROJECTS"] is False and prv["CREATE_ISSUES"] is False
    assert prv["BROWSE"] is False and prv["BULK_CHANGE"] is True     # global: any context
    assert _have(pemu.my_permissions(issue_key="PRV-1"))["EDIT_ISSUES"] is False
    assert _have(pemu.my_permissions(project_key="PRV", token="bob-pat"))["BROWSE_PROJECTS"]

    def errs(**kw):
        r = pemu.my_permissions(**kw)
        return r.status, r.json
    assert errs(project_key="NOPE") == (404, {"errorMessages": [
        "Could not find project with key NOPE"], "errors": {}})
    assert errs(project_key="sec")[0] == 404          # getProjectObjByKey: case-sensitive
    assert errs(project_id="99999") == (404, {"errorMessages": [
        "Could not find project with id 99999"], "errors": {}})
    assert errs(project_id="SEC") == (400, {"errorMessages": [
        "projectId provided is not valid"], "errors": {}})
    assert errs(issue_key="SEC-999") == (404, {"errorMessages": [
        "Could not find issue with key SEC-999"], "errors": {}})
    assert errs(issue_id="1") == (404, {"errorMessages": [
        "Could not find issue with id 1"], "errors": {}})
    assert errs(issue_id="x") == (400, {"errorMessages": [
        "issueId provided is not valid"], "errors": {}})
    # both lookups run; a missing one makes it a 404; projectId before projectKey
    assert errs(project_id="x", issue_key="SEC-999") == (404, {"errorMessages": [
        "projectId provided is not valid", "Could not find issue with key SEC-999"],
        "errors": {}})
    assert errs(project_id="x", issue_id="y")[0] == 400
    assert errs(project_id="99999", project_key="SEC")[0] == 404
    # blank parameters count as absent
    assert pemu.my_permissions(project_key="", issue_id=" ").status == 200


def test_mypermissions_anonymous_and_cloud_mode(pemu):
    r = pemu.my_permissions(token=None)
    assert r.status == 401 and r.json == NEED_LOGIN
    r = pemu.my_permissions(token="not-a-pat")      # a bad PAT is anonymous
    assert r.status == 401 and r.json == NEED_LOGIN
    assert r.header("X-Seraph-LoginReason") == "AUTHENTICATED_FAILED"
    try:
        pemu.config(mypermissions_anonymous=True)      # the @AnonymousAllowed resource
        have = _have(pemu.my_permissions(token=None))
        assert not any(have.values())
        assert pemu.my_permissions(token=None, project_key="NOPE").status == 404
    finally:
        pemu.config(mypermissions_anonymous=False)
    try:
        pemu.config(mypermissions_keys_required=True)   # Jira Cloud's rule
        r = pemu.my_permissions()
        assert r.status == 400 and r.json == {"errorMessages": [
            "The 'permissions' query parameter is required."], "errors": {}}
        r = pemu.my_permissions(permissions=["BROWSE_PROJECTS", "CREATE_ISSUES"],
                                project_key="SEC")
        assert sorted(r.json["permissions"]) == ["BROWSE_PROJECTS", "CREATE_ISSUES"]
        assert "deprecatedKey" not in r.json["permissions"]["CREATE_ISSUES"]
        r = pemu.my_permissions(permissions="BROWSE_PROJECTS,NOPE")
        assert r.status == 400 and r.json["errorMessages"]
    finally:
        pemu.config(mypermissions_keys_required=False)
    assert len(pemu.my_permissions(permissions="BROWSE_PROJECTS").json["permissions"]) == 66


def test_permissions_denied_in_operations(pemu):
    with pytest.raises(EmulatorError):
        pemu.config(permissions_denied={"nobody": ["EDIT_ISSUES"]})
    with pytest.raises(EmulatorError):
        pemu.config(permissions_denied={"bob": ["EDIT_ISSUE"]})     # deprecated keys: no
    with pytest.raises(EmulatorError):
        pemu.config(permissions_denied=["bob"])
    new = {"fields": {"project": {"key": "PRM"}, "issuetype": {"name": "Task"},
                      "summary": "denied?"}}
    try:
        pemu.config(permissions_denied={"bob": [
            "CREATE_ISSUES", "EDIT_ISSUES", "ADD_COMMENTS", "ASSIGN_ISSUES"],
            "jdoe": ["RESOLVE_ISSUES"], "nucleus-bot": ["TRANSITION_ISSUES"]})
        assert pemu.config()["permissions_denied"]["bob"] == [
            "ADD_COMMENTS", "ASSIGN_ISSUES", "CREATE_ISSUES", "EDIT_ISSUES"]
        have = _have(pemu.my_permissions(project_key="PRM", token="bob-pat"))
        for k in ("CREATE_ISSUES", "EDIT_ISSUES", "ADD_COMMENTS", "ASSIGN_ISSUES",
                  "CREATE_ISSUE", "EDIT_ISSUE", "COMMENT_ISSUE", "ASSIGN_ISSUE"):
            assert have[k] is False, k
        assert have["BROWSE_PROJECTS"] and have["TRANSITION_ISSUES"]
        assert _have(pemu.my_permissions(token="bob-pat"))["EDIT_ISSUES"] is False
        # create: 403 on the project field
        r = pemu.rest("POST", "issue", new, token="bob-pat")
        assert r.status == 403 and r.json == {"errorMessages": [], "errors": {
            "project": "You do not have permission to create issues in this project."}}
        assert pemu.rest("POST", "issue", new).status == 201
        # edit and issue properties: 403; the issue is unchanged
        r = pemu.rest("PUT", "issue/PRM-1", {"fields": {"summary": "x"}}, token="bob-pat")
        assert r.status == 403 and r.json == {"errorMessages": [
            "You do not have permission to edit issues in this project."], "errors": {}}
        assert pemu.issue("PRM-1")["fields"]["summary"] != "x"
        r = pemu.rest("PUT", "issue/PRM-1/properties/p", {"a": 1}, token="bob-pat")
        assert r.status == 403 and r.json["errorMessages"] == [
            "You do not have permission to edit issues in this project."]
        assert pemu.rest("PUT", "issue/PRM-1/properties/p", {"a": 1}).status == 201
        assert pemu.rest("DELETE", "issue/PRM-1/properties/p", token="bob-pat").status == 403
        # a browse-less issue stays 404 before any permission
        assert pemu.rest("PUT", "issue/PRV-1", {"fields": {"summary": "x"}}).status == 404
        # comment: 400 with the caller's display name
        r = pemu.rest("POST", "issue/PRM-1/comment", {"body": "hi"}, token="bob-pat")
        assert r.status == 400 and r.json == {"errorMessages": [
            "Bob Brennan, you do not have the permission to comment on this issue."],
            "errors": {}}
        assert pemu.rest("POST", "issue/PRM-1/comment", {"body": "hi"}).status == 201
        # assign: the assignee field is off the screen
        r = pemu.rest("POST", "issue", {"fields": dict(new["fields"], assignee={"name": "bob"})},
                      token="jdoe-pat")
        assert r.status == 201
        pemu.config(permissions_denied={"bob": ["ASSIGN_ISSUES"], "jdoe": ["RESOLVE_ISSUES"],
                                        "nucleus-bot": ["TRANSITION_ISSUES"]})
        off = "Field 'assignee' cannot be set. It is not on the appropriate screen, or unknown."
        r = pemu.rest("PUT", "issue/PRM-2", {"fields": {"assignee": {"name": "bob"}}},
                      token="bob-pat")
        assert r.status == 400 and r.json["errors"] == {"assignee": off}
        r = pemu.rest("PUT", "issue/PRM-2", {"update": {"assignee": [{"set": {"name": "bob"}}]}},
                      token="bob-pat")
        assert r.status == 400 and r.json["errors"] == {"assignee": off}
        assert pemu.rest("PUT", "issue/PRM-2", {"fields": {"summary": "bob was here"}},
                         token="bob-pat").status == 204
        r = pemu.rest("POST", "issue", {"fields": dict(new["fields"], assignee={"name": "bob"})},
                      token="bob-pat")
        assert r.status == 400 and r.json["errors"] == {"assignee": off}
        r = pemu.rest("GET", "issue/PRM-2/transitions", token="bob-pat",
                      query={"expand": "transitions.fields", "transitionId": "5"})
        assert sorted(r.json["transitions"][0]["fields"]) == ["fixVersions", "resolution"]
        r = pemu.rest("POST", "issue/PRM-2/transitions", {
            "transition": {"id": "5"}, "fields": {"resolution": {"name": "Done"},
                                                  "assignee": {"name": "bob"}}},
            token="bob-pat")
        assert r.status == 400 and r.json["errors"] == {"assignee": off}
        em = pemu.rest("GET", "issue/PRM-2", token="bob-pat",
                       query={"expand": "editmeta"}).json["editmeta"]["fields"]
        assert "assignee" not in em and "summary" in em
        # transitions: Transition Issues for all, Resolve/Close for the classic conditions
        ids = lambda tok: [t["id"] for t in pemu.rest(     # noqa: E731
            "GET", "issue/PRM-3/transitions", token=tok).json["transitions"]]
        assert ids("alice-pat") == ["4", "5", "2"]
        assert ids("jdoe-pat") == ["4"]                     # no Resolve: no 5, no 2
        assert ids("bot-pat") == []
        r = pemu.rest("POST", "issue/PRM-3/transitions", {"transition": {"id": "5"},
                      "fields": {"resolution": {"name": "Done"}}}, token="jdoe-pat")
        assert r.status == 400 and r.json["errorMessages"][0].startswith(
            "It seems that you have tried to perform a workflow operation (Resolve Issue) "
            "that is not valid for the current state of this issue (PRM-3).")
        assert pemu.issue("PRM-3")["fields"]["status"]["name"] == "Open"
        assert pemu.rest("POST", "issue/PRM-3/transitions", {"transition": {"id": "4"}},
                         token="bot-pat").status == 400
        t = pemu.rest("GET", "issue/PRM-3", token="jdoe-pat",
                      query={"expand": "transitions"}).json["transitions"]
        assert [x["id"] for x in t] == ["4"]
        jd = _have(pemu.my_permissions(issue_key="PRM-3", token="jdoe-pat"))
        assert jd["RESOLVE_ISSUES"] is False and jd["CLOSE_ISSUES"] is True
        pemu.config(permissions_denied={"jdoe": ["CLOSE_ISSUES"]})
        assert ids("jdoe-pat") == ["4", "5"]
        assert pemu.rest("POST", "issue/PRM-3/transitions", {"transition": {"id": "5"},
                         "fields": {"resolution": {"name": "Done"}}},
                         token="jdoe-pat").status == 204
        assert [t["id"] for t in pemu.rest("GET", "issue/PRM-3/transitions",
                                           token="jdoe-pat").json["transitions"]] == ["3"]
        # browse: the user sees nothing, everything is 404
        pemu.config(permissions_denied={"jdoe": ["BROWSE_PROJECTS"]})
        assert pemu.rest("GET", "issue/PRM-1", token="jdoe-pat").status == 404
        r = pemu.rest("GET", "search", query={"jql": "project = PRM"}, token="jdoe-pat")
        assert r.status == 400 and r.json["errorMessages"] == [
            "The value 'PRM' does not exist for the field 'project'."]
        r = pemu.rest("GET", "search", query={"jql": "order by key"}, token="jdoe-pat")
        assert r.status == 200 and r.json["total"] == 0
        assert pemu.rest("GET", "project", token="jdoe-pat").json == []
        jd = _have(pemu.my_permissions(token="jdoe-pat"))
        assert jd["BROWSE_PROJECTS"] is False and jd["EDIT_ISSUES"] is False
        assert jd["BULK_CHANGE"] is True
    finally:
        pemu.config(permissions_denied={})
    assert pemu.rest("GET", "issue/PRM-1", token="jdoe-pat").status == 200
    assert pemu.rest("PUT", "issue/PRM-1", {"fields": {"summary": "ok"}},
                     token="bob-pat").status == 204
    assert pemu.rest("POST", "issue/PRM-1/comment", {"body": "ok"}, token="bob-pat").status == 201


def test_permissions_attachments(pemu):
    def have(tok, key="PRM"):
        return _have(pemu.my_permissions(project_key=key, token=tok))
    assert have("bob-pat")["CREATE_ATTACHMENTS"] is True
    try:
        pemu.config(attachment_create_denied=["bob"])
        assert have("bob-pat")["CREATE_ATTACHMENTS"] is False
        assert have("bob-pat")["CREATE_ATTACHMENT"] is False
        assert have("jdoe-pat")["CREATE_ATTACHMENTS"] is True
        pemu.config(attachment_create_denied=[], attachments_enabled=False)
        assert have("bob-pat")["CREATE_ATTACHMENTS"] is False
        pemu.config(attachments_enabled=True,
                    permissions_denied={"bob": ["CREATE_ATTACHMENTS", "DELETE_OWN_ATTACHMENTS"],
                                        "alice": ["DELETE_ALL_ATTACHMENTS"]})
        assert have("bob-pat")["CREATE_ATTACHMENTS"] is False
        r = pemu.upload("PRM-4", [("b.txt", b"b")], token="bob-pat")
        assert r.status == 403 and r.json == NO_CREATE
        mine = pemu.add_attachment("PRM-4", "bob.txt", content="b", author="bob")
        assert have("bob-pat")["DELETE_OWN_ATTACHMENTS"] is False
        r = pemu.rest("DELETE", "attachment/" + mine["id"], token="bob-pat")
        assert r.status == 403
        assert have("alice-pat")["DELETE_ALL_ATTACHMENTS"] is False     # alice leads PRM
        assert pemu.rest("DELETE", "attachment/" + mine["id"]).status == 403
        pemu.config(permissions_denied={})
        assert have("alice-pat")["DELETE_ALL_ATTACHMENTS"] is True
        assert have("bob-pat")["DELETE_ALL_ATTACHMENTS"] is False
        assert pemu.rest("DELETE", "attachment/" + mine["id"], token="bob-pat").status == 204
    finally:
        pemu.config(attachment_create_denied=[], attachments_enabled=True,
                    permissions_denied={})


def test_python_jira_my_permissions(pemu):
    jira = pytest.importorskip("jira")
    j = jira.JIRA(server=pemu.url, token_auth="alice-pat")
    perms = j.my_permissions(projectKey="SEC")["permissions"]
    assert perms["BROWSE_PROJECTS"]["havePermission"] is True
    assert perms["ADMINISTER"]["havePermission"] is False
    with pytest.raises(jira.JIRAError) as ei:
        j.my_permissions(projectKey="NOPE")
    assert ei.value.status_code == 404


# ------------------------------------------------------------------ jirafs check settings
@pytest.fixture(scope="module")
def cemu(tmp_path_factory):
    """An emulator of its own (with a state file): server_version, deployment_type,
    site_fields and required_fields."""
    e = Emulator.start(tmp_path_factory.mktemp("cemu"), seed="demo", state=True)
    yield e
    assert e.stop() == 0


def test_server_version_and_deployment_type(cemu):
    info = cemu.rest("GET", "serverInfo", token=None).json
    assert (info["version"], info["versionNumbers"], info["deploymentType"],
            info["buildNumber"], info["databaseBuildNumber"]) == (
        "10.3.4", [10, 3, 4], "Server", 10030004, 10030004)
    cfg = cemu.config()
    assert cfg["server_version"] == "10.3.4" and cfg["deployment_type"] == "Server"
    try:
        for version, nums, build in (("8.5.3", [8, 5, 3], 805003),
                                     ("9.12.15", [9, 12, 15], 9120015),
                                     ("10.3.19", [10, 3, 19], 10030019),
                                     ("8.13", [8, 13, 0], 813000)):
            cemu.config(server_version=version)
            info = cemu.rest("GET", "serverInfo", token=None).json
            assert (info["version"], info["versionNumbers"], info["buildNumber"]) == (
                version, nums, build)
        for dt in ("Data Center", "Cloud", "Server"):
            cemu.config(deployment_type=dt)
            assert cemu.rest("GET", "serverInfo").json["deploymentType"] == dt
        for bad in ({"server_version": "10"}, {"server_version": "ten"},
                    {"server_version": 10.3}, {"deployment_type": "DC"}):
            with pytest.raises(EmulatorError):
                cemu.config(**bad)
    finally:
        cemu.config(server_version="10.3.4", deployment_type="Server")
    assert cemu.rest("GET", "serverInfo").json["version"] == "10.3.4"


def test_server_version_gates_pat_and_oauth2(cemu):
    cemu.oauth2_client("chk-app", "chk-secret", "https://app.example.test/cb")
    o2 = cemu.oauth2_token("chk-app", user="bob")["access_token"]
    assert cemu.rest("GET", "myself", token=o2).json["name"] == "bob"
    try:
        # before 8.14 there are no PATs: the Bearer header is ignored (anonymous)
        cemu.config(server_version="8.13.0")
        r = cemu.rest("GET", "myself")
        assert r.status == 401 and r.json == {"errorMessages": [
            "You are not authenticated. Authentication required to perform this operation."],
            "errors": {}}
        assert r.header("X-AUSERNAME") == "anonymous"
        assert r.header("X-Seraph-LoginReason") is None
        assert cemu.rest("GET", "myself", token=o2).status == 401
        assert cemu.rest("GET", "serverInfo").status == 200
        r = cemu.rest("GET", "myself", basic=("alice", "alice-pass"))
        assert r.status == 200 and r.json["name"] == "alice"
        # nor an OAuth 2.0 provider before 8.22
        r = cemu.rest("POST", "/rest/oauth2/latest/token", "grant_type=x",
                      content_type="application/x-www-form-urlencoded")
        assert r.status == 404 and r.json["status-code"] == 404
        r = cemu.http("GET", "/rest/oauth2/latest/authorize?client_id=chk-app"
                             "&response_type=code", follow_redirects=False)
        assert r.status == 404
        # 8.14 .. 8.21: PATs, but an OAuth 2.0 token is an unknown PAT
        cemu.config(server_version="8.21.1")
        assert cemu.rest("GET", "myself").json["name"] == "alice"
        r = cemu.rest("GET", "myself", token=o2)
        assert r.status == 401 and r.header("X-Seraph-LoginReason") == "AUTHENTICATED_FAILED"
        assert cemu.rest("POST", "/rest/oauth2/latest/token", "grant_type=x",
                         content_type="application/x-www-form-urlencoded").status == 404
        cemu.config(server_version="8.22.0")
        assert cemu.rest("GET", "myself", token=o2).json["name"] == "bob"
        assert cemu.rest("POST", "/rest/oauth2/latest/token", "grant_type=x",
                         content_type="application/x-www-form-urlencoded").status != 404
    finally:
        cemu.config(server_version="10.3.4")
    assert cemu.rest("GET", "myself").json["name"] == "alice"


def _cnew(emu, project, issuetype="Task", token="alice-pat", **fields):
    f = {"project": {"key": project}, "issuetype": {"name": issuetype}, "summary": "check"}
    f.update(fields)
    return emu.rest("POST", "issue", {"fields": f}, token=token)


def _meta(emu, project, tid):
    r = emu.rest("GET", "issue/createmeta/%s/issuetypes/%s" % (project, tid))
    assert r.status == 200, r.body
    return {v["fieldId"]: v for v in r.json["values"]}


def test_required_custom_field(cemu):
    team = {"id": "customfield_10200", "name": "Team"}
    assert "customfield_10200" not in {f["id"] for f in cemu.rest("GET", "field").json}
    assert "customfield_10200" not in cemu.issue("OPS-1")["fields"]
    try:
        cfg = cemu.config(site_fields=[team, {"id": "customfield_10201",
                                              "name": "Business unit"}],
                          required_fields={"OPS": {"*": ["Team"], "Bug": []},
                                           "web": {"Story": ["customfield_10201",
                                                             "components"]}})
        assert cfg["required_fields"] == {"OPS": {"*": ["customfield_10200"], "1": []},
                                          "WEB": {"10001": ["customfield_10201",
                                                            "components"]}}
        # the field exists: GET field, every issue (null), createmeta
        f = {x["id"]: x for x in cemu.rest("GET", "field").json}["customfield_10200"]
        assert f == {"id": "customfield_10200", "name": "Team", "custom": True,
                     "orderable": True, "navigable": True, "searchable": True,
                     "clauseNames": ["cf[10200]", "Team"],
                     "schema": {"type": "string", "custom": "com.atlassian.jira.plugin.system."
                                "customfieldtypes:textfield", "customId": 10200}}
        assert cemu.issue("OPS-1")["fields"]["customfield_10200"] is None
        m = _meta(cemu, "OPS", 3)
        assert m["customfield_10200"] == {
            "required": True, "schema": f["schema"], "name": "Team",
            "fieldId": "customfield_10200", "hasDefaultValue": False, "operations": ["set"]}
        assert m["customfield_10201"]["required"] is False
        assert m["summary"]["required"] is True and m["priority"]["hasDefaultValue"] is True
        assert _meta(cemu, "OPS", 1)["customfield_10200"]["required"] is False  # Bug: []
        assert _meta(cemu, "SEC", 3)["customfield_10200"]["required"] is False
        w = _meta(cemu, "WEB", 10001)
        assert w["customfield_10201"]["required"] is True and w["components"]["required"]
        assert w["customfield_10200"]["required"] is False
        # a create without it: 400 "<name> is required."
        r = _cnew(cemu, "OPS")
        assert r.status == 400 and r.json == {
            "errorMessages": [], "errors": {"customfield_10200": "Team is required."}}
        for empty in (None, "", "  "):
            r = _cnew(cemu, "OPS", customfield_10200=empty)
            assert r.json == {"errorMessages": [],
                              "errors": {"customfield_10200": "Team is required."}}, empty
        r = _cnew(cemu, "OPS", summary=None)
        assert r.status == 400 and set(r.json["errors"]) == {"summary", "customfield_10200"}
        r = _cnew(cemu, "WEB", "Story")
        assert r.status == 400 and r.json["errors"] == {
            "customfield_10201": "Business unit is required.",
            "components": "Component/s is required."}
        assert _cnew(cemu, "OPS", "Bug").status == 201
        assert _cnew(cemu, "SEC").status == 201
        r = _cnew(cemu, "OPS", customfield_10200="Blue team")
        assert r.status == 201, r.body
        key = r.json["key"]
        assert cemu.issue(key)["fields"]["customfield_10200"] == "Blue team"
        assert all_keys(cemu, 'project = OPS AND Team ~ "blue"') == [key]
        assert all_keys(cemu, 'project = OPS AND cf[10200] is not EMPTY') == [key]
        # editmeta says so; an edit may not empty it, others edits are fine
        em = cemu.rest("GET", "issue/" + key, query={"expand": "editmeta"}).json["editmeta"]
        assert em["fields"]["customfield_10200"]["required"] is True
        r = cemu.rest("PUT", "issue/" + key, {"fields": {"customfield_10200": None}})
        assert r.status == 400 and r.json["errors"] == {
            "customfield_10200": "Team is required."}
        assert cemu.rest("PUT", "issue/OPS-1", {"fields": {"summary": "still fine"}}
                         ).status == 204
        assert cemu.rest("PUT", "issue/" + key, {"fields": {"customfield_10200": "Red"}}
                         ).status == 204
        # "*" for every project without an entry of its own
        cemu.config(required_fields={"*": {"*": ["customfield_10200"]}})
        assert _cnew(cemu, "SEC").json["errors"] == {"customfield_10200": "Team is required."}
        assert _meta(cemu, "WEB", 1)["customfield_10200"]["required"] is True
        for bad in ({"required_fields": {"OPS": {"*": ["customfield_10299"]}}},
                    {"required_fields": {"OPS": {"Epic": ["Team"]}}},
                    {"required_fields": {"OPS": ["Team"]}},
                    {"required_fields": {"OPS": {"*": ["resolution"]}}},
                    {"site_fields": [{"id": "customfield_10021", "name": "X"}]},
                    {"site_fields": [{"id": "customfield_10300", "name": "Summary"}]},
                    {"site_fields": [{"id": "team", "name": "Team"}]},
                    {"site_fields": [team, dict(team, name="Other")]}):
            with pytest.raises(EmulatorError):
                cemu.config(**bad)
        # both survive a restart
        cemu.restart()
        cfg = cemu.config()
        assert cfg["site_fields"][0] == team
        assert cfg["required_fields"] == {"*": {"*": ["customfield_10200"]}}
        assert cemu.issue(key)["fields"]["customfield_10200"] == "Red"
        assert _cnew(cemu, "SEC").json["errors"] == {"customfield_10200": "Team is required."}
        # dropping the field drops the requirement
        cemu.config(site_fields=[])
        assert "customfield_10200" not in _meta(cemu, "SEC", 3)
        assert _cnew(cemu, "SEC").status == 201
    finally:
        cemu.config(site_fields=[], required_fields={})
    assert "customfield_10200" not in {f["id"] for f in cemu.rest("GET", "field").json}
    assert "customfield_10200" not in cemu.issue("OPS-1")["fields"]
    assert _cnew(cemu, "OPS").status == 201


def test_required_system_field_on_transition_screen(cemu):
    """Fields the field configuration requires are required on the transition screens they
    are on too (the resolve screen: resolution, fix versions, assignee)."""
    key = _cnew(cemu, "SEC").json["key"]
    try:
        cemu.config(required_fields={"SEC": {"*": ["assignee"]}})
        ts = cemu.rest("GET", "issue/%s/transitions" % key,
                       query={"expand": "transitions.fields"}).json["transitions"]
        resolve = [t for t in ts if t["name"] == "Resolve Issue"][0]
        assert resolve["fields"]["resolution"]["required"] is True
        assert resolve["fields"]["assignee"]["required"] is True
        r = cemu.rest("POST", "issue/%s/transitions" % key, {
            "transition": {"id": resolve["id"]}, "fields": {"resolution": {"name": "Done"}}})
        assert r.status == 400 and r.json == {"errorMessages": [],
                                              "errors": {"assignee": "Assignee is required."}}
        r = cemu.rest("POST", "issue/%s/transitions" % key, {
            "transition": {"id": resolve["id"]}, "fields": {"resolution": {"name": "Done"},
                                                            "assignee": {"name": "bob"}}})
        assert r.status == 204, r.body
    finally:
        cemu.config(required_fields={})


def test_check_lookups(cemu):
    """What jirafs check looks up: resolutions by name, the done transitions' required
    resolution, each project's issue types (createmeta and project/{key})."""
    names = {r["name"] for r in cemu.rest("GET", "resolution").json}
    assert {"Done", "Fixed", "Won't Do"} <= names
    ts = cemu.rest("GET", "issue/OPS-1/transitions",
                   query={"expand": "transitions.fields"}).json["transitions"]
    done = [t for t in ts if t["to"]["statusCategory"]["key"] == "done"]
    assert done and all(t["hasScreen"] and t["fields"]["resolution"]["required"] is True
                        and "Done" in {v["name"] for v in
                                       t["fields"]["resolution"]["allowedValues"]}
                        for t in done)
    for p in ("SEC", "OPS", "WEB"):
        vals = cemu.rest("GET", "issue/createmeta/%s/issuetypes" % p).json["values"]
        assert "Task" in {v["name"] for v in vals}
        assert "Task" in {v["name"] for v in cemu.rest("GET", "project/" + p).json["issueTypes"]}
    r = cemu.rest("GET", "mypermissions", query={"projectKey": "OPS"})
    assert r.status == 200 and r.json["permissions"]["CREATE_ISSUES"]["havePermission"]


def test_python_jira_required_field(cemu):
    jira = pytest.importorskip("jira")
    j = jira.JIRA(server=cemu.url, token_auth="alice-pat")
    try:
        cemu.config(site_fields=[{"id": "customfield_10200", "name": "Team"}],
                    required_fields={"OPS": {"Task": ["customfield_10200"]}})
        with pytest.raises(jira.JIRAError) as ei:
            j.create_issue(project="OPS", issuetype={"name": "Task"}, summary="no team")
        assert ei.value.status_code == 400
        assert ei.value.response.json() == {
            "errorMessages": [], "errors": {"customfield_10200": "Team is required."}}
        i = j.create_issue(project="OPS", issuetype={"name": "Task"}, summary="team",
                           customfield_10200="Blue")
        assert i.fields.customfield_10200 == "Blue"
        cemu.config(server_version="8.13.0")
        assert j.server_info()["versionNumbers"] == [8, 13, 0]
    finally:
        cemu.config(site_fields=[], required_fields={}, server_version="10.3.4")
