"""Flow stores and shared caches for hosts that run several replicas.

- ``stores.redis.RedisFlowStore``: OAuth flows in Redis (sealed, server-side TTL, single use).
- ``stores.token_cache.RedisTokenCache``: app-only tokens shared by the fleet (sealed, short lock).
- ``stores.sealing``: AES-256-GCM with a host-supplied key ring (first key seals, all open).
- ``stores.seal_key``: the sealer ``..._REDIS_ENCRYPTION_KEY`` names.
- ``stores.shared``: what ``..._REDIS_URL`` / ``..._REDIS_ENCRYPTION_KEY`` configure.

Nothing here is imported at plugin registration; redis-py (extra ``redis``) is imported on first use.
"""
