"""The tamper check reads every RECORD row itself (trust.installed.record_entries).

From Python 3.12, ``Distribution.files`` leaves out files that are no longer on disk; a check built
on it would pass a distribution whose module was deleted after install. These tests show the gap
on any Python by giving the check a distribution that filters the same way."""

from __future__ import annotations

import io
from importlib import metadata
from pathlib import Path

import pytest

from app_connections.loader import load_plugins
from app_connections.testing import wheels
from app_connections.trust import ALLOWLIST_ENV
from app_connections.trust.installed import record_entries, verify_files
from azure_appconfig_plugin.cli import main
from trust_sites import Site


class _SkipsMissingFiles(metadata.PathDistribution):
    """``files`` as Python 3.12+ gives it: only the files that still exist."""

    @property
    def files(self) -> list[metadata.PackagePath] | None:
        listed = super().files
        return None if listed is None else [p for p in listed if Path(str(p.locate())).exists()]


def _installed(tmp_path: Path) -> _SkipsMissingFiles:
    info = wheels.install(
        tmp_path,
        "gone-plugin",
        files={"gone_plugin/__init__.py": "from .policy import check\n", "gone_plugin/policy.py": "check = 1\n"},
    )
    return _SkipsMissingFiles(info)


def test_every_row_is_read_even_when_its_file_is_gone(tmp_path: Path) -> None:
    dist = _installed(tmp_path)
    (tmp_path / "gone_plugin/policy.py").unlink()
    assert "gone_plugin/policy.py" not in {str(p) for p in dist.files or ()}  # the gap, reproduced
    rows = {str(p): p for p in record_entries(dist)}
    assert "gone_plugin/policy.py" in rows
    assert rows["gone_plugin/policy.py"].hash is not None and rows["gone_plugin/policy.py"].hash.mode == "sha256"
    assert rows["gone_plugin/policy.py"].size == len("check = 1\n")
    assert rows["gone_plugin-1.0.dist-info/RECORD"].hash is None


def test_a_deleted_file_fails_the_tamper_check(tmp_path: Path) -> None:
    dist = _installed(tmp_path)
    assert verify_files(dist).ok
    (tmp_path / "gone_plugin/policy.py").unlink()
    check = verify_files(dist)
    assert check.file == "gone_plugin/policy.py"
    assert check.problem == "gone_plugin/policy.py is listed in RECORD but cannot be read (deleted or replaced)"


def test_a_distribution_without_record_falls_back_to_its_file_list(tmp_path: Path) -> None:
    info = tmp_path / "old_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: old-plugin\nVersion: 1.0\n")
    assert record_entries(metadata.PathDistribution(info)) == []


# --- a RECORD that is not text: refused when pinned, never a crash of the whole load ---------------


def _corrupt_record(site: Site) -> None:
    record = site.root / "acme_policy-1.0.dist-info" / "RECORD"
    record.write_bytes(record.read_bytes() + b"acme_policy_mod/\xff\xfe.py,,\n")


def test_an_unreadable_record_does_not_stop_the_other_plugins_loading(site: Site) -> None:
    site.install("acme-policy")
    _corrupt_record(site)
    registry = load_plugins(env={})  # no allow-list: nothing is pinned, nothing tamper-checked
    assert "azure-app-configuration" in registry.types
    assert [f for f in registry.failures if f.stage == "trust"] == []
    seen = {p.plugin: p for p in registry.trust.provenance}
    assert seen["acme-policy"].status == "allowed" and seen["acme-policy"].digest is None  # open mode: not hashed


def test_a_pinned_plugin_whose_record_is_not_text_is_refused_unimported(site: Site) -> None:
    site.install("acme-policy")
    pin = site.pin("acme-policy")
    _corrupt_record(site)
    registry = load_plugins(env={ALLOWLIST_ENV: f"azure-appconfig-plugin,{pin}"})
    errors = {f.plugin: f.error for f in registry.failures if f.stage == "trust"}
    assert errors == {
        "acme-policy": "refused: tampered: RECORD cannot be read (it is not UTF-8 text): "
        "none of acme-policy's files can be checked"
    }
    assert site.imported() == [] and "azure-app-configuration" in registry.types


def test_pin_refuses_a_plugin_whose_record_is_not_text(
    site: Site, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site.install("acme-policy")
    _corrupt_record(site)
    monkeypatch.delenv(ALLOWLIST_ENV, raising=False)
    out = io.StringIO()
    assert main(["plugins", "pin"], out=out) == 1 and out.getvalue() == ""
    assert capsys.readouterr().err == (
        "error: acme-policy 1.0: RECORD cannot be read (it is not UTF-8 text), refusing to pin it\n"
    )


def test_a_record_that_cannot_be_read_is_an_error_not_an_empty_listing(tmp_path: Path) -> None:
    dist = _installed(tmp_path)

    def failing(name: str) -> str | None:
        raise OSError(5, "Input/output error")

    dist.read_text = failing  # type: ignore[method-assign]  # the disk's answer, on purpose
    with pytest.raises(ValueError, match=r"^RECORD cannot be read \(OSError\)$"):
        record_entries(dist)


def test_blank_lines_in_a_record_are_skipped(tmp_path: Path) -> None:
    dist = _installed(tmp_path)
    record = tmp_path / "gone_plugin-1.0.dist-info" / "RECORD"
    before = [str(p) for p in record_entries(dist)]
    record.write_text("\n" + record.read_text().replace("\n", "\n\n"))
    assert [str(p) for p in record_entries(dist)] == before
