"""What the store checks say for answers the other fault tests do not produce: a 401 with no
WWW-Authenticate header for an identity without a tenant, a locked sentinel key (409), and the
principal named by methods whose records a host passes in (checks/store.py, methods/*)."""

from __future__ import annotations

from typing import Any

from app_connections.policy import HostPolicy
from app_connections.testing import fakes
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.methods.certificate import CertificateCredentials
from azure_appconfig_plugin.methods.oauth import OAuthCredentials

from .conftest import StaticCredential
from .standins import Answer, Seen, StandIn, json_answer

OPERATOR = HostPolicy.operator()

KVSET = "application/vnd.microsoft.appconfig.kvset+json; charset=utf-8"


def ok_store(seen: Seen) -> Answer:
    if seen.method == "GET":
        return json_answer({"items": []}, **{"Content-Type": KVSET})
    return json_answer({"type": "precondition", "title": "Precondition Failed"}, 412)


def check(report: Any, name: str) -> Any:
    return next(c for c in report.checks if c.name == name)


def test_a_bare_401_for_an_identity_without_a_tenant_says_what_to_fix(store: StandIn) -> None:
    store.route = lambda seen: Answer(401)  # no WWW-Authenticate header, no body
    report = build_connection_type().validate(  # the host's own identity: a policy that lends it
        {}, method="managed-identity", endpoint=store.url, token_credential=StaticCredential(), policy=OPERATOR
    )
    read = check(report, "KeyValue.Read")
    assert (read.status.value, read.code) == ("failed", "401")
    assert read.detail == "the store rejected the token (401): it was not issued for this store's tenant or audience"
    assert read.remediation == "Get a token for https://azconfig.io from the store's own tenant."
    assert [check(report, n).status.value for n in ("KeyValue.Write", "KeyValue.Delete")] == ["skipped", "skipped"]


def test_a_locked_sentinel_key_is_inconclusive_and_names_the_key(store: StandIn) -> None:
    def locked(seen: Seen) -> Answer:
        if seen.method == "PUT":
            return json_answer({"type": "locked", "title": "The key is read-only"}, 409)
        return ok_store(seen)

    store.route = locked
    report = build_connection_type().validate(
        {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "clientSecret": "canary-409"},
        method="client-secret",
        endpoint=store.url,
        token_credential=StaticCredential(),
    )
    write = check(report, "KeyValue.Write")
    assert (write.status.value, write.code) == ("inconclusive", "409")
    assert write.detail.startswith("the sentinel key is locked (409): ")
    assert write.remediation.startswith("Unlock or delete the key ") and write.remediation.endswith(
        ", or use the other probe mode."
    )
    assert check(report, "KeyValue.Delete").status.value == "ok"


def test_a_certificate_record_with_unreadable_material_is_named_without_its_thumbprint(store: StandIn) -> None:
    store.route = ok_store
    record = CertificateCredentials(
        fakes.FAKE_TENANT_ID, fakes.FAKE_CLIENT_ID, private_key="not a key", certificate="not a certificate"
    )
    report = build_connection_type().validate(record, endpoint=store.url, token_credential=StaticCredential())
    read = check(report, "KeyValue.Read")
    assert read.status.value == "ok"
    assert read.detail.startswith(f"the service principal of app {fakes.FAKE_CLIENT_ID} has KeyValue.Read on ")


def test_an_oauth_connection_names_the_user_s_tenant(store: StandIn) -> None:
    store.route = ok_store
    record = OAuthCredentials(fakes.FAKE_TENANT_ID, fakes.FAKE_INSTANCE_CLIENT_ID, "fake-refresh-token-1")
    report = build_connection_type().validate(record, endpoint=store.url, token_credential=StaticCredential())
    assert report.ok, report.to_dict()
    read = check(report, "KeyValue.Read")
    assert read.detail.startswith(f"the user who signed in (tenant {fakes.FAKE_TENANT_ID}) has KeyValue.Read on ")
