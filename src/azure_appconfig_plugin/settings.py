"""Instance settings: the self-hosted instance's app registration and public URL.

Only the ``oauth`` method needs them; ``client-secret`` connections carry their own
service principal.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

# Re-exported explicitly (``X as X``): the settings' names live in envvars; callers import them from here.
from .envvars import CALLBACK_PATH as CALLBACK_PATH
from .envvars import CLIENT_ID_ENV as CLIENT_ID_ENV
from .envvars import CLIENT_SECRET_ENV as CLIENT_SECRET_ENV
from .envvars import ENDPOINT_ALLOWLIST_ENV as ENDPOINT_ALLOWLIST_ENV
from .envvars import INSTANCE_SETTINGS as INSTANCE_SETTINGS
from .envvars import PERMISSIONS as PERMISSIONS
from .envvars import SITE_URL_ENV as SITE_URL_ENV
from .errors import FieldError, SettingsError
from .formats import is_guid, normalize_site_url, secret_problem, site_url_problem


def _policy_env() -> Mapping[str, str]:
    from app_connections import policy as policies

    return policies.current().env


def redirect_uri_for(site_url: str) -> str:
    """The OAuth callback URL of an instance served at ``site_url``."""
    return normalize_site_url(site_url) + CALLBACK_PATH


@attrs.frozen
class InstanceSettings:
    """The instance's own app registration (client ID and secret) and public URL, for the oauth method."""

    client_id: str
    client_secret: str = attrs.field(repr=False)
    site_url: str = attrs.field(converter=normalize_site_url)

    @property
    def redirect_uri(self) -> str:
        """The OAuth callback URL to register on the app registration."""
        return self.site_url + CALLBACK_PATH

    def __str__(self) -> str:
        return f"InstanceSettings(client_id={self.client_id!r}, site_url={self.site_url!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> InstanceSettings:
        """Read and check all three settings from ``env`` (default: the host policy's environment,
        ``app_connections.policy.current().env``); raise ``SettingsError`` naming every problem."""
        env = _policy_env() if env is None else env
        problems = setting_problems(env)
        if problems:
            raise SettingsError(
                "the oauth method needs the instance's Azure app registration: "
                + "; ".join(str(p) for p in problems)
                + ". See docs/methods/oauth.md, 'Azure setup'.",
                errors=problems,
            )
        return cls(env[CLIENT_ID_ENV].strip(), env[CLIENT_SECRET_ENV], env[SITE_URL_ENV])


SETTING_NAMES = (CLIENT_ID_ENV, CLIENT_SECRET_ENV, SITE_URL_ENV)
_NOT_SET = {
    CLIENT_ID_ENV: "is not set; use the app registration's Application (client) ID",
    CLIENT_SECRET_ENV: "is not set; create a client secret under Certificates & secrets and use its Value",
    SITE_URL_ENV: "is not set; use the instance's public base URL, e.g. https://secrets.example.com",
}


@attrs.frozen
class SettingProblem:
    """What is wrong with one instance setting."""

    env_var: str
    missing: bool
    """True when unset; False when set but malformed."""
    message: str
    """What is wrong and how to fix it; never echoes the secret."""


def _malformed(name: str, value: str) -> str | None:
    if name == CLIENT_ID_ENV:
        return None if is_guid(value) else "must be a GUID: the Application (client) ID from the app's Overview page"
    if name == CLIENT_SECRET_ENV:
        return secret_problem(value)
    return site_url_problem(value)


def setting_problem(name: str, env: Mapping[str, str]) -> SettingProblem | None:
    """The problem with one instance setting, or None when it is usable."""
    raw = env.get(name, "")
    value = raw if name == CLIENT_SECRET_ENV else raw.strip()  # a secret is checked exactly as given
    if not value:
        return SettingProblem(name, True, _NOT_SET[name])
    message = _malformed(name, value)
    return SettingProblem(name, False, message) if message else None


def setting_problems(env: Mapping[str, str]) -> list[FieldError]:
    """Every missing or malformed instance setting, as field errors."""
    return [FieldError(p.env_var, p.message) for name in SETTING_NAMES if (p := setting_problem(name, env))]
