"""Fixed Jira configuration of the emulator: users, statuses, workflow, priorities,
issue types, resolutions and the field catalogue.

Ids follow a stock Jira Server install with the classic default workflow.
"""

import re

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

# ---------------------------------------------------------------- the release
# config server_version, e.g. "10.3.4" or "8.13"; serverInfo's versionNumbers always has
# three numbers. buildNumber as Jira numbers its builds: 8.5.3 -> 805003 (a captured Jira
# 8.5.3 serverInfo: "buildNumber":805003), 9.12.15 -> 9120015 (issues.redhat.com, in the
# README of ricardobranco777/scanapi), 10.3.19 -> 10030019 (carbonscott/slac-jira-search
# docs/findings.md): major * 100000 + minor * 1000 + patch before 9, major * 1000000 +
# minor * 10000 + patch since.
VERSION_RE = re.compile(r"^(\d{1,4})\.(\d{1,3})(?:\.(\d{1,3}))?$")
DEPLOYMENT_TYPES = ("Server", "Data Center", "Cloud")


def check_server_version(v):
    if not isinstance(v, str) or not VERSION_RE.match(v.strip()):
        raise ValueError("server_version must be a version such as \"10.3.4\" or \"8.13.0\"")
    return v.strip()


def version_numbers(v):
    m = VERSION_RE.match(v)
    return [int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)]


def build_number(nums):
    major, minor, patch = nums
    if major >= 9:
        return major * 1000000 + minor * 10000 + patch
    return major * 100000 + minor * 1000 + patch


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

# A site's own custom fields (config "site_fields"), as an admin adds them under
# Administration > Issues > Custom fields, with the global context and on every screen: text
# fields (Text Field (single line), "...customfieldtypes:textfield"), e.g.
# [{"id": "customfield_10200", "name": "Team"}]. They are in GET field, in every issue (null
# until set), on the create and edit screens (createmeta, editmeta), settable, and in JQL
# (cf[10200], "Team", ~ and IS EMPTY). Setting the list again replaces it (values of a field
# dropped stay in the issues, unseen, until the field comes back). The lists and sets above
# are changed in place; modules with derived tables register a hook in SITE_FIELD_HOOKS.
_BASE_CUSTOM_FIELDS = list(CUSTOM_FIELDS)
_BASE_SETTABLE = set(SETTABLE)
SITE_FIELDS = []            # the current [{"id", "name"}]
SITE_FIELD_HOOKS = []       # callables run after each change
SITE_FIELD_RE = re.compile(r"^customfield_([1-9][0-9]{0,8})$")


def check_site_fields(defs):
    """-> the list [{"id", "name"}], or ValueError: each an object with a custom field id
    ("customfield_NNNNN", not one of the stock ones) and a non-empty name, ids and names
    distinct (case-insensitively, from the stock fields' names too)."""
    if not isinstance(defs, list):
        raise ValueError("site_fields must be a list of {\"id\": \"customfield_NNNNN\", "
                         "\"name\": ...}")
    out, ids = [], set()
    names = {f[1].lower() for f in SYSTEM_FIELDS + _BASE_CUSTOM_FIELDS}
    for d in defs:
        if not isinstance(d, dict) or not isinstance(d.get("id"), str) \
                or not isinstance(d.get("name"), str) or not d["name"].strip():
            raise ValueError("site_fields: each field is {\"id\": \"customfield_NNNNN\", "
                             "\"name\": ...}")
        extra = set(d) - {"id", "name", "type"}
        if extra or d.get("type", "string") != "string":
            raise ValueError("site_fields: only text fields ({\"id\", \"name\"}, "
                             "\"type\": \"string\") are modelled")
        fid, name = d["id"], d["name"]
        if not SITE_FIELD_RE.match(fid) or fid in ids or \
                any(f[0] == fid for f in _BASE_CUSTOM_FIELDS):
            raise ValueError("site_fields: bad or duplicate field id %r" % fid)
        if name.lower() in names:
            raise ValueError("site_fields: a field named %r exists already" % name)
        ids.add(fid)
        names.add(name.lower())
        out.append({"id": fid, "name": name})
    return out


def set_site_fields(defs):
    SITE_FIELDS[:] = [dict(d) for d in defs]
    CUSTOM_FIELDS[:] = _BASE_CUSTOM_FIELDS
    for d in SITE_FIELDS:
        num = int(SITE_FIELD_RE.match(d["id"]).group(1))
        CUSTOM_FIELDS.append((d["id"], d["name"], True, True, True,
                              ["cf[%d]" % num, d["name"]],
                              _schema("string", custom="com.atlassian.jira.plugin.system."
                                      "customfieldtypes:textfield", custom_id=num)))
    ALL_FIELDS[:] = SYSTEM_FIELDS + CUSTOM_FIELDS
    FIELD_BY_ID.clear()
    FIELD_BY_ID.update({f[0]: f for f in ALL_FIELDS})
    FIELD_IDS[:] = [f[0] for f in ALL_FIELDS]
    NAVIGABLE_IDS[:] = [f[0] for f in ALL_FIELDS if f[2]]
    FIELD_NAMES.clear()
    FIELD_NAMES.update({f[0]: f[1] for f in ALL_FIELDS})
    SETTABLE.clear()
    SETTABLE.update(_BASE_SETTABLE)
    SETTABLE.update(d["id"] for d in SITE_FIELDS)
    for hook in SITE_FIELD_HOOKS:
        hook()


def is_site_field(fid):
    return any(d["id"] == fid for d in SITE_FIELDS)

# ---------------------------------------------------------------- permissions
# GET /rest/api/2/mypermissions. Keys, ids, names, types and descriptions as a Jira Server
# answered them (permissions_data in packy/JIRA-REST-Class t/lib/InlineTest.pm, a captured
# answer), with "JIRA" spelt "Jira" as Jira 8+ does (the Jira 8 DC database dump in
# codeclou-archive/docker-atlassian-jira-data-center, initdb.d/jira-8-postgresql.sql at
# f1672dab, has "The classic Jira default workflow"; Cloud answers say "Ability to
# administer a project in Jira."; the DC 8+ spelling of these strings is unverified). The
# ids are Jira's Permissions constants (ADMINISTER = 0, BROWSE = 10 ... TRANSITION_ISSUE = 46).
#
# grant: who holds it in Jira's Default Permission Scheme and default global permissions,
# as the schemepermissions and globalpermissionentry rows of that Jira 8 DC dump give them:
#   "user"  applicationRole (any logged-in user with application access): every user;
#   "admin" projectrole 10002 (Administrators): here the project lead (as for attachments);
#   "none"  not granted (SET_ISSUE_SECURITY: no issue security scheme);
#   "users" global, group jira-software-users: every user;
#   "admins" global, group jira-administrators: the users in config "administrators".
# (key, id, name, type, description, grant)
PERMISSIONS = [
    ("ADMINISTER", "0", "Jira Administrators", "GLOBAL",
     "Ability to perform most administration functions (excluding Import & Export, SMTP "
     "Configuration, etc.).", "admins"),
    ("SYSTEM_ADMIN", "44", "Jira System Administrators", "GLOBAL",
     "Ability to perform all administration functions. There must be at least one group with "
     "this permission.", "admins"),
    ("CREATE_SHARED_OBJECTS", "22", "Create Shared Objects", "GLOBAL",
     "Ability to share dashboards and filters with other users, groups and roles.", "users"),
    ("MANAGE_GROUP_FILTER_SUBSCRIPTIONS", "24", "Manage Group Filter Subscriptions", "GLOBAL",
     "Ability to manage (create and delete) group filter subscriptions.", "users"),
    ("BULK_CHANGE", "33", "Bulk Change", "GLOBAL",
     "Ability to modify a collection of issues at once. For example, resolve multiple issues "
     "in one step.", "users"),
    ("USER_PICKER", "27", "Browse Users", "GLOBAL",
     "Ability to select a user or group from a popup window as well as the ability to use the "
     "'share' issues feature. Users with this permission will also be able to see names of all "
     "users and groups in the system.", "users"),
    ("BROWSE_PROJECTS", "10", "Browse Projects", "PROJECT",
     "Ability to browse projects and the issues within them.", "user"),
    ("CREATE_ISSUES", "11", "Create Issues", "PROJECT", "Ability to create issues.", "user"),
    ("EDIT_ISSUES", "12", "Edit Issues", "PROJECT", "Ability to edit issues.", "user"),
    ("ASSIGN_ISSUES", "13", "Assign Issues", "PROJECT",
     "Ability to assign issues to other people.", "user"),
    ("RESOLVE_ISSUES", "14", "Resolve Issues", "PROJECT",
     "Ability to resolve and reopen issues. This includes the ability to set a fix version.",
     "user"),
    ("ADD_COMMENTS", "15", "Add Comments", "PROJECT", "Ability to comment on issues.", "user"),
    ("DELETE_ISSUES", "16", "Delete Issues", "PROJECT", "Ability to delete issues.", "admin"),
    ("ASSIGNABLE_USER", "17", "Assignable User", "PROJECT",
     "Users with this permission may be assigned to issues.", "user"),
    ("CLOSE_ISSUES", "18", "Close Issues", "PROJECT",
     "Ability to close issues. Often useful where your developers resolve issues, and a QA "
     "department closes them.", "user"),
    ("CREATE_ATTACHMENTS", "19", "Create Attachments", "PROJECT",
     "Users with this permission may create attachments.", "user"),
    ("WORK_ON_ISSUES", "20", "Work On Issues", "PROJECT",
     "Ability to log work done against an issue. Only useful if Time Tracking is turned on.",
     "user"),
    ("LINK_ISSUES", "21", "Link Issues", "PROJECT",
     "Ability to link issues together and create linked issues. Only useful if issue linking "
     "is turned on.", "user"),
    ("ADMINISTER_PROJECTS", "23", "Administer Projects", "PROJECT",
     "Ability to administer a project in Jira.", "admin"),
    ("MOVE_ISSUES", "25", "Move Issues", "PROJECT",
     "Ability to move issues between projects or between workflows of the same project (if "
     "applicable). Note the user can only move issues to a project he or she has the create "
     "permission for.", "user"),
    ("SET_ISSUE_SECURITY", "26", "Set Issue Security", "PROJECT",
     "Ability to set the level of security on an issue so that only people in that security "
     "level can see the issue.", "none"),
    ("SCHEDULE_ISSUES", "28", "Schedule Issues", "PROJECT",
     "Ability to view or edit an issue's due date.", "user"),
    ("VIEW_DEV_TOOLS", "29", "View Development Tools", "PROJECT",
     "Allows users in a software project to view development-related information on the "
     "issue, such as commits, reviews and build information.", "user"),
    ("MODIFY_REPORTER", "30", "Modify Reporter", "PROJECT",
     "Ability to modify the reporter when creating or editing an issue.", "admin"),
    ("VIEW_VOTERS_AND_WATCHERS", "31", "View Voters and Watchers", "PROJECT",
     "Ability to view the voters and watchers of an issue.", "user"),
    ("MANAGE_WATCHERS", "32", "Manage Watchers", "PROJECT",
     "Ability to manage the watchers of an issue.", "admin"),
    ("EDIT_ALL_COMMENTS", "34", "Edit All Comments", "PROJECT",
     "Ability to edit all comments made on issues.", "admin"),
    ("EDIT_OWN_COMMENTS", "35", "Edit Own Comments", "PROJECT",
     "Ability to edit own comments made on issues.", "user"),
    ("DELETE_ALL_COMMENTS", "36", "Delete All Comments", "PROJECT",
     "Ability to delete all comments made on issues.", "admin"),
    ("DELETE_OWN_COMMENTS", "37", "Delete Own Comments", "PROJECT",
     "Ability to delete own comments made on issues.", "user"),
    ("DELETE_ALL_ATTACHMENTS", "38", "Delete All Attachments", "PROJECT",
     "Users with this permission may delete all attachments.", "admin"),
    ("DELETE_OWN_ATTACHMENTS", "39", "Delete Own Attachments", "PROJECT",
     "Users with this permission may delete own attachments.", "user"),
    ("EDIT_OWN_WORKLOGS", "40", "Edit Own Worklogs", "PROJECT",
     "Ability to edit own worklogs made on issues.", "user"),
    ("EDIT_ALL_WORKLOGS", "41", "Edit All Worklogs", "PROJECT",
     "Ability to edit all worklogs made on issues.", "admin"),
    ("DELETE_OWN_WORKLOGS", "42", "Delete Own Worklogs", "PROJECT",
     "Ability to delete own worklogs made on issues.", "user"),
    ("DELETE_ALL_WORKLOGS", "43", "Delete All Worklogs", "PROJECT",
     "Ability to delete all worklogs made on issues.", "admin"),
    ("VIEW_READONLY_WORKFLOW", "45", "View Read-Only Workflow", "PROJECT",
     "Users with this permission may view a read-only version of a workflow.", "user"),
    ("TRANSITION_ISSUES", "46", "Transition Issues", "PROJECT",
     "Ability to transition issues.", "user"),
]
PERMISSION_BY_KEY = {p[0]: p for p in PERMISSIONS}

# The pre-7.0 keys Jira DC still answers next to the new ones, flagged "deprecatedKey": true
# (a Jira 10.3.19 Server: "Several keys are returned twice under a deprecated alias
# (EDIT_ISSUE and EDIT_ISSUES, CREATE_ISSUE and CREATE_ISSUES, ...), flagged with
# "deprecatedKey": true", carbonscott/slac-jira-search docs/findings.md; the list, and the
# two descriptions that differ, from the packy/JIRA-REST-Class answer). old key -> (new key,
# description override or None); havePermission is the new key's.
DEPRECATED_PERMISSIONS = {
    "BROWSE": ("BROWSE_PROJECTS", None), "CREATE_ISSUE": ("CREATE_ISSUES", None),
    "EDIT_ISSUE": ("EDIT_ISSUES", None), "ASSIGN_ISSUE": ("ASSIGN_ISSUES", None),
    "RESOLVE_ISSUE": ("RESOLVE_ISSUES", None), "COMMENT_ISSUE": ("ADD_COMMENTS", None),
    "DELETE_ISSUE": ("DELETE_ISSUES", None), "CLOSE_ISSUE": ("CLOSE_ISSUES", None),
    "CREATE_ATTACHMENT": ("CREATE_ATTACHMENTS", None), "WORK_ISSUE": ("WORK_ON_ISSUES", None),
    "LINK_ISSUE": ("LINK_ISSUES", None), "PROJECT_ADMIN": ("ADMINISTER_PROJECTS", None),
    "MOVE_ISSUE": ("MOVE_ISSUES", None), "SCHEDULE_ISSUE": ("SCHEDULE_ISSUES", None),
    "VIEW_VERSION_CONTROL": ("VIEW_DEV_TOOLS", "Allows users to view development-related "
                             "information on the view issue screen, like commits, reviews "
                             "and build information."),
    "MANAGE_WATCHER_LIST": ("MANAGE_WATCHERS", None),
    "COMMENT_EDIT_ALL": ("EDIT_ALL_COMMENTS", None),
    "COMMENT_EDIT_OWN": ("EDIT_OWN_COMMENTS", None),
    "COMMENT_DELETE_ALL": ("DELETE_ALL_COMMENTS", None),
    "COMMENT_DELETE_OWN": ("DELETE_OWN_COMMENTS", None),
    "ATTACHMENT_DELETE_ALL": ("DELETE_ALL_ATTACHMENTS", None),
    "ATTACHMENT_DELETE_OWN": ("DELETE_OWN_ATTACHMENTS", None),
    "WORKLOG_EDIT_OWN": ("EDIT_OWN_WORKLOGS", None),
    "WORKLOG_EDIT_ALL": ("EDIT_ALL_WORKLOGS", None),
    "WORKLOG_DELETE_OWN": ("DELETE_OWN_WORKLOGS", None),
    "WORKLOG_DELETE_ALL": ("DELETE_ALL_WORKLOGS", None),
    # the untranslated i18n key is what that Jira answered
    "VIEW_WORKFLOW_READONLY": ("VIEW_READONLY_WORKFLOW",
                               "admin.permissions.descriptions.VIEW_WORKFLOW_READONLY"),
    "TRANSITION_ISSUE": ("TRANSITION_ISSUES", None),
}

# The classic default workflow's transition conditions (its descriptor, the jiraworkflows
# row "classic default workflow" of that Jira 8 DC dump): Resolve Issue (5) and Reopen
# Issue (3) need Resolve Issues, Close Issue from Open/In Progress/Reopened (2) needs Resolve
# Issues and Close Issues, Close Issue from Resolved (701) Close Issues; every transition
# needs Transition Issues (Jira 6.4+). (Start/Stop Progress's "only the assignee" condition
# is not modelled.) transition id -> permission keys
TRANSITION_PERMISSIONS = {5: ("RESOLVE_ISSUES",), 3: ("RESOLVE_ISSUES",),
                          2: ("RESOLVE_ISSUES", "CLOSE_ISSUES"), 701: ("CLOSE_ISSUES",)}
