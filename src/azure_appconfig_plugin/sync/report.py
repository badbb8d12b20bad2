"""What a sync did (or, for ``plan``, would do) to each (key, label) entry."""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

from app_connections.jsontypes import JSONObject

from ..errors import FieldError, InvalidInput

COUNT_KEYS = ("created", "updated", "deleted", "unchanged", "skipped", "conflicts", "failed")


class Action(str, enum.Enum):
    """What a change does to its entry."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NONE = "none"
    IMPORT = "import"
    SKIP = "skip"


class Status(str, enum.Enum):
    """What became of a change (or, for ``plan``, that it is planned)."""

    PLANNED = "planned"
    """``plan`` only: the change a push would make."""
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    """Left alone on purpose (feature flag, foreign Key Vault reference, name that cannot be a secret)."""
    NOT_RUN = "not-run"
    """A delete that was not run because a write failed or conflicted (nothing is lost)."""
    CONFLICT = "conflict"
    """412: the entry changed since it was listed; not overwritten."""
    LOCKED = "locked"
    """409 (or listed as locked): the entry is read-only."""
    FAILED = "failed"
    IMPORTED = "imported"


_DONE = (Status.PLANNED, Status.APPLIED)


@attrs.frozen
class Change:
    """What a run did (or would do) to one (key, label) entry, and why."""

    key: str
    label: str | None
    action: Action
    status: Status
    detail: str = ""
    name: str | None = None
    """The secret name the key maps to, when it maps to one."""
    code: str | None = None
    """When the package's HTTP policy refused the request (or the listing): its code
    (``foreign_host``, ``deadline_exceeded``, ``response_too_large``, ``malformed_answer``); a listing
    over the run's bounds: ``listing_too_large``; a key the scope rule refuses: ``unaddressable_key``
    or ``not_a_secret_name``; a step that raised: ``error``."""

    def to_dict(self) -> JSONObject:
        """The change as JSON (``code`` only when there is one)."""
        out: JSONObject = {
            "key": self.key,
            "label": self.label,
            "action": self.action.value,
            "status": self.status.value,
            "detail": self.detail,
        }
        if self.code is not None:
            out["code"] = self.code
        return out


@attrs.frozen
class SyncReport:
    """``ok`` when nothing failed or conflicted. ``imported`` (secret values) never shows in repr or ``to_dict``."""

    operation: str
    """``plan``, ``push``, ``import`` or ``remove``."""
    changes: tuple[Change, ...] = ()
    requests: int = 0
    """HTTP requests made to the store (retries included)."""
    imported: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    """Secret name -> value read from the store (import, and pushes in an import initial-sync mode)."""
    references: frozenset[str] = frozenset()
    """Imported names whose entry is a Key Vault reference (their value is the secret URI)."""

    @property
    def counts(self) -> dict[str, int]:
        """How many changes ended each way (``created``, ..., ``failed``; ``imported`` when any)."""
        c = dict.fromkeys(COUNT_KEYS, 0)
        for ch in self.changes:
            if ch.status in _DONE and ch.action in (Action.CREATE, Action.UPDATE, Action.DELETE):
                c[{Action.CREATE: "created", Action.UPDATE: "updated", Action.DELETE: "deleted"}[ch.action]] += 1
            elif ch.status == Status.UNCHANGED:
                c["unchanged"] += 1
            elif ch.status in (Status.SKIPPED, Status.NOT_RUN):
                c["skipped"] += 1
            elif ch.status in (Status.CONFLICT, Status.LOCKED):
                c["conflicts"] += 1
            elif ch.status == Status.FAILED:
                c["failed"] += 1
        imported = sum(
            1 for ch in self.changes if ch.action == Action.IMPORT and ch.status in (Status.IMPORTED, Status.PLANNED)
        )
        if imported or self.operation == "import":
            c["imported"] = imported
        return c

    @property
    def ok(self) -> bool:
        """True when no change failed or conflicted."""
        c = self.counts
        return c["conflicts"] == 0 and c["failed"] == 0

    def by_status(self, status: Status) -> list[Change]:
        """The changes with ``status``, in order."""
        return [ch for ch in self.changes if ch.status == status]

    def to_dict(self) -> JSONObject:
        """The report as JSON: ``ok``, ``counts``, ``changes`` and ``requests`` (never a secret value)."""
        return {
            "ok": self.ok,
            "counts": self.counts,
            "changes": [c.to_dict() for c in self.changes],
            "requests": self.requests,
        }


class TooManyDeletes(InvalidInput):
    """A push refused by the deletion guard before any write: ``report`` is its plan (what would
    go), ``deletes`` how many; ``errors`` names the option that allows it (``max_deletes``)."""

    category = "conflict"  # the store's state and the guard disagree; the input is well-formed
    http_status = 409

    def __init__(self, why: str, report: SyncReport, deletes: int, option: str = "max_deletes") -> None:
        self.report = report
        self.deletes = deletes
        self.why = why
        fix = f"{why}; nothing was sent. If that is intended, allow it with {option}={deletes} (or more)"
        super().__init__(errors=[FieldError(option, fix)])
