"""`azure-appconfig sync`: the flags and messages the main sync CLI tests leave out, against the stand-in store
(an access-key credentials file, so no token cassette is needed)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from cli_helpers import run
from standins.appconfig import StandIn

pytest_plugins = ["standins.fixtures"]

ALLOW = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS"


@pytest.fixture
def store(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> StandIn:
    monkeypatch.setenv(ALLOW, standin.allow_list)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", standin.ca_path)
    return standin


def access_key_file(path: Path, endpoint: str, *, mode: int = 0o600) -> str:
    path.write_text(
        json.dumps(
            {
                "method": "access-key",
                "endpoint": endpoint,
                "id": "edge-key-id",
                "secret": base64.b64encode(b"edge-access-key-secret").decode(),
                "cloud": "public",
            }
        )
    )
    os.chmod(path, mode)
    return str(path)


def secrets_file(tmp_path: Path, data: dict[str, str]) -> str:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_a_credentials_file_others_can_read_is_warned_about_and_still_used(
    store: StandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = access_key_file(tmp_path / "akey.json", store.endpoint, mode=0o644)
    secrets = secrets_file(tmp_path, {"A": "1"})
    code, _ = run("sync", "push", "--from", secrets, "--endpoint", store.endpoint, "--credentials", creds)
    assert code == 0 and store.store.entry("A")["value"] == "1"
    assert f"warning: {creds} is readable by other users; run chmod 600 on it" in capsys.readouterr().err


def test_key_template_names_each_entry(store: StandIn, tmp_path: Path) -> None:
    creds = access_key_file(tmp_path / "akey.json", store.endpoint)
    secrets = secrets_file(tmp_path, {"DB": "d", "API": "a"})
    code, text = run(
        "sync",
        "push",
        "--from",
        secrets,
        "--endpoint",
        store.endpoint,
        "--key-template",
        "svc/{secretKey}/value",
        "--credentials",
        creds,
        "--json",
    )
    assert code == 0
    assert sorted(c["key"] for c in json.loads(text)["changes"]) == ["svc/API/value", "svc/DB/value"]
    assert store.store.entry("svc/DB/value")["value"] == "d" and store.store.get("DB") is None


def test_text_report_leaves_out_unchanged_entries(store: StandIn, tmp_path: Path) -> None:
    store.store.put("SAME", "same")
    creds = access_key_file(tmp_path / "akey.json", store.endpoint)
    secrets = secrets_file(tmp_path, {"SAME": "same", "NEW": "n"})
    code, text = run("sync", "plan", "--from", secrets, "--endpoint", store.endpoint, "--credentials", creds)
    assert code == 0 and "1 created" in text and "1 unchanged" in text
    assert "NEW [(no label)]" in text and "SAME" not in text


def test_concurrency_caps_the_parallel_requests(store: StandIn, tmp_path: Path) -> None:
    creds = access_key_file(tmp_path / "akey.json", store.endpoint)
    secrets = secrets_file(tmp_path, {f"K{i}": str(i) for i in range(6)})
    args = ["sync", "push", "--from", secrets, "--endpoint", store.endpoint, "--credentials", creds]
    code, _ = run(*args, "--concurrency", "1")
    assert code == 0 and store.max_in_flight == 1
    assert sorted(k for k, _ in store.store.snapshot()) == [f"K{i}" for i in range(6)]


@pytest.mark.parametrize("value", ["abc", "1.5", "0", "129"])
def test_concurrency_that_is_not_an_integer_in_range_is_a_usage_error(
    store: StandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    secrets = secrets_file(tmp_path, {"A": "1"})
    code, _ = run("sync", "plan", "--from", secrets, "--endpoint", store.endpoint, "--concurrency", value)
    assert code == 2
    assert "--concurrency: must be an integer from 1 to 128" in capsys.readouterr().err
    assert store.requests() == []
