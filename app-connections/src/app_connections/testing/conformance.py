"""A conformance check any connection-type plugin, or extension of ours, can run against itself.

    from app_connections.testing.conformance import assert_conforms
    assert_conforms(("my-plugin", my_plugin_module), "my-type",
                    valid={"api-key": {"apiKey": "fake-key"}},
                    invalid={"api-key": [{}, {"apiKey": ""}]},
                    import_path="my_plugin_module")

It checks registration through the hook, methods present, ``input_schema()`` being valid JSON
Schema with a title and description per field, ``parse`` accepting valid input and rejecting
bad input with typed errors, no secret in any repr or error, and (with ``import_path``) that
importing the plugin pulls in no heavy SDK.

An *extension* adds auth methods to ``azure-app-configuration`` rather than registering a type:
for it the check loads our own plugin too (``with_base``, automatic by default, see
``testing.registry.load_registry``) and checks only the methods the extension added.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterable, Mapping, Sequence

from ..jsontypes import JSONInput

HEAVY_MODULES = ("msal", "azure", "requests", "urllib3", "boto3", "botocore", "google")


def _secrets_in(schema: JSONInput, data: JSONInput) -> list[str]:
    props = schema.get("properties", {})
    return [str(v) for k, v in data.items() if isinstance(v, str) and len(v) >= 4 and props.get(k, {}).get("writeOnly")]


def check_plugin(
    plugin: tuple[str, object] | None,
    slug: str,
    *,
    valid: Mapping[str, JSONInput],
    invalid: Mapping[str, Sequence[JSONInput]] = {},
    import_path: str | None = None,
    heavy_modules: Iterable[str] = HEAVY_MODULES,
    with_base: bool | None = None,
) -> list[str]:
    """Every problem found (empty when the plugin conforms). ``plugin=None`` uses entry points.

    ``with_base``: load the installed plugin that registers ``slug`` next to ``plugin`` (``None``:
    when ``plugin`` adds methods to that type without registering it). Then only the methods
    ``plugin`` added are checked, and ``valid``/``invalid`` need examples for those alone.
    """
    import jsonschema

    from ..errors import InvalidInput
    from .registry import load_registry, needs_base, registers_types

    problems: list[str] = []
    plugins = [plugin] if plugin else []
    if with_base is None:
        with_base = bool(plugins) and needs_base(plugins, slug)
    registry = load_registry(plugins, with_base=with_base, base_types=[slug], use_entry_points=plugin is None)
    problems += [f"plugin failure: {f.plugin} ({f.stage}): {f.error}" for f in registry.failures]
    if slug not in registry.types:
        return problems + [f"connection type {slug!r} was not registered through register_connection_types"]
    ctype = registry.types[slug]
    base_methods: set[str] = set()
    if with_base and plugins and slug not in registers_types(plugins[0][1]):
        base = load_registry([], with_base=True, base_types=[slug]).types.get(slug)
        base_methods = set(base.methods) if base is not None else set()
        if not set(ctype.methods) - base_methods:
            problems.append(f"{plugins[0][0]!r} added no auth method to {slug!r}")
    if not ctype.methods:
        problems.append(f"{slug!r} has no auth methods")
    if not isinstance(ctype.name, str) or not ctype.name:
        problems.append(f"{slug!r} has no name")
    for method_slug, method in ctype.methods.items():
        if method_slug in base_methods:
            continue
        where = f"{slug}/{method_slug}"
        if not isinstance(getattr(method, "name", None), str):
            problems.append(f"{where}: no name")
        try:
            schema = method.input_schema()
            jsonschema.Draft202012Validator.check_schema(schema)
        except Exception as exc:
            problems.append(f"{where}: input_schema() is not valid JSON Schema: {exc}")
            continue
        for prop, spec in schema.get("properties", {}).items():
            if not spec.get("title") or not spec.get("description"):
                problems.append(f"{where}: field {prop!r} needs a title and a description")
        if method_slug not in valid:
            problems.append(f"{where}: no valid example input given to the conformance check")
        for data in [valid[method_slug]] if method_slug in valid else []:
            secrets = _secrets_in(schema, data)
            try:
                creds = method.parse(data)
            except Exception as exc:
                problems.append(f"{where}: parse() rejected valid input: {exc}")
                continue
            if getattr(creds, "method", None) != method_slug:
                problems.append(f"{where}: parse() result has method {getattr(creds, 'method', None)!r}")
            for secret in secrets:
                if secret in repr(creds) or secret in str(creds):
                    problems.append(f"{where}: a write-only value appears in the parsed object's repr")
            errors = list(jsonschema.Draft202012Validator(schema).iter_errors(data))
            if errors:
                problems.append(f"{where}: valid input fails its own schema: {errors[0].message}")
        for data in invalid.get(method_slug, ()):
            secrets = _secrets_in(schema, data)
            try:
                method.parse(data)
            except InvalidInput as exc:
                if not exc.errors:
                    problems.append(f"{where}: InvalidInput for {data!r} names no field")
                if any(s in str(exc) or s in repr(exc.to_dict()) for s in secrets):
                    problems.append(f"{where}: an error message repeats a write-only value")
            except Exception as exc:
                problems.append(f"{where}: parse() raised {type(exc).__name__}, not InvalidInput, for {data!r}")
            else:
                problems.append(f"{where}: parse() accepted invalid input {list(data)!r}")
    if import_path:
        problems += check_import_light(import_path, heavy_modules)
    return problems


def check_import_light(import_path: str, heavy_modules: Iterable[str] = HEAVY_MODULES) -> list[str]:
    """Import ``import_path`` in a fresh interpreter; report heavy modules it pulled in."""
    heavy = tuple(heavy_modules)
    code = textwrap.dedent(f"""
        import sys
        import {import_path}
        print(",".join(sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if result.returncode != 0:
        return [f"importing {import_path} failed: {result.stderr.strip().splitlines()[-1:]}"]
    found = result.stdout.strip()
    return [f"importing {import_path} imports heavy modules: {found}"] if found else []


def assert_conforms(
    plugin: tuple[str, object] | None,
    slug: str,
    *,
    valid: Mapping[str, JSONInput],
    invalid: Mapping[str, Sequence[JSONInput]] = {},
    import_path: str | None = None,
    heavy_modules: Iterable[str] = HEAVY_MODULES,
    with_base: bool | None = None,
) -> None:
    """``check_plugin`` that fails the test with every problem listed (same arguments)."""
    problems = check_plugin(
        plugin,
        slug,
        valid=valid,
        invalid=invalid,
        import_path=import_path,
        heavy_modules=heavy_modules,
        with_base=with_base,
    )
    assert not problems, "connection type does not conform:\n  " + "\n  ".join(problems)
