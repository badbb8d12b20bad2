"""Test kit for hosts and provider authors: vcr replay/record with sanitizing, fixtures,
a conformance check (extensions included), a cassette secret scan, one table of secret rules
both share (``rules.SecretRules`` to add your own), and a local HTTPS stand-in server.
Opt-in: nothing here runs unless a test uses it. See the README section "The test kit"."""

RECORD_MODE_ENV = "APP_CONNECTIONS_RECORD_MODE"
RECORD_MODES = ("none", "once", "new_episodes", "all")
"""vcrpy record modes: ``none`` (default) replays only and blocks the network; the others record."""
