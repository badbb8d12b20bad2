"""Scrub secrets and real identities from requests and responses before a cassette is written.

``Sanitizer.request`` and ``Sanitizer.response`` are vcrpy's ``before_record_request`` and
``before_record_response``. vcrpy also passes requests through ``before_record_request``
before matching, so a recorded cassette and a replayed test see the same placeholders.

What is secret comes from the rule table in ``rules.py`` (the secret scan reads the same
table): headers and query/form/JSON fields with a secret name, signed JWTs, URL user info,
connection-string secrets, literal secrets (declared, or the values of secret environment
variables) and a plugin's value patterns. Extend it with ``Sanitizer(rules=SecretRules(...))``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, unquote_plus

import attrs

from ..jsontypes import JSONObject
from ..tokens import b64url_json, jwt_claims

if TYPE_CHECKING:
    from vcr.request import Request
from . import fakes
from .rules import (
    FORM,
    GUID_PATTERN,
    HEADER,
    JSON,
    QUERY,
    URL,
    RulesLike,
    RuleTable,
    SecretRules,
    is_fake_jwt,
    normalize,
    url_queries,
)

GUID_RE = re.compile(GUID_PATTERN)

DROP_REQUEST_HEADERS = frozenset(
    {
        "authorization",
        "cookie",
        "client-request-id",
        "x-ms-client-request-id",
        "return-client-request-id",
        "x-client-current-telemetry",
        "x-client-last-telemetry",
        "x-ms-date",
        "x-ms-content-sha256",
        "x-anchormailbox",
    }
)
"""Dropped outright (secrets and per-request noise); other secret-named headers become ``REDACTED``."""
DROP_RESPONSE_HEADERS = frozenset({"set-cookie", "x-ms-clitelem", "x-ms-ests-server", "p3p"})
KV_MEDIA = "vnd.microsoft.appconfig"
_JSON_TOKEN_FAKERS = ("accesstoken", "refreshtoken", "idtoken")
"""Fields whose fakes keep their shape (unsigned JWTs, numbered fake refresh tokens)."""


def _text(body: Any) -> str | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return str(body)


def _redact_tree(value: Any) -> Any:
    """Every string under a secret name becomes ``REDACTED``; structure, numbers and booleans stay."""
    if isinstance(value, str):
        return fakes.REDACTED if value else value
    if isinstance(value, list):
        return [_redact_tree(v) for v in value]
    if isinstance(value, dict):
        return {k: _redact_tree(v) for k, v in value.items()}
    return value


def _rule_table(rules: RulesLike) -> RuleTable:
    return RuleTable.of(rules)


@attrs.define
class Sanitizer:
    """Replaces real values with placeholders and secrets with deterministic fakes.

    ``replacements`` maps real strings (tenant ID, client IDs, store name, ...) to
    placeholders; longest first, case-insensitive. ``value_prefixes`` lists App Configuration
    key prefixes whose values are replaced (``""`` means every key). ``rules``: a
    ``SecretRules`` (added to the defaults), several, or a ``RuleTable``.
    """

    replacements: Mapping[str, str] = attrs.field(factory=dict)
    value_prefixes: tuple[str, ...] = ("",)
    rules: RuleTable = attrs.field(default=None, converter=_rule_table)
    _tokens: dict[str, str] = attrs.field(factory=dict, init=False, repr=False)

    # --- helpers -------------------------------------------------------------------------

    def _fake(self, kind: str, real: str) -> str:
        """The same real secret always maps to the same fake within one sanitizer."""
        if real.startswith("fake-") or real == fakes.REDACTED:
            return real
        key = f"{kind}:{real}"
        if key not in self._tokens:
            count = sum(1 for k in self._tokens if k.startswith(kind + ":")) + 1
            self._tokens[key] = f"fake-{kind}-{count}"
        return self._tokens[key]

    def scrub_text(self, text: str) -> str:
        """Apply the value rules to any text: literals, identities, user info, connection
        strings, declared patterns, JWTs, GUIDs."""
        for _, _start, _end, form in sorted(self.rules.literal_matches(text), key=lambda m: -len(m[3])):
            text = text.replace(form, fakes.REDACTED)
        for real in sorted(self.replacements, key=len, reverse=True):
            if real:
                text = re.sub(re.escape(real), self.replacements[real], text, flags=re.IGNORECASE)
        for kind, real in list(self._tokens.items()):
            text = text.replace(kind.split(":", 1)[1], real)
        for start, end, query in reversed(list(url_queries(text))):
            text = text[:start] + self._pairs(query, URL) + text[end:]
        for rule in self.rules.value_rules:
            pieces: list[str] = []
            last = 0
            for start, end, value in rule.finditer(text):
                if self.rules.value_is_fake(rule, value):
                    continue
                pieces += [text[last:start], self._replace(rule.replace, value)]
                last = end
            text = "".join(pieces) + text[last:]
        return text

    def _replace(self, how: str, value: str) -> str:
        if how == "fake-jwt":
            return self._jwt(value, ("aud", "iss", "tid", "iat", "nbf", "exp", "ver"))
        if how == "placeholder-guid":
            return self._guid(value)
        return fakes.REDACTED

    @staticmethod
    def _guid(value: str) -> str:
        """A placeholder GUID for a real one (placeholders never get here: ``value_is_fake`` keeps them)."""
        digest = hashlib.sha256(value.lower().encode()).hexdigest()[:12]
        return fakes.PLACEHOLDER_GUID_PREFIX + digest

    def _secret(self, name: str, value: Any) -> Any:
        """The fake for a value under a secret name: shaped fakes for tokens, else ``REDACTED``."""
        if not isinstance(value, str):
            return _redact_tree(value)
        norm = normalize(name)
        if norm == "refreshtoken":
            return self._fake("refresh-token", value)
        if norm == "accesstoken":
            return self._access_token(value)
        if norm == "idtoken":
            return self._id_token(value)
        return fakes.REDACTED if value and not self.rules.is_fake(value) else value

    def _pairs(self, text: str, place: str) -> str:
        """Secret-named fields of a query string or form body; other pairs stay byte for byte."""
        out = []
        for part in text.split("&"):
            name, eq, value = part.partition("=")
            if eq and self.rules.name_rule(unquote_plus(name), place):
                fake = self._secret(unquote_plus(name), unquote_plus(value))
                part = f"{name}={fake}"
            else:  # an empty value (or none) decodes and scrubs to itself: left as it is
                decoded = unquote_plus(value)  # a URL or a connection string inside a value
                scrubbed = self.scrub_text(decoded)
                if scrubbed != decoded:
                    part = f"{name}={quote_plus(scrubbed)}"
            out.append(part)
        return "&".join(out)

    def _uri(self, uri: str) -> str:
        base, q, rest = uri.partition("?")
        if q:
            query, h, fragment = rest.partition("#")
            uri = f"{base}?{self._pairs(query, QUERY)}{h}{fragment}"
        return self.scrub_text(uri)

    def _kv(self, item: Any) -> Any:
        if (
            isinstance(item, dict)
            and isinstance(item.get("key"), str)
            and item.get("value") is not None
            and any(item["key"].startswith(p) for p in self.value_prefixes)
        ):
            item["value"] = "sanitized-value"
        return item

    def _walk(self, data: Any) -> Any:
        """Secret-named keys at any depth, in any case style."""
        if isinstance(data, list):
            return [self._walk(v) for v in data]
        if not isinstance(data, dict):
            return data
        for key, value in list(data.items()):
            if isinstance(key, str) and self.rules.name_rule(key, JSON):
                data[key] = self._secret(key, value)
            elif key == "client_info" and isinstance(value, str):
                data[key] = self._client_info(value)
            else:
                data[key] = self._walk(value)
        return data

    def _json(self, data: Any) -> Any:
        data = self._walk(data)
        if isinstance(data, dict):
            if isinstance(data.get("items"), list):
                data["items"] = [self._kv(i) for i in data["items"]]
            self._kv(data)
        return data

    def _jwt(self, token: str, keep: tuple[str, ...]) -> str:
        """An unsigned fake keeping the claims our checks read (the same fake for the same token)."""
        if is_fake_jwt(token):
            return token
        key = f"jwt:{token}"
        if key not in self._tokens:
            claims = jwt_claims(token) or {"sanitized": True}
            kept = {k: claims[k] for k in keep if k in claims}
            self._tokens[key] = fakes.fake_jwt(json.loads(self.scrub_text(json.dumps(kept))))
        return self._tokens[key]

    def _id_token(self, token: str) -> str:
        if is_fake_jwt(token):
            return token
        claims = jwt_claims(token)
        if not claims:
            return fakes.fake_jwt({"sanitized": True})
        keep: dict[str, Any] = {
            k: claims[k] for k in ("aud", "iss", "iat", "nbf", "exp", "nonce", "tid", "ver") if k in claims
        }
        keep.update(
            {
                "name": "Test User",
                "preferred_username": "test.user@contoso.example",
                "oid": fakes.FAKE_OBJECT_ID,
                "sub": "fake-subject",
            }
        )
        scrubbed = json.loads(self.scrub_text(json.dumps(keep)))
        return fakes.fake_jwt(scrubbed)

    def _access_token(self, token: str) -> str:
        """Opaque fake, or for a JWT an unsigned fake keeping the claims our checks read."""
        if token.count(".") != 2 or token.startswith("fake-"):
            return self._fake("access-token", token)
        if not jwt_claims(token):
            return self._fake("access-token", token)
        return self._jwt(token, ("aud", "iss", "tid", "iat", "nbf", "exp", "ver"))

    def _client_info(self, value: str) -> str:
        info = b64url_json(value)
        if info is None:
            return fakes.fake_client_info()
        utid = self.scrub_text(str(info.get("utid", fakes.FAKE_TENANT_ID)))
        return fakes.fake_client_info(fakes.FAKE_OBJECT_ID, utid)

    def _body(self, text: str, content_type: str) -> str:
        if "json" in content_type or text.lstrip().startswith(("{", "[")):
            try:
                data = json.loads(text)
            except ValueError:
                return self.scrub_text(text)
            return self.scrub_text(json.dumps(self._json(data)))
        if "x-www-form-urlencoded" in content_type or ("=" in text and " " not in text.strip()):
            return self.scrub_text(self._pairs(text, FORM))
        return self.scrub_text(text)

    def _headers(self, headers: Any, drop: frozenset[str]) -> None:
        for name in list(headers):
            if name.lower() in drop:
                del headers[name]
            elif self.rules.name_rule(name, HEADER):
                values = headers[name]
                headers[name] = [fakes.REDACTED for _ in values] if isinstance(values, list) else fakes.REDACTED

    # --- vcrpy hooks ---------------------------------------------------------------------

    def request(self, request: Request) -> Request:
        """A copy of ``request`` with its secrets replaced by fakes."""
        request = copy.deepcopy(request)
        self._headers(request.headers, DROP_REQUEST_HEADERS)
        request.uri = self._uri(request.uri)
        for name, value in list(request.headers.items()):
            request.headers[name] = self.scrub_text(str(value))
        text = _text(request.body)
        if text:
            ctype = str(request.headers.get("Content-Type", request.headers.get("content-type", "")))
            request.body = self._body(text, ctype).encode("utf-8")
        return request

    def response(self, response: JSONObject) -> JSONObject:
        """A copy of ``response`` with its secrets replaced by fakes."""
        response = copy.deepcopy(response)
        headers = response.get("headers", {})
        self._headers(headers, DROP_RESPONSE_HEADERS)
        for name, values in list(headers.items()):
            headers[name] = [self.scrub_text(str(v)) for v in values]
        ctype = " ".join(v for k, vs in headers.items() if k.lower() == "content-type" for v in vs)
        body = response.get("body", {})
        text = _text(body.get("string"))
        if text:
            new = self._body(text, ctype).encode("utf-8")
            body["string"] = new
            for name in list(headers):
                if name.lower() == "content-length":
                    headers[name] = [str(len(new))]
        return response


def sanitizer_from_env(
    env: Mapping[str, str],
    *,
    placeholders: Mapping[str, str] | None = None,
    secret_env_vars: Iterable[str] = (),
    value_prefixes: Iterable[str] = ("",),
    rules: RulesLike = None,
) -> Sanitizer:
    """The sanitizer for a recording session: ``placeholders`` (real value -> placeholder) for the
    real identities it uses, the values of ``secret_env_vars`` (any length) and of every
    secret-named environment variable as literals, and ``rules``."""
    recording_secrets = SecretRules(env_vars=tuple(secret_env_vars))

    declared = [rules] if isinstance(rules, (SecretRules, RuleTable)) else list(rules or ())
    table = RuleTable.of([r for r in declared if isinstance(r, SecretRules)] + [recording_secrets], env=env)
    for extra in declared:
        if isinstance(extra, RuleTable):
            table = table.merged_with(extra)
    return Sanitizer(dict(placeholders or {}), tuple(value_prefixes), table)
