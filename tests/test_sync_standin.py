"""Sync semantics against the local HTTPS App Configuration stand-in, one test each."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from azure_appconfig_plugin.errors import EndpointRejected, InvalidInput
from azure_appconfig_plugin.sync.destination import AppConfigurationDestination
from azure_appconfig_plugin.sync.entries import Secret
from azure_appconfig_plugin.sync.scope import KEY_VAULT_REF_CONTENT_TYPE, KEY_VAULT_REF_MARK
from standins.appconfig import StandIn
from standins.fixtures import FakeTokenCredential

pytest_plugins = ["standins.fixtures"]  # the stand-in fixtures (standin, fake_token, sync_options)

D = AppConfigurationDestination()
VAULT_URI = "https://contoso-vault.vault.azure.net/secrets/db-password"


def dest(s: StandIn, **fields: Any) -> dict[str, Any]:
    return {"endpoint": s.endpoint, **fields}


def statuses(report: Any) -> dict[str, tuple[str, str]]:
    return {c.key: (c.action.value, c.status.value) for c in report.changes}


def writes(s: StandIn) -> list[dict[str, Any]]:
    return [r for r in s.requests() if r["method"] in ("PUT", "DELETE")]


# --- diff: (key, label), value + content type + tags; unchanged entries get no request ------------


def test_unchanged_entries_get_no_request_and_every_compared_field_counts(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    d = dest(standin, keyPrefix="app/", label="prod")
    secrets: dict[str, Any] = {"A": "1", "B": Secret("2", "text/plain"), "C": Secret("3", tags={"team": "x"})}
    assert D.push(None, d, secrets, **sync_options).counts["created"] == 3
    standin.log.clear()
    again = D.push(None, d, secrets, **sync_options)
    assert again.counts["unchanged"] == 3 and again.requests == 1 and writes(standin) == []
    changed = {"A": "1", "B": Secret("2", "application/json"), "C": Secret("3", tags={"team": "y"})}
    report = D.push(None, d, changed, **sync_options)
    assert statuses(report) == {
        "app/A": ("none", "unchanged"),
        "app/B": ("update", "applied"),
        "app/C": ("update", "applied"),
    }
    assert "content type" in report.changes[1].detail and "tags" in report.changes[2].detail
    assert standin.store.entry("app/B", "prod")["content_type"] == "application/json"


def test_an_entry_is_key_and_label(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.store.put("app/A", "other label's value", label="dev")
    D.push(None, dest(standin, keyPrefix="app/", label="prod"), {"A": "prod value"}, **sync_options)
    assert standin.store.entry("app/A", "dev")["value"] == "other label's value"
    assert standin.store.entry("app/A", "prod")["value"] == "prod value"


# --- scope -------------------------------------------------------------------------------------


def test_lists_only_its_label_and_prefix(standin: StandIn, sync_options: dict[str, Any]) -> None:
    D.push(None, dest(standin, keyPrefix="app/", label="prod"), {"A": "1"}, **sync_options)
    (listing,) = standin.requests("GET")
    assert listing["path"] == "/kv" and listing["query"]["key"] == "app/*" and listing["query"]["label"] == "prod"


def test_empty_label_is_the_null_label_never_all_labels(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.store.put("app/A", "labelled", label="prod")
    standin.store.put("app/B", "labelled", label="prod")
    report = D.push(
        None, dest(standin, keyPrefix="app/", label="", deleteMissing=True), {"A": "null-label value"}, **sync_options
    )
    assert standin.requests("GET")[0]["query"]["label"] == "\0"
    assert report.counts == {
        "created": 1,
        "updated": 0,
        "deleted": 0,
        "unchanged": 0,
        "skipped": 0,
        "conflicts": 0,
        "failed": 0,
    }
    assert standin.store.entry("app/A", None)["value"] == "null-label value"
    assert standin.store.get("app/B", "prod") is not None  # other label: never deleted


def test_delete_missing_stays_inside_label_and_prefix(standin: StandIn, sync_options: dict[str, Any]) -> None:
    for key, label in (
        ("app/OLD", "prod"),
        ("app/OLD", "dev"),
        ("other/OLD", "prod"),
        ("app/OLD", None),
        ("appx/OLD", "prod"),
    ):
        standin.store.put(key, "keep?", label=label)
    report = D.push(
        None,
        dest(standin, keyPrefix="app/", label="prod", deleteMissing=True),
        {"NEW": "1"},
        max_deletes=1,
        **sync_options,
    )
    assert statuses(report) == {"app/NEW": ("create", "applied"), "app/OLD": ("delete", "applied")}
    left = set(standin.store.snapshot())
    assert left == {
        ("app/NEW", "prod"),
        ("app/OLD", "dev"),
        ("other/OLD", "prod"),
        ("app/OLD", None),
        ("appx/OLD", "prod"),
    }


def test_key_template_scope_ignores_keys_that_do_not_fit_it(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.store.put("svc/OLD/secret", "x", label="prod")
    standin.store.put("svc/OLD/config", "not ours: wrong suffix", label="prod")
    report = D.push(
        None,
        dest(standin, keyTemplate="svc/{secretKey}/secret", label="prod", deleteMissing=True),
        {"DB": "1"},
        max_deletes=1,
        **sync_options,
    )
    assert statuses(report) == {"svc/DB/secret": ("create", "applied"), "svc/OLD/secret": ("delete", "applied")}
    assert standin.store.get("svc/OLD/config", "prod") is not None


def test_feature_flags_are_never_touched(standin: StandIn, sync_options: dict[str, Any]) -> None:
    ff_value = json.dumps({"id": "beta", "enabled": True, "conditions": {"client_filters": []}})
    standin.store.put(
        ".appconfig.featureflag/beta",
        ff_value,
        content_type="application/vnd.microsoft.appconfig.ff+json;charset=utf-8",
    )
    standin.store.put("FLAG", ff_value, content_type="application/vnd.microsoft.appconfig.ff+json;charset=utf-8")
    report = D.push(None, dest(standin, deleteMissing=True), {"FLAG": "overwrite me?", "X": "1"}, **sync_options)
    assert statuses(report)["FLAG"] == ("skip", "skipped") and "feature flag" in report.changes[0].detail
    assert ".appconfig.featureflag/beta" not in statuses(report)
    assert standin.store.entry(".appconfig.featureflag/beta")["value"] == ff_value
    assert standin.store.entry("FLAG")["value"] == ff_value
    with pytest.raises(InvalidInput, match="reserved for feature flags"):
        D.push(None, dest(standin, keyPrefix=".appconfig.featureflag/"), {"X": "1"}, **sync_options)


def test_key_vault_references_it_did_not_write_are_never_touched(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    foreign = json.dumps({"uri": "https://other.vault.azure.net/secrets/theirs"})
    standin.store.put("app/THEIRS", foreign, label="prod", content_type=KEY_VAULT_REF_CONTENT_TYPE)
    standin.store.put("app/GONE", foreign, label="prod", content_type=KEY_VAULT_REF_CONTENT_TYPE)
    report = D.push(
        None, dest(standin, keyPrefix="app/", label="prod", deleteMissing=True), {"THEIRS": "plain"}, **sync_options
    )
    assert statuses(report) == {"app/THEIRS": ("skip", "skipped"), "app/GONE": ("skip", "skipped")}
    assert writes(standin) == []
    assert standin.store.entry("app/THEIRS", "prod")["value"] == foreign and standin.store.get("app/GONE", "prod")


def test_remove_deletes_only_what_the_names_map_to_in_scope(standin: StandIn, sync_options: dict[str, Any]) -> None:
    d = dest(standin, keyPrefix="app/", label="prod")
    D.push(None, d, {"A": "1", "B": "2"}, **sync_options)
    standin.store.put("app/A", "same key, other label", label="dev")
    report = D.remove(None, d, ["A", "MISSING"], **sync_options)
    assert statuses(report) == {"app/A": ("delete", "applied"), "app/MISSING": ("none", "unchanged")}
    assert set(standin.store.snapshot()) == {("app/B", "prod"), ("app/A", "dev")}


# --- concurrency safety --------------------------------------------------------------------------


def test_conditional_headers_creates_updates_and_deletes(standin: StandIn, sync_options: dict[str, Any]) -> None:
    d = dest(standin, keyPrefix="app/", deleteMissing=True)
    D.push(None, d, {"A": "1", "B": "2"}, **sync_options)
    puts = standin.requests("PUT")
    assert [r["headers"].get("if-none-match") for r in puts] == ["*", "*"] and not any(
        "if-match" in r["headers"] for r in puts
    )
    etag_a = standin.store.entry("app/A")["etag"]
    etag_b = standin.store.entry("app/B")["etag"]
    standin.log.clear()
    D.push(None, d, {"A": "changed"}, **sync_options)
    (put,) = standin.requests("PUT")
    (delete,) = standin.requests("DELETE")
    assert put["headers"]["if-match"] == f'"{etag_a}"' and delete["headers"]["if-match"] == f'"{etag_b}"'


def test_412_is_a_conflict_per_key_and_never_overwritten(standin: StandIn, sync_options: dict[str, Any]) -> None:
    d = dest(standin, keyPrefix="app/")
    D.push(None, d, {"A": "1", "B": "1"}, **sync_options)
    standin.after_list.append(lambda store: store.put("app/A", "someone else's edit"))
    standin.after_list.append(lambda store: store.put("app/NEW", "created meanwhile"))
    report = D.push(None, d, {"A": "2", "B": "2", "NEW": "mine"}, **sync_options)
    assert statuses(report) == {
        "app/A": ("update", "conflict"),
        "app/B": ("update", "applied"),
        "app/NEW": ("create", "conflict"),
    }
    assert not report.ok and report.counts["conflicts"] == 2
    assert standin.store.entry("app/A")["value"] == "someone else's edit"
    assert standin.store.entry("app/NEW")["value"] == "created meanwhile"
    assert "changed since it was listed" in report.changes[0].detail


def test_409_locked_entries_are_reported_per_key(standin: StandIn, sync_options: dict[str, Any]) -> None:
    d = dest(standin, keyPrefix="app/", deleteMissing=True)
    D.push(None, d, {"A": "1", "B": "1", "C": "1"}, **sync_options)
    standin.store.lock_entry("app/A")  # listed as locked: no request at all
    standin.after_list.append(lambda store: store.lock_entry("app/B"))  # locked after listing: 409
    standin.log.clear()
    report = D.push(None, d, {"A": "2", "B": "2", "C": "2"}, **sync_options)
    assert statuses(report) == {
        "app/A": ("update", "locked"),
        "app/B": ("update", "locked"),
        "app/C": ("update", "applied"),
    }
    assert "409" in report.changes[1].detail and [r["path"] for r in standin.requests("PUT")].count("/kv/app%2FA") == 0
    assert standin.store.entry("app/A")["value"] == standin.store.entry("app/B")["value"] == "1"


def test_sync_token_is_sent_back_within_a_run(standin: StandIn, sync_options: dict[str, Any]) -> None:
    D.push(None, dest(standin), {f"K{i}": "v" for i in range(5)}, **sync_options)
    first, *rest = standin.requests()
    assert "sync-token" not in first["headers"]
    tokens = [r["headers"]["sync-token"] for r in rest]
    assert len(tokens) == 5 and all(t.startswith("zAJw6V16=") and ";sn=" not in t for t in tokens)


# --- Key Vault references -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        VAULT_URI,
        "https://gov-vault.vault.usgovcloudapi.net/secrets/x/0123456789abcdef0123456789abcdef",
        "https://cn-vault.vault.azure.cn/secrets/y",
    ],
)
def test_key_vault_uri_is_written_as_a_reference_and_imported_back(
    standin: StandIn, sync_options: dict[str, Any], uri: str
) -> None:
    d = dest(standin, keyPrefix="app/")
    D.push(None, d, {"DB": uri}, **sync_options)
    entry = standin.store.entry("app/DB")
    assert entry["content_type"] == KEY_VAULT_REF_CONTENT_TYPE and json.loads(entry["value"]) == {"uri": uri}
    assert entry["tags"] == {KEY_VAULT_REF_MARK[0]: KEY_VAULT_REF_MARK[1]}
    imported = D.import_secrets(None, d, **sync_options)
    assert imported.imported == {"DB": uri} and imported.references == {"DB"}
    assert "Key Vault reference" in imported.changes[0].detail
    assert D.push(None, d, {"DB": uri}, **sync_options).counts["unchanged"] == 1


def test_key_vault_references_off_and_lookalikes_are_plain_values(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    D.push(None, dest(standin, keyVaultReferences="off"), {"A": VAULT_URI}, **sync_options)
    D.push(None, dest(standin, keyPrefix="x/"), {"B": "https://evil.example.com/secrets/db"}, **sync_options)
    assert standin.store.entry("A")["content_type"] is None and standin.store.entry("A")["value"] == VAULT_URI
    assert standin.store.entry("x/B")["content_type"] is None


def test_a_reference_the_sync_wrote_is_updated_and_deleted(standin: StandIn, sync_options: dict[str, Any]) -> None:
    d = dest(standin, keyPrefix="app/", deleteMissing=True)
    D.push(None, d, {"DB": VAULT_URI, "OLD": VAULT_URI + "2"}, **sync_options)
    report = D.push(None, d, {"DB": VAULT_URI + "-v2"}, **sync_options)
    assert statuses(report) == {"app/DB": ("update", "applied"), "app/OLD": ("delete", "applied")}


# --- bad input ------------------------------------------------------------------------------------


def test_bad_input_is_rejected_before_any_request_naming_each_item(
    standin: StandIn, sync_options: dict[str, Any], fake_token: FakeTokenCredential
) -> None:
    with pytest.raises(InvalidInput) as info:
        D.push(None, dest(standin, label="a*b,c", keyTemplate="no-placeholder"), {"A": "1"}, **sync_options)
    assert {e.field for e in info.value.errors} == {"label", "keyTemplate"}
    with pytest.raises(InvalidInput) as info:
        D.push(
            None,
            dest(standin, keyPrefix=""),
            [(".", "x"), ("..", "x"), ("a%b", "x"), ("big", "x" * 10_300), ("ok", "x"), ("ok", "y")],
            **sync_options,
        )
    fields = [e.field for e in info.value.errors]
    assert fields == ["secrets['.']", "secrets['..']", "secrets['a%b']", "secrets['big']", "secrets['ok']"]
    assert "10240" in str(info.value) and "must be unique" in str(info.value)
    with pytest.raises(InvalidInput, match=r"not valid App Configuration keys: a key must not contain '%'"):
        D.push(None, dest(standin, keyPrefix="50%/"), {"A": "1"}, **sync_options)
    assert standin.requests() == [] and fake_token.calls == 0


def test_an_unknown_option_is_named(standin: StandIn, sync_options: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match="concurency: is not an option"):
        D.push(None, dest(standin), {"A": "1"}, concurency=4, **sync_options)
    assert standin.requests() == []


def test_endpoint_is_checked_against_the_allow_list_before_any_token(
    standin: StandIn, sync_options: dict[str, Any], fake_token: FakeTokenCredential
) -> None:
    with pytest.raises(InvalidInput, match=r"allow-list 127\.0\.0\.1:") as info:
        D.push(None, dest(standin), {"A": "1"}, **{**sync_options, "env": {}})
    assert [e.field for e in info.value.errors] == ["endpoint"]
    usgov_store = {"endpoint": "https://mystore.azconfig.azure.us"}
    connection = {
        "method": "client-secret",
        "tenantId": "contoso.onmicrosoft.com",
        "clientId": "22222222-2222-2222-2222-222222222222",
        "clientSecret": "never-sent",
        "cloud": "public",
    }
    with pytest.raises(EndpointRejected, match="connection's cloud is"):
        D.push(connection, usgov_store, {"A": "1"}, env={})  # no token credential given: none may be requested
    with pytest.raises(InvalidInput, match="endpoint"):
        D.push(None, {"endpoint": "https://mystore.azconfig.io/kv?x"}, {"A": "1"}, **sync_options)
    assert standin.requests() == [] and fake_token.calls == 0


def test_reserved_characters_in_the_prefix_are_escaped_in_the_filter(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    standin.store.put("a*b,c\\d/OLD", "in scope", label="prod")
    standin.store.put("a-anything/OLD", "outside: '*' is literal", label="prod")
    standin.store.put("c\\d/OLD", "outside: ',' is literal", label="prod")
    report = D.push(
        None,
        dest(standin, keyPrefix="a*b,c\\d/", label="prod", deleteMissing=True),
        {"N": "1"},
        max_deletes=1,
        **sync_options,
    )
    assert standin.requests("GET")[0]["query"]["key"] == "a\\*b\\,c\\\\d/*"
    assert statuses(report) == {"a*b,c\\d/N": ("create", "applied"), "a*b,c\\d/OLD": ("delete", "applied")}
    assert {k for k, _ in standin.store.snapshot()} == {"a*b,c\\d/N", "a-anything/OLD", "c\\d/OLD"}


# --- order and failure ------------------------------------------------------------------------------


def test_writes_run_before_deletes(standin: StandIn, sync_options: dict[str, Any]) -> None:
    d = dest(standin, keyPrefix="app/", deleteMissing=True)
    D.push(None, d, {f"OLD{i}": "x" for i in range(10)}, **sync_options)
    standin.log.clear()
    D.push(None, d, {f"NEW{i}": "x" for i in range(10)}, max_deletes=10, **sync_options)
    methods = [r["method"] for r in writes(standin)]
    assert methods == ["PUT"] * 10 + ["DELETE"] * 10


def test_a_failed_write_blocks_every_delete_and_the_report_says_what_was_applied(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    d = dest(standin, keyPrefix="app/", deleteMissing=True)
    D.push(None, d, {"OLD": "x", "KEEP": "1"}, **sync_options)
    standin.inject("PUT", "app/BAD", 500, 500, 500, 500)
    report = D.push(None, d, {"KEEP": "2", "NEW": "1", "BAD": "1"}, **sync_options)
    assert statuses(report) == {
        "app/KEEP": ("update", "applied"),
        "app/NEW": ("create", "applied"),
        "app/BAD": ("create", "failed"),
        "app/OLD": ("delete", "not-run"),
    }
    assert "gave up after 4 attempts" in report.changes[2].detail and "nothing is lost" in report.changes[3].detail
    assert standin.store.get("app/OLD") is not None and not report.ok
    assert report.counts["failed"] == 1 and report.counts["skipped"] == 1
    # the repeated run converges
    again = D.push(None, d, {"KEEP": "2", "NEW": "1", "BAD": "1"}, **sync_options)
    assert statuses(again) == {
        "app/KEEP": ("none", "unchanged"),
        "app/NEW": ("none", "unchanged"),
        "app/BAD": ("create", "applied"),
        "app/OLD": ("delete", "applied"),
    }
    assert D.push(None, d, {"KEEP": "2", "NEW": "1", "BAD": "1"}, **sync_options).requests == 1


def test_a_push_is_idempotent(standin: StandIn, sync_options: dict[str, Any]) -> None:
    d = dest(standin, keyPrefix="app/", label="prod", deleteMissing=True)
    secrets = {f"S{i}": f"v{i}" for i in range(120)} | {"REF": VAULT_URI}
    first = D.push(None, d, secrets, **sync_options)
    before = standin.store.snapshot()
    second = D.push(None, d, secrets, **sync_options)
    assert first.counts["created"] == 121 and second.counts["unchanged"] == 121
    assert second.requests == 2 and standin.store.snapshot() == before  # two list pages, nothing else


# --- throttling and transient failures ------------------------------------------------------------


def test_429_honours_retry_after_backs_off_and_every_key_is_applied(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    standin.throttle_every = 4
    standin.retry_after_ms = 30
    secrets = {f"S{i}": "v" for i in range(40)}
    started = time.monotonic()
    report = D.push(None, dest(standin), secrets, concurrency=8, **sync_options)
    assert report.ok and report.counts["created"] == 40
    assert standin.throttled >= 10 and report.requests == 1 + 40 + standin.throttled
    assert time.monotonic() - started >= 0.03  # waited at least once
    assert 0 < sum("after retries" in c.detail for c in report.changes) <= standin.throttled


def test_writes_run_in_parallel_up_to_the_concurrency(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.latency = 0.05
    report = D.push(None, dest(standin), {f"S{i}": "v" for i in range(30)}, concurrency=6, **sync_options)
    assert report.ok and 3 <= standin.max_in_flight <= 6


def test_throttling_wait_is_bounded_and_every_key_is_reported(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.throttle_every = 1
    standin.retry_after_ms = 200
    started = time.monotonic()
    report = D.push(None, dest(standin), {f"S{i}": "v" for i in range(6)}, max_wait=0.5, **sync_options)
    assert time.monotonic() - started < 5
    assert len(report.changes) == 6 and report.counts["failed"] == 6
    assert all("429" in c.detail and "gave up" in c.detail for c in report.changes)


def test_5xx_and_resets_are_retried(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.inject("PUT", "A", 503, 500)
    standin.inject("PUT", "B", "reset")
    report = D.push(None, dest(standin), {"A": "1", "B": "2"}, **sync_options)
    assert statuses(report) == {"A": ("create", "applied"), "B": ("create", "applied")}
    assert all(c.detail.startswith("created after retries") for c in report.changes)


def test_a_retried_write_whose_first_attempt_landed_is_applied_not_a_conflict(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    standin.inject("PUT", "A", "lost")
    report = D.push(None, dest(standin), {"A": "1"}, **sync_options)
    assert statuses(report) == {"A": ("create", "applied")} and "read" in report.changes[0].detail


def test_a_run_ends_at_its_deadline_with_every_key_reported(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.latency = 0.2
    report = D.push(None, dest(standin), {f"S{i}": "v" for i in range(20)}, concurrency=1, timeout=0.5, **sync_options)
    assert len(report.changes) == 20 and report.counts["failed"] >= 15
    assert any("deadline" in c.detail for c in report.changes)


# --- import ------------------------------------------------------------------------------------------


def test_import_lists_once_follows_pages_strips_the_template_and_skips_what_is_not_a_secret(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    standin.page_size = 5
    for i in range(12):
        standin.store.put(f"svc/S{i:02}/secret", f"v{i}", label="prod")
    standin.store.put("svc/has space/secret", "x", label="prod")
    standin.store.put(".appconfig.featureflag/f", "{}", label="prod")
    standin.store.put(
        "svc/FF/secret", "{}", label="prod", content_type="application/vnd.microsoft.appconfig.ff+json;charset=utf-8"
    )
    standin.store.put("svc/S00/secret", "other label", label="dev")
    report = D.import_secrets(None, dest(standin, keyTemplate="svc/{secretKey}/secret", label="prod"), **sync_options)
    assert report.imported == {f"S{i:02}": f"v{i}" for i in range(12)}
    assert [c.status.value for c in report.changes].count("skipped") == 2
    skipped = {c.key: c.detail for c in report.changes if c.status.value == "skipped"}
    assert (
        "cannot be a secret name" in skipped["svc/has space/secret"]
        or "not a secret name" in skipped["svc/has space/secret"]
    )
    assert "feature flag" in skipped["svc/FF/secret"]
    lists = standin.requests("GET")
    assert len(lists) == report.requests == 3 and "after" in lists[1]["query"] and "after" in lists[2]["query"]
    assert report.ok and report.counts["imported"] == 12


def test_a_failed_listing_reports_every_key_and_changes_nothing(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.inject("GET", "/kv", 403)
    report = D.push(None, dest(standin, deleteMissing=True), {"A": "1", "B": "2"}, **sync_options)
    assert statuses(report) == {"A": ("none", "failed"), "B": ("none", "failed")} and not report.ok
    assert "listing the scope failed (403: scripted answer)" in report.changes[0].detail
    assert writes(standin) == []


def test_listing_retries_throttling_and_errors_with_bounded_waits(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    standin.inject("GET", "/kv", 429, 503, "reset")
    report = D.push(None, dest(standin), {"A": "1"}, **sync_options)
    assert statuses(report) == {"A": ("create", "applied")} and report.requests == 4 + 1
    standin.inject("GET", "/kv", (429, {"Retry-After": "86400"}))
    started = time.monotonic()
    report = D.push(None, dest(standin), {"A": "2"}, max_wait=1, **sync_options)
    assert time.monotonic() - started < 5 and statuses(report) == {"A": ("none", "failed")}
    assert "429: throttled 1 time(s); gave up" in report.changes[0].detail


@pytest.mark.parametrize("host", ["attacker.example.com", "127.0.0.1:1", "127.0.0.1"])
def test_next_page_links_must_stay_on_the_store(standin: StandIn, sync_options: dict[str, Any], host: str) -> None:
    """The host pin decides: another host, or the store's host on another port, is not followed."""
    standin.page_size = 2
    for i in range(5):
        standin.store.put(f"K{i}", "v")
    standin.link_host = host
    report = D.import_secrets(None, dest(standin), **sync_options)
    assert report.counts["failed"] == 1 and report.imported == {}
    assert report.changes[0].code == "foreign_host"
    assert f"{host} (another host)" in report.changes[0].detail
    assert len(standin.requests("GET")) == 1


def test_an_absolute_next_page_link_to_the_store_itself_is_followed(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    standin.page_size = 2
    for i in range(5):
        standin.store.put(f"K{i}", "v")
    standin.link_host = f"127.0.0.1:{standin.port}"
    report = D.import_secrets(None, dest(standin), **sync_options)
    assert report.ok and len(report.imported) == 5
    assert len(standin.requests("GET")) == 3


# --- initial sync modes ------------------------------------------------------------------------------


def _seed_for_initial(s: StandIn) -> None:
    s.store.put("app/BOTH", "store value", label="prod")
    s.store.put("app/STORE_ONLY", "from the store", label="prod")


def test_initial_overwrite_destination(standin: StandIn, sync_options: dict[str, Any]) -> None:
    _seed_for_initial(standin)
    d = dest(standin, keyPrefix="app/", label="prod", deleteMissing=True, initialSync="overwrite-destination")
    report = D.push(None, d, {"BOTH": "platform value", "NEW": "n"}, initial=True, **sync_options)
    assert statuses(report) == {
        "app/BOTH": ("update", "applied"),
        "app/NEW": ("create", "applied"),
        "app/STORE_ONLY": ("delete", "applied"),
    }
    assert report.imported == {}


def test_initial_import_prefer_source(standin: StandIn, sync_options: dict[str, Any]) -> None:
    _seed_for_initial(standin)
    d = dest(standin, keyPrefix="app/", label="prod", deleteMissing=True, initialSync="import-prefer-source")
    report = D.push(None, d, {"BOTH": "platform value"}, initial=True, **sync_options)
    assert statuses(report) == {"app/BOTH": ("update", "applied"), "app/STORE_ONLY": ("import", "imported")}
    assert report.imported == {"STORE_ONLY": "from the store"}
    assert standin.store.entry("app/BOTH", "prod")["value"] == "platform value"
    assert standin.store.get("app/STORE_ONLY", "prod") is not None  # imported, not deleted


def test_initial_import_prefer_destination(standin: StandIn, sync_options: dict[str, Any]) -> None:
    _seed_for_initial(standin)
    d = dest(standin, keyPrefix="app/", label="prod", deleteMissing=True, initialSync="import-prefer-destination")
    report = D.push(None, d, {"BOTH": "platform value", "NEW": "n"}, initial=True, **sync_options)
    assert statuses(report) == {
        "app/BOTH": ("import", "imported"),
        "app/NEW": ("create", "applied"),
        "app/STORE_ONLY": ("import", "imported"),
    }
    assert report.imported == {"BOTH": "store value", "STORE_ONLY": "from the store"}
    assert standin.store.entry("app/BOTH", "prod")["value"] == "store value"


def test_after_the_initial_sync_the_platform_is_the_source(standin: StandIn, sync_options: dict[str, Any]) -> None:
    _seed_for_initial(standin)
    d = dest(standin, keyPrefix="app/", label="prod", initialSync="import-prefer-destination")
    report = D.push(None, d, {"BOTH": "platform value"}, **sync_options)
    assert statuses(report) == {"app/BOTH": ("update", "applied")} and report.imported == {}


# --- plan ------------------------------------------------------------------------------------------------


def test_plan_writes_nothing_and_shows_what_push_then_does(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.store.put("app/OLD", "x")
    standin.store.put("app/SAME", "s")
    standin.store.put("app/CHANGE", "old")
    d = dest(standin, keyPrefix="app/", deleteMissing=True)
    secrets = {"SAME": "s", "CHANGE": "new", "NEW": "n"}
    plan = D.plan(None, d, secrets, **sync_options)
    assert writes(standin) == [] and plan.requests == 1
    push = D.push(None, d, secrets, **sync_options)
    assert [(c.key, c.action) for c in plan.changes] == [(c.key, c.action) for c in push.changes]
    assert dict(plan.counts.items()) == push.counts
    assert {c.status.value for c in plan.changes} == {"planned", "unchanged"}


def test_reports_and_reprs_never_show_secret_values(standin: StandIn, sync_options: dict[str, Any]) -> None:
    canary = "canary-sync-secret-value-9Zq"
    d = dest(standin, keyPrefix="app/")
    push = D.push(None, d, {"A": canary}, **sync_options)
    imported = D.import_secrets(None, d, **sync_options)
    assert imported.imported == {"A": canary}
    for text in (
        repr(push),
        repr(imported),
        json.dumps(push.to_dict()),
        json.dumps(imported.to_dict()),
        repr(Secret(canary)),
    ):
        assert canary not in text


def test_no_secret_value_in_logs_even_at_debug(
    standin: StandIn, sync_options: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    canary = "canary-sync-log-secret-2Wx"
    caplog.set_level(logging.DEBUG)
    standin.inject("PUT", "app/B", 503)
    D.push(None, dest(standin, keyPrefix="app/"), {"A": canary, "B": canary}, **sync_options)
    D.import_secrets(None, dest(standin, keyPrefix="app/"), **sync_options)
    assert caplog.records and canary not in caplog.text


def test_a_plugin_registers_a_destination_either_way() -> None:
    from app_connections.hostspec import hookimpl
    from app_connections.loader import load_plugins

    class Other:
        slug, name, connection_type = "other-store", "Other store", "azure-app-configuration"

    class Third:
        slug, name, connection_type = "third-store", "Third store", "azure-app-configuration"

    class Plugin:
        @hookimpl
        def register_secret_syncs(self, register):  # type: ignore[no-untyped-def]  # an untyped plugin, on purpose
            register.add(Other())
            register.add(Third())
            register.add(AppConfigurationDestination())  # taken slug: reported, not replaced

    registry = load_plugins(plugins=[("other", Plugin())], env={})
    assert set(registry.syncs) == {"azure-app-configuration", "other-store", "third-store"}
    assert [f.stage for f in registry.failures if f.plugin == "other"] == ["duplicate"]
