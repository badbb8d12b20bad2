"""``DeclaredAuthMethod.declarations``: a method that names the module holding its upper-case
declarations reads them from it on first use, relative to the package of the class that names it;
a declaration the module lacks keeps its default."""

from __future__ import annotations

import sys
import types

import pytest

from app_connections.declared import DeclaredAuthMethod
from app_connections.fields import Field

TOKEN = Field("token", title="Token", description="A token.", required=True, secret=True)
REGION = Field("region", title="Region", description="Where.", default="west")
PACKAGE = "acme_declared"
MODULE = f"{PACKAGE}.fields"


class Named(DeclaredAuthMethod):
    """Names its declarations' module relative to its own package."""

    __module__ = f"{PACKAGE}.method"
    slug, name = "named", "Named"
    declarations = ".fields"


class Inherited(Named):
    """Inherits the name, still read relative to ``Named``'s package."""

    __module__ = "elsewhere.method"
    slug = "inherited"


@pytest.fixture
def fields_module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType(MODULE)
    monkeypatch.setitem(sys.modules, MODULE, module)
    return module


def test_the_declarations_are_read_from_the_named_module_on_first_use(fields_module: types.ModuleType) -> None:
    vars(fields_module).update(INPUT_FIELDS=(TOKEN,), STORED_FIELDS=(TOKEN, REGION))
    assert Named().input_fields == (TOKEN,) and Named.stored_fields == (TOKEN, REGION)
    assert list(Named().input_schema()["properties"]) == ["token"]
    vars(fields_module)["INPUT_FIELDS"] = (REGION,)  # read at each use, not copied at class definition
    assert Inherited().input_fields == (REGION,)


def test_a_declaration_the_module_lacks_keeps_its_default(fields_module: types.ModuleType) -> None:
    method = Inherited()
    assert (method.input_fields, method.stored_fields, method.input_choices, method.input_rules) == ((), None, (), ())
    assert (method.stored_choices, method.stored_rules) == (None, None)


def test_a_method_naming_no_module_has_the_defaults() -> None:
    class Plain(DeclaredAuthMethod):
        slug, name = "plain", "Plain"

    assert (Plain().input_fields, Plain().stored_fields) == ((), None)
