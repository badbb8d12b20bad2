"""Release habits: one version, a changelog that keeps up with the contract, documents linked."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

import azure_appconfig_plugin
from app_connections.hostspec import CONTRACT_VERSION
from toml_compat import loads as toml_loads

ROOT = Path(__file__).resolve().parents[1]
CHANGELOG = (ROOT / "CHANGELOG.md").read_text()
VERSION_LINE = re.compile(r"azure-appconfig-plugin (\S+) \(app_connections contract (\S+)\)")


def test_version_is_single_sourced() -> None:
    project = toml_loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"], "the version is written only in __init__.py"
    assert "version" in project["project"]["dynamic"]
    attr = project["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "azure_appconfig_plugin.__version__"
    assert re.fullmatch(r"\d+\.\d+\.\d+", azure_appconfig_plugin.__version__)
    # The installed metadata is built from it (an editable install older than the change fails here:
    # reinstall with `pip install -e .`).
    assert importlib.metadata.version("azure-appconfig-plugin") == azure_appconfig_plugin.__version__


def test_installed_command_prints_the_same_versions() -> None:
    script = Path(sys.executable).with_name("azure-appconfig")
    assert script.exists(), f"console script not installed next to {sys.executable}"
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60, check=True)
    match = VERSION_LINE.fullmatch(out.stdout.strip())
    assert match, out.stdout
    assert match.group(1) == importlib.metadata.version("azure-appconfig-plugin") == azure_appconfig_plugin.__version__
    assert match.group(2) == CONTRACT_VERSION


def _sections() -> dict[str, str]:
    parts = re.split(r"^## \[([^\]]+)\][^\n]*\n", CHANGELOG, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_changelog_records_the_current_contract_version() -> None:
    assert re.search(rf"\bContract {re.escape(CONTRACT_VERSION)}\b", CHANGELOG), (
        f"CHANGELOG.md does not mention contract {CONTRACT_VERSION}: record the contract change"
    )


def test_changelog_has_unreleased_first_and_the_current_version() -> None:
    sections = list(_sections())
    assert sections[0] == "Unreleased"
    assert azure_appconfig_plugin.__version__ in sections, (
        f"CHANGELOG.md has no section for {azure_appconfig_plugin.__version__}"
    )
    released = [s for s in sections if s != "Unreleased"]
    assert released == sorted(released, key=lambda v: tuple(int(n) for n in v.split(".")), reverse=True)


def test_changelog_has_no_placeholders() -> None:
    assert not re.search(r"\b(TODO|TBD|FIXME|XXX)\b", CHANGELOG)


def test_readme_links_contributing_and_changelog() -> None:
    readme = (ROOT / "README.md").read_text()
    for doc in ("CONTRIBUTING.md", "CHANGELOG.md"):
        assert f"]({doc})" in readme and (ROOT / doc).is_file()


def test_contributing_commands_name_real_files() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    for path in ("benchmarks/startup.py", ".ci/package", ".ci/run", "tests/cassettes", "tests/cassette_factory.py"):
        assert path in text and (ROOT / path).exists(), path


# A suppression silences a tool on one line; its reason must stand next to it: after the
# codes, " - why" or "  # why", of at least three words. `if TYPE_CHECKING:` needs no pragma: the
# coverage configuration excludes it.
SUPPRESSION = re.compile(
    r"#\s*(?P<what>noqa(?::\s*[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)?|type:\s*ignore(?:\[[^\]]*\])?|pragma:\s*no\s+(?:cover|branch))"
)
REASON = re.compile(r"^\s*(?:-|#)\s*(?P<why>\S.*)$")


def _suppressions_without_reason(text: str) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for match in SUPPRESSION.finditer(line):
            reason = REASON.match(line[match.end() :])
            if reason is None or len(reason.group("why").split()) < 3:
                found.append((number, line.strip()))
    return found


def test_the_reason_check_tells_a_reason_from_none() -> None:
    assert _suppressions_without_reason("x = 1  # noqa: F401\n") == [(1, "x = 1  # noqa: F401")]
    assert _suppressions_without_reason("x = 1  # type: ignore[misc]  # ok\n") != []
    assert _suppressions_without_reason("if x:  # pragma: no cover - defensive\n") != []
    assert _suppressions_without_reason("x = 1  # noqa: F401 - re-exported for callers\n") == []
    assert _suppressions_without_reason("x = f()  # type: ignore[misc]  # msal is untyped here\n") == []
    assert _suppressions_without_reason("if x:  # pragma: no branch - the loop always ends by return\n") == []


@pytest.mark.parametrize("folder", ["src", "tests", "benchmarks"])
def test_every_suppression_carries_its_reason(folder: str) -> None:
    missing = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        if path == Path(__file__).resolve():
            continue  # this file's examples above name suppressions on purpose
        for number, line in _suppressions_without_reason(path.read_text()):
            missing.append(f"{path.relative_to(ROOT)}:{number}: {line}")
    assert missing == [], "give each suppression its reason:\n" + "\n".join(missing)


def test_the_classified_python_versions_start_at_requires_python() -> None:
    # .ci/pythons runs the suite on each classified version; the oldest one it runs must be the
    # oldest one pip lets install the package, or that one is promised but never tested.
    project = toml_loads((ROOT / "pyproject.toml").read_text())["project"]
    floor = re.fullmatch(r">=\s*(3\.\d+)", project["requires-python"])
    assert floor is not None, "requires-python is a plain lower bound"
    classified = sorted(
        (int(m.group(1)), int(m.group(2)))
        for c in project["classifiers"]
        if (m := re.fullmatch(r"Programming Language :: Python :: (3)\.(\d+)", c))
    )
    assert classified, "at least one Python version is classified"
    assert f"{classified[0][0]}.{classified[0][1]}" == floor.group(1)
    assert [minor for _, minor in classified] == list(range(classified[0][1], classified[-1][1] + 1)), "no gaps"
