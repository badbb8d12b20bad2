"""Runnable examples (not part of the distribution): ``python -m examples.host``."""
