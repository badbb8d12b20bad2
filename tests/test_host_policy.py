"""The host policy in a multi-user host: the host's own identity is not lent to form users, a path
field is no oracle of the disk, and a FIFO never stalls a worker."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app_connections.errors import MethodDisabled, PathRefused
from app_connections.loader import Registry, load_plugins
from app_connections.paths import PATH_REFUSED
from app_connections.policy import HostPolicy
from app_connections.testing import fakes
from app_connections.testing.audit import opened_files
from azure_appconfig_plugin import plugin
from azure_appconfig_plugin.auth.workload_identity import UNUSABLE
from azure_appconfig_plugin.connection import SLUG
from azure_appconfig_plugin.errors import InvalidFederatedToken
from builtin import clear_ambient_identity
from standins.identity import IdentityEndpoint
from test_auth_workload_identity import federated_token

SCOPE = "https://azconfig.io/.default"
FORM = {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID}


def registry(policy: HostPolicy | None = None) -> Registry:
    return load_plugins(plugins=[("azure-appconfig", plugin)], use_entry_points=False, env={}, policy=policy)


@pytest.fixture
def identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[IdentityEndpoint]:
    """The host's own ambient identity: AKS variables, an App Service identity endpoint (stand-in)."""
    clear_ambient_identity(monkeypatch)
    token = tmp_path / "host" / "azure-identity-token"
    token.parent.mkdir()
    token.write_text(federated_token())
    endpoint = IdentityEndpoint()
    endpoint.body = {
        "access_token": fakes.FAKE_ACCESS_TOKEN,
        "expires_on": str(int(time.time()) + 3600),
        "resource": "https://azconfig.io",
        "token_type": "Bearer",
    }
    for key, value in {
        "AZURE_TENANT_ID": fakes.FAKE_TENANT_ID,
        "AZURE_CLIENT_ID": fakes.FAKE_CLIENT_ID,
        "AZURE_FEDERATED_TOKEN_FILE": str(token),
        "IDENTITY_ENDPOINT": endpoint.url + "/msi/token",
        "IDENTITY_HEADER": "canary-identity-header-Pq3",
    }.items():
        monkeypatch.setenv(key, value)
    yield endpoint
    endpoint.close()


# --- ambient identity ------------------------------------------------------------------------------


def test_the_default_policy_offers_no_method_that_acts_as_the_host(identity: IdentityEndpoint) -> None:
    ctype = registry().get(SLUG)
    assert "workload-identity" not in ctype.methods and "managed-identity" not in ctype.methods
    assert set(ctype.disabled) == {"workload-identity", "managed-identity"}
    assert {"oauth", "client-secret", "certificate", "access-key"} <= set(ctype.methods)


@pytest.mark.parametrize("method", ["workload-identity", "managed-identity"])
def test_an_empty_form_is_refused_and_no_identity_endpoint_is_asked(identity: IdentityEndpoint, method: str) -> None:
    reg = registry()
    with pytest.raises(MethodDisabled) as err:
        reg.get(SLUG).parse(method, {})
    assert err.value.field == "method" and method in str(err.value) and "ambient_identity=True" in str(err.value)
    report = reg.validate(SLUG, method, {}, endpoint=fakes.FAKE_STORE_ENDPOINT)
    first = report.checks[0]
    assert (first.name, first.status.value) == ("input", "failed") and "ambient_identity=True" in first.detail
    assert identity.requests == []  # the host's identity endpoint was never asked


def test_a_stored_connection_of_a_disabled_method_is_refused_too(identity: IdentityEndpoint) -> None:
    with pytest.raises(MethodDisabled):
        registry().get(SLUG).load({"method": "managed-identity", "cloud": "public"})


def test_an_operator_policy_lends_the_host_identity_as_before(identity: IdentityEndpoint) -> None:
    ctype = registry(HostPolicy.operator()).get(SLUG)
    wi = ctype.parse("workload-identity", {})
    assert (wi.tenant_id, wi.token_file_path) == (fakes.FAKE_TENANT_ID, os.environ["AZURE_FEDERATED_TOKEN_FILE"])
    token = ctype.token_credential(ctype.parse("managed-identity", {})).get_token(SCOPE)
    assert token.token == fakes.FAKE_ACCESS_TOKEN and len(identity.requests) == 1


def test_the_policy_environment_is_the_only_one_read(identity: IdentityEndpoint, tmp_path: Path) -> None:
    """With ambient identity lent from an explicit env=, the process environment is not consulted."""
    own = tmp_path / "host" / "azure-identity-token"
    env = {"AZURE_TENANT_ID": "contoso.onmicrosoft.com", "AZURE_CLIENT_ID": fakes.FAKE_CLIENT_ID}
    ctype = registry(HostPolicy(ambient_identity=True, env={**env, "AZURE_FEDERATED_TOKEN_FILE": str(own)})).get(SLUG)
    assert ctype.parse("workload-identity", {}).tenant_id == "contoso.onmicrosoft.com"
    with pytest.raises(Exception, match="AZURE_FEDERATED_TOKEN_FILE"):
        ctype.parse("workload-identity", {}, policy=HostPolicy(ambient_identity=True, env=env))


def test_a_host_may_turn_methods_off_per_type() -> None:
    reg = registry(HostPolicy.library(methods={SLUG: ["client-secret"]}))
    assert list(reg.get(SLUG).methods) == ["client-secret"]
    with pytest.raises(MethodDisabled, match="HostPolicy\\(methods="):
        reg.get(SLUG).parse("oauth", {})


# --- no oracle -------------------------------------------------------------------------------------


@pytest.fixture
def allowed(tmp_path: Path) -> Path:
    root = tmp_path / "tenant-tokens"
    root.mkdir()
    (root / "token").write_text(federated_token())
    (root / "link").symlink_to("/etc/shadow")
    return root


PROBES = ["/nonexistent", "/root", "/etc/shadow", "../../etc/passwd"]


def test_paths_outside_the_policy_are_refused_alike_and_never_opened(allowed: Path) -> None:
    policy = HostPolicy.library(allowed_dirs=[allowed])
    ctype = registry(policy).get(SLUG)
    assert "workload-identity" in ctype.methods  # a directory is allowed: the method is offered
    ctype.parse("workload-identity", {**FORM, "tokenFilePath": str(allowed / "token")})  # warm: imports done
    messages = []
    with opened_files() as opened:
        for path in [*PROBES, str(allowed / "link")]:
            with pytest.raises(PathRefused) as err:
                ctype.parse("workload-identity", {**FORM, "tokenFilePath": path})
            messages.append(str(err.value))
            with pytest.raises(PathRefused) as stored:
                ctype.load({"method": "workload-identity", **FORM, "tokenFilePath": path, "cloud": "public"})
            messages.append(str(stored.value))
    assert len(set(messages)) == 1 and PATH_REFUSED in messages[0]
    assert opened == []  # nothing was opened, inside the allowed directory or out


def test_an_unusable_file_inside_is_one_generic_message(allowed: Path, caplog: pytest.LogCaptureFixture) -> None:
    ctype = registry(HostPolicy.library(allowed_dirs=[allowed])).get(SLUG)
    (allowed / "dir").mkdir()
    (allowed / "secret").write_text("canary-not-a-token-contents")
    with pytest.raises(InvalidFederatedToken):  # warm: what the token path imports is imported
        ctype.token_credential(
            ctype.parse("workload-identity", {**FORM, "tokenFilePath": str(allowed / "warm")})
        ).get_token(SCOPE)
    errors = []
    for name in ["absent", "dir", "secret"]:
        creds = ctype.parse("workload-identity", {**FORM, "tokenFilePath": str(allowed / name)})
        outside_allowed = opened_files(lambda p: not p.startswith(str(allowed)))
        with outside_allowed as outside, pytest.raises(InvalidFederatedToken) as err:
            ctype.token_credential(creds).get_token(SCOPE)
        assert outside == []
        errors.append(str(err.value))
    assert len(set(errors)) == 1 and UNUSABLE in errors[0]
    assert "canary-not-a-token" not in caplog.text and "ENOENT" in caplog.text  # the reason, not the contents


def test_a_token_file_whose_link_leads_out_after_parsing_is_refused_at_the_request(tmp_path: Path) -> None:
    # a projected volume rotates its token by swapping a link: one swapped to lead out of the allowed
    # directory after the record was parsed is refused when the token is read, before any request
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir(), outside.mkdir()
    (allowed / "real").write_text(federated_token())
    (outside / "secret").write_text("canary-outside-contents")
    (allowed / "token").symlink_to(allowed / "real")
    ctype = registry(HostPolicy.library(allowed_dirs=[allowed])).get(SLUG)
    creds = ctype.parse("workload-identity", {**FORM, "tokenFilePath": str(allowed / "token")})
    (allowed / "token").unlink()
    (allowed / "token").symlink_to(outside / "secret")
    with pytest.raises(InvalidFederatedToken) as err:
        ctype.token_credential(creds).get_token(SCOPE)
    assert err.value.code == "token_file_refused" and err.value.field == "tokenFilePath"
    assert "not a path this host allows" in str(err.value) and "canary-outside" not in str(err.value)
    assert str(outside) not in str(err.value)


# --- no blocking -----------------------------------------------------------------------------------


def test_a_fifo_token_file_is_a_typed_error_at_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    ctype = registry(HostPolicy.library(allowed_dirs=[tmp_path])).get(SLUG)
    creds = ctype.parse("workload-identity", {**FORM, "tokenFilePath": str(fifo)})
    started = time.monotonic()
    with pytest.raises(InvalidFederatedToken) as err:  # no writer: a blocking open would wait forever
        ctype.token_credential(creds).get_token(SCOPE)
    report = ctype.validate(creds, endpoint=fakes.FAKE_STORE_ENDPOINT)
    assert time.monotonic() - started < 1.0
    assert err.value.code == "token_file_unusable" and "not a regular file" in caplog.text
    assert {c.name: c.status.value for c in report.checks}["token"] == "failed"


def test_a_token_file_read_outside_the_operation_deadline_is_refused(allowed: Path, monkeypatch: Any) -> None:
    from azure_appconfig_plugin.http.deadlines import operation_deadline

    ctype = registry(HostPolicy.library(allowed_dirs=[allowed])).get(SLUG)
    creds = ctype.parse("workload-identity", {**FORM, "tokenFilePath": str(allowed / "token")})
    with operation_deadline(0.0), pytest.raises(InvalidFederatedToken) as err:
        ctype.token_credential(creds).get_token(SCOPE)
    assert err.value.code in ("token_file_unusable", "deadline_exceeded")


# --- the docs page -----------------------------------------------------------------------------------


def test_the_policy_page_block_runs_as_documented() -> None:
    import contextlib
    import io

    from docs_pages import blocks, page

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in blocks(page("policy.md"), "python"):
            exec(compile(block, "policy.md", "exec"), {})
    assert out.getvalue().splitlines() == [
        "['access-key', 'certificate', 'client-secret', 'oauth'] ['managed-identity', 'workload-identity']",
        "MethodDisabled method",
    ]
