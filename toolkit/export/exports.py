"""Exports of an aligned result folder: training JSONL, TSV and TMX, with filters and splits.

An aligned result folder is what ``bitext align`` writes: one ``NAME.jsonl``
(one bead record per line, see :data:`toolkit.formats.writers.JSONL_KEYS`) next to
``NAME.signature.json``. Exports read only those two files, or a TMX memory
that came back from a CAT tool (:func:`load_tmx_result`), so a memory edited
by a translator can be exported again (training JSONL, an edition, TMX).

Training filters follow OpusFilter: each filter is a small class whose
``score(record)`` computes a raw value and whose ``accept(value)`` applies the
threshold, so values can be kept and re-thresholded. Their defaults are declared
once, in :class:`TrainingFilters`, and read by the CLI.

Every export carries the signature of the run it came from (:func:`export_signature`);
formats without room for it (JSONL for ``datasets``, TSV for spreadsheets) get a
sidecar file, ``FILE.signature.json`` (:func:`sidecar_path`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar

from toolkit.core.atomic import atomic_writer
from toolkit.core.errors import FormatError, InputError, ToolkitError
from toolkit.core.records import ORIGINS
from toolkit.core.resultset import verify
from toolkit.core.version import __version__
from toolkit.formats.writers import (TMX_SCORE_PROPS, TmxOptions, UnitSplitter, output_paths, set_members, read_jsonl, read_signature,
                             read_tmx_memory, record_english, script_language_tag, tmx_zh_script, write_signature,
                             write_tmx_records)

log = logging.getLogger(__name__)

FORMATS = ("tmx", "jsonl", "tsv", "html", "md", "epub", "docx")
EDITION_FORMATS = ("html", "md", "epub", "docx")  # the bilingual editions (toolkit.export.book)
TRAINING_FORMATS = ("jsonl", "tsv")  # the formats the training filters apply to
SPLITS = ("train", "dev", "test")
DEV_FRACTION = 0.1
TEST_FRACTION = 0.1
SPLIT_SEED = 0
SIGNATURE_SUFFIX = ".signature.json"
# English characters per Chinese character in translated text (about 3 in our corpus;
# the aligner's own per-document estimate is in the signature as diagnostics.ratio).
EN_CHARS_PER_ZH_CHAR = 3.0


# ---------------------------------------------------------------------------
# reading a result folder


@dataclass(frozen=True)
class AlignedResult:
    """The bead records and signature of one ``bitext align`` output folder."""

    name: str
    folder: Path
    records: tuple[dict, ...]
    signature: dict = field(default_factory=dict)


def load_result(folder: str | Path) -> AlignedResult:
    """Read ``NAME.jsonl`` and ``NAME.signature.json`` from an aligned result folder.

    A path ending in ``.tmx`` is read with :func:`load_tmx_result` instead. Raises InputError if ``folder`` is not a folder, holds no or several ``*.jsonl``
    files, or lacks the signature; FormatError if the files are not ours.
    """
    folder = Path(folder)
    if folder.suffix.lower() == ".tmx" and not folder.is_dir():
        return load_tmx_result(folder)
    hint = "give the output folder of one `bitext align` run (or a .tmx memory)"
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder", hint)
    found = sorted(folder.glob("*.jsonl"))
    if len(found) != 1:
        names = ", ".join(p.name for p in found) if found else "none"
        raise InputError(f"{folder} must hold exactly one .jsonl file, found {len(found)} ({names})", hint)
    jsonl = found[0]
    name = jsonl.name[: -len(".jsonl")]
    signature_file = folder / f"{name}{SIGNATURE_SUFFIX}"
    if not signature_file.is_file():
        raise InputError(f"{folder} has {jsonl.name} but no {signature_file.name}", hint)
    verify(folder, name, set_members(name))  # a mixed set (two runs, a kill) is refused, not exported
    records = read_jsonl(jsonl)
    for number, record in enumerate(records, start=1):
        if record.get("origin") not in ORIGINS:
            raise FormatError(f"{jsonl}, line {number}: unknown origin {record.get('origin')!r}",
                              f"origin is one of {', '.join(ORIGINS)}")
    return AlignedResult(name=name, folder=folder, records=tuple(records), signature=read_signature(signature_file))


def pair_texts(record: Mapping) -> tuple[str, str]:
    """``(zh, en)`` of a bead record; for a bead without an English original, the English is a
    reviewer's translation or the machine translation (see :func:`toolkit.formats.writers.record_english`)."""
    return record.get("zh") or "", record_english(record)


def _two_sided(record: Mapping) -> bool:
    zh, en = pair_texts(record)
    return bool(zh.strip()) and bool(en.strip())


# ---------------------------------------------------------------------------
# filters


class RecordFilter:
    """A training filter: ``score`` gives a raw value, ``accept`` the verdict on it.

    ``score`` returns None when the filter does not apply to a record (e.g. an
    alignment score for a machine-translated pair); None is always accepted.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def score(self, record: Mapping) -> float | None:
        raise NotImplementedError

    def accept(self, value: float | None) -> bool:
        raise NotImplementedError


class OneSidedFilter(RecordFilter):
    """Drops omissions (1-0, 0-1): value 1 if a side is empty, else 0."""

    name = "one_sided"
    description = "one side empty (1-0 / 0-1)"

    def score(self, record: Mapping) -> float:
        return 0.0 if _two_sided(record) else 1.0

    def accept(self, value: float | None) -> bool:
        return not value


class MachineTranslatedFilter(RecordFilter):
    """Drops machine-translated pairs (synthetic English): value 1 for origin ``mt``."""

    name = "mt"
    description = "machine-translated (synthetic)"

    def score(self, record: Mapping) -> float:
        return 1.0 if record.get("origin") == "mt" else 0.0

    def accept(self, value: float | None) -> bool:
        return not value


@dataclass(frozen=True)
class AlignmentScoreFilter(RecordFilter):
    """Drops aligned pairs whose aligner confidence is below ``min_score``.

    Applies only to two-sided pairs made by the aligner: MT and human pairs have
    no alignment confidence.
    """

    min_score: float
    name: ClassVar[str] = "min_score"

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"alignment score below {self.min_score:g}"

    def score(self, record: Mapping) -> float | None:
        if record.get("origin") != "aligned" or not _two_sided(record):
            return None
        return float(record.get("score") or 0.0)

    def accept(self, value: float | None) -> bool:
        return value is None or value >= self.min_score


@dataclass(frozen=True)
class LengthRatioFilter(RecordFilter):
    """Drops pairs whose lengths disagree by more than ``max_ratio``.

    Value: the larger over the smaller of the English length and the Chinese
    length times :data:`EN_CHARS_PER_ZH_CHAR` (characters, whitespace not
    counted), so 1.0 is a typical pair. Not applied to one-sided beads.
    """

    max_ratio: float
    name: ClassVar[str] = "length_ratio"

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"length ratio above {self.max_ratio:g}"

    def score(self, record: Mapping) -> float | None:
        if not _two_sided(record):
            return None
        zh, en = pair_texts(record)
        zh_len = sum(1 for ch in zh if not ch.isspace()) * EN_CHARS_PER_ZH_CHAR
        en_len = sum(1 for ch in en if not ch.isspace())
        return max(zh_len, en_len) / min(zh_len, en_len)

    def accept(self, value: float | None) -> bool:
        return value is None or value <= self.max_ratio


class DuplicateFilter(RecordFilter):
    """Drops repeats of a pair already seen (case and whitespace folded).

    Stateful: value is how many times the pair was scored before, so the first
    occurrence is kept. Use a fresh instance per export.
    """

    name = "dedupe"
    description = "duplicate pair"

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], int] = {}

    def score(self, record: Mapping) -> float:
        zh, en = pair_texts(record)
        key = (" ".join(zh.split()).casefold(), " ".join(en.split()).casefold())
        count = self._seen.get(key, 0)
        self._seen[key] = count + 1
        return float(count)

    def accept(self, value: float | None) -> bool:
        return not value


@dataclass(frozen=True)
class TrainingFilters:
    """Which bead records become training pairs; each default is declared here only."""

    min_score: float = 0.5
    max_length_ratio: float = 3.0
    drop_mt: bool = True
    drop_one_sided: bool = True
    dedupe: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_score <= 1.0 or math.isnan(self.min_score):
            raise ValueError(f"min_score must be in [0, 1], got {self.min_score}")
        if not self.max_length_ratio >= 1.0:
            raise ValueError(f"max_length_ratio must be at least 1, got {self.max_length_ratio}")

    def build(self) -> list[RecordFilter]:
        """Fresh filter instances in the order they are applied (cheap, decisive ones first)."""
        filters: list[RecordFilter] = []
        if self.drop_one_sided:
            filters.append(OneSidedFilter())
        if self.drop_mt:
            filters.append(MachineTranslatedFilter())
        filters.append(AlignmentScoreFilter(self.min_score))
        filters.append(LengthRatioFilter(self.max_length_ratio))
        if self.dedupe:
            filters.append(DuplicateFilter())
        return filters


@dataclass(frozen=True)
class FilterSummary:
    """How many records came in, how many were kept, and what each filter removed.

    A record is counted against the first filter that rejects it. ``removed`` is
    ``((filter name, description, count), ...)`` in the order the filters ran.
    """

    total: int
    kept: int
    removed: tuple[tuple[str, str, int], ...]

    def as_dict(self) -> dict:
        return {"total": self.total, "kept": self.kept, "removed": {name: count for name, _, count in self.removed}}

    def format(self) -> str:
        lines = [f"{self.kept} of {self.total} pairs kept"]
        lines += [f"  {count:>6} removed: {description}" for _, description, count in self.removed]
        return "\n".join(lines)

    @staticmethod
    def combine(summaries: Iterable[FilterSummary]) -> FilterSummary:
        """Add up summaries made with the same filters (e.g. one per document)."""
        summaries = list(summaries)
        if not summaries:
            return FilterSummary(0, 0, ())
        removed = [list(entry) for entry in summaries[0].removed]
        for summary in summaries[1:]:
            for entry, (_, _, count) in zip(removed, summary.removed):
                entry[2] += count
        return FilterSummary(sum(s.total for s in summaries), sum(s.kept for s in summaries),
                             tuple((name, description, count) for name, description, count in removed))


def training_records(records: Sequence[Mapping], filters: TrainingFilters | None = None) -> tuple[list[dict], FilterSummary]:
    """The records that pass ``filters`` (default :class:`TrainingFilters`), in order, and a summary.

    The duplicate filter only sees records that passed the others, so a pair
    dropped for its score does not make a later good copy a duplicate.
    """
    chain = (filters or TrainingFilters()).build()
    counts = [0] * len(chain)
    kept = []
    for record in records:
        for position, record_filter in enumerate(chain):
            if not record_filter.accept(record_filter.score(record)):
                counts[position] += 1
                break
        else:
            kept.append(dict(record))
    removed = tuple((f.name, f.description, n) for f, n in zip(chain, counts))
    return kept, FilterSummary(total=len(records), kept=len(kept), removed=removed)


# ---------------------------------------------------------------------------
# train / dev / test split


def split_by_document(docs: Mapping[str, Sequence[Mapping]], dev: float = DEV_FRACTION, test: float = TEST_FRACTION,
                      seed: int = SPLIT_SEED) -> dict[str, dict[str, list]]:
    """Assign each whole document to train, dev or test by a hash of its name.

    Returns ``{"train": {name: records}, "dev": {...}, "test": {...}}`` with names
    sorted. A document's split depends only on its name and ``seed`` (sha256 of
    ``"seed:name"`` read as a number in [0, 1): below ``test`` is test, below
    ``test + dev`` is dev), so adding documents never moves the others. With few
    documents the proportions are only expected values.
    """
    for label, value in (("dev", dev), ("test", test)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{label} fraction must be in [0, 1], got {value}")
    if dev + test > 1.0:
        raise ValueError(f"dev + test must be at most 1, got {dev + test}")
    splits: dict[str, dict[str, list]] = {split: {} for split in SPLITS}
    for name in sorted(docs):
        digest = hashlib.sha256(f"{seed}:{name}".encode("utf-8")).digest()
        position = int.from_bytes(digest[:8], "big") / 2**64
        split = "test" if position < test else "dev" if position < test + dev else "train"
        splits[split][name] = list(docs[name])
    return splits


# ---------------------------------------------------------------------------
# signature


def export_signature(sources: Mapping[str, dict], fmt: str, filters: TrainingFilters | None = None,
                     summary: FilterSummary | None = None, command: str | None = None, **extra) -> dict:
    """The signature of an export: the source runs' signatures under ``sources`` plus how it was exported."""
    export: dict = {"tool": "bitext", "version": __version__, "format": fmt}
    if filters is not None:
        export["filters"] = asdict(filters)
    if summary is not None:
        export["summary"] = summary.as_dict()
    if command:
        export["command"] = command
    export.update(extra)
    return {"export": export, "sources": {name: dict(signature) for name, signature in sources.items()}}


def split_path(path: str | Path, split: str) -> Path:
    """``corpus.jsonl`` -> ``corpus.train.jsonl``; ``talk.train.jsonl`` -> ``talk.train.jsonl`` for train."""
    path = Path(path)
    stem, dot, suffix = path.name.rpartition(".")
    if not dot:
        stem, suffix = path.name, ""
    for known in SPLITS:  # a default name already says "train"
        if stem.endswith(f".{known}"):
            stem = stem[: -len(known) - 1]
    return path.with_name(f"{stem}.{split}" + (f".{suffix}" if suffix else ""))


def sidecar_path(path: str | Path) -> Path:
    """``train.jsonl`` -> ``train.jsonl.signature.json`` (never clashes with a result's ``NAME.signature.json``)."""
    path = Path(path)
    return path.with_name(path.name + SIGNATURE_SUFFIX)


# ---------------------------------------------------------------------------
# writers

# Everything a line-based reader may split on, and tabs (the TSV column separator).
_BREAKS_AND_TABS = re.compile("\r\n|[\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1b\x7f]")


def _one_cell(text: str) -> str:
    """Tabs and line breaks become spaces; other control characters are dropped."""
    return _CONTROLS.sub("", _BREAKS_AND_TABS.sub(" ", text))


def training_row(doc: str, record: Mapping) -> dict:
    """One training JSONL object: the ``datasets`` translation shape plus metadata."""
    zh, en = pair_texts(record)
    return {
        "translation": {"zh": zh, "en": en},
        "id": record.get("id"),
        "doc": doc,
        "score": float(record.get("score") or 0.0),
        "type": record.get("type"),
        "origin": record.get("origin"),
    }


def write_training_jsonl(path: str | Path, docs: Mapping[str, Sequence[Mapping]], signature: dict) -> Path:
    """Write one :func:`training_row` per record of each document (in the mapping's order).

    Loadable with ``datasets.load_dataset("json", data_files=path)``. The signature
    goes to :func:`sidecar_path`; returns that path. Refuses to overwrite a result's files.
    """
    refuse_result_files(path, sidecar_path(path))
    with atomic_writer(path) as handle:
        for doc, records in docs.items():
            for record in records:
                handle.write(json.dumps(training_row(doc, record), ensure_ascii=False) + "\n")
    return _write_sidecar(path, signature)


def write_tsv(path: str | Path, docs: Mapping[str, Sequence[Mapping]], signature: dict) -> Path:
    """Write ``zh<TAB>en`` per record, no header or comments (spreadsheets take it as is).

    Tabs and line breaks inside a text become spaces, other control characters
    are dropped. The signature goes to :func:`sidecar_path`; returns that path.
    Refuses to overwrite a result's files.
    """
    refuse_result_files(path, sidecar_path(path))
    with atomic_writer(path) as handle:
        for records in docs.values():
            for record in records:
                zh, en = pair_texts(record)
                handle.write(f"{_one_cell(zh)}\t{_one_cell(en)}\n")
    return _write_sidecar(path, signature)


def _write_sidecar(path: str | Path, signature: dict) -> Path:
    sidecar = sidecar_path(path)
    write_signature(sidecar, signature)
    return sidecar


def refuse_result_files(*paths: str | Path) -> None:
    """Raise ToolkitError if a path is one of an aligned result's own files (``NAME.jsonl``, ``NAME.tmx``, ...).

    A result is recognised by ``NAME.signature.json`` in the path's folder; an
    export written over its source would destroy it.
    """
    for path in paths:
        path = Path(path)
        for signature_file in path.parent.glob(f"*{SIGNATURE_SUFFIX}"):
            name = signature_file.name[: -len(SIGNATURE_SUFFIX)]
            try:
                own = output_paths(path.parent, name).values()
            except ToolkitError:
                continue
            if path in own:
                raise ToolkitError(f"{path} is a file of the aligned result {name!r}",
                                   "write the export elsewhere, e.g. with -o FILE")


def zh_script(signature: Mapping) -> str:
    """The script of the Chinese text written: ``zh_script_out`` unless "as-is", else ``zh_script_in``."""
    out = signature.get("zh_script_out")
    if out in ("simplified", "traditional"):
        return out
    return "traditional" if signature.get("zh_script_in") == "traditional" else "simplified"


def write_result_tmx(path: str | Path, result: AlignedResult, signature: dict, options: TmxOptions = TmxOptions(),
                     splitter: UnitSplitter | None = None) -> dict:
    """Write the result as TMX 1.4b with :func:`toolkit.formats.writers.write_tmx_records`; ``signature`` goes in the header.

    ``options`` (and ``splitter``, for a split) say which units are written; the
    folder's sentence files, when it has them, give the pieces of a split.
    The header's signature also gets, under ``export.tu_fingerprints``, a
    :func:`pair_fingerprint` per tuid, so that :func:`load_tmx_result` can tell
    which units a translator edited. Refuses to overwrite a result's own files
    (its ``NAME.tmx`` included: that one has the run's signature). Returns the unit counts.
    """
    refuse_result_files(path)
    records = [{**record, "id": number} for number, record in enumerate(result.records, start=1)]

    def fingerprints(units: list[dict]) -> dict:
        prints = {unit["tuid"]: pair_fingerprint(unit["zh"], unit["en"]) for unit in units}
        return {"export": {**signature.get("export", {}), "tu_fingerprints": prints}}

    return write_tmx_records(path, records, signature, script_language_tag(zh_script(result.signature)), options,
                             splitter, _sentence_files(result), header=fingerprints)


def _sentence_files(result: AlignedResult) -> tuple[list[str], list[str]] | None:
    """The lines of the result's ``NAME.zh.txt`` and ``NAME.en.txt``, if it has both (a published edition has not)."""
    if result.folder is None:
        return None
    paths = output_paths(result.folder, result.name)
    try:
        return (paths["zh"].read_text(encoding="utf-8").splitlines(),
                paths["en"].read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return None


# ---------------------------------------------------------------------------
# a TMX memory back from a CAT tool

TMX_IMPORT_KEY = "tmx_import"  # where load_tmx_result records what it read, in the result's signature
FINGERPRINT_CHARS = 12


def _fingerprint_text(text: str) -> str:
    # Whitespace runs folded and unprintable characters dropped: what survives TMX and a CAT tool.
    return " ".join("".join(ch for ch in text if ch.isprintable() or ch.isspace()).split())


def pair_fingerprint(zh: str, en: str) -> str:
    """A short hash of a pair's texts (hex), the same before a TMX round trip and after, unless a text was edited."""
    payload = f"{_fingerprint_text(zh)}\x00{_fingerprint_text(en)}".encode("utf-8")
    return hashlib.sha256(payload).hexdigest()[:FINGERPRINT_CHARS]


def _header_signature(path: Path, header_props: Mapping[str, str]) -> dict:
    text = header_props.get("x-signature")
    if not text:
        return {}
    try:
        signature = json.loads(text)
    except json.JSONDecodeError:
        log.warning("%s: the header's x-signature is not JSON; read without it", path)
        return {}
    return signature if isinstance(signature, dict) else {}


def _bead_type(declared: str | None, has_zh: bool, has_en: bool) -> str:
    """The declared ``n-m`` type if it still fits which sides are there, else ``1-1``, ``1-0`` or ``0-1``."""
    match = re.fullmatch(r"(\d+)-(\d+)", declared or "")
    if match and (int(match[1]) > 0) == has_zh and (int(match[2]) > 0) == has_en:
        return declared
    return f"{int(has_zh)}-{int(has_en)}"


def load_tmx_result(path: str | Path) -> AlignedResult:
    """Read a TMX memory (ours, as a CAT tool wrote it back) as an aligned result, so it can be exported again.

    Each tu with a Chinese or English text becomes one bead record (tus with
    neither are skipped). What we wrote is taken back from the tu's props:
    ``x-origin``, ``x-score``, ``x-bead-type``, ``x-speaker``, ``x-mt-flags``
    (and ``x-bleu`` / ``x-chrf`` when present).
    A tu without ``x-origin`` was added by the translator: origin ``human``.
    A tu whose texts no longer match the fingerprint the export recorded for its
    tuid (see :func:`write_result_tmx`) was edited: origin ``human`` (its score
    is kept, its MT flags dropped). Without fingerprints (a memory written
    by ``bitext align`` itself, or a header the tool dropped) origins are taken
    as they are. Segment kinds (heading, note) are not in the TMX: every
    record is a ``sentence``.

    The name and signature are those of the run the memory was exported from,
    found in the header's ``x-signature`` (else the file's stem and ``{}``),
    with ``zh_script_out`` set from the Chinese language tags when they name a
    script, and a ``tmx_import`` entry saying what was read.
    Raises InputError/FormatError for a missing or malformed file, an unknown
    origin or a score that is not a number, and a memory with no zh/en unit.
    """
    path = Path(path)
    memory = read_tmx_memory(path)
    header_signature = _header_signature(path, memory.header_props)
    sources = header_signature.get("sources")
    if isinstance(sources, dict) and len(sources) == 1 and isinstance(next(iter(sources.values())), dict):
        name, source_signature = next(iter(sources.items()))
    elif header_signature and "export" not in header_signature:  # the run's own NAME.tmx
        name, source_signature = path.stem, header_signature
    else:
        name, source_signature = path.stem, {}
    export_part = header_signature.get("export")
    fingerprints = export_part.get("tu_fingerprints") if isinstance(export_part, dict) else None
    fingerprints = fingerprints if isinstance(fingerprints, dict) else {}

    records: list[dict] = []
    counts = {"units": len(memory.units), "read": 0, "edited": 0, "added": 0, "skipped": 0}
    zh_count = en_count = 0
    scripts: dict[str, int] = {}
    for unit in memory.units:
        if unit.zh is None and unit.en is None:
            counts["skipped"] += 1
            continue
        where = f"{path}, tu {unit.tuid or len(records) + counts['skipped'] + 1}"
        declared = unit.props.get("x-origin")
        if declared is not None and declared not in ORIGINS:
            raise FormatError(f"{where}: unknown x-origin {declared!r}", f"x-origin is one of {', '.join(ORIGINS)}")
        try:
            score = float(unit.props.get("x-score") or 0.0)
        except ValueError as exc:
            raise FormatError(f"{where}: x-score {unit.props['x-score']!r} is not a number",
                              "fix or remove the prop") from exc
        expected = fingerprints.get(unit.tuid or "")
        edited = declared is not None and expected is not None and expected != pair_fingerprint(unit.zh or "",
                                                                                               unit.en or "")
        origin = "human" if declared is None or edited else declared
        counts["added" if declared is None else "edited" if edited else "read"] += 1
        if unit.zh_lang:
            script = tmx_zh_script(unit.zh_lang)
            if script:
                scripts[script] = scripts.get(script, 0) + 1
        is_mt = origin == "mt"
        has_zh, has_en = unit.zh is not None, unit.en is not None and not is_mt
        zh_ids = [zh_count] if has_zh else []
        en_ids = [en_count] if has_en else []
        zh_count, en_count = zh_count + has_zh, en_count + has_en
        records.append({
            "id": len(records) + 1,
            "zh_ids": zh_ids,
            "en_ids": en_ids,
            "zh": unit.zh or "",
            "en": "" if is_mt else unit.en or "",
            "score": score,
            "type": _bead_type(unit.props.get("x-bead-type"), has_zh, has_en),
            "origin": origin,
            "speaker": unit.props.get("x-speaker") or None,
            "kind": "sentence",
            "mt": unit.en if is_mt else None,
            "mt_flags": unit.props.get("x-mt-flags", "").split() if origin == declared else [],
        })
        if origin == declared:  # an MT-vs-reference score no longer describes an edited pair
            for key, prop in TMX_SCORE_PROPS:
                if unit.props.get(prop):
                    try:
                        records[-1][key] = float(unit.props[prop])
                    except ValueError as exc:
                        raise FormatError(f"{where}: {prop} {unit.props[prop]!r} is not a number",
                                          "fix or remove the prop") from exc
    if not records:
        raise InputError(f"{path} has no unit with Chinese or English text",
                         "the tuvs need xml:lang zh... or en... and a non-empty seg")
    signature = dict(source_signature)
    if scripts:
        signature["zh_script_out"] = max(sorted(scripts), key=scripts.get)
    signature[TMX_IMPORT_KEY] = {
        "file": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "creationtool": memory.header.get("creationtool"),
        "edit_detection": bool(fingerprints),
        **counts,
    }
    return AlignedResult(name=name, folder=path.parent, records=tuple(records), signature=signature)


def default_output(result: AlignedResult, fmt: str) -> Path:
    """``OUT_DIR/export/NAME.{train.jsonl,tsv,tmx,html,md,epub,docx}``: a subfolder, so the result folder keeps one JSONL."""
    if fmt not in FORMATS:
        raise ToolkitError(f"unknown export format {fmt!r}", f"choose one of {', '.join(FORMATS)}")
    suffix = ".train.jsonl" if fmt == "jsonl" else f".{fmt}"
    return result.folder / "export" / f"{result.name}{suffix}"

