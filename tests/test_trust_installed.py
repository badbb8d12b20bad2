"""Reading an installed distribution for the trust checks: the odd installs a host can meet (trust/installed.py)."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest

from app_connections.trust.distributions import is_editable
from app_connections.trust.installed import (
    module_origin,
    record_entries,
    record_file,
    shadowing_problem,
    startup_files,
)


def _dist(site: Path, name: str = "odd_plugin", files: dict[str, str] | None = None) -> metadata.Distribution:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    for rel, text in (files or {}).items():
        (info / rel).write_text(text)
    return metadata.PathDistribution(info)


@pytest.mark.parametrize(
    ("direct_url", "editable"),
    [
        ('{"url": "file:///src", "dir_info": {"editable": true}}', True),
        ('{"url": "file:///src", "dir_info": {}}', False),
        ("{not json", False),
        ('["a list"]', False),
        (None, False),
    ],
    ids=["editable", "not-editable", "broken-json", "not-an-object", "absent"],
)
def test_only_a_well_formed_editable_marker_counts_as_editable(
    tmp_path: Path, direct_url: str | None, editable: bool
) -> None:
    files = {"direct_url.json": direct_url} if direct_url is not None else {}
    assert is_editable(_dist(tmp_path, files=files)) is editable


def test_a_record_missing_from_its_own_listing_is_still_found(tmp_path: Path) -> None:
    dist = _dist(tmp_path, files={"RECORD": "odd_plugin/__init__.py,,\n"})  # a RECORD not listing itself
    listed = record_entries(dist)
    assert [str(p) for p in listed] == ["odd_plugin/__init__.py"]
    where = tmp_path / "odd_plugin-1.0.dist-info" / "RECORD"
    assert record_file(dist, listed) == where  # from its listing: found beside it all the same
    assert record_file(dist) == where  # without a listing: found where a dist-info keeps it
    assert record_file(_dist(tmp_path / "other")) is None
    assert record_file(_dist(tmp_path / "again"), []) is None


def test_an_entry_point_module_that_cannot_be_found_is_a_problem(tmp_path: Path) -> None:
    dist = _dist(tmp_path)
    problem = shadowing_problem(dist, [], ["no_such_top_level_module_here.plugin"])
    assert problem == "module 'no_such_top_level_module_here' of its entry point cannot be found"


def test_the_origin_of_a_module_not_yet_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ns_portion_only" / "inner").mkdir(parents=True)  # a namespace package: no __init__.py
    (tmp_path / "plain_mod_here.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert module_origin("no_such_top_level_module_here") is None
    assert module_origin("plain_mod_here") == str(tmp_path / "plain_mod_here.py")
    assert module_origin("ns_portion_only.inner") == str(tmp_path / "ns_portion_only")
    assert "plain_mod_here" not in sys.modules  # found by the finders, never imported


def test_an_unreadable_pth_file_is_skipped(tmp_path: Path) -> None:
    dist = _dist(tmp_path, files={"RECORD": "runs.pth,,\ninert.pth,,\nmissing.pth,,\n"})
    (tmp_path / "runs.pth").write_text("import os\n")
    (tmp_path / "inert.pth").write_text("/some/path\n")
    assert startup_files(dist) == ["runs.pth"]
