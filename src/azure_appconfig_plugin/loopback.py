"""A one-shot HTTP server on a loopback SITE_URL that receives the OAuth callback.

Only a request to the callback path carrying the flow's ``state`` ends the wait; anything else
(another path, a missing or wrong state, a stray browser tab) gets an error page and the server
keeps waiting for the real callback.
"""

from __future__ import annotations

import errno
import hmac
import http.server
import socket
import threading
from urllib.parse import parse_qs, urlsplit

from .errors import FieldError, InvalidInput
from .settings import CALLBACK_PATH

DONE_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>Azure App Configuration</title>"
    b"<p>Sign-in received. You can close this window and return to the terminal.</p>"
)
WRONG_STATE_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>Azure App Configuration</title>"
    b"<p>This is not the callback of the sign-in in progress (its state does not match). "
    b"The terminal is still waiting; finish the sign-in in the window it opened.</p>"
)


class _IPv6Server(http.server.HTTPServer):
    address_family = socket.AF_INET6


class CallbackServer:
    """Serves ``CALLBACK_PATH`` on the SITE_URL's host and port until one callback arrives."""

    def __init__(self, host: str, port: int, path_prefix: str = "", *, state: str | None = None) -> None:
        self.params: dict[str, list[str]] | None = None
        self.refused = 0
        """How many requests to the callback path were refused for a wrong or missing state."""
        self._got = threading.Event()
        expected = path_prefix.rstrip("/") + CALLBACK_PATH
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path != expected:
                    self.send_error(404, "not the OAuth callback")
                    return
                params = parse_qs(url.query[:16384], keep_blank_values=True)
                got = (params.get("state") or [""])[0]
                if outer._got.is_set() or (state is not None and not hmac.compare_digest(got.encode(), state.encode())):
                    outer.refused += 1
                    self.send_response(400)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(WRONG_STATE_PAGE)))
                    self.end_headers()
                    self.wfile.write(WRONG_STATE_PAGE)
                    return
                outer.params = params
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(DONE_PAGE)))
                self.end_headers()
                self.wfile.write(DONE_PAGE)
                outer._got.set()

            def log_message(self, format: str, *args: object) -> None:  # the query holds the code: never log it
                return None

        server_class = _IPv6Server if ":" in host else http.server.HTTPServer
        try:
            self._server = server_class((host, port), Handler)
        except OSError as exc:
            shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            why = (
                "is already in use by another program"
                if exc.errno == errno.EADDRINUSE
                else f"cannot be opened ({exc.strerror})"
            )
            raise InvalidInput(
                errors=[
                    FieldError(
                        "SITE_URL",
                        f"the loopback callback address {shown} {why}; stop that program, "
                        "or set SITE_URL to another free port (and register that redirect URI)",
                    )
                ]
            ) from None
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> CallbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float) -> dict[str, list[str]] | None:
        """The callback's query parameters, or None when none arrived within ``timeout`` seconds."""
        self._got.wait(timeout)
        return self.params
