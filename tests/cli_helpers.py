"""Running the CLI in-process, and the flags of a client-secret connection, for the CLI tests."""

from __future__ import annotations

import io

from app_connections.testing import fakes
from azure_appconfig_plugin.cli import main


def run(*argv: str) -> tuple[int, str]:
    """``main(argv)``: its exit code and what it wrote."""
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def client_secret_flags(*extra: str) -> list[str]:
    """The fake client-secret connection's flags (the secret read from ``$AZ_SECRET``), then ``extra``."""
    return [
        "--tenant-id",
        fakes.FAKE_TENANT_ID,
        "--client-id",
        fakes.FAKE_CLIENT_ID,
        "--client-secret-env",
        "AZ_SECRET",
        *extra,
    ]
