"""The scanner bridge (CONTRACT §10): a report written to PROJECT/scans/NAME
becomes one ticket per finding, deduplicated against Jira itself (the
fingerprint is a label), through the outbox (§4.6).

Every test writes reports with ordinary file calls (cp, a shell redirection,
rsync, open/write/close), waits for the outbox to drain, and then asserts
what Jira holds: through the emulator's control API (never logged, never
faulted) or python-jira as a second client.  Hand-made SARIF and JSON lines
drive the scenarios; the real scanners (flawfinder, ESLint through
tests/integration/scanners.py) and the fixtures of tests/fixtures/scans/ the
end-to-end checks."""
import concurrent.futures
import errno
import glob
import hashlib
import json
import os
import re
import subprocess
import threading
import time

import pytest

from emulator.control import max_overlap
from mountlib import SLOW, creates, drained, outbox_files, quiesce, read_log, status, wait_for
from testenv import ROOT

P = "SEC"
FP_RE = re.compile(r"jfs-fp-[0-9a-f]{20}")
SCOPE_RE = re.compile(r"jfs-scope-[0-9a-f]{12}")
STATE_RE = re.compile(r"\[jirafs-scan tool=(\S+) sev=(\w+) content=([0-9a-f]{16}) "
                      r"seen=(yes|no)( accepted=yes)?\]")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "scans")
COUNT_KEYS = {"results", "findings", "suppressed", "not_failures", "skipped", "new",
              "unchanged", "changed", "reopened", "accepted", "gone", "closed", "refused",
              "duplicates", "operations"}
OUTCOMES = {"new", "unchanged", "changed", "reopened", "accepted", "gone", "closed",
            "still_gone", "skipped", "duplicate", "refused"}
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


# ------------------------------------------------------------------ reports
def rule(rid, title, tags=(), name=None, level="error", **props):
    r = {"id": rid, "shortDescription": {"text": title},
         "defaultConfiguration": {"level": level},
         "properties": dict({"tags": list(tags)}, **props)}
    if name:
        r["name"] = name
    return r


def res(rid, uri, line, text, level="error", snippet=None, context_hash=True, **extra):
    """A result as flawfinder writes it: a contextHash/v1 fingerprint that is the
    hash of the line's text alone (identical lines collide across files)."""
    snippet = snippet if snippet is not None else f"{rid} in {uri}"
    r = {"ruleId": rid, "level": level, "message": {"text": text},
         "locations": [{"physicalLocation": {
             "artifactLocation": {"uri": uri},
             "region": {"startLine": line, "startColumn": 2, "endColumn": 20,
                        "snippet": {"text": snippet}}}}]}
    if context_hash:
        r["fingerprints"] = {"contextHash/v1": hashlib.sha256(
            snippet.strip().encode()).hexdigest()}
    r.update(extra)
    return r


def sarif(results, tool="Flawfinder", version="2.0.19", rules=None, invocations=None,
          extra_runs=()):
    driver = {"name": tool, "version": version,
              "informationUri": "https://dwheeler.com/flawfinder/",
              "rules": rules if rules is not None else FF_RULES}
    run = {"tool": {"driver": driver}, "columnKind": "utf16CodeUnits"}
    if invocations is not None:
        run["invocations"] = invocations
    run["results"] = results
    return {"$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                       "sarif-schema-2.1.0.json",
            "version": "2.1.0", "runs": [run] + list(extra_runs)}


FF_RULES = [
    rule("FF1004", "Does not check for buffer overflows when copying to destination "
                   "[MS-banned] (CWE-120)", ["CWE-120"], name="buffer/strcpy"),
    rule("FF1044", "If format strings can be influenced by an attacker, they can be "
                   "exploited (CWE-134)", ["CWE-134"], name="format/printf"),
    rule("FF1033", "Does not check for buffer overflows (CWE-120, CWE-20)",
         ["CWE-120", "CWE-20"], name="buffer/gets"),
]
STRCPY = ("buffer/strcpy:Does not check for buffer overflows when copying to destination "
          "[MS-banned] (CWE-120).")
PRINTF = ("format/printf:If format strings can be influenced by an attacker, they can be "
          "exploited (CWE-134).")
GETS = "buffer/gets:Does not check for buffer overflows (CWE-120, CWE-20)."


def ff_results():
    """Three flawfinder findings; the two strcpy lines read alike (one contextHash)."""
    return [res("FF1004", "src/vuln.c", 9, STRCPY, snippet="\tstrcpy(buf, name);"),
            res("FF1004", "src/util.c", 9, STRCPY, snippet="\tstrcpy(buf, name);"),
            res("FF1044", "src/vuln.c", 10, PRINTF, snippet="\tprintf(name);")]


def line(fid, title, severity="high", asset="web-01", **kw):
    d = {"id": fid, "title": title, "severity": severity, "asset": asset}
    d.update(kw)
    return d


def jsonl(*objs):
    return "".join(json.dumps(o) + "\n" for o in objs).encode()


def to_bytes(report):
    if isinstance(report, bytes):
        return report
    if isinstance(report, str):
        return report.encode()
    return json.dumps(report, indent=2).encode()


# ------------------------------------------------------------------ the files
def sdir(m, *parts, project=P):
    return m.p(project, "scans", *parts)


def write(m, name, report, project=P):
    """Write a report as a program does (open O_TRUNC, write, close): close() imports."""
    with open(sdir(m, name, project=project), "wb") as f:
        f.write(to_bytes(report))


def cp(tmp_path, m, name, report, project=P):
    """`cp report SEC/scans/NAME`; -> the CompletedProcess."""
    src = tmp_path / f"cp-src-{name}"
    src.write_bytes(to_bytes(report))
    return subprocess.run(["cp", str(src), sdir(m, name, project=project)],
                          capture_output=True, text=True, timeout=60)


def result(m, name, project=P):
    with open(sdir(m, name + ".result.json", project=project)) as f:
        return json.load(f)


def settle(m, name=None, emu=None, project=P, timeout=90):
    """Wait for the outbox to drain (and for the result of name to have every key),
    then for the traffic to stop (the duplicate check after the last create)."""
    def done():
        if not drained(m):
            return False
        if name is None:
            return True
        r = result(m, name, project)
        return not any(f.get("pending") for f in r["findings"])
    for _ in range(2):
        wait_for(done, timeout, f"the outbox of {m.path} to drain")
        if emu is not None:
            quiesce(emu)
        else:
            time.sleep(0.5)
    return result(m, name, project) if name else None


def imp(m, name, report, emu=None, project=P):
    write(m, name, report, project)
    return settle(m, name, emu, project)


# ------------------------------------------------------------------ Jira's state
def fps_of(issue):
    return [x for x in issue["fields"]["labels"] if FP_RE.fullmatch(x)]


def scan_issues(emu, project=P, scope_label=None):
    out = [i for i in emu.issues(project) if fps_of(i)]
    if scope_label:
        out = [i for i in out if scope_label in i["fields"]["labels"]]
    return sorted(out, key=lambda i: int(i["key"].rsplit("-", 1)[1]))


def by_fp(emu, project=P, scope_label=None):
    d = {}
    for i in scan_issues(emu, project, scope_label):
        for fp in fps_of(i):
            d.setdefault(fp, []).append(i)
    return d


def comments(issue):
    return [c["body"] for c in issue["fields"]["comment"]["comments"]]


def is_done(issue):
    return issue["fields"]["status"]["statusCategory"]["key"] == "done"


def writes(emu, since):
    """The requests since seq that change Jira (a POST search only reads)."""
    return [r for r in emu.requests(since=since)
            if r["method"] in ("POST", "PUT", "DELETE") and not r["path"].endswith("/search")]


def utf16_len(s):
    return len(s.encode("utf-16-le")) // 2


def peer(emu, user="bob"):
    jira = pytest.importorskip("jira")
    return jira.JIRA(server=emu.url, token_auth=f"{user}-pat")


def person_closes(emu, key, resolution, user="bob"):
    """Someone closes a ticket in Jira's UI (here: python-jira)."""
    peer(emu, user).transition_issue(key, "Close Issue",
                                     fields={"resolution": {"name": resolution}})
    assert emu.issue(key)["fields"]["resolution"]["name"] == resolution


def check_result_shape(r, name, scope, fmt, dry=False):
    assert r["report"] == name and r["scope"] == scope and r["project"] == P
    assert SCOPE_RE.fullmatch(r["label"])
    assert r["dry_run"] is dry and r["format"] == fmt
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["imported"])
    assert isinstance(r["tools"], list) and isinstance(r["warnings"], list)
    assert COUNT_KEYS <= set(r["counts"]), set(r["counts"]) ^ COUNT_KEYS
    for f in r["findings"]:
        assert FP_RE.fullmatch(f["fingerprint"]) and f["outcome"] in OUTCOMES, f


def outcomes(r):
    return sorted(f["outcome"] for f in r["findings"])


def key_of(r, text):
    """The key of the one finding of result r whose summary contains text."""
    (k,) = [f["key"] for f in r["findings"] if text in (f.get("summary") or "")]
    return k


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def emu(fresh_emulator):
    return fresh_emulator(extra_args=["--seed", "demo"])


@pytest.fixture
def m(emu, mount):
    mnt = mount(emu, "timeout=5")
    os.listdir(mnt.p(P))
    return mnt


# ================================================================== the files of scans/
def test_every_project_has_a_scans_directory(emu, m):
    for proj in ("SEC", "OPS", "WEB"):
        assert "scans" in os.listdir(m.p(proj))
        assert os.path.isdir(m.p(proj, "scans"))
        assert os.listdir(m.p(proj, "scans")) == []
        assert os.stat(m.p(proj, "scans")).st_mode & 0o777 == 0o755
    assert "scans" not in os.listdir(m.p(P, "closed"))


def test_a_report_reads_back_byte_for_byte_and_persists(emu, mount, tmp_path):
    state = tmp_path / "kept"
    m = mount(emu, f"state_dir={state}", "timeout=5")
    os.listdir(m.p(P))
    report = to_bytes(sarif(ff_results()))
    r = cp(tmp_path, m, "web-01.sarif", report)
    assert r.returncode == 0, r.stderr
    subprocess.run(["cmp", str(tmp_path / "cp-src-web-01.sarif"), sdir(m, "web-01.sarif")],
                   check=True)
    assert os.stat(sdir(m, "web-01.sarif")).st_size == len(report)
    assert os.stat(sdir(m, "web-01.sarif")).st_mode & 0o777 == 0o644
    settle(m, "web-01.sarif", emu)
    assert sorted(os.listdir(sdir(m))) == ["web-01.sarif", "web-01.sarif.result.json"]
    assert os.stat(sdir(m, "web-01.sarif.result.json")).st_mode & 0o777 == 0o444
    res1 = open(sdir(m, "web-01.sarif.result.json"), "rb").read()
    # kept in the state directory: there after a remount
    m.unmount()
    m2 = mount(emu, f"state_dir={state}", "timeout=5")
    assert sorted(os.listdir(sdir(m2))) == ["web-01.sarif", "web-01.sarif.result.json"]
    assert open(sdir(m2, "web-01.sarif"), "rb").read() == report
    assert open(sdir(m2, "web-01.sarif.result.json"), "rb").read() == res1
    assert len(scan_issues(emu)) == 3


def test_results_are_read_only_and_reports_removable(emu, m):
    since = emu.mark()
    res1 = imp(m, "web.sarif", sarif(ff_results()), emu)
    result_path = sdir(m, "web.sarif.result.json")
    for mode in ("w", "a", "r+"):
        with pytest.raises(OSError) as e:
            open(result_path, mode)
        assert e.value.errno == errno.EACCES, mode
    with pytest.raises(OSError) as e:                     # a new result cannot be made
        open(sdir(m, "other.result.json"), "w")
    assert e.value.errno == errno.EACCES
    with pytest.raises(OSError) as e:
        os.unlink(result_path)
    assert e.value.errno == errno.EPERM
    assert "refused rm SEC/scans/web.sarif.result.json" in read_log(m)
    assert json.load(open(result_path)) == res1
    # a report or a result cannot leave scans/
    for src, dst in ((sdir(m, "web.sarif"), m.p(P, "web.json")),
                     (sdir(m, "web.sarif"), m.p(P, "closed", "web.json")),
                     (result_path, m.p(P, "res.json")),
                     (sdir(m, "web.sarif"), m.p("OPS", "scans", "web.sarif")),
                     (sdir(m, "web.sarif"), result_path)):
        with pytest.raises(OSError) as e:
            os.rename(src, dst)
        assert e.value.errno == errno.EPERM, (src, dst, e.value)
    # rm of a report works, and changes nothing in Jira
    n = len(writes(emu, since))
    os.unlink(sdir(m, "web.sarif"))
    assert "web.sarif" not in os.listdir(sdir(m))
    assert len(writes(emu, since)) == n
    assert all(not is_done(i) for i in scan_issues(emu)) and len(scan_issues(emu)) == 3


def test_scratch_names_are_never_imported(emu, m):
    since = emu.mark()
    report = to_bytes(sarif(ff_results()))
    for name in (".web.sarif.swp", "web.sarif~", ".web.sarif.Ab12Cd", "#web.sarif#"):
        write(m, name, report)
        assert open(sdir(m, name), "rb").read() == report
        assert not os.path.exists(sdir(m, name + ".result.json"))
    time.sleep(1)
    assert writes(emu, since) == [] and outbox_files(m) == []
    assert scan_issues(emu) == []
    # renamed to a report name (an atomic writer): imported under the new name
    os.rename(sdir(m, ".web.sarif.Ab12Cd"), sdir(m, "web.sarif"))
    r = settle(m, "web.sarif", emu)
    assert r["counts"]["new"] == 3 and r["scope"] == "web.sarif"
    assert len(scan_issues(emu)) == 3
    # a report renamed to another report name is not imported again
    since = emu.mark()
    os.rename(sdir(m, "web.sarif"), sdir(m, "web-renamed.sarif"))
    time.sleep(1)
    assert writes(emu, since) == []


def test_rsync_imports_once(emu, m, tmp_path):
    src = tmp_path / "nightly.sarif"
    src.write_bytes(to_bytes(sarif(ff_results())))
    r = subprocess.run(["rsync", str(src), sdir(m) + "/"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    res1 = settle(m, "nightly.sarif", emu)
    assert res1["counts"]["new"] == 3
    assert sorted(os.listdir(sdir(m))) == ["nightly.sarif", "nightly.sarif.result.json"]
    assert len(scan_issues(emu)) == 3
    assert open(sdir(m, "nightly.sarif"), "rb").read() == src.read_bytes()
    # the next night: rsync's temporary is renamed over the report, which is imported
    src.write_bytes(to_bytes(sarif(ff_results()[:2])))
    since = emu.mark()
    r = subprocess.run(["rsync", str(src), sdir(m) + "/"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    res2 = settle(m, "nightly.sarif", emu)
    assert res2["counts"]["gone"] == 1 and res2["counts"]["unchanged"] == 2
    assert len(writes(emu, since)) == 1
    assert sorted(os.listdir(sdir(m))) == ["nightly.sarif", "nightly.sarif.result.json"]


# ================================================================== the first import
def test_first_import_makes_one_ticket_per_finding(emu, m, tmp_path):
    since = emu.mark()
    t0 = time.monotonic()
    r = cp(tmp_path, m, "web-01.sarif", sarif(ff_results()))
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t0 < 5 * SLOW
    res1 = settle(m, "web-01.sarif", emu)
    check_result_shape(res1, "web-01.sarif", "web-01.sarif", "sarif")
    assert res1["tools"] == ["flawfinder"]
    c = res1["counts"]
    assert (c["results"], c["findings"], c["new"], c["operations"]) == (3, 3, 3, 3)
    assert c["unchanged"] == c["changed"] == c["gone"] == c["closed"] == c["refused"] == 0
    assert res1["close_refused"] is None and "incomplete" not in res1
    assert outcomes(res1) == ["new"] * 3

    posts = creates(emu, since)
    assert len(posts) == 3 and all(p["status"] == 201 for p in posts)
    issues = by_fp(emu)
    assert len(issues) == 3 and all(len(v) == 1 for v in issues.values())
    # the result names every ticket by its key, and no longer says pending
    assert {f["fingerprint"]: f["key"] for f in res1["findings"]} == \
        {fp: v[0]["key"] for fp, v in issues.items()}
    assert not any("pending" in f for f in res1["findings"])

    label = res1["label"]
    for fp, (i,) in issues.items():
        f = i["fields"]
        labels = f["labels"]
        assert {"jirafs", fp, label, "flawfinder"} <= set(labels), labels
        assert all(" " not in x for x in labels)
        assert f["priority"]["name"] == "High"                 # level error -> high
        assert f["summary"].startswith("[flawfinder] FF10"), f["summary"]
        assert " \u2014 src/" in f["summary"]
        assert not re.search(r":\d", f["summary"]), f["summary"]   # no line numbers
        assert len(f["summary"]) <= 255
        d = f["description"]
        assert d.rstrip().endswith("seen=yes]"), d[-200:]
        st = STATE_RE.findall(d)
        assert st and st[-1][:2] == ("flawfinder", "high") and st[-1][3] == "yes"
        assert f"fingerprint {fp}" in d and "web-01.sarif" in d
        assert not is_done(i)
    strcpy = [i for (i,) in issues.values() if "FF1004" in i["fields"]["labels"]]
    assert len(strcpy) == 2                        # one per file despite one contextHash
    assert {i["fields"]["summary"].rsplit(" \u2014 ", 1)[1] for i in strcpy} == \
        {"src/vuln.c", "src/util.c"}
    assert all("CWE-120" in i["fields"]["labels"] for i in strcpy)
    assert all("src/vuln.c:9" in i["fields"]["description"] or
               "src/util.c:9" in i["fields"]["description"] for i in strcpy)
    printf = [i for (i,) in issues.values() if "FF1044" in i["fields"]["labels"]]
    assert len(printf) == 1 and "CWE-134" in printf[0]["fields"]["labels"]
    # the files of the project show the new tickets; stock JQL finds them by label
    wait_for(lambda: {f"{v[0]['key']}.json" for v in issues.values()} <= set(
        os.listdir(m.p(P))), what="the tickets in the listing")
    j = peer(emu)
    fp = next(iter(issues))
    assert [x.key for x in j.search_issues(f"project = SEC AND labels = {fp}")] == \
        [issues[fp][0]["key"]]
    assert len(j.search_issues(f"labels = {label}")) == 3


def test_reimporting_the_same_report_sends_nothing(emu, m):
    report = sarif(ff_results())
    res1 = imp(m, "web.sarif", report, emu)
    before = {i["key"]: i for i in scan_issues(emu)}
    since = emu.mark()
    res2 = imp(m, "web.sarif", report, emu)
    reqs = emu.requests(since=since)
    assert writes(emu, since) == [], [(r["method"], r["path"]) for r in writes(emu, since)]
    assert len(reqs) <= 3, [(r["method"], r["path"], r["query"]) for r in reqs]
    assert res2["counts"]["operations"] == 0 and res2["counts"]["new"] == 0
    assert res2["counts"]["unchanged"] == 3 and outcomes(res2) == ["unchanged"] * 3
    assert {f["fingerprint"]: f["key"] for f in res2["findings"]} == \
        {f["fingerprint"]: f["key"] for f in res1["findings"]}
    after = {i["key"]: i for i in scan_issues(emu)}
    assert {k: i["fields"]["updated"] for k, i in after.items()} == \
        {k: i["fields"]["updated"] for k, i in before.items()}


def test_another_machine_importing_the_same_report_creates_nothing(emu, mount):
    m1 = mount(emu, "timeout=5")
    m2 = mount(emu, "timeout=5")                        # another state_dir: another host
    report = sarif(ff_results())
    imp(m1, "web.sarif", report, emu)
    os.listdir(m2.p(P))
    since = emu.mark()
    res2 = imp(m2, "web.sarif", report, emu)
    assert writes(emu, since) == []
    assert res2["counts"]["new"] == 0 and res2["counts"]["unchanged"] == 3
    assert all(f["key"] for f in res2["findings"])
    assert len(scan_issues(emu)) == 3


def test_a_dry_run_plans_without_sending(emu, m):
    since = emu.mark()
    write(m, "web.sarif.dry-run", sarif(ff_results()))
    assert outbox_files(m) == [] and status(m)["outbox"] == 0
    r = result(m, "web.sarif.dry-run")
    check_result_shape(r, "web.sarif.dry-run", "web.sarif", "sarif", dry=True)
    assert r["counts"]["new"] == 3 and outcomes(r) == ["new"] * 3
    assert all(f["key"] is None and not f.get("pending") for f in r["findings"])
    assert all(f["summary"].startswith("[flawfinder] ") for f in r["findings"])
    time.sleep(1)
    assert writes(emu, since) == [] and scan_issues(emu) == []
    assert not os.path.exists(sdir(m, "web.sarif.result.json"))
    # the real import makes what the dry run planned, under the same fingerprints
    res1 = imp(m, "web.sarif", sarif(ff_results()), emu)
    assert sorted(f["fingerprint"] for f in res1["findings"]) == \
        sorted(f["fingerprint"] for f in r["findings"])
    assert res1["label"] == r["label"]
    # a dry run of the next scan: what would change, and nothing sent
    nxt = ff_results()[:2]
    nxt[0]["level"] = "warning"
    since = emu.mark()
    write(m, "web.sarif.dry-run", sarif(nxt))
    r = result(m, "web.sarif.dry-run")
    assert (r["counts"]["changed"], r["counts"]["unchanged"], r["counts"]["gone"]) == (1, 1, 1)
    time.sleep(1)
    assert writes(emu, since) == []
    assert all(comments(i) == [] for i in scan_issues(emu))


# ================================================================== tickets' fields
def test_priorities_follow_severity_and_scan_priority(emu, mount):
    sevs = ["critical", "high", "medium", "low", "info"]
    report = jsonl(*[line(f"sev-{s}", f"finding of severity {s}", s) for s in sevs])
    m1 = mount(emu, "timeout=5")
    res1 = imp(m1, "prio.jsonl", report, emu)
    assert res1["format"] == "lines" and res1["tools"] == ["script"]
    got = {i["fields"]["summary"].split(" of severity ")[1].split()[0]:
           i["fields"]["priority"]["name"] for i in scan_issues(emu, scope_label=res1["label"])}
    assert got == {"critical": "Highest", "high": "High", "medium": "Medium", "low": "Low",
                   "info": "Lowest"}
    m2 = mount(emu, "timeout=5", "scan_priority=High:High:Medium:Lowest:Lowest")
    res2 = imp(m2, "prio2.jsonl", report, emu)
    got = {i["fields"]["summary"].split(" of severity ")[1].split()[0]:
           i["fields"]["priority"]["name"] for i in scan_issues(emu, scope_label=res2["label"])}
    assert got == {"critical": "High", "high": "High", "medium": "Medium", "low": "Lowest",
                   "info": "Lowest"}
    for i in scan_issues(emu):
        assert i["fields"]["summary"].startswith("[script] ")
        assert i["fields"]["summary"].endswith(" \u2014 web-01")
        assert "script" in i["fields"]["labels"]
        assert STATE_RE.findall(i["fields"]["description"])[-1][0] == "script"


def test_lines_labels_fields_and_description(emu, m):
    report = jsonl(line("L-1", "OpenSSL 3.0.7 (CVE-2023-0286)", "critical", "web-01",
                        tool="nightly-audit", rule="openssl-old",
                        description="Upgrade to 3.0.8.",
                        url="https://example.com/advisory",
                        labels=["team-web", "pci"],
                        fields={"customfield_10021": "web-01.example.com"}))
    res1 = imp(m, "hosts.jsonl", report, emu)
    assert res1["tools"] == ["nightly-audit"]
    (i,) = scan_issues(emu)
    f = i["fields"]
    assert {"jirafs", "nightly-audit", "openssl-old", "team-web", "pci",
            "CVE-2023-0286"} <= set(f["labels"]), f["labels"]
    assert f["summary"] == \
        "[nightly-audit] openssl-old: OpenSSL 3.0.7 (CVE-2023-0286) \u2014 web-01"
    assert "Upgrade to 3.0.8" in f["description"]
    assert "https://example.com/advisory" in f["description"]
    assert f["priority"]["name"] == "Highest"
    assert f["customfield_10021"] == "web-01.example.com"


def test_a_blank_lines_report_with_empty_objects_is_nothing(emu, m):
    since = emu.mark()
    res1 = imp(m, "nothing.jsonl", b"{}\n", emu)
    assert res1["format"] == "lines" and res1["counts"]["findings"] == 0
    assert res1["counts"]["operations"] == 0 and writes(emu, since) == []


def test_a_create_jira_refuses_is_not_pending_forever(emu, m):
    """A finding whose fields Jira refuses (a 400: an unknown component): the others are
    made, the record is dropped with Jira's words in the log, and the result stops
    saying pending and tells why."""
    report = jsonl(line("ok", "a good finding"),
                   line("bad", "a finding with a bad component",
                        fields={"components": [{"name": "no-such-component"}]}))
    write(m, "mixed.jsonl", report)
    wait_for(lambda: drained(m), 60, "the outbox to drain")
    quiesce(emu)
    assert len(scan_issues(emu)) == 1
    assert "Component name 'no-such-component' is not valid" in read_log(m)
    r = result(m, "mixed.jsonl")
    (bad,) = [f for f in r["findings"] if "bad component" in f["summary"]]
    assert not bad.get("pending"), bad
    assert bad["key"] is None
    assert "no-such-component" in json.dumps(r), r


# ================================================================== changes
def test_a_changed_severity_or_text_is_one_comment(emu, m):
    a = line("A", "weak cipher on web-01", "high", description="TLS_RSA_WITH_RC4_128_SHA")
    b = line("B", "old kernel on web-01", "medium", description="4.19.0-1")
    c = line("C", "telnet open on web-01", "low")
    res1 = imp(m, "hosts.jsonl", jsonl(a, b, c), emu)
    ka, kb, kc = (key_of(res1, t) for t in ("weak cipher", "old kernel", "telnet open"))
    before = {k: emu.issue(k)["fields"] for k in (ka, kb, kc)}
    since = emu.mark()
    a2 = dict(a, severity="critical")
    b2 = dict(b, description="4.19.0-2 (still vulnerable)")
    res2 = imp(m, "hosts.jsonl", jsonl(a2, b2, c), emu)
    assert res2["counts"]["changed"] == 2 and res2["counts"]["unchanged"] == 1
    assert res2["counts"]["operations"] == 2 and res2["counts"]["new"] == 0
    w = writes(emu, since)
    assert sorted(r["path"] for r in w) == sorted(
        [f"/rest/api/2/issue/{ka}/comment", f"/rest/api/2/issue/{kb}/comment"]), \
        [(r["method"], r["path"]) for r in w]
    ca, cb = comments(emu.issue(ka)), comments(emu.issue(kb))
    assert len(ca) == 1 and len(cb) == 1 and comments(emu.issue(kc)) == []
    assert "critical" in ca[0] and "high" in ca[0]
    assert STATE_RE.findall(ca[0])[-1][1] == "critical"
    assert "4.19.0-2 (still vulnerable)" in cb[0]
    for k in (ka, kb):                       # nothing else changed
        after = emu.issue(k)["fields"]
        for field in ("priority", "description", "summary", "labels", "status"):
            assert after[field] == before[k][field], (k, field)
    # the next scan with the same content: nothing (the comment's state line counts)
    since = emu.mark()
    res3 = imp(m, "hosts.jsonl", jsonl(a2, b2, c), emu)
    assert writes(emu, since) == [] and res3["counts"]["unchanged"] == 3


# ================================================================== gone, closed, back
def test_a_gone_finding_gets_one_comment_then_nothing(emu, m):
    a, b, c = (line(x, f"finding {x}", "high") for x in "ABC")
    res1 = imp(m, "scope.jsonl", jsonl(a, b, c), emu)
    kc = key_of(res1, "finding C")
    since = emu.mark()
    res2 = imp(m, "scope.jsonl", jsonl(a, b), emu)
    assert res2["counts"]["gone"] == 1 and res2["counts"]["closed"] == 0
    assert res2["close_refused"] is None
    assert [f["outcome"] for f in res2["findings"] if f["key"] == kc] == ["gone"]
    assert [r["path"] for r in writes(emu, since)] == [f"/rest/api/2/issue/{kc}/comment"]
    issue = emu.issue(kc)
    assert not is_done(issue)                                 # without scan_autoclose
    (body,) = comments(issue)
    assert body.startswith("No longer reported") and "scope.jsonl" in body
    assert STATE_RE.findall(body)[-1][3] == "no"
    since = emu.mark()
    res3 = imp(m, "scope.jsonl", jsonl(a, b), emu)
    assert writes(emu, since) == [] and res3["counts"]["operations"] == 0
    assert [f["outcome"] for f in res3["findings"] if f["key"] == kc] == ["still_gone"]
    assert len(comments(emu.issue(kc))) == 1
    # back while open: one comment, the ticket was never closed
    since = emu.mark()
    res4 = imp(m, "scope.jsonl", jsonl(a, b, c), emu)
    assert [r["path"] for r in writes(emu, since)] == [f"/rest/api/2/issue/{kc}/comment"]
    assert res4["counts"]["new"] == 0 and res4["counts"]["changed"] == 1
    assert comments(emu.issue(kc))[-1].startswith("Reported again")


def test_autoclose_closes_the_gone_and_reopens_the_returning(emu, mount):
    m = mount(emu, "timeout=5", "scan_autoclose")
    os.listdir(m.p(P))
    a, b, c = (line(x, f"finding {x}", "high") for x in "ABC")
    res1 = imp(m, "scope.jsonl", jsonl(a, b, c), emu)
    kc = key_of(res1, "finding C")
    res2 = imp(m, "scope.jsonl", jsonl(a, b), emu)
    assert res2["counts"]["closed"] == 1 and res2["close_refused"] is None
    assert [f["outcome"] for f in res2["findings"] if f["key"] == kc] == ["closed"]
    issue = emu.issue(kc)
    assert is_done(issue) and comments(issue)[0].startswith("No longer reported")
    wait_for(lambda: f"{kc}.json" in os.listdir(m.p(P, "closed")), what="C in closed/")
    assert f"{kc}.json" not in os.listdir(m.p(P))
    # gone again: nothing more
    since = emu.mark()
    imp(m, "scope.jsonl", jsonl(a, b), emu)
    assert writes(emu, since) == [] and len(comments(emu.issue(kc))) == 1
    # it comes back: reopened, with a comment
    since = emu.mark()
    res4 = imp(m, "scope.jsonl", jsonl(a, b, c), emu)
    assert res4["counts"]["reopened"] == 1 and res4["counts"]["new"] == 0
    issue = emu.issue(kc)
    assert not is_done(issue) and issue["fields"]["resolution"] is None
    assert comments(issue)[-1].startswith("Reported again")
    assert len(comments(issue)) == 2
    assert creates(emu, since) == []
    wait_for(lambda: f"{kc}.json" in os.listdir(m.p(P)), what="C back in SEC/")
    since = emu.mark()
    imp(m, "scope.jsonl", jsonl(a, b, c), emu)
    assert writes(emu, since) == []


@pytest.mark.parametrize("resolution", ["Won't Fix", "Won't Do", "Duplicate"])
def test_a_risk_accepted_ticket_gets_one_comment_and_stays_closed(emu, mount, resolution):
    m = mount(emu, "timeout=5", "scan_autoclose")
    os.listdir(m.p(P))
    a, b = line("A", "finding A"), line("B", "finding B")
    res1 = imp(m, "scope.jsonl", jsonl(a, b), emu)
    ka = key_of(res1, "finding A")
    person_closes(emu, ka, resolution)
    since = emu.mark()
    res2 = imp(m, "scope.jsonl", jsonl(a, b), emu)
    assert res2["counts"]["accepted"] == 1 and res2["counts"]["reopened"] == 0
    assert [f["outcome"] for f in res2["findings"] if f["key"] == ka] == ["accepted"]
    assert [r["path"] for r in writes(emu, since)] == [f"/rest/api/2/issue/{ka}/comment"]
    issue = emu.issue(ka)
    assert is_done(issue) and issue["fields"]["resolution"]["name"] == resolution
    (body,) = comments(issue)
    assert "not reopened" in body and resolution in body
    since = emu.mark()
    res3 = imp(m, "scope.jsonl", jsonl(a, b), emu)
    assert writes(emu, since) == [] and res3["counts"]["accepted"] == 1
    assert len(comments(emu.issue(ka))) == 1


def test_scan_accepted_names_the_resolutions(emu, mount):
    m = mount(emu, "timeout=5", "scan_accepted=Cannot Reproduce:Incomplete")
    os.listdir(m.p(P))
    a, b = line("A", "finding A"), line("B", "finding B")
    res1 = imp(m, "scope.jsonl", jsonl(a, b), emu)
    ka, kb = key_of(res1, "finding A"), key_of(res1, "finding B")
    person_closes(emu, ka, "Cannot Reproduce")
    person_closes(emu, kb, "Won't Fix")                   # not accepted on this mount
    res2 = imp(m, "scope.jsonl", jsonl(a, b), emu)
    assert res2["counts"]["accepted"] == 1 and res2["counts"]["reopened"] == 1
    assert is_done(emu.issue(ka))
    b_issue = emu.issue(kb)
    assert not is_done(b_issue) and comments(b_issue)[-1].startswith("Reported again")


def eslint_run(results):
    return {"tool": {"driver": {"name": "ESLint", "version": "9.17.0",
                                "informationUri": "https://eslint.org",
                                "rules": [{"id": "no-eval", "shortDescription": {
                                    "text": "Disallow the use of `eval()`"}}]}},
            "results": results}


def js_result(uri, line, text="eval can be harmful."):
    return {"ruleId": "no-eval", "level": "error", "message": {"text": text},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri},
                                                "region": {"startLine": line,
                                                           "startColumn": 3}}}]}


def test_a_tool_missing_from_the_next_report_closes_nothing_of_its_own(emu, mount):
    """One scope, two tools: a report with only one of them says nothing about the
    other's findings (its run did not happen), even with scan_autoclose."""
    m = mount(emu, "timeout=5", "scan_autoclose")
    os.listdir(m.p(P))
    js = eslint_run([js_result("app.js", 8), js_result("lib.js", 3)])
    r1 = imp(m, "ci.sarif", sarif(ff_results(), extra_runs=[js]), emu)
    assert r1["counts"]["new"] == 5 and sorted(r1["tools"]) == ["eslint", "flawfinder"]
    since = emu.mark()
    r2 = imp(m, "ci.sarif", sarif(ff_results()), emu)
    assert writes(emu, since) == [] and r2["counts"]["gone"] == r2["counts"]["closed"] == 0
    assert all(not is_done(i) and comments(i) == [] for i in scan_issues(emu))
    # the eslint run again, without one finding: that one (only) is closed
    since = emu.mark()
    r3 = imp(m, "ci.sarif", sarif(ff_results(), extra_runs=[eslint_run(
        [js_result("app.js", 8)])]), emu)
    assert r3["counts"]["closed"] == 1
    closed = [i for i in scan_issues(emu) if is_done(i)]
    assert len(closed) == 1 and closed[0]["fields"]["summary"].endswith("lib.js")


def test_scopes_are_independent(emu, m):
    """The same findings under two names are two scans: two sets of tickets, and a
    finding gone from one scope leaves the other's ticket alone."""
    a, b = line("A", "finding A"), line("B", "finding B")
    r1 = imp(m, "web-01", jsonl(a, b), emu)
    r2 = imp(m, "web-02", jsonl(a, b), emu)
    assert r1["label"] != r2["label"]
    assert len(scan_issues(emu)) == 4
    assert not {f["fingerprint"] for f in r1["findings"]} & \
        {f["fingerprint"] for f in r2["findings"]}
    since = emu.mark()
    imp(m, "web-01", jsonl(a), emu)
    w = writes(emu, since)
    assert [x["path"] for x in w] == [f"/rest/api/2/issue/{key_of(r1, 'finding B')}/comment"]
    assert comments(emu.issue(key_of(r2, "finding B"))) == []


def test_what_people_change_in_jira_is_left_alone(emu, m):
    """Someone raised the priority, reworded the summary, assigned and commented: the
    next scan with the same finding sends nothing."""
    r1 = imp(m, "hosts.jsonl", jsonl(line("A", "finding A", "low")), emu)
    key = r1["findings"][0]["key"]
    j = peer(emu)
    j.issue(key).update(fields={"summary": "Reworded by a person", "priority": {"name": "Highest"}},
                        assignee={"name": "jdoe"})
    j.add_comment(key, "Looking into it")
    since = emu.mark()
    r2 = imp(m, "hosts.jsonl", jsonl(line("A", "finding A", "low")), emu)
    assert writes(emu, since) == [] and r2["counts"]["unchanged"] == 1
    f = emu.issue(key)["fields"]
    assert f["summary"] == "Reworded by a person" and f["priority"]["name"] == "Highest"


def test_a_ticket_deleted_in_jira_is_made_again(emu, m):
    r1 = imp(m, "hosts.jsonl", jsonl(line("A", "finding A"), line("B", "finding B")), emu)
    gone = key_of(r1, "finding A")
    emu.delete_issue(gone)
    since = emu.mark()
    r2 = imp(m, "hosts.jsonl", jsonl(line("A", "finding A"), line("B", "finding B")), emu)
    assert r2["counts"]["new"] == 1 and r2["counts"]["unchanged"] == 1
    assert len(creates(emu, since)) == 1
    assert key_of(r2, "finding A") != gone and len(scan_issues(emu)) == 2


def test_a_new_tool_version_changes_nothing(emu, m):
    imp(m, "web.sarif", sarif(ff_results(), version="2.0.19"), emu)
    since = emu.mark()
    r2 = imp(m, "web.sarif", sarif(ff_results(), version="2.0.20"), emu)
    assert writes(emu, since) == [] and r2["counts"]["unchanged"] == 3


@pytest.mark.parametrize("name", ["web 01 nightly.sarif", "h\u00f4te-\u00e9t\u00e9.sarif",
                                  "a=b,c.sarif"])
def test_report_names_with_spaces_and_unicode(emu, m, name):
    r = imp(m, name, sarif(ff_results()[:1]), emu)
    assert r["scope"] == name and r["counts"]["new"] == 1
    (i,) = scan_issues(emu)
    check_valid_ticket(i)
    assert r["label"] in i["fields"]["labels"]
    assert name in i["fields"]["description"]
    assert sorted(os.listdir(sdir(m))) == sorted([name, name + ".result.json"])


def test_sarif_security_severity_sets_the_priority(emu, m):
    rules = [rule("CVE-2023-0286", "openssl: X.400 address type confusion", ["security"],
                  **{"security-severity": "9.8"}),
             rule("CVE-2023-0465", "openssl: invalid certificate policies", ["security"],
                  **{"security-severity": "5.3"}),
             rule("CVE-2023-2650", "openssl: slow OBJ_obj2txt", ["security"],
                  **{"security-severity": "2.0"})]
    results = [res(rr["id"], "library/web", 1, f"Package: openssl\n{rr['id']}",
                   level="warning", context_hash=False) for rr in rules]
    r = imp(m, "image.sarif", sarif(results, tool="Trivy", version="0.58.0", rules=rules), emu)
    assert r["counts"]["new"] == 3
    prio = {next(x for x in i["fields"]["labels"] if x.startswith("CVE-")):
            i["fields"]["priority"]["name"] for i in scan_issues(emu)}
    assert prio == {"CVE-2023-0286": "Highest", "CVE-2023-0465": "Medium",
                    "CVE-2023-2650": "Low"}


def trivy_fixture():
    with open(os.path.join(FIXTURES, "trivy-report.json")) as f:
        return json.load(f)


def test_the_next_image_build_is_the_same_scan(emu, m):
    """Trivy on the next build of an image: another tag, image ID and digest, and one
    package upgraded but still vulnerable; the findings are the same ones (identity
    without tag, digest or installed version): nothing is created."""
    if not os.path.exists(os.path.join(FIXTURES, "trivy-report.json")):
        pytest.fail("tests/fixtures/scans/trivy-report.json is missing")
    first = trivy_fixture()
    r1 = imp(m, "web-image.json", first, emu)
    assert r1["format"] == "trivy" and r1["counts"]["new"] > 0
    nxt = json.loads(json.dumps(first).replace("1.4.2", "1.4.3")
                     .replace("5b2a0e6f0d1c4a9f", "6c3b1f7a1e2d5b0a")
                     .replace("9f8e7d6c5b4a3928", "0a9f8e7d6c5b4a39"))
    for v in nxt["Results"][0]["Vulnerabilities"]:
        if v["PkgName"] == "libcrypto3":
            v["InstalledVersion"] = "3.1.3-r0"
    assert nxt != first
    since = emu.mark()
    r2 = imp(m, "web-image.json", nxt, emu)
    assert creates(emu, since) == [], r2["counts"]
    assert r2["counts"]["new"] == r2["counts"]["gone"] == 0
    assert r2["counts"]["changed"] <= 1
    assert len(scan_issues(emu)) == r1["counts"]["new"]


def test_a_secret_is_not_copied_into_its_ticket(emu, m):
    secret = "AKIAQ7JFSNOTREAL4XYZ"
    rep = {"SchemaVersion": 2, "ArtifactName": "shop", "ArtifactType": "filesystem",
           "Results": [{"Target": "app/config/.env", "Class": "secret", "Secrets": [{
               "RuleID": "aws-access-key-id", "Category": "AWS", "Severity": "CRITICAL",
               "Title": "AWS Access Key ID", "StartLine": 3, "EndLine": 3,
               "Code": {"Lines": [{"Number": 3, "Content": f"AWS_ACCESS_KEY_ID={secret}",
                                   "IsCause": True}]},
               "Match": f"AWS_ACCESS_KEY_ID={secret}"}]}]}
    gitleaks = sarif([res("aws-access-token", "deploy/env.sh", 2, "AWS access token found",
                          snippet=f"export AWS_KEY={secret}", context_hash=False)],
                     tool="gitleaks", version="8.18.0",
                     rules=[rule("aws-access-token", "AWS access token")])
    imp(m, "secrets.json", rep, emu)
    imp(m, "gitleaks.sarif", gitleaks, emu)
    issues = scan_issues(emu)
    assert len(issues) == 2
    for i in issues:
        assert secret not in json.dumps(i), i["fields"]["description"]
    for name in ("secrets.json", "gitleaks.sarif"):
        assert secret not in open(sdir(m, name + ".result.json")).read()


# ================================================================== the safety rule
def four_findings():
    return [res("FF1004", f"src/f{n}.c", 9, STRCPY, snippet=f"\tstrcpy(buf{n}, name);")
            for n in range(4)]


@pytest.mark.parametrize("how", ["execution_failed", "results_null", "results_absent"])
def test_a_failed_scan_closes_nothing(emu, mount, how):
    m = mount(emu, "timeout=5", "scan_autoclose")
    os.listdir(m.p(P))
    imp(m, "web.sarif", sarif(four_findings()), emu)
    if how == "execution_failed":
        report = sarif(four_findings()[:1], invocations=[
            {"executionSuccessful": False,
             "toolExecutionNotifications": [{"level": "error",
                                             "message": {"text": "out of memory"}}]}])
    else:
        report = sarif([], invocations=[{"executionSuccessful": True}])
        if how == "results_null":
            report["runs"][0]["results"] = None
        else:
            del report["runs"][0]["results"]
    since = emu.mark()
    res2 = imp(m, "web.sarif", report, emu)
    assert writes(emu, since) == []
    assert res2["close_refused"] and "incomplete" in res2["close_refused"], res2
    assert "incomplete" in res2
    assert res2["counts"]["closed"] == res2["counts"]["gone"] == 0
    assert res2["counts"]["refused"] == (3 if how == "execution_failed" else 4)
    assert outcomes(res2).count("refused") == res2["counts"]["refused"]
    assert all(not is_done(i) and comments(i) == [] for i in scan_issues(emu))


@pytest.mark.parametrize("fmt", ["sarif", "lines", "lines-tool"])
def test_an_empty_scan_after_a_full_one_closes_nothing(emu, mount, fmt):
    m = mount(emu, "timeout=5", "scan_autoclose")
    os.listdir(m.p(P))
    if fmt == "sarif":
        full, empty = sarif(four_findings()), sarif([])
    elif fmt == "lines":
        full = jsonl(*[line(f"L{n}", f"finding {n}") for n in range(4)])
        empty = b"{}\n"
    else:                        # a script of its own name that found nothing
        full = jsonl(*[line(f"L{n}", f"finding {n}", tool="hostcheck") for n in range(4)])
        empty = b'{"tool": "hostcheck"}\n'
    imp(m, "scope", full, emu)
    since = emu.mark()
    res2 = imp(m, "scope", empty, emu)
    assert writes(emu, since) == []
    assert res2["counts"]["findings"] == 0
    assert res2["close_refused"] and "empty" in res2["close_refused"], res2
    assert res2["counts"]["refused"] == 4 and res2["counts"]["closed"] == 0
    assert all(not is_done(i) and comments(i) == [] for i in scan_issues(emu))


def test_an_empty_scan_posts_no_gone_comments_without_autoclose(emu, m):
    imp(m, "web.sarif", sarif(four_findings()), emu)
    since = emu.mark()
    res2 = imp(m, "web.sarif", sarif([]), emu)
    assert writes(emu, since) == [] and res2["close_refused"]
    assert res2["counts"]["gone"] == 0 and res2["counts"]["refused"] == 4


def test_a_mostly_vanished_scan_closes_nothing(emu, mount):
    ten = jsonl(*[line(f"V{n}", f"finding {n}") for n in range(10)])
    one = jsonl(line("V0", "finding 0"))
    m1 = mount(emu, "timeout=5", "scan_autoclose")            # scan_autoclose_max=50
    os.listdir(m1.p(P))
    imp(m1, "scope-a", ten, emu)
    since = emu.mark()
    res2 = imp(m1, "scope-a", one, emu)
    assert writes(emu, since) == []
    assert res2["close_refused"] and "9 of 10" in res2["close_refused"], res2
    assert res2["counts"]["refused"] == 9 and res2["counts"]["unchanged"] == 1
    assert all(not is_done(i) and comments(i) == [] for i in scan_issues(emu))
    # the same scan under a looser limit closes them: the rule was what held them
    m2 = mount(emu, "timeout=5", "scan_autoclose", "scan_autoclose_max=95")
    os.listdir(m2.p(P))
    imp(m2, "scope-b", ten, emu)
    res3 = imp(m2, "scope-b", one, emu)
    assert res3["close_refused"] is None and res3["counts"]["closed"] == 9
    closed = [i for i in scan_issues(emu, scope_label=res3["label"]) if is_done(i)]
    assert len(closed) == 9
    assert all(comments(i)[0].startswith("No longer reported") for i in closed)


def test_min_severity_skips_and_never_closes(emu, mount):
    m1 = mount(emu, "timeout=5")
    os.listdir(m1.p(P))
    report = jsonl(line("S1", "critical one", "critical"), line("S2", "high one", "high"),
                   line("S3", "medium one", "medium"), line("S4", "low one", "low"))
    m2 = mount(emu, "timeout=5", "scan_min_severity=high", "scan_autoclose")
    os.listdir(m2.p(P))
    res1 = imp(m2, "hi.jsonl", report, emu)
    assert res1["counts"]["new"] == 2 and res1["counts"]["skipped"] == 2
    assert outcomes(res1) == ["new", "new", "skipped", "skipped"]
    got = sorted(i["fields"]["summary"] for i in scan_issues(emu))
    assert len(got) == 2 and "critical one" in got[0] + got[1] and "high one" in got[0] + got[1]
    # tickets made earlier from a lower severity are skipped, never closed
    res0 = imp(m1, "all.jsonl", report, emu)
    assert res0["counts"]["new"] == 4
    since = emu.mark()
    res2 = imp(m2, "all.jsonl", report, emu)
    assert writes(emu, since) == []
    assert res2["counts"]["skipped"] == 2 and res2["counts"]["closed"] == 0
    assert res2["counts"]["unchanged"] == 2
    assert all(not is_done(i) and comments(i) == []
               for i in scan_issues(emu, scope_label=res2["label"]))


# ================================================================== groups
def grouped_results():
    return [res("FF1004", "src/a.c", 10, STRCPY, snippet="strcpy(a1, s);"),
            res("FF1004", "src/a.c", 20, STRCPY, snippet="strcpy(a2, s);"),
            res("FF1004", "src/b.c", 5, STRCPY, snippet="strcpy(b1, s);"),
            res("FF1044", "src/b.c", 7, PRINTF, snippet="printf(s);")]


def test_scan_group_rule_makes_one_ticket_per_rule(emu, mount):
    m = mount(emu, "timeout=5", "scan_group=rule", "scan_autoclose")
    os.listdir(m.p(P))
    res1 = imp(m, "web.sarif", sarif(grouped_results()), emu)
    assert res1["counts"]["findings"] == 4 and res1["counts"]["new"] == 2
    issues = scan_issues(emu)
    assert len(issues) == 2
    (strcpy,) = [i for i in issues if "FF1004" in i["fields"]["labels"]]
    (printf,) = [i for i in issues if "FF1044" in i["fields"]["labels"]]
    d = strcpy["fields"]["description"]
    for loc in ("src/a.c:10", "src/a.c:20", "src/b.c:5"):
        assert loc in d, d
    assert "src/b.c:7" not in d and "src/b.c:7" in printf["fields"]["description"]
    assert strcpy["fields"]["summary"].startswith("[flawfinder] FF1004")
    assert " \u2014 " not in strcpy["fields"]["summary"]         # no single target
    since = emu.mark()
    imp(m, "web.sarif", sarif(grouped_results()), emu)
    assert writes(emu, since) == []
    # one location fixed: the group changed (a comment), it is not closed
    since = emu.mark()
    res3 = imp(m, "web.sarif", sarif(grouped_results()[1:]), emu)
    assert res3["counts"]["changed"] == 1 and res3["counts"]["closed"] == 0
    assert [r["path"] for r in writes(emu, since)] == \
        [f"/rest/api/2/issue/{strcpy['key']}/comment"]
    assert not is_done(emu.issue(strcpy["key"]))


def test_scan_group_rule_and_target(emu, mount):
    m = mount(emu, "timeout=5", "scan_group=rule+target")
    os.listdir(m.p(P))
    res1 = imp(m, "web.sarif", sarif(grouped_results()), emu)
    assert res1["counts"]["new"] == 3
    issues = scan_issues(emu)
    assert sorted(i["fields"]["summary"].rsplit(" \u2014 ", 1)[1] for i in issues) == \
        ["src/a.c", "src/b.c", "src/b.c"]
    (a,) = [i for i in issues if i["fields"]["summary"].endswith("src/a.c")]
    assert "src/a.c:10" in a["fields"]["description"]
    assert "src/a.c:20" in a["fields"]["description"]


@pytest.mark.slow
def test_a_huge_group_stays_within_jiras_limits(emu, mount):
    """scan_group=rule over 3,000 locations of one rule: one ticket whose description
    (and the comment when the group changes) fits Jira's 32,767 characters."""
    m = mount(emu, "timeout=10", "scan_group=rule")
    os.listdir(m.p(P))
    many = [res("FF1004", f"src/very/long/directory/name/for/module{n:04d}.c", 10 + n, STRCPY,
                snippet=f"strcpy(buffer_{n}, input);") for n in range(3000)]
    r1 = imp(m, "big.sarif", sarif(many), emu)
    assert r1["counts"]["findings"] == 3000 and r1["counts"]["new"] == 1
    (i,) = scan_issues(emu)
    check_valid_ticket(i)
    assert "more" in i["fields"]["description"]
    r2 = imp(m, "big.sarif", sarif(many[1500:]), emu)
    assert r2["counts"]["changed"] == 1
    (body,) = comments(emu.issue(i["key"]))
    assert utf16_len(body) <= 32767


# ================================================================== two machines at once
@pytest.mark.slow
def test_two_machines_importing_at_once_leave_one_open_ticket(emu, mount):
    m1 = mount(emu, "timeout=10")
    m2 = mount(emu, "timeout=10")
    for mm in (m1, m2):
        os.listdir(mm.p(P))
    report = jsonl(*[line(f"race-{n}", f"raced finding {n}") for n in range(4)])
    # creates are slow: both plans are made before either machine's ticket exists
    emu.add_faults([{"method": "POST", "path": "/rest/api/2/issue", "exact": True,
                     "action": "latency", "ms": 1500}])
    since = emu.mark()
    barrier = threading.Barrier(2)

    def go(mm):
        barrier.wait()
        write(mm, "race.jsonl", report)
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        list(ex.map(go, (m1, m2)))

    def one_open_each():
        if not (drained(m1) and drained(m2)):
            return False
        d = by_fp(emu)
        return len(d) == 4 and all(sum(not is_done(i) for i in v) == 1 for v in d.values())
    wait_for(one_open_each, 90, "one open ticket per fingerprint")
    settle(m1, emu=emu)
    settle(m2, emu=emu)
    assert len(creates(emu, since)) == 8, "the two imports did not race"
    for fp, tickets in by_fp(emu).items():
        (keep,) = [i for i in tickets if not is_done(i)]
        dups = [i for i in tickets if is_done(i)]
        assert len(tickets) == 2 and len(dups) == 1, [i["key"] for i in tickets]
        assert int(keep["key"].split("-")[1]) < int(dups[0]["key"].split("-")[1])
        assert dups[0]["fields"]["resolution"]["name"] == "Duplicate"
        said = [c for c in comments(dups[0]) if c.startswith("Duplicate of ")]
        assert len(said) == 1 and keep["key"] in said[0], comments(dups[0])
        assert comments(keep) == []
    # the machine that lost the race to close it was not refused: it was done
    for mm in (m1, m2):
        assert "refused close" not in read_log(mm), read_log(mm)
    # the next scan on either machine: nothing to do
    emu.clear_faults()
    for mm in (m1, m2):
        since = emu.mark()
        r = imp(mm, "race.jsonl", report, emu)
        assert writes(emu, since) == [] and r["counts"]["unchanged"] == 4
        assert r["counts"]["new"] == 0 and r["counts"]["reopened"] == 0


# ================================================================== Jira down
def test_jira_down_the_plan_waits_in_the_outbox(emu, mount):
    m = mount(emu, "timeout=3", "cache_ttl=3600")
    os.listdir(m.p(P))                                         # a listing is held
    emu.stop()
    t0 = time.monotonic()
    write(m, "web.sarif", sarif(ff_results()))                 # close() returns 0
    assert time.monotonic() - t0 < (3 + 2) * SLOW
    files = outbox_files(m)
    assert len(files) == 3 and status(m)["outbox"] == 3
    recs = [json.load(open(m.p(".jirafs", "outbox", f))) for f in files]
    assert {r["kind"] for r in recs} == {"create"}
    assert {r["scan"] for r in recs} == {"web.sarif"}
    assert len({r["fp"] for r in recs}) == 3
    r = result(m, "web.sarif")
    assert all(f["pending"] is True and f["key"] is None for f in r["findings"])
    emu.restart()
    since = 0                     # a restarted emulator's log starts afresh
    r = settle(m, "web.sarif", emu, timeout=120)
    assert all(f["key"] for f in r["findings"])
    issues = by_fp(emu)
    assert len(issues) == 3 and all(len(v) == 1 for v in issues.values())
    assert {f["fingerprint"]: f["key"] for f in r["findings"]} == \
        {fp: v[0]["key"] for fp, v in issues.items()}
    assert len(creates(emu, since)) == 3


def test_the_next_scan_while_creates_still_wait_makes_no_second_ticket(emu, mount):
    """cron runs the scan again while Jira is still down: the second import plans against
    a listing without the tickets the first one queued; once Jira is back, each finding
    has one ticket all the same."""
    m = mount(emu, "timeout=3", "cache_ttl=3600")
    os.listdir(m.p(P))
    emu.stop()
    report = jsonl(*[line(f"W{n}", f"waiting finding {n}") for n in range(3)])
    write(m, "cron.jsonl", report)
    write(m, "cron.jsonl", report)
    emu.restart()
    since = 0                     # a restarted emulator's log starts afresh
    settle(m, "cron.jsonl", emu, timeout=120)
    issues = by_fp(emu)
    assert len(issues) == 3 and all(len(v) == 1 for v in issues.values()), \
        {fp: [i["key"] for i in v] for fp, v in issues.items()}
    assert len(creates(emu, since)) == 3
    r = result(m, "cron.jsonl")
    assert {f["fingerprint"]: f["key"] for f in r["findings"]} == \
        {fp: v[0]["key"] for fp, v in issues.items()}
    since = emu.mark()
    imp(m, "cron.jsonl", report, emu)
    assert writes(emu, since) == []


@pytest.mark.parametrize("change", ["changed", "gone"])
def test_the_next_scan_while_a_comment_still_waits_adds_no_second_comment(emu, mount, change):
    """The same for the comment of a changed or a gone finding: said once."""
    m = mount(emu, "timeout=3", "cache_ttl=3600")
    os.listdir(m.p(P))
    a, b = line("A", "finding A", "high"), line("B", "finding B", "high")
    r1 = imp(m, "cron.jsonl", jsonl(a, b), emu)
    key = key_of(r1, "finding A")
    emu.stop()
    nxt = jsonl(dict(a, severity="critical"), b) if change == "changed" else jsonl(b)
    write(m, "cron.jsonl", nxt)
    write(m, "cron.jsonl", nxt)
    emu.restart()
    settle(m, "cron.jsonl", emu, timeout=120)
    assert len(comments(emu.issue(key))) == 1, comments(emu.issue(key))


def test_jira_down_and_no_listing_held_is_an_error_not_a_guess(emu, mount):
    """Nothing to plan against (the project was never listed): close() fails with
    EIO or ETIMEDOUT -- never success with an empty plan that would create every
    ticket again -- and nothing is queued."""
    m = mount(emu, "timeout=3")
    assert P in os.listdir(m.path)
    emu.stop()
    with pytest.raises(OSError) as e:
        write(m, "web.sarif", sarif(ff_results()))
    assert e.value.errno in (errno.EIO, errno.ETIMEDOUT), e.value
    assert outbox_files(m) == []
    why = os.getxattr(sdir(m, "web.sarif"), "user.jira.error").decode()
    assert "again" in why, why
    emu.restart()
    r = imp(m, "web.sarif", sarif(ff_results()), emu)
    assert r["counts"]["new"] == 3 and len(scan_issues(emu)) == 3


def test_jira_failing_after_the_listing(emu, m):
    """The listing refresh fails too (503): the held one is planned against; the
    creates get 503s and lost answers, and each ticket is made once."""
    emu.add_faults([{"method": "POST", "path": "/rest/api/2/search", "action": "status",
                     "status": 503, "count": 2},
                    {"method": "GET", "path": "/rest/api/2/search", "action": "status",
                     "status": 503, "count": 2},
                    {"method": "POST", "path": "/rest/api/2/issue", "exact": True,
                     "action": "status", "status": 503, "count": 2},
                    {"method": "POST", "path": "/rest/api/2/issue", "exact": True,
                     "action": "drop_after", "count": 2}])
    since = emu.mark()
    report = jsonl(*[line(f"D{n}", f"finding {n}") for n in range(5)])
    write(m, "flaky.jsonl", report)
    r = settle(m, "flaky.jsonl", emu, timeout=120)
    assert r["counts"]["new"] == 5 and all(f["key"] for f in r["findings"])
    issues = by_fp(emu)
    assert len(issues) == 5 and all(len(v) == 1 for v in issues.values()), \
        {fp: [i["key"] for i in v] for fp, v in issues.items()}
    statuses = [p["status"] for p in creates(emu, since)]
    assert statuses.count(201) == 5, statuses     # committed once each (drop_after: 201)
    assert {f["fingerprint"]: f["key"] for f in r["findings"]} == \
        {fp: v[0]["key"] for fp, v in issues.items()}
    since = emu.mark()
    imp(m, "flaky.jsonl", report, emu)
    assert writes(emu, since) == []


def test_records_waiting_at_unmount_are_applied_once_after_remount(emu, mount, tmp_path):
    state = tmp_path / "st"
    m = mount(emu, f"state_dir={state}", "timeout=2")
    os.listdir(m.p(P))
    emu.stop()
    write(m, "web.sarif", sarif(ff_results()))
    assert len(outbox_files(m)) == 3
    m.unmount()
    assert len(os.listdir(state / "outbox")) == 3
    emu.restart()
    since = emu.mark()
    m2 = mount(emu, f"state_dir={state}", "timeout=5")
    r = settle(m2, "web.sarif", emu, timeout=120)
    issues = by_fp(emu)
    assert len(issues) == 3 and all(len(v) == 1 for v in issues.values())
    assert len(creates(emu, since)) == 3
    assert all(f["key"] for f in r["findings"]), r["findings"]
    since = emu.mark()
    imp(m2, "web.sarif", sarif(ff_results()), emu)
    assert writes(emu, since) == []


# ================================================================== refused reports
def truncated_sarif():
    b = to_bytes(sarif(ff_results()))
    return b[:len(b) // 2]


INVALID = {
    "invalid-json": b'{"version": "2.1.0", "runs": [}\n',
    "truncated": truncated_sarif(),
    "not-json": b"scan finished: 3 findings\nsee the log\n",
    "unknown-json": b'{\n  "scanner": "home-made",\n  "items": [1, 2]\n}\n',
    "json-array": b'[\n  {"id": "x"}\n]\n',
    "sarif-1.0": b'{\n  "version": "1.0.0",\n  "runs": []\n}\n',
    "lines-missing-asset": jsonl({"id": "a", "title": "t", "severity": "high"}),
    "lines-bad-severity": jsonl(line("a", "t", "urgent")),
    "lines-one-bad-line": jsonl(line("a", "t")) + b'{"id": "b", "title": \n',
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_an_invalid_report_is_einval_and_nothing_is_sent(emu, m, case):
    data = INVALID[case]
    name = f"{case}.report"
    since = emu.mark()
    with pytest.raises(OSError) as e:
        with open(sdir(m, name), "wb") as f:
            f.write(data)
    assert e.value.errno == errno.EINVAL
    assert open(sdir(m, name), "rb").read() == data             # the bytes stay
    why = subprocess.run(["getfattr", "-n", "user.jira.error", "--only-values",
                          sdir(m, name)], capture_output=True, text=True)
    assert why.returncode == 0 and why.stdout.strip(), why.stderr
    assert "\n" not in why.stdout.strip()
    assert f"refused import SEC/scans/{name}: {why.stdout.strip()}" in read_log(m)
    if case == "lines-one-bad-line":
        assert "line 2" in why.stdout, why.stdout
    assert not os.path.exists(sdir(m, name + ".result.json"))
    time.sleep(0.5)
    assert writes(emu, since) == [] and outbox_files(m) == []
    # writing it again, corrected, imports it and clears the error
    write(m, name, jsonl(line("ok", "fixed report")))
    settle(m, name, emu)
    with pytest.raises(OSError) as e:
        os.getxattr(sdir(m, name), "user.jira.error")
    assert e.value.errno == errno.ENODATA
    assert len(scan_issues(emu)) == 1


def test_cp_of_an_invalid_report_fails(emu, m, tmp_path):
    r = cp(tmp_path, m, "bad.sarif", b"scan finished: 3 findings\n")
    assert r.returncode != 0 and "Invalid argument" in r.stderr, r.stderr
    assert os.getxattr(sdir(m, "bad.sarif"), "user.jira.error")
    assert open(sdir(m, "bad.sarif"), "rb").read() == b"scan finished: 3 findings\n"


@pytest.mark.parametrize("how", ["truncate", "o_trunc"])
def test_an_empty_report_is_refused(emu, m, how):
    """A scanner that wrote nothing: refused, nothing sent.  A report only emptied by
    open(O_TRUNC) and closed unwritten (`scanner > SEC/scans/web.sarif` where the scanner
    died at once) is judged when its last descriptor goes -- the shell closes its own copy
    after dup2() before the scanner writes -- so that close() cannot say EINVAL; the
    attribute and the log do."""
    imp(m, "web.sarif", sarif(ff_results()), emu)
    before = result(m, "web.sarif")
    since = emu.mark()
    if how == "truncate":
        with pytest.raises(OSError) as e:
            with open(sdir(m, "web.sarif"), "wb") as f:
                f.truncate(0)
        assert e.value.errno == errno.EINVAL
    else:
        fd = os.open(sdir(m, "web.sarif"), os.O_WRONLY | os.O_TRUNC)
        os.close(fd)
    why = wait_for(lambda: getxattr_or_none(sdir(m, "web.sarif"), "user.jira.error"),
                   10, "the refusal")
    assert "empty" in why.decode(), why
    assert "refused import SEC/scans/web.sarif: " in read_log(m)
    assert os.stat(sdir(m, "web.sarif")).st_size == 0
    time.sleep(0.5)
    assert writes(emu, since) == [] and result(m, "web.sarif") == before
    assert all(comments(i) == [] and not is_done(i) for i in scan_issues(emu))


def getxattr_or_none(path, name):
    try:
        return os.getxattr(path, name)
    except OSError as e:
        if e.errno != errno.ENODATA:
            raise
        return None


@pytest.mark.slow
def test_a_report_over_64_mib_is_efbig(emu, m):
    since = emu.mark()
    chunk = b" " * (1 << 20)
    fd = os.open(sdir(m, "huge.sarif"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for _ in range(64):
            assert os.write(fd, chunk) == len(chunk)
        with pytest.raises(OSError) as e:
            os.write(fd, b"{}")
        assert e.value.errno == errno.EFBIG
    finally:
        with pytest.raises(OSError) as e:
            os.close(fd)
    assert e.value.errno == errno.EFBIG
    why = os.getxattr(sdir(m, "huge.sarif"), "user.jira.error").decode()
    assert "64 MiB" in why
    assert "refused import SEC/scans/huge.sarif" in read_log(m)
    assert writes(emu, since) == [] and outbox_files(m) == []
    assert not os.path.exists(sdir(m, "huge.sarif.result.json"))


@pytest.fixture
def small_tmpfs(tmp_path):
    d = tmp_path / "small"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(d)], check=True)
    yield d
    subprocess.run(["umount", "-l", str(d)], capture_output=True)


def test_a_plan_that_does_not_fit_is_journaled_not_at_all(emu, mount, small_tmpfs):
    """The report fits in the state directory, its 300 records do not: close() says
    ENOSPC, nothing is queued or sent (all or nothing), and once there is room the
    same report is imported whole."""
    m = mount(emu, f"state_dir={small_tmpfs}/state")
    os.listdir(m.p(P))
    report = jsonl(*[line(f"N{n}", f"finding {n}", description="d" * 400)
                     for n in range(300)])
    fill = small_tmpfs / "fill"
    with open(fill, "wb", buffering=0) as f:        # leave about 4 times the report
        free = os.statvfs(small_tmpfs).f_bavail * os.statvfs(small_tmpfs).f_frsize
        f.write(b"\0" * max(0, free - 4 * len(report)))
    since = emu.mark()
    with pytest.raises(OSError) as e:
        write(m, "full.jsonl", report)
    assert e.value.errno == errno.ENOSPC
    assert outbox_files(m) == [] and status(m)["outbox"] == 0
    assert os.listdir(small_tmpfs / "state" / "outbox") == []      # no temporaries left
    time.sleep(0.5)
    assert writes(emu, since) == []
    assert open(sdir(m, "full.jsonl"), "rb").read() == report     # the report was kept
    why = os.getxattr(sdir(m, "full.jsonl"), "user.jira.error").decode()
    assert "300 operations" in why, why
    fill.unlink()
    r = imp(m, "full.jsonl", report, emu)
    assert r["counts"]["new"] == 300 and len(scan_issues(emu)) == 300


# ================================================================== hostile text
def hostile_report():
    objs = [
        line("ctl", "evil\u0007 title\u001b[31m red\u001b[0m \u202egnp.exe\u200f end", "high",
             "web-01\nweb-02", description="line 1\r\nline 2\u0000after a NUL \u202e rtl",
             labels=["has space", "tab\there", "\u00fcn\u00efcode", "x" * 300, ""],
             rule="my rule/with spaces"),
        line("big", "T" * 400, "medium", "a" * 300, description="\u20ac" * 100_000),
        line("nul\u0000id", "\u0000\u0000 starts with NULs", "low", "h\u0000st"),
        line("emoji", "\U0001f642" * 300, "info", "e\U0001f642"),
    ]
    raw = jsonl(*objs)
    # invalid UTF-8 inside a JSON string: a lone continuation byte, an overlong form, a
    # surrogate, a truncated sequence
    raw += (b'{"id": "bad-utf8", "title": "caf\xc3 \xff\xfe \xc0\xaf broken", '
            b'"severity": "low", "asset": "host-\xed\xa0\x80", '
            b'"description": "tail \xe2\x82"}\n')
    return raw, len(objs) + 1


def hostile_sarif():
    text = ("\u202e" + "x\u0001y " * 25_000)                 # 100 KB, control characters
    rules = [rule("R\u202e1 bad/id", "title with \u202e and \u0007 bell\nand newline",
                  ["CWE-79"], help={"text": "h" * 40_000})]
    return sarif([res("R\u202e1 bad/id", "src/x\u202e.c", 1, text, snippet="\u0000snip")],
                 tool="Bad\u202eTool 1.0", rules=rules)


def check_valid_ticket(i):
    f = i["fields"]
    s = f["summary"]
    assert 0 < utf16_len(s) <= 255 and len(s) <= 255, s
    assert not any(ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f or ch in BIDI or ch == "\ufeff"
                   for ch in s), repr(s)
    d = f["description"]
    assert utf16_len(d) <= 32767, utf16_len(d)
    assert not any((ord(ch) < 0x20 and ch not in "\n\t") or ch in BIDI for ch in d), \
        repr([ch for ch in d if (ord(ch) < 0x20 and ch not in "\n\t") or ch in BIDI][:5])
    for lab in f["labels"]:
        assert lab and len(lab) <= 255 and not re.search(r"\s", lab), repr(lab)


def test_hostile_text_makes_valid_tickets(emu, m):
    raw, n = hostile_report()
    res1 = imp(m, "hostile.jsonl", raw, emu)
    assert res1["counts"]["new"] == n, res1
    res2 = imp(m, "hostile.sarif", hostile_sarif(), emu)
    assert res2["counts"]["new"] == 1
    issues = scan_issues(emu)
    assert len(issues) == n + 1
    for i in issues:
        check_valid_ticket(i)
    assert "refused" not in read_log(m)
    ctl = [i for i in issues if "gnp.exe" in i["fields"]["summary"]]
    assert len(ctl) == 1
    labels = ctl[0]["fields"]["labels"]
    assert "has-space" in labels and "my-rule-with-spaces" in labels
    big = [i for i in issues if "TTTT" in i["fields"]["summary"]][0]
    assert "\u20ac" * 1000 in big["fields"]["description"]          # cut, not dropped
    assert big["fields"]["description"].rstrip().endswith("seen=yes]")
    for r in (res1, res2):
        for f in r["findings"]:
            assert "\u0000" not in f["summary"] and utf16_len(f["summary"]) <= 255
    # and nothing changes on the next import of the same bytes
    since = emu.mark()
    imp(m, "hostile.jsonl", raw, emu)
    imp(m, "hostile.sarif", hostile_sarif(), emu)
    assert writes(emu, since) == []


# ================================================================== scale
@pytest.mark.slow
def test_a_thousand_findings_are_applied_once_in_parallel(emu, mount):
    m = mount(emu, "timeout=10", "max_connections=8")
    os.listdir(m.p(P))
    report = jsonl(*[line(f"K{n:04d}", f"finding number {n}", "medium", f"host-{n % 37}")
                     for n in range(1000)])
    # every create takes 20 ms in Jira: one at a time would need 20 s
    emu.add_faults([{"method": "POST", "path": "/rest/api/2/issue", "exact": True,
                     "action": "latency", "ms": 20}])
    since = emu.mark()
    t0 = time.monotonic()
    write(m, "fleet.jsonl", report)
    took_close = time.monotonic() - t0
    partial = []                     # how many keys the result had, seen while applying
    while not drained(m) and time.monotonic() - t0 < 300 * SLOW:
        try:
            keys = sum(1 for f in result(m, "fleet.jsonl")["findings"] if f["key"])
        except ValueError:           # never: the file is replaced whole
            raise AssertionError("a result file read half-written")
        partial.append(keys)
        time.sleep(0.2)
    r = settle(m, "fleet.jsonl", emu, timeout=300)
    took = time.monotonic() - t0
    posts = creates(emu, since)
    assert len(posts) == 1000 and all(p["status"] == 201 for p in posts)
    issues = by_fp(emu)
    assert len(issues) == 1000 and all(len(v) == 1 for v in issues.values())
    assert len({f["key"] for f in r["findings"]}) == 1000
    assert max_overlap(posts) >= 4, "the creates were not applied in parallel"
    assert took < 20 * SLOW, took
    assert any(0 < k < 1000 for k in partial), partial   # keys came in as creates landed
    assert took_close < 10 * SLOW, took_close
    print(f"1000 findings: close() {took_close:.2f} s, applied in {took:.1f} s, "
          f"overlap {max_overlap(posts)}")
    emu.clear_faults()
    since = emu.mark()
    r2 = imp(m, "fleet.jsonl", report, emu)
    assert writes(emu, since) == [] and r2["counts"]["unchanged"] == 1000


# ================================================================== real scanners
def scanners_module():
    import scanners
    return scanners


def expected(sarif_bytes):
    """(findings, suppressed) of a SARIF log by scanners.findings()."""
    fs = scanners_module().findings(sarif_bytes)
    return [f for f in fs if not f.suppressed], [f for f in fs if f.suppressed]


def run_scanner(name, tree):
    s = scanners_module()
    return s.SCANNERS[name][0](tree)


@pytest.mark.slow
@pytest.mark.parametrize("scanner", ["flawfinder", "eslint", "clang"])
def test_a_real_scanner_report_through_its_life(emu, m, tmp_path, scanner):
    """One ticket per finding; the same scan again, a line inserted at the top of every
    file, the tree scanned at another path: nothing; a finding removed: gone."""
    s = scanners_module()
    sample = s.SCANNERS[scanner][1]
    tree = s.copy_tree(sample, str(tmp_path / "run1" / os.path.basename(sample)))
    name = f"{scanner}.sarif"
    first = run_scanner(scanner, tree)
    want, suppressed = expected(first)
    assert want, "the sample tree gave no finding"
    since = emu.mark()
    if scanner == "flawfinder":                    # the way a cron job writes it
        subprocess.run(["sh", "-c", f'cd "{tree}" && flawfinder --sarif . > "{sdir(m, name)}"'],
                       check=True, timeout=120)
        assert open(sdir(m, name), "rb").read() == first
    else:
        assert cp(tmp_path, m, name, first).returncode == 0
    r1 = settle(m, name, emu, timeout=120)
    assert r1["format"] == "sarif" and r1["counts"]["findings"] == len(want), r1["counts"]
    assert r1["counts"]["suppressed"] == len(suppressed)
    issues = by_fp(emu)
    assert len(issues) == len(want) and all(len(v) == 1 for v in issues.values())
    assert len(creates(emu, since)) == len(want)
    for (i,) in issues.values():
        check_valid_ticket(i)
        assert scanner in i["fields"]["labels"]
        assert i["fields"]["summary"].startswith(f"[{scanner}] ")
    # every rule got as many tickets as it had findings
    per_rule = {}
    for f in want:
        per_rule[f.rule] = per_rule.get(f.rule, 0) + 1
    for rid, n in per_rule.items():
        lab = re.sub(r"[^A-Za-z0-9._:-]", "-", rid)
        assert sum(lab in v[0]["fields"]["labels"] for v in issues.values()) == n, rid

    # the same report again: nothing
    since = emu.mark()
    imp(m, name, first, emu)
    assert writes(emu, since) == []
    # the next commit inserts lines at the top: every finding drifts, nothing changes
    s.second_run_edits(tree, inserted=3, remove=None)
    drifted = run_scanner(scanner, tree)
    assert drifted != first
    since = emu.mark()
    r2 = imp(m, name, drifted, emu)
    assert writes(emu, since) == [], [(w["method"], w["path"]) for w in writes(emu, since)]
    assert r2["counts"]["unchanged"] == len(want) and r2["counts"]["new"] == 0
    # another checkout at another path (another machine's CI): nothing either
    other = s.copy_tree(tree, str(tmp_path / "elsewhere" / "checkout"))
    since = emu.mark()
    r3 = imp(m, name, run_scanner(scanner, other), emu)
    assert writes(emu, since) == [] and r3["counts"]["new"] == 0
    # the marked finding is fixed: reported gone, one comment, no create
    s.second_run_edits(tree, inserted=0)
    fixed = run_scanner(scanner, tree)
    left, _ = expected(fixed)
    assert len(left) < len(want)
    since = emu.mark()
    r4 = imp(m, name, fixed, emu)
    assert creates(emu, since) == []
    assert r4["counts"]["gone"] == len(want) - len(left), r4["counts"]
    assert r4["counts"]["new"] == 0 and r4["counts"]["unchanged"] == len(left)
    gone_keys = [f["key"] for f in r4["findings"] if f["outcome"] == "gone"]
    for k in gone_keys:
        assert comments(emu.issue(k))[-1].startswith("No longer reported")
    assert sorted(w["path"] for w in writes(emu, since)) == \
        sorted(f"/rest/api/2/issue/{k}/comment" for k in gone_keys)


# ================================================================== the fixtures
def fixture_files():
    return sorted(p for p in glob.glob(os.path.join(FIXTURES, "*")) if os.path.isfile(p)
                  and not p.endswith((".md", ".txt", ".expected.json")))


def expected_fixture(path):
    """(findings, suppressed) of a fixture, counted independently of jirafs."""
    data = open(path, "rb").read()
    if path.endswith(".jsonl"):
        objs = [json.loads(x) for x in data.decode("utf-8", "replace").splitlines() if x.strip()]
        return len([o for o in objs if o]), 0
    doc = json.loads(data)
    if "runs" in doc:
        n = sup = 0
        for run in doc["runs"]:
            seen = set()
            for r in run.get("results") or []:
                if r.get("kind", "fail") in ("pass", "notApplicable", "informational"):
                    continue
                if any(s.get("status", "accepted") in ("accepted", "underReview")
                       for s in r.get("suppressions") or []):
                    sup += 1
                    continue
                key = json.dumps(r, sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    n += 1
        return n, sup
    n = 0
    for r in doc.get("Results") or []:
        n += len(r.get("Vulnerabilities") or [])
        n += len([x for x in r.get("Misconfigurations") or [] if x.get("Status", "FAIL") == "FAIL"])
        n += len(r.get("Secrets") or [])
    return n, 0


@pytest.mark.parametrize("path", [pytest.param(p, id=os.path.basename(p))
                                  for p in fixture_files()])
def test_a_fixture_report_makes_one_ticket_per_finding(emu, mount, path):
    # a project with the components the fixtures name (script.jsonl sets "ops")
    emu.create_project("FIX", components=["web", "db", "infra", "ops"])
    m = mount(emu, "timeout=5")
    os.listdir(m.p("FIX"))
    n, sup = expected_fixture(path)
    data = open(path, "rb").read()
    name = os.path.basename(path)
    since = emu.mark()
    r = imp(m, name, data, emu, project="FIX")
    assert r["counts"]["findings"] == n, (r["counts"], r["warnings"])
    assert r["counts"]["suppressed"] == sup
    assert r["counts"]["new"] == n and len(creates(emu, since)) == n
    issues = by_fp(emu, "FIX")
    assert len(issues) == n and all(len(v) == 1 for v in issues.values())
    for (i,) in issues.values():
        check_valid_ticket(i)
    assert "refused" not in read_log(m)
    since = emu.mark()
    imp(m, name, data, emu, project="FIX")
    assert writes(emu, since) == []


def test_the_fixtures_are_there():
    names = {os.path.basename(p) for p in fixture_files()}
    assert {"trivy-image.sarif", "semgrep.sarif", "codeql.sarif", "trivy-report.json",
            "script.jsonl"} <= names, names


# ================================================================== options
@pytest.mark.parametrize("opt", ["scan_group=file", "scan_min_severity=urgent",
                                 "scan_autoclose_max=150", "scan_priority=High:Low"])
def test_a_bad_scan_option_refuses_the_mount(emu, mount, opt):
    m = mount(emu, opt, start=False)
    rc, out = m.run_expect_failure()
    assert rc != 0 and opt.split("=")[0] in out, out
