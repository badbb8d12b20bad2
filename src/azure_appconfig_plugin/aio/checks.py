"""The built-in checks as a coroutine (``AsyncCapabilities.checks``): the same stages (``checks.STAGES``)
and rules; the token and store stages await the async credential and client, so a validation never
blocks the event loop and stops at a cancel (no request is started after it). The other stages
(parsing input, reading settings, checking the endpoint: no network) run in the kit's offload pool,
since a plugin method's ``parse`` may read a file."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from app_connections.aio import is_async_credential, offload
from app_connections.reports import Check, ValidationRequest

from .. import checks
from ..checks import Run, Stage

if TYPE_CHECKING:
    from azure.appconfiguration.aio import AzureAppConfigurationClient

    from app_connections.aio import AsyncTokenCredential


async def arun_checks(request: ValidationRequest, *, stages: tuple[Stage, ...] = checks.STAGES) -> None:
    """``checks.run_checks`` as a coroutine, within the same ``validation_seconds`` deadline."""
    from ..errors import AppConnectionError
    from ..http.deadlines import operation_deadline
    from ..http.limits import Limits, current_limits

    try:
        limits = current_limits()
    except AppConnectionError:  # a malformed override: each request reports it; bound by the rest
        limits = Limits()
    with operation_deadline(float(limits.validation_seconds), name="validation_seconds"):
        await checks.walk_stages(request, stages, _execute)


async def _execute(stage: Stage, run: Run) -> list[Check]:
    if stage.run is checks.token_stage:
        return await token_stage(run)
    if stage.run is checks.store_stage:
        return await store_stage(run)
    return await offload(stage.run, run)


async def token_stage(run: Run) -> list[Check]:
    """``checks.token_stage`` awaited: the method's ``AsyncTokenCredential`` (its token request in the
    offload pool); a sync ``token_credential`` option is offloaded too."""
    from app_connections.aio import OffloadedCredential

    skipped = checks.no_token_needed(run)
    if skipped is not None:
        return skipped
    given = run.given_async_credential()
    credential: AsyncTokenCredential | None = None
    try:
        if given is None:
            credential = run.ctype.async_token_credential(run.credentials, **checks.token_options(run))
        elif is_async_credential(given):
            credential = given
        else:
            credential = OffloadedCredential(given)
        run.token = await credential.get_token(run.cloud.scope)
    except Exception as exc:  # any method's failure is a failed check, never a crash
        return checks.token_failed(run, given if given is not None else credential, exc)
    return checks.token_issued(run, given if given is not None else credential)


async def store_stage(run: Run) -> list[Check]:
    """``checks.store_stage`` on the async client (the policy's aiohttp transport)."""
    from ..checks.store import aprobe_store
    from . import probes

    credential = run.token_credential
    if credential is not None and not is_async_credential(credential):
        from app_connections.aio import OffloadedCredential

        credential = OffloadedCredential(credential)
    made = checks.store_type(run).async_client(
        run.credentials,
        run.store,
        credential=credential,
        env=run.env,
        **run.client_options(),
    )
    client = cast("AzureAppConfigurationClient", made)  # the type's async client: the SDK's aio client
    async with client:
        return await aprobe_store(
            client,
            probes,
            write_probe=bool(run.option("write_probe")),
            label=run.probe_label(),
            interpret=checks.store_interpreter(run),
        )
