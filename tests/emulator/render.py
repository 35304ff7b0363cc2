"""Jira JSON shapes (Jira DC 10.3 REST v2) built from the internal model.

Shared fragments (users, statuses, priorities, ...) are built once per base URL and shared by
reference between issues; callers must treat rendered objects as read-only.
"""

import html
import unicodedata
from urllib.parse import quote, quote_plus

import catalog as C
from state import fmt_date

# ThumbnailManager makes thumbnails of GIF, JPEG and PNG images ("Configuring file
# attachments": "JIRA automatically creates thumbnails of the following types of image
# attachments: GIF, JPEG, PNG"); image/pjpeg is the old IE name of JPEG. The emulator looks at
# the MIME type only (it never decodes the image).
THUMBNAIL_TYPES = {"image/gif", "image/jpeg", "image/pjpeg", "image/png"}


def java_url_encode(s):
    """java.net.URLEncoder.encode(s, "UTF-8"): letters, digits and . - * _ stay, a space is
    '+', every other byte of the UTF-8 form is %XX (upper case); '~' too, unlike Python."""
    return quote_plus(s.encode("utf-8", "replace"), safe="*").replace("~", "%7E")


def jira_url_codec(s):
    """JiraUrlCodec.encode(s, true): URL encoding with spaces as %20 (Content-Disposition)."""
    return java_url_encode(s).replace("+", "%20")


def query_param(s):
    """A value in a JAX-RS UriBuilder query parameter (FilterBean.searchUrl): a space is '+',
    '=', '&', '+', '"', '%' and the like are %XX; ( ) , : ~ and other sub-delimiters stay --
    Jira's own test expects search?jql=text+~+%22some+fancy+text%22 and
    search?jql=type+%3D+Bug (TestFilterResource)."""
    return quote(s.encode("utf-8", "replace"), safe="!$'()*,;:@/?~").replace("%20", "+")


def collation_key(name):
    """About java.text.Collator for en_US (AttachmentFileNameComparator): letters compare
    without regard to accents and case first, then accents, then lower case before upper
    case."""
    if not isinstance(name, str):
        name = str(name)
    base = "".join(c for c in unicodedata.normalize("NFKD", name)
                   if not unicodedata.combining(c))
    return (base.casefold(), name.casefold(), tuple(c.isupper() for c in name))

ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
SEARCH_ISSUE_EXPAND = "operations,versionedRepresentations,editmeta,changelog,renderedFields"


class Selection:
    """A parsed "fields" parameter.

    Tokens: ``*all``, ``*navigable``, field ids, ``-id`` exclusions, comma lists. Only
    exclusions (or nothing) start from the default (``*navigable`` for search, ``*all`` for a
    single issue). Unknown ids are ignored unless a raw override holds them.
    """

    def __init__(self, tokens, default):
        toks = []
        for t in tokens or []:
            if isinstance(t, str):
                toks.extend(x.strip() for x in t.split(","))
        toks = [t for t in toks if t]
        mode = None
        include, exclude = [], set()
        named = False
        for t in toks:
            if t == "*all":
                mode = "all"
            elif t == "*navigable" and mode != "all":
                mode = "nav"
            elif t.startswith("-"):
                exclude.add(t[1:])
            elif t in ("key", "id", "self", "expand"):
                named = True      # always at the top level; asks for no field
            else:
                include.append(t)
        if mode is None and not include and not named:
            mode = default
        self.mode = mode
        base = C.FIELD_IDS if mode == "all" else C.NAVIGABLE_IDS if mode == "nav" else []
        ids = [f for f in base if f not in exclude]
        seen = set(ids)
        self.other = []
        for f in include:
            if f in seen or f in exclude:
                continue
            seen.add(f)
            if f in C.FIELD_BY_ID:
                ids.append(f)
            else:
                self.other.append(f)   # only served from raw overrides
        self.ids = ids
        self.exclude = exclude
        self.key = (mode, tuple(ids), tuple(self.other))

    def wants_extra(self, fid):
        return fid in self.other or (self.mode is not None and fid not in self.exclude)


def _avatars(base, kind, ident):
    if kind == "user":
        u = "%s/secure/useravatar?ownerId=%s&avatarId=10122" % (base, ident)
        return {"48x48": u, "24x24": u.replace("?", "?size=small&", 1),
                "16x16": u.replace("?", "?size=xsmall&", 1),
                "32x32": u.replace("?", "?size=medium&", 1)}
    u = "%s/secure/projectavatar?avatarId=10324" % base
    return {"48x48": u, "24x24": u.replace("?", "?size=small&", 1),
            "16x16": u.replace("?", "?size=xsmall&", 1),
            "32x32": u.replace("?", "?size=medium&", 1)}


class Renderer:
    def __init__(self, state):
        self.state = state
        self.base = state.base
        self.api = self.base + "/rest/api/2"
        self._users = {}
        self._projects = {}
        self._components = {}
        b, a = self.base, self.api
        self.categories = {cid: {"self": "%s/statuscategory/%d" % (a, cid), "id": cid, "key": v[0],
                                 "colorName": v[2], "name": v[1]}
                           for cid, v in C.CATEGORIES.items()}
        self.statuses = {sid: {"self": "%s/status/%d" % (a, sid), "description": v[1],
                               "iconUrl": "%s/images/icons/statuses/%s" % (b, v[3]),
                               "name": v[0], "id": str(sid),
                               "statusCategory": self.categories[v[2]]}
                         for sid, v in C.STATUSES.items()}
        self.priorities = {pid: {"self": "%s/priority/%d" % (a, pid),
                                 "iconUrl": "%s/images/icons/priorities/%s" % (b, v[3]),
                                 "name": v[0], "id": str(pid)}
                           for pid, v in C.PRIORITIES.items()}
        self.issuetypes = {tid: {"self": "%s/issuetype/%d" % (a, tid), "id": str(tid),
                                 "description": v[1],
                                 "iconUrl": "%s/secure/viewavatar?size=xsmall&avatarId=%d"
                                            "&avatarType=issuetype" % (b, v[2]),
                                 "name": v[0], "subtask": False, "avatarId": v[2]}
                           for tid, v in C.ISSUETYPES.items()}
        self._resolutions, self._resolutions_version = None, None
        self.options = {oid: {"self": "%s/customFieldOption/%d" % (a, oid), "value": v,
                              "id": str(oid), "disabled": False}
                        for oid, v in C.SOURCE_OPTIONS.items()}

    # ------------------------------------------------------------ fragments
    def user(self, name):
        if name is None:
            return None
        u = self._users.get(name)
        if u is None:
            info = C.USERS.get(name)
            if info:
                key, display, email = info[0], info[1], info[2]
                active = True
            else:
                key, display, email, active = name, name, "%s@example.com" % name, False
            u = {"self": "%s/user?username=%s" % (self.api, name), "key": key, "name": name,
                 "emailAddress": email, "avatarUrls": _avatars(self.base, "user", key),
                 "displayName": display, "active": active, "deleted": False,
                 "timeZone": "Etc/UTC", "locale": "en_US"}
            self._users[name] = u
        return u

    def myself(self, name):
        u = dict(self.user(name))
        u["groups"] = {"size": 2, "items": []}
        u["applicationRoles"] = {"size": 1, "items": []}
        u["expand"] = "groups,applicationRoles"
        return u

    def status(self, sid):
        return self.statuses.get(sid)

    def priority(self, pid):
        return None if pid is None else self.priorities.get(pid)

    @property
    def resolutions(self):
        """id -> resolution JSON, rebuilt when the site's resolutions change."""
        if self._resolutions_version != C.RESOLUTIONS_VERSION[0]:
            a = "%s/rest/api/2" % self.base
            self._resolutions = {rid: {"self": "%s/resolution/%d" % (a, rid), "id": str(rid),
                                       "description": v[1], "name": v[0]}
                                 for rid, v in C.RESOLUTIONS.items()}
            self._resolutions_version = C.RESOLUTIONS_VERSION[0]
        return self._resolutions

    def resolution(self, rid):
        return None if rid is None else self.resolutions.get(rid)

    def project_short(self, pkey):
        p = self.state.projects.get(pkey)
        if p is None:
            return None
        j = self._projects.get((p.key, p.id, p.name))
        if j is None:
            j = {"self": "%s/project/%d" % (self.api, p.id), "id": str(p.id), "key": p.key,
                 "name": p.name, "projectTypeKey": p.type,
                 "avatarUrls": _avatars(self.base, "project", p.id)}
            self._projects[(p.key, p.id, p.name)] = j
        return j

    def project_full(self, p, expand=()):
        j = {"expand": "description,lead,url,projectKeys"}
        j.update(self.project_short(p.key))
        j.update({
            "description": p.description,
            "lead": self.user(p.lead),
            "components": [dict(self.component(p.key, cid), isAssigneeTypeValid=False,
                                assigneeType="PROJECT_DEFAULT", realAssigneeType="PROJECT_DEFAULT",
                                project=p.key, projectId=p.id)
                           for cid in sorted(p.components, key=lambda c: p.components[c])],
            "issueTypes": [self.issuetypes[t] for t in C.ISSUETYPE_ORDER],
            "assigneeType": "UNASSIGNED",
            "versions": [],
            "roles": {"Developers": "%s/project/%d/role/10001" % (self.api, p.id),
                      "Administrators": "%s/project/%d/role/10002" % (self.api, p.id)},
            "projectKeys": [p.key],
            "archived": False,
        })
        return j

    def project_list_item(self, p, expand=()):
        j = {"expand": "description,lead,url,projectKeys"}
        j.update(self.project_short(p.key))
        j["archived"] = False
        if "description" in expand:
            j["description"] = p.description
        if "lead" in expand:
            j["lead"] = self.user(p.lead)
        if "projectKeys" in expand:
            j["projectKeys"] = [p.key]
        if "issueTypes" in expand:
            j["issueTypes"] = [self.issuetypes[t] for t in C.ISSUETYPE_ORDER]
        return j

    def component(self, pkey, cid):
        j = self._components.get(cid)
        if j is None:
            p = self.state.projects.get(pkey)
            name = p.components.get(cid) if p else None
            if name is None:
                return None
            j = {"self": "%s/component/%d" % (self.api, cid), "id": str(cid), "name": name}
            self._components[cid] = j
        return j

    def comment(self, issue, c):
        j = {"self": "%s/issue/%d/comment/%d" % (self.api, issue.id, c.id), "id": str(c.id),
             "author": self.user(c.author), "body": c.body,
             "updateAuthor": self.user(c.update_author), "created": fmt_date(c.created),
             "updated": fmt_date(c.updated)}
        if c.visibility:
            j["visibility"] = c.visibility
        return j

    def comments_page(self, issue, start=0, maxr=None, newest_first=False):
        """{comments, maxResults, total, startAt}: the issue field "comment" (every comment,
        maxResults = total) or a page of GET issue/{key}/comment. Jira's order is oldest first
        (the stored order: comments are appended as they are made; raw overrides keep the order
        they were given in); newest_first for orderBy=-created."""
        allc = issue.comments[::-1] if newest_first else issue.comments
        page = allc[start:] if maxr is None else allc[start:start + maxr]
        return {"comments": [self.comment(issue, c) for c in page],
                "maxResults": len(page) if maxr is None else maxr,
                "total": len(allc), "startAt": start}

    # ------------------------------------------------------------ attachments
    def attachment_content_url(self, a):
        # AttachmentJsonBean.shortBean / AttachmentBeanBuilder: "%s/secure/attachment/%s/%s"
        # with the file name through URLEncoder.encode(name, "UTF-8")
        return "%s/secure/attachment/%d/%s" % (self.base, a.id, java_url_encode(a.filename))

    def attachment_thumbnail_url(self, a):
        # as real answers show: .../secure/thumbnail/12440716/_thumb_12440716.png
        # (issues.jboss.org), .../secure/thumbnail/10070/_thumb_10070.png (JRJC's tests)
        mime = (a.mime or "").split(";")[0].strip().lower()
        if mime not in THUMBNAIL_TYPES:
            return None
        return "%s/secure/thumbnail/%d/_thumb_%d.png" % (self.base, a.id, a.id)

    def attachment(self, a):
        """AttachmentJsonBean (fields.attachment, the upload's answer): self, id, filename,
        author, created, size, mimeType, content, and thumbnail for images only (a null
        thumbnail is left out, as Jira's answers show)."""
        j = {"self": "%s/attachment/%d" % (self.api, a.id), "id": str(a.id),
             "filename": a.filename, "author": self.user(a.author),
             "created": fmt_date(a.created), "size": a.size, "mimeType": a.mime,
             "content": self.attachment_content_url(a)}
        t = self.attachment_thumbnail_url(a)
        if t is not None:
            j["thumbnail"] = t
        return j

    def attachment_full(self, a):
        """AttachmentBean (GET attachment/{id}, AttachmentBeanBuilder): self, filename, author,
        created, size, mimeType, properties, content, thumbnail -- no "id" member in the Jira
        source this follows."""
        j = {"self": "%s/attachment/%d" % (self.api, a.id), "filename": a.filename,
             "author": self.user(a.author), "created": fmt_date(a.created), "size": a.size,
             "mimeType": a.mime, "properties": {}, "content": self.attachment_content_url(a)}
        t = self.attachment_thumbnail_url(a)
        if t is not None:
            j["thumbnail"] = t
        return j

    def attachments(self, i):
        """fields.attachment: AttachmentSystemField.getJsonFromIssue sorts with
        AttachmentFileNameCreationDateComparator -- file name (a Collator), then creation
        date."""
        return [self.attachment(a) for a in sorted(
            i.attachments, key=lambda a: (collation_key(a.filename), a.created, a.id))]

    # ------------------------------------------------------------ filters
    def filter(self, f, user, expand=()):
        """FilterBean (FilterBeanBuilder): self, id, name, description (when it has one),
        owner, jql, viewUrl, searchUrl, favourite (the caller's), sharePermissions, editable,
        sharedUsers and subscriptions (list wrappers; their items only with expand). An
        anonymous caller gets no jql and no searchUrl (Jira's TestFilterResource)."""
        j = {"self": "%s/filter/%d" % (self.api, f.id), "id": str(f.id), "name": f.name}
        if f.description is not None:
            j["description"] = f.description
        j["owner"] = self.user(f.owner)
        if user is not None:
            j["jql"] = f.jql
        j["viewUrl"] = "%s/issues/?filter=%d" % (self.base, f.id)
        if user is not None:
            j["searchUrl"] = "%s/search?jql=%s" % (self.api, query_param(f.jql))
        j["favourite"] = self.state.is_favourite(user, f)
        j["sharePermissions"] = [{"id": f.id, "type": "global"}] if f.shared else []
        j["editable"] = user is not None and user == f.owner
        shared = sorted(C.USERS) if f.shared else []
        items = [self.user(u) for u in shared] if "sharedUsers" in expand else []
        j["sharedUsers"] = {"size": len(shared), "items": items, "max-results": 1000,
                            "start-index": 0, "end-index": max(len(items) - 1, 0)}
        j["subscriptions"] = {"size": 0, "items": [], "max-results": 1000, "start-index": 0,
                              "end-index": 0}
        return j

    # ------------------------------------------------------------ issues
    def issue(self, i, sel, expand=(), props=None, search=False, user=None):
        raw = i.raw
        f = {}
        R = FIELD_RENDER
        if raw:
            for fid in sel.ids:
                f[fid] = raw[fid] if fid in raw else R[fid](self, i)
            for fid, v in raw.items():
                if fid not in C.FIELD_BY_ID and sel.wants_extra(fid):
                    f[fid] = v
        else:
            for fid in sel.ids:
                f[fid] = R[fid](self, i)
        if "attachment" in f and "attachment" not in raw and \
                not self.state.config.get("attachments_enabled", True):
            # with attachments off the field is unavailable (FieldManager's unavailable
            # fields) and Jira leaves it out of the issue
            del f["attachment"]
        cap = self.state.config.get("search_comments_max") if search else None
        if cap is not None and "comment" in f and "comment" not in raw:
            f["comment"] = self.comments_page(i, 0, cap)
        j = {"expand": SEARCH_ISSUE_EXPAND if search else ISSUE_EXPAND, "id": str(i.id),
             "self": "%s/issue/%d" % (self.api, i.id), "key": i.key}
        if f:   # Jira leaves "fields" out when no field was selected (e.g. fields=key)
            j["fields"] = f
        if expand:
            if "renderedFields" in expand:
                j["renderedFields"] = {k: self._rendered(i, k, cap) for k in f}
            if "names" in expand:
                j["names"] = {k: C.FIELD_NAMES.get(k, k) for k in f}
            if "schema" in expand:
                j["schema"] = {k: C.FIELD_BY_ID[k][6] for k in f if k in C.FIELD_BY_ID}
            if "transitions" in expand:
                j["transitions"] = [self.transition(t, i, False, user)
                                    for t in self.state.available_transitions(i, user)]
            if "changelog" in expand:
                j["changelog"] = {"startAt": 0, "maxResults": 0, "total": 0, "histories": []}
            if "operations" in expand:
                j["operations"] = {"linkGroups": []}
            if "editmeta" in expand:
                p = self.state.projects[i.project]
                ids = EDIT_META_FIELDS
                if user is not None:    # the edit screen as the caller sees it
                    hidden = self.state.hidden_fields(user, p)
                    ids = [] if not self.state.has_permission(user, "EDIT_ISSUES", p) else \
                        [fid for fid in ids if fid not in hidden]
                j["editmeta"] = {"fields": {fid: self.field_meta(fid, p, i.issuetype)
                                            for fid in ids}}
            if "versionedRepresentations" in expand:
                j["versionedRepresentations"] = {k: {"1": v} for k, v in f.items()}
        if props is not None:
            if "*all" in props:
                j["properties"] = dict(i.properties)
            else:
                j["properties"] = {k: i.properties[k] for k in props if k in i.properties}
        return j

    def _rendered(self, i, fid, comments_max=None):
        if fid in ("description", "environment"):
            v = getattr(i, fid)
            return None if v is None else "<p>%s</p>" % html.escape(v).replace("\n", "<br/>\n")
        if fid == "comment":
            page = self.comments_page(i, 0, comments_max)
            for c, src in zip(page["comments"], i.comments):
                c["body"] = "<p>%s</p>" % html.escape(src.body).replace("\n", "<br/>\n")
            return page
        if fid in ("created", "updated", "resolutiondate"):
            return fmt_date(getattr(i, fid))
        return None

    # ------------------------------------------------------------ workflow / meta
    def transition(self, t, issue, with_fields, user=None):
        j = {"id": str(t[0]), "name": t[1], "opsbarSequence": 2147483647,
             "to": self.statuses[t[3]], "hasScreen": t[4] is not None, "isGlobal": False,
             "isInitial": False, "isAvailable": True, "isConditional": False, "isLooped": False}
        if with_fields:
            fields = {}
            if t[4] == "resolve":
                p = self.state.projects[issue.project]
                hidden = self.state.hidden_fields(user, p) if user is not None else ()
                for fid in ("resolution", "fixVersions", "assignee"):
                    if fid not in hidden:
                        fields[fid] = self.field_meta(fid, p, issue.issuetype, issue=issue,
                                                      transition=True)
            j["fields"] = fields
        return j

    def field_meta(self, fid, project, issuetype, issue=None, transition=False):
        """FieldMetaBean (DC 10.3 OpenAPI: required, schema, name, fieldId, autoCompleteUrl,
        hasDefaultValue, operations, allowedValues, defaultValue). A field the project's
        field configuration makes required (config required_fields) says "required": true;
        without a default it has "hasDefaultValue": false and no "defaultValue"."""
        schema = C.FIELD_BY_ID[fid][6]
        required = fid in ("summary", "issuetype", "project", "reporter") or \
            (transition and fid == "resolution") or \
            fid in self.state.required_fields(project, issuetype)
        m = {"required": required, "schema": schema, "name": C.FIELD_NAMES[fid], "fieldId": fid,
             "hasDefaultValue": fid == "priority", "operations": ["set"]}
        if fid in ("labels", "components", "fixVersions", "versions"):
            m["operations"] = ["add", "set", "remove"]
        if fid == "issuetype":
            m["allowedValues"] = [self.issuetypes[issuetype]] if issuetype else \
                [self.issuetypes[t] for t in C.ISSUETYPE_ORDER]
        elif fid == "project":
            m["allowedValues"] = [self.project_short(project.key)]
        elif fid == "priority":
            m["allowedValues"] = [self.priorities[p] for p in C.PRIORITY_ORDER]
            m["defaultValue"] = self.priorities[C.DEFAULT_PRIORITY]
        elif fid == "resolution":
            m["allowedValues"] = [self.resolutions[r] for r in C.RESOLUTION_ORDER]
        elif fid == "components":
            m["allowedValues"] = [self.component(project.key, c)
                                  for c in sorted(project.components,
                                                  key=lambda c: project.components[c])]
        elif fid in ("fixVersions", "versions"):
            m["allowedValues"] = []
        elif fid == "customfield_10022":
            m["allowedValues"] = [self.options[o] for o in sorted(C.SOURCE_OPTIONS)]
        elif fid in ("assignee", "reporter"):
            q = ("issueKey=%s" % issue.key) if issue is not None else ("project=%s" % project.key)
            m["autoCompleteUrl"] = "%s/user/assignable/search?%s&username=" % (self.api, q)
        elif fid == "labels":
            m["autoCompleteUrl"] = "%s/rest/api/1.0/labels/suggest?query=" % self.base
        return m

    def field_list_item(self, f):
        j = {"id": f[0], "name": f[1], "custom": f[0].startswith("customfield_"),
             "orderable": f[3], "navigable": f[2], "searchable": f[4], "clauseNames": f[5],
             "schema": f[6]}
        return j


CREATE_META_FIELDS = ["summary", "issuetype", "project", "reporter", "priority", "components",
                      "labels", "description", "assignee", "environment", "duedate",
                      "fixVersions", "versions", "customfield_10020", "customfield_10021",
                      "customfield_10022"]
EDIT_META_FIELDS = [f for f in CREATE_META_FIELDS if f != "project"]

_EMPTY_PROGRESS = {"progress": 0, "total": 0}


def _watches(r, i):
    return {"self": "%s/issue/%s/watchers" % (r.api, i.key), "watchCount": len(i.watchers),
            "isWatching": False}


def _votes(r, i):
    return {"self": "%s/issue/%s/votes" % (r.api, i.key), "votes": 0, "hasVoted": False}


def _comment(r, i):
    return r.comments_page(i)


def _components(r, i):
    out = []
    for c in i.components:
        j = r.component(i.project, c)
        if j is not None:
            out.append(j)
    return out


FIELD_RENDER = {
    "issuetype": lambda r, i: r.issuetypes.get(i.issuetype),
    "project": lambda r, i: r.project_short(i.project),
    "fixVersions": lambda r, i: [],
    "resolution": lambda r, i: r.resolution(i.resolution),
    "resolutiondate": lambda r, i: fmt_date(i.resolutiondate),
    "workratio": lambda r, i: -1,
    "lastViewed": lambda r, i: None,
    "watches": _watches,
    "created": lambda r, i: fmt_date(i.created),
    "priority": lambda r, i: r.priority(i.priority),
    "labels": lambda r, i: list(i.labels),
    "versions": lambda r, i: [],
    "issuelinks": lambda r, i: [],
    "assignee": lambda r, i: r.user(i.assignee),
    "updated": lambda r, i: fmt_date(i.updated),
    "status": lambda r, i: r.statuses.get(i.status),
    "components": _components,
    "description": lambda r, i: i.description,
    "archiveddate": lambda r, i: None,
    "archivedby": lambda r, i: None,
    "summary": lambda r, i: i.summary,
    "creator": lambda r, i: r.user(i.creator),
    "subtasks": lambda r, i: [],
    "reporter": lambda r, i: r.user(i.reporter),
    "environment": lambda r, i: i.environment,
    "duedate": lambda r, i: i.duedate,
    "votes": _votes,
    "progress": lambda r, i: _EMPTY_PROGRESS,
    "aggregateprogress": lambda r, i: _EMPTY_PROGRESS,
    "timespent": lambda r, i: None,
    "aggregatetimespent": lambda r, i: None,
    "timeestimate": lambda r, i: None,
    "aggregatetimeestimate": lambda r, i: None,
    "timeoriginalestimate": lambda r, i: None,
    "aggregatetimeoriginalestimate": lambda r, i: None,
    "comment": _comment,
    "timetracking": lambda r, i: {},
    "worklog": lambda r, i: {"startAt": 0, "maxResults": 20, "total": 0, "worklogs": []},
    "attachment": lambda r, i: r.attachments(i),
    "customfield_10020": lambda r, i: i.custom.get("customfield_10020"),
    "customfield_10021": lambda r, i: i.custom.get("customfield_10021"),
    "customfield_10022": lambda r, i: r.options.get(i.custom.get("customfield_10022")),
}
assert set(FIELD_RENDER) == set(C.FIELD_IDS)
_BASE_CREATE_META = list(CREATE_META_FIELDS)


def _site_fields_changed():
    """config site_fields: the site's text fields render as their value (a string or null)
    and sit on the create and edit screens after the stock custom fields."""
    # (a dropped field's renderer stays: a search rendered outside the lock may still ask)
    for d in C.SITE_FIELDS:
        FIELD_RENDER[d["id"]] = lambda r, i, fid=d["id"]: i.custom.get(fid)
    CREATE_META_FIELDS[:] = _BASE_CREATE_META + [d["id"] for d in C.SITE_FIELDS]
    EDIT_META_FIELDS[:] = [f for f in CREATE_META_FIELDS if f != "project"]


C.SITE_FIELD_HOOKS.append(_site_fields_changed)
