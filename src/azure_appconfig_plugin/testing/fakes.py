"""The placeholder instance settings of the Azure tests (the identities are the kit's fakes)."""

from __future__ import annotations

from app_connections.testing.fakes import FAKE_INSTANCE_CLIENT_ID, FAKE_INSTANCE_CLIENT_SECRET, FAKE_SITE_URL


def fake_instance_env(site_url: str = FAKE_SITE_URL) -> dict[str, str]:
    """The instance settings (client ID, secret, ``SITE_URL``) set to placeholders."""
    from ..settings import CLIENT_ID_ENV, CLIENT_SECRET_ENV, SITE_URL_ENV

    return {
        CLIENT_ID_ENV: FAKE_INSTANCE_CLIENT_ID,
        CLIENT_SECRET_ENV: FAKE_INSTANCE_CLIENT_SECRET,
        SITE_URL_ENV: site_url,
    }
