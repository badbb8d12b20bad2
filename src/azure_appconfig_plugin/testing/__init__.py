"""Test kit for hosts and plugin authors: vcr replay/record with sanitizing, fixtures,
a conformance check, and a cassette secret scan. Opt-in: nothing here runs unless a test
uses it. See the README section "For plugin authors"."""

RECORD_MODE_ENV = "AZURE_APPCONFIG_RECORD_MODE"
RECORD_MODES = ("none", "once", "new_episodes", "all")
"""vcrpy record modes: ``none`` (default) replays only and blocks the network; the others record."""
