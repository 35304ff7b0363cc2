"""jirafs check (CONTRACT §12): the prerequisites as a checklist, named
correctly when one is broken; only GETs reach Jira."""
import json
import os
import subprocess
import sys
import time

from sshlib import SSHD, Sshd, free_port


def secret(tmp_path, name, value):
    p = tmp_path / name
    p.write_text(value + "\n")
    p.chmod(0o600)
    return str(p)


def check(jirafs_bin, emu, *opts, json_out=False, url=None):
    args = [jirafs_bin, "check", url or emu.url, "-o", ",".join(opts)]
    if json_out:
        args.append("--json")
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def test_check_passes_on_the_demo_and_changes_nothing(jirafs_bin, fresh_emulator, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    tok = secret(tmp_path, "tok", "alice-pat")
    since = emu.request_seq()
    r = check(jirafs_bin, emu, "auth=pat", f"token_file={tok}", f"state_dir={tmp_path}/st")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "\u2713 credentials: logged in as alice (auth=pat)" in r.stdout
    assert f"\u2713 name resolution: the host 127.0.0.1 is 127.0.0.1" in r.stdout
    assert f"\u2713 TCP: the host 127.0.0.1 port {emu.port} accepts connections" in r.stdout
    assert "\u2713 version: Jira 10.3.4 Server" in r.stdout
    for key in ("OPS", "SEC", "WEB"):
        assert f"\u2713 project {key}: browse, create" in r.stdout
        assert f"\u2713 create screen: {key}/Task: jirafs fills every required field" in r.stdout
        assert f"\u2713 done transition: {key}: \"Close Issue\" from " in r.stdout
    assert "its screen gets resolution Done" in r.stdout
    assert r.stdout.rstrip().endswith("0 failed, 1 warning")   # http://
    assert {q["method"] for q in emu.requests(since=since)} == {"GET"}
    assert not os.path.exists(f"{tmp_path}/st")                  # nothing made either


def test_check_names_a_missing_permission_with_its_fix(jirafs_bin, fresh_emulator, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    emu.config(permissions_denied={"alice": ["TRANSITION_ISSUES"]})
    tok = secret(tmp_path, "tok", "alice-pat")
    r = check(jirafs_bin, emu, "auth=pat", f"token_file={tok}", "projects=SEC",
              f"state_dir={tmp_path}/st", json_out=True)
    assert r.returncode == 2, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] is False and out["failed"] == 1
    sec = [c for c in out["checks"] if c["check"] == "project SEC"][0]
    assert sec["result"] == "fail"
    assert "Transition Issues" in sec["detail"]
    assert sec["fix"] == ("ask a Jira admin to grant Transition Issues to alice in the "
                          "permission scheme of project SEC")


def test_check_names_basic_disabled_and_an_expired_token(jirafs_bin, fresh_emulator, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    emu.config(basic_auth=False)
    pw = secret(tmp_path, "pw", "alice-pass")
    r = check(jirafs_bin, emu, "auth=basic", "user=alice", f"password_file={pw}", "allow_http",
              f"state_dir={tmp_path}/st")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "\u2717 credentials: auth=basic is disabled on this site" in r.stdout
    assert "use auth=pat" in r.stdout
    bad = secret(tmp_path, "bad", "no-such-token")
    r = check(jirafs_bin, emu, "auth=pat", f"token_file={bad}", f"state_dir={tmp_path}/st")
    assert r.returncode == 2
    assert "\u2717 credentials: not accepted (auth=pat)" in r.stdout
    assert "wrong, revoked or expired" in r.stdout


def test_check_names_a_wrong_ca_and_a_loose_state_dir(jirafs_bin, fresh_emulator, tmp_path):
    emu = fresh_emulator(tls=True, extra_args=["--seed", "demo"])
    tok = secret(tmp_path, "tok", "alice-pat")
    r = check(jirafs_bin, emu, "auth=pat", f"token_file={tok}", f"state_dir={tmp_path}/st")
    assert r.returncode == 2
    assert "\u2717 TLS:" in r.stdout and "cacert=FILE" in r.stdout
    # what the certificate is, read from the handshake, and who issued it
    assert "certificate for " in r.stdout and ", issued by " in r.stdout
    assert "this machine does not trust: give -o cacert=FILE with the certificate of " \
        in r.stdout, r.stdout
    other = tmp_path / "other-ca.pem"
    other.write_text(open("/etc/ssl/certs/ca-certificates.crt").read())
    r = check(jirafs_bin, emu, "auth=pat", f"token_file={tok}", f"cacert={other}",
              f"state_dir={tmp_path}/st")
    assert r.returncode == 2 and "did not issue the server's certificate" in r.stdout
    st = tmp_path / "loose"
    st.mkdir(mode=0o755)
    st.chmod(0o755)
    r = check(jirafs_bin, emu, "auth=pat", f"token_file={tok}", f"cacert={emu.ca_path}",
              f"state_dir={st}")
    assert r.returncode == 0, r.stdout       # a mount works; others may read it
    assert "\u2713 Jira:" in r.stdout and "verified TLS" in r.stdout
    assert f"! state directory: {st}: mode 0755, yours" in r.stdout
    assert f"fix: chmod 700 {st}" in r.stdout
    f = tmp_path / "a-file"
    f.write_text("")
    r = check(jirafs_bin, emu, "auth=pat", f"token_file={tok}", f"cacert={emu.ca_path}",
              f"state_dir={f}")
    assert r.returncode == 2 and f"\u2717 state directory: {f} is not a directory" in r.stdout


def lines(out, what):
    return [c for c in out["checks"] if c["check"] == what]


def test_check_names_a_required_field_and_options_that_do_not_exist(
        jirafs_bin, fresh_emulator, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    emu.config(site_fields=[{"id": "customfield_10200", "name": "Team"}],
               required_fields={"SEC": {"*": ["customfield_10200"]}})
    tok = secret(tmp_path, "tok", "alice-pat")
    st = f"state_dir={tmp_path}/st"
    r = check(jirafs_bin, emu, "auth=pat", f"token_file={tok}", "projects=SEC,OPS", st,
              json_out=True)
    assert r.returncode == 2, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["failed"] == 1
    sec, ops = lines(out, "create screen")
    assert sec["result"] == "fail" and ops["result"] == "ok"
    assert sec["detail"] == "SEC/Task requires Team (customfield_10200), with no default"
    assert sec["fix"].startswith("ask a Jira admin to give Team (customfield_10200) a default")
    # the named options: a type, a transition and a resolution that do not exist
    r = check(jirafs_bin, emu, "auth=pat", f"token_file={tok}", "projects=OPS", st,
              "default_issuetype=Incident", "close_transition=Finish", "resolution=Solved",
              json_out=True)
    out = json.loads(r.stdout)
    assert r.returncode == 2 and out["failed"] == 1, r.stdout    # creates would fail
    assert lines(out, "default_issuetype")[0]["detail"].startswith(
        "OPS has no issue type Incident (it has: ")
    # closing still works: jirafs falls back, and says to what
    ct = lines(out, "close_transition")[0]
    assert ct["result"] == "warn" and "Close Issue" in ct["detail"]
    assert 'jirafs will use "Close Issue"' in ct["detail"]
    res = lines(out, "resolution")[0]
    assert res["result"] == "warn"
    assert res["detail"].startswith("resolution=Solved does not exist: jirafs will use Done")
    # and ones that do
    r = check(jirafs_bin, emu, "auth=pat", f"token_file={tok}", "projects=OPS", st,
              "default_issuetype=bug", "close_transition=Resolve Issue", "resolution=Fixed")
    assert r.returncode == 0, r.stdout
    assert '\u2713 done transition: OPS: "Resolve Issue" from Open, its screen gets ' \
           'resolution Fixed' in r.stdout


def test_check_names_an_auth_method_the_version_lacks(jirafs_bin, fresh_emulator, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    emu.config(server_version="8.13.2")
    tok = secret(tmp_path, "tok", "alice-pat")
    r = check(jirafs_bin, emu, "auth=pat", f"token_file={tok}", f"state_dir={tmp_path}/st")
    assert r.returncode == 2
    assert "\u2717 auth method: auth=pat needs Jira 8.14 or later, this is 8.13.2" in r.stdout, r.stdout
    emu.config(server_version="8.21.0")
    r = check(jirafs_bin, emu, "auth=oauth2", "client_id=x", f"state_dir={tmp_path}/st")
    assert r.returncode == 2
    # no tokens yet (credentials), and the site is asked all the same
    assert "\u2717 credentials: " in r.stdout and "oauth2" in r.stdout, r.stdout
    assert "\u2717 auth method: auth=oauth2 needs Jira 8.22 or later, this is 8.21.0" \
        in r.stdout, r.stdout


def test_check_names_an_expired_token(jirafs_bin, fresh_emulator, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    tok = secret(tmp_path, "tok", emu.new_pat(expires_in=1))
    time.sleep(1.5)
    r = check(jirafs_bin, emu, "auth=pat", f"token_file={tok}", f"state_dir={tmp_path}/st")
    assert r.returncode == 2
    assert "\u2717 credentials: not accepted (auth=pat)" in r.stdout
    assert "the token is wrong, revoked or expired" in r.stdout


def test_check_shows_the_oauth2_tokens_expiry_and_a_refused_refresh(
        jirafs_bin, fresh_emulator, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    emu.oauth2_client("jirafs-client", "s3cr3t", ["http://127.0.0.1:1/cb"])
    cs = secret(tmp_path, "cs", "s3cr3t")
    state = tmp_path / "o2"
    state.mkdir(mode=0o700)
    state.chmod(0o700)

    def store(expires_in):
        t = emu.oauth2_token("jirafs-client", expires_in=expires_in)
        path = state / "oauth2.json"
        path.write_text(json.dumps({
            "client_id": "jirafs-client", "access_token": t["access_token"],
            "refresh_token": t["refresh_token"], "scope": t.get("scope", "WRITE"),
            "expires_at_ms": int((time.time() + t["expires_in"]) * 1000),
            "lifetime_ms": t["expires_in"] * 1000}))
        path.chmod(0o600)
        return t
    opts = ("auth=oauth2", "client_id=jirafs-client", f"client_secret_file={cs}",
            f"state_dir={state}")
    store(3600)
    r = check(jirafs_bin, emu, *opts)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "\u2713 OAuth 2.0 tokens: the access token expires " in r.stdout
    assert "(59 min); then the refresh token renews it (not tried until then)" in r.stdout
    # an access token that expired is renewed by the check, as a mount would
    store(1)
    time.sleep(1.5)
    r = check(jirafs_bin, emu, *opts)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "the refresh token renewed it just now" in r.stdout
    # both dead: the refresh token was refused
    t = store(1)
    emu.oauth2_revoke(t["refresh_token"])
    time.sleep(1.5)
    r = check(jirafs_bin, emu, *opts)
    assert r.returncode == 2, r.stdout
    assert "\u2717 OAuth 2.0 tokens: the access token had expired and the refresh token " \
           "was refused" in r.stdout
    assert "run jirafs auth oauth2-login again" in r.stdout


def test_check_names_the_step_where_the_way_breaks(jirafs_bin, fresh_emulator, tmp_path):
    emu = fresh_emulator(tls=True, extra_args=["--seed", "demo", "--base-url",
                                               "https://jira.internal.test:8443"])
    tok = secret(tmp_path, "tok", "alice-pat")
    base = ("auth=pat", f"token_file={tok}", f"state_dir={tmp_path}/st", f"cacert={emu.ca_path}")
    r = check(jirafs_bin, emu, *base, url="https://no-such-host.invalid:8443")
    assert r.returncode == 2
    assert "\u2717 name resolution: the host no-such-host.invalid does not resolve" in r.stdout
    assert "tunnel= or the agent layout" in r.stdout
    closed = free_port()                            # nothing listens there
    r = check(jirafs_bin, emu, *base, f"connect_to=jira.internal.test:8443:127.0.0.1:{closed}",
              url="https://jira.internal.test:8443")
    assert "\u2713 connect_to: jira.internal.test:8443 is reached at 127.0.0.1:" in r.stdout
    assert f"\u2717 TCP: connect_to target 127.0.0.1 port {closed}: Connection refused" \
        in r.stdout, r.stdout
    # the agent layout's connect_to: verified against the original name
    r = check(jirafs_bin, emu, *base, f"connect_to=jira.internal.test:8443:127.0.0.1:{emu.port}",
              url="https://jira.internal.test:8443")
    assert r.returncode == 0, r.stdout
    assert "\u2713 TLS: certificate for " in r.stdout and "; verified" in r.stdout
    # a name the certificate does not carry: cacert= would not help
    r = check(jirafs_bin, emu, *base, f"connect_to=wrong.internal.test:8443:127.0.0.1:{emu.port}",
              url="https://wrong.internal.test:8443")
    assert r.returncode == 2
    assert "\u2717 TLS:" in r.stdout and "not for this host name" in r.stdout


def test_check_through_the_tunnel(jirafs_bin, fresh_emulator, tmp_path):
    sshd = Sshd(tmp_path / "sshd").start()
    try:
        emu = fresh_emulator(extra_args=["--seed", "demo", "--peer-exe", SSHD,
                                         "--peer-exe", sys.executable])
        tok = secret(tmp_path, "tok", "alice-pat")
        r = check(jirafs_bin, emu, "auth=pat", f"token_file={tok}", f"state_dir={tmp_path}/st",
                  f"tunnel=ssh://{sshd.dest}", f"ssh_command={sshd.ssh_command}", "projects=SEC")
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"\u2713 tunnel: ssh to ssh://{sshd.dest} is up (SOCKS on 127.0.0.1:" in r.stdout
        assert "name resolution" not in r.stdout      # names resolve on the far side
        sshd.stop()
        r = check(jirafs_bin, emu, "auth=pat", f"token_file={tok}", f"state_dir={tmp_path}/st",
                  f"tunnel=ssh://{sshd.dest}", f"ssh_command={sshd.ssh_command}", "timeout=5")
        assert r.returncode == 2
        assert "\u2717 tunnel: ssh to " in r.stdout and "BatchMode" in r.stdout, r.stdout
    finally:
        sshd.stop()


def test_check_sends_no_password_in_clear_and_refuses_what_a_mount_refuses(
        jirafs_bin, fresh_emulator, tmp_path):
    emu = fresh_emulator(extra_args=["--seed", "demo"])
    pw = secret(tmp_path, "pw", "alice-pass")
    since = emu.request_seq()
    r = check(jirafs_bin, emu, "auth=basic", "user=alice", f"password_file={pw}",
              f"state_dir={tmp_path}/st")
    assert r.returncode == 2, r.stdout
    assert "\u2717 auth method: auth=basic would send the password unencrypted over " \
           "http://; a mount refuses it" in r.stdout
    assert "\u2713 version: Jira 10.3.4" in r.stdout             # asked without it
    names = [ln.split(":")[0][2:] for ln in r.stdout.splitlines() if ln[:1] in "\u2713\u2717!"]
    assert names.count("auth method") == 1, r.stdout            # not also "offered"
    assert names.index("TCP") < names.index("version") < names.index("auth method"), r.stdout
    seen = emu.requests(since=since)
    assert seen and {q["auth"] for q in seen} <= {"anonymous", None}, seen
    # credentials that cannot be used are said where a mount meets them:
    # after the way there and the version, which are still asked
    r = check(jirafs_bin, emu, "auth=oauth2", f"state_dir={tmp_path}/st")
    assert r.returncode == 2, r.stdout
    names = [ln.split(":")[0][2:] for ln in r.stdout.splitlines() if ln[:1] in "\u2713\u2717!"]
    assert names[:5] == ["name resolution", "TCP", "Jira", "version", "auth method"], r.stdout
    assert names[5] == "credentials" and "\u2717 credentials: auth=oauth2 needs -o client_id" \
        in r.stdout, r.stdout
    # a libfuse option is checked as the mount checks it
    since = emu.request_seq()
    r = check(jirafs_bin, emu, "auth=pat", f"token_file={secret(tmp_path, 't0', 'alice-pat')}",
              "max_read=notanumber")
    assert r.returncode == 1 and "max_read" in r.stderr, r.stderr
    assert emu.requests(since=since) == []
    # a typo in an option fails as the mount's would, before any request
    tok = secret(tmp_path, "tok", "alice-pat")
    since = emu.request_seq()
    r = check(jirafs_bin, emu, "auth=pat", f"token_file={tok}", "projets=SEC")
    assert r.returncode == 1 and "projets=SEC" in r.stderr, r.stderr
    assert emu.requests(since=since) == []
