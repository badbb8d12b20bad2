"""The sync replayed against hand-written cassettes shaped like real App Configuration traffic.

Besides method, host, path and query, these replays match the precondition headers
(``If-Match`` / ``If-None-Match``) and the echoed ``Sync-Token``: a request without the right
precondition finds no interaction and fails the test."""

from __future__ import annotations

from typing import Any

from app_connections.testing import fakes
from app_connections.testing.vcr_config import MATCH_ON
from azure_appconfig_plugin.methods.client_secret import ClientSecretCredentials
from azure_appconfig_plugin.sync.destination import AppConfigurationDestination
from cassettes_sync import SANITIZED

D = AppConfigurationDestination()
DEST = {"endpoint": fakes.FAKE_STORE_ENDPOINT, "keyPrefix": "app/", "label": "prod"}
CONDITIONS = ("if-match", "if-none-match", "sync-token")


def conditions(r1: Any, r2: Any) -> None:
    def pick(r: Any) -> dict[str, str]:
        return {k.lower(): v for k, v in r.headers.items() if k.lower() in CONDITIONS}

    assert pick(r1) == pick(r2), f"{pick(r1)} != {pick(r2)}"


def replay(
    azure_vcr: Any, cassette: str, operation: str = "push", secrets: Any = None, max_deletes: Any = None, **dest: Any
) -> Any:
    azure_vcr.register_matcher("conditions", conditions)
    connection = ClientSecretCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, fakes.FAKE_CLIENT_SECRET).to_dict()
    with azure_vcr.use_cassette(cassette, match_on=(*MATCH_ON, "conditions")) as c:
        if operation == "import":
            report = D.import_secrets(connection, {**DEST, **dest}, env={})
        else:
            report = getattr(D, operation)(
                connection, {**DEST, **dest}, secrets, env={}, concurrency=1, max_deletes=max_deletes
            )
    assert c.all_played, f"not every interaction of {cassette} was used"
    return report


def outcome(report: Any) -> list[tuple[str, str, str]]:
    return [(c.key, c.action.value, c.status.value) for c in report.changes]


def test_list_with_nothing_to_change(azure_vcr: Any) -> None:
    report = replay(azure_vcr, "sync_list_unchanged.yaml", secrets={"A": SANITIZED, "B": SANITIZED})
    assert outcome(report) == [("app/A", "none", "unchanged"), ("app/B", "none", "unchanged")] and report.requests == 1


def test_paginated_list_is_followed(azure_vcr: Any) -> None:
    report = replay(azure_vcr, "sync_list_paginated.yaml", "import")
    assert len(report.imported) == 101 and report.imported["S100"] == SANITIZED and report.requests == 2


def test_create(azure_vcr: Any) -> None:
    report = replay(azure_vcr, "sync_create.yaml", secrets={"NEW": "n"})
    assert outcome(report) == [("app/NEW", "create", "applied")] and report.requests == 2


def test_update(azure_vcr: Any) -> None:
    report = replay(azure_vcr, "sync_update.yaml", secrets={"A": "new"})
    assert outcome(report) == [("app/A", "update", "applied")]


def test_delete(azure_vcr: Any) -> None:
    report = replay(azure_vcr, "sync_delete.yaml", secrets={}, max_deletes=1, deleteMissing=True)
    assert outcome(report) == [("app/GONE", "delete", "applied")]


def test_412_is_a_conflict(azure_vcr: Any) -> None:
    report = replay(azure_vcr, "sync_conflict_412.yaml", secrets={"A": "new"})
    assert outcome(report) == [("app/A", "update", "conflict")] and not report.ok


def test_409_is_locked(azure_vcr: Any) -> None:
    report = replay(azure_vcr, "sync_locked_409.yaml", secrets={"A": "new"})
    assert outcome(report) == [("app/A", "update", "locked")] and report.counts["conflicts"] == 1


def test_429_is_retried_after_the_wait(azure_vcr: Any) -> None:
    report = replay(azure_vcr, "sync_throttled_429.yaml", secrets={"NEW": "n"})
    assert outcome(report) == [("app/NEW", "create", "applied")] and report.requests == 3
    assert "after retries" in report.changes[0].detail


def test_plan_against_the_same_list_sends_no_write(azure_vcr: Any) -> None:
    azure_vcr.register_matcher("conditions", conditions)
    connection = ClientSecretCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, fakes.FAKE_CLIENT_SECRET).to_dict()
    with azure_vcr.use_cassette("sync_update.yaml", match_on=(*MATCH_ON, "conditions")) as c:
        report = D.plan(connection, DEST, {"A": "new"}, env={})
    assert outcome(report) == [("app/A", "update", "planned")] and c.play_count == 3  # token (2) + list
