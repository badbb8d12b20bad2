"""The sync's edge paths against the App Configuration stand-in: retries that run out of time or
read back, progress, the remove operation's checks, listing failures, bad secrets and the entries
the sync must leave alone. Each test drives the destination's public operations."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from azure_appconfig_plugin.errors import InvalidInput
from azure_appconfig_plugin.sync.destination import AppConfigurationDestination
from azure_appconfig_plugin.sync.entries import Secret
from azure_appconfig_plugin.sync.report import Status
from azure_appconfig_plugin.sync.scope import KEY_VAULT_REF_CONTENT_TYPE, KEY_VAULT_REF_MARK
from standins.appconfig import StandIn
from standins.fixtures import FakeTokenCredential

pytest_plugins = ["standins.fixtures"]  # the stand-in fixtures (standin, fake_token, sync_options)

D = AppConfigurationDestination()
FF_CONTENT_TYPE = "application/vnd.microsoft.appconfig.ff+json;charset=utf-8"
VAULT_URI = "https://contoso-vault.vault.azure.net/secrets/db-password"
OURS = {KEY_VAULT_REF_MARK[0]: KEY_VAULT_REF_MARK[1]}


def dest(s: StandIn, **fields: Any) -> dict[str, Any]:
    return {"endpoint": s.endpoint, **fields}


def outcome(report: Any) -> dict[str, tuple[str, str]]:
    return {c.key: (c.action.value, c.status.value) for c in report.changes}


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Back-off jitter scaled down to milliseconds: retries are exercised without their real waits."""
    monkeypatch.setattr(random, "uniform", lambda a, b: 0.004)


# --- the destination object -------------------------------------------------------------------------


def test_the_destination_shows_no_state_and_serves_its_schema() -> None:
    assert repr(D) == "AppConfigurationDestination()"
    schema = D.destination_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["endpoint"] and "keyPrefix" in schema["properties"]


# --- writes: progress, refusals, retries out of time, read-backs --------------------------------------


def test_progress_counts_every_step_once_blocked_deletes_included(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    standin.store.put("app/OLD1", "x")
    standin.store.put("app/OLD2", "x")
    standin.inject("PUT", "app/B", 403)  # a failed write blocks the deletes: they are counted as done at once
    calls: list[tuple[int, int]] = []
    report = D.push(
        None,
        dest(standin, keyPrefix="app/", deleteMissing=True),
        {"A": "1", "B": "2"},
        progress=lambda done, total: calls.append((done, total)),
        concurrency=1,
        max_deletes=2,
        **sync_options,
    )
    assert outcome(report)["app/OLD1"] == ("delete", "not-run")
    assert calls == [(1, 4), (2, 4), (4, 4)]


def test_a_refused_write_is_failed_with_the_status_and_the_services_title(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    standin.inject("PUT", "A", 403)
    report = D.push(None, dest(standin), {"A": "1"}, **sync_options)
    assert outcome(report) == {"A": ("create", "failed")}
    assert report.changes[0].detail == "403: scripted answer"
    assert len(standin.requests("PUT")) == 1  # a 4xx is never retried


def test_a_retry_that_would_outlast_the_run_is_not_waited_for(
    standin: StandIn, sync_options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(random, "uniform", lambda a, b: 100.0)  # the second back-off: 25 s, beyond the 10 s run
    standin.inject("PUT", "A", (503, {}), (503, {}))  # no Retry-After: the pipeline's back-off decides
    report = D.push(None, dest(standin), {"A": "1"}, timeout=10, **sync_options)
    (change,) = report.changes
    assert (change.status, change.code) == (Status.FAILED, "deadline_exceeded")
    assert change.detail == "503: scripted answer; no time left before the run's deadline"
    assert len(standin.requests("PUT")) == 2  # the first retry comes at once, the second is not waited for


def test_a_retried_write_answered_412_whose_read_back_fails_is_reported_unconfirmed(
    standin: StandIn, sync_options: dict[str, Any], quick_backoff: None
) -> None:
    standin.inject("PUT", "A", 503, 412)
    standin.inject("GET", "A", "reset", "reset", "reset", "reset")
    report = D.push(None, dest(standin), {"A": "1"}, **sync_options)
    assert outcome(report) == {"A": ("create", "failed")}
    assert "may have landed, or someone else changed it; not overwritten" in report.changes[0].detail
    assert [r["path"] for r in standin.requests("GET")] == ["/kv"] + ["/kv/A"] * 4  # retried like any call
    assert standin.store.get("A") is None  # nothing written by the push


def test_a_retried_write_answered_412_whose_read_back_is_not_json_is_reported_unconfirmed(
    standin: StandIn, sync_options: dict[str, Any], quick_backoff: None
) -> None:
    standin.inject("PUT", "A", 503, 412)
    standin.inject("GET", "A", 200)  # an empty 200: not the entry
    report = D.push(None, dest(standin), {"A": "1"}, **sync_options)
    assert outcome(report) == {"A": ("create", "failed")}
    assert "gave no answer to compare" in report.changes[0].detail


def test_a_retried_delete_whose_first_attempt_landed_is_applied(
    standin: StandIn, sync_options: dict[str, Any], quick_backoff: None
) -> None:
    standin.store.put("app/A", "x")
    standin.inject("DELETE", "app/A", "lost")  # deleted, but the answer never arrives; the retry gets 412
    report = D.remove(None, dest(standin, keyPrefix="app/"), ["A"], **sync_options)
    assert outcome(report) == {"app/A": ("delete", "applied")}
    assert report.changes[0].detail.startswith("deleted after retries; confirmed by reading it back")
    assert standin.store.get("app/A") is None


def test_a_retried_delete_answered_412_while_the_entry_is_still_there_is_a_conflict(
    standin: StandIn, sync_options: dict[str, Any], quick_backoff: None
) -> None:
    standin.store.put("app/A", "x")
    standin.inject("DELETE", "app/A", 503, 412)
    report = D.remove(None, dest(standin, keyPrefix="app/"), ["A"], **sync_options)
    assert outcome(report) == {"app/A": ("delete", "conflict")}
    assert standin.store.entry("app/A")["value"] == "x"
    assert [r["path"] for r in standin.requests("GET")] == ["/kv", "/kv/app%2FA"]


# --- the connection and the remove operation's input --------------------------------------------------


@pytest.mark.parametrize(
    ("connection", "field", "problem"),
    [
        ({"method": "no-such-method"}, "connection.method", "must be one of: "),
        ({"tenantId": "t"}, "connection.method", "must be one of: "),
        (42, "connection", "must be the stored connection (a mapping) or its credentials"),
    ],
)
def test_a_connection_that_is_not_one_is_named_before_any_request(
    standin: StandIn, sync_options: dict[str, Any], connection: Any, field: str, problem: str
) -> None:
    options = {k: v for k, v in sync_options.items() if k != "token_credential"}
    with pytest.raises(InvalidInput) as info:
        D.push(connection, dest(standin), {"A": "1"}, **options)
    (error,) = info.value.errors
    assert error.field == field and problem in error.message
    if field == "connection.method":
        assert "client-secret" in error.message and "oauth" in error.message
    assert standin.requests() == []


def test_a_credentials_record_is_used_as_the_connection(standin: StandIn, sync_options: dict[str, Any]) -> None:
    from azure_appconfig_plugin.connection import build_connection_type

    key_id = "0-l0-s0:RecordKeyId0123"
    record = build_connection_type().load(
        {"method": "access-key", "endpoint": standin.endpoint, "id": key_id, "secret": "c2VjcmV0LWZvci1hLXJlY29yZA=="}
    )
    options = {k: v for k, v in sync_options.items() if k != "token_credential"}
    report = D.push(record, dest(standin), {"A": "1"}, **options)
    assert report.ok and report.counts["created"] == 1
    assert standin.hmac_credentials == {key_id} and standin.bearer_tokens == set()


def test_remove_names_every_bad_name_before_any_request(
    standin: StandIn, sync_options: dict[str, Any], fake_token: FakeTokenCredential
) -> None:
    with pytest.raises(InvalidInput) as info:
        D.remove(None, dest(standin), {"ok": 1, "bad name": 1, "-x": 1}, **sync_options)
    assert [e.field for e in info.value.errors] == ["names['bad name']", "names['-x']"]
    assert "is not a secret name" in info.value.errors[0].message
    assert standin.requests() == [] and fake_token.calls == 0


def test_remove_reports_every_name_when_the_listing_fails(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.store.put("app/A", "x", label="prod")
    standin.inject("GET", "/kv", 403)
    report = D.remove(None, dest(standin, keyPrefix="app/", label="prod"), ["A", "B"], **sync_options)
    assert [(c.key, c.label, c.name, c.status.value) for c in report.changes] == [
        ("app/A", "prod", "A", "failed"),
        ("app/B", "prod", "B", "failed"),
    ]
    assert "listing the scope failed (403: scripted answer); nothing was changed" in report.changes[0].detail
    assert standin.requests("DELETE") == [] and standin.store.get("app/A", "prod") is not None


# --- listing: bounded retries, bounded pages, the run's deadline --------------------------------------


def test_a_listing_that_keeps_failing_gives_up_after_the_attempts(
    standin: StandIn, sync_options: dict[str, Any], quick_backoff: None
) -> None:
    standin.inject("GET", "/kv", 503, 503, 503, 503)
    report = D.push(None, dest(standin), {"A": "1"}, **sync_options)
    assert outcome(report) == {"A": ("none", "failed")}
    assert "(503: scripted answer after 4 attempts)" in report.changes[0].detail
    standin.log.clear()
    standin.inject("GET", "/kv", "reset", "reset", "reset", "reset")
    report = D.import_secrets(None, dest(standin), **sync_options)
    assert report.counts["failed"] == 1
    assert "listing the scope failed (ServiceResponseError: " in report.changes[0].detail
    assert len(standin.requests("GET")) == 4 and standin.requests("PUT") == []


def test_a_listing_longer_than_the_page_bound_is_stopped(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.page_size = 1
    for key in ("K0", "K1", "K2"):
        standin.store.put(key, "v")
    report = D.import_secrets(None, dest(standin), list_max_pages=2, **sync_options)
    assert report.imported == {} and "more than 2 list pages (the run's bound)" in report.changes[0].detail
    assert report.changes[0].code == "listing_too_large"
    assert len(standin.requests("GET")) == 2


def test_no_page_is_requested_after_the_runs_deadline_even_without_the_policys_transport(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    """A host's own ``transport`` replaces the policy's (and its per-request deadline): the run's
    deadline still ends the listing between pages."""
    from azure.core.pipeline.transport import RequestsTransport

    standin.page_size = 1
    standin.store.put("K0", "v")
    standin.store.put("K1", "v")
    standin.latency = 0.3  # the first page alone takes the whole run
    options = dict(sync_options, client_options={"transport": RequestsTransport(connection_verify=standin.ca_path)})
    report = D.import_secrets(None, dest(standin), timeout=0.3, **options)
    (change,) = report.changes
    assert change.code == "deadline_exceeded" and "(the run's deadline passed while listing)" in change.detail
    assert len(standin.requests("GET")) <= 1


# --- the secrets a push is given ---------------------------------------------------------------------


def test_every_bad_secret_is_named_with_its_problem_before_any_request(
    standin: StandIn, sync_options: dict[str, Any], fake_token: FakeTokenCredential
) -> None:
    secrets: dict[str, Any] = {
        "NUMBER": 42,
        "MAPPING_NO_VALUE": {"contentType": "text/plain"},
        "SURROGATE": "a\ud800b",
        "CONTENT_TYPE": {"value": "v", "contentType": 5},
        "TAGS": Secret("v", tags={"team": 7}),
        "GOOD": {"value": "v", "contentType": "text/plain", "tags": {"team": "x"}},
    }
    with pytest.raises(InvalidInput) as info:
        D.push(None, dest(standin), secrets, **sync_options)
    assert [(e.field, e.message) for e in info.value.errors] == [
        ("secrets['NUMBER']", "must be a string, a Secret or {value, contentType, tags}"),
        ("secrets['MAPPING_NO_VALUE']", "must be a string, a Secret or {value, contentType, tags}"),
        ("secrets['SURROGATE']", "the value is not valid Unicode (lone surrogate)"),
        ("secrets['CONTENT_TYPE'].contentType", "must be a string"),
        ("secrets['TAGS'].tags", "must map strings to strings"),
    ]
    assert standin.requests() == [] and fake_token.calls == 0


class _FailingMapping(Mapping[str, Any]):
    """A mapping a host's framework could hand over whose every read fails (a consumed stream)."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("stream already consumed")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("stream already consumed")

    def __len__(self) -> int:
        return 1


def test_secrets_and_tags_that_cannot_be_read_and_a_secret_of_bytes_are_named_before_any_request(
    standin: StandIn, sync_options: dict[str, Any], fake_token: FakeTokenCredential
) -> None:
    """A mapping that fails when read is bad input, not a crash; so is a ``Secret`` a host built
    with bytes (its type says str, but nothing stops it); the value never shows in the message."""
    secrets: dict[str, Any] = {
        "UNREADABLE": _FailingMapping(),
        "UNREADABLE_TAGS": {"value": "canary-tags-value", "tags": _FailingMapping()},
        "BYTES": Secret(b"canary-bytes-value"),  # type: ignore[arg-type]  # a host passing bytes is the point
        "GOOD": "v",
    }
    with pytest.raises(InvalidInput) as info:
        D.push(None, dest(standin), secrets, **sync_options)
    assert [(e.field, e.message) for e in info.value.errors] == [
        ("secrets['UNREADABLE']", "must be a string, a Secret or {value, contentType, tags}"),
        ("secrets['UNREADABLE_TAGS'].tags", "must map strings to strings"),
        ("secrets['BYTES']", "must be a string, a Secret or {value, contentType, tags}"),
    ]
    assert "canary" not in str(info.value)
    assert standin.requests() == [] and fake_token.calls == 0


def test_a_secret_whose_key_is_a_feature_flag_key_is_refused(standin: StandIn, sync_options: dict[str, Any]) -> None:
    """Prefix and template pass their own checks, but a secret's name completes a feature flag key."""
    d = dest(standin, keyPrefix=".appconfig.", keyTemplate="{secretKey}/x")
    with pytest.raises(InvalidInput) as info:
        D.push(None, d, {"featureflag": "v", "fine": "v"}, **sync_options)
    (error,) = info.value.errors
    assert error.field == "secrets['featureflag']"
    assert error.message == (
        "key '.appconfig.featureflag/x' must not start with '.appconfig.featureflag/' (reserved for feature flags)"
    )
    assert standin.requests() == []


def test_a_prefix_and_template_that_together_give_feature_flag_keys_are_refused(
    standin: StandIn, sync_options: dict[str, Any], fake_token: FakeTokenCredential
) -> None:
    """Each passes its own rules, but every key they give would be a feature flag key: such a scope
    could hold nothing (an import would find nothing, a push refuse every secret), so it is bad input."""
    d = dest(standin, keyPrefix=".appconfig.", keyTemplate="featureflag/{secretKey}")
    expected = (
        "keyTemplate: after keyPrefix '.appconfig.' gives keys that are not valid App Configuration keys: "
        "a key must not start with '.appconfig.featureflag/' (reserved for feature flags)"
    )
    for call in (
        lambda: D.import_secrets(None, d, **sync_options),
        lambda: D.push(None, d, {"A": "1"}, **sync_options),
    ):
        with pytest.raises(InvalidInput) as info:
            call()
        assert [str(e) for e in info.value.errors] == [expected]
    assert D.parse_destination(
        dest(standin, keyPrefix=".appconfig.", keyTemplate="flags/{secretKey}"), env=sync_options["env"]
    )
    assert standin.requests() == [] and fake_token.calls == 0


# --- entries the sync leaves alone, and what an import-mode push imports ---------------------------------


def test_an_import_mode_push_imports_references_and_skips_what_is_not_a_secret(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    standin.store.put("app/REF", json.dumps({"uri": VAULT_URI}), "prod", KEY_VAULT_REF_CONTENT_TYPE)
    standin.store.put("app/FLAG", "{}", "prod", FF_CONTENT_TYPE)
    standin.store.put("app/MINE", "not json", "prod", KEY_VAULT_REF_CONTENT_TYPE, OURS)  # a reference we wrote
    d = dest(standin, keyPrefix="app/", label="prod", initialSync="import-prefer-destination")
    report = D.push(None, d, {"MINE": VAULT_URI}, initial=True, **sync_options)
    assert outcome(report) == {
        "app/MINE": ("import", "skipped"),
        "app/REF": ("import", "imported"),
        "app/FLAG": ("import", "skipped"),
    }
    details = {c.key: c.detail for c in report.changes}
    assert details["app/MINE"] == "Key Vault reference without a secret URI"
    assert details["app/FLAG"] == "feature flag: not a secret"
    assert report.imported == {"REF": VAULT_URI} and report.references == {"REF"}
    assert report.counts["imported"] == 1 and report.ok
    assert [r["method"] for r in standin.requests()] == ["GET"]  # nothing written


def test_an_import_skips_a_reference_whose_value_is_not_json(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.store.put("BROKEN", "{not json", content_type=KEY_VAULT_REF_CONTENT_TYPE)
    standin.store.put("PLAIN", "v")
    report = D.import_secrets(None, dest(standin), **sync_options)
    assert outcome(report) == {"BROKEN": ("skip", "skipped"), "PLAIN": ("import", "imported")}
    assert report.changes[0].detail == "Key Vault reference without a secret URI"
    assert report.imported == {"PLAIN": "v"}


def test_delete_missing_passes_over_feature_flags_in_scope_silently(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    standin.store.put("app/FLAG", "{}", content_type=FF_CONTENT_TYPE)
    standin.store.put("app/OLD", "x")
    report = D.push(None, dest(standin, keyPrefix="app/", deleteMissing=True), {}, max_deletes=1, **sync_options)
    assert outcome(report) == {"app/OLD": ("delete", "applied")}  # the flag is not even reported
    assert standin.store.entry("app/FLAG")["value"] == "{}" and standin.requests("DELETE")[0]["path"] == "/kv/app%2FOLD"


def test_remove_leaves_a_reference_it_did_not_write(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.store.put("app/THEIRS", json.dumps({"uri": VAULT_URI}), content_type=KEY_VAULT_REF_CONTENT_TYPE)
    report = D.remove(None, dest(standin, keyPrefix="app/"), ["THEIRS"], **sync_options)
    assert outcome(report) == {"app/THEIRS": ("skip", "skipped")}
    assert report.changes[0].detail == "Key Vault reference the sync did not write: left unchanged"
    assert standin.requests("DELETE") == [] and standin.store.get("app/THEIRS") is not None


def test_a_report_lists_its_changes_by_status(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.store.put("B", "old")
    standin.store.lock_entry("B")
    report = D.push(None, dest(standin), {"A": "1", "B": "2", "C": "3"}, **sync_options)
    assert [c.key for c in report.by_status(Status.APPLIED)] == ["A", "C"]
    assert [c.key for c in report.by_status(Status.LOCKED)] == ["B"]
    assert report.by_status(Status.FAILED) == []
