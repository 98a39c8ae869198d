"""One document pair end to end, as a library call: ``run_alignment(job) -> JobResult``.

``bitext align``, ``bitext translate`` and ``bitext corpus`` all call
:func:`run_alignment`; a Python user does too::

    from toolkit import AlignJob, load_models, run_alignment

    models = load_models()                    # the embedder (and a translator), loaded once
    for zh, en in pairs:
        result = run_alignment(AlignJob(zh=zh, en=en, output=f"out/{Path(zh).stem}"), models)

The job is a frozen record of inputs and options; the loaded models are passed
in beside it, so a caller aligning many documents loads them once. Everything
that can be checked is checked before the work (options, output name, the
translator, the inputs, the output folder); the files are written as one set
under a lock on the folder (:mod:`toolkit.core.resultset`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from toolkit.align.embed import DEFAULT_EMBEDDER, Embedder
from toolkit.core.errors import ToolkitError
from toolkit.core.records import Alignment
from toolkit.core.version import __version__
from toolkit.formats.reader import read_input_bytes
from toolkit.formats.writers import TmxOptions
from toolkit.pipeline import (AlignOptions, Progress, align_documents, cached_embedder, load_document, load_pair,
                              translate_gaps, translation_only)

# Where a job writes without an output folder: OUTPUT_ROOT/NAME/, under the current folder and apart
# from the project's tracked aligned/ (the published, reviewed editions).
OUTPUT_ROOT = Path("out")
_LANGUAGE_TAGS = (".zh", ".cn", ".zh-cn", ".zh-tw", "_zh", "-zh")


def default_name(zh: str | Path) -> str:
    """``talk.zh.txt`` -> ``talk``: the Chinese file's stem without a trailing language tag."""
    stem = Path(str(zh).rstrip("/")).stem
    for tag in _LANGUAGE_TAGS:
        if stem.lower().endswith(tag) and len(stem) > len(tag):
            return stem[: -len(tag)]
    return stem


@dataclass(frozen=True)
class AlignJob:
    """One document pair and everything that decides what is made of it.

    ``zh`` and ``en`` are paths or fsspec URLs; ``en`` None is a translate-only
    job (the Chinese is machine-translated whole with ``mt``). ``output`` is the
    result folder (default ``out/NAME/``), ``name`` the base name of its files
    (default: the Chinese file's name without ``.zh``). ``mt`` translates the
    Chinese left without English; ``score`` None scores the aligned pairs when a
    translator is at hand (``mt``, or the default scoring model if installed).
    ``run_details`` False keeps what differs from run to run (timings, cache hits,
    the command) out of the signature, so the same job always writes the same
    bytes; the details are still returned in :attr:`JobResult.details`.
    ``tmx`` shapes the memory (one-sided units, SRX rules, split beads; see
    :class:`toolkit.formats.writers.TmxOptions`); it is recorded in the signature.
    """

    zh: str
    en: str | None
    output: str | None = None
    name: str | None = None
    options: AlignOptions = AlignOptions()
    en_comment: str | None = None
    mt: str | None = None
    mt_cache: str | None = None
    glossary: str | None = None  # a CSV/TSV/TBX file of fixed renderings (toolkit.translate.glossary)
    mt_context: bool = True  # translate gaps with the document as context (toolkit.translate.context)
    score: bool | None = None
    embedding_cache: str | None = None  # None: the user's shared cache
    use_embedding_cache: bool = True
    force: bool = False
    command: str = ""
    run_details: bool = True
    tmx: TmxOptions = TmxOptions()  # which beads become which units of NAME.tmx

    def __post_init__(self) -> None:
        for key in ("zh", "en", "output", "mt_cache", "glossary", "embedding_cache"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, str):
                object.__setattr__(self, key, str(value))  # paths are kept as text: the record is JSON-ready
        if not self.zh:
            raise ValueError("a job needs a Chinese input")
        if self.en is None and not self.mt:
            raise ValueError("a job without English needs a translator (mt)")
        if self.en is None and self.score:
            raise ValueError("a job without English has nothing to score")

    @property
    def base_name(self) -> str:
        return self.name or default_name(self.zh)

    @property
    def out_dir(self) -> Path:
        return Path(self.output) if self.output else OUTPUT_ROOT / self.base_name

    def decisive(self) -> dict:
        """What decides the job's outputs besides its inputs' bytes (for keys: see :func:`job_key`)."""
        decisive = {"options": asdict(self.options), "en_comment": self.en_comment, "mt": self.mt,
                    "score": self.score, "name": self.base_name, "translate_only": self.en is None}
        if self.tmx != TmxOptions():  # only then: keys of jobs with the default memory stay what they were
            decisive["tmx"] = {**self.tmx.describe(), "srx": self.tmx.srx.sha256 if self.tmx.srx else None}
        if self.glossary:  # only when given, so the keys of jobs without one stay as they were
            decisive["glossary"] = _file_digest(self.glossary)
        if not self.mt_context:
            decisive["mt_context"] = False
        return decisive


def _file_digest(path: str | None) -> str | None:
    """sha256 of a small local file (a glossary), None without one or when it cannot be read
    (reading it for the job reports that)."""
    if not path:
        return None
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def job_key(job: AlignJob, zh_bytes: bytes, en_bytes: bytes | None) -> str:
    """sha256 of both inputs, the options and the tool version: equal keys, equal outputs."""
    digest = hashlib.sha256()
    for part in (zh_bytes, en_bytes if en_bytes is not None else b"",
                 json.dumps([job.decisive(), __version__], sort_keys=True).encode()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


@dataclass
class Models:
    """Models loaded once and reused across jobs: the embedder, and the translator of ``mt_spec``.

    ``scorer`` is the translator scoring uses when a job has no ``mt`` (the
    default scoring model, if installed), found on first use. Build with :func:`load_models`.
    """

    embedder: Embedder | None = None
    translator: object | None = None  # a toolkit.translate.backends.Translator
    mt_spec: str | None = None
    mt_cache: object | None = None  # an open TranslationCache to use instead of each job's mt_cache file
    _scorers: dict = field(default_factory=dict)

    def translator_for(self, spec: str):
        """The translator ``spec`` names: the loaded one when it is that spec, else a new one (kept)."""
        if self.translator is not None and spec == self.mt_spec:
            return self.translator
        if spec not in self._scorers:
            self._scorers[spec] = translator_for(spec)
        return self._scorers[spec]


def load_models(embedder: str | None = DEFAULT_EMBEDDER, mt: str | None = None,
                embedding_cache: str | Path | None = None, use_embedding_cache: bool = True) -> Models:
    """The embedder ``embedder`` (behind the embedding cache unless ``use_embedding_cache`` is False;
    None for translate-only work) and the translator ``mt`` (if given), built once for many jobs.

    Building checks that the models exist; their weights load on first use.
    """
    from toolkit.align.embed import get_embedder

    built = None
    if embedder is not None:
        built = cached_embedder(embedder, embedding_cache) if use_embedding_cache else get_embedder(embedder)
    return Models(embedder=built, translator=translator_for(mt) if mt else None, mt_spec=mt)


def translator_for(spec: str):
    """The translator ``spec`` names, built (not loaded): a missing model fails now."""
    try:
        from toolkit.translate.backends import get_translator
    except ImportError as exc:
        raise ToolkitError("machine translation is not available in this installation",
                           f"toolkit.translate cannot be imported: {exc}") from exc
    return get_translator(spec)


@dataclass(frozen=True)
class JobResult:
    """What :func:`run_alignment` made: the alignment, where it went, and the score report."""

    job: AlignJob
    alignment: Alignment
    out_dir: Path
    paths: tuple[Path, ...]
    report: dict | None = None       # the score report, when the pairs were scored
    scorer: str | None = None        # the translator spec that scored them
    not_scored: str | None = None    # why not, when not: "mt none", "no-score", "no model"
    aside: Path | None = None        # where --force moved the previous files
    details: dict = field(default_factory=dict)  # timings, cache hits, input digests


class Aside(list):
    """The files ``force`` moves aside (a list of names) and the folder they go to."""

    folder: Path | None = None


def result_folder(out_dir: Path, name: str, force: bool, command: str, input_bytes: int):
    """Check the output folder and hold its lock while the job runs; yields what ``force`` moves aside.

    Refused here, before the work: a folder that is a file, not writable or without room, one that
    another run is writing, and (without ``force``) one holding a review journal or a published edition.
    """
    from toolkit.core.resultset import FolderLock, aside_folder, check_output_folder, pause_point, recover
    from toolkit.formats.writers import set_members
    from toolkit.pipeline import protected_result

    @contextlib.contextmanager
    def held() -> Iterator[Aside]:
        check_output_folder(out_dir, input_bytes)
        with FolderLock(out_dir, command or "bitext"):
            recover(out_dir, name, set_members(name))
            reason, files = protected_result(out_dir, name)
            aside = Aside()
            if reason and not force:
                raise ToolkitError(f"{out_dir} {reason}",
                                   "write elsewhere with -o, or give --force to replace it (the old files and the "
                                   f"journal are kept in {out_dir}/{name}.superseded-TIME/)")
            if reason:
                aside += files
                aside.folder = aside_folder(out_dir, name)
            pause_point("work")
            yield aside

    return held()


def machine_translate_gaps(alignment: Alignment, spec: str, cache: str | Path | None, progress: Progress | None,
                           translator=None, store=None, glossary=None, context: bool = True) -> Alignment:
    """The alignment with every 1-0 bead machine-translated (checked and cached), with the document as
    context and the terms of ``glossary`` (see pipeline.translate_gaps).

    ``store``: an open translation cache to use instead of the file ``cache``.
    """
    return translate_gaps(alignment, spec, Path(cache) if cache else None, True, progress, translator, glossary,
                          context, store)


def job_glossary(job: AlignJob):
    """The job's glossary, read (a :class:`toolkit.translate.glossary.Glossary`), or None."""
    if not job.glossary:
        return None
    from toolkit.translate.glossary import read_glossary

    return read_glossary(job.glossary)


def _scoring(job: AlignJob, models: Models):
    """(spec, translator) the job scores with, or (None, reason) when it does not score."""
    from toolkit.score.metrics import DEFAULT_MT as SCORE_MT

    if job.en is None:
        return None, None
    if job.score is False:
        return None, "no-score"
    spec = job.mt or SCORE_MT
    try:
        translator = models.translator_for(spec)
    except ToolkitError:
        if job.mt:  # a translator the user named must work
            raise
        if job.score:
            raise ToolkitError(f"--score needs a translator, and {SCORE_MT} is not installed",
                               f"give --mt MODEL, or install it: python scripts/fetch_models.py {SCORE_MT}") from None
        return None, "no model"
    if not translator.translates:
        if job.score:
            raise ToolkitError(f"--score needs a translator: --mt none translates nothing, and {SCORE_MT} is not installed",
                               f"give --mt MODEL, or install it: python scripts/fetch_models.py {SCORE_MT}")
        return None, "mt none"
    return (spec, translator), None


def _write(out_dir: Path, alignment: Alignment, records, extra, aside: Aside, command: str,
           tmx: TmxOptions = TmxOptions(), embedder: Embedder | None = None) -> list[Path]:
    from toolkit.formats.writers import write_alignment

    splitter = None
    if tmx.split_beads:
        from toolkit.align.subunits import BeadSplitter

        splitter = BeadSplitter(embedder or cached_embedder())
    try:
        return write_alignment(out_dir, alignment, records, extra=extra, keep_others=False, aside=aside,
                               aside_to=aside.folder, command=command, tmx=tmx, splitter=splitter)
    except OSError as exc:  # e.g. the output folder is a file, or not writable
        raise ToolkitError(f"cannot write to {out_dir}: {exc.strerror or exc}",
                           "choose another output folder with -o") from exc


def _input_record(location: str, data: bytes) -> dict:
    return {"path": location, "sha256": hashlib.sha256(data).hexdigest()}


@dataclass(frozen=True)
class Aligned:
    """A job aligned but not yet translated, scored or written: what :func:`align_stage` hands on."""

    job: AlignJob
    alignment: Alignment
    inputs: dict
    size: int
    details: dict


def _read(job: AlignJob) -> tuple:
    """The job's segmented documents (en None for translate-only), its inputs' records and size.

    Each input is read once: its bytes give the digest and are what is decoded.
    """
    base = job.base_name
    zh_bytes = read_input_bytes(job.zh)
    en_bytes = read_input_bytes(job.en) if job.en is not None else None
    if job.en is None:
        zh, en = load_document(job.zh, "zh", presegmented=job.options.presegmented, name=base, data=zh_bytes), None
    else:
        zh, en = load_pair(job.zh, job.en, job.options.presegmented, job.en_comment, base, check=not job.force,
                           data=(zh_bytes, en_bytes))
    inputs = {"zh": _input_record(job.zh, zh_bytes)}
    if en_bytes is not None:
        inputs["en"] = _input_record(job.en, en_bytes)
    return zh, en, inputs, len(zh_bytes) + len(en_bytes or b"")


def _check(job: AlignJob, models: Models, translators: bool) -> None:
    """What fails fast: a bad output name, and (``translators``) a translator that is not there."""
    from toolkit.formats.writers import output_paths

    output_paths(job.out_dir, job.base_name)  # a bad name fails now, not after the alignment
    job_glossary(job)  # so does a bad glossary
    if translators:
        # Built (not loaded) now: a missing model fails before the alignment.
        if job.mt:
            models.translator_for(job.mt)
        _scoring(job, models)


def _align(job: AlignJob, read: tuple, models: Models, progress: Progress) -> Aligned:
    zh, en, inputs, size = read
    started = time.perf_counter()
    if en is None:
        alignment = translation_only(zh, name=job.base_name, presegmented=job.options.presegmented)
    else:
        alignment = align_documents(zh, en, job.options, models.embedder, progress=progress, name=job.base_name,
                                    check=False)
    return Aligned(job=job, alignment=alignment, inputs=inputs, size=size,
                   details={"align_s": round(time.perf_counter() - started, 3)})


def _finish(aligned: Aligned, models: Models, progress: Progress, aside: Aside) -> JobResult:
    from toolkit.formats.writers import bead_records
    from toolkit.pipeline import convert_script, score_records
    from toolkit.score.metrics import REPORT_SUFFIX, write_report

    job, alignment, details = aligned.job, aligned.alignment, dict(aligned.details)
    scoring, not_scored = _scoring(job, models)
    glossary = job_glossary(job)
    started = time.perf_counter()
    if job.mt:
        alignment = machine_translate_gaps(alignment, job.mt, job.mt_cache, progress, models.translator_for(job.mt),
                                           models.mt_cache, glossary, job.mt_context)
    signature = dict(alignment.signature)
    if job.en is None:
        alignment = replace(alignment, zh=convert_script(alignment.zh, job.options.zh_script))
        signature["zh_script_out"] = job.options.zh_script
    details["mt_s"] = round(time.perf_counter() - started, 3)
    for key in ("timings", "embedding_cache"):
        if key in signature:
            details[key] = signature[key] if job.run_details else signature.pop(key)
    if job.run_details and job.command:
        signature["command"] = job.command
    signature["inputs"] = aligned.inputs
    signature["tmx"] = job.tmx.describe()
    alignment = replace(alignment, signature=signature)
    records, report, extra = None, None, {}
    started = time.perf_counter()
    if scoring:
        records, report = score_records(bead_records(alignment), scoring[0], _path(job.mt_cache), True, progress,
                                        translator=scoring[1], store=models.mt_cache, glossary=glossary)
        if job.run_details and job.command:
            report["command"] = job.command
        else:
            report.pop("translation", None)  # its cache counts differ from run to run
        extra[f"{job.base_name}{REPORT_SUFFIX}"] = lambda path: write_report(path, report)
    details["score_s"] = round(time.perf_counter() - started, 3)
    paths = _write(job.out_dir, alignment, records, extra, aside, job.command, job.tmx, models.embedder)
    details["inputs"] = aligned.inputs
    return JobResult(job=job, alignment=alignment, out_dir=job.out_dir, paths=tuple(paths), report=report,
                     scorer=scoring[0] if scoring else None, not_scored=not_scored,
                     aside=aside.folder if aside else None, details=details)


def run_alignment(job: AlignJob, models: Models | None = None, progress: Progress | None = None) -> JobResult:
    """Read, segment, align, machine-translate the gaps, score and write one document pair.

    ``models``: from :func:`load_models`, reused across jobs (default: built for
    this job). Raises :class:`ToolkitError` (one message and a hint) for
    anything wrong with the job, its inputs, its models or its output folder;
    the output folder then keeps its previous result set.
    """
    progress = progress or Progress()
    if models is None:
        models = load_models(job.options.embedder if job.en is not None else None, job.mt, job.embedding_cache,
                             job.use_embedding_cache)
    _check(job, models, translators=True)
    read = _read(job)
    with result_folder(job.out_dir, job.base_name, job.force, job.command, read[3]) as aside:
        return _finish(_align(job, read, models, progress), models, progress, aside)


def align_stage(job: AlignJob, models: Models, progress: Progress | None = None) -> Aligned:
    """The first half of :func:`run_alignment` (read, segment, align), for pipelines that run the
    halves on different workers: an embedder's, then a translator's (:func:`finish_stage`)."""
    _check(job, models, translators=False)
    return _align(job, _read(job), models, progress or Progress())


def finish_stage(aligned: Aligned, models: Models, progress: Progress | None = None) -> JobResult:
    """The second half of :func:`run_alignment`: machine translation of the gaps, scoring, writing."""
    job = aligned.job
    _check(job, models, translators=True)
    with result_folder(job.out_dir, job.base_name, job.force, job.command, aligned.size) as aside:
        return _finish(aligned, models, progress or Progress(), aside)


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
