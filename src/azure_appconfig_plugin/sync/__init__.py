"""Secret sync: push a platform's secrets into an App Configuration store, and import them.

Rooms: ``fields`` (the destination's field declaration, its JSON Schema and parser), ``scope``
(keys, labels, filters, feature flags, Key Vault references), ``entries`` (the desired and listed
snapshots), ``plan`` (a pure diff of two snapshots), ``apply`` (conditional writes with adaptive
concurrency and bounded retries), ``report`` (what happened to each key), ``destination`` (the
object registered through ``register_secret_syncs``), ``wire`` (what the sync reads of the SDK's
clients and answers) and ``secret_files`` (JSON/dotenv files).

This package's ``__init__`` imports nothing: ``plugin.py`` imports ``sync.destination`` at
registration, which must stay import-light.
"""
