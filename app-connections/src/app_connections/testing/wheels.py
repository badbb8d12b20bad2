"""Install throw-away distributions the way an installer lays out a wheel: the files, a
``.dist-info`` with ``METADATA``, ``WHEEL``, ``entry_points.txt``, ``top_level.txt``,
``INSTALLER`` and a real ``RECORD`` (sha256 of every file, urlsafe base64 without padding,
PEP 376/627), so allow-list pins and tamper checks run against them exactly as against a
pip-installed wheel.

``install`` writes into a site directory; :func:`distributions.activate` puts it on ``sys.path``
(or pass it as ``PYTHONPATH`` to a subprocess).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from ..trust.distributions import identify


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def install(
    site: Path,
    name: str,
    version: str = "1.0",
    *,
    files: Mapping[str, str | bytes],
    entry_points: Mapping[str, Mapping[str, str]] = {},
    editable_url: str | None = None,
    bytecode: bool = False,
) -> Path:
    """Write ``files`` (path relative to ``site`` -> content) and the ``.dist-info``; return the
    ``.dist-info`` directory. ``editable_url`` adds a PEP 610 ``direct_url.json`` marking the
    install editable (its RECORD then lists whatever ``files`` holds, e.g. a ``.pth``).
    ``bytecode`` compiles every ``.py`` file for this interpreter and lists the byte-code in RECORD
    with its hash, as pip does."""
    site.mkdir(parents=True, exist_ok=True)
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    meta: dict[str, str | bytes] = {
        "METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        "WHEEL": (
            "Wheel-Version: 1.0\nGenerator: app-connections test kit\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        "INSTALLER": "pip\n",
        "top_level.txt": "".join(
            sorted({p.split("/")[0].removesuffix(".py") + "\n" for p in files if "/" in p or p.endswith(".py")})
        ),
    }
    if entry_points:
        meta["entry_points.txt"] = "".join(
            f"[{group}]\n" + "".join(f"{ep} = {target}\n" for ep, target in eps.items()) + "\n"
            for group, eps in entry_points.items()
        )
    if editable_url is not None:
        meta["direct_url.json"] = f'{{"dir_info": {{"editable": true}}, "url": "{editable_url}"}}'
    rows: list[tuple[str, str, str]] = []
    everything = {**dict(files), **{f"{info.name}/{k}": v for k, v in meta.items()}}
    for rel, content in everything.items():
        data = content.encode() if isinstance(content, str) else content
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        rows.append((rel, _record_hash(data), str(len(data))))
    if bytecode:
        import py_compile
        import sys

        for rel in [r for r in everything if r.endswith(".py")]:
            head, _, name = rel.rpartition("/")
            cached = f"{head}/__pycache__/{name[:-3]}.{sys.implementation.cache_tag}.pyc".lstrip("/")
            py_compile.compile(str(site / rel), cfile=str(site / cached), dfile=str(site / rel), doraise=True)
            data = (site / cached).read_bytes()
            rows.append((cached, _record_hash(data), str(len(data))))
    rows.append((f"{info.name}/RECORD", "", ""))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    (info / "RECORD").write_text(buffer.getvalue())
    return info


def package_files(package_dir: Path, *, prefix: str | None = None) -> dict[str, bytes]:
    """Every source and data file of an importable package directory (no byte-code), keyed as
    ``install(files=...)`` expects: a wheel-like copy of a real package."""
    top = prefix or package_dir.name
    return {
        f"{top}/{p.relative_to(package_dir).as_posix()}": p.read_bytes()
        for p in sorted(package_dir.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
    }


def find(site: Path, name: str) -> metadata.Distribution:
    """The distribution ``name`` installed under ``site`` (without touching ``sys.path``); one whose
    metadata cannot be read is passed over, never an error."""
    for dist in metadata.distributions(path=[str(site)]):
        if identify(dist).name == name:
            return dist
    raise LookupError(f"{name} is not installed under {site}")
