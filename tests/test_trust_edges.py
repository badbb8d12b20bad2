"""The trust kit at its edges (trust/*): request shapes a host's own loader may use (dataclasses,
plain objects, fewer fields), the read-only view as a mapping, entry points a host builds itself
(no distribution), a pin whose install has no RECORD, a verdict decided once per load, and
module names that cannot be looked up."""

from __future__ import annotations

import dataclasses
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from app_connections import trust
from app_connections.testing import fakes
from app_connections.trust import ALLOWLIST_ENV, CredentialsView, SecretWithheld
from app_connections.trust.installed import module_origin, shadowing_problem
from azure_appconfig_plugin.methods import ClientSecretMethod
from trust_sites import Site

CANARY = "canary-trust-edge-secret"
DATA = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "clientSecret": CANARY}
HEX = "cd" * 32


# --- the view ----------------------------------------------------------------------------------------------


def test_only_a_mapping_of_properties_declares_secret_fields() -> None:
    assert trust.secret_fields({"properties": ["clientSecret"]}) == frozenset()
    assert trust.secret_fields(ClientSecretMethod().input_schema()) == {"clientSecret"}


def test_the_view_reads_like_a_read_only_mapping() -> None:
    view = trust.credentials_view(
        dict(DATA, method="client-secret"), ClientSecretMethod().input_schema(), plugin="audit"
    )
    assert isinstance(view, CredentialsView)
    assert "tenantId" in view and "method" in view
    assert "clientSecret" not in view and "nope" not in view
    with pytest.raises(KeyError) as exc:
        view["nope"]
    assert not isinstance(exc.value, SecretWithheld) and exc.value.args == ("nope",)
    assert trust.credentials_view(view, {}) is view  # already restricted: not restricted again (to nothing)


@dataclasses.dataclass(frozen=True)
class DataclassRequest:
    """A host's own request shape: a frozen dataclass without credentials or options."""

    connection_type: str
    method: str | None
    data: Any = None
    endpoint: str | None = None


class PlainRequest:
    """A host's own request shape: a plain object."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def test_a_dataclass_request_without_credentials_or_options_is_restricted() -> None:
    request = DataclassRequest("azure-app-configuration", "client-secret", dict(DATA), "https://x.azconfig.io")
    seen = trust.restricted_request(request, ClientSecretMethod().input_schema(), plugin="audit")
    assert type(seen) is DataclassRequest and seen is not request
    assert (seen.connection_type, seen.method) == (request.connection_type, "client-secret")
    assert seen.endpoint == request.endpoint
    assert isinstance(seen.data, CredentialsView) and seen.data.withheld == {"clientSecret"}
    assert CANARY not in repr(seen) and request.data["clientSecret"] == CANARY
    assert not hasattr(seen, "credentials") and not hasattr(seen, "options")


def test_a_plain_object_request_is_copied_and_restricted() -> None:
    token = object()
    request = PlainRequest(
        connection_type="azure-app-configuration",
        method="client-secret",
        credentials=ClientSecretMethod().parse(DATA),
        token_credential=token,
        data=None,
        options=None,
        extra="kept",
    )
    seen = trust.restricted_request(request, ClientSecretMethod().input_schema())
    assert type(seen) is PlainRequest and seen is not request
    assert seen.token_credential is None and request.token_credential is token
    assert seen.credentials.to_dict() == {
        "method": "client-secret",
        "tenantId": fakes.FAKE_TENANT_ID,
        "clientId": fakes.FAKE_CLIENT_ID,
        "cloud": "public",
    }
    with pytest.raises(SecretWithheld):
        seen.credentials.client_secret  # noqa: B018 - the attribute access itself must raise
    assert (seen.data, seen.options, seen.extra) == (None, None, "kept")


# --- verdicts ------------------------------------------------------------------------------------------


def test_an_entry_point_a_host_built_itself_has_no_distribution_to_match() -> None:
    ep = metadata.EntryPoint("handmade", "handmade_mod:plugin", "app_connections")
    report = trust.TrustReport.start({ALLOWLIST_ENV: "acme"})
    report.expect([ep])  # no distribution: nothing to expect
    first, second = report.admit(ep), report.admit(ep)
    assert first.status == second.status == trust.BLOCKED
    assert first.reason == "its distribution is unknown, so it cannot match the allow-list"
    assert [p.to_dict()["distribution"] for p in report.provenance] == [None, None]
    assert report.provenance[0].to_dict()["recordDigest"] is None and report.provenance[0].version is None
    assert report.refused == []  # blocked, not refused


def test_open_mode_is_said_in_words() -> None:
    report = trust.TrustReport.start({})
    assert (report.mode, report.mode_text) == ("open", "open mode")
    assert trust.TrustReport.start({ALLOWLIST_ENV: "a,b"}).mode_text == "allow-list mode (2 entries)"


def test_a_digest_pin_of_an_install_without_record_is_refused(tmp_path: Path) -> None:
    info = tmp_path / "norecord-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: norecord\nVersion: 1.0\n")
    dist = metadata.PathDistribution(info)
    verdict = trust.judge(dist, trust.parse_allow_list(f"norecord==1.0@sha256:{HEX}"))
    assert verdict.status == trust.REFUSED
    assert verdict.reason == "norecord has no RECORD file to compare with the pinned digest"


def _entry_point(site: Site, name: str) -> metadata.EntryPoint:
    return next(ep for ep in metadata.entry_points(group="app_connections") if ep.name == name)


def test_a_verdict_is_decided_once_per_load_and_refusals_are_listed(site: Site) -> None:
    module = site.install("acme-policy")
    pin = site.pin("acme-policy")
    ep = _entry_point(site, "acme-policy")
    report = trust.TrustReport.start({ALLOWLIST_ENV: pin})
    assert report.admit(ep).status == trust.ALLOWED
    (site.root / module / "helpers.py").write_text("VALUE = 2\n")  # changed after this load's verdict
    assert report.admit(ep).status == trust.ALLOWED  # the same load: its verdict stands (hashed once)
    assert report.refused == []
    later = trust.TrustReport.start({ALLOWLIST_ENV: pin})
    assert later.admit(ep).status == trust.REFUSED  # the next load sees the change
    assert [p.plugin for p in later.refused] == ["acme-policy"]
    assert later.refused[0].reason.startswith("tampered: ")


# --- module lookups -----------------------------------------------------------------------------------


def test_module_names_that_cannot_be_looked_up(tmp_path: Path) -> None:
    info = tmp_path / "odd-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: odd\nVersion: 1.0\n")
    dist = metadata.PathDistribution(info)
    assert module_origin("") is None and module_origin(".relative") is None
    assert shadowing_problem(dist, [], [".relative"]) == "module '' of its entry point cannot be found"


def test_a_namespace_package_entry_point_is_checked_through_its_portions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ns_only_pkg_here" / "inner").mkdir(parents=True)  # no __init__.py: a namespace package
    (tmp_path / "ns_only_pkg_here" / "inner" / "__init__.py").write_text("")
    (tmp_path / "plain_after_ns.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    info = tmp_path / "ns-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ns\nVersion: 1.0\n")
    dist = metadata.PathDistribution(info)
    files = [metadata.PackagePath("ns_only_pkg_here/inner/__init__.py")]
    assert shadowing_problem(dist, files, ["ns_only_pkg_here.inner"]) is None
    # the loop goes on past the namespace package: the next module is still checked
    problem = shadowing_problem(dist, files, ["ns_only_pkg_here.inner", "plain_after_ns"])
    assert problem is not None and problem.startswith("module 'plain_after_ns' would be imported from ")
