"""A plugin distribution whose metadata cannot be read (trust.distributions.identify).

``importlib.metadata`` raises ``UnicodeDecodeError`` on every read of a ``METADATA`` that is not
UTF-8 (and ``OSError`` when the disk fails). One such distribution must cost only its own plugin:
refused against its entry point, never imported, while every other plugin loads; ``plugins pin``
names it and exits 1."""

from __future__ import annotations

import io
import json
from importlib import metadata
from pathlib import Path

import pytest

from app_connections import trust
from app_connections.loader import Registry, load_plugins
from app_connections.trust import ALLOWLIST_ENV
from azure_appconfig_plugin.cli import main
from trust_sites import Site

SLUG = "azure-app-configuration"
NOT_UTF8 = (
    "refused: entry point acme-policy = acme_policy_mod: its distribution's metadata cannot be read "
    "(it is not UTF-8 text), so it cannot be identified"
)


def _break_metadata(site: Site, name: str = "acme-policy") -> Path:
    info = site.root / f"{name.replace('-', '_')}-1.0.dist-info"
    meta = info / "METADATA"
    meta.write_bytes(meta.read_bytes() + b"Summary: caf\xe9 in Latin-1\n")
    return info


def _trust_failures(registry: Registry) -> dict[str, tuple[str, str | None]]:
    return {f.plugin: (f.error, f.distribution) for f in registry.failures if f.stage == "trust"}


def test_open_mode_refuses_only_the_unreadable_plugin_and_loads_the_rest(site: Site) -> None:
    site.install("acme-policy")
    site.install("zeta-tools", slug="zeta-type")
    _break_metadata(site)
    registry = load_plugins(env={})
    assert _trust_failures(registry) == {"acme-policy": (NOT_UTF8, None)}
    assert SLUG in registry.types and "zeta-type" in registry.types
    assert site.imported() == ["zeta_tools_mod"]  # the unreadable one never ran
    seen = {p.plugin: p for p in registry.trust.provenance}
    acme = seen["acme-policy"]
    assert (acme.status, acme.distribution, acme.version) == ("refused", None, None)
    assert acme.digest is None  # open mode: RECORD is not hashed
    assert acme.location == str(site.root / "acme_policy_mod" / "__init__.py")
    assert seen["zeta-tools"].status == "allowed"


def test_allow_list_mode_refuses_it_even_when_it_was_pinned(site: Site) -> None:
    site.install("acme-policy")
    site.install("zeta-tools", slug="zeta-type")
    pin = site.pin("acme-policy")
    _break_metadata(site)
    allowed = f"azure-appconfig-plugin,{pin},{site.pin('zeta-tools')}"  # zeta found past the broken one
    registry = load_plugins(env={ALLOWLIST_ENV: allowed})
    assert _trust_failures(registry) == {"acme-policy": (NOT_UTF8, None)}
    assert SLUG in registry.types and "zeta-type" in registry.types
    assert site.imported() == ["zeta_tools_mod"]
    # a listed name that now matches nothing installed is said so, not silently taken for the broken one
    assert registry.trust.notices == [
        f"{ALLOWLIST_ENV} lists acme-policy, which provides no installed app_connections plugin"
    ]


def test_an_unreadable_plugin_that_runs_code_at_start_up_is_noticed(site: Site) -> None:
    site.install("acme-policy", extra={"acme-hook.pth": "import os\n"})
    _break_metadata(site)
    registry = load_plugins(env={ALLOWLIST_ENV: "azure-appconfig-plugin"})
    assert _trust_failures(registry) == {"acme-policy": (NOT_UTF8, None)}
    assert registry.trust.notices == [
        "the distribution of entry point acme-policy is not loaded, but it installs acme-hook.pth, which Python "
        "runs at start-up before any loader: uninstall it if you do not trust it"
    ]


def test_a_metadata_read_error_is_refused_the_same_way(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.install("acme-policy")
    site.install("zeta-tools", slug="zeta-type")
    broken = site.root / "acme_policy-1.0.dist-info"
    read_text = metadata.PathDistribution.read_text

    def failing(self: metadata.PathDistribution, filename: str) -> str | None:
        if Path(str(self._path)) == broken and filename == "METADATA":  # type: ignore[attr-defined]  # PathDistribution's own directory
            raise OSError(5, "Input/output error")
        return read_text(self, filename)

    monkeypatch.setattr(metadata.PathDistribution, "read_text", failing)
    registry = load_plugins(env={})
    assert _trust_failures(registry) == {
        "acme-policy": (
            "refused: entry point acme-policy = acme_policy_mod: its distribution's metadata cannot be read "
            "(OSError), so it cannot be identified",
            None,
        )
    }
    assert "zeta-type" in registry.types and site.imported() == ["zeta_tools_mod"]


def test_the_entry_point_is_shown_bounded_and_without_control_characters(site: Site) -> None:
    site.install("acme-policy")
    info = _break_metadata(site)
    hostile = "acme\x1b[2J\u202e" + "x" * 500
    (info / "entry_points.txt").write_text(f"[app_connections]\n{hostile} = acme_policy_mod\n", encoding="utf-8")
    registry = load_plugins(env={})
    [(plugin, error)] = [(f.plugin, f.error) for f in registry.failures if f.stage == "trust"]
    assert plugin == hostile  # the record keeps the name; what is shown is made safe
    assert error.startswith("refused: entry point acme?[2J?xxx") and "\x1b" not in error and "\u202e" not in error
    assert len(error) < 400 and "…" in error
    assert site.imported() == [] and SLUG in registry.types


def test_judge_and_pin_entry_refuse_a_distribution_they_cannot_identify(site: Site) -> None:
    site.install("acme-policy")
    _break_metadata(site)
    dist = metadata.PathDistribution(site.root / "acme_policy-1.0.dist-info")
    assert trust.identify(dist) == trust.Identity("", "", "metadata cannot be read (it is not UTF-8 text)")
    reason = "its metadata cannot be read (it is not UTF-8 text), so it cannot be identified"
    assert trust.judge(dist, None) == trust.Verdict("refused", reason)  # open mode too: it is never imported
    with pytest.raises(ValueError, match=r"^its metadata cannot be read \(it is not UTF-8 text\), .*refusing to pin"):
        trust.pin_entry(dist)


# --- the CLI -------------------------------------------------------------------------------------------


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_pin_names_the_unreadable_plugin_and_fails(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site.install("acme-policy")
    _break_metadata(site)
    monkeypatch.delenv(ALLOWLIST_ENV, raising=False)
    assert _run("plugins", "pin") == (1, "")
    assert capsys.readouterr().err == (
        "error: entry point acme-policy = acme_policy_mod: its distribution's metadata cannot be read "
        "(it is not UTF-8 text), so it cannot be identified\n"
    )


def test_types_and_doctor_report_the_unreadable_plugin(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    from azure_appconfig_plugin.testing import fakes as azure_fakes

    site.install("acme-policy")
    _break_metadata(site)
    for key, value in azure_fakes.fake_instance_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(ALLOWLIST_ENV, raising=False)
    code, text = _run("types", "--json")
    data = json.loads(text)
    assert code == 1 and SLUG in {t["slug"] for t in data["types"]}  # the rest loads; the refusal fails the run
    [acme] = [p for p in data["trust"]["plugins"] if p["plugin"] == "acme-policy"]
    assert (acme["status"], acme["distribution"], acme["version"]) == ("refused", None, None)
    code, text = _run("types")
    assert code == 1 and f"plugin acme-policy: REFUSED: {NOT_UTF8.removeprefix('refused: ')}\n" in text
    code, text = _run("doctor", "--json")
    [check] = [c for c in json.loads(text)["checks"] if c["name"] == "plugins"]
    assert code == 1 and check["status"] == "invalid" and f"not loaded: acme-policy ({NOT_UTF8})" in check["detail"]
    assert site.imported() == []
