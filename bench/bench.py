"""The jirafs benchmark: one run, one emulator, jirafs side by side with
python-jira and curl.  Run it with bench/run (which builds first); see
bench/README.md for what each figure means.

Every figure comes with the emulator's request counts; comparisons are
ratios measured in this one run, because the machine is shared and noisy.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
sys.path.insert(0, HERE)
from control import Emulator  # noqa: E402
import make_sarif  # noqa: E402
import scan_peer  # noqa: E402

TOKEN = "alice-pat"


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def is_mounted(path):
    path = os.path.realpath(path)
    with open("/proc/self/mounts") as f:
        return any(line.split()[1] == path for line in f if len(line.split()) > 2)


class Jirafs:
    """The daemon, in the foreground, on its own mount point."""

    def __init__(self, binary, url, mnt, state, token_file, options=()):
        os.makedirs(mnt, exist_ok=True)
        self.mnt = mnt
        opts = ["auth=pat", f"token_file={token_file}", f"state_dir={state}"] + list(options)
        self.log = open(os.path.join(os.path.dirname(mnt), os.path.basename(mnt) + ".log"), "ab")
        self.proc = subprocess.Popen([binary, "-f", "-o", ",".join(opts), url, mnt],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        t0 = time.monotonic()
        while not is_mounted(mnt):
            if self.proc.poll() is not None or time.monotonic() - t0 > 60:
                raise SystemExit(f"jirafs did not mount {mnt}")
            time.sleep(0.02)

    def p(self, *parts):
        return os.path.join(self.mnt, *parts)

    def status(self):
        with open(self.p(".jirafs", "status")) as f:
            return json.load(f)

    def memory_kib(self):
        out = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0]] = int(line.split()[1])
        return out

    def stop(self):
        subprocess.run(["fusermount3", "-u", self.mnt], check=False)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def timed(fn):
    t0 = time.monotonic()
    out = fn()
    return time.monotonic() - t0, out


def sh(cmd, cwd=None):
    r = subprocess.run(cmd, shell=True, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit(f"failed: {cmd}\n{r.stderr[-2000:]}")
    return r.stdout


def counts(emu, since):
    """What the emulator saw since a mark: searches, per-ticket GETs, writes."""
    reqs = emu.requests(since=since)
    c = {"requests": len(reqs), "searches": 0, "ticket_gets": 0, "creates": 0,
         "comments": 0, "other": 0}
    for r in reqs:
        path = r["path"]
        if path == "/rest/api/2/search":
            c["searches"] += 1
        elif r["method"] == "GET" and path.startswith("/rest/api/2/issue/") and \
                path.count("/") == 5 and "createmeta" not in path:   # /rest/api/2/issue/KEY
            c["ticket_gets"] += 1
        elif r["method"] == "POST" and path == "/rest/api/2/issue":
            c["creates"] += 1
        elif r["method"] == "POST" and path.endswith("/comment"):
            c["comments"] += 1
        else:
            c["other"] += 1
    return c


def wait_listing(j, before, timeout=120):
    """Wait until .jirafs/status counts one more finished listing."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if j.status()["counters"]["listings"] > before:
            return
        time.sleep(0.05)
    raise SystemExit("the refresh did not finish")


def settle(emu, quiet=0.5, timeout=60):
    """Wait until the emulator has logged no new request for `quiet` seconds."""
    t0 = last_change = time.monotonic()
    last = emu.mark()
    while time.monotonic() - t0 < timeout:
        time.sleep(0.05)
        m = emu.mark()
        if m != last:
            last, last_change = m, time.monotonic()
        elif time.monotonic() - last_change >= quiet:
            return
    raise SystemExit("the emulator never went quiet")


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)


def imported(j, result, n, t0, timeout=600):
    """Wait until the outbox is empty and the result file has n keys; -> seconds since t0."""
    while True:
        if not os.listdir(j.p(".jirafs", "outbox")):
            with open(result) as f:
                r = json.load(f)
            if sum(1 for x in r["findings"] if x.get("key")) >= n:
                return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise SystemExit(f"the import did not finish in {timeout} s: "
                             f"{len(os.listdir(j.p('.jirafs', 'outbox')))} records left")
        time.sleep(0.02)


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    return f"{cpu}, {os.cpu_count()} CPUs, {mem:.0f} GiB, Linux {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jirafs", default=os.path.join(ROOT, "build", "jirafs"))
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--tickets", type=int, default=50000, help="(a), (f), (g)")
    ap.add_argument("--grep-tickets", type=int, default=10000, help="(b)")
    ap.add_argument("--creates", type=int, default=500, help="(c), (d)")
    ap.add_argument("--comments", type=int, default=1000, help="(e)")
    ap.add_argument("--changed", type=int, default=10, help="(f)")
    ap.add_argument("--scan-findings", type=int, default=1000, help="(h)")
    ap.add_argument("--scan-peer-findings", type=int, default=200,
                    help="(h): python-jira runs over the first this many findings and its "
                         "times are scaled to --scan-findings (0: all of them)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--workdir")
    args = ap.parse_args()

    work = args.workdir or tempfile.mkdtemp(prefix="jirafs-bench-")
    os.makedirs(work, exist_ok=True)
    token_file = os.path.join(work, "token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(token_file, 0o600)

    n, ng = args.tickets, args.grep_tickets
    log(f"bench: seeding the emulator (BIG: {n}, GREP: {ng} tickets) ...")
    emu = Emulator.start(os.path.join(work, "emu"), state=False,
                         seed_projects=[f"BIG:{n}:4", f"GREP:{ng}:4"],
                         latency_ms=args.latency_ms, timeout=600)
    page = emu.config()["max_results"]
    for key in ("CRA", "CRB", "CRC", "CRD", "COM", "SCAN", "SCANA", "SCANB"):
        emu.create_project(key)
    emu.seed("COM", 100, done_every=0, comments=0)
    res = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": machine(), "latency_ms": args.latency_ms, "page_size": page,
           "tickets": n, "figures": {}}
    fig = res["figures"]
    mounts = []
    try:
        # ---------------------------------------------------------- (a) and (g)
        ttl = 3600
        j = Jirafs(args.jirafs, emu.url, os.path.join(work, "mnt"), os.path.join(work, "state"),
                   token_file, [f"cache_ttl={ttl}"])
        mounts.append(j)
        os.listdir(j.mnt)
        mark = emu.mark()
        t_cold, _ = timed(lambda: sh(f"ls -l {j.p('BIG')} {j.p('BIG', 'closed')} | wc -l"))
        c_cold = counts(emu, mark)
        mark = emu.mark()
        t_warm, out = timed(lambda: sh(f"ls -l {j.p('BIG')} {j.p('BIG', 'closed')} | wc -l"))
        c_warm = counts(emu, mark)
        # the tickets ls -l showed: not the headers, "total" lines, closed/ and scans/
        files = sum(1 for d in (j.p("BIG"), j.p("BIG", "closed"))
                    for x in os.listdir(d) if x.endswith(".json"))
        if files + 6 > int(out.split()[0]):
            raise SystemExit(f"ls -l showed {out.split()[0]} lines for {files} tickets")
        fig["a"] = {"what": f"ls -l of a {n:,}-ticket project", "files": files,
                    "cold_s": t_cold, "warm_s": t_warm, "cold_requests": c_cold,
                    "warm_requests": c_warm,
                    "search_target": -(-n // page) + 3}
        log(f"(a) cold ls -l: {t_cold:.2f} s, {c_cold['searches']} searches "
            f"(target <= {fig['a']['search_target']}); warm: {t_warm:.2f} s, "
            f"{c_warm['requests']} requests")
        mem = j.memory_kib()
        fig["g"] = {"what": f"daemon memory holding {n:,} tickets",
                    "rss_mib": mem["VmRSS"] / 1024, "peak_rss_mib": mem["VmHWM"] / 1024}
        log(f"(g) RSS {fig['g']['rss_mib']:.0f} MiB, peak {fig['g']['peak_rss_mib']:.0f} MiB")

        # ---------------------------------------------------------------- (b)
        mark = emu.mark()
        t_grep, out = timed(lambda: subprocess.run(
            ["grep", "-rl", "CVE-2023-0286", j.p("GREP")], capture_output=True,
            text=True).stdout)
        c_grep = counts(emu, mark)
        fig["b"] = {"what": f"grep -rl over a {ng:,}-ticket project", "tickets": ng,
                    "seconds": t_grep,
                    "matches": len(out.split()), "requests": c_grep}
        log(f"(b) grep -rl: {t_grep:.2f} s, {c_grep['ticket_gets']} per-ticket GETs, "
            f"{c_grep['searches']} searches, {len(out.split())} matches")

        # ---------------------------------------------------------------- (c)
        nc = args.creates
        os.listdir(j.p("CRA"))
        open(j.p("CRA", "warmup.json"), "w").write('{"summary": "warm-up"}')
        mark = emu.mark()
        script = (f"i=0; while [ $i -lt {nc} ]; do i=$((i+1)); "
                  f"printf '{{\"summary\": \"finding %d\"}}' $i > {j.p('CRA')}/f$i.json; done")
        t_fs, _ = timed(lambda: sh(script))
        c_fs = counts(emu, mark)

        from jira import JIRA
        client = JIRA(server=emu.url, token_auth=TOKEN)
        client.create_issue(project="CRB", summary="warm-up", issuetype={"name": "Task"})
        mark = emu.mark()

        def pyjira():
            for i in range(nc):
                client.create_issue(project="CRB", summary=f"finding {i}",
                                    issuetype={"name": "Task"})
        t_py, _ = timed(pyjira)
        c_py = counts(emu, mark)

        body = '{"fields": {"project": {"key": "CRC"}, "issuetype": {"name": "Task"}, ' \
               '"summary": "finding"}}'
        curl = (f"curl -sS -o /dev/null -H 'Authorization: Bearer {TOKEN}' "
                f"-H 'Content-Type: application/json' --data '{body}' "
                f"{emu.url}/rest/api/2/issue")
        sh(curl)
        mark = emu.mark()
        t_curl, _ = timed(lambda: sh(f"i=0; while [ $i -lt {nc} ]; do i=$((i+1)); {curl}; done"))
        c_curl = counts(emu, mark)
        fig["c"] = {"what": f"{nc} sequential creates", "creates": nc, "jirafs_s": t_fs,
                    "python_jira_s": t_py,
                    "curl_s": t_curl, "jirafs_requests": c_fs, "python_jira_requests": c_py,
                    "curl_requests": c_curl, "jirafs_vs_python_jira": t_fs / t_py,
                    "jirafs_vs_curl": t_fs / t_curl}
        log(f"(c) {nc} creates: jirafs {t_fs:.2f} s ({c_fs['requests']} requests), "
            f"python-jira {t_py:.2f} s ({c_py['requests']}), curl {t_curl:.2f} s "
            f"({c_curl['requests']}); jirafs/python-jira {t_fs / t_py:.2f} (target <= 0.67), "
            f"jirafs/curl {t_fs / t_curl:.2f} (target <= 1.3)")

        # ---------------------------------------------------------------- (d)
        os.listdir(j.p("CRD"))
        open(j.p("CRD", "warmup.json"), "w").write('{"summary": "warm-up"}')
        mark = emu.mark()
        t_par, _ = timed(lambda: sh(
            f"seq {nc} | xargs -P 8 -I{{}} sh -c "
            f"'printf \"{{\\\"summary\\\": \\\"finding {{}}\\\"}}\" > {j.p('CRD')}/f{{}}.json'"))
        c_par = counts(emu, mark)
        fig["d"] = {"what": f"{nc} creates with xargs -P 8", "seconds": t_par,
                    "requests": c_par, "speedup_vs_sequential": t_fs / t_par}
        log(f"(d) xargs -P 8: {t_par:.2f} s, {c_par['creates']} creates, "
            f"{t_fs / t_par:.1f}x the sequential jirafs figure (target >= 3)")

        # ---------------------------------------------------------------- (e)
        ncom = args.comments
        keys = sorted(x for x in os.listdir(j.p("COM")) if x.endswith(".json"))
        mark = emu.mark()
        script = " ".join(f"echo 'comment {i}' >> {j.p('COM', keys[i % len(keys)])};"
                          for i in range(ncom))
        t_com, _ = timed(lambda: sh(script))
        c_com = counts(emu, mark)
        fig["e"] = {"what": f"{ncom} comments by >>", "comments": ncom, "seconds": t_com,
                    "requests": c_com}
        log(f"(e) {ncom} comments: {t_com:.2f} s, {c_com['comments']} comment POSTs, "
            f"{c_com['requests']} requests")

        # ---------------------------------------------------------------- (f)
        j.stop()
        mounts.remove(j)
        ttl = 5
        j = Jirafs(args.jirafs, emu.url, os.path.join(work, "mnt-f"),
                   os.path.join(work, "state-f"), token_file, [f"cache_ttl={ttl}"])
        mounts.append(j)
        os.listdir(j.p("BIG"))
        before = j.status()["counters"]["listings"]
        changed = [f"BIG-{k}" for k in range(1, n + 1, max(1, n // args.changed))][:args.changed]
        for k in changed:
            emu.set_issue(k, fields={"summary": f"changed in Jira: {k}"})
        time.sleep(ttl + 0.5)
        mark = emu.mark()
        t_ref, _ = timed(lambda: os.listdir(j.p("BIG")))
        wait_listing(j, before)
        c_ref = counts(emu, mark)
        seen = sum(1 for k in changed
                   if f"changed in Jira: {k}" in open(j.p("BIG", f"{k}.json")).read()
                   or (os.path.exists(j.p("BIG", "closed", f"{k}.json")) and
                       f"changed in Jira: {k}" in open(j.p("BIG", "closed", f"{k}.json")).read()))
        fig["f"] = {"what": f"refresh after {len(changed)} of {n:,} tickets changed",
                    "requests": c_ref, "changed": len(changed), "changes_seen": seen,
                    "ls_s": t_ref}
        log(f"(f) refresh: {c_ref['requests']} requests (target <= 3), "
            f"{seen}/{len(changed)} changes seen")

        # ---------------------------------------------------------------- (h)
        j.stop()
        mounts.remove(j)
        fig["h"] = scan_scenario(args, emu, work, token_file, mounts)
    finally:
        for m in mounts:
            m.stop()
        emu.stop()

    verdict(res)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latest.json"), "w") as f:
        json.dump(res, f, indent=2)
        f.write("\n")
    chart(res, os.path.join(args.out, "latest.png"))
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write(markdown(res))
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(t["met"] for t in res["targets"]) else 1


def scan_scenario(args, emu, work, token_file, mounts):
    """(h): a SARIF report of N findings written to SCAN/scans/, against the same N
    creates one by one through the filesystem and python-jira's search-then-create
    script; then the same report a second time, through both."""
    ns = args.scan_findings
    npeer = min(args.scan_peer_findings or ns, ns)
    scale = ns / npeer
    report = make_sarif.report(ns)
    text = json.dumps(report, indent=1) + "\n"
    j = Jirafs(args.jirafs, emu.url, os.path.join(work, "mnt-h"), os.path.join(work, "state-h"),
               token_file, ["max_connections=8", "projects=SCAN,SCANA"])
    mounts.append(j)
    os.listdir(j.p("SCAN"))
    os.listdir(j.p("SCAN", "scans"))
    path = j.p("SCAN", "scans", "bench.sarif")
    result = path + ".result.json"

    # jirafs: the report written once; done when every create is applied
    mark = emu.mark()
    t0 = time.monotonic()
    try:
        write_file(path, text)
    except OSError as e:
        with open(j.p(".jirafs", "log")) as f:
            raise SystemExit(f"(h) the import failed: {e}; .jirafs/log ends:\n"
                             + "".join(f.readlines()[-5:]))
    t_close = time.monotonic() - t0
    t_imp = imported(j, result, ns, t0)
    settle(emu)
    c_imp = counts(emu, mark)
    with open(result) as f:
        r1 = json.load(f)
    issues = emu.issues("SCAN")
    fps = {lab for i in issues for lab in i["fields"].get("labels") or []
           if lab.startswith("jfs-fp-")}
    keys = {x["key"] for x in r1["findings"] if x.get("key")}

    # the same report again: the listing refresh, and nothing else
    mark = emu.mark()
    t0 = time.monotonic()
    second_error = None
    try:
        write_file(path, text)
    except OSError as e:       # a missed target, not the end of the run
        second_error = str(e)
        log(f"(h) the second import failed: {e}")
    t_again = time.monotonic() - t0
    settle(emu)
    c_again = counts(emu, mark)
    with open(result) as f:
        r2 = json.load(f)
    left = len(os.listdir(j.p(".jirafs", "outbox")))

    # baseline A: the same number of creates, one by one, by shell redirect as in (c)
    os.listdir(j.p("SCANA"))
    write_file(j.p("SCANA", "warmup.json"), '{"summary": "warm-up"}')
    mark = emu.mark()
    script = (f"i=0; while [ $i -lt {ns} ]; do i=$((i+1)); "
              f"printf '{{\"summary\": \"finding %d\", \"labels\": [\"finding-%d\"]}}' "
              f"$i $i > {j.p('SCANA')}/f$i.json; done")
    t_one, _ = timed(lambda: sh(script))
    c_one = counts(emu, mark)
    for name in ("log", "status"):     # kept with --workdir, for a look afterwards
        shutil.copyfile(j.p(".jirafs", name), os.path.join(work, f"h-{name}"))
    j.stop()
    mounts.remove(j)

    # baseline B: python-jira, search by label and create if missing, sequentially
    from jira import JIRA
    client = JIRA(server=emu.url, token_auth=TOKEN)
    client.search_issues("project = SCANB", maxResults=1)    # warm-up: /field, the connection
    client.create_issue(fields={"project": {"key": "SCANB"}, "issuetype": {"name": "Task"},
                                "summary": "warm-up"})
    mark = emu.mark()
    t_py, p1 = timed(lambda: scan_peer.import_report(client, "SCANB", report, limit=npeer))
    c_py = counts(emu, mark)
    mark = emu.mark()
    t_py2, p2 = timed(lambda: scan_peer.import_report(client, "SCANB", report, limit=npeer))
    c_py2 = counts(emu, mark)

    h = {"what": f"import of a {ns:,}-finding SARIF report", "findings": ns,
         "jirafs_s": t_imp, "jirafs_close_s": t_close, "jirafs_requests": c_imp,
         "tickets": len(issues), "distinct_fingerprints": len(fps), "result_keys": len(keys),
         "result_counts": r1["counts"],
         "second_s": t_again, "second_requests": c_again, "second_counts": r2["counts"],
         "second_outbox": left, "second_error": second_error,
         "one_by_one_s": t_one, "one_by_one_requests": c_one,
         "python_jira_findings": npeer, "python_jira_scaled": scale != 1,
         "python_jira_s": t_py * scale, "python_jira_measured_s": t_py,
         "python_jira_requests": c_py, "python_jira_pass": p1,
         "python_jira_second_s": t_py2 * scale, "python_jira_second_measured_s": t_py2,
         "python_jira_second_requests": c_py2, "python_jira_second_pass": p2,
         "speedup_vs_one_by_one": t_one / t_imp,
         "speedup_vs_python_jira": t_py * scale / t_imp}
    peer = f"the first {npeer} measured, time x{scale:g}" if scale != 1 else "measured"
    log(f"(h) import of {ns} findings: jirafs {t_imp:.2f} s (close() after {t_close:.2f} s, "
        f"{c_imp['creates']} creates, {c_imp['requests']} requests, {len(issues)} tickets, "
        f"{len(fps)} fingerprints); one by one {t_one:.2f} s ({c_one['creates']} creates); "
        f"python-jira {t_py * scale:.2f} s ({peer}; {c_py['searches']} searches, "
        f"{c_py['creates']} creates, {c_py['requests']} requests); the import is "
        f"{h['speedup_vs_one_by_one']:.1f}x faster than one by one (target >= 4), "
        f"{h['speedup_vs_python_jira']:.1f}x faster than python-jira")
    log(f"(h) second import: jirafs {t_again:.2f} s, {c_again['requests']} requests, "
        f"{c_again['creates']} creates (target <= 3, 0; result: "
        f"{r2['counts'].get('unchanged')} unchanged, {r2['counts'].get('new')} new); "
        f"python-jira {t_py2 * scale:.2f} s ({peer}; {c_py2['searches']} searches, "
        f"{c_py2['creates']} creates)")
    return h


def verdict(res):
    f = res["figures"]
    checks = [
        ("(a) searches <= ceil(N/P) + 3", f["a"]["cold_requests"]["searches"] <= f["a"]["search_target"]),
        ("(a) warm ls -l makes no request", f["a"]["warm_requests"]["requests"] == 0),
        ("(b) no per-ticket GET", f["b"]["requests"]["ticket_gets"] == 0),
        ("(c) jirafs <= 0.67 x python-jira", f["c"]["jirafs_vs_python_jira"] <= 0.67),
        ("(c) jirafs <= 1.3 x curl", f["c"]["jirafs_vs_curl"] <= 1.3),
        ("(d) >= 3x the sequential figure", f["d"]["speedup_vs_sequential"] >= 3),
        ("(f) refresh <= 3 requests", f["f"]["requests"]["requests"] <= 3),
        ("(g) <= 300 MiB resident", f["g"]["peak_rss_mib"] <= 300),
        ("(h) scan import >= 4x faster than one-by-one creates",
         f["h"]["speedup_vs_one_by_one"] >= 4 and f["h"]["jirafs_requests"]["creates"] ==
         f["h"]["findings"] == f["h"]["tickets"] == f["h"]["distinct_fingerprints"]),
        ("(h) second import <= 3 requests, 0 creates",
         f["h"]["second_requests"]["requests"] <= 3 and
         f["h"]["second_requests"]["creates"] == 0 and f["h"]["second_outbox"] == 0 and
         not f["h"]["second_error"] and f["h"]["second_counts"].get("unchanged") ==
         f["h"]["findings"]),
    ]
    print(f"\njirafs benchmark, {res['date']}, {res['machine']}, latency {res['latency_ms']} ms")
    for what, ok in checks:
        print(f"  {'ok  ' if ok else 'MISS'} {what}")
    res["targets"] = [{"target": what, "met": bool(ok)} for what, ok in checks]


def markdown(res):
    """The figures as the README's table."""
    f = res["figures"]
    a, b, c, d, e, fr, g, h = (f[k] for k in "abcdefgh")
    ns = h["findings"]
    peer = (f" for the first {h['python_jira_findings']:,} findings (time scaled to {ns:,})"
            if h["python_jira_scaled"] else "")
    rows = [
        ("(a) `ls -l` of {:,} tickets, cold".format(res["tickets"]),
         f"{a['cold_s']:.1f} s", f"{a['cold_requests']['searches']} searches "
         f"(target ≤ {a['search_target']})"),
        ("(a) the same, warm", f"{a['warm_s']:.2f} s",
         f"{a['warm_requests']['requests']} requests (target 0)"),
        ("(b) `grep -rl` over {:,} tickets".format(b["tickets"]),
         f"{b['seconds']:.1f} s", f"{b['requests']['ticket_gets']} per-ticket GETs, "
         f"{b['requests']['searches']} searches"),
        (f"(c) {c['creates']:,} creates: jirafs", f"{c['jirafs_s']:.1f} s",
         f"{c['jirafs_requests']['requests']} requests"),
        ("(c) python-jira", f"{c['python_jira_s']:.1f} s",
         f"{c['python_jira_requests']['requests']} requests; jirafs takes "
         f"{c['jirafs_vs_python_jira']:.2f}× (target ≤ 0.67)"),
        ("(c) curl", f"{c['curl_s']:.1f} s",
         f"{c['curl_requests']['requests']} requests; jirafs takes "
         f"{c['jirafs_vs_curl']:.2f}× (target ≤ 1.3)"),
        (f"(d) {c['creates']:,} creates, `xargs -P 8`", f"{d['seconds']:.1f} s",
         f"{d['speedup_vs_sequential']:.1f}× faster than (c) (target ≥ 3)"),
        (f"(e) {e['comments']:,} comments by `>>`", f"{e['seconds']:.1f} s",
         f"{e['requests']['comments']} comment POSTs, {e['requests']['requests']} requests"),
        (f"(f) refresh after {fr['changed']} of {res['tickets']:,} changed", "",
         f"{fr['requests']['requests']} requests (target ≤ 3), "
         f"{fr['changes_seen']}/{fr['changed']} changes seen"),
        ("(g) daemon memory holding {:,} tickets".format(res["tickets"]),
         f"{g['peak_rss_mib']:.0f} MiB peak", f"{g['rss_mib']:.0f} MiB after (target ≤ 300)"),
        (f"(h) a {ns:,}-finding SARIF report into `scans/`: jirafs", f"{h['jirafs_s']:.1f} s",
         f"{h['jirafs_requests']['creates']} creates and "
         f"{h['jirafs_requests']['requests'] - h['jirafs_requests']['creates']} other requests; "
         f"`close()` returned after {h['jirafs_close_s']:.2f} s"),
        (f"(h) {ns:,} creates one by one (`printf … > f$i.json`)", f"{h['one_by_one_s']:.1f} s",
         f"{h['one_by_one_requests']['requests']} requests; the import is "
         f"{h['speedup_vs_one_by_one']:.1f}× faster (target ≥ 4)"),
        ("(h) python-jira: search the label, create if missing", f"{h['python_jira_s']:.1f} s",
         f"{h['python_jira_requests']['requests']} requests{peer}; the import is "
         f"{h['speedup_vs_python_jira']:.1f}× faster"),
        ("(h) the same report again: jirafs", f"{h['second_s']:.2f} s",
         (f"`close()` failed: {h['second_error']}; " if h["second_error"] else "") +
         f"{h['second_requests']['requests']} requests, {h['second_requests']['creates']} "
         f"creates (target ≤ 3, 0)"),
        ("(h) again: python-jira", f"{h['python_jira_second_s']:.1f} s",
         f"{h['python_jira_second_requests']['searches']} searches, "
         f"{h['python_jira_second_requests']['creates']} creates{peer}"),
    ]
    out = [f"Measured {res['date']} on {res['machine']}, emulator latency "
           f"{res['latency_ms']} ms per request, page size {res['page_size']}.", "",
           "| scenario | time | requests, ratio |", "|---|---|---|"]
    out += [f"| {x} | {y} | {z} |" for x, y, z in rows]
    return "\n".join(out) + "\n"


def chart(res, path):
    """A bar chart of the timings, with gnuplot (Debian's gnuplot-nox)."""
    if not shutil.which("gnuplot"):
        log("bench: no gnuplot, no chart")
        return
    f = res["figures"]
    rows = [
        ("(a) ls -l cold", f["a"]["cold_s"], "jirafs"),
        ("(a) ls -l warm", f["a"]["warm_s"], "jirafs"),
        ("(b) grep -rl", f["b"]["seconds"], "jirafs"),
        ("(c) creates: jirafs", f["c"]["jirafs_s"], "jirafs"),
        ("(c) creates: python-jira", f["c"]["python_jira_s"], "other"),
        ("(c) creates: curl", f["c"]["curl_s"], "other"),
        ("(d) creates: jirafs -P 8", f["d"]["seconds"], "jirafs"),
        ("(e) comments: jirafs", f["e"]["seconds"], "jirafs"),
        ("(h) scan import: jirafs", f["h"]["jirafs_s"], "jirafs"),
        ("(h) one-by-one creates", f["h"]["one_by_one_s"], "jirafs"),
        ("(h) scan import: python-jira", f["h"]["python_jira_s"], "other"),
        ("(h) again: jirafs", f["h"]["second_s"], "jirafs"),
        ("(h) again: python-jira", f["h"]["python_jira_second_s"], "other"),
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False) as d:
        for i, (label, secs, who) in enumerate(rows):
            d.write(f'{i} "{label}" {secs:.3f} {1 if who == "jirafs" else 2}\n')
        data = d.name
    title = (f"jirafs benchmark, {res['date']} (emulator latency {res['latency_ms']} ms/request, "
             f"{res['tickets']:,} tickets)")
    script = f"""
set terminal pngcairo size 1200,560 font "sans,10"
set output "{path}"
set title "{title}"
set style fill solid 0.8 border -1
set boxwidth 0.7
set ylabel "seconds (lower is better)"
set yrange [0:*]
set xtics rotate by -25 nomirror
set rmargin 12
set grid ytics
set key off
set palette defined (1 "#2e7d32", 2 "#9e9e9e")
unset colorbox
plot "{data}" using 1:3:4:xtic(2) with boxes lc palette, \\
     "" using 1:3:(sprintf("%.1f", $3)) with labels offset 0,0.8
"""
    r = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    os.unlink(data)
    if r.returncode != 0:
        log("bench: gnuplot failed: " + r.stderr[-500:])


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
