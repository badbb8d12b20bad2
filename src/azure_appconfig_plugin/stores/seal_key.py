"""The sealer the environment names (``..._REDIS_ENCRYPTION_KEY``), for every Redis store of this package."""

from __future__ import annotations

from collections.abc import Mapping

from app_connections.stores.errors import SealKeyError
from app_connections.stores.sealing import Sealer

from ..envvars import REDIS_KEY_ENV


def policy_env() -> Mapping[str, str]:
    """The host policy's environment (``app_connections.policy.current()``): never os.environ unasked."""
    from app_connections import policy as policies

    return policies.current().env


def sealer_from_env(env: Mapping[str, str] | None = None) -> Sealer:
    """The sealer of ``REDIS_KEY_ENV`` in ``env`` (default: the host policy's environment)."""
    env = policy_env() if env is None else env
    value = env.get(REDIS_KEY_ENV, "")
    if not value.strip():
        raise SealKeyError(
            f"{REDIS_KEY_ENV} is not set: the Redis stores seal what they keep with it. Generate one with "
            "`python -m app_connections.stores.sealing` and give every replica the same value",
            field=REDIS_KEY_ENV,
        )
    return Sealer.from_setting(value, setting=REDIS_KEY_ENV)
