"""Least privilege for hooks: who may see a connection's secrets, and the view everyone else gets."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Iterable, Iterator, KeysView, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ..jsontypes import JSONInput, JSONObject, JSONValue
from ..text import holds_private_key
from .allowlist import ALLOWLIST_ENV, SECRETS_GRANT, normalize_name

if TYPE_CHECKING:
    import pluggy

    from ..records import ConnectionType, Credentials

R = TypeVar("R")


def secret_fields(schema: JSONInput) -> frozenset[str]:
    """Properties a method's ``input_schema()`` marks secret (``writeOnly: true`` or ``format: password``)."""
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(props, Mapping):
        return frozenset()
    return frozenset(
        k
        for k, v in props.items()
        if isinstance(v, Mapping) and (v.get("writeOnly") is True or v.get("format") == "password")
    )


def public_fields(schema: JSONInput) -> frozenset[str]:
    """Properties a foreign hook may read: declared in the schema and not secret. Anything a method
    stores but does not declare (e.g. an OAuth refresh token) is withheld too: fail closed."""
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(props, Mapping):
        return frozenset()
    return frozenset(props) - secret_fields(schema)


def method_schema(connection_type: ConnectionType, method: str | None) -> JSONInput:
    """The ``input_schema()`` of ``method`` of ``connection_type``; ``{}`` (so every field is
    withheld: fail closed) when there is no such method or its schema cannot be built."""
    if method is None:  # no method has that slug
        return {}
    try:
        schema = connection_type.methods[method].input_schema()
    except Exception:  # a plugin's broken method must not abort validation nor open the view
        return {}
    return schema if isinstance(schema, Mapping) else {}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class SecretWithheld(AttributeError, KeyError):
    """A restricted hook asked for a field it is not granted (as an attribute or a key)."""

    def __str__(self) -> str:  # KeyError would show the repr
        return str(self.args[0]) if self.args else ""


class CredentialsView:
    """What a hook without the secrets grant sees instead of a connection's credentials.

    ``method``, ``to_dict()`` and the public fields, as snake_case attributes and as a read-only
    mapping of camelCase keys (so it also stands in for raw form input); reading a withheld field
    raises :class:`SecretWithheld` saying how the host grants it. It is no ``Credentials`` of any
    auth method, so no method mints a token from it.
    """

    __slots__ = ("_method", "_public", "_withheld", "_plugin", "_declared")
    _method: str
    _public: JSONObject
    _withheld: frozenset[str]
    _plugin: str
    _declared: frozenset[str]

    def __init__(
        self,
        method: str,
        public: JSONInput,
        withheld: Iterable[str],
        plugin: str = "",
        declared: Iterable[str] = (),
    ) -> None:
        """``declared``: public fields the schema declares; absent ones read as ``None``."""
        object.__setattr__(self, "_method", method)
        object.__setattr__(self, "_public", dict(public))
        object.__setattr__(self, "_withheld", frozenset(withheld))
        object.__setattr__(self, "_plugin", plugin)
        object.__setattr__(self, "_declared", frozenset(declared) | frozenset(public))

    @property
    def method(self) -> str:
        """The connection's method slug."""
        return self._method

    @property
    def withheld(self) -> frozenset[str]:
        """camelCase names of the fields this view leaves out."""
        return self._withheld

    def to_dict(self) -> JSONObject:
        """The credentials this hook may see, secrets left out."""
        return {"method": self._method, **self._public}

    def _withheld_error(self, name: str) -> SecretWithheld:
        who = object.__getattribute__(self, "_plugin") or "this plugin"
        return SecretWithheld(
            f"{name!r} is withheld from {who}: it did not register this connection's type or method; "
            f"a host grants it with '<distribution>...:{SECRETS_GRANT}' in {ALLOWLIST_ENV} "
            "or grant_secrets= in load_plugins()"
        )

    def __getattr__(self, name: str) -> JSONValue:
        public: JSONObject = object.__getattribute__(self, "_public")
        for key, value in public.items():
            if name in (key, _snake(key)):
                return value
        withheld: frozenset[str] = object.__getattribute__(self, "_withheld")
        if any(name in (key, _snake(key)) for key in withheld):
            raise self._withheld_error(name)
        declared: frozenset[str] = object.__getattribute__(self, "_declared")
        if any(name in (key, _snake(key)) for key in declared):
            return None  # an optional public field the input left out
        raise AttributeError(name)

    # read-only mapping of the public fields (camelCase keys), like the form input it may stand for
    def __getitem__(self, key: str) -> JSONValue:
        if key == "method":
            return self._method
        if key in self._public:
            return self._public[key]
        if key in self._withheld:
            raise self._withheld_error(key)
        raise KeyError(key)

    def get(self, key: str, default: JSONValue = None) -> JSONValue:
        """The value of ``key``; reading a withheld secret raises ``SecretWithheld``."""
        if key in self._withheld:
            raise self._withheld_error(key)
        return self.to_dict().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.to_dict()

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())

    def keys(self) -> KeysView[str]:
        """The names this hook may read."""
        return self.to_dict().keys()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("CredentialsView is read-only")

    def __repr__(self) -> str:
        return (
            f"CredentialsView(method={self._method!r}, fields={sorted(self._public)}, "
            f"withheld={sorted(self._withheld)})"
        )


def credentials_view(
    credentials: Credentials | CredentialsView | JSONInput | None,
    schema: JSONInput,
    *,
    plugin: str = "",
    method: str | None = None,
) -> CredentialsView | None:
    """Restrict ``credentials`` (a credentials object, or a mapping such as raw form input or
    stored credentials) to the public fields of its method's ``schema``."""
    if credentials is None:
        return None
    if isinstance(credentials, CredentialsView):
        return credentials
    from ..records import Credentials

    record = credentials if isinstance(credentials, Credentials) else None  # the kit's protocol, else a mapping
    data = record.to_dict() if record is not None else dict(cast("Mapping[str, Any]", credentials))
    allowed = public_fields(schema)
    method = str((record.method if record is not None else None) or data.get("method") or method or "")
    public = {k: v for k, v in data.items() if k in allowed and not holds_private_key(v)}  # a key in the wrong lane
    withheld = [k for k in data if k not in public and k != "method"]
    return CredentialsView(method, public, withheld, plugin, declared=allowed)


SAFE_OPTIONS = frozenset({"write_probe", "probe_label"})
"""Request ``options`` a restricted hook keeps; the rest (``settings`` and ``env`` carry the
instance's client secret, ``token_credential``, ``on_rotate``, client options) are dropped."""


def _field_names(request: object) -> set[str]:
    attrs_fields = getattr(type(request), "__attrs_attrs__", None)
    if attrs_fields is not None:
        return {a.name for a in attrs_fields}
    if dataclasses.is_dataclass(request):
        return {f.name for f in dataclasses.fields(request)}
    return set(vars(request))


def restricted_request(request: R, schema: JSONInput, *, plugin: str = "") -> R:
    """A copy of a hook's request without secrets: ``credentials`` and the raw input ``data`` become
    :class:`CredentialsView` objects, ``token_credential`` is ``None``, ``options`` keep only
    :data:`SAFE_OPTIONS`; everything else (type, method, endpoint, checks, connection) is kept.
    Works for attrs classes, dataclasses and plain objects with those attributes."""
    source: Any = request  # duck-typed: an attrs class, a dataclass or a plain object with these attributes
    fields = _field_names(request)
    method = getattr(request, "method", None)
    changes: dict[str, Any] = {}  # attrs.evolve and dataclasses.replace take each field's own type
    if "credentials" in fields:
        changes["credentials"] = credentials_view(source.credentials, schema, plugin=plugin, method=method)
    if "token_credential" in fields:
        changes["token_credential"] = None
    if "data" in fields and source.data is not None:
        changes["data"] = credentials_view(source.data, schema, plugin=plugin, method=method)
    if "options" in fields and source.options is not None:
        changes["options"] = {k: v for k, v in dict(source.options).items() if k in SAFE_OPTIONS}
    if hasattr(type(request), "__attrs_attrs__"):
        import attrs

        instance: Any = request  # an attrs instance (checked above), which mypy's attrs plugin cannot see in R
        return cast(R, attrs.evolve(instance, **changes))
    if dataclasses.is_dataclass(request) and not isinstance(request, type):
        return dataclasses.replace(request, **changes)
    clone = object.__new__(type(request))
    clone.__dict__.update({**vars(request), **changes})
    return clone


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who a plugin is for trust purposes: its distribution, or (for a plugin object the host
    passed in-process) its plugin name."""

    kind: str
    """``distribution`` or ``plugin``."""
    name: str

    @classmethod
    def of(cls, plugin: str, distribution: str | None) -> Principal:
        """The principal of ``plugin``: its distribution when it has one, else the plugin's name."""
        if distribution:
            return cls("distribution", normalize_name(distribution))
        return cls("plugin", plugin)


def may_see_secrets(caller: Principal, owners: Collection[Principal], grants: Collection[str]) -> bool:
    """Owners (the registrants of the connection's type and of its method) and granted callers see secrets.

    ``grants`` holds distribution names (any spelling) and in-process plugin names.
    """
    if caller in owners:
        return True
    if caller.kind == "distribution":
        return caller.name in {normalize_name(g) for g in grants}
    return caller.name in grants


@dataclasses.dataclass(frozen=True)
class TrustSplit:
    """Plugin names of a hook's implementations, split into who gets the full request and who the view."""

    privileged: frozenset[str]
    restricted: frozenset[str]


def split_by_trust(
    plugins: Mapping[str, str | None], owners: Collection[Principal], grants: Collection[str]
) -> TrustSplit:
    """``plugins``: plugin name -> distribution name (``None`` for in-process). For a pluggy-driven
    call: ``pm.subset_hook_caller(hook, remove_plugins=<restricted objects>)(request=full)`` and
    ``pm.subset_hook_caller(hook, remove_plugins=<privileged objects>)(request=view)``."""
    privileged = {p for p, d in plugins.items() if may_see_secrets(Principal.of(p, d), owners, grants)}
    return TrustSplit(frozenset(privileged), frozenset(plugins) - privileged)


def call_by_trust(
    pm: pluggy.PluginManager,
    hook: str,
    request: object,
    *,
    schema: JSONInput,
    owners: Collection[Principal],
    grants: Collection[str],
    distribution_of: Mapping[str, str | None],
    exclude: Collection[str] = (),
) -> list[object]:
    """Call ``hook`` through pluggy once per trust group: implementations of privileged plugins
    with ``request``, the others with :func:`restricted_request`. Returns pluggy's results (the
    privileged group's first). ``distribution_of``: plugin name -> distribution (``None`` for
    in-process). ``exclude`` names plugins whose implementation is not called (an async host ran
    it already). A raising implementation propagates as in any pluggy call."""
    every = {impl.plugin_name: impl.plugin for impl in getattr(pm.hook, hook).get_hookimpls()}
    names = {n: p for n, p in every.items() if n not in exclude}
    split = split_by_trust({n: distribution_of.get(n) for n in names}, owners, grants)
    skipped = [p for n, p in every.items() if n in exclude]
    results: list[object] = []
    if split.privileged:  # first: the owners' checks parse the input and obtain the token
        caller = pm.subset_hook_caller(hook, remove_plugins=[names[n] for n in split.restricted] + skipped)
        results.extend(caller(request=request))
    if split.restricted:
        seen = restricted_request(request, schema)
        before = len(getattr(seen, "checks", ()) or ())
        caller = pm.subset_hook_caller(hook, remove_plugins=[names[n] for n in split.privileged] + skipped)
        results.extend(caller(request=seen))
        added = tuple(getattr(seen, "checks", ()) or ())[before:]
        if added and hasattr(request, "add"):  # checks the restricted group added to its copy
            request.add(*added)
    return results
