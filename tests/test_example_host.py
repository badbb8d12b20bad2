"""The reference host (examples/host/) in a real browser: headless Chromium (the system's, driven
by Playwright) walks the whole flow against the stand-in identity platform and store: the
client-secret form with a bad then a good value, OAuth sign-in (declined, then accepted), the
validation report, a sync plan and the push; then what the store received is checked.

Screenshots of each page go to tests/artifacts/host/ (git-ignored)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.fernet import Fernet

from app_connections.testing import fakes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `examples` and `tests` as packages, as `python -m examples.host` sees them

from examples.host.demo import PLATFORM_SECRETS, serve  # noqa: E402 - after the checkout is importable

ARTIFACTS = ROOT / "tests" / "artifacts" / "host"
CHROMIUM = next((p for p in (os.environ.get("CHROMIUM"), "/usr/bin/chromium") if p and Path(p).exists()), None)
CHROMIUM = CHROMIUM or shutil.which("chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",  # loopback only, whatever the environment's proxy
]
SECRET = "canary-browser-client-secret-81c2"


@pytest.fixture
def host() -> Iterator[tuple[str, Any, Any]]:
    with serve() as running:
        yield running


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("no chromium binary (/usr/bin/chromium or $CHROMIUM): `apt-get install chromium` (CI does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            ignore_https_errors=True,  # the identity stand-in's certificate is from a test CA
        )
        context.set_default_timeout(10_000)
        yield context.new_page()
        context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.slow
def test_the_whole_flow_in_chromium(host: tuple[str, Any, Any], page: Any) -> None:
    url, standins, vault = host
    store = standins.store
    page.goto(url + "/")
    assert page.locator("h3", has_text="Azure App Configuration").count() == 1
    shot(page, "01-home")

    # client secret: a bad client ID is refused by the browser (the schema's pattern), then by the server
    page.click("text=Client secret")
    page.fill("#name", "ci-secret")
    page.fill("#endpoint", store.endpoint)
    page.fill('[name="f.tenantId"]', fakes.FAKE_TENANT_ID)
    page.fill('[name="f.clientId"]', "not-a-guid")
    page.fill('[name="f.clientSecret"]', SECRET)
    assert page.eval_on_selector('[name="f.clientId"]', "e => e.validity.patternMismatch")
    assert not page.eval_on_selector('[name="f.tenantId"]', "e => e.validity.patternMismatch")
    assert page.get_attribute('[name="f.clientSecret"]', "type") == "password"
    page.click("button[type=submit]")
    assert page.url.endswith("/connections/new/azure-app-configuration/client-secret")  # not sent
    assert store.requests() == [] and page.locator("#problems").count() == 0
    shot(page, "02-client-secret-refused-by-the-browser")
    page.eval_on_selector("#connection-form", "f => { f.noValidate = true; }")
    page.click("button[type=submit]")
    assert "must be a GUID" in page.inner_text('[data-field="clientId"]')
    assert page.input_value('[name="f.clientSecret"]') == "" and SECRET not in page.content()
    assert page.input_value('[name="f.tenantId"]') == fakes.FAKE_TENANT_ID  # non-secret values kept
    shot(page, "03-client-secret-refused-by-the-server")
    page.fill("#endpoint", "https://127.0.0.1:9/")  # well-formed, but not on the allow-list: not saved
    page.fill('[name="f.clientId"]', fakes.FAKE_CLIENT_ID)
    page.fill('[name="f.clientSecret"]', SECRET)
    page.click("button[type=submit]")
    assert page.inner_text("#verdict") == "Connection does not work yet" and vault.connections() == []
    failed = page.locator("#report tr", has=page.locator("td.failed"))
    assert failed.count() >= 1 and failed.first.locator("td").nth(3).inner_text().strip()  # a remedy
    shot(page, "03b-client-secret-not-saved")
    page.click("text=Change the connection and try again")
    page.fill("#name", "ci-secret")
    page.fill("#endpoint", store.endpoint)
    page.fill('[name="f.tenantId"]', fakes.FAKE_TENANT_ID)
    page.fill('[name="f.clientId"]', fakes.FAKE_CLIENT_ID)
    page.fill('[name="f.clientSecret"]', SECRET)
    page.click("button[type=submit]")
    assert page.inner_text("#verdict") == "Connection works"
    assert {"token", "KeyValue.Read", "KeyValue.Write"} <= set(page.locator("#report td:first-child").all_inner_texts())
    assert SECRET not in page.content()
    shot(page, "04-client-secret-validated")

    # OAuth: declined (the error and its remedy), then accepted
    page.goto(url + "/connections/new/azure-app-configuration/oauth")
    page.fill("#name", "signed-in")
    page.fill("#endpoint", store.endpoint)
    page.click("button[type=submit]")
    assert page.url.startswith(standins.identity.server.url)
    shot(page, "05-oauth-sign-in-page")
    page.click("#cancel")
    assert "accept the requested permissions" in page.inner_text("#error")
    assert "access_denied" in page.inner_text("main")
    shot(page, "06-oauth-declined")
    page.click("#retry")
    page.fill("#name", "signed-in")
    page.fill("#endpoint", store.endpoint)
    page.click("button[type=submit]")
    page.click("#accept")
    assert page.inner_text("h1") == "signed-in" and page.inner_text("#verdict") == "Connection works"
    assert "refreshToken" not in page.inner_text("#stored") and "rotated-refresh-token" not in page.content()
    shot(page, "07-oauth-validated")

    # the sync: a destination the server refuses, a plan (nothing written), then the push
    writes_before = len(store.requests("PUT"))
    page.fill('[name="f.label"]', "a*b")
    page.eval_on_selector("#sync-form", "f => { f.noValidate = true; }")
    page.click("#sync-form button[type=submit]")
    assert page.locator('[data-field="label"]').count() == 1 and page.input_value('[name="f.label"]') == "a*b"
    page.fill('[name="f.keyPrefix"]', "app/")
    page.fill('[name="f.label"]', "prod")
    page.click("#sync-form button[type=submit]")
    assert sorted(page.locator("#changes td:first-child").all_inner_texts()) == ["app/API_BASE_URL", "app/DB_PASSWORD"]
    assert set(page.locator("#changes td:nth-child(4)").all_inner_texts()) == {"planned"}
    assert len(store.requests("PUT")) == writes_before
    shot(page, "08-sync-plan")
    page.click("#push")
    assert set(page.locator("#changes td:nth-child(4)").all_inner_texts()) == {"applied"}
    shot(page, "09-sync-pushed")
    received = {key: entry["value"] for (key, label), entry in store.store.snapshot().items() if label == "prod"}
    assert received == {"app/" + name: value for name, value in PLATFORM_SECRETS.items()}
    assert PLATFORM_SECRETS["DB_PASSWORD"] not in page.content()

    # a forged or replayed callback is refused before anything is exchanged
    token_requests = len(standins.identity.token_requests)
    page.goto(url + "/organization/app-connections/azure/oauth/callback?code=forged&state=forged")
    assert "unknown or was already used" in page.inner_text("#error")
    assert len(standins.identity.token_requests) == token_requests

    # choice groups render as titled alternatives
    page.goto(url + "/connections/new/azure-app-configuration/certificate")
    assert page.locator("legend").all_inner_texts() == ["Private key and certificate (PEM)", "PKCS#12 file"]
    assert page.locator("fieldset textarea").count() == 3  # the PEM blocks and the base64 file: multi-line
    # the host's policy lends no host identity: those methods are neither listed nor served
    for acts_as_host in ("managed-identity", "workload-identity"):
        response = page.goto(url + f"/connections/new/azure-app-configuration/{acts_as_host}")
        assert response is not None and response.status == 404
    page.goto(url + "/")
    assert "Managed identity" not in page.content() and "Workload identity" not in page.content()
    shot(page, "10-no-host-identity")

    # stored connections reload (decrypted by the host), credentials never shown back
    page.goto(url + "/")
    assert page.locator("#connections td:first-child").all_inner_texts() == ["ci-secret", "signed-in"]
    assert vault.get(1)[1]["clientSecret"] == SECRET
    assert all(
        SECRET.encode() not in bytes(row["credentials"]) for row in vault.db.execute("SELECT * FROM connections")
    )


async def post_form(app: Any, path: str, form: dict[str, str]) -> tuple[int, str]:
    """One form POST through the ASGI app, in this event loop (no HTTP client, no server thread)."""
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
        "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    inbox = [{"type": "http.request", "body": urlencode(form).encode(), "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:]).decode()


def test_a_validation_is_awaited_on_the_loop_not_run_in_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The host awaits ``registry.avalidate``: the sync ``validate`` and Starlette's thread pool are
    never used, and the loop keeps beating while the identity platform answers slowly."""
    import asyncio

    import anyio.to_thread
    from examples.host import kit
    from examples.host.app import create_app
    from examples.host.standins import running
    from examples.host.vault import Vault
    from tests.faults.loop_probe import least_lag, watched

    def no_thread(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the host ran a call in Starlette's thread pool")

    monkeypatch.setattr(anyio.to_thread, "run_sync", no_thread)
    with running("http://127.0.0.1:1") as standins:
        registry = kit.load_plugins(policy=kit.POLICY)
        awaited: list[str] = []
        avalidate = kit.Registry.avalidate

        async def spy(self: kit.Registry, slug: str, *args: Any, **kwargs: Any) -> Any:
            awaited.append(slug)
            return await avalidate(self, slug, *args, **kwargs)

        monkeypatch.setattr(kit.Registry, "validate", no_thread)  # a slotted instance: patched on its class
        monkeypatch.setattr(kit.Registry, "avalidate", spy)
        vault = Vault(":memory:", Fernet.generate_key())
        app = create_app(kit.InstanceSettings.from_env(standins.env), vault, registry)
        standins.identity.token_delay = 0.25  # on the loop, this would stall every beat's neighbour
        attempts = iter(range(10))

        async def save_one() -> tuple[tuple[int, str], Any]:
            n = next(attempts)  # a new client secret each attempt: no token from a cache
            form = {"name": f"c{n}", "endpoint": standins.store.endpoint, "f.tenantId": fakes.FAKE_TENANT_ID}
            form |= {"f.clientId": fakes.FAKE_CLIENT_ID, "f.clientSecret": f"{SECRET}-{n}"}
            async with app.router.lifespan_context(app):  # the lifespan's warm-up, as uvicorn runs it
                return await watched(post_form(app, "/connections/new/azure-app-configuration/client-secret", form))

        (status, body), probe = least_lag(lambda: asyncio.run(save_one()))
    assert status == 200 and "Connection works" in body and SECRET not in body
    assert awaited and set(awaited) == {"azure-app-configuration"}
    assert standins.identity.token_requests  # the slow answer was waited for
    assert probe.ok and probe.beats > 10, probe


HOST_MODULES = ("app.py", "forms.py", "kit.py", "vault.py")
"""The host itself; demo.py, standins.py and __main__.py are the demo and test harness."""


def glue_lines(path: Path) -> int:
    """Lines holding code: not blank, not a comment, not a docstring (templates are not Python)."""
    import ast
    import io
    import tokenize

    source = path.read_text()
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and ast.get_docstring(
            node
        ):
            assert body is not None
            docstrings.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)
    code = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skip:
            code.update(range(token.start[0], token.end[0] + 1))
    return len(code - docstrings)


def test_the_host_glue_stays_under_200_lines() -> None:
    counts = {name: glue_lines(ROOT / "examples" / "host" / name) for name in HOST_MODULES}
    assert sum(counts.values()) < 200, counts
    assert glue_lines(Path(__file__)) > 100  # the counter counts code


def test_python_m_examples_host_starts_the_host_and_its_stand_ins() -> None:
    import subprocess
    import threading
    import urllib.request

    env = {**os.environ, "APP_CONNECTIONS_ALLOWED_PLUGINS": "azure-appconfig-plugin"}  # the loader's allow-list
    command = [sys.executable, "-m", "examples.host", "--port", "0"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)
    timer = threading.Timer(60, proc.kill)  # never hang the suite
    timer.start()
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split(": ", 1)[1].strip()
        assert proc.stdout.readline().startswith("store endpoint to give in the forms: https://127.0.0.1:")
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with no_proxy.open(url + "/", timeout=10) as answer:  # loopback
            page = answer.read().decode()
        assert "Client secret" in page and "OAuth" in page and "): allowed" in page
        assert "Trust mode: <code>allow-list</code>" in page and "azure-appconfig-plugin" in page
    finally:
        timer.cancel()
        proc.terminate()
        proc.wait(10)
