"""The App Configuration stand-in in its own process (``python tests/standins/appconfig.py``): a test
measuring its own event loop (heartbeat lag) must not share the GIL with the stand-in's threads."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


class StandInProcess:
    """``endpoint``, ``allow_list`` and ``ca_path`` like ``StandIn``; controlled through ``admin``."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "appconfig.py")], stdout=subprocess.PIPE, text=True, cwd=HERE.parent
        )
        assert self.proc.stdout is not None
        info = json.loads(self.proc.stdout.readline())
        self.port, self.ca_path = int(info["port"]), str(info["ca"])
        self.endpoint = f"https://127.0.0.1:{self.port}"
        self.allow_list = f"127.0.0.1:{self.port}"
        self._ctx = ssl.create_default_context(cafile=self.ca_path)

    def admin(self, path: str, body: Any = None) -> dict[str, Any]:
        """``POST /_standin/<path>`` (``reset``, ``config``, ``seed``, ``log``, ``stats``)."""
        request = urllib.request.Request(
            f"{self.endpoint}/_standin/{path}",
            data=json.dumps(body if body is not None else {}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, context=self._ctx, timeout=30) as answer:
            data: dict[str, Any] = json.loads(answer.read())
            return data

    def options(self, token_credential: Any) -> dict[str, Any]:
        """The destination operations' keywords for this stand-in (its CA, allow-list, a token)."""
        env = {"INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS": self.allow_list}
        return {"token_credential": token_credential, "env": env, "client_options": {"connection_verify": self.ca_path}}

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
