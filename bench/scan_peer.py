"""The benchmark's python-jira peer for scenario (h): a SARIF report imported into Jira
the way a script does it without jirafs.

    python3 bench/scan_peer.py URL PROJECT report.sarif     (token in JIRA_TOKEN)

For each result of the report, one after another: make a fingerprint label
(jfs-fp- + 20 hex digits of a SHA-256 over the tool, the rule, the file and the result's
partialFingerprints, else its snippet), search for it (`project = P AND labels = L`),
and create the ticket, carrying the label, when the search finds none.  A second run
over the same report therefore makes one search per finding and no create.  This is
the usual script: python-jira's own calls (search_issues, then create_issue with its
defaults), sequential, nothing cached between runs.
"""
import hashlib
import json
import os
import sys

PRIORITY = {"error": "High", "warning": "Medium", "note": "Low", "none": "Lowest"}


def findings(report):
    """(label, summary, description, labels, priority) for each result of a SARIF log."""
    for run in report.get("runs") or []:
        driver = run["tool"]["driver"]
        tool = driver["name"]
        rules = {r["id"]: r for r in driver.get("rules") or []}
        for res in run.get("results") or []:
            rid = res.get("ruleId", "")
            rule = rules.get(rid, {})
            loc = (res.get("locations") or [{}])[0].get("physicalLocation", {})
            uri = loc.get("artifactLocation", {}).get("uri", "")
            region = loc.get("region", {})
            snippet = region.get("snippet", {}).get("text", "")
            partial = res.get("partialFingerprints")
            ident = json.dumps(partial, sort_keys=True) if partial else snippet
            h = hashlib.sha256("\0".join((tool, rid, uri, ident)).encode()).hexdigest()
            label = "jfs-fp-" + h[:20]
            title = rule.get("shortDescription", {}).get("text", rid)
            level = res.get("level") or rule.get("defaultConfiguration", {}).get(
                "level", "warning")
            summary = f"[{tool}] {rid}: {title} — {uri}"[:255]
            description = "\n".join([
                f"Rule: {rid} ({title})",
                f"Severity: {level}",
                f"Location: {uri}:{region.get('startLine', '?')}",
                f"Message: {res.get('message', {}).get('text', '')}",
                "",
                "{noformat}", snippet, "{noformat}",
                "",
                f"Fingerprint: {label}",
            ])
            yield label, summary, description, [label, tool, rid], PRIORITY.get(level, "Medium")


def import_report(client, project, report, limit=None, issuetype="Task"):
    """One pass over the report's results (the first `limit` of them):
    -> {"findings", "created", "found"}."""
    out = {"findings": 0, "created": 0, "found": 0}
    for label, summary, description, labels, priority in findings(report):
        if limit is not None and out["findings"] >= limit:
            break
        out["findings"] += 1
        hits = client.search_issues(f'project = {project} AND labels = "{label}"',
                                    maxResults=1, fields="key")
        if hits:
            out["found"] += 1
            continue
        client.create_issue(fields={"project": {"key": project},
                                    "issuetype": {"name": issuetype},
                                    "summary": summary, "description": description,
                                    "labels": labels, "priority": {"name": priority}})
        out["created"] += 1
    return out


def main(argv):
    from jira import JIRA
    if len(argv) != 4:
        sys.exit("usage: scan_peer.py URL PROJECT REPORT   (token in JIRA_TOKEN)")
    url, project, path = argv[1:]
    client = JIRA(server=url, token_auth=os.environ["JIRA_TOKEN"])
    with open(path) as f:
        report = json.load(f)
    print(json.dumps(import_report(client, project, report)))


if __name__ == "__main__":
    main(sys.argv)
