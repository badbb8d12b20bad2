"""Instance settings: the self-hosted instance's app registration and public URL.

Only the ``oauth`` method needs them; ``client-secret`` connections carry their own
service principal.
"""

from __future__ import annotations

import os
from typing import Mapping

import attrs

from .errors import FieldError, SettingsError
from .formats import is_guid, normalize_site_url, secret_problem, site_url_problem

from .envvars import (  # noqa: F401 - re-exported: the settings' names live with them
    CALLBACK_PATH,
    CLIENT_ID_ENV,
    CLIENT_SECRET_ENV,
    ENDPOINT_ALLOWLIST_ENV,
    INSTANCE_SETTINGS,
    PERMISSIONS,
    SITE_URL_ENV,
)


def redirect_uri_for(site_url: str) -> str:
    return normalize_site_url(site_url) + CALLBACK_PATH


@attrs.frozen
class InstanceSettings:
    client_id: str
    client_secret: str = attrs.field(repr=False)
    site_url: str = attrs.field(converter=normalize_site_url)

    @property
    def redirect_uri(self) -> str:
        return self.site_url + CALLBACK_PATH

    def __str__(self) -> str:
        return f"InstanceSettings(client_id={self.client_id!r}, site_url={self.site_url!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> InstanceSettings:
        """Read and check all three settings; raise ``SettingsError`` naming every problem."""
        env = os.environ if env is None else env
        problems = setting_problems(env)
        if problems:
            raise SettingsError(
                "the oauth method needs the instance's Azure app registration: "
                + "; ".join(str(p) for p in problems)
                + ". See the README section 'Setting up Azure for a self-hosted instance'.",
                errors=problems,
            )
        return cls(env[CLIENT_ID_ENV].strip(), env[CLIENT_SECRET_ENV], env[SITE_URL_ENV])


def setting_problems(env: Mapping[str, str]) -> list[FieldError]:
    """Every missing or malformed instance setting, as field errors (never echoing the secret)."""
    out: list[FieldError] = []
    client_id = env.get(CLIENT_ID_ENV, "").strip()
    if not client_id:
        out.append(FieldError(CLIENT_ID_ENV, "is not set; use the app registration's Application (client) ID"))
    elif not is_guid(client_id):
        out.append(FieldError(CLIENT_ID_ENV, "must be a GUID: the Application (client) ID from the app's Overview page"))
    secret = env.get(CLIENT_SECRET_ENV)
    if not secret:
        out.append(FieldError(CLIENT_SECRET_ENV, "is not set; create a client secret under Certificates & secrets"))
    else:
        problem = secret_problem(secret)
        if problem:
            out.append(FieldError(CLIENT_SECRET_ENV, problem))
    site_url = env.get(SITE_URL_ENV, "").strip()
    if not site_url:
        out.append(FieldError(SITE_URL_ENV, "is not set; use the instance's public base URL, e.g. https://secrets.example.com"))
    else:
        problem = site_url_problem(site_url)
        if problem:
            out.append(FieldError(SITE_URL_ENV, problem))
    return out
