"""A persistent cache of sentence and span embeddings: (model, text) -> vector.

Aligning embeds every sentence and every span of a few consecutive sentences;
that is nearly all of an alignment's time. The vectors depend only on the
model and the text, so they are kept in one SQLite file and a re-alignment
(other settings, after a review, a corpus rerun) embeds nothing twice. The
key is the sha256 of the model's description and the text; another model or
another text is a miss, never a stale hit. Vectors are stored as float32, so a
cached vector is bit-identical to the one just computed.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from toolkit.align.embed import Embedder, ProgressFn
from toolkit.core.sqlitecache import SqliteCache, user_cache_path

SCHEMA_VERSION = 1


def default_embedding_cache_path() -> Path:
    """``$XDG_CACHE_HOME/bitext/embeddings.sqlite`` (``~/.cache`` when unset)."""
    return user_cache_path("embeddings.sqlite")


def embedding_key(model: str, text: str) -> str:
    payload = json.dumps([model, text], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class EmbeddingCache(SqliteCache):
    """Vectors kept in one SQLite file at ``path`` (created with its folders).

    A file that is not such a cache raises :class:`ToolkitError` whose hint
    says to delete it: it holds nothing that cannot be computed again.
    """

    WHAT = "embedding cache"
    HOLDS = "cached embeddings"
    SCHEMA_VERSION = SCHEMA_VERSION
    TABLE = "vectors"

    def _create(self) -> None:
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")

    def get_many(self, model: str, texts: Sequence[str], dim: int) -> dict[str, "object"]:
        """The cached vector (float32 array of ``dim``) of each text that has one."""
        import numpy as np

        keys = {embedding_key(model, t): t for t in texts}
        found = {}
        try:
            for key, blob in self._rows_by_key("vec", "vectors", list(keys)):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape[0] == dim:  # a vector of another size is no hit
                    found[keys[key]] = vec
        except sqlite3.Error as exc:
            raise self._unusable(exc) from exc
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def put_many(self, model: str, vectors: dict[str, "object"]) -> None:
        import numpy as np

        rows = [(embedding_key(model, t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in vectors.items()]
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
        except sqlite3.Error as exc:
            raise self._unusable(exc) from exc


class CachedEmbedder(Embedder):
    """An embedder whose vectors go through an :class:`EmbeddingCache` first.

    Misses are embedded by ``inner`` in one call and stored as soon as it
    returns, so an interrupted run keeps what it had finished.
    """

    def __init__(self, inner: Embedder, cache: EmbeddingCache):
        self.inner = inner
        self.cache = cache
        self.name = inner.name

    def describe(self) -> str:
        return self.inner.describe()

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str], progress: ProgressFn | None = None):
        import numpy as np

        model = self.inner.describe()
        unique = list(dict.fromkeys(texts))
        found = self.cache.get_many(model, unique, self.inner.dim) if unique else {}
        if progress is not None and found:
            progress(sum(1 for t in texts if t in found))
        missing = [t for t in unique if t not in found]
        if missing:
            fresh = self.inner.embed(missing, progress)
            if progress is not None:  # the copies of a text beyond its first came free
                wanted = set(missing)
                progress(sum(1 for t in texts if t in wanted) - len(missing))
            new = dict(zip(missing, fresh))
            self.cache.put_many(model, new)
            found.update(new)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)
