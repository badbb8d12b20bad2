"""The conformance check, run against our plugin, the example extension and bad plugins."""

from __future__ import annotations

from types import ModuleType

import pytest

import certs
from app_connections.testing import fakes
from app_connections.testing.conformance import assert_conforms, check_plugin
from azure_appconfig_plugin import plugin

VALID = {
    "oauth": {"tenantId": fakes.FAKE_TENANT_ID},
    "client-secret": {
        "tenantId": fakes.FAKE_TENANT_ID,
        "clientId": fakes.FAKE_CLIENT_ID,
        "clientSecret": "canary-conformance-secret",
    },
    "certificate": {
        "tenantId": fakes.FAKE_TENANT_ID,
        "clientId": fakes.FAKE_CLIENT_ID,
        "pkcs12": certs.pkcs12_b64(passphrase="canary-conformance-pass"),
        "passphrase": "canary-conformance-pass",
    },
    "workload-identity": {
        "tenantId": fakes.FAKE_TENANT_ID,
        "clientId": fakes.FAKE_CLIENT_ID,
        "tokenFilePath": "/var/run/secrets/azure/tokens/azure-identity-token",
    },
    "managed-identity": {"clientId": fakes.FAKE_CLIENT_ID},
    "access-key": {
        "connectionString": f"Endpoint={fakes.FAKE_STORE_ENDPOINT};Id=canary-id;Secret=Y2FuYXJ5LWNvbmZvcm1hbmNl"
    },
}
INVALID = {
    "oauth": [{"tenantId": "no"}, {"extra": 1}],
    "client-secret": [
        {},
        {"tenantId": fakes.FAKE_TENANT_ID, "clientId": "x", "clientSecret": "canary-conformance-secret"},
    ],
    "certificate": [
        {
            "tenantId": fakes.FAKE_TENANT_ID,
            "clientId": fakes.FAKE_CLIENT_ID,
            "privateKey": certs.key_pem("other"),
            "certificate": certs.cert_pem(),
        },
        {
            "tenantId": fakes.FAKE_TENANT_ID,
            "clientId": fakes.FAKE_CLIENT_ID,
            "pkcs12": certs.pkcs12_b64(passphrase="canary-conformance-pass"),
            "passphrase": "canary-wrong-pass",
        },
    ],
    "workload-identity": [
        {"tenantId": fakes.FAKE_TENANT_ID, "clientId": fakes.FAKE_CLIENT_ID, "tokenFilePath": "token"}
    ],
    "managed-identity": [{"clientId": fakes.FAKE_CLIENT_ID, "objectId": fakes.FAKE_OBJECT_ID}, {"resourceId": "app"}],
    "access-key": [
        {"connectionString": f"Endpoint={fakes.FAKE_STORE_ENDPOINT};Id=canary-id"},
        {"endpoint": fakes.FAKE_STORE_ENDPOINT, "id": "canary-id", "secret": "not base64 Y2FuYXJ5"},
    ],
}


def test_our_plugin_conforms() -> None:
    assert_conforms(
        ("azure-app-configuration", plugin),
        "azure-app-configuration",
        valid=VALID,
        invalid=INVALID,
        import_path="azure_appconfig_plugin.plugin",
    )


def test_our_plugin_conforms_through_its_entry_point() -> None:
    assert_conforms(None, "azure-app-configuration", valid=VALID, invalid=INVALID)


def _module(source: str) -> ModuleType:
    import textwrap

    mod = ModuleType("bad_plugin")
    exec(textwrap.dedent(source), mod.__dict__)
    return mod


def test_a_leaky_lax_plugin_fails_with_every_problem_named() -> None:
    bad = _module("""
        from app_connections.hostspec import hookimpl
        from app_connections.records import AuthMethod, ConnectionType
        class Creds:
            method = "api-key"
            def __init__(self, key): self.key = key
            def __repr__(self): return f"Creds(key={self.key!r})"
            def to_dict(self): return {"key": self.key}
        class M(AuthMethod):
            slug = "api-key"; name = "API key"
            def input_schema(self):
                return {"type": "object", "properties": {"key": {"type": "string", "writeOnly": True}}}
            def parse(self, data): return Creds(data.get("key"))
            def token_credential(self, c, *, on_rotate=None): raise NotImplementedError
        @hookimpl
        def register_connection_types(register):
            register.add(ConnectionType("lax", "Lax", {"api-key": M()}))
    """)
    problems = check_plugin(("bad", bad), "lax", valid={"api-key": {"key": "canary-key"}}, invalid={"api-key": [{}]})
    text = "\n".join(problems)
    assert "needs a title and a description" in text
    assert "write-only value appears" in text
    assert "accepted invalid input" in text
    with pytest.raises(AssertionError):
        assert_conforms(("bad", bad), "lax", valid={"api-key": {"key": "canary-key"}})


def test_missing_registration_is_reported() -> None:
    assert check_plugin(("empty", _module("x = 1")), "nothing", valid={}) == [
        "connection type 'nothing' was not registered through register_connection_types"
    ]


def test_heavy_import_is_reported() -> None:
    from app_connections.testing.conformance import check_import_light

    assert check_import_light("azure_appconfig_plugin.auth.msal_apps")  # imports msal on purpose


def _example_extension() -> ModuleType:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parent / "example_extension" / "appconfig_policy_example.py"
    spec = importlib.util.spec_from_file_location("appconfig_policy_example_conf", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_extension_conforms_against_our_type() -> None:
    import time

    ext = _example_extension()
    valid = {"static-token": {"accessToken": "fake-access-token", "expiresOn": int(time.time()) + 600}}
    assert_conforms(
        ("my-ext", ext),
        "azure-app-configuration",
        valid=valid,
        invalid={"static-token": [{}, {"accessToken": "canary-static", "expiresOn": 1}]},
    )
    # only the extension's methods need examples; forcing the base off reproduces the issue
    problems = check_plugin(("my-ext", ext), "azure-app-configuration", valid=valid, with_base=False)
    assert any("no connection type 'azure-app-configuration'" in p or "was not registered" in p for p in problems)


def test_an_extension_that_adds_nothing_is_reported() -> None:
    empty = _module("""
        from app_connections.hostspec import hookimpl
        @hookimpl
        def register_auth_methods(register):
            pass
    """)
    problems = check_plugin(("empty", empty), "azure-app-configuration", valid={}, with_base=True)
    assert problems == ["'empty' added no auth method to 'azure-app-configuration'"]


def test_every_way_a_method_can_fail_the_check_is_named() -> None:
    """Each problem the kit reports is reachable: a checker that cannot find a problem cannot fail."""
    broken = _module("""
        from azure_appconfig_plugin.errors import FieldError, InvalidInput
        from app_connections.hostspec import hookimpl
        from app_connections.records import AuthMethod, ConnectionType
        KEY = {"key": {"type": "string", "title": "Key", "description": "the key", "writeOnly": True}}
        class Creds:
            def __init__(self, method): self.method = method
        class Base(AuthMethod):
            name = "Broken"
            def input_schema(self): return {"type": "object", "properties": KEY, "required": ["key"]}
            def parse(self, data):
                if "key" not in data: raise InvalidInput(errors=[FieldError("key", "is required")])
                return Creds(self.slug)
            def token_credential(self, c, *, on_rotate=None): raise NotImplementedError
        class Nameless(Base):
            slug = "nameless"; name = None
        class BadSchema(Base):
            slug = "bad-schema"
            def input_schema(self): return {"type": "not-a-type"}
        class NoExample(Base):
            slug = "no-example"
        class Rejecting(Base):
            slug = "rejecting"
            def parse(self, data): raise InvalidInput(errors=[FieldError("key", "never good enough")])
        class WrongMethod(Base):
            slug = "wrong-method"
            def parse(self, data): return Creds("something-else")
        class SelfInconsistent(Base):
            slug = "self-inconsistent"
            def input_schema(self):
                return {"type": "object", "properties": KEY, "required": ["key"], "additionalProperties": False}
        class Unnamed(Base):
            slug = "unnamed-error"
            def parse(self, data):
                if "key" not in data: raise InvalidInput("bad input")
                return Creds(self.slug)
        class Echoing(Base):
            slug = "echoing"
            def parse(self, data):
                if data.get("key") == "canary-echo":
                    raise InvalidInput(errors=[FieldError("key", "canary-echo is bad")])
                return Creds(self.slug)
        class Crashing(Base):
            slug = "crashing"
            def parse(self, data):
                if "key" not in data: raise KeyError("key")
                return Creds(self.slug)
        METHODS = [Nameless(), BadSchema(), NoExample(), Rejecting(), WrongMethod(), SelfInconsistent(), Unnamed(),
                   Echoing(), Crashing()]
        @hookimpl
        def register_connection_types(register):
            register.add(ConnectionType("broken", "Broken", {m.slug: m for m in METHODS}))
    """)
    slugs = ["nameless", "bad-schema", "rejecting", "wrong-method", "unnamed-error", "echoing", "crashing"]
    valid: dict[str, dict[str, object]] = {s: {"key": "fake-key"} for s in slugs}
    valid["self-inconsistent"] = {"key": "fake-key", "extra": 1}
    invalid = {"unnamed-error": [{}], "echoing": [{"key": "canary-echo"}], "crashing": [{}]}
    problems = check_plugin(("broken", broken), "broken", valid=valid, invalid=invalid)
    expected = [
        "broken/nameless: no name",
        "broken/bad-schema: input_schema() is not valid JSON Schema: ",
        "broken/no-example: no valid example input given to the conformance check",
        "broken/rejecting: parse() rejected valid input: ",
        "broken/wrong-method: parse() result has method 'something-else'",
        "broken/self-inconsistent: valid input fails its own schema: ",
        "broken/unnamed-error: InvalidInput for {} names no field",
        "broken/echoing: an error message repeats a write-only value",
        "broken/crashing: parse() raised KeyError, not InvalidInput, for {}",
    ]
    for start in expected:
        assert [p for p in problems if p.startswith(start)], f"{start!r} not reported in {problems}"
    assert len(problems) == len(expected), problems


def test_an_import_path_that_does_not_import_is_reported() -> None:
    from app_connections.testing.conformance import check_import_light

    problems = check_import_light("azure_appconfig_plugin.no_such_module_here")
    assert len(problems) == 1
    assert problems[0].startswith("importing azure_appconfig_plugin.no_such_module_here failed: ")
    assert "ModuleNotFoundError" in problems[0]
