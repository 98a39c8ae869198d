"""What runs on a corpus worker: the models loaded once, one document at a time.

A worker (a process of the local pool, or a Ray actor) builds its models from
a :class:`WorkerSetup` once and then takes :class:`Task` after task. Its
caches are files of its own over the run's shared caches (read, never
written); the run merges them into the shared ones at the end. An error in a
document is that document's :class:`DocRecord` with its one-line message: it
is returned, not raised, so the engine never retries it (only a worker that
dies has its document retried).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from toolkit.core.atomic import atomic_write_text
from toolkit.core.errors import ToolkitError
from toolkit.jobs import AlignJob, Aligned, JobResult, Models, align_stage, finish_stage

DONE_MARKER = ".done"  # in a document's folder, written last: its key and record


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker needs to build its models: the specs and where the caches are."""

    embedder: str | None
    mt: str | None
    cache_dir: str                     # the run's folder for the workers' own cache files
    embedding_cache: str | None        # the shared embedding cache (None: off)
    mt_cache: str | None               # the shared translation cache


@dataclass(frozen=True)
class Task:
    """One document of the corpus: its job, its key and its size in bytes (larger ones go first)."""

    doc_id: str
    job: AlignJob
    key: str
    size: int


@dataclass
class DocRecord:
    """How one document went: ``done`` or ``error`` (with its message and hint), or ``skipped``
    (done by an earlier run with the same key), with its counts and timings."""

    doc_id: str
    status: str
    key: str = ""
    message: str = ""
    hint: str = ""
    seconds: float = 0.0
    size: int = 0
    sentences: dict = field(default_factory=dict)
    beads: int = 0
    pairs: int = 0
    mt: int = 0
    scored: int = 0
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DocRecord:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def done_marker(folder: str | Path) -> Path:
    return Path(folder) / DONE_MARKER


def read_done(folder: str | Path) -> DocRecord | None:
    """The record a finished document left in its folder, or None (unfinished, or not ours)."""
    try:
        data = json.loads(done_marker(folder).read_text(encoding="utf-8"))
        return DocRecord.from_dict(data)
    except (OSError, ValueError, TypeError):
        return None


def _record(task: Task, result: JobResult, seconds: float, details: dict) -> DocRecord:
    alignment = result.alignment
    return DocRecord(
        doc_id=task.doc_id, status="done", key=task.key, seconds=round(seconds, 3), size=task.size,
        sentences={"zh": len(alignment.zh), "en": len(alignment.en)}, beads=len(alignment.beads),
        pairs=sum(1 for b in alignment.beads if b.zh and b.en), mt=sum(1 for b in alignment.beads if b.origin == "mt"),
        scored=(result.report or {}).get("scored", 0), details=details)


def error_record(task: Task, error: Exception, seconds: float = 0.0) -> DocRecord:
    if isinstance(error, ToolkitError):
        message, hint = error.message, error.hint or ""
    else:  # a model or library failure: still this document's error, not the run's
        message, hint = f"{type(error).__name__}: {error}", "this looks like a bug; please report it"
    return DocRecord(doc_id=task.doc_id, status="error", key=task.key, message=message, hint=hint,
                     seconds=round(seconds, 3), size=task.size)


class Worker:
    """Models built once from a setup; :meth:`process` runs whole documents, or :meth:`align` and
    :meth:`finish` run the two halves (on an embedder's and a translator's worker)."""

    def __init__(self, setup: WorkerSetup, embed: bool = True, translate: bool = True):
        from toolkit.jobs import load_models

        self.setup = setup
        self.id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        cache_dir = Path(setup.cache_dir)
        embedder = None
        if embed and setup.embedder:
            embedder = self._embedder(setup, cache_dir)
        self.models = load_models(embedder=None, mt=setup.mt if translate else None)
        self.models.embedder = embedder
        if translate and setup.mt:
            from toolkit.translate.cache import TranslationCache

            self.models.mt_cache = TranslationCache(cache_dir / f"mt-{self.id}.sqlite", base=setup.mt_cache)

    def _embedder(self, setup: WorkerSetup, cache_dir: Path):
        from toolkit.align.embcache import CachedEmbedder, EmbeddingCache
        from toolkit.align.embed import get_embedder

        inner = get_embedder(setup.embedder)
        if setup.embedding_cache is None:
            return inner
        return CachedEmbedder(inner, EmbeddingCache(cache_dir / f"emb-{self.id}.sqlite", base=setup.embedding_cache))

    def pid(self) -> int:
        return os.getpid()

    def align(self, task: Task) -> Aligned | DocRecord:
        started = time.perf_counter()
        try:
            aligned = align_stage(task.job, self.models)
        except Exception as error:  # noqa: BLE001 - every failure is this document's record
            return error_record(task, error, time.perf_counter() - started)
        aligned.details["worker"] = {"align": self.id, "align_pid": os.getpid()}
        aligned.details["align_wall_s"] = round(time.perf_counter() - started, 3)
        return aligned

    def finish(self, task: Task, aligned: Aligned | DocRecord) -> DocRecord:
        if isinstance(aligned, DocRecord):
            return aligned
        started = time.perf_counter()
        try:
            result = finish_stage(aligned, self.models)
        except Exception as error:  # noqa: BLE001
            return error_record(task, error, time.perf_counter() - started)
        details = dict(result.details)
        details["worker"] = {**details.get("worker", {}), "finish": self.id, "finish_pid": os.getpid()}
        seconds = details.get("align_wall_s", 0.0) + time.perf_counter() - started
        record = _record(task, result, seconds, details)
        # Last: the marker says the folder holds this key's complete result set.
        atomic_write_text(done_marker(task.job.out_dir), json.dumps(record.as_dict(), sort_keys=True) + "\n")
        return record

    def process(self, task: Task) -> DocRecord:
        return self.finish(task, self.align(task))

    def close(self) -> None:
        for cache in (getattr(self.models.embedder, "cache", None), self.models.mt_cache):
            if cache is not None:
                cache.close()
