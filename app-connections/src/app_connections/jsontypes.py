"""Names for JSON in the contract: form input, stored credentials, schemas and reports as
``json.loads`` returns them and ``json.dumps`` takes them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

JSONValue: TypeAlias = Any
"""Any JSON value: a dict with str keys, a list, str, int, float, bool or None, nested. Kept open
(not a recursive union) so that reading a known key of a schema or report needs no cast; every
other value in the contract has a real type."""

JSONObject: TypeAlias = "dict[str, JSONValue]"
"""A JSON object, as produced: ``to_dict()`` results, JSON Schemas."""

JSONInput: TypeAlias = "Mapping[str, JSONValue]"
"""A JSON object, as accepted: form input, stored credentials, a plugin's check as a mapping."""
