"""The record mode of a test session: replay only (``none``) unless asked to record."""

from __future__ import annotations

import os
from collections.abc import Mapping

from . import RECORD_MODE_ENV, RECORD_MODES


def record_mode(
    env: Mapping[str, str] | None = None, option: str | None = None, *, env_name: str = RECORD_MODE_ENV
) -> str:
    """``option`` (a command-line value), else the environment variable ``env_name``, else ``none``."""
    env = os.environ if env is None else env
    mode = (option or env.get(env_name) or "none").strip().lower()
    if mode not in RECORD_MODES:
        raise ValueError(f"{env_name} must be one of {', '.join(RECORD_MODES)}, not {mode!r}")
    return mode
