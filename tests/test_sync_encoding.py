"""Every query value the sync sends is encoded exactly once: key and label filters (with their
``\\``, ``*`` and ``,`` escapes), ``after`` tokens and next links followed as given, for list,
write and delete; every request is signed with an access key and the stand-in verifies each
signature itself, over the request line as it arrived."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azure_appconfig_plugin.sync.destination import AppConfigurationDestination
from standins.appconfig import StandIn

pytest_plugins = ["standins.fixtures"]  # the stand-in fixtures (standin, fake_token, sync_options)

D = AppConfigurationDestination()
KEY_ID = "0-l0-s0:EncodingKeyId0123"
KEY_SECRET = base64.b64encode(b"an-access-key-secret-for-encoding").decode()

SCOPES = [
    pytest.param("a&b", "p+q/", id="ampersand-label-plus-prefix"),
    pytest.param("x+y", "\u00fc p/#?=", id="plus-label-umlaut-space-hash-prefix"),
    pytest.param("prod~1", "a\\b,c*d &=/", id="reserved-filter-characters-in-the-prefix"),
    pytest.param("50% off/?#=\u00fc", "\u00fc p/", id="percent-slash-question-hash-label"),
]


@pytest.fixture
def signed(standin: StandIn, sync_options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """An access-key connection whose every signature the stand-in verifies, and the run options."""
    standin.access_keys[KEY_ID] = KEY_SECRET
    connection = {"method": "access-key", "endpoint": standin.endpoint, "id": KEY_ID, "secret": KEY_SECRET}
    return connection, {k: v for k, v in sync_options.items() if k != "token_credential"}


def neighbours(s: StandIn, label: str, prefix: str) -> dict[tuple[str, str | None], str]:
    """Entries another team owns next to the scope: the label cut at the first reserved query
    character, or with ``+`` read as a space; the prefix likewise."""
    cut = {label.split("&")[0], label.replace("+", " "), label.split("#")[0], "a", "x y"} - {label}
    out: dict[tuple[str, str | None], str] = {}
    for other in sorted(cut):
        out[(prefix + "S0", other or None)] = f"theirs in {other!r}"
    for other_prefix in {prefix.replace("+", " "), prefix.split("#")[0], prefix.split("&")[0]} - {prefix}:
        out[(other_prefix + "S0", label)] = f"theirs under {other_prefix!r}"
    for (key, lab), value in out.items():
        s.store.put(key, value, label=lab)
    return out


@pytest.mark.parametrize(("label", "prefix"), SCOPES)
def test_push_import_and_delete_are_exact_for_hostile_labels_and_prefixes_over_several_pages(
    standin: StandIn, signed: tuple[dict[str, Any], dict[str, Any]], label: str, prefix: str
) -> None:
    connection, options = signed
    standin.page_size = 2
    theirs = neighbours(standin, label, prefix)
    d = {"endpoint": standin.endpoint, "label": label, "keyPrefix": prefix, "deleteMissing": True}
    secrets = {f"S{i}": f"value {i} & + # % ? = / \u00fc" for i in range(5)}

    first = D.push(connection, d, secrets, **options)
    assert first.ok and first.counts["created"] == 5, first.to_dict()
    assert {(prefix + n, label) for n in secrets} <= set(standin.store.snapshot())
    assert all(standin.store.entry(prefix + n, label)["value"] == v for n, v in secrets.items())

    standin.log.clear()
    again = D.push(connection, d, secrets, **options)  # every page listed again, nothing differs
    assert again.ok and again.counts["unchanged"] == 5 and again.counts["created"] == 0, again.to_dict()
    assert [r["method"] for r in standin.requests()] == ["GET"] * 3  # 5 entries, 2 a page: list pages only

    back = D.import_secrets(connection, d, **options)
    assert back.ok and back.imported == secrets

    fewer = {n: v for n, v in secrets.items() if n != "S4"}
    gone = D.push(connection, d, fewer, **options)
    assert gone.ok and [(c.key, c.action.value) for c in gone.changes if c.action.value == "delete"] == [
        (prefix + "S4", "delete")
    ]
    assert standin.store.get(prefix + "S4", label) is None
    assert {k: standin.store.entry(*k)["value"] for k in theirs} == theirs  # nobody else's entry was touched
    assert standin.bad_signatures == 0 and standin.hmac_credentials == {KEY_ID}


def test_a_continuation_token_with_plus_and_slash_reaches_page_two_intact(
    standin: StandIn, signed: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    connection, options = signed
    standin.page_size = 1
    label, prefix = "prod~1", "\u00fc p/"
    for i in range(3):
        standin.store.put(f"{prefix}K{i}?>", f"v{i}", label=label)  # '?>' makes base64 tokens with '+' and '/'
        standin.store.put(f"{prefix}S{i}", f"v{i}", label=label)
    report = D.import_secrets(
        connection, {"endpoint": standin.endpoint, "label": label, "keyPrefix": prefix}, **options
    )
    assert report.ok and report.imported == {f"S{i}": f"v{i}" for i in range(3)}
    afters = [r["query"].get("after", "") for r in standin.requests("GET")]
    assert any("+" in a or "/" in a for a in afters), afters  # decoded by the server: the token as it was made
    assert len(afters) == 6 and standin.bad_signatures == 0


def test_the_first_request_encodes_each_value_once_and_next_links_are_sent_as_given(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    standin.page_size = 1
    standin.store.put("a+b/K", "1", label="l&m")
    standin.store.put("a+b/L", "2", label="l&m")
    D.import_secrets(None, {"endpoint": standin.endpoint, "label": "l&m", "keyPrefix": "a+b/"}, **sync_options)
    first, second = standin.requests("GET")
    assert first["query"]["key"] == "a+b/*" and first["query"]["label"] == "l&m"
    assert "key=a%2Bb" in first["raw_query"] and "label=l%26m" in first["raw_query"]
    (link,) = standin.links  # the SDK's pipeline sorts the parameters; the values arrive as the link had them
    assert second["query"] == {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert second["query"]["label"] == "l&m" and second["query"]["key"] == "a+b/*"


def test_a_next_link_without_api_version_gets_it_and_braces_are_sent_encoded(
    standin: StandIn, sync_options: dict[str, Any]
) -> None:
    standin.page_size = 1
    standin.link_extra = "&x={y}"
    standin.drop_api_version = True
    standin.store.put("K0", "1")
    standin.store.put("K1", "2")
    report = D.import_secrets(None, {"endpoint": standin.endpoint}, **sync_options)
    assert report.imported == {"K0": "1", "K1": "2"}
    second = standin.requests("GET")[1]
    assert second["query"]["api-version"] == "2023-11-01" and second["query"]["x"] == "{y}"
    assert "%7By%7D" in second["raw_query"]


def test_writes_and_deletes_address_the_exact_label(
    standin: StandIn, signed: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    connection, options = signed
    standin.store.put("app/A", "team a's", label="a")
    standin.store.put("app/A", "old", label="a&b=c")
    standin.store.put("app/GONE", "old", label="a&b=c")
    d = {"endpoint": standin.endpoint, "label": "a&b=c", "keyPrefix": "app/", "deleteMissing": True}
    report = D.push(connection, d, {"A": "new", "B": "b"}, **options)
    assert report.ok, report.to_dict()
    assert standin.store.entry("app/A", "a")["value"] == "team a's"
    assert standin.store.entry("app/A", "a&b=c")["value"] == "new" and standin.store.get("app/GONE", "a&b=c") is None
    writes = [r for r in standin.requests() if r["method"] in ("PUT", "DELETE")]
    assert {r["query"]["label"] for r in writes} == {"a&b=c"}
    assert all("label=a%26b%3Dc" in r["raw_query"] for r in writes)


def test_a_wrong_signature_is_refused_by_the_standin(standin: StandIn, sync_options: dict[str, Any]) -> None:
    """The stand-in's own check: a key it knows, signed with another secret, gets 401."""
    standin.access_keys[KEY_ID] = base64.b64encode(b"the-store-has-another-secret").decode()
    connection = {"method": "access-key", "endpoint": standin.endpoint, "id": KEY_ID, "secret": KEY_SECRET}
    options = {k: v for k, v in sync_options.items() if k != "token_credential"}
    report = D.push(connection, {"endpoint": standin.endpoint}, {"A": "1"}, **options)
    assert not report.ok and "401" in report.changes[0].detail and standin.bad_signatures == 1


LABEL_CHARS = "&+#%?=/ \u00fc~;@:$'\"<>[]{}|^`a1.-_\u4e2d"
PREFIX_CHARS = LABEL_CHARS.replace("%", "") + "\\,*"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    label=st.text(alphabet=LABEL_CHARS, min_size=1, max_size=12),
    prefix=st.text(alphabet=PREFIX_CHARS, min_size=1, max_size=12),
)
def test_any_label_and_prefix_round_trip_under_a_verified_signature(
    standin: StandIn, signed: tuple[dict[str, Any], dict[str, Any]], label: str, prefix: str
) -> None:
    connection, options = signed
    standin.reset()
    standin.page_size = 2
    d = {"endpoint": standin.endpoint, "label": label, "keyPrefix": prefix}
    secrets = {"A": label, "B": prefix, "C": "c"}
    assert D.push(connection, d, secrets, **options).counts["created"] == 3
    assert {(prefix + n, label) for n in secrets} == set(standin.store.snapshot())
    assert D.import_secrets(connection, d, **options).imported == secrets
    assert standin.bad_signatures == 0
