"""``azure-appconfig doctor``'s checks of the shared-store settings (only when the Redis URL is set)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from app_connections.stores.errors import SealKeyError

from ..envvars import REDIS_KEY_ENV, REDIS_URL_ENV

if TYPE_CHECKING:
    import redis

MIN_VERSION = (6, 2)  # GETDEL

Check = TypeVar("Check")
"""What the caller's ``make_check(name, status, detail)`` builds (doctor's ``DoctorCheck``)."""


def redis_checks(env: Mapping[str, str], make_check: Callable[[str, str, str], Check]) -> list[Check]:
    """``make_check(name, status, detail)`` per check; statuses are doctor's ok/missing/invalid.

    Never shows the URL's password or the keys.
    """
    from app_connections.stores.redis import connect, redact_url, url_problem
    from app_connections.stores.sealing import parse_keys

    url = env.get(REDIS_URL_ENV, "").strip()
    if not url:
        return []
    checks = []
    shown = redact_url(url)
    problem = url_problem(url)
    checks.append(
        make_check(REDIS_URL_ENV, "invalid", f"{shown} {problem}")
        if problem
        else make_check(REDIS_URL_ENV, "ok", f"{shown}: OAuth flows and app-only tokens are shared by every replica")
    )
    key = env.get(REDIS_KEY_ENV, "")
    if not key.strip():
        checks.append(
            make_check(
                REDIS_KEY_ENV,
                "missing",
                "is not set but the Redis URL is: generate a key with "
                "`python -m app_connections.stores.sealing` and give every replica the same value",
            )
        )
    else:
        try:
            count = len(parse_keys(key, setting=REDIS_KEY_ENV))
            checks.append(make_check(REDIS_KEY_ENV, "ok", f"set ({count} key{'s' if count > 1 else ''}, not shown)"))
        except SealKeyError as exc:
            checks.append(make_check(REDIS_KEY_ENV, "invalid", exc.message))
    if problem is None:
        checks.append(_reachable(url, shown, make_check, connect))
    return checks


def _reachable(
    url: str, shown: str, make_check: Callable[[str, str, str], Check], connect: Callable[[str], redis.Redis]
) -> Check:
    try:
        client = connect(url)
    except Exception as exc:  # redis-py missing, or a URL redis-py refuses
        return make_check("Redis server", "invalid", f"{shown}: {getattr(exc, 'message', type(exc).__name__)}")
    try:
        client.ping()
        version = str(client.info("server").get("redis_version", "0"))
    except Exception as exc:  # any failure means not usable
        return make_check(
            "Redis server",
            "invalid",
            f"{shown} is not reachable ({type(exc).__name__}): check that it is "
            "up, reachable from this host, and that the URL's password is right",
        )
    finally:
        client.close()
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    if parts < MIN_VERSION:
        return make_check("Redis server", "invalid", f"{shown} runs Redis {version}; GETDEL needs Redis 6.2 or later")
    return make_check("Redis server", "ok", f"{shown} is reachable (Redis {version})")
