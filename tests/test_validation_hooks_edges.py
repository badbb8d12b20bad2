"""Validation as other plugins see it: our checks stay on our type, a later hook can ask what failed before it,
and a type without checks of its own proves nothing."""

from __future__ import annotations

import textwrap
from types import ModuleType

from app_connections.loader import load_plugins
from app_connections.reports import Check, CheckStatus, ValidationReport
from app_connections.testing import fakes
from azure_appconfig_plugin.connection import build_connection_type

SLUG = "azure-app-configuration"


def module(name: str, source: str) -> ModuleType:
    mod = ModuleType(name)
    exec(textwrap.dedent(source), mod.__dict__)
    return mod


OTHER_TYPE = module(
    "other_store_plugin",
    """
    from app_connections.hostspec import hookimpl
    from app_connections.records import ConnectionType
    from app_connections.reports import Check, CheckStatus

    APP_CONNECTIONS_CONTRACT = "3.0"

    @hookimpl
    def register_connection_types(register):
        register.add(ConnectionType(slug="other-store", name="Other store", methods={}))

    @hookimpl
    def validate_connection(request):
        if request.connection_type != "other-store":
            return []
        return [Check("other: reachable", CheckStatus.OK, "the other store answered")]
    """,
)


def test_our_checks_do_not_run_for_another_plugins_connection_type() -> None:
    registry = load_plugins(plugins=[("other-store", OTHER_TYPE)], env={})
    assert not registry.failures and set(registry.types) == {SLUG, "other-store"}
    report = registry.validate("other-store", None, {})
    assert report.ok
    assert [c.to_dict() for c in report.checks] == [
        {"name": "other: reachable", "status": "ok", "detail": "the other store answered"}
    ]


AUDIT = module(
    "audit_plugin",
    """
    from app_connections.hostspec import hookimpl
    from app_connections.reports import Check, CheckStatus

    APP_CONNECTIONS_CONTRACT = "3.0"

    @hookimpl
    def validate_connection(request):
        if request.connection_type != "azure-app-configuration":
            return []
        failed = [name for name in ("input", "endpoint", "token", "never-ran") if request.has_failed(name)]
        return [Check("audit", CheckStatus.OK, "failed or skipped before me: " + (", ".join(failed) or "none"))]
    """,
)


def test_a_later_hook_asks_which_checks_failed_or_were_skipped() -> None:
    registry = load_plugins(plugins=[("audit", AUDIT)], env={})
    good_input = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "clientSecret": "s3cret-value"}

    def audit(data: dict[str, str], endpoint: str | None) -> str:
        report = registry.validate(SLUG, "client-secret", data, endpoint=endpoint)
        return next(c.detail for c in report.checks if c.name == "audit")

    # the input failed (and the token check was skipped because of it)
    assert audit({}, None) == "failed or skipped before me: input, token"
    # the input is fine, the endpoint is refused, and the token is never requested for it
    assert audit(good_input, "https://not-a-store.example.com") == "failed or skipped before me: endpoint, token"


def test_a_type_without_checks_of_its_own_proves_nothing() -> None:
    registry = load_plugins(plugins=[("other-store", OTHER_TYPE)], env={})
    report = registry.get("other-store").validate({})
    # the type given has no checks of its own: nothing ran, so nothing is proven
    assert report.checks == () and report.ok is False
    ours = build_connection_type().validate({}, method="client-secret")  # our own type's checks
    assert [c.name for c in ours.checks][:1] == ["input"] and ours.checks[0].status is CheckStatus.FAILED


def test_check_status_prints_as_its_value() -> None:
    assert str(CheckStatus.INCONCLUSIVE) == "inconclusive"
    assert f"[{CheckStatus.FAILED}]" == "[failed]"


def test_a_report_with_more_checks_is_a_new_report_with_a_new_verdict() -> None:
    report = ValidationReport((Check("token", CheckStatus.OK, "issued"),))
    worse = report.with_checks([Check("KeyValue.Read", CheckStatus.FAILED, "403")])
    assert report.ok and [c.name for c in report.checks] == ["token"]
    assert not worse.ok and [c.name for c in worse.checks] == ["token", "KeyValue.Read"]
