"""pytest plugin (``pytest11`` entry point ``azure_appconfig``). Opt-in: it only adds an
option, an ini key and fixtures; nothing happens unless a test requests a fixture."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pytest

# Kept light: this module loads in every pytest run where the package is installed.
from . import RECORD_MODE_ENV, RECORD_MODES


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("azure-appconfig", "Azure App Configuration cassettes")
    group.addoption(
        "--azure-record-mode",
        choices=RECORD_MODES,
        default=None,
        help=f"vcrpy record mode for Azure cassettes (default: none = replay only; env {RECORD_MODE_ENV})",
    )
    parser.addini("azure_cassette_dir", "directory of Azure cassettes (default: tests/cassettes)", default="tests/cassettes")


@pytest.fixture(scope="session")
def azure_record_mode(pytestconfig: pytest.Config) -> str:
    """``none`` while replaying; a vcrpy record mode when recording against real Azure."""
    from .recording import record_mode

    return record_mode(option=pytestconfig.getoption("--azure-record-mode"))


@pytest.fixture(scope="session")
def azure_test_values(azure_record_mode: str) -> Any:
    """Inputs for tests (a ``TestValues``): real identities from the environment while recording, placeholders otherwise."""
    from .recording import TestValues

    return TestValues.from_env(os.environ) if azure_record_mode != "none" else TestValues.fake()


@pytest.fixture
def azure_sanitizer(azure_record_mode: str) -> Any:
    from .sanitize import Sanitizer, sanitizer_from_env

    return sanitizer_from_env(os.environ) if azure_record_mode != "none" else Sanitizer()


@pytest.fixture
def azure_cassette_dir(pytestconfig: pytest.Config) -> Path:
    return Path(pytestconfig.rootpath) / str(pytestconfig.getini("azure_cassette_dir"))


@pytest.fixture
def azure_clean_state() -> Iterator[None]:
    """Empty process-wide caches (MSAL apps, the default OAuth flow store) around a test."""
    from ..auth import msal_apps
    from ..auth.flow_store import reset_default_flow_store

    msal_apps.reset()
    reset_default_flow_store()
    yield
    msal_apps.reset()
    reset_default_flow_store()


@pytest.fixture
def azure_network_blocked(azure_record_mode: str) -> Iterator[None]:
    """Refuse every non-loopback connection while replaying."""
    from .network import block_network

    if azure_record_mode != "none":
        yield
        return
    with block_network():
        yield


@pytest.fixture
def azure_vcr(azure_cassette_dir: Path, azure_record_mode: str, azure_sanitizer: Any, azure_clean_state: None, azure_network_blocked: None) -> Any:
    """A configured ``vcr.VCR``: ``with azure_vcr.use_cassette("name.yaml") as cassette: ...``."""
    from .vcr_config import make_vcr

    return make_vcr(azure_cassette_dir, record_mode=azure_record_mode, sanitizer=azure_sanitizer)


@pytest.fixture
def app_connections_registry() -> Callable[..., Any]:
    """Factory for a fresh registry: ``make(plugins=[("name", module)], use_entry_points=False)``."""
    from ..loader import load_plugins

    def make(plugins: Iterable[tuple[str, object]] = (), *, use_entry_points: bool = False, env: dict[str, str] | None = None) -> Any:
        return load_plugins(plugins=plugins, use_entry_points=use_entry_points, env=env if env is not None else {})

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
    from ..settings import InstanceSettings
    from . import fakes

    return InstanceSettings.from_env(fakes.fake_instance_env())


@pytest.fixture
def fake_client_secret_credentials(azure_test_values: Any) -> Any:
    from ..schema import ClientSecretCredentials

    v = azure_test_values
    return ClientSecretCredentials(v.tenant_id, v.client_id, v.client_secret)


@pytest.fixture
def plugin_distributions(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Install throw-away plugin distributions for one test: ``install(name, entry_points=..., modules=...)``."""
    from .distributions import activate, deactivate, make_distribution

    root = tmp_path / "site"
    modules: list[str] = []

    def install(name: str, *, entry_points: dict[str, dict[str, str]], modules_src: dict[str, str] | None = None) -> Path:
        src = modules_src or {}
        modules.extend(Path(m).stem for m in src if m.endswith(".py"))
        make_distribution(root, name, entry_points=entry_points, modules=src)
        activate(root)
        return root

    yield install
    deactivate(root, modules)
