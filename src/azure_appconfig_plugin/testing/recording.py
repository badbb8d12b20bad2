"""The real Azure values a recording uses, the placeholders they become, and the sanitizer that
replaces them while recording."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

import attrs

from app_connections.testing import fakes
from app_connections.testing.rules import RulesLike
from app_connections.testing.sanitize import Sanitizer
from app_connections.testing.sanitize import sanitizer_from_env as kit_sanitizer_from_env

TENANT_ENV = "AZURE_TENANT_ID"
CLIENT_ID_ENV = "AZURE_CLIENT_ID"
CLIENT_SECRET_ENV = "AZURE_CLIENT_SECRET"
ENDPOINT_ENV = "AZURE_APPCONFIG_ENDPOINT"


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
        """The placeholders used while replaying."""
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
        """The real values in ``env`` while recording; a placeholder for each one unset."""
        from ..settings import CLIENT_ID_ENV as I_ID
        from ..settings import CLIENT_SECRET_ENV as I_SECRET
        from ..settings import SITE_URL_ENV

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


def sanitizer_from_env(
    env: Mapping[str, str], *, value_prefixes: Iterable[str] = ("",), rules: RulesLike = None
) -> Sanitizer:
    """The sanitizer for recording against Azure: placeholders for the real identities in ``env``
    (``TestValues``), the service principal's and the instance's client secrets as literals."""
    from ..envvars import CLIENT_SECRET_ENV as INSTANCE_SECRET_ENV

    return kit_sanitizer_from_env(
        env,
        placeholders=real_to_placeholder(env),
        secret_env_vars=(CLIENT_SECRET_ENV, INSTANCE_SECRET_ENV),
        value_prefixes=value_prefixes,
        rules=rules,
    )
