"""The generic ``app-connections`` command: types, schema, validate --input (plugins pin: see
test_example_provider)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from app_connections.cli import MAX_INPUT_BYTES, main
from app_connections.hostspec import CONTRACT_VERSION

HERE = Path(__file__).parent / "example_provider"


@pytest.fixture(autouse=True)
def acme(plugin_distributions: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APP_CONNECTIONS_ALLOWED_PLUGINS", "APP_CONNECTIONS_BLOCKED_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    plugin_distributions(
        "acme-broker-provider",
        entry_points={"app_connections": {"acme-broker": "acme_broker"}},
        modules={"acme_broker.py": (HERE / "acme_broker.py").read_text()},
    )


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_types_lists_every_installed_provider() -> None:
    code, out, _ = run("types")
    assert code == 0 and "acme-broker: Acme broker\n  methods: pin (PIN)\n  provided by: acme-broker-provider" in out
    assert "plugin trust: open mode" in out
    code, out, _ = run("types", "--json")
    data = json.loads(out)
    assert code == 0 and any(t["slug"] == "acme-broker" for t in data["types"]) and data["trust"]["mode"] == "open"


def test_types_names_a_blocked_plugin_and_a_broken_one(
    monkeypatch: pytest.MonkeyPatch, plugin_distributions: Callable[..., Path]
) -> None:
    plugin_distributions(
        "broken-dist",
        entry_points={"app_connections": {"broken": "broken_mod"}},
        modules={"broken_mod.py": "raise RuntimeError('boom')\n"},
    )
    monkeypatch.setenv("APP_CONNECTIONS_BLOCKED_PLUGINS", "acme-broker")
    code, out, _ = run("types")
    assert code == 0 and "blocked: acme-broker" in out and "FAILED plugin broken (load)" in out
    monkeypatch.setenv("APP_CONNECTIONS_BLOCKED_PLUGINS", "acme-broker,broken,azure-app-configuration")
    assert "No connection types found" in run("types")[1]


def test_schema_of_a_type_and_of_one_method() -> None:
    code, out, _ = run("schema", "--type", "acme-broker", "--method", "pin")
    assert code == 0 and json.loads(out)["properties"]["pin"]["x-header"] == "X-Acme-Pin"
    code, out, _ = run("schema", "--type", "acme-broker")
    assert code == 0 and list(json.loads(out)) == ["pin"]
    code, _, err = run("schema", "--type", "nope")
    assert code == 2 and "unknown connection type 'nope'" in err


def test_validate_reads_the_form_input_from_a_file_or_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"brokerUrl": "http://plain", "user": "ann", "pin": "pin-canary-5678"}))
    code, out, _ = run("validate", "--type", "acme-broker", "--method", "pin", "--input", str(bad))
    assert code == 1 and "[   failed   ] input" in out and "pin-canary-5678" not in out and out.endswith("FAILED\n")
    down = {"brokerUrl": "https://127.0.0.1:1", "user": "ann", "pin": "pin-canary-5678"}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(down)))
    code, out, _ = run("validate", "--type", "acme-broker", "--method", "pin", "--input", "-", "--json")
    report = json.loads(out)
    assert code == 1 and [c["status"] for c in report["checks"]] == ["ok", "failed"]
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(down)))
    code, out, _ = run("validate", "--type", "acme-broker", "--method", "pin", "--input", "-")
    assert code == 1 and "fix: Check the broker URL and the PIN." in out


def test_validate_refuses_unreadable_or_oversized_input(tmp_path: Path) -> None:
    cases = {
        "missing": (tmp_path / "missing.json", "cannot read"),
        "not json": (tmp_path / "x.json", "is not JSON"),
        "a list": (tmp_path / "list.json", "must hold a JSON object"),
        "huge": (tmp_path / "huge.json", "larger than"),
    }
    cases["not json"][0].write_text("{pin: secret-canary")
    cases["a list"][0].write_text("[]")
    cases["huge"][0].write_text(" " * (MAX_INPUT_BYTES + 1))
    for path, message in cases.values():
        code, out, err = run("validate", "--type", "acme-broker", "--method", "pin", "--input", str(path))
        assert code == 2 and message in err and "secret-canary" not in err and out == ""


def test_usage_errors_and_a_closed_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("schema")[0] == 2  # --type is required (argparse)

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    monkeypatch.setattr("sys.stdout", sys.stdout)
    assert main(["schema", "--type", "acme-broker"], out=ClosedPipe(), err=io.StringIO()) == 0


def test_a_usage_error_repeats_no_value_and_no_flag_is_abbreviated(capsys: pytest.CaptureFixture[str]) -> None:
    canary = "canary-pasted-Secret-9Qz"
    assert run("validate", "--type", "t", "--method", "m", "--input", "f", f"--client-secret={canary}", canary)[0] == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: --client-secret=*** ***" in err and canary not in err
    assert run("schema", "--typ", "acme-broker")[0] == 2  # a prefix is not --type
    assert "the following arguments are required: --type" in capsys.readouterr().err


def test_the_console_script_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app_connections.cli", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.startswith("app-connections ")
    assert f"(contract {CONTRACT_VERSION})" in result.stdout


def test_types_fails_when_a_pinned_plugin_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from app_connections import trust

    code, line, _ = run("plugins", "pin")
    assert code == 0
    allowed = line.strip().split("=", 1)[1]
    monkeypatch.setenv(trust.ALLOWLIST_ENV, allowed)
    assert run("types")[0] == 0  # what is installed is what was pinned
    [entry] = [e for e in allowed.split(",") if e.startswith("acme-broker-provider==")]
    monkeypatch.setenv(trust.ALLOWLIST_ENV, allowed.replace(entry, "acme-broker-provider==9.9"))
    code, out, err = run("types")
    assert code == 1 and "plugin acme-broker: REFUSED: acme-broker-provider" in out and "9.9 is pinned" in out
    assert "error: plugin trust refused 1 plugin (acme-broker)" in err
    code, out, _ = run("types", "--json")
    assert code == 1 and json.loads(out)["trust"]["plugins"]
