"""Read the documentation whose code blocks and tables the tests check: README.md, the pages of the
docs site (docs/) and the benchmark results (benchmarks/RESULTS.md)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>\w*)\n(?P<code>.*?)\n(?P=indent)```", re.M | re.S)


def readme() -> str:
    """The README's text."""
    return (ROOT / "README.md").read_text()


def page(name: str) -> str:
    """A docs page's text, by its path under docs/ (e.g. ``sync.md``, ``methods/oauth.md``)."""
    return (DOCS / name).read_text()


def results() -> str:
    """The benchmark results' text (benchmarks/RESULTS.md)."""
    return (ROOT / "benchmarks" / "RESULTS.md").read_text()


def section(text: str, heading: str) -> str:
    """From the line ``heading`` (with its #s) to the next heading of the same or a higher level.

    Lines inside code fences are never headings (a ``# comment`` in a block does not end the section).
    """
    level = len(heading) - len(heading.lstrip("#"))
    lines = text.splitlines()
    start = lines.index(heading)
    fenced = False
    for end in range(start + 1, len(lines)):
        line = lines[end]
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(rf"#{{1,{level}}} ", line):
            return "\n".join(lines[start:end]) + "\n"
    return "\n".join(lines[start:]) + "\n"


def blocks(text: str, lang: str) -> list[str]:
    """The code blocks of one language, in order; a block indented inside a list item is dedented."""
    return [textwrap.dedent(m["code"]) for m in FENCE.finditer(text) if m["lang"] == lang]


def all_blocks(text: str) -> list[tuple[str, str]]:
    """Every code block as (language, code), in order."""
    return [(m["lang"], textwrap.dedent(m["code"])) for m in FENCE.finditer(text)]
