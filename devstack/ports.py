"""host:port addresses from the environment: checked free before anything starts, polled until ready."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket

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


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, picked by the OS; the caller's process binds it soon after."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def free_addr(host: str = "127.0.0.1") -> str:
    return f"{host}:{free_port(host)}"
