"""Checks of a self-hosted instance's setup for the oauth method (``azure-appconfig doctor``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict
from urllib.parse import urlsplit

import attrs

from app_connections.text import quoted_value

from .formats import LOOPBACK_HOSTS, is_guid
from .settings import CLIENT_SECRET_ENV, PERMISSIONS, SETTING_NAMES, SITE_URL_ENV, redirect_uri_for, setting_problem

OK, MISSING, INVALID, WARNING = "ok", "missing", "invalid", "warning"


class DoctorReportDict(TypedDict):
    """``DoctorReport.to_dict()``: what ``doctor --json`` prints."""

    ready: bool
    redirectUri: str | None
    permissions: list[str]
    checks: list[dict[str, str]]


@attrs.frozen
class DoctorCheck:
    """One setting's check: its name, ``ok``/``missing``/``invalid``/``warning`` and what it says."""

    name: str
    status: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        """The check as JSON (name, status, detail)."""
        return attrs.asdict(self)


@attrs.frozen
class DoctorReport:
    """Every check of the instance's setup and the redirect URI to register."""

    checks: tuple[DoctorCheck, ...]
    redirect_uri: str | None
    permissions: tuple[str, ...] = PERMISSIONS

    @property
    def ready(self) -> bool:
        """True when no check is missing or invalid (warnings allowed)."""
        return all(c.status in (OK, WARNING) for c in self.checks)

    def to_dict(self) -> DoctorReportDict:
        """The report as JSON (what ``doctor --json`` prints)."""
        return {
            "ready": self.ready,
            "redirectUri": self.redirect_uri,
            "permissions": list(self.permissions),
            "checks": [c.to_dict() for c in self.checks],
        }

    def next_steps(self) -> list[str]:
        """What to do, in order: fix each failed setting, register the redirect URI, grant the permissions."""
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


def _ok(name: str, value: str) -> DoctorCheck:
    if name == CLIENT_SECRET_ENV:
        if is_guid(value):
            return DoctorCheck(
                name,
                WARNING,
                f"set ({len(value)} characters) but shaped like a GUID: "
                "it may be the Secret ID; use the secret's Value",
            )
        return DoctorCheck(name, OK, f"set ({len(value)} characters, not shown)")
    if name == SITE_URL_ENV and urlsplit(value).hostname in LOOPBACK_HOSTS:
        return DoctorCheck(name, WARNING, f"{value.rstrip('/')} is a loopback address: fine for local testing only")
    return DoctorCheck(name, OK, value.rstrip("/") if name == SITE_URL_ENV else f"set ({value})")


def run_doctor(env: Mapping[str, str]) -> DoctorReport:
    """One check per instance setting (the same rules ``InstanceSettings.from_env`` applies), plus Redis when set."""
    checks: list[DoctorCheck] = []
    for name in SETTING_NAMES:
        value = env.get(name, "") if name == CLIENT_SECRET_ENV else env.get(name, "").strip()
        problem = setting_problem(name, env)
        if problem is None:
            checks.append(_ok(name, value))
        elif problem.missing:
            checks.append(DoctorCheck(name, MISSING, problem.message))
        else:
            shown = "" if name == CLIENT_SECRET_ENV else f" (got {quoted_value(value)})"
            checks.append(DoctorCheck(name, INVALID, problem.message + shown))
    site_ok = setting_problem(SITE_URL_ENV, env) is None
    redirect_uri = redirect_uri_for(env[SITE_URL_ENV]) if site_ok else None
    if redirect_uri:
        checks.append(DoctorCheck("redirect URI", OK, f"register exactly {redirect_uri} as a Web redirect URI"))
    from .stores.health import redis_checks  # several replicas: only when ..._REDIS_URL is set

    checks.extend(redis_checks(env, DoctorCheck))
    from app_connections.loader import doctor_status  # plugin trust: the mode and any plugin not loaded

    checks.append(DoctorCheck("plugins", *doctor_status(env)))
    return DoctorReport(tuple(checks), redirect_uri)
