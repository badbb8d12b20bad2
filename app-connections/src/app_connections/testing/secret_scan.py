"""Fail when a cassette holds something that looks like a real secret.

The scan reads the same rule table as the sanitizer (``rules.py``): a header or a query, form
or JSON field (any depth, any case style) with a secret name whose value is not a declared
fake; a signed JWT; user info in a URL; a connection-string ``Secret=``; a GUID that is not a
placeholder; a literal secret (the value of a secret environment variable, or one a plugin
declared); a plugin's value pattern. A finding names the file, the interaction, the header or
field, and the rule.

Usage: ``python -m app_connections.testing.secret_scan [--rules module:NAME ...] [PATH ...]``
(default ``tests/cassettes``); ``--rules`` adds a plugin's ``SecretRules``. Exit status 1 when
anything is found, 2 for a bad argument.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlsplit

import attrs

from ..jsontypes import JSONObject, JSONValue
from .rules import FORM, HEADER, JSON, QUERY, URL, RulesLike, RuleTable, SecretRules, is_fake_jwt, url_queries

__all__ = ["Finding", "is_fake_jwt", "main", "scan_cassette", "scan_paths", "scan_text"]


@attrs.frozen
class Finding:
    """A secret found in a file: where, and which rule found it."""

    path: str
    interaction: int | None
    """Index in the cassette's ``interactions`` list (``None`` for a file that is not a cassette)."""
    where: str
    """``request header X-Api-Key``, ``response body $.data[0].accessToken``, ``request query code``, ``line 3``..."""
    rule: str
    """The rule's id in the table (``token``, ``jwt``, ``declared header X-My-Key``, ``env AZURE_CLIENT_SECRET``)."""
    excerpt: str
    """The start of the value, masked."""

    def __str__(self) -> str:
        at = f"interaction {self.interaction}: " if self.interaction is not None else ""
        return f"{self.path}: {at}{self.where}: rule {self.rule}: {self.excerpt}"


def _mask(value: str) -> str:
    return value[:6] + "…" if len(value) > 6 else value


class _Scanner:
    def __init__(self, rules: RuleTable, path: str) -> None:
        self.rules, self.path = rules, path
        self.interaction: int | None = None
        self.findings: list[Finding] = []

    def _add(self, where: str, rule: str, value: str) -> None:
        self.findings.append(Finding(self.path, self.interaction, where, rule, _mask(value)))

    def values(self, where: str, text: str) -> None:
        """Value rules and literals over any text."""
        for rule_id, _, _, form in self.rules.literal_matches(text):
            self._add(where, rule_id, form)
        for rule in self.rules.value_rules:
            for _, _, value in rule.finditer(text):
                if not self.rules.value_is_fake(rule, value):
                    self._add(where, rule.id, value)
        for _, _, query in url_queries(text):
            for part in query.split("&"):
                raw_name, _, raw = part.partition("=")
                name, value = unquote_plus(raw_name), unquote_plus(raw)
                name_rule = self.rules.name_rule(name, URL)
                if name_rule is not None and value and not self.rules.is_fake(value):
                    self._add(f"{where} url query {name}", name_rule.id, value)
                elif name_rule is None and value != raw:  # an encoded URL or connection string inside
                    self.values(f"{where} url query {name}", value)

    def field(self, where: str, name: str, place: str, value: JSONValue) -> None:
        """A named value: the name rules first, then the value rules on what is left."""
        rule = self.rules.name_rule(name, place)
        leaves = list(_leaves(value))
        if rule is not None:
            bad = [leaf for leaf in leaves if not self.rules.is_fake(leaf)]
            for leaf in bad:
                self._add(where, rule.id, leaf)
            leaves = [leaf for leaf in leaves if leaf not in bad]
        for leaf in leaves:
            self.values(where, leaf)

    def json_tree(self, where: str, data: JSONValue, path: str = "$") -> None:
        if isinstance(data, dict):
            for key, value in data.items():
                sub = f"{path}.{key}"
                if isinstance(key, str) and self.rules.name_rule(key, JSON):
                    self.field(f"{where} {sub}", key, JSON, value)
                else:
                    self.json_tree(where, value, sub)
        elif isinstance(data, list):
            for index, value in enumerate(data):
                self.json_tree(where, value, f"{path}[{index}]")
        elif isinstance(data, str):
            self.values(f"{where} {path}", data)

    def body(self, where: str, body: JSONValue, content_type: str) -> None:
        if isinstance(body, dict):  # vcrpy response body: {"string": ...}
            body = body.get("string")
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="replace")
        if not isinstance(body, str) or not body:
            return
        stripped = body.lstrip()
        if "json" in content_type or stripped.startswith(("{", "[")):
            try:
                self.json_tree(where, json.loads(body))
                return
            except ValueError:
                pass
        if "x-www-form-urlencoded" in content_type or re.fullmatch(r"[^=&\s]+=[^&\s]*(?:&[^=&\s]+=[^&\s]*)*", stripped):
            for name, value in parse_qsl(stripped, keep_blank_values=True):
                self.field(f"{where} field {name}", name, FORM, value)
            return
        self.values(where, body)
        self.json_pairs(where, body)  # e.g. a cut-off JSON body: its "name": "value" pairs still count

    def json_pairs(self, where: str, text: str) -> None:
        for match in re.finditer(r'"([^"]+)"\s*:\s*"([^"]*)"', text):
            self.field(f"{where} field {match.group(1)}", match.group(1), JSON, match.group(2))

    def headers(self, side: str, headers: JSONValue) -> str:
        content_type = ""
        for name, values in (headers or {}).items():
            values = values if isinstance(values, list) else [values]
            if str(name).lower() == "content-type":
                content_type = " ".join(map(str, values))
            for value in values:
                self.field(f"{side} header {name}", str(name), HEADER, str(value))
        return content_type

    def uri(self, uri: str) -> None:
        parts = urlsplit(uri)
        self.values("request uri", uri.split("?", 1)[0])
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            self.field(f"request query {name}", name, QUERY, value)

    def cassette(self, data: JSONObject) -> None:
        for index, item in enumerate(data.get("interactions") or []):
            self.interaction = index
            request, response = item.get("request") or {}, item.get("response") or {}
            self.uri(str(request.get("uri", "")))
            self.body("request body", request.get("body"), self.headers("request", request.get("headers")))
            self.body("response body", response.get("body"), self.headers("response", response.get("headers")))
        self.interaction = None

    def lines(self, text: str) -> None:
        """A file that is not a cassette: value rules per line, and ``name=value``,
        ``"name": "value"`` and ``Name: value`` pairs."""
        lines = text.splitlines()
        for number, line in enumerate(lines, 1):
            where = f"line {number}"
            self.values(where, line)
            for match in re.finditer(r"(?:^|(?<=[&\s'\"]))([A-Za-z0-9_.-]+)=([^&\s'\"]*)", line):
                self.field(f"{where} field {match.group(1)}", match.group(1), FORM, match.group(2))
            self.json_pairs(where, line)
            # ``Name: value`` (a header, or a YAML key such as client_secret in a cassette YAML could not parse)
            header = re.match(r"^\s*['\"]?([A-Za-z0-9_.-]+)['\"]?\s*:\s*(.*)$", line)
            if header and any(self.rules.name_rule(header.group(1), place) for place in (HEADER, JSON)):
                value = header.group(2).strip()
                if value in ("", "[]") and number < len(lines) and lines[number].lstrip().startswith("-"):
                    value = lines[number].strip().lstrip("- ").strip()  # YAML list on the next line
                value = value.strip("[]'\"")  # an empty value has no leaves: field() reports nothing
                self.field(f"{where} header {header.group(1)}", header.group(1), HEADER, value)


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value:
            yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)


def _load_yaml(text: str) -> Any:
    import yaml

    # libyaml's safe loader when PyYAML was built with it: the same documents, several times faster.
    loader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    try:
        return yaml.load(text, Loader=loader)  # a safe loader, chosen above
    except yaml.YAMLError:
        return None


def scan_cassette(data: JSONObject, path: str = "<cassette>", rules: RulesLike = None) -> list[Finding]:
    """Findings in a parsed vcrpy cassette (``{"interactions": [...]}``)."""
    scanner = _Scanner(RuleTable.of(rules), path)
    scanner.cassette(data)
    return scanner.findings


def scan_text(text: str, path: str = "<text>", rules: RulesLike = None) -> Iterator[Finding]:
    """Findings in a file's text: structured for a vcrpy cassette, line by line otherwise."""
    scanner = _Scanner(RuleTable.of(rules), path)
    data = _load_yaml(text) if "interactions" in text else None
    if isinstance(data, dict) and isinstance(data.get("interactions"), list):
        scanner.cassette(data)
    else:
        scanner.lines(text)
    yield from scanner.findings


def _files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for root in paths:
        out.extend(sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root])
    return out


def scan_paths(paths: Iterable[Path], rules: RulesLike = None) -> list[Finding]:
    """Findings in every file under ``paths``. ``rules``: a plugin's ``SecretRules`` (added to
    the defaults), several, or a ``RuleTable`` (e.g. the ``azure_secret_rules`` fixture)."""
    table = RuleTable.of(rules)
    findings: list[Finding] = []
    for file in _files(paths):
        findings.extend(scan_text(file.read_text(encoding="utf-8", errors="replace"), str(file), table))
    return findings


def load_rules(spec: str) -> SecretRules:
    """``module:NAME`` -> the ``SecretRules`` object it names."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"--rules takes module:NAME, not {spec!r}")
    obj = getattr(importlib.import_module(module_name), attr)
    if not isinstance(obj, SecretRules):
        raise ValueError(f"{spec} is a {type(obj).__name__}, not SecretRules")
    return obj


def main(argv: list[str] | None = None) -> int:
    """The secret-scan command: exit 1 and name each finding when a file holds a secret."""
    parser = argparse.ArgumentParser(
        prog="python -m app_connections.testing.secret_scan", description="Fail when a cassette holds a secret."
    )
    parser.add_argument("paths", nargs="*", type=Path, help="files or directories (default: tests/cassettes)")
    parser.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="MODULE:NAME",
        help="a plugin's SecretRules to add to the defaults (repeatable)",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    paths = args.paths or [Path("tests/cassettes")]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"secret scan: no such path: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    try:
        declared = [load_rules(spec) for spec in args.rules]
    except (ImportError, AttributeError, ValueError) as exc:
        print(f"secret scan: {exc}", file=sys.stderr)
        return 2
    table = RuleTable.of(declared, env=os.environ)
    findings = scan_paths(paths, table)
    for finding in findings:
        print(finding)
    print(f"secret scan: {len(findings)} finding(s) in {len(_files(paths))} file(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
