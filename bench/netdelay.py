#!/usr/bin/python3
"""netdelay.py - a TCP proxy that makes loopback behave like a network with
a round trip: every flight of bytes waits a fixed one-way delay in each
direction, and a new connection pays its handshake.

The emulator's --latency-ms adds time per request inside the server, so a
TCP connect or a TLS handshake costs nothing there.  Behind this proxy they
cost what they cost on a network (this kernel has no netem):

    client --(D)--> proxy --> server        each flight: D later
    client <--(D)-- proxy <-- server

A request on a new connection arrives 3 D after the connect (SYN, SYN-ACK,
then the data with the ACK) and its answer D after it leaves: 4 D in all,
against 2 D on a connection kept alive.  A TLS handshake's flights are
delayed like any other bytes.  Bytes keep their order in each direction;
an end of stream follows the last bytes.

    bench/netdelay.py --to 127.0.0.1:8080 --delay-ms 10 [--listen 127.0.0.1:0]
                      [--port-file FILE]

Bandwidth is not limited: the proxy reads and writes up to CHUNK bytes at a
time, so that it is not what a big download measures (about 1 s of its CPU
per GB on loopback; tests/test_netdelay.py prints the figure).  From Python,
start(to, delay_ms, workdir) runs it as a subprocess and gives its port.

Standard library only; one thread, asyncio.
"""
import argparse
import asyncio
import os
import subprocess
import sys
import time

CHUNK = 1 << 20


async def pump(reader, writer, delay, first_at):
    """Copy reader to writer, each chunk delivered `delay` seconds after it
    arrived (the first not before first_at), in order."""
    queue = asyncio.Queue()

    async def deliver():
        while True:
            at, data = await queue.get()
            wait = at - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    task = asyncio.ensure_future(deliver())
    last = 0.0
    try:
        while True:
            data = await reader.read(CHUNK)
            at = max(time.monotonic() + delay, first_at, last)
            first_at = 0.0
            last = at
            await queue.put((at, data if data else None))
            if not data:
                break
    except (ConnectionError, OSError):
        await queue.put((last, None))
    try:
        await task
    except (ConnectionError, OSError):
        pass


async def serve(args):
    host, port = args.to.rsplit(":", 1)
    delay = args.delay_ms / 1000.0

    async def handle(creader, cwriter):
        accepted = time.monotonic()
        try:
            sreader, swriter = await asyncio.open_connection(host, int(port), limit=CHUNK)
        except OSError:
            cwriter.close()
            return
        await asyncio.gather(
            # the handshake's round trip, then the data's flight
            pump(creader, swriter, delay, accepted + 3 * delay),
            pump(sreader, cwriter, delay, 0.0))
        for w in (cwriter, swriter):
            w.close()

    lhost, lport = args.listen.rsplit(":", 1)
    server = await asyncio.start_server(handle, lhost, int(lport), limit=CHUNK)
    bound = server.sockets[0].getsockname()[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{bound}\n")
        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"netdelay: 127.0.0.1:{bound} -> {args.to}, {args.delay_ms} ms each way",
          file=sys.stderr, flush=True)
    async with server:
        await server.serve_forever()


class Proxy:
    """netdelay.py as a subprocess: .port, .url, .cpu_seconds(), .stop()."""

    def __init__(self, to, delay_ms, workdir, timeout=30):
        os.makedirs(workdir, exist_ok=True)
        port_file = os.path.join(workdir, f"netdelay-{os.getpid()}-{id(self)}.port")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.abspath(__file__), "--to", to,
             "--delay-ms", str(delay_ms), "--port-file", port_file],
            stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("netdelay did not start")
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())
        os.unlink(port_file)
        self.delay_ms = delay_ms

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self):
        """utime + stime of the proxy so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(to, delay_ms, workdir):
    """Start the proxy to HOST:PORT `to`, delaying each flight delay_ms; -> Proxy."""
    return Proxy(to, delay_ms, workdir)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--to", required=True, help="HOST:PORT of the server")
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT (default: a free port)")
    ap.add_argument("--delay-ms", type=float, default=10.0, help="one-way delay (default 10)")
    ap.add_argument("--port-file", help="write the port listened on to this file")
    args = ap.parse_args()
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
