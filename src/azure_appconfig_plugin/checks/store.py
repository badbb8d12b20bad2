"""Store stage: ``KeyValue.Read`` / ``KeyValue.Write`` / ``KeyValue.Delete`` (and ``cleanup``),
each probe's answer interpreted as a check that says what to fix."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from app_connections.reports import Check, CheckStatus

from ..sansio import run_now
from ..store import SENTINEL_KEY

if TYPE_CHECKING:
    from app_connections.jsontypes import JSONObject

    from ..store import ProbeResult

ClientT = TypeVar("ClientT")
ClientT_contra = TypeVar("ClientT_contra", contravariant=True)


class Probes(Protocol[ClientT_contra]):
    """The store probes with a sync client (``store``'s ``probe_*``), each answer a ``ProbeResult``."""

    def probe_read(self, client: ClientT_contra) -> ProbeResult:
        """A filtered read of the sentinel key."""

    def probe_write_precondition(self, client: ClientT_contra) -> ProbeResult:
        """A write that cannot match (412 when allowed)."""

    def probe_delete_precondition(self, client: ClientT_contra) -> ProbeResult:
        """A delete that cannot match (412 when allowed)."""

    def probe_write_real(self, client: ClientT_contra, label: str) -> ProbeResult:
        """Really write the sentinel under ``label``."""

    def probe_delete_real(self, client: ClientT_contra, label: str) -> tuple[ProbeResult, int]:
        """Delete the sentinel under ``label``, retried: the last result and the attempts."""


class AsyncProbes(Protocol[ClientT_contra]):
    """``Probes`` as coroutine functions (``aio.probes``, or the sync ones that never suspend)."""

    def probe_read(self, client: ClientT_contra) -> Awaitable[ProbeResult]:
        """A filtered read of the sentinel key."""

    def probe_write_precondition(self, client: ClientT_contra) -> Awaitable[ProbeResult]:
        """A write that cannot match (412 when allowed)."""

    def probe_delete_precondition(self, client: ClientT_contra) -> Awaitable[ProbeResult]:
        """A delete that cannot match (412 when allowed)."""

    def probe_write_real(self, client: ClientT_contra, label: str) -> Awaitable[ProbeResult]:
        """Really write the sentinel under ``label``."""

    def probe_delete_real(self, client: ClientT_contra, label: str) -> Awaitable[tuple[ProbeResult, int]]:
        """Delete the sentinel under ``label``, retried: the last result and the attempts."""


OK, FAILED, SKIPPED, INCONCLUSIVE = CheckStatus.OK, CheckStatus.FAILED, CheckStatus.SKIPPED, CheckStatus.INCONCLUSIVE
ROLE_DELAY = "New role assignments can take up to 15 minutes to apply."
STORE_CHECKS = ("KeyValue.Read", "KeyValue.Write", "KeyValue.Delete")

POLICY_REMEDY = {
    "foreign_host": (
        "The store (or a proxy or front door answering for it) sent a link or redirect to another host or an "
        "unusable address: use the store's own endpoint (its Overview page), and check any proxy or front door "
        "in front of it."
    ),
    "deadline_exceeded": "Validate again (the store or network may be slow), or raise the deadline (docs/limits.md).",
    "response_too_large": "Check the endpoint is an App Configuration store (or raise max_response_bytes).",
    "malformed_answer": "Check the endpoint is an App Configuration store and no proxy rewrites its answers.",
    "certificate_untrusted": (
        "Trust the CA that issued the store's certificate: set REQUESTS_CA_BUNDLE to a PEM file holding it "
        "(docs/limits.md: Trusting a private CA), then validate again."
    ),
}
"""Remedies for a probe the HTTP policy stopped (``ProbeResult.policy``, see ``http``)."""


def _www_auth_description(header: str | None) -> str:
    if not header:
        return ""
    marker = 'error_description="'
    if marker in header:
        return header.split(marker, 1)[1].split('"', 1)[0]
    return header


def not_run(*names: str) -> list[Check]:
    """The checks for probes that must not be sent because the operation's deadline has passed
    (``inconclusive``, with the deadline's real numbers), or [] while time is left."""
    from ..http.deadlines import deadline_note, deadline_passed

    passed = deadline_passed()
    if passed is None:
        return []
    detail = f"not checked: {deadline_note(passed)}, so no request was sent"
    return [Check(n, INCONCLUSIVE, detail, POLICY_REMEDY["deadline_exceeded"], code="deadline_exceeded") for n in names]


def probe_store(
    client: ClientT, probes: Probes[ClientT], *, write_probe: bool, label: str | None, interpret: Callable[..., Check]
) -> list[Check]:
    """The store stage's probes with a sync client (``store``'s probes): ``aprobe_store`` run to its
    end at once (its awaits are the sync probes), so both share one set of rules."""
    return run_now(aprobe_store(client, _Awaited(probes), write_probe=write_probe, label=label, interpret=interpret))


async def aprobe_store(
    client: ClientT,
    probes: AsyncProbes[ClientT],
    *,
    write_probe: bool,
    label: str | None,
    interpret: Callable[..., Check],
) -> list[Check]:
    """The store stage's probes; ``probes`` holds them as coroutines (``aio.probes``, or the sync
    ones ``_Awaited``). Read first; write and delete only when the store answered the read."""
    from ..store import new_probe_label

    checks: list[Check] = []
    late = not_run(*STORE_CHECKS)
    if late:
        return late
    read = await probes.probe_read(client)
    checks.append(interpret("KeyValue.Read", read))
    if read.unreachable or read.status == 401:
        why = "not checked: the token was rejected"
        if read.unreachable:
            untrusted = read.policy == "certificate_untrusted"
            why = "not checked: " + (
                "the store's certificate is not trusted" if untrusted else "the store is unreachable"
            )
        return checks + [Check(n, SKIPPED, why) for n in STORE_CHECKS[1:]]
    if write_probe:
        checks.extend(await _real_write_delete(client, probes, label or new_probe_label(), interpret))
    else:
        for name, probe in (
            ("KeyValue.Write", probes.probe_write_precondition),
            ("KeyValue.Delete", probes.probe_delete_precondition),
        ):
            checks.extend(not_run(name) or [interpret(name, await probe(client), precondition=True)])
    return checks


async def _real_write_delete(
    client: ClientT, probes: AsyncProbes[ClientT], label: str, interpret: Callable[..., Check]
) -> list[Check]:
    out: list[Check] = []
    late = not_run("KeyValue.Write", "KeyValue.Delete")
    if late:
        return late
    write = await probes.probe_write_real(client, label)
    out.append(interpret("KeyValue.Write", write))
    if write.status not in (200, 201):
        out.append(
            Check("KeyValue.Delete", SKIPPED, "not checked: the sentinel key was not written (nothing to delete)")
        )
        return out
    delete, attempts = await probes.probe_delete_real(client, label)
    out.append(interpret("KeyValue.Delete", delete))
    key = f"{SENTINEL_KEY} (label {label})"
    if delete.status in (200, 204):
        note = f" after {attempts} attempts" if attempts > 1 else ""
        out.append(Check("cleanup", OK, f"sentinel key {key} deleted{note}; nothing left behind"))
    elif delete.policy == "deadline_exceeded":  # no answer from the store: the key is most likely left behind
        out.append(
            Check(
                "cleanup",
                INCONCLUSIVE,
                f"the sentinel key {key} may be left behind: its delete got no answer in time ({delete.error})",
                f"Check for the key {key} in the store's Configuration explorer and delete it.",
                code="deadline_exceeded",
            )
        )
    else:
        out.append(
            Check(
                "cleanup",
                FAILED,
                f"the sentinel key {key} could not be deleted",
                f"Delete the key {key} in the store's Configuration explorer.",
                code=str(delete.status or "unreachable"),
            )
        )
    return out


class _Awaited(Generic[ClientT]):
    """Sync probes as coroutine functions (that never suspend): what ``aprobe_store`` awaits."""

    def __init__(self, probes: Probes[ClientT]) -> None:
        self._probes = probes

    async def probe_read(self, client: ClientT) -> ProbeResult:
        return self._probes.probe_read(client)

    async def probe_write_precondition(self, client: ClientT) -> ProbeResult:
        return self._probes.probe_write_precondition(client)

    async def probe_delete_precondition(self, client: ClientT) -> ProbeResult:
        return self._probes.probe_delete_precondition(client)

    async def probe_write_real(self, client: ClientT, label: str) -> ProbeResult:
        return self._probes.probe_write_real(client, label)

    async def probe_delete_real(self, client: ClientT, label: str) -> tuple[ProbeResult, int]:
        return self._probes.probe_delete_real(client, label)


def interpret(
    name: str,
    result: ProbeResult,
    *,
    url: str,
    principal: str,
    tenant: str | None,
    audience: str,
    claims: JSONObject | None,
    precondition: bool = False,
) -> Check:
    """One probe's answer as a check that says what to fix. ``claims`` is None for requests signed
    with an access key (no token)."""
    status = result.status
    if result.policy == "deadline_exceeded":  # no (whole) answer: nothing to judge by
        detail = result.error or result.policy  # the policy's refusal always carries its text
        return Check(name, INCONCLUSIVE, detail, POLICY_REMEDY["deadline_exceeded"], code="deadline_exceeded")
    if result.policy:  # stopped by the HTTP policy: foreign link, size cap, bad body
        return Check(
            name,
            FAILED,
            result.error or result.policy,
            POLICY_REMEDY.get(result.policy, "Retry later."),
            code=result.policy,
        )
    if result.unreachable:
        error = result.error or ""
        if result.no_such_host:
            detail = f"DNS has no address for {url}: no store by that name exists (check the name and the cloud)"
            remedy = "Check the endpoint on the store's Overview page (and the connection's cloud)."
        else:
            detail = f"network unreachable: {url} could not be reached ({error})"
            remedy = (
                "Check this machine's network access to the store (proxy, firewall, DNS); for a private "
                "endpoint, run this from inside its network. Then validate again."
            )
        return Check(name, FAILED, detail, remedy, code="unreachable")
    if status in (200, 201, 204) or (precondition and status == 412):
        how = " (412 on a precondition that cannot match: allowed, nothing changed)" if status == 412 else ""
        return Check(name, OK, f"{principal} has {name} on {url}{how}")
    if status == 401 and claims is None:
        return Check(
            name,
            FAILED,
            f"the store rejected {principal} (401): the key was regenerated or deleted, or access "
            "keys are disabled on the store (local authentication)",
            "Copy a current connection string from the store's Access settings, or use a Microsoft Entra ID "
            "method (recommended).",
            code="401",
        )
    if status == 403 and claims is None:
        return Check(
            name,
            FAILED,
            f"{principal} lacks {name} on {url} (403): it is a read-only key",
            "Use a read-write key's connection string (the store's Access settings > Read-write keys) to write "
            "and delete.",
            code="403",
        )
    claims = claims or {}
    if status == 401:
        said = _www_auth_description(result.www_authenticate)
        token_aud, token_tid = claims.get("aud"), claims.get("tid")
        if token_aud and str(token_aud).rstrip("/") != audience.rstrip("/"):
            detail = f"the store rejected the token (401): its audience is {token_aud}, expected {audience}"
            remedy = f"Request tokens for {audience}/.default (the connection's cloud may be wrong)."
        elif token_tid or tenant:
            detail = (
                f"the store rejected the token (401): the store is not in tenant {token_tid or tenant}; "
                "a token only works for stores in the tenant that issued it"
            )
            remedy = "Use the tenant ID of the store's directory (Azure portal > the store's subscription > Directory)."
        else:
            detail = "the store rejected the token (401): it was not issued for this store's tenant or audience"
            remedy = f"Get a token for {audience} from the store's own tenant."
        if said:
            from app_connections.text import clean

            detail += f". Azure said: {clean(said)}"
        return Check(name, FAILED, detail, remedy, code="401")
    if status == 403:
        role = (
            "App Configuration Data Reader (read only) or App Configuration Data Owner"
            if name == "KeyValue.Read"
            else "App Configuration Data Owner"
        )
        return Check(
            name,
            FAILED,
            f"{principal} lacks {name} on {url} (403)",
            f"Assign the role {role} to {principal} on the store"
            f" (Access control (IAM) > Add role assignment). {ROLE_DELAY}",
            code="403",
        )
    if status == 429 or (status is not None and status >= 500):
        wait = f"; Azure asked to wait {result.retry_after}" if result.retry_after else ""
        return Check(
            name,
            INCONCLUSIVE,
            f"the store kept answering {status} after retries{wait}",
            "Run the validation again in a minute.",
            code=str(status),
        )
    if status == 409:
        return Check(
            name,
            INCONCLUSIVE,
            f"the sentinel key is locked (409): {result.error or 'conflict'}",
            f"Unlock or delete the key {SENTINEL_KEY}, or use the other probe mode.",
            code="409",
        )
    return Check(
        name,
        INCONCLUSIVE,
        f"unexpected answer {status}: {result.error or 'no details'}",
        "Run with --write-probe to check with a real write and delete." if precondition else None,
        code=str(status),
    )
