"""Fixed Jira configuration of the emulator: users, statuses, workflow, priorities,
issue types, resolutions and the field catalogue.

Ids follow a stock Jira Server install with the classic default workflow.
"""

# Status categories: id -> (key, name, colorName)
CATEGORIES = {
    1: ("undefined", "No Category", "medium-gray"),
    2: ("new", "To Do", "blue-gray"),
    4: ("indeterminate", "In Progress", "yellow"),
    3: ("done", "Done", "green"),
}

# Statuses: id -> (name, description, category id, icon file)
STATUSES = {
    1: ("Open", "The issue is open and ready for the assignee to start work on it.", 2, "open.png"),
    3: ("In Progress", "This issue is being actively worked on at the moment by the assignee.", 4,
        "inprogress.png"),
    4: ("Reopened", "This issue was once resolved, but the resolution was deemed incorrect. "
        "From here issues are either marked assigned or resolved.", 2, "reopened.png"),
    5: ("Resolved", "A resolution has been taken, and it is awaiting verification by reporter. "
        "From here issues are either reopened, or are closed.", 3, "resolved.png"),
    6: ("Closed", "The issue is considered finished, the resolution is correct. "
        "Issues which are closed can be reopened.", 3, "closed.png"),
}
STATUS_ORDER = [1, 3, 4, 5, 6]
OPEN, IN_PROGRESS, REOPENED, RESOLVED, CLOSED = 1, 3, 4, 5, 6

# Workflow transitions: (id, name, from statuses, to status, screen)
# screen "resolve": resolution (required), assignee, comment.
TRANSITIONS = [
    (4, "Start Progress", (OPEN, REOPENED), IN_PROGRESS, None),
    (301, "Stop Progress", (IN_PROGRESS,), OPEN, None),
    (5, "Resolve Issue", (OPEN, IN_PROGRESS, REOPENED), RESOLVED, "resolve"),
    (2, "Close Issue", (OPEN, IN_PROGRESS, REOPENED), CLOSED, "resolve"),
    (701, "Close Issue", (RESOLVED,), CLOSED, "resolve"),
    (3, "Reopen Issue", (RESOLVED, CLOSED), REOPENED, None),
]

# Priorities: id -> (name, description, statusColor, icon)
PRIORITIES = {
    1: ("Highest", "This problem will block progress.", "#d04437", "highest.svg"),
    2: ("High", "Serious problem that could block progress.", "#f15c75", "high.svg"),
    3: ("Medium", "Has the potential to affect progress.", "#f79232", "medium.svg"),
    4: ("Low", "Minor problem or easily worked around.", "#707070", "low.svg"),
    5: ("Lowest", "Trivial problem with little or no impact on progress.", "#999999", "lowest.svg"),
}
PRIORITY_ORDER = [1, 2, 3, 4, 5]
DEFAULT_PRIORITY = 3

# Issue types: id -> (name, description, avatarId)
ISSUETYPES = {
    1: ("Bug", "A problem which impairs or prevents the functions of the product.", 10303),
    2: ("New Feature", "A new feature of the product, which has yet to be developed.", 10311),
    3: ("Task", "A task that needs to be done.", 10318),
    4: ("Improvement", "An improvement or enhancement to an existing feature or task.", 10310),
    10001: ("Story", "Created by Jira Software - do not edit or delete. "
            "Issue type for a user story.", 10315),
}
ISSUETYPE_ORDER = [1, 2, 3, 4, 10001]

# Resolutions: id -> (name, description)
RESOLUTIONS = {
    1: ("Fixed", "A fix for this issue is checked in and tested."),
    2: ("Won't Fix", "The problem described is an issue which will never be fixed."),
    3: ("Duplicate", "The problem is a duplicate of an existing issue."),
    4: ("Incomplete", "The problem is not completely described."),
    5: ("Cannot Reproduce", "All attempts at reproducing this issue failed, or not enough "
        "information was available to reproduce the issue. Reading the code produces no "
        "facts that would lead to this behavior. If more information appears later, "
        "please reopen the issue."),
    10000: ("Done", "Work has been completed on this issue."),
    10001: ("Won't Do", "This issue won't be actioned."),
}
RESOLUTION_ORDER = [1, 2, 3, 4, 5, 10000, 10001]

# A site's own resolutions (config "site_resolutions", e.g. "Not a Bug"), as an admin adds
# them under Administration > Issues > Resolutions: Jira DC's REST API can list resolutions
# (GET /rest/api/2/resolution, /resolution/{id}) but not create them. Ids from 10100 in the
# order given; RESOLUTIONS and RESOLUTION_ORDER are changed in place.
_BASE_RESOLUTIONS = dict(RESOLUTIONS)
_BASE_ORDER = list(RESOLUTION_ORDER)
SITE_RESOLUTION_FIRST_ID = 10100
RESOLUTIONS_VERSION = [0]


def check_site_resolutions(names):
    """-> the list, or ValueError: distinct non-empty names, none a built-in one."""
    if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
        raise ValueError("site_resolutions must be a list of resolution names")
    seen = {v[0].lower() for v in _BASE_RESOLUTIONS.values()}
    for n in names:
        if n.lower() in seen:
            raise ValueError("resolution %r exists already" % n)
        seen.add(n.lower())
    return list(names)


def set_site_resolutions(names):
    RESOLUTIONS.clear()
    RESOLUTIONS.update(_BASE_RESOLUTIONS)
    RESOLUTION_ORDER[:] = _BASE_ORDER
    for n, name in enumerate(names):
        rid = SITE_RESOLUTION_FIRST_ID + n
        RESOLUTIONS[rid] = (name, "")
        RESOLUTION_ORDER.append(rid)
    RESOLUTIONS_VERSION[0] += 1

# Users: name -> (key, display name, email, password, PAT)
USERS = {
    "alice": ("JIRAUSER10000", "Alice Andersson", "alice@example.com", "alice-pass", "alice-pat"),
    "bob": ("JIRAUSER10001", "Bob Brennan", "bob@example.com", "bob-pass", "bob-pat"),
    "nucleus-bot": ("JIRAUSER10002", "Nucleus Bot", "nucleus-bot@example.com", "bot-pass",
                    "bot-pat"),
    "jdoe": ("JIRAUSER10003", "John Doe", "jdoe@example.com", "jdoe-pass", "jdoe-pat"),
}

# Custom field options of customfield_10022 ("Finding source", single select)
SOURCE_OPTIONS = {10100: "Nessus", 10101: "Qualys", 10102: "Trivy", 10103: "Pentest",
                  10104: "Manual"}

MAX_TEXT = 32767  # Jira's jira.text.field.character.limit default
TOO_LONG = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."


def _schema(type_, system=None, items=None, custom=None, custom_id=None):
    s = {"type": type_}
    if items:
        s["items"] = items
    if system:
        s["system"] = system
    if custom:
        s["custom"] = custom
        s["customId"] = custom_id
    return s


# Field catalogue: (id, name, navigable, orderable, searchable, clauseNames, schema)
# "navigable" decides membership in *navigable (the search default).
SYSTEM_FIELDS = [
    ("issuetype", "Issue Type", True, True, True, ["issuetype", "type"],
     _schema("issuetype", "issuetype")),
    ("project", "Project", True, False, True, ["project"], _schema("project", "project")),
    ("fixVersions", "Fix Version/s", True, True, True, ["fixVersion"],
     _schema("array", "fixVersions", "version")),
    ("resolution", "Resolution", True, True, True, ["resolution"],
     _schema("resolution", "resolution")),
    ("resolutiondate", "Resolved", True, False, True, ["resolutiondate", "resolved"],
     _schema("datetime", "resolutiondate")),
    ("workratio", "Work Ratio", True, False, True, ["workratio"], _schema("number", "workratio")),
    ("lastViewed", "Last Viewed", True, False, False, ["lastViewed"],
     _schema("datetime", "lastViewed")),
    ("watches", "Watchers", True, False, False, ["watchers"], _schema("watches", "watches")),
    ("created", "Created", True, False, True, ["created", "createdDate"],
     _schema("datetime", "created")),
    ("priority", "Priority", True, True, True, ["priority"], _schema("priority", "priority")),
    ("labels", "Labels", True, True, True, ["labels"], _schema("array", "labels", "string")),
    ("versions", "Affects Version/s", True, True, True, ["affectedVersion"],
     _schema("array", "versions", "version")),
    ("issuelinks", "Linked Issues", True, True, False, ["issueLink"],
     _schema("array", "issuelinks", "issuelinks")),
    ("assignee", "Assignee", True, True, True, ["assignee"], _schema("user", "assignee")),
    ("updated", "Updated", True, False, True, ["updated", "updatedDate"],
     _schema("datetime", "updated")),
    ("status", "Status", True, False, True, ["status"], _schema("status", "status")),
    ("components", "Component/s", True, True, True, ["component"],
     _schema("array", "components", "component")),
    ("description", "Description", True, True, True, ["description"],
     _schema("string", "description")),
    ("archiveddate", "Archived", True, False, True, ["archiveddate"],
     _schema("datetime", "archiveddate")),
    ("archivedby", "Archiver", True, False, True, ["archivedby"], _schema("user", "archivedby")),
    ("summary", "Summary", True, True, True, ["summary"], _schema("string", "summary")),
    ("creator", "Creator", True, False, True, ["creator"], _schema("user", "creator")),
    ("subtasks", "Sub-Tasks", True, False, False, ["subtasks"],
     _schema("array", "subtasks", "issuelinks")),
    ("reporter", "Reporter", True, True, True, ["reporter"], _schema("user", "reporter")),
    ("environment", "Environment", True, True, True, ["environment"],
     _schema("string", "environment")),
    ("duedate", "Due Date", True, True, True, ["due", "duedate"], _schema("date", "duedate")),
    ("votes", "Votes", True, False, True, ["votes"], _schema("votes", "votes")),
    ("progress", "Progress", True, False, False, ["progress"], _schema("progress", "progress")),
    ("aggregateprogress", "Σ Progress", True, False, False, ["aggregateprogress"],
     _schema("progress", "aggregateprogress")),
    ("timespent", "Time Spent", True, False, False, ["timespent"], _schema("number", "timespent")),
    ("aggregatetimespent", "Σ Time Spent", True, False, False, ["aggregatetimespent"],
     _schema("number", "aggregatetimespent")),
    ("timeestimate", "Remaining Estimate", True, False, False, ["remainingEstimate"],
     _schema("number", "timeestimate")),
    ("aggregatetimeestimate", "Σ Remaining Estimate", True, False, False, [],
     _schema("number", "aggregatetimeestimate")),
    ("timeoriginalestimate", "Original Estimate", True, False, False, ["originalEstimate"],
     _schema("number", "timeoriginalestimate")),
    ("aggregatetimeoriginalestimate", "Σ Original Estimate", True, False, False, [],
     _schema("number", "aggregatetimeoriginalestimate")),
    # not navigable: absent from the search default (*navigable)
    ("comment", "Comment", False, True, True, ["comment"],
     _schema("comments-page", "comment")),
    ("timetracking", "Time tracking", False, True, False, [],
     _schema("timetracking", "timetracking")),
    ("worklog", "Log Work", False, True, False, [], _schema("array", "worklog", "worklog")),
    ("attachment", "Attachment", False, True, True, ["attachments"],
     _schema("array", "attachment", "attachment")),
]

CUSTOM_FIELDS = [
    ("customfield_10020", "CVSS score", True, True, True, ["cf[10020]", "CVSS score"],
     _schema("number", custom="com.atlassian.jira.plugin.system.customfieldtypes:float",
             custom_id=10020)),
    ("customfield_10021", "Affected host", True, True, True, ["cf[10021]", "Affected host"],
     _schema("string", custom="com.atlassian.jira.plugin.system.customfieldtypes:textfield",
             custom_id=10021)),
    ("customfield_10022", "Finding source", True, True, True, ["cf[10022]", "Finding source"],
     _schema("option", custom="com.atlassian.jira.plugin.system.customfieldtypes:select",
             custom_id=10022)),
]

ALL_FIELDS = SYSTEM_FIELDS + CUSTOM_FIELDS
FIELD_BY_ID = {f[0]: f for f in ALL_FIELDS}
FIELD_IDS = [f[0] for f in ALL_FIELDS]
NAVIGABLE_IDS = [f[0] for f in ALL_FIELDS if f[2]]
FIELD_NAMES = {f[0]: f[1] for f in ALL_FIELDS}

# Fields a create or edit may set (the "screen")
SETTABLE = {"summary", "description", "environment", "issuetype", "priority", "labels",
            "components", "assignee", "reporter", "duedate", "fixVersions", "versions",
            "customfield_10020", "customfield_10021", "customfield_10022"}
