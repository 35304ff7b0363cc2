"""Profile the daemon's cold listing: where jirafs spends its CPU on a fresh
mount's `ls -l` of a big project, with the pages served pre-rendered through
the same network as bench/run's scenario (a).  Run it with bench/profile
(which builds first):

    bench/profile [--tickets 50000] [--rtt-ms 20] [--call-graph dwarf|fp]

It seeds the emulator, lists the project once on a first mount (so that
every page is rendered and kept), mounts again, and runs
`perf record -F 999 --call-graph dwarf -p PID` on the fresh daemon for
exactly the `ls -l`; then prints `perf report --no-children` (the top
functions by their own samples) and leaves perf.data for a closer look:

    perf report -i DIR/perf.data                  # interactive
    perf report -i DIR/perf.data --children --stdio -G

The build is -O2 without frame pointers, hence DWARF unwinding by default
(--call-graph fp records much less but gives shallow stacks).
"""
import argparse
import os
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
import bench  # noqa: E402
import netdelay  # noqa: E402

PERF = "/usr/bin/perf"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jirafs", default=os.path.join(ROOT, "build", "jirafs"))
    ap.add_argument("--tickets", type=int, default=50000)
    ap.add_argument("--rtt-ms", type=float, default=20)
    ap.add_argument("--max-connections", type=int, default=8)
    ap.add_argument("--call-graph", choices=["dwarf", "fp"], default="dwarf")
    ap.add_argument("--frequency", type=int, default=999, help="samples a second (perf -F)")
    ap.add_argument("--lines", type=int, default=60, help="lines of the report printed")
    ap.add_argument("--out", help="directory for perf.data (default: a new one in /tmp)")
    args = ap.parse_args()

    out = args.out or tempfile.mkdtemp(prefix="jirafs-profile-")
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="jirafs-profile-work-")
    token = os.path.join(work, "token")
    with open(token, "w") as f:
        f.write(bench.TOKEN + "\n")
    os.chmod(token, 0o600)
    n = args.tickets
    bench.log(f"profile: seeding {n} tickets ...")
    emu = Emulator.start(os.path.join(work, "emu"), state=False, fast_pages=True,
                         seed_projects=[f"BIG:{n}:4"], timeout=600)
    net = netdelay.start(f"127.0.0.1:{emu.port}", args.rtt_ms / 2, work) \
        if args.rtt_ms > 0 else None
    url = net.url if net else emu.url
    opts = ["cache_ttl=3600", f"max_connections={args.max_connections}"]
    mounts = []
    data = os.path.join(out, "perf.data")
    try:
        w = bench.Jirafs(args.jirafs, url, os.path.join(work, "mnt-warmup"),
                         os.path.join(work, "state-warmup"), token, opts)
        mounts.append(w)
        os.listdir(w.p("BIG"))              # every page rendered once, kept by the emulator
        w.stop()
        mounts.remove(w)
        j = bench.Jirafs(args.jirafs, url, os.path.join(work, "mnt"),
                         os.path.join(work, "state"), token, opts)
        mounts.append(j)
        os.listdir(j.mnt)
        perf = subprocess.Popen([PERF, "record", "-F", str(args.frequency), "--call-graph",
                                 "dwarf,16384" if args.call_graph == "dwarf" else "fp",
                                 "-o", data, "-p", str(j.proc.pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)                     # perf attached
        if perf.poll() is not None:
            raise SystemExit("perf record failed: " + perf.stderr.read().decode()[-1000:])
        mark = emu.mark()
        cpu0 = j.cpu_seconds()
        t, _ = bench.timed(lambda: bench.sh(f"ls -l {j.p('BIG')} {j.p('BIG', 'closed')} "
                                            "| wc -l"))
        cpu = j.cpu_seconds() - cpu0
        perf.send_signal(signal.SIGINT)
        perf.wait(timeout=300)
        c = bench.counts(emu, mark)
    finally:
        bench.stop_all(mounts, net, emu)
        subprocess.run(["rm", "-rf", work])
    mb = c["search_bytes"] / 1e6
    print(f"cold ls -l of {n:,} tickets: {t:.2f} s, {c['searches']} searches, {mb:.0f} MB of "
          f"pages ({c['pre_rendered']} pre-rendered); jirafs CPU {cpu:.2f} s = "
          f"{mb / cpu if cpu else 0:.0f} MB per CPU second")
    for title, how in (("its own samples", ["--no-children", "--percent-limit", "0.5"]),
                       ("with its callees (children, then self)",
                        ["--children", "--percent-limit", "3"])):
        report = subprocess.run([PERF, "report", "-i", data, "--stdio", "-g", "none",
                                 "--sort", "dso,symbol"] + how, capture_output=True,
                                text=True)
        lines = [x.rstrip() for x in report.stdout.splitlines()
                 if x.strip() and not x.startswith("#")]
        print(f"\n-- the daemon's CPU by function, {title}:")
        print("\n".join(lines[:args.lines]))
    print(f"\nperf.data: {data}\n  perf report -i {data}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
