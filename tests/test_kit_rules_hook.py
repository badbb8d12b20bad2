"""A plugin ships its secret rules to every test session through the pytest hook."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INNER_TEST = """
import json
from vcr.request import Request

def test_rules_reach_the_sanitizer_and_the_scan(azure_sanitizer, azure_secret_scan, azure_secret_rules, tmp_path):
    request = Request(
        "POST",
        "https://127.0.0.1:8443/token?contosoRef=CANARY-ref-1",
        json.dumps({"deep": [{"contoso_ref": "CANARY-ref-2"}]}),
        {"X-Contoso-Key": "CANARY-header-1", "Content-Type": "application/json"},
    )
    clean = azure_sanitizer.request(request)
    text = clean.uri + clean.body.decode() + json.dumps(dict(clean.headers))
    assert "CANARY" not in text, text
    leak = tmp_path / "leak.yaml"
    leak.write_text("interactions:\\n"
                    "- request: {uri: 'https://h/x', method: GET, body: null, headers: {X-Contoso-Key: [CANARY-h]}}\\n"
                    "  response: {status: {code: 200}, headers: {}, body: {string: 'ctso_AAAABBBBCCCCDDDD'}}\\n")
    rules = sorted(f.rule for f in azure_secret_scan(leak))
    assert rules == ["declared header X-Contoso-Key", "declared pattern ctso_[A-Za-z0-9]{16}"], rules
    fake = tmp_path / "fake.yaml"
    fake.write_text("interactions:\\n"
                    "- request: {uri: 'https://h/x', method: GET, body: null, "
                    "headers: {X-Contoso-Key: [ctso-fake-key]}}\\n"
                    "  response: {status: {code: 200}, headers: {}, body: {string: ''}}\\n")
    assert azure_secret_scan(fake) == []
"""


def test_a_conftest_hook_adds_rules(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        from app_connections.testing.rules import SecretRules

        def pytest_azure_appconfig_secret_rules(config):
            return SecretRules(
                headers=["X-Contoso-Key"],
                fields=["contosoRef"],
                value_patterns=[r"ctso_[A-Za-z0-9]{16}"],
                fakes=["ctso-fake-key"],
            )
    """)
    pytester.makepyfile(test_inner=INNER_TEST)
    pytester.runpytest("-q", "-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_an_installed_pytest_plugin_ships_rules_as_a_list(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        contoso_rules="""
        from app_connections.testing.rules import SecretRules

        def pytest_azure_appconfig_secret_rules(config):
            return [SecretRules(headers=["X-Contoso-Key"], fakes=["ctso-fake-key"]),
                    SecretRules(fields=["contosoRef"], value_patterns=[r"ctso_[A-Za-z0-9]{16}"])]
    """
    )
    pytester.makepyfile(test_inner=INNER_TEST)
    pytester.syspathinsert()
    pytester.runpytest("-q", "-p", "contoso_rules", "-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_without_the_hook_the_plugin_header_is_only_caught_by_name_patterns(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=INNER_TEST)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)  # X-Contoso-Key and contosoRef are not secret-looking names


def test_a_hook_returning_something_else_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("""
        def pytest_azure_appconfig_secret_rules(config):
            return {"headers": ["X-Contoso-Key"]}
    """)
    pytester.makepyfile(test_inner="def test_x(azure_secret_rules):\n    pass\n")
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*returned dict, not SecretRules*"])
