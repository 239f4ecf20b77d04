"""bench/sb_ports.py: loopback ports for the benches' private processes,
picked outside the kernel's ephemeral range, as common/sb_port.c does for
the C side: a port found with bind(port 0) comes from that range, and any
outgoing connection (the stack's own, to Redis or between stages) can take
it before the service binds it, so the service fails at start."""
import os
import random
import socket

SAFE_LOW = 10000  # ports below this are left to everyone else
ROOM_MIN = 4096   # the least room a safe range must have


def port_range():
    """(lo, hi): below the ephemeral range, else above it, else everything."""
    elo, ehi = 32768, 60999  # Linux's default
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            a, b = (int(x) for x in f.read().split()[:2])
            if 1 <= a <= b <= 65535:
                elo, ehi = a, b
    except (OSError, ValueError):
        pass
    if elo - SAFE_LOW >= ROOM_MIN:
        return SAFE_LOW, elo - 1
    if 65535 - ehi >= ROOM_MIN:
        return ehi + 1, 65535
    return 1024, 65535


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


_NEXT = [0]


def free_port():
    """A port of port_range() free a moment ago; successive calls walk the
    range from a random start, so one process never gets the same twice in
    a row."""
    lo, hi = port_range()
    if not lo <= _NEXT[0] <= hi:
        _NEXT[0] = random.Random(os.getpid() ^ random.getrandbits(32)).randint(lo, hi)
    for _ in range(hi - lo + 1):
        port = _NEXT[0]
        _NEXT[0] = lo if port >= hi else port + 1
        if port_free(port):
            return port
    raise RuntimeError("no free port in %d-%d" % (lo, hi))
