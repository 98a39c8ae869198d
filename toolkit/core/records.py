"""The record shapes every stage passes along: segments, beads, alignments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ORIGINS = ("aligned", "mt", "human")
KINDS = ("sentence", "heading", "note")  # note: [APPLAUSE], editor notes
BEAD_ID_PREFIX = "b"
_BEAD_ID = re.compile(rf"{BEAD_ID_PREFIX}([1-9][0-9]*)")


def bead_id(number: int) -> str:
    """The stable id of the bead an alignment numbers ``number`` (1-based): ``"b243"``."""
    return f"{BEAD_ID_PREFIX}{number}"


def bead_id_number(value: object) -> int | None:
    """``"b243"`` -> 243; None for anything that is not a bead id."""
    match = _BEAD_ID.fullmatch(value) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def record_bead_id(value: object, number: int) -> str:
    """The bead id of a JSONL record's ``id``: itself if it is one; ``"bN"`` for the whole number N that
    files written before ids were stable hold (the bead's position then); else ``"b<number>"``."""
    if bead_id_number(value) is not None:
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return bead_id(value)
    return bead_id(number)


@dataclass(frozen=True)
class Segment:
    """One sentence (or heading) of a document.

    ``text`` is exactly as the user wrote it (traditional script stays
    traditional); ``norm`` is the form used for matching only (simplified
    script, folded whitespace). ``speaker`` is set on the first sentence of a
    speaker's turn when the source carried a label such as ``Sam Altman:``;
    the label itself stays in ``text``. ``start`` is where the sentence begins in
    the recording, in seconds, when the input was timed (subtitles, a timestamped
    transcript): the start of the cue, or of the inline word timestamp, where its
    first word is; None for plain text.
    """

    index: int
    text: str
    norm: str
    lang: str
    speaker: str | None = None
    kind: str = "sentence"
    paragraph: int = 0
    start: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown segment kind {self.kind!r}; expected one of {KINDS}")
        if self.lang not in ("zh", "en"):
            raise ValueError(f"unknown language {self.lang!r}; expected 'zh' or 'en'")


@dataclass(frozen=True)
class Document:
    """A named, segmented document in one language."""

    name: str
    lang: str
    segments: tuple[Segment, ...]
    script: str = ""  # for zh: "simplified" or "traditional" as detected in the input

    def __len__(self) -> int:
        return len(self.segments)

    def texts(self) -> list[str]:
        return [s.text for s in self.segments]

    def norms(self) -> list[str]:
        return [s.norm for s in self.segments]


@dataclass(frozen=True)
class Bead:
    """A group of Chinese sentences paired with a group of English sentences.

    Indices are 0-based and contiguous on each side; one side may be empty
    (an omission: 1-0 or 0-1). ``score`` is the aligner's confidence in [0, 1]
    (0 for omissions). ``origin`` says who made the pair: the aligner, machine
    translation (``mt``, the English side is ``mt_text``, ``mt_flags`` what its
    checks raised) or a human reviewer. ``id`` is the bead's stable id
    (``"b243"``): given at alignment as ``b1..bN`` (empty here means "by
    position"); a review's merge keeps the first bead's, a split gives its
    second part a new one that was never used (:mod:`toolkit.review.session`).
    """

    zh: tuple[int, ...]
    en: tuple[int, ...]
    score: float = 0.0
    origin: str = "aligned"
    mt_text: str | None = None
    mt_flags: tuple[str, ...] = ()  # what the MT output checks raised (empty: passed)
    id: str = ""

    def __post_init__(self) -> None:
        if not self.zh and not self.en:
            raise ValueError("a bead needs at least one sentence on one side")
        if self.id and bead_id_number(self.id) is None:
            raise ValueError(f"bead id must look like 'b243', not {self.id!r}")
        for side in (self.zh, self.en):
            if side and list(side) != list(range(side[0], side[0] + len(side))):
                raise ValueError(f"bead indices must be contiguous and ascending: {side}")
        if self.origin not in ORIGINS:
            raise ValueError(f"unknown origin {self.origin!r}; expected one of {ORIGINS}")

    @property
    def kind(self) -> str:
        """The bead type, e.g. ``"1-2"`` or ``"0-1"``."""
        return f"{len(self.zh)}-{len(self.en)}"


@dataclass(frozen=True)
class Alignment:
    """An aligned document pair: both segmented sides and the beads between them."""

    name: str
    zh: Document
    en: Document
    beads: tuple[Bead, ...]
    signature: dict = field(default_factory=dict)
