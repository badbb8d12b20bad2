"""A one-shot HTTP server on a loopback SITE_URL that receives the OAuth callback."""

from __future__ import annotations

import http.server
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .settings import CALLBACK_PATH

DONE_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>Azure App Configuration</title>"
    b"<p>Sign-in received. You can close this window and return to the terminal.</p>"
)


class CallbackServer:
    """Serves ``CALLBACK_PATH`` on the SITE_URL's host and port until one callback arrives."""

    def __init__(self, host: str, port: int, path_prefix: str = "") -> None:
        self.params: dict[str, list[str]] | None = None
        self._got = threading.Event()
        expected = path_prefix.rstrip("/") + CALLBACK_PATH
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                url = urlsplit(self.path)
                if url.path != expected:
                    self.send_error(404, "not the OAuth callback")
                    return
                outer.params = parse_qs(url.query, keep_blank_values=True)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(DONE_PAGE)))
                self.end_headers()
                self.wfile.write(DONE_PAGE)
                outer._got.set()

            def log_message(self, format: str, *args: Any) -> None:  # the query holds the code: never log it
                return None

        self._server = http.server.HTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> CallbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float) -> dict[str, list[str]] | None:
        self._got.wait(timeout)
        return self.params
