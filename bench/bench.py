"""The jirafs benchmark: one run, one emulator behind a network with round
trips (bench/netdelay.py), jirafs side by side with python-jira and curl.
Run it with bench/run (which builds first); see bench/README.md for what
each figure means.

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
import netdelay  # noqa: E402
import scan_peer  # noqa: E402

TOKEN = "alice-pat"
SEARCH = "/rest/api/2/search"
CLK_TCK = os.sysconf("SC_CLK_TCK")


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

    def cpu_seconds(self):
        return cpu_seconds(self.proc.pid)

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


def cpu_seconds(pid):
    """utime + stime of a process so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def memory_bound_mib(tickets):
    """Issue 14's bound on the daemon's peak resident memory: 2 KiB a ticket + 40 MiB."""
    return 2 * tickets / 1024 + 40


def stop_all(mounts, net, emu):
    """Unmount every mount, then stop the proxy (if any) and the emulator."""
    for m in mounts:
        m.stop()
    if net:
        net.stop()
    emu.stop()


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
         "comments": 0, "other": 0, "connections": len({r["conn"] for r in reqs}),
         "bytes": sum(r.get("bytes", 0) for r in reqs), "search_bytes": 0,
         "pre_rendered": 0}
    for r in reqs:
        path = r["path"]
        if path == SEARCH:
            c["searches"] += 1
            c["search_bytes"] += r.get("bytes", 0)
            c["pre_rendered"] += r.get("page_cache") == "hit"
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


def curl_quote(v):
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def curl_config(path, transfers):
    """A curl config file (-K) of several transfers, `next` between them: each
    {"url", "data" (a JSON text) or "data_file"}, answered to /dev/null, and
    curl writes "<number of the transfer> <status> <bytes>" for each."""
    with open(path, "w") as f:
        for k, t in enumerate(transfers):
            if k:
                f.write("next\n")
            f.write(f"url = {curl_quote(t['url'])}\n")
            f.write(f"header = {curl_quote('Authorization: Bearer ' + TOKEN)}\n")
            f.write('header = "Content-Type: application/json"\n')
            f.write('header = "Accept: application/json"\n')
            data = t["data"] if "data" in t else "@" + t["data_file"]
            f.write(f"data-binary = {curl_quote(data)}\n")
            f.write('output = "/dev/null"\n')
            f.write('write-out = "%{urlnum} %{http_code} %{size_download}\\n"\n')


def run_curl(cfg, parallel=0):
    """One curl process over a config file (in parallel, at most `parallel`
    transfers at once); -> [(transfer number, status, bytes)] in order."""
    cmd = ["curl", "-sS"]
    if parallel:
        cmd += ["--parallel", "--parallel-immediate", "--parallel-max", str(parallel)]
    r = subprocess.run(cmd + ["-K", cfg], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if r.returncode != 0:
        raise SystemExit(f"curl -K {cfg} failed ({r.returncode}): {r.stderr[-1000:]}")
    return sorted(tuple(int(x) for x in line.split()) for line in r.stdout.splitlines()
                  if line.strip())


def curl_keepalive(work, name, transfers):
    """The transfers sent by one curl process, one after another on the one
    connection it keeps alive; -> (seconds, [status of each])."""
    cfg = os.path.join(work, name + ".curl")
    curl_config(cfg, transfers)
    t, rows = timed(lambda: run_curl(cfg))
    return t, [code for _, code, _ in rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jirafs", default=os.path.join(ROOT, "build", "jirafs"))
    ap.add_argument("--rtt-ms", type=float, default=20,
                    help="the network's round trip: bench/netdelay.py between every client "
                         "and the emulator delays each flight by half of it (0: no proxy)")
    ap.add_argument("--latency-ms", type=int, default=0,
                    help="the emulator's own time per request, on top of the network")
    ap.add_argument("--max-connections", type=int, default=8,
                    help="jirafs's max_connections, and curl's parallelism in (a)")
    ap.add_argument("--tickets", type=int, default=50000, help="(a), (f), (g)")
    ap.add_argument("--listing-runs", type=int, default=3,
                    help="(a): cold listings (each on a fresh mount), curl downloads, warm "
                         "and local ls -l, each measured this many times; the best counts")
    ap.add_argument("--grep-tickets", type=int, default=10000, help="(b)")
    ap.add_argument("--creates", type=int, default=500, help="(c), (d)")
    ap.add_argument("--curl-loop", type=int, default=50,
                    help="(c): a curl process per create over the first this many, time "
                         "scaled to --creates (0: skip)")
    ap.add_argument("--comments", type=int, default=1000, help="(e)")
    ap.add_argument("--changed", type=int, default=10, help="(f)")
    ap.add_argument("--scan-findings", type=int, default=1000, help="(h)")
    ap.add_argument("--scan-peer-findings", type=int, default=200,
                    help="(h): python-jira runs over the first this many findings and its "
                         "times are scaled to --scan-findings (0: all of them)")
    ap.add_argument("--huge-tickets", type=int, default=200000, help="(i) (0: skip)")
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
    t_start = time.monotonic()
    emu = Emulator.start(os.path.join(work, "emu"), state=False,
                         seed_projects=[f"BIG:{n}:4", f"GREP:{ng}:4"],
                         latency_ms=args.latency_ms, timeout=600)
    net = None
    if args.rtt_ms > 0:
        net = netdelay.start(f"127.0.0.1:{emu.port}", args.rtt_ms / 2, work)
    url = net.url if net else emu.url      # every client's; emu.url is the control API's
    page = emu.config()["max_results"]
    for key in ("CRA", "CRB", "CRC", "CRD", "COM", "SCAN", "SCANA", "SCANB"):
        emu.create_project(key)
    emu.seed("COM", 100, done_every=0, comments=0)
    res = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": machine(), "rtt_ms": args.rtt_ms if net else 0,
           "latency_ms": args.latency_ms, "page_size": page, "tickets": n,
           "max_connections": args.max_connections, "figures": {}}
    fig = res["figures"]
    mounts = []
    try:
        # ------------------------------------------------------ (a) and (g)
        a, j = listing_scenario(args, emu, net, url, work, token_file, mounts, page)
        fig["a"] = a
        mem = j.memory_kib()
        fig["g"] = {"what": f"daemon memory holding {n:,} tickets", "tickets": n,
                    "rss_mib": mem["VmRSS"] / 1024, "peak_rss_mib": mem["VmHWM"] / 1024,
                    "bound_mib": memory_bound_mib(n)}
        log(f"(g) RSS {fig['g']['rss_mib']:.0f} MiB, peak {fig['g']['peak_rss_mib']:.0f} MiB "
            f"(bound {fig['g']['bound_mib']:.0f} MiB: 2 KiB a ticket + 40 MiB)")

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
        fig["c"] = creates_scenario(args, emu, url, j, work)

        # ---------------------------------------------------------------- (d)
        nc = args.creates
        os.listdir(j.p("CRD"))
        open(j.p("CRD", "warmup.json"), "w").write('{"summary": "warm-up"}')
        mark = emu.mark()
        t_par, _ = timed(lambda: sh(
            f"seq {nc} | xargs -P 8 -I{{}} sh -c "
            f"'printf \"{{\\\"summary\\\": \\\"finding {{}}\\\"}}\" > {j.p('CRD')}/f{{}}.json'"))
        c_par = counts(emu, mark)
        fig["d"] = {"what": f"{nc} creates with xargs -P 8", "seconds": t_par,
                    "requests": c_par, "speedup_vs_sequential": fig["c"]["jirafs_s"] / t_par}
        log(f"(d) xargs -P 8: {t_par:.2f} s, {c_par['creates']} creates, "
            f"{fig['d']['speedup_vs_sequential']:.1f}x the sequential jirafs figure "
            f"(target >= 3)")

        # ---------------------------------------------------------------- (e)
        ncom = args.comments
        keys = sorted(x for x in os.listdir(j.p("COM")) if x.endswith(".json"))
        mark = emu.mark()
        script = " ".join(f"echo 'comment {i}' >> {j.p('COM', keys[i % len(keys)])};"
                          for i in range(ncom))
        t_com, _ = timed(lambda: sh(script))
        c_com = counts(emu, mark)
        mark = emu.mark()
        t_ccom, codes = curl_keepalive(work, "comments", [
            {"url": f"{url}/rest/api/2/issue/{keys[i % len(keys)][:-5]}/comment",
             "data": json.dumps({"body": f"comment {i}"})} for i in range(ncom)])
        c_ccom = counts(emu, mark)
        fig["e"] = {"what": f"{ncom} comments by >>", "comments": ncom, "seconds": t_com,
                    "requests": c_com, "curl_s": t_ccom, "curl_requests": c_ccom,
                    "curl_created": sum(1 for x in codes if x == 201),
                    "curl_answers": len(codes), "jirafs_vs_curl": t_com / t_ccom}
        log(f"(e) {ncom} comments: jirafs {t_com:.2f} s ({c_com['comments']} comment POSTs, "
            f"{c_com['requests']} requests, {plural(c_com['connections'], 'connection')}); "
            f"curl keep-alive {t_ccom:.2f} s ({fig['e']['curl_created']}/{ncom} answered 201, "
            f"{plural(c_ccom['connections'], 'connection')}); jirafs/curl "
            f"{fig['e']['jirafs_vs_curl']:.2f} (target <= 1.2)")

        # ---------------------------------------------------------------- (f)
        j.stop()
        mounts.remove(j)
        ttl = 5
        j = Jirafs(args.jirafs, url, os.path.join(work, "mnt-f"),
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
        fig["h"] = scan_scenario(args, emu, url, work, token_file, mounts)

        # ---------------------------------------------------------------- (i)
        if args.huge_tickets:
            fig["i"] = huge_scenario(args, emu, url, work, token_file, mounts, page)
    finally:
        stop_all(mounts, net, emu)
    res["seconds"] = time.monotonic() - t_start

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


def mirror(src, dst):
    """A local copy of a directory's names: empty files, and the directories it holds."""
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if os.path.isdir(os.path.join(src, name)):
            os.makedirs(os.path.join(dst, name), exist_ok=True)
        else:
            open(os.path.join(dst, name), "w").close()


def search_pages(reqs):
    return [r for r in reqs if r["path"] == SEARCH and r["method"] == "POST"]


def limit_download(work, url, pages, parallel):
    """The limit of a cold listing: curl downloading exactly the pages jirafs
    requested (their POST bodies from the emulator's log), the first alone
    (jirafs needs its total before the rest), then the others in order,
    `parallel` at a time.  -> (seconds, [(status, bytes)] in the order of
    `pages`)."""
    transfers = []
    for k, r in enumerate(pages):
        body = os.path.join(work, f"page{k}.json")
        with open(body, "w") as f:
            json.dump(r["body"], f)
        transfers.append({"url": url + SEARCH, "data_file": body})
    first, rest = os.path.join(work, "limit-first.curl"), os.path.join(work, "limit-rest.curl")
    curl_config(first, transfers[:1])
    curl_config(rest, transfers[1:])
    t0 = time.monotonic()
    rows = run_curl(first)
    if len(transfers) > 1:
        rows += [(k + 1, code, size) for k, code, size in run_curl(rest, parallel)]
    return time.monotonic() - t0, [(code, size) for _, code, size in rows]


def listing_scenario(args, emu, net, url, work, token_file, mounts, page):
    """(a): a cold `ls -l` of the big project on a fresh mount against the
    pages pre-rendered by the emulator, the limit (curl downloading the same
    pages), jirafs's CPU per MB of pages, then the warm `ls -l` beside a local
    directory of the same names.  -> (figure, the mount, left mounted)."""
    n = args.tickets
    ttl = 3600
    opts = [f"cache_ttl={ttl}", f"max_connections={args.max_connections}"]
    emu.config(fast_pages=True)
    # the pages rendered once, by a listing of another mount
    w = Jirafs(args.jirafs, url, os.path.join(work, "mnt-warmup"),
               os.path.join(work, "state-warmup"), token_file, opts)
    mounts.append(w)
    mark = emu.mark()
    t_warmup, _ = timed(lambda: os.listdir(w.p("BIG")))
    c_warmup = counts(emu, mark)
    w.stop()
    mounts.remove(w)

    # the cold listing, on a fresh mount each time: the best of --listing-runs
    runs, j = [], None
    for k in range(max(1, args.listing_runs)):
        if j is not None:
            j.stop()
            mounts.remove(j)
        j = Jirafs(args.jirafs, url, os.path.join(work, f"mnt{k}"),
                   os.path.join(work, f"state{k}"), token_file, opts)
        mounts.append(j)
        os.listdir(j.mnt)
        ls = f"ls -l {j.p('BIG')} {j.p('BIG', 'closed')} | wc -l"
        mark = emu.mark()
        cpu0, emu0 = j.cpu_seconds(), cpu_seconds(emu.proc.pid)
        net0 = net.cpu_seconds() if net else 0
        got0 = j.status()["counters"]["bytes_received"]
        t_cold, _ = timed(lambda: sh(ls))
        runs.append({"s": t_cold, "cpu_s": j.cpu_seconds() - cpu0,
                     "emulator_cpu_s": cpu_seconds(emu.proc.pid) - emu0,
                     "netdelay_cpu_s": (net.cpu_seconds() - net0) if net else 0,
                     "bytes_received": j.status()["counters"]["bytes_received"] - got0,
                     "requests": counts(emu, mark),
                     "pages": search_pages(emu.requests(since=mark))})
    c_cold = max((r["requests"] for r in runs), key=lambda c: c["searches"])
    pages = sorted(runs[0]["pages"], key=lambda r: r["seq"])
    conns = len({r["conn"] for r in pages})
    same_every_run = all(
        sorted(json.dumps(x["body"], sort_keys=True) for x in r["pages"]) ==
        sorted(json.dumps(x["body"], sort_keys=True) for x in pages) for r in runs)
    t_cold = min(r["s"] for r in runs)
    cpu = min(r["cpu_s"] for r in runs)

    # the limit: the same pages, by curl, through the same network, as many times
    pages = pages[:1] + sorted(pages[1:], key=lambda r: (r["body"] or {}).get("startAt", 0))
    limits = []
    for k in range(len(runs)):
        mark = emu.mark()
        net0 = net.cpu_seconds() if net else 0
        t_limit, rows = limit_download(work, url, pages, args.max_connections)
        limits.append({"s": t_limit, "rows": rows,
                       "netdelay_cpu_s": (net.cpu_seconds() - net0) if net else 0,
                       "requests": counts(emu, mark)})
    c_limit = limits[0]["requests"]
    same = same_every_run and all(
        len(x["rows"]) == len(pages) and x["requests"]["searches"] == len(pages) and
        all(code == 200 and size == r.get("bytes") for (code, size), r in zip(x["rows"], pages))
        for x in limits)
    rows = limits[0]["rows"]
    t_limit = min(x["s"] for x in limits)
    page_bytes = runs[0]["requests"]["search_bytes"]

    # warm: nothing asked of Jira; beside it, a local directory of the same names
    mark = emu.mark()
    warm = []
    for k in range(len(runs)):
        cpu0 = j.cpu_seconds()
        t_warm, out = timed(lambda: sh(ls))
        warm.append({"s": t_warm, "cpu_s": j.cpu_seconds() - cpu0})
    c_warm = counts(emu, mark)
    t_warm, warm_cpu = min(x["s"] for x in warm), min(x["cpu_s"] for x in warm)
    # the tickets ls -l showed: not the headers, "total" lines, closed/ and scans/
    files = sum(1 for d in (j.p("BIG"), j.p("BIG", "closed"))
                for x in os.listdir(d) if x.endswith(".json"))
    if files + 6 > int(out.split()[0]):
        raise SystemExit(f"ls -l showed {out.split()[0]} lines for {files} tickets")
    local = os.path.join(work, "local", "BIG")
    mirror(j.p("BIG"), local)
    mirror(j.p("BIG", "closed"), os.path.join(local, "closed"))
    local_ls = f"ls -l {local} {os.path.join(local, 'closed')} | wc -l"
    sh(local_ls)
    local_runs = [timed(lambda: sh(local_ls)) for _ in runs]
    t_local, out_local = min(local_runs)
    local_files = sum(1 for d in (local, os.path.join(local, "closed"))
                      for x in os.listdir(d) if x.endswith(".json"))

    mb = page_bytes / 1e6
    a = {"what": f"ls -l of a {n:,}-ticket project", "tickets": n, "files": files,
         "cold_s": t_cold, "warm_s": t_warm, "cold_requests": c_cold,
         "warm_requests": c_warm, "search_target": -(-n // page) + 3,
         "warmup_s": t_warmup, "warmup_requests": c_warmup,
         "pages": len(pages), "page_mb": mb,
         "pre_rendered": min(r["requests"]["pre_rendered"] for r in runs),
         "runs": len(runs), "cold_runs": [{k: v for k, v in r.items() if k != "pages"}
                                          for r in runs],
         "jirafs_connections": conns, "jirafs_cpu_s": cpu,
         "jirafs_bytes_received": runs[0]["bytes_received"],
         "mb_per_cpu_s": mb / cpu if cpu > 0 else None,
         "emulator_cpu_s": max(r["emulator_cpu_s"] for r in runs),
         "netdelay_cpu_s": max(r["netdelay_cpu_s"] for r in runs),
         "limit_s": t_limit, "limit_runs": [x["s"] for x in limits],
         "limit_requests": c_limit, "limit_pages": len(rows),
         "limit_ok": 0 if not same else len(rows),
         "limit_statuses": sorted({code for code, _ in rows}),
         "limit_same_pages": same,
         "limit_netdelay_cpu_s": max(x["netdelay_cpu_s"] for x in limits),
         "limit_parallel": args.max_connections,
         "jirafs_vs_limit": t_cold / t_limit,
         "warm_runs": [x["s"] for x in warm], "warm_cpu_s": warm_cpu,
         "local_s": t_local, "local_runs": [x[0] for x in local_runs],
         "local_files": local_files,
         "local_lines": int(out_local.split()[0]), "warm_vs_local": t_warm / t_local}
    log(f"(a) warm-up listing {t_warmup:.2f} s ({c_warmup['searches']} pages rendered)")
    def secs(xs):
        return ", ".join(f"{x:.2f}" for x in xs)
    log(f"(a) cold ls -l, best of {len(runs)}: {t_cold:.2f} s ({secs(r['s'] for r in runs)}), "
        f"{c_cold['searches']} searches (target <= {a['search_target']}), "
        f"{a['pre_rendered']} of them pre-rendered, {mb:.0f} MB of pages over {conns} "
        f"connections; jirafs CPU {cpu:.2f} s ({secs(r['cpu_s'] for r in runs)}) = "
        f"{a['mb_per_cpu_s'] or 0:.0f} MB per CPU second (target >= 150); emulator CPU "
        f"<= {a['emulator_cpu_s']:.2f} s, netdelay CPU <= {a['netdelay_cpu_s']:.2f} s")
    log(f"(a) the limit, curl, best of {len(limits)}: {t_limit:.2f} s "
        f"({secs(a['limit_runs'])}) for the same {len(rows)} pages "
        f"({args.max_connections} at a time; statuses {a['limit_statuses']}, sizes "
        f"{'equal' if same else 'DIFFERENT'}); jirafs/limit {a['jirafs_vs_limit']:.2f} "
        f"(target <= 1.5, goal 1.2)")
    log(f"(a) warm ls -l, best of {len(warm)}: {t_warm:.2f} s ({secs(a['warm_runs'])}), "
        f"{c_warm['requests']} requests, jirafs CPU {warm_cpu:.2f} s; a local directory "
        f"of the same {local_files} files: {t_local:.3f} s ({a['warm_vs_local']:.1f}x)")
    return a, j


def creates_scenario(args, emu, url, j, work):
    """(c): N sequential creates by shell redirect, beside python-jira's
    create_issue loop and curl sending the same creates over one kept-alive
    connection (and, over the first few, a curl process per create)."""
    nc = args.creates
    os.listdir(j.p("CRA"))
    open(j.p("CRA", "warmup.json"), "w").write('{"summary": "warm-up"}')
    mark = emu.mark()
    script = (f"i=0; while [ $i -lt {nc} ]; do i=$((i+1)); "
              f"printf '{{\"summary\": \"finding %d\"}}' $i > {j.p('CRA')}/f$i.json; done")
    t_fs, _ = timed(lambda: sh(script))
    c_fs = counts(emu, mark)

    from jira import JIRA
    client = JIRA(server=url, token_auth=TOKEN)
    client.create_issue(project="CRB", summary="warm-up", issuetype={"name": "Task"})
    mark = emu.mark()

    def pyjira():
        for i in range(nc):
            client.create_issue(project="CRB", summary=f"finding {i}",
                                issuetype={"name": "Task"})
    t_py, _ = timed(pyjira)
    c_py = counts(emu, mark)
    client.close()

    def body(i):
        return json.dumps({"fields": {"project": {"key": "CRC"}, "issuetype": {"name": "Task"},
                                      "summary": f"finding {i}"}})
    mark = emu.mark()
    t_curl, codes = curl_keepalive(work, "creates", [
        {"url": url + "/rest/api/2/issue", "data": body(i)} for i in range(1, nc + 1)])
    c_curl = counts(emu, mark)

    c = {"what": f"{nc} sequential creates", "creates": nc, "jirafs_s": t_fs,
         "python_jira_s": t_py, "curl_s": t_curl, "jirafs_requests": c_fs,
         "python_jira_requests": c_py, "curl_requests": c_curl,
         "curl_created": sum(1 for x in codes if x == 201), "curl_answers": len(codes),
         "jirafs_vs_python_jira": t_fs / t_py, "jirafs_vs_curl": t_fs / t_curl}
    nloop = min(args.curl_loop, nc)
    if nloop:
        cmd = (f"curl -sS -o /dev/null -w '%{{http_code}}\\n' -H 'Authorization: Bearer {TOKEN}' "
               f"-H 'Content-Type: application/json' --data-binary @{work}/loop-body.json "
               f"{url}/rest/api/2/issue")
        with open(os.path.join(work, "loop-body.json"), "w") as f:
            f.write(body(0))
        mark = emu.mark()
        t_loop, out = timed(lambda: sh(f"i=0; while [ $i -lt {nloop} ]; do i=$((i+1)); "
                                       f"{cmd}; done"))
        c["curl_loop_creates"] = nloop
        c["curl_loop_measured_s"] = t_loop
        c["curl_loop_s"] = t_loop * nc / nloop
        c["curl_loop_created"] = out.split().count("201")
        c["curl_loop_requests"] = counts(emu, mark)
    log(f"(c) {nc} creates: jirafs {t_fs:.2f} s ({c_fs['requests']} requests, "
        f"{plural(c_fs['connections'], 'connection')}), python-jira {t_py:.2f} s "
        f"({c_py['requests']}), "
        f"curl keep-alive {t_curl:.2f} s ({c_curl['requests']} requests, "
        f"{plural(c_curl['connections'], 'connection')}, {c['curl_created']} answered 201); "
        f"jirafs/python-jira {c['jirafs_vs_python_jira']:.2f} (target <= 0.5), "
        f"jirafs/curl {c['jirafs_vs_curl']:.2f} (target <= 1.2)")
    if nloop:
        log(f"(c) a curl process per create: {c['curl_loop_measured_s']:.2f} s for {nloop} "
            f"({c['curl_loop_s']:.2f} s scaled to {nc})")
    return c


def huge_scenario(args, emu, url, work, token_file, mounts, page):
    """(i): a project of N tickets listed by a fresh mount: the names all there,
    a few files checked against the emulator, the searches it took and the
    daemon's peak memory against 2 KiB a ticket + 40 MiB."""
    nh = args.huge_tickets
    t_seed, _ = timed(lambda: emu.seed("HUGE", nh, done_every=4))
    j = Jirafs(args.jirafs, url, os.path.join(work, "mnt-i"), os.path.join(work, "state-i"),
               token_file, ["cache_ttl=3600", f"max_connections={args.max_connections}"])
    mounts.append(j)
    os.listdir(j.mnt)
    mark = emu.mark()
    cpu0, emu0 = j.cpu_seconds(), cpu_seconds(emu.proc.pid)
    t_ls, out = timed(lambda: sh(f"ls {j.p('HUGE')} | wc -l"))
    t_closed, out_closed = timed(lambda: sh(f"ls {j.p('HUGE', 'closed')} | wc -l"))
    cpu = j.cpu_seconds() - cpu0
    emu_cpu = cpu_seconds(emu.proc.pid) - emu0
    c = counts(emu, mark)
    names = [x for x in os.listdir(j.p("HUGE")) if x.endswith(".json")]
    closed = [x for x in os.listdir(j.p("HUGE", "closed")) if x.endswith(".json")]
    want_closed = nh // 4
    # a few files, open and closed, first and last, checked against the emulator
    sample = sorted({1, 2, 3, 4, nh // 2, nh // 2 + 1, nh - 1, nh})
    checked = []
    for k in sample:
        key = f"HUGE-{k}"
        path = j.p("HUGE", "closed" if k % 4 == 0 else "", f"{key}.json")
        with open(path) as f:
            mine = json.load(f)
        theirs = emu.issue(key)["fields"]
        ok = (mine.get("key") == key and mine.get("summary") == theirs["summary"] and
              mine.get("description") == theirs["description"] and
              mine.get("status") == theirs["status"]["name"])
        checked.append({"key": key, "ok": ok})
    mem = j.memory_kib()
    j.stop()
    mounts.remove(j)
    i = {"what": f"a {nh:,}-ticket project listed by a fresh mount", "tickets": nh,
         "seed_s": t_seed, "ls_s": t_ls, "ls_closed_s": t_closed, "jirafs_cpu_s": cpu,
         "emulator_cpu_s": emu_cpu,
         "ls_lines": int(out.split()[0]), "ls_closed_lines": int(out_closed.split()[0]),
         "names": len(names), "closed_names": len(closed),
         "names_expected": nh - want_closed, "closed_expected": want_closed,
         "spot_checks": checked, "requests": c, "search_target": -(-nh // page) + 3,
         "page_mb": c["search_bytes"] / 1e6,
         "mb_per_cpu_s": c["search_bytes"] / 1e6 / cpu if cpu > 0 else None,
         "rss_mib": mem["VmRSS"] / 1024, "peak_rss_mib": mem["VmHWM"] / 1024,
         "bound_mib": memory_bound_mib(nh)}
    i["listed_ok"] = (i["names"] == i["names_expected"] and
                      i["closed_names"] == i["closed_expected"] and
                      all(x["ok"] for x in checked))
    log(f"(i) {nh:,} tickets seeded in {t_seed:.1f} s; ls | wc -l: {t_ls:.2f} s "
        f"({len(names)} + {len(closed)} closed tickets, want {nh - want_closed} + "
        f"{want_closed}; {sum(x['ok'] for x in checked)}/{len(checked)} files as in Jira), "
        f"{c['searches']} searches (target <= {i['search_target']}), {i['page_mb']:.0f} MB, "
        f"jirafs CPU {cpu:.1f} s, the emulator's {emu_cpu:.1f} s (rendering every page); "
        f"peak RSS {i['peak_rss_mib']:.0f} MiB (bound "
        f"{i['bound_mib']:.0f} MiB), {i['rss_mib']:.0f} MiB after")
    return i


def scan_scenario(args, emu, url, work, token_file, mounts):
    """(h): a SARIF report of N findings written to SCAN/scans/, against the same N
    creates one by one through the filesystem and python-jira's search-then-create
    script; then the same report a second time, through both."""
    ns = args.scan_findings
    npeer = min(args.scan_peer_findings or ns, ns)
    scale = ns / npeer
    report = make_sarif.report(ns)
    text = json.dumps(report, indent=1) + "\n"
    j = Jirafs(args.jirafs, url, os.path.join(work, "mnt-h"), os.path.join(work, "state-h"),
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
    client = JIRA(server=url, token_auth=TOKEN)
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


def targets(res):
    """(what, met) for every target of the run (CONTRACT §8 and issue 14)."""
    f = res["figures"]
    a, c, e, g, h = f["a"], f["c"], f["e"], f["g"], f["h"]
    checks = [
        ("(a) searches <= ceil(N/P) + 3", a["cold_requests"]["searches"] <= a["search_target"]),
        ("(a) the limit: curl got the same pages, every one 200 and of the same size",
         a["limit_same_pages"] and a["limit_pages"] == a["cold_requests"]["searches"]),
        ("(a) cold ls -l <= 1.5 x the limit (curl, same pages, same parallelism)",
         a["jirafs_vs_limit"] <= 1.5),
        ("(a) jirafs's CPU >= 150 MB of pages per second",
         (a["mb_per_cpu_s"] or 0) >= 150),
        ("(a) warm ls -l makes no request", a["warm_requests"]["requests"] == 0),
        ("(b) no per-ticket GET", f["b"]["requests"]["ticket_gets"] == 0),
        ("(c) jirafs <= 0.5 x python-jira", c["jirafs_vs_python_jira"] <= 0.5),
        ("(c) jirafs <= 1.2 x curl on one keep-alive connection (every answer 201)",
         c["jirafs_vs_curl"] <= 1.2 and c["curl_created"] == c["creates"]),
        ("(d) >= 3x the sequential figure", f["d"]["speedup_vs_sequential"] >= 3),
        ("(e) jirafs <= 1.2 x curl on one keep-alive connection (every answer 201)",
         e["jirafs_vs_curl"] <= 1.2 and e["curl_created"] == e["comments"]),
        ("(f) refresh <= 3 requests", f["f"]["requests"]["requests"] <= 3),
        ("(g) peak resident <= 2 KiB a ticket + 40 MiB", g["peak_rss_mib"] <= g["bound_mib"]),
        ("(h) scan import >= 4x faster than one-by-one creates",
         h["speedup_vs_one_by_one"] >= 4 and h["jirafs_requests"]["creates"] ==
         h["findings"] == h["tickets"] == h["distinct_fingerprints"]),
        ("(h) second import <= 3 requests, 0 creates",
         h["second_requests"]["requests"] <= 3 and
         h["second_requests"]["creates"] == 0 and h["second_outbox"] == 0 and
         not h["second_error"] and h["second_counts"].get("unchanged") ==
         h["findings"]),
    ]
    if "i" in f:
        i = f["i"]
        checks += [
            ("(i) every ticket listed, the files checked as in Jira", i["listed_ok"]),
            ("(i) searches <= ceil(N/P) + 3", i["requests"]["searches"] <= i["search_target"]),
            ("(i) peak resident <= 2 KiB a ticket + 40 MiB",
             i["peak_rss_mib"] <= i["bound_mib"]),
        ]
    return checks


def verdict(res):
    checks = targets(res)
    print(f"\njirafs benchmark, {res['date']}, {res['machine']}, round trip "
          f"{res['rtt_ms']:g} ms, emulator latency {res['latency_ms']} ms, "
          f"{res['seconds']:.0f} s")
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
    mbs = a["mb_per_cpu_s"]
    rows = [
        ("(a) `ls -l` of {:,} tickets, cold (a fresh mount, pages pre-rendered; best of {})"
         .format(a["tickets"], a["runs"]),
         f"{a['cold_s']:.2f} s", f"{a['cold_requests']['searches']} searches "
         f"(target ≤ {a['search_target']}), {a['page_mb']:.0f} MB of pages; jirafs takes "
         f"{a['jirafs_vs_limit']:.2f}× the limit (target ≤ 1.5, goal 1.2)"),
        (f"(a) the limit: curl downloads the same {a['limit_pages']} pages, "
         f"{a['limit_parallel']} at a time (best of {a['runs']})", f"{a['limit_s']:.2f} s",
         f"{a['limit_requests']['searches']} searches, "
         + ("every one 200 and of jirafs's size" if a["limit_same_pages"] else
            "NOT the same pages")),
        (f"(a) jirafs's CPU for that listing (least of {a['runs']})",
         f"{a['jirafs_cpu_s']:.2f} s",
         (f"{mbs:.0f} MB of pages per CPU second" if mbs else "no CPU measured") +
         " (target ≥ 150)"),
        (f"(a) the same, warm (best of {a['runs']})", f"{a['warm_s']:.2f} s",
         f"{a['warm_requests']['requests']} requests (target 0); "
         f"{a['warm_vs_local']:.1f}× a local `ls -l`"),
        (f"(a) `ls -l` of {a['local_files']:,} empty files in a local directory",
         f"{a['local_s']:.3f} s", ""),
        ("(b) `grep -rl` over {:,} tickets".format(b["tickets"]),
         f"{b['seconds']:.1f} s", f"{b['requests']['ticket_gets']} per-ticket GETs, "
         f"{b['requests']['searches']} searches"),
        (f"(c) {c['creates']:,} creates: jirafs", f"{c['jirafs_s']:.1f} s",
         f"{c['jirafs_requests']['requests']} requests, "
         f"{plural(c['jirafs_requests']['connections'], 'connection')}"),
        ("(c) curl, one process, one keep-alive connection", f"{c['curl_s']:.1f} s",
         f"{c['curl_requests']['requests']} requests, {c['curl_created']} answered 201; "
         f"jirafs takes {c['jirafs_vs_curl']:.2f}× (target ≤ 1.2)"),
        ("(c) python-jira", f"{c['python_jira_s']:.1f} s",
         f"{c['python_jira_requests']['requests']} requests; jirafs takes "
         f"{c['jirafs_vs_python_jira']:.2f}× (target ≤ 0.5)"),
    ]
    if "curl_loop_s" in c:
        rows.append((f"(c) curl, a process per create (the first {c['curl_loop_creates']}, "
                     f"time scaled to {c['creates']:,})", f"{c['curl_loop_s']:.1f} s",
                     f"{c['curl_loop_requests']['requests']} requests, "
                     f"{plural(c['curl_loop_requests']['connections'], 'connection')}"))
    rows += [
        (f"(d) {c['creates']:,} creates, `xargs -P 8`", f"{d['seconds']:.1f} s",
         f"{d['speedup_vs_sequential']:.1f}× faster than (c) (target ≥ 3)"),
        (f"(e) {e['comments']:,} comments by `>>`: jirafs", f"{e['seconds']:.1f} s",
         f"{e['requests']['comments']} comment POSTs, {e['requests']['requests']} requests, "
         f"{plural(e['requests']['connections'], 'connection')}"),
        ("(e) curl, one process, one keep-alive connection", f"{e['curl_s']:.1f} s",
         f"{e['curl_requests']['requests']} requests, {e['curl_created']} answered 201; "
         f"jirafs takes {e['jirafs_vs_curl']:.2f}× (target ≤ 1.2)"),
        (f"(f) refresh after {fr['changed']} of {a['tickets']:,} changed", "",
         f"{fr['requests']['requests']} requests (target ≤ 3), "
         f"{fr['changes_seen']}/{fr['changed']} changes seen"),
        ("(g) daemon memory holding {:,} tickets".format(g["tickets"]),
         f"{g['peak_rss_mib']:.0f} MiB peak",
         f"{g['rss_mib']:.0f} MiB after (target ≤ {g['bound_mib']:.0f}: 2 KiB a ticket "
         f"+ 40 MiB)"),
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
    if "i" in f:
        i = f["i"]
        ok = sum(x["ok"] for x in i["spot_checks"])
        rows += [
            (f"(i) `ls` of {i['tickets']:,} tickets, fresh mount", f"{i['ls_s']:.1f} s",
             f"{i['names'] + i['closed_names']:,} of {i['tickets']:,} tickets listed, "
             f"{ok}/{len(i['spot_checks'])} files as in Jira; {i['requests']['searches']} "
             f"searches (target ≤ {i['search_target']}), {i['page_mb']:.0f} MB"),
            (f"(i) daemon memory holding {i['tickets']:,} tickets",
             f"{i['peak_rss_mib']:.0f} MiB peak",
             f"{i['rss_mib']:.0f} MiB after (target ≤ {i['bound_mib']:.0f}: 2 KiB a ticket "
             f"+ 40 MiB)"),
        ]
    net = (f"a {res['rtt_ms']:g} ms round trip (`bench/netdelay.py`, {res['rtt_ms'] / 2:g} ms "
           f"each way)" if res["rtt_ms"] else "no network delay")
    out = [f"Measured {res['date']} on {res['machine']}, {net}, emulator latency "
           f"{res['latency_ms']} ms per request, page size {res['page_size']}, "
           f"max_connections {res['max_connections']}; the whole run took "
           f"{res['seconds'] / 60:.1f} minutes.", "",
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
        ("(a) the limit: curl", f["a"]["limit_s"], "other"),
        ("(a) ls -l warm", f["a"]["warm_s"], "jirafs"),
        ("(b) grep -rl", f["b"]["seconds"], "jirafs"),
        ("(c) creates: jirafs", f["c"]["jirafs_s"], "jirafs"),
        ("(c) creates: curl keep-alive", f["c"]["curl_s"], "other"),
        ("(c) creates: python-jira", f["c"]["python_jira_s"], "other"),
        ("(d) creates: jirafs -P 8", f["d"]["seconds"], "jirafs"),
        ("(e) comments: jirafs", f["e"]["seconds"], "jirafs"),
        ("(e) comments: curl keep-alive", f["e"]["curl_s"], "other"),
        ("(h) scan import: jirafs", f["h"]["jirafs_s"], "jirafs"),
        ("(h) one-by-one creates", f["h"]["one_by_one_s"], "jirafs"),
        ("(h) scan import: python-jira", f["h"]["python_jira_s"], "other"),
        ("(h) again: jirafs", f["h"]["second_s"], "jirafs"),
        ("(h) again: python-jira", f["h"]["python_jira_second_s"], "other"),
    ]
    if "i" in f:
        rows.append((f"(i) ls of {f['i']['tickets'] // 1000}k tickets", f["i"]["ls_s"],
                     "jirafs"))
    with tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False) as d:
        for i, (label, secs, who) in enumerate(rows):
            d.write(f'{i} "{label}" {secs:.3f} {1 if who == "jirafs" else 2}\n')
        data = d.name
    title = (f"jirafs benchmark, {res['date']} ({res['rtt_ms']:g} ms round trip, "
             f"{res['tickets']:,} tickets)")
    script = f"""
set terminal pngcairo size 1400,600 font "sans,10"
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
