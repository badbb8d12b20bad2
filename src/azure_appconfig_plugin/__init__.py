"""Azure App Configuration connection provider for pluggy-based secrets platforms."""

from __future__ import annotations

__version__ = "0.1.0"
