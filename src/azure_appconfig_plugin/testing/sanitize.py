"""Scrub secrets and real identities from requests and responses before a cassette is written.

``Sanitizer.request`` and ``Sanitizer.response`` are vcrpy's ``before_record_request`` and
``before_record_response``. vcrpy also passes requests through ``before_record_request``
before matching, so a recorded cassette and a replayed test see the same placeholders.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any, Iterable, Mapping
from urllib.parse import parse_qsl, urlencode

import attrs

from ..formats import b64url_json, jwt_claims
from . import fakes

GUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

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
DROP_RESPONSE_HEADERS = frozenset({"set-cookie", "x-ms-clitelem", "x-ms-ests-server", "p3p"})
SECRET_FORM_FIELDS = ("client_secret", "client_assertion", "code", "code_verifier", "refresh_token", "assertion", "password")
TOKEN_FIELDS = ("access_token", "refresh_token", "id_token", "client_info")
KV_MEDIA = "vnd.microsoft.appconfig"


def _text(body: Any) -> str | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return str(body)


@attrs.define
class Sanitizer:
    """Replaces real values with placeholders and secrets with deterministic fakes.

    ``replacements`` maps real strings (tenant ID, client IDs, store name, ...) to
    placeholders; longest first, case-insensitive. ``value_prefixes`` lists App Configuration
    key prefixes whose values are replaced (``""`` means every key).
    """

    replacements: Mapping[str, str] = attrs.field(factory=dict)
    value_prefixes: tuple[str, ...] = ("",)
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
        for real in sorted(self.replacements, key=len, reverse=True):
            if real:
                text = re.sub(re.escape(real), self.replacements[real], text, flags=re.IGNORECASE)
        for kind, real in list(self._tokens.items()):
            text = text.replace(kind.split(":", 1)[1], real)
        return GUID_RE.sub(self._guid, text)

    @staticmethod
    def _guid(match: re.Match[str]) -> str:
        value = match.group(0)
        if fakes.is_placeholder_guid(value):
            return value
        digest = hashlib.sha256(value.lower().encode()).hexdigest()[:12]
        return fakes.PLACEHOLDER_GUID_PREFIX + digest

    def _form(self, body: str) -> str:
        pairs = parse_qsl(body, keep_blank_values=True)
        out = []
        for key, value in pairs:
            if key == "refresh_token":
                value = self._fake("refresh-token", value)
            elif key in SECRET_FORM_FIELDS:
                value = fakes.REDACTED
            out.append((key, value))
        return urlencode(out)

    def _kv(self, item: Any) -> Any:
        if isinstance(item, dict) and isinstance(item.get("key"), str) and item.get("value") is not None:
            if any(item["key"].startswith(p) for p in self.value_prefixes):
                item["value"] = "sanitized-value"
        return item

    def _json(self, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if "access_token" in data:
            data["access_token"] = self._access_token(str(data["access_token"]))
        if "refresh_token" in data:
            data["refresh_token"] = self._fake("refresh-token", str(data["refresh_token"]))
        if "id_token" in data:
            data["id_token"] = self._id_token(str(data["id_token"]))
        if "client_info" in data:
            data["client_info"] = self._client_info(str(data["client_info"]))
        if isinstance(data.get("items"), list):
            data["items"] = [self._kv(i) for i in data["items"]]
        self._kv(data)
        return data

    def _id_token(self, token: str) -> str:
        claims = jwt_claims(token)
        if not claims:
            return fakes.fake_jwt({"sanitized": True})
        keep: dict[str, Any] = {k: claims[k] for k in ("aud", "iss", "iat", "nbf", "exp", "nonce", "tid", "ver") if k in claims}
        keep.update({"name": "Test User", "preferred_username": "test.user@contoso.example", "oid": fakes.FAKE_OBJECT_ID, "sub": "fake-subject"})
        scrubbed = json.loads(self.scrub_text(json.dumps(keep)))
        return fakes.fake_jwt(scrubbed)

    def _access_token(self, token: str) -> str:
        """Opaque fake, or for a JWT an unsigned fake keeping the claims our checks read."""
        if token.count(".") != 2 or token.startswith("fake-"):
            return self._fake("access-token", token)
        key = f"access-token:{token}"
        if key not in self._tokens:
            claims = jwt_claims(token)
            if not claims:
                return self._fake("access-token", token)
            keep = {k: claims[k] for k in ("aud", "iss", "tid", "iat", "nbf", "exp", "ver") if k in claims}
            self._tokens[key] = fakes.fake_jwt(json.loads(self.scrub_text(json.dumps(keep))))
        return self._tokens[key]

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
            return self.scrub_text(self._form(text))
        return self.scrub_text(text)

    # --- vcrpy hooks ---------------------------------------------------------------------

    def request(self, request: Any) -> Any:
        request = copy.deepcopy(request)
        for name in list(request.headers):
            if name.lower() in DROP_REQUEST_HEADERS:
                del request.headers[name]
        request.uri = self.scrub_text(request.uri)
        for name, value in list(request.headers.items()):
            request.headers[name] = self.scrub_text(str(value))
        text = _text(request.body)
        if text:
            ctype = str(request.headers.get("Content-Type", request.headers.get("content-type", "")))
            request.body = self._body(text, ctype).encode("utf-8")
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        response = copy.deepcopy(response)
        headers = response.get("headers", {})
        for name in list(headers):
            if name.lower() in DROP_RESPONSE_HEADERS:
                del headers[name]
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


def sanitizer_from_env(env: Mapping[str, str], *, value_prefixes: Iterable[str] = ("",)) -> Sanitizer:
    """Placeholders for the real identities a recording session uses (see ``recording_values``)."""
    from .recording import real_to_placeholder

    return Sanitizer(real_to_placeholder(env), tuple(value_prefixes))
