"""What a load reads: each distribution's METADATA read once (its headers only: the long
description is a whole README), and no RECORD read (let alone hashed) in open mode."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

COUNT = textwrap.dedent("""
    import json, sys, importlib.metadata as md
    parsed, records = [], []
    real = md.Distribution.metadata.fget
    def metadata(self):
        parsed.append(str(getattr(self, "_path", "")))
        return real(self)
    md.Distribution.metadata = property(metadata)
    read = md.PathDistribution.read_text
    def read_text(self, name):
        if name == "RECORD":
            records.append(str(self._path))
        if name == "METADATA":
            parsed.append(str(self._path))
        return read(self, name)
    md.PathDistribution.read_text = read_text
    from app_connections.loader import load_plugins
    registry = load_plugins(env={"APP_CONNECTIONS_ALLOWED_PLUGINS": sys.argv[1]} if sys.argv[1] else {})
    digest = {p.plugin: p.digest for p in registry.trust.provenance}
    print(json.dumps({"parsed": parsed, "records": records, "types": sorted(registry.types), "digest": digest}))
""")


def load_counting(site: Path, allow: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", COUNT, allow],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(site), "PATH": ""},
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]  # the JSON printed above


def test_open_mode_parses_metadata_once_and_reads_no_record(plugin_distributions: Callable[..., Path]) -> None:
    site = plugin_distributions(
        "acme-broker-provider",
        entry_points={"app_connections": {"acme-broker": "acme_broker"}},
        modules={"acme_broker.py": (Path(__file__).parent / "example_provider" / "acme_broker.py").read_text()},
    )
    seen = load_counting(site, "")
    parsed = [p for p in seen["parsed"] if "acme_broker_provider" in p]  # type: ignore[union-attr]  # a list
    assert "acme-broker" in seen["types"] and len(parsed) == 1  # type: ignore[operator]  # a list
    assert seen["records"] == [] and seen["digest"]["acme-broker"] is None  # type: ignore[index]  # a dict

    pinned = load_counting(site, "acme-broker-provider")
    assert "acme-broker" in pinned["types"]  # type: ignore[operator]  # a list
