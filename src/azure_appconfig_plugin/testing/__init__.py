"""Test kit for hosts and plugin authors: vcr replay/record with sanitizing, fixtures,
a conformance check, and a cassette secret scan. Opt-in: nothing here runs unless a test
uses it. See the README section "For plugin authors"."""
