"""A reference host: the connection page of a secrets platform, from form to OAuth to validation
to sync, in Starlette with server-rendered HTML and SQLite. ``python -m examples.host`` runs it on
loopback with a stand-in identity platform and store (see docs/hosts.md, "A reference host")."""
