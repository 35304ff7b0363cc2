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
an end of stream (a half-close) follows the last bytes D later, and so
does a connection reset (the other side is then reset too).

    bench/netdelay.py --to 127.0.0.1:8080 --delay-ms 10 [--listen 127.0.0.1:0]
                      [--port-file FILE]

The bytes never enter Python: os.splice() moves whatever a socket holds
into a pipe of its direction, Python records (arrival time, byte count), and
D later splices that count out of the pipe into the other socket.  The
kernel only passes page references along, so the proxy costs about 0.25 s
of CPU per GB in tests/test_netdelay.py's transfer (it prints the figure)
and 0.4 to 0.5 s in the benchmark's cold listing, against 1 s or more when
it copied the bytes through Python.  What is left is mostly the kernel's
TCP work for the proxy's two connections (part of the peers' packets is
processed in the proxy's time), which any proxy pays; Python takes a sixth
of it or less.  So the proxy is not what a big download measures.

Bandwidth is not limited but for one bound: a direction holds at most
FLIGHT (8 MiB) in flight, a bandwidth-delay product.  Its bytes wait in a
chain of pipes, each as large as the process may make one (8 MiB with
CAP_SYS_RESOURCE, else /proc/sys/fs/pipe-max-size: 1 MiB by default, so
eight of them); when they are full the proxy stops reading that socket
until they drain, and TCP's own flow control holds the sender back.  8 MiB
in flight is some 800 MB/s a connection and direction at a 10 ms one-way
delay, and a 5 MB answer fits in it whole: it is not slowed at all.  The
start message (stderr) says what the pipes are.

From Python, start(to, delay_ms, workdir) runs it as a subprocess and gives
its port.  Standard library only (Linux: epoll and splice); one thread.
"""
import argparse
import collections
import errno
import fcntl
import glob
import heapq
import os
import resource
import select
import socket
import struct
import subprocess
import sys
import time

PIPE_SIZE = 8 << 20                 # asked for; root may, pipe-max-size otherwise
FLIGHT = 8 << 20                    # bytes in flight a direction, at most
MAX_PIPES = 16                      # pipes a direction, at most
SPLICE = os.SPLICE_F_NONBLOCK | os.SPLICE_F_MOVE
END, RESET = -1, -2                 # a flow's last entry: FIN or RST, not bytes
IN = select.EPOLLIN
OUT = select.EPOLLOUT
ERR = select.EPOLLERR | select.EPOLLHUP

monotonic = time.monotonic
_pipe_sizes = None                 # set by new_pipe


def pipe_sizes():
    """The capacities to ask for, largest first."""
    try:
        with open("/proc/sys/fs/pipe-max-size") as f:
            most = int(f.read())
    except (OSError, ValueError):
        most = 1 << 20
    return [PIPE_SIZE] + ([most] if most < PIPE_SIZE else [])


def new_pipe():
    """A non-blocking pipe as large as may be: [read fd, write fd, capacity,
    bytes in it, whether it is to be drained before it is written again]."""
    global _pipe_sizes
    if _pipe_sizes is None:
        _pipe_sizes = pipe_sizes()
    r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    while True:
        try:
            return [r, w, fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, _pipe_sizes[0]), 0, False]
        except OSError:
            if len(_pipe_sizes) == 1:
                return [r, w, fcntl.fcntl(w, fcntl.F_GETPIPE_SZ), 0, False]
            _pipe_sizes.pop(0)      # not allowed: the next size from now on


class Loop:
    """epoll and a heap of timers: objects with .on_due(now), at a time."""

    def __init__(self):
        self.ep = select.epoll()
        self.socks = {}             # fd -> Sock or Listener
        self.timers = []
        self.seq = 0
        self.later = []             # run after the current batch of events

    def at(self, when, obj):
        self.seq += 1
        heapq.heappush(self.timers, (when, self.seq, obj))

    def run(self):
        ep, socks, timers = self.ep, self.socks, self.timers
        while True:
            timeout = max(0.0, timers[0][0] - monotonic()) if timers else -1
            for fd, ev in ep.poll(timeout):
                s = socks.get(fd)
                if s is not None:
                    s.on_event(ev)
            while self.later:       # accepts: no fd is reused inside a batch
                self.later.pop()()
            if timers:
                now = monotonic()
                while timers and timers[0][0] <= now:
                    heapq.heappop(timers)[2].on_due(now)


class Sock:
    """One socket of a connection: read by .rflow, written by .wflow."""

    def __init__(self, loop, sock, conn):
        self.loop, self.sock, self.fd, self.conn = loop, sock, sock.fileno(), conn
        self.mask = 0
        self.rflow = self.wflow = None
        self.connecting = False

    def update(self):
        if self.conn.closed:
            return
        want = 0
        r, w = self.rflow, self.wflow
        if r.reading and not r.full:
            want = IN
        if self.connecting or w.blocked:
            want |= OUT
        if want != self.mask:
            ep = self.loop.ep
            if not self.mask:
                ep.register(self.fd, want)
                self.loop.socks[self.fd] = self
            elif not want:          # so that no EPOLLHUP is reported either
                ep.unregister(self.fd)
                del self.loop.socks[self.fd]
            else:
                ep.modify(self.fd, want)
            self.mask = want

    def on_event(self, ev):
        if self.connecting:
            self.conn.connected()
            return
        if ev & (IN | ERR) and self.mask & IN:
            self.rflow.on_readable()
        if ev & (OUT | ERR) and self.mask & OUT and not self.conn.closed:
            self.wflow.on_writable()

    def close(self, reset=False):
        if self.mask:
            self.loop.ep.unregister(self.fd)
            del self.loop.socks[self.fd]
            self.mask = 0
        if reset:
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
            except OSError:
                pass
        self.sock.close()


class Flow:
    """One direction: src's bytes through pipes into dst, each read D later.

    The bytes in flight are in a chain of pipes, read from the first and
    written to the last: as many as FLIGHT bytes hold (one 8 MiB pipe, or
    eight of 1 MiB), taken from .spare and given back once drained."""

    def __init__(self, loop, conn, src, dst, delay, first_at):
        self.loop, self.conn, self.src, self.dst = loop, conn, src, dst
        src.rflow = self
        dst.wflow = self
        self.delay, self.first_at, self.last = delay, first_at, 0.0
        self.pipes = collections.deque()
        self.spare = []
        self.pipes.append(new_pipe())
        self.most = max(1, min(MAX_PIPES, FLIGHT // self.pipes[0][2]))
        self.inpipe = 0             # bytes in the pipes
        self.ready = 0              # of which due
        self.queue = collections.deque()    # [due, count or END/RESET]
        self.end = 0                # END or RESET once due
        self.reading = True         # src not at its end
        self.full = False           # src not read until the pipes drain
        self.blocked = False        # dst's buffer is full: waiting for it
        self.timer = False
        self.done = False

    def can_read(self):
        tail = self.pipes[-1]
        return self.inpipe < FLIGHT and (
            (not tail[4] and tail[3] < tail[2]) or len(self.pipes) < self.most)

    def grow(self):
        """A new last pipe, or False (and src no longer read) when full."""
        if len(self.pipes) < self.most and self.inpipe < FLIGHT:
            try:
                self.pipes.append(self.spare.pop() if self.spare else new_pipe())
                return True
            except OSError:
                self.most = len(self.pipes)     # out of file descriptors
        self.full = True
        self.src.update()
        return False

    def on_readable(self):
        tail = self.pipes[-1]
        if tail[4] or tail[3] >= tail[2]:
            if not self.grow():
                return
            tail = self.pipes[-1]
        room = tail[2] - tail[3]
        if room > FLIGHT - self.inpipe:
            room = FLIGHT - self.inpipe
            if room <= 0:
                self.full = True
                self.src.update()
                return
        try:
            n = os.splice(self.src.fd, tail[1], room, flags=SPLICE)
        except BlockingIOError:
            if tail[3]:             # this pipe's slots are full
                tail[4] = True
                self.grow()
            return
        except OSError:
            n = RESET
        due = monotonic() + self.delay
        if due < self.first_at:
            due = self.first_at
        if due < self.last:
            due = self.last
        self.last = due
        if n > 0:
            tail[3] += n
            self.inpipe += n
            q = self.queue
            if q and q[-1][0] == due:
                q[-1][1] += n
            else:
                q.append([due, n])
            if n == room and not self.can_read():
                self.full = True
                self.src.update()
        else:
            self.queue.append([due, n or END])
            self.reading = False
            self.src.update()
        if not self.timer:
            self.timer = True
            self.loop.at(self.queue[0][0], self)

    def on_due(self, now):
        self.timer = False
        if self.conn.closed:
            return
        q = self.queue
        while q and q[0][0] <= now:
            n = q.popleft()[1]
            if n > 0:
                self.ready += n
            else:
                self.end = n
        if q:
            self.timer = True
            self.loop.at(q[0][0], self)
        self.deliver()

    def on_writable(self):
        self.blocked = False
        self.dst.update()
        self.deliver()

    def deliver(self):
        # nothing, not even an end of stream, before the server's connect
        if self.blocked or self.dst.connecting or self.done:
            return
        if self.ready:
            pipes, moved = self.pipes, 0
            while self.ready:
                head = pipes[0]
                if not head[3]:         # drained: the next pipe
                    head[4] = False
                    self.spare.append(pipes.popleft())
                    continue
                try:
                    n = os.splice(head[0], self.dst.fd, min(self.ready, head[3]), flags=SPLICE)
                except BlockingIOError:
                    self.blocked = True
                    self.dst.update()
                    break
                except (BrokenPipeError, ConnectionResetError):
                    n = 0
                except OSError:     # anything else: a visible cut, not a short stream
                    self.conn.close(reset=True)
                    return
                if not n:           # dst's peer is gone: its reads say so too
                    self.broken()
                    return
                self.ready -= n
                moved += n
                head[3] -= n
                if len(pipes) == 1:
                    head[4] = False     # slots freed
                elif not head[3]:
                    head[4] = False
                    self.spare.append(pipes.popleft())
            self.inpipe -= moved
            if moved and self.full and self.can_read():
                self.full = False
                self.src.update()
            if self.ready:
                return
        if self.end == END:
            try:
                self.dst.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            self.end = 0
            self.done = True
            self.conn.flow_done()
        elif self.end == RESET:
            self.conn.close(reset=self.dst)

    def broken(self):
        self.done = True
        self.queue.clear()
        self.ready = self.end = 0
        self.reading = self.blocked = False
        self.src.update()
        self.dst.update()
        self.conn.flow_done()

    def close(self):
        for p in list(self.pipes) + self.spare:
            os.close(p[0])
            os.close(p[1])


class Conn:
    def __init__(self, loop, csock, target, delay):
        self.loop, self.closed = loop, False
        accepted = monotonic()
        ssock = socket.socket(socket.AF_INET6 if ":" in target[0] else socket.AF_INET)
        ssock.setblocking(False)
        for s in (csock, ssock):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.c, self.s = Sock(loop, csock, self), Sock(loop, ssock, self)
        self.flows = []
        try:
            # the handshake's round trip, then the data's flight
            self.flows.append(Flow(loop, self, self.c, self.s, delay, accepted + 3 * delay))
            self.flows.append(Flow(loop, self, self.s, self.c, delay, 0.0))
        except OSError:
            self.close()
            return
        self.flows[1].reading = False       # until connected
        err = ssock.connect_ex(target)
        if err not in (0, errno.EINPROGRESS):
            self.close()
            return
        self.s.connecting = True
        self.s.update()
        self.c.update()

    def connected(self):
        if self.s.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            self.close()            # refused: the client's connection closed
            return
        self.s.connecting = False
        self.flows[1].reading = True
        self.s.update()
        self.flows[0].deliver()

    def flow_done(self):
        if all(f.done for f in self.flows):
            self.close()

    def close(self, reset=None):
        if self.closed:
            return
        self.closed = True
        for s in (self.c, self.s):     # reset: that socket, or True for both
            s.close(reset=reset is True or s is reset)
        for f in self.flows:
            f.close()


class Listener:
    def __init__(self, loop, sock, target, delay):
        self.loop, self.sock, self.target, self.delay = loop, sock, target, delay
        sock.setblocking(False)
        self.fd = sock.fileno()
        loop.ep.register(self.fd, IN)
        loop.socks[self.fd] = self

    def on_event(self, ev):
        self.loop.later.append(self.accept)

    def accept(self):
        for _ in range(64):
            try:
                c, _ = self.sock.accept()
            except BlockingIOError:
                return
            except (ConnectionAbortedError, InterruptedError):
                continue
            except OSError:         # out of file descriptors, say: a pause
                self.loop.ep.unregister(self.fd)
                self.loop.at(monotonic() + 0.05, self)
                return
            c.setblocking(False)
            try:
                Conn(self.loop, c, self.target, self.delay)
            except OSError:
                c.close()

    def on_due(self, now):
        self.loop.ep.register(self.fd, IN)


def serve(args):
    host, port = args.to.rsplit(":", 1)
    target = (host.strip("[]"), int(port))
    delay = args.delay_ms / 1000.0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    r, w, size, _, _ = new_pipe()
    os.close(r)
    os.close(w)
    flight = max(1, min(MAX_PIPES, FLIGHT // size)) * size
    lhost, lport = args.listen.rsplit(":", 1)
    lhost = lhost.strip("[]")
    ls = socket.socket(socket.AF_INET6 if ":" in lhost else socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((lhost, int(lport)))
    ls.listen(socket.SOMAXCONN)
    loop = Loop()
    Listener(loop, ls, target, delay)
    bound = ls.getsockname()[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{bound}\n")
        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"netdelay: {lhost}:{bound} -> {args.to}, {args.delay_ms} ms each way, "
          f"{flight >> 10} KiB in flight a direction ({size >> 10} KiB pipes)", file=sys.stderr, flush=True)
    loop.run()


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
        """utime + stime of the proxy so far: to the nanosecond from its threads'
        /proc/PID/task/TID/schedstat (their time on a CPU), else in clock ticks
        from /proc/PID/stat."""
        try:
            ns = 0
            for path in glob.glob(f"/proc/{self.proc.pid}/task/*/schedstat"):
                with open(path) as f:
                    ns += int(f.read().split()[0])
            if ns:
                return ns / 1e9
        except (OSError, ValueError, IndexError):
            pass
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
        serve(args)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
