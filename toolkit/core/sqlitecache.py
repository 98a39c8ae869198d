"""The SQLite file under every cache of the toolkit (translations, embeddings).

A cache holds only what can be computed again, so every problem with its
file has the same remedy: a :class:`ToolkitError` whose hint says to delete
it. Subclasses name what they hold and create their tables in ``_create``;
the schema version is checked on opening, so a file of another version is a
clear error, never a wrong hit.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from toolkit.core.errors import ToolkitError

_CHUNK = 500  # keys per SELECT ... IN (...); SQLite's default limit is 999 variables


def user_cache_path(file_name: str) -> Path:
    """``$XDG_CACHE_HOME/bitext/FILE_NAME`` (``~/.cache`` when the variable is unset): shared by every run."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "bitext" / file_name


class SqliteCache:
    """One cache file at ``path`` (created with its folders); a context manager.

    ``WHAT`` (e.g. "translation cache") and ``HOLDS`` (e.g. "cached
    translations") word the errors; ``SCHEMA_VERSION`` is stored in a
    ``meta`` table and must match on every later opening.
    """

    WHAT = "cache"
    HOLDS = "cached results"
    SCHEMA_VERSION = 1
    TABLE = ""  # the table of entries, keyed by ``key`` (what merge_from copies)

    def __init__(self, path: str | Path, base: str | Path | None = None):
        """``base``: another cache file of the same kind, read (never written) for what ``path`` lacks.

        A worker of a corpus run writes its own file over the shared cache as
        ``base``; the run merges the workers' files into it at the end
        (:meth:`merge_from`), since SQLite is no place for writers on several machines.
        """
        self.path = Path(path)
        self.hits = 0
        self.misses = 0
        self._base = None
        if base is not None and Path(base).is_file():
            try:
                self._base = sqlite3.connect(f"{Path(base).resolve().as_uri()}?mode=ro", uri=True, timeout=30)
            except sqlite3.Error as exc:
                raise self._unusable(exc, Path(base)) from exc
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ToolkitError(f"cannot create the folder for the {self.WHAT} {self.path}: {exc.strerror}",
                               "give a cache path in a folder you can write to") from exc
        if self.path.is_dir():
            raise ToolkitError(f"the {self.WHAT} {self.path} is a folder", "give a file path for the cache")
        try:
            self._db = sqlite3.connect(str(self.path), timeout=30)
        except sqlite3.Error as exc:
            raise self._unusable(exc) from exc
        try:
            with self._db:
                self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                self._create()
                self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(self.SCHEMA_VERSION),))
            (version,) = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if version != str(self.SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"schema version {version}, this toolkit writes {self.SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            self._db.close()
            raise self._unusable(exc) from exc

    def _create(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _unusable(self, exc: Exception, path: Path | None = None) -> ToolkitError:
        path = path or self.path
        return ToolkitError(f"the {self.WHAT} {path} cannot be used: {exc}",
                            f"delete {path} (it only holds {self.HOLDS}; they will be made again)")

    def _rows_by_key(self, columns: str, table: str, keys: Sequence[str]) -> list[tuple]:
        """``SELECT key, COLUMNS FROM TABLE`` for the rows whose key is in ``keys``, in chunks.

        Raises sqlite3.Error, for the caller to turn into :meth:`_unusable`.
        """
        rows = _select(self._db, columns, table, keys)
        if self._base is not None and len(rows) < len(keys):
            found = {row[0] for row in rows}
            try:
                rows += _select(self._base, columns, table, [k for k in keys if k not in found])
            except sqlite3.OperationalError:  # a base file still empty (no table yet) holds nothing
                pass
        return rows

    def merge_from(self, other: str | Path) -> int:
        """Copy the entries of the cache file ``other`` that this one lacks; returns how many were new."""
        before = self._db.total_changes
        try:
            self._db.execute("ATTACH DATABASE ? AS other", (str(other),))
            try:
                with self._db:
                    self._db.execute(f"INSERT OR IGNORE INTO main.{self.TABLE} SELECT * FROM other.{self.TABLE}")
            finally:
                self._db.execute("DETACH DATABASE other")
        except sqlite3.Error as exc:
            raise self._unusable(exc, Path(other)) from exc
        return self._db.total_changes - before

    def close(self) -> None:
        self._db.close()
        if self._base is not None:
            self._base.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _select(db: sqlite3.Connection, columns: str, table: str, keys: Sequence[str]) -> list[tuple]:
    rows: list[tuple] = []
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start:start + _CHUNK])
        rows += db.execute(
            f"SELECT key, {columns} FROM {table} WHERE key IN ({','.join('?' * len(chunk))})", chunk).fetchall()
    return rows
