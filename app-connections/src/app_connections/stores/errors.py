"""Errors of the shared stores, in the package's one hierarchy (``AppConnectionError``)."""

from __future__ import annotations

from ..errors import AppConnectionError, SettingsError


class SharedStoreError(AppConnectionError):
    """A shared store (Redis) could not do what was asked."""


class StoreUnavailable(SharedStoreError):
    """The shared store did not answer in time, refused the connection or failed the command.

    Raised within a bounded time (the socket timeouts); nothing was stored or taken.
    """

    category = "unavailable"
    http_status = 503
    retryable = True


class SealError(SharedStoreError):
    """A sealed entry could not be opened: tampered with, or sealed with a key this replica lacks."""


class SealKeyError(SettingsError):
    """The encryption key setting is missing or malformed."""
