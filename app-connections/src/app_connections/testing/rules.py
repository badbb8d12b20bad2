"""The one table of secret rules: the sanitizer scrubs what it names, the secret scan flags it.

Both read the same ``RuleTable``, so they cannot drift. A rule is one of:

- a **name rule**: a header, query parameter, form field or JSON key (at any depth) whose
  *normalized* name (lower case, separators dropped: ``access_token``, ``accessToken`` and
  ``Access-Token`` are all ``accesstoken``) matches the rule's pattern holds a secret;
- a **value rule**: a value that is a secret wherever it appears (a signed JWT, a URL's user
  info, a connection string's ``Secret=``, a literal secret such as the value of a secret
  environment variable, or a plugin's value pattern).

A value is accepted by the scan only when it is a *declared* fake (``is_fake``): ``REDACTED``,
the ``fake-`` prefix, an unsigned JWT (``alg: none``), a placeholder GUID, or a fake a plugin
declared. Nothing is guessed from how a value looks.

Plugins add rules with ``SecretRules`` (the public declaration):

    MY_RULES = SecretRules(headers=["X-Contoso-Key"], fields=["contosoRef"],
                           values=["a literal secret"], value_patterns=[r"ctso_[A-Za-z0-9]{16,}"],
                           env_vars=["CONTOSO_API_KEY"], fakes=["ctso_FAKE0000000000000000"])
    Sanitizer(rules=MY_RULES); scan_paths([...], rules=MY_RULES)   # defaults + MY_RULES

and ship them to every test session through the pytest hook
``pytest_app_connections_secret_rules(config)`` (see ``pytest_plugin``).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar, Union
from urllib.parse import quote, quote_plus

import attrs

from ..tokens import b64url_json
from . import fakes

HEADER, QUERY, FORM, JSON, URL = "header", "query", "form", "json", "url"
PLACES = (HEADER, QUERY, FORM, JSON, URL)
"""Where a name is looked up: a header; the request's query string; a form body; a JSON key at
any depth; a query parameter of a URL found inside a header value or a body (``Location``,
``nextLink``)."""
FIELD_PLACES = (QUERY, FORM, JSON, URL)

FAKE_PREFIX = "fake-"
KNOWN_FAKES = frozenset({"", fakes.REDACTED, "Sanitized", "sanitized-value"})
"""Values the scan accepts as fakes (besides the ``fake-`` prefix, unsigned JWTs and placeholder GUIDs)."""
AUTH_SCHEMES = ("bearer ", "basic ", "pop ", "hmac-sha256 ", "sharedaccesssignature ")
"""A header value ``Bearer fake-...`` is a fake when what follows the scheme is."""
MIN_ENV_SECRET_LENGTH = 8
"""Values of secret-named environment variables shorter than this are not treated as literals
(a ``1`` in ``FOO_TOKEN=1`` must not be scrubbed from every cassette); declared ones need 4."""
MIN_LITERAL_LENGTH = 4
ENV_NOT_SECRET = frozenset({"PWD", "OLDPWD"})
"""Environment variables whose names look secret but are not (the shell's working directory)."""


def normalize(name: str) -> str:
    """``Access-Token``, ``access_token``, ``accessToken`` -> ``accesstoken``."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


@attrs.frozen
class NameRule:
    """Values under a header/field whose normalized name matches ``pattern`` are secret."""

    id: str
    pattern: str
    description: str
    places: tuple[str, ...] = PLACES
    examples: tuple[str, ...] = ()
    """Names the rule must match, documentation and the canary tests' input."""
    _regex: re.Pattern[str] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_regex", re.compile(self.pattern))

    def matches(self, name: str, place: str) -> bool:
        """True when the rule covers ``name`` at ``place`` (a header, query or body key)."""
        return place in self.places and bool(self._regex.search(normalize(name)))


@attrs.frozen
class ValueRule:
    """Any text matching ``pattern`` is secret (the ``secret`` group, or the whole match)."""

    id: str
    pattern: str
    description: str
    replace: str = "redact"
    """What the sanitizer puts instead: ``redact`` (``REDACTED``), ``fake-jwt``, ``placeholder-guid``."""
    examples: tuple[str, ...] = ()
    flags: int = 0
    _regex: re.Pattern[str] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_regex", re.compile(self.pattern, self.flags))

    def finditer(self, text: str) -> Iterator[tuple[int, int, str]]:
        """``(start, end, value)`` of the secret part of each match."""
        for match in self._regex.finditer(text):
            group = "secret" if "secret" in self._regex.groupindex else 0
            if match.group(group):
                yield match.start(group), match.end(group), match.group(group)


NAME_RULES: tuple[NameRule, ...] = (
    NameRule(
        "authorization",
        r"authorization",
        "credentials sent to authenticate",
        examples=("Authorization", "Proxy-Authorization", "x-ms-authorization-auxiliary"),
    ),
    NameRule("cookie", r"cookie", "session cookies", examples=("Cookie", "Set-Cookie")),
    NameRule("api-key", r"apikey", "API keys", examples=("X-Api-Key", "Api-Key", "apiKey", "api_key")),
    NameRule(
        "subscription-key",
        r"subscriptionkey",
        "API Management subscription keys",
        examples=("Ocp-Apim-Subscription-Key", "subscription-key"),
    ),
    NameRule(
        "key",
        r"(private|access|account|shared|signing|secret|master|encryption)key",
        "key material",
        examples=("private_key", "AccountKey", "sharedAccessKey"),
    ),
    NameRule(
        "token",
        r"token",
        "bearer, refresh, ID and session tokens",
        examples=("access_token", "accessToken", "AccessToken", "refresh_token", "id_token", "X-Auth-Token"),
    ),
    NameRule(
        "secret", r"secret", "client and shared secrets", examples=("client_secret", "clientSecret", "X-Client-Secret")
    ),
    NameRule(
        "password", r"passw(or)?d|^pwd$|passphrase", "passwords", examples=("password", "db-password", "Passwd", "PWD")
    ),
    NameRule("signature", r"signature|^sig$", "request signatures", examples=("X-Signature", "signature", "sig")),
    NameRule(
        "content-signature",
        r"^xmscontentsha256$",
        "x-ms-content-sha256 of an HMAC-signed request",
        examples=("x-ms-content-sha256",),
    ),
    NameRule("credential", r"credential", "credential objects", examples=("credential", "keyCredentials")),
    NameRule(
        "authorization-code",
        r"^code$",
        "OAuth authorization codes (request query and form only: in JSON and in "
        "URLs inside bodies, such as an error_uri, code is an error number)",
        places=(QUERY, FORM),
        examples=("code",),
    ),
    NameRule("pkce-verifier", r"codeverifier", "PKCE code verifiers", examples=("code_verifier", "codeVerifier")),
    NameRule("client-assertion", r"assertion", "signed client assertions", examples=("client_assertion", "assertion")),
)
"""The default name rules (a table in docs/test-kit.md is generated from them)."""

PUBLIC_NAME_SUFFIXES = (
    "endpoint",
    "uri",
    "url",
    "type",
    "types",
    "supported",
    "expiresin",
    "expireson",
    "expiresat",
    "expiry",
    "lifetime",
    "method",
    "methods",
)
"""Names ending like this describe a secret, they do not hold one (``token_type``,
``token_endpoint``, ``authorization_endpoint``, ``id_token_signing_alg_values_supported``)."""
PUBLIC_NAMES = frozenset(
    {
        "synctoken",
        "accesscontrolallowcredentials",
        "accesscontrolallowheaders",
        "accesscontrolexposeheaders",
        "wwwauthenticate",
    }
)
"""Normalized names declared not secret: App Configuration's ``Sync-Token`` (a consistency
marker the SDK parses), CORS headers that merely name credentials."""

URL_QUERY_RE = re.compile(r"\bhttps?://[^\s\"'<>?#]*\?(?P<query>[^\s\"'<>#]*)", re.IGNORECASE)


def url_queries(text: str) -> Iterator[tuple[int, int, str]]:
    """``(start, end, query)`` of the query string of each absolute URL inside ``text``."""
    for match in URL_QUERY_RE.finditer(text):
        if match.group("query"):
            yield match.start("query"), match.end("query"), match.group("query")


JWT_PATTERN = r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"
GUID_PATTERN = r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"

VALUE_RULES: tuple[ValueRule, ...] = (
    ValueRule(
        "url-userinfo",
        r"\b[a-zA-Z][a-zA-Z0-9+.-]*://(?P<secret>[^/\s@'\"?#<>]+)@",
        "user name and password in a URL",
        examples=("https://user:CANARY@host.example/path",),
    ),
    ValueRule(
        "connection-string",
        r"(?:^|(?<=[;\s\"']))(?:Secret|AccountKey|SharedAccessKey|Password|Pwd)=(?P<secret>[^;\s\"'&]+)",
        "the secret part of a connection string",
        flags=re.IGNORECASE,
        examples=("Endpoint=https://x.azconfig.io;Id=abc;Secret=CANARY",),
    ),
    ValueRule(
        "jwt",
        JWT_PATTERN,
        "a JSON Web Token that is not an unsigned fake",
        replace="fake-jwt",
        examples=("eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl",),
    ),
    ValueRule(
        "guid",
        GUID_PATTERN,
        "a GUID (tenant, client, object, request ID) that is not a placeholder",
        replace="placeholder-guid",
        examples=("72f988bf-86f1-41af-91ab-2d7cd011db47",),
    ),
)
"""The default value rules, in the order the sanitizer applies them."""


def _tuple(values: Iterable[str] | str) -> tuple[str, ...]:
    return (values,) if isinstance(values, str) else tuple(values)


@attrs.frozen
class SecretRules:
    """What a plugin declares on top of the defaults. All names are matched after ``normalize``.

    - ``headers``: header names that hold secrets (``X-Contoso-Key``), also when they appear as
      a field name (an echoed header);
    - ``fields``: query, form and JSON field names (any depth, any case style);
    - ``values``: literal secret values, scrubbed (also URL-encoded) wherever they appear;
    - ``value_patterns``: regular expressions of secret values (a ``secret`` named group
      limits what is scrubbed to that group);
    - ``env_vars``: environment variables whose values are secrets while recording;
    - ``fakes``: values your tests use as fakes, so the scan accepts them.

    ``a + b`` combines two declarations.
    """

    headers: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    fields: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    values: tuple[str, ...] = attrs.field(default=(), converter=_tuple, repr=False)
    value_patterns: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    env_vars: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    fakes: tuple[str, ...] = attrs.field(default=(), converter=_tuple)

    def __attrs_post_init__(self) -> None:
        for value in self.values:
            if len(value) < MIN_LITERAL_LENGTH:
                raise ValueError(
                    f"SecretRules(values=...): a literal secret needs at least {MIN_LITERAL_LENGTH} characters"
                )
        for pattern in self.value_patterns:
            try:
                if re.compile(pattern).match(""):
                    raise ValueError(f"SecretRules(value_patterns=...): {pattern!r} matches the empty string")
            except re.error as exc:
                raise ValueError(
                    f"SecretRules(value_patterns=...): {pattern!r} is not a regular expression: {exc}"
                ) from None
        for name in (*self.headers, *self.fields):
            if not normalize(name):
                raise ValueError(f"SecretRules: {name!r} is not a header or field name")

    def __add__(self, other: SecretRules) -> SecretRules:
        if not isinstance(other, SecretRules):
            return NotImplemented
        return SecretRules(*(getattr(self, f.name) + getattr(other, f.name) for f in attrs.fields(SecretRules)))


RulesLike = Union["RuleTable", SecretRules, Iterable[SecretRules], None]


def literal_forms(value: str) -> tuple[str, ...]:
    """A literal as it may appear in a cassette: raw, URL-encoded, JSON-escaped, base64."""
    forms = {value, quote(value, safe=""), quote_plus(value, safe=""), value.replace("\\", "\\\\").replace('"', '\\"')}
    raw = value.encode()
    for offset in range(3):  # the literal at each byte alignment inside a longer base64 text
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * offset + raw).decode()
            inner = text[-(-offset * 4 // 3) : (offset + len(raw)) * 4 // 3]
            if len(inner) >= MIN_LITERAL_LENGTH:
                forms.add(inner)
    return tuple(sorted((f for f in forms if f), key=len, reverse=True))


_T = TypeVar("_T")


def _unique(items: Iterable[_T]) -> tuple[_T, ...]:
    """``items`` without repeats, in first-seen order."""
    return tuple(dict.fromkeys(items))


@attrs.frozen
class RuleTable:
    """The compiled rules: defaults plus every ``SecretRules`` given, plus literal secrets."""

    name_rules: tuple[NameRule, ...] = NAME_RULES
    value_rules: tuple[ValueRule, ...] = VALUE_RULES
    literals: tuple[tuple[str, str], ...] = attrs.field(default=(), repr=False)
    """``(rule id, value)`` of each literal secret (declared values and secret environment variables)."""
    fakes: frozenset[str] = KNOWN_FAKES
    public_names: frozenset[str] = PUBLIC_NAMES

    @classmethod
    def build(cls, *declared: SecretRules, env: Mapping[str, str] | None = None) -> RuleTable:
        """Defaults + ``declared``; with ``env``, the value of every environment variable whose
        name matches a name rule (``AZURE_CLIENT_SECRET``, ``GITHUB_TOKEN``, ...) or is declared in
        ``env_vars`` becomes a literal secret."""
        merged = sum(declared, SecretRules())
        name_rules = list(NAME_RULES)
        name_rules += [
            NameRule(f"declared header {h}", f"^{re.escape(normalize(h))}$", "declared by a plugin", PLACES, (h,))
            for h in dict.fromkeys(merged.headers)
        ]
        name_rules += [
            NameRule(f"declared field {f}", f"^{re.escape(normalize(f))}$", "declared by a plugin", FIELD_PLACES, (f,))
            for f in dict.fromkeys(merged.fields)
        ]
        value_rules = list(VALUE_RULES)
        value_rules[-1:-1] = [
            ValueRule(f"declared pattern {p}", p, "declared by a plugin") for p in dict.fromkeys(merged.value_patterns)
        ]
        fake_values = KNOWN_FAKES | frozenset(merged.fakes)
        literals = [("declared value", v) for v in merged.values]
        if env is not None:
            table = cls(tuple(name_rules), tuple(value_rules), (), fake_values)
            declared_env = set(merged.env_vars)
            for name, value in sorted(env.items()):
                if not value or name in ENV_NOT_SECRET or value in fake_values or value.startswith(FAKE_PREFIX):
                    continue
                if (name in declared_env and len(value) >= MIN_LITERAL_LENGTH) or (
                    len(value) >= MIN_ENV_SECRET_LENGTH and table.name_rule(name, HEADER, any_place=True)
                ):
                    literals.append((f"env {name}", value))
        literals = [(rid, v) for rid, v in {v: (rid, v) for rid, v in literals}.values()]
        return cls(tuple(name_rules), tuple(value_rules), tuple(literals), fake_values)

    @classmethod
    def of(cls, rules: RulesLike = None, *, env: Mapping[str, str] | None = None) -> RuleTable:
        """A table from whatever a caller passed: a table, a declaration, several, or nothing."""
        if isinstance(rules, RuleTable):
            return rules if env is None else cls.build(env=env).merged_with(rules)
        if rules is None:
            return cls.build(env=env)
        if isinstance(rules, SecretRules):
            return cls.build(rules, env=env)
        return cls.build(*rules, env=env)

    def merged_with(self, other: RuleTable) -> RuleTable:
        """This table with ``other``'s rules and names added, duplicates dropped."""
        return RuleTable(
            _unique((*self.name_rules, *other.name_rules)),
            _unique((*self.value_rules, *other.value_rules)),
            _unique((*self.literals, *other.literals)),
            self.fakes | other.fakes,
            self.public_names | other.public_names,
        )

    # --- questions the sanitizer and the scan both ask --------------------------------------

    def is_public_name(self, name: str) -> bool:
        """True for a name whose value is never a secret (an ID, a URL, ...)."""
        norm = normalize(name)
        return norm in self.public_names or norm.endswith(PUBLIC_NAME_SUFFIXES)

    def name_rule(self, name: str, place: str, *, any_place: bool = False) -> NameRule | None:
        """The rule that makes ``name`` (a header or field in ``place``) secret, if any.
        Declared rules win over ``is_public_name``; default rules do not."""
        declared = [r for r in self.name_rules if r.id.startswith("declared ")]
        for rule in declared:
            if any(rule.matches(name, p) for p in (PLACES if any_place else (place,))):
                return rule
        if self.is_public_name(name):
            return None
        for rule in self.name_rules:
            if any(rule.matches(name, p) for p in (PLACES if any_place else (place,))):
                return rule
        return None

    def is_fake(self, value: str) -> bool:
        """Whether a value under a secret name is a declared fake."""
        value = value.strip().strip("'\"")
        lowered = value.lower()
        for scheme in AUTH_SCHEMES:
            if lowered.startswith(scheme):
                value = value[len(scheme) :].strip()
                break
        return (
            value in self.fakes
            or value.startswith(FAKE_PREFIX)
            or is_fake_jwt(value)
            or fakes.is_placeholder_guid(value)
        )

    def value_is_fake(self, rule: ValueRule, value: str) -> bool:
        """True when ``value`` is already the fake ``rule`` writes (left as it is)."""
        if rule.replace == "fake-jwt":
            return is_fake_jwt(value)
        if rule.replace == "placeholder-guid":
            return fakes.is_placeholder_guid(value)
        return self.is_fake(value)

    def literal_matches(self, text: str) -> Iterator[tuple[str, int, int, str]]:
        """``(rule id, start, end, literal)`` of each literal secret (in any encoding) in ``text``."""
        for rule_id, literal in self.literals:
            for form in literal_forms(literal):
                start = text.find(form)
                while start != -1:
                    yield rule_id, start, start + len(form), form
                    start = text.find(form, start + len(form))

    def env_secret_names(self, env: Mapping[str, str] | None = None) -> list[str]:
        """Names of the environment variables this table treats as secrets (for messages)."""
        env = os.environ if env is None else env
        return sorted({rid[4:] for rid, _ in self.literals if rid.startswith("env ")} & set(env))


def is_fake_jwt(token: str) -> bool:
    """An unsigned JWT (``alg: none``, empty signature): Azure never issues one, our fakes are."""
    header, _, rest = token.partition(".")
    payload, _, signature = rest.partition(".")
    decoded = b64url_json(header)
    return decoded is not None and decoded.get("alg") == "none" and signature == "" and b64url_json(payload) is not None


DEFAULT_TABLE = RuleTable()
"""The default rules, with no literal secrets."""


def markdown_table() -> str:
    """The default rules as docs/test-kit.md's table (tests/test_readme.py keeps them equal)."""
    names = {HEADER: "header", QUERY: "query", FORM: "form", JSON: "JSON", URL: "URL in a value"}
    rows = ["| rule | matches (examples; any case style) | where |", "| --- | --- | --- |"]
    for rule in NAME_RULES:
        examples = ", ".join(f"`{e}`" for e in rule.examples)
        where = "every name" if rule.places == PLACES else ", ".join(names[p] for p in rule.places)
        rows.append(f"| `{rule.id}` | {examples}: {rule.description} | {where} |")
    for value_rule in VALUE_RULES:
        rows.append(f"| `{value_rule.id}` | {value_rule.description} | any value |")
    rows.append("| `env NAME` | the value of a secret-named environment variable (or one in `env_vars`) | any value |")
    return "\n".join(rows)
