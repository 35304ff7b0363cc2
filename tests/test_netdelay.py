"""bench/netdelay.py, the delaying TCP proxy of issue 14's network model:
bytes arrive intact and in order, a request on a new connection pays the
handshake's round trip on top of its own, one on a kept-alive connection
only its own.  Only lower bounds are asserted (a delay cannot be shorter
than it is); how much longer a loaded machine makes it is not this test's
business, so that a kept connection is cheaper is shown by the figures
printed, not asserted."""
import http.server
import os
import subprocess
import threading
import time

import pytest

from testenv import ROOT

DELAY_MS = 40


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"          # keep-alive

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)             # echo

    def log_message(self, *a):
        pass


@pytest.fixture
def proxied(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port_file = tmp_path / "port"
    p = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "bench", "netdelay.py"),
                          "--to", f"127.0.0.1:{server.server_address[1]}",
                          "--delay-ms", str(DELAY_MS), "--port-file", str(port_file)],
                         stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not port_file.exists():
        assert p.poll() is None and time.monotonic() < deadline, "netdelay did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port_file.read_text().strip()}/"
    p.terminate()
    p.wait(timeout=10)
    server.shutdown()


def curl_times(tmp, url, bodies):
    """POST each body in one curl (one kept-alive connection): the answers
    and each transfer's time_total in seconds."""
    args = ["curl", "-sS", "--no-progress-meter"]
    for i, b in enumerate(bodies):
        f = tmp / f"body{i}"
        f.write_text(b)
        if i:
            args.append("--next")
        args += ["-X", "POST", "--data-binary", f"@{f}", "-w", "\n%{time_total}\n", url]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    lines = out.split("\n")
    return lines[0::2][:len(bodies)], [float(t) for t in lines[1::2][:len(bodies)]]


def test_a_new_connection_pays_the_handshake_and_a_kept_one_does_not(proxied, tmp_path):
    d = DELAY_MS / 1000
    big = "x" * 300000                      # several chunks: order and size kept
    answers, times = curl_times(tmp_path, proxied, ["first", big, "third"])
    print("netdelay at %d ms each way: new connection %.3f s, kept %.3f s, %.3f s"
          % (DELAY_MS, *times))
    assert answers == ["first", big, "third"]
    assert times[0] >= 4 * d                # connect + request: two round trips
    assert times[1] >= 2 * d and times[2] >= 2 * d   # kept alive: one round trip each


def test_big_transfers_go_through_intact_and_cheaply(tmp_path):
    """A listing's pages (hundreds of MB) must not make the proxy the bottleneck:
    8 connections of 16 MiB each arrive intact; the proxy's CPU for them is printed
    and bounded loosely: at least 500 MB per CPU second (some 4,000 is usual, the
    bytes never entering Python; it was 1,000 when they did)."""
    import hashlib
    import socket
    import sys
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import netdelay

    blob = hashlib.sha256(b"netdelay").digest() * (1 << 19)     # 16 MiB, not one byte
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=lambda c=c: (c.recv(16), c.sendall(blob), c.close()),
                             daemon=True).start()
    threading.Thread(target=serve, daemon=True).start()
    proxy = netdelay.start(f"127.0.0.1:{srv.getsockname()[1]}", 5, str(tmp_path))
    try:
        cpu0 = proxy.cpu_seconds()
        got = [None] * 8

        def fetch(k):
            c = socket.create_connection(("127.0.0.1", proxy.port))
            c.sendall(b"go")
            parts = []
            while True:
                d = c.recv(1 << 20)
                if not d:
                    break
                parts.append(d)
            c.close()
            got[k] = b"".join(parts)
        ts = [threading.Thread(target=fetch, args=(k,)) for k in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        cpu = proxy.cpu_seconds() - cpu0
    finally:
        proxy.stop()
        srv.close()
    mb = 8 * len(blob) / 1e6
    print("netdelay: %.0f MB through 8 connections for %.3f s of its CPU (%.0f MB/s)"
          % (mb, cpu, mb / max(cpu, 0.001)))
    assert all(g == blob for g in got)
    assert cpu < mb / 500
