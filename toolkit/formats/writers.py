"""Output formats of an :class:`~toolkit.core.records.Alignment`, and readers for them.

Every format puts the Chinese side first. Formats:

- ``.align``: vecalign beads, one per line, ``[0, 1]:[0]:0.8123`` (0-based
  indices, ``[]`` for an empty side). Gold files without a score are read too.
- ``.zh.txt`` / ``.en.txt``: one segment per line; the indices refer to these lines.
- ``.jsonl``: one bead per line with its texts and metadata, for review tools.
- ``.tmx``: TMX 1.4b translation memory for CAT tools: the beads with a human text on both
  sides by default, optionally merged by SRX rules or split into sub-units (:class:`TmxOptions`).
- ``.signature.json``: how the alignment was made, so it can be reproduced.

Bead numbers (JSONL ``id``, TMX ``tuid``) are 1-based, matching the line
number of the bead in the ``.align`` file (a merged TMX unit is ``12+13``, the
parts of a split bead ``12.1``, ``12.2``). Every file is written atomically.
"""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from toolkit.core.atomic import atomic_write_text, atomic_writer
from toolkit.core.errors import FormatError, InputError, ToolkitError
from toolkit.core.records import Alignment, Bead, Document, Segment, bead_id
from toolkit.core.resultset import FolderLock, recover, staged_set
from toolkit.core.version import __version__
from toolkit.formats.srx import SrxRules

log = logging.getLogger(__name__)

SCORE_DECIMALS = 4
TMX_CREATION_TOOL = "bitext"
ZH_JOINER = ""  # Chinese sentences are written without spaces between them
EN_JOINER = " "
JSONL_KEYS = ("id", "zh_ids", "en_ids", "zh", "en", "score", "type", "origin", "speaker", "kind", "mt", "mt_flags")
JSONL_OPTIONAL = ("mt_flags",)  # added later; files written before it still read
# Written only when the English was timed (subtitles, a timestamped transcript): the start of
# the bead's first English sentence and of each of its sentences, in seconds (ms precision).
JSONL_TIMED_KEYS = ("en_start", "en_starts")
TIME_DECIMALS = 3

# ---------------------------------------------------------------------------
# vecalign bead format

_INDEX_LIST = r"\[\s*((?:\d+\s*(?:,\s*\d+\s*)*)?)\]"
_SCORE = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_BEAD_LINE = re.compile(rf"^\s*{_INDEX_LIST}\s*:\s*{_INDEX_LIST}\s*(?::\s*({_SCORE})\s*)?$")


def format_bead(bead: Bead) -> str:
    """``Bead((0, 1), (0,), 0.81234)`` -> ``"[0, 1]:[0]:0.8123"``; an empty side is ``[]``."""
    zh = ", ".join(str(i) for i in bead.zh)
    en = ", ".join(str(i) for i in bead.en)
    return f"[{zh}]:[{en}]:{bead.score:.{SCORE_DECIMALS}f}"


def parse_bead(line: str) -> Bead:
    """Parse one ``.align`` line; the score is optional (gold files have none, score 0.0).

    Spaces are optional: ``[0,1]:[0]`` and ``[0, 1]:[0]:0.8123`` both parse.
    Raises FormatError on anything else, including non-contiguous indices.
    """
    match = _BEAD_LINE.match(line)
    if match is None:
        raise FormatError(
            f"not a bead: {line.strip()[:80]!r}",
            "expected '[zh ids]:[en ids]' with an optional ':score', e.g. '[0, 1]:[0]:0.8123'",
        )
    zh_text, en_text, score_text = match.groups()
    zh = tuple(int(i) for i in zh_text.split(",")) if zh_text else ()
    en = tuple(int(i) for i in en_text.split(",")) if en_text else ()
    try:
        return Bead(zh=zh, en=en, score=float(score_text) if score_text else 0.0)
    except ValueError as exc:
        raise FormatError(f"bad bead {line.strip()[:80]!r}: {exc}", "fix or remove this line") from exc


def write_align(path: str | Path, beads: Iterable[Bead]) -> None:
    """Write beads one per line in vecalign format (origin and mt text are not kept)."""
    atomic_write_text(path, "".join(format_bead(bead) + "\n" for bead in beads))


def read_align(path: str | Path) -> list[Bead]:
    """Read a ``.align`` file (ours, vecalign's or a gold file); blank lines are skipped."""
    path = Path(path)
    beads = []
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            beads.append(parse_bead(line))
        except FormatError as exc:
            raise FormatError(f"{path}, line {number}: {exc.message}", exc.hint) from exc
    return beads


# ---------------------------------------------------------------------------
# plain sentences

# Everything str.splitlines() breaks on, so a reader splitting lines any way
# gets back exactly one line per segment.
_LINE_BREAKS = re.compile("\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def _one_line(text: str) -> str:
    return _LINE_BREAKS.sub(" ", text)


def write_sentences(path: str | Path, document: Document) -> None:
    """Write one segment text per line, so line ``i`` (0-based) is segment ``i``.

    Line breaks inside a text become spaces.
    """
    with atomic_writer(path) as handle:
        for segment in document.segments:
            handle.write(_one_line(segment.text) + "\n")


# ---------------------------------------------------------------------------
# shared helpers for the text-bearing formats


def _side(document: Document, ids: Sequence[int], bead_number: int) -> list[Segment]:
    for i in ids:
        if not 0 <= i < len(document.segments):
            raise ToolkitError(
                f"bead {bead_number} refers to {document.lang} sentence {i}, but "
                f"{document.name!r} has {len(document.segments)} sentences",
                "the beads do not belong to this document pair; re-run the alignment",
            )
    return [document.segments[i] for i in ids]


def _bead_speaker(zh: list[Segment], en: list[Segment]) -> str | None:
    for segment in (*zh, *en):
        if segment.speaker:
            return segment.speaker
    return None


def _bead_kind(zh: list[Segment], en: list[Segment]) -> str:
    """The kind shared by all segments of the zh side (the en side for a 0-n bead).

    A side mixing kinds (a heading glued to a sentence) counts as "sentence".
    """
    kinds = {segment.kind for segment in (zh or en)}
    return kinds.pop() if len(kinds) == 1 else "sentence"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"{path} does not exist", "check the path") from exc
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path} is not UTF-8 text", "re-save it as UTF-8") from exc


# ---------------------------------------------------------------------------
# JSONL


def bead_records(alignment: Alignment) -> list[dict]:
    """One dict per bead with the keys of :data:`JSONL_KEYS` (what ``write_jsonl`` writes),
    and those of :data:`JSONL_TIMED_KEYS` when the English segments have start times."""
    timed = any(segment.start is not None for segment in alignment.en.segments)
    records = []
    for number, bead in enumerate(alignment.beads, start=1):
        zh = _side(alignment.zh, bead.zh, number)
        en = _side(alignment.en, bead.en, number)
        records.append(
            {
                "id": bead.id or bead_id(number),
                "zh_ids": list(bead.zh),
                "en_ids": list(bead.en),
                "zh": ZH_JOINER.join(s.text for s in zh),
                "en": EN_JOINER.join(s.text for s in en),
                "score": float(bead.score),  # a numpy float32 would not serialise
                "type": bead.kind,
                "origin": bead.origin,
                "speaker": _bead_speaker(zh, en),
                "kind": _bead_kind(zh, en),
                "mt": bead.mt_text,
                "mt_flags": list(bead.mt_flags),
            }
        )
        if timed:
            starts = [None if s.start is None else round(s.start, TIME_DECIMALS) for s in en]
            records[-1].update(en_start=starts[0] if starts else None, en_starts=starts)
    return records


def record_english(record: Mapping) -> str:
    """The English of a bead record: its original's text; for a bead without one, a reviewer's
    ``translation``, else (origin ``mt``) the machine translation; else ""."""
    if record.get("en_ids") or (record.get("en") or "").strip():
        return record.get("en") or ""
    if record.get("translation"):
        return record["translation"]
    if record.get("origin") == "mt":
        return record.get("mt") or ""
    return ""


def write_jsonl(path: str | Path, alignment: Alignment) -> None:
    """Write one JSON object per bead (UTF-8, not ASCII-escaped); keys in :data:`JSONL_KEYS`."""
    write_records(path, bead_records(alignment))


def write_records(path: str | Path, records: Iterable[Mapping]) -> None:
    """Replace a JSONL file with ``records``, one JSON object per line (UTF-8, not ASCII-escaped)."""
    with atomic_writer(path) as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_jsonl(path: str | Path) -> list[dict]:
    """Read the records written by :func:`write_jsonl`; blank lines are skipped.

    Raises FormatError naming the line if a line is not a JSON object with all
    of :data:`JSONL_KEYS`.
    """
    path = Path(path)
    records = []
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FormatError(f"{path}, line {number}: not JSON ({exc.msg})", "fix or remove this line") from exc
        if not isinstance(record, dict):
            raise FormatError(f"{path}, line {number}: expected a JSON object", "one bead object per line")
        missing = [key for key in JSONL_KEYS if key not in record and key not in JSONL_OPTIONAL]
        if missing:
            raise FormatError(
                f"{path}, line {number}: missing keys {', '.join(missing)}",
                f"each line needs {', '.join(k for k in JSONL_KEYS if k not in JSONL_OPTIONAL)}",
            )
        records.append(record)
    return records


# ---------------------------------------------------------------------------
# TMX 1.4b

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Characters XML 1.0 forbids (C0 controls except tab/LF/CR, lone surrogates, U+FFFE/F).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def zh_language_tag(document: Document) -> str:
    """``"zh-TW"`` for a document detected as traditional script, else ``"zh-CN"``."""
    return script_language_tag(document.script)


def script_language_tag(script: str | None) -> str:
    """The TMX tag of Chinese written in ``script``: ``"zh-TW"`` for traditional, else ``"zh-CN"``."""
    return "zh-TW" if script == "traditional" else "zh-CN"


def _clean(text: str) -> str:
    """Drop XML-illegal characters and fold line breaks into spaces (a seg is one line)."""
    return _one_line(_XML_ILLEGAL.sub("", text))


def _escape_text(text: str) -> str:
    # ">" too, so a "]]>" in the text cannot end anything.
    return _clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(value: str) -> str:
    # Tabs would be normalised to spaces by any XML parser; a character reference keeps them.
    return _escape_text(value).replace('"', "&quot;").replace("'", "&apos;").replace("\t", "&#9;")


def _prop(prop_type: str, value: str, indent: str) -> str:
    return f'{indent}<prop type="{_escape_attr(prop_type)}">{_escape_text(value)}</prop>\n'


def _tuv(lang: str, text: str) -> str:
    return f'      <tuv xml:lang="{_escape_attr(lang)}"><seg>{_escape_text(text)}</seg></tuv>\n'


# Optional record keys written as TMX props (record key -> prop type), when present and not None:
# sentence BLEU / chrF from `bitext score` (or a scored `bitext align`), a review's verdict.
TMX_SCORE_PROPS = (("bleu", "x-bleu"), ("chrf", "x-chrf"))
TMX_RECORD_PROPS = (*TMX_SCORE_PROPS, ("review", "x-review"))
TMX_UNREVIEWED = "pending"  # a review state that is not written (the unit was not reviewed)
_REVIEW_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z")


SENTENCE_KIND = "sentence"  # the segment kind a unit must have to be merged with its neighbours
TMX_ONE_SIDED = ("drop", "keep")  # what --tmx-one-sided takes; the first is the default
TMX_OPTIONS_KEY = "tmx"  # where the TMX options and unit counts go in the header's signature
ZH_SRX_LANG = "zh"  # the language codes SRX rules are looked up with (the map's patterns match these)
EN_SRX_LANG = "en"


@dataclass(frozen=True)
class TmxOptions:
    """How bead records become TMX units.

    ``one_sided``: "drop" (the default) leaves out every unit that lacks a
    human text on a side: 1-0 and 0-1 beads, and a Chinese passage whose only
    English is an unreviewed machine translation (origin ``mt``); a reviewer's
    translation counts as human. "keep" writes one unit per bead as before
    (a one-sided tu has a single tuv; MT English is marked ``x-origin mt``).
    ``split_beads``: cut an n-m bead into sub-units where its pieces pair up
    (see :class:`UnitSplitter`). ``srx``: segmentation rules; the Chinese and
    English of each unit are cut into the rules' segments (the pieces a split
    works on), and consecutive beads whose Chinese the rules see as one segment
    are merged into one unit, so that a CAT tool's own segments find exact matches.
    """

    one_sided: str = TMX_ONE_SIDED[0]
    split_beads: bool = False
    srx: SrxRules | None = None

    def __post_init__(self) -> None:
        if self.one_sided not in TMX_ONE_SIDED:
            raise ValueError(f"one-sided units: {self.one_sided!r}; expected one of {', '.join(TMX_ONE_SIDED)}")

    def describe(self) -> dict:
        return {"one_sided": self.one_sided, "split_beads": self.split_beads,
                "srx": self.srx.describe() if self.srx else None}

    @classmethod
    def recorded(cls, signature: Mapping) -> TmxOptions:
        """The options a result's signature records under ``tmx``, for rewriting its memory after a review or a score.

        The one-sided policy, and the SRX rules if their file is still where it was
        read, unchanged (else they are left out, with a warning in the log). A
        split needs an embedder: ``split_beads`` is not carried over.
        """
        recorded = signature.get(TMX_OPTIONS_KEY)
        recorded = recorded if isinstance(recorded, Mapping) else {}
        one_sided = recorded.get("one_sided")
        srx = None
        source = recorded.get("srx")
        if isinstance(source, Mapping) and source.get("path"):
            from toolkit.formats.srx import read_srx

            try:
                srx = read_srx(source["path"])
            except ToolkitError as exc:
                log.warning("the memory is rewritten without its SRX rules: %s", exc.message)
            if srx is not None and srx.sha256 != source.get("sha256"):
                log.warning("the memory is rewritten without its SRX rules: %s changed since", source["path"])
                srx = None
        return cls(one_sided=one_sided if one_sided in TMX_ONE_SIDED else TMX_ONE_SIDED[0], srx=srx)


class UnitSplitter(Protocol):
    """Pairs the pieces of a bead's two sides, for ``TmxOptions.split_beads`` (see toolkit.align.subunits)."""

    def pieces(self, text: str, lang: str) -> list[str]:
        """A side's text cut into sentences, when neither SRX rules nor the sentence files say where."""

    def split(self, zh: Sequence[str], en: Sequence[str]) -> list[tuple[range, range]]:
        """Monotone parts covering both piece lists, each with both sides non-empty; one part: no split."""


def _english_source(record: Mapping) -> str:
    """Where a bead's English comes from: "original", "translation" (a reviewer's), "mt", or "" (none)."""
    if record.get("en_ids") or (record.get("en") or "").strip():
        return "original"
    if not record_english(record):
        return ""
    return "mt" if record.get("origin") == "mt" else "translation"


def _srx_break_between(srx: SrxRules, left: str, right: str) -> bool:
    """Whether the rules break between two consecutive Chinese texts (judged on their joined neighbourhood)."""
    from toolkit.formats.srx import BEFORE_WINDOW

    tail, head = left[-BEFORE_WINDOW:], right[:BEFORE_WINDOW]
    return srx.breaks_at(tail + ZH_JOINER + head, len(tail), ZH_SRX_LANG)


def _merge_runs(units: list[dict], srx: SrxRules) -> list[dict]:
    """Merge consecutive units whose Chinese the SRX rules keep in one segment.

    A run is merged only if each of its units with Chinese has a human English
    (an original or a reviewer's translation): a merged unit must be a whole
    pair. English-only units inside the run join it (their English lies between).
    """
    out: list[dict] = []
    run: list[dict] = []  # from a unit with Chinese up to the current one

    def close() -> None:
        tail = []
        while run and not run[-1]["zh"]:  # English-only units after the last Chinese are not in the segment
            tail.insert(0, run.pop())
        with_zh = [u for u in run if u["zh"]]
        if len(with_zh) > 1 and all(u["en_source"] in ("original", "translation") for u in with_zh):
            out.append(_merged(run))
        else:
            out.extend(run)
        out.extend(tail)
        run.clear()

    for unit in units:
        if unit["zh"]:
            last = next((u for u in reversed(run) if u["zh"]), None)
            # The records do not keep paragraph breaks, where a CAT tool always cuts: a heading or note
            # stands alone, and a speaker's turn (the unit names its speaker) starts a new segment.
            if (last is None or {last.get("kind", SENTENCE_KIND), unit.get("kind", SENTENCE_KIND)} != {SENTENCE_KIND}
                    or unit.get("speaker") or _srx_break_between(srx, last["zh"], unit["zh"])):
                close()
            run.append(unit)
        elif run:
            run.append(unit)
        else:
            out.append(unit)
    close()
    return out


def _merged(group: list[dict]) -> dict:
    origins = {u["origin"] for u in group}
    zh_count = sum(u["zh_count"] for u in group)
    en_count = sum(u["en_count"] for u in group)
    dates = [str(u["reviewed_at"]) for u in group if u.get("reviewed_at")]
    reviews = {u.get("review") for u in group}
    return {
        "tuid": "+".join(u["tuid"] for u in group),
        "beads": [b for u in group for b in u["beads"]],
        "zh": ZH_JOINER.join(u["zh"] for u in group if u["zh"]),
        "en": EN_JOINER.join(u["en"] for u in group if u["en"]),
        "en_source": "original" if any(u["en_source"] == "original" for u in group) else "translation",
        "origin": "human" if "human" in origins else "aligned",
        "score": min(float(u["score"]) for u in group),
        "type": f"{zh_count}-{en_count}",
        "zh_count": zh_count,
        "en_count": en_count,
        "speaker": next((u["speaker"] for u in group if u.get("speaker")), None),
        "mt_flags": [],
        "review": reviews.pop() if len(reviews) == 1 else None,
        "reviewed_at": max(dates) if dates else None,
        "en_start": next((u["en_start"] for u in group if u.get("en_start") is not None), None),
    }


def _base_unit(record: Mapping) -> dict:
    unit = dict(record)
    unit.update(tuid=str(record["id"]), beads=[record["id"]], en=record_english(record),
                en_source=_english_source(record), zh_count=len(record["zh_ids"]), en_count=len(record["en_ids"]))
    return unit


def _pieces(unit: Mapping, options: TmxOptions, splitter: UnitSplitter | None,
            sentences: tuple[Sequence[str], Sequence[str]] | None) -> tuple[list[str], list[str]]:
    """A unit's two sides as pieces: the SRX segments, else the sentence files' lines, else the splitter's cut."""
    if options.srx is not None:
        return options.srx.segment(unit["zh"], ZH_SRX_LANG), options.srx.segment(unit["en"], EN_SRX_LANG)
    if sentences is not None and len(unit["beads"]) == 1:
        zh = [sentences[0][i] for i in unit.get("zh_ids", ()) if i < len(sentences[0])]
        en = [sentences[1][i] for i in unit.get("en_ids", ()) if i < len(sentences[1])]
        if ZH_JOINER.join(zh) == unit["zh"] and EN_JOINER.join(en) == unit["en"]:
            return zh, en
    if splitter is not None:
        return splitter.pieces(unit["zh"], "zh"), splitter.pieces(unit["en"], "en")
    return [unit["zh"]], [unit["en"]]


def _split(unit: dict, zh: list[str], en: list[str], splitter: UnitSplitter) -> list[dict]:
    parts = splitter.split(zh, en)
    if len(parts) < 2:
        return [unit]
    out = []
    for number, (zh_part, en_part) in enumerate(parts, start=1):
        if not zh_part or not en_part:
            raise ValueError(f"a splitter returned a part with an empty side for tu {unit['tuid']}")
        out.append({**unit, "tuid": f"{unit['tuid']}.{number}",
                    "zh": ZH_JOINER.join(zh[i] for i in zh_part), "en": EN_JOINER.join(en[i] for i in en_part),
                    "type": f"{len(zh_part)}-{len(en_part)}", "zh_count": len(zh_part), "en_count": len(en_part),
                    "bleu": None, "chrf": None})  # a pair's sentence scores do not describe its parts
    return out


def tmx_units(records: Sequence[Mapping], options: TmxOptions = TmxOptions(), splitter: UnitSplitter | None = None,
              sentences: tuple[Sequence[str], Sequence[str]] | None = None) -> tuple[list[dict], dict]:
    """The TMX units of bead records under ``options``, and counts of what was done.

    Each unit is a record-like dict: ``tuid`` (the bead number; ``12+13`` for
    beads merged by SRX, ``12.1``, ``12.2`` for the parts of a split bead),
    ``beads`` (the bead numbers it comes from), ``zh``, ``en`` (the English
    written: original, reviewer's translation or MT), ``en_source`` and the
    record's own keys. ``sentences`` are the Chinese and English sentence texts
    by index (the result's sentence files), the pieces of a split when there are
    no SRX rules. ``splitter`` is needed for ``options.split_beads``.
    Counts: ``beads``, ``merged`` (beads merged into fewer units), ``split``
    (beads cut into parts), ``one_sided`` and ``mt`` (units left out), ``units``.
    """
    if options.split_beads and splitter is None:
        raise ValueError("split_beads needs a splitter")
    units = [_base_unit(record) for record in records]
    counts = {"beads": len(units), "merged": 0, "split": 0, "one_sided": 0, "mt": 0}
    if options.srx is not None:
        merged = _merge_runs(units, options.srx)
        counts["merged"] = sum(len(u["beads"]) for u in merged if len(u["beads"]) > 1)
        units = merged
    if options.split_beads:
        cut = []
        for unit in units:
            if unit["zh"] and unit["en_source"] in ("original", "translation"):
                zh, en = _pieces(unit, options, splitter, sentences)
                if len(zh) > 1 or len(en) > 1:
                    parts = _split(unit, zh, en, splitter)
                    counts["split"] += len(parts) > 1
                    cut.extend(parts)
                    continue
            cut.append(unit)
        units = cut
    if options.one_sided == "drop":
        kept = []
        for unit in units:
            if not unit["zh"] or not unit["en"]:
                counts["one_sided"] += 1
            elif unit["en_source"] == "mt":
                counts["mt"] += 1
            else:
                kept.append(unit)
        units = kept
    counts["units"] = len(units)
    return units, counts


def write_tmx(path: str | Path, alignment: Alignment, zh_lang: str | None = None,
              options: TmxOptions = TmxOptions(), splitter: UnitSplitter | None = None) -> dict:
    """Write the alignment as a TMX 1.4b memory (see :func:`write_tmx_records`); returns the unit counts.

    The Chinese tag is ``zh_lang`` or, by default, :func:`zh_language_tag`.
    """
    return write_tmx_records(path, bead_records(alignment), alignment.signature,
                             zh_lang or zh_language_tag(alignment.zh), options, splitter,
                             (alignment.zh.texts(), alignment.en.texts()))


def write_tmx_records(path: str | Path, records: Sequence[Mapping], signature: Mapping, zh_lang: str,
                      options: TmxOptions = TmxOptions(), splitter: UnitSplitter | None = None,
                      sentences: tuple[Sequence[str], Sequence[str]] | None = None,
                      header: Callable[[list[dict]], Mapping] | None = None) -> dict:
    """Write bead records (:func:`bead_records`, possibly with extra keys) as a TMX 1.4b memory.

    The units are those of :func:`tmx_units` (by default: one per bead that has
    a human text on both sides). Returns its counts, which also go, with the
    options, into the header's signature under ``tmx``.

    Each ``<tu>`` has ``tuid`` the unit's, ``changedate`` its ``reviewed_at``
    (if any), and props ``x-origin``, ``x-score``, ``x-bead-type``, ``x-speaker``
    (when known), ``x-mt-flags`` (when any), ``x-en-start`` (the English's start in
    seconds, when timed), ``x-beads`` (the bead numbers, for
    a merged or split unit) and those of :data:`TMX_RECORD_PROPS` the record has
    (a ``review`` of "pending" is not written); the header carries ``signature``
    as JSON in ``x-signature``. A unit with an empty side (``one_sided="keep"``)
    gets just the tuv it has. XML-illegal control characters are dropped and line
    breaks become spaces. The file validates against the TMX 1.4b DTD.
    ``header(units)`` may add entries to the header's signature.
    """
    units, counts = tmx_units(records, options, splitter, sentences)
    signature = {**signature, TMX_OPTIONS_KEY: {**options.describe(), "counts": counts}}
    if header is not None:
        signature.update(header(units))
    signature_json = json.dumps(signature, sort_keys=True, ensure_ascii=False, default=str)
    header_attrs = {
        "creationtool": TMX_CREATION_TOOL,
        "creationtoolversion": __version__,
        "segtype": "sentence",
        "o-tmf": TMX_CREATION_TOOL,
        "adminlang": "en",
        "srclang": zh_lang,
        "datatype": "plaintext",
    }
    with atomic_writer(path) as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write('<!DOCTYPE tmx SYSTEM "tmx14.dtd">\n')
        out.write('<tmx version="1.4">\n')
        attrs = " ".join(f'{key}="{_escape_attr(value)}"' for key, value in header_attrs.items())
        out.write(f"  <header {attrs}>\n")
        out.write(_prop("x-signature", signature_json, "    "))
        out.write("  </header>\n  <body>\n")
        for unit in units:
            changed = _REVIEW_TIME.fullmatch(str(unit.get("reviewed_at") or ""))
            date = ' changedate="{}{}{}T{}{}{}Z"'.format(*changed.groups()) if changed else ""
            out.write(f'    <tu tuid="{_escape_attr(unit["tuid"])}"{date}>\n')
            out.write(_prop("x-origin", unit["origin"], "      "))
            out.write(_prop("x-score", f"{float(unit['score']):.{SCORE_DECIMALS}f}", "      "))
            out.write(_prop("x-bead-type", unit["type"], "      "))
            if unit.get("speaker"):
                out.write(_prop("x-speaker", unit["speaker"], "      "))
            if unit.get("mt_flags"):
                out.write(_prop("x-mt-flags", " ".join(unit["mt_flags"]), "      "))
            if unit.get("en_start") is not None:
                out.write(_prop("x-en-start", f"{float(unit['en_start']):.{TIME_DECIMALS}f}", "      "))
            if unit["tuid"] != str(unit["beads"][0]):
                out.write(_prop("x-beads", " ".join(str(b) for b in unit["beads"]), "      "))
            for key, prop_type in TMX_RECORD_PROPS:
                if unit.get(key) is not None and not (key == "review" and unit[key] == TMX_UNREVIEWED):
                    out.write(_prop(prop_type, _number(unit[key]), "      "))
            if unit["zh"]:
                out.write(_tuv(zh_lang, unit["zh"]))
            if unit["en"]:
                out.write(_tuv("en", unit["en"]))
            out.write("    </tu>\n")
        out.write("  </body>\n</tmx>\n")
    return counts


def _number(value) -> str:
    """A prop value for a number: as written in the record (``12.5``), never ``1.25e+01``."""
    return f"{value:g}" if isinstance(value, float) and abs(value) < 1e15 else str(value)


# Inline elements whose content is native markup (e.g. RTF codes), not text. A <sub>
# inside them is a separate flow (a footnote, an alt text), not part of the sentence.
_TMX_CODE_ELEMENTS = frozenset({"bpt", "ept", "it", "ph", "ut"})
# Primary language subtags (ISO 639-1, -2/B, -2/T, -3) read as our two sides.
_TMX_SIDES = {"zh": "zh", "zho": "zh", "chi": "zh", "cmn": "zh", "en": "en", "eng": "en"}
# Chinese script subtags and regions: which script a tuv's tag says it is in.
_TRADITIONAL_TAGS = frozenset({"hant", "tw", "hk", "mo"})
_SIMPLIFIED_TAGS = frozenset({"hans", "cn", "sg", "my"})


@dataclass(frozen=True)
class TmxUnit:
    """One ``<tu>`` as read back: its zh and en text (None if absent), their tags, props, notes.

    ``props`` maps each ``<prop type>`` of the tu to its text (the first one of a
    type wins); ``attributes`` are the tu's XML attributes (``tuid``, ``changedate``...).
    """

    zh: str | None
    en: str | None
    props: dict
    zh_lang: str | None = None
    en_lang: str | None = None
    notes: tuple[str, ...] = ()
    attributes: dict = field(default_factory=dict)

    @property
    def tuid(self) -> str | None:
        return self.attributes.get("tuid")


@dataclass(frozen=True)
class TranslationMemory:
    """A TMX file as read back: header attributes and props, and its units in file order."""

    header: dict
    header_props: dict
    units: tuple[TmxUnit, ...]


def _local(tag) -> str:
    """``{ns}tu`` -> ``tu``: some tools put the TMX elements in a namespace."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def tmx_side(lang: str) -> str | None:
    """``"ZH-Hans"``, ``"zh_TW"``, ``"zho"`` -> ``"zh"``; ``"EN-us"``, ``"eng"`` -> ``"en"``; others None."""
    primary = re.split(r"[-_]", lang.strip().lower(), maxsplit=1)[0]
    return _TMX_SIDES.get(primary)


def tmx_zh_script(lang: str) -> str | None:
    """The script a Chinese tag names: ``zh-TW``/``zh-Hant`` -> traditional, ``zh-CN``/``zh-Hans`` -> simplified, bare ``zh`` None."""
    subtags = set(re.split(r"[-_]", lang.strip().lower())[1:])
    if subtags & _TRADITIONAL_TAGS and not subtags & {"hans"}:
        return "traditional"
    if subtags & _SIMPLIFIED_TAGS:
        return "simplified"
    return None


_WRAPPED_LINE = re.compile(rf"[ \t]*(?:{_LINE_BREAKS.pattern})[ \t]*")


def _seg_parts(element: ET.Element, parts: list[str]) -> None:
    """Append the text pieces of ``element``'s content to ``parts``, depth first.

    Iterative, with a stack of (children, tail) pairs: a seg nested thousands deep (a hostile
    or broken memory) must not exhaust Python's recursion limit.
    """
    stack: list[tuple] = [(iter(element), None)]
    while stack:
        children, _ = stack[-1]
        child = next(children, None)
        if child is None:
            _, tail = stack.pop()
            if tail is not None:
                parts.append(tail)
            continue
        if _local(child.tag) not in _TMX_CODE_ELEMENTS:
            parts.append(child.text or "")
            stack.append((iter(child), child.tail or ""))  # its tail follows its content
            continue
        if parts and parts[-1].endswith(" ") and (child.tail or "").startswith(" "):
            # "a <ph/> b": the code stood between two spaces; keep one of them.
            parts[-1] = parts[-1].rstrip(" ") + " "
            parts.append(child.tail.lstrip(" "))
            continue
        parts.append(child.tail or "")


def _seg_text(seg: ET.Element) -> str:
    """The text of a seg: inline codes dropped (their content is markup), ``<hi>`` and such kept.

    A line break and the spaces around it become one space (a seg is one line, as
    write_tmx writes it; a tool that wraps long segs indents the next line) and the
    ends are stripped; everything else, tabs included, is kept as written.
    """
    parts = [seg.text or ""]
    _seg_parts(seg, parts)
    return _WRAPPED_LINE.sub(" ", "".join(parts)).strip()


def read_tmx_memory(path: str | Path) -> TranslationMemory:
    """Read a TMX memory (1.1 to 1.4b, as written by us or a CAT tool) with everything we use from it.

    A tuv counts for a side by its language tag (``xml:lang``, or TMX 1.1's ``lang``),
    any case and form: ``zh``, ``ZH-CN``, ``zh-Hans``, ``zh_TW``, ``zho`` are Chinese;
    ``en``, ``EN-US``, ``eng`` English; other languages are ignored. The first tuv of
    a side wins, in whatever order the tuvs come. A seg's text drops inline codes
    (``bpt``, ``ept``, ``it``, ``ph``, ``ut``: native markup) and keeps the text of
    ``hi`` and other elements; an empty seg counts as a missing side. Any encoding
    XML declares (UTF-16 with BOM as Trados writes) is read. Parsed with defusedxml:
    entity declarations (billion laughs, external entities) are refused. Raises InputError if
    the file is missing, FormatError if it is not XML, not TMX or declares entities.
    """
    import defusedxml
    import defusedxml.ElementTree as SafeET  # entities refused by us, whatever the system's expat allows

    path = Path(path)
    try:
        root = SafeET.parse(path).getroot()
    except defusedxml.DefusedXmlException as exc:
        raise FormatError(f"{path} declares XML entities, refused for safety ({type(exc).__name__})",
                          "a TMX memory needs no entity declarations; remove the <!DOCTYPE ...[...]> block") from exc
    except FileNotFoundError as exc:
        raise InputError(f"{path} does not exist", "check the path") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path} is a folder, not a TMX file", "give the .tmx file") from exc
    except ET.ParseError as exc:
        raise FormatError(f"{path} is not well-formed XML: {exc}", "is this really a TMX file?") from exc
    bodies = _children(root, "body")
    if _local(root.tag) != "tmx" or not bodies:
        raise FormatError(f"{path} is not a TMX file (root <{_local(root.tag)}>)", "expected <tmx> with a <body>")
    headers = _children(root, "header")
    header = headers[0] if headers else ET.Element("header")
    units = []
    for tu in bodies[0].iter():
        if _local(tu.tag) != "tu":
            continue
        props: dict[str, str] = {}
        for prop in _children(tu, "prop"):
            props.setdefault(prop.get("type", ""), prop.text or "")
        texts: dict[str, str] = {}
        langs: dict[str, str] = {}
        for tuv in _children(tu, "tuv"):
            lang = tuv.get(_XML_LANG) or tuv.get("lang") or ""
            side = tmx_side(lang)
            segs = _children(tuv, "seg")
            text = _seg_text(segs[0]) if segs else ""
            if side and text and side not in texts:
                texts[side], langs[side] = text, lang
        units.append(TmxUnit(
            zh=texts.get("zh"), en=texts.get("en"), props=props, zh_lang=langs.get("zh"), en_lang=langs.get("en"),
            notes=tuple((note.text or "").strip() for note in _children(tu, "note")), attributes=dict(tu.attrib),
        ))
    header_props: dict[str, str] = {}
    for prop in _children(header, "prop"):
        header_props.setdefault(prop.get("type", ""), prop.text or "")
    return TranslationMemory(header=dict(header.attrib), header_props=header_props, units=tuple(units))


def read_tmx(path: str | Path) -> list[tuple[str | None, str | None, dict]]:
    """Read a TMX memory back as ``(zh, en, props)`` per ``<tu>``, in file order.

    The short form of :func:`read_tmx_memory` (see there for what is accepted): a
    side is None when the tu has no non-empty tuv in that language; ``props`` maps
    each ``<prop type>`` of the tu to its text.
    """
    return [(unit.zh, unit.en, unit.props) for unit in read_tmx_memory(path).units]


# ---------------------------------------------------------------------------
# signature and everything at once


def write_signature(path: str | Path, signature: dict) -> None:
    """Write the signature as indented JSON with sorted keys (non-JSON values as strings)."""
    text = json.dumps(signature, sort_keys=True, indent=2, ensure_ascii=False, default=str)
    atomic_write_text(path, text + "\n")


def read_signature(path: str | Path) -> dict:
    """Read a signature written by :func:`write_signature`."""
    path = Path(path)
    try:
        signature = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path} is not JSON: {exc.msg}", "a signature is one JSON object") from exc
    if not isinstance(signature, dict):
        raise FormatError(f"{path} is not a JSON object", "a signature is one JSON object")
    return signature


def output_paths(out_dir: str | Path, name: str) -> dict[str, Path]:
    """The files :func:`write_alignment` writes for ``name``, by format."""
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise ToolkitError(
            f"alignment name {name!r} cannot be used as a file name",
            "name the document pair without path separators",
        )
    out_dir = Path(out_dir)
    suffixes = {
        "align": ".align",
        "zh": ".zh.txt",
        "en": ".en.txt",
        "jsonl": ".jsonl",
        "tmx": ".tmx",
        "signature": ".signature.json",
    }
    return {key: out_dir / f"{name}{suffix}" for key, suffix in suffixes.items()}


def write_alignment(out_dir: str | Path, alignment: Alignment,
                    records: Sequence[Mapping] | None = None,
                    extra: Mapping[str, Callable[[Path], None]] | None = None,
                    keep_others: bool = True, aside: Iterable[str] = (), aside_to: Path | None = None,
                    command: str = "", tmx: TmxOptions | None = None,
                    splitter: UnitSplitter | None = None) -> list[Path]:
    """Write every format for ``alignment`` into ``out_dir`` (created if needed), as one set.

    ``records`` replaces :func:`bead_records` in the JSONL and TMX: the same
    records with keys added, e.g. the ``bleu`` and ``chrf`` of a scored run.
    ``extra`` maps more file names of the set to functions writing them at a path
    (e.g. ``NAME.score.json``). The set is written as a whole
    (:mod:`toolkit.core.resultset`): under the folder's lock, staged, then committed
    with its manifest, so readers see the old set or the new one, never a mix; see
    :func:`toolkit.core.resultset.staged_set` for ``keep_others``, ``aside`` and ``aside_to``.
    ``tmx`` (and ``splitter``, for a split) say how the TMX is made; by default,
    as the signature records (:meth:`TmxOptions.recorded`).
    Returns the paths in this order: ``.align``, ``.zh.txt``, ``.en.txt``,
    ``.jsonl``, ``.tmx``, ``.signature.json``, then those of ``extra``.
    """
    paths = output_paths(out_dir, alignment.name)
    own = bead_records(alignment)  # fail on beads that do not fit the documents before writing any file
    if records is None:
        records = own
    elif [r["id"] for r in records] != [r["id"] for r in own]:
        raise ValueError(f"{len(records)} records given for the {len(own)} beads of {alignment.name}")
    extra = dict(extra or {})
    out_dir = Path(out_dir)
    with FolderLock(out_dir, command or "bitext"):
        recover(out_dir, alignment.name, set_members(alignment.name))
        with staged_set(out_dir, alignment.name, command, keep_others=keep_others, aside=aside,
                        aside_to=aside_to, members=set_members(alignment.name)) as staging:
            staged = output_paths(staging, alignment.name)
            write_align(staged["align"], alignment.beads)
            write_sentences(staged["zh"], alignment.zh)
            write_sentences(staged["en"], alignment.en)
            write_records(staged["jsonl"], records)
            write_tmx_records(staged["tmx"], records, alignment.signature, zh_language_tag(alignment.zh),
                              tmx or TmxOptions.recorded(alignment.signature), splitter,
                              (alignment.zh.texts(), alignment.en.texts()))
            write_signature(staged["signature"], alignment.signature)
            for filename, writer in extra.items():
                writer(staging / filename)
    return [*paths.values(), *(out_dir / filename for filename in extra)]


# Files of a set besides those of output_paths: the score report (toolkit.score.metrics.REPORT_SUFFIX).
EXTRA_SET_SUFFIXES = (".score.json",)


def set_members(name: str) -> list[str]:
    """The file names a result set for ``name`` may hold (for cleaning up after an interrupted write)."""
    return [path.name for path in output_paths(".", name).values()] + [f"{name}{s}" for s in EXTRA_SET_SUFFIXES]
