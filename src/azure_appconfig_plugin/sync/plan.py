"""The plan: a pure function of two snapshots (desired entries, the listed scope). No I/O.

Rules: an entry is (key, label); value, content type and tags are compared and unchanged entries
get no request. Entries outside the scope are ignored; feature flags and Key Vault references the
sync did not write are never changed or deleted (reported ``skipped`` where the sync would have
touched them); locked entries are reported ``locked`` without a request. ``deleteMissing`` deletes
only inside the scope. In the import initial-sync modes nothing is deleted: entries missing from
the platform are imported instead, and where both sides differ the preferred side wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from .entries import Entry
from .report import Action, Change, Status
from .scope import (
    KEY_VAULT_REF_MARK,
    Scope,
    is_feature_flag,
    is_inexact_key_vault_ref,
    is_key_vault_ref,
    key_vault_ref_uri,
    media_type,
    wrote_key_vault_ref,
)

OVERWRITE, PREFER_SOURCE, PREFER_DESTINATION = (
    "overwrite-destination",
    "import-prefer-source",
    "import-prefer-destination",
)


@attrs.frozen
class Step:
    """One entry's planned change, with the entry to write (``desired``) and the one listed (``existing``)."""

    change: Change
    desired: Entry | None = attrs.field(default=None, repr=False)
    existing: Entry | None = attrs.field(default=None, repr=False)

    @property
    def request(self) -> bool:
        """Whether applying this step sends a write or delete."""
        return self.change.status == Status.PLANNED and self.change.action in (
            Action.CREATE,
            Action.UPDATE,
            Action.DELETE,
        )


@attrs.frozen
class Plan:
    """Every step of a run, what it imports (secret name -> value) and the Key Vault references among them."""

    steps: tuple[Step, ...]
    imported: dict[str, str] = attrs.field(factory=dict, repr=False)
    references: frozenset[str] = frozenset()
    owned: int = 0
    """How many listed entries the scope owns (the deletion guard's "half of the scope")."""

    @property
    def writes(self) -> list[Step]:
        """The steps that send a create or an update."""
        return [s for s in self.steps if s.request and s.change.action != Action.DELETE]

    @property
    def deletes(self) -> list[Step]:
        """The steps that send a delete."""
        return [s for s in self.steps if s.request and s.change.action == Action.DELETE]


def with_foreign_tags(desired: Entry, existing: Entry) -> Entry:
    """``desired`` carrying the tags of ``existing`` the sync does not own: it owns the tags the secret
    gives and its Key Vault reference mark; every other tag someone set on the entry is kept."""
    owned = set(desired.tags) | {KEY_VAULT_REF_MARK[0]}
    foreign = {k: v for k, v in existing.tags.items() if k not in owned}
    if not foreign:
        return desired
    return attrs.evolve(desired, tags={**foreign, **desired.tags})


def same(desired: Entry, existing: Entry) -> bool:
    """Equal value, content type and tags (a Key Vault reference compares by its secret URI)."""
    if is_key_vault_ref(desired.content_type) and is_key_vault_ref(existing.content_type):
        return key_vault_ref_uri(desired.value) == key_vault_ref_uri(existing.value) and dict(desired.tags) == dict(
            existing.tags
        )
    return desired.same_content(existing)


def _change(entry: Entry, action: Action, status: Status, detail: str = "", name: str | None = None) -> Change:
    return Change(entry.key, entry.label, action, status, detail, name or entry.name)


def _delete(have: Entry, name: str | None, detail: str) -> Step:
    """The step deleting ``have`` (``detail`` says why), or, when it is locked (read-only), the step
    saying it is not deleted."""
    if have.locked:
        return Step(
            _change(have, Action.DELETE, Status.LOCKED, "entry is locked (read-only); not deleted", name), None, have
        )
    return Step(_change(have, Action.DELETE, Status.PLANNED, detail, name), None, have)


INEXACT_REF = (
    "Key Vault reference media type without the exact content type "
    "(application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8): clients load it as plain JSON, "
    "not as a reference; left unchanged"
)


def _untouchable(existing: Entry) -> str | None:
    if is_feature_flag(existing.key, existing.content_type):
        return "feature flag: never changed by the sync"
    if is_inexact_key_vault_ref(existing.content_type):
        return INEXACT_REF
    if is_key_vault_ref(existing.content_type) and not wrote_key_vault_ref(existing.tags):
        return "Key Vault reference the sync did not write: left unchanged"
    return None


def import_value(existing: Entry) -> tuple[str | None, bool, str]:
    """(secret value, is a Key Vault reference, why not importable)."""
    if is_feature_flag(existing.key, existing.content_type):
        return None, False, "feature flag: not a secret"
    if is_inexact_key_vault_ref(existing.content_type):
        return None, False, INEXACT_REF.replace("; left unchanged", "; not imported")
    if is_key_vault_ref(existing.content_type):
        uri = key_vault_ref_uri(existing.value)
        return (uri, True, "") if uri else (None, True, "Key Vault reference without a secret URI")
    return existing.value or "", False, ""


def in_scope(listed: Iterable[Entry], scope: Scope) -> list[Entry]:
    """The entries the sync owns (``Scope.owns``: the one scope rule)."""
    return [e for e in listed if scope.owns(e.key, e.label)]


def refused(listed: Iterable[Entry], scope: Scope) -> list[Step]:
    """A ``skipped`` step, with its code, for each listed entry that fits the scope but that the scope
    rule refuses (a key that cannot be addressed, or that maps to no secret name)."""
    steps = []
    for have in listed:
        why = scope.refusal(have.key) if scope.fits(have.key, have.label) else None
        if why is not None:
            change = Change(have.key, have.label, Action.SKIP, Status.SKIPPED, why[1], None, why[0])
            steps.append(Step(change, None, have))
    return steps


def plan_push(
    desired: Sequence[Entry],
    listed: Iterable[Entry],
    scope: Scope,
    *,
    delete_missing: bool = False,
    mode: str = OVERWRITE,
) -> Plan:
    """What a push does to make the scope hold ``desired`` (``mode``: the initial sync's, else overwrite)."""
    listed = list(listed)
    existing = {e.id: e for e in in_scope(listed, scope)}
    owned = len(existing)
    steps: list[Step] = refused(listed, scope) if delete_missing or mode != OVERWRITE else []
    imported: dict[str, str] = {}
    references: set[str] = set()

    def take(old: Entry, name: str) -> str:
        value, ref, why = import_value(old)
        if value is None:
            return why
        imported[name] = value
        if ref:
            references.add(name)
        return ""

    for want in desired:
        have = existing.pop(want.id, None)
        if have is None:
            steps.append(Step(_change(want, Action.CREATE, Status.PLANNED, "new entry (If-None-Match: *)"), want))
            continue
        want = with_foreign_tags(want, have)
        if same(want, have):
            steps.append(Step(_change(want, Action.NONE, Status.UNCHANGED), want, have))
            continue
        why = _untouchable(have)
        if why:
            steps.append(Step(_change(want, Action.SKIP, Status.SKIPPED, why), want, have))
        elif mode == PREFER_DESTINATION:
            problem = take(have, want.name or "")
            status = Status.SKIPPED if problem else Status.PLANNED
            steps.append(
                Step(
                    _change(want, Action.IMPORT, status, problem or "the store's value is kept and imported"),
                    want,
                    have,
                )
            )
        elif have.locked:
            steps.append(
                Step(
                    _change(want, Action.UPDATE, Status.LOCKED, "entry is locked (read-only); unlock it to update"),
                    want,
                    have,
                )
            )
        else:
            steps.append(Step(_change(want, Action.UPDATE, Status.PLANNED, _what_differs(want, have)), want, have))

    for have in existing.values():  # in scope, not among the platform's secrets
        name = scope.name_for(have.key)
        if mode in (PREFER_SOURCE, PREFER_DESTINATION):
            problem = take(have, name or "")
            steps.append(
                Step(
                    _change(have, Action.IMPORT, Status.SKIPPED if problem else Status.PLANNED, problem, name),
                    None,
                    have,
                )
            )
        elif delete_missing:
            why = _untouchable(have)
            if why:
                if not is_feature_flag(have.key, have.content_type):
                    steps.append(Step(_change(have, Action.SKIP, Status.SKIPPED, why, name), None, have))
            else:
                steps.append(_delete(have, name, "not among the secrets (deleteMissing)"))
    return Plan(tuple(steps), imported, frozenset(references), owned)


def deletion_guard(plan: Plan, secrets: int, max_deletes: int | None) -> str | None:
    """Why the plan's deletes are too many to run without the operator's say-so, or None.

    With ``max_deletes`` set, more deletes than it are refused; without it, any delete when the
    source has no secrets, or deletes of more than half the entries the scope owns."""
    count = len(plan.deletes)
    if count == 0:
        return None
    if max_deletes is not None:
        return None if count <= max_deletes else f"the push would delete {count} entries, more than {max_deletes}"
    if secrets == 0:
        return f"the push would delete {count} entries and the source has no secrets"
    if 2 * count > plan.owned:
        return f"the push would delete {count} of the {plan.owned} entries in the scope (more than half)"
    return None


def _what_differs(want: Entry, have: Entry) -> str:
    parts = []
    if want.value != have.value and not (
        is_key_vault_ref(want.content_type) and key_vault_ref_uri(want.value) == key_vault_ref_uri(have.value)
    ):
        parts.append("value")
    if media_type(want.content_type) != media_type(have.content_type) or (want.content_type or None) != (
        have.content_type or None
    ):
        parts.append("content type")
    if dict(want.tags) != dict(have.tags):
        parts.append("tags")
    return f"{', '.join(parts) or 'content'} changed (If-Match)"


def plan_import(listed: Iterable[Entry], scope: Scope) -> Plan:
    """What an import reads: each owned entry's value under its secret name, the rest skipped with why."""
    listed = list(listed)
    steps: list[Step] = refused(listed, scope)
    imported: dict[str, str] = {}
    references: set[str] = set()
    for have in in_scope(listed, scope):
        name = scope.name_for(have.key) or ""
        value, ref, why = import_value(have)
        if value is None:
            steps.append(Step(_change(have, Action.SKIP, Status.SKIPPED, why, name), None, have))
        else:
            imported[name] = value
            if ref:
                references.add(name)
            detail = "Key Vault reference: imported as its secret URI" if ref else ""
            steps.append(Step(_change(have, Action.IMPORT, Status.IMPORTED, detail, name), None, have))
    return Plan(tuple(steps), imported, frozenset(references))


def plan_remove(names: Iterable[str], listed: Iterable[Entry], scope: Scope) -> Plan:
    """Delete the entries the given secret names map to, inside the scope, and nothing else."""
    existing = {e.key: e for e in in_scope(listed, scope)}
    steps: list[Step] = []
    for name in dict.fromkeys(names):
        key = scope.key_for(name)
        have = existing.get(key)
        if have is None:
            steps.append(Step(Change(key, scope.label, Action.NONE, Status.UNCHANGED, "not in the store", name)))
            continue
        why = _untouchable(have)
        if why:
            steps.append(Step(_change(have, Action.SKIP, Status.SKIPPED, why, name), None, have))
        else:
            steps.append(_delete(have, name, "removed (If-Match)"))
    return Plan(tuple(steps))
