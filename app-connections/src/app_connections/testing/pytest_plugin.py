"""pytest plugin of the host kit (``pytest11`` entry point ``app_connections``). Opt-in: it only
adds an option, an ini key, a hook and fixtures; nothing happens unless a test requests a fixture."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# Kept light: this module loads in every pytest run where the kit is installed.
from . import RECORD_MODE_ENV, RECORD_MODES

if TYPE_CHECKING:
    from http.server import BaseHTTPRequestHandler

    import vcr

    from ..loader import Registry
    from ..policy import HostPolicy
    from .local_server import LocalHTTPSServer
    from .rules import RuleTable, SecretRules
    from .sanitize import Sanitizer
    from .secret_scan import Finding


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Adds ``pytest_app_connections_secret_rules(config)`` (see ``testing.hookspecs``)."""
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the cassette options (``--record-mode``) to pytest."""
    group = parser.getgroup("app-connections", "connection providers' cassettes")
    group.addoption(
        "--record-mode",
        choices=RECORD_MODES,
        default=None,
        help=f"vcrpy record mode for connections_vcr cassettes (default: none = replay only; env {RECORD_MODE_ENV})",
    )
    parser.addini(
        "connections_cassette_dir",
        "directory of the connections_vcr cassettes (default: tests/cassettes)",
        default="tests/cassettes",
    )


def hook_rules(results: Iterable[object], hook_name: str) -> list[SecretRules]:
    """The ``SecretRules`` in the results of a secret-rules hook (each a rules object, a list of them
    or ``None``); anything else is a ``TypeError`` naming the hook."""
    from .rules import SecretRules

    declared: list[SecretRules] = []
    for result in results:
        items = (
            [result] if isinstance(result, SecretRules) else result if isinstance(result, (list, tuple)) else [result]
        )
        for item in items:
            if not isinstance(item, SecretRules):
                raise TypeError(f"{hook_name} returned {type(item).__name__}, not SecretRules (or a list of them)")
            declared.append(item)
    return declared


@pytest.fixture(scope="session")
def connections_record_mode(pytestconfig: pytest.Config) -> str:
    """``none`` while replaying; a vcrpy record mode when recording against the real service."""
    from .recording import record_mode

    return record_mode(option=pytestconfig.getoption("--record-mode"))


@pytest.fixture
def connections_secret_rules(pytestconfig: pytest.Config) -> RuleTable:
    """The ``RuleTable`` the sanitizer and the scan share: the default rules, every field the
    installed providers declare secret (``testing.declared``), every ``SecretRules`` returned by a
    ``pytest_app_connections_secret_rules`` hook, and the values of this process's secret-named
    environment variables as literal secrets."""
    from .declared import installed_secret_rules
    from .rules import RuleTable

    hooked = pytestconfig.hook.pytest_app_connections_secret_rules(config=pytestconfig)
    declared = [installed_secret_rules(), *hook_rules(hooked, "pytest_app_connections_secret_rules")]
    return RuleTable.of(declared, env=os.environ)


@pytest.fixture
def connections_sanitizer(connections_record_mode: str, connections_secret_rules: RuleTable) -> Sanitizer:
    """The ``Sanitizer`` ``connections_vcr`` records through (``connections_secret_rules``; while
    recording, every secret environment variable's value as a literal too)."""
    from .sanitize import Sanitizer, sanitizer_from_env

    if connections_record_mode != "none":
        return sanitizer_from_env(os.environ, rules=connections_secret_rules)
    return Sanitizer(rules=connections_secret_rules)


@pytest.fixture
def connections_secret_scan(connections_secret_rules: RuleTable) -> Callable[..., list[Finding]]:
    """``scan(*paths)``: the secret scan with ``connections_secret_rules``; a list of findings (empty when clean)."""
    from .secret_scan import scan_paths

    def scan(*paths: str | os.PathLike[str]) -> list[Finding]:
        return scan_paths([Path(p) for p in paths], connections_secret_rules)

    return scan


@pytest.fixture
def connections_cassette_dir(pytestconfig: pytest.Config) -> Path:
    """Where ``connections_vcr`` reads and writes cassettes: the ``connections_cassette_dir`` ini key
    (default ``tests/cassettes``)."""
    return Path(pytestconfig.rootpath) / str(pytestconfig.getini("connections_cassette_dir"))


@pytest.fixture
def connections_network_blocked(connections_record_mode: str) -> Iterator[None]:
    """Refuse every non-loopback connection while replaying."""
    from .network import block_network

    if connections_record_mode != "none":  # pragma: no cover - recording reaches the real service, never run offline
        yield
        return
    with block_network():
        yield


@pytest.fixture
def connections_vcr(
    connections_cassette_dir: Path,
    connections_record_mode: str,
    connections_sanitizer: Sanitizer,
    connections_network_blocked: None,
) -> vcr.VCR:
    """A configured ``vcr.VCR``: ``with connections_vcr.use_cassette("name.yaml") as cassette: ...``."""
    from .vcr_config import make_vcr

    return make_vcr(connections_cassette_dir, record_mode=connections_record_mode, sanitizer=connections_sanitizer)


@pytest.fixture
def connections_https_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., LocalHTTPSServer]]:
    """Factory: ``start(Handler, allow_list_env=None)`` serves a ``BaseHTTPRequestHandler`` over TLS
    on 127.0.0.1 and a free port (trustme certificate) and returns a ``LocalHTTPSServer``
    (``url``, ``host_port``, ``ca_bundle``, ``env``) whose ``env`` is set for the test: the CA is
    trusted and, with the provider's ``allow_list_env``, ``127.0.0.1:<port>`` is appended to that
    allow-list. Servers stop after the test."""
    from .local_server import serve_https

    with contextlib.ExitStack() as stack:

        def start(handler: type[BaseHTTPRequestHandler], *, allow_list_env: str | None = None) -> LocalHTTPSServer:
            server = stack.enter_context(serve_https(handler, tmp_path / "local-https", allow_list_env=allow_list_env))
            for key, value in server.env.items():
                if key == allow_list_env and os.environ.get(key):
                    value = f"{os.environ[key]},{value}"
                monkeypatch.setenv(key, value)
            return server

        yield start


@pytest.fixture
def app_connections_registry() -> Callable[..., Registry]:
    """Factory for a fresh registry holding exactly the plugins you name.

    ``make(plugins=[("name", module)], *, with_base=None, base_types=(), use_entry_points=False, env=None,
    policy=None)``.
    An extension that adds auth methods to another provider's type gets that provider's installed
    plugin loaded first (``with_base=None`` detects it; ``True``/``False`` force it). ``env`` is the
    loader's environment (default: empty, so the test's own blocklist does not apply); ``policy`` the
    ``HostPolicy`` its types are bound to (default: the library policy, as a host's).
    """
    from .registry import load_registry

    def make(
        plugins: Iterable[tuple[str, object]] = (),
        *,
        with_base: bool | None = None,
        base_types: Iterable[str] = (),
        use_entry_points: bool = False,
        env: dict[str, str] | None = None,
        policy: HostPolicy | None = None,
    ) -> Registry:
        return load_registry(
            plugins,
            with_base=with_base,
            base_types=base_types,
            use_entry_points=use_entry_points,
            env=env,
            policy=policy,
        )

    return make


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
