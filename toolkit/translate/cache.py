"""A persistent cache of machine translations: (model, settings, text) -> translation.

One SQLite file holds every translation a run has made, with the flags its
output checks raised, so a rerun or a review never translates the same
sentence twice. The key is the sha256 of the model's description, the
settings (as sorted JSON) and the source text; changing any of them is a
miss, never a stale hit.

Writes are committed per batch (:meth:`TranslationCache.put_many`), so an
interrupted run loses at most the batch in flight and the next run resumes
from there.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from toolkit.core.sqlitecache import SqliteCache, user_cache_path

SCHEMA_VERSION = 1

Entry = tuple[str, tuple[str, ...]]  # (translation, flags)


def cache_key(model: str, settings: Mapping | str, text: str) -> str:
    """The sha256 hex key of one source text under one model and its settings."""
    settings_json = settings if isinstance(settings, str) else settings_to_json(settings)
    # A JSON list keeps the three parts apart: no concatenation can collide.
    payload = json.dumps([model, settings_json, text], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def settings_to_json(settings: Mapping) -> str:
    """Settings as canonical JSON (sorted keys, no spaces), so equal settings give equal keys."""
    return json.dumps(settings, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


class TranslationCache(SqliteCache):
    """Translations kept in one SQLite file at ``path`` (created with its folders).

    Safe to open again and again, and from several processes one after the
    other; a file that is not a cache raises :class:`ToolkitError` whose hint
    says to delete it (it holds nothing but cached translations).
    """

    WHAT = "translation cache"
    HOLDS = "cached translations"
    SCHEMA_VERSION = SCHEMA_VERSION
    TABLE = "translations"

    def _create(self) -> None:
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS translations ("
            " key TEXT PRIMARY KEY, model TEXT NOT NULL, settings TEXT NOT NULL,"
            " source TEXT NOT NULL, translation TEXT NOT NULL, flags TEXT NOT NULL,"
            " created REAL NOT NULL)"
        )

    def get_many(self, model: str, settings: Mapping, texts: Iterable[str]) -> dict[str, Entry]:
        """The cached ``(translation, flags)`` of each text that has one; misses are left out."""
        settings_json = settings_to_json(settings)
        keys: dict[str, str] = {}
        for text in texts:
            keys.setdefault(cache_key(model, settings_json, text), text)
        found: dict[str, Entry] = {}
        try:
            for key, translation, flags in self._rows_by_key("translation, flags", "translations", list(keys)):
                found[keys[key]] = (translation, tuple(json.loads(flags)))
        except (sqlite3.Error, ValueError) as exc:
            raise self._unusable(exc) from exc
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def put_many(self, model: str, settings: Mapping,
                 entries: Mapping[str, tuple[str, Sequence[str]]]) -> None:
        """Store ``{source: (translation, flags)}`` and commit at once (one batch, one transaction)."""
        settings_json = settings_to_json(settings)
        now = time.time()
        rows = [
            (cache_key(model, settings_json, source), model, settings_json, source, translation,
             json.dumps(list(flags)), now)
            for source, (translation, flags) in entries.items()
        ]
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        except sqlite3.Error as exc:
            raise self._unusable(exc) from exc

    def stats(self) -> dict:
        """Entries in the file (in all and per model), flagged entries, and this session's hits and misses."""
        try:
            total, flagged = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(flags != '[]'), 0) FROM translations"
            ).fetchone()
            per_model = dict(self._db.execute(
                "SELECT model, COUNT(*) FROM translations GROUP BY model ORDER BY model"
            ).fetchall())
        except sqlite3.Error as exc:
            raise self._unusable(exc) from exc
        return {"path": str(self.path), "entries": total, "flagged": flagged, "models": per_model,
                "hits": self.hits, "misses": self.misses}



CACHE_NAME = "translations.sqlite"  # under $XDG_CACHE_HOME/bitext/, shared by every run


def default_cache_path() -> Path:
    """``$XDG_CACHE_HOME/bitext/translations.sqlite`` (``~/.cache`` when the variable is unset)."""
    return user_cache_path(CACHE_NAME)
