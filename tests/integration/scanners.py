"""Real scanners for the scanner-bridge tests (CONTRACT §10).

Each ``*_sarif(src_dir)`` runs a real tool on a source tree and returns the SARIF 2.1.0 it
wrote, as bytes, unchanged (``clang_sarif`` joins one log per file into one log of several
runs). A missing tool raises ``ScannerMissing`` -- never a skip: CI installs them
(``scripts/deps`` installs flawfinder, clang, Node.js and npm from Debian, then
``tests/scanners/install`` the pinned ESLint into the user's cache).

    flawfinder_sarif(src_dir)   flawfinder --sarif (Debian flawfinder 2.0.19)
    eslint_sarif(src_dir)       ESLint 9 + @microsoft/eslint-formatter-sarif (npm, pinned)
    clang_sarif(src_dir)        clang --analyze -analyzer-output=sarif (Debian clang 14)
    SCANNERS                    {"flawfinder": (fn, sample tree), "eslint": ..., "clang": ...}

The sample trees are ``tests/scanners/src/c`` and ``src/js``. Lines marked ``MARK`` hold a
finding that disappears in the second run. To get two runs of the same scan:

    tree = copy_tree(C_SOURCES)            # a private copy under a temp directory
    first = flawfinder_sarif(tree)
    changes = second_run_edits(tree)       # 3 lines inserted at the top of every file,
    second = flawfinder_sarif(tree)        # the MARK lines removed
    # or: first, second, tree, changes = two_runs("flawfinder")

``findings(sarif)`` flattens a log to ``Finding`` tuples (tool, rule, uri, line, level,
message, fingerprints, partial, suppressed) for assertions; ``parse_sarif`` checks the log
is SARIF 2.1.0 with runs and results, raising ``ValueError`` with the reason.
"""

import collections
import glob
import json
import os
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCANNERS_DIR = os.path.join(ROOT, "tests", "scanners")
C_SOURCES = os.path.join(SCANNERS_DIR, "src", "c")
JS_SOURCES = os.path.join(SCANNERS_DIR, "src", "js")
ESLINT_CONFIG = os.path.join(SCANNERS_DIR, "eslint.config.js")
INSTALL = os.path.join(SCANNERS_DIR, "install")

# A line carrying this text holds a finding that the second run no longer has.
MARK = "jfs-test: removed in run 2"
TIMEOUT = 120

COMMENT = {".c": "/* %s */", ".h": "/* %s */", ".js": "// %s", ".py": "# %s", ".sh": "# %s"}

Finding = collections.namedtuple(
    "Finding", "tool rule uri line level message fingerprints partial suppressed")


class ScannerMissing(RuntimeError):
    """A scanner the tests need is not installed (run scripts/deps)."""


class ScannerFailed(RuntimeError):
    """A scanner ran but failed (its exit status said so, or it wrote no SARIF)."""


def _which(name, hint):
    path = shutil.which(name)
    if path is None:
        raise ScannerMissing("%s is not installed (%s; scripts/deps installs it)" % (name, hint))
    return path


def _run(argv, cwd, ok=(0,), env=None):
    try:
        p = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT, env=env)
    except FileNotFoundError as e:
        raise ScannerMissing("%s: %s" % (argv[0], e)) from e
    if p.returncode not in ok:
        raise ScannerFailed("%s exited %d: %s" % (" ".join(argv), p.returncode,
                                                  p.stderr.decode("utf-8", "replace")[-2000:]))
    return p


def _check_dir(src_dir):
    if not os.path.isdir(src_dir):
        raise FileNotFoundError("no source directory %s" % src_dir)
    return os.path.abspath(src_dir)


# ------------------------------------------------------------------ the scanners
def flawfinder_sarif(src_dir, target="."):
    """flawfinder --sarif, run in src_dir on ``target`` (default ".": the URIs are
    ``./name.c`` relative to uriBaseId SRCROOT, as a CI job in a checkout writes them)."""
    src_dir = _check_dir(src_dir)
    exe = _which("flawfinder", "Debian package flawfinder")
    out = _run([exe, "--sarif", target], src_dir).stdout
    parse_sarif(out)
    return out


def npm_dir():
    """Where tests/scanners/install put the npm scanners (no network)."""
    p = subprocess.run([INSTALL, "--print-dir"], stdout=subprocess.PIPE, check=True)
    return p.stdout.decode().strip()


def eslint_paths():
    """-> (node, eslint.js, formatter .js), or ScannerMissing."""
    node = _which("node", "Debian package nodejs")
    d = npm_dir()
    eslint = os.path.join(d, "node_modules", "eslint", "bin", "eslint.js")
    fmt = os.path.join(d, "node_modules", "@microsoft", "eslint-formatter-sarif", "sarif.js")
    if subprocess.run([INSTALL, "--check"]).returncode != 0 or not os.path.isfile(eslint) \
            or not os.path.isfile(fmt):
        raise ScannerMissing("ESLint and its SARIF formatter are not installed in %s "
                             "(run tests/scanners/install, or scripts/deps)" % d)
    return node, eslint, fmt


def eslint_sarif(src_dir, config=ESLINT_CONFIG, ignore_suppressed=False, embed=False):
    """ESLint with tests/scanners/eslint.config.js (or ``config``) on every .js file of
    src_dir, formatted by @microsoft/eslint-formatter-sarif. Exit status 1 (problems found)
    is success; 2 (a crash or a bad config) is ScannerFailed. The formatter's two switches,
    whatever the environment says: ignore_suppressed (SARIF_ESLINT_IGNORE_SUPPRESSED: leave
    out the results an eslint-disable comment suppressed) and embed (SARIF_ESLINT_EMBED:
    the files' text in artifacts[].contents)."""
    src_dir = _check_dir(src_dir)
    node, eslint, fmt = eslint_paths()
    env = dict(os.environ, SARIF_ESLINT_IGNORE_SUPPRESSED=str(bool(ignore_suppressed)).lower(),
               SARIF_ESLINT_EMBED=str(bool(embed)).lower())
    # the formatter is named by its path: ESLint resolves a package name from the cwd
    out = _run([node, eslint, "--config", config, "--format", fmt, "--no-color", "."],
               src_dir, ok=(0, 1), env=env).stdout
    parse_sarif(out)
    return out


def clang_sarif(src_dir):
    """clang's static analyzer on every .c file of src_dir (sorted; one translation unit at
    a time, as clang --analyze takes them): one file gives clang's log unchanged, several
    give one log with clang's run of each file, in order. URIs are absolute file:// ones."""
    src_dir = _check_dir(src_dir)
    exe = _which("clang", "Debian package clang")
    files = sorted(os.path.relpath(p, src_dir)
                   for p in glob.glob(os.path.join(src_dir, "**", "*.c"), recursive=True))
    if not files:
        raise FileNotFoundError("no .c file under %s" % src_dir)
    logs = []
    with tempfile.TemporaryDirectory(prefix="jirafs-clang-") as tmp:
        for i, f in enumerate(files):
            out = os.path.join(tmp, "%d.sarif" % i)
            _run([exe, "--analyze", "-Xclang", "-analyzer-output=sarif", "-o", out, f],
                 src_dir)
            if not os.path.exists(out):
                raise ScannerFailed("clang wrote no SARIF for %s" % f)
            with open(out, "rb") as fh:
                logs.append(fh.read())
    if len(logs) == 1:
        parse_sarif(logs[0])
        return logs[0]
    docs = [json.loads(b) for b in logs]
    merged = {"$schema": docs[0].get("$schema"), "version": "2.1.0",
              "runs": [r for d in docs for r in d["runs"]]}
    out = (json.dumps(merged, indent=2) + "\n").encode()
    parse_sarif(out)
    return out


SCANNERS = {
    "flawfinder": (flawfinder_sarif, C_SOURCES),
    "eslint": (eslint_sarif, JS_SOURCES),
    "clang": (clang_sarif, C_SOURCES),
}


def check_installed():
    """Raise ScannerMissing naming every scanner that is not there."""
    missing = []
    for name, hint in (("flawfinder", "flawfinder"), ("clang", "clang"), ("node", "nodejs")):
        if shutil.which(name) is None:
            missing.append("%s (Debian package %s)" % (name, hint))
    if not missing:
        try:
            eslint_paths()
        except ScannerMissing as e:
            missing.append(str(e))
    if missing:
        raise ScannerMissing("missing scanners: " + "; ".join(missing) + " -- run scripts/deps")


# ------------------------------------------------------------------ reading SARIF
def parse_sarif(data):
    """-> the log as a dict; ValueError unless it is SARIF 2.1.0 with runs, each with a
    tool.driver.name and a results list whose entries have a message and a rule id."""
    try:
        doc = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError("not JSON: %s" % e) from e
    if not isinstance(doc, dict) or doc.get("version") != "2.1.0":
        raise ValueError("not a SARIF 2.1.0 log (version %r)" % (
            doc.get("version") if isinstance(doc, dict) else None))
    runs = doc.get("runs")
    if not isinstance(runs, list) or not runs:
        raise ValueError("no runs")
    for n, run in enumerate(runs):
        name = (((run or {}).get("tool") or {}).get("driver") or {}).get("name")
        if not isinstance(name, str) or not name:
            raise ValueError("run %d: no tool.driver.name" % n)
        results = run.get("results")
        if not isinstance(results, list):
            raise ValueError("run %d (%s): no results list" % (n, name))
        for k, r in enumerate(results):
            if not isinstance(r, dict) or not isinstance((r.get("message") or {}).get("text"),
                                                         str):
                raise ValueError("run %d result %d: no message.text" % (n, k))
            if not isinstance(r.get("ruleId"), str) and not isinstance(r.get("rule"), dict):
                raise ValueError("run %d result %d: no ruleId" % (n, k))
    return doc


def findings(data):
    """-> [Finding] over every run, in the log's order. uri and line are those of the first
    location (None when absent); suppressed is True when the result has a suppression that
    is not rejected (an empty ``suppressions`` list means examined and not suppressed)."""
    doc = parse_sarif(data)
    out = []
    for run in doc["runs"]:
        tool = run["tool"]["driver"]["name"]
        for r in run["results"]:
            uri = line = None
            locs = r.get("locations") or []
            if locs:
                phys = locs[0].get("physicalLocation") or {}
                uri = (phys.get("artifactLocation") or {}).get("uri")
                line = (phys.get("region") or {}).get("startLine")
            sup = any(s.get("status") in (None, "accepted") for s in r.get("suppressions") or [])
            out.append(Finding(tool, r.get("ruleId") or r["rule"].get("id"), uri, line,
                               r.get("level"), r["message"]["text"], r.get("fingerprints") or {},
                               r.get("partialFingerprints") or {}, sup))
    return out


def rule_counts(data):
    """-> {ruleId: number of results}."""
    return dict(collections.Counter(f.rule for f in findings(data)))


# ------------------------------------------------------------------ source trees
def copy_tree(src, dest=None):
    """Copy a source tree (a path, or "c" / "js" for the samples) to ``dest`` (a new
    directory under a fresh temp directory when None); -> the copy's path. The copy is the
    caller's to remove (shutil.rmtree(os.path.dirname(path)) for a temp one)."""
    src = {"c": C_SOURCES, "js": JS_SOURCES}.get(src, src)
    if dest is None:
        dest = os.path.join(tempfile.mkdtemp(prefix="jirafs-scan-"), os.path.basename(src))
    shutil.copytree(src, dest)
    return dest


def source_files(tree):
    """The files of tree that the edits below touch (by extension), sorted."""
    return sorted(p for p in glob.glob(os.path.join(tree, "**", "*"), recursive=True)
                  if os.path.isfile(p) and os.path.splitext(p)[1] in COMMENT)


def _lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines(keepends=True)


def _write(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines)


def insert_lines(path, lines, at=1):
    """Insert text lines (without newlines) before line ``at`` (1 = the top)."""
    old = _lines(path)
    _write(path, old[:at - 1] + [l + "\n" for l in lines] + old[at - 1:])


def remove_lines(path, containing):
    """Remove every line containing the text; -> their 1-based numbers (ValueError if
    none)."""
    old = _lines(path)
    gone = [n for n, l in enumerate(old, 1) if containing in l]
    if not gone:
        raise ValueError("no line of %s contains %r" % (path, containing))
    _write(path, [l for n, l in enumerate(old, 1) if n not in gone])
    return gone


def replace_text(path, old, new, count=1):
    """Replace ``old`` by ``new`` (ValueError if absent)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if old not in text:
        raise ValueError("%r not in %s" % (old, path))
    _write(path, [text.replace(old, new, count)])


def header(path, n):
    """n comment lines in the file's language."""
    fmt = COMMENT[os.path.splitext(path)[1]]
    return [fmt % ("header line %d added before the second scan" % (k + 1)) for k in range(n)]


def second_run_edits(tree, inserted=3, remove=MARK):
    """Change a tree as the next commit would: ``inserted`` comment lines at the top of every
    source file (every finding drifts down by that many lines) and every line containing
    ``remove`` deleted (those findings disappear; None keeps them). -> {relative path:
    {"inserted": n, "removed": [1-based numbers in the first run]}}."""
    changes = {}
    for p in source_files(tree):
        rel = os.path.relpath(p, tree)
        gone = []
        if remove is not None and any(remove in l for l in _lines(p)):
            gone = remove_lines(p, remove)
        if inserted:
            insert_lines(p, header(p, inserted))
        changes[rel] = {"inserted": inserted, "removed": gone}
    return changes


def two_runs(scanner, inserted=3, remove=MARK, same_dir=True, src=None, workdir=None):
    """Scan a private copy of the scanner's sample tree (or ``src``), apply
    second_run_edits, scan again. same_dir=False scans the second run in another copy at
    another path (another checkout, another machine). The copies go under ``workdir`` (say
    pytest's tmp_path; a fresh temp directory when None). -> (first, second, tree, changes):
    the two SARIF logs (bytes), the tree of the second run, the edits."""
    fn, sample = SCANNERS[scanner]
    src = {"c": C_SOURCES, "js": JS_SOURCES}.get(src, src) or sample
    name = os.path.basename(src)
    tree = copy_tree(src, os.path.join(workdir, "run1", name) if workdir else None)
    first = fn(tree)
    if not same_dir:
        tree = copy_tree(tree, os.path.join(workdir, "run2", name) if workdir else None)
    changes = second_run_edits(tree, inserted, remove)
    second = fn(tree)
    return first, second, tree, changes
