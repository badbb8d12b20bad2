"""No module of either package grows past 500 lines: a module that would is split along a seam."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (ROOT / "src" / "azure_appconfig_plugin", ROOT / "app-connections" / "src" / "app_connections")
MAX_LINES = 500


def test_no_module_is_over_500_lines() -> None:
    sizes = {
        path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for package in PACKAGES
        for path in package.rglob("*.py")
    }
    assert len(sizes) > 100  # both packages were found
    over = {name: lines for name, lines in sizes.items() if lines > MAX_LINES}
    assert not over, over
