"""Plugin trust: allow-list with pins, tamper check, provenance, fail closed.

Plugins here are throw-away distributions laid out like installed wheels, with real RECORD
files (sha256 of every file), discovered through real ``app_connections`` entry points.
Each plugin module records its own import (a marker file and a ``sys.modules`` flag), so a
test can prove that a blocked or refused plugin was never imported.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from app_connections import trust
from app_connections.loader import BLOCKLIST_ENV, load_plugins
from app_connections.testing import wheels
from app_connections.trust import ALLOWLIST_ENV, AllowEntry, AllowListError
from trust_sites import Site, plugin_source

SLUG = "azure-app-configuration"
OURS = "azure-appconfig-plugin"


def trust_failures(registry: Any) -> dict[str, str]:
    return {f.plugin: f.error for f in registry.failures if f.stage == "trust"}


def status(registry: Any) -> dict[str, str]:
    return {p.plugin: p.status for p in registry.trust.provenance}


# --- grammar -------------------------------------------------------------------------------------

HEX = "ab" * 32


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("acme", AllowEntry("acme")),
        ("Acme_Policy==2.0.1", AllowEntry("Acme_Policy", "2.0.1")),
        (f"acme==1!2.0+local.7@sha256:{HEX.upper()}", AllowEntry("acme", "1!2.0+local.7", HEX)),
        (f"acme==2.0@sha256:{HEX}:secrets", AllowEntry("acme", "2.0", HEX, frozenset({"secrets"}))),
        ("acme:secrets", AllowEntry("acme", None, None, frozenset({"secrets"}))),
        ("  acme==1.0  ", AllowEntry("acme", "1.0")),
        (
            "acme:secrets:owns=acme-db:owns=x2",
            AllowEntry("acme", None, None, frozenset({"secrets", "owns=acme-db", "owns=x2"})),
        ),
    ],
)
def test_entry_grammar(text: str, entry: AllowEntry) -> None:
    parsed = trust.parse_entry(text)
    assert parsed == entry
    assert trust.parse_entry(str(parsed)) == parsed  # rendering round-trips


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("acme>=1.0", "only exact pins (==)"),
        ("acme~=1.0", "only exact pins (==)"),
        (f"acme@sha256:{HEX}", "a digest pin needs name==version@sha256"),
        ("acme==1.0@md5:abcd", "not sha256:<hex>"),
        ("acme==1.0@sha256:abcd", "4 hex digits; a SHA-256 has 64"),
        (f"acme==1.0@sha256:{'z' * 64}", "non-hex"),
        ("acme==1.0:admin", "unknown grant 'admin'"),
        ("acme:owns", "unknown grant 'owns'"),
        ("acme:secrets=1", "unknown grant 'secrets=1'"),
        ("acme:owns=Acme_DB", "has 'owns=Acme_DB', whose connection type slug is not lower-case a-z, 0-9, -"),
        ("acme policy", "contains a space"),
        ("-acme", "valid distribution name"),
        ("acme==", "is not valid"),
    ],
)
def test_a_malformed_entry_is_a_typed_error_naming_it(text: str, problem: str) -> None:
    with pytest.raises(AllowListError) as info:
        trust.parse_allow_list(f"{OURS},{text}")
    err = info.value
    assert err.entry == text.strip() and repr(text.strip()) in str(err) and problem in str(err)
    assert err.field == ALLOWLIST_ENV and err.to_dict()["errors"][0]["field"] == ALLOWLIST_ENV


def test_a_distribution_listed_twice_is_an_error() -> None:
    with pytest.raises(AllowListError, match="lists 'acme_policy' a second time"):
        trust.parse_allow_list("acme-policy==1.0,acme_policy==2.0")


def test_a_type_has_one_named_owner() -> None:
    allow = trust.parse_allow_list("acme:owns=acme-db:owns=acme-kv,zeta:owns=zeta-db")
    assert allow.type_owners == {"acme-db": "acme", "acme-kv": "acme", "zeta-db": "zeta"}
    entry = allow.get("acme")
    assert entry is not None and entry.owns == {"acme-db", "acme-kv"}
    with pytest.raises(AllowListError, match="names 'acme-db' owned by 'acme' too; a type has one owner"):
        trust.parse_allow_list("acme:owns=acme-db,zeta:owns=acme-db")


def test_blank_items_are_ignored_and_unset_means_open_mode() -> None:
    assert trust.parse_allow_list(" acme , ,zeta==1,").value() == "acme,zeta==1"
    assert trust.allow_list_from_env({}) is None
    assert trust.allow_list_from_env({ALLOWLIST_ENV: ""}) == trust.AllowList(())


# --- fail closed ---------------------------------------------------------------------------------


def test_a_malformed_allow_list_fails_at_start_up_before_anything_is_imported(site: Site) -> None:
    site.install("acme-policy")
    with pytest.raises(AllowListError, match="'acme-policy>1'"):
        load_plugins(env={ALLOWLIST_ENV: f"{OURS},acme-policy>1"})
    assert site.imported() == []


def test_an_empty_allow_list_loads_nothing_and_says_so(site: Site) -> None:
    site.install("acme-policy")
    registry = load_plugins(env={ALLOWLIST_ENV: " "})
    assert registry.types == {} and site.imported() == []
    assert registry.trust.mode == "allow-list"
    # (a further notice would name a code-running .pth file of an install kept out, e.g. an editable finder)
    assert registry.trust.notices[0] == f"{ALLOWLIST_ENV} is set but empty: no plugin is loaded"
    failures = trust_failures(registry)
    assert set(failures) == {SLUG, "acme-policy"}
    assert all("set but empty" in e for e in failures.values())


def test_this_package_is_not_trusted_implicitly(site: Site) -> None:
    site.install("acme-policy")
    registry = load_plugins(env={ALLOWLIST_ENV: site.pin("acme-policy")})
    assert list(registry.types) == ["acme-policy-type"]
    assert status(registry)[SLUG] == "blocked"
    assert trust_failures(registry)[SLUG] == f"blocked: {OURS} is not listed in {ALLOWLIST_ENV}"


# --- allow-list decisions ---------------------------------------------------------------------------


def test_not_listed_is_blocked_and_never_imported(site: Site) -> None:
    site.install("acme-policy")
    site.install("zeta-tools")
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},acme-policy"})
    assert sorted(registry.types) == ["acme-policy-type", SLUG]
    assert site.imported() == ["acme_policy_mod"]
    assert trust_failures(registry) == {"zeta-tools": f"blocked: zeta-tools is not listed in {ALLOWLIST_ENV}"}
    assert status(registry) == {"acme-policy": "allowed", SLUG: "allowed", "zeta-tools": "blocked"}


def test_wrong_version_is_refused_and_never_imported(site: Site) -> None:
    site.install("acme-policy", "2.0")
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},acme-policy==1.9"})
    assert "acme-policy-type" not in registry.types and site.imported() == []
    assert trust_failures(registry) == {"acme-policy": "refused: acme-policy 2.0 is installed; 1.9 is pinned"}


def test_wrong_digest_is_refused_and_never_imported(site: Site) -> None:
    site.install("acme-policy")
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},acme-policy==1.0@sha256:{HEX}"})
    assert site.imported() == []
    error = trust_failures(registry)["acme-policy"]
    assert error.startswith("refused: the RECORD digest of acme-policy is sha256:" + site.digest("acme-policy"))
    assert error.endswith(f"sha256:{HEX} is pinned")


def test_pinned_by_digest_loads_with_its_provenance(site: Site) -> None:
    module = site.install("acme-policy")
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{site.pin('acme-policy')}"})
    assert "acme-policy-type" in registry.types and not registry.failures
    prov = next(p for p in registry.trust.provenance if p.plugin == "acme-policy")
    data = prov.to_dict()
    assert data == {
        "plugin": "acme-policy",
        "distribution": "acme-policy",
        "version": "1.0",
        "recordDigest": "sha256:" + site.digest("acme-policy"),
        "location": str(site.root / module / "__init__.py"),
        "status": "allowed",
        "reason": "pinned: version, RECORD digest and 7 files match",
        "secretsGranted": False,
    }


@pytest.mark.parametrize("changed", ["acme_policy_mod/__init__.py", "acme_policy_mod/helpers.py"])
def test_a_file_changed_after_install_is_refused_naming_it(site: Site, changed: str) -> None:
    site.install("acme-policy")
    pin = site.pin("acme-policy")
    path = site.root / changed
    path.write_text(path.read_text().replace("1", "2") + "\n# injected\n")
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})
    assert site.imported() == []
    assert trust_failures(registry)["acme-policy"] == (
        f"refused: tampered: {changed} changed after install (size {path.stat().st_size}, "
        f"RECORD says {len(path.read_bytes()) - len(chr(10) + '# injected' + chr(10))})"
    )


def test_same_size_change_is_caught_by_the_hash(site: Site) -> None:
    site.install("acme-policy")
    pin = site.pin("acme-policy")
    path = site.root / "acme_policy_mod/helpers.py"
    path.write_text("VALUE = 2\n")
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})
    assert trust_failures(registry)["acme-policy"] == (
        "refused: tampered: acme_policy_mod/helpers.py changed after install (its sha256 differs from RECORD)"
    )
    assert site.imported() == []


def test_a_deleted_file_is_refused(site: Site) -> None:
    site.install("acme-policy")
    pin = site.pin("acme-policy")
    (site.root / "acme_policy_mod/helpers.py").unlink()
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})
    assert "helpers.py is listed in RECORD but cannot be read" in trust_failures(registry)["acme-policy"]


def test_a_weak_record_hash_is_refused(site: Site) -> None:
    site.install("acme-policy")
    record = site.root / "acme_policy-1.0.dist-info" / "RECORD"
    record.write_text(
        record.read_text().replace("acme_policy_mod/helpers.py,sha256=", "acme_policy_mod/helpers.py,md5=")
    )
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{site.pin('acme-policy')}"})
    assert "with a 'md5' hash, which cannot be trusted" in trust_failures(registry)["acme-policy"]
    assert site.imported() == []


def test_a_shadowing_module_is_refused(site: Site, tmp_path: Path) -> None:
    site.install("acme-policy")
    pin = site.pin("acme-policy")
    shadow = tmp_path / "shadow"
    (shadow / "acme_policy_mod").mkdir(parents=True)
    (shadow / "acme_policy_mod" / "__init__.py").write_text(plugin_source("evil", site.marker))
    sys.path.insert(0, str(shadow))
    try:
        registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{pin}"})
    finally:
        sys.path.remove(str(shadow))
    error = trust_failures(registry)["acme-policy"]
    assert error.startswith("refused: shadowed: module 'acme_policy_mod' would be imported from " + str(shadow))
    assert site.imported() == []


def test_an_editable_install_cannot_be_pinned_by_digest(site: Site) -> None:
    site.install("acme-policy", editable=True)
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{site.pin('acme-policy')}"})
    assert "is an editable install" in trust_failures(registry)["acme-policy"] and site.imported() == []
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},acme-policy==1.0"})
    assert "acme-policy-type" in registry.types


def test_names_match_after_normalisation_and_blocklist_still_wins(site: Site) -> None:
    site.install("acme-policy")
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},ACME_Policy==1.0"})
    assert "acme-policy-type" in registry.types
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},acme-policy", BLOCKLIST_ENV: "acme-policy"})
    assert "acme-policy-type" not in registry.types and status(registry)["acme-policy"] == "blocked"
    assert site.imported() == ["acme_policy_mod"]  # imported by the first load only


def test_a_listed_distribution_that_is_not_installed_is_noticed() -> None:
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},ghost-plugin==1.0"})
    assert SLUG in registry.types
    assert registry.trust.notices == [
        f"{ALLOWLIST_ENV} lists ghost-plugin, which provides no installed app_connections plugin"
    ]


def test_the_loader_api_overrides_the_environment(site: Site) -> None:
    site.install("acme-policy")
    registry = load_plugins(env={ALLOWLIST_ENV: "nothing"}, allowed_plugins=f"{OURS},acme-policy")
    assert "acme-policy-type" in registry.types
    registry = load_plugins(env={}, allowed_plugins=trust.AllowList((AllowEntry(OURS),)))
    assert list(registry.types) == [SLUG] and site.imported() == ["acme_policy_mod"]


def test_in_process_plugins_are_the_hosts_own_choice() -> None:
    from azure_appconfig_plugin import plugin

    registry = load_plugins(plugins=[("ours", plugin)], use_entry_points=False, env={ALLOWLIST_ENV: ""})
    assert SLUG in registry.types
    prov = registry.trust.provenance[0]
    assert (prov.status, prov.reason) == ("allowed", "passed in-process by the host (not subject to the allow-list)")
    assert prov.location is not None and prov.location.endswith("plugin.py")


def test_a_real_wheel_layout_of_this_package_verifies(tmp_path: Path) -> None:
    import azure_appconfig_plugin

    files = wheels.package_files(Path(azure_appconfig_plugin.__file__).parent)
    wheels.install(tmp_path, OURS, "0.1.0", files=files)
    dist = wheels.find(tmp_path, OURS)
    check = trust.verify_files(dist)
    assert check.ok and check.checked == len(files) + 4  # + METADATA, WHEEL, INSTALLER, top_level.txt


def test_a_kept_out_plugin_that_runs_code_at_start_up_is_noticed(site: Site) -> None:
    site.install("acme-policy", extra={"acme-policy-hook.pth": "import os\n"})
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},acme-policy==0.9"})
    assert status(registry)["acme-policy"] == "refused"
    assert registry.trust.notices == [
        "acme-policy is not loaded, but it installs acme-policy-hook.pth, which Python runs at start-up "
        "before any loader: uninstall it if you do not trust it"
    ]


def test_a_path_only_pth_file_is_not_noticed(site: Site) -> None:
    site.install("acme-policy", extra={"acme-policy.pth": "/somewhere/src\n"})
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},acme-policy==0.9"})
    assert status(registry)["acme-policy"] == "refused" and registry.trust.notices == []


def test_a_record_naming_a_device_is_refused_without_reading_it(site: Site) -> None:
    site.install("acme-policy")
    record = site.root / "acme_policy-1.0.dist-info" / "RECORD"
    record.write_text(record.read_text() + "/dev/zero,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n")
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{site.pin('acme-policy')}"})
    assert (
        trust_failures(registry)["acme-policy"]
        == "refused: tampered: /dev/zero is listed in RECORD but is not a regular file"
    )
    assert site.imported() == []


def test_a_record_naming_a_fifo_does_not_hang(site: Site, tmp_path: Path) -> None:
    import os

    site.install("acme-policy")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    record = site.root / "acme_policy-1.0.dist-info" / "RECORD"
    record.write_text(record.read_text() + f"{fifo},sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n")
    registry = load_plugins(env={ALLOWLIST_ENV: f"{OURS},{site.pin('acme-policy')}"})
    assert "is listed in RECORD but is not a regular file" in trust_failures(registry)["acme-policy"]
