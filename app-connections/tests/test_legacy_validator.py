"""Connection-type records (``app_connections.records``) at their edges: the contract-1.0
validator's deprecation warning."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from app_connections import records
from app_connections.records import ConnectionType
from app_connections.reports import Check, ValidationReport

SLUG = "canary-legacy-records"


@pytest.fixture
def fresh_warning() -> Iterator[None]:
    records._warned.discard(f"validator:{SLUG}")
    yield
    records._warned.discard(f"validator:{SLUG}")


def test_the_legacy_validator_warns_once_per_type_and_runs_every_time(fresh_warning: None) -> None:
    calls: list[str] = []

    def validator(data: Any, *, method: Any, connection_type: Any, **options: Any) -> ValidationReport:
        calls.append(method)
        return ValidationReport((Check("legacy", "ok", f"{method}"),))

    ctype = ConnectionType(SLUG, "Legacy", {}, validator=validator)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # a repeat would be shown, were it emitted
        reports = [ctype.validate({}, method=m) for m in ("first", "second", "third")]
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(deprecations) == 1 and "ConnectionType(validator=...) is deprecated" in str(deprecations[0].message)
    assert calls == ["first", "second", "third"] and [r.checks[0].detail for r in reports] == calls
