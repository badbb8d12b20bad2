"""The documentation site and the README that leads into it: the README stays short and its links
land on real pages and headings; the site builds with ``mkdocs build --strict`` (when the docs extra
is installed) and documents modules that exist."""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from docs_pages import DOCS, ROOT, blocks, page, readme, section

LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def slug(heading: str) -> str:
    """A heading's anchor, as Python-Markdown's toc extension (and GitHub) make it."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(text: str) -> set[str]:
    """The anchors of a Markdown file's headings (lines in code fences are not headings)."""
    found, fenced = set(), False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"#{1,6} (.*)", line)):
            found.add(slug(m[1]))
    return found


def included(path: Path) -> str:
    """A page's text with its snippet includes (``--8<-- "file"``, paths from the repository root) filled in."""
    return re.sub(r'^--8<-- "([^"]+)"$', lambda m: (ROOT / m[1]).read_text(), path.read_text(), flags=re.M)


def test_the_readme_is_short() -> None:
    assert len(readme().splitlines()) < 300


def test_the_slug_is_the_one_markdown_makes() -> None:
    assert slug("Roles on the store (every Microsoft Entra ID method)") == (
        "roles-on-the-store-every-microsoft-entra-id-method"
    )
    assert slug("3. Connect and validate") == "3-connect-and-validate"
    assert slug("Plugin trust: tamper check") == "plugin-trust-tamper-check"


@pytest.mark.parametrize(
    "source", ["README.md", *sorted(str(p.relative_to(ROOT)) for p in DOCS.rglob("*.md"))], ids=str
)
def test_relative_links_land_on_a_file_and_a_heading(source: str) -> None:
    path = ROOT / source
    for target in LINK.findall(path.read_text()):
        if re.match(r"\w+:", target):  # an absolute URL: none are expected, none are checked here
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        assert linked.is_file(), f"{source}: link to {target}: no such file"
        if anchor:
            assert anchor in anchors(included(linked)), f"{source}: link to {target}: no such heading"


def test_the_readme_links_every_topic_page() -> None:
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in LINK.findall(readme()) if t.startswith("docs/")}
    for name in ("sync.md", "trust.md", "hosts.md", "limits.md", "security.md", "test-kit.md", "reference.md"):
        assert (DOCS / name).resolve() in linked, name
    for role in ("operators", "hosts", "plugin-authors"):
        assert (DOCS / "getting-started" / f"{role}.md").resolve() in linked, role


def test_every_page_is_in_the_navigation() -> None:
    config = (ROOT / "mkdocs.yml").read_text()
    for path in DOCS.rglob("*.md"):
        assert f": {path.relative_to(DOCS).as_posix()}\n" in config, path


def test_the_reference_documents_modules_that_exist() -> None:
    modules = re.findall(r"^::: (\S+)$", page("reference.md"), re.M)
    assert modules and "app_connections.hostspec" in modules
    for name in modules:
        importlib.import_module(name)


def _build_command() -> str:
    (command,) = blocks(section(readme(), "## Development"), "sh")
    return command


def test_the_build_command_is_the_development_page_one() -> None:
    assert blocks(page("development.md"), "sh") == [_build_command()]
    install = '.venv/bin/pip install -q -e ./app-connections -e ".[docs]"'
    assert _build_command() == f"{install} && .venv/bin/mkdocs build --strict -d /tmp/site"


@pytest.mark.slow
@pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("mkdocs", "material", "mkdocstrings_handlers")),
    reason='the docs extra is not installed (pip install -e ".[docs]")',
)
def test_the_site_builds_strictly_offline(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    reference = (site / "reference" / "index.html").read_text()
    assert 'id="app_connections.hostspec.validate_connection"' in reference  # generated, not empty
    assert "benchmarks/startup.py" in (site / "benchmarks" / "index.html").read_text()  # RESULTS.md included
    assert "fonts.googleapis.com" not in (site / "index.html").read_text()  # no web fonts: builds and reads offline
