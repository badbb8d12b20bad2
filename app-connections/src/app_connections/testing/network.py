"""Block real network access: only loopback addresses may be reached."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any


class NetworkBlocked(OSError):
    """A test tried to reach the network; replay from a cassette instead."""


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def block_network() -> Iterator[None]:
    """Within the block, name lookups and connections to anything but loopback fail."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            raise NetworkBlocked(f"network blocked in tests: lookup of {host!r}; replay it from a cassette")
        return real_getaddrinfo(host, *args, **kwargs)

    def _check(address: Any) -> None:
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            raise NetworkBlocked(f"network blocked in tests: connection to {address[0]!r}")

    def connect(self: socket.socket, address: Any) -> Any:
        _check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        _check(address)
        return real_connect_ex(self, address)

    # Patching the socket class (not one instance) is the point: every connection in the process is checked.
    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect  # type: ignore[method-assign,assignment]  # patched on the class on purpose
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]  # patched on the class on purpose
    try:
        yield
    finally:
        socket.getaddrinfo = real_getaddrinfo
        socket.socket.connect = real_connect  # type: ignore[method-assign]  # restoring the class's own method
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]  # restoring the class's own method
