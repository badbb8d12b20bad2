"""``StoredRecord``: a frozen credentials record derived from a method's stored fields."""

from __future__ import annotations

import pytest

from app_connections.declared import DeclaredAuthMethod
from app_connections.errors import InvalidInput
from app_connections.fields import Field
from app_connections.stored_record import StoredRecord

TENANT = Field("tenantId", title="Tenant", description="The tenant.", required=True)
SECRET = Field("apiSecret", title="Secret", description="The secret.", required=True, secret=True, min_length=1)
PEM = Field("publicPem", title="PEM", description="A block.", multiline=True)
NOTE = Field("note", title="Note", description="Optional.")
REGION = Field("region", title="Region", description="Defaulted.", default="west")
FIELDS = (TENANT, SECRET, PEM, NOTE, REGION)


class DemoCredentials(StoredRecord, fields=FIELDS, method="demo", unstored=("context",)):
    """A record of every kind of field."""

    tenant_id: str
    api_secret: str
    public_pem: str | None
    note: str | None
    region: str
    context: object


def test_constructor_positional_in_field_order_or_by_attribute() -> None:
    by_position = DemoCredentials("t", "s3cret")
    by_name = DemoCredentials(api_secret="s3cret", tenant_id="t")
    assert by_position == by_name
    assert (by_position.tenant_id, by_position.note, by_position.region, by_position.method) == (
        "t",
        None,
        "west",
        "demo",
    )
    with pytest.raises(TypeError, match="missing the required argument 'api_secret'"):
        DemoCredentials("t")
    with pytest.raises(TypeError, match="unexpected keyword argument 'method'"):
        DemoCredentials("t", "s", method="other")
    with pytest.raises(TypeError, match="multiple values for 'tenant_id'"):
        DemoCredentials("t", "s", tenant_id="u")
    with pytest.raises(TypeError, match="at most 5 positional"):
        DemoCredentials("t", "s", None, None, "west", "extra")


def test_repr_hides_secret_and_multiline_fields() -> None:
    record = DemoCredentials("t", "s3cret", public_pem="-----BEGIN-----", note="n", context={"k": "hidden"})
    assert repr(record) == "DemoCredentials(tenant_id='t', note='n', region='west', method='demo')"
    assert "s3cret" not in str(record) and "BEGIN" not in repr(record) and "hidden" not in repr(record)


def test_to_dict_uses_json_names_and_omits_absent_optional_fields() -> None:
    assert DemoCredentials("t", "s").to_dict() == {
        "method": "demo",
        "tenantId": "t",
        "apiSecret": "s",
        "region": "west",
    }
    full = DemoCredentials("t", "s", "pem", "n", "east")
    assert list(full.to_dict()) == ["method", "tenantId", "apiSecret", "publicPem", "note", "region"]


def test_to_dict_and_from_dict_round_trip() -> None:
    record = DemoCredentials("t", "s", note="n", context="not stored")
    loaded = DemoCredentials.from_dict(record.to_dict())
    assert loaded == record and loaded.context is None
    assert DemoCredentials.from_dict({"tenantId": "t", "apiSecret": "s"}) == DemoCredentials("t", "s")
    with pytest.raises(InvalidInput, match="these are not demo credentials"):
        DemoCredentials.from_dict({**record.to_dict(), "method": "other"})
    with pytest.raises(InvalidInput, match="must be an object"):
        DemoCredentials.from_dict(["t"])
    with pytest.raises(InvalidInput, match="apiSecret"):
        DemoCredentials.from_dict({"tenantId": "t"})


def test_equal_and_hash_over_stored_values_only() -> None:
    a = DemoCredentials("t", "s", context=1)
    b = DemoCredentials("t", "s", context=2)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != DemoCredentials("t", "other") and a != DemoCredentials("t", "s", region="east")

    class Other(StoredRecord, fields=FIELDS, method="demo", unstored=("context",)):
        """The same fields, another record."""

    assert a != Other("t", "s") and a.__eq__(Other("t", "s")) is NotImplemented


def test_frozen_and_replace() -> None:
    record = DemoCredentials("t", "s", context="kept")
    with pytest.raises(AttributeError, match="frozen"):
        record.tenant_id = "u"
    with pytest.raises(AttributeError, match="frozen"):
        del record.note
    changed = record.replace(note="n")
    assert changed.note == "n" and changed.context == "kept" and record.note is None
    assert changed.stored_values() == {
        "tenant_id": "t",
        "api_secret": "s",
        "public_pem": None,
        "note": "n",
        "region": "west",
    }


def test_annotations_must_name_the_fields() -> None:
    with pytest.raises(TypeError, match="annotates"):

        class Wrong(StoredRecord, fields=(TENANT, SECRET), method="demo"):
            """Annotations out of step with the fields."""

            tenant: str
            api_secret: str


def test_declared_method_builds_its_record() -> None:
    class DemoMethod(DeclaredAuthMethod):
        """A method whose record is derived."""

        slug = "demo"
        name = "Demo"
        input_fields = FIELDS
        record = DemoCredentials

    method = DemoMethod()
    assert method.credentials_type is DemoCredentials
    parsed = method.parse({"tenantId": "t", "apiSecret": "s"})
    assert parsed == DemoCredentials("t", "s")
    assert method.load(DemoCredentials("t", "s", note="n").to_dict()) == DemoCredentials("t", "s", note="n")
    with pytest.raises(NotImplementedError):
        DeclaredAuthMethod().credentials_from({})


def test_a_subclass_of_a_record_keeps_its_fields() -> None:
    class Named(DemoCredentials):
        """The same record, with a name for messages."""

        def label(self) -> str:
            """The tenant, for a message."""
            return f"tenant {self.tenant_id}"

    record = Named("t", "s", context="c")
    assert record.label() == "tenant t" and record.method == "demo" and record.context == "c"
    assert record.to_dict() == DemoCredentials("t", "s").to_dict() and record != DemoCredentials("t", "s")
