"""HTTP layer: the REST API v2 subset, the /_emu control API, fault injection and the
request log. ThreadingHTTPServer, HTTP/1.1 keep-alive, Content-Length on every answer."""

import base64
import hashlib
import itertools
import json
import mimetypes
import re
import socket
import ssl
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from html import escape as html_escape
from urllib.parse import parse_qs, quote, unquote, urlsplit

import auth
import catalog as C
import faults as F
import jql
import multipart as MP
import oauth
import peers
import render as R
import seed
from state import (DEFAULT_PATTERN, PROJECT_KEY_RE, ApiError, fmt_date, parse_date,
                   pattern_bytes)

JSON_TYPE = "application/json;charset=UTF-8"
LOG_CAP = 200000
PAGE_CACHE_MAX = 4 << 30   # fast page mode: at most this many bytes of answers kept
COMMENTS_CLAMP = 5000     # GET issue/{key}/comment: no documented clamp; a generous one
SAFE_HEADERS = ("Content-Type", "Accept", "User-Agent", "X-Atlassian-Token",
                "X-ExperimentalApi", "Range")
STREAM_CHUNK = 1 << 20    # downloads leave in memoryview slices of this size (no copies)
# Python's built-in MIME table only (not /etc/mime.types), so answers do not depend on the host
_MIME = mimetypes.MimeTypes()
# MimeSniffingKit's "executable content" (HostileAttachmentsHelper's default lists, from
# memory -- unverified): downloaded as "attachment" with X-Download-Options: noopen
HOSTILE_EXTENSIONS = {"htm", "html", "xhtml", "xml", "svg"}
HOSTILE_TYPES = {"text/html", "text/html-sandboxed", "text/xhtml", "application/xhtml+xml",
                 "text/xml", "application/xml", "application/vnd.wap.xhtml+xml",
                 "text/xml-external-parsed-entity", "application/xml-external-parsed-entity",
                 "application/xml-dtd", "image/svg+xml"}
# the paths fault rules apply to (the control API never)
FAULTABLE = ("/rest/", "/plugins/servlet/oauth/", "/secure/attachment/")


def encode_json(obj):
    try:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:   # lone surrogates from hostile raw data: escape them
        return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _redact(v):
    """Values of secret keys (passwords, OAuth signatures, token secrets, verifiers, codes,
    client secrets, access and refresh tokens) never reach the request log."""
    if isinstance(v, dict):
        return {k: ("<redacted>" if oauth.is_secret_key(k) else _redact(x))
                for k, x in v.items()}
    if isinstance(v, list):
        return [_redact(x) for x in v]
    return v


def _is_oauth_path(path):
    return path.startswith("/plugins/servlet/oauth/") or path.startswith("/rest/oauth2/")


HTML_PAGE = ("<!DOCTYPE html>\n<html><head><title>%s</title></head><body>"
             "<h1>%s</h1><p>%s</p></body></html>\n")


# nginx's own wording where it differs from the standard reason phrase
# (src/http/ngx_http_special_response.c)
NGINX_PHRASES = {408: "Request Time-out", 413: "Request Entity Too Large",
                 414: "Request-URI Too Large", 503: "Service Temporarily Unavailable",
                 504: "Gateway Time-out"}


def proxy_page(status):
    """The error page nginx (the usual reverse proxy in front of Jira DC) sends in its own
    name, e.g. 502 when Jira is too slow: CRLF lines, "<code> <phrase>" as title and h1."""
    try:
        line = "%d %s" % (status, NGINX_PHRASES.get(status) or HTTPStatus(status).phrase)
    except ValueError:
        line = "%d" % status
    return ("<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n"
            "<center><h1>%s</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n" % (line, line))


class Resp:
    __slots__ = ("status", "headers", "body", "obj", "user", "auth", "page_cache")

    def __init__(self, status, obj=None, headers=None, body=None, ctype=JSON_TYPE):
        self.status = status
        self.obj = obj
        self.headers = dict(headers or {})
        if body is None and obj is not None:
            body = encode_json(obj)
        self.body = body or b""
        if self.body or ctype != JSON_TYPE:
            self.headers.setdefault("Content-Type", ctype)
        self.user = None
        self.auth = "anonymous"
        self.page_cache = None     # "hit" or "miss": a search answer in fast page mode


def err(status, messages=None, errors=None):
    return Resp(status, {"errorMessages": list(messages or []), "errors": dict(errors or {})})


class ReqCtx:
    """One REST request: who, what, parameters."""

    def __init__(self, method, path, query, body, user, kind, raw=None, headers=None):
        self.method, self.path, self.query, self.body = method, path, query, body
        self.user, self.auth = user, kind
        self.raw, self.headers = raw, headers     # the body's bytes, the request headers

    def q(self, name, default=None):
        v = self.query.get(name)
        return v[-1] if v else default

    def qlist(self, name):
        return self.query.get(name, [])


def _int_param(v, name, default):
    if v is None or v == "":
        return default
    try:
        return int(v)
    except (TypeError, ValueError):
        raise ApiError(400, ["The value '%s' for parameter '%s' is not an integer." % (v, name)])


def _split(values):
    out = []
    for v in values or []:
        if isinstance(v, str):
            out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def config_value(key, v, current):
    """A setting from POST /_emu/config, checked -> its stored value (ValueError if bad)."""
    if key.endswith("_user"):
        if v is not None and v not in C.USERS:
            raise ValueError("unknown user %r for %s" % (v, key))
        return v or None
    if key.endswith("_lifetime"):
        f = float(v)
        return int(f) if f == int(f) else f
    if key == "indexed_properties":
        return indexed_keys(v)
    if key == "site_resolutions":
        return C.check_site_resolutions(v)
    if key == "attachment_create_denied":
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(u in C.USERS for u in v):
            raise ValueError("attachment_create_denied must be a list of user names")
        return sorted(set(v))
    if key == "administrators":
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list) or not all(u in C.USERS for u in v):
            raise ValueError("administrators must be a list of user names")
        return sorted(set(v))
    if key == "permissions_denied":
        if not isinstance(v, dict):
            raise ValueError("permissions_denied must be an object {user: [permission keys]}")
        out = {}
        for u, keys in v.items():
            if u not in C.USERS:
                raise ValueError("permissions_denied: unknown user %r" % (u,))
            if isinstance(keys, str):
                keys = [keys]
            if not isinstance(keys, list) or not all(k in C.PERMISSION_BY_KEY for k in keys):
                raise ValueError("permissions_denied: %r must be a list of permission keys "
                                 "(such as EDIT_ISSUES; not the deprecated ones)" % (u,))
            if keys:
                out[u] = sorted(set(keys))
        return out
    if key == "attachment_upload_limit":
        if isinstance(v, bool) or int(v) < 0:
            raise ValueError("attachment_upload_limit must be a number of bytes")
        return int(v)
    if key == "attachment_too_large_status":
        if isinstance(v, bool) or not 400 <= int(v) <= 599:
            raise ValueError("attachment_too_large_status must be an HTTP error status")
        return int(v)
    if key == "server_version":
        return C.check_server_version(v)
    if key == "deployment_type":
        if v not in C.DEPLOYMENT_TYPES:
            raise ValueError("deployment_type must be one of %s" % ", ".join(C.DEPLOYMENT_TYPES))
        return v
    if key == "site_fields":
        return C.check_site_fields(v)
    if key == "search_comments_max":
        if v is None:
            return None
        if isinstance(v, bool) or int(v) < 0:
            raise ValueError("search_comments_max must be null or a non-negative integer")
        return int(v)
    if isinstance(current, bool):
        return bool(v)
    return int(v)


def check_required_fields(v, site_fields):
    """config required_fields -> {project key or "*": {issue type id or "*": [field ids]}}.
    Given as {"SEC": {"*": ["customfield_10200"], "Bug": ["Team", "components"]}}: project
    keys (or "*": every project without an entry of its own), issue type names or ids (or
    "*": every type without a list of its own), fields by id or name (case-insensitive),
    each on the create screen (a stock one or one of ``site_fields``, the config's list)."""
    if not isinstance(v, dict):
        raise ValueError("required_fields must be an object {project key or \"*\": "
                         "{issue type name, id or \"*\": [field ids or names]}}")
    screen = list(R._BASE_CREATE_META) + [d["id"] for d in site_fields]
    names = dict((C.FIELD_NAMES[f].lower(), f) for f in R._BASE_CREATE_META)
    names.update((d["name"].lower(), d["id"]) for d in site_fields)
    out = {}
    for pkey, per in v.items():
        if not isinstance(pkey, str) or not (pkey == "*" or PROJECT_KEY_RE.match(pkey.upper())):
            raise ValueError("required_fields: bad project key %r" % (pkey,))
        if not isinstance(per, dict):
            raise ValueError("required_fields: %r must be an object {issue type: [fields]}"
                             % pkey)
        types = {}
        for tref, fields in per.items():
            if tref == "*":
                tid = "*"
            else:
                tid = next((str(t) for t, x in C.ISSUETYPES.items()
                            if str(tref) == str(t) or str(tref).lower() == x[0].lower()), None)
                if tid is None:
                    raise ValueError("required_fields: unknown issue type %r" % (tref,))
            if isinstance(fields, str):
                fields = [fields]
            if not isinstance(fields, list):
                raise ValueError("required_fields: %r/%r must be a list of fields"
                                 % (pkey, tref))
            ids = []
            for f in fields:
                fid = f if f in screen else names.get(f.lower()) if isinstance(f, str) else None
                if fid is None:
                    raise ValueError("required_fields: %r is not a field of the create screen "
                                     "(a site's own field must be in site_fields)" % (f,))
                if fid not in ids:
                    ids.append(fid)
            types[tid] = ids
        out[pkey.upper()] = types
    return out


def indexed_keys(v):
    """indexed_properties: a list of issue property keys (a single string is one key)."""
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(k, str) and k for k in v):
        raise ValueError("indexed_properties must be a list of property keys")
    return sorted(set(v))


class App:
    def __init__(self, state, quiet=False, state_path=None):
        self.state = state
        self.render = R.Renderer(state)
        self.faults = F.Faults()
        self.quiet = quiet
        self.state_path = state_path
        self.log_lock = threading.Lock()
        self.log = []
        self.seq = 0
        self.req_counter = itertools.count(1)
        self.connections = {"accepted": 0, "refused": 0, "vanished": 0, "refused_from": {}}
        # fast page mode (config fast_pages): search answers' bytes by their parameters,
        # valid for one state version
        self.page_lock = threading.Lock()
        self.pages = {}
        self.pages_version = None
        self.pages_bytes = 0
        self.page_stats = {"hits": 0, "misses": 0}
        self.routes = self._routes()

    # ------------------------------------------------------------------ log
    def record(self, entry):
        with self.log_lock:
            entry["seq"] = self.seq
            self.seq += 1
            self.log.append(entry)
            if len(self.log) > LOG_CAP:
                del self.log[:len(self.log) - LOG_CAP]

    # ------------------------------------------------------------------ REST
    def _routes(self):
        r = [
            ("GET", r"serverInfo", self.server_info),
            ("GET", r"myself", self.myself),
            ("GET", r"user", self.get_user),
            ("GET", r"project", self.project_list),
            ("GET", r"project/([^/]+)", self.project_get),
            ("GET", r"project/([^/]+)/components", self.project_components),
            ("GET", r"project/([^/]+)/statuses", self.project_statuses),
            ("GET", r"search", self.search_get),
            ("POST", r"search", self.search_post),
            ("POST", r"issue", self.issue_create),
            ("GET", r"issue/createmeta/([^/]+)/issuetypes", self.createmeta_types),
            ("GET", r"issue/createmeta/([^/]+)/issuetypes/([^/]+)", self.createmeta_fields),
            ("GET", r"issue/([^/]+)", self.issue_get),
            ("PUT", r"issue/([^/]+)", self.issue_edit),
            ("GET", r"issue/([^/]+)/comment", self.comments_get),
            ("POST", r"issue/([^/]+)/comment", self.comment_add),
            ("GET", r"issue/([^/]+)/comment/([^/]+)", self.comment_get),
            ("GET", r"issue/([^/]+)/transitions", self.transitions_get),
            ("POST", r"issue/([^/]+)/transitions", self.transitions_post),
            ("GET", r"issue/([^/]+)/properties", self.props_list),
            ("GET", r"issue/([^/]+)/properties/([^/]+)", self.prop_get),
            ("PUT", r"issue/([^/]+)/properties/([^/]+)", self.prop_put),
            ("DELETE", r"issue/([^/]+)/properties/([^/]+)", self.prop_delete),
            ("GET", r"priority", self.priorities),
            ("GET", r"priority/([^/]+)", self.priority_get),
            ("GET", r"status", self.statuses),
            ("GET", r"status/([^/]+)", self.status_get),
            ("GET", r"statuscategory", self.statuscategories),
            ("GET", r"resolution", self.resolutions),
            ("GET", r"resolution/([^/]+)", self.resolution_get),
            ("GET", r"issuetype", self.issuetypes),
            ("GET", r"issuetype/([^/]+)", self.issuetype_get),
            ("GET", r"field", self.fields),
            ("POST", r"issue/([^/]+)/attachments", self.attachments_add),
            ("GET", r"attachment/meta", self.attachment_meta),
            ("GET", r"attachment/([^/]+)", self.attachment_get),
            ("DELETE", r"attachment/([^/]+)", self.attachment_delete),
            ("GET", r"mypermissions", self.my_permissions),
            ("GET", r"filter/favourite", self.filters_favourite),
            ("GET", r"filter/([^/]+)", self.filter_get),
        ]
        return [(m, re.compile("^" + p + "/?$"), f) for m, p, f in r]

    def handle_oauth(self, method, path, query, body, headers, raw_query, scheme):
        """The OAuth 1.0a servlets and the OAuth 2.0 endpoints."""
        st = self.state
        req = oauth.Req(method, scheme, headers.get("Host"), path, raw_query, headers, body)
        sub = path.rstrip("/")
        kind = "oauth2" if path.startswith("/rest/oauth2/") else "oauth1"
        user = None
        routes = {"/plugins/servlet/oauth/request-token": ("GET", "POST"),
                  "/plugins/servlet/oauth/access-token": ("GET", "POST"),
                  "/plugins/servlet/oauth/authorize": ("GET",),
                  "/rest/oauth2/latest/authorize": ("GET",),
                  "/rest/oauth2/latest/token": ("POST",)}
        # Jira's OAuth 2.0 provider (incoming application links, /rest/oauth2/latest/...)
        # came with Jira 8.22 (Jira Software 8.22.x release notes, "#...-oauth", as
        # matrix-org/matrix-hookshot#225 "Support JIRA On-prem OAuth 2.0 (Supported in
        # 8.22)" cites them; demisto/content#28639: "Jira OnPrem version 8.22 and above is
        # required to use OAuth 2.0"): below that /rest/oauth2/ is no REST module at all
        # (config server_version)
        if kind == "oauth2" and not st.server_at_least(8, 22):
            sub = None
        if sub not in routes:
            if kind == "oauth2":
                r = Resp(404, {"message": "null for uri: %s%s" % (st.base, path),
                               "status-code": 404})
            else:
                r = Resp(404, body=(HTML_PAGE % ("Oops - Jira", "Page not found",
                                                 "The servlet was not found.")).encode(),
                         ctype="text/html;charset=UTF-8")
            r.auth = kind
            return r
        if method not in routes[sub]:
            r = Resp(405, headers={"Allow": ",".join(routes[sub])})
            r.auth = kind
            return r
        with st.lock:
            try:
                if sub.endswith("/request-token"):
                    status, h, b = st.oauth.request_token(req, st.base)
                elif sub.endswith("/access-token"):
                    status, h, b = st.oauth.access_token(req, st.base, st.config)
                elif sub == "/plugins/servlet/oauth/authorize":
                    status, h, b = st.oauth.authorize_page(query, st.config)
                    user = st.config.get("oauth1_auto_approve_user") if status != 400 else None
                elif sub.endswith("/authorize"):
                    status, h, b = st.oauth.authorize2_page(query, st.config)
                    user = st.config.get("oauth2_auto_approve_user") if status == 302 else None
                else:
                    status, h, b = st.oauth.token2(req, st.config)
            except oauth.Problem as p:
                status, h, b = p.answer(st.base)
        h = dict(h)
        r = Resp(status, headers=h, body=b, ctype=h.pop("Content-Type", JSON_TYPE))
        r.user, r.auth = user, kind
        return r

    def handle_rest(self, method, path, query, body, headers, raw_query="", scheme="http"):
        if _is_oauth_path(path):
            return self.handle_oauth(method, path, query, body, headers, raw_query, scheme)
        if path.startswith("/secure/attachment/") or path.startswith("/secure/thumbnail/"):
            return self.handle_download(method, path, query, body, headers, raw_query, scheme)
        m = re.match(r"^/rest/api/(?:2|latest)/(.*)$", path)
        if not m:
            if path.startswith("/rest/"):
                return Resp(404, {"message": "null for uri: %s%s" % (self.state.base, path),
                                  "status-code": 404})
            return Resp(200, body=(HTML_PAGE % ("System Dashboard - Jira", "Jira emulator",
                                                "Nothing to see here.")).encode(),
                        ctype="text/html;charset=UTF-8")
        sub = m.group(1)
        handler, args, allowed = None, None, set()
        for rm, rx, fn in self.routes:
            mm = rx.match(sub)
            if mm:
                allowed.add(rm)
                if rm == method or (method == "HEAD" and rm == "GET"):   # JAX-RS HEAD
                    handler, args = fn, [unquote(g) for g in mm.groups()]
                    break
        if handler is None:
            if allowed:
                return Resp(405, headers={"Allow": ",".join(sorted(allowed))})
            return Resp(404, {"message": "null for uri: %s%s" % (self.state.base, path),
                              "status-code": 404})
        # the authentication filters run before the REST resource
        with self.state.lock:
            req = oauth.Req(method, scheme, headers.get("Host"), path, raw_query, headers,
                            body)
            a = auth.authenticate(self.state, headers.get("Authorization"), req)
        if a.error is not None:
            status, obj, h = a.error
            if isinstance(obj, bytes):
                h = dict(h)
                r = Resp(status, headers=h, body=obj, ctype=h.pop("Content-Type", JSON_TYPE))
            else:
                r = Resp(status, obj, h)
            r.auth = a.kind
            return r
        if a.scopes is not None and not oauth.scope_allows(a.scopes, method, sub):
            r = err(403, ["The token's scope does not allow this operation: scope WRITE is "
                          "required."])
        else:
            r = self._run(method, path, sub, query, body, headers, handler, args, a)
        r.headers.update(a.headers)
        r.user, r.auth = a.user, a.kind
        return r

    def _run(self, method, path, sub, query, body, headers, handler, args, a):
        # Atlassian XSRF protection and JAX-RS @Consumes(application/json)
        parsed = None
        if method in ("POST", "PUT"):
            ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
            # "nocheck" is the value before atlassian-rest 3.0, still accepted (with a
            # deprecation warning in Jira's log: https://github.com/pycontribs/jira/issues/821)
            xsrf_ok = (headers.get("X-Atlassian-Token") or "").lower() in ("no-check",
                                                                         "nocheck")
            if getattr(handler, "consumes_multipart", False):
                # @Consumes(MULTIPART_FORM_DATA) and @RequiresXsrfCheck (IssueAttachments-
                # Resource): another media type is refused by JAX-RS first (415), a multipart
                # body without the header by the XSRF filter: 403 "XSRF check failed"
                # (https://github.com/pycontribs/jira/issues/44)
                if ctype != "multipart/form-data":
                    return Resp(415, body=b"", ctype="text/html;charset=UTF-8")
                if not xsrf_ok:
                    return Resp(403, body=b"XSRF check failed",
                                ctype="text/plain;charset=UTF-8")
                with self.state.lock:
                    ctx = ReqCtx(method, path, query, None, a.user, a.kind, body, headers)
                    try:
                        return handler(ctx, *args)
                    except ApiError as e:
                        return Resp(e.status, e.body(), e.headers)
            if ctype in ("application/x-www-form-urlencoded", "multipart/form-data",
                         "text/plain") and not xsrf_ok:
                return Resp(403, body=b"XSRF check failed", ctype="text/plain;charset=UTF-8")
            if ctype != "application/json":
                return Resp(415, body=b"", ctype="text/html;charset=UTF-8")
            if body:
                try:
                    parsed = json.loads(body.decode("utf-8"))
                except (ValueError, UnicodeDecodeError) as e:
                    return err(400, ["Unexpected character in JSON input: %s" % e])
            else:
                if sub.rstrip("/") == "search" or "/properties/" in sub:
                    return err(400, ["No content to map to Object due to end of input"])
        with self.state.lock:
            ctx = ReqCtx(method, path, query, parsed, a.user, a.kind)
            try:
                r = handler(ctx, *args)
            except ApiError as e:
                r = Resp(e.status, e.body(), e.headers)
            except jql.JQLError as e:
                r = err(400, e.messages)
        if callable(r):        # deferred encoding outside the lock
            r = r()
        return r

    def need_user(self, ctx):
        if ctx.user is None:
            raise ApiError(401, ["You are not authenticated. Authentication required to perform "
                                 "this operation."])

    # ---------------------------------------------------------- simple resources
    def server_info(self, ctx):
        """ServerInfoBean (an empty object in the DC 10.3 OpenAPI; the members as Jira
        8.5.3, 9.12.15 and 10.3.19 answered, see catalog.build_number), after config
        server_version and deployment_type. Every Server and Data Center answers
        "deploymentType": "Server"; "Cloud" is what Jira Cloud says."""
        now = int(time.time() * 1000)
        c = self.state.config
        version = c.get("server_version") or "10.3.4"
        nums = C.version_numbers(version)
        build = C.build_number(nums)
        return Resp(200, {"baseUrl": self.state.base, "version": version,
                          "versionNumbers": nums, "deploymentType": c.get("deployment_type")
                          or "Server",
                          "buildNumber": build, "buildDate": "2025-02-18T00:00:00.000+0000",
                          "databaseBuildNumber": build, "serverTime": fmt_date(now),
                          "scmInfo": "0f0d1e2c3b4a5968778695a4b3c2d1e0f9a8b7c6",
                          "serverTitle": "Jira (emulator)"})

    def myself(self, ctx):
        self.need_user(ctx)
        return Resp(200, self.render.myself(ctx.user))

    def get_user(self, ctx):
        ref = ctx.q("username") or ctx.q("key")
        name = self.state.user_by_ref(ref) if ref else None
        if name is None:
            raise ApiError(404, ["The user named '%s' does not exist" % ref])
        if ctx.user is None:
            self.need_user(ctx)
        return Resp(200, self.render.user(name))

    def project_list(self, ctx):
        expand = set(_split(ctx.qlist("expand")))
        return Resp(200, [self.render.project_list_item(p, expand)
                          for p in self.state.visible_projects(ctx.user)])

    def _project(self, ctx, ref):
        p = self.state.find_project(ctx.user, ref)
        if p is None:
            raise ApiError(404, ["No project could be found with key '%s'." % ref])
        return p

    def project_get(self, ctx, ref):
        return Resp(200, self.render.project_full(self._project(ctx, ref)))

    def project_components(self, ctx, ref):
        return Resp(200, self.render.project_full(self._project(ctx, ref))["components"])

    def project_statuses(self, ctx, ref):
        self._project(ctx, ref)
        return Resp(200, [dict(self.render.issuetypes[t],
                               statuses=[self.render.statuses[s] for s in C.STATUS_ORDER])
                          for t in C.ISSUETYPE_ORDER])

    def priorities(self, ctx):
        return Resp(200, [self._priority_full(p) for p in C.PRIORITY_ORDER])

    def _priority_full(self, pid):
        j = dict(self.render.priorities[pid])
        j["statusColor"] = C.PRIORITIES[pid][2]
        j["description"] = C.PRIORITIES[pid][1]
        return j

    def priority_get(self, ctx, ref):
        for pid in C.PRIORITY_ORDER:
            if ref == str(pid):
                return Resp(200, self._priority_full(pid))
        raise ApiError(404, ["Cannot find priority with id: %s" % ref])

    def statuses(self, ctx):
        return Resp(200, [self.render.statuses[s] for s in C.STATUS_ORDER])

    def status_get(self, ctx, ref):
        for sid in C.STATUS_ORDER:
            if ref == str(sid) or ref.lower() == C.STATUSES[sid][0].lower():
                return Resp(200, self.render.statuses[sid])
        raise ApiError(404, ["The status with id '%s' does not exist" % ref])

    def statuscategories(self, ctx):
        return Resp(200, list(self.render.categories.values()))

    def resolutions(self, ctx):
        return Resp(200, [self.render.resolutions[r] for r in C.RESOLUTION_ORDER])

    def resolution_get(self, ctx, ref):
        for rid in C.RESOLUTION_ORDER:
            if ref == str(rid):
                return Resp(200, self.render.resolutions[rid])
        raise ApiError(404, ["Cannot find resolution with id: %s" % ref])

    def issuetypes(self, ctx):
        return Resp(200, [self.render.issuetypes[t] for t in C.ISSUETYPE_ORDER])

    def issuetype_get(self, ctx, ref):
        for tid in C.ISSUETYPE_ORDER:
            if ref == str(tid):
                return Resp(200, self.render.issuetypes[tid])
        raise ApiError(404, ["The issue type with id '%s' does not exist" % ref])

    def fields(self, ctx):
        return Resp(200, [self.render.field_list_item(f) for f in C.ALL_FIELDS])

    # ---------------------------------------------------------- search
    # Jira DC's search takes no "properties" (GET /api/2/search lists expand, jql, maxResults,
    # validateQuery, fields, startAt; SearchRequestBean the same in the DC 10.3 OpenAPI; only
    # Cloud has it): a "properties" parameter or member is ignored, no issue carries any
    def search_get(self, ctx):
        return self._search(ctx, ctx.q("jql", ""), ctx.q("startAt"), ctx.q("maxResults"),
                            ctx.qlist("fields"), _split(ctx.qlist("expand")),
                            ctx.q("validateQuery"))

    # A Jira Server/DC reads the body into SearchRequestBean with Jackson: validateQuery is a
    # Boolean there ("strict"/"warn" are Cloud's), and a member the bean lacks is refused
    # (https://github.com/ljay79/jira-tools/issues/12: "Can not construct instance of
    # java.lang.Boolean from String value 'strict' ..." and "properties field is not
    # recognized"; floralvikings/jira-connector#219: "Unrecognized field ... not marked as
    # ignorable").  Members per the DC 10.3 OpenAPI SearchRequestBean.
    SEARCH_MEMBERS = ("expand", "fields", "jql", "maxResults", "startAt", "validateQuery")

    def search_post(self, ctx):
        b = ctx.body
        if not isinstance(b, dict):
            raise ApiError(400, ["Can not deserialize instance of SearchRequestBean"])
        for k in b:
            if k not in self.SEARCH_MEMBERS:
                raise ApiError(400, [
                    'Unrecognized field "%s" (Class com.atlassian.jira.rest.v2.search.'
                    'SearchRequestBean), not marked as ignorable' % k])
        vq = b.get("validateQuery")
        if vq is not None and not isinstance(vq, bool):
            raise ApiError(400, [
                "Can not construct instance of java.lang.Boolean from String value '%s': only "
                '"true" or "false" recognized (through reference chain: com.atlassian.jira.rest.'
                'v2.search.SearchRequestBean["validateQuery"])' % vq])

        def lst(v):
            if v is None:
                return []
            return v if isinstance(v, list) else [v]
        return self._search(ctx, b.get("jql") or "", b.get("startAt"), b.get("maxResults"),
                            lst(b.get("fields")), _split(lst(b.get("expand"))),
                            b.get("validateQuery"))

    def _search(self, ctx, jql_text, start, maxr, fields, expand, validate):
        if not isinstance(jql_text, str):
            raise ApiError(400, ["The jql must be a string"])
        start = max(0, _int_param(start, "startAt", 0))
        maxr = _int_param(maxr, "maxResults", 50)
        if maxr < 0:
            maxr = 50
        granted = min(maxr, self.state.config["max_results"])
        v = str(validate).lower() if validate is not None else "strict"
        strict = v not in ("false", "warn", "none")
        fast = self.state.config.get("fast_pages")
        if fast:
            key = json.dumps([ctx.user, jql_text, start, granted, fields, sorted(expand), v])
            with self.page_lock:
                if self.pages_version != self.state.version:
                    self.pages.clear()
                    self.pages_bytes = 0
                    self.pages_version = self.state.version
                hit = self.pages.get(key)
                self.page_stats["hits" if hit is not None else "misses"] += 1
            if hit is not None:
                r = Resp(200, body=hit)
                r.page_cache = "hit"
                return r
        issues, warnings = self.state.search(ctx.user, jql_text, strict)
        sel = R.Selection(fields, "nav")
        exp = set(expand)
        page = issues[start:start + granted]
        rendered = [self.render.issue(i, sel, exp, search=True, user=ctx.user) for i in page]
        out = {"expand": "schema,names", "startAt": start, "maxResults": granted,
               "total": len(issues), "issues": rendered}
        if warnings and v != "none":
            out["warningMessages"] = list(warnings)
        if "names" in exp:
            out["names"] = {f: C.FIELD_NAMES[f] for f in sel.ids}
        if "schema" in exp:
            out["schema"] = {f: C.FIELD_BY_ID[f][6] for f in sel.ids}
        if not fast:
            return lambda: Resp(200, out)
        # a query with relative dates (not in the search cache) changes with the clock
        version = self.state.version if \
            (ctx.user, jql_text, strict) in self.state.search_cache else None

        def rendered_once():
            r = Resp(200, out)
            r.page_cache = "miss"
            with self.page_lock:
                if version is not None and self.pages_version == version:
                    if self.pages_bytes + len(r.body) > PAGE_CACHE_MAX:
                        self.pages.clear()
                        self.pages_bytes = 0
                    if key not in self.pages:
                        self.pages[key] = r.body
                        self.pages_bytes += len(r.body)
            return r
        return rendered_once

    # ---------------------------------------------------------- issues
    def issue_create(self, ctx):
        self.need_user(ctx)
        i = self.state.create_issue(ctx.user, ctx.body)
        return Resp(201, {"id": str(i.id), "key": i.key,
                          "self": "%s/issue/%d" % (self.render.api, i.id)})

    def issue_get(self, ctx, ref):
        i = self.state.get_issue(ctx.user, ref)
        sel = R.Selection(ctx.qlist("fields"), "all")
        exp = set(_split(ctx.qlist("expand")))
        props = _split(ctx.qlist("properties")) if ctx.qlist("properties") else None
        j = self.render.issue(i, sel, exp, props, user=ctx.user)
        return lambda: Resp(200, j)

    # DefaultIssueService.hasPermissionToEdit and IssuePropertyHelper: the error message
    # "editissue.error.no.edit.permission" with Reason.FORBIDDEN (-> 403; the status is
    # derived from the reason, unverified), the words from Jira's TestEditIssue (JRA-13553)
    NO_EDIT = "You do not have permission to edit issues in this project."

    def _need_edit(self, ctx, i):
        if not self.state.has_permission(ctx.user, "EDIT_ISSUES",
                                         self.state.projects[i.project]):
            raise ApiError(403, [self.NO_EDIT])

    def issue_edit(self, ctx, ref):
        self.need_user(ctx)
        i = self.state.get_issue(ctx.user, ref)
        self._need_edit(ctx, i)
        self.state.edit_issue(ctx.user, i, ctx.body)
        return Resp(204)

    def comments_get(self, ctx, ref):
        """GET issue/{key}/comment?startAt=&maxResults=&orderBy= -> CommentsWithPaginationJsonBean
        {startAt, maxResults, total, comments} (DC 10.3 OpenAPI getComments). The OpenAPI says
        maxResults "Defaults to 50", but Jira Server/DC answers every comment when it is absent
        and honours it when given (https://github.com/pycontribs/jira/issues/1938); no clamp
        is documented, so the emulator keeps a generous one (COMMENTS_CLAMP). orderBy:
        created / +created (oldest first, the default) or -created (newest first)."""
        i = self.state.get_issue(ctx.user, ref)
        start = max(0, _int_param(ctx.q("startAt"), "startAt", 0))
        maxr = _int_param(ctx.q("maxResults"), "maxResults", None)
        if maxr is not None:
            maxr = None if maxr < 0 else min(maxr, COMMENTS_CLAMP)
        order = (ctx.q("orderBy") or "").strip()
        page = self.render.comments_page(i, start, maxr, newest_first=order == "-created")
        return Resp(200, {"startAt": page["startAt"], "maxResults": page["maxResults"],
                          "total": page["total"], "comments": page["comments"]})

    def comment_add(self, ctx, ref):
        self.need_user(ctx)
        i = self.state.get_issue(ctx.user, ref)
        if not self.state.has_permission(ctx.user, "ADD_COMMENTS",
                                         self.state.projects[i.project]):
            # DefaultCommentService: "<display name>, you do not have the permission to
            # comment on this issue." (Jira's TestDefaultCommentService asserts "Owen, you do
            # not have the permission to comment on this issue."; anonymous gets it without
            # the name, as an Apache Jira answered a POST comment: 400)
            raise ApiError(400, ["%s, you do not have the permission to comment on this "
                                 "issue." % C.USERS[ctx.user][1]])
        c = self.state.add_comment(ctx.user, i, ctx.body)
        return Resp(201, self.render.comment(i, c))

    def comment_get(self, ctx, ref, cid):
        i = self.state.get_issue(ctx.user, ref)
        for c in i.comments:
            if str(c.id) == cid:
                return Resp(200, self.render.comment(i, c))
        raise ApiError(404, ["Can not find a comment for the id: %s." % cid])

    def transitions_get(self, ctx, ref):
        i = self.state.get_issue(ctx.user, ref)
        exp = set(_split(ctx.qlist("expand")))
        with_fields = "transitions.fields" in exp
        only = ctx.q("transitionId")
        ts = [self.render.transition(t, i, with_fields, ctx.user)
              for t in self.state.available_transitions(i, ctx.user)
              if only is None or str(t[0]) == only]
        return Resp(200, {"expand": "transitions", "transitions": ts})

    def transitions_post(self, ctx, ref):
        self.need_user(ctx)
        i = self.state.get_issue(ctx.user, ref)
        self.state.do_transition(ctx.user, i, ctx.body)
        return Resp(204)

    def createmeta_types(self, ctx, ref):
        self.need_user(ctx)
        self._project(ctx, ref)
        vals = [self.render.issuetypes[t] for t in C.ISSUETYPE_ORDER]
        return Resp(200, self._paged(ctx, vals))

    def createmeta_fields(self, ctx, ref, tid):
        self.need_user(ctx)
        p = self._project(ctx, ref)
        if not tid.isdigit() or int(tid) not in C.ISSUETYPES:
            raise ApiError(404, ["Issue type with id '%s' does not exist or is not valid for "
                                 "project '%s'." % (tid, p.key)])
        vals = [self.render.field_meta(f, p, int(tid)) for f in R.CREATE_META_FIELDS]
        return Resp(200, self._paged(ctx, vals))

    def _paged(self, ctx, vals):
        start = max(0, _int_param(ctx.q("startAt"), "startAt", 0))
        maxr = _int_param(ctx.q("maxResults"), "maxResults", 50)
        if maxr < 0:
            maxr = 50
        page = vals[start:start + maxr]
        return {"maxResults": maxr, "startAt": start, "total": len(vals),
                "isLast": start + len(page) >= len(vals), "values": page}

    # ---------------------------------------------------------- properties
    def props_list(self, ctx, ref):
        i = self.state.get_issue(ctx.user, ref)
        return Resp(200, {"keys": [{"self": "%s/issue/%d/properties/%s" % (self.render.api, i.id, k),
                                    "key": k} for k in i.properties]})

    def prop_get(self, ctx, ref, key):
        i = self.state.get_issue(ctx.user, ref)
        if key not in i.properties:
            raise ApiError(404, ["The property with key '%s' does not exist." % key])
        return Resp(200, {"key": key, "value": i.properties[key]})

    def prop_put(self, ctx, ref, key):
        self.need_user(ctx)
        i = self.state.get_issue(ctx.user, ref)
        self._need_edit(ctx, i)
        existed = self.state.set_property(i, key, ctx.body)
        return Resp(200 if existed else 201)

    def prop_delete(self, ctx, ref, key):
        self.need_user(ctx)
        i = self.state.get_issue(ctx.user, ref)
        self._need_edit(ctx, i)
        self.state.delete_property(i, key)
        return Resp(204)

    # ---------------------------------------------------------- attachments
    # Jira's words (the i18n keys the resources use): "You do not have permission to create
    # attachments for this issue." (attachment.service.error.create.no.permission, asserted
    # in Jira's TestDefaultAttachmentService), "You do not have permission to delete
    # attachment with id: N" (attachment.service.error.delete.no.permission, asserted in
    # Jira's TestDefaultAttachmentService and its attachment func tests), "The attachment with id 'N' does not exist" (a Jira
    # Server's answer in https://github.com/solidify/jira-azuredevops-migrator/issues/713).
    NO_CREATE = "You do not have permission to create attachments for this issue."

    def _attachment(self, aid):
        a = self.state.attachments.get(int(aid)) if aid.isdigit() else None
        if a is None:
            raise ApiError(404, ["The attachment with id '%s' does not exist" % aid])
        return a

    def attachment_meta(self, ctx):
        """AttachmentResource.getAttachmentMeta (anonymous allowed): AttachmentMetaBean."""
        c = self.state.config
        return Resp(200, {"enabled": bool(c.get("attachments_enabled", True)),
                          "uploadLimit": int(c.get("attachment_upload_limit") or 0)})

    def attachment_get(self, ctx, aid):
        """AttachmentResource.getAttachment: attachments off -> 404 without a body; unknown
        id -> 404; an issue the caller cannot browse -> 403 (wording unverified); else the
        AttachmentBean."""
        if not self.state.config.get("attachments_enabled", True):
            return Resp(404)
        a = self._attachment(aid)
        i = self.state.attachment_issue(a)
        if i is None or not self.state.can_browse(ctx.user, self.state.projects[i.project]):
            raise ApiError(403, ["You do not have permission to view attachment with id: %s"
                                 % aid])
        return Resp(200, self.render.attachment_full(a))

    def attachment_delete(self, ctx, aid):
        """AttachmentResource.removeAttachment: attachments off -> 404 (no body); unknown ->
        404; without Delete All / Delete Own Attachments -> 403; else 204."""
        if not self.state.config.get("attachments_enabled", True):
            return Resp(404)
        a = self._attachment(aid)
        if not self.state.can_delete_attachment(ctx.user, a):
            raise ApiError(403, ["You do not have permission to delete attachment with id: %s"
                                 % aid])
        self.state.delete_attachment(a)
        return Resp(204)

    @staticmethod
    def suggested_mime(content_type, filename):
        """MimeManager.getSanitisedMimeType: a generic type (application/octet-stream,
        application/x-zip-compressed; here also a part without Content-Type) is replaced by
        the one suggested by the file name -- text/html when it has no '.', else the MIME
        table's (an unknown extension: application/octet-stream); any other type is kept
        as sent. The table is Python's built-in one, not Jira's mime.types."""
        if content_type not in (None, "application/octet-stream",
                                "application/x-zip-compressed"):
            return content_type
        if "." not in filename:
            return "text/html"
        mt, enc = _MIME.guess_type("file" + filename[filename.rfind("."):].lower(),
                                   strict=False)
        if enc:
            mt = {"gzip": "application/x-gzip", "bzip2": "application/x-bzip2",
                  "xz": "application/x-xz", "compress": "application/x-compress"}.get(
                      enc, "application/octet-stream")
        return mt or "application/octet-stream"

    def attachments_add(self, ctx, ref):
        """POST issue/{key}/attachments (IssueAttachmentsResource.addAttachment), multipart
        parts named "file". The parts are read before the resource runs, so size errors come
        first: a part above attachment_upload_limit, or a request above ten times it
        (JiraAttachmentMultipartConfig: getMaxSize = 10 x getMaxFileSize), answers
        attachment_too_large_status (413, atlassian-rest's FileSizeLimitExceededException;
        404 in its legacy mode, which the DC 10.3 OpenAPI still documents and
        https://github.com/bobcarroll/jira-client/issues/119 shows: "404 Not Found: The field
        file exceeds its maximum permitted size of 11564000 bytes.") with commons-fileupload's
        message as the body; then the issue (404), then DefaultAttachmentService.
        canCreateAttachments (attachments off or no Create Attachments -> 403, the same
        message for both, as the resource ignores the service's own one); then one attachment
        per "file" part with a file name, in the order sent -> 200 and their beans (an empty
        list when there was none). A body commons-fileupload cannot read answers 500."""
        st = self.state
        limit = int(st.config.get("attachment_upload_limit") or 0)
        too_large = int(st.config.get("attachment_too_large_status") or 413)
        body = ctx.raw or b""
        ctype = ctx.headers.get("Content-Type") if ctx.headers is not None else None

        def refuse(msg):
            return Resp(too_large, body=msg.encode("utf-8"), ctype="text/plain;charset=UTF-8")
        if len(body) > limit * 10:
            return refuse("the request was rejected because its size (%d) exceeds the "
                          "configured maximum (%d)" % (len(body), limit * 10))
        boundary = MP.boundary_of(ctype)
        try:
            if boundary is None:
                raise MP.MultipartError("the request was rejected because no multipart "
                                        "boundary was found")
            parts = MP.parse(body, boundary, limit)
        except MP.PartTooLarge as e:
            return refuse("The field %s exceeds its maximum permitted size of %d bytes."
                          % (e.field, e.limit))
        except MP.FileNameEncodingError as e:
            # atlassian-rest UnsupportedFileNameEncodingException
            return Resp(400, body=("The encoding of file name '%s' is invalid according to "
                                   "RFC 2047" % e.raw).encode("utf-8"),
                        ctype="text/plain;charset=UTF-8")
        except MP.MultipartError as e:
            return Resp(500, {"message": "org.apache.commons.fileupload.FileUploadException: %s"
                              % e, "status-code": 500})
        i = st.get_issue(ctx.user, ref)
        if not st.can_create_attachments(ctx.user, i):
            raise ApiError(403, [self.NO_CREATE])
        created = []
        for p in parts:
            if p.name != "file" or not p.filename:
                continue    # other fields, and parts without a file name, are no attachments
            created.append(st.add_attachment(i, p.filename, bytes(p.data),
                                             self.suggested_mime(p.content_type, p.filename),
                                             ctx.user))
        return Resp(200, [self.render.attachment(a) for a in created])

    attachments_add.consumes_multipart = True

    # ---------------------------------------------------------- downloads
    def handle_download(self, method, path, query, body, headers, raw_query, scheme):
        """GET /secure/attachment/{id}/{name} (ViewAttachmentServlet / AbstractViewFile-
        Servlet), authenticated like the REST API: only the id counts (the name is whatever
        the client puts there), "/{id}" without a name -> 400 "Invalid attachment path", a
        second slash after the name, a non-numeric or unknown id -> 404 (JRA-14580); an
        issue the caller cannot browse -> a redirect to the log-in page for anonymous
        callers, Jira's "security breach" page (403 here) for others; else the bytes with
        Content-Type (the MIME type), Content-Length, Content-Disposition (inline, or
        attachment plus X-Download-Options: noopen for executable content, MimeSniffingKit's
        default "workaround" policy) and Cache-control "private, max-age=31536000"
        (HttpResponseHeaders.cachePrivatelyForAboutOneYear). The servlet copies the whole
        file and ignores Range; with config attachment_ranges a single "bytes=a-b" range
        answers 206 (416 when it cannot be satisfied). /secure/thumbnail/ is not emulated
        (404)."""
        st = self.state
        html = "text/html;charset=UTF-8"

        def page(status, title, text):
            return Resp(status, body=(HTML_PAGE % (title, title, text)).encode("utf-8"),
                        ctype=html)
        if method not in ("GET", "HEAD"):
            return Resp(405, headers={"Allow": "GET,HEAD"})
        with st.lock:
            req = oauth.Req(method, scheme, headers.get("Host"), path, raw_query, headers, body)
            a = auth.authenticate(st, headers.get("Authorization"), req)
        if a.error is not None:
            status, obj, h = a.error
            h = dict(h)
            if isinstance(obj, bytes):
                r = Resp(status, headers=h, body=obj, ctype=h.pop("Content-Type", JSON_TYPE))
            else:
                r = Resp(status, obj, h)
            r.auth = a.kind
            return r
        r = self._download(path, headers, a.user, page)
        r.headers.update(a.headers)
        r.user, r.auth = a.user, a.kind
        return r

    def _download(self, path, headers, user, page):
        st = self.state
        if path.startswith("/secure/thumbnail/"):
            return page(404, "Oops, you've found a dead link.",
                        "Thumbnails are not emulated.")
        info = unquote(path[len("/secure/attachment"):])
        x = info.find("/", 1)
        if len(info) <= 1 or x < 0:
            return page(400, "Error", "Invalid attachment path")
        aid = info[1:x]
        with st.lock:
            att = st.attachments.get(int(aid)) if aid.isdigit() and "/" not in info[x + 1:] \
                else None
            issue = st.attachment_issue(att) if att is not None else None
            if att is None or issue is None:
                return page(404, "Oops, you've found a dead link.",
                            "Attachment %s was not found" % html_escape(info))
            if not st.can_browse(user, st.projects[issue.project]):
                if user is None:
                    dest = quote(path, safe="")
                    return Resp(302, headers={"Location": "%s/login.jsp?permissionViolation="
                                              "true&os_destination=%s&page_caps=&user_role="
                                              % (st.base, dest)})
                return page(403, "Permission Violation",
                            "You do not have permissions to view this issue")
            content, mime, filename = att.content, att.mime, att.filename
        size = len(content)
        h = {"Content-Type": mime or "application/octet-stream",
             "Cache-Control": "private, max-age=31536000",
             "Expires": "Wed, 31 Dec 1969 23:59:59 GMT"}
        ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        base_mime = (mime or "").split(";")[0].strip().lower()
        if ext in HOSTILE_EXTENSIONS or base_mime in HOSTILE_TYPES:
            h["Content-Disposition"] = "attachment; filename*=UTF-8''%s;" % \
                R.jira_url_codec(filename)
            h["X-Download-Options"] = "noopen"
        else:
            h["Content-Disposition"] = "inline; filename*=UTF-8''%s;" % R.jira_url_codec(filename)
        view = memoryview(content)
        rng = headers.get("Range")
        if rng and st.config.get("attachment_ranges"):
            m = re.match(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", rng)
            if m and (m.group(1) or m.group(2)):
                if m.group(1):
                    start = int(m.group(1))
                    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
                else:
                    start, end = max(size - int(m.group(2)), 0), size - 1
                if start >= size or end < start:
                    h = {"Content-Range": "bytes */%d" % size}
                    return Resp(416, headers=h, body=b"", ctype="text/html;charset=UTF-8")
                h["Content-Range"] = "bytes %d-%d/%d" % (start, end, size)
                h["Accept-Ranges"] = "bytes"
                # a memoryview of the stored bytes: Handler.send writes it without a copy
                return Resp(206, headers=h, body=view[start:end + 1], ctype=h["Content-Type"])
        r = Resp(200, headers=h, body=view, ctype=h["Content-Type"])
        if st.config.get("attachment_ranges"):
            r.headers["Accept-Ranges"] = "bytes"
        return r

    # ---------------------------------------------------------- permissions
    # GET mypermissions (PermissionsResource, "Provide permission information for the
    # current user", the Jira source followed; DC 10.3 OpenAPI getPermissions).
    # - Parameters: projectKey, projectId, issueKey, issueId only (the DC 10.3 OpenAPI has no
    #   "permissions"). A "permissions" parameter is ignored and every permission comes back:
    #   a Jira 10.3.19 Server "ignored" permissions=CREATE_ISSUES,... "and returned all 81
    #   permission keys anyway" (carbonscott/slac-jira-search docs/findings.md); a Jira
    #   Server 8.17 answers >= 40 without it (pycontribs/jira tests MyPermissionsServerTests,
    #   run against 8.17.1). Only Jira Cloud requires it (Atlassian's change notice "Get my
    #   permissions resource will require a permissions query parameter", from 1 February
    #   2019: 400 "The 'permissions' query parameter is required.",
    #   rhevm-qe-automation/pytest_jira#111): config mypermissions_keys_required.
    # - projectId before projectKey, issueId before issueKey, blank ones ignored; both
    #   lookups run and their errors add up: "Could not find project with id N" /
    #   "... with key K" / "Could not find issue with id N" / "... with key K" (NOT_FOUND,
    #   404), "projectId provided is not valid" / "issueId provided is not valid" (not a
    #   Long: VALIDATION_FAILED, 400); 404 wins when both kinds are there (the order of
    #   ErrorCollection.Reason's worst reason, from memory, unverified). The lookups
    #   (ProjectManager.getProjectObjByKey, case-sensitive; IssueManager.getIssueObject)
    #   do not check Browse: an existing project or issue the caller cannot see answers
    #   200 with its project permissions false.
    # - Context: the issue (its project here), else the project, else "in any project"
    #   (hasProjects); global permissions whatever the context.
    # - Anonymous: 401 ("Returned if request is on behalf of anonymous user", DC 10.3
    #   OpenAPI), in atlassian-rest's words for a resource that needs a user ("Client must
    #   be authenticated to access this resource.", {message, status-code}, as a Jira 10.3
    #   Server answers, slac-jira-search findings). The source followed (as of 5.0) is
    #   @AnonymousAllowed (when that changed is unknown): config mypermissions_anonymous.
    # - PermissionsJsonBean {"permissions": {KEY: {id, key, name, type, description,
    #   havePermission[, deprecatedKey]}}}, with the deprecated alias keys (see
    #   catalog.DEPRECATED_PERMISSIONS).
    NEED_LOGIN = {"message": "Client must be authenticated to access this resource.",
                  "status-code": 401}

    @staticmethod
    def _long(v):
        """Java's Long.parseLong, or None."""
        if not re.match(r"^[+-]?[0-9]+$", v):
            return None
        n = int(v)
        return n if -(1 << 63) <= n < (1 << 63) else None

    def my_permissions(self, ctx):
        st = self.state
        if ctx.user is None and not st.config.get("mypermissions_anonymous"):
            return Resp(401, self.NEED_LOGIN)
        wanted = None
        if st.config.get("mypermissions_keys_required"):
            wanted = _split(ctx.qlist("permissions"))
            if not wanted:
                raise ApiError(400, ["The 'permissions' query parameter is required."])
            bad = [k for k in wanted if k not in C.PERMISSION_BY_KEY]
            if bad:     # Cloud's wording unverified
                raise ApiError(400, ["Invalid permission key: %s" % k for k in bad])
        messages, not_found = [], False
        project = issue = None
        pid, pkey = ctx.q("projectId"), ctx.q("projectKey")
        if pid is not None and pid.strip():
            n = self._long(pid)
            if n is None:
                messages.append("projectId provided is not valid")
            else:
                project = next((p for p in st.projects.values() if p.id == n), None)
                if project is None:
                    messages.append("Could not find project with id %s" % pid)
                    not_found = True
        elif pkey is not None and pkey.strip():
            project = st.projects.get(pkey)
            if project is None:
                messages.append("Could not find project with key %s" % pkey)
                not_found = True
        iid, ikey = ctx.q("issueId"), ctx.q("issueKey")
        if iid is not None and iid.strip():
            n = self._long(iid)
            if n is None:
                messages.append("issueId provided is not valid")
            else:
                issue = st.issues_by_id.get(n)
                if issue is None:
                    messages.append("Could not find issue with id %s" % iid)
                    not_found = True
        elif ikey is not None and ikey.strip():
            issue = None if ikey.isdigit() else st.lookup_issue(ikey)
            if issue is None:
                messages.append("Could not find issue with key %s" % ikey)
                not_found = True
        if messages:
            raise ApiError(404 if not_found else 400, messages)
        if issue is not None:
            project = st.projects[issue.project]
        out = {}
        for key, pid_, name, typ, desc, _grant in C.PERMISSIONS:
            have = st.has_permission(ctx.user, key, project if typ == "PROJECT" else None)
            out[key] = {"id": pid_, "key": key, "name": name, "type": typ,
                        "description": desc, "havePermission": have}
        if wanted is not None:
            out = {k: out[k] for k in wanted}
        else:
            for old, (new, desc) in C.DEPRECATED_PERMISSIONS.items():
                b = dict(out[new], key=old, deprecatedKey=True)
                if desc is not None:
                    b["description"] = desc
                out[old] = b
        return Resp(200, {"permissions": {k: out[k] for k in sorted(out)}})

    # ---------------------------------------------------------- filters
    NO_FILTER = ("The selected filter is not available to you, perhaps it has been deleted or "
                 "had its permissions changed.")

    def filters_favourite(self, ctx):
        """GET filter/favourite: the caller's favourite filters, in the order they became
        favourites (unverified; Jira's TestFilterResource shows two in id order), [] for an
        anonymous caller (same test)."""
        exp = set(_split(ctx.qlist("expand")))
        return Resp(200, [self.render.filter(f, ctx.user, exp)
                          for f in self.state.favourite_filters(ctx.user)])

    def filter_get(self, ctx, fid):
        """GET filter/{id}: a filter the caller cannot see (or none) -> 400 with Jira's
        words (TestFilterResource)."""
        f = self.state.filters.get(int(fid)) if fid.isdigit() else None
        if f is None or not self.state.can_see_filter(ctx.user, f):
            raise ApiError(400, [self.NO_FILTER])
        return Resp(200, self.render.filter(f, ctx.user, set(_split(ctx.qlist("expand")))))

    # ------------------------------------------------------------------ control API
    def control(self, method, path, query, body):
        """-> (status, obj). /_emu requests are never logged and never faulted."""
        st = self.state
        sub = path[len("/_emu"):].rstrip("/") or "/"
        q = lambda n, d=None: (query.get(n) or [d])[-1]
        try:
            if sub == "/requests" and method == "GET":
                since = int(q("since", 0))
                with self.log_lock:
                    entries = [e for e in self.log if e["seq"] >= since]
                    nxt = self.seq
                return 200, {"requests": entries, "next": nxt}
            if sub == "/requests" and method == "DELETE":
                with self.log_lock:
                    self.log = []
                return 200, {"next": self.seq}
            if sub == "/pages" and method in ("GET", "DELETE"):
                with self.page_lock:
                    if method == "DELETE":
                        self.pages.clear()
                        self.pages_bytes = 0
                    stale = self.pages_version != st.version
                    return 200, {"enabled": bool(st.config.get("fast_pages")),
                                 "pages": 0 if stale else len(self.pages),
                                 "bytes": 0 if stale else self.pages_bytes,
                                 "hits": self.page_stats["hits"],
                                 "misses": self.page_stats["misses"]}
            if sub == "/connections" and method == "GET":
                with self.log_lock:
                    return 200, json.loads(json.dumps(self.connections))
            if sub == "/faults" and method == "POST":
                rules = body.get("rules") if isinstance(body, dict) else body
                return 200, {"added": self.faults.add(rules)}
            if sub == "/faults" and method == "DELETE":
                self.faults.clear()
                return 200, {"rules": []}
            if sub == "/faults" and method == "GET":
                return 200, {"rules": self.faults.list()}
            if sub == "/config" and method == "GET":
                with st.lock:
                    return 200, json.loads(json.dumps(st.config))
            if sub == "/config" and method == "POST":
                if not isinstance(body, dict):
                    return 400, {"error": "body must be an object"}
                with st.lock:
                    new = {}
                    for k, v in body.items():
                        if k not in st.config:
                            return 400, {"error": "unknown setting %r" % k}
                        try:
                            if k == "required_fields":   # names need the new site_fields
                                continue
                            new[k] = config_value(k, v, st.config[k])
                        except ValueError as e:
                            return 400, {"error": str(e)}
                        except TypeError as e:
                            return 400, {"error": "%s: %s" % (k, e)}
                    if "required_fields" in body:
                        try:
                            new["required_fields"] = check_required_fields(
                                body["required_fields"],
                                new.get("site_fields", st.config["site_fields"]))
                        except (ValueError, TypeError) as e:
                            return 400, {"error": str(e)}
                    st.config.update(new)
                    if "site_resolutions" in new:
                        C.set_site_resolutions(new["site_resolutions"])
                    if "site_fields" in new:
                        C.set_site_fields(new["site_fields"])
                    st.changed()
                    return 200, json.loads(json.dumps(st.config))
            if sub == "/seed" and method == "POST":
                if not isinstance(body, dict) or not body.get("project"):
                    return 400, {"error": "project is required"}
                with st.lock:
                    res = seed.seed_project(st, str(body["project"]), int(body.get("count", 0)),
                                            body.get("done_every", 4), body.get("comments"),
                                            body.get("name"))
                return 200, res
            if sub == "/project" and method == "POST":
                if not isinstance(body, dict) or not body.get("key"):
                    return 400, {"error": "key is required"}
                with st.lock:
                    p = st.create_project(body["key"], body.get("name"), body.get("browse"),
                                          body.get("components"), body.get("lead", "alice"),
                                          body.get("description"))
                    return 200, self.render.project_full(p)
            if sub == "/issues" and method == "GET":
                with st.lock:
                    p = st.projects.get((q("project") or "").upper())
                    if p is None:
                        return 404, {"error": "no such project"}
                    sel = R.Selection([], "all")
                    return 200, [self.render.issue(i, sel) for i in p.issues]
            m = re.match(r"^/issue/([^/]+)$", sub)
            if m:
                key = unquote(m.group(1))
                with st.lock:
                    i = st.lookup_issue(key)
                    if i is None:
                        return 404, {"error": "no such issue"}
                    if method == "GET":
                        return 200, self.render.issue(i, R.Selection([], "all"),
                                                      props=["*all"])
                    if method == "POST":
                        if not isinstance(body, dict):
                            return 400, {"error": "body must be an object"}
                        st.overwrite_raw(i, body.get("fields"), body.get("comments"),
                                         body.get("properties"))
                        return 200, self.render.issue(i, R.Selection([], "all"),
                                                      props=["*all"])
                    if method == "DELETE":
                        st.delete_issue(i)
                        return 200, {"deleted": i.key}
            if sub == "/move" and method == "POST":
                with st.lock:
                    i = st.lookup_issue(body.get("key", ""))
                    p = st.projects.get(str(body.get("project", "")).upper())
                    if i is None or p is None:
                        return 404, {"error": "no such issue or project"}
                    old = i.key
                    st.move_issue(i, p)
                    return 200, {"old": old, "key": i.key}
            if sub == "/pat" and method == "POST":
                user = body.get("user", "alice") if isinstance(body, dict) else "alice"
                if user not in C.USERS:
                    return 400, {"error": "unknown user"}
                exp = body.get("expires_in") if isinstance(body, dict) else None
                import secrets
                tok = secrets.token_urlsafe(33)
                with st.lock:
                    st.tokens[tok] = [user, int(time.time() * 1000 + float(exp) * 1000)
                                      if exp is not None else None]
                return 200, {"token": tok, "user": user}
            if sub == "/reset-captcha" and method == "POST":
                with st.lock:
                    st.basic_failures.clear()
                return 200, {}
            if sub == "/state" and method == "GET":
                with st.lock:
                    return 200, {"projects": len(st.projects), "issues": len(st.issues),
                                 "comments": sum(len(i.comments) for i in st.issues.values()),
                                 "attachments": len(st.attachments),
                                 "filters": len(st.filters),
                                 "version": st.version}
            if sub == "/attachment" and method == "POST":
                return self.control_add_attachment(body if isinstance(body, dict) else {})
            m = re.match(r"^/attachment/(\d+)$", sub)
            if m:
                with st.lock:
                    a = st.attachments.get(int(m.group(1)))
                    if a is None:
                        return 404, {"error": "no such attachment"}
                    if method == "GET":
                        return 200, self.attachment_info(a)
                    if method == "DELETE":
                        st.delete_attachment(a)
                        return 200, {"deleted": a.id}
            if sub == "/filter" and method == "POST":
                b = body if isinstance(body, dict) else {}
                fav = b.get("favourite_of") or []
                if isinstance(fav, str):
                    fav = [fav]
                owner = b.get("owner") or "alice"
                with st.lock:
                    try:
                        f = st.add_filter(b.get("name"), b.get("jql") or "", owner, fav,
                                          b.get("description"), bool(b.get("shared")))
                    except ValueError as e:
                        return 400, {"error": str(e)}
                    j = self.render.filter(f, owner)
                    j["favourite_of"] = list(dict.fromkeys(
                        u for u in fav if f.id in st.favourites.get(u, ())))
                    return 200, j
            m = re.match(r"^/filter/(\d+)$", sub)
            if m and method == "DELETE":
                with st.lock:
                    f = st.filters.get(int(m.group(1)))
                    if f is None:
                        return 404, {"error": "no such filter"}
                    st.delete_filter(f)
                    return 200, {"deleted": f.id}
            if sub.startswith("/oauth1/") or sub.startswith("/oauth2/"):
                r = self.control_oauth(method, sub, body if isinstance(body, dict) else {})
                if r is not None:
                    return r
            if sub == "/save" and method == "POST":
                if not self.state_path:
                    return 400, {"error": "no --state file"}
                with st.lock:
                    st.save(self.state_path)
                return 200, {"saved": self.state_path}
        except F.FaultError as e:
            return 400, {"error": str(e)}
        except ApiError as e:
            return e.status, e.body()
        except (ValueError, TypeError, AttributeError, KeyError) as e:
            return 400, {"error": "%s: %s" % (type(e).__name__, e)}
        return 404, {"error": "no such control endpoint: %s %s" % (method, path)}


    def attachment_info(self, a):
        """/_emu/attachment/{id}: the bean plus what a test checks an upload against."""
        j = self.render.attachment(a)
        i = self.state.attachment_issue(a)
        j.update({"issue": i.key if i is not None else None,
                  "sha256": hashlib.sha256(a.content).hexdigest()})
        return j

    def control_add_attachment(self, b):
        """POST /_emu/attachment {key, filename, content_b64 | content (text, UTF-8) | size
        (+ pattern text or pattern_b64; default the 256 bytes 00..ff), mimeType?, author?,
        created?} -> the attachment's bean (plus issue and sha256)."""
        st = self.state
        if not b.get("key") or not isinstance(b.get("filename"), str) or not b["filename"]:
            return 400, {"error": "key and filename are required"}
        pattern = None
        if b.get("content_b64") is not None:
            content = base64.b64decode(b["content_b64"])
        elif b.get("content") is not None:
            content = str(b["content"]).encode("utf-8")
        elif b.get("size") is not None:
            if b.get("pattern_b64") is not None:
                pattern = base64.b64decode(b["pattern_b64"])
            elif b.get("pattern") is not None:
                pattern = str(b["pattern"]).encode("utf-8")
            else:
                pattern = DEFAULT_PATTERN
            pattern = pattern or b"\0"
            size = int(b["size"])
            if size < 0:
                return 400, {"error": "size must not be negative"}
            content = pattern_bytes(pattern, size)
        else:
            return 400, {"error": "content_b64, content or size is required"}
        author = b.get("author") or "alice"
        created = parse_date(b["created"]) if b.get("created") else None
        if b.get("created") and created is None:
            return 400, {"error": "created must be a date such as 2026-11-02T09:14:03.000+0000"}
        with st.lock:
            i = st.lookup_issue(b["key"])
            if i is None:
                return 404, {"error": "no such issue"}
            mime = b.get("mimeType") or self.suggested_mime(None, b["filename"])
            a = st.add_attachment(i, b["filename"], content, mime, author, created, pattern)
            return 200, self.attachment_info(a)

    def control_oauth(self, method, sub, body):
        """/_emu/oauth1/... and /_emu/oauth2/... -> (status, obj) or None."""
        st = self.state
        o = st.oauth
        g = body.get
        with st.lock:
            try:
                if sub == "/oauth1/consumer" and method == "POST":
                    return 200, o.add_consumer(g("consumer_key"), g("public_key"), g("name"))
                if sub == "/oauth1/authorize" and method == "POST":
                    return 200, o.approve1(g("token"), g("user") or "alice", bool(g("deny")))
                if sub == "/oauth1/token" and method == "POST":
                    life = g("expires_in")
                    if life is None:
                        life = st.config.get("oauth1_access_lifetime") or 157680000
                    return 200, o.mint_access1(g("consumer_key"), g("user") or "alice", life)
                if sub == "/oauth1/revoke" and method == "POST":
                    return 200, {"revoked": o.revoke1(g("token") or "")}
                if sub == "/oauth2/client" and method == "POST":
                    return 200, o.add_client(g("client_id"), g("client_secret"),
                                             g("redirect_uris") or g("redirect_uri"),
                                             g("scopes"), g("name"))
                if sub == "/oauth2/approve" and method == "POST":
                    return 200, o.approve2({k: v for k, v in body.items() if v is not None})
                if sub == "/oauth2/token" and method == "POST":
                    life = g("expires_in")
                    if life is None:
                        life = st.config.get("oauth2_access_lifetime") or 3600
                    scopes = g("scopes") or g("scope")
                    if isinstance(scopes, str):
                        scopes = scopes.split()
                    return 200, o.mint2(g("client_id"), g("user") or "alice", scopes, life,
                                        st.config.get("oauth2_refresh_lifetime") or 7776000)
                if sub == "/oauth2/revoke" and method == "POST":
                    return 200, {"revoked": o.revoke2(g("token") or "")}
                if sub == "/oauth2/tokens" and method == "GET":
                    return 200, o.counts2()
            except KeyError as e:
                return 404, {"error": str(e.args[0] if e.args else e)}
            except ValueError as e:
                return 400, {"error": str(e)}
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Jira-Emulator/10.3.4"
    timeout = 300

    def version_string(self):
        return self.server_version

    def setup(self):
        super().setup()
        # Headers and body leave in two writes: without TCP_NODELAY, Nagle
        # holds the body until the client's delayed ACK (40 ms), a stall
        # no real Jira (Tomcat) has, which every client would pay
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if not self.server.app.quiet:
            sys.stderr.write("emulator: %s - %s\n" % (self.address_string(),
                                                      oauth.redact_target(fmt % args)))

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > 256 * 1024 * 1024:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    _pending = None

    def flush_log(self):
        """Record the pending log entry before any byte of the answer leaves, so a client that
        has its answer always finds the request in the log."""
        entry, self._pending = self._pending, None
        if entry is not None:
            entry["duration_ms"] = int((time.time() - entry["time"]) * 1000)
            self.server.app.record(entry)

    def abort(self):
        self.flush_log()
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def send(self, status, headers, body, truncate=False):
        if self._pending is not None:
            self._pending["bytes"] = len(body)
        self.flush_log()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        n = len(body) // 2 if truncate else len(body)
        if n and self.command != "HEAD":
            if n <= STREAM_CHUNK:
                self.wfile.write(body[:n] if truncate else body)
            else:       # a large download: slices of a memoryview, never a copy
                view = memoryview(body)
                for off in range(0, n, STREAM_CHUNK):
                    self.wfile.write(view[off:min(off + STREAM_CHUNK, n)])
        if truncate:
            self.abort()

    def dispatch(self):
        app = self.server.app
        t0 = time.time()
        method = self.command
        target = self.path
        u = urlsplit(target)
        path = u.path
        query = parse_qs(u.query, keep_blank_values=True)
        try:
            body = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self.send(400, {"Content-Type": "text/plain"}, b"bad request body")
            return
        parsed_body = None
        raw_ctype = self.headers.get("Content-Type") or ""
        if body and raw_ctype.split(";")[0].strip().lower().startswith("multipart/"):
            # uploads are logged as their parts' names, file names, types and sizes
            parsed_body = MP.summarize(body, raw_ctype)
        elif body:
            try:
                parsed_body = json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                parsed_body = body.decode("utf-8", "replace")
                ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                if ctype == "application/x-www-form-urlencoded":
                    parsed_body = oauth.redact_form(parsed_body)

        if path == "/_emu" or path.startswith("/_emu/"):
            status, obj = app.control(method, path, query, parsed_body)
            self.send(status, {"Content-Type": JSON_TYPE}, encode_json(obj))
            return

        entry = {"method": method, "path": path,
                 "query": {k: (["<redacted>"] * len(v) if oauth.is_secret_key(k) else v)
                           for k, v in query.items()}, "status": None,
                 "user": None,
                 "auth": "anonymous", "body": _redact(parsed_body), "fault": None,
                 "fault_rule": None, "processed_status": None,
                 "headers": {h: self.headers.get(h) for h in SAFE_HEADERS
                             if self.headers.get(h) is not None},
                 "conn": "%s:%s" % tuple(self.client_address[:2]),
                 "time": t0}
        self._pending = entry
        try:
            self._rest(app, method, path, target, query, body, entry, u.query)
        finally:
            self.flush_log()

    def _rest(self, app, method, path, target, query, body, entry, raw_query=""):
        rule = app.faults.match(method, path, target) if path.startswith(FAULTABLE) else None
        latency = app.state.config.get("latency_ms") or 0
        if latency > 0:
            time.sleep(latency / 1000.0)
        a = rule.action if rule is not None else None
        if rule is not None:
            entry["fault"] = a
            entry["fault_rule"] = rule.seq
            if a == "latency" and not rule.after:
                time.sleep((rule.ms if rule.ms is not None else 1000) / 1000.0)
            elif a == "drop":
                self.abort()
                return
            elif a == "hang":
                rule.released.wait((rule.ms / 1000.0) if rule.ms else 600)
                self.abort()
                return
            elif a == "status":
                self.send_fault(rule, entry, 503, bool(rule.html))
                return
            elif a == "html":
                status = int(rule.status or 200)
                b = rule.body if isinstance(rule.body, str) else HTML_PAGE % (
                    "Log in - Jira", "Log in", "Your session has expired. Please log in again.")
                h = {"Content-Type": "text/html;charset=UTF-8"}
                if rule.retry_after is not None:
                    h["Retry-After"] = str(rule.retry_after)
                self.send(status, h, b.encode("utf-8"))
                entry["status"] = status
                return
        r = app.handle_rest(method, path, query, body, self.headers, raw_query,
                            "https" if self.server.ssl_ctx is not None else "http")
        entry["status"] = entry["processed_status"] = r.status
        entry["user"] = r.user
        entry["auth"] = r.auth
        if r.page_cache is not None:
            entry["page_cache"] = r.page_cache
        if a == "latency" and rule.after:     # committed; the answer comes late
            time.sleep((rule.ms if rule.ms is not None else 1000) / 1000.0)
        if a == "drop_after":
            self.abort()
            return
        if a == "status_after":
            # Jira did the work (the create, comment or transition is committed), but the
            # reverse proxy in front of it gave up waiting and answers in its own name
            self.send_fault(rule, entry, 502, rule.html is None or bool(rule.html))
            return
        h = dict(r.headers)
        h["X-AREQUESTID"] = "%dx%dx1" % ((int(time.time()) // 60) % 1440, next(app.req_counter))
        h.setdefault("Cache-Control", "no-cache, no-store, no-transform")
        h["X-Content-Type-Options"] = "nosniff"
        self.send(r.status, h, r.body, truncate=a == "truncate")

    def send_fault(self, rule, entry, default_status, as_html):
        """An error answer that is not Jira's (no X-AREQUESTID): for status_after the page a
        reverse proxy such as nginx serves (``<center><h1>502 Bad Gateway</h1></center>``),
        for status a Tomcat-like one; or a Jira-shaped JSON error."""
        status = int(rule.status or default_status)
        h = {}
        if rule.retry_after is not None:
            h["Retry-After"] = str(rule.retry_after)
        if as_html:
            if isinstance(rule.body, str):
                b = rule.body
            elif rule.action == "status_after":
                b = proxy_page(status)
            else:
                b = HTML_PAGE % ("%d Error" % status, "HTTP Status %d" % status,
                                 "The server is temporarily unable to service your request.")
            h["Content-Type"] = "text/html;charset=UTF-8" if rule.action == "status" \
                else "text/html"
            self.send(status, h, b.encode("utf-8"))
        else:
            h["Content-Type"] = JSON_TYPE
            obj = rule.body if rule.body is not None else {
                "errorMessages": ["Injected fault: HTTP %d" % status], "errors": {}}
            self.send(status, h, encode_json(obj))
        entry["status"] = status


class EmuServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, app, ssl_ctx=None, peer_exes=None):
        self.app = app
        self.ssl_ctx = ssl_ctx
        self.peer_exes = peer_exes   # None, or the programs allowed to connect
        super().__init__(addr, Handler)

    def verify_request(self, request, client_address):
        if not self.peer_exes:
            return True
        try:
            server = request.getsockname()
        except OSError:
            server = None
        exe = peers.peer_exe(client_address, server)
        ok = exe in self.peer_exes
        with self.app.log_lock:
            c = self.app.connections
            if exe is None:     # closed by the peer before it was accepted
                c["vanished"] += 1
            else:
                c["accepted" if ok else "refused"] += 1
            if exe is not None and not ok:
                c["refused_from"][exe] = c["refused_from"].get(exe, 0) + 1
        return ok

    def finish_request(self, request, client_address):
        if self.ssl_ctx is None:
            return super().finish_request(request, client_address)
        try:
            request.settimeout(30)
            sslsock = self.ssl_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            try:
                request.close()
            except OSError:
                pass
            return
        try:
            sslsock.settimeout(None)
            self.RequestHandlerClass(sslsock, client_address, self)
        except (ssl.SSLError, OSError):
            pass
        finally:
            try:
                sslsock.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, TimeoutError)):
            return
        super().handle_error(request, client_address)
