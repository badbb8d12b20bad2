"""pytest plugin (``pytest11`` entry point ``azure_appconfig``). Opt-in: it only adds an
option, an ini key and fixtures; nothing happens unless a test requests a fixture."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Kept light: this module loads in every pytest run where the package is installed.
from . import RECORD_MODE_ENV, RECORD_MODES


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Adds ``pytest_azure_appconfig_secret_rules(config)`` (see ``testing.hookspecs``)."""
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("azure-appconfig", "Azure App Configuration cassettes")
    group.addoption(
        "--azure-record-mode",
        choices=RECORD_MODES,
        default=None,
        help=f"vcrpy record mode for Azure cassettes (default: none = replay only; env {RECORD_MODE_ENV})",
    )
    parser.addini(
        "azure_cassette_dir", "directory of Azure cassettes (default: tests/cassettes)", default="tests/cassettes"
    )


@pytest.fixture(scope="session")
def azure_record_mode(pytestconfig: pytest.Config) -> str:
    """``none`` while replaying; a vcrpy record mode when recording against real Azure."""
    from .recording import record_mode

    return record_mode(option=pytestconfig.getoption("--azure-record-mode"))


@pytest.fixture(scope="session")
def azure_test_values(azure_record_mode: str) -> Any:
    """Inputs for tests (a ``TestValues``): real identities from the environment while recording,
    placeholders otherwise."""
    from .recording import TestValues

    return TestValues.from_env(os.environ) if azure_record_mode != "none" else TestValues.fake()


@pytest.fixture(scope="session")
def azure_secret_rules(pytestconfig: pytest.Config) -> Any:
    """The ``RuleTable`` the sanitizer and the scan share in this session: the default rules,
    every ``SecretRules`` returned by a ``pytest_azure_appconfig_secret_rules`` hook, and the
    values of this process's secret-named environment variables as literal secrets."""
    from .rules import RuleTable, SecretRules

    declared: list[SecretRules] = []
    for result in pytestconfig.hook.pytest_azure_appconfig_secret_rules(config=pytestconfig):
        items = (
            [result] if isinstance(result, SecretRules) else result if isinstance(result, (list, tuple)) else [result]
        )
        for item in items:
            if not isinstance(item, SecretRules):
                raise TypeError(
                    f"pytest_azure_appconfig_secret_rules returned {type(item).__name__}, "
                    "not SecretRules (or a list of them)"
                )
            declared.append(item)
    return RuleTable.of(declared, env=os.environ)


@pytest.fixture
def azure_sanitizer(azure_record_mode: str, azure_secret_rules: Any) -> Any:
    """The ``Sanitizer`` ``azure_vcr`` records through: ``azure_secret_rules``, and while
    recording placeholders for the real identities and the recording's secrets as literals."""
    from .sanitize import Sanitizer, sanitizer_from_env

    if azure_record_mode != "none":
        return sanitizer_from_env(os.environ, rules=azure_secret_rules)
    return Sanitizer(rules=azure_secret_rules)


@pytest.fixture
def azure_secret_scan(azure_secret_rules: Any) -> Callable[..., list[Any]]:
    """``scan(*paths)``: the secret scan with ``azure_secret_rules``; a list of findings (empty when clean)."""
    from .secret_scan import scan_paths

    def scan(*paths: str | os.PathLike[str]) -> list[Any]:
        return scan_paths([Path(p) for p in paths], azure_secret_rules)

    return scan


@pytest.fixture
def azure_cassette_dir(pytestconfig: pytest.Config) -> Path:
    """Where ``azure_vcr`` reads and writes cassettes: the ``azure_cassette_dir`` ini key
    (default ``tests/cassettes``)."""
    return Path(pytestconfig.rootpath) / str(pytestconfig.getini("azure_cassette_dir"))


@pytest.fixture
def azure_clean_state() -> Iterator[None]:
    """Empty process-wide caches (MSAL apps, the default OAuth flow store) around a test."""
    from azure_appconfig_plugin.auth import msal_apps

    from ..flow_store import reset_default_flow_store

    msal_apps.reset()
    reset_default_flow_store()
    yield
    msal_apps.reset()
    reset_default_flow_store()


@pytest.fixture
def azure_network_blocked(azure_record_mode: str) -> Iterator[None]:
    """Refuse every non-loopback connection while replaying."""
    from .network import block_network

    if azure_record_mode != "none":  # pragma: no cover - recording reaches real Azure, never run offline
        yield
        return
    with block_network():
        yield


@pytest.fixture
def azure_vcr(
    azure_cassette_dir: Path,
    azure_record_mode: str,
    azure_sanitizer: Any,
    azure_clean_state: None,
    azure_network_blocked: None,
) -> Any:
    """A configured ``vcr.VCR``: ``with azure_vcr.use_cassette("name.yaml") as cassette: ...``."""
    from .vcr_config import make_vcr

    return make_vcr(azure_cassette_dir, record_mode=azure_record_mode, sanitizer=azure_sanitizer)


@pytest.fixture
def app_connections_registry() -> Callable[..., Any]:
    """Factory for a fresh registry holding exactly the plugins you name.

    ``make(plugins=[("name", module)], *, with_base=None, use_entry_points=False, env=None)``.
    An extension that adds auth methods to ``azure-app-configuration`` gets our own plugin
    loaded first (``with_base=None`` detects it; ``True``/``False`` force it). ``env`` is the
    loader's environment (default: empty, so the test's own blocklist does not apply).
    """
    from .registry import load_registry

    def make(
        plugins: Iterable[tuple[str, object]] = (),
        *,
        with_base: bool | None = None,
        use_entry_points: bool = False,
        env: dict[str, str] | None = None,
    ) -> Any:
        return load_registry(plugins, with_base=with_base, use_entry_points=use_entry_points, env=env)

    return make


@pytest.fixture
def fake_instance_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Sets the instance settings (client ID, secret, SITE_URL) to placeholders."""
    from . import fakes

    env = fakes.fake_instance_env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def fake_instance_settings() -> Any:
    """``InstanceSettings`` built from the placeholder instance environment (no environment change)."""
    from azure_appconfig_plugin.settings import InstanceSettings

    from . import fakes

    return InstanceSettings.from_env(fakes.fake_instance_env())


@pytest.fixture
def fake_client_secret_credentials(azure_test_values: Any) -> Any:
    """``ClientSecretCredentials`` from ``azure_test_values`` (placeholders while replaying)."""
    from azure_appconfig_plugin.schema import ClientSecretCredentials

    v = azure_test_values
    return ClientSecretCredentials(v.tenant_id, v.client_id, v.client_secret)


@pytest.fixture
def azure_https_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """Factory: ``start(Handler)`` serves a ``BaseHTTPRequestHandler`` over TLS on 127.0.0.1 and
    a free port (trustme certificate) and returns a ``LocalHTTPSServer`` (``url``, ``host_port``,
    ``ca_bundle``, ``env``). With ``allow_list=True`` (default) it also sets ``server.env`` for the
    test: the endpoint allow-list gets ``127.0.0.1:<port>`` and requests trusts the test CA, so
    ``server.url`` is accepted as a store endpoint. Servers stop after the test."""
    from azure_appconfig_plugin.envvars import ENDPOINT_ALLOWLIST_ENV

    from .local_server import serve_https

    with contextlib.ExitStack() as stack:

        def start(handler: Any, *, allow_list: bool = True) -> Any:
            server = stack.enter_context(serve_https(handler, tmp_path / "local-https"))
            if allow_list:
                for key, value in server.env.items():
                    if key == ENDPOINT_ALLOWLIST_ENV and os.environ.get(key):
                        value = f"{os.environ[key]},{value}"
                    monkeypatch.setenv(key, value)
            return server

        yield start


@pytest.fixture
def plugin_distributions(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Install throw-away plugin distributions, with real entry points, for one test.

    ``install(name, *, entry_points={"app_connections": {"ep": "module"}}, modules={"module.py": source})``
    writes the modules and a ``.dist-info`` under a temporary directory, puts it on ``sys.path``
    and returns that directory (put it on ``PYTHONPATH`` for a subprocess). ``modules_src=`` is
    the former name of ``modules=`` and still works. Everything is removed after the test.
    """
    from .distributions import activate, deactivate, make_distribution

    root = tmp_path / "site"
    installed: list[str] = []

    def install(
        name: str,
        *,
        entry_points: dict[str, dict[str, str]],
        modules: dict[str, str] | None = None,
        modules_src: dict[str, str] | None = None,
    ) -> Path:
        if modules is not None and modules_src is not None:
            raise TypeError("give modules= (or its former name modules_src=), not both")
        src = modules if modules is not None else (modules_src or {})
        installed.extend(Path(m).with_suffix("").as_posix().replace("/", ".") for m in src if m.endswith(".py"))
        make_distribution(root, name, entry_points=entry_points, modules=src)
        activate(root)
        return root

    yield install
    deactivate(root, installed)
