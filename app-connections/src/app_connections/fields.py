"""Field declarations: each auth method declares its fields once; the JSON Schema and the parser
are both derived from the declaration, so they cannot disagree.

A ``Field`` says everything JSON Schema can say about a form (or stored) field: name (camelCase,
as in the JSON), type, title, description, required, secret, pattern, format, enum, length and
range limits, and how the value is normalised (``strip``). What no JSON Schema keyword can
express is declared beside the field as a ``Rule`` (a test and the message shown when it fails).
The contract, proved by a property test: ``parse`` succeeds exactly when the input is valid under
the derived schema and every declared ``Rule`` holds, and ``parse`` raises nothing but
``InvalidInput``.

Import-light (standard library only): method declarations are built at registration.

Derivation rules (one place, here):

- an optional field accepts ``null`` (treated as absent); a required field does not;
- ``strip`` fields accept surrounding blanks (space, tab, CR, LF), which the parser removes; an
  optional ``strip`` field that is blank counts as absent; a required one is ``is required``;
- patterns are anchored with ``^`` and ``END`` (not ``$``, which in Python also matches before a
  trailing newline), so Python and ECMA-262 validators agree with the parser; a pattern is written
  in the syntax both Python ``re`` and ECMA-262 with the ``u`` and ``v`` flags accept (the ``v``
  flag is what HTML ``<input pattern>`` uses): inside a class, ``-``, ``/``, ``(``, ``)``, ``[``,
  ``{``, ``}`` and ``|`` are escaped (tests/test_schema_patterns.py compiles each one with Node);
- the properties keep the declaration's order, also given as ``x-order`` (a list of names) for a
  form whose JSON reader loses key order; ``multiline=True`` becomes ``x-multiline: true`` (render
  a text area: PEM and base64 blocks); ``encoding="base64"`` becomes ``contentEncoding: base64``
  (binary content, e.g. a PKCS#12 file's bytes);
- ``integer`` accepts integral floats (``3.0``), as JSON Schema does, and never booleans;
- every string must be encodable text: a lone surrogate (``"\\ud800"``) is an error naming the
  field (a built-in ``Rule`` of every string field).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from .cross_field import CrossRule as CrossRule
from .cross_field import OneOf as OneOf
from .frozen import _Frozen
from .jsontypes import JSONObject, JSONValue
from .text import WITHHELD, holds_private_key, shown_value

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
END = r"(?![\s\S])"
"""End of input, the same in Python ``re`` and ECMA-262 (``$`` differs on a trailing newline)."""
BLANKS = " \t\r\n"
_BLANK_CLASS = r"[ \t\r\n]*"
MISSING: Final = object()


class Rule(_Frozen):
    """A check beside a field that JSON Schema cannot express: ``test(value)`` is True when fine."""

    __slots__ = ("test", "message")
    _fields = __slots__
    test: Callable[[JSONValue], bool]
    message: str

    def __init__(self, test: Callable[[JSONValue], bool], message: str) -> None:
        self._init(test=test, message=message)


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


TEXT_RULE = Rule(_encodable, "must be valid Unicode text (it contains a lone surrogate)")
PRIVATE_KEY_IN_PUBLIC_FIELD = (
    "holds a private key (a PEM PRIVATE KEY block), which is secret and this field is not: give only the "
    "public part here and the key in the method's private-key field"
)
"""What a field that is not ``secret`` says when its text holds a private key (never stored or shown)."""


HEADER_KEYWORD = "x-header"
"""JSON Schema annotation naming the HTTP header a field's value is sent in (``Field(header=...)``)."""


class Field(_Frozen):
    """One field of a method's form input or stored credentials."""

    __slots__ = (
        "name",
        "type",
        "title",
        "description",
        "required",
        "secret",
        "pattern",
        "pattern_message",
        "format",
        "enum",
        "min_length",
        "max_length",
        "minimum",
        "maximum",
        "strip",
        "rules",
        "default",
        "examples",
        "attr",
        "multiline",
        "header",
        "encoding",
    )
    _fields = __slots__
    _repr_fields = ("name", "type", "required", "secret")
    name: str
    type: str
    title: str
    description: str
    required: bool
    secret: bool
    pattern: str | None
    """The core pattern of the value (unanchored); anchoring and blanks are derived."""
    pattern_message: str
    format: str | None
    enum: tuple[JSONValue, ...] | None
    min_length: int | None
    max_length: int | None
    minimum: int | None
    maximum: int | None
    strip: bool
    rules: tuple[Rule, ...]
    default: JSONValue
    examples: tuple[JSONValue, ...]
    attr: str
    """The Python attribute the parsed value goes to (``tenantId`` -> ``tenant_id``)."""
    multiline: bool
    """A form renders the field as a text area (``x-multiline`` in the schema)."""
    header: str | None
    """The HTTP header the value travels in, when it does (JSON Schema annotation ``x-header``): a
    secret field's header is sanitized out of recordings and flagged by the secret scan."""
    encoding: str | None
    """``"base64"``: the value is binary content (a file's bytes) base64-encoded (JSON Schema
    ``contentEncoding``); a command line reads such a field's file as bytes and encodes it."""

    def __init__(
        self,
        name: str,
        *,
        type: str = "string",
        title: str,
        description: str,
        required: bool = False,
        secret: bool = False,
        pattern: str | None = None,
        pattern_message: str = "has the wrong format",
        format: str | None = None,
        enum: Iterable[JSONValue] | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        strip: bool = False,
        rules: Iterable[Rule] = (),
        default: JSONValue = MISSING,
        examples: Iterable[JSONValue] = (),
        attr: str | None = None,
        multiline: bool = False,
        header: str | None = None,
        encoding: str | None = None,
    ) -> None:
        if type not in ("string", "integer", "boolean"):
            raise ValueError(f"field {name!r}: unsupported type {type!r}")
        if encoding not in (None, "base64") or (encoding and type != "string"):
            raise ValueError(f"field {name!r}: encoding must be None or 'base64' (string fields only)")
        self._init(
            name=name,
            type=type,
            title=title,
            description=description,
            required=required,
            secret=secret,
            pattern=pattern,
            pattern_message=pattern_message,
            format=format,
            enum=tuple(enum) if enum is not None else None,
            min_length=min_length,
            max_length=max_length,
            minimum=minimum,
            maximum=maximum,
            strip=strip,
            rules=tuple(rules),
            default=default,
            examples=tuple(examples),
            attr=attr or _snake(name),
            multiline=multiline,
            header=header,
            encoding=encoding,
        )

    def replace(self, **changes: object) -> Field:
        """A copy with some attributes changed (e.g. ``TENANT.replace(required=False)``)."""
        values = {f: getattr(self, f) for f in self._fields}
        values.update(changes)
        name = values.pop("name")
        return Field(name, **values)

    # --- derived: JSON Schema ---------------------------------------------------------------

    @property
    def full_pattern(self) -> str | None:
        """The anchored pattern the schema carries and the parser applies to the raw value."""
        if self.pattern is None and not self.strip:
            return None
        if self.pattern is not None:
            core = self.pattern
        elif self.required:  # required: at least one character that is not a blank the parser strips
            core = r"[\s\S]*[^ \t\r\n][\s\S]*"
        else:
            core = r"[\s\S]*"
        if not self.strip:
            return f"^(?:{core}){END}"
        if self.required:
            return f"^{_BLANK_CLASS}(?:{core}){_BLANK_CLASS}{END}"
        return f"^{_BLANK_CLASS}(?:(?:{core}){_BLANK_CLASS})?{END}"

    def json_schema(self) -> JSONObject:
        """The field's JSON Schema property (type, title, description and constraints)."""
        prop: JSONObject = {"type": self.type if self.required else [self.type, "null"]}
        prop["title"] = self.title
        prop["description"] = self.description
        if self.full_pattern is not None:
            prop["pattern"] = self.full_pattern
        if self.enum is not None:
            prop["enum"] = list(self.enum) + ([] if self.required else [None])
        for key, value in (
            ("minLength", self.min_length),
            ("maxLength", self.max_length),
            ("minimum", self.minimum),
            ("maximum", self.maximum),
        ):
            if value is not None:
                prop[key] = value
        if self.secret:
            prop["writeOnly"] = True
            prop["format"] = self.format or "password"
        elif self.format:
            prop["format"] = self.format
        if self.default is not MISSING:
            prop["default"] = self.default
        if self.examples:
            prop["examples"] = list(self.examples)
        if self.multiline:
            prop["x-multiline"] = True
        if self.header:
            prop[HEADER_KEYWORD] = self.header
        if self.encoding:
            prop["contentEncoding"] = self.encoding
        return prop

    # --- derived: parser ----------------------------------------------------------------------

    def problem(self, value: JSONValue) -> tuple[str | None, JSONValue]:
        """``(message, None)`` when ``value`` is invalid, else ``(None, normalised value)``.
        ``value`` is not None/missing (those are handled by ``parse_fields``)."""
        if self.type == "string":
            if not isinstance(value, str):
                return "must be a string", None
            if not _encodable(value):
                return TEXT_RULE.message, None
            if not self.secret and holds_private_key(value):  # said first: the value is never repeated
                return PRIVATE_KEY_IN_PUBLIC_FIELD, None
            if self.min_length is not None and len(value) < self.min_length:
                return (
                    "must be a non-empty string"
                    if self.min_length == 1
                    else f"must be at least {self.min_length} characters"
                ), None
            if self.max_length is not None and len(value) > self.max_length:
                return f"is longer than {self.max_length} characters", None
            if self.strip and value.strip(BLANKS) == "":
                return ("is required" if self.required else None), MISSING
            pattern = self.full_pattern
            if pattern is not None and not _compiled(pattern).search(value):
                return self.pattern_message, None
            normalised: JSONValue = value.strip(BLANKS) if self.strip else value
        elif self.type == "integer":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return "must be an integer", None
            if isinstance(value, float):
                if not value.is_integer():
                    return "must be an integer", None
                value = int(value)
            if self.minimum is not None and value < self.minimum:
                return f"must be at least {self.minimum}", None
            if self.maximum is not None and value > self.maximum:
                return f"must be at most {self.maximum}", None
            normalised = value
        else:
            if not isinstance(value, bool):
                return "must be true or false", None
            normalised = value
        if self.enum is not None and normalised not in self.enum:
            return f"must be one of: {', '.join(str(e) for e in self.enum)}", None
        for rule in self.rules:
            if not rule.test(normalised):
                return rule.message, None
        return None, normalised


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    found = _PATTERNS.get(pattern)
    if found is None:
        found = _PATTERNS[pattern] = re.compile(pattern)
    return found


def _snake(name: str) -> str:
    """``tenantId`` -> ``tenant_id`` (no regex: declarations are built at registration)."""
    return "".join(
        "_" + ch.lower() if ch.isupper() and i and not name[i - 1].isupper() else ch.lower() if ch.isupper() else ch
        for i, ch in enumerate(name)
    )


def shown(key: object) -> str:
    """A field name safe to print (non-strings and lone surrogates escaped)."""
    text = key if isinstance(key, str) else repr(key)
    return text if _encodable(text) else text.encode("utf-8", "backslashreplace").decode("ascii", "replace")


def _given(field: Field, value: JSONValue) -> bool:
    if value is MISSING or value is None:
        return False
    return not (field.strip and isinstance(value, str) and value.strip(BLANKS) == "")


def object_schema(
    fields: Iterable[Field],
    *,
    title: str,
    description: str,
    schema_id: str | None = None,
    choices: Iterable[OneOf] = (),
) -> JSONObject:
    """The JSON Schema (draft 2020-12) of an object made of ``fields`` (and ``choices`` between them)."""
    fields = tuple(fields)
    choices = tuple(choices)
    schema: JSONObject = {"$schema": JSON_SCHEMA_DIALECT}
    if schema_id:
        schema["$id"] = schema_id
    schema.update(
        {
            "title": title,
            "description": description,
            "type": "object",
            "properties": {f.name: f.json_schema() for f in fields},
            "required": [f.name for f in fields if f.required],
            "additionalProperties": False,
            "x-order": [f.name for f in fields],
        }
    )
    by_name = {f.name: f for f in fields}
    if len(choices) == 1:
        schema.update(choices[0].json_schema(by_name))
    elif choices:
        schema["allOf"] = [c.json_schema(by_name) for c in choices]
    return schema


def parse_fields(
    fields: Iterable[Field],
    data: object,
    *,
    what: str = "(input)",
    choices: Iterable[OneOf] = (),
    cross_rules: Iterable[CrossRule] = (),
) -> JSONObject:
    """Check ``data`` against ``fields`` (and ``choices``, then ``cross_rules``); return
    ``{attr: value}`` of the fields given (normalised, defaults filled in). Raises ``InvalidInput``
    naming every bad field, and nothing else."""
    from .errors import FieldError, InvalidInput

    fields = tuple(fields)
    if not isinstance(data, Mapping):
        raise InvalidInput(errors=[FieldError(what, "must be an object (a JSON object of fields)")])
    by_name = {f.name: f for f in fields}
    errors: list[FieldError] = []
    try:
        keys = list(data)
    except Exception:  # a hostile Mapping whose iteration raises (tests/test_declared_methods_edges.py)
        raise InvalidInput(errors=[FieldError(what, "must be an object (a JSON object of fields)")]) from None
    for key in keys:
        if key not in by_name:
            import difflib

            name = shown_value(shown(key), 80)
            guess = difflib.get_close_matches(name, list(by_name), n=1) if isinstance(key, str) else []
            hint = f"; did you mean {guess[0]!r}?" if guess else f"; allowed: {', '.join(by_name) or 'none'}"
            if name == WITHHELD:
                hint = f"; allowed: {', '.join(by_name) or 'none'}"
            errors.append(FieldError(name, "is not a known field" + hint))
    values: JSONObject = {}
    for field in fields:
        value = data.get(field.name, MISSING)
        if value is MISSING or value is None:
            if value is None and field.required:
                errors.append(FieldError(field.name, "is required (null given)"))
            elif field.required:
                errors.append(FieldError(field.name, "is required"))
            elif field.default is not MISSING:
                values[field.attr] = field.default
            continue
        message, normalised = field.problem(value)
        if message:
            errors.append(FieldError(field.name, message))
        elif normalised is MISSING:
            if field.default is not MISSING:
                values[field.attr] = field.default
        else:
            values[field.attr] = normalised
    given = {f.name for f in fields if f.name in data and _given(f, data[f.name])}
    for choice in choices:
        found = choice.problem(given)
        if found:
            errors.append(FieldError(*found))
    if not errors:
        for rule in cross_rules:
            found = rule.test(values)
            if found:
                errors.append(FieldError(*found))
                break
    if errors:
        raise InvalidInput(errors=errors)
    return values
