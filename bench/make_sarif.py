"""A SARIF 2.1.0 report with N distinct findings, for the benchmark's scenario (h).

    python3 bench/make_sarif.py 1000 > report.sarif

One run of one tool ("bench-sast") with one rule set (20 rules), and N results, each in
its own file with its own snippet and its own partialFingerprints, so every result is a
distinct finding whichever of them an importer fingerprints by.  The same N always gives
the same bytes.
"""
import hashlib
import json
import sys

TOOL = "bench-sast"
RULES = [
    ("BS001", "sql-injection", "SQL built from user input", "CWE-89", 8.8),
    ("BS002", "command-injection", "Shell command built from user input", "CWE-78", 9.8),
    ("BS003", "path-traversal", "File path built from user input", "CWE-22", 7.5),
    ("BS004", "xss", "User input written to HTML unescaped", "CWE-79", 6.1),
    ("BS005", "buffer-overflow", "Unbounded copy into a fixed buffer", "CWE-120", 9.1),
    ("BS006", "format-string", "User input used as a format string", "CWE-134", 7.3),
    ("BS007", "weak-hash", "MD5 or SHA-1 used for a security decision", "CWE-328", 5.3),
    ("BS008", "hardcoded-password", "Password in the source", "CWE-259", 7.5),
    ("BS009", "insecure-random", "rand() used for a secret", "CWE-338", 5.9),
    ("BS010", "toctou", "File checked, then opened by name", "CWE-367", 4.7),
    ("BS011", "integer-overflow", "Size computed without an overflow check", "CWE-190", 7.8),
    ("BS012", "use-after-free", "Pointer used after free()", "CWE-416", 8.1),
    ("BS013", "null-deref", "Return value used without a NULL check", "CWE-476", 5.5),
    ("BS014", "ssrf", "URL fetched from user input", "CWE-918", 8.6),
    ("BS015", "open-redirect", "Redirect to a user-supplied URL", "CWE-601", 4.3),
    ("BS016", "xxe", "XML parsed with external entities on", "CWE-611", 7.1),
    ("BS017", "deserialization", "Untrusted data deserialized", "CWE-502", 9.0),
    ("BS018", "tls-no-verify", "Certificate verification turned off", "CWE-295", 7.4),
    ("BS019", "log-injection", "User input written to a log unescaped", "CWE-117", 3.1),
    ("BS020", "race", "Shared state written without a lock", "CWE-362", 4.9),
]


def _level(score):
    return "error" if score >= 7 else "warning" if score >= 4 else "note"


def report(n):
    """The SARIF log (a dict) with n results."""
    rules = [{
        "id": rid,
        "name": name,
        "shortDescription": {"text": title},
        "fullDescription": {"text": f"{title}. See {cwe}."},
        "help": {"text": f"{title}: validate or encode the input first ({cwe})."},
        "helpUri": f"https://example.invalid/bench-sast/rules/{rid}",
        "defaultConfiguration": {"level": _level(score)},
        "properties": {"security-severity": f"{score:.1f}", "tags": ["security", cwe]},
    } for rid, name, title, cwe, score in RULES]
    results = []
    for i in range(n):
        k = i % len(RULES)
        rid, name, title, cwe, score = RULES[k]
        uri = f"src/mod{i // 50:03d}/{name}_{i:05d}.c"
        snippet = f"{name.replace('-', '_')}_{i}(buf_{i}, input_{i});"
        line = 10 + (i * 7) % 400
        h = hashlib.sha256(f"{rid}\0{uri}\0{snippet}".encode()).hexdigest()[:16]
        results.append({
            "ruleId": rid,
            "ruleIndex": k,
            "level": _level(score),
            "message": {"text": f"{title} in {name}_{i}()"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": line, "startColumn": 5,
                           "snippet": {"text": snippet}}}}],
            "partialFingerprints": {"primaryLocationLineHash": f"{h}:1"},
        })
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL, "version": "1.0.0",
                                "informationUri": "https://example.invalid/bench-sast",
                                "rules": rules}},
            "invocations": [{"executionSuccessful": True}],
            "results": results,
        }],
    }


def text(n):
    """The report as the bytes a scanner writes."""
    return json.dumps(report(n), indent=1) + "\n"


if __name__ == "__main__":
    sys.stdout.write(text(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
