"""Authentication as Jira Server/DC does it (Seraph).

- ``Authorization: Bearer <PAT>``: a valid, unexpired token authenticates its user. A wrong or
  expired token does NOT fail the request: it runs as anonymous and the answer carries
  ``X-Seraph-LoginReason: AUTHENTICATED_FAILED`` and ``X-AUSERNAME: anonymous``.
- ``Authorization: Basic``: right password -> user (resets the failure counter); wrong
  password or unknown user -> 401 with ``X-Seraph-LoginReason: AUTHENTICATED_FAILED``; after
  3 consecutive failures for a user every Basic request for that user answers 403 with
  ``X-Seraph-LoginReason: AUTHENTICATION_DENIED`` and ``X-Authentication-Denied-Reason:
  CAPTCHA_CHALLENGE; login-url=<base>/login.jsp`` (until POST /_emu/reset-captcha).
- Basic disabled (config ``basic_auth: false``): any Basic request answers 401 with
  ``X-Seraph-LoginReason: AUTHENTICATION_DENIED`` and the Jira-shaped error
  ``{"errorMessages": ["Basic authentication is disabled"], "errors": {}}`` (no
  X-Authentication-Denied-Reason header, which is what tells it apart from the CAPTCHA case).
- ``Authorization: OAuth ...`` (or oauth_* parameters in the query string): an OAuth 1.0a
  request signed with RSA-SHA1 and an access token (see oauth.py); a problem answers 401 with
  ``WWW-Authenticate: OAuth realm="<base>", oauth_problem="..."`` and a form-encoded body.
- ``Authorization: Bearer <token>`` that is not a PAT but an OAuth 2.0 access token issued by
  /rest/oauth2/latest/token: a live one authenticates its user (with its scopes); an expired or
  revoked one answers 401 with ``WWW-Authenticate: Bearer realm="<base>",
  error="invalid_token"``. A token unknown to both stores is a bad PAT (anonymous).
- Anything else (no header, other schemes) is anonymous.
- config ``server_version`` below 8.14: Personal Access Tokens do not exist (they came with
  Jira Server 8.14: Atlassian's "Using personal access tokens"; pycontribs/jira#993 "In JIRA
  Server 8.14 ... atlassian has (finally) added tokens"), so ``Bearer`` is a scheme no
  authenticator of that Jira reads: the header is ignored and the request runs as anonymous,
  as with any other unknown scheme (no X-Seraph-LoginReason, since nothing tried to log in;
  e.g. GET myself answers 401 "You are not authenticated..."). This is inferred from how
  Seraph treats schemes it does not know, not observed on such a Jira. Below 8.22 the OAuth
  2.0 provider does not exist either (it came with 8.22: matrix-org/matrix-hookshot#225,
  demisto/content#28639): a Bearer OAuth 2.0 access token is then just an unknown PAT
  (anonymous, AUTHENTICATED_FAILED).
"""

import base64
import binascii
import time

import catalog as C
import oauth

CAPTCHA_AFTER = 3


class AuthResult:
    __slots__ = ("user", "kind", "headers", "error", "scopes")

    def __init__(self, user=None, kind="anonymous", headers=None, error=None, scopes=None):
        self.user = user
        self.kind = kind
        self.headers = headers or {}
        self.error = error   # (status, body dict or bytes, headers) or None
        self.scopes = scopes  # OAuth 2.0: the granted scopes (implied ones included); else None


def _err(status, msg, reason, extra=None):
    h = {"X-Seraph-LoginReason": reason, "X-AUSERNAME": "anonymous"}
    if extra:
        h.update(extra)
    return (status, {"errorMessages": [msg], "errors": {}}, h)


def _oauth1(state, req):
    try:
        user = state.oauth.authenticate1(req, state.base)
    except oauth.Problem as p:
        status, h, body = p.answer(state.base)
        return AuthResult(None, "oauth1", error=(status, body, h))
    return AuthResult(user, "oauth1", {"X-AUSERNAME": user})


def authenticate(state, header, req=None):
    """header: the Authorization header value or None; req: an oauth.Req (needed to check
    OAuth 1.0a signatures). Caller holds state.lock."""
    if not header:
        if req is not None and "oauth_consumer_key=" in req.raw_query:
            return _oauth1(state, req)
        return AuthResult(headers={"X-AUSERNAME": "anonymous"})
    scheme, _, cred = header.strip().partition(" ")
    scheme = scheme.lower()
    cred = cred.strip()
    if scheme == "oauth" and req is not None:
        return _oauth1(state, req)
    if scheme == "bearer":
        if not state.server_at_least(8, 14):
            return AuthResult(headers={"X-AUSERNAME": "anonymous"})
        tok = state.tokens.get(cred)
        if tok is not None:
            user, expires = tok
            if expires is None or expires > time.time() * 1000:
                return AuthResult(user, "pat", {"X-AUSERNAME": user})
        elif cred and state.server_at_least(8, 22):
            b = state.oauth.bearer(cred)
            if b is not None and b[0] == "ok":
                return AuthResult(b[1], "oauth2", {"X-AUSERNAME": b[1]}, scopes=b[2])
            if b is not None:
                realm = state.base.replace('"', "")
                return AuthResult(None, "oauth2", error=(401, {
                    "errorMessages": [b[1]], "errors": {}}, {
                    "WWW-Authenticate": 'Bearer realm="%s", error="invalid_token", '
                                        'error_description="%s"' % (realm, b[1]),
                    "X-AUSERNAME": "anonymous"}))
        return AuthResult(None, "anonymous", {"X-AUSERNAME": "anonymous",
                                              "X-Seraph-LoginReason": "AUTHENTICATED_FAILED"})
    if scheme == "basic":
        if not state.config.get("basic_auth", True):
            return AuthResult(None, "basic", error=_err(
                401, "Basic authentication is disabled", "AUTHENTICATION_DENIED"))
        try:
            raw = base64.b64decode(cred, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raw = ""
        name, sep, password = raw.partition(":")
        if not sep:
            return AuthResult(None, "basic", error=_err(
                401, "You are not authenticated. Authentication required to perform this "
                "operation.", "AUTHENTICATED_FAILED"))
        if state.basic_failures.get(name, 0) >= CAPTCHA_AFTER:
            return AuthResult(None, "basic", error=_err(
                403, "CAPTCHA_CHALLENGE", "AUTHENTICATION_DENIED",
                {"X-Authentication-Denied-Reason":
                 "CAPTCHA_CHALLENGE; login-url=%s/login.jsp" % state.base}))
        info = C.USERS.get(name)
        if info is not None and password == info[3]:
            state.basic_failures.pop(name, None)
            return AuthResult(name, "basic", {"X-AUSERNAME": name})
        state.basic_failures[name] = state.basic_failures.get(name, 0) + 1
        return AuthResult(None, "basic", error=_err(
            401, "You are not authenticated. Authentication required to perform this "
            "operation.", "AUTHENTICATED_FAILED",
            {"WWW-Authenticate": 'OAuth realm="%s"' % state.base.replace('"', "")}))
    return AuthResult(headers={"X-AUSERNAME": "anonymous"})
