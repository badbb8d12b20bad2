"""Async twins of the host-facing lifecycle (docs/async.md), declared to the kit in
``connection.build_connection_type`` (``AsyncCapabilities``) and imported only when used:

- ``credential``: ``AsyncTokenCredential`` over each method's token path (MSAL and file reads in
  the kit's bounded offload pool, concurrent requests shared);
- ``checks``: the built-in checks as a coroutine (token and store stages never block the loop);
- ``oauth``: ``begin`` / ``complete`` with sync or async flow stores;
- ``sync``: the sync destination's ``plan`` / ``push`` / ``import_secrets`` as coroutines.
"""
