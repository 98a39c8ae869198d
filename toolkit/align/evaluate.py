"""Strict and lax precision/recall of predicted beads against gold beads.

This is the yardstick used by Vecalign and Bertalign (after Sennrich & Volk's
lax/strict scheme), reimplemented here. A bead is compared as the pair
``(tuple(zh ids), tuple(en ids))``; scores and origins play no part, and each
document's beads are taken as a set (duplicates count once).

Precision, over the predicted beads of every document:

- *strict*: a predicted bead counts if the gold contains exactly that bead;
- *lax*: it also counts if it shares a link with some gold bead, i.e. there is
  a zh id ``z`` and an en id ``e`` of the predicted bead such that one gold bead
  holds both ``z`` and ``e``. A bead with an empty side has no links, so an
  omission only counts if it matches exactly.

Recall is the same computation with gold and prediction swapped, after beads
with an empty side (omissions) are dropped from both. Counts are summed over
all documents before the ratios are taken; a ratio with nothing to count is 0.

Example: gold ``[0]:[0]``, ``[1]:[1, 2]``; prediction ``[0]:[0]``, ``[1]:[1]``,
``[]:[2]``. Strict P = 1/3, lax P = 2/3 (``[1]:[1]`` shares the link 1-1),
strict R = 1/2, lax R = 2/2.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from toolkit.core.errors import InputError, ToolkitError
from toolkit.core.records import Bead
from toolkit.core.resultset import verify_file
from toolkit.formats.writers import read_align

BeadKey = tuple[tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class AlignmentScores:
    """Counts behind strict/lax precision and recall, summed over ``documents``.

    ``predicted``: distinct predicted beads; ``predicted_strict`` / ``predicted_lax``:
    how many of them count as correct. ``gold``: distinct gold beads with both
    sides non-empty; ``gold_strict`` / ``gold_lax``: how many of them were found.
    The ratios are properties computed from these counts.
    """

    predicted: int
    predicted_strict: int
    predicted_lax: int
    gold: int
    gold_strict: int
    gold_lax: int
    documents: int

    def __post_init__(self) -> None:
        for total, strict, lax in (
            (self.predicted, self.predicted_strict, self.predicted_lax),
            (self.gold, self.gold_strict, self.gold_lax),
        ):
            if not 0 <= strict <= lax <= total:
                raise ValueError(f"inconsistent counts: need 0 <= strict {strict} <= lax {lax} <= total {total}")
        if self.documents < 0:
            raise ValueError(f"negative number of documents: {self.documents}")

    @property
    def precision_strict(self) -> float:
        return _ratio(self.predicted_strict, self.predicted)

    @property
    def precision_lax(self) -> float:
        return _ratio(self.predicted_lax, self.predicted)

    @property
    def recall_strict(self) -> float:
        return _ratio(self.gold_strict, self.gold)

    @property
    def recall_lax(self) -> float:
        return _ratio(self.gold_lax, self.gold)

    @property
    def f1_strict(self) -> float:
        return _f1(self.precision_strict, self.recall_strict)

    @property
    def f1_lax(self) -> float:
        return _f1(self.precision_lax, self.recall_lax)

    def as_dict(self) -> dict[str, float | int]:
        """The counts and the six ratios, e.g. for JSON output."""
        names = ("precision_strict", "recall_strict", "f1_strict", "precision_lax", "recall_lax", "f1_lax")
        ratios = {name: getattr(self, name) for name in names}
        counts = {
            "predicted": self.predicted,
            "predicted_strict": self.predicted_strict,
            "predicted_lax": self.predicted_lax,
            "gold": self.gold,
            "gold_strict": self.gold_strict,
            "gold_lax": self.gold_lax,
            "documents": self.documents,
        }
        return {**ratios, **counts}

    def format(self) -> str:
        """A small table of the six ratios and the counts behind them."""
        rows = [
            f"{'':<10} {'strict':>7} {'lax':>7}",
            f"{'precision':<10} {self.precision_strict:>7.4f} {self.precision_lax:>7.4f}",
            f"{'recall':<10} {self.recall_strict:>7.4f} {self.recall_lax:>7.4f}",
            f"{'F1':<10} {self.f1_strict:>7.4f} {self.f1_lax:>7.4f}",
            f"{self.documents} document(s), {self.predicted} predicted beads, "
            f"{self.gold} gold beads without omissions",
        ]
        return "\n".join(rows)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _keys(beads: Iterable[Bead], drop_omissions: bool) -> set[BeadKey]:
    keys = {(tuple(bead.zh), tuple(bead.en)) for bead in beads}
    if drop_omissions:
        keys = {(zh, en) for zh, en in keys if zh and en}
    return keys


def _links(keys: Iterable[BeadKey]) -> set[tuple[int, int]]:
    """Every (zh id, en id) pair that some bead puts together."""
    return {(z, e) for zh, en in keys for z in zh for e in en}


def _count_matches(candidates: set[BeadKey], reference: set[BeadKey]) -> tuple[int, int]:
    """How many candidates match the reference (strict, lax)."""
    reference_links = _links(reference)
    strict = lax = 0
    for zh, en in candidates:
        if (zh, en) in reference:
            strict += 1
            lax += 1
        elif any((z, e) in reference_links for z in zh for e in en):
            lax += 1
    return strict, lax


def score_alignments(gold: Sequence[Sequence[Bead]], pred: Sequence[Sequence[Bead]]) -> AlignmentScores:
    """Score predicted beads against gold beads, one list per document, counts summed.

    ``gold[i]`` and ``pred[i]`` must be the same document. Raises ToolkitError
    if the numbers of documents differ.
    """
    if len(gold) != len(pred):
        raise ToolkitError(
            f"{len(gold)} gold documents but {len(pred)} predicted ones",
            "score each gold alignment against the prediction for the same document",
        )
    counts = [0] * 6
    for gold_beads, pred_beads in zip(gold, pred):
        gold_all = _keys(gold_beads, drop_omissions=False)
        pred_all = _keys(pred_beads, drop_omissions=False)
        p_strict, p_lax = _count_matches(pred_all, gold_all)
        gold_kept = _keys(gold_beads, drop_omissions=True)
        pred_kept = _keys(pred_beads, drop_omissions=True)
        r_strict, r_lax = _count_matches(gold_kept, pred_kept)
        for i, value in enumerate((len(pred_all), p_strict, p_lax, len(gold_kept), r_strict, r_lax)):
            counts[i] += value
    return AlignmentScores(*counts, documents=len(gold))


def _find_prediction(pred_dir: Path, name: str) -> Path | None:
    """``<pred>/<name>``, else ``<pred>/<stem>/<name>``, else the one ``<pred>/*/<name>``."""
    for candidate in (pred_dir / name, pred_dir / Path(name).stem / name):
        if candidate.is_file():
            return candidate
    nested = sorted(p for p in pred_dir.glob(f"*/{name}") if p.is_file())
    if len(nested) > 1:
        raise InputError(
            f"{len(nested)} predictions named {name} under {pred_dir}: "
            + ", ".join(str(p) for p in nested),
            f"keep one, or put it at {pred_dir / name}",
        )
    return nested[0] if nested else None


def pair_paths(gold: Path, pred: Path) -> list[tuple[Path, Path]]:
    """Pair gold and predicted ``.align`` files (see :func:`score_paths`)."""
    gold, pred = Path(gold), Path(pred)
    for path in (gold, pred):
        if not path.exists():
            raise InputError(f"{path} does not exist", "give an .align file or a folder of them")
    if gold.is_file() and pred.is_file():
        return [(gold, pred)]
    if not (gold.is_dir() and pred.is_dir()):
        raise InputError(
            f"cannot compare {gold} with {pred}",
            "give two .align files or two folders, not one of each",
        )
    gold_files = sorted(p for p in gold.glob("*.align") if p.is_file())
    if not gold_files:
        raise InputError(f"no .align files in {gold}", "point at the folder that holds the gold .align files")
    pairs, missing = [], []
    for gold_file in gold_files:
        found = _find_prediction(pred, gold_file.name)
        if found is None:
            missing.append(gold_file.name)
        else:
            pairs.append((gold_file, found))
    if missing:
        raise InputError(
            f"no prediction under {pred} for: {', '.join(missing)}",
            "align those documents first, or score a folder holding only the gold files you have predictions for",
        )
    return pairs


def score_paths(gold: str | Path, pred: str | Path) -> AlignmentScores:
    """Score ``.align`` files: two files, or two folders.

    For folders, every ``*.align`` directly in ``gold`` needs a prediction of the
    same file name in ``pred``, looked up as ``pred/NAME``, then
    ``pred/STEM/NAME`` (e.g. ``pred/001/001.align``), then ``pred/*/NAME`` (must
    be unique). Extra predictions are ignored; missing ones raise InputError
    naming them all.

    A gold file without beads (empty) raises InputError: it would score 0 and say nothing.
    A prediction inside a result folder with a manifest is checked against it first
    (:func:`toolkit.core.resultset.verify_file`), so a mixed set is not scored.
    """
    pairs = pair_paths(Path(gold), Path(pred))
    golds, preds = [], []
    for gold_file, pred_file in pairs:
        beads = read_align(gold_file)
        if not beads:
            raise InputError(f"the gold file {gold_file} holds no beads (it is empty)",
                             "give the gold .align file with one bead per line")
        verify_file(pred_file)
        golds.append(beads)
        preds.append(read_align(pred_file))
    return score_alignments(golds, preds)
