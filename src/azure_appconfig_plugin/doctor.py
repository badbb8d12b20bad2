"""Checks of a self-hosted instance's setup for the oauth method (``azure-appconfig doctor``)."""

from __future__ import annotations

from typing import Any, Mapping

import attrs

from .formats import LOOPBACK_HOSTS, is_guid, secret_problem, site_url_problem
from .settings import CLIENT_ID_ENV, CLIENT_SECRET_ENV, PERMISSIONS, SITE_URL_ENV, redirect_uri_for

OK, MISSING, INVALID, WARNING = "ok", "missing", "invalid", "warning"


@attrs.frozen
class DoctorCheck:
    name: str
    status: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return attrs.asdict(self)


@attrs.frozen
class DoctorReport:
    checks: tuple[DoctorCheck, ...]
    redirect_uri: str | None
    permissions: tuple[str, ...] = PERMISSIONS

    @property
    def ready(self) -> bool:
        return all(c.status in (OK, WARNING) for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "redirectUri": self.redirect_uri,
            "permissions": list(self.permissions),
            "checks": [c.to_dict() for c in self.checks],
        }

    def next_steps(self) -> list[str]:
        steps = []
        for c in self.checks:
            if c.status in (MISSING, INVALID):
                steps.append(f"Fix {c.name}: {c.detail}")
        if self.redirect_uri:
            steps.append(f"In Azure, add the Web redirect URI {self.redirect_uri} to the app registration.")
        steps.append(
            "Grant the app the Azure App Configuration delegated permissions "
            + ", ".join(self.permissions)
            + " (plus offline_access), and grant admin consent if your tenant requires it."
        )
        return steps


def run_doctor(env: Mapping[str, str]) -> DoctorReport:
    checks: list[DoctorCheck] = []
    client_id = env.get(CLIENT_ID_ENV, "").strip()
    if not client_id:
        checks.append(DoctorCheck(CLIENT_ID_ENV, MISSING, "not set: export the app registration's Application (client) ID"))
    elif not is_guid(client_id):
        checks.append(DoctorCheck(CLIENT_ID_ENV, INVALID, "not a GUID: use the Application (client) ID from the app's Overview page"))
    else:
        checks.append(DoctorCheck(CLIENT_ID_ENV, OK, f"set ({client_id})"))

    secret = env.get(CLIENT_SECRET_ENV, "")
    if not secret:
        checks.append(DoctorCheck(CLIENT_SECRET_ENV, MISSING, "not set: create a client secret under Certificates & secrets and export its Value"))
    else:
        problem = secret_problem(secret)
        if problem:
            checks.append(DoctorCheck(CLIENT_SECRET_ENV, INVALID, f"the value {problem}"))
        elif is_guid(secret):
            checks.append(DoctorCheck(
                CLIENT_SECRET_ENV, WARNING,
                f"set ({len(secret)} characters) but shaped like a GUID: it may be the Secret ID; use the secret's Value",
            ))
        else:
            checks.append(DoctorCheck(CLIENT_SECRET_ENV, OK, f"set ({len(secret)} characters, not shown)"))

    site_url = env.get(SITE_URL_ENV, "").strip()
    redirect_uri = None
    if not site_url:
        checks.append(DoctorCheck(SITE_URL_ENV, MISSING, "not set: export the instance's public base URL, e.g. https://secrets.example.com"))
    else:
        problem = site_url_problem(site_url)
        if problem:
            checks.append(DoctorCheck(SITE_URL_ENV, INVALID, f"{site_url!r} {problem}"))
        else:
            redirect_uri = redirect_uri_for(site_url)
            from urllib.parse import urlsplit

            host = urlsplit(site_url).hostname or ""
            if host in LOOPBACK_HOSTS:
                checks.append(DoctorCheck(SITE_URL_ENV, WARNING, f"{site_url} is a loopback address: fine for local testing only"))
            else:
                checks.append(DoctorCheck(SITE_URL_ENV, OK, site_url.rstrip("/")))
    if redirect_uri:
        checks.append(DoctorCheck("redirect URI", OK, f"register exactly {redirect_uri} as a Web redirect URI"))
    return DoctorReport(tuple(checks), redirect_uri)
