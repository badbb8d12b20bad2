"""Make real (metadata-only) distributions at test time, so plugins are discovered through
``importlib.metadata`` entry points exactly as an installed package would be."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path


def make_distribution(
    root: Path,
    name: str,
    *,
    entry_points: Mapping[str, Mapping[str, str]],
    modules: Mapping[str, str] = {},
    version: str = "0.1.0",
) -> Path:
    """Write ``modules`` (relative file name -> source) and a ``.dist-info`` under ``root``.

    Put ``root`` on ``sys.path`` (or ``PYTHONPATH`` for a subprocess) to "install" it.
    """
    root.mkdir(parents=True, exist_ok=True)
    for rel, source in modules.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = []
    for group, eps in entry_points.items():
        lines.append(f"[{group}]")
        lines.extend(f"{ep} = {target}" for ep, target in eps.items())
        lines.append("")
    (info / "entry_points.txt").write_text("\n".join(lines))
    return root


def activate(root: Path) -> None:
    """Make distributions under ``root`` visible to this interpreter."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    importlib.invalidate_caches()


def deactivate(root: Path, module_names: Iterable[str] = ()) -> None:
    """Take ``root`` off ``sys.path`` and forget the modules imported from it."""
    while str(root) in sys.path:
        sys.path.remove(str(root))
    for mod in module_names:
        sys.modules.pop(mod, None)
    importlib.invalidate_caches()
