"""Rotation that survives a failing host: when ``on_rotate`` raises (the host's database is locked),
the credential keeps the rotated tokens, reports ``RotationNotSaved`` (logged, and on the
credential), and calls ``on_rotate`` again with the newest refresh token; the token request itself
succeeds and no new sign-in is needed, also for a credential built again from the host's older record."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator

import pytest

from app_connections.errors import RotationNotSaved
from app_connections.testing import fakes
from azure_appconfig_plugin.auth import credential as credential_module
from azure_appconfig_plugin.auth.credential import OAuthTokenCredential, UnsavedRotations
from azure_appconfig_plugin.methods.oauth import OAuthCredentials
from azure_appconfig_plugin.settings import InstanceSettings
from azure_appconfig_plugin.testing import fakes as azure_fakes

from .standins import Answer, IdentityPlatform, Seen, json_answer

SCOPE = "https://azconfig.io/.default"


class FlakyStore:
    """A host's storage: ``on_rotate`` raises like a locked sqlite database ``fails`` times, then saves."""

    def __init__(self, fails: int) -> None:
        self.fails = fails
        self.calls: list[str] = []
        self.saved: list[str] = []

    def on_rotate(self, updated: OAuthCredentials) -> None:
        self.calls.append(updated.refresh_token)
        if len(self.calls) <= self.fails:
            raise sqlite3.OperationalError("database is locked")
        self.saved.append(updated.to_dict()["refreshToken"])


@pytest.fixture(autouse=True)
def _fresh_unsaved(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(credential_module, "unsaved_rotations", UnsavedRotations())
    yield


def rotating(identity: IdentityPlatform, expires_in: int) -> None:
    """Each refresh answers ``rt-<n>`` / ``at-<n>`` (n: the request's number), valid ``expires_in`` s."""

    def answer(seen: Seen, tid: str) -> Answer:
        n = len(identity.token_requests)
        return json_answer(
            {"token_type": "Bearer", "expires_in": expires_in, "access_token": f"at-{n}", "refresh_token": f"rt-{n}"}
        )

    identity.token_answer = answer


def stored(refresh_token: str = "rt-0") -> OAuthCredentials:
    return OAuthCredentials(
        tenant_id=fakes.FAKE_TENANT_ID, client_id=fakes.FAKE_INSTANCE_CLIENT_ID, refresh_token=refresh_token
    )


def settings() -> InstanceSettings:
    return InstanceSettings.from_env(azure_fakes.fake_instance_env())


def sent_refresh_tokens(identity: IdentityPlatform) -> list[str]:
    return [seen.form["refresh_token"][0] for seen in identity.token_requests]


def test_a_raising_on_rotate_loses_no_token(identity: IdentityPlatform, caplog: pytest.LogCaptureFixture) -> None:
    rotating(identity, expires_in=3600)
    host = FlakyStore(fails=1)
    cred = OAuthTokenCredential(stored(), settings(), on_rotate=host.on_rotate, clock=lambda: 0.0)
    with caplog.at_level(logging.ERROR, logger="azure_appconfig_plugin.auth"):
        first = cred.get_token(SCOPE)  # does not raise: the token is good, only saving it failed
    assert first.token == "at-1" and host.calls == ["rt-1"] and host.saved == []
    assert isinstance(cred.rotation_error, RotationNotSaved) and cred.rotation_pending
    error = cred.rotation_error
    assert (
        error.code == "rotation_not_saved" and error.retryable and error.cause == "OperationalError: database is locked"
    )
    logged = [r for r in caplog.records if r.name == "azure_appconfig_plugin.auth"]
    assert (
        len(logged) == 1 and "was not saved: on_rotate raised OperationalError: database is locked" in logged[0].message
    )
    assert all(token not in logged[0].message for token in ("rt-1", "at-1", "rt-0"))

    second = cred.get_token(SCOPE)  # no new sign-in, no new request: the kept token, and the callback again
    assert second.token == "at-1" and len(identity.token_requests) == 1
    assert host.calls == ["rt-1", "rt-1"] and host.saved == ["rt-1"]
    assert cred.rotation_error is None and not cred.rotation_pending
    cred.get_token(SCOPE)
    assert host.calls == ["rt-1", "rt-1"]  # saved: not handed over again


def test_the_callback_is_retried_with_the_newest_refresh_token(identity: IdentityPlatform) -> None:
    rotating(identity, expires_in=10)  # below the refresh margin: every call refreshes and rotates
    host = FlakyStore(fails=2)
    cred = OAuthTokenCredential(stored(), settings(), on_rotate=host.on_rotate, clock=lambda: 0.0)
    tokens = [cred.get_token(SCOPE).token for _ in range(3)]
    assert tokens == ["at-1", "at-2", "at-3"]
    assert sent_refresh_tokens(identity) == ["rt-0", "rt-1", "rt-2"]  # each refresh used the newest
    assert host.calls == ["rt-1", "rt-2", "rt-3"] and host.saved == ["rt-3"]


def test_a_credential_built_again_from_the_older_record_continues_from_the_newest(
    identity: IdentityPlatform,
) -> None:
    """The host stores nothing (its database is locked) and builds the credential again from the record
    it holds, whose refresh token is spent: the process still has the newest one and uses it."""
    rotating(identity, expires_in=10)
    host = FlakyStore(fails=1)
    OAuthTokenCredential(stored(), settings(), on_rotate=host.on_rotate, clock=lambda: 0.0).get_token(SCOPE)
    again = OAuthTokenCredential(stored(), settings(), on_rotate=host.on_rotate, clock=lambda: 0.0)
    assert again.credentials.refresh_token == "rt-1" and again.rotation_pending
    assert again.get_token(SCOPE).token == "at-2"
    assert sent_refresh_tokens(identity) == ["rt-0", "rt-1"]  # never the spent rt-0 twice
    assert host.saved == ["rt-2"] and not again.rotation_pending
    third = OAuthTokenCredential(stored("rt-2"), settings(), on_rotate=host.on_rotate, clock=lambda: 0.0)
    assert third.credentials.refresh_token == "rt-2" and not third.rotation_pending  # saved: nothing carried


def test_save_rotation_raises_the_typed_error_and_keeps_the_tokens(identity: IdentityPlatform) -> None:
    rotating(identity, expires_in=3600)
    host = FlakyStore(fails=2)
    cred = OAuthTokenCredential(stored(), settings(), on_rotate=host.on_rotate, clock=lambda: 0.0)
    cred.get_token(SCOPE)
    with pytest.raises(RotationNotSaved) as caught:
        cred.save_rotation()
    assert "database is locked" in str(caught.value) and "rt-1" not in str(caught.value)
    assert cred.credentials.refresh_token == "rt-1"
    cred.save_rotation()
    assert host.saved == ["rt-1"] and cred.rotation_error is None
    cred.save_rotation()  # nothing pending: no call
    assert host.calls == ["rt-1", "rt-1", "rt-1"]


def test_a_token_in_the_hosts_exception_is_not_repeated(identity: IdentityPlatform) -> None:
    rotating(identity, expires_in=3600)

    def on_rotate(updated: OAuthCredentials) -> None:
        raise ValueError(f"cannot store {updated.refresh_token}")

    cred = OAuthTokenCredential(stored(), settings(), on_rotate=on_rotate, clock=lambda: 0.0)
    cred.get_token(SCOPE)
    assert cred.rotation_error is not None
    assert "rt-1" not in str(cred.rotation_error) and "[REDACTED]" in cred.rotation_error.cause


def test_the_error_redacts_the_tokens_the_credentials_hold_and_nothing_else() -> None:
    # a record may hold no access token (a host stores the refresh token alone): the text stays intact
    cause = sqlite3.OperationalError("could not store rt-secret-9 in table tokens")
    error = credential_module.rotation_not_saved(cause, stored("rt-secret-9"))
    assert error.cause == "OperationalError: could not store [REDACTED] in table tokens"
    assert "rt-secret-9" not in str(error) and stored("rt-secret-9").access_token is None
    both = stored("rt-secret-9").with_tokens("rt-secret-9", "at-secret-9", 3600)
    error = credential_module.rotation_not_saved(sqlite3.OperationalError("rt-secret-9 / at-secret-9"), both)
    assert error.cause == "OperationalError: [REDACTED] / [REDACTED]"
