"""A local HTTPS server for tests: 127.0.0.1, an ephemeral port, a trustme certificate.

It stands in for a store (or any HTTPS service a plugin talks to) without root: the endpoint
allow-list takes exact ``host:port`` entries, and ``LocalHTTPSServer.env`` holds the entry and
the CA bundle that make ``https://127.0.0.1:<port>`` acceptable and trusted:

    with serve_https(MyHandler, tmp_path) as server:
        parse_endpoint(server.url, env=server.env)                # allow-listed: 127.0.0.1:<port>
        requests.get(server.url + "/kv", verify=server.ca_bundle)

(the ``azure_https_server`` fixture also sets ``server.env`` for the test's process).

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

from azure_appconfig_plugin.envvars import ENDPOINT_ALLOWLIST_ENV

CA_BUNDLE_ENV = "REQUESTS_CA_BUNDLE"
"""requests (so MSAL and azure-core's default transport) trusts the CA named here."""


@attrs.frozen
class LocalHTTPSServer:
    url: str
    """``https://127.0.0.1:<port>`` (no trailing slash): a valid store endpoint once allow-listed."""
    host_port: str
    """``127.0.0.1:<port>``: the allow-list entry."""
    ca_bundle: str
    """PEM file of the test CA that issued the server's certificate (``verify=`` for requests)."""

    @property
    def env(self) -> dict[str, str]:
        """Environment that allow-lists this server as a store and trusts its CA."""
        return {ENDPOINT_ALLOWLIST_ENV: self.host_port, CA_BUNDLE_ENV: self.ca_bundle}


@contextlib.contextmanager
def serve_https(
    handler: type[BaseHTTPRequestHandler], directory: Path, *, host: str = "127.0.0.1"
) -> Iterator[LocalHTTPSServer]:
    """Serve ``handler`` over TLS on ``host`` and a free port until the block ends."""
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
        yield LocalHTTPSServer(f"https://{host}:{port}", f"{host}:{port}", str(bundle))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
