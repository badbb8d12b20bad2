"""The offline guard (testing/network.py): loopback in every spelling passes, anything else is refused."""

from __future__ import annotations

import socket

import pytest

from app_connections.testing.network import NetworkBlocked, block_network


def test_loopback_lookups_pass_in_every_spelling() -> None:
    with block_network():
        for host in ("localhost", b"localhost", "127.0.0.1", "::1"):
            assert socket.getaddrinfo(host, 80)


@pytest.mark.parametrize("host", ["example.com", b"example.com", "10.0.0.1", "not an address", None])
def test_other_lookups_are_refused(host: object) -> None:
    with block_network(), pytest.raises(NetworkBlocked, match="network blocked in tests: lookup of"):
        socket.getaddrinfo(host, 80)


def test_connect_ex_is_guarded_like_connect() -> None:
    real_connect_ex = socket.socket.connect_ex
    with block_network(), socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        with pytest.raises(NetworkBlocked, match=r"connection to '192\.0\.2\.1'"):
            s.connect_ex(("192.0.2.1", 443))
        with pytest.raises(NetworkBlocked):
            s.connect(("192.0.2.1", 443))
    assert socket.socket.connect_ex is real_connect_ex  # the class's own method is back on exit


def test_a_loopback_connect_ex_reaches_the_real_socket() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        with block_network(), socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            assert s.connect_ex(("127.0.0.1", port)) == 0
