"""``DeclaredAuthMethod``: an auth method defined by its field declarations.

Subclass it, declare ``input_fields`` (the form) and, when they differ, ``stored_fields`` (what
``credentials.to_dict()`` holds besides ``method``), and say how values become records. The JSON
Schema, ``parse`` and ``load`` come from the declarations (``fields``). Import-light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Generic, TypeVar, overload

from app_connections.auth_method import AuthMethod, Credentials, RotateCallback, TokenCredential
from app_connections.jsontypes import JSONInput, JSONObject

if TYPE_CHECKING:
    from app_connections.fields import CrossRule, Field, OneOf
    from app_connections.policy import HostPolicy
    from app_connections.stored_record import StoredRecord

C = TypeVar("C")
T = TypeVar("T")


class _Declared(Generic[T]):
    """A declaration read on first use from the module the class names in ``declarations`` (the
    upper-case ``name``, e.g. ``INPUT_FIELDS``), so registration imports no field module; ``default``
    when the class names none or the module lacks it. A subclass that sets the attribute itself
    (``input_fields = (...)``) overrides it."""

    def __init__(self, name: str, default: T) -> None:
        self.name = name
        self.default = default

    @overload
    def __get__(self, obj: None, owner: type[DeclaredAuthMethod]) -> T: ...
    @overload
    def __get__(self, obj: DeclaredAuthMethod, owner: type[DeclaredAuthMethod]) -> T: ...
    def __get__(self, obj: DeclaredAuthMethod | None, owner: type[DeclaredAuthMethod]) -> T:
        if not owner.declarations:
            return self.default
        named_by = next(k for k in owner.__mro__ if "declarations" in vars(k))  # relative to its module
        package = named_by.__module__.rpartition(".")[0] or None
        module = importlib.import_module(owner.declarations, package)  # cached in sys.modules
        value: T = getattr(module, self.name, self.default)
        return value


class DeclaredAuthMethod(AuthMethod):
    """Base of auth methods declared with ``fields.Field``.

    Class attributes to set: ``slug``, ``name``, ``description``, ``connection_type`` (slug),
    ``input_fields``, optionally ``stored_fields``, ``record`` and any optional member of ``AuthMethod``
    (``interactive``, ``identity_provider``, ``ambient_identity``, ``path_fields``,
    ``credentials_type``, ``request_credential``, ``principal``, ``cloud_of``, ``endpoint_of``,
    ``tenant_of``), whose defaults it inherits. Instead of setting the
    declarations, a class may name the module holding them in ``declarations`` (e.g.
    ``".my_method_fields"``, relative to the class's package): ``INPUT_FIELDS``, ``STORED_FIELDS``,
    ``INPUT_CHOICES``, ``INPUT_RULES``, ``STORED_CHOICES`` and ``STORED_RULES`` are read from it on
    first use, so registration stays import-light.
    Methods to provide: ``credentials_from(values)`` (default: ``record(**values)``), ``token_credential(...)`` and, for
    interactive methods, ``input_from(values)``, ``begin(...)`` and ``complete(...)``.
    """

    slug: str = ""
    name: str = ""
    title: str = ""
    """The schema's title; defaults to ``"<connection type>: <name>"``."""
    description: str = ""
    connection_type: str = "app-connection"
    declarations: str = ""
    """Module holding the upper-case declarations (see above); empty: the class sets them itself."""
    record: type[StoredRecord] | None = None
    """The method's credentials record (``stored_record.StoredRecord``, derived from its stored
    fields): ``credentials_type`` and what ``credentials_from`` builds by default."""
    if TYPE_CHECKING:  # what the declarations are; at run time, descriptors reading ``declarations``
        input_fields: tuple[Field, ...]
        stored_fields: tuple[Field, ...] | None
        input_choices: tuple[OneOf, ...]
        input_rules: tuple[CrossRule, ...]
        stored_choices: tuple[OneOf, ...] | None
        stored_rules: tuple[CrossRule, ...] | None
    else:
        input_fields = _Declared("INPUT_FIELDS", ())
        stored_fields = _Declared("STORED_FIELDS", None)
        input_choices = _Declared("INPUT_CHOICES", ())
        """Choices between groups of fields (e.g. ``privateKey`` + ``certificate``, or ``pkcs12``): in
        the schema and the parser."""
        input_rules = _Declared("INPUT_RULES", ())
        """Checks over several fields that no schema keyword expresses (run by ``parse``)."""
        stored_choices = _Declared("STORED_CHOICES", None)
        stored_rules = _Declared("STORED_RULES", None)
        """Default to ``input_choices`` / ``input_rules`` when ``stored_fields`` is None, else to none."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # --- derived from the declarations ----------------------------------------------------------

    def _stored(self) -> tuple[Field, ...]:
        return self.input_fields if self.stored_fields is None else self.stored_fields

    def _stored_choices(self) -> tuple[OneOf, ...]:
        if self.stored_choices is not None:
            return self.stored_choices
        return self.input_choices if self.stored_fields is None else ()

    def _stored_rules(self) -> tuple[CrossRule, ...]:
        if self.stored_rules is not None:
            return self.stored_rules
        return self.input_rules if self.stored_fields is None else ()

    def input_schema(self) -> JSONObject:
        """JSON Schema (draft 2020-12) of the form input."""
        from app_connections.fields import object_schema

        return object_schema(
            self.input_fields,
            title=self.title or f"{self.connection_type}: {self.name}",
            description=self.description,
            choices=self.input_choices,
        )

    def stored_schema(self) -> JSONObject:
        """JSON Schema of ``credentials.to_dict()`` (the ``method`` key included)."""
        from app_connections.fields import object_schema

        schema = object_schema(
            self._stored(),
            title=f"{self.title or f'{self.connection_type}: {self.name}'} (stored credentials)",
            description=f"What a host stores for a {self.name} connection.",
            choices=self._stored_choices(),
        )
        schema["properties"] = {
            "method": {"const": self.slug, "title": "Method", "description": "The auth method's slug."},
            **schema["properties"],
        }
        schema["required"] = ["method", *schema["required"]]
        schema["x-order"] = ["method", *schema["x-order"]]
        return schema

    def parse(self, data: JSONInput, *, policy: HostPolicy | None = None) -> object:
        """Form input -> credentials (or, for an interactive method, the sign-in input for ``begin``),
        under ``policy`` (default: the one in effect, ``policy.current()``). Raises ``InvalidInput``
        naming every bad field."""
        if policy is not None:
            from app_connections import policy as policies

            with policies.use(policy):
                return self.parse(data)
        from app_connections.fields import parse_fields

        values = parse_fields(self.input_fields, data, choices=self.input_choices, cross_rules=self.input_rules)
        return self.input_from(values) if self.interactive else self.credentials_from(values)

    def load(self, stored: JSONInput, *, policy: HostPolicy | None = None) -> Credentials:
        """Stored credentials (``to_dict()`` output) -> the credentials record, under ``policy`` (as for ``parse``)."""
        if policy is not None:
            from app_connections import policy as policies

            with policies.use(policy):
                return self.load(stored)
        from app_connections.fields import parse_fields
        from app_connections.stored_record import stored_body

        return self.credentials_from(
            parse_fields(
                self._stored(),
                stored_body(self.slug, stored),
                what="(credentials)",
                choices=self._stored_choices(),
                cross_rules=self._stored_rules(),
            )
        )

    def checked(self, credentials: object, kind: type[C]) -> C:
        """``credentials`` when it is a ``kind`` record, else ``InvalidInput`` saying what is needed."""
        if not isinstance(credentials, kind):
            from .errors import FieldError, InvalidInput

            raise InvalidInput(
                errors=[
                    FieldError(
                        "credentials",
                        f"{self.slug} needs {kind.__name__} (from parse() or load()), not {type(credentials).__name__}",
                    )
                ]
            )
        return credentials

    def own(self, credentials: object, kind: type[C]) -> C | None:
        """``credentials`` when it is a ``kind`` record, else None (for members such as ``principal``
        or ``cloud_of`` that read a field of the method's own record and default otherwise)."""
        return credentials if isinstance(credentials, kind) else None

    # --- to provide ---------------------------------------------------------------------------

    @property
    def credentials_type(self) -> type | None:
        """The class of this method's credentials records: ``record`` (None when it sets none)."""
        return self.record

    def credentials_from(self, values: JSONObject) -> Credentials:
        """The credentials record from the parsed fields (``{attr: value}``): a ``record`` built
        from them, unless the method says otherwise."""
        if self.record is None:
            raise NotImplementedError
        return self.record(**values)

    def input_from(self, values: JSONObject) -> object:
        """An interactive method's sign-in input record (what ``begin`` takes) from the parsed fields."""
        raise NotImplementedError

    def token_credential(
        self, credentials: Credentials, *, on_rotate: RotateCallback | None = None, **options: object
    ) -> TokenCredential:
        """A token credential for ``credentials``; ``on_rotate`` receives rotated credentials to store."""
        raise NotImplementedError

    def principal(self, credentials: Credentials) -> str:
        """Who the credentials act as, for check texts (e.g. ``the service principal of app X``)."""
        return f"the {self.name} identity"
