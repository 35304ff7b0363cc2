"""OAuth as Jira Server/DC does it.

OAuth 1.0a (application links): RSA-SHA1 request signing per RFC 5849, the three-legged dance
under /plugins/servlet/oauth/ (request-token, authorize, access-token, plus session renewal),
REST requests signed with an access token, failures answered the net.oauth way (401,
``WWW-Authenticate: OAuth realm=..., oauth_problem=...`` and a form-encoded body).

OAuth 2.0 (Jira 8.22+ incoming application links; none with an older config
server_version): authorization-code grant with PKCE under /rest/oauth2/latest/ (authorize,
token), rotating refresh tokens, bearer access tokens with READ/WRITE/ADMIN/SYSTEM_ADMIN
scopes.

Pure logic: no HTTP here. Callers hold ``State.lock``; endpoint functions return
``(status, headers, body_bytes)``.
"""

import base64
import hashlib
import hmac
import html
import json
import math
import re
import secrets
import string
import time
from urllib.parse import quote, unquote, unquote_plus, urlencode, urlsplit

import catalog as C

FORM_TYPE = "application/x-www-form-urlencoded"
FORM_CTYPE = FORM_TYPE + ";charset=UTF-8"
HTML_CTYPE = "text/html;charset=UTF-8"
JSON_CTYPE = "application/json;charset=UTF-8"

TIMESTAMP_WINDOW = 300          # seconds either side of now (net.oauth's default)
REQUEST_TOKEN_TTL = 600         # an unexchanged request token lives 10 minutes
SESSION_EXTRA = 30 * 86400      # oauth_authorization_expires_in = lifetime + 30 days
CODE_TTL = 600                  # OAuth 2.0 authorization codes: 10 minutes
TOMBSTONE_TTL = 7 * 86400       # dead OAuth 2.0 tokens are remembered this long

SCOPE_ORDER = ["READ", "WRITE", "ADMIN", "SYSTEM_ADMIN"]   # each implies the ones before it

OAUTH1_SECRET_KEYS = ("oauth_signature", "oauth_token", "oauth_token_secret", "oauth_verifier",
                      "oauth_session_handle")
OAUTH2_SECRET_KEYS = ("code", "code_verifier", "client_secret", "refresh_token",
                      "access_token", "id_token", "client_assertion")
SECRET_KEYS = frozenset(OAUTH1_SECRET_KEYS + OAUTH2_SECRET_KEYS)


def is_secret_key(name):
    if not isinstance(name, str):
        return False
    n = name.lower()
    return n in SECRET_KEYS or "password" in n or "secret" in n


def redact_form(text):
    """A form-encoded string with the values of secret keys replaced."""
    out = []
    for part in text.split("&"):
        name, sep, _ = part.partition("=")
        if sep and is_secret_key(unquote_plus(name)):
            part = name + "=<redacted>"
        out.append(part)
    return "&".join(out)


_SECRET_IN_TARGET = re.compile(r"([?&](?:%s)=)[^&\s]*" % "|".join(
    re.escape(k) for k in sorted(SECRET_KEYS)), re.I)


def redact_target(text):
    """Redact secret query values in a request line (for the stderr access log)."""
    return _SECRET_IN_TARGET.sub(r"\1<redacted>", text)


def now():
    return time.time()


def _h(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def _alnum(n):
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


# =================================================================== RFC 5849 helpers
def pct(s):
    """RFC 5849 section 3.6: UTF-8, then percent-encode everything but ALPHA DIGIT - . _ ~
    (upper-case hex)."""
    if not isinstance(s, (str, bytes)):
        s = str(s)
    if isinstance(s, str):
        s = s.encode("utf-8")
    return quote(s, safe="-._~")


def form_decode(text):
    """application/x-www-form-urlencoded (as RFC 5849 3.4.1.3.1 reads it) -> [(name, value)].
    '+' is a space, a part without '=' has an empty value, empty parts are skipped."""
    out = []
    if not text:
        return out
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        out.append((unquote_plus(name), unquote_plus(value)))
    return out


_AUTH_PARAM = re.compile(r'\s*([^\s=,]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)')


def parse_oauth_header(value):
    """'OAuth realm="x", oauth_consumer_key="k", ...' -> [(name, value)] in order, values
    percent-decoded (realm included; the caller drops it). None if the scheme is not OAuth."""
    if not value:
        return None
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "oauth":
        return None
    out = []
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        m = _AUTH_PARAM.match(rest, pos)
        if not m or m.end() == pos:
            raise Problem("parameter_rejected", "Malformed OAuth Authorization header")
        name = m.group(1)
        raw = m.group(2) if m.group(2) is not None else m.group(3)
        out.append((name, unquote(raw.replace('\\"', '"'))))
        pos = m.end()
    return out


_HOST_RE = re.compile(r"^(\[[^\]]*\]|[^:]*)(?::(\d*))?$")


def base_string_uri(scheme, host, path):
    """RFC 5849 3.4.1.2: lower-case scheme and host, the port only when it is not the default
    one of the scheme, the path as sent (no query, no fragment)."""
    scheme = (scheme or "http").lower()
    m = _HOST_RE.match((host or "").strip().lower())
    hostname, port = (m.group(1), m.group(2)) if m else ((host or "").lower(), None)
    if port and not ((scheme == "http" and int(port) == 80) or
                     (scheme == "https" and int(port) == 443)):
        authority = "%s:%d" % (hostname, int(port))
    else:
        authority = hostname
    return "%s://%s%s" % (scheme, authority, path or "/")


def base_string_uri_of(url):
    """base_string_uri() of an absolute URL ('HTTP://EXAMPLE.COM:80/r%20v/X?id=123')."""
    u = urlsplit(url)
    return base_string_uri(u.scheme, u.netloc.rpartition("@")[2], u.path)


def normalize_params(pairs):
    """RFC 5849 3.4.1.3.2: encode names and values, sort by name then value, join."""
    enc = sorted((pct(n), pct(v)) for n, v in pairs)
    return "&".join("%s=%s" % nv for nv in enc)


def signature_base_string(method, uri, pairs):
    """RFC 5849 3.4.1.1. pairs: every parameter except oauth_signature (and realm)."""
    return "&".join((pct(method.upper()), pct(uri), pct(normalize_params(pairs))))


def collect_params(raw_query, auth_header, content_type, body):
    """RFC 5849 3.4.1.3.1: the query string, the OAuth Authorization header (without realm)
    and a single-part application/x-www-form-urlencoded body; nothing else (JSON bodies are
    not signed). -> (pairs for the base string without oauth_signature, oauth params dict)."""
    pairs = list(form_decode(raw_query or ""))
    header = parse_oauth_header(auth_header)
    if header:
        pairs += [(n, v) for n, v in header if n != "realm"]
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype == FORM_TYPE and body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        pairs += form_decode(text)
    oauth = {}
    for n, v in pairs:
        if n.startswith("oauth_"):
            if n in oauth:
                raise Problem("parameter_rejected", "Parameter %s appears more than once" % n,
                              oauth_parameters_rejected=n)
            oauth[n] = v
    return [(n, v) for n, v in pairs if n != "oauth_signature"], oauth


def load_public_key(text):
    """An RSA public key from PEM ('PUBLIC KEY', 'RSA PUBLIC KEY', or a certificate) or from
    bare base64 DER (what Jira's application-link form takes)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    text = (text or "").strip()
    data = text.encode("ascii", "replace")
    if "BEGIN CERTIFICATE" in text:
        key = x509.load_pem_x509_certificate(data).public_key()
    elif "-----BEGIN" in text:
        key = serialization.load_pem_public_key(data)
    else:
        key = serialization.load_der_public_key(base64.b64decode("".join(text.split())))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def rsa_sha1_verify(key, base_string, signature_b64):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    try:
        sig = base64.b64decode(signature_b64.strip(), validate=True)
    except (ValueError, TypeError):
        return False
    try:
        key.verify(sig, base_string.encode("utf-8"), padding.PKCS1v15(), hashes.SHA1())
        return True
    except InvalidSignature:
        return False


def pkce_s256(verifier):
    """RFC 7636 4.2: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))), no padding."""
    d = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(d).rstrip(b"=").decode("ascii")


_PKCE_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


# =================================================================== OAuth 1.0a problems
class Problem(Exception):
    """An OAuth 1.0a problem (Problem Reporting extension), answered 401."""

    def __init__(self, problem, advice=None, **params):
        super().__init__(problem)
        self.problem = problem
        self.advice = advice
        self.params = params

    def answer(self, realm):
        header = 'OAuth realm="%s", oauth_problem="%s"' % (realm.replace('"', ""), self.problem)
        for k in ("oauth_acceptable_timestamps", "oauth_parameters_absent",
                  "oauth_acceptable_versions", "oauth_parameters_rejected"):
            if k in self.params:
                header += ', %s="%s"' % (k, pct(self.params[k]))
        body = [("oauth_problem", self.problem)]
        if self.advice:
            body.append(("oauth_problem_advice", self.advice))
        body += sorted(self.params.items())
        return 401, {"WWW-Authenticate": header, "Content-Type": FORM_CTYPE,
                     "X-AUSERNAME": "anonymous"}, urlencode(body).encode("ascii")


class OAuth2Error(Exception):
    def __init__(self, status, error, description, headers=None):
        super().__init__(error)
        self.status, self.error, self.description = status, error, description
        self.headers = dict(headers or {})

    def answer(self):
        h = {"Content-Type": JSON_CTYPE, "Cache-Control": "no-store", "Pragma": "no-cache"}
        h.update(self.headers)
        return self.status, h, json.dumps({"error": self.error,
                                           "error_description": self.description}).encode()


def _page(title, heading, inner, status=200):
    body = ("<!DOCTYPE html>\n<html><head><title>%s - Jira</title></head><body>"
            "<h1>%s</h1>%s</body></html>\n" % (html.escape(title), html.escape(heading), inner))
    return status, {"Content-Type": HTML_CTYPE}, body.encode("utf-8")


def _redirect(location):
    return 302, {"Location": location, "Content-Type": HTML_CTYPE}, b""


def _append_query(uri, params):
    u = urlsplit(uri)
    q = urlencode([(k, v) for k, v in params if v is not None])
    sep = "&" if u.query else "?"
    frag = ""
    if "#" in uri:
        uri, _, frag = uri.partition("#")
        frag = "#" + frag
    return uri + sep + q + frag


class Req:
    """What OAuth needs from an HTTP request."""

    def __init__(self, method, scheme, host, path, raw_query, headers, body):
        self.method, self.scheme, self.host, self.path = method, scheme, host, path
        self.raw_query, self.headers, self.body = raw_query or "", headers, body or b""

    def header(self, name):
        return self.headers.get(name) if self.headers is not None else None


# =================================================================== the store
class OAuthStore:
    def __init__(self, config=None):
        # the emulator's settings (oauth1_access_lifetime, oauth2_access_lifetime, ...)
        self.config = config if config is not None else {}
        # OAuth 1.0a
        self.consumers = {}       # key -> {"consumer_key", "name", "public_key"}
        self._pubkeys = {}        # key -> loaded public key (cache)
        self.tokens1 = {}         # token -> record (request or access token)
        self.nonces = {}          # (consumer, nonce) -> forget after (epoch s); not persisted
        # OAuth 2.0
        self.clients = {}         # id -> {"client_id", "secret_hash", "name", "redirect_uris",
        #                                  "scopes"}
        self.codes = {}           # sha256(code) -> record
        self.access2 = {}         # sha256(token) -> record
        self.refresh2 = {}        # sha256(token) -> record
        self.stats = {"issued": 0, "refreshes": 0}

    def _expiry(self, rec, issued_key, setting):
        """When an access token expires: its lifetime at issue, shortened when the setting
        was lowered since (measured from the issue time), never lengthened."""
        exp = rec["expires"]
        life = self.config.get(setting)
        if life is not None and rec.get(issued_key) is not None:
            exp = min(exp, rec[issued_key] + float(life))
            if exp <= now():
                rec["expires"] = exp      # once seen expired, it stays expired
        return exp

    # ------------------------------------------------------------ persistence
    def to_dict(self):
        return {"consumers": self.consumers, "tokens1": self.tokens1, "clients": self.clients,
                "codes": self.codes, "access2": self.access2, "refresh2": self.refresh2,
                "stats": self.stats}

    def load_dict(self, d):
        d = d or {}
        self.consumers = dict(d.get("consumers") or {})
        self._pubkeys = {}
        self.tokens1 = dict(d.get("tokens1") or {})
        self.clients = dict(d.get("clients") or {})
        self.codes = dict(d.get("codes") or {})
        self.access2 = dict(d.get("access2") or {})
        self.refresh2 = dict(d.get("refresh2") or {})
        self.stats = {"issued": 0, "refreshes": 0}
        self.stats.update(d.get("stats") or {})
        self.nonces = {}

    # ============================================================ OAuth 1.0a
    def add_consumer(self, key, public_key, name=None):
        if not key or not isinstance(key, str):
            raise ValueError("consumer_key is required")
        pk = load_public_key(public_key)
        self.consumers[key] = {"consumer_key": key, "name": name or key,
                               "public_key": public_key.strip()}
        self._pubkeys[key] = pk
        return {"consumer_key": key, "name": name or key}

    def _pubkey(self, key):
        pk = self._pubkeys.get(key)
        if pk is None:
            pk = self._pubkeys[key] = load_public_key(self.consumers[key]["public_key"])
        return pk

    def _remember_nonce(self, consumer, nonce, ts):
        t = now()
        if len(self.nonces) > 5000:
            self.nonces = {k: v for k, v in self.nonces.items() if v > t}
        self.nonces[(consumer, nonce)] = max(ts, t) + TIMESTAMP_WINDOW

    def verify1(self, req, base, purpose, allow_expired=False):
        """Check an OAuth 1.0a signed request. purpose: 'request' (request-token endpoint, no
        token), 'access' (access-token endpoint: a request token, or an access token with
        oauth_session_handle for renewal), 'resource' (REST: an access token).
        -> (oauth params, token record or None). Raises Problem."""
        pairs, o = collect_params(req.raw_query, req.header("Authorization"),
                                  req.header("Content-Type"), req.body)
        need = ["oauth_consumer_key", "oauth_signature_method", "oauth_signature",
                "oauth_timestamp", "oauth_nonce"]
        if purpose != "request":
            need.append("oauth_token")
        absent = [n for n in need if not o.get(n)]
        if absent:
            raise Problem("parameter_absent", "Missing OAuth parameter(s): %s"
                          % ", ".join(absent), oauth_parameters_absent="&".join(absent))
        if o.get("oauth_version", "1.0") != "1.0":
            raise Problem("version_rejected", "Only OAuth 1.0 is supported",
                          oauth_acceptable_versions="1.0-1.0")
        if o["oauth_signature_method"] != "RSA-SHA1":
            raise Problem("signature_method_rejected",
                          "Unsupported signature method %r: only RSA-SHA1 is accepted"
                          % o["oauth_signature_method"])
        ck = o["oauth_consumer_key"]
        if ck not in self.consumers:
            raise Problem("consumer_key_unknown", "Consumer key %r is not registered" % ck)
        tok = None
        if purpose != "request":
            tok = self.tokens1.get(o["oauth_token"])
            kinds = ("request", "access") if purpose == "access" else ("access",)
            if tok is None or tok["type"] not in kinds or tok["consumer"] != ck:
                raise Problem("token_rejected", "The token is unknown, revoked or not valid "
                              "here")
            exp = tok["expires"] if tok["type"] == "request" else \
                self._expiry(tok, "created", "oauth1_access_lifetime")
            if exp is not None and exp <= now() and not (
                    allow_expired and tok["type"] == "access"):
                raise Problem("token_expired", "The token has expired")
        t = now()
        try:
            ts = int(o["oauth_timestamp"])
        except ValueError:
            ts = None
        if ts is None or abs(ts - t) > TIMESTAMP_WINDOW:
            raise Problem("timestamp_refused", "Timestamp %s is not within %d seconds of the "
                          "server time" % (o["oauth_timestamp"], TIMESTAMP_WINDOW),
                          oauth_acceptable_timestamps="%d-%d" % (int(t) - TIMESTAMP_WINDOW,
                                                                 int(t) + TIMESTAMP_WINDOW))
        exp = self.nonces.get((ck, o["oauth_nonce"]))
        if exp is not None and exp > t:
            raise Problem("nonce_used", "The nonce was already used")
        pk = self._pubkey(ck)
        uris = [base_string_uri(req.scheme, req.host, req.path)] if req.host else []
        u = urlsplit(base)
        alt = base_string_uri(u.scheme, u.netloc, req.path)
        if alt not in uris:
            uris.append(alt)
        bases = [signature_base_string(req.method, uri, pairs) for uri in uris]
        if not any(rsa_sha1_verify(pk, b, o["oauth_signature"]) for b in bases):
            raise Problem("signature_invalid", "The signature does not verify with the "
                          "consumer's public key", oauth_signature_base_string=bases[0])
        self._remember_nonce(ck, o["oauth_nonce"], ts)
        return o, tok

    def request_token(self, req, base):
        o, _ = self.verify1(req, base, "request")
        cb = o.get("oauth_callback")
        if cb is not None and cb != "oob" and not re.match(r"^https?://", cb, re.I):
            raise Problem("parameter_rejected", "oauth_callback must be 'oob' or an absolute "
                          "http(s) URL", oauth_parameters_rejected="oauth_callback")
        tok = _alnum(32)
        secret = _alnum(32)
        self.tokens1[tok] = {"type": "request", "consumer": o["oauth_consumer_key"],
                             "created": now(), "expires": now() + REQUEST_TOKEN_TTL,
                             "callback": cb or "oob", "version": "1.0a" if cb else "1.0",
                             "user": None, "verifier": None, "denied": False}
        out = [("oauth_token", tok), ("oauth_token_secret", secret)]
        if cb:
            out.append(("oauth_callback_confirmed", "true"))
        return 200, {"Content-Type": FORM_CTYPE}, urlencode(out).encode("ascii")

    def _request_token_record(self, token):
        t = self.tokens1.get(token or "")
        if t is None or t["type"] != "request":
            return None
        if t["expires"] <= now():
            return None
        return t

    def approve1(self, token, user, deny=False):
        """The user allows (or denies) the request token. -> {"verifier", "callback"} or
        {"denied": True}. Raises KeyError/ValueError."""
        t = self._request_token_record(token)
        if t is None:
            raise KeyError("unknown or expired request token")
        if user not in C.USERS:
            raise ValueError("unknown user %r" % user)
        if deny:
            t["denied"], t["user"], t["verifier"] = True, None, None
            return {"denied": True}
        t["user"] = user
        t["denied"] = False
        t["verifier"] = _alnum(8)
        out = {"verifier": t["verifier"], "user": user}
        if t["callback"] != "oob":
            out["callback"] = _append_query(t["callback"], [("oauth_token", token),
                                                            ("oauth_verifier", t["verifier"])])
        return out

    def authorize_page(self, query, config):
        token = (query.get("oauth_token") or [None])[-1]
        t = self._request_token_record(token)
        if t is None:
            return _page("OAuth Error", "Invalid OAuth Token",
                         '<p id="oauth-error">The request token is invalid or has expired. '
                         'Please restart the authorization from the application.</p>', 400)
        cname = self.consumers.get(t["consumer"], {}).get("name", t["consumer"])
        user = config.get("oauth1_auto_approve_user")
        if user:
            res = self.approve1(token, user)
            if "callback" in res:
                return _redirect(res["callback"])
            return _page("OAuth Access Approved", "Access Approved",
                         "<p>You have successfully authorized '<span id=\"consumer-name\">%s"
                         "</span>'. Your verification code is '<span id=\"oauth-verifier\">%s"
                         "</span>'. You will need to enter this exact text when prompted. You "
                         "should write this value down before closing the browser window.</p>"
                         % (html.escape(cname), res["verifier"]))
        return _page("OAuth Access Request", "Welcome to Jira",
                     "<p><span id=\"consumer-name\">%s</span> would like to read and write "
                     "data on your behalf.</p><p>Allow or deny: (emulator) POST "
                     "/_emu/oauth1/authorize {\"token\": ..., \"user\": ...}</p>"
                     % html.escape(cname))

    def _issue_access1(self, consumer, user, lifetime, session=None, auth_expires=None):
        tok, secret = _alnum(32), _alnum(32)
        t = now()
        session = session or _alnum(32)
        if auth_expires is None:
            auth_expires = t + lifetime + SESSION_EXTRA
        self.tokens1[tok] = {"type": "access", "consumer": consumer, "user": user,
                             "created": t, "expires": t + lifetime, "session": session,
                             "auth_expires": auth_expires}
        return tok, secret, session, auth_expires

    def access_token(self, req, base, config):
        o, t = self.verify1(req, base, "access", allow_expired=True)
        lifetime = float(config.get("oauth1_access_lifetime") or 157680000)
        if t["type"] == "request":
            if t["denied"]:
                raise Problem("permission_denied", "The user denied access")
            if not t["user"]:
                raise Problem("permission_unknown", "The request token has not been authorized "
                              "yet")
            if t["version"] == "1.0a":
                v = o.get("oauth_verifier")
                if not v:
                    raise Problem("parameter_absent", "Missing OAuth parameter(s): "
                                  "oauth_verifier", oauth_parameters_absent="oauth_verifier")
                if not hmac.compare_digest(v.encode(), (t["verifier"] or "").encode()):
                    raise Problem("token_rejected", "The verifier does not match")
            del self.tokens1[o["oauth_token"]]
            tok, secret, session, auth_exp = self._issue_access1(t["consumer"], t["user"],
                                                                 lifetime)
        else:
            handle = o.get("oauth_session_handle")
            if not handle:
                raise Problem("parameter_absent", "Missing OAuth parameter(s): "
                              "oauth_session_handle",
                              oauth_parameters_absent="oauth_session_handle")
            if not hmac.compare_digest(handle.encode(), t["session"].encode()):
                raise Problem("token_rejected", "The session handle does not match")
            if t["auth_expires"] <= now():
                raise Problem("permission_denied", "The authorization has expired; authorize "
                              "again")
            del self.tokens1[o["oauth_token"]]
            tok, secret, session, auth_exp = self._issue_access1(
                t["consumer"], t["user"], lifetime, t["session"], t["auth_expires"])
        out = [("oauth_token", tok), ("oauth_token_secret", secret),
               ("oauth_expires_in", math.ceil(lifetime)), ("oauth_session_handle", session),
               ("oauth_authorization_expires_in", int(round(auth_exp - now())))]
        return 200, {"Content-Type": FORM_CTYPE}, urlencode(out).encode("ascii")

    def authenticate1(self, req, base):
        """REST request signed with an access token -> user. Raises Problem."""
        _, t = self.verify1(req, base, "resource")
        return t["user"]

    def mint_access1(self, consumer, user, lifetime):
        if consumer not in self.consumers:
            raise KeyError("unknown consumer %r" % consumer)
        if user not in C.USERS:
            raise ValueError("unknown user %r" % user)
        tok, secret, session, auth_exp = self._issue_access1(consumer, user, float(lifetime))
        return {"token": tok, "secret": secret, "session_handle": session,
                "expires_in": math.ceil(lifetime), "user": user}

    def revoke1(self, token):
        return self.tokens1.pop(token, None) is not None

    # ============================================================ OAuth 2.0
    def add_client(self, client_id, secret, redirect_uris, scopes=None, name=None):
        if not client_id or not isinstance(client_id, str):
            raise ValueError("client_id is required")
        if not secret or not isinstance(secret, str):
            raise ValueError("client_secret is required")
        if isinstance(redirect_uris, str):
            redirect_uris = [redirect_uris]
        if not redirect_uris:
            raise ValueError("redirect_uris is required")
        scopes = [s.upper() for s in (scopes or ["READ", "WRITE"])]
        bad = [s for s in scopes if s not in SCOPE_ORDER]
        if bad:
            raise ValueError("unknown scope(s) %s" % bad)
        self.clients[client_id] = {"client_id": client_id, "secret_hash": _h(secret),
                                   "name": name or client_id,
                                   "redirect_uris": list(redirect_uris), "scopes": scopes}
        return {"client_id": client_id, "name": name or client_id,
                "redirect_uris": list(redirect_uris), "scopes": scopes}

    @staticmethod
    def _granted(scopes):
        """Scopes a token holds, with the implied ones."""
        top = max((SCOPE_ORDER.index(s) for s in scopes if s in SCOPE_ORDER), default=-1)
        return SCOPE_ORDER[:top + 1]

    def _authz_params(self, p):
        """Validate authorize parameters. -> (client, redirect_uri) or raises:
        ('page', msg) for errors shown to the user, ('redirect', uri, error, desc)."""
        c = self.clients.get(p.get("client_id") or "")
        if c is None:
            raise _AuthzError("page", "The client_id is not registered with an incoming "
                              "application link.")
        ru = p.get("redirect_uri")
        if not ru:
            raise _AuthzError("page", "The redirect_uri parameter is required.")
        if ru not in c["redirect_uris"]:
            raise _AuthzError("page", "The redirect_uri does not match the redirect URL "
                              "registered for this application.")
        state = p.get("state")
        if p.get("response_type") != "code":
            raise _AuthzError("redirect", ru, "unsupported_response_type",
                              "Only response_type=code is supported", state)
        scope = p.get("scope")
        if scope:
            asked = [s for s in re.split(r"[\s+]+", scope.strip().upper()) if s]
            bad = [s for s in asked if s not in SCOPE_ORDER]
            if bad or not asked:
                raise _AuthzError("redirect", ru, "invalid_scope",
                                  "Unknown scope %s" % " ".join(bad), state)
            # RFC 6749 3.3: a scope beyond the application link's is capped to the highest
            # registered scope it implies; the token answer's "scope" says what was granted
            req = []
            for s in asked:
                if s not in c["scopes"]:
                    below = [x for x in c["scopes"]
                             if SCOPE_ORDER.index(x) < SCOPE_ORDER.index(s)]
                    s = max(below, key=SCOPE_ORDER.index) if below else None
                if s and s not in req:
                    req.append(s)
            if not req:
                raise _AuthzError("redirect", ru, "invalid_scope",
                                  "Scope %s is not allowed for this client" % " ".join(asked),
                                  state)
        else:
            req = list(c["scopes"])
        ch, meth = p.get("code_challenge"), p.get("code_challenge_method")
        if ch:
            meth = meth or "plain"
            if meth not in ("S256", "plain"):
                raise _AuthzError("redirect", ru, "invalid_request",
                                  "code_challenge_method must be S256 or plain", state)
            if not _PKCE_RE.match(ch):
                raise _AuthzError("redirect", ru, "invalid_request",
                                  "code_challenge is malformed", state)
        elif meth:
            raise _AuthzError("redirect", ru, "invalid_request",
                              "code_challenge_method without code_challenge", state)
        return c, ru, req, ch, meth, state

    def _new_code(self, c, ru, scopes, ch, meth, user, state):
        code = secrets.token_urlsafe(24)
        self.codes[_h(code)] = {"client": c["client_id"], "user": user, "redirect_uri": ru,
                                "scopes": scopes, "challenge": ch, "method": meth,
                                "expires": now() + CODE_TTL, "used": False, "tokens": []}
        if len(self.codes) > 2000:
            t = now()
            self.codes = {k: v for k, v in self.codes.items() if v["expires"] > t}
        return _append_query(ru, [("code", code), ("state", state)])

    def authorize2_page(self, query, config):
        p = {k: v[-1] for k, v in query.items() if v}
        try:
            c, ru, scopes, ch, meth, state = self._authz_params(p)
        except _AuthzError as e:
            if e.kind == "page":
                return _page("OAuth 2.0 Error", "Invalid authorization request",
                             '<p id="oauth-error">%s</p>' % html.escape(e.args[1]), 400)
            return _redirect(e.location())
        user = config.get("oauth2_auto_approve_user")
        if user:
            return _redirect(self._new_code(c, ru, scopes, ch, meth, user, state))
        return _page("Authorize application", "Authorize %s" % c["name"],
                     "<p><span id=\"client-name\">%s</span> wants to access Jira on your "
                     "behalf with scope <span id=\"scope\">%s</span>. It will be redirected "
                     "to <span id=\"redirect-uri\">%s</span>.</p><p>(emulator) approve with "
                     "POST /_emu/oauth2/approve.</p>"
                     % (html.escape(c["name"]), html.escape(" ".join(scopes)),
                        html.escape(ru)))

    def approve2(self, p):
        """Control API: the user allows the request. -> {"location"}; raises ValueError for
        errors that would be shown as a page."""
        user = p.get("user") or "alice"
        if user not in C.USERS:
            raise ValueError("unknown user %r" % user)
        p = dict(p)
        p.setdefault("response_type", "code")
        if p.get("deny"):
            c = self.clients.get(p.get("client_id") or "")
            if c is None or p.get("redirect_uri") not in c["redirect_uris"]:
                raise ValueError("unknown client_id or redirect_uri mismatch")
            return {"location": _append_query(p["redirect_uri"], [
                ("error", "access_denied"), ("error_description", "The user denied access"),
                ("state", p.get("state"))])}
        try:
            c, ru, scopes, ch, meth, state = self._authz_params(p)
        except _AuthzError as e:
            if e.kind == "page":
                raise ValueError(e.args[1])
            return {"location": e.location()}
        return {"location": self._new_code(c, ru, scopes, ch, meth, user, state)}

    def _issue2(self, client, user, scopes, lifetime, refresh_lifetime, code_hash=None):
        t = now()
        at, rt = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.access2[_h(at)] = {"client": client, "user": user, "scopes": scopes,
                                "issued": t, "expires": t + lifetime, "revoked": False,
                                "code": code_hash}
        self.refresh2[_h(rt)] = {"client": client, "user": user, "scopes": scopes,
                                 "expires": t + refresh_lifetime, "used": False,
                                 "code": code_hash}
        self.stats["issued"] += 1
        self._prune2()
        return {"access_token": at, "token_type": "bearer", "expires_in": math.ceil(lifetime),
                "refresh_token": rt, "scope": " ".join(scopes)}, _h(at), _h(rt)

    def _prune2(self):
        if len(self.access2) + len(self.refresh2) < 4000:
            return
        t = now() - TOMBSTONE_TTL
        self.access2 = {k: v for k, v in self.access2.items() if v["expires"] > t}
        self.refresh2 = {k: v for k, v in self.refresh2.items() if v["expires"] > t}

    def _client_auth(self, headers, params):
        auth = (headers.get("Authorization") or "").strip()
        cid = secret = None
        basic = False
        if auth[:6].lower() == "basic ":
            basic = True
            try:
                raw = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                raw = ""
            a, sep, b = raw.partition(":")
            if not sep:
                raise OAuth2Error(401, "invalid_client", "Malformed Basic credentials",
                                  {"WWW-Authenticate": 'Basic realm="OAuth"'})
            cid, secret = unquote_plus(a), unquote_plus(b)
            if params.get("client_secret"):
                raise OAuth2Error(400, "invalid_request", "Client credentials were given both "
                                  "in the Authorization header and in the body")
            if params.get("client_id") and params["client_id"] != cid:
                raise OAuth2Error(400, "invalid_request", "client_id does not match the "
                                  "Authorization header")
        else:
            cid, secret = params.get("client_id"), params.get("client_secret")
        extra = {"WWW-Authenticate": 'Basic realm="OAuth"'} if basic else {}
        if not cid or not secret:
            raise OAuth2Error(401, "invalid_client", "Client authentication is required",
                              extra)
        c = self.clients.get(cid)
        if c is None or not hmac.compare_digest(c["secret_hash"], _h(secret)):
            raise OAuth2Error(401, "invalid_client", "Client authentication failed", extra)
        return c

    def token2(self, req, config):
        """POST /rest/oauth2/latest/token -> (status, headers, body)."""
        try:
            return self._token2(req, config)
        except OAuth2Error as e:
            return e.answer()

    def _token2(self, req, config):
        ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != FORM_TYPE:
            raise OAuth2Error(400, "invalid_request", "The request must be "
                              "application/x-www-form-urlencoded")
        params = {}
        for n, v in form_decode(req.body.decode("utf-8", "replace")):
            if n in params:
                raise OAuth2Error(400, "invalid_request", "Parameter %s appears more than once"
                                  % n)
            params[n] = v
        c = self._client_auth(req.headers, params)
        gt = params.get("grant_type")
        if not gt:
            raise OAuth2Error(400, "invalid_request", "grant_type is required")
        lifetime = float(config.get("oauth2_access_lifetime") or 3600)
        rlife = float(config.get("oauth2_refresh_lifetime") or 7776000)
        if gt == "authorization_code":
            code = params.get("code")
            if not code:
                raise OAuth2Error(400, "invalid_request", "code is required")
            if not params.get("redirect_uri"):
                raise OAuth2Error(400, "invalid_request", "redirect_uri is required")
            ch = _h(code)
            rec = self.codes.get(ch)
            if rec is None or rec["client"] != c["client_id"]:
                raise OAuth2Error(400, "invalid_grant", "The authorization code is invalid")
            if rec["used"]:
                # RFC 6749 4.1.2: a replayed code revokes what it produced
                for k, a in self.access2.items():
                    if a.get("code") == ch:
                        a["revoked"] = True
                for k, r in self.refresh2.items():
                    if r.get("code") == ch:
                        r["used"] = True
                raise OAuth2Error(400, "invalid_grant", "The authorization code was already "
                                  "used")
            if rec["expires"] <= now():
                raise OAuth2Error(400, "invalid_grant", "The authorization code has expired")
            if params["redirect_uri"] != rec["redirect_uri"]:
                raise OAuth2Error(400, "invalid_grant", "redirect_uri does not match the "
                                  "authorization request")
            if rec["challenge"]:
                v = params.get("code_verifier")
                if not v:
                    raise OAuth2Error(400, "invalid_request", "code_verifier is required")
                if not _PKCE_RE.match(v):
                    raise OAuth2Error(400, "invalid_grant", "code_verifier is malformed (43 to "
                                      "128 characters of A-Z a-z 0-9 - . _ ~)")
                got = pkce_s256(v) if rec["method"] == "S256" else v
                if not hmac.compare_digest(got, rec["challenge"]):
                    raise OAuth2Error(400, "invalid_grant", "PKCE verification failed: "
                                      "code_verifier does not match code_challenge")
            rec["used"] = True
            out, _, _ = self._issue2(c["client_id"], rec["user"], rec["scopes"], lifetime,
                                     rlife, ch)
        elif gt == "refresh_token":
            rt = params.get("refresh_token")
            if not rt:
                raise OAuth2Error(400, "invalid_request", "refresh_token is required")
            rec = self.refresh2.get(_h(rt))
            if rec is None or rec["client"] != c["client_id"]:
                raise OAuth2Error(400, "invalid_grant", "The refresh token is invalid")
            if rec["used"]:
                raise OAuth2Error(400, "invalid_grant", "The refresh token was already used "
                                  "or revoked")
            if rec["expires"] <= now():
                raise OAuth2Error(400, "invalid_grant", "The refresh token has expired")
            scopes = rec["scopes"]
            if params.get("scope"):
                want = [s for s in re.split(r"[\s+]+", params["scope"].strip().upper()) if s]
                if not want or any(s not in rec["scopes"] for s in want):
                    raise OAuth2Error(400, "invalid_scope", "The requested scope exceeds the "
                                      "granted scope")
                scopes = want
            rec["used"] = True
            self.stats["refreshes"] += 1
            out, _, _ = self._issue2(c["client_id"], rec["user"], scopes, lifetime, rlife,
                                     rec.get("code"))
        else:
            raise OAuth2Error(400, "unsupported_grant_type",
                              "Grant type %r is not supported" % gt)
        return 200, {"Content-Type": JSON_CTYPE, "Cache-Control": "no-store",
                     "Pragma": "no-cache"}, json.dumps(out).encode()

    def bearer(self, token):
        """An OAuth 2.0 access token? -> None (not one: the caller treats it as a PAT),
        ("ok", user, granted scopes) or ("invalid", description)."""
        rec = self.access2.get(_h(token))
        if rec is None:
            return None
        if rec["revoked"]:
            return ("invalid", "The access token was revoked")
        if self._expiry(rec, "issued", "oauth2_access_lifetime") <= now():
            return ("invalid", "The access token expired")
        if rec["client"] not in self.clients:
            return ("invalid", "The application link was removed")
        return ("ok", rec["user"], self._granted(rec["scopes"]))

    def mint2(self, client_id, user, scopes, lifetime, refresh_lifetime):
        c = self.clients.get(client_id)
        if c is None:
            raise KeyError("unknown client %r" % client_id)
        if user not in C.USERS:
            raise ValueError("unknown user %r" % user)
        scopes = [s.upper() for s in (scopes or c["scopes"])]
        if any(s not in c["scopes"] for s in scopes):
            raise ValueError("scope not allowed for this client")
        out, _, _ = self._issue2(client_id, user, scopes, float(lifetime),
                                 float(refresh_lifetime))
        return out

    def revoke2(self, token):
        h = _h(token)
        found = False
        if h in self.access2:
            self.access2[h]["revoked"] = True
            found = True
        if h in self.refresh2:
            self.refresh2[h]["used"] = True
            found = True
        return found

    def counts2(self):
        t = now()
        return {"access": sum(1 for a in self.access2.values() if not a["revoked"] and
                              self._expiry(a, "issued", "oauth2_access_lifetime") > t),
                "refresh": sum(1 for r in self.refresh2.values()
                               if not r["used"] and r["expires"] > t),
                "codes": sum(1 for c in self.codes.values()
                             if not c["used"] and c["expires"] > t),
                "issued": self.stats["issued"], "refreshes": self.stats["refreshes"]}


class _AuthzError(Exception):
    def __init__(self, kind, *args):
        super().__init__(kind, *args)
        self.kind = kind

    def location(self):
        _, ru, error, desc, state = self.args
        return _append_query(ru, [("error", error), ("error_description", desc),
                                  ("state", state)])


def scope_allows(granted, method, sub):
    """May a token with these (implied-expanded) scopes do this REST call? sub: the path after
    /rest/api/2/. Reads (GET, HEAD, and POST search, which only reads) need READ, everything
    else WRITE."""
    read_only = method in ("GET", "HEAD", "OPTIONS") or (
        method == "POST" and sub.rstrip("/") == "search")
    return ("READ" if read_only else "WRITE") in granted
