"""Fail when a cassette holds something that looks like a real secret.

Flags: a signed JWT (fakes are unsigned, ``alg: none``), a client secret / refresh token /
authorization code / PKCE verifier / client assertion that is not a known fake, a
connection-string ``Secret=``, a GUID that is not a placeholder, and an ``Authorization`` or
cookie header with a value.

Usage: ``python -m azure_appconfig_plugin.testing.secret_scan [DIR_OR_FILE ...]``
(default ``tests/cassettes``); exit status 1 when anything is found.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Iterable, Iterator

import attrs

from ..formats import b64url_json
from . import fakes

JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
GUID_RE = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
FORM_SECRET_RE = re.compile(r"(?:^|(?<=[&\s'\"]))(client_secret|refresh_token|code|code_verifier|client_assertion|assertion|password)=([^&\s'\"]*)")
JSON_SECRET_RE = re.compile(r'"(clientSecret|client_secret|refresh_token|refreshToken|access_token|accessToken)"\s*:\s*"([^"]*)"')
CONN_SECRET_RE = re.compile(r"\bSecret=([^;\s'\"]+)")
HEADER_RE = re.compile(r"^\s*['\"]?(authorization|cookie|set-cookie)['\"]?\s*:\s*(.*)$", re.IGNORECASE)


@attrs.frozen
class Finding:
    path: str
    line: int
    kind: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}: {self.excerpt}"


def is_fake_jwt(token: str) -> bool:
    header, _, rest = token.partition(".")
    payload, _, signature = rest.partition(".")
    decoded = b64url_json(header)
    return decoded is not None and decoded.get("alg") == "none" and signature == "" and b64url_json(payload) is not None


def is_fake_value(value: str) -> bool:
    value = value.strip()
    return value in ("", fakes.REDACTED, "Sanitized") or value.startswith("fake-") or is_fake_jwt(value)


def _mask(value: str) -> str:
    return value[:6] + "…" if len(value) > 6 else value


def scan_text(text: str, path: str = "<text>") -> Iterator[Finding]:
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        for match in JWT_RE.finditer(line):
            if not is_fake_jwt(match.group(0)):
                yield Finding(path, number, "signed JWT (fakes are unsigned, alg none)", _mask(match.group(0)))
        for regex, kind in ((FORM_SECRET_RE, "form field"), (JSON_SECRET_RE, "JSON field")):
            for match in regex.finditer(line):
                if not is_fake_value(match.group(2)):
                    yield Finding(path, number, f"{kind} {match.group(1)} holds a value that is not a known fake", _mask(match.group(2)))
        for match in CONN_SECRET_RE.finditer(line):
            if not is_fake_value(match.group(1)):
                yield Finding(path, number, "connection string Secret=", _mask(match.group(1)))
        for match in GUID_RE.finditer(line):
            if not fakes.is_placeholder_guid(match.group(0)):
                yield Finding(path, number, "GUID that is not a placeholder", match.group(0))
        header = HEADER_RE.match(line)
        if header:
            value = header.group(2).strip()
            if value in ("", "[]") and number < len(lines):  # YAML list on the next line
                value = lines[number].strip().lstrip("- ").strip() if lines[number].lstrip().startswith("-") else ""
            if value and not is_fake_value(value.strip("'\"")):
                yield Finding(path, number, f"{header.group(1)} header with a value", _mask(value))


def scan_paths(paths: Iterable[Path]) -> list[Finding]:
    findings: list[Finding] = []
    for root in paths:
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for file in files:
            findings.extend(scan_text(file.read_text(encoding="utf-8", errors="replace"), str(file)))
    return findings


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in args] or [Path("tests/cassettes")]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"secret scan: no such path: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    findings = scan_paths(paths)
    for finding in findings:
        print(finding)
    count = sum(1 for p in paths for _ in (p.rglob("*") if p.is_dir() else [p]))
    print(f"secret scan: {len(findings)} finding(s) in {count} file(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
