"""A loopback stand-in of a managed-identity endpoint (App Service's IDENTITY_ENDPOINT or the VM's
IMDS): answers every GET with ``status`` and ``body`` (bytes as they are, anything else as JSON),
or hangs; records each request's path, query and headers."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class IdentityEndpoint:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        self.status: int = 200
        self.body: Any = {}
        self.hang = False
        self.delay = 0.0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the name http.server dispatches GET to
                url = urlsplit(self.path)
                endpoint.requests.append((url.path, parse_qs(url.query), dict(self.headers)))
                if endpoint.hang:
                    time.sleep(3)
                    return
                time.sleep(endpoint.delay)
                body = endpoint.body if isinstance(endpoint.body, bytes) else json.dumps(endpoint.body).encode()
                self.send_response(endpoint.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
