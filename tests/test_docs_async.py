"""The "Async hosts" docs page (docs/async.md): its Starlette app runs here, in-process, against the
App Configuration stand-in (an access-key connection: no identity platform needed)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest

from docs_pages import page
from standins.appconfig import StandIn

pytest_plugins = ["standins.fixtures"]  # the stand-in fixtures (standin, fake_token, sync_options)

PAGE = page("async.md")
ALLOW = "INF_APP_CONNECTION_AZURE_APP_CONFIGURATION_ALLOWED_HOSTS"
SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQ="


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)\n```", PAGE, re.S)


async def call(app: Any, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    """One POST through the ASGI app (no HTTP client needed)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    inbox = [{"type": "http.request", "body": json.dumps(body).encode(), "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


@pytest.fixture
def app(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(ALLOW, standin.allow_list)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", standin.ca_path)
    (code,) = blocks("python")
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/async.md", "exec"), namespace)
    return namespace["app"]


def test_the_install_command_names_the_extra() -> None:
    assert blocks("sh") == ['.venv/bin/pip install -q -e ./app-connections -e ".[aio]"']


def test_the_starlette_app_validates_pushes_and_reports_a_timeout(app: Any, standin: StandIn) -> None:
    from azure_appconfig_plugin.connection import build_connection_type

    conn = f"Endpoint={standin.endpoint};Id=doc-key;Secret={SECRET}"
    connection = build_connection_type().parse("access-key", {"connectionString": conn}).to_dict()
    destination = {"endpoint": standin.endpoint, "keyPrefix": "app/"}

    async def run() -> list[tuple[int, Any]]:
        async with app.router.lifespan_context(app):
            checked = await call(app, "/validate", {"connection": connection, "endpoint": standin.endpoint})
            pushed = await call(
                app, "/push", {"connection": connection, "destination": destination, "secrets": {"A": "1"}}
            )
            standin.latency = 0.3  # listing answers after 0.3 s, the writes after 0.6 s: the timeout is between
            secrets = {f"S{i}": "v" for i in range(20)}
            body = {"connection": connection, "destination": destination, "secrets": secrets, "timeout": 0.45}
            late = await call(app, "/push", body)
            return [checked, pushed, late]

    (status, report), (pushed_status, pushed), (late_status, late) = asyncio.run(run())
    assert status == 200 and report["ok"], report
    assert [c["name"] for c in report["checks"]][-3:] == ["KeyValue.Read", "KeyValue.Write", "KeyValue.Delete"]
    assert pushed_status == 200 and pushed["counts"]["created"] == 1
    assert late_status == 504 and late["timeout"] is True
    if late["written"] is not None:  # None: the timeout came while listing (a loaded machine), nothing written
        changes = late["written"]["changes"]
        assert len(changes) == 20 and all(c["status"] in ("applied", "failed", "not-run") for c in changes)
        written = {c["key"] for c in changes if c["status"] == "applied"}
        assert written <= {key for key, _ in standin.store.snapshot()}
    assert SECRET not in json.dumps([report, pushed, late])


@pytest.mark.slow
def test_the_async_benchmark_command_runs() -> None:
    import shlex
    import subprocess
    import sys

    from docs_pages import ROOT, results, section

    (command,) = blocks_in(section(results(), "## Async push (`apush`)"), "sh")
    words = shlex.split(command)
    assert words[:2] == [".venv/bin/python", "benchmarks/async_sync.py"]
    result = subprocess.run(
        [sys.executable, *words[1:], "--secrets", "30", "--latency-ms", "0", "--skip-baseline", "--validations", "3"]
        + ["--validate-latency-ms", "0", "--slow-secrets", "4", "--heartbeat-runs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "| 3 avalidate at once |" in result.stdout
        and "| async push, 0 ms |" in result.stdout
        and "| 32 threads of raw requests PUTs, 0 ms |" in result.stdout
    )
    for what in ("one avalidate", "apush of 4", "OAuth acomplete"):
        assert f"event loop during {what}, far side answering in 0 s: latest beat" in result.stdout


def blocks_in(text: str, kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)\n```", text, re.S)
