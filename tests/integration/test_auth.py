"""The four authentication methods (CONTRACT §5), verified for real by the
emulator: each mounts and creates, comments and closes; the OAuth logins
run as a user would run them; secrets stay out of argv and logs."""
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from mountlib import free_port, status
from ticket_model import is_done


def secret_file(tmp_path, name, value):
    p = tmp_path / name
    p.write_text(value + "\n")
    p.chmod(0o600)
    return str(p)


def create_comment_close(emu, m, project="OPS"):
    """The acceptance round: create, comment, close; returns the key."""
    with open(m.p(project, "auth-check.json"), "w") as f:
        f.write(json.dumps({"summary": "written with auth " + m.options[0]}))
    key = os.readlink(m.p(project, "auth-check.json"))[:-5]
    with open(m.p(project, f"{key}.json"), "a") as f:
        f.write("a comment\n")
    os.rename(m.p(project, f"{key}.json"), m.p(project, "closed", f"{key}.json"))
    bean = emu.issue(key)
    assert bean["fields"]["comment"]["comments"][-1]["body"] == "a comment"
    assert is_done(bean)
    return key


def auths_of(emu, since):
    return {r["auth"] for r in emu.requests(since=since)}


def no_secret_in(text, *secrets):
    for s in secrets:
        assert s not in text, "a secret reached the output"


def run_jirafs(jirafs_bin, *args, input=None, timeout=60):
    return subprocess.run([jirafs_bin, *args], capture_output=True, text=True, input=input,
                          timeout=timeout)


# ---- pat and basic ---------------------------------------------------------

def test_pat_mounts_creates_comments_closes(fresh_emulator, mount):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    m = mount(emu)
    since = emu.request_seq()
    create_comment_close(emu, m)
    assert auths_of(emu, since) == {"pat"}


def test_basic_over_https_mounts_creates_comments_closes(fresh_emulator, mount, tmp_path):
    emu = fresh_emulator(tls=True, extra_args=["--seed", "demo"])
    pw = secret_file(tmp_path, "pw", "alice-pass")
    m = mount(emu, "auth=basic", "user=alice", f"password_file={pw}",
              f"cacert={emu.ca_path}", auth=False)
    since = emu.request_seq()
    create_comment_close(emu, m)
    assert auths_of(emu, since) == {"basic"}
    m.unmount()
    no_secret_in(m.log(), "alice-pass")


def test_basic_refused_over_http_unless_allowed(fresh_emulator, mount, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    pw = secret_file(tmp_path, "pw", "alice-pass")
    m = mount(emu, "auth=basic", "user=alice", f"password_file={pw}", start=False, auth=False)
    rc, out = m.run_expect_failure()
    assert rc == 1 and "http://" in out and "allow_http" in out
    assert emu.requests() == []
    m2 = mount(emu, "auth=basic", "user=alice", f"password_file={pw}", "allow_http",
               auth=False)
    assert "SEC" in os.listdir(m2.path)


def test_basic_wrong_password_captcha_and_disabled(fresh_emulator, mount, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    bad = secret_file(tmp_path, "bad", "not-the-password")
    good = secret_file(tmp_path, "good", "alice-pass")
    opts = ["auth=basic", "user=alice", "allow_http"]
    for _ in range(3):
        m = mount(emu, *opts, f"password_file={bad}", start=False, auth=False)
        rc, out = m.run_expect_failure()
        assert rc == 2 and "did not accept the credentials" in out
    since = emu.request_seq()
    m = mount(emu, *opts, f"password_file={good}", start=False, auth=False)
    rc, out = m.run_expect_failure()                # locked: even the right password
    assert rc == 2 and "CAPTCHA" in out
    assert len(emu.requests(since=since)) == 1      # never retried
    emu.reset_captcha()
    emu.config(basic_auth=False)
    m = mount(emu, *opts, f"password_file={good}", start=False, auth=False)
    rc, out = m.run_expect_failure()
    assert rc == 2 and "disabled" in out


# ---- OAuth 1.0a ------------------------------------------------------------

def oauth1_setup(jirafs_bin, emu, tmp_path, consumer="jirafs-test"):
    state = tmp_path / "o1state"
    r = run_jirafs(jirafs_bin, "auth", "oauth1-keygen", "-o", f"state_dir={state}")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    key = state / "oauth1.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    emu.oauth1_consumer(consumer, r.stdout)
    # the login: the authorize URL alone on a line, then the verifier
    p, url = start_login(jirafs_bin, "oauth1-login",
                         f"consumer_key={consumer},state_dir={state}", emu.url,
                         "/plugins/servlet/oauth/authorize?")
    token = re.search(r"oauth_token=([^&\s]+)", url).group(1)
    verifier = emu.oauth1_authorize(urllib.request.unquote(token), "alice")
    out, err = p.communicate(verifier + "\n", timeout=60)
    assert p.returncode == 0, err
    cred = state / "oauth1.json"
    assert cred.stat().st_mode & 0o777 == 0o600
    no_secret_in(out + err, json.loads(cred.read_text())["token_secret"])
    return state, consumer


def start_login(jirafs_bin, command, options, url, authorize_path):
    """`jirafs auth COMMAND -o OPTIONS URL`, up to the authorize URL it
    prints alone on a line: (the process, that URL)."""
    p = subprocess.Popen([jirafs_bin, "auth", command, "-o", options, url],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    while True:
        line = p.stdout.readline()
        assert line, p.stderr.read()
        if line.startswith(url + authorize_path):
            return p, line.strip()


def test_oauth1_keygen_login_mount_create_comment_close(fresh_emulator, mount, jirafs_bin,
                                                        tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    state, consumer = oauth1_setup(jirafs_bin, emu, tmp_path)
    m = mount(emu, "auth=oauth1", f"consumer_key={consumer}", f"state_dir={state}", "debug",
              auth=False)
    since = emu.request_seq()
    create_comment_close(emu, m)
    assert auths_of(emu, since) == {"oauth1"}
    m.unmount()
    log = m.log()
    assert "Authorization: <redacted>" in log and "oauth_signature" not in log


def test_oauth1_wrong_key_is_refused_at_mount(fresh_emulator, mount, jirafs_bin, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    state, consumer = oauth1_setup(jirafs_bin, emu, tmp_path)
    other = tmp_path / "other.pem"
    r = run_jirafs(jirafs_bin, "auth", "oauth1-keygen", "-o", f"private_key={other}")
    assert r.returncode == 0
    m = mount(emu, "auth=oauth1", f"consumer_key={consumer}", f"state_dir={state}",
              f"private_key={other}", start=False, auth=False)
    rc, out = m.run_expect_failure()
    assert rc == 2 and "signature_invalid" in out


def test_oauth1_login_without_keygen_says_so(jirafs_bin, tmp_path, fresh_emulator):
    emu = fresh_emulator()
    r = run_jirafs(jirafs_bin, "auth", "oauth1-login", "-o",
                   f"consumer_key=x,state_dir={tmp_path}/none", emu.url)
    assert r.returncode != 0 and "oauth1.pem" in r.stderr


# ---- OAuth 2.0 -------------------------------------------------------------

def oauth2_login(jirafs_bin, emu, tmp_path, redirect, paste=False, scopes=("READ", "WRITE"),
                 via_config=False):
    state = tmp_path / "o2state"
    secret = secret_file(tmp_path, "client-secret", "s3cr3t-client")
    emu.oauth2_client("jirafs-client", "s3cr3t-client", [redirect], list(scopes))
    emu.config(oauth2_auto_approve_user="alice")
    options = (f"client_id=jirafs-client,client_secret_file={secret},"
               f"redirect_uri={redirect},state_dir={state}")
    if via_config:
        # as a mount reads them: from the config file, with options of the
        # mount's that the login has no use for (a writer's, libfuse's)
        cfg = tmp_path / "config"
        cfg.write_text("\n".join(options.split(",") +
                                 ["resolution=Done", "allow_other", "max_threads=4"]) + "\n")
        cfg.chmod(0o600)
        options = f"config={cfg}"
    p, url = start_login(jirafs_bin, "oauth2-login", options, emu.url,
                         "/rest/oauth2/latest/authorize?")
    assert "code_challenge_method=S256" in url and "scope=WRITE" in url

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(url, timeout=10)
        raise AssertionError("the authorize URL did not redirect")
    except urllib.error.HTTPError as e:
        assert e.code == 302
        location = e.headers["Location"]
    if paste:
        out, err = p.communicate(location + "\n", timeout=60)
    else:                                   # the browser follows the redirect
        with urllib.request.urlopen(location, timeout=10) as r:
            assert b"close this window" in r.read()
        out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    tokens = state / "oauth2.json"
    assert tokens.stat().st_mode & 0o777 == 0o600
    no_secret_in(out + err, json.loads(tokens.read_text())["refresh_token"], "s3cr3t-client")
    return state, secret


def test_oauth2_login_on_loopback_mount_create_comment_close(fresh_emulator, mount, jirafs_bin,
                                                             tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    state, secret = oauth2_login(jirafs_bin, emu, tmp_path, redirect)
    m = mount(emu, "auth=oauth2", "client_id=jirafs-client", f"client_secret_file={secret}",
              f"state_dir={state}", "debug", auth=False)
    since = emu.request_seq()
    create_comment_close(emu, m)
    assert auths_of(emu, since) == {"oauth2"}
    m.unmount()
    log = m.log()
    tokens = json.loads((state / "oauth2.json").read_text())
    no_secret_in(log, tokens["access_token"], tokens["refresh_token"], "s3cr3t-client")


def test_oauth2_login_reads_the_config_file(fresh_emulator, mount, jirafs_bin, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    state, secret = oauth2_login(jirafs_bin, emu, tmp_path, redirect, via_config=True)
    m = mount(emu, "auth=oauth2", f"config={tmp_path / 'config'}", f"state_dir={state}",
              auth=False)
    assert "SEC" in os.listdir(m.path)
    # a typo in a libfuse option, and a word too many, fail before any request
    since = emu.request_seq()
    r = run_jirafs(jirafs_bin, "auth", "oauth2-login", "-o", f"config={tmp_path / 'config'},"
                   "max_thread=4", emu.url)
    assert r.returncode == 1 and "max_thread=4" in r.stderr, r.stderr
    r = run_jirafs(jirafs_bin, "auth", "oauth2-login", "-o", f"config={tmp_path / 'config'}",
                   emu.url, "extra")
    assert r.returncode == 1 and "usage" in r.stdout, r.stdout
    assert emu.requests(since=since) == []


def test_oauth2_pasted_redirect_and_rotation(fresh_emulator, mount, jirafs_bin, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    # not a loopback address (Jira wants https): the redirected URL is pasted
    state, secret = oauth2_login(jirafs_bin, emu, tmp_path,
                                 "https://jirafs.example.invalid/callback", paste=True)
    emu.config(oauth2_access_lifetime=2)
    first = json.loads((state / "oauth2.json").read_text())
    m = mount(emu, "auth=oauth2", "client_id=jirafs-client", f"client_secret_file={secret}",
              f"state_dir={state}", "cache_ttl=0", auth=False)
    os.listdir(m.p("SEC"))
    time.sleep(2.5)                          # the access token has expired
    since = emu.request_seq()
    names = [n for n in os.listdir(m.p("OPS")) if n.endswith(".json")]
    assert names
    token_calls = [r for r in emu.requests(since=since)
                   if r["path"] == "/rest/oauth2/latest/token"]
    assert len(token_calls) >= 1
    now = json.loads((state / "oauth2.json").read_text())
    assert now["refresh_token"] != first["refresh_token"]       # rotated, and stored
    # the old refresh token is dead in Jira (reuse is refused)
    r = emu.http("POST", "/rest/oauth2/latest/token",
                 body=urllib.parse.urlencode({
                     "grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                     "client_id": "jirafs-client", "client_secret": "s3cr3t-client"}),
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 400 and r.json["error"] == "invalid_grant"


def test_oauth2_many_threads_renew_once(fresh_emulator, mount, jirafs_bin, tmp_path):
    emu = fresh_emulator(seed_projects=["P:300:3"], extra_args=["--seed", "demo"])
    state, secret = oauth2_login(jirafs_bin, emu, tmp_path,
                                 f"http://127.0.0.1:{free_port()}/cb")
    emu.config(oauth2_access_lifetime=2)
    m = mount(emu, "auth=oauth2", "client_id=jirafs-client", f"client_secret_file={secret}",
              f"state_dir={state}", auth=False)
    time.sleep(2.5)
    since = emu.request_seq()
    procs = [subprocess.Popen(["ls", m.p(p)], stdout=subprocess.DEVNULL)
             for p in ("P", "SEC", "OPS", "WEB") * 2]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    token_calls = [r for r in emu.requests(since=since)
                   if r["path"] == "/rest/oauth2/latest/token"]
    assert len(token_calls) == 1


def test_oauth2_read_scope_cannot_write(fresh_emulator, mount, jirafs_bin, tmp_path):
    """A 403 is an authentication problem: the write waits in the outbox
    (CONTRACT 4.6) and .jirafs/status names the problem."""
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    state, secret = oauth2_login(jirafs_bin, emu, tmp_path,
                                 f"http://127.0.0.1:{free_port()}/cb", scopes=("READ",))
    m = mount(emu, "auth=oauth2", "client_id=jirafs-client", f"client_secret_file={secret}",
              f"state_dir={state}", auth=False)
    assert os.listdir(m.p("SEC"))
    with open(m.p("SEC", "nope.json"), "w") as f:
        f.write('{"summary": "not allowed"}')
    assert os.getxattr(m.p("SEC", "nope.json"), "user.jira.state") == b"pending"
    st = status(m)
    assert st["outbox"] == 1 and "scope" in st["auth_problem"]
    assert len(os.listdir(m.p(".jirafs", "outbox"))) == 1


# ---- hygiene ---------------------------------------------------------------

def test_secrets_never_on_the_command_line(jirafs_bin, tmp_path):
    r = run_jirafs(jirafs_bin, "--help")
    assert "token=" not in r.stdout.replace("token_file=", "")
    assert "password=" not in r.stdout.replace("password_file=", "")
    for opt in ("token=abc", "password=abc", "client_secret=abc"):
        r = run_jirafs(jirafs_bin, "-o", opt, "http://127.0.0.1:1", str(tmp_path))
        assert r.returncode != 0
