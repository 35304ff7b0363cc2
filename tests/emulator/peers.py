"""Which program is on the other end of a loopback TCP connection.

The tunnel tests start the emulator with --peer-exe: it then serves only
connections made by the named programs (sshd, ssh, the test's own Python),
which proves that jirafs's traffic really went through the tunnel.  Linux
only: /proc/net/tcp{,6} gives the socket inode of the peer's end, and
/proc/PID/fd says which process holds it."""

import ipaddress
import os
import struct


def _hex_addr(ip, port):
    """The local_address column of /proc/net/tcp{,6} for (ip, port)."""
    addr = ipaddress.ip_address(ip)
    if addr.version == 4:
        raw = struct.unpack("<I", addr.packed)[0]
        return "%08X:%04X" % (raw, port)
    words = struct.unpack("<4I", addr.packed)
    return "".join("%08X" % w for w in words) + ":%04X" % port


def socket_inode(ip, port, peer=None):
    """The inode of the socket whose local end is ip:port (and whose remote
    end is peer, an (ip, port) pair, when given), or None.  A local port
    may be in use towards several remote ends, or linger in TIME_WAIT."""
    want = _hex_addr(ip, port)
    want_remote = _hex_addr(*peer) if peer else None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[1] == want and (want_remote is None or
                                            cols[2] == want_remote):
                        return cols[9] if cols[9] != "0" else None
        except OSError:
            continue
    return None


def owner_exe(inode):
    """The executable of a process holding socket:[inode], or None."""
    target = "socket:[%s]" % inode
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        fd_dir = "/proc/%s/fd" % pid
        try:
            for fd in os.listdir(fd_dir):
                try:
                    if os.readlink(os.path.join(fd_dir, fd)) == target:
                        return os.path.realpath("/proc/%s/exe" % pid)
                except OSError:
                    continue
        except OSError:
            continue
    return None


def _plain(ip):
    return ip[len("::ffff:"):] if ip.startswith("::ffff:") else ip


def peer_exe(client_address, server_address=None):
    """The executable that opened the connection from client_address, or
    None when the connection is already gone on the peer's side (closed
    before it was accepted: its socket has no owner any more)."""
    ip, port = _plain(client_address[0]), client_address[1]
    server = (_plain(server_address[0]), server_address[1]) if server_address else None
    inode = socket_inode(ip, port, server)
    return owner_exe(inode) if inode else None


def resolve(paths):
    """Real paths of the allowed executables (python3 -> python3.11)."""
    return frozenset(os.path.realpath(p) for p in paths)


__all__ = ["peer_exe", "resolve"]
