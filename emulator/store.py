"""In-memory state with write-behind persistence to SQLite.

Every object lives in ``kind -> key -> JSON-able dict`` maps held in memory, so the hot
path (email sends) never waits for disk.  Changes are queued and flushed in batches by
``flush()``, which the server calls periodically and on shutdown; management-plane
writes (rare, and what a restart must keep) call ``flush()`` right away.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

_DELETED = object()


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL: no fsync per commit; WAL still keeps the file consistent.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS kv (kind TEXT NOT NULL, key TEXT NOT NULL,"
            " value TEXT NOT NULL, PRIMARY KEY (kind, key))"
        )
        self._db.commit()
        self._lock = threading.Lock()
        self._db_lock = threading.Lock()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="state")
        self._data: dict[str, dict[str, Any]] = {}
        self._dirty: dict[tuple[str, str], Any] = {}
        for kind, key, value in self._db.execute("SELECT kind, key, value FROM kv"):
            self._data.setdefault(kind, {})[key] = json.loads(value)

    # -- reads -------------------------------------------------------------------
    def get(self, kind: str, key: str) -> Any | None:
        return self._data.get(kind, {}).get(key)

    def all(self, kind: str) -> dict[str, Any]:
        return self._data.setdefault(kind, {})

    # -- writes ------------------------------------------------------------------
    def put(self, kind: str, key: str, value: Any) -> None:
        """Store ``value``; callers that mutate a stored dict call put() again."""
        self._data.setdefault(kind, {})[key] = value
        with self._lock:
            self._dirty[(kind, key)] = value

    def delete(self, kind: str, key: str) -> None:
        self._data.get(kind, {}).pop(key, None)
        with self._lock:
            self._dirty[(kind, key)] = _DELETED

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._dirty.clear()
        self._writer.submit(self._clear_db).result()

    def _clear_db(self) -> None:
        with self._db_lock:
            self._db.execute("DELETE FROM kv")
            self._db.commit()

    def _collect(
        self,
    ) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]] | None:
        """Serialise the dirty entries (on the caller's thread, the event loop)."""
        with self._lock:
            if not self._dirty:
                return None
            dirty, self._dirty = self._dirty, {}
        upserts = [
            (kind, key, json.dumps(value, separators=(",", ":")))
            for (kind, key), value in dirty.items()
            if value is not _DELETED
        ]
        deletes = [
            (kind, key) for (kind, key), value in dirty.items() if value is _DELETED
        ]
        return upserts, deletes

    def _write(
        self, batch: tuple[list[tuple[str, str, str]], list[tuple[str, str]]]
    ) -> None:
        upserts, deletes = batch
        with self._db_lock:
            if upserts:
                self._db.executemany(
                    "INSERT OR REPLACE INTO kv (kind, key, value) VALUES (?, ?, ?)",
                    upserts,
                )
            if deletes:
                self._db.executemany(
                    "DELETE FROM kv WHERE kind = ? AND key = ?", deletes
                )
            self._db.commit()

    def flush(self) -> None:
        """Persist now; returns once the data is committed."""
        batch = self._collect()
        if batch is not None:
            # Through the writer thread so it lands after earlier background writes.
            self._writer.submit(self._write, batch).result()

    def flush_background(self) -> None:
        """Serialise now, commit on the writer thread (SQLite releases the GIL)."""
        batch = self._collect()
        if batch is not None:
            self._writer.submit(self._write, batch)

    def close(self) -> None:
        self.flush()
        self._writer.shutdown(wait=True)
        self._db.close()
