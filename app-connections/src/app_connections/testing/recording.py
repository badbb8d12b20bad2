"""Record mode, the real values a recording uses, and the placeholders they become."""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

import attrs

from . import RECORD_MODE_ENV, RECORD_MODES, fakes

TENANT_ENV = "AZURE_TENANT_ID"
CLIENT_ID_ENV = "AZURE_CLIENT_ID"
CLIENT_SECRET_ENV = "AZURE_CLIENT_SECRET"
ENDPOINT_ENV = "AZURE_APPCONFIG_ENDPOINT"


def record_mode(env: Mapping[str, str] | None = None, option: str | None = None) -> str:
    env = os.environ if env is None else env
    mode = (option or env.get(RECORD_MODE_ENV) or "none").strip().lower()
    if mode not in RECORD_MODES:
        raise ValueError(f"{RECORD_MODE_ENV} must be one of {', '.join(RECORD_MODES)}, not {mode!r}")
    return mode


@attrs.frozen
class TestValues:
    """The identities a test uses: real ones while recording, placeholders while replaying."""

    __test__ = False  # not a pytest test class

    tenant_id: str
    client_id: str
    client_secret: str = attrs.field(repr=False)
    instance_client_id: str
    instance_client_secret: str = attrs.field(repr=False)
    site_url: str
    store_endpoint: str

    @classmethod
    def fake(cls) -> TestValues:
        return cls(
            fakes.FAKE_TENANT_ID,
            fakes.FAKE_CLIENT_ID,
            fakes.FAKE_CLIENT_SECRET,
            fakes.FAKE_INSTANCE_CLIENT_ID,
            fakes.FAKE_INSTANCE_CLIENT_SECRET,
            fakes.FAKE_SITE_URL,
            fakes.FAKE_STORE_ENDPOINT,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TestValues:
        from azure_appconfig_plugin.settings import CLIENT_ID_ENV as I_ID
        from azure_appconfig_plugin.settings import CLIENT_SECRET_ENV as I_SECRET
        from azure_appconfig_plugin.settings import SITE_URL_ENV

        fake = cls.fake()
        return cls(
            env.get(TENANT_ENV, fake.tenant_id),
            env.get(CLIENT_ID_ENV, fake.client_id),
            env.get(CLIENT_SECRET_ENV, fake.client_secret),
            env.get(I_ID, fake.instance_client_id),
            env.get(I_SECRET, fake.instance_client_secret),
            env.get(SITE_URL_ENV, fake.site_url),
            env.get(ENDPOINT_ENV, fake.store_endpoint),
        )


def real_to_placeholder(env: Mapping[str, str]) -> dict[str, str]:
    """Map each real value found in ``env`` to its placeholder (for the sanitizer)."""
    real = TestValues.from_env(env)
    fake = TestValues.fake()
    out: dict[str, str] = {}
    for field in attrs.fields(TestValues):
        r, f = getattr(real, field.name), getattr(fake, field.name)
        if r and r != f:
            out[r] = f
    real_host = urlsplit(real.store_endpoint).hostname or ""
    if real_host and real_host != urlsplit(fake.store_endpoint).hostname:
        out[real_host.split(".")[0]] = fakes.FAKE_STORE_NAME
    return out
