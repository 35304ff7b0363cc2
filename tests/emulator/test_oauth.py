"""OAuth 1.0a and OAuth 2.0 in the Jira emulator: /usr/bin/python3 -m pytest tests/emulator -q"""

import base64
import http.client
import json
import os
import sys
import time
import urllib.parse

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from control import Emulator  # noqa: E402
import oauth as O  # noqa: E402  (pure functions: base string, PKCE)

crypto = pytest.importorskip("cryptography")
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402


def keypair():
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    priv = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption()).decode()
    pub = k.public_key().public_bytes(serialization.Encoding.PEM,
                                      serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return priv, pub


@pytest.fixture(scope="module")
def keys():
    return keypair(), keypair()


@pytest.fixture(scope="module")
def emu(tmp_path_factory, keys):
    e = Emulator.start(tmp_path_factory.mktemp("emu-oauth"), seed="demo", state=False)
    (priv, pub), _ = keys
    e.oauth1_consumer("jirafs", pub, name="jirafs")
    yield e
    assert e.stop() == 0


def raw(emu, method, path, body=None, headers=None):
    """One request, redirects not followed -> (status, headers dict lower-case, body)."""
    c = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        c.request(method, path, body=body, headers=dict(headers or {}))
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def form(body):
    return dict(urllib.parse.parse_qsl(body.decode() if isinstance(body, bytes) else body,
                                       keep_blank_values=True))


# =================================================================== pure functions
def test_rfc5849_base_string():
    # RFC 5849 section 3.4.1.1 / 3.4.1.3 example
    header = ('OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", '
              'oauth_token="kkk9d7dh3k39sjv7", oauth_signature_method="HMAC-SHA1", '
              'oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", '
              'oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"')
    pairs, o = O.collect_params("b5=%3D%253D&a3=a&c%40=&a2=r%20b", header,
                                "application/x-www-form-urlencoded", b"c2&a3=2+q")
    assert o["oauth_signature"] == "bYT5CMsGcbgUdFHObYMEfcx6bsw="
    assert "realm" not in dict(pairs) and "oauth_signature" not in dict(pairs)
    assert O.normalize_params(pairs) == (
        "a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9djdj82h48djs9d2"
        "&oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201"
        "&oauth_token=kkk9d7dh3k39sjv7")
    uri = O.base_string_uri("http", "example.com", "/request")
    assert O.signature_base_string("POST", uri, pairs) == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q"
        "%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_"
        "key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m"
        "ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk"
        "9d7dh3k39sjv7")
    # 3.4.1.2 base string URIs
    assert O.base_string_uri_of("HTTP://EXAMPLE.COM:80/r%20v/X?id=123") == \
        "http://example.com/r%20v/X"
    assert O.base_string_uri_of("https://www.example.net:8080/?q=1") == \
        "https://www.example.net:8080/"
    assert O.base_string_uri("https", "Jira.Example.com:443", "/a") == "https://jira.example.com/a"
    assert O.base_string_uri("http", "[::1]:8080", "/a") == "http://[::1]:8080/a"
    # 3.6 percent-encoding
    assert O.pct("Ladies + Gentlemen") == "Ladies%20%2B%20Gentlemen"
    assert O.pct("An encoded string!") == "An%20encoded%20string%21"
    assert O.pct("Dogs, Cats & Mice") == "Dogs%2C%20Cats%20%26%20Mice"
    assert O.pct("\u2603") == "%E2%98%83" and O.pct("-._~") == "-._~"
    # JSON bodies are not signed
    pairs, _ = O.collect_params("", header, "application/json", b'{"a": 1}')
    assert "a" not in dict(pairs)


def test_base_string_matches_oauthlib():
    sig = pytest.importorskip("oauthlib.oauth1.rfc5849.signature")
    q = "jql=project%20%3D%20SEC%20AND%20summary%20~%20%22caf%C3%A9%22&fields=a,b&x=%2B+1&x=0"
    body = b"name=J%C3%BCrgen&empty=&plus=a+b&star=%2A"
    header = ('OAuth oauth_consumer_key="k%20y", oauth_token="t", oauth_nonce="n", '
              'oauth_timestamp="1", oauth_signature_method="RSA-SHA1", oauth_version="1.0", '
              'oauth_signature="x"')
    pairs, _ = O.collect_params(q, header, "application/x-www-form-urlencoded", body)
    mine = O.signature_base_string("post", O.base_string_uri("https", "Host.Example:443",
                                                             "/rest/api/2/search"), pairs)
    params = sig.collect_parameters(uri_query=q, body=body.decode(),
                                    headers={"Authorization": header})
    theirs = sig.signature_base_string(
        "POST", sig.base_string_uri("https://Host.Example:443/rest/api/2/search"),
        sig.normalize_parameters(params))
    assert mine == theirs


def test_pkce_rfc7636_appendix_b():
    assert O.pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == \
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


# =================================================================== OAuth 1.0a
def client1(priv, token=None, **kw):
    from oauthlib.oauth1 import SIGNATURE_RSA, Client
    return Client("jirafs", resource_owner_key=token, signature_method=SIGNATURE_RSA,
                  rsa_key=priv, **kw)


def signed(emu, c, method, path, body=None, headers=None):
    h = dict(headers or {})
    uri, h, b = c.sign(emu.url + path, method, body, h)
    return emu.http(method, uri[len(emu.url):], b.encode() if isinstance(b, str) else b, h)


def dance(emu, priv, user="alice"):
    r = signed(emu, client1(priv, callback_uri="oob"), "POST",
               "/plugins/servlet/oauth/request-token")
    assert r.status == 200, r.body
    rt = form(r.body)
    assert rt["oauth_callback_confirmed"] == "true" and rt["oauth_token_secret"]
    assert r.header("Content-Type").startswith("application/x-www-form-urlencoded")
    v = emu.oauth1_authorize(rt["oauth_token"], user)
    r = signed(emu, client1(priv, rt["oauth_token"], verifier=v,
                            resource_owner_secret=rt["oauth_token_secret"]),
               "POST", "/plugins/servlet/oauth/access-token")
    assert r.status == 200, r.body
    return form(r.body), rt


def problem(r, p):
    assert r.status == 401, (r.status, r.body)
    wa = r.header("WWW-Authenticate")
    assert wa.startswith('OAuth realm="') and 'oauth_problem="%s"' % p in wa, wa
    assert form(r.body)["oauth_problem"] == p, r.body
    return form(r.body)


def test_oauth1_dance_and_python_jira(emu, keys):
    jira = pytest.importorskip("jira")
    (priv, pub), _ = keys
    m = emu.mark()
    # the authorize page, without auto-approval: a consent page
    r = signed(emu, client1(priv, callback_uri="oob"), "POST",
               "/plugins/servlet/oauth/request-token")
    rt = form(r.body)
    st, h, body = raw(emu, "GET", "/plugins/servlet/oauth/authorize?oauth_token=" +
                      rt["oauth_token"])
    assert st == 200 and h["content-type"].startswith("text/html") and b"jirafs" in body
    assert b"oauth-verifier" not in body
    # with auto-approval the page shows the verifier, and it works
    emu.config(oauth1_auto_approve_user="bob")
    try:
        st, h, body = raw(emu, "GET", "/plugins/servlet/oauth/authorize?oauth_token=" +
                          rt["oauth_token"])
    finally:
        emu.config(oauth1_auto_approve_user=None)
    assert st == 200
    verifier = body.decode().split('<span id="oauth-verifier">')[1].split("<")[0]
    r = signed(emu, client1(priv, rt["oauth_token"], verifier=verifier), "POST",
               "/plugins/servlet/oauth/access-token")
    at = form(r.body)
    assert r.status == 200 and set(at) == {"oauth_token", "oauth_token_secret",
                                           "oauth_expires_in", "oauth_session_handle",
                                           "oauth_authorization_expires_in"}
    assert int(at["oauth_expires_in"]) == 157680000
    assert int(at["oauth_authorization_expires_in"]) > int(at["oauth_expires_in"])
    r = signed(emu, client1(priv, at["oauth_token"]), "GET", "/rest/api/2/myself")
    assert r.status == 200 and r.json["name"] == "bob" and r.header("X-AUSERNAME") == "bob"
    # the request token is gone
    r = signed(emu, client1(priv, rt["oauth_token"], verifier=verifier), "POST",
               "/plugins/servlet/oauth/access-token")
    problem(r, "token_rejected")
    # the full dance through the control API, then python-jira
    at, _ = dance(emu, priv)
    j = jira.JIRA(server=emu.url, oauth={"access_token": at["oauth_token"],
                                         "access_token_secret": at["oauth_token_secret"],
                                         "consumer_key": "jirafs", "key_cert": priv})
    assert j.myself()["name"] == "alice"
    assert len(j.search_issues('project = SEC AND text ~ "OpenSSL"', maxResults=5)) >= 1
    new = j.create_issue(project="OPS", summary="Signed with RSA-SHA1", issuetype="Task")
    c = j.add_comment(new, "Comment over OAuth 1.0a: caf\u00e9 & <tags>")
    assert c.author.name == "alice"
    j.transition_issue(new, "Resolve Issue", fields={"resolution": {"name": "Done"}})
    assert j.issue(new.key).fields.status.name == "Resolved"
    log = emu.requests(since=m)
    rest = [e for e in log if e["path"].startswith("/rest/api/2/")]
    assert rest and all(e["auth"] == "oauth1" for e in rest)
    assert {e["user"] for e in rest} == {"alice", "bob"}
    text = json.dumps(log)
    for secret in (at["oauth_token"], at["oauth_token_secret"], rt["oauth_token"], verifier,
                   "oauth_signature=", "OAuth realm", "oauth_nonce"):
        assert secret not in text


def test_oauth1_signed_query_and_form(emu, keys):
    (priv, pub), _ = keys
    at = emu.oauth1_token("jirafs", "alice")
    c = client1(priv, at["token"])
    # GET with a query string that needs every encoding rule
    q = urllib.parse.urlencode({"jql": 'project = SEC AND summary ~ "caf\u00e9 & co*"',
                                "fields": "summary,status", "maxResults": "3"},
                               quote_via=urllib.parse.quote)
    r = signed(emu, c, "GET", "/rest/api/2/search?" + q)
    assert r.status == 200 and r.json["maxResults"] == 3
    # a signed POST with a form body: the body parameters are part of the signature
    fh = {"Content-Type": "application/x-www-form-urlencoded"}
    r = signed(emu, client1(priv, callback_uri="oob"), "POST",
               "/plugins/servlet/oauth/request-token", "extra=a+b&x=%E2%98%83", fh)
    assert r.status == 200, r.body
    uri, h, b = client1(priv, callback_uri="oob").sign(
        emu.url + "/plugins/servlet/oauth/request-token", "POST", "extra=1", fh)
    r = emu.http("POST", "/plugins/servlet/oauth/request-token", b"extra=2", h)
    problem(r, "signature_invalid")
    # REST form POST: the signature is checked first (then Jira refuses the media type)
    xh = {"Content-Type": "application/x-www-form-urlencoded", "X-Atlassian-Token": "no-check"}
    r = signed(emu, c, "POST", "/rest/api/2/issue/SEC-1/comment", "body=x", xh)
    assert r.status == 415 and r.header("X-AUSERNAME") == "alice"
    uri, h, b = c.sign(emu.url + "/rest/api/2/issue/SEC-1/comment", "POST", "body=x", xh)
    r = emu.http("POST", "/rest/api/2/issue/SEC-1/comment", b"body=y", h)
    problem(r, "signature_invalid")
    # parameters in the query string instead of a header (signature_type=query)
    from oauthlib.oauth1 import SIGNATURE_TYPE_QUERY
    r = signed(emu, client1(priv, at["token"], signature_type=SIGNATURE_TYPE_QUERY), "GET",
               "/rest/api/2/myself?expand=groups")
    assert r.status == 200 and r.json["name"] == "alice"
    # POST with a JSON body: not signed, works
    r = signed(emu, c, "POST", "/rest/api/2/search",
               json.dumps({"jql": "project = WEB", "maxResults": 1}),
               {"Content-Type": "application/json"})
    assert r.status == 200 and r.json["total"] > 0
    # https-style Host with default port: the port is left out of the base string URI
    uri, h, b = c.sign("http://127.0.0.1:80/rest/api/2/myself", "GET")
    st, _, body = raw(emu, "GET", "/rest/api/2/myself", headers=dict(h, Host="127.0.0.1:80"))
    assert st == 200 and json.loads(body)["name"] == "alice"


def test_oauth1_problems(emu, keys):
    from oauthlib.oauth1 import SIGNATURE_HMAC, SIGNATURE_PLAINTEXT, Client
    (priv, pub), (other, other_pub) = keys
    at = emu.oauth1_token("jirafs", "alice")
    c = client1(priv, at["token"])
    assert signed(emu, c, "GET", "/rest/api/2/myself").status == 200
    # wrong key
    p = problem(signed(emu, client1(other, at["token"]), "GET", "/rest/api/2/myself"),
                "signature_invalid")
    assert p["oauth_signature_base_string"].startswith("GET&http%3A%2F%2F127.0.0.1%3A")
    # tampered parameter
    uri, h, _ = c.sign(emu.url + "/rest/api/2/search?jql=project%3DSEC", "GET")
    problem(emu.http("GET", "/rest/api/2/search?jql=project%3DOPS", None, h),
            "signature_invalid")
    # replay: nonce_used
    uri, h, _ = c.sign(emu.url + "/rest/api/2/myself", "GET")
    assert emu.http("GET", "/rest/api/2/myself", None, h).status == 200
    problem(emu.http("GET", "/rest/api/2/myself", None, h), "nonce_used")
    # timestamp out of the window
    r = signed(emu, client1(priv, at["token"], timestamp=str(int(time.time()) - 1000)), "GET",
               "/rest/api/2/myself")
    p = problem(r, "timestamp_refused")
    lo, hi = (int(x) for x in p["oauth_acceptable_timestamps"].split("-"))
    assert hi - lo == 600 and lo <= time.time() <= hi
    assert "oauth_acceptable_timestamps=" in r.header("WWW-Authenticate")
    # unknown consumer
    from oauthlib.oauth1 import SIGNATURE_RSA
    r = signed(emu, Client("nobody", resource_owner_key=at["token"],
                           signature_method=SIGNATURE_RSA, rsa_key=priv), "GET",
               "/rest/api/2/myself")
    problem(r, "consumer_key_unknown")
    # unknown token, revoked token
    problem(signed(emu, client1(priv, "nosuchtoken"), "GET", "/rest/api/2/myself"),
            "token_rejected")
    at2 = emu.oauth1_token("jirafs", "bob")
    assert signed(emu, client1(priv, at2["token"]), "GET", "/rest/api/2/myself").status == 200
    assert emu.oauth1_revoke(at2["token"]) is True
    problem(signed(emu, client1(priv, at2["token"]), "GET", "/rest/api/2/myself"),
            "token_rejected")
    # expired access token (config knob), then renewal with the session handle
    emu.config(oauth1_access_lifetime=0.5)
    try:
        at3, _ = dance(emu, priv, "jdoe")
        assert at3["oauth_expires_in"] == "1"            # rounded up
    finally:
        emu.config(oauth1_access_lifetime=157680000)
    c3 = client1(priv, at3["oauth_token"])
    assert signed(emu, c3, "GET", "/rest/api/2/myself").json["name"] == "jdoe"
    time.sleep(0.6)
    problem(signed(emu, c3, "GET", "/rest/api/2/myself"), "token_expired")
    r = signed(emu, c3, "POST", "/plugins/servlet/oauth/access-token?oauth_session_handle="
               + at3["oauth_session_handle"])
    assert r.status == 200, r.body
    at4 = form(r.body)
    assert at4["oauth_session_handle"] == at3["oauth_session_handle"]
    assert signed(emu, client1(priv, at4["oauth_token"]), "GET",
                  "/rest/api/2/myself").json["name"] == "jdoe"
    # signature methods other than RSA-SHA1
    for meth in (SIGNATURE_HMAC, SIGNATURE_PLAINTEXT):
        r = signed(emu, Client("jirafs", client_secret="s", resource_owner_key=at["token"],
                               resource_owner_secret="x", signature_method=meth), "GET",
                   "/rest/api/2/myself")
        problem(r, "signature_method_rejected")
    # missing parameters
    h = {"Authorization": 'OAuth oauth_consumer_key="jirafs", oauth_token="%s", '
                          'oauth_signature_method="RSA-SHA1", oauth_signature="abc"'
                          % at["token"]}
    p = problem(emu.http("GET", "/rest/api/2/myself", None, h), "parameter_absent")
    assert set(p["oauth_parameters_absent"].split("&")) == {"oauth_timestamp", "oauth_nonce"}
    problem(signed(emu, client1(priv), "GET", "/rest/api/2/myself"), "parameter_absent")
    # a request token is no access token; a wrong verifier; no verifier
    r = signed(emu, client1(priv, callback_uri="oob"), "POST",
               "/plugins/servlet/oauth/request-token")
    rt = form(r.body)
    problem(signed(emu, client1(priv, rt["oauth_token"]), "GET", "/rest/api/2/myself"),
            "token_rejected")
    problem(signed(emu, client1(priv, rt["oauth_token"], verifier="x"), "POST",
                   "/plugins/servlet/oauth/access-token"), "permission_unknown")
    emu.oauth1_authorize(rt["oauth_token"], "alice")
    problem(signed(emu, client1(priv, rt["oauth_token"], verifier="wrong"), "POST",
                   "/plugins/servlet/oauth/access-token"), "token_rejected")
    problem(signed(emu, client1(priv, rt["oauth_token"]), "POST",
                   "/plugins/servlet/oauth/access-token"), "parameter_absent")
    # denied
    r = signed(emu, client1(priv, callback_uri="oob"), "POST",
               "/plugins/servlet/oauth/request-token")
    rt = form(r.body)
    assert emu.oauth1_authorize(rt["oauth_token"], "alice", deny=True) is None
    problem(signed(emu, client1(priv, rt["oauth_token"], verifier="x"), "POST",
                   "/plugins/servlet/oauth/access-token"), "permission_denied")
    # bad request token on the authorize page
    st, h, body = raw(emu, "GET", "/plugins/servlet/oauth/authorize?oauth_token=nope")
    assert st == 400 and b"oauth-error" in body
    # a callback URL: the approved page redirects there
    r = signed(emu, client1(priv, callback_uri="https://app.example/cb?x=1"), "POST",
               "/plugins/servlet/oauth/request-token")
    rt = form(r.body)
    emu.config(oauth1_auto_approve_user="alice")
    try:
        st, h, _ = raw(emu, "GET", "/plugins/servlet/oauth/authorize?oauth_token=" +
                       rt["oauth_token"])
    finally:
        emu.config(oauth1_auto_approve_user=None)
    assert st == 302 and h["location"].startswith("https://app.example/cb?x=1&oauth_token=")
    v = form(urllib.parse.urlsplit(h["location"]).query)["oauth_verifier"]
    r = signed(emu, client1(priv, rt["oauth_token"], verifier=v), "POST",
               "/plugins/servlet/oauth/access-token")
    assert r.status == 200
    # the request log shows no signature, token or verifier
    text = json.dumps(emu.requests())
    for s in (at["token"], v):
        i = text.find(s)
        assert i < 0, text[max(0, i - 400):i + 100]
    assert "oauth_signature=" not in text and "<redacted>" in text
    # registration errors
    with pytest.raises(Exception):
        emu.oauth1_consumer("bad", "not a key")


# =================================================================== OAuth 2.0
REDIRECT = "http://127.0.0.1:9/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def authorize_url(client_id="jirafs2", redirect=REDIRECT, state="xyz", scope="WRITE",
                  challenge=CHALLENGE, **extra):
    q = {"client_id": client_id, "redirect_uri": redirect, "response_type": "code",
         "scope": scope, "state": state, "code_challenge": challenge,
         "code_challenge_method": "S256"}
    q.update(extra)
    return "/rest/oauth2/latest/authorize?" + urllib.parse.urlencode(
        {k: v for k, v in q.items() if v is not None})


def token_req(emu, params, basic=None):
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    if basic:
        h["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % basic).encode()).decode()
    return emu.http("POST", "/rest/oauth2/latest/token",
                    urllib.parse.urlencode(params).encode(), h)


def code_of(location, state="xyz"):
    q = form(urllib.parse.urlsplit(location).query)
    assert q.get("state") == state, location
    return q["code"]


def exchange(emu, code, verifier=VERIFIER, basic=False):
    p = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
         "code_verifier": verifier}
    if basic:
        return token_req(emu, p, basic=("jirafs2", "s3cret"))
    p.update(client_id="jirafs2", client_secret="s3cret")
    return token_req(emu, p)


def test_oauth2_flow(emu):
    emu.oauth2_client("jirafs2", "s3cret", [REDIRECT, "https://app.example/cb"],
                      ["READ", "WRITE"], name="jirafs OAuth 2")
    m = emu.mark()
    # auto-approval: 302 to the exact redirect URI with code and state
    emu.config(oauth2_auto_approve_user="alice")
    try:
        st, h, _ = raw(emu, "GET", authorize_url())
        assert st == 302 and h["location"].startswith(REDIRECT + "?code=")
        code = code_of(h["location"])
        # redirect URI mismatch: an error page, no redirect
        st, h2, body = raw(emu, "GET", authorize_url(redirect=REDIRECT + "/other"))
        assert st == 400 and "location" not in h2 and b"redirect_uri" in body
        st, h2, body = raw(emu, "GET", authorize_url(client_id="nobody"))
        assert st == 400 and "location" not in h2
        # other errors go back to the client
        st, h2, _ = raw(emu, "GET", authorize_url(scope="FOO"))
        assert st == 302 and "error=invalid_scope" in h2["location"] and "state=xyz" in \
            h2["location"]
        # a scope beyond the client's is capped (RFC 6749 3.3): ADMIN -> WRITE
        st, h2, _ = raw(emu, "GET", authorize_url(scope="ADMIN"))
        assert st == 302
        r = exchange(emu, code_of(h2["location"]))
        assert r.status == 200 and r.json["scope"] == "WRITE"
        st, h2, _ = raw(emu, "GET", authorize_url(response_type="token"))
        assert "error=unsupported_response_type" in h2["location"]
    finally:
        emu.config(oauth2_auto_approve_user=None)
    # PKCE: a wrong verifier fails, the right one works, once
    r = exchange(emu, code, verifier="x" * 43)
    assert r.status == 400 and r.json["error"] == "invalid_grant"
    r = exchange(emu, code)
    assert r.status == 200, r.body
    t = r.json
    assert t["token_type"] == "bearer" and t["expires_in"] == 3600 and t["scope"] == "WRITE"
    assert t["access_token"] and t["refresh_token"]
    assert r.header("Cache-Control") == "no-store"
    r = emu.rest("GET", "myself", token=t["access_token"])
    assert r.status == 200 and r.json["name"] == "alice"
    # a replayed code fails and revokes what it produced
    r = exchange(emu, code)
    assert r.status == 400 and r.json["error"] == "invalid_grant"
    r = emu.rest("GET", "myself", token=t["access_token"])
    assert r.status == 401 and 'error="invalid_token"' in r.header("WWW-Authenticate")
    # without auto-approval: a consent page, then approval through the control API
    st, h, body = raw(emu, "GET", authorize_url())
    assert st == 200 and b"jirafs OAuth 2" in body and "location" not in h
    loc = emu.oauth2_approve("jirafs2", REDIRECT, state="xyz", code_challenge=CHALLENGE,
                             scope="WRITE", user="bob")
    r = exchange(emu, code_of(loc), basic=True)          # client credentials by Basic
    assert r.status == 200, r.body
    t = r.json
    r = emu.rest("POST", "issue/SEC-1/comment", {"body": "over OAuth 2.0"},
                 token=t["access_token"])
    assert r.status == 201 and r.json["author"]["name"] == "bob"
    # refresh tokens rotate
    before = emu.oauth2_tokens()
    r = token_req(emu, {"grant_type": "refresh_token", "refresh_token": t["refresh_token"],
                        "client_id": "jirafs2", "client_secret": "s3cret"})
    assert r.status == 200, r.body
    t2 = r.json
    assert t2["refresh_token"] != t["refresh_token"] and t2["scope"] == "WRITE"
    r = token_req(emu, {"grant_type": "refresh_token", "refresh_token": t["refresh_token"],
                        "client_id": "jirafs2", "client_secret": "s3cret"})
    assert r.status == 400 and r.json["error"] == "invalid_grant"
    assert r.json["error_description"]
    after = emu.oauth2_tokens()
    assert after["refreshes"] == before["refreshes"] + 1
    assert after["refresh"] == before["refresh"] and after["access"] == before["access"] + 1
    assert emu.rest("GET", "myself", token=t2["access_token"]).json["name"] == "bob"
    # client errors
    r = token_req(emu, {"grant_type": "refresh_token", "refresh_token": t2["refresh_token"],
                        "client_id": "jirafs2", "client_secret": "wrong"})
    assert r.status == 401 and r.json["error"] == "invalid_client"
    r = token_req(emu, {"grant_type": "refresh_token", "refresh_token": t2["refresh_token"]},
                  basic=("jirafs2", "wrong"))
    assert r.status == 401 and r.header("WWW-Authenticate").startswith("Basic")
    r = token_req(emu, {"grant_type": "password", "client_id": "jirafs2",
                        "client_secret": "s3cret"})
    assert r.status == 400 and r.json["error"] == "unsupported_grant_type"
    r = token_req(emu, {"grant_type": "refresh_token", "client_id": "jirafs2",
                        "client_secret": "s3cret"})
    assert r.status == 400 and r.json["error"] == "invalid_request"
    r = emu.http("POST", "/rest/oauth2/latest/token", {"grant_type": "refresh_token"},
                 {"Content-Type": "application/json"})
    assert r.status == 400 and r.json["error"] == "invalid_request"
    r = emu.http("POST", "/rest/oauth2/latest/token",             # a str form body is sent as is
                 "grant_type=refresh_token&refresh_token=" + t["refresh_token"] +
                 "&client_id=jirafs2&client_secret=s3cret",
                 {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 400 and r.json["error"] == "invalid_grant"
    # the log has no code, verifier, secret or token
    text = json.dumps(emu.requests(since=m))
    for s in (code, VERIFIER, "s3cret", t["access_token"], t["refresh_token"],
              t2["refresh_token"], "Bearer", "Basic "):
        assert s not in text
    e = [x for x in emu.requests(since=m) if x["path"] == "/rest/api/2/myself"][-1]
    assert e["auth"] == "oauth2" and e["user"] == "bob"


def test_oauth2_expiry_and_scopes(emu):
    emu.oauth2_client("reader", "r-secret", ["https://app.example/cb"], ["READ"])
    emu.oauth2_client("jirafs3", "s", [REDIRECT], ["READ", "WRITE"])
    older = emu.oauth2_token("jirafs3", "bob")
    assert older["expires_in"] == 3600
    emu.config(oauth2_access_lifetime=0.5)
    try:
        loc = emu.oauth2_approve("jirafs3", REDIRECT, state="s1", code_challenge=CHALLENGE)
        r = token_req(emu, {"grant_type": "authorization_code", "code": code_of(loc, "s1"),
                            "redirect_uri": REDIRECT, "code_verifier": VERIFIER,
                            "client_id": "jirafs3", "client_secret": "s"})
        t = r.json
        assert t["expires_in"] == 1 and t["scope"] == "READ WRITE"
        assert emu.rest("GET", "myself", token=t["access_token"]).status == 200
        time.sleep(0.6)
        # lowering the lifetime also ends tokens issued before (their client thinks them live)
        assert emu.rest("GET", "myself", token=older["access_token"]).status == 401
    finally:
        emu.config(oauth2_access_lifetime=3600)
    assert emu.rest("GET", "myself", token=older["access_token"]).status == 401
    r = emu.rest("GET", "myself", token=t["access_token"])
    assert r.status == 401
    assert r.header("WWW-Authenticate").startswith('Bearer realm="%s"' % emu.url)
    assert 'error="invalid_token"' in r.header("WWW-Authenticate")
    r = emu.rest("GET", "project", token=t["access_token"])
    assert r.status == 401                      # not anonymous, unlike a bad PAT
    r = emu.rest("GET", "project", token="not-a-token")
    assert r.status == 200 and r.json == [] and r.header("X-Seraph-LoginReason") == \
        "AUTHENTICATED_FAILED"
    # the refresh token still works after the access token expired
    r = token_req(emu, {"grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
                  basic=("jirafs3", "s"))
    assert r.status == 200 and emu.rest("GET", "myself",
                                        token=r.json["access_token"]).status == 200
    # READ scope: reads only
    rd = emu.oauth2_token("reader", "alice")
    assert rd["scope"] == "READ"
    assert emu.rest("GET", "issue/SEC-1", token=rd["access_token"]).status == 200
    assert emu.rest("POST", "search", {"jql": "project = SEC"},
                    token=rd["access_token"]).status == 200
    r = emu.rest("POST", "issue/SEC-1/comment", {"body": "no"}, token=rd["access_token"])
    assert r.status == 403 and "scope" in r.json["errorMessages"][0]
    r = emu.rest("PUT", "issue/SEC-1/properties/x", {"a": 1}, token=rd["access_token"])
    assert r.status == 403
    r = emu.rest("DELETE", "issue/SEC-1/properties/x", token=rd["access_token"])
    assert r.status == 403
    wr = emu.oauth2_token("jirafs3", "alice", scopes=["WRITE"])
    assert emu.rest("GET", "issue/SEC-1", token=wr["access_token"]).status == 200
    assert emu.rest("PUT", "issue/SEC-1/properties/x", {"a": 1},
                    token=wr["access_token"]).status == 201
    assert emu.oauth2_revoke(wr["access_token"]) is True
    assert emu.rest("GET", "myself", token=wr["access_token"]).status == 401
    counts = emu.oauth2_tokens()
    assert set(counts) == {"access", "refresh", "codes", "issued", "refreshes"}


def test_oauth_persistence(tmp_path, keys):
    (priv, pub), _ = keys
    e = Emulator.start(tmp_path, seed_projects=["P:3"])
    try:
        e.oauth1_consumer("persist", pub)
        at = e.oauth1_token("persist", "bob")
        e.oauth2_client("c", "kept-secret-123", [REDIRECT])
        t = e.oauth2_token("c", "jdoe")
        e.config(oauth2_auto_approve_user="alice")
        assert e.stop() == 0
        e.restart()
        from oauthlib.oauth1 import SIGNATURE_RSA, Client
        c = Client("persist", resource_owner_key=at["token"], signature_method=SIGNATURE_RSA,
                   rsa_key=priv)
        assert signed(e, c, "GET", "/rest/api/2/myself").json["name"] == "bob"
        assert e.rest("GET", "myself", token=t["access_token"]).json["name"] == "jdoe"
        r = token_req(e, {"grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
                      basic=("c", "kept-secret-123"))
        assert r.status == 200
        assert e.config()["oauth2_auto_approve_user"] == "alice"
        saved = open(e.state_path).read()
        assert "kept-secret-123" not in saved and t["refresh_token"] not in saved
    finally:
        e.stop()
