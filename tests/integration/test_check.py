"""jirafs check (CONTRACT §12): the prerequisites as a checklist, named
correctly when one is broken; only GETs reach Jira."""
import json
import os
import subprocess


def secret(tmp_path, name, value):
    p = tmp_path / name
    p.write_text(value + "\n")
    p.chmod(0o600)
    return str(p)


def check(jirafs_bin, emu, *opts, json_out=False):
    args = [jirafs_bin, "check", emu.url, "-o", ",".join(opts)]
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
    for key in ("OPS", "SEC", "WEB"):
        assert f"\u2713 project {key}: browse, create" in r.stdout
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
    assert r.returncode == 2, r.stdout
    assert "\u2713 reachability:" in r.stdout and "verified TLS" in r.stdout
    assert f"\u2717 state directory: {st} is a directory (mode 0755" in r.stdout
