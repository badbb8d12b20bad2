"""The published schemas are form-ready: every ``pattern`` compiles under Python ``re`` and under
ECMA-262 with the ``u`` and ``v`` flags (HTML ``<input pattern>`` compiles ``^(?:p)$`` with ``v``;
a pattern that fails there is silently dropped by browsers), and matches the same sample values
in both; choice groups are titled ``oneOf`` alternatives; no schema has an ``$id`` (the project
has no public address); field order and multi-line hints are in the schema."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from app_connections.fields import OneOf
from app_connections.policy import HostPolicy
from azure_appconfig_plugin.connection import build_connection_type
from azure_appconfig_plugin.sync.config import destination_schema

CT = build_connection_type().with_policy(HostPolicy.operator())  # an operator's host: its own identity and disk
SCHEMAS: dict[str, dict[str, Any]] = {"sync-destination": destination_schema()}
for _slug, _method in CT.methods.items():
    SCHEMAS[f"{_slug} form"] = _method.input_schema()
    SCHEMAS[f"{_slug} stored"] = _method.stored_schema()

SAMPLES = [
    "11111111-1111-1111-1111-111111111111",
    "contoso.onmicrosoft.com",
    "-contoso.com",
    "a/b",
    "https://contoso.azconfig.io/",
    "Endpoint=https://x.azconfig.io;Id=a;Secret=YQ==",
    "YQ==",
    "ab\ncd==",
    " s3cret ",
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id",
    "C:\\tokens\\t",
    "C:/tokens/t",
    "/var/run/t",
    "x\n",
    "",
]


def patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from patterns(item)


PATTERNS = sorted({p for s in SCHEMAS.values() for p in patterns(s)})

NODE_CHECK = r"""
const {patterns, samples} = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = patterns.map((p) => {
  const problems = [];
  for (const [source, flags] of [[p, "u"], [p, "v"], ["^(?:" + p + ")$", "v"]]) {
    try { new RegExp(source, flags); } catch (e) { problems.push(flags + ": " + e.message); }
  }
  const matches = problems.length ? [] : samples.map((s) => new RegExp(p, "v").test(s));
  return {pattern: p, problems, matches};
});
process.stdout.write(JSON.stringify(out));
"""


def test_there_are_patterns_to_check() -> None:
    assert len(PATTERNS) >= 10
    for p in PATTERNS:
        re.compile(p)


def test_every_published_pattern_compiles_and_agrees_in_ecmascript_u_and_v() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("no `node` on PATH: the ECMAScript u/v-flag check needs Node.js (CI has it)")
    answer = subprocess.run(
        [node, "-e", NODE_CHECK],
        input=json.dumps({"patterns": PATTERNS, "samples": SAMPLES}),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    results = json.loads(answer.stdout)
    assert [(r["pattern"], r["problems"]) for r in results if r["problems"]] == []
    for r in results:
        python = [re.search(r["pattern"], s) is not None for s in SAMPLES]
        assert python == r["matches"], r["pattern"]


def test_no_schema_has_an_id() -> None:
    assert [name for name, s in SCHEMAS.items() if "$id" in s] == []


def test_choice_groups_are_titled_one_of_alternatives() -> None:
    cert = CT.methods["certificate"].input_schema()
    assert [(b["title"], b["required"]) for b in cert["oneOf"]] == [
        ("Private key and certificate (PEM)", ["privateKey", "certificate"]),
        ("PKCS#12 file", ["pkcs12"]),
    ]
    key = CT.methods["access-key"].input_schema()
    assert [(b["title"], b["required"]) for b in key["oneOf"]] == [
        ("Connection string", ["connectionString"]),
        ("Endpoint, key ID and secret", ["endpoint", "id", "secret"]),
    ]
    mi = CT.methods["managed-identity"].input_schema()
    assert [b["title"] for b in mi["oneOf"]][-1] == "System-assigned identity"
    assert [b.get("required") for b in mi["oneOf"]] == [["clientId"], ["resourceId"], ["objectId"], None]
    for schema in SCHEMAS.values():
        assert "anyOf" not in schema and "allOf" not in schema
        for branch in schema.get("oneOf", []):
            assert branch["title"] and set(branch.get("required", [])) <= set(schema["properties"])


def test_choice_titles_must_name_every_group() -> None:
    with pytest.raises(ValueError, match="1 titles for 2 groups"):
        OneOf(("a",), ("b",), titles=("only one",))


def test_field_order_and_multiline_hints_are_declared() -> None:
    for schema in SCHEMAS.values():
        assert schema["x-order"] == list(schema["properties"])
    cert = CT.methods["certificate"].input_schema()["properties"]
    assert [n for n, p in cert.items() if p.get("x-multiline")] == ["privateKey", "certificate", "pkcs12"]
    assert "x-multiline" not in CT.methods["client-secret"].input_schema()["properties"]["clientSecret"]
