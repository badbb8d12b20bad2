"""One broken installed distribution's entry points (trust.entry_points.group_entry_points,
trust.entry_points.entry_point_module).

- An entry point whose value is not ``module[:attr]`` syntax makes ``EntryPoint.module`` raise
  (``AttributeError``; ``AssertionError`` from Python 3.13): it is refused against itself, never
  imported, while the other entry points of its distribution and every other plugin load.
- An ``entry_points.txt`` that is not UTF-8, cannot be read or is not entry-point syntax makes
  ``importlib.metadata.entry_points()`` itself raise for the whole environment: that distribution
  is refused against its dist-info directory, and the rest load. ``importlib``'s rule for
  duplicates is kept: only the first distribution of a name on ``sys.path`` counts.

``types``, ``doctor`` and ``plugins pin`` report both, never crash."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

from app_connections import trust
from app_connections.loader import BLOCKLIST_ENV, Registry, load_plugins
from app_connections.testing import wheels
from app_connections.testing.distributions import activate, deactivate
from app_connections.trust import ALLOWLIST_ENV
from azure_appconfig_plugin.cli import main
from trust_sites import Site, plugin_source

SLUG = "azure-app-configuration"
BAD_TARGET = "not a valid!! target"
MALFORMED = (
    f"refused: entry point acme-bad = {BAD_TARGET}: its target is not a valid module or module:attr "
    "reference, so it cannot be imported"
)


def _trust_failures(registry: Registry) -> dict[str, tuple[str, str | None]]:
    return {f.plugin: (f.error, f.distribution) for f in registry.failures if f.stage == "trust"}


def _install_with_targets(site: Site, name: str, targets: dict[str, str], *, slug: str | None = None) -> Path:
    """``name`` as a wheel whose ``app_connections`` entry points are ``targets`` (entry point ->
    value, as written), its package ``<name>_mod`` registering ``slug``; RECORD covers it all."""
    module = name.replace("-", "_") + "_mod"
    info = wheels.install(
        site.root,
        name,
        files={f"{module}/__init__.py": plugin_source(slug or name + "-type", site.marker)},
        entry_points={"app_connections": targets},
    )
    site.modules.append(module)
    activate(site.root)
    return info


def _break_entry_points(site: Site, name: str = "acme-policy", tail: bytes = b"# caf\xe9 in Latin-1\n") -> Path:
    info = site.root / f"{name.replace('-', '_')}-1.0.dist-info"
    eps = info / "entry_points.txt"
    eps.write_bytes(eps.read_bytes() + tail)
    return info


def _unreadable(site: Site, problem: str = "it is not UTF-8 text", dist_info: str = "acme_policy-1.0.dist-info") -> str:
    return (
        f"refused: distribution {dist_info} in {site.root}: its entry_points.txt cannot be read ({problem}), "
        "so its app_connections entry points are unknown"
    )


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from azure_appconfig_plugin.testing import fakes as azure_fakes

    for key, value in azure_fakes.fake_instance_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(ALLOWLIST_ENV, raising=False)
    monkeypatch.delenv(BLOCKLIST_ENV, raising=False)


# --- an entry point whose target is not module:attr ------------------------------------------------


def test_a_malformed_target_is_refused_against_itself_and_the_rest_load(site: Site) -> None:
    _install_with_targets(site, "acme-policy", {"acme-bad": BAD_TARGET, "acme-policy": "acme_policy_mod"})
    site.install("zeta-tools", slug="zeta-type")
    registry = load_plugins(env={})
    assert _trust_failures(registry) == {"acme-bad": (MALFORMED, "acme-policy")}
    # its distribution's other entry point is not refused with it (a malformed target is not cached)
    assert {SLUG, "acme-policy-type", "zeta-type"} <= set(registry.types)
    seen = {p.plugin: p for p in registry.trust.provenance}
    bad = seen["acme-bad"]
    assert (bad.status, bad.distribution, bad.version) == ("refused", "acme-policy", "1.0")
    assert bad.location == str(site.root / "acme_policy-1.0.dist-info")  # no module: where it is installed
    assert seen["acme-policy"].status == "allowed"


def test_a_malformed_target_in_a_digest_pinned_distribution(site: Site) -> None:
    _install_with_targets(site, "acme-policy", {"acme-bad": BAD_TARGET, "acme-policy": "acme_policy_mod"})
    site.install("zeta-tools", slug="zeta-type")
    allowed = f"azure-appconfig-plugin,{site.pin('acme-policy')},{site.pin('zeta-tools')}"
    registry = load_plugins(env={ALLOWLIST_ENV: allowed})
    assert _trust_failures(registry) == {"acme-bad": (MALFORMED, "acme-policy")}
    assert {SLUG, "acme-policy-type", "zeta-type"} <= set(registry.types)
    assert registry.trust.notices == []
    assert site.imported() == ["acme_policy_mod", "zeta_tools_mod"]


def test_a_malformed_target_is_shown_bounded_and_without_control_characters(site: Site) -> None:
    hostile = "evil\x1b[2J\u202e!! " + "y" * 500
    _install_with_targets(site, "acme-policy", {"acme-bad": hostile})
    registry = load_plugins(env={})
    [error] = [f.error for f in registry.failures if f.plugin == "acme-bad"]
    assert error.startswith("refused: entry point acme-bad = evil?[2J?!! yyy")
    assert "\x1b" not in error and "\u202e" not in error and len(error) < 400 and "…" in error
    assert site.imported() == [] and SLUG in registry.types


def test_a_blocked_malformed_target_is_reported_blocked(site: Site) -> None:
    _install_with_targets(site, "acme-policy", {"acme-bad": BAD_TARGET})
    registry = load_plugins(env={BLOCKLIST_ENV: "acme-bad"})
    assert registry.blocked == ["acme-bad"] and SLUG in registry.types
    [bad] = [p for p in registry.trust.provenance if p.plugin == "acme-bad"]
    assert (bad.status, bad.location) == ("blocked", str(site.root / "acme_policy-1.0.dist-info"))


def test_types_doctor_and_pin_with_a_malformed_target(site: Site, cli_env: None) -> None:
    _install_with_targets(site, "acme-policy", {"acme-bad": BAD_TARGET})
    code, text = _run("types", "--json")
    data = json.loads(text)
    assert code == 1 and SLUG in {t["slug"] for t in data["types"]}  # the rest loads; the refusal fails the run
    [bad] = [p for p in data["trust"]["plugins"] if p["plugin"] == "acme-bad"]
    assert (bad["status"], bad["distribution"], bad["reason"]) == ("refused", "acme-policy", MALFORMED[9:])
    code, text = _run("types")
    assert code == 1 and f"plugin acme-bad: REFUSED: {MALFORMED.removeprefix('refused: ')}\n" in text
    code, text = _run("doctor", "--json")
    [check] = [c for c in json.loads(text)["checks"] if c["name"] == "plugins"]
    assert code == 1 and check["status"] == "invalid" and f"not loaded: acme-bad ({MALFORMED})" in check["detail"]
    # the distribution itself is intact: it can be pinned (its malformed entry point stays refused)
    code, line = _run("plugins", "pin")
    assert code == 0 and f"{site.pin('acme-policy')}" in line
    assert site.imported() == []


# --- an entry_points.txt that cannot be read ----------------------------------------------------------


def test_open_mode_refuses_the_unreadable_distribution_and_loads_the_rest(site: Site) -> None:
    site.install("acme-policy")
    site.install("zeta-tools", slug="zeta-type")
    _break_entry_points(site)
    registry = load_plugins(env={})
    assert _trust_failures(registry) == {"acme_policy-1.0.dist-info": (_unreadable(site), "acme-policy")}
    assert SLUG in registry.types and "zeta-type" in registry.types
    assert site.imported() == ["zeta_tools_mod"]
    seen = {p.plugin: p for p in registry.trust.provenance}
    acme = seen["acme_policy-1.0.dist-info"]
    assert (acme.status, acme.distribution, acme.version) == ("refused", "acme-policy", "1.0")
    assert acme.location == str(site.root / "acme_policy-1.0.dist-info") and acme.digest is not None
    assert seen["zeta-tools"].status == "allowed"


@pytest.mark.parametrize(
    ("tail", "problem"),
    [
        (b"[app_connections]\nno equals sign here\n", "it is not entry-point syntax: TypeError"),
        (b"[app_connections]\nx = \xff\xfe\n", "it is not UTF-8 text"),
    ],
)
def test_entry_points_that_are_not_entry_point_syntax_are_refused(site: Site, tail: bytes, problem: str) -> None:
    site.install("acme-policy")
    _break_entry_points(site, tail=tail)
    registry = load_plugins(env={})
    assert _trust_failures(registry) == {"acme_policy-1.0.dist-info": (_unreadable(site, problem), "acme-policy")}
    assert SLUG in registry.types and site.imported() == []


@pytest.mark.parametrize("vanished", [False, True], ids=["file-present", "file-gone-too"])
def test_a_read_error_is_refused_the_same_way(site: Site, monkeypatch: pytest.MonkeyPatch, vanished: bool) -> None:
    """When not even the raw bytes can be read, nothing rules out an app_connections section."""
    site.install("acme-policy")
    site.install("zeta-tools", slug="zeta-type")
    broken = site.root / "acme_policy-1.0.dist-info"
    if vanished:
        (broken / "entry_points.txt").unlink()
    read_text = metadata.PathDistribution.read_text

    def failing(self: metadata.PathDistribution, filename: str) -> str | None:
        if Path(str(self._path)) == broken and filename == "entry_points.txt":
            raise OSError(5, "Input/output error")
        return read_text(self, filename)

    monkeypatch.setattr(metadata.PathDistribution, "read_text", failing)
    registry = load_plugins(env={})
    assert _trust_failures(registry) == {"acme_policy-1.0.dist-info": (_unreadable(site, "OSError"), "acme-policy")}
    assert "zeta-type" in registry.types and site.imported() == ["zeta_tools_mod"]


class _Opaque(metadata.Distribution):
    """A distribution from a custom finder (no directory on disk) none of whose files can be read."""

    def read_text(self, filename: str) -> str | None:
        raise OSError(5, "Input/output error")

    def locate_file(self, path: str | os.PathLike[str]) -> Path:
        return Path("/nonexistent") / path


class _OpaqueFinder:
    @staticmethod
    def find_spec(*args: object) -> None:
        return None

    @staticmethod
    def find_distributions(context: object = None) -> Iterator[metadata.Distribution]:
        yield _Opaque()


def test_a_distribution_from_a_custom_finder_that_cannot_be_read(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not even its name can be read (importlib's duplicate key raises too): it shadows nothing and
    is refused under a label that says so."""
    site.install("zeta-tools", slug="zeta-type")
    monkeypatch.setattr(sys, "meta_path", [_OpaqueFinder(), *sys.meta_path])
    registry = load_plugins(env={ALLOWLIST_ENV: f"azure-appconfig-plugin,{site.pin('zeta-tools')}"})
    reason = (
        "refused: distribution (name unreadable): its entry_points.txt cannot be read (OSError), so its "
        "app_connections entry points are unknown"
    )
    assert _trust_failures(registry) == {"(name unreadable)": (reason, None)}
    assert {SLUG, "zeta-type"} <= set(registry.types) and site.imported() == ["zeta_tools_mod"]
    [opaque] = [p for p in registry.trust.provenance if p.plugin == "(name unreadable)"]
    assert (opaque.distribution, opaque.digest, opaque.location) == (None, None, None)
    assert registry.trust.notices == []


def test_an_unreadable_distribution_without_the_group_is_no_plugin(site: Site) -> None:
    """Its bytes, read leniently, have no [app_connections] section: it declares no plugin, so it is
    not reported (importlib would have crashed on it all the same)."""
    info = wheels.install(
        site.root, "other-tool", files={"other_tool.py": ""}, entry_points={"console_scripts": {"o": "other_tool:x"}}
    )
    (info / "entry_points.txt").write_bytes(b"[console_scripts]\no = other_tool:caf\xe9\n")
    site.install("zeta-tools", slug="zeta-type")
    registry = load_plugins(env={})
    assert registry.failures == [] and {SLUG, "zeta-type"} <= set(registry.types)


def test_allow_list_mode_refuses_it_even_when_it_was_pinned(site: Site) -> None:
    site.install("acme-policy")
    site.install("zeta-tools", slug="zeta-type")
    pin = site.pin("acme-policy")
    _break_entry_points(site)
    registry = load_plugins(env={ALLOWLIST_ENV: f"azure-appconfig-plugin,{pin},{site.pin('zeta-tools')}"})
    assert _trust_failures(registry) == {"acme_policy-1.0.dist-info": (_unreadable(site), "acme-policy")}
    assert SLUG in registry.types and "zeta-type" in registry.types
    assert site.imported() == ["zeta_tools_mod"]
    assert registry.trust.notices == []  # acme-policy is installed: not said to match nothing


def test_an_unreadable_distribution_that_runs_code_at_start_up_is_noticed(site: Site) -> None:
    site.install("acme-policy", extra={"acme-hook.pth": "import os\n"})
    _break_entry_points(site)
    registry = load_plugins(env={ALLOWLIST_ENV: "azure-appconfig-plugin"})
    assert _trust_failures(registry) == {"acme_policy-1.0.dist-info": (_unreadable(site), "acme-policy")}
    assert registry.trust.notices == [
        "the distribution acme_policy-1.0.dist-info is not loaded, but it installs acme-hook.pth, which Python "
        "runs at start-up before any loader: uninstall it if you do not trust it"
    ]


@pytest.fixture
def later_site(tmp_path: Path) -> Iterator[Site]:
    """A second site directory, behind ``site`` on ``sys.path``."""
    s = Site(tmp_path / "later")
    s.marker = tmp_path / "imported.txt"
    yield s
    deactivate(s.root, [m for mod in s.modules for m in list(sys.modules) if m == mod or m.startswith(mod + ".")])


def _behind(first: Site, later: Site) -> None:
    for root in (later.root, first.root):  # activate() puts each in front
        deactivate(root)
        activate(root)


def test_only_the_first_distribution_of_a_name_counts_as_importlib_has_it(site: Site, later_site: Site) -> None:
    site.install("acme-policy")
    _install_with_targets(later_site, "Acme_Policy", {"acme-extra": "acme_policy_mod"}, slug="shadowed")
    _behind(site, later_site)
    expected = sorted((e.name, e.value) for e in metadata.entry_points(group="app_connections"))
    found = trust.group_entry_points("app_connections")
    assert sorted((e.name, e.value) for e in found.entry_points) == expected and found.unreadable == []
    assert ("acme-policy", "acme_policy_mod") in expected and "acme-extra" not in dict(expected)


def test_an_unreadable_first_distribution_still_shadows_a_later_one(site: Site, later_site: Site) -> None:
    site.install("acme-policy")
    later_site.install("acme-policy", slug="shadowed")
    _break_entry_points(site)
    _behind(site, later_site)
    registry = load_plugins(env={})
    assert _trust_failures(registry) == {"acme_policy-1.0.dist-info": (_unreadable(site), "acme-policy")}
    assert "shadowed" not in registry.types and site.imported() == [] and later_site.imported() == []


@pytest.mark.parametrize(
    ("directory", "name"),
    [
        ("Acme.Policy-2.0.dist-info", "acme-policy"),  # the directory's name part, as importlib reads it
        ("a_c_m_e-1.0.dist-info", "acme-policy"),  # a directory that disagrees with its Name
        ("acme-policy-1.0.dist-info", "acme-policy"),  # split at the first "-": "acme"
        ("acme_policy.egg-info", "Other"),
        ("-1.0.dist-info", "Acme__Policy"),  # no name part: its metadata's Name
        ("acme-policy", "ACME.policy"),  # not a metadata directory: its metadata's Name
    ],
)
def test_the_duplicate_key_is_the_one_importlib_tells_distributions_apart_by(
    tmp_path: Path, directory: str, name: str
) -> None:
    from app_connections.trust.entry_points import _duplicate_key

    (tmp_path / directory).mkdir()
    (tmp_path / directory / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    dist = metadata.Distribution.at(tmp_path / directory)
    importlib_key = dist._normalized_name  # the oracle: importlib's own key
    assert _duplicate_key(dist) == importlib_key.replace("_", "-")


def test_every_installed_distribution_has_importlibs_duplicate_key() -> None:
    from app_connections.trust.entry_points import _duplicate_key

    for dist in metadata.distributions():
        assert _duplicate_key(dist) == dist._normalized_name.replace("_", "-")


@pytest.mark.parametrize("group", ["app_connections", "pytest11", "console_scripts"])
def test_a_healthy_environment_gets_what_importlib_gets(group: str) -> None:
    def seen(eps: list[metadata.EntryPoint]) -> list[tuple[str, str, str]]:
        return sorted((e.name, e.value, str(getattr(e.dist, "_path", ""))) for e in eps)

    found = trust.group_entry_points(group)
    assert seen(list(found.entry_points)) == seen(list(metadata.entry_points(group=group)))
    assert found.unreadable == []


def test_types_doctor_and_pin_with_an_unreadable_distribution(site: Site, cli_env: None) -> None:
    site.install("acme-policy")
    _break_entry_points(site)
    reason = _unreadable(site)
    code, text = _run("types", "--json")
    data = json.loads(text)
    assert code == 1 and SLUG in {t["slug"] for t in data["types"]}
    [acme] = [p for p in data["trust"]["plugins"] if p["plugin"] == "acme_policy-1.0.dist-info"]
    assert (acme["status"], acme["distribution"], acme["reason"]) == ("refused", "acme-policy", reason[9:])
    code, text = _run("types")
    assert code == 1 and f"plugin acme_policy-1.0.dist-info: REFUSED: {reason.removeprefix('refused: ')}\n" in text
    code, text = _run("doctor", "--json")
    [check] = [c for c in json.loads(text)["checks"] if c["name"] == "plugins"]
    assert code == 1 and check["status"] == "invalid"
    assert f"not loaded: acme_policy-1.0.dist-info ({reason})" in check["detail"]
    assert site.imported() == []


def test_pin_names_the_unreadable_distribution_and_fails(
    site: Site, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    site.install("acme-policy")
    _break_entry_points(site)
    assert _run("plugins", "pin") == (1, "")
    assert capsys.readouterr().err == f"error: {_unreadable(site).removeprefix('refused: ')}, refusing to pin\n"
