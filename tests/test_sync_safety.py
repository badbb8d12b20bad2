"""A sync that cannot wipe a label, writes only what real clients load, keeps other people's tags,
applies one scope rule everywhere and survives a hostile store (against the HTTPS stand-in)."""

from __future__ import annotations

import base64
import io
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from azure_appconfig_plugin.cli import main
from azure_appconfig_plugin.errors import InvalidInput
from azure_appconfig_plugin.http.pace import Pace
from azure_appconfig_plugin.sync.apply import Executor
from azure_appconfig_plugin.sync.destination import AppConfigurationDestination
from azure_appconfig_plugin.sync.engine import ListBounds, list_scope, open_client, resolve, run_options
from azure_appconfig_plugin.sync.entries import Entry, Secret
from azure_appconfig_plugin.sync.plan import Step
from azure_appconfig_plugin.sync.report import Action, Change, Status, TooManyDeletes
from azure_appconfig_plugin.sync.scope import KEY_VAULT_REF_CONTENT_TYPE, Scope
from standins.appconfig import StandIn

pytest_plugins = ["standins.fixtures"]  # the stand-in fixtures (standin, fake_token, sync_options, cli_env)

D = AppConfigurationDestination()
VAULT_URI = "https://contoso-vault.vault.azure.net/secrets/db-password"
NO_CHARSET = "application/vnd.microsoft.appconfig.keyvaultref+json"


def dest(s: StandIn, **fields: Any) -> dict[str, Any]:
    return {"endpoint": s.endpoint, **fields}


def outcome(report: Any) -> dict[str, tuple[str, str]]:
    return {c.key: (c.action.value, c.status.value) for c in report.changes}


def writes(s: StandIn) -> list[dict[str, Any]]:
    return [r for r in s.requests() if r["method"] in ("PUT", "DELETE")]


# --- the deletion guard ------------------------------------------------------------------------------


def test_an_empty_source_never_wipes_a_label(standin: StandIn, sync_options: dict[str, Any]) -> None:
    for i in range(7):
        standin.store.put(f"S{i}", "v", label="prod")
    d = dest(standin, label="prod", deleteMissing=True)
    with pytest.raises(TooManyDeletes) as info:
        D.push(None, d, {}, **sync_options)
    assert writes(standin) == [] and len(standin.store.snapshot()) == 7
    assert info.value.deletes == 7 and info.value.errors[0].field == "max_deletes"
    assert "the source has no secrets" in str(info.value) and "max_deletes=7" in str(info.value)
    assert info.value.report.counts["deleted"] == 7 and info.value.report.operation == "plan"  # what would go
    plan = D.plan(None, d, {}, **sync_options)
    assert all("push refuses this" in c.detail and "--max-deletes 7" in c.detail for c in plan.changes)
    done = D.push(None, d, {}, max_deletes=7, **sync_options)
    assert done.ok and done.counts["deleted"] == 7 and standin.store.snapshot() == {}


def test_deleting_more_than_half_the_scope_needs_max_deletes(standin: StandIn, sync_options: dict[str, Any]) -> None:
    for name in "ABCD":
        standin.store.put(f"app/{name}", "v")
    d = dest(standin, keyPrefix="app/", deleteMissing=True)
    with pytest.raises(TooManyDeletes, match=r"delete 3 of the 4 entries in the scope \(more than half\)"):
        D.push(None, d, {"A": "v"}, **sync_options)
    assert writes(standin) == []
    half = D.push(None, d, {"A": "v", "B": "v"}, **sync_options)  # half is not more than half
    assert half.ok and half.counts["deleted"] == 2
    with pytest.raises(TooManyDeletes, match="more than 0"):
        D.push(None, d, {"B": "v"}, max_deletes=0, **sync_options)


@pytest.mark.parametrize("bad", [-1, "3", True, 1.5])
def test_max_deletes_must_be_a_count(standin: StandIn, sync_options: dict[str, Any], bad: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        D.push(None, dest(standin), {}, max_deletes=bad, **sync_options)
    assert [e.field for e in info.value.errors] == ["max_deletes"] and standin.requests() == []


def access_key_file(s: StandIn, tmp_path: Path) -> str:
    creds = tmp_path / "akey.json"
    secret = base64.b64encode(b"cli-access-key-secret").decode()
    creds.write_text(json.dumps({"method": "access-key", "endpoint": s.endpoint, "id": "k", "secret": secret}))
    os.chmod(creds, 0o600)
    return str(creds)


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_refuses_a_mass_delete_with_exit_2_naming_the_flag(cli_env: StandIn, tmp_path: Path) -> None:
    for i in range(7):
        cli_env.store.put(f"S{i}", "v", label="prod")
    empty = tmp_path / "empty.env"
    empty.write_text("")
    args = ["--from", str(empty), "--endpoint", cli_env.endpoint, "--label", "prod", "--delete-missing"]
    args += ["--credentials", access_key_file(cli_env, tmp_path)]
    code, out, err = cli("sync", "push", *args)
    assert code == 2 and "--max-deletes=7" in err and "nothing was sent" in err
    assert "7 deleted" in out and "S3 [prod]  planned" in out and writes(cli_env) == []
    code, out, err = cli("sync", "push", *args, "--max-deletes", "7", "--json")
    assert code == 0 and json.loads(out)["counts"]["deleted"] == 7
    for bad in ("-1", "x"):
        code, _, _ = cli("sync", "push", *args, "--max-deletes", bad)
        assert code == 2  # argparse: "--max-deletes: must be a whole number, 0 or more"


# --- only entries real clients can load ------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        (Secret(VAULT_URI, KEY_VAULT_REF_CONTENT_TYPE), 'must be JSON {"uri"'),
        (
            Secret(json.dumps({"uri": "https://example.com/x"}), KEY_VAULT_REF_CONTENT_TYPE),
            "not a Key Vault secret URI",
        ),
        (Secret(json.dumps({"uri": VAULT_URI}), NO_CHARSET), "must be exactly"),
        (Secret("{}", "application/vnd.microsoft.appconfig.ff+json;charset=utf-8"), "feature-flag content type"),
        (Secret("{}", "Application/VND.microsoft.appconfig.ff+json"), "feature-flag content type"),
    ],
)
def test_the_host_api_refuses_entries_clients_cannot_load(
    standin: StandIn, sync_options: dict[str, Any], secret: Secret, problem: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        D.push(None, dest(standin), {"A": secret}, **sync_options)
    (error,) = info.value.errors
    assert error.field == "secrets['A'].contentType" and problem in error.message and standin.requests() == []


def test_a_valid_reference_with_the_exact_content_type_is_written(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    value = json.dumps({"uri": VAULT_URI + "/0123456789abcdef0123456789abcdef"})
    report = D.push(None, dest(standin), {"A": Secret(value, KEY_VAULT_REF_CONTENT_TYPE)}, **sync_options)
    assert report.ok and standin.store.entry("A")["content_type"] == KEY_VAULT_REF_CONTENT_TYPE


def test_a_reference_without_the_charset_is_reported_never_treated_as_one(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    standin.store.put("app/REF", json.dumps({"uri": VAULT_URI}), content_type=NO_CHARSET)
    d = dest(standin, keyPrefix="app/", deleteMissing=True)
    back = D.import_secrets(None, d, **sync_options)
    assert back.imported == {} and outcome(back) == {"app/REF": ("skip", "skipped")}
    assert "without the exact content type" in back.changes[0].detail and "not imported" in back.changes[0].detail
    pushed = D.push(None, d, {"REF": "plain", "OTHER": "x"}, **sync_options)
    assert outcome(pushed)["app/REF"] == ("skip", "skipped") and standin.store.entry("app/REF")["value"] != "plain"
    kept = D.push(None, d, {"OTHER": "x"}, **sync_options)
    assert outcome(kept)["app/REF"] == ("skip", "skipped") and standin.store.get("app/REF") is not None


# --- tags ---------------------------------------------------------------------------------------


def test_tags_the_sync_does_not_own_are_kept(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.store.put("app/A", "1", tags={"owner": "team-x", "env": "old"})
    d = dest(standin, keyPrefix="app/")
    same = D.push(None, d, {"A": "1"}, **sync_options)
    assert outcome(same) == {"app/A": ("none", "unchanged")} and writes(standin) == []
    changed = D.push(None, d, {"A": Secret("2", tags={"env": "new"})}, **sync_options)
    assert outcome(changed) == {"app/A": ("update", "applied")} and "value, tags changed" in changed.changes[0].detail
    assert standin.store.entry("app/A")["tags"] == {"owner": "team-x", "env": "new"}
    again = D.push(None, d, {"A": Secret("2", tags={"env": "new"})}, **sync_options)
    assert outcome(again) == {"app/A": ("none", "unchanged")}


# --- one scope rule ---------------------------------------------------------------------------------


def test_push_plan_and_import_agree_on_nested_and_colon_keys(standin: StandIn, sync_options: dict[str, Any]) -> None:
    for key in ("app/sub/nested", "app/has:colon", "app/OLD"):
        standin.store.put(key, "v", label="prod")
    d = dest(standin, keyPrefix="app/", label="prod", deleteMissing=True)
    back = D.import_secrets(None, d, **sync_options)
    pushed = D.push(None, d, {"NEW": "1"}, max_deletes=5, **sync_options)
    for report in (back, pushed):
        codes = {c.key: c.code for c in report.changes if c.status == Status.SKIPPED}
        assert codes == {"app/sub/nested": "not_a_secret_name", "app/has:colon": "not_a_secret_name"}
    assert outcome(pushed)["app/OLD"] == ("delete", "applied") and pushed.counts["deleted"] == 1
    assert standin.store.get("app/sub/nested", "prod") and standin.store.get("app/has:colon", "prod")


def test_a_locked_entry_blocks_every_delete(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.store.put("app/A", "old", locked=True)
    standin.store.put("app/OLD", "x")
    report = D.push(
        None, dest(standin, keyPrefix="app/", deleteMissing=True), {"A": "new", "B": "b"}, max_deletes=1, **sync_options
    )
    assert outcome(report) == {
        "app/A": ("update", "locked"),
        "app/B": ("create", "applied"),
        "app/OLD": ("delete", "not-run"),
    }
    assert "locked" in report.changes[2].detail and standin.requests("DELETE") == []
    assert report.counts["conflicts"] == 1 and report.counts["skipped"] == 1 and not report.ok


def test_import_with_a_key_template_round_trips_a_push(standin: StandIn, sync_options: dict[str, Any]) -> None:
    d = dest(standin, keyTemplate="svc/{secretKey}/secret", label="prod")
    secrets = {"DB": "1", "API_KEY": VAULT_URI}
    assert D.push(None, d, secrets, **sync_options).ok
    back = D.import_secrets(None, d, **sync_options)
    assert back.imported == secrets and back.references == frozenset({"API_KEY"})


def test_cli_import_takes_the_key_template(cli_env: StandIn, tmp_path: Path) -> None:
    cli_env.store.put("svc/DB/secret", "1")
    cli_env.store.put("svc/DB/config", "not a secret of this template")
    out_file = tmp_path / "out.json"
    code, _, _ = cli(
        "sync",
        "import",
        "--endpoint",
        cli_env.endpoint,
        "--key-template",
        "svc/{secretKey}/secret",
        "--to",
        str(out_file),
        "--credentials",
        access_key_file(cli_env, tmp_path),
    )
    assert code == 0 and json.loads(out_file.read_text()) == {"DB": "1"}


# --- hostile stores -------------------------------------------------------------------------------


HOSTILE = [".", "..", "\x1b[2JALL SECRETS SYNCED OK", "A\u202eB", "CR\rX", "BEL\x07", "lone\ud800"]


def test_keys_that_cannot_be_addressed_are_typed_skips_before_any_write(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    for key in HOSTILE:
        standin.store.put(key, "v", label="prod")
    standin.store.put("OLD", "v", label="prod")
    d = dest(standin, label="prod", deleteMissing=True)
    report = D.push(None, d, {"GOOD": "1"}, max_deletes=1, **sync_options)
    skipped = {c.key: c.code for c in report.changes if c.status == Status.SKIPPED}
    assert skipped == dict.fromkeys(HOSTILE, "unaddressable_key")
    assert outcome(report)["OLD"] == ("delete", "applied") and outcome(report)["GOOD"] == ("create", "applied")
    assert [r["path"] for r in writes(standin)] == ["/kv/GOOD", "/kv/OLD"]
    assert all(standin.store.get(k, "prod") for k in HOSTILE)
    back = D.import_secrets(None, d, **sync_options)
    assert back.imported == {"GOOD": "1"} and {c.code for c in back.changes if c.key in HOSTILE} == {
        "unaddressable_key"
    }


def test_terminal_output_is_stripped_of_control_and_bidi_characters(cli_env: StandIn, tmp_path: Path) -> None:
    for key in HOSTILE:
        cli_env.store.put(key, "v")
    cli_env.store.put("PLAIN", "v")  # one secret in scope: an import that finds none exits 1
    code, out, _ = cli(
        "sync",
        "import",
        "--endpoint",
        cli_env.endpoint,
        "--to",
        str(tmp_path / "o.json"),
        "--credentials",
        access_key_file(cli_env, tmp_path),
    )
    assert code == 0 and "ALL SECRETS SYNCED OK" in out
    assert not any(c in out for c in ("\x1b", "\u202e", "\r", "\x07", "\ud800"))


def test_the_listing_keeps_only_what_fits_the_scope(standin: StandIn, sync_options: dict[str, Any]) -> None:
    """A store that ignores the filters: what it sends outside the scope is dropped page by page."""
    standin.ignore_filters = True
    standin.page_size = 3
    for i in range(20):
        standin.store.put(f"other/{i:02}", "x" * 100, label="dev")
    standin.store.put("app/A", "1", label="prod")
    d = dest(standin, keyPrefix="app/", label="prod", deleteMissing=True)
    report = D.push(None, d, {"A": "1"}, **sync_options)
    assert report.ok and outcome(report) == {"app/A": ("none", "unchanged")} and writes(standin) == []
    opts = run_options(sync_options)
    target = resolve(None, d, opts)
    with open_client(target, opts, Pace(deadline=time.monotonic() + 60)) as client:
        listed = list_scope(client, target.config.scope, target.store.url)
    assert [(e.key, e.label) for e in listed] == [("app/A", "prod")]  # 20 others were sent, none kept


def test_the_bytes_one_listing_reads_are_bounded(standin: StandIn, sync_options: dict[str, Any]) -> None:
    standin.page_size = 1
    for i in range(5):
        standin.store.put(f"K{i}", "x" * 1000)
    report = D.import_secrets(None, dest(standin), list_max_bytes=2500, **sync_options)
    assert report.imported == {} and report.changes[0].code == "listing_too_large"
    assert "2500 bytes" in report.changes[0].detail and len(standin.requests("GET")) == 2  # ~1.3 KB a page


def test_list_scope_bounds_are_declared_and_injectable(standin: StandIn, sync_options: dict[str, Any]) -> None:
    assert ListBounds().pages == 2000 and ListBounds().bytes == 256 * 1024 * 1024
    with pytest.raises(InvalidInput) as info:
        D.import_secrets(None, dest(standin), list_max_pages=0, list_max_bytes="x", **sync_options)
    assert [str(e) for e in info.value.errors] == [
        "list_max_pages: must be a whole number, 1 or more",
        "list_max_bytes: must be a whole number, 1 or more",
    ]
    assert list_scope.__kwdefaults__ is not None and list_scope.__kwdefaults__["bounds"] is None


class Exploding:
    """A client whose every request raises something no one expected."""

    def send_request(self, request: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom\x1b[31m")


def test_a_step_that_raises_is_reported_and_the_run_goes_on() -> None:
    want = Entry("A", None, "1", name="A")
    have = Entry("B", None, "1", etag="e", name="B")
    create = Step(Change("A", None, Action.CREATE, Status.PLANNED), want)
    delete = Step(Change("B", None, Action.DELETE, Status.PLANNED), None, have)
    outcomes = Executor(Exploding(), Pace(1, deadline=time.monotonic() + 60)).run([create], [delete])
    first = outcomes[id(create)]
    assert first.status == Status.FAILED and first.code == "error" and "RuntimeError: boom" in first.detail
    assert "\x1b" not in first.detail and outcomes[id(delete)].status == Status.NOT_RUN


def test_the_scope_rule_is_one_function() -> None:
    scope = Scope("prod", "app/")
    assert scope.refusal("app/OK") is None and scope.owns("app/OK", "prod")
    assert scope.refusal("app/a:b") == (
        "not_a_secret_name",
        "key maps to 'a:b', which is not a secret name (1-256 letters, digits, '_', '.', '-'; not starting with "
        "'.' or '-'): outside the sync's scope, never changed",
    )
    bidi = scope.refusal("app/\u202e")
    assert bidi is not None and bidi[0] == "unaddressable_key"
    assert not scope.owns("app/OK", "dev") and not scope.fits(".appconfig.featureflag/x", "prod")
