"""The one HTTP policy: every request this package makes or configures goes through it.

Its modules, each named for what it holds (this package imports none of them: import the one you
need, e.g. ``from azure_appconfig_plugin.http import limits``):

- ``limits``: the limits (names, defaults, units, environment variables: declared once, in
  ``Limits``), ``current_limits()`` and ``configure(...)``.
- ``deadlines``: ``operation_deadline(seconds)`` and ``remaining``; ``bounded_by`` runs a call inside
  the deadline of a limit. Each request (token or store) must deliver its whole answer, headers and
  body, within its deadline, not per read.
- ``watchdog``: the one thread that shuts the socket of a request whose deadline has passed, so a
  server sending one byte every few seconds is cut off.
- ``pin``: the host pin. ``refusal`` is the one place that decides whether a session pinned to a
  host (and port) may go to a URL: redirects, next links (``@nextLink``, ``Link``) and
  ``Operation-Location`` URLs naming another host, or an unusable address (``UNUSABLE_ADDRESS``),
  are refused before a connection is opened, so no token or secret ever goes with them.
- ``retry``: the capped retry policy (sync and async) and the one ``Retry-After`` parser. A
  server-requested wait longer than ``retry_after_max_seconds`` ends the retries at once; all waits
  of one call together stay within ``retry_wait_budget_seconds`` and inside the deadline.
- ``transport``: the pinned ``requests`` session (``session``) and ``client_kwargs`` for azure-core
  store clients; a body larger than ``max_response_bytes`` (after decompression) is cut off as it
  streams in. ``transport_aio``: the same rules as an aiohttp transport (``async_client_kwargs``).
- ``errors``: ``HttpPolicyError`` and its kinds (``DeadlineExceeded``, ``ResponseTooLarge``,
  ``ForeignHostRefused``, ``RedirectRefused``, ``MalformedAnswer``); ``policy_error(exc)`` finds one
  inside an SDK exception. ``answers``: checks of what answered (a token answer's shape, a body
  described without its content, an untrusted certificate).

Public API (for the sync engine and new auth methods):

- ``store.make_client(endpoint, credential, **pipeline_kwargs)`` is the only App Configuration
  client factory; it calls ``transport.client_kwargs(host, port)``. Anything else built on
  azure-core should pass ``**client_kwargs(host, port)`` to its client.
- ``msal_apps`` passes ``transport.session(host, kind="token")`` as MSAL's ``http_client``, and
  ``session(host, port, kind="identity")`` to MSAL's managed-identity client (plain http is
  expected there: see ``session``). Any other HTTP a new auth method makes uses
  ``session(host, port, kind=...)``.
"""
