"""Stand-ins on loopback for a demo or a test (test code, shipped with the example): the Microsoft
identity platform (discovery, token endpoint and a sign-in page at the authorize endpoint) and an
App Configuration store. Both reuse the project's test stand-ins (``tests/faults/standins.py``,
``tests/standins/appconfig.py``), so run from a checkout.

The public cloud's login host is pointed at the stand-in for the duration (what the fault tests
do): only a demo or a test may do that. The process trusts the stand-ins' CA through
``REQUESTS_CA_BUNDLE`` and allow-lists the store.
"""

from __future__ import annotations

import contextlib
import html
import os
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import attrs
import trustme
from tests.faults.standins import Answer, IdentityPlatform, Seen, StandIn
from tests.standins.appconfig import StandIn as StoreStandIn

from app_connections.testing import fakes
from azure_appconfig_plugin import clouds
from azure_appconfig_plugin.settings import ENDPOINT_ALLOWLIST_ENV
from azure_appconfig_plugin.testing import fakes as azure_fakes

DECLINED = "AADSTS65004: User declined to consent to access the app."
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in (stand-in)</title></head>
<body style="font: 15px system-ui; max-width: 30rem; margin: 3rem auto">
<h1>Sign in to your account</h1><p>Stand-in identity platform: {user} is asked to grant access to
Azure App Configuration ({scope}).</p>
<p><a id="accept" href="{accept}">Accept</a> &nbsp; <a id="cancel" href="{cancel}">Cancel</a></p></body></html>"""


class SignInPlatform(IdentityPlatform):
    """The test suite's identity platform plus the authorize endpoint a browser is sent to: a page
    whose Accept returns a code to the host's callback and whose Cancel returns ``access_denied``."""

    user = "user@example.com"

    def route(self, seen: Seen) -> Answer:
        url = urlsplit(seen.path)
        if not url.path.endswith("/oauth2/v2.0/authorize"):
            return super().route(seen)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.pending_nonce = query.get("nonce")  # the id token's nonce claim
        back, state = query.get("redirect_uri", ""), query.get("state", "")
        accept = back + "?" + urlencode({"code": "standin-authorization-code", "state": state})
        cancel = back + "?" + urlencode({"error": "access_denied", "error_description": DECLINED, "state": state})
        text = PAGE.format(
            user=self.user,
            scope=html.escape(query.get("scope", "")),
            accept=html.escape(accept),
            cancel=html.escape(cancel),
        )
        return Answer(200, {"Content-Type": "text/html; charset=utf-8"}, text.encode())


@attrs.define
class StandIns:
    identity: SignInPlatform
    store: StoreStandIn
    env: dict[str, str]


@contextlib.contextmanager
def running(site_url: str) -> Iterator[StandIns]:
    """Both stand-ins, serving; the process environment and the public cloud set to reach them
    (and restored afterwards). ``site_url`` is the host's address (its OAuth redirect URI)."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    saved_env = dict(os.environ)
    saved_clouds: tuple[Any, ...] = (dict(clouds.CLOUDS), clouds.DEFAULT_CLOUD)
    with StandIn(context) as server, StoreStandIn() as store, tempfile.TemporaryDirectory() as tmp:
        names = (fakes.FAKE_TENANT_ID, "organizations", "contoso.onmicrosoft.com")
        tenants = dict.fromkeys(names, fakes.FAKE_TENANT_ID)
        identity = SignInPlatform(server, tenants)
        bundle = Path(tmp) / "standin-ca.pem"
        bundle.write_text(ca.cert_pem.bytes().decode() + Path(store.ca_path).read_text())
        env = {
            "REQUESTS_CA_BUNDLE": str(bundle),
            "NO_PROXY": "127.0.0.1,localhost",
            ENDPOINT_ALLOWLIST_ENV: store.allow_list,
            **azure_fakes.fake_instance_env(site_url),
        }
        os.environ.update(env)
        fake = attrs.evolve(clouds.PUBLIC, login_host=server.netloc)
        clouds.CLOUDS["public"], clouds.DEFAULT_CLOUD = fake, fake
        try:
            yield StandIns(identity, store, env)
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            clouds.CLOUDS.clear()
            clouds.CLOUDS.update(saved_clouds[0])
            clouds.DEFAULT_CLOUD = saved_clouds[1]
