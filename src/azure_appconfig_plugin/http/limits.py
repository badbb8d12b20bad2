"""The HTTP policy's limits, declared once (``Limits``: each field's default, unit and what it
bounds); ``LIMITS`` lists them with their environment variables, ``current_limits()`` reads them
with any ``INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_<NAME>`` override and ``configure(...)``
changes them for the process. ``limits_table()`` is the table in docs/limits.md."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping

import attrs

ENV_PREFIX = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_"


def _about(unit: str, what: str) -> dict[str, str]:
    """A limit's field metadata: its unit and what it bounds (``LIMITS`` reads them)."""
    return {"unit": unit, "what": what}


@attrs.frozen
class Limits:
    """The limits in force: one field per limit, its default the production value."""

    validation_seconds: float = attrs.field(
        default=120, metadata=_about("s", "a whole validation (token stage and every store probe)")
    )
    token_request_seconds: float = attrs.field(
        default=30,
        metadata=_about("s", "one request to the Microsoft identity platform (discovery or token), answer included"),
    )
    store_request_seconds: float = attrs.field(
        default=60,
        metadata=_about("s", "one store call, its retries and waits included (in a sync run: each attempt)"),
    )
    connect_seconds: float = attrs.field(default=10, metadata=_about("s", "opening one connection"))
    retry_total: float = attrs.field(
        default=3,
        metadata=_about("retries", "retries of one store call: 5xx, connection errors, and 429s outside a sync run"),
    )
    retry_after_max_seconds: float = attrs.field(
        default=60,
        metadata=_about("s", "the longest server-requested wait honoured; a longer request ends the retries"),
    )
    retry_wait_budget_seconds: float = attrs.field(
        default=90, metadata=_about("s", "all waits of one store call together (a sync run's 429 pauses: max_wait)")
    )
    max_response_bytes: float = attrs.field(
        default=16 * 1024 * 1024,
        metadata=_about("bytes", "one response body after decompression, cut off while streaming"),
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, base: Limits | None = None) -> Limits:
        """``base`` (or the defaults) with every ``INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_<NAME>`` override."""
        from ..errors import FieldError, SettingsError

        env = os.environ if env is None else env
        changes: dict[str, float] = {}
        problems = []
        for limit in LIMITS:
            raw = env.get(limit.env_var)
            if raw is None or not raw.strip():
                continue
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value <= 0:
                problems.append(FieldError(limit.env_var, "must be a positive number"))
            else:
                changes[limit.name] = value
        if problems:
            raise SettingsError(errors=problems)
        return attrs.evolve(base or cls(), **changes)


@attrs.frozen
class Limit:
    """One limit as ``Limits`` declares it: its name (the ``Limits`` attribute), default, unit and what it bounds."""

    name: str
    default: float
    unit: str
    what: str

    @property
    def env_var(self) -> str:
        """The environment variable that overrides it."""
        return ENV_PREFIX + self.name.upper()


LIMITS: tuple[Limit, ...] = tuple(
    Limit(field.name, getattr(Limits(), field.name), field.metadata["unit"], field.metadata["what"])
    for field in attrs.fields(Limits)
)
"""Every limit, in ``Limits``'s order: read from its fields, never declared a second time."""

_configured: Limits | None = None
_config_lock = threading.Lock()


def configure(limits: Limits | None = None, **changes: float) -> Limits:
    """Set the process-wide limits (``configure(validation_seconds=30)``); ``configure(None)`` resets.

    Environment overrides still apply on top. Returns the limits now in force.
    """
    global _configured
    with _config_lock:
        if limits is None and not changes:
            _configured = None
        else:
            _configured = attrs.evolve(limits or _configured or Limits(), **changes)
    return current_limits()


def configured_limits() -> Limits:
    """The limits ``configure`` set (or the defaults), without the environment's overrides."""
    return _configured or Limits()


def current_limits(env: Mapping[str, str] | None = None) -> Limits:
    """The limits in force: ``configure``'s (or the defaults) with the environment's overrides."""
    return Limits.from_env(env, base=_configured)


def limits_table() -> str:
    """The table of limits in docs/limits.md (tests check that the page holds exactly this)."""
    rows = ["| limit | default | environment variable | bounds |", "| --- | --- | --- | --- |"]
    for limit in LIMITS:
        if limit.unit == "bytes":
            default = f"{int(limit.default) // (1024 * 1024)} MiB ({int(limit.default)} bytes)"
        else:
            default = f"{limit.default:g} {limit.unit}"
        rows.append(f"| `{limit.name}` | {default} | `{limit.env_var}` | {limit.what} |")
    return "\n".join(rows)
