"""The tamper check reads every RECORD row itself (trust.installed.record_entries).

From Python 3.12, ``Distribution.files`` leaves out files that are no longer on disk; a check built
on it would pass a distribution whose module was deleted after install. These tests show the gap
on any Python by giving the check a distribution that filters the same way."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from azure_appconfig_plugin.testing import wheels
from azure_appconfig_plugin.trust.installed import record_entries, verify_files


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
