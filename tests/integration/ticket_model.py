"""An independent Python statement of CONTRACT §3: what the ticket file of
an IssueBean must contain.  Tests compare the daemon's files with it."""

MAPPED = {"project", "issuetype", "summary", "description", "status", "resolution",
          "priority", "labels", "components", "assignee", "reporter", "created",
          "updated", "comment"}

KEY_ORDER = ["key", "project", "issuetype", "summary", "description", "status",
             "resolution", "priority", "labels", "components", "assignee", "reporter",
             "created", "updated", "fields", "comments"]


def _name(v):
    return v.get("name") if isinstance(v, dict) else None


def _str(v):
    return v if isinstance(v, str) else None


def expected_ticket(bean):
    f = bean.get("fields", {})
    proj = f.get("project")
    comments = []
    cf = f.get("comment") or {}
    for c in (cf.get("comments", []) if isinstance(cf, dict) else []):
        e = {"id": _str(c.get("id")), "author": _name(c.get("author")),
             "created": _str(c.get("created"))}
        if isinstance(c.get("updated"), str) and c.get("updated") != c.get("created"):
            e["updated"] = c["updated"]
        e["body"] = _str(c.get("body"))
        if isinstance(c.get("visibility"), dict):
            e["visibility"] = c["visibility"]
        comments.append(e)
    return {
        "key": bean["key"],
        "project": proj["key"] if isinstance(proj, dict) and "key" in proj
        else bean["key"].rsplit("-", 1)[0],
        "issuetype": _name(f.get("issuetype")),
        "summary": _str(f.get("summary")),
        "description": _str(f.get("description")),
        "status": _name(f.get("status")),
        "resolution": _name(f.get("resolution")),
        "priority": _name(f.get("priority")),
        "labels": [x for x in (f.get("labels") or []) if isinstance(x, str)],
        "components": [_name(x) for x in (f.get("components") or []) if _name(x)],
        "assignee": _name(f.get("assignee")),
        "reporter": _name(f.get("reporter")),
        "created": _str(f.get("created")),
        "updated": _str(f.get("updated")),
        "fields": {k: v for k, v in sorted(f.items())
                   if k not in MAPPED and k != "lastViewed" and v is not None},
        "comments": comments,
    }


def is_done(bean):
    st = bean.get("fields", {}).get("status") or {}
    return (st.get("statusCategory") or {}).get("key") == "done"


def nul_to_fffd(v):
    """Jira's strings cannot hold NUL (its databases refuse it); jirafs shows
    a \\u0000 that reaches it anyway as U+FFFD rather than cutting the
    string short."""
    if isinstance(v, str):
        return v.replace("\x00", "\ufffd")
    if isinstance(v, list):
        return [nul_to_fffd(x) for x in v]
    if isinstance(v, dict):
        return {nul_to_fffd(k): nul_to_fffd(x) for k, x in v.items()}
    return v
