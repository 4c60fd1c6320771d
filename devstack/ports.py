"""host:port addresses from the environment: checked free before anything starts, polled until ready."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import random
import socket
from pathlib import Path

from devstack.errors import DevError


def split_host_port(addr: str, setting: str) -> tuple[str, int]:
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise DevError(f"{setting} must be host:port, got {addr!r}")
    return host.strip("[]"), int(port)


def ensure_free(addr: str, setting: str) -> None:
    """Fails in one line when something already listens on `addr`."""
    host, port = split_host_port(addr, setting)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise DevError(f"{setting}={addr}: cannot resolve {host!r} ({error.strerror})") from None
    family, kind, proto, _, sockaddr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As servers do: a port that only has connections in TIME_WAIT is free to listen on.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(sockaddr)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise DevError(f"{addr} is already in use (another `metering dev` or server?); "
                               f"set {setting} to another host:port") from None
            raise DevError(f"{setting}={addr}: cannot listen there ({error.strerror})") from None


async def accepts_tcp(addr: str) -> bool:
    host, port = split_host_port(addr, "address")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=1)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


# Ports handed out by this process, not handed out again: the caller binds them soon after.
_handed_out: set[int] = set()
_LOWEST = 10_000


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now; the caller's process binds it soon after.

    Picked below the range the OS takes ports for outgoing connections from: a port the OS picked
    (bind to 0) can become a client socket's local port (a database connection's) before the
    server binds it, and the server then fails with "address already in use"."""
    below = _outgoing_ports_start()
    for _ in range(200):
        port = random.randrange(_LOWEST, below)
        if port in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    with socket.socket() as probe:  # the low range is full: let the OS pick
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@functools.cache
def _outgoing_ports_start() -> int:
    """Where the OS's range of ports for outgoing connections starts (Linux; 32768 elsewhere)."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768
    return low if low > _LOWEST + 1_000 else 32_768


def free_addr(host: str = "127.0.0.1") -> str:
    return f"{host}:{free_port(host)}"
