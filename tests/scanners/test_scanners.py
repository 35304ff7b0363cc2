"""The real scanners of the scanner-bridge tests are installed and write the SARIF the
tests expect (see tests/scanners/README.md for the shapes). No skips: scripts/deps installs
them, and a missing one fails here with the command that installs it."""

import os
import re

import pytest

import scanners as S

C_RULES = {"FF1001", "FF1013", "FF1014", "FF1015", "FF1016", "FF1044"}   # flawfinder
JS_RULES = {"no-eval", "no-implied-eval", "no-new-func", "no-undef", "no-unused-vars"}
CLANG_RULES = {"unix.Malloc", "core.NullDereference", "core.DivideZero"}


def test_every_scanner_is_installed():
    S.check_installed()


@pytest.mark.parametrize("name", sorted(S.SCANNERS))
def test_sarif_is_2_1_0_with_results(name):
    fn, src = S.SCANNERS[name]
    out = fn(src)
    doc = S.parse_sarif(out)
    assert doc["version"] == "2.1.0" and doc["runs"]
    fs = S.findings(out)
    assert len(fs) >= 4
    expected = {"flawfinder": C_RULES, "eslint": JS_RULES, "clang": CLANG_RULES}[name]
    assert expected <= {f.rule for f in fs}
    for run in doc["runs"]:
        assert run["tool"]["driver"]["name"] in ("Flawfinder", "ESLint", "clang")
        assert run["tool"]["driver"].get("version")
    assert fn(src) == out                        # deterministic


def test_flawfinder_shape():
    doc = S.parse_sarif(S.flawfinder_sarif(S.C_SOURCES))
    run, = doc["runs"]
    assert run["tool"]["driver"]["version"] == "2.0.19"
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    # CWE ids travel as rule relationships to the CWE taxonomy, and in the message text
    cwes = {rel["target"]["id"] for rel in rules["FF1001"]["relationships"]}
    assert cwes == {"CWE-120"}
    fs = S.findings(S.flawfinder_sarif(S.C_SOURCES))
    for f in fs:
        assert re.fullmatch(r"\./[a-z]+\.c", f.uri)                 # relative to SRCROOT
        assert set(f.fingerprints) == {"contextHash/v1"} and not f.suppressed
    # the fingerprint hashes the line's text only: the same line in two files collides
    strcpy = {(f.uri, f.line): f.fingerprints["contextHash/v1"] for f in fs
              if f.rule == "FF1001" and f.level == "error"}
    assert len(strcpy) == 2 and len(set(strcpy.values())) == 1
    # "/* Flawfinder: ignore */" drops the next finding altogether (no SARIF suppression)
    lines = open(os.path.join(S.C_SOURCES, "vuln.c")).read().splitlines()
    ignored = lines.index("\t/* Flawfinder: ignore */") + 2
    assert ("./vuln.c", ignored) not in {(f.uri, f.line) for f in fs}
    # run on an absolute target, the URIs are absolute paths (still with SRCROOT)
    abs_uris = {f.uri for f in S.findings(S.flawfinder_sarif(S.C_SOURCES, S.C_SOURCES))}
    assert abs_uris == {os.path.join(S.C_SOURCES, n) for n in ("util.c", "vuln.c")}


def test_eslint_shape(tmp_path):
    tree = S.copy_tree("js", str(tmp_path / "js"))
    out = S.eslint_sarif(tree)
    doc = S.parse_sarif(out)
    run, = doc["runs"]
    assert run["tool"]["driver"]["version"] == "9.39.5"
    fs = S.findings(out)
    assert {f.uri for f in fs} == {"file://%s/%s" % (tree, n) for n in ("app.js", "lib.js")}
    assert all(not f.fingerprints and not f.partial for f in fs)
    results = run["results"]
    sup = [r for r in results if r.get("suppressions")]
    assert len(sup) == 1 and sup[0]["ruleId"] == "no-eval"
    assert sup[0]["suppressions"] == [{"kind": "inSource", "justification":
                                       "a reviewed use: the input is a constant"}]
    # "suppressions": [] on the other results of a file that has a suppressed one; absent
    # in the files that have none
    by_file = {}
    for r in results:
        by_file.setdefault(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                           []).append(r)
    for uri, rs in by_file.items():
        if uri.endswith("/app.js"):
            assert all(r["suppressions"] == [] for r in rs if r is not sup[0])
        else:
            assert all("suppressions" not in r for r in rs)
    assert [f.suppressed for f in fs].count(True) == 1
    quiet = S.findings(S.eslint_sarif(tree, ignore_suppressed=True))
    assert len(quiet) == len(fs) - 1 and not any(f.suppressed for f in quiet)
    assert {f.level for f in fs} == {"error", "warning"}


def test_clang_shape(tmp_path):
    tree = S.copy_tree("c", str(tmp_path / "c"))
    out = S.clang_sarif(tree)
    doc = S.parse_sarif(out)
    assert len(doc["runs"]) == 2                       # one run per translation unit
    fs = S.findings(out)
    assert {f.uri for f in fs} == {"file://%s/util.c" % tree}
    assert all(f.level is None and not f.fingerprints for f in fs)   # SARIF default: warning
    one = tmp_path / "one"
    one.mkdir()
    (one / "util.c").write_bytes(open(os.path.join(tree, "util.c"), "rb").read())
    single = S.clang_sarif(str(one))                   # one file: clang's own log, unchanged
    assert len(S.parse_sarif(single)["runs"]) == 1
    assert {f.rule for f in S.findings(single)} == CLANG_RULES


def _expected_line(line, changes):
    """Where a line of the first run is in the second."""
    if line in changes["removed"]:
        return None
    return line - sum(1 for r in changes["removed"] if r < line) + changes["inserted"]


@pytest.mark.parametrize("name", sorted(S.SCANNERS))
def test_second_run_drifts_and_loses_the_marked_findings(name, tmp_path):
    first, second, tree, changes = S.two_runs(name, workdir=str(tmp_path))
    a, b = S.findings(first), S.findings(second)
    assert len(b) == len(a) - sum(
        1 for f in a if _expected_line(f.line, changes[os.path.basename(f.uri)]) is None)
    assert len(b) < len(a)
    moved = sorted((f.rule, os.path.basename(f.uri),
                    _expected_line(f.line, changes[os.path.basename(f.uri)])) for f in a
                   if _expected_line(f.line, changes[os.path.basename(f.uri)]) is not None)
    assert moved == sorted((f.rule, os.path.basename(f.uri), f.line) for f in b)
    if name == "flawfinder":    # the line text did not change: neither did the hash
        fa = {f.fingerprints["contextHash/v1"] for f in a}
        assert {f.fingerprints["contextHash/v1"] for f in b} < fa


def test_second_run_elsewhere_changes_absolute_uris(tmp_path):
    first, second, tree, _ = S.two_runs("eslint", workdir=str(tmp_path), same_dir=False)
    ua = {f.uri for f in S.findings(first)}
    ub = {f.uri for f in S.findings(second)}
    assert not ua & ub and all(u.startswith("file://" + str(tmp_path)) for u in ua | ub)
    first, second, _, _ = S.two_runs("flawfinder", workdir=str(tmp_path / "ff"), same_dir=False)
    assert {f.uri for f in S.findings(first)} == {f.uri for f in S.findings(second)}


def test_parse_sarif_refuses():
    for bad in (b"", b"[]", b'{"version": "2.0.0", "runs": []}', b'{"version": "2.1.0"}',
                b'{"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": []}]}',
                b'{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}}]}',
                b'{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},'
                b' "results": [{"message": {"text": "m"}}]}]}', b"\xff"):
        with pytest.raises(ValueError):
            S.parse_sarif(bad)
    with pytest.raises(FileNotFoundError):
        S.flawfinder_sarif("/nonexistent")
