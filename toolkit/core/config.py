"""Aligner settings, declared once: the library and the CLI both read these defaults."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class AlignConfig:
    """Aligner settings; the CLI reads these defaults rather than retyping them."""

    max_zh: int = 5           # most Chinese sentences in one bead
    max_en: int = 5           # most English sentences in one bead
    max_total: int = 6        # most sentences in one bead, both sides together
    threshold: float = 0.0    # subtracted from every bead's similarity before it is weighed
    floor: float = 0.1        # beads less similar than this are never made: omissions instead
    merge_cost: float = 0.0   # price per sentence beyond the second in a bead
    length_weight: float = 0.1  # weight of the squared log length-ratio deviation
    lexical_weight: float = 0.35  # share of the lexical vector in the similarity
    top_k: int = 8            # anchor candidates per Chinese sentence
    anchor_min: float = 0.35  # anchor candidates below this similarity are ignored
    window: int = 8           # band half-width around the anchor path (sentences)
    size_exponent: float = 0.4  # a bead of n+m sentences weighs (n+m)**size_exponent
    skip_penalty: float = 0.12  # price of leaving one sentence unaligned
    orphan_below: float = 0.15  # a sentence whose best match is weaker than this is free to leave unaligned
    orphan_above: float = 0.3   # ... and one whose best match is stronger costs the full skip_penalty
    omission_slack: float = 3.0  # surplus sentences between anchors beyond which omissions are free
    edge_mean: float = 4.0    # z-score of a rendered edge sentence against its bead's other side: mean ...
    edge_std: float = 2.0     # ... and spread (z: std. dev. above what it scores with the document at large)
    edge_gain: float = 0.02   # removing an edge sentence may raise its bead's similarity by at most this
    edge_min_left_out: float = 0.01  # below this share left out by the first pass on both sides, no edge test

    def __post_init__(self) -> None:
        if min(self.max_zh, self.max_en) < 1 or self.max_total < 2:
            raise ValueError("bead limits must allow at least 1-1 beads")
        if self.top_k < 1 or self.window < 1:
            raise ValueError("top_k and window must be positive")
        if not 0.0 <= self.lexical_weight < 1.0:
            raise ValueError("lexical_weight must be in [0, 1)")
        if not -1.0 <= self.threshold < 1.0:
            # similarities are at most 1: a threshold of 1 or more leaves everything unaligned
            raise ValueError(f"threshold {self.threshold:g} is outside [-1, 1): similarities are at most 1, "
                             "so it would align nothing (the default is 0)")

    def bead_types(self) -> list[tuple[int, int]]:
        """The n-m bead types (both sides non-empty) this configuration allows."""
        return [
            (n, m)
            for n in range(1, self.max_zh + 1)
            for m in range(1, self.max_en + 1)
            if n + m <= self.max_total
        ]

    def as_dict(self) -> dict:
        return asdict(self)
