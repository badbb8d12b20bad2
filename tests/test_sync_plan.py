"""The pure core of the sync: field declaration, scope rules, the plan (no I/O), the limiter."""

from __future__ import annotations

import json
import time
from typing import Any

import jsonschema
import pytest

from azure_appconfig_plugin.errors import InvalidInput
from azure_appconfig_plugin.http.pace import AdaptiveLimit
from azure_appconfig_plugin.sync.config import FIELDS, destination_schema, parse_destination
from azure_appconfig_plugin.sync.entries import Entry, desired_entries
from azure_appconfig_plugin.sync.plan import plan_import, plan_push, plan_remove
from azure_appconfig_plugin.sync.scope import KEY_VAULT_REF_CONTENT_TYPE, Scope, escape_filter, is_key_vault_uri
from azure_appconfig_plugin.sync.secret_files import parse_dotenv, read_secrets, write_secrets

ENDPOINT = "https://contoso-appconfig.azconfig.io"


def cfg(**fields: Any) -> Any:
    return parse_destination({"endpoint": ENDPOINT, **fields}, env={})


# --- fields: one declaration, schema and parser agree ------------------------------------------------


def test_schema_is_draft_2020_12_and_derived_from_the_declaration() -> None:
    schema = destination_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert (
        list(schema["properties"])
        == [f.name for f in FIELDS]
        == ["endpoint", "label", "keyPrefix", "keyTemplate", "deleteMissing", "initialSync", "keyVaultReferences"]
    )
    assert schema["required"] == ["endpoint"] and schema["additionalProperties"] is False
    # the contract's derivation: an optional field accepts null (treated as absent), in the schema as in the parser
    assert schema["properties"]["initialSync"]["enum"] == [
        "overwrite-destination",
        "import-prefer-source",
        "import-prefer-destination",
        None,
    ]
    assert "$id" not in schema and schema["properties"]["endpoint"]["format"] == "uri"


def test_the_fields_are_the_contracts_field_declarations() -> None:
    from app_connections import fields as contract

    assert all(isinstance(f, contract.Field) for f in FIELDS)
    assert destination_schema() == contract.object_schema(
        FIELDS,
        title=destination_schema()["title"],
        description=destination_schema()["description"],
    )
    data = {"endpoint": ENDPOINT, "label": None, "initialSync": None, "deleteMissing": None}
    jsonschema.validate(data, destination_schema())
    parsed = parse_destination(data, env={})
    assert (parsed.label, parsed.initial_sync, parsed.delete_missing) == (None, "overwrite-destination", False)


@pytest.mark.parametrize(
    "fields,message",
    [
        (
            {"keyPrefix": ".appconfig.featureflag/"},
            "keyPrefix: gives keys that are not valid App Configuration keys: "
            "a key must not start with '.appconfig.featureflag/'",
        ),
        (
            {"keyTemplate": "a/{secretKey}\n"},
            "keyTemplate: gives keys that are not valid App Configuration keys: "
            "a key must not contain control characters",
        ),
        ({"keyTemplate": "a/{x}/{secretKey}"}, "keyTemplate: must not contain braces other than {secretKey}"),
        ({"label": "a\x01"}, "label: must not contain control characters"),
        ({"label": "a,b"}, "label: must not contain ',' (reserved in label filters"),
        ({"label": "x" * 2049}, "label: is longer than 2048 characters"),
    ],
)
def test_each_rule_names_its_field_and_problem(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        cfg(**fields)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "data",
    [
        {"endpoint": ENDPOINT},
        {
            "endpoint": ENDPOINT,
            "label": "prod",
            "keyTemplate": "app/{secretKey}",
            "deleteMissing": True,
            "initialSync": "import-prefer-source",
            "keyVaultReferences": "off",
        },
    ],
)
def test_what_the_schema_accepts_the_parser_accepts(data: dict[str, Any]) -> None:
    jsonschema.validate(data, destination_schema())
    parsed = parse_destination(data, env={})
    assert parsed.endpoint == ENDPOINT and parsed.to_dict()["endpoint"] == ENDPOINT


@pytest.mark.parametrize(
    "data",
    [
        {"endpoint": ENDPOINT, "deleteMissing": "yes"},
        {"endpoint": ENDPOINT, "initialSync": "merge"},
        {"endpoint": ENDPOINT, "keyVaultReferences": True},
        {"endpoint": ENDPOINT, "labl": "prod"},
        {},
    ],
)
def test_what_the_schema_rejects_the_parser_rejects(data: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, destination_schema())
    with pytest.raises(InvalidInput):
        parse_destination(data, env={})


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_destination(
            {
                "endpoint": "http://x.azconfig.io",
                "label": "a,b",
                "keyTemplate": "{secretKey}/{secretKey}",
                "keyPrefix": "%",
                "labl": 1,
            },
            env={},
        )
    assert {e.field for e in info.value.errors} == {"endpoint", "label", "keyTemplate", "keyPrefix", "labl"}
    assert "did you mean 'label'" in str(info.value)


def test_empty_label_is_the_null_label() -> None:
    assert cfg(label="").label is None and cfg().scope.label_filter == "\0"
    assert cfg(label="prod").scope.label_filter == "prod"


@pytest.mark.parametrize("label", ["a*", "a,b", "a\\b", "*"])
def test_labels_with_reserved_characters_are_rejected(label: str) -> None:
    with pytest.raises(InvalidInput, match="label"):
        cfg(label=label)


# --- scope ----------------------------------------------------------------------------------------------


def test_filters_escape_reserved_characters() -> None:
    assert escape_filter("a*b,c\\d") == "a\\*b\\,c\\\\d"
    assert Scope(None, "a*b/").key_filter == "a\\*b/*" and Scope(None).key_filter is None


def test_template_and_prefix_combine_and_map_back() -> None:
    scope = cfg(keyPrefix="team/", keyTemplate="svc/{secretKey}/v1").scope
    assert scope.key_for("DB") == "team/svc/DB/v1" and scope.name_for("team/svc/DB/v1") == "DB"
    assert scope.name_for("team/svc/DB/v2") is None and scope.name_for("team/svc//v1") is None
    assert (
        not scope.owns(".appconfig.featureflag/x", None)
        and Scope(None).owns("k", None)
        and not Scope(None).owns("k", "prod")
    )


@pytest.mark.parametrize(
    "uri,ok",
    [
        ("https://kv1.vault.azure.net/secrets/s", True),
        ("https://kv1.vault.azure.net/secrets/s/0123456789abcdef0123456789ABCDEF", True),
        ("https://kv1.vault.usgovcloudapi.net/secrets/s", True),
        ("https://kv1.vault.azure.cn/secrets/s", True),
        ("https://kv1.vault.azure.net/keys/s", False),
        ("http://v1.vault.azure.net/secrets/s", False),
        ("https://kv1.vault.azure.net.evil.com/secrets/s", False),
        ("https://kv1.vault.azure.net/secrets/s/short", False),
    ],
)
def test_key_vault_secret_uris(uri: str, ok: bool) -> None:
    assert is_key_vault_uri(uri) is ok


# --- plan: a function of two snapshots --------------------------------------------------------------


def listed(key: str, value: str = "v", label: str | None = None, **kw: Any) -> Entry:
    return Entry(
        key,
        label,
        value,
        kw.get("content_type"),
        kw.get("tags") or {},
        kw.get("etag", "e-" + key),
        kw.get("locked", False),
    )


def test_plan_diff() -> None:
    c = cfg(keyPrefix="p/", deleteMissing=True)
    desired = desired_entries({"SAME": "v", "CHANGED": "new", "NEW": "n"}, c)
    have = [
        listed("p/SAME"),
        listed("p/CHANGED", "old"),
        listed("p/GONE"),
        listed("q/OUTSIDE"),
        listed("p/OTHER", label="x"),
    ]
    plan = plan_push(desired, have, c.scope, delete_missing=True)
    assert [(s.change.key, s.change.action.value, s.change.status.value) for s in plan.steps] == [
        ("p/SAME", "none", "unchanged"),
        ("p/CHANGED", "update", "planned"),
        ("p/NEW", "create", "planned"),
        ("p/GONE", "delete", "planned"),
    ]
    assert [s.change.key for s in plan.writes] == ["p/CHANGED", "p/NEW"] and [s.change.key for s in plan.deletes] == [
        "p/GONE"
    ]


def test_plan_without_delete_missing_deletes_nothing() -> None:
    c = cfg()
    plan = plan_push(desired_entries({"A": "1"}, c), [listed("B")], c.scope)
    assert plan.deletes == [] and len(plan.steps) == 1


def test_plan_locked_entries_need_no_request() -> None:
    c = cfg()
    plan = plan_push(
        desired_entries({"A": "1"}, c),
        [listed("A", "0", locked=True), listed("B", locked=True)],
        c.scope,
        delete_missing=True,
    )
    assert [s.change.status.value for s in plan.steps] == ["locked", "locked"] and not plan.writes and not plan.deletes


def test_plan_key_vault_reference_compares_by_uri() -> None:
    c = cfg()
    uri = "https://kv1.vault.azure.net/secrets/s"
    (want,) = desired_entries({"A": uri}, c)
    reformatted = json.dumps({"uri": uri}, separators=(",", ":"))
    plan = plan_push(
        [want], [listed("A", reformatted, content_type=KEY_VAULT_REF_CONTENT_TYPE, tags=want.tags)], c.scope
    )
    assert plan.steps[0].change.status.value == "unchanged"


def test_plan_import_and_remove() -> None:
    c = cfg(keyPrefix="p/")
    have = [
        listed("p/A", "1"),
        listed("p/bad name", "2"),
        listed(
            "p/R", json.dumps({"uri": "https://kv2.vault.azure.net/secrets/x"}), content_type=KEY_VAULT_REF_CONTENT_TYPE
        ),
    ]
    imported = plan_import(have, c.scope)
    assert imported.imported == {"A": "1", "R": "https://kv2.vault.azure.net/secrets/x"} and imported.references == {
        "R"
    }
    removed = plan_remove(["A", "Z"], have, c.scope)
    assert [(s.change.key, s.change.action.value) for s in removed.steps] == [("p/A", "delete"), ("p/Z", "none")]


def test_entry_size_counts_key_label_value_content_type_and_tags() -> None:
    c = cfg(label="L")
    limit = 10 * 1024
    exact = limit - len("A") - len("L") - len("ct") - len("t") - len("u")
    desired_entries({"A": {"value": "x" * exact, "contentType": "ct", "tags": {"t": "u"}}}, c)
    with pytest.raises(InvalidInput, match="10241 bytes"):
        desired_entries({"A": {"value": "x" * (exact + 1), "contentType": "ct", "tags": {"t": "u"}}}, c)


# --- adaptive concurrency and retry-after -------------------------------------------------------------


def test_limit_halves_once_per_burst_pauses_for_retry_after_and_grows_back() -> None:
    limit = AdaptiveLimit(16)
    epochs = [limit.acquire(time.monotonic() + 1) for _ in range(4)]
    assert None not in epochs
    for e in epochs:  # four 429s from the same burst halve once
        limit.throttled(e or 0, 0.05)
    assert limit.limit == 8
    for _ in range(4):
        limit.release(success=False)
    started = time.monotonic()
    assert limit.acquire(started + 0.01) is None  # paused until the retry-after has passed: the deadline comes first
    assert limit.acquire(started + 5) is not None and time.monotonic() - started >= 0.05
    limit.release(success=False)
    for _ in range(8 + 9 + 10):  # grows by one after as many successes as the current limit
        assert limit.acquire(time.monotonic() + 1) is not None
        limit.release(success=True)
    assert limit.limit == 11 and limit.lowest == 8


def test_limit_halves_at_most_once_per_interval() -> None:
    now = [100.0]
    limit = AdaptiveLimit(32, clock=lambda: now[0], halve_interval=1.0)
    limit.throttled(limit.acquire(1e9) or 0, 0.0)
    assert limit.limit == 16
    limit.throttled(limit.acquire(1e9) or 0, 0.0)  # a new epoch, but within the interval
    assert limit.limit == 16
    now[0] += 1.0
    limit.throttled(limit.acquire(1e9) or 0, 0.0)
    assert limit.limit == 8 and limit.lowest == 8


# --- secrets files ----------------------------------------------------------------------------------


def test_dotenv_round_trip(tmp_path: Any) -> None:
    text = '# comment\nexport A=plain\nB="quoted \\"x\\"\\nline2"\nC=\'single # kept\'\nD=value # comment\n\nE=\n'
    assert parse_dotenv(text) == {"A": "plain", "B": 'quoted "x"\nline2', "C": "single # kept", "D": "value", "E": ""}
    secrets = {"A": "a\\b", "B": 'q"$x\n', "C": ""}
    for name in ("out.env", "out.json"):
        path = write_secrets(tmp_path / name, secrets)
        assert oct(path.stat().st_mode & 0o777) == "0o600" and read_secrets(path) == secrets


def test_bad_secrets_files_name_each_problem(tmp_path: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_dotenv('A=1\nnot a line\nA=2\nB="open\n', "x.env")
    assert [e.field for e in info.value.errors] == ["x.env:2", "x.env:3", "x.env:4"]
    (tmp_path / "s.json").write_text('{"A": 1, "B": "ok", "C": null}')
    with pytest.raises(InvalidInput, match=r"s.json\['A'\]: must be a string; s.json\['C'\]"):
        read_secrets(tmp_path / "s.json")
    with pytest.raises(InvalidInput, match=r"the name does not say the format"):
        read_secrets(tmp_path / "s.yaml")
