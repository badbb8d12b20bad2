"""The reference host serving on loopback with its stand-ins: for ``python -m examples.host`` and
for the browser test (test code, shipped with the example)."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn
from cryptography.fernet import Fernet

from .app import create_app
from .kit import InstanceSettings
from .standins import StandIns, running
from .vault import Vault

PLATFORM_SECRETS = {"DB_PASSWORD": "demo-db-password-3f9a", "API_BASE_URL": "https://api.example.com/v1"}
"""The platform's secrets the demo syncs (stored encrypted like the connections)."""


@contextlib.contextmanager
def serve(port: int = 0, db: str = ":memory:") -> Iterator[tuple[str, StandIns, Vault]]:
    """The host on ``http://127.0.0.1:<port>`` (0: a free port) and its stand-ins. The host's key
    is ``EXAMPLE_HOST_KEY`` (a Fernet key) or a new one."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with running(url) as standins:
        vault = Vault(db, os.environ.get("EXAMPLE_HOST_KEY", "").encode() or Fernet.generate_key())
        for name, value in PLATFORM_SECRETS.items():
            vault.put_secret(name, value)
        server = uvicorn.Server(
            uvicorn.Config(create_app(InstanceSettings.from_env(os.environ), vault), log_level="warning")
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            yield url, standins, vault
        finally:
            server.should_exit = True
            thread.join(5)
            sock.close()
