"""Pinned imports: what a digest-pinned plugin imports is what its RECORD lists (the audit's cases).

Every attacker file here records its own execution in the site's marker file (``EVIL`` lines), so
each test proves that no attacker code ran, and that the plugin was refused with a clear reason.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import marshal
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from app_connections import loader, trust
from app_connections.loader import load_plugins
from app_connections.testing import wheels
from app_connections.testing.distributions import activate
from app_connections.trust import ALLOWLIST_ENV
from app_connections.trust.imports import ImportRefused, import_problem
from trust_sites import Site, plugin_source

OURS = "azure-appconfig-plugin"
EXT = importlib.machinery.EXTENSION_SUFFIXES[0]


def evil(marker: Path) -> str:
    return f"open({str(marker)!r}, 'a').write('EVIL\\n')\n"


def ran_evil(site: Site) -> bool:
    return site.marker.exists() and "EVIL" in site.marker.read_text().split()


def trust_failures(registry: Any) -> dict[str, str]:
    return {f.plugin: f.error for f in registry.failures if f.stage == "trust"}


def install_module_plugin(site: Site, name: str = "acme-mod", module: str = "acmeplug") -> str:
    """A plugin that is a single top-level module (``acmeplug.py``), as in the audit."""
    wheels.install(
        site.root,
        name,
        files={f"{module}.py": plugin_source("acme-mod-type", site.marker)},
        entry_points={"app_connections": {name: module}},
    )
    site.modules.append(module)
    activate(site.root)
    return module


# --- before import: added files -------------------------------------------------------------------


def test_an_added_package_beside_a_pinned_module_is_refused(site: Site) -> None:
    install_module_plugin(site)
    pin = site.pin("acme-mod")
    (site.root / "acmeplug").mkdir()
    (site.root / "acmeplug" / "__init__.py").write_text(evil(site.marker))
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})
    assert trust_failures(registry)["acme-mod"] == (
        "refused: unpinned code: acmeplug/__init__.py is not in its RECORD (added after install) "
        "and would be imported first"
    )
    assert "acme-mod-type" not in registry.types and site.imported() == [] and not ran_evil(site)
    prov = next(p for p in registry.trust.provenance if p.plugin == "acme-mod")
    assert prov.status == "refused" and "acmeplug/__init__.py" in prov.reason  # what `types` shows


def test_an_added_extension_module_is_refused(site: Site) -> None:
    install_module_plugin(site)
    pin = site.pin("acme-mod")
    (site.root / f"acmeplug{EXT}").write_bytes(b"\x7fELF not really")
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})
    assert trust_failures(registry)["acme-mod"] == (
        f"refused: unpinned code: acmeplug{EXT} is not in its RECORD (added after install) and would be imported first"
    )
    assert site.imported() == []


@pytest.mark.parametrize(
    "added",
    [
        "acme_policy_mod/helpers/__init__.py",  # a subpackage shadowing helpers.py
        f"acme_policy_mod/helpers{EXT}",
        "acme_policy_mod/extra.py",
        "acme_policy_mod/deep/er/mod.py",
    ],
)
def test_a_file_added_inside_a_pinned_package_is_refused(site: Site, added: str) -> None:
    site.install("acme-policy")
    pin = site.pin("acme-policy")
    path = site.root / added
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(evil(site.marker))
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})
    assert trust_failures(registry)["acme-policy"] == (
        f"refused: unpinned code: {added} is not in its RECORD (added after install)"
    )
    assert site.imported() == [] and not ran_evil(site)


def test_byte_code_and_data_files_do_not_refuse(site: Site) -> None:
    site.install("acme-policy", extra={"acme_policy_mod/data.json": "{}"})
    pin = site.pin("acme-policy")
    (site.root / "acme_policy_mod" / "__pycache__").mkdir(exist_ok=True)
    (site.root / "acme_policy_mod" / "__pycache__" / "helpers.cpython-311.pyc").write_bytes(b"junk")
    (site.root / "acme_policy_mod" / "notes.txt").write_text("not code")
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})
    assert "acme-policy-type" in registry.types and not registry.failures


def test_a_namespace_portion_elsewhere_on_sys_path_is_refused(site: Site, tmp_path: Path) -> None:
    wheels.install(
        site.root,
        "acme-ns",
        files={"acmens/policy.py": plugin_source("acme-ns-type", site.marker)},
        entry_points={"app_connections": {"acme-ns": "acmens.policy"}},
    )
    site.modules.append("acmens")
    activate(site.root)
    pin = site.pin("acme-ns")
    shadow = tmp_path / "cwd"
    (shadow / "acmens").mkdir(parents=True)
    (shadow / "acmens" / "policy.py").write_text(evil(site.marker))
    sys.path.insert(0, str(shadow))
    try:
        registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})
    finally:
        sys.path.remove(str(shadow))
    assert trust_failures(registry)["acme-ns"] == (
        f"refused: unpinned code: its namespace package 'acmens' has another portion at {shadow / 'acmens'}"
    )
    assert site.imported() == [] and not ran_evil(site)
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})  # without the portion it loads
    assert "acme-ns-type" in registry.types and site.imported() == ["acmens", "acmens.policy"]


def test_a_namespace_made_regular_by_an_added_init_is_refused(site: Site) -> None:
    wheels.install(
        site.root,
        "acme-ns",
        files={"acmens/policy.py": plugin_source("acme-ns-type", site.marker)},
        entry_points={"app_connections": {"acme-ns": "acmens.policy"}},
    )
    site.modules.append("acmens")
    activate(site.root)
    pin = site.pin("acme-ns")
    (site.root / "acmens" / "__init__.py").write_text(evil(site.marker))
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})
    assert trust_failures(registry)["acme-ns"] == (
        "refused: unpinned code: acmens/__init__.py makes its namespace package 'acmens' a regular one "
        "(added after install)"
    )
    assert not ran_evil(site)


# --- at import: the guard -----------------------------------------------------------------------


def load_pinned(site: Site) -> Any:
    site.install("acme-policy")
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{site.pin('acme-policy')}"})
    assert "acme-policy-type" in registry.types and site.imported() == ["acme_policy_mod"]
    return registry


def test_a_module_added_after_loading_is_refused_when_imported(site: Site) -> None:
    load_pinned(site)
    (site.root / "acme_policy_mod" / "late.py").write_text(evil(site.marker))
    importlib.invalidate_caches()
    with pytest.raises(ImportRefused, match=r"acme_policy_mod/late.py is not in its RECORD"):
        importlib.import_module("acme_policy_mod.late")
    assert not ran_evil(site)


def test_a_module_changed_after_loading_is_refused_when_imported(site: Site) -> None:
    load_pinned(site)
    helpers = site.root / "acme_policy_mod" / "helpers.py"
    helpers.write_text(evil(site.marker))
    with pytest.raises(ImportRefused, match=r"acme_policy_mod/helpers.py changed after install"):
        importlib.import_module("acme_policy_mod.helpers")
    assert not ran_evil(site)
    helpers.unlink()
    with pytest.raises(ImportRefused, match=r"acme_policy_mod/helpers.py cannot be read"):
        importlib.import_module("acme_policy_mod.helpers")


def test_a_planted_byte_code_file_never_runs(site: Site) -> None:
    load_pinned(site)
    source = site.root / "acme_policy_mod" / "helpers.py"
    info = source.stat()
    code = compile(evil(site.marker), str(source), "exec")
    header = importlib.util.MAGIC_NUMBER + b"\0\0\0\0"
    header += int(info.st_mtime).to_bytes(4, "little") + (info.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    beside = source.parent / "__pycache__" / f"helpers.{sys.implementation.cache_tag}.pyc"
    for cached in {beside, Path(importlib.util.cache_from_source(str(source)))}:  # and under a pycache prefix
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(header + marshal.dumps(code))  # what the default loader would run
    module = importlib.import_module("acme_policy_mod.helpers")
    assert module.VALUE == 1 and not ran_evil(site)


def test_a_module_the_record_does_not_name_is_not_found_elsewhere(site: Site, tmp_path: Path) -> None:
    load_pinned(site)
    with pytest.raises(ModuleNotFoundError, match="in the RECORD of acme-policy"):
        importlib.import_module("acme_policy_mod.nothing")


def test_the_loader_reports_a_module_the_guard_refuses(site: Site) -> None:
    late = site.root / "acme_policy_mod" / "late.py"
    source = plugin_source("acme-policy-type", site.marker) + (
        f"open({str(late)!r}, 'w').write({evil(site.marker)!r})\nfrom . import late\n"
    )
    site.install("acme-policy", extra={"acme_policy_mod/__init__.py": source})
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{site.pin('acme-policy')}"})
    error = trust_failures(registry)["acme-policy"]
    assert error.startswith(
        "refused: acme-policy is pinned by digest, and acme_policy_mod/late.py is not in its RECORD"
    )
    assert "acme-policy-type" not in registry.types and not ran_evil(site)
    prov = next(p for p in registry.trust.provenance if p.plugin == "acme-policy")
    assert (prov.status, prov.reason) == ("refused", error)


def test_a_listed_namespace_directory_of_its_own_is_resolved_from_the_record(site: Site) -> None:
    source = plugin_source("acme-policy-type", site.marker) + "from .sub import inner\n"
    site.install(
        "acme-policy", extra={"acme_policy_mod/__init__.py": source, "acme_policy_mod/sub/inner.py": "X = 3\n"}
    )
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{site.pin('acme-policy')}"})
    assert "acme-policy-type" in registry.types
    assert sys.modules["acme_policy_mod.sub.inner"].X == 3


def test_a_regular_package_shadowing_a_pinned_namespace_is_refused_at_import(site: Site, tmp_path: Path) -> None:
    wheels.install(
        site.root,
        "acme-ns",
        files={"acmens/policy.py": plugin_source("acme-ns-type", site.marker)},
        entry_points={"app_connections": {"acme-ns": "acmens.policy"}},
    )
    site.modules.append("acmens")
    activate(site.root)
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{site.pin('acme-ns')}"})
    assert "acme-ns-type" in registry.types
    sys.modules.pop("acmens.policy")
    sys.modules.pop("acmens")
    shadow = tmp_path / "later"
    (shadow / "acmens").mkdir(parents=True)
    (shadow / "acmens" / "__init__.py").write_text(evil(site.marker))
    sys.path.insert(0, str(shadow))
    try:
        importlib.invalidate_caches()
        with pytest.raises(ImportRefused, match="makes its namespace package 'acmens' a regular one"):
            importlib.import_module("acmens.policy")
    finally:
        sys.path.remove(str(shadow))
    assert not ran_evil(site)


def test_an_open_mode_load_drops_the_guard(site: Site) -> None:
    load_pinned(site)
    assert [p.distribution for p in trust.GUARD.pins] == ["acme-policy"] and sys.meta_path[0] is trust.GUARD
    load_plugins(env={})
    assert trust.GUARD.pins == () and trust.GUARD not in sys.meta_path


def test_a_symlinked_package_directory_is_judged_where_it_resolves(site: Site, tmp_path: Path) -> None:
    site.install("acme-policy")
    pin = site.pin("acme-policy")
    store = tmp_path / "store" / "acme_policy_mod"
    shutil.move(str(site.root / "acme_policy_mod"), store)
    (site.root / "acme_policy_mod").symlink_to(store, target_is_directory=True)
    importlib.invalidate_caches()
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})
    assert "acme-policy-type" in registry.types and not registry.failures


def test_too_many_files_to_check_is_refused(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    from app_connections.trust import imports

    site.install("acme-policy")
    monkeypatch.setattr(imports, "MAX_SCANNED_ENTRIES", 1)
    dist = site.dist("acme-policy")
    pin = trust.pin_for(dist, trust.installed.record_entries(dist), "acme-policy")
    assert import_problem(pin, path=[]) == "more than 1 files in its packages to check"


# --- one distribution per name ------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["acme-policy-1.0.dist-info", "a_c_m_e-1.0.dist-info"])
def test_a_second_dist_info_of_a_pinned_name_is_refused_before_any_import(site: Site, spelling: str) -> None:
    site.install("acme-policy")
    pin = site.pin("acme-policy")
    real = site.root / "acme_policy-1.0.dist-info"
    copy = site.root / spelling
    shutil.copytree(real, copy)  # a byte copy of the RECORD: the same digest
    (copy / "entry_points.txt").write_text("[app_connections]\nacme-policy-x = evil_mod\n")
    (site.root / "evil_mod.py").write_text(evil(site.marker))
    site.modules.append("evil_mod")
    importlib.invalidate_caches()
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})
    failures = trust_failures(registry)
    expected = (
        f"refused: 2 metadata directories claim the name acme-policy ({real}, {copy}): which one is the "
        "installed distribution cannot be told; remove the one you did not install"
    )
    assert failures["acme-policy"] == failures["acme-policy-x"] == expected
    assert site.imported() == [] and not ran_evil(site)


def test_a_second_dist_info_is_reported_in_open_mode(site: Site) -> None:
    site.install("acme-policy")
    real = site.root / "acme_policy-1.0.dist-info"
    copy = site.root / "acme-policy-1.0.dist-info"
    shutil.copytree(real, copy)  # its own entry_points.txt: the same entry point, read twice
    importlib.invalidate_caches()
    registry = load_plugins(env={})
    assert "acme-policy-type" in registry.types
    assert registry.trust.notices == [
        f"2 metadata directories claim the name acme-policy ({real}, {copy}): which one is the installed "
        "distribution cannot be told; remove the one you did not install (in allow-list mode it would be refused)"
    ]


def test_a_second_dist_info_hidden_by_importlib_still_counts(site: Site, tmp_path: Path) -> None:
    site.install("acme-policy")
    pin = site.pin("acme-policy")
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    shutil.copytree(site.root / "acme_policy-1.0.dist-info", earlier / "acme_policy-1.0.dist-info")
    sys.path.append(str(earlier))  # after the site: importlib passes over it
    try:
        registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})
    finally:
        sys.path.remove(str(earlier))
    assert "2 metadata directories claim the name acme-policy" in trust_failures(registry)["acme-policy"]
    assert site.imported() == []


# --- start-up files no distribution lists ----------------------------------------------------------


def test_a_loose_pth_with_an_import_line_is_named(site: Site) -> None:
    site.install("acme-policy", extra={"acme-owned.pth": "import os\n"})
    (site.root / "zz-loose.pth").write_text("# a comment\nimport os; os.environ.setdefault('X', '1')\n")
    (site.root / "zz-paths.pth").write_text("/somewhere/else\n")  # path lines only: inert
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{site.pin('acme-policy')}"})
    assert registry.trust.notices == [
        f"{site.root / 'zz-loose.pth'} runs code at start-up before any loader, and no installed "
        "distribution lists it: remove it if you did not put it there"
    ]


def test_unreadable_start_up_files_and_records_are_passed_over(site: Site, tmp_path: Path) -> None:
    site.install("acme-policy")
    (site.root / "acme_policy-1.0.dist-info" / "RECORD").write_bytes(b"\xff\xfe not utf-8")
    (site.root / "dir.pth").mkdir()  # a directory is no .pth to read
    (site.root / "loose.pth").write_text("import os\n")
    assert trust.installed.loose_startup_files([str(site.root), str(tmp_path / "missing")]) == [
        str(site.root / "loose.pth")
    ]


# --- bounded hashing -------------------------------------------------------------------------------


def test_pin_refuses_to_hash_more_than_the_cap_without_reading_it(site: Site) -> None:
    site.install("acme-policy")
    dist = site.dist("acme-policy")
    check = trust.verify_files(dist, max_bytes=10)
    assert not check.ok and check.problem is not None
    assert check.problem.endswith("too large to hash") and "exceed 10 bytes at acme_policy_mod/" in check.problem


def test_a_sparse_file_a_record_names_is_not_read(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    from app_connections.trust import installed

    site.install("acme-policy")
    big = site.root / "acme_policy_mod" / "blob.bin"
    with open(big, "wb") as fh:  # sparse: 64 MiB on paper, nothing on disk
        fh.truncate(64 << 20)
    record = site.root / "acme_policy-1.0.dist-info" / "RECORD"
    record.write_text(record.read_text() + f"acme_policy_mod/blob.bin,sha256=AAAA,{64 << 20}\n")
    monkeypatch.setattr(installed, "MAX_HASHED_BYTES", 1 << 20)
    with pytest.raises(ValueError, match=r"exceed 1 MiB at acme_policy_mod/blob.bin: too large to hash"):
        trust.pin_entry(site.dist("acme-policy"))
    record.write_text(record.read_text().replace(f",{64 << 20}\n", ",1\n"))  # a size that differs: not read
    with pytest.raises(ValueError, match=r"blob.bin changed after install \(size 67108864, RECORD says 1\)"):
        trust.pin_entry(site.dist("acme-policy"))


# --- byte-code the RECORD lists --------------------------------------------------------------------


def install_compiled(site: Site) -> Path:
    """acme-policy as pip installs it: compiled, the byte-code listed in RECORD with its hash."""
    wheels.install(
        site.root,
        "acme-policy",
        files={
            "acme_policy_mod/__init__.py": plugin_source("acme-policy-type", site.marker) + "from . import helpers\n",
            "acme_policy_mod/helpers.py": "VALUE = 1\n",
        },
        entry_points={"app_connections": {"acme-policy": "acme_policy_mod"}},
        bytecode=True,
    )
    site.modules.append("acme_policy_mod")
    activate(site.root)
    return site.root / "acme_policy_mod" / "__pycache__" / f"helpers.{sys.implementation.cache_tag}.pyc"


def test_listed_byte_code_runs_in_place_of_its_source(site: Site) -> None:
    install_compiled(site)
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{site.pin('acme-policy')}"})
    assert "acme-policy-type" in registry.types and sys.modules["acme_policy_mod.helpers"].VALUE == 1


def test_changed_listed_byte_code_is_refused_when_used(site: Site) -> None:
    cached = install_compiled(site)
    pin = site.pin("acme-policy")
    data = bytearray(cached.read_bytes())
    data[-1] ^= 1  # same size: only the hash tells
    cached.write_bytes(bytes(data))
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})
    assert "__pycache__/helpers." in trust_failures(registry)["acme-policy"]
    assert "changed after install" in trust_failures(registry)["acme-policy"]


def test_listed_byte_code_of_another_interpreter_falls_back_to_the_source(site: Site) -> None:
    cached = install_compiled(site)
    data = b"\0\0\0\0" + cached.read_bytes()[4:]  # another magic number: not this interpreter's
    cached.write_bytes(data)
    record = site.root / "acme_policy-1.0.dist-info" / "RECORD"
    rel = cached.relative_to(site.root).as_posix()
    rows = [r for r in record.read_text().splitlines() if not r.startswith(rel + ",")]
    record.write_text("\n".join([*rows, f"{rel},{wheels._record_hash(data)},{len(data)}"]) + "\n")
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{site.pin('acme-policy')}"})
    assert "acme-policy-type" in registry.types and sys.modules["acme_policy_mod.helpers"].VALUE == 1


# --- the guard's corners ---------------------------------------------------------------------------


def test_an_extension_module_the_record_lists_is_checked_then_loaded(site: Site) -> None:
    import _bisect

    binary = Path(_bisect.__file__).read_bytes()  # a real extension module, named for its init function
    rel = f"acme_policy_mod/_bisect{EXT}"
    source = plugin_source("acme-policy-type", site.marker) + "from . import _bisect\n"
    site.install("acme-policy", extra={"acme_policy_mod/__init__.py": source, rel: binary})  # type: ignore[dict-item]  # bytes are written as is
    pin = site.pin("acme-policy")
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})
    assert "acme-policy-type" in registry.types and sys.modules["acme_policy_mod._bisect"].bisect_left([1, 3], 2) == 1
    for name in [m for m in sys.modules if m.startswith("acme_policy_mod")]:
        sys.modules.pop(name)
    (site.root / rel).unlink()  # a new file: the loaded one stays mapped, unchanged
    (site.root / rel).write_bytes(binary[:-1] + bytes([binary[-1] ^ 1]))  # same size, another hash
    with pytest.raises(ImportRefused, match=rf"acme_policy_mod/_bisect{EXT} changed after install"):
        importlib.import_module("acme_policy_mod._bisect")


def test_a_sourceless_module_the_record_lists_runs_from_its_verified_bytes(site: Site) -> None:
    code = compile("VALUE = 7\n", "legacy.py", "exec")
    pyc = importlib.util.MAGIC_NUMBER + b"\0" * 12 + marshal.dumps(code)
    site.install("acme-policy", extra={"acme_policy_mod/legacy.pyc": pyc})  # type: ignore[dict-item]  # bytes are written as is
    load_plugins(env={ALLOWLIST_ENV: f"{OURS},{site.pin('acme-policy')}"})
    assert importlib.import_module("acme_policy_mod.legacy").VALUE == 7


def test_record_rows_that_are_no_module_are_not_owned(site: Site) -> None:
    site.install(
        "acme-policy",
        extra={"acme_policy-1.0.data/scripts/tool.py": "", "acme_policy_mod/not-a-name.py": "", "bin/x.py": ""},
    )
    dist = site.dist("acme-policy")
    pin = trust.pin_for(dist, trust.installed.record_entries(dist), "acme-policy")
    assert pin.owned == {"acme_policy_mod", "bin.x"} and pin.namespaces == {"bin"}


def test_a_directory_loop_inside_a_pinned_package_is_scanned_once(site: Site) -> None:
    site.install("acme-policy")
    pin = site.pin("acme-policy")
    (site.root / "acme_policy_mod" / "loop").symlink_to(site.root / "acme_policy_mod", target_is_directory=True)
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})
    assert "acme-policy-type" in registry.types


def test_the_guard_stays_first_and_answers_only_for_its_names(site: Site) -> None:
    wheels.install(
        site.root,
        "acme-ns",
        files={"acmens/policy.py": plugin_source("acme-ns-type", site.marker)},
        entry_points={"app_connections": {"acme-ns": "acmens.policy"}},
    )
    site.modules.append("acmens")
    activate(site.root)
    load_plugins(env={ALLOWLIST_ENV: f"{OURS},{site.pin('acme-ns')}"})
    assert trust.GUARD.find_spec("acmens.other") is None  # not its module: the path finders decide
    assert trust.GUARD.find_spec("unrelated") is None
    other = importlib.machinery.PathFinder
    sys.meta_path.insert(0, other)  # type: ignore[arg-type]  # a finder class, as the stdlib registers it
    try:
        trust.GUARD.set_pins(trust.GUARD.pins)
        assert sys.meta_path[0] is trust.GUARD
    finally:
        sys.meta_path.remove(other)  # type: ignore[arg-type]  # the same class
    sys.modules.pop("acmens.policy")
    sys.modules.pop("acmens")
    sys.path.remove(str(site.root))
    try:  # a namespace nobody provides any more: not found, as without the guard
        assert trust.GUARD.find_spec("acmens") is None
    finally:
        sys.path.insert(0, str(site.root))


# --- named in types and doctor ---------------------------------------------------------------------


def test_types_and_doctor_name_unpinned_code(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from azure_appconfig_plugin.cli import main

    install_module_plugin(site)
    pin = site.pin("acme-mod")
    (site.root / f"acmeplug{EXT}").write_bytes(b"not loaded")
    reason = f"unpinned code: acmeplug{EXT} is not in its RECORD (added after install) and would be imported first"
    status, detail = loader.doctor_status({ALLOWLIST_ENV: f"{OURS},{pin}"})
    assert status == "invalid" and f"acme-mod (refused: {reason})" in detail
    monkeypatch.setenv(ALLOWLIST_ENV, f"{OURS},{pin}")
    out = io.StringIO()
    assert main(["types"], out=out) == 1
    assert f"plugin acme-mod: REFUSED: {reason}\n" in out.getvalue()
    assert site.imported() == []


def test_a_guarded_package_reads_its_resources(site: Site) -> None:
    site.install("acme-policy", extra={"acme_policy_mod/data.json": '{"a": 1}'})
    load_plugins(env={ALLOWLIST_ENV: f"{OURS},{site.pin('acme-policy')}"})
    import importlib.resources

    package = sys.modules["acme_policy_mod"]
    assert package.__spec__.loader.is_package("acme_policy_mod")
    assert package.__spec__.loader.get_filename() == str(site.root / "acme_policy_mod" / "__init__.py")
    assert importlib.resources.files("acme_policy_mod").joinpath("data.json").read_text() == '{"a": 1}'
