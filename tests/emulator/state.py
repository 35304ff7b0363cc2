"""Data model of the emulator: projects, issues, comments, properties, the workflow,
searches (with a result cache) and persistence.

Every public method must be called with ``State.lock`` held (the HTTP layer does that).
Issues are kept in a compact internal form; ``render.py`` turns them into Jira JSON.
"""

import base64
import calendar
import json
import os
import re
import tempfile
import threading
import time

import catalog as C
import jql
import oauth

DONE_STATUSES = {s for s, v in C.STATUSES.items() if v[2] == 3}
NO_CREATE_ISSUES = "You do not have permission to create issues in this project."


def now_ms():
    return int(time.time() * 1000)


def fmt_date(ms):
    """Jira's date-time format: 2026-11-02T09:14:03.000+0000 (UTC)."""
    if ms is None:
        return None
    s, m = divmod(int(ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%03d+0000" % m


_DATE_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,6}))?)?)?"
                      r"\s*(Z|[+-]\d\d:?\d\d)?$")


def parse_date(s):
    """Parse a Jira date-time string to epoch milliseconds, or None."""
    if not isinstance(s, str):
        return None
    m = _DATE_RE.match(s.strip())
    if not m:
        return None
    y, mo, d, hh, mm, ss, frac, tz = m.groups()
    try:
        secs = calendar.timegm((int(y), int(mo), int(d), int(hh or 0), int(mm or 0),
                                int(ss or 0), 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    ms = int((frac or "0").ljust(3, "0")[:3])
    if tz and tz != "Z":
        sign = -1 if tz[0] == "-" else 1
        tz = tz[1:].replace(":", "")
        secs -= sign * (int(tz[:2]) * 3600 + int(tz[2:]) * 60)
    return secs * 1000 + ms


class ApiError(Exception):
    """A Jira-shaped error answer."""

    def __init__(self, status, messages=None, errors=None, headers=None):
        super().__init__(status, messages, errors)
        self.status = status
        self.messages = list(messages or [])
        self.errors = dict(errors or {})
        self.headers = headers or {}

    def body(self):
        return {"errorMessages": self.messages, "errors": self.errors}


class FieldError(Exception):
    pass


class Comment:
    __slots__ = ("id", "author", "body", "created", "updated", "update_author", "visibility")

    def __init__(self, cid, author, body, created, visibility=None):
        self.id = cid
        self.author = author
        self.update_author = author
        self.body = body
        self.created = created
        self.updated = created
        self.visibility = visibility

    def to_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}

    @classmethod
    def from_dict(cls, d):
        c = cls(d["id"], d["author"], d["body"], d["created"], d.get("visibility"))
        c.updated = d.get("updated", c.created)
        c.update_author = d.get("update_author", c.author)
        return c


def pattern_bytes(pattern, size):
    """``size`` bytes repeating ``pattern``, built in one buffer of exactly that size (a
    20 MiB attachment costs 20 MiB, not two or three times that while it is made)."""
    pattern = bytes(pattern) or b"\0"
    size = int(size)
    buf = bytearray(size)
    if size == 0:
        return buf
    mv = memoryview(buf)
    n = min(len(pattern), size)
    mv[:n] = pattern[:n]
    while n < size:
        k = min(n, size - n)
        mv[n:n + k] = mv[:k]       # doubling, no temporary copy
        n += k
    return buf


DEFAULT_PATTERN = bytes(range(256))


class Attachment:
    """An issue's attachment. ``content`` is bytes or a bytearray, never copied when served
    (downloads write memoryview slices of it); ``pattern`` is set when the content was made
    from a byte pattern (then only the pattern and the size are saved)."""
    __slots__ = ("id", "issue", "filename", "author", "created", "mime", "content", "pattern")

    def __init__(self, aid, issue, filename, author, created, mime, content, pattern=None):
        self.id, self.issue, self.filename, self.author = aid, issue, filename, author
        self.created, self.mime, self.content, self.pattern = created, mime, content, pattern

    @property
    def size(self):
        return len(self.content)

    def to_dict(self):
        d = {"id": self.id, "issue": self.issue, "filename": self.filename,
             "author": self.author, "created": self.created, "mime": self.mime}
        if self.pattern is not None:
            d["size"] = len(self.content)
            d["pattern_b64"] = base64.b64encode(self.pattern).decode("ascii")
        else:
            d["content_b64"] = base64.b64encode(self.content).decode("ascii")
        return d

    @classmethod
    def from_dict(cls, d):
        if d.get("pattern_b64") is not None:
            pattern = base64.b64decode(d["pattern_b64"])
            content = pattern_bytes(pattern, d.get("size", 0))
        else:
            pattern, content = None, base64.b64decode(d.get("content_b64") or "")
        return cls(d["id"], d["issue"], d["filename"], d.get("author"), d["created"],
                   d.get("mime"), content, pattern)


class Filter:
    """A saved filter: ``shared`` = shared with everyone (a "global" share permission),
    otherwise only its owner and the users whose favourite it is see it."""
    __slots__ = ("id", "name", "jql", "owner", "description", "shared")

    def __init__(self, fid, name, jql, owner, description=None, shared=False):
        self.id, self.name, self.jql, self.owner = fid, name, jql, owner
        self.description, self.shared = description, bool(shared)

    def to_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}

    @classmethod
    def from_dict(cls, d):
        return cls(d["id"], d["name"], d.get("jql") or "", d.get("owner"), d.get("description"),
                   d.get("shared", False))


class Issue:
    __slots__ = ("id", "key", "project", "num", "issuetype", "summary", "description",
                 "environment", "status", "priority", "resolution", "labels", "components",
                 "assignee", "reporter", "creator", "created", "updated", "resolutiondate",
                 "duedate", "custom", "comments", "properties", "raw", "watchers", "attachments")

    def to_dict(self):
        d = {k: getattr(self, k) for k in self.__slots__}
        d["comments"] = [c.to_dict() for c in self.comments]
        del d["attachments"]        # saved apart, with their content (State.to_dict)
        return d

    @classmethod
    def from_dict(cls, d):
        i = cls()
        for k in cls.__slots__:
            setattr(i, k, d.get(k))
        i.comments = [Comment.from_dict(c) for c in d.get("comments") or []]
        i.attachments = []
        for k in ("labels", "components", "watchers"):
            if getattr(i, k) is None:
                setattr(i, k, [])
        for k in ("custom", "properties", "raw"):
            if getattr(i, k) is None:
                setattr(i, k, {})
        return i


class Project:
    __slots__ = ("id", "key", "name", "description", "lead", "browse", "components",
                 "next_num", "issues", "type")

    def to_dict(self):
        return {"id": self.id, "key": self.key, "name": self.name,
                "description": self.description, "lead": self.lead,
                "browse": sorted(self.browse) if self.browse is not None else None,
                "components": [[cid, name] for cid, name in self.components.items()],
                "next_num": self.next_num, "type": self.type}


ISSUE_KEY_RE = re.compile(r"^([A-Z][A-Z0-9_]*)-(\d+)$")
PROJECT_KEY_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,9}$")


class State:
    def __init__(self, base_url="http://127.0.0.1", max_results=1000, latency_ms=0):
        self.lock = threading.RLock()
        self.base = base_url.rstrip("/")
        self.config = {"max_results": int(max_results), "latency_ms": int(latency_ms),
                       "basic_auth": True,
                       # issue property keys an app indexes for JQL (stock Jira: none)
                       "indexed_properties": [],
                       # most comments per issue in search answers (None: all of them)
                       "search_comments_max": None,
                       "ignore_transitions": False,
                       # search answers rendered once, then served from memory (the
                       # benchmark's "fast page mode"; dropped on any change)
                       "fast_pages": False,
                       # a site's own resolutions besides the stock ones (ids from 10100)
                       "site_resolutions": [],
                       "oauth1_auto_approve_user": None, "oauth1_access_lifetime": 157680000,
                       "oauth2_auto_approve_user": None, "oauth2_access_lifetime": 3600,
                       "oauth2_refresh_lifetime": 7776000,
                       # attachments (Administration > System > Attachments): on, and at most
                       # 10485760 bytes per file, Jira's default ("Configuring file
                       # attachments": "The default is 10485760 bytes (10 MB)")
                       "attachments_enabled": True, "attachment_upload_limit": 10485760,
                       # users without the Create Attachments permission (the default
                       # permission scheme grants it to every user)
                       "attachment_create_denied": [],
                       # the status of an over-limit upload: 413 (atlassian-rest's
                       # FileSizeLimitExceededException), 404 with the system property
                       # atlassian.rest.filesize.exceeded.statuscode.legacy.enabled
                       "attachment_too_large_status": 413,
                       # true: /secure/attachment honours single byte ranges (206); Jira's
                       # attachment servlet copies the whole file whatever Range says
                       "attachment_ranges": False,
                       # the members of jira-administrators (global ADMINISTER and
                       # SYSTEM_ADMIN); nobody by default
                       "administrators": [],
                       # {user: [permission keys]}: permissions a user does not hold in any
                       # project (as if the scheme left the user out); mypermissions and the
                       # operations that check them honour it (see has_permission)
                       "permissions_denied": {},
                       # GET mypermissions: true -> Jira Cloud's "permissions" parameter
                       # (required, filters the answer); DC ignores it (default)
                       "mypermissions_keys_required": False,
                       # GET mypermissions: true -> anonymous callers get an answer (the
                       # older resource was @AnonymousAllowed); DC 10: 401 (default)
                       "mypermissions_anonymous": False,
                       # the Jira release the site runs (serverInfo version, versionNumbers,
                       # buildNumber): below 8.14 no Personal Access Tokens, below 8.22 no
                       # OAuth 2.0 provider (see auth.py, server.handle_oauth)
                       "server_version": "10.3.4",
                       # serverInfo deploymentType: "Server" (what every Jira Server and
                       # Data Center answers, 8.5.3 to 10.3.19), "Data Center", "Cloud"
                       "deployment_type": "Server",
                       # a site's own custom fields (text fields), see catalog.set_site_fields
                       "site_fields": [],
                       # field configurations that make fields required: {project key or
                       # "*": {issue type id or "*": [field ids]}} (see required_fields)
                       "required_fields": {}}
        self.projects = {}
        self.issues = {}          # key -> Issue
        self.issues_by_id = {}    # id -> Issue
        self.aliases = {}         # old key -> issue id (moved issues)
        self.next_ids = {"issue": 10000, "comment": 10000, "project": 10000,
                         "component": 10000, "attachment": 10000, "filter": 10000}
        self.attachments = {}     # id -> Attachment
        self.filters = {}         # id -> Filter
        self.favourites = {}      # user -> [filter id], in the order they were favourited
        self.tokens = {pat: [name, None] for name, u in C.USERS.items() for pat in [u[4]]}
        self.basic_failures = {}
        # OAuth 1.0a consumers and tokens, OAuth 2.0 clients and tokens (reads self.config)
        self.oauth = oauth.OAuthStore(self.config)
        self.version = 0
        self.search_cache = {}

    # ------------------------------------------------------------------ basics
    def changed(self):
        self.version += 1
        if self.search_cache:
            self.search_cache.clear()

    def next_id(self, kind):
        v = self.next_ids[kind]
        self.next_ids[kind] = v + 1
        return v

    def can_browse(self, user, project):
        """Browse Projects: every user (the default scheme grants it to any logged-in
        user), unless the project was made with a browse list or the user is denied
        BROWSE_PROJECTS in config permissions_denied."""
        return user is not None and (project.browse is None or user in project.browse) \
            and not self.permission_denied(user, "BROWSE_PROJECTS")

    def server_at_least(self, *version):
        """Is config server_version at least ``version`` (e.g. 8, 14)?"""
        return C.version_numbers(self.config.get("server_version") or "10.3.4") >= \
            list(version)

    def required_fields(self, project, issuetype):
        """The fields the field configuration of (project, issue type) makes required, from
        config required_fields {project key or "*": {issue type id or "*": [field ids]}}.
        As with Jira's field configuration schemes, the most specific entry wins whole: the
        project's own entry (else "*"), in it the issue type's list (else "*"'s). Fields no
        longer defined (a site field dropped) are left out."""
        rf = self.config.get("required_fields") or {}
        per = rf.get(getattr(project, "key", project)) or rf.get("*") or {}
        ids = per.get(str(issuetype)) if issuetype is not None else None
        if ids is None:
            ids = per.get("*") or ()
        return [f for f in ids if f in C.FIELD_BY_ID]

    # ------------------------------------------------------------------ permissions
    def permission_denied(self, user, key):
        """config permissions_denied: {user: [keys]}."""
        return key in ((self.config.get("permissions_denied") or {}).get(user) or ())

    def has_permission(self, user, key, project=None):
        """Does ``user`` hold permission ``key`` (a key of C.PERMISSIONS)? Jira's Default
        Permission Scheme and default global permissions (see catalog.PERMISSIONS): a
        project permission needs Browse Projects in the project (the emulator's stand-in
        for a scheme restricted by a browse list), then "user" grants hold for everyone,
        "admin" grants (the Administrators role) for the project lead; Create Attachments
        also needs attachments on and the user outside attachment_create_denied
        (DefaultAttachmentService.canCreateAttachments). Global ones: jira-software-users
        (everyone) or jira-administrators (config administrators). Anonymous holds none.
        Without ``project`` a project permission is held if it is held in any project
        (PermissionManager.hasProjects, what mypermissions answers without a context)."""
        p = C.PERMISSION_BY_KEY[key]
        if user is None or self.permission_denied(user, key):
            return False
        grant = p[5]
        if p[3] == "GLOBAL":
            return grant == "users" or user in (self.config.get("administrators") or ())
        if project is None:
            return any(self.has_permission(user, key, q) for q in self.projects.values())
        if not self.can_browse(user, project):
            return False
        if key == "CREATE_ATTACHMENTS" and (
                not self.config.get("attachments_enabled", True)
                or user in (self.config.get("attachment_create_denied") or ())):
            return False
        if grant == "user":
            return True
        return grant == "admin" and user == project.lead

    def hidden_fields(self, user, project):
        """Fields a create/edit/transition screen leaves out for ``user``: Assignee without
        Assign Issues (AssigneeSystemField.isShown asks for that permission), so setting it
        is "Field 'assignee' cannot be set. It is not on the appropriate screen, or
        unknown." as for any field off the screen."""
        return () if self.has_permission(user, "ASSIGN_ISSUES", project) else ("assignee",)

    def visible_projects(self, user):
        return [p for p in self.projects.values() if self.can_browse(user, p)]

    def find_project(self, user, ref):
        """Project by key (case-insensitive) or id, if visible to user, else None."""
        if ref is None:
            return None
        ref = str(ref)
        p = self.projects.get(ref.upper())
        if p is None and ref.isdigit():
            p = next((x for x in self.projects.values() if x.id == int(ref)), None)
        if p is None or not self.can_browse(user, p):
            return None
        return p

    def lookup_issue(self, ref):
        ref = str(ref)
        if ref.isdigit():
            return self.issues_by_id.get(int(ref))
        key = ref.upper()
        i = self.issues.get(key)
        if i is None and key in self.aliases:
            i = self.issues_by_id.get(self.aliases[key])
        return i

    def get_issue(self, user, ref):
        i = self.lookup_issue(ref)
        if i is None or not self.can_browse(user, self.projects[i.project]):
            raise ApiError(404, ["Issue Does Not Exist"])
        return i

    def user_exists(self, name):
        return name in C.USERS

    def user_by_ref(self, ref):
        """Name of the user given by name or key, or None."""
        if not isinstance(ref, str):
            return None
        if ref in C.USERS:
            return ref
        for name, u in C.USERS.items():
            if u[0] == ref or name.lower() == ref.lower():
                return name
        return None

    # ------------------------------------------------------------------ projects
    def create_project(self, key, name=None, browse=None, components=None, lead="alice",
                       description=None):
        key = str(key).upper()
        if not PROJECT_KEY_RE.match(key):
            raise ApiError(400, [], {"projectKey": "Project keys must start with an uppercase "
                                     "letter, followed by one or more uppercase alphanumeric "
                                     "characters."})
        if key in self.projects:
            p = self.projects[key]
            for c in components or []:
                if c not in p.components.values():
                    p.components[self.next_id("component")] = c
            return p
        p = Project()
        p.id = self.next_id("project")
        p.key = key
        p.name = name or key.title()
        p.description = description or ""
        p.lead = lead
        p.browse = set(browse) if browse is not None else None
        p.components = {}
        for c in components if components is not None else ["web", "db", "infra"]:
            p.components[self.next_id("component")] = c
        p.next_num = 1
        p.issues = []
        p.type = "software"
        self.projects[key] = p
        self.changed()
        return p

    # ------------------------------------------------------------------ issues
    def new_issue(self, project, summary, issuetype=3, reporter="alice", created=None,
                  updated=None, description=None, priority=C.DEFAULT_PRIORITY, labels=(),
                  components=(), assignee=None, status=C.OPEN, resolution=None,
                  resolutiondate=None, environment=None, duedate=None, custom=None,
                  properties=None, creator=None):
        """Add an issue without validation (seeding and create after validation)."""
        i = Issue()
        i.id = self.next_id("issue")
        i.project = project.key
        i.num = project.next_num
        project.next_num += 1
        i.key = "%s-%d" % (project.key, i.num)
        i.issuetype = issuetype
        i.summary = summary
        i.description = description
        i.environment = environment
        i.status = status
        i.priority = priority
        i.resolution = resolution
        i.labels = sorted(set(labels))
        i.components = sorted(components, key=lambda c: project.components.get(c, ""))
        i.assignee = assignee
        i.reporter = reporter
        i.creator = creator or reporter
        t = now_ms()
        i.created = created if created is not None else t
        i.updated = updated if updated is not None else i.created
        i.resolutiondate = resolutiondate
        if status in DONE_STATUSES and i.resolutiondate is None:
            i.resolutiondate = i.updated
        i.duedate = duedate
        i.custom = dict(custom or {})
        i.comments = []
        i.properties = dict(properties or {})
        i.raw = {}
        i.watchers = [reporter] if reporter else []
        i.attachments = []
        self.issues[i.key] = i
        self.issues_by_id[i.id] = i
        project.issues.append(i)
        self.changed()
        return i

    def new_comment(self, issue, author, body, created=None, visibility=None):
        c = Comment(self.next_id("comment"), author, body,
                    created if created is not None else now_ms(), visibility)
        issue.comments.append(c)
        return c

    def touch(self, issue, *fields):
        """Record a mutation: bump updated (real clock, ms) and drop raw overrides."""
        t = now_ms()
        issue.updated = t if t > issue.updated else issue.updated + 1
        for f in fields + ("updated",):
            issue.raw.pop(f, None)
        self.changed()

    def delete_issue(self, issue):
        p = self.projects[issue.project]
        for a in issue.attachments:
            self.attachments.pop(a.id, None)
        p.issues.remove(issue)
        del self.issues[issue.key]
        del self.issues_by_id[issue.id]
        for k in [k for k, v in self.aliases.items() if v == issue.id]:
            del self.aliases[k]
        self.changed()

    def move_issue(self, issue, project):
        old = self.projects[issue.project]
        old.issues.remove(issue)
        del self.issues[issue.key]
        self.aliases[issue.key] = issue.id
        issue.project = project.key
        issue.num = project.next_num
        project.next_num += 1
        issue.key = "%s-%d" % (project.key, issue.num)
        issue.components = []
        project.issues.append(issue)
        self.issues[issue.key] = issue
        self.touch(issue, "project", "components")

    # ---------------------------------------------------------- field parsing
    @staticmethod
    def _ref(value, what):
        if isinstance(value, dict):
            if value.get("id") is not None:
                return "id", str(value["id"])
            if value.get("name") is not None:
                return "name", str(value["name"])
        if isinstance(value, str):
            return "name", value
        raise FieldError("Could not find valid 'id' or 'name' in %s object." % what)

    def parse_issuetype(self, value):
        kind, v = self._ref(value, "issuetype")
        for tid, t in C.ISSUETYPES.items():
            if (kind == "id" and v == str(tid)) or (kind == "name" and v.lower() == t[0].lower()):
                return tid
        if kind == "id":
            raise FieldError("valid issue type is required")
        raise FieldError("Specify a valid issue type")

    def parse_priority(self, value):
        if value is None:
            return None
        kind, v = self._ref(value, "priority")
        for pid, p in C.PRIORITIES.items():
            if (kind == "id" and v == str(pid)) or (kind == "name" and v.lower() == p[0].lower()):
                return pid
        if kind == "id":
            raise FieldError("Invalid priority id '%s'" % v)
        raise FieldError("Priority name '%s' is not valid" % v)

    def parse_resolution(self, value):
        if value is None:
            return None
        kind, v = self._ref(value, "resolution")
        for rid, r in C.RESOLUTIONS.items():
            if (kind == "id" and v == str(rid)) or (kind == "name" and v.lower() == r[0].lower()):
                return rid
        if kind == "id":
            raise FieldError("Could not find resolution with id '%s'." % v)
        raise FieldError("Could not find resolution with name '%s'." % v)

    def parse_user(self, value, fid):
        if value is None:
            return None
        if isinstance(value, dict):
            ref = value.get("name", value.get("key"))
            if ref is None and ("name" in value or "key" in value):
                return None
        else:
            ref = value
        name = self.user_by_ref(ref) if isinstance(ref, str) else None
        if name is None:
            raise FieldError("User '%s' does not exist." % (ref,))
        return name

    def parse_component(self, project, value):
        kind, v = self._ref(value, "component")
        for cid, name in project.components.items():
            if (kind == "id" and v == str(cid)) or (kind == "name" and v == name):
                return cid
        if kind == "id":
            raise FieldError("Component with id '%s' does not exist." % v)
        raise FieldError("Component name '%s' is not valid" % v)

    def parse_components(self, project, value):
        if value is None:
            return []
        if not isinstance(value, list):
            raise FieldError("data was not an array")
        out = []
        for v in value:
            cid = self.parse_component(project, v)
            if cid not in out:
                out.append(cid)
        return sorted(out, key=lambda c: project.components[c])

    @staticmethod
    def check_label(v):
        if not isinstance(v, str):
            raise FieldError("data was not an array")
        if not v.strip():
            raise FieldError("Label must not be empty.")
        if re.search(r"\s", v):
            raise FieldError("The label '%s' contains spaces which is invalid." % v)
        if len(v) > 255:
            raise FieldError("The label '%s' exceeds the maximum length for a single label of "
                             "255 characters." % v)
        return v

    def parse_labels(self, value):
        if value is None:
            return []
        if not isinstance(value, list):
            raise FieldError("data was not an array")
        return sorted({self.check_label(v) for v in value})

    @staticmethod
    def parse_text(value, fid, required=False):
        if value is None:
            if required:
                raise FieldError("You must specify a summary of the issue.")
            return None
        if not isinstance(value, str):
            raise FieldError("Operation value must be a string")
        if fid == "summary":
            if not value.strip():
                raise FieldError("You must specify a summary of the issue.")
            if "\n" in value or "\r" in value:
                raise FieldError("The summary is invalid because it contains newline characters.")
            if len(value) > 255:    # 255 itself is fine (the column is varchar(255))
                # Jira Server/DC's words: {"errorMessages":[],"errors":{"summary":"Summary must
                # be less than 255 characters."}} (https://github.com/ryanhoskin/pd2jira/
                # issues/13; Cloud says "Summary can't exceed 255 characters.")
                raise FieldError("Summary must be less than 255 characters.")
        elif len(value) > C.MAX_TEXT:
            raise FieldError(C.TOO_LONG)
        return value

    @staticmethod
    def parse_duedate(value):
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not re.match(r"^\d{4}-\d\d-\d\d$", value):
            raise FieldError("Error parsing date string: %s" % (value,))
        return value

    @staticmethod
    def parse_versions(value, fid):
        if value is None or value == []:
            return []
        if not isinstance(value, list):
            raise FieldError("data was not an array")
        v = value[0]
        if isinstance(v, dict) and "id" in v:
            raise FieldError("Version id '%s' is not valid" % v["id"])
        name = v.get("name") if isinstance(v, dict) else v
        raise FieldError("Version name '%s' is not valid" % (name,))

    def parse_custom(self, fid, value):
        if value is None:
            return None
        if fid == "customfield_10020":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise FieldError("Operation value must be a number")
            return value
        if fid == "customfield_10021" or C.is_site_field(fid):
            if not isinstance(value, str):
                raise FieldError("Operation value must be a string")
            if len(value) > 255:
                raise FieldError("Text fields cannot be more than 255 characters.")
            return value
        if fid == "customfield_10022":
            if isinstance(value, dict):
                if value.get("id") is not None:
                    oid = str(value["id"])
                    for k in C.SOURCE_OPTIONS:
                        if str(k) == oid:
                            return k
                    raise FieldError("Option id '%s' is not valid" % oid)
                if value.get("value") is not None:
                    for k, v in C.SOURCE_OPTIONS.items():
                        if v == value["value"]:
                            return k
                    raise FieldError("Option value '%s' is not valid" % value["value"])
            raise FieldError("Could not find valid 'id' or 'value' in the Parent Option object.")
        raise FieldError("Field '%s' cannot be set. It is not on the appropriate screen, or "
                         "unknown." % fid)

    def parse_field(self, project, fid, value):
        if fid == "summary":
            return self.parse_text(value, fid, required=True)
        if fid in ("description", "environment"):
            return self.parse_text(value, fid)
        if fid == "issuetype":
            if value is None:
                raise FieldError("issue type is required")
            return self.parse_issuetype(value)
        if fid == "priority":
            return self.parse_priority(value)
        if fid == "labels":
            return self.parse_labels(value)
        if fid == "components":
            return self.parse_components(project, value)
        if fid in ("assignee", "reporter"):
            v = self.parse_user(value, fid)
            if v is None and fid == "reporter":
                raise FieldError("Reporter is required.")
            return v
        if fid == "duedate":
            return self.parse_duedate(value)
        if fid in ("fixVersions", "versions"):
            return self.parse_versions(value, fid)
        if fid.startswith("customfield_") and fid in C.FIELD_BY_ID:
            return self.parse_custom(fid, value)
        raise FieldError("Field '%s' cannot be set. It is not on the appropriate screen, or "
                         "unknown." % fid)

    def set_field(self, issue, fid, value):
        if fid in ("fixVersions", "versions"):
            return
        if fid.startswith("customfield_"):
            if value is None:
                issue.custom.pop(fid, None)
            else:
                issue.custom[fid] = value
            return
        setattr(issue, fid, value)

    def get_field(self, issue, fid):
        if fid in ("fixVersions", "versions"):
            return []
        if fid.startswith("customfield_"):
            return issue.custom.get(fid)
        return getattr(issue, fid)

    # ---------------------------------------------------------- comments
    def check_comment(self, body):
        if not isinstance(body, dict):
            raise ApiError(400, ["Can not deserialize instance of "
                                 "com.atlassian.jira.rest.v2.issue.CommentJsonBean"])
        text = body.get("body")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, [], {"comment": "Comment body can not be empty!"})
        if len(text) > C.MAX_TEXT:
            raise ApiError(400, [], {"comment": C.TOO_LONG})
        vis = body.get("visibility")
        if vis is not None:
            if not isinstance(vis, dict) or vis.get("type") not in ("group", "role") \
                    or not vis.get("value"):
                raise ApiError(400, [], {"commentLevel": "You are currently not a member of "
                                         "the project role: %s." % (vis,)})
            vis = {"type": vis["type"], "value": vis["value"]}
        return text, vis

    def add_comment(self, user, issue, body):
        text, vis = self.check_comment(body)
        c = self.new_comment(issue, user, text, visibility=vis)
        self.touch(issue, "comment")
        return c

    # ---------------------------------------------------------- create / edit
    def _apply_update_ops(self, project, current, update, errors, comments, hidden=()):
        """Apply an IssueUpdateBean "update" section onto the dict ``current`` (the fields in
        ``hidden`` are off the screen)."""
        if not isinstance(update, dict):
            raise ApiError(400, ["Can not deserialize the 'update' section"])
        for fid, ops in update.items():
            if not isinstance(ops, list):
                errors[fid] = "Operations for field '%s' must be a list." % fid
                continue
            for op in ops:
                if not isinstance(op, dict) or len(op) != 1:
                    errors[fid] = "Operation must be an object with one key."
                    break
                (verb, value), = op.items()
                try:
                    if fid == "comment":
                        if verb != "add":
                            raise FieldError("Operation '%s' is not supported for comments." % verb)
                        try:
                            comments.append(self.check_comment(value))
                        except ApiError as e:
                            raise FieldError(next(iter(e.errors.values()), "invalid comment"))
                        continue
                    if fid not in C.SETTABLE or fid in hidden:
                        raise FieldError("Field '%s' cannot be set. It is not on the appropriate "
                                         "screen, or unknown." % fid)
                    if verb == "set":
                        current[fid] = self.parse_field(project, fid, value)
                    elif verb in ("add", "remove") and fid == "labels":
                        lab = set(current.get("labels", []))
                        v = self.check_label(value)
                        lab.add(v) if verb == "add" else lab.discard(v)
                        current["labels"] = sorted(lab)
                    elif verb in ("add", "remove") and fid == "components":
                        comps = list(current.get("components", []))
                        cid = self.parse_component(project, value)
                        if verb == "add" and cid not in comps:
                            comps.append(cid)
                        elif verb == "remove" and cid in comps:
                            comps.remove(cid)
                        current["components"] = sorted(comps, key=lambda c: project.components[c])
                    elif verb in ("add", "remove") and fid in ("fixVersions", "versions"):
                        self.parse_versions([value], fid)
                    else:
                        raise FieldError("Field '%s' does not support operation '%s'"
                                         % (fid, verb))
                except FieldError as e:
                    errors[fid] = str(e)
                    break

    def create_issue(self, user, body):
        if not isinstance(body, dict):
            raise ApiError(400, ["Can not deserialize instance of "
                                 "com.atlassian.jira.rest.v2.issue.IssueUpdateBean"])
        fields = body.get("fields") or {}
        if not isinstance(fields, dict):
            raise ApiError(400, ["Can not deserialize the 'fields' section"])
        errors = {}
        pref = fields.get("project")
        project = None
        if isinstance(pref, dict):
            project = self.find_project(user, pref.get("key") or pref.get("id"))
        elif isinstance(pref, (str, int)):
            project = self.find_project(user, pref)
        if project is None:
            raise ApiError(400, [], {"project": "project is required"} if pref is None else
                           {"project": "valid project is required"})
        if not self.has_permission(user, "CREATE_ISSUES", project):
            # ProjectSystemField.validateParams: addError(FIELD_PARAMETER_NAME (the REST
            # "project"), "createissue.projectnopermission", Reason.FORBIDDEN) -> 403 (the
            # status unverified); the words as a Jira func test finds them on
            # CreateIssue!default.jspa?pid= of a project without the permission
            raise ApiError(403, [], {"project": NO_CREATE_ISSUES})
        hidden = self.hidden_fields(user, project)
        values = {"priority": C.DEFAULT_PRIORITY, "labels": [], "components": [],
                  "reporter": user}
        if "summary" not in fields:
            errors["summary"] = "You must specify a summary of the issue."
        if "issuetype" not in fields:
            errors["issuetype"] = "issue type is required"
        for fid, value in fields.items():
            if fid == "project":
                continue
            try:
                if fid not in C.SETTABLE or fid in hidden:
                    raise FieldError("Field '%s' cannot be set. It is not on the appropriate "
                                     "screen, or unknown." % fid)
                values[fid] = self.parse_field(project, fid, value)
            except FieldError as e:
                errors[fid] = str(e)
        comments = []
        if body.get("update"):
            self._apply_update_ops(project, values, body["update"], errors, comments, hidden)
        props = {}
        for p in body.get("properties") or []:
            if not isinstance(p, dict) or not isinstance(p.get("key"), str) or not p["key"] \
                    or len(p["key"]) > 255:
                errors["properties"] = "The property key is invalid."
                break
            if len(json.dumps(p.get("value"))) > 32768:
                errors["properties"] = "The property value is too long."
                break
            props[p["key"]] = p.get("value")
        self._check_required(project, values["issuetype"] if "issuetype" not in errors
                             and "issuetype" in values else None, values, errors, hidden)
        if errors:
            raise ApiError(400, [], errors)
        custom = {k: v for k, v in values.items() if k.startswith("customfield_") and v is not None}
        i = self.new_issue(project, values["summary"], issuetype=values["issuetype"],
                           reporter=values["reporter"], description=values.get("description"),
                           priority=values.get("priority"), labels=values["labels"],
                           components=values["components"], assignee=values.get("assignee"),
                           environment=values.get("environment"),
                           duedate=values.get("duedate"), custom=custom, properties=props,
                           creator=user)
        for text, vis in comments:
            self.new_comment(i, user, text, visibility=vis)
        return i

    # Fields the field configuration requires (config required_fields) answer, when left out
    # or empty, "<field name> is required." under the field's id, as Jira does:
    # {"errorMessages":[],"errors":{"customfield_10040":"Requestor is required.",
    # "customfield_10000":"Exco is required."}} (https://github.com/toabctl/jiracli/issues/41),
    # "Scrum Team is required." (https://github.com/pycontribs/jira/issues/684), and for system
    # fields "components: Component/s is required.", "versions: Affects Version/s is
    # required." (https://github.com/keepcosmos/terjira/issues/23). Summary, issue type and
    # project keep their own words; priority and reporter have defaults. An edit checks only
    # the fields it changes; a field off the caller's screen (hidden) is not checked.
    OWN_REQUIRED_CHECK = ("summary", "issuetype", "project", "reporter", "priority")

    def _check_required(self, project, issuetype, values, errors, hidden=(), only=None):
        if issuetype is None:
            return
        for fid in self.required_fields(project, issuetype):
            if fid in self.OWN_REQUIRED_CHECK or fid in errors or fid in hidden or \
                    (only is not None and fid not in only):
                continue
            v = values.get(fid)
            if v is None or v == [] or (isinstance(v, str) and not v.strip()):
                errors[fid] = "%s is required." % C.FIELD_NAMES[fid]

    def edit_issue(self, user, issue, body):
        if not isinstance(body, dict):
            raise ApiError(400, ["Can not deserialize instance of "
                                 "com.atlassian.jira.rest.v2.issue.IssueUpdateBean"])
        project = self.projects[issue.project]
        fields = body.get("fields") or {}
        if not isinstance(fields, dict):
            raise ApiError(400, ["Can not deserialize the 'fields' section"])
        errors = {}
        current = {}
        for fid in C.SETTABLE:
            current[fid] = self.get_field(issue, fid)
        changed = set()
        hidden = self.hidden_fields(user, project)
        for fid, value in fields.items():
            try:
                if fid not in C.SETTABLE or fid in hidden:
                    raise FieldError("Field '%s' cannot be set. It is not on the appropriate "
                                     "screen, or unknown." % fid)
                current[fid] = self.parse_field(project, fid, value)
                changed.add(fid)
            except FieldError as e:
                errors[fid] = str(e)
        comments = []
        update = body.get("update") or {}
        if update:
            self._apply_update_ops(project, current, update, errors, comments, hidden)
            changed.update(k for k in update if k != "comment")
        self._check_required(project, issue.issuetype, current, errors, hidden, only=changed)
        if errors:
            raise ApiError(400, [], errors)
        for fid in changed:
            self.set_field(issue, fid, current[fid])
        for text, vis in comments:
            self.new_comment(issue, user, text, visibility=vis)
        if changed or comments:
            self.touch(issue, *(list(changed) + (["comment"] if comments else [])))

    # ---------------------------------------------------------- workflow
    def available_transitions(self, issue, user=None):
        """The transitions from the issue's status; for ``user`` only those whose conditions
        hold (IssueWorkflowManager.isValidAction): Transition Issues for all, and the classic
        workflow's permission conditions (C.TRANSITION_PERMISSIONS). Without ``user`` (the
        control API) all of them."""
        ts = [t for t in C.TRANSITIONS if issue.status in t[2]]
        if user is None:
            return ts
        p = self.projects[issue.project]
        if not self.has_permission(user, "TRANSITION_ISSUES", p):
            return []
        return [t for t in ts if all(self.has_permission(user, k, p)
                                     for k in C.TRANSITION_PERMISSIONS.get(t[0], ()))]

    def do_transition(self, user, issue, body):
        if not isinstance(body, dict) or not isinstance(body.get("transition"), dict):
            raise ApiError(400, ["Missing 'transition' identifier"])
        tid = body["transition"].get("id")
        tname = body["transition"].get("name")
        avail = self.available_transitions(issue, user)
        t = None
        if tid is not None:
            t = next((x for x in avail if str(x[0]) == str(tid)), None)
            if t is None:
                known = next((x for x in C.TRANSITIONS if str(x[0]) == str(tid)), None)
                if known is None:
                    raise ApiError(400, ["Transition id '%s' is not valid for this issue." % tid])
                raise ApiError(400, ["It seems that you have tried to perform a workflow "
                                     "operation (%s) that is not valid for the current state of "
                                     "this issue (%s). The likely cause is that somebody has "
                                     "changed the issue recently, please look at the issue "
                                     "history for details." % (known[1], issue.key)])
        elif tname is not None:
            t = next((x for x in avail if x[1] == tname), None)
            if t is None:
                raise ApiError(400, ["Transition name '%s' is not valid for this issue." % tname])
        else:
            raise ApiError(400, ["Missing 'transition' identifier"])
        fields = body.get("fields") or {}
        if not isinstance(fields, dict):
            raise ApiError(400, ["Can not deserialize the 'fields' section"])
        errors = {}
        screen = ("resolution", "assignee", "fixVersions") if t[4] == "resolve" else ()
        hidden = self.hidden_fields(user, self.projects[issue.project])
        screen = tuple(f for f in screen if f not in hidden)
        new = {}
        for fid, value in fields.items():
            try:
                if fid not in screen:
                    raise FieldError("Field '%s' cannot be set. It is not on the appropriate "
                                     "screen, or unknown." % fid)
                if fid == "resolution":
                    new[fid] = self.parse_resolution(value)
                else:
                    new[fid] = self.parse_field(self.projects[issue.project], fid, value)
            except FieldError as e:
                errors[fid] = str(e)
        comments = []
        update = body.get("update") or {}
        if update:
            extra = {}
            self._apply_update_ops(self.projects[issue.project], extra,
                                   {k: v for k, v in update.items() if k == "comment"},
                                   errors, comments)
            for k in update:
                if k != "comment":
                    errors[k] = ("Field '%s' cannot be set. It is not on the appropriate screen, "
                                 "or unknown." % k)
        if t[4] == "resolve" and not errors:
            res = new.get("resolution", issue.resolution)
            if res is None:
                errors["resolution"] = "Resolution is required."
            # the field configuration's required fields that are on the screen
            cur = {f: new[f] if f in new else self.get_field(issue, f)
                   for f in screen if f != "resolution"}
            self._check_required(self.projects[issue.project], issue.issuetype,
                                 cur, errors, only=set(cur))
        if errors:
            raise ApiError(400, [], errors)
        for text, vis in comments:
            self.new_comment(issue, user, text, visibility=vis)
        if self.config.get("ignore_transitions"):
            if comments:
                self.touch(issue, "comment")
            return
        touched = ["status", "resolution", "resolutiondate"]
        for fid, v in new.items():
            self.set_field(issue, fid, v)
            touched.append(fid)
        was_done = issue.status in DONE_STATUSES
        issue.status = t[3]
        if t[3] in DONE_STATUSES:
            if not was_done or issue.resolutiondate is None:
                issue.resolutiondate = now_ms()
        else:
            issue.resolution = None
            issue.resolutiondate = None
        self.touch(issue, *(touched + (["comment"] if comments else [])))

    # ---------------------------------------------------------- properties
    def set_property(self, issue, key, value):
        if not key or len(key) > 255:
            raise ApiError(400, ["The property key cannot be longer than 255 characters."])
        if len(json.dumps(value)) > 32768:
            raise ApiError(400, ["The property value cannot be longer than 32768 characters."])
        existed = key in issue.properties
        issue.properties[key] = value
        self.touch(issue)
        return existed

    def delete_property(self, issue, key):
        if key not in issue.properties:
            raise ApiError(404, ["The property with key '%s' does not exist." % key])
        del issue.properties[key]
        self.touch(issue)

    # ---------------------------------------------------------- attachments
    def add_attachment(self, issue, filename, content, mime, author, created=None,
                       pattern=None, touch=True):
        """Attach ``content`` (bytes/bytearray, kept as given) to ``issue``. Adding an
        attachment is an issue update in Jira (IssueAttachmentsResource: IssueUpdater with
        the change items), so it bumps ``updated`` unless ``touch`` is false (seeding)."""
        a = Attachment(self.next_id("attachment"), issue.id, filename, author,
                       created if created is not None else now_ms(), mime, content, pattern)
        self.attachments[a.id] = a
        issue.attachments.append(a)
        if touch:
            self.touch(issue, "attachment")
        else:
            self.changed()
        return a

    def attachment_issue(self, a):
        return self.issues_by_id.get(a.issue)

    def delete_attachment(self, a):
        self.attachments.pop(a.id, None)
        i = self.attachment_issue(a)
        if i is not None:
            i.attachments = [x for x in i.attachments if x.id != a.id]
            self.touch(i, "attachment")
        else:
            self.changed()

    def can_create_attachments(self, user, issue):
        """DefaultAttachmentService.canCreateAttachments: attachments on, and the Create
        Attachments permission (every user but those in attachment_create_denied or denied
        CREATE_ATTACHMENTS in permissions_denied)."""
        return self.has_permission(user, "CREATE_ATTACHMENTS", self.projects[issue.project])

    def can_delete_attachment(self, user, a):
        """DefaultAttachmentService.canDeleteAttachment with the default permission scheme:
        Delete All Attachments for the project's Administrators role (here: the project
        lead), Delete Own Attachments for every user (the author)."""
        i = self.attachment_issue(a)
        if user is None or i is None:
            return False
        p = self.projects[i.project]
        if not self.can_browse(user, p):
            return False
        return self.has_permission(user, "DELETE_ALL_ATTACHMENTS", p) or (
            user == a.author and self.has_permission(user, "DELETE_OWN_ATTACHMENTS", p))

    # ---------------------------------------------------------- filters
    def add_filter(self, name, jql, owner, favourite_of=(), description=None, shared=False):
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a filter needs a name")
        if owner not in C.USERS:
            raise ValueError("unknown owner %r" % (owner,))
        for u in favourite_of or ():
            if u not in C.USERS:
                raise ValueError("unknown user %r in favourite_of" % (u,))
        f = Filter(self.next_id("filter"), name, jql or "", owner, description, shared)
        self.filters[f.id] = f
        for u in favourite_of or ():
            lst = self.favourites.setdefault(u, [])
            if f.id not in lst:
                lst.append(f.id)
        self.changed()
        return f

    def delete_filter(self, f):
        self.filters.pop(f.id, None)
        for lst in self.favourites.values():
            if f.id in lst:
                lst.remove(f.id)
        self.changed()

    def is_favourite(self, user, f):
        return user is not None and f.id in self.favourites.get(user, ())

    def can_see_filter(self, user, f):
        """The owner, the users it is a favourite of (the emulator's stand-in for a share
        with them), and everybody -- even anonymous -- when it is shared globally."""
        return f.shared or (user is not None and (user == f.owner or self.is_favourite(user, f)))

    def favourite_filters(self, user):
        return [self.filters[fid] for fid in self.favourites.get(user, ())
                if fid in self.filters and self.can_see_filter(user, self.filters[fid])]

    def find_filter(self, user, ref):
        """A filter the user can see, by id or (case-insensitive) name, or None."""
        ref = str(ref)
        if ref.isdigit():
            f = self.filters.get(int(ref))
            return f if f is not None and self.can_see_filter(user, f) else None
        for f in self.filters.values():
            if f.name.lower() == ref.lower() and self.can_see_filter(user, f):
                return f
        return None

    # ---------------------------------------------------------- raw overwrite
    def overwrite_raw(self, issue, fields=None, comments=None, properties=None):
        """Control API: store raw field values verbatim (they win when rendering) and keep the
        internal model in step where the value makes sense (so JQL sees it)."""
        for fid, value in (fields or {}).items():
            issue.raw[fid] = value
            self._sync_raw(issue, fid, value)
        if comments is not None:
            issue.comments = []
            for c in comments:
                author = self.user_by_ref(c.get("author")) or c.get("author") or "alice"
                created = parse_date(c.get("created")) if c.get("created") else None
                cm = self.new_comment(issue, author, c.get("body", ""), created=created,
                                      visibility=c.get("visibility"))
                if c.get("id") is not None:
                    try:
                        cm.id = int(c["id"])
                    except (TypeError, ValueError):
                        pass
            issue.raw.pop("comment", None)
        if properties is not None:
            issue.properties = dict(properties)
        if "updated" not in (fields or {}):
            t = now_ms()
            issue.updated = t if t > issue.updated else issue.updated + 1
        self.changed()

    def _sync_raw(self, issue, fid, value):
        def name_of(v):
            if isinstance(v, dict):
                return v.get("name")
            return v if isinstance(v, str) else None
        try:
            if fid in ("summary", "description", "environment"):
                if value is None or isinstance(value, str):
                    setattr(issue, fid, value)
            elif fid == "labels" and isinstance(value, list):
                issue.labels = [v for v in value if isinstance(v, str)]
            elif fid in ("assignee", "reporter", "creator"):
                setattr(issue, fid, name_of(value))
            elif fid in ("created", "updated", "resolutiondate"):
                ms = parse_date(value)
                if ms is not None or (value is None and fid == "resolutiondate"):
                    setattr(issue, fid, ms)
            elif fid == "status":
                for sid, s in C.STATUSES.items():
                    if isinstance(value, dict) and (str(value.get("id")) == str(sid)
                                                    or value.get("name") == s[0]):
                        issue.status = sid
                    elif isinstance(value, str) and value == s[0]:
                        issue.status = sid
            elif fid == "resolution":
                issue.resolution = None if value is None else self.parse_resolution(value)
            elif fid == "priority":
                issue.priority = None if value is None else self.parse_priority(value)
            elif fid == "issuetype":
                issue.issuetype = self.parse_issuetype(value)
            elif fid == "duedate":
                issue.duedate = value if value is None or isinstance(value, str) else None
            elif fid.startswith("customfield_"):
                if value is None:
                    issue.custom.pop(fid, None)
                else:
                    issue.custom[fid] = value
        except FieldError:
            pass

    # ---------------------------------------------------------- search
    def search(self, user, jql_text, validate=True):
        """Return (issues, warnings) for a JQL query; results are cached until the next
        state change (queries with relative dates are not cached)."""
        ck = (user, jql_text, validate)
        hit = self.search_cache.get(ck)
        if hit is not None:
            return hit
        query = jql.parse(jql_text or "")
        compiled = jql.compile_query(query, jql.Context(self, user, validate))
        cands = []
        for p in self.visible_projects(user):
            if compiled.projects is None or p.key in compiled.projects:
                cands.extend(p.issues)
        pred = compiled.predicate
        result = [i for i in cands if pred(i)] if pred is not None else cands
        for keyfunc, desc in reversed(compiled.order):
            result.sort(key=keyfunc, reverse=desc)
        out = (result, compiled.warnings)
        if compiled.cacheable:
            if len(self.search_cache) > 256:
                self.search_cache.clear()
            self.search_cache[ck] = out
        return out

    # ---------------------------------------------------------- persistence
    def to_dict(self):
        return {
            "format": 1,
            "base": self.base,
            "config": self.config,
            "next_ids": self.next_ids,
            "projects": [p.to_dict() for p in self.projects.values()],
            "issues": [i.to_dict() for p in self.projects.values() for i in p.issues],
            "aliases": self.aliases,
            "attachments": [a.to_dict() for a in sorted(self.attachments.values(),
                                                        key=lambda a: a.id)],
            "filters": [f.to_dict() for f in self.filters.values()],
            "favourites": self.favourites,
            "tokens": self.tokens,
            "oauth": self.oauth.to_dict(),
        }

    def load_dict(self, d):
        # settings this version no longer has (e.g. property_search) are dropped
        self.config.update({k: v for k, v in (d.get("config") or {}).items()
                            if k in self.config})
        C.set_site_resolutions(self.config["site_resolutions"])
        C.set_site_fields(self.config["site_fields"])
        self.next_ids.update(d.get("next_ids") or {})
        self.projects = {}
        for pd in d.get("projects", []):
            p = Project()
            p.id, p.key, p.name = pd["id"], pd["key"], pd["name"]
            p.description, p.lead = pd.get("description", ""), pd.get("lead", "alice")
            p.browse = set(pd["browse"]) if pd.get("browse") is not None else None
            p.components = {int(cid): name for cid, name in pd.get("components", [])}
            p.next_num, p.type, p.issues = pd["next_num"], pd.get("type", "software"), []
            self.projects[p.key] = p
        self.issues, self.issues_by_id = {}, {}
        for idd in d.get("issues", []):
            i = Issue.from_dict(idd)
            self.issues[i.key] = i
            self.issues_by_id[i.id] = i
            self.projects[i.project].issues.append(i)
        self.aliases = dict(d.get("aliases") or {})
        self.attachments = {}
        for ad in d.get("attachments") or []:
            a = Attachment.from_dict(ad)
            i = self.issues_by_id.get(a.issue)
            if i is not None:
                self.attachments[a.id] = a
                i.attachments.append(a)
        self.filters = {}
        for fd in d.get("filters") or []:
            f = Filter.from_dict(fd)
            self.filters[f.id] = f
        self.favourites = {u: [int(x) for x in ids]
                           for u, ids in (d.get("favourites") or {}).items()}
        self.tokens.update({k: list(v) for k, v in (d.get("tokens") or {}).items()})
        self.oauth.load_dict(d.get("oauth"))
        self.changed()

    def save(self, path):
        data = json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))
        old_base = self.base
        d = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".emu-state.", dir=d)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", errors="surrogatepass") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return old_base

    def load(self, path):
        with open(path, encoding="utf-8", errors="surrogatepass") as f:
            text = f.read()
        d = json.loads(text)
        old = d.get("base")
        if old and old != self.base:
            # raw overrides may contain absolute URLs of the previous run
            text = text.replace(json.dumps(old)[1:-1], json.dumps(self.base)[1:-1])
            d = json.loads(text)
        self.load_dict(d)
