"""The app_connections host kit: the contract, loader, plugin trust and test kit every connection
provider and every host shares."""

from __future__ import annotations

__version__ = "0.1.0"
