"""A corpus run: every document pair of a manifest aligned, resumably, then the corpus outputs.

The run owns the bookkeeping, the engine the scheduling:

1. The manifest is read and every document's key computed: the sha256 of
   both inputs, the options and the tool version (:func:`toolkit.jobs.job_key`).
2. A document whose folder ``OUT/docs/DOC_ID/`` holds a done marker of the
   same key is skipped; the others go to the engine, largest first. Each is
   written as ``bitext align`` writes one folder, then its marker, last.
3. A document that fails becomes an error record; the run goes on.
4. At the end the workers' cache files are merged into the shared caches and
   the corpus outputs are written: sharded training JSONL (filters applied,
   exact duplicates dropped across documents), one TMX, corpus BLEU/chrF summed
   from the documents' sufficient statistics, the run manifest ``run.json``
   and the corpus signature. ``run.log`` gets a line per document as it ends.

Rerunning the same command redoes only what is missing or changed; the
caches make even that cheap.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from toolkit.core.atomic import atomic_write_text, atomic_writer
from toolkit.core.errors import InputError, ToolkitError
from toolkit.core.version import __version__
from toolkit.corpus.engines import EngineSettings, run_tasks
from toolkit.corpus.manifest import Entry, read_manifest
from toolkit.corpus.worker import DocRecord, Task, WorkerSetup, error_record, read_done
from toolkit.export.exports import TrainingFilters, training_records, training_row
from toolkit.formats.reader import read_input_bytes
from toolkit.jobs import AlignJob, job_key
from toolkit.pipeline import AlignOptions

DOCS = "docs"                # OUT/docs/DOC_ID/: one result folder per document
CORPUS = "corpus"            # OUT/corpus/: the corpus outputs
WORK = ".work"               # OUT/.work/: the workers' cache files while a run goes
RUN_MANIFEST = "run.json"
RUN_LOG = "run.log"
SIGNATURE = "signature.json"
SHARD_ROWS = 100_000         # training rows per JSONL shard
RUN_FORMAT = "bitext-corpus-run"


@dataclass(frozen=True)
class CorpusJob:
    """A corpus run: the manifest, the output folder, the per-document options, the engine."""

    manifest: str
    output: str
    options: AlignOptions = AlignOptions()
    en_comment: str | None = None
    mt: str | None = None
    score: bool | None = False   # score every aligned pair (needs a translator); off by default at corpus scale
    embedding_cache: str | None = None
    use_embedding_cache: bool = True
    mt_cache: str | None = None
    force: bool = False          # replace reviewed documents, align sides out of proportion
    engine: EngineSettings = EngineSettings()
    filters: TrainingFilters = TrainingFilters()
    shard_rows: int = SHARD_ROWS
    command: str = ""

    def __post_init__(self) -> None:
        for key in ("manifest", "output", "embedding_cache", "mt_cache"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, str):
                object.__setattr__(self, key, str(value))
        if self.shard_rows < 1:
            raise ValueError(f"shard_rows must be at least 1, got {self.shard_rows}")

    def document_job(self, entry: Entry) -> AlignJob:
        return AlignJob(zh=entry.zh, en=entry.en, output=str(Path(self.output) / DOCS / entry.doc_id),
                        name=entry.doc_id, options=self.options, en_comment=self.en_comment, mt=self.mt,
                        score=self.score if entry.en is not None else False, force=self.force,
                        command="bitext corpus", run_details=False)


@dataclass
class CorpusProgress:
    """Callbacks a caller may give: ``start(documents, bytes, skipped)``, then ``done(record)`` per document."""

    start: Callable[[int, int, int], None] = lambda documents, size, skipped: None
    done: Callable[[DocRecord], None] = lambda record: None


@dataclass
class CorpusResult:
    """What a run did: a record per document (in manifest order) and the files of the corpus outputs."""

    output: Path
    records: list[DocRecord]
    paths: list[Path] = field(default_factory=list)
    scores: dict | None = None
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.records if r.status == status)

    @property
    def failed(self) -> list[DocRecord]:
        return [r for r in self.records if r.status == "error"]


def _utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_output(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file, not a folder", "give a folder for the corpus outputs with -o")
    if out.is_dir() and any(out.iterdir()) and not (out / RUN_MANIFEST).is_file() and not (out / DOCS).is_dir():
        raise InputError(f"{out} is not empty and holds no corpus run",
                         "give a new or empty folder, or the folder of an earlier corpus run to resume it")


def plan(job: CorpusJob) -> tuple[list[Task], list[DocRecord], list[Entry]]:
    """The tasks to run, the records known without running (skipped, unreadable), and the entries.

    A document's inputs are read here to compute its key; one that cannot be
    read (missing, a folder, no permission) is an error record at once.
    """
    entries = read_manifest(job.manifest)
    docs = Path(job.output) / DOCS
    tasks, known = [], []
    for entry in entries:
        document = job.document_job(entry)
        probe = Task(entry.doc_id, document, "", 0)
        try:
            zh = read_input_bytes(entry.zh)
            en = read_input_bytes(entry.en) if entry.en is not None else None
        except ToolkitError as error:
            known.append(error_record(probe, error))
            continue
        if entry.en is None and not job.mt:
            known.append(error_record(probe, InputError(
                f"{entry.doc_id} has no English, and the run has no translator",
                "give --mt MODEL to translate documents without English, or give the English file")))
            continue
        key = job_key(document, zh, en)
        previous = read_done(docs / entry.doc_id)
        if previous is not None and previous.key == key and previous.status == "done":
            previous.status, previous.details, previous.seconds = "skipped", {}, 0.0
            known.append(previous)
        else:
            tasks.append(Task(entry.doc_id, document, key, len(zh) + len(en or b"")))
    return tasks, known, entries


def run_corpus(job: CorpusJob, progress: CorpusProgress | None = None) -> CorpusResult:
    """Align every document of the manifest (see the module's description); returns the records.

    Raises :class:`ToolkitError` only for what stops the whole run (an unreadable
    manifest, an unusable output folder, a missing model, no engine); a
    document's own failure is its error record.
    """
    from toolkit.core.resultset import FolderLock

    progress = progress or CorpusProgress()
    started = time.perf_counter()
    out = Path(job.output)
    _check_output(out)
    setup = _setup(job)
    _check_models(setup)
    tasks, known, entries = plan(job)
    out.mkdir(parents=True, exist_ok=True)
    records: dict[str, DocRecord] = {r.doc_id: r for r in known}
    with FolderLock(out, job.command or "bitext corpus"):
        _merge_worker_caches(setup, out)  # what an interrupted run left behind
        progress.start(len(entries), sum(t.size for t in tasks), sum(1 for r in known if r.status == "skipped"))
        with open(out / RUN_LOG, "a", encoding="utf-8") as log:
            def done(record: DocRecord) -> None:
                records[record.doc_id] = record
                log.write(_log_line(record))
                log.flush()
                progress.done(record)

            for record in known:
                if record.status == "error":
                    done(record)
                else:
                    log.write(_log_line(record))
            complete = False
            try:
                run_tasks(tasks, setup, job.engine, done)
                complete = True
            finally:
                ordered = [records[e.doc_id] for e in entries if e.doc_id in records]
                _merge_worker_caches(setup, out)
                result = CorpusResult(out, ordered, seconds=round(time.perf_counter() - started, 3))
                if complete:
                    result.paths, result.scores = write_corpus_outputs(job, entries, ordered)
                _write_run_manifest(job, result, complete)
    return result


def _setup(job: CorpusJob) -> WorkerSetup:
    from toolkit.align.embcache import default_embedding_cache_path
    from toolkit.translate.cache import default_cache_path

    embedding_cache = None
    if job.use_embedding_cache:
        embedding_cache = job.embedding_cache or str(default_embedding_cache_path())
    return WorkerSetup(embedder=job.options.embedder, mt=job.mt, cache_dir=str(Path(job.output) / WORK / "cache"),
                       embedding_cache=embedding_cache, mt_cache=job.mt_cache or str(default_cache_path()))


def _check_models(setup: WorkerSetup) -> None:
    """A missing model, or an unusable cache, stops the run before any document."""
    from toolkit.align.embed import get_embedder
    from toolkit.jobs import translator_for

    get_embedder(setup.embedder)
    if setup.mt:
        translator_for(setup.mt)
    for path, kind in ((setup.embedding_cache, "embedding"), (setup.mt_cache if setup.mt else None, "translation")):
        if path:
            _open_cache(kind, path).close()


def _open_cache(kind: str, path: str):
    if kind == "embedding":
        from toolkit.align.embcache import EmbeddingCache

        return EmbeddingCache(path)
    from toolkit.translate.cache import TranslationCache

    return TranslationCache(path)


def _merge_worker_caches(setup: WorkerSetup, out: Path) -> None:
    """Merge the workers' cache files into the shared caches, then delete them (with OUT/.work/)."""
    folder = out / WORK / "cache"
    if not folder.is_dir():
        return
    for prefix, kind, target in (("emb-", "embedding", setup.embedding_cache), ("mt-", "translation", setup.mt_cache)):
        files = sorted(folder.glob(f"{prefix}*.sqlite"))
        if files and target:
            with _open_cache(kind, target) as shared:
                for path in files:
                    shared.merge_from(path)
    shutil.rmtree(out / WORK, ignore_errors=True)


def _log_line(record: DocRecord) -> str:
    what = {"done": f"{record.sentences.get('zh', 0)} zh / {record.sentences.get('en', 0)} en -> {record.beads} beads",
            "skipped": "unchanged since an earlier run",
            "error": f"{record.message}" + (f" — {record.hint}" if record.hint else "")}[record.status]
    return f"{_utc()}\t{record.doc_id}\t{record.status}\t{record.seconds:.2f}s\t{what}\n"


def _write_run_manifest(job: CorpusJob, result: CorpusResult, complete: bool) -> None:
    counts = {status: result.count(status) for status in ("done", "skipped", "error")}
    manifest = {
        "format": RUN_FORMAT, "version": 1, "tool": f"bitext {__version__}", "written": _utc(),
        "complete": complete, "command": job.command, "manifest": job.manifest,
        "engine": {"engine": job.engine.engine, "workers": job.engine.workers, "address": job.engine.address},
        "seconds": result.seconds, "counts": counts, "scores": result.scores,
        "outputs": [str(p.relative_to(result.output)) for p in result.paths],
        "documents": [r.as_dict() for r in result.records],
    }
    atomic_write_text(result.output / RUN_MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------
# corpus outputs


def document_records(out: Path, doc_id: str) -> tuple[list[dict], dict]:
    """The bead records and signature of one finished document of a corpus run."""
    from toolkit.formats.writers import read_jsonl, read_signature

    folder = out / DOCS / doc_id
    return read_jsonl(folder / f"{doc_id}.jsonl"), read_signature(folder / f"{doc_id}.signature.json")


def write_corpus_outputs(job: CorpusJob, entries: list[Entry], records: list[DocRecord]) -> tuple[list[Path], dict | None]:
    """Write OUT/corpus/: training shards, the TMX, the scores and the corpus signature; returns the paths."""
    from toolkit.formats.writers import script_language_tag, write_tmx_records
    from toolkit.score.metrics import add_statistics, scores_from_statistics

    out = Path(job.output)
    folder = out / CORPUS
    folder.mkdir(parents=True, exist_ok=True)
    finished = [r for r in records if r.status in ("done", "skipped")]
    seen: set[str] = set()
    rows, units, statistics, scripts, kept, total, duplicates = [], [], [], set(), 0, 0, 0
    no_dedupe = TrainingFilters(**{**job.filters.__dict__, "dedupe": False})
    for record in finished:
        beads, signature = document_records(out, record.doc_id)
        scripts.add(signature.get("zh_script_out") if signature.get("zh_script_out") not in (None, "as-is")
                    else signature.get("zh_script_in"))
        good, summary = training_records(beads, no_dedupe)
        total += summary.total
        for bead in good:
            row = training_row(record.doc_id, bead)
            digest = hashlib.sha256(json.dumps([row["translation"]["zh"], row["translation"]["en"]],
                                               ensure_ascii=False).encode()).hexdigest()
            if job.filters.dedupe and digest in seen:
                duplicates += 1
                continue
            seen.add(digest)
            rows.append(row)
        units += [{**bead, "id": f"{record.doc_id}:{bead['id']}"} for bead in beads if bead["zh"] and _english(bead)]
        report = out / DOCS / record.doc_id / f"{record.doc_id}.score.json"
        if report.is_file():
            statistics.append(json.loads(report.read_text(encoding="utf-8")).get("statistics"))
    kept = len(rows)
    paths = _write_shards(folder, rows, job.shard_rows)
    tmx = folder / "corpus.tmx"
    zh_tag = script_language_tag(scripts.pop()) if len(scripts) == 1 else "zh"
    signature = corpus_signature(job, entries, finished)
    write_tmx_records(tmx, units, signature, zh_tag)
    paths.append(tmx)
    summed = add_statistics(statistics)
    scores = scores_from_statistics(summed) if summed else None
    signature["training"] = {"beads": total, "kept": kept, "duplicates_across_documents": duplicates,
                             "filters": job.filters.__dict__, "shards": len(paths) - 1}
    signature["scores"] = scores
    sig_path = out / SIGNATURE
    atomic_write_text(sig_path, json.dumps(signature, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return [*paths, sig_path], scores


def _english(record: dict) -> str:
    from toolkit.formats.writers import record_english

    return record_english(record)


def _write_shards(folder: Path, rows: list[dict], shard_rows: int) -> list[Path]:
    for old in folder.glob("train-*.jsonl"):
        old.unlink()
    count = max(1, -(-len(rows) // shard_rows))
    paths = []
    for number in range(count):
        path = folder / f"train-{number:05d}-of-{count:05d}.jsonl"
        with atomic_writer(path) as handle:
            for row in rows[number * shard_rows:(number + 1) * shard_rows]:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        paths.append(path)
    return paths


def corpus_signature(job: CorpusJob, entries: list[Entry], finished: list[DocRecord]) -> dict:
    """What reproduces the corpus: tool, options, and each document's key (not the run's timings)."""
    from dataclasses import asdict

    keys = {r.doc_id: r.key for r in finished}
    return {
        "tool": "bitext", "version": __version__, "options": asdict(job.options), "en_comment": job.en_comment,
        "mt": job.mt, "score": job.score, "documents": len(entries), "finished": len(finished),
        "keys_sha256": hashlib.sha256(json.dumps(keys, sort_keys=True).encode()).hexdigest(),
    }


def corpus_folders(path: str | Path) -> list[Path] | None:
    """The finished documents' result folders of a corpus run at ``path`` (None if it is not one)."""
    out = Path(path)
    if not (out / RUN_MANIFEST).is_file() or not (out / DOCS).is_dir():
        return None
    folders = []
    for record in json.loads((out / RUN_MANIFEST).read_text(encoding="utf-8")).get("documents", []):
        if record.get("status") in ("done", "skipped"):
            folders.append(out / DOCS / record["doc_id"])
    return folders
