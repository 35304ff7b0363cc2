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


def socket_inode(ip, port):
    """The inode of the socket whose local end is ip:port, or None."""
    want = _hex_addr(ip, port)
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[1] == want:
                        return cols[9]
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


def peer_exe(client_address):
    """The executable that opened the connection from client_address."""
    ip, port = client_address[0], client_address[1]
    if ip.startswith("::ffff:"):
        ip = ip[len("::ffff:"):]
    inode = socket_inode(ip, port)
    return owner_exe(inode) if inode else None


def resolve(paths):
    """Real paths of the allowed executables (python3 -> python3.11)."""
    return frozenset(os.path.realpath(p) for p in paths)


__all__ = ["peer_exe", "resolve"]
