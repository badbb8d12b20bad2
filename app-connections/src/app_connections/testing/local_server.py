"""A local HTTPS server for tests: 127.0.0.1, an ephemeral port, a trustme certificate.

It stands in for a store, an identity platform or any HTTPS service a provider talks to, without
root. ``LocalHTTPSServer.env`` holds the CA bundle that makes ``https://127.0.0.1:<port>`` trusted
and, when the provider names its endpoint allow-list variable (``allow_list_env=``), the exact
``host:port`` entry that makes it acceptable:

    with serve_https(MyHandler, tmp_path, allow_list_env="MY_PROVIDER_ALLOWED_HOSTS") as server:
        urllib.request.urlopen(server.url + "/token", context=ssl.create_default_context(cafile=server.ca_bundle))

(the ``connections_https_server`` fixture also sets ``server.env`` for the test's process).

Needs ``trustme`` (in this package's ``test`` extra).
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import attrs

CA_BUNDLE_ENV = "REQUESTS_CA_BUNDLE"
"""requests (so MSAL and azure-core's default transport) trusts the CA named here."""


@attrs.frozen
class LocalHTTPSServer:
    """A stand-in server on loopback with a trustme certificate: its URL and CA."""

    url: str
    """``https://127.0.0.1:<port>`` (no trailing slash): a valid store endpoint once allow-listed."""
    host_port: str
    """``127.0.0.1:<port>``: the allow-list entry."""
    ca_bundle: str
    """PEM file of the test CA that issued the server's certificate (``verify=`` for requests)."""
    allow_list_env: str | None = None
    """The provider's environment variable that allow-lists endpoints (given to ``serve_https``)."""

    @property
    def env(self) -> dict[str, str]:
        """Environment that trusts the server's CA and, with ``allow_list_env``, allow-lists it."""
        out = {CA_BUNDLE_ENV: self.ca_bundle}
        if self.allow_list_env:
            out[self.allow_list_env] = self.host_port
        return out


@contextlib.contextmanager
def serve_https(
    handler: type[BaseHTTPRequestHandler],
    directory: Path,
    *,
    host: str = "127.0.0.1",
    allow_list_env: str | None = None,
) -> Iterator[LocalHTTPSServer]:
    """Serve ``handler`` over TLS on ``host`` and a free port until the block ends; ``allow_list_env``
    names the provider's endpoint allow-list variable that ``server.env`` sets."""
    try:
        import trustme
    except ImportError:  # pragma: no cover - trustme is in the test extra
        raise RuntimeError("serve_https needs trustme: pip install trustme (or this package's [test] extra)") from None

    ca = trustme.CA()
    cert = ca.issue_cert(host, "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    directory.mkdir(parents=True, exist_ok=True)
    bundle = directory / f"local-https-ca-{id(ca):x}.pem"
    ca.cert_pem.write_to_path(str(bundle))

    server = ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="local-https", daemon=True
    )
    thread.start()
    port = server.server_address[1]
    try:
        yield LocalHTTPSServer(f"https://{host}:{port}", f"{host}:{port}", str(bundle), allow_list_env)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
