"""Jira Server/DC emulator: /usr/bin/python3 tests/emulator [options] (see README.md)."""

import argparse
import os
import signal
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import peers  # noqa: E402
import seed  # noqa: E402
import server  # noqa: E402
from state import State  # noqa: E402


def write_atomic(path, text, mode=0o644):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def seed_spec(s):
    parts = s.split(":")
    if len(parts) not in (2, 3) or not parts[1].isdigit() or \
            (len(parts) == 3 and not parts[2].isdigit()):
        raise argparse.ArgumentTypeError("expected KEY:N[:DONE_EVERY], got %r" % s)
    return (parts[0].upper(), int(parts[1]), int(parts[2]) if len(parts) == 3 else 4)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="emulator", description="Jira Server/DC emulator")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--tls", metavar="DIR")
    ap.add_argument("--max-results", type=int, default=1000)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--indexed-property", action="append", default=[], metavar="KEY",
                    help="issue property searchable by JQL, as if an app indexed it "
                         "(repeatable; stock Jira: none)")
    ap.add_argument("--search-comments-max", type=int, metavar="N",
                    help="at most N comments per issue in search answers (default: all)")
    ap.add_argument("--fast-pages", action="store_true",
                    help="fast page mode: render each search answer once and serve its bytes "
                         "from memory until the next change (config fast_pages)")
    ap.add_argument("--seed", choices=["demo"])
    ap.add_argument("--seed-project", type=seed_spec, action="append", default=[])
    ap.add_argument("--token-file")
    ap.add_argument("--state")
    ap.add_argument("--base-url", help="base URL used in 'self' links (default: the listen URL)")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--peer-exe", action="append", default=[], metavar="PATH",
                    help="serve only connections opened by this program (repeatable; "
                         "the tunnel tests' proof that traffic went through ssh)")
    args = ap.parse_args(argv)

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        ap.error("--host must be a loopback address")
    if args.search_comments_max is not None and args.search_comments_max < 0:
        ap.error("--search-comments-max must be 0 or more")

    ssl_ctx = None
    if args.tls:
        import tls
        ssl_ctx = tls.server_context(args.tls)

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    server.EmuServer.address_family = family
    state = State(max_results=args.max_results, latency_ms=args.latency_ms)
    app = server.App(state, quiet=args.quiet, state_path=args.state)
    httpd = server.EmuServer((args.host, args.port), app, ssl_ctx,
                             peer_exes=peers.resolve(args.peer_exe) if args.peer_exe else None)
    port = httpd.server_address[1]
    host = "127.0.0.1" if args.host == "localhost" else args.host
    if ":" in host:
        host = "[%s]" % host
    state.base = (args.base_url or "%s://%s:%d" % ("https" if ssl_ctx else "http", host,
                                                   port)).rstrip("/")
    app.render = server.R.Renderer(state)

    loaded = False
    if args.state and os.path.exists(args.state):
        state.load(args.state)
        # command-line settings win over saved ones
        state.config["max_results"] = args.max_results
        state.config["latency_ms"] = args.latency_ms
        loaded = True
    # these two only when given: otherwise a saved value (POST /_emu/config) stays
    if args.indexed_property:
        state.config["indexed_properties"] = sorted(set(args.indexed_property))
    if args.search_comments_max is not None:
        state.config["search_comments_max"] = args.search_comments_max
    if args.fast_pages:
        state.config["fast_pages"] = True
    if not loaded:
        if args.seed == "demo":
            seed.seed_demo(state)
        for key, n, done_every in args.seed_project:
            seed.seed_project(state, key, n, done_every)

    if args.token_file:
        write_atomic(args.token_file, "alice-pat\n", 0o600)
        os.chmod(args.token_file, 0o600)

    stopping = threading.Event()

    def on_signal(signum, frame):
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if args.port_file:
        write_atomic(args.port_file, "%d\n" % port)
    if not args.quiet:
        sys.stderr.write("emulator: listening on %s (%d projects, %d issues)\n"
                         % (state.base, len(state.projects), len(state.issues)))
        sys.stderr.flush()
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        app.faults.clear()          # release hanging requests
        if args.state:
            with state.lock:
                state.save(args.state)
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
