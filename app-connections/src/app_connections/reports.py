"""Validation records: checks, reports and what ``validate_connection`` hooks receive.

Separate from ``records`` so that registration (which needs only ``records``) does not import
attrs; these are needed only once a validation runs.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from .auth_method import Credentials, TokenCredential
from .jsontypes import JSONObject, JSONValue

if TYPE_CHECKING:
    from .aio import AsyncTokenCredential
    from .records import ConnectionType


class CheckStatus(str, enum.Enum):
    """How one check ended: ok, failed or skipped."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"
    INCONCLUSIVE = "inconclusive"

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class Check:
    """One line of a validation report."""

    name: str
    status: CheckStatus = attrs.field(converter=CheckStatus)
    detail: str
    remediation: str | None = None
    code: str | None = None
    """Azure's error code (e.g. ``AADSTS7000215`` or an HTTP status) when there is one."""

    def to_dict(self) -> JSONObject:
        """The check as JSON (its fix only when it has one)."""
        out: JSONObject = {"name": self.name, "status": self.status.value, "detail": self.detail}
        if self.remediation:
            out["remediation"] = self.remediation
        if self.code:
            out["code"] = self.code
        return out


@attrs.frozen
class ValidationReport:
    """Overall verdict plus every check, in the order they ran."""

    checks: tuple[Check, ...] = ()
    credentials: Credentials | None = attrs.field(default=None, repr=False, eq=False)
    """The parsed credentials, when input parsed (never serialized)."""
    token_credential: TokenCredential | AsyncTokenCredential | None = attrs.field(default=None, repr=False, eq=False)
    """The credential the validation used, when one was built (never serialized): a
    ``TokenCredential``, or an ``AsyncTokenCredential`` from ``avalidate``."""

    @property
    def ok(self) -> bool:
        """True when nothing failed and nothing was left inconclusive."""
        bad = {CheckStatus.FAILED, CheckStatus.INCONCLUSIVE}
        return bool(self.checks) and not any(c.status in bad for c in self.checks)

    def with_checks(self, more: tuple[Check, ...] | list[Check]) -> ValidationReport:
        """A copy with ``more`` checks appended."""
        return attrs.evolve(self, checks=self.checks + tuple(more))

    def to_dict(self) -> JSONObject:
        """The report as JSON: ``ok`` and each check."""
        return {"ok": self.ok, "checks": [c.to_dict() for c in self.checks]}


@attrs.define
class ValidationRequest:
    """What ``validate_connection`` implementations receive; one per validation.

    Built by ``hosting.run_validation`` (hosts with their own hookspecs use it too). The type's
    own checks run first (``tryfirst``): they set ``credentials`` once the input parsed and
    ``token_credential`` only once a token was issued, and ``add`` their checks, so later
    implementations see them in ``checks``.
    """

    connection_type: str
    method: str | None
    credentials: Credentials | None = attrs.field(default=None, repr=False)
    endpoint: str | None = None
    checks: tuple[Check, ...] = ()
    token_credential: TokenCredential | AsyncTokenCredential | None = attrs.field(default=None, repr=False)
    """The credential used (an ``AsyncTokenCredential`` in ``avalidate``), set only after a token was issued."""
    connection: ConnectionType | None = attrs.field(default=None, repr=False, kw_only=True)
    """The ``ConnectionType`` being validated (with every plugin-added method)."""
    data: object = attrs.field(default=None, repr=False, kw_only=True)
    """What the caller passed: form input, stored credentials (a dict with ``method``) or a record."""
    options: dict[str, object] = attrs.field(factory=dict, repr=False, kw_only=True)
    """Further options (``write_probe``, ``settings``, ``env``, ``on_rotate``, ...)."""

    def add(self, *checks: Check | Mapping[str, JSONValue]) -> None:
        """Add checks to the report; implementations that run later see them in ``checks``."""
        self.checks = self.checks + tuple(as_check(c) for c in checks)

    def has_failed(self, name: str) -> bool:
        """True when the check ``name`` failed or was skipped."""
        return any(c.name == name and c.status in (CheckStatus.FAILED, CheckStatus.SKIPPED) for c in self.checks)


def as_check(value: Check | Mapping[str, JSONValue]) -> Check:
    """A ``Check`` from a check or a mapping of its fields (as a plugin may return)."""
    return value if isinstance(value, Check) else Check(**dict(value))
