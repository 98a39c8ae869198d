"""Reviewing an aligned result: operations on beads, journaled, replayable, exportable.

A :class:`ReviewSession` opens the folder written by ``bitext align``. Every
change is one *operation* (a small dict such as ``{"op": "merge_next",
"bead": 17}``) appended to ``NAME.review.journal`` (JSON lines) in that folder and fsynced
before it takes effect, so a crash loses nothing. The journal's first line
holds the alignment as it was when the review started (and the sha256 of its
``.align``, ``.zh.txt`` and ``.en.txt``), so replaying the journal always
gives the current state, even after an export has rewritten the folder; undo
and redo are journal entries too.

Bead numbers are 1-based, as the ``.align`` line number, and always refer
to the current state (they shift after a merge or split). Bead *ids*
(``"b243"``, the JSONL ``id``) are stable: the aligner gives ``b1..bN``, a
merge keeps the first bead's id, a split keeps the id for its first part and
gives the second a new one, one more than the highest id the review has ever
used (recorded in the journal entry as ``new_id``, so replay gives the same
ids, and never reused, even after an undo). In the state, a bead holds its
segments themselves; sentence indices are assigned only on export, so an
edit that changes the number of sentences on a side shifts later indices.

Review statuses: ``pending``, ``approved``, ``edited`` (text or structure
changed by the reviewer), ``no-counterpart`` (a one-sided bead confirmed).
Every reviewed bead has origin ``human`` and a ``reviewed_at`` UTC timestamp.
A bead with no English original keeps its English in ``translation``: the
machine's output until a reviewer edits it (``mt_text`` keeps the machine's
output as produced). Re-translating such a bead is an operation too: the
journal keeps the model's output, so replay never needs the model.

Where the reviewer stopped (the current bead of the full-screen UI) is kept
apart from the journal in ``NAME.review.cursor``, a small JSON file replaced
atomically: moving around is not a change to the alignment.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tempfile
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

from toolkit.core.atomic import atomic_write_text
from toolkit.core.errors import FormatError, InputError, ToolkitError
from toolkit.core.records import Alignment, Bead, Document, Segment, bead_id, bead_id_number, record_bead_id
from toolkit.core.resultset import verify
from toolkit.formats.writers import (bead_records, output_paths, set_members, read_align, read_jsonl, read_signature, write_align,
                      write_alignment, write_sentences)
from toolkit.review.journal import Journal, JournalError
from toolkit.score.metrics import SCORE_KEYS

log = logging.getLogger(__name__)

# Not ".jsonl": `bitext score` and `bitext export` take the folder's one *.jsonl file as the beads.
JOURNAL_SUFFIX = ".review.journal"
CURSOR_SUFFIX = ".review.cursor"
JOURNAL_FORMAT = "bitext-review"
JOURNAL_VERSION = 1
REVIEW_STATES = ("pending", "approved", "edited", "no-counterpart")
SIDES = ("zh", "en")
DIRECTIONS = ("prev", "next")
IDENTITY_FILES = ("align", "zh", "en")  # what identifies an alignment: beads and the sentences they index
LOW_SCORE = 0.5  # what the review UI's "low score" filter means
# A pairing made by a person is taken as certain; a one-sided bead scores 0 as the aligner's do.
HUMAN_PAIR_SCORE = 1.0


class ReviewError(ToolkitError):
    """An operation that cannot be done: a bead that does not exist, a change that would lose text."""


def utc_now() -> str:
    """The current time as ``2026-11-22T16:31:24Z`` (what the journal and JSONL record)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ReviewBead:
    """A bead under review: its segments (not indices), score, origin and review status."""

    zh: tuple[Segment, ...]
    en: tuple[Segment, ...]
    score: float = 0.0
    origin: str = "aligned"
    review: str = "pending"
    reviewed_at: str | None = None
    mt_text: str | None = None
    mt_flags: tuple[str, ...] = ()
    translation: str | None = None  # English for Chinese with no English original
    mt_model: str | None = None  # the translator that made mt_text, when a review re-translated it
    id: str = ""  # the stable bead id, "b243"

    def __post_init__(self) -> None:
        if not self.zh and not self.en:
            raise ValueError("a bead needs at least one sentence on one side")
        if self.review not in REVIEW_STATES:
            raise ValueError(f"unknown review state {self.review!r}; expected one of {REVIEW_STATES}")

    @property
    def kind(self) -> str:
        return f"{len(self.zh)}-{len(self.en)}"

    @property
    def zh_text(self) -> str:
        return "".join(s.text for s in self.zh)

    @property
    def en_text(self) -> str:
        """The English original, or the translation of a bead that has none."""
        return " ".join(s.text for s in self.en) if self.en else (self.translation or "")

    @property
    def export_origin(self) -> str:
        """``human`` once a person approved or wrote the bead; a machine translation confirmed to have
        no English original (no-counterpart) is still the machine's words, so it stays ``mt``."""
        if self.review == "pending":
            return self.origin
        if (self.review == "no-counterpart" and self.origin == "mt" and not self.en
                and self.translation == self.mt_text):
            return "mt"
        return "human"

    @property
    def translatable(self) -> bool:
        """Chinese with no English original: what machine translation fills (and may re-translate)."""
        return bool(self.zh) and not self.en


@dataclass(frozen=True)
class Change:
    """``beads[start:start + len(old)]`` becomes ``new``; undone by the reverse."""

    start: int
    old: tuple[ReviewBead, ...]
    new: tuple[ReviewBead, ...]


@dataclass(frozen=True)
class ReviewStatus:
    """How far the review has got; ``machine_translated`` counts pending beads with MT English."""

    beads: int
    approved: int
    edited: int
    no_counterpart: int
    pending: int
    machine_translated: int
    operations: int

    def format(self) -> str:
        return (f"{self.beads} beads: {self.approved} approved, {self.edited} edited, "
                f"{self.no_counterpart} no counterpart, {self.pending} pending "
                f"({self.machine_translated} machine-translated); {self.operations} operations in effect")


@dataclass(frozen=True)
class Row:
    """One line of a listing: a bead with its 1-based number."""

    number: int
    bead: ReviewBead


# ---------------------------------------------------------------------------
# operations: pure functions from (op, beads) to a Change


def _number(op: dict, key: str, beads: Sequence[ReviewBead]) -> int:
    value = op.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ReviewError(f"bead number must be a whole number, not {value!r}", "bead numbers are the JSONL ids")
    if not 1 <= value <= len(beads):
        raise ReviewError(f"bead {value} does not exist (the alignment has {len(beads)} beads)",
                          f"bead numbers run from 1 to {len(beads)}, as shown by --list")
    return value


def _reviewed(bead: ReviewBead, review: str, at: str) -> ReviewBead:
    return replace(bead, review=review, reviewed_at=at)


def _rebuilt(id: str, zh: tuple[Segment, ...], en: tuple[Segment, ...], at: str,
             translation: str | None = None, mt_text: str | None = None,
             mt_flags: tuple[str, ...] = ()) -> ReviewBead:
    """A bead whose pairing a person made; an English original replaces any translation."""
    if en:
        translation, mt_text, mt_flags = None, None, ()
    return ReviewBead(zh=zh, en=en, score=HUMAN_PAIR_SCORE if zh and en else 0.0, origin="human",
                      review="edited", reviewed_at=at, mt_text=mt_text, mt_flags=mt_flags, translation=translation,
                      id=id)


def _approve(op: dict, beads: Sequence[ReviewBead], at: str) -> Change:
    first = _number(op, "first", beads)
    last = _number(op, "last", beads) if op.get("last") is not None else first
    if last < first:
        raise ReviewError(f"bead range {first}-{last} runs backwards", "give the lower number first, e.g. 12-40")
    old = tuple(beads[first - 1:last])
    new = tuple(_reviewed(b, "approved", at) if b.review == "pending" else b for b in old)
    return Change(first - 1, old, new)


def _sentences(text: object) -> list[str]:
    """An edited side: one sentence per non-blank line of ``text``."""
    if not isinstance(text, str):
        raise ReviewError(f"the new text must be a string, not {text!r}", "pass the text in quotes")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _set_side(side: str) -> Callable[[dict, Sequence[ReviewBead], str], Change]:
    def set_text(op: dict, beads: Sequence[ReviewBead], at: str) -> Change:
        n = _number(op, "bead", beads)
        bead = beads[n - 1]
        texts = _sentences(op.get("text"))
        segments = getattr(bead, side)
        other = bead.en if side == "zh" else bead.zh
        if side == "en" and not bead.en:
            # No English original: the text is this Chinese passage's translation.
            translation = " ".join(texts) or None
            if translation == bead.translation:
                return Change(n - 1, (bead,), (bead,))
            return Change(n - 1, (bead,), (replace(_reviewed(bead, "edited", at), translation=translation),))
        if not segments:
            raise ReviewError(f"bead {n} has no Chinese sentence to edit",
                              "a 0-n bead's English has no Chinese counterpart; mark it with --no-counterpart, "
                              "or merge it with a neighbour")
        if not texts and not other:
            raise ReviewError(f"editing bead {n} this way would empty both sides",
                              "a bead needs text on one side; merge it with a neighbour instead")
        if texts == [s.text for s in segments]:
            return Change(n - 1, (bead,), (bead,))
        first = segments[0]
        new_segments = tuple(replace(first, text=t, norm=t, speaker=first.speaker if i == 0 else None)
                             for i, t in enumerate(texts))
        edited = replace(_reviewed(bead, "edited", at), **{side: new_segments})
        if not new_segments:  # now one-sided: scored 0 like the aligner's omissions
            edited = replace(edited, score=0.0)
        return Change(n - 1, (bead,), (edited,))

    return set_text


def _merge(a: ReviewBead, b: ReviewBead, at: str) -> ReviewBead:
    translations = [t for t in (a.translation, b.translation) if t]
    mts = [t for t in (a.mt_text, b.mt_text) if t]
    return _rebuilt(a.id, a.zh + b.zh, a.en + b.en, at, " ".join(translations) or None, " ".join(mts) or None,
                    tuple(dict.fromkeys(a.mt_flags + b.mt_flags)))


def _merge_next(op: dict, beads: Sequence[ReviewBead], at: str) -> Change:
    n = _number(op, "bead", beads)
    if n == len(beads):
        raise ReviewError(f"bead {n} is the last bead; there is no next bead to merge it with",
                          "merge it with the previous bead instead")
    return Change(n - 1, (beads[n - 1], beads[n]), (_merge(beads[n - 1], beads[n], at),))


def _merge_prev(op: dict, beads: Sequence[ReviewBead], at: str) -> Change:
    n = _number(op, "bead", beads)
    if n == 1:
        raise ReviewError("bead 1 is the first bead; there is no previous bead to merge it with",
                          "merge it with the next bead instead")
    return Change(n - 2, (beads[n - 2], beads[n - 1]), (_merge(beads[n - 2], beads[n - 1], at),))


def _split(op: dict, beads: Sequence[ReviewBead], at: str) -> Change:
    n = _number(op, "bead", beads)
    bead = beads[n - 1]
    cuts = []
    for side in SIDES:
        at_value, size = op.get(f"{side}_at"), len(getattr(bead, side))
        if not isinstance(at_value, int) or isinstance(at_value, bool) or not 0 <= at_value <= size:
            raise ReviewError(f"cannot split bead {n} after {at_value!r} {side} sentences: it has {size}",
                              f"give a number from 0 to {size} for the {side} side")
        cuts.append(at_value)
    zh_at, en_at = cuts
    first, second = (bead.zh[:zh_at], bead.en[:en_at]), (bead.zh[zh_at:], bead.en[en_at:])
    if not any(first) or not any(second):
        raise ReviewError(f"splitting bead {n} ({bead.kind}) after {zh_at} zh and {en_at} en sentences "
                          "would leave an empty bead",
                          "each part needs at least one sentence on one side")
    new_id = op.get("new_id")
    if bead_id_number(new_id) is None or any(b.id == new_id for b in beads):
        raise ReviewError(f"a split needs a new, unused bead id for its second part, not {new_id!r}",
                          "the review session gives one; a journal line was edited by hand?")
    return Change(n - 1, (bead,), (_rebuilt(bead.id, *first, at), _rebuilt(new_id, *second, at)))


def _move(op: dict, beads: Sequence[ReviewBead], at: str) -> Change:
    n = _number(op, "bead", beads)
    side, to = op.get("side"), op.get("to")
    if side not in SIDES:
        raise ReviewError(f"unknown side {side!r}", f"choose one of {', '.join(SIDES)}")
    if to not in DIRECTIONS:
        raise ReviewError(f"unknown direction {to!r}", f"choose one of {', '.join(DIRECTIONS)}")
    bead = beads[n - 1]
    segments = getattr(bead, side)
    if not segments:
        raise ReviewError(f"bead {n} has no {side} sentence to move", "choose the other side")
    neighbour = n if to == "next" else n - 2
    if not 0 <= neighbour < len(beads):
        raise ReviewError(f"bead {n} has no {'next' if to == 'next' else 'previous'} bead to move a sentence into", "move it the other way")
    other = beads[neighbour]
    if to == "next":
        moved, kept = segments[-1:], segments[:-1]
        received = moved + getattr(other, side)
    else:
        moved, kept = segments[:1], segments[1:]
        received = getattr(other, side) + moved
    rest = {"zh": bead.zh, "en": bead.en, side: kept}
    if not rest["zh"] and not rest["en"]:
        raise ReviewError(f"moving the last sentence out of bead {n} would empty it",
                          f"merge bead {n} with the {'next' if to == 'next' else 'previous'} bead instead")
    gets = {"zh": other.zh, "en": other.en, side: received}
    pair = (_rebuilt(bead.id, rest["zh"], rest["en"], at), _rebuilt(other.id, gets["zh"], gets["en"], at))
    if to == "prev":
        return Change(n - 2, (other, bead), (pair[1], pair[0]))
    return Change(n - 1, (bead, other), pair)


def _no_counterpart(op: dict, beads: Sequence[ReviewBead], at: str) -> Change:
    n = _number(op, "bead", beads)
    bead = beads[n - 1]
    if bead.zh and bead.en:
        raise ReviewError(f"bead {n} is {bead.kind}; only a bead with one empty side can have no counterpart",
                          f"split bead {n} or move its sentences first")
    new = bead if bead.review == "no-counterpart" else _reviewed(bead, "no-counterpart", at)
    return Change(n - 1, (bead,), (new,))


def _retranslate(op: dict, beads: Sequence[ReviewBead], at: str) -> Change:
    """A new machine translation of a bead's Chinese; it is pending again until a person approves it."""
    n = _number(op, "bead", beads)
    bead = beads[n - 1]
    if not bead.translatable:
        raise ReviewError(f"bead {n} is {bead.kind}; only a bead with Chinese and no English original is "
                          "machine-translated", "edit its English with set-en instead")
    if op.get("source") != bead.zh_text:
        raise ReviewError(f"bead {n}'s Chinese is not the text that was translated",
                          "translate the bead again")
    text, flags, model = op.get("text"), op.get("flags", []), op.get("model")
    if not isinstance(text, str) or not text.strip():
        raise ReviewError(f"the translator gave no English for bead {n}", "try another model with --mt")
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise ReviewError(f"bad translation flags {flags!r}", "flags are a list of names")
    new = replace(bead, origin="mt", review="pending", reviewed_at=None, mt_text=text, mt_flags=tuple(flags),
                  translation=text, mt_model=model if isinstance(model, str) else None, score=0.0)
    return Change(n - 1, (bead,), (new,))


OPERATIONS: dict[str, Callable[[dict, Sequence[ReviewBead], str], Change]] = {
    "approve": _approve,
    "set_en": _set_side("en"),
    "set_zh": _set_side("zh"),
    "merge_next": _merge_next,
    "merge_prev": _merge_prev,
    "split": _split,
    "move": _move,
    "no_counterpart": _no_counterpart,
    "retranslate": _retranslate,
}
HISTORY_OPS = ("undo", "redo")


def parse_range(text: str) -> tuple[int, int]:
    """``"12-40"`` -> ``(12, 40)``, ``"7"`` -> ``(7, 7)``; anything else is a ReviewError."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", text)
    if match is None:
        raise ReviewError(f"not a bead range: {text!r}", "write N or A-B, e.g. 12-40")
    first = int(match.group(1))
    return first, int(match.group(2)) if match.group(2) else first


def recorded_mt_spec(signature: dict) -> str | None:
    """The ``--mt`` an alignment was translated with, from its signature; None if it used none.

    The command line's ``--mt`` value comes first (it is what the user typed:
    a registry name such as ``qwen1.5b`` stays one); otherwise the recorded
    model's description up to its settings, e.g. ``seq2seq:Helsinki-NLP/opus-mt-zh-en``.
    """
    import shlex

    try:
        words = shlex.split(str(signature.get("command") or ""))
    except ValueError:
        words = []
    for i, word in enumerate(words):
        if word == "--mt" and i + 1 < len(words):
            return words[i + 1] if words[i + 1] != "none" else None
        if word.startswith("--mt="):
            return word[len("--mt="):] if word != "--mt=none" else None
    described = signature.get("mt")
    if isinstance(described, str) and described.strip():
        spec = described.split(" (", 1)[0].strip()
        return spec if spec and not spec.startswith("none") else None
    return None


# ---------------------------------------------------------------------------
# loading an aligned folder


def _published(out_dir: Path, name: str) -> bool:
    """A published edition: NAME's JSONL, TMX and signature without the ``.align`` and sentence files."""
    paths = output_paths(out_dir, name)
    return all(paths[key].is_file() for key in paths if key not in IDENTITY_FILES) and \
        not any(paths[key].exists() for key in IDENTITY_FILES)


def find_alignment_name(out_dir: Path) -> str:
    """The NAME of the single alignment in ``out_dir`` (a folder written by ``bitext align``, or a
    published edition that keeps only the JSONL, TMX and signature)."""
    if not out_dir.exists():
        raise InputError(f"{out_dir} does not exist", "give the output folder of bitext align")
    if not out_dir.is_dir():
        raise InputError(f"{out_dir} is not a folder", "give the output folder of bitext align, not a file in it")
    names = sorted(p.name[: -len(".align")] for p in out_dir.glob("*.align")
                   if all(path.is_file() for path in output_paths(out_dir, p.name[: -len(".align")]).values()))
    names = names or sorted(p.name[: -len(".jsonl")] for p in out_dir.glob("*.jsonl")
                            if _published(out_dir, p.name[: -len(".jsonl")]))
    if not names:
        raise InputError(f"{out_dir} is not an aligned result (no NAME.align with its .zh.txt, .en.txt, "
                         ".jsonl, .tmx and .signature.json)", "give the output folder of bitext align")
    if len(names) > 1:
        raise InputError(f"{out_dir} holds several alignments: {', '.join(names)}", "choose one with --name")
    return names[0]


def file_identity(paths: dict[str, Path]) -> dict[str, str]:
    """sha256 of the files that identify an alignment (``.align``, ``.zh.txt``, ``.en.txt``)."""
    try:
        return {key: hashlib.sha256(paths[key].read_bytes()).hexdigest() for key in IDENTITY_FILES}
    except OSError as exc:
        raise InputError(f"cannot read {exc.filename}: {exc.strerror}", "check the folder's files") from exc


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path} is not UTF-8 text", "is this folder really written by bitext align?") from exc


def _zh_script(signature: dict) -> str:
    out = signature.get("zh_script_out", "as-is")
    return signature.get("zh_script_in", "") if out in ("as-is", None) else out


def beads_from_records(zh_texts: Sequence[str], en_texts: Sequence[str], records: Sequence[dict],
                       where: str) -> list[ReviewBead]:
    """Review beads from JSONL-shaped records over the two sentence lists.

    The records must cover every sentence of both sides once, in order (as
    ``bitext align`` writes them); otherwise FormatError naming ``where``.
    """
    beads, next_zh, next_en, ids = [], 0, 0, set()
    for number, record in enumerate(records, start=1):
        try:
            zh_ids, en_ids = [int(i) for i in record["zh_ids"]], [int(i) for i in record["en_ids"]]
            expected_zh = list(range(next_zh, next_zh + len(zh_ids)))
            expected_en = list(range(next_en, next_en + len(en_ids)))
            if zh_ids != expected_zh or en_ids != expected_en or not (zh_ids or en_ids):
                raise ValueError(f"expected zh {expected_zh} and en {expected_en}, found {zh_ids} and {en_ids}")
            if (zh_ids and zh_ids[-1] >= len(zh_texts)) or (en_ids and en_ids[-1] >= len(en_texts)):
                raise ValueError("it refers to sentences beyond the end of the .zh.txt / .en.txt files")
            kind, speaker = record.get("kind") or "sentence", record.get("speaker")
            zh = tuple(Segment(i, zh_texts[i], zh_texts[i], "zh", speaker=speaker if k == 0 else None, kind=kind)
                       for k, i in enumerate(zh_ids))
            en_starts = record.get("en_starts")  # a timed English's start times
            if not isinstance(en_starts, list) or len(en_starts) != len(en_ids):
                en_starts = [None] * len(en_ids)
            en = tuple(Segment(i, en_texts[i], en_texts[i], "en", speaker=speaker if k == 0 and not zh else None,
                               kind=kind, start=en_starts[k]) for k, i in enumerate(en_ids))
            origin = record.get("origin", "aligned")
            mt_text = record.get("mt")
            identifier = record_bead_id(record.get("id"), number)
            if identifier in ids:
                raise ValueError(f"its id {identifier!r} is another bead's too")
            ids.add(identifier)
            translation = record.get("translation", mt_text if origin == "mt" else None)
            beads.append(ReviewBead(zh=zh, en=en, score=float(record.get("score") or 0.0), origin=origin,
                                    review=record.get("review") or ("approved" if origin == "human" else "pending"),
                                    reviewed_at=record.get("reviewed_at"), mt_text=mt_text,
                                    mt_flags=tuple(record.get("mt_flags") or ()),
                                    translation=None if en else translation, mt_model=record.get("mt_model"),
                                    id=identifier))
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"{where}, bead {number} cannot be reviewed: {exc}",
                              "review needs a complete alignment as written by bitext align") from exc
        next_zh, next_en = next_zh + len(zh_ids), next_en + len(en_ids)
    if next_zh != len(zh_texts) or next_en != len(en_texts):
        raise FormatError(f"{where}: the beads cover {next_zh} of {len(zh_texts)} zh and {next_en} of "
                          f"{len(en_texts)} en sentences", "review needs a complete alignment as written by bitext align")
    return beads


def _load_folder(paths: dict[str, Path]) -> tuple[list[str], list[str], list[dict], dict]:
    zh_texts, en_texts = _read_lines(paths["zh"]), _read_lines(paths["en"])
    records = read_jsonl(paths["jsonl"])
    align_beads = read_align(paths["align"])
    pairs = [(tuple(r["zh_ids"]), tuple(r["en_ids"])) for r in records]
    if pairs != [(b.zh, b.en) for b in align_beads]:
        raise FormatError(f"{paths['jsonl'].name} and {paths['align'].name} disagree about the beads",
                          "they must come from the same run of bitext align; re-run it")
    return zh_texts, en_texts, records, read_signature(paths["signature"])


def _header_records(beads: Sequence[ReviewBead]) -> tuple[list[str], list[str], list[dict]]:
    """The state as sentence lists and compact JSONL-shaped records (the journal's snapshot)."""
    zh_texts, en_texts, records = [], [], []
    for bead in beads:
        speaker = next((s.speaker for s in (*bead.zh, *bead.en) if s.speaker), None)
        kinds = {s.kind for s in (bead.zh or bead.en)}
        records.append({"id": bead.id, "zh_ids": list(range(len(zh_texts), len(zh_texts) + len(bead.zh))),
                        "en_ids": list(range(len(en_texts), len(en_texts) + len(bead.en))),
                        "score": bead.score, "origin": bead.origin, "review": bead.review,
                        "reviewed_at": bead.reviewed_at, "mt": bead.mt_text, "mt_flags": list(bead.mt_flags),
                        "translation": bead.translation, "mt_model": bead.mt_model, "speaker": speaker,
                        "kind": kinds.pop() if len(kinds) == 1 else "sentence",
                        **({"en_starts": [s.start for s in bead.en]} if any(s.start is not None for s in bead.en) else {})})
        zh_texts += [s.text for s in bead.zh]
        en_texts += [s.text for s in bead.en]
    return zh_texts, en_texts, records


# ---------------------------------------------------------------------------
# a published edition: what the review needs, rebuilt


def _journal_session(out_dir: Path, name: str, journal: Journal) -> ReviewSession:
    """The review ``journal`` records, at its start (nothing replayed), without checking the folder's files."""
    header = journal.header
    path = out_dir / f"{name}{JOURNAL_SUFFIX}"
    if header.get("format") != JOURNAL_FORMAT or header.get("version") != JOURNAL_VERSION:
        raise JournalError(f"{path.name} is not a bitext review journal (version {JOURNAL_VERSION})",
                           f"move {path.name} away to start a new review")
    try:
        beads = beads_from_records(header["zh"], header["en"], header["beads"], f"{path.name}, header")
        return ReviewSession(out_dir, name, list(beads), dict(header["signature"]), str(header["zh_script"]),
                             tuple(beads), journal, list(journal.warnings),
                             last_id=max(int(header.get("last_id") or 0), _highest_id(beads)))
    except (KeyError, TypeError) as exc:
        raise JournalError(f"{path.name} has a damaged header ({exc})",
                           f"move {path.name} away to start a new review") from exc


def _highest_id(beads: Sequence[ReviewBead]) -> int:
    return max((bead_id_number(b.id) or 0 for b in beads), default=0)


def _split_side(text: str, count: int, lang: str) -> list[str] | None:
    """``count`` sentences whose join is ``text`` (as the JSONL joins them), or None if they cannot be told apart."""
    if count == 0:
        return [] if not text else None
    if count == 1:
        return [text]
    from toolkit.text.segment import segment_document

    pieces = [s.text for s in segment_document(text, lang).segments]
    return pieces if len(pieces) == count else None


def _sentences_from_records(records: Sequence[dict], where: Path) -> tuple[list[str], list[str]]:
    """The two sentence lists of a JSONL whose beads cover them in order (no journal to take them from)."""
    sides: dict[str, list[str]] = {"zh": [], "en": []}
    for number, record in enumerate(records, start=1):
        for side in SIDES:
            ids = record.get(f"{side}_ids") or []
            pieces = _split_side(record.get(side) or "", len(ids), side)
            if pieces is None or ids != list(range(len(sides[side]), len(sides[side]) + len(ids))):
                raise FormatError(f"{where}, bead {number}: its {len(ids)} {side} sentences cannot be told apart "
                                  "in the JSONL text", "align the texts again (bitext align) and review that folder")
            sides[side] += pieces
    return sides["zh"], sides["en"]


def restore_alignment_files(out_dir: str | Path, name: str) -> list[Path]:
    """Rebuild NAME's ``.align``, ``.zh.txt`` and ``.en.txt`` in ``out_dir`` (a published edition keeps only
    the JSONL, TMX, signature and review journal); returns their paths.

    With a review journal, the sentences are the journal's own: its start replayed up
    to its last export, which must give the files that export recorded (their sha256)
    and the JSONL's beads. Without one, each bead's text in the JSONL is split back
    into as many sentences as it has ids (one-sentence sides as they are). Raises
    FormatError when that cannot be done exactly; nothing is written then.
    """
    out_dir = Path(out_dir)
    paths = output_paths(out_dir, name)
    records = read_jsonl(paths["jsonl"])
    journal_path = out_dir / f"{name}{JOURNAL_SUFFIX}"
    hint = "align the texts again (bitext align) and review that folder"
    if journal_path.is_file():
        journal = Journal.open(journal_path)
        session = _journal_session(out_dir, name, journal)
        exports = [i for i, e in enumerate(journal.entries) if e.get("op") == "export"]
        session._replay(journal.entries[:exports[-1] + 1] if exports else [])
        expected = journal.entries[exports[-1]].get("identity") if exports else journal.header.get("identity")
        alignment = session.alignment()
        zh, en, beads = alignment.zh.segments, alignment.en.segments, alignment.beads
    else:
        zh_texts, en_texts = _sentences_from_records(records, paths["jsonl"])
        zh = tuple(Segment(i, t, t, "zh") for i, t in enumerate(zh_texts))
        en = tuple(Segment(i, t, t, "en") for i, t in enumerate(en_texts))
        beads = tuple(Bead(tuple(r["zh_ids"]), tuple(r["en_ids"]), float(r.get("score") or 0.0)) for r in records)
        expected = None
    if [(list(b.zh), list(b.en)) for b in beads] != [(r.get("zh_ids"), r.get("en_ids")) for r in records]:
        raise FormatError(f"{paths['jsonl'].name} does not hold the beads its review journal was last exported with",
                          hint)
    with tempfile.TemporaryDirectory(prefix="bitext-restore-") as scratch:
        staged = output_paths(scratch, name)
        write_align(staged["align"], beads)
        write_sentences(staged["zh"], Document(name, "zh", tuple(zh)))
        write_sentences(staged["en"], Document(name, "en", tuple(en)))
        if expected is not None and file_identity(staged) != expected:
            raise FormatError(f"the files rebuilt from {journal_path.name} are not those it was exported to", hint)
        for key in IDENTITY_FILES:
            _io(lambda: atomic_write_text(paths[key], staged[key].read_text(encoding="utf-8")), out_dir)
    log.info("rebuilt %s, %s and %s from %s", *(paths[k].name for k in IDENTITY_FILES), paths["jsonl"].name)
    return [paths[key] for key in IDENTITY_FILES]


def unexported_review(out_dir: str | Path, name: str) -> str | None:
    """Why NAME's files in ``out_dir`` do not show its review journal yet, or None if they do (or there is none).

    Read from the journal and the signature alone (no replay, no ``.align``
    needed): changes journaled after the last export, or an export whose files
    were not all written (the signature records how long the journal was).
    """
    out_dir = Path(out_dir)
    path = out_dir / f"{name}{JOURNAL_SUFFIX}"
    if not path.is_file():
        return None
    journal = Journal.open(path)
    entries = journal.entries
    exports = [i for i, e in enumerate(entries) if e.get("op") == "export"]
    after = entries[exports[-1] + 1:] if exports else entries
    changes = sum(1 for e in after if e.get("op") in OPERATIONS or e.get("op") in HISTORY_OPS)
    if changes:
        return f"{path.name} holds {changes} change{'s' if changes != 1 else ''} not exported yet"
    if not exports:
        return None
    try:
        review = read_signature(output_paths(out_dir, name)["signature"]).get("review") or {}
    except ToolkitError:
        review = {}
    if review.get("journal_id") == journal.header.get("id") and review.get("journal_entries") != len(entries):
        return f"the last export of {path.name} was not completed"
    return None


# ---------------------------------------------------------------------------
# the session


@dataclass
class ReviewSession:
    """The review of one aligned folder. Build with :meth:`open`."""

    out_dir: Path
    name: str
    beads: list[ReviewBead]
    signature: dict
    zh_script: str
    original: tuple[ReviewBead, ...]
    journal: Journal | None = None
    warnings: list[str] = field(default_factory=list)
    clock: Callable[[], str] = utc_now
    done: list[Change] = field(default_factory=list)
    undone: list[Change] = field(default_factory=list)
    last_id: int = 0  # the highest bead id number this review has used: a split's new id is the next one

    @property
    def paths(self) -> dict[str, Path]:
        return output_paths(self.out_dir, self.name)

    @property
    def journal_path(self) -> Path:
        return self.out_dir / f"{self.name}{JOURNAL_SUFFIX}"

    @classmethod
    def open(cls, out_dir: str | Path, name: str | None = None, clock: Callable[[], str] = utc_now) -> ReviewSession:
        """Open the review of ``out_dir``: a new one, or the one its journal records.

        Raises InputError for a folder that is not an aligned result,
        JournalError for a journal from another alignment or a damaged one.
        An incomplete last journal line (a crash) is only reported in ``warnings``.
        """
        out_dir = Path(out_dir)
        name = name or find_alignment_name(out_dir)
        paths = output_paths(out_dir, name)
        if _published(out_dir, name):
            restore_alignment_files(out_dir, name)
        missing = [p.name for p in paths.values() if not p.is_file()]
        if missing:
            raise InputError(f"{out_dir} is not an aligned result for {name!r}: {', '.join(missing)} missing",
                             "give the output folder of bitext align")
        verify(out_dir, name, set_members(name))  # a mixed set (two runs, a kill) is refused, not reviewed
        identity = file_identity(paths)
        journal_path = out_dir / f"{name}{JOURNAL_SUFFIX}"
        if not journal_path.exists():
            zh_texts, en_texts, records, signature = _load_folder(paths)
            beads = beads_from_records(zh_texts, en_texts, records, str(paths["jsonl"]))
            return cls(out_dir, name, list(beads), signature, _zh_script(signature), tuple(beads), clock=clock,
                       last_id=_highest_id(beads))
        journal = Journal.open(journal_path)
        header = journal.header
        if header.get("format") == JOURNAL_FORMAT and header.get("version") == JOURNAL_VERSION:
            known = [header.get("identity", {})] + [e.get("identity", {}) for e in journal.entries
                                                    if e.get("op") == "export"]
            for key in IDENTITY_FILES:
                if identity[key] not in {k.get(key) for k in known if isinstance(k, dict)}:
                    _refuse_cut_short(journal, paths)
                    raise JournalError(f"journal belongs to another alignment — move {journal_path.name} away to "
                                       f"start a new review", f"{paths[key].name} is neither the reviewed alignment "
                                       "nor its export (was the folder aligned again?)")
        session = _journal_session(out_dir, name, journal)  # refuses what is not a review journal
        session.clock = clock
        session._replay()
        return session

    # -- state ---------------------------------------------------------------

    def _replay(self, entries: Sequence[dict] | None = None) -> None:
        """Redo the journal's entries (or the first ones, ``entries``) on the beads."""
        journal_id = self.journal.header.get("id")
        for number, entry in enumerate(self.journal.entries if entries is None else entries, start=2):
            op = entry.get("op")
            # Entries written since journals carry ids say what they apply to: this journal, at this place.
            if "journal" in entry and entry["journal"] != journal_id:
                raise JournalError(f"{self.journal_path.name}, line {number} belongs to another review journal "
                                   "(of another alignment), not this one",
                                   "remove that line (was it copied in from another journal?); nothing was changed")
            if "seq" in entry and entry["seq"] != number - 1:
                raise JournalError(f"{self.journal_path.name}, line {number} is entry {entry['seq']} of its journal, "
                                   f"expected {number - 1}: lines are missing or out of order",
                                   "restore the journal from a backup, or move it away to start a new review")
            try:
                if op in HISTORY_OPS:
                    self._history(op)
                elif op in OPERATIONS:
                    change = OPERATIONS[op](self._with_new_id(entry), self.beads, str(entry.get("at", "")))
                    self._apply(change)
                    self.done.append(change)
                    self.undone.clear()
                elif op != "export":
                    raise ReviewError(f"unknown operation {op!r}", "")
            except ReviewError as exc:
                raise JournalError(f"{self.journal_path.name}, line {number} cannot be replayed: {exc.message}",
                                   f"was the journal edited by hand? move {self.journal_path.name} away to start "
                                   "a new review") from exc

    def _apply(self, change: Change, reverse: bool = False) -> None:
        old, new = (change.new, change.old) if reverse else (change.old, change.new)
        self.beads[change.start:change.start + len(old)] = new
        self.last_id = max([self.last_id, *(bead_id_number(b.id) or 0 for b in new)])

    def _with_new_id(self, op: dict) -> dict:
        """``op`` as it is done and journaled: a split names the id of its second part.

        The id the op already names (a journal entry's) if no bead has it, else one
        above the highest id the review ever used; journals written before ids were
        stable give the same ids on every replay, since they are assigned in order.
        """
        if op.get("op") != "split":
            return op
        wanted = op.get("new_id")
        if bead_id_number(wanted) is None or any(b.id == wanted for b in self.beads):
            wanted = bead_id(self.last_id + 1)
        return {**op, "new_id": wanted}

    def _history(self, op: str) -> None:
        source, target = (self.done, self.undone) if op == "undo" else (self.undone, self.done)
        if not source:
            raise ReviewError(f"nothing to {op}", "undo and redo step through the changes made in this review")
        change = source.pop()
        self._apply(change, reverse=op == "undo")
        target.append(change)

    def _journal(self) -> Journal:
        if self.journal is None:
            zh_texts, en_texts, records = _header_records(self.original)
            header = {"format": JOURNAL_FORMAT, "version": JOURNAL_VERSION, "name": self.name,
                      "id": uuid.uuid4().hex[:16], "identity": file_identity(self.paths), "started": self.clock(),
                      "last_id": self.last_id,
                      "signature": self.signature, "zh_script": self.zh_script,
                      "zh": zh_texts, "en": en_texts, "beads": records}
            self.journal = _io(lambda: Journal.create(self.journal_path, header), self.out_dir)
        return self.journal

    def _append(self, entry: dict) -> None:
        """Journal ``entry`` stamped with what it applies to: this journal's id and its place in it."""
        journal = self._journal()
        stamp = {"seq": len(journal.entries) + 1}
        if journal.header.get("id"):
            stamp["journal"] = journal.header["id"]
        journal.append({**entry, **stamp})

    def do(self, op: dict) -> bool:
        """Perform one operation (a journal-shaped dict); returns False if it changed nothing.

        The operation is validated, then journaled (fsynced), then applied.
        """
        return self.do_all([op]) > 0

    def do_all(self, ops: Sequence[dict]) -> int:
        """Perform several operations, all or none: each is checked before any is written.

        Returns how many changed something (unchanged ones are not journaled).
        """
        at = self.clock()
        trial = ReviewSession(self.out_dir, self.name, list(self.beads), self.signature, self.zh_script,
                              self.original, done=list(self.done), undone=list(self.undone), last_id=self.last_id)
        for op in ops:
            trial._step(op, at)  # raises before anything is journaled
        changed = 0
        for op in ops:
            if self._step(op, at, journal=True):
                changed += 1
        return changed

    def _step(self, op: dict, at: str, journal: bool = False) -> bool:
        name = op.get("op")
        if name in HISTORY_OPS:
            if not (self.done if name == "undo" else self.undone):
                raise ReviewError(f"nothing to {name}", "undo and redo step through the changes made in this review")
            if journal:
                _io(lambda: self._append({"op": name, "at": at}), self.out_dir)
            self._history(name)
            return True
        if name not in OPERATIONS:
            raise ReviewError(f"unknown operation {name!r}", f"choose one of {', '.join([*OPERATIONS, *HISTORY_OPS])}")
        op = self._with_new_id(op)
        change = OPERATIONS[name](op, self.beads, at)
        if change.old == change.new:
            return False
        if journal:
            _io(lambda: self._append({**op, "at": at}), self.out_dir)
        self._apply(change)
        self.done.append(change)
        self.undone.clear()
        return True

    # Convenience wrappers with the names; bead numbers are 1-based.

    def approve(self, first: int, last: int | None = None) -> bool:
        return self.do({"op": "approve", "first": first, "last": last})

    def set_en(self, n: int, text: str) -> bool:
        return self.do({"op": "set_en", "bead": n, "text": text})

    def set_zh(self, n: int, text: str) -> bool:
        return self.do({"op": "set_zh", "bead": n, "text": text})

    def merge_next(self, n: int) -> bool:
        return self.do({"op": "merge_next", "bead": n})

    def merge_prev(self, n: int) -> bool:
        return self.do({"op": "merge_prev", "bead": n})

    def split(self, n: int, zh_at: int, en_at: int) -> bool:
        return self.do({"op": "split", "bead": n, "zh_at": zh_at, "en_at": en_at})

    def move(self, n: int, side: str, to: str) -> bool:
        return self.do({"op": "move", "bead": n, "side": side, "to": to})

    def mark_no_counterpart(self, n: int) -> bool:
        return self.do({"op": "no_counterpart", "bead": n})

    def undo(self) -> bool:
        return self.do({"op": "undo"})

    def redo(self) -> bool:
        return self.do({"op": "redo"})

    # -- machine translation -------------------------------------------------

    def retranslation_ops(self, numbers: Sequence[int], translator, cache=None, glossary=None) -> list[dict]:
        """Translate the Chinese of beads ``numbers`` afresh; returns the ``retranslate`` operations (not done yet).

        ``translator`` is a :class:`toolkit.translate.backends.Translator`; ``cache`` an
        open :class:`toolkit.translate.cache.TranslationCache` or None. The outputs go
        through :func:`toolkit.translate.backends.translate_checked` (checks, one retry,
        cache), so a translation the checks flag keeps its flags. When that
        gives back the bead's current machine translation (the cache, or the
        same greedy output), the model is asked once more with its second-attempt
        decoding (``translator.retranslate``), so pressing re-translate offers an
        alternative if the model has one. Each bead is asked with the document as context
        (:func:`toolkit.translate.context.gap_requests`: its nearest pairs with an English
        original as examples, the terms of ``glossary`` and of the glossary mined from those
        pairs). Raises ReviewError for a bead that has an English original or a translator
        that gives no English; nothing is journaled here.
        """
        from toolkit.translate.backends import Translation, raw_outputs, translate_checked
        from toolkit.translate.checks import check_translation
        from toolkit.translate.context import document_glossary, gap_request

        if not getattr(translator, "translates", True):
            raise ReviewError(f"the translator {translator.describe()} does not translate",
                              "choose a model with --mt, e.g. --mt qwen1.5b")
        sources, current, labels = [], [], []
        for n in numbers:
            bead = self.beads[_number({"bead": n}, "bead", self.beads) - 1]
            if not bead.translatable:
                raise ReviewError(f"bead {n} is {bead.kind}; only a bead with Chinese and no English original is "
                                  "machine-translated", "edit its English with set-en instead")
            sources.append(bead.zh_text)
            current.append((bead.mt_text or "").strip())
            labels.append(bead.mt_model)
        units = [(b.zh_text, " ".join(seg.text for seg in b.en)) for b in self.beads]
        terms_from = document_glossary(units, glossary)
        requests = [gap_request(units, _number({"bead": n}, "bead", self.beads) - 1, terms_from) for n in numbers]
        translations = translate_checked(translator, requests, cache=cache)
        model = translator.describe()
        again = [i for i, found in enumerate(translations) if current[i] and found.text.strip() == current[i]]
        if again:
            outputs = raw_outputs(translator, [requests[i] for i in again], retry=True)
            for i, output in zip(again, outputs):
                if output.strip() and output.strip() != current[i]:
                    translations[i] = Translation(sources[i], output.strip(),
                                                  tuple(check_translation(sources[i], output, requests[i].terms)))
        ops = []
        for i, (n, source, found) in enumerate(zip(numbers, sources, translations)):
            if not found.text.strip():
                raise ReviewError(f"{model} gave no English for bead {n}", "try another model with --mt")
            if found.text == current[i]:  # nothing new: keep the label too, so the operation changes nothing
                label = labels[i] or model
            else:
                label = f"{model}, second-attempt decoding" if i in again else model
            ops.append({"op": "retranslate", "bead": n, "source": source, "text": found.text,
                        "flags": list(found.flags), "model": label})
        return ops

    def retranslate(self, n: int, translator, cache=None, glossary=None) -> bool:
        """Machine-translate bead ``n``'s Chinese again (see :meth:`retranslation_ops`); False if nothing changed."""
        return self.do_all(self.retranslation_ops([n], translator, cache, glossary)) > 0

    # -- where the reviewer is -----------------------------------------------

    @property
    def cursor_path(self) -> Path:
        return self.out_dir / f"{self.name}{CURSOR_SUFFIX}"

    def saved_cursor(self) -> int | None:
        """The bead the reviewer was on when the UI last saved it (clamped to the beads), or None."""
        try:
            value = json.loads(self.cursor_path.read_text(encoding="utf-8")).get("bead")
        except (OSError, ValueError, AttributeError):
            return None  # no position yet, or an unreadable one: start from the top, lose nothing
        if not isinstance(value, int) or isinstance(value, bool) or not self.beads:
            return None
        return min(max(value, 1), len(self.beads))

    def save_cursor(self, n: int) -> None:
        """Remember bead ``n`` as where the reviewer is (written atomically; not a journal entry)."""
        _io(lambda: atomic_write_text(self.cursor_path, json.dumps({"bead": int(n), "at": self.clock()}) + "\n"),
            self.out_dir)

    def resume_at(self) -> int:
        """Where a review opens: the saved cursor, else the first pending bead, else bead 1."""
        saved = self.saved_cursor()
        if saved is not None:
            return saved
        return next((i for i, b in enumerate(self.beads, start=1) if b.review == "pending"), 1)

    # -- reading -------------------------------------------------------------

    def status(self) -> ReviewStatus:
        reviews = [b.review for b in self.beads]
        return ReviewStatus(
            beads=len(self.beads), approved=reviews.count("approved"), edited=reviews.count("edited"),
            no_counterpart=reviews.count("no-counterpart"), pending=reviews.count("pending"),
            machine_translated=sum(1 for b in self.beads if b.review == "pending" and b.translation is not None
                                   and b.mt_text is not None),
            operations=len(self.done))

    def rows(self, below: float | None = None, mt_only: bool = False, unreviewed: bool = False,
             search: str | None = None, one_sided: bool = False) -> list[Row]:
        """The beads a listing shows: pairs (two-sided beads) scoring below ``below``, with machine English,
        pending, containing ``search``, one-sided (1-0 / 0-1, which score 0 by definition)."""
        needle = search.casefold() if search else None
        rows = []
        for number, bead in enumerate(self.beads, start=1):
            if below is not None and not (bead.zh and bead.en and bead.score < below):
                continue
            if one_sided and bead.zh and bead.en:
                continue
            if mt_only and bead.mt_text is None:
                continue
            if unreviewed and bead.review != "pending":
                continue
            if needle and needle not in bead.zh_text.casefold() and needle not in bead.en_text.casefold():
                continue
            rows.append(Row(number, bead))
        return rows

    def alignment(self) -> Alignment:
        """The current state as an Alignment (reviewed beads have origin ``human``); the signature says a review was applied."""
        zh, en, beads = [], [], []
        for bead in self.beads:
            zh_ids = tuple(range(len(zh), len(zh) + len(bead.zh)))
            en_ids = tuple(range(len(en), len(en) + len(bead.en)))
            zh += [replace(s, index=i) for s, i in zip(bead.zh, zh_ids)]
            en += [replace(s, index=i) for s, i in zip(bead.en, en_ids)]
            beads.append(Bead(zh_ids, en_ids, bead.score, bead.export_origin, bead.mt_text, bead.mt_flags, bead.id))
        status = self.status()
        signature = {**self.signature, "review": {
            "journal": self.journal_path.name, "operations": status.operations,
            **({"journal_id": self.journal.header["id"], "journal_entries": len(self.journal.entries) + 1}
               if self.journal is not None and self.journal.header.get("id") else {}),
            "approved": status.approved, "edited": status.edited, "no_counterpart": status.no_counterpart,
            "pending": status.pending, "sentences": {"zh": len(zh), "en": len(en)}}}
        models = sorted({b.mt_model for b in self.beads if b.mt_model})
        if models:
            signature["review"]["retranslated_with"] = models
        return Alignment(self.name, Document(self.name, "zh", tuple(zh), self.zh_script),
                         Document(self.name, "en", tuple(en)), tuple(beads), signature)

    # -- export --------------------------------------------------------------

    def needs_export(self) -> bool:
        """True when the journal holds changes the folder's files do not show yet.

        That is, the journal's last entry is a change, or an export whose files
        were not all written (a crash part-way through it).
        """
        if self.journal is None or not self.journal.entries:
            return False
        last = self.journal.entries[-1]
        if last.get("op") != "export":
            return True
        return file_identity(self.paths) != last.get("identity")

    def export(self) -> list[Path]:
        """Rewrite the folder's files from the current state, each atomically; returns their paths.

        ``.align`` and the sentence files are renumbered; the JSONL gains
        ``review``, ``reviewed_at`` and ``translation``; each TMX ``tu`` of a
        reviewed bead gets ``changedate`` and an ``x-review`` prop, and the
        English of a bead without an original is its translation. If the folder
        was scored (``bitext score``, or a scored ``bitext align``), a pair whose
        texts the review left as they were keeps its ``bleu``/``chrf``; a changed
        one gets None until it is scored again.
        """
        at = self.clock()
        alignment = self.alignment()
        alignment.signature["review"]["exported"] = at
        records = self._records(alignment)
        if self.journal is not None:
            # Journaled first: a crash part-way through the export leaves files the journal recognises.
            expected = _io(lambda: _identity_of(alignment), self.out_dir)
            _io(lambda: self._append({"op": "export", "identity": expected, "at": at}), self.out_dir)
        return _io(lambda: write_alignment(self.out_dir, alignment, records), self.out_dir)

    def _records(self, alignment: Alignment) -> list[dict]:
        """The JSONL records of ``alignment`` with the review's fields and any scores still valid."""
        scores = _io(lambda: _pair_scores(self.paths["jsonl"]), self.out_dir)
        records = bead_records(alignment)
        for record, bead in zip(records, self.beads):
            record.update(review=bead.review, reviewed_at=bead.reviewed_at, translation=bead.translation)
            if bead.mt_model:
                record["mt_model"] = bead.mt_model
            if scores is not None:
                record.update(dict(zip(SCORE_KEYS, scores.get((record["zh"], record["en"]), (None, None)))))
        return records


def _refuse_cut_short(journal: Journal, paths: dict[str, Path]) -> None:
    """Raise JournalError if the folder was exported from ``journal`` at a later entry than it now has.

    The export's signature records the journal's id and length; a journal that is shorter was cut
    short (by hand, or restored from an old copy), which is not "another alignment".
    """
    try:
        review = read_signature(paths["signature"]).get("review") or {}
    except ToolkitError:
        return
    entries = review.get("journal_entries")
    if review.get("journal_id") == journal.header.get("id") and isinstance(entries, int) \
            and entries > len(journal.entries):
        raise JournalError(f"{journal.path.name} was cut short: it has {len(journal.entries)} entries, but the files "
                           f"in the folder were exported from it after entry {entries}",
                           "restore the journal from a backup; or move it away to start a new review from the "
                           "exported files")


def _pair_scores(jsonl: Path) -> dict[tuple[str, str], tuple] | None:
    """(zh, en) -> (bleu, chrf) of the scored pairs in ``jsonl``; None if the file was never scored."""
    records = read_jsonl(jsonl)
    if not any(key in record for record in records for key in SCORE_KEYS):
        return None
    return {(r["zh"], r["en"]): tuple(r.get(key) for key in SCORE_KEYS)
            for r in records if all(r.get(key) is not None for key in SCORE_KEYS)}


def _identity_of(alignment: Alignment) -> dict[str, str]:
    """The identity the folder will have once ``alignment`` is written (rendered in a scratch folder)."""
    with tempfile.TemporaryDirectory(prefix="bitext-review-") as scratch:
        paths = output_paths(scratch, alignment.name)
        write_align(paths["align"], alignment.beads)
        write_sentences(paths["zh"], alignment.zh)
        write_sentences(paths["en"], alignment.en)
        return file_identity(paths)


def _io(action: Callable, out_dir: Path):
    try:
        return action()
    except OSError as exc:
        raise ToolkitError(f"cannot write to {out_dir}: {exc.strerror or exc}",
                           "check the folder's permissions and free space; nothing was lost") from exc


# ---------------------------------------------------------------------------
# listing


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal columns (CJK counts 2) with '…', padded with spaces."""
    text = " ".join(text.split())
    if _width(text) > width:
        out, used = [], 0
        for ch in text:
            w = _width(ch)
            if used + w > width - 1:
                break
            out.append(ch)
            used += w
        text = "".join(out) + "…"
    return text + " " * (width - _width(text))


def format_rows(rows: Sequence[Row], zh_width: int = 30, en_width: int = 40) -> str:
    """A plain-text table: number, id, type, score, origin, review, zh, en (truncated)."""
    lines = [f"{'#':>5}  {'id':<6} {'type':<5} {'score':>6}  {'origin':<7} {'review':<14} {clip('zh', zh_width)}  en"]
    for row in rows:
        bead = row.bead
        en = bead.en_text if bead.en or bead.translation is None else f"[{'MT' if bead.translation == bead.mt_text else 'tr'}] {bead.en_text}"
        lines.append(f"{row.number:>5}  {bead.id:<6} {bead.kind:<5} {bead.score:>6.3f}  {bead.export_origin:<7} {bead.review:<14} "
                     f"{clip(bead.zh_text, zh_width)}  {clip(en, en_width).rstrip()}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# carrying a review over to a new alignment of the same texts


@dataclass(frozen=True)
class RebaseReport:
    """What became of each journaled operation when a review was carried to a new alignment.

    ``applied``: done on the new alignment (journaled there); ``in_effect``:
    a structural fix the new alignment already has by itself; ``dropped``:
    (operation, reason) for those whose beads the new alignment no longer has.
    """

    applied: tuple[dict, ...]
    in_effect: tuple[dict, ...]
    dropped: tuple[tuple[dict, str], ...]

    def format(self) -> str:
        return (f"{len(self.applied)} operations applied, {len(self.in_effect)} already in effect, "
                f"{len(self.dropped)} no longer applicable")


def _key(bead: ReviewBead) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A bead's place in the documents: the sentence numbers on each side."""
    return tuple(s.index for s in bead.zh), tuple(s.index for s in bead.en)


def _effective_ops(entries: Sequence[dict]) -> list[dict]:
    """The operations a journal leaves in effect, in order: undo and redo resolved."""
    done: list[dict] = []
    undone: list[dict] = []
    for entry in entries:
        op = entry.get("op")
        if op == "undo" and done:
            undone.append(done.pop())
        elif op == "redo" and undone:
            done.append(undone.pop())
        elif op in OPERATIONS:
            done.append(entry)
            undone.clear()
    return done


# The journal fields naming bead numbers, per operation, and how many consecutive beads each touches.
def _targets(op: dict) -> list[int]:
    name = op["op"]
    if name == "approve":
        last = op.get("last") if op.get("last") is not None else op["first"]
        return list(range(op["first"], last + 1))
    if name == "merge_next":
        return [op["bead"], op["bead"] + 1]
    if name == "merge_prev":
        return [op["bead"] - 1, op["bead"]]
    if name == "move":
        return [op["bead"], op["bead"] + 1] if op.get("to") == "next" else [op["bead"] - 1, op["bead"]]
    return [op["bead"]]


def rebase_review(journal_path: str | Path, session: ReviewSession) -> RebaseReport:
    """Carry the review journaled at ``journal_path`` (made on an earlier alignment of the
    same two texts) over to ``session``, a review of the new alignment.

    Each operation in effect in the old journal is replayed on the old
    alignment to learn which beads it touched (by their sentence numbers) and
    what it made of them. Where the new alignment has those same beads, the
    operation is done there (and journaled in the new folder); an approved machine
    translation whose new draft differs keeps the words approved (a ``set_en``); where it already
    has the result of a structural fix (merge, split, move), the fix is in
    effect; otherwise the operation is dropped with its reason. Approving a
    range is carried bead by bead. Raises JournalError for a journal of other
    texts.
    """
    journal = Journal.open(Path(journal_path))
    header = journal.header
    try:
        old = beads_from_records(header["zh"], header["en"], header["beads"], f"{Path(journal_path).name}, header")
    except (KeyError, TypeError) as exc:
        raise JournalError(f"{Path(journal_path).name} has a damaged header ({exc})",
                           "give the review journal of an earlier alignment of these texts") from exc
    old_texts = ([s.text for b in old for s in b.zh], [s.text for b in old for s in b.en])
    new_texts = ([s.text for b in session.original for s in b.zh], [s.text for b in session.original for s in b.en])
    if old_texts != new_texts:
        raise JournalError(f"{Path(journal_path).name} reviews other texts than {session.name}",
                           "a review can be carried over only to a new alignment of the same two texts")
    effective = _effective_ops(journal.entries)
    old_last = int(header.get("last_id") or 0)
    if session.journal is None and not session.done:
        final = _old_review(journal_path, old, effective, old_last)
        _carry_ids(session, old, final.beads, final.last_id)
    scratch = _old_review(journal_path, old, [], old_last)
    applied, in_effect, dropped = [], [], []
    for entry in effective:
        try:
            entry = scratch._with_new_id(entry)  # a split's second part keeps the id the old review gave it
            op = {k: v for k, v in entry.items() if k != "at"}
            targets = _targets(op)
            keys = [_key(scratch.beads[n - 1]) for n in targets]
            change = OPERATIONS[op["op"]](entry, scratch.beads, str(entry.get("at", "")))
        except (ReviewError, KeyError, IndexError, TypeError) as exc:
            raise JournalError(f"{Path(journal_path).name} cannot be replayed on its own alignment: {exc}",
                               "the journal is damaged; start a new review") from exc
        scratch._apply(change)
        now = {_key(b): n for n, b in enumerate(session.beads, start=1)}
        if op["op"] == "approve":
            approved = {_key(b): b for b in scratch.beads}
            for key in keys:
                if key in now:
                    was, bead = approved.get(key), session.beads[now[key] - 1]
                    if was is not None and not was.en and was.translation and bead.translation != was.translation:
                        # The reviewer approved a machine translation's words, not whatever the
                        # new run drafted there: the approved words are kept, as the reviewer's.
                        applied.append({"op": "set_en", "bead": now[key], "text": was.translation})
                    else:
                        applied.append({"op": "approve", "first": now[key], "last": now[key]})
                    session.do(applied[-1])
                else:
                    dropped.append(({"op": "approve", "zh": list(key[0]), "en": list(key[1])},
                                    "the new alignment has no such bead"))
            continue
        numbers = [now.get(k) for k in keys]
        if None not in numbers and numbers == list(range(numbers[0], numbers[0] + len(numbers))):
            # Every operation but approve names one bead; it keeps its place among the targets.
            redone = dict(op, bead=numbers[0] + targets.index(op["bead"]))
            session.do(redone)
            applied.append(redone)
        elif all(_key(b) in now for b in change.new) and op["op"] in ("merge_next", "merge_prev", "split", "move"):
            in_effect.append(op)
        else:
            where = {"zh": sorted({i for k in keys for i in k[0]}), "en": sorted({j for k in keys for j in k[1]})}
            dropped.append(({k: v for k, v in op.items() if k not in ("bead", "first", "last")} | where,
                            "the new alignment has none of its beads" if all(n is None for n in numbers)
                            else "the new alignment cuts these sentences differently"))
    return RebaseReport(tuple(applied), tuple(in_effect), tuple(dropped))


def _old_review(journal_path: str | Path, beads: Sequence[ReviewBead], ops: Sequence[dict],
                last_id: int) -> ReviewSession:
    """An in-memory review of an earlier alignment's ``beads`` with ``ops`` (operations in effect) done."""
    session = ReviewSession(Path(journal_path).parent, "", list(beads), {}, "", tuple(beads),
                            last_id=max(last_id, _highest_id(beads)))
    for entry in ops:
        try:
            change = OPERATIONS[entry["op"]](session._with_new_id(entry), session.beads, "")
        except (ReviewError, KeyError, IndexError, TypeError) as exc:
            raise JournalError(f"{Path(journal_path).name} cannot be replayed on its own alignment: {exc}",
                               "the journal is damaged; start a new review") from exc
        session._apply(change)
    return session


def _carry_ids(session: ReviewSession, old: Sequence[ReviewBead], reviewed: Sequence[ReviewBead],
               old_last: int) -> None:
    """Give the beads of a new alignment the ids the earlier review used for the same beads.

    A bead with the same sentences as a bead of the earlier alignment, else as one
    the earlier review made (a merge the new alignment has by itself), takes its
    id; the others get new ids above every id the earlier review used, so a
    citation of ``#b243`` keeps pointing at its passage, and no id means two things.
    """
    known: dict[tuple, str] = {}
    for bead in (*old, *reviewed):
        known.setdefault(_key(bead), bead.id)
    taken: set[str] = set()
    last = max([old_last, *(bead_id_number(b.id) or 0 for b in (*old, *reviewed))])
    beads = []
    for bead in session.original:
        identifier = known.get(_key(bead))
        if identifier is None or identifier in taken:
            last += 1
            identifier = bead_id(last)
        taken.add(identifier)
        beads.append(replace(bead, id=identifier))
    session.original = tuple(beads)
    session.beads = list(beads)
    session.last_id = last
    _io(session._journal, session.out_dir)  # the header keeps the ids even if no operation applies
