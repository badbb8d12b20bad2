"""The ``azure-app-configuration`` sync destination, registered through ``register_secret_syncs``.

Import-light (the entry point imports this module at registration): everything else is imported
inside the operations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from app_connections.jsontypes import JSONObject

    from .config import DestinationConfig, DestinationInput
    from .engine import ConnectionInput, SyncOptions
    from .entries import Secrets
    from .report import SyncReport

SLUG = "azure-app-configuration"
NAME = "Azure App Configuration"
CONNECTION_TYPE = "azure-app-configuration"


class AppConfigurationDestination:
    """Push a platform's secrets into an App Configuration store, import them, or remove them.

    Every operation takes the stored connection (``credentials.to_dict()``) or its credentials, the
    destination (a mapping of its fields, or the result of ``parse_destination``), and options:
    ``token_credential``, ``client_options``, ``env``, ``concurrency``, ``max_wait``, ``timeout``,
    ``progress(done, total)``, ``status(text)`` (a one-line status: listing, throttled waits),
    ``on_rotate``, ``settings``, ``connection_type``, ``max_deletes`` (the deletion guard),
    ``list_max_pages`` and ``list_max_bytes``. Bad input raises ``InvalidInput`` (naming every bad
    item) before any token or request; a push the deletion guard refuses raises ``TooManyDeletes``
    before any write; everything the store answers is in the returned ``SyncReport``.
    """

    slug = SLUG
    name = NAME
    connection_type = CONNECTION_TYPE

    def __repr__(self) -> str:
        return "AppConfigurationDestination()"

    def destination_schema(self) -> JSONObject:
        """JSON Schema (draft 2020-12) of the destination's fields."""
        from .config import destination_schema

        return destination_schema()

    def parse_destination(self, data: DestinationInput, *, env: Mapping[str, str] | None = None) -> DestinationConfig:
        """Check every field (``InvalidInput`` names each bad one); the ``DestinationConfig`` the operations take."""
        from .config import parse_destination

        return parse_destination(data, env=env)

    def plan(
        self,
        connection: ConnectionInput,
        destination: DestinationInput,
        secrets: Secrets,
        *,
        initial: bool = False,
        **options: Unpack[SyncOptions],
    ) -> SyncReport:
        """What ``push`` would do: lists the scope, sends no write."""
        from .engine import run_options, run_push

        return run_push(connection, destination, secrets, run_options(options), apply=False, initial=initial)

    def push(
        self,
        connection: ConnectionInput,
        destination: DestinationInput,
        secrets: Secrets,
        *,
        initial: bool = False,
        **options: Unpack[SyncOptions],
    ) -> SyncReport:
        """Make the scope match ``secrets`` (name -> value, or name -> ``Secret``/``{value, contentType, tags}``).

        ``initial=True`` applies the destination's ``initialSync`` mode (the first sync of a
        connection); otherwise the platform is the source of truth."""
        from .engine import run_options, run_push

        return run_push(connection, destination, secrets, run_options(options), apply=True, initial=initial)

    def import_secrets(
        self, connection: ConnectionInput, destination: DestinationInput, **options: Unpack[SyncOptions]
    ) -> SyncReport:
        """Read the scope: ``report.imported`` maps secret names to values (Key Vault references
        as their secret URI, named in ``report.references``)."""
        from .engine import run_import, run_options

        return run_import(connection, destination, run_options(options))

    def remove(
        self,
        connection: ConnectionInput,
        destination: DestinationInput,
        names: Iterable[str],
        **options: Unpack[SyncOptions],
    ) -> SyncReport:
        """Delete the entries the given secret names map to inside the scope, and nothing else."""
        from .engine import run_options, run_remove

        return run_remove(connection, destination, names, run_options(options))

    # --- the same operations as coroutines (``aio.sync``): an event loop is never blocked, and a cancel
    # stops them (no request after it); ``aio.sync.cancelled_report(exc)`` says what a cancelled
    # ``apush`` / ``aremove`` had written.

    async def aplan(
        self,
        connection: ConnectionInput,
        destination: DestinationInput,
        secrets: Secrets,
        *,
        initial: bool = False,
        **options: Unpack[SyncOptions],
    ) -> SyncReport:
        """``plan`` as a coroutine."""
        from ..aio.sync import run_push
        from .engine import run_options

        return await run_push(connection, destination, secrets, run_options(options), apply=False, initial=initial)

    async def apush(
        self,
        connection: ConnectionInput,
        destination: DestinationInput,
        secrets: Secrets,
        *,
        initial: bool = False,
        **options: Unpack[SyncOptions],
    ) -> SyncReport:
        """``push`` as a coroutine (adaptive concurrency and 429 back-off on the loop, not in threads)."""
        from ..aio.sync import run_push
        from .engine import run_options

        return await run_push(connection, destination, secrets, run_options(options), apply=True, initial=initial)

    async def aimport_secrets(
        self, connection: ConnectionInput, destination: DestinationInput, **options: Unpack[SyncOptions]
    ) -> SyncReport:
        """``import_secrets`` as a coroutine."""
        from ..aio.sync import run_import
        from .engine import run_options

        return await run_import(connection, destination, run_options(options))

    async def aremove(
        self,
        connection: ConnectionInput,
        destination: DestinationInput,
        names: Iterable[str],
        **options: Unpack[SyncOptions],
    ) -> SyncReport:
        """``remove`` as a coroutine."""
        from ..aio.sync import run_remove
        from .engine import run_options

        return await run_remove(connection, destination, names, run_options(options))
