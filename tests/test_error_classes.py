"""Error classes a host can map: every error of the host kit and this provider declares its
category, suggested HTTP status and ``retryable`` once, as class attributes; docs/errors.md holds
the table generated from the classes (every module of both packages imported, so none is missed)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app_connections.error_table import categories_markdown, error_classes
from app_connections.errors import CATEGORIES, AppConnectionError, InvalidInput, SettingsError
from azure_appconfig_plugin.errors import (
    ERROR_PACKAGES,
    AccessDenied,
    AuthError,
    ConsentRequired,
    IdentityServiceError,
    IdentityThrottled,
    errors_markdown,
)
from docs_pages import blocks, page, section


def _generated(text: str, name: str) -> str:
    return text.split(f"<!-- {name}:begin -->\n", 1)[1].split(f"\n<!-- {name}:end -->", 1)[0]


def test_the_docs_tables_are_the_ones_the_classes_generate() -> None:
    assert _generated(page("errors.md"), "error-classes") == errors_markdown()
    assert _generated(page("errors.md"), "error-categories") == categories_markdown()


def test_the_generator_imports_every_module_so_no_class_is_missed() -> None:
    """In a fresh interpreter, where modules like ``sync.report`` and ``stores.errors`` are not yet
    imported, the table is the same: the generator walks both packages."""
    code = (
        "import json, sys\n"
        "from azure_appconfig_plugin.errors import errors_markdown\n"
        "before = {m for m in sys.modules if m.startswith(('app_connections.', 'azure_appconfig_plugin.'))}\n"
        "table = errors_markdown()\n"
        "print(json.dumps({'table': table, 'late': 'azure_appconfig_plugin.sync.report' not in before}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    result = json.loads(out)
    assert result["late"]  # the module defining TooManyDeletes was imported by the generator itself
    assert result["table"] == errors_markdown()
    for name in ("TooManyDeletes", "SealError", "AllowListError", "DeadlineExceeded", "ScopeNotAllowed"):
        assert f".{name}` |" in result["table"]


def test_every_error_class_declares_a_known_category_with_a_matching_status() -> None:
    classes = error_classes(*ERROR_PACKAGES)
    assert len(classes) >= 35 and classes[0] is AppConnectionError
    for cls in classes:
        assert cls.category in CATEGORIES, cls
        usual = CATEGORIES[cls.category][0]
        assert cls.http_status // 100 == usual // 100, cls  # a user's fault is a 4xx, a service's or ours a 5xx
        assert isinstance(cls.retryable, bool), cls
        assert cls.__doc__, cls  # the table's "when" column


def test_a_class_with_an_unknown_category_is_refused_when_defined() -> None:
    with pytest.raises(TypeError, match="category must be one of"):
        type("Odd", (AppConnectionError,), {"category": "oops"})
    with pytest.raises(TypeError, match="http_status must be an HTTP error status"):
        type("Odd", (AppConnectionError,), {"http_status": 200})


@pytest.mark.parametrize(
    ("error", "category", "status", "retryable"),
    [
        (AccessDenied("declined", code="access_denied"), "forbidden", 403, False),
        (ConsentRequired("no consent"), "forbidden", 403, False),
        (InvalidInput("tenantId: is required", field="tenantId"), "invalid_input", 400, False),
        (SettingsError("AZURE_APPCONFIG_CLIENT_ID is not set"), "internal", 500, False),
        (AuthError("refused"), "unauthenticated", 401, False),
        (IdentityServiceError("503 at the token endpoint"), "unavailable", 503, True),
        (IdentityThrottled("429 at the token endpoint"), "throttled", 429, True),
    ],
)
def test_errors_carry_their_class_mapping_in_to_dict(
    error: AppConnectionError, category: str, status: int, retryable: bool
) -> None:
    assert (error.category, error.http_status, error.retryable) == (category, status, retryable)
    shown = error.to_dict()
    assert (shown["category"], shown["http_status"], shown["retryable"]) == (category, status, retryable)


def test_a_throttled_identity_platform_is_a_throttled_error() -> None:
    from azure_appconfig_plugin.auth.aad_errors import error_from_exception, error_from_result

    throttled = error_from_exception(Exception("HTTP Error: 429"), where="login.microsoftonline.com")
    assert type(throttled) is IdentityThrottled and throttled.http_status == 429
    busy = error_from_exception(Exception("HTTP Error: 503"), where="login.microsoftonline.com")
    assert type(busy) is IdentityServiceError and busy.http_status == 503
    tenant = error_from_result({"error": "invalid_request", "error_codes": [90055]}, stage="client-credentials")
    assert type(tenant) is IdentityThrottled


def test_declined_consent_maps_to_forbidden_not_a_gateway_error() -> None:
    from azure_appconfig_plugin.auth.aad_errors import error_from_result

    declined = error_from_result({"error": "access_denied", "error_description": "user declined"}, stage="authorize")
    assert isinstance(declined, AccessDenied) and declined.http_status == 403


def test_the_hosts_answer_block_runs() -> None:
    (block,) = blocks(section(page("errors.md"), "## Answering errors in a host"), "python")
    exec(compile(block, "errors.md host block", "exec"), {})
