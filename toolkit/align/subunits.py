"""Splitting an n-m bead into sub-units where its sentences pair up inside it (for TMX).

The aligner makes a 2-2 bead when the two sides are best scored together, which
is right for the alignment but coarse for a translation memory: a CAT tool looks
up one sentence at a time. Inside a bead, a monotone dynamic program over its
pieces (sentences, or SRX segments) finds the partition into parts (each 1-1 ...
3-3, both sides non-empty, covering every piece in order) that maximises the sum
of the parts' similarities weighted by their sizes. The partition is taken only
when the evidence is clear:

- every part is similar enough on its own (``min_part``);
- each part's Chinese is more similar to its own English than to any other part's,
  and the other way round, by ``margin`` (the sentences really pair up, rather
  than each carrying a bit of everything);
- the parts, weighted by size, are on average no less similar than the whole
  bead minus ``slack`` (cutting must not lose what the bead as a whole matched).

A part that still has several pieces is tested again on its own, so a 3-3 bead
can come out as three 1-1 units. The whole bead as one part is never a
candidate of the DP: the best real cut is weighed against it by the tests above.

Similarity is the aligner's embedding similarity: the cosine of the span texts'
embeddings (concatenated, as the aligner's exact mode does), through the same
embedder and cache. Cost: for a bead of n + m pieces, at most 3n + 3m span
texts embedded and n * m * 9 DP cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from toolkit.align.embed import Embedder

MAX_PART_SIDE = 3  # most pieces on one side of a part


@dataclass(frozen=True)
class SplitThresholds:
    """When a bead is cut (see the module docstring); similarities are cosines of the embedder's vectors."""

    min_part: float = 0.5
    margin: float = 0.2
    slack: float = 0.05


class BeadSplitter:
    """``split(zh_pieces, en_pieces)`` -> parts; implements :class:`toolkit.formats.writers.UnitSplitter`."""

    def __init__(self, embedder: Embedder, thresholds: SplitThresholds = SplitThresholds(),
                 max_part_side: int = MAX_PART_SIDE):
        self.embedder = embedder
        self.thresholds = thresholds
        self.max_part_side = max_part_side

    def pieces(self, text: str, lang: str) -> list[str]:
        """``text`` cut into sentences by the toolkit's own segmenter."""
        from toolkit.text.segment import segment_document

        if not text.strip():
            return []
        return segment_document(text, lang).texts() or [text]

    def _similarities(self, zh: Sequence[str], en: Sequence[str]):
        """sim[(a, b, c, d)]: cosine of zh[a:b] joined against en[c:d] joined, for spans up to the part size."""
        from toolkit.formats.writers import EN_JOINER, ZH_JOINER
        from toolkit.text.normalize import normalize_for_matching

        k = self.max_part_side
        zh_spans = [(a, b) for a in range(len(zh)) for b in range(a + 1, min(a + k, len(zh)) + 1)]
        en_spans = [(c, d) for c in range(len(en)) for d in range(c + 1, min(c + k, len(en)) + 1)]
        zh_spans.append((0, len(zh)))
        en_spans.append((0, len(en)))
        zh_vec = self.embedder.embed([normalize_for_matching(ZH_JOINER.join(zh[a:b]), "zh") for a, b in zh_spans])
        en_vec = self.embedder.embed([normalize_for_matching(EN_JOINER.join(en[c:d]), "en") for c, d in en_spans])
        matrix = zh_vec @ en_vec.T
        return {(a, b, c, d): float(matrix[i, j])
                for i, (a, b) in enumerate(zh_spans) for j, (c, d) in enumerate(en_spans)}

    def split(self, zh: Sequence[str], en: Sequence[str]) -> list[tuple[range, range]]:
        """Parts covering ``zh`` and ``en`` in order, or the one whole part when the evidence is not clear."""
        whole = [(range(len(zh)), range(len(en)))]
        if not zh or not en or (len(zh) == 1 and len(en) == 1):
            return whole
        sim = self._similarities(zh, en)
        parts = best_partition(len(zh), len(en), sim, self.max_part_side, at_least_two=True)
        if len(parts) < 2 or not self._clear(parts, sim, len(zh), len(en)):
            return whole
        finer = []  # a part of several pieces may pair up inside too: the same test on it alone
        for z, e in parts:
            for z2, e2 in self.split(zh[z.start:z.stop], en[e.start:e.stop]):
                finer.append((range(z.start + z2.start, z.start + z2.stop), range(e.start + e2.start, e.start + e2.stop)))
        return finer

    def _clear(self, parts: list[tuple[range, range]], sim: dict, n: int, m: int) -> bool:
        t = self.thresholds
        own = [sim[(z.start, z.stop, e.start, e.stop)] for z, e in parts]
        if min(own) < t.min_part:
            return False
        for k, (z, e) in enumerate(parts):
            for other, (z2, e2) in enumerate(parts):
                if other == k:
                    continue
                crossed = max(sim.get((z.start, z.stop, e2.start, e2.stop), -1.0),
                              sim.get((z2.start, z2.stop, e.start, e.stop), -1.0))
                if own[k] - crossed < t.margin:
                    return False
        sizes = [len(z) + len(e) for z, e in parts]
        average = sum(s * w for s, w in zip(own, sizes)) / sum(sizes)
        return average >= sim[(0, n, 0, m)] - t.slack


def best_partition(n: int, m: int, sim: dict, max_side: int, at_least_two: bool = False) -> list[tuple[range, range]]:
    """The monotone partition of n x m pieces into parts of 1..max_side pieces a side maximising
    sum((a + b) * sim[part]); ``sim`` keyed ``(zh_start, zh_stop, en_start, en_stop)``. O(n m max_side^2).

    ``at_least_two``: the whole as one part is not a candidate (the caller weighs the best cut
    against it). With no partition possible, the whole.
    """
    best = {(0, 0): (0.0, None)}
    for i in range(n + 1):
        for j in range(m + 1):
            if (i, j) == (0, 0) or not any((i - a, j - b) in best for a in range(1, max_side + 1)
                                           for b in range(1, max_side + 1)):
                continue
            options = []
            for a in range(1, min(max_side, i) + 1):
                for b in range(1, min(max_side, j) + 1):
                    whole = (i - a, j - b) == (0, 0) and (i, j) == (n, m)
                    if (i - a, j - b) in best and (i - a, i, j - b, j) in sim and not (whole and at_least_two):
                        options.append((best[(i - a, j - b)][0] + (a + b) * sim[(i - a, i, j - b, j)], (a, b)))
            if options:
                best[(i, j)] = max(options)
    if (n, m) not in best:
        return [(range(n), range(m))]
    parts = []
    i, j = n, m
    while (i, j) != (0, 0):
        a, b = best[(i, j)][1]
        parts.append((range(i - a, i), range(j - b, j)))
        i, j = i - a, j - b
    return parts[::-1]
