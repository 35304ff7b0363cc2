"""Client for the Jira emulator, for pytest, the benchmark and the demo (standard library only).

    import sys; sys.path.insert(0, "tests/emulator")
    from control import Emulator

    emu = Emulator.start(tmp_path, seed_projects=["SEC:2500"], max_results=100)
    emu.url, emu.port, emu.ca_path        # ca_path only with tls=True
    emu.add_faults([{"path": "/rest/api/2/search", "action": "status", "status": 503,
                     "count": 1}])
    emu.requests()                         # the request log
    emu.stop()

This module imports nothing from the emulator itself, so it never clashes with other modules.
"""

import base64
import json
import os
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
DEFAULT_TOKEN = "alice-pat"


def max_overlap(requests):
    """The most of these logged requests the emulator was serving at once."""
    events = []
    for r in requests:
        events += [(r["time"], 1), (r["time"] + r["duration_ms"] / 1000.0, -1)]
    events.sort(key=lambda e: (e[0], e[1]))
    cur = best = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


class EmulatorError(RuntimeError):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def multipart_body(files, boundary=None):
    """A multipart/form-data body -> (bytes, content_type). files: [(filename, data[,
    content_type[, field]])]; a quote or CR/LF in the file name is percent-encoded, as
    browsers and urllib3 do; filename None makes a plain form field."""
    boundary = boundary or "----emu" + uuid.uuid4().hex
    out = []
    for f in files:
        filename, data = f[0], f[1]
        ctype = f[2] if len(f) > 2 else "application/octet-stream"
        field = f[3] if len(f) > 3 else "file"
        if isinstance(data, str):
            data = data.encode("utf-8")
        disp = 'form-data; name="%s"' % field
        if filename is not None:
            disp += '; filename="%s"' % filename.replace('"', "%22").replace(
                "\r", "%0D").replace("\n", "%0A")
        out.append(("--%s\r\nContent-Disposition: %s\r\n" % (boundary, disp)).encode("utf-8"))
        if ctype:
            out.append(("Content-Type: %s\r\n" % ctype).encode("utf-8"))
        out += [b"\r\n", bytes(data), b"\r\n"]
    out.append(("--%s--\r\n" % boundary).encode("ascii"))
    return b"".join(out), "multipart/form-data; boundary=%s" % boundary


class Response:
    """A REST answer: status, headers (case-insensitive get), body (bytes), json (or None)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body.decode("utf-8")) if body else None
        except (ValueError, UnicodeDecodeError):
            self.json = None

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.body[:200])


class Emulator:
    def __init__(self, workdir, argv, port, tls_dir, state_path, log_path, proc):
        self.workdir = workdir
        self.argv = argv
        self.port = port
        self.tls_dir = tls_dir
        self.ca_path = os.path.join(tls_dir, "ca.pem") if tls_dir else None
        self.state_path = state_path
        self.log_path = log_path
        self.proc = proc
        self.token = DEFAULT_TOKEN
        self._ssl = None

    # ------------------------------------------------------------------ process
    @classmethod
    def start(cls, tmpdir, tls=False, max_results=None, seed_projects=(), seed=None,
              latency_ms=None, state=True, port=0, quiet=True, extra_args=(), timeout=30,
              indexed_properties=(), search_comments_max=None, fast_pages=False):
        """Start an emulator subprocess and wait until it listens.

        tmpdir: working directory (port file, log, state, TLS files go there).
        tls: False, True (certificates in tmpdir/tls) or a directory for them.
        seed_projects: "KEY:N[:DONE_EVERY]" strings or (key, n[, done_every]) tuples.
        seed: "demo" for the SEC/OPS/WEB sample projects.
        state: True (tmpdir/emulator-state.json), a path, or False for no --state.
        indexed_properties: issue property keys JQL may search (--indexed-property; stock
        Jira: none, and an issue.property[...] clause answers 400).
        search_comments_max: at most this many comments per issue in search answers.
        fast_pages: fast page mode (--fast-pages): each search answer rendered once and its
        bytes served from memory until the next change (see page_cache()).
        """
        workdir = os.path.abspath(str(tmpdir))
        os.makedirs(workdir, exist_ok=True)
        tag = uuid.uuid4().hex[:8]
        args = []
        tls_dir = None
        if tls:
            tls_dir = os.path.join(workdir, "tls") if tls is True else os.path.abspath(str(tls))
            args += ["--tls", tls_dir]
        if max_results is not None:
            args += ["--max-results", str(int(max_results))]
        if latency_ms is not None:
            args += ["--latency-ms", str(int(latency_ms))]
        if isinstance(indexed_properties, str):
            indexed_properties = [indexed_properties]
        for key in indexed_properties or ():
            args += ["--indexed-property", str(key)]
        if search_comments_max is not None:
            args += ["--search-comments-max", str(int(search_comments_max))]
        if fast_pages:
            args.append("--fast-pages")
        if seed:
            args += ["--seed", seed]
        for sp in seed_projects or ():
            if not isinstance(sp, str):
                sp = ":".join(str(x) for x in sp)
            args += ["--seed-project", sp]
        state_path = None
        if state:
            state_path = os.path.join(workdir, "emulator-state.json") if state is True \
                else os.path.abspath(str(state))
            args += ["--state", state_path]
        if quiet:
            args.append("--quiet")
        args += [str(a) for a in extra_args or ()]
        log_path = os.path.join(workdir, "emulator-%s.log" % tag)
        emu = cls(workdir, args, None, tls_dir, state_path, log_path, None)
        emu._tag = tag
        emu._launch(port, timeout)
        return emu

    def _launch(self, port, timeout):
        port_file = os.path.join(self.workdir, "emulator-%s.port" % self._tag)
        try:
            os.unlink(port_file)
        except FileNotFoundError:
            pass
        argv = [PYTHON, HERE, "--port", str(port), "--port-file", port_file] + self.argv
        deadline = time.time() + timeout
        while True:
            log = open(self.log_path, "ab")
            try:
                self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=log, cwd=self.workdir)
            finally:
                log.close()
            while time.time() < deadline:
                if os.path.exists(port_file):
                    with open(port_file) as f:
                        text = f.read().strip()
                    if text:
                        self.port = int(text)
                        self._ssl = None
                        return
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
            if self.proc.poll() is None:
                self.kill()
                raise EmulatorError("emulator did not start within %ss; log: %s"
                                    % (timeout, self._log_tail()))
            # exited: a fixed port may still be held by the previous process; retry
            if port and time.time() < deadline and b"Address already in use" in \
                    self._log_tail().encode():
                time.sleep(0.2)
                continue
            raise EmulatorError("emulator exited with %s; log: %s"
                                % (self.proc.returncode, self._log_tail()))

    def _log_tail(self, n=3000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    @property
    def scheme(self):
        return "https" if self.tls_dir else "http"

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.port)

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=15):
        """SIGTERM (state is saved), wait; -> exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self):
        """SIGKILL (nothing saved), wait; -> exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        return self.proc.returncode

    def restart(self, timeout=30):
        """Stop (saving state) and start again on the same port with the same options."""
        if self.alive:
            self.stop()
        self._launch(self.port, timeout)
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------ HTTP
    def ssl_context(self):
        if not self.tls_dir:
            return None
        if self._ssl is None:
            self._ssl = ssl.create_default_context(cafile=self.ca_path)
        return self._ssl

    def http(self, method, path, body=None, headers=None, timeout=30, follow_redirects=True):
        """Raw request to path (absolute path with query) -> Response. Never raises on status.
        body: bytes (sent as is), a str with a form Content-Type header (sent as UTF-8 text),
        anything else (sent as JSON; a str becomes a JSON string). follow_redirects=False
        answers a 3xx as it is."""
        data = body
        ctype = {k.lower(): v for k, v in (headers or {}).items()}.get("content-type", "")
        if isinstance(body, str) and ctype.lower().startswith(
                "application/x-www-form-urlencoded"):
            data = body.encode("utf-8")
        elif body is not None and not isinstance(body, (bytes, bytearray)):
            data = json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers=dict(headers or {}))
        try:
            if follow_redirects:
                r = urllib.request.urlopen(req, timeout=timeout, context=self.ssl_context())
            else:
                opener = urllib.request.build_opener(
                    _NoRedirect, urllib.request.HTTPSHandler(context=self.ssl_context()))
                r = opener.open(req, timeout=timeout)
            with r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def rest(self, method, path, body=None, token=DEFAULT_TOKEN, basic=None, headers=None,
             query=None, content_type="application/json", timeout=30):
        """REST call. path is relative to /rest/api/2 unless it starts with '/'.
        token: PAT (None: no Bearer); basic: (user, password) instead."""
        if not path.startswith("/"):
            path = "/rest/api/2/" + path
        if query:
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(query, doseq=True)
        h = {"Accept": "application/json"}
        if body is not None and content_type:
            h["Content-Type"] = content_type
        if basic is not None:
            h["Authorization"] = "Basic " + base64.b64encode(
                ("%s:%s" % tuple(basic)).encode()).decode()
        elif token:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        return self.http(method, path, body, h, timeout)

    def _ctl(self, method, path, body=None, ok404=False):
        r = self.http(method, "/_emu" + path, body,
                      {"Content-Type": "application/json"} if body is not None else {})
        if r.status == 404 and ok404:
            return None
        if r.status >= 400:
            raise EmulatorError("%s /_emu%s -> %d %s" % (method, path, r.status, r.body[:500]))
        return r.json

    # ------------------------------------------------------------------ control API
    def requests(self, since=0, method=None, path=None, faulted=None):
        """Logged REST requests with seq >= since, optionally filtered by method, path
        prefix and faulted (True: a fault rule was applied, False: none was). Entries: seq,
        method, path, query, status, processed_status, user, auth, body, fault (the applied
        action or None), fault_rule (its id or None), headers, conn, time, duration_ms,
        bytes (of the answer's body, absent when none was sent), and for a search in fast
        page mode page_cache ("hit": served pre-rendered, "miss": rendered)."""
        out = self._ctl("GET", "/requests?since=%d" % since)["requests"]
        return [e for e in out if (method is None or e["method"] == method)
                and (path is None or e["path"].startswith(path))
                and (faulted is None or bool(e.get("fault")) == faulted)]

    def mark(self):
        """The seq the next logged request will get (use as requests(since=...))."""
        return self._ctl("GET", "/requests?since=%d" % (1 << 62))["next"]

    request_seq = mark

    def page_cache(self, clear=False):
        """Fast page mode: {"enabled", "pages", "bytes" (held now), "hits", "misses"
        (since the start)}; clear=True drops the pages held."""
        return self._ctl("DELETE" if clear else "GET", "/pages")

    def connections(self):
        """{"accepted", "refused", "refused_from": {exe: n}} under --peer-exe."""
        return self._ctl("GET", "/connections")

    def clear_requests(self):
        self._ctl("DELETE", "/requests")

    def add_faults(self, rules):
        if isinstance(rules, dict):
            rules = [rules]
        return self._ctl("POST", "/faults", {"rules": list(rules)})["added"]

    def faults(self):
        return self._ctl("GET", "/faults")["rules"]

    def clear_faults(self):
        self._ctl("DELETE", "/faults")

    def config(self, **kw):
        """Change settings (max_results, latency_ms, basic_auth, indexed_properties,
        search_comments_max, ignore_transitions, fast_pages, oauth1_auto_approve_user,
        oauth1_access_lifetime, oauth2_auto_approve_user, oauth2_access_lifetime,
        oauth2_refresh_lifetime, site_resolutions, attachments_enabled,
        attachment_upload_limit, attachment_create_denied, attachment_too_large_status,
        attachment_ranges, administrators, permissions_denied, mypermissions_keys_required,
        mypermissions_anonymous, server_version, deployment_type, site_fields,
        required_fields);
        -> the current settings."""
        if not kw:
            return self._ctl("GET", "/config")
        return self._ctl("POST", "/config", kw)

    def seed(self, project, count, done_every=4, comments=None, name=None):
        body = {"project": project, "count": count, "done_every": done_every}
        if comments is not None:
            body["comments"] = comments
        if name is not None:
            body["name"] = name
        return self._ctl("POST", "/seed", body)

    def create_project(self, key, name=None, browse=None, components=None):
        body = {"key": key}
        if name is not None:
            body["name"] = name
        if browse is not None:
            body["browse"] = list(browse)
        if components is not None:
            body["components"] = list(components)
        return self._ctl("POST", "/project", body)

    def issues(self, project):
        return self._ctl("GET", "/issues?project=%s" % urllib.parse.quote(project))

    def issue(self, key):
        """The issue as GET /rest/api/2/issue/{key} returns it (plus "properties"), or None."""
        return self._ctl("GET", "/issue/%s" % urllib.parse.quote(key), ok404=True)

    def set_issue(self, key, fields=None, comments=None, properties=None):
        body = {}
        if fields is not None:
            body["fields"] = fields
        if comments is not None:
            body["comments"] = comments
        if properties is not None:
            body["properties"] = properties
        return self._ctl("POST", "/issue/%s" % urllib.parse.quote(key), body)

    def delete_issue(self, key):
        return self._ctl("DELETE", "/issue/%s" % urllib.parse.quote(key))

    def move_issue(self, key, project):
        return self._ctl("POST", "/move", {"key": key, "project": project})["key"]

    def new_pat(self, user="alice", expires_in=None):
        body = {"user": user}
        if expires_in is not None:
            body["expires_in"] = expires_in
        return self._ctl("POST", "/pat", body)["token"]

    def reset_captcha(self):
        self._ctl("POST", "/reset-captcha", {})

    def state(self):
        return self._ctl("GET", "/state")

    def save(self):
        return self._ctl("POST", "/save", {})

    # ------------------------------------------------------------------ attachments, filters
    def add_attachment(self, key, filename, content=None, size=None, pattern=None,
                       mime_type=None, author=None, created=None):
        """Attach a file to an issue directly (as if someone uploaded it in Jira); content:
        bytes (or a str, UTF-8), or size with an optional pattern (bytes or str; default the
        256 bytes 00..ff) for big ones. -> the attachment's bean plus "issue" and "sha256"."""
        body = {"key": key, "filename": filename}
        if content is not None:
            if isinstance(content, str):
                content = content.encode("utf-8")
            body["content_b64"] = base64.b64encode(bytes(content)).decode("ascii")
        elif size is not None:
            body["size"] = int(size)
            if pattern is not None:
                if isinstance(pattern, str):
                    pattern = pattern.encode("utf-8")
                body["pattern_b64"] = base64.b64encode(bytes(pattern)).decode("ascii")
        if mime_type is not None:
            body["mimeType"] = mime_type
        if author is not None:
            body["author"] = author
        if created is not None:
            body["created"] = created
        return self._ctl("POST", "/attachment", body)

    def attachment_info(self, aid):
        """The attachment's bean plus "issue" and "sha256" of its content, or None."""
        return self._ctl("GET", "/attachment/%s" % aid, ok404=True)

    def delete_attachment_raw(self, aid):
        """Remove an attachment behind the client's back (someone deleted it in Jira)."""
        return self._ctl("DELETE", "/attachment/%s" % aid)

    def add_filter(self, name, jql, owner="alice", favourite_of=None, description=None,
                   shared=False):
        """A saved filter; favourite_of: users whose favourite it is (they can see it).
        -> the FilterBean as its owner sees it, plus "favourite_of"."""
        body = {"name": name, "jql": jql, "owner": owner,
                "favourite_of": list(favourite_of or ()), "shared": bool(shared)}
        if description is not None:
            body["description"] = description
        return self._ctl("POST", "/filter", body)

    def delete_filter(self, fid):
        return self._ctl("DELETE", "/filter/%s" % fid)

    def upload(self, key, files, token=DEFAULT_TOKEN, xsrf=True, headers=None, basic=None,
               timeout=60):
        """POST issue/{key}/attachments with a multipart body. files: [(filename, bytes[,
        content_type[, field]])] (content_type default application/octet-stream, field
        "file"); xsrf: send X-Atlassian-Token: no-check. -> Response."""
        body, ctype = multipart_body(files)
        h = {"Content-Type": ctype}
        if xsrf:
            h["X-Atlassian-Token"] = "no-check"
        h.update(headers or {})
        return self.rest("POST", "issue/%s/attachments" % urllib.parse.quote(key), body,
                         token=token, basic=basic, headers=h, content_type=None,
                         timeout=timeout)

    def download(self, url_or_id, token=DEFAULT_TOKEN, headers=None, timeout=60):
        """GET an attachment's content URL (or /secure/attachment/{id}/x for an id), with the
        PAT; -> Response (never follows redirects)."""
        path = str(url_or_id)
        if path.isdigit():
            path = "/secure/attachment/%s/x" % path
        elif path.startswith("http"):
            path = urllib.parse.urlsplit(path)._replace(scheme="", netloc="").geturl()
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        return self.http("GET", path, None, h, timeout, follow_redirects=False)

    def my_permissions(self, project_key=None, project_id=None, issue_key=None,
                       issue_id=None, permissions=None, token=DEFAULT_TOKEN, basic=None):
        """GET mypermissions with the given context; permissions: a list (sent comma
        separated) or a string, sent as is (DC ignores it). -> Response."""
        q = {}
        for name, v in (("projectKey", project_key), ("projectId", project_id),
                        ("issueKey", issue_key), ("issueId", issue_id)):
            if v is not None:
                q[name] = str(v)
        if permissions is not None:
            q["permissions"] = permissions if isinstance(permissions, str) else \
                ",".join(permissions)
        return self.rest("GET", "mypermissions", token=token, basic=basic, query=q or None)

    # ------------------------------------------------------------------ OAuth 1.0a
    def oauth1_consumer(self, key, public_pem, name=None):
        """Register an application-link consumer with its RSA public key (PEM, or bare base64
        DER); -> {"consumer_key", "name"}."""
        body = {"consumer_key": key, "public_key": public_pem}
        if name is not None:
            body["name"] = name
        return self._ctl("POST", "/oauth1/consumer", body)

    def oauth1_authorize(self, token, user="alice", deny=False):
        """The user approves (or denies) a request token; -> the verifier (None if denied)."""
        r = self._ctl("POST", "/oauth1/authorize", {"token": token, "user": user,
                                                    "deny": bool(deny)})
        return r.get("verifier")

    def oauth1_token(self, consumer_key, user="alice", expires_in=None):
        """An access token minted directly (no dance); -> {"token", "secret",
        "session_handle", "expires_in", "user"}."""
        body = {"consumer_key": consumer_key, "user": user}
        if expires_in is not None:
            body["expires_in"] = expires_in
        return self._ctl("POST", "/oauth1/token", body)

    def oauth1_revoke(self, token):
        """Revoke a request or access token; -> True if it existed."""
        return self._ctl("POST", "/oauth1/revoke", {"token": token})["revoked"]

    # ------------------------------------------------------------------ OAuth 2.0
    def oauth2_client(self, client_id, secret, redirect_uris, scopes=("READ", "WRITE"),
                      name=None):
        """Register an incoming application link; -> {"client_id", "name", "redirect_uris",
        "scopes"}."""
        if isinstance(redirect_uris, str):
            redirect_uris = [redirect_uris]
        body = {"client_id": client_id, "client_secret": secret,
                "redirect_uris": list(redirect_uris), "scopes": list(scopes)}
        if name is not None:
            body["name"] = name
        return self._ctl("POST", "/oauth2/client", body)

    def oauth2_approve(self, client_id, redirect_uri, state=None, code_challenge=None,
                       code_challenge_method="S256", scope=None, user="alice", deny=False):
        """The user approves an authorization request (the parameters of GET
        /rest/oauth2/latest/authorize); -> the Location the browser would be sent to
        ("<redirect_uri>?code=...&state=..." or "...?error=...")."""
        body = {"client_id": client_id, "redirect_uri": redirect_uri, "user": user,
                "response_type": "code"}
        if state is not None:
            body["state"] = state
        if code_challenge is not None:
            body["code_challenge"] = code_challenge
            body["code_challenge_method"] = code_challenge_method
        if scope is not None:
            body["scope"] = scope if isinstance(scope, str) else " ".join(scope)
        if deny:
            body["deny"] = True
        return self._ctl("POST", "/oauth2/approve", body)["location"]

    def oauth2_token(self, client_id, user="alice", scopes=None, expires_in=None):
        """Tokens minted directly (no dance); -> the token endpoint's JSON."""
        body = {"client_id": client_id, "user": user}
        if scopes is not None:
            body["scopes"] = [scopes] if isinstance(scopes, str) else list(scopes)
        if expires_in is not None:
            body["expires_in"] = expires_in
        return self._ctl("POST", "/oauth2/token", body)

    def oauth2_revoke(self, token):
        """Revoke an access or refresh token; -> True if it existed."""
        return self._ctl("POST", "/oauth2/revoke", {"token": token})["revoked"]

    def oauth2_tokens(self):
        """{"access": live access tokens, "refresh": live refresh tokens, "codes": unused
        codes, "issued": token pairs issued, "refreshes": refresh grants served}."""
        return self._ctl("GET", "/oauth2/tokens")
