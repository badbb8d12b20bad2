"""The Azure part of the test kit (``pytest11`` entry point ``azure_appconfig``), on top of the host
kit's plugin (``app_connections.testing.pytest_plugin``): Azure cassettes, identities and instance
settings. Opt-in: it only adds an option, an ini key, a hook and fixtures."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# Kept light: this module loads in every pytest run where the package is installed.
from app_connections.testing import RECORD_MODES

from . import RECORD_MODE_ENV

if TYPE_CHECKING:
    from http.server import BaseHTTPRequestHandler

    import vcr

    from app_connections.policy import HostPolicy
    from app_connections.testing.local_server import LocalHTTPSServer
    from app_connections.testing.rules import RuleTable
    from app_connections.testing.sanitize import Sanitizer
    from app_connections.testing.secret_scan import Finding

    from ..methods.client_secret import ClientSecretCredentials
    from ..settings import InstanceSettings
    from .recording import TestValues


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Adds ``pytest_azure_appconfig_secret_rules(config)`` (see ``testing.hookspecs``); the kit's
    plugin adds ``pytest_app_connections_secret_rules``."""
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Adds ``--azure-record-mode`` and the ``azure_cassette_dir`` ini key."""
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
    from app_connections.testing.recording import record_mode

    return record_mode(option=pytestconfig.getoption("--azure-record-mode"), env_name=RECORD_MODE_ENV)


@pytest.fixture(scope="session")
def azure_test_values(azure_record_mode: str) -> TestValues:
    """Inputs for tests (a ``TestValues``): real identities from the environment while recording,
    placeholders otherwise."""
    from .recording import TestValues

    return TestValues.from_env(os.environ) if azure_record_mode != "none" else TestValues.fake()


@pytest.fixture(scope="session")
def azure_secret_rules(pytestconfig: pytest.Config) -> RuleTable:
    """The ``RuleTable`` the sanitizer and the scan share in this session: the default rules, every
    field the installed providers declare secret, every ``SecretRules`` returned by a
    ``pytest_azure_appconfig_secret_rules`` or ``pytest_app_connections_secret_rules`` hook, and the
    values of this process's secret-named environment variables as literal secrets."""
    from app_connections.testing.declared import installed_secret_rules
    from app_connections.testing.pytest_plugin import hook_rules
    from app_connections.testing.rules import RuleTable

    hook = pytestconfig.hook
    declared = [
        installed_secret_rules(),
        *hook_rules(
            hook.pytest_azure_appconfig_secret_rules(config=pytestconfig), "pytest_azure_appconfig_secret_rules"
        ),
        *hook_rules(
            hook.pytest_app_connections_secret_rules(config=pytestconfig), "pytest_app_connections_secret_rules"
        ),
    ]
    return RuleTable.of(declared, env=os.environ)


@pytest.fixture
def azure_sanitizer(azure_record_mode: str, azure_secret_rules: RuleTable) -> Sanitizer:
    """The ``Sanitizer`` ``azure_vcr`` records through: ``azure_secret_rules``, and while
    recording placeholders for the real identities and the recording's secrets as literals."""
    from app_connections.testing.sanitize import Sanitizer

    from .recording import sanitizer_from_env

    if azure_record_mode != "none":
        return sanitizer_from_env(os.environ, rules=azure_secret_rules)
    return Sanitizer(rules=azure_secret_rules)


@pytest.fixture
def azure_secret_scan(azure_secret_rules: RuleTable) -> Callable[..., list[Finding]]:
    """``scan(*paths)``: the secret scan with ``azure_secret_rules``; a list of findings (empty when clean)."""
    from app_connections.testing.secret_scan import scan_paths

    def scan(*paths: str | os.PathLike[str]) -> list[Finding]:
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
    from ..auth import msal_apps
    from ..stores.shared import reset_default_flow_store

    msal_apps.reset()
    reset_default_flow_store()
    yield
    msal_apps.reset()
    reset_default_flow_store()


@pytest.fixture
def azure_network_blocked(azure_record_mode: str) -> Iterator[None]:
    """Refuse every non-loopback connection while replaying."""
    from app_connections.testing.network import block_network

    if azure_record_mode != "none":  # pragma: no cover - recording reaches real Azure, never run offline
        yield
        return
    with block_network():
        yield


@pytest.fixture
def azure_vcr(
    azure_cassette_dir: Path,
    azure_record_mode: str,
    azure_sanitizer: Sanitizer,
    azure_clean_state: None,
    azure_network_blocked: None,
) -> vcr.VCR:
    """A configured ``vcr.VCR``: ``with azure_vcr.use_cassette("name.yaml") as cassette: ...``."""
    from app_connections.testing.vcr_config import make_vcr

    return make_vcr(azure_cassette_dir, record_mode=azure_record_mode, sanitizer=azure_sanitizer)


@contextlib.contextmanager
def _reading_process_env() -> Iterator[None]:
    """The host policy in effect, reading this process's environment (where the fixtures set it)."""
    from app_connections import policy as policies

    with policies.use(policies.current().with_env(os.environ)):
        yield


@pytest.fixture
def azure_operator_policy() -> Iterator[HostPolicy]:
    """``HostPolicy.operator()`` in effect for the test (on its thread): the host's own identity,
    every directory and the process environment, as the ``azure-appconfig`` CLI has them."""
    from app_connections import policy as policies

    with policies.use(policies.HostPolicy.operator()) as policy:
        yield policy


@pytest.fixture
def fake_instance_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Sets the instance settings (client ID, secret, SITE_URL) to placeholders in the process
    environment, and makes the host policy in effect read that environment."""
    from . import fakes

    env = fakes.fake_instance_env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with _reading_process_env():
        yield env


@pytest.fixture
def fake_instance_settings() -> InstanceSettings:
    """``InstanceSettings`` built from the placeholder instance environment (no environment change)."""
    from ..settings import InstanceSettings
    from . import fakes

    return InstanceSettings.from_env(fakes.fake_instance_env())


@pytest.fixture
def fake_client_secret_credentials(azure_test_values: TestValues) -> ClientSecretCredentials:
    """``ClientSecretCredentials`` from ``azure_test_values`` (placeholders while replaying)."""
    from ..methods.client_secret import ClientSecretCredentials

    v = azure_test_values
    return ClientSecretCredentials(v.tenant_id, v.client_id, v.client_secret)


@pytest.fixture
def azure_https_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., LocalHTTPSServer]]:
    """Factory: ``start(Handler)`` serves a ``BaseHTTPRequestHandler`` over TLS on 127.0.0.1 and
    a free port (trustme certificate) and returns a ``LocalHTTPSServer`` (``url``, ``host_port``,
    ``ca_bundle``, ``env``). With ``allow_list=True`` (default) it also sets ``server.env`` for the
    test: the endpoint allow-list gets ``127.0.0.1:<port>`` and requests trusts the test CA, so
    ``server.url`` is accepted as a store endpoint (the host policy in effect reads the process
    environment for the test). Servers stop after the test."""
    from app_connections.testing.local_server import serve_https

    from ..envvars import ENDPOINT_ALLOWLIST_ENV

    with contextlib.ExitStack() as stack:
        stack.enter_context(_reading_process_env())

        def start(handler: type[BaseHTTPRequestHandler], *, allow_list: bool = True) -> LocalHTTPSServer:
            server = stack.enter_context(
                serve_https(handler, tmp_path / "local-https", allow_list_env=ENDPOINT_ALLOWLIST_ENV)
            )
            if allow_list:
                for key, value in server.env.items():
                    if key == ENDPOINT_ALLOWLIST_ENV and os.environ.get(key):
                        value = f"{os.environ[key]},{value}"
                    monkeypatch.setenv(key, value)
            return server

        yield start
