"""The host's own storage: SQLite rows whose credentials and secret values are encrypted with
the host's key (Fernet), never shown back."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from cryptography.fernet import Fernet

SCHEMA = """
CREATE TABLE IF NOT EXISTS connections (id INTEGER PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL,
  method TEXT NOT NULL, endpoint TEXT NOT NULL, credentials BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pending (state TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL,
  method TEXT NOT NULL, endpoint TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
"""


class Vault:
    """Connections, pending sign-ins and the platform's secrets."""

    def __init__(self, path: str, key: bytes) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)
        self.fernet = Fernet(key)

    def seal(self, stored: dict[str, Any]) -> bytes:
        """Encrypted JSON of stored credentials."""
        return self.fernet.encrypt(json.dumps(stored).encode())

    def add(self, name: str, slug: str, method: str, endpoint: str, stored: dict[str, Any]) -> int:
        """Store a connection (``credentials.to_dict()`` encrypted); its id."""
        row = (name, slug, method, endpoint, self.seal(stored))
        return int(self.db.execute("INSERT INTO connections VALUES (NULL, ?, ?, ?, ?, ?)", row).lastrowid or 0)

    def update(self, connection_id: int, stored: dict[str, Any]) -> None:
        """Replace a connection's credentials (e.g. a rotated refresh token)."""
        self.db.execute("UPDATE connections SET credentials = ? WHERE id = ?", (self.seal(stored), connection_id))

    def connections(self) -> list[sqlite3.Row]:
        """Every connection, without its credentials."""
        return list(self.db.execute("SELECT id, name, type, method, endpoint FROM connections ORDER BY id"))

    def get(self, connection_id: int) -> tuple[sqlite3.Row, dict[str, Any]] | None:
        """A connection's row and its decrypted stored credentials."""
        row = self.db.execute("SELECT * FROM connections WHERE id = ?", (connection_id,)).fetchone()
        return None if row is None else (row, json.loads(self.fernet.decrypt(row["credentials"])))

    def begin(self, state: str, name: str, slug: str, method: str, endpoint: str) -> None:
        """Remember which connection the sign-in of ``state`` is for."""
        self.db.execute("INSERT INTO pending VALUES (?, ?, ?, ?, ?)", (state, name, slug, method, endpoint))

    def take(self, state: str) -> Any:
        """The pending sign-in of ``state`` (a row, or None), removed: single use."""
        return self.db.execute("DELETE FROM pending WHERE state = ? RETURNING *", (state,)).fetchone()

    def put_secret(self, name: str, value: str) -> None:
        """Add or replace one of the platform's secrets."""
        self.db.execute("REPLACE INTO secrets VALUES (?, ?)", (name, self.fernet.encrypt(value.encode())))

    def secrets(self) -> dict[str, str]:
        """The platform's secrets, name -> value (to sync)."""
        rows = self.db.execute("SELECT name, value FROM secrets ORDER BY name")
        return {r["name"]: self.fernet.decrypt(r["value"]).decode() for r in rows}
