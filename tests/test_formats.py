"""Value checks shared by the fields (formats.py): each problem says what to do."""

from __future__ import annotations

import pytest

from azure_appconfig_plugin.formats import SECRET_MAX_LENGTH, is_tenant, secret_problem, site_url_problem


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "must be a non-empty string"),
        (None, "must be a non-empty string"),
        (42, "must be a non-empty string"),
        ("x" * (SECRET_MAX_LENGTH + 1), f"is longer than {SECRET_MAX_LENGTH} characters; paste the secret's Value"),
        (" Zq8~secret", "has leading or trailing whitespace; copy the secret's Value exactly"),
        ("Zq8~sec\x00ret", "contains control characters; copy the secret's Value exactly"),
        ("Zq8~sec\x7fret", "contains control characters; copy the secret's Value exactly"),
        ("Zq8~secret", None),
        ("x" * SECRET_MAX_LENGTH, None),
    ],
    ids=["empty", "none", "number", "too-long", "whitespace", "nul", "del", "ok", "at-the-limit"],
)
def test_client_secret_problems(value: object, problem: str | None) -> None:
    found = secret_problem(value)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem)


def test_a_site_url_with_a_bad_port_is_named() -> None:
    problem = site_url_problem("https://secrets.example.com:99999")
    assert problem is not None and problem.startswith("is not a valid URL (")


def test_a_tenant_is_a_guid_or_a_domain() -> None:
    assert is_tenant("72f988bf-86f1-41af-91ab-2d7cd011db47")
    assert is_tenant("contoso.onmicrosoft.com")
    assert not is_tenant("not a tenant")
