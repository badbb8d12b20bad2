"""The kit imports nothing of any provider: no azure, msal, requests or azure_appconfig_plugin."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import textwrap

import app_connections

NEEDS_TEST_EXTRA = {
    "app_connections.testing.pytest_plugin",
    "app_connections.testing.hookspecs",
    "app_connections.testing.vcr_config",
    "app_connections.testing.conformance",
}


def test_every_kit_module_imports_with_the_providers_sdks_absent() -> None:
    names = sorted(m.name for m in pkgutil.walk_packages(app_connections.__path__, "app_connections."))
    assert "app_connections.loader" in names and "app_connections.testing.sanitize" in names
    code = textwrap.dedent(f"""
        import importlib, sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("azure", "msal", "requests", "azure_appconfig_plugin"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        for name in {names!r}:
            importlib.import_module(name)
        from app_connections.cli import main
        main(["--help"])
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "types" in result.stdout and "validate" in result.stdout
    assert set(names) >= NEEDS_TEST_EXTRA
