"""Sentence alignment: a cheap anchor pass, then a banded many-to-many DP, run twice.

The aligner sees each side as an (n, d) array of sentence vectors: an
L2-normalised sentence embedding, optionally followed by a weighted,
normalised lexical (dictionary) vector. A span of consecutive sentences is
represented by the normalised sum of its sentences' parts (or by a vector
given directly, e.g. the embedding of its concatenated text), so every bead's
similarity is one dot product.

1. Anchors: each Chinese sentence's top-k English candidates; the heaviest
   chain of candidates increasing on both sides (a weighted longest
   increasing subsequence, O(n k log m)) fixes where the path must pass.
   The same pass measures each sentence's background: its best, mean and
   spread of similarity with every sentence of the other side (O(n m d)).
2. Band: each DP row may use the English columns between its neighbouring
   anchors, widened by ``window``; rows without anchors inherit the span of
   the anchors around them.
3. DP over beads n-m (1 <= n, m; n <= max_zh, m <= max_en, n + m <= max_total)
   plus 1-0 and 0-1. A bead of n + m sentences earns
   (n+m)**size_exponent * (sim - threshold - length penalty); beads less
   similar than ``floor`` are not allowed, and an omitted sentence costs a
   price calibrated from the data (``skip_prices``). Headings and notes
   ("solo" sentences) form 1-1 beads or are left out for free.
4. Edge evidence: when the first pass leaves out at least
   ``edge_min_left_out`` of either side, a second pass makes only beads whose
   edge sentences carry content of the other side: removing one must not make
   its bead more similar (``edge_gain``), and its z-score against its
   background must pass a threshold set per side by that side's share left
   out (``edge_threshold``).
Cost per pass: O(sum of band widths x bead types) time, the same memory;
linear in document length for a fixed band.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from toolkit.core.config import AlignConfig
from toolkit.core.records import Bead

log = logging.getLogger(__name__)


Progress = Callable[[int], None]


def span_vectors(parts: list[np.ndarray], weights: list[float], max_len: int,
                 first_spans: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """Vectors for every span of 1..max_len consecutive sentences.

    parts: per-feature (n, d_f) arrays of sentence vectors (rows may be
    unnormalised; each span's sum is normalised per feature, then scaled by
    sqrt(weight) so the dot product of two spans is the weighted mean of the
    per-feature cosines). Returns a list indexed by length-1 of arrays of
    shape (n - length + 1, sum d_f); span s of length L covers sentences
    s .. s+L-1. ``first_spans``, when given, replaces the summed spans of the
    first feature with vectors computed directly (e.g. the embedding of each
    span's concatenated text): first_spans[L-1] has shape (n - L + 1, d_0).
    """
    n = parts[0].shape[0]
    out = []
    prefix = [np.concatenate([np.zeros((1, p.shape[1]), np.float32), np.cumsum(p, axis=0, dtype=np.float32)]) for p in parts]
    for length in range(1, max_len + 1):
        if length > n:
            out.append(np.zeros((0, sum(p.shape[1] for p in parts)), np.float32))
            continue
        pieces = []
        for f, (pre, w) in enumerate(zip(prefix, weights)):
            if f == 0 and first_spans is not None:
                span = np.array(first_spans[length - 1], dtype=np.float32)
            else:
                span = pre[length:] - pre[:-length]
            norm = np.linalg.norm(span, axis=1, keepdims=True)
            span /= np.maximum(norm, 1e-9)
            span *= np.sqrt(w)
            pieces.append(span)
        out.append(np.concatenate(pieces, axis=1).astype(np.float32))
    return out


def anchor_pairs(sim_topk: np.ndarray, idx_topk: np.ndarray, min_sim: float) -> list[tuple[int, int]]:
    """Heaviest chain of (zh, en) candidates strictly increasing on both sides.

    sim_topk, idx_topk: (n, k) similarities and English indices of each
    Chinese sentence's best candidates. Weight of a candidate is its
    similarity minus ``min_sim``; candidates below ``min_sim`` are dropped.
    Returns the chain in order. O(n k log m) with a Fenwick tree over English
    positions holding (best chain weight ending there, its last node).
    """
    n, k = sim_topk.shape
    m = int(idx_topk.max()) + 1 if idx_topk.size else 0
    tree_val = np.zeros(m + 1)
    tree_node = np.full(m + 1, -1, dtype=np.int64)
    nodes: list[tuple[int, int, int]] = []  # (zh, en, parent node)
    best_val, best_node = 0.0, -1

    def query(pos: int) -> tuple[float, int]:  # best chain over English indices < pos
        val, node = 0.0, -1
        while pos > 0:
            if tree_val[pos] > val:
                val, node = tree_val[pos], tree_node[pos]
            pos -= pos & -pos
        return val, node

    def update(pos: int, val: float, node: int) -> None:  # pos is 1-based
        while pos <= m:
            if val > tree_val[pos]:
                tree_val[pos], tree_node[pos] = val, node
            pos += pos & -pos

    for i in range(n):
        # Query every candidate before updating, so a row contributes at most one node to a chain.
        pending = []
        for c in range(k):
            s = float(sim_topk[i, c])
            if s < min_sim:
                continue
            j = int(idx_topk[i, c])
            val, parent = query(j)
            pending.append((j, val + s - min_sim, parent))
        for j, val, parent in pending:
            nodes.append((i, j, parent))
            update(j + 1, val, len(nodes) - 1)
            if val > best_val:
                best_val, best_node = val, len(nodes) - 1
    chain = []
    node = best_node
    while node >= 0:
        i, j, parent = nodes[node]
        chain.append((i, j))
        node = parent
    return chain[::-1]


def band_limits(n: int, m: int, anchors: list[tuple[int, int]], window: int) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive English prefix-column limits [lo[i], hi[i]] for DP rows i = 0..n.

    Row i (i Chinese sentences consumed) may be at any column between the
    anchor before it and the anchor after it, widened by ``window``; the
    corners (0, 0) and (n, m) are always inside.
    """
    points = [(0, 0)] + [(i + 1, j + 1) for i, j in anchors] + [(n, m)]
    lo = np.full(n + 1, m, dtype=np.int64)
    hi = np.zeros(n + 1, dtype=np.int64)
    for (i0, j0), (i1, j1) in zip(points, points[1:]):
        # Rows between two anchors may use any column between them (widened).
        lo[i0:i1 + 1] = np.minimum(lo[i0:i1 + 1], j0 - window)
        hi[i0:i1 + 1] = np.maximum(hi[i0:i1 + 1], j1 + window)
    # Anchors are approximate (an anchor may sit inside a larger bead), so each
    # row also sees the columns of the rows within ``window`` of it.
    lo = np.array([lo[max(0, i - window):i + window + 1].min() for i in range(n + 1)])
    hi = np.array([hi[max(0, i - window):i + window + 1].max() for i in range(n + 1)])
    lo = np.clip(lo, 0, m)
    hi = np.clip(hi, 0, m)
    # Monotone limits keep every bead's predecessor cell inside the band.
    lo = np.minimum.accumulate(lo[::-1])[::-1]
    hi = np.maximum.accumulate(hi)
    lo[0], hi[-1] = 0, m
    return lo, hi


def dp_align(
    zh_spans: list[np.ndarray],
    en_spans: list[np.ndarray],
    zh_len: np.ndarray,
    en_len: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    config: AlignConfig,
    ratio: float,
    progress: Progress | None = None,
    skip_zh: np.ndarray | None = None,
    skip_en: np.ndarray | None = None,
    zh_bg: Background | None = None,
    en_bg: Background | None = None,
    zh_solo: np.ndarray | None = None,
    en_solo: np.ndarray | None = None,
) -> list[tuple[tuple[int, ...], tuple[int, ...], float]]:
    """Best bead sequence inside the band.

    zh_spans[L-1]: (n-L+1, d) span vectors, en_spans likewise (see
    span_vectors). zh_len, en_len: per-sentence lengths (characters) used for
    the length-ratio penalty; ``ratio`` is the expected en/zh length ratio.
    lo, hi: (n+1,) inclusive column limits per row. Returns beads as
    (zh indices, en indices, similarity) in order; omissions have one empty
    side and similarity 0. Time O(sum(hi - lo + 1) x bead types); memory
    O(sum(hi - lo + 1)). ``skip_zh`` (n,) and ``skip_en`` (m,) give the price
    of leaving each sentence unaligned (default: config.skip_penalty).

    Edge evidence: with ``zh_bg`` / ``en_bg`` (see :class:`Background`), a bead
    of several sentences on one side is made only if each of that side's edge
    sentences carries content of the other side: its own similarity with the
    other side's span is at least the background's ``threshold`` standard
    deviations above what the sentence scores with the document at large, and
    taking it away would not raise the bead's similarity by more than
    ``config.edge_gain``.
    An unrendered aside next to a rendered sentence is then its own omission.
    ``zh_solo`` / ``en_solo`` (bool per sentence) mark headings and notes: they
    may form 1-1 beads or be left out, never join a larger bead. The edge tests
    add O(4) dot products per cell and bead type.
    """
    n, m = len(zh_len), len(en_len)
    if skip_zh is None:
        skip_zh = np.full(n, config.skip_penalty)
    if skip_en is None:
        skip_en = np.full(m, config.skip_penalty)
    # en_skip_cum[j]: price of leaving English sentences 0 .. j-1 all unaligned.
    en_skip_cum = np.concatenate([[0.0], np.cumsum(skip_en, dtype=np.float64)])
    types = config.bead_types()
    zh_cum = np.concatenate([[0.0], np.cumsum(zh_len, dtype=np.float64)])
    en_cum = np.concatenate([[0.0], np.cumsum(en_len, dtype=np.float64)])
    zh_solo_cum = np.concatenate([[0], np.cumsum(zh_solo if zh_solo is not None else np.zeros(n, bool))])
    en_solo_cum = np.concatenate([[0], np.cumsum(en_solo if en_solo is not None else np.zeros(m, bool))])
    log_ratio = np.log(ratio)
    NEG = -1e18
    rows_val: list[np.ndarray] = []
    rows_back: list[np.ndarray] = []  # bead-type code per cell: t >= 0 types, -1 = 1-0, -2 = 0-1, -3 = start
    rows_src: list[np.ndarray] = []   # for 0-1 runs: the column the run started from
    rows_sim: list[np.ndarray] = []
    for i in range(n + 1):
        cols = np.arange(lo[i], hi[i] + 1)
        width = len(cols)
        val = np.full(width, NEG)
        back = np.full(width, -3, dtype=np.int8)
        sim_best = np.zeros(width, dtype=np.float32)
        if i == 0:
            val[cols == 0] = 0.0
        for t, (bn, bm) in enumerate(types):
            if bn > i:
                continue
            prev_row = i - bn
            pcols = cols - bm
            ok = (pcols >= lo[prev_row]) & (pcols <= hi[prev_row])
            if not ok.any():
                continue
            pv = np.full(width, NEG)
            pv[ok] = rows_val[prev_row][pcols[ok] - lo[prev_row]]
            zh_vec = zh_spans[bn - 1][i - bn]
            en_block = en_spans[bm - 1][np.clip(pcols, 0, max(len(en_spans[bm - 1]) - 1, 0))]
            if en_block.shape[0] == 0:
                continue
            sim = en_block @ zh_vec
            zl = zh_cum[i] - zh_cum[i - bn]
            el = en_cum[np.clip(cols, 0, m)] - en_cum[np.clip(pcols, 0, m)]
            dev = np.log((el + 1.0) / (zl + 1.0)) - log_ratio
            size = (bn + bm) ** config.size_exponent
            # Capped: a wrong ratio estimate must not outweigh a clear match.
            gain = size * (sim - config.threshold - config.length_weight * np.minimum(dev * dev, 1.0))
            gain -= config.merge_cost * max(bn + bm - 2, 0)
            cand = pv + gain
            allowed = ok & (sim >= config.floor)
            if bn + bm > 2:  # headings and notes stand alone
                if zh_solo_cum[i] - zh_solo_cum[i - bn]:
                    continue
                safe_cols = np.clip(cols, 0, m)
                allowed &= (en_solo_cum[safe_cols] - en_solo_cum[np.clip(pcols, 0, m)]) == 0
            if bm > 1 and en_bg is not None:
                allowed &= _edges_carry(sim, zh_vec, en_spans, en_bg, np.clip(pcols, 0, m - bm), bm, config)
            if bn > 1 and zh_bg is not None:
                allowed &= _edges_carry_zh(sim, en_block, zh_spans, zh_bg, i - bn, bn, config)
            better = allowed & (cand > val)
            val[better] = cand[better]
            back[better] = t
            sim_best[better] = sim[better]
        if i > 0:  # 1-0: skip a Chinese sentence
            ok = (cols >= lo[i - 1]) & (cols <= hi[i - 1])
            pv = np.full(width, NEG)
            pv[ok] = rows_val[i - 1][cols[ok] - lo[i - 1]] - skip_zh[i - 1]
            better = ok & (pv > val)
            val[better] = pv[better]
            back[better] = -1
            sim_best[better] = 0.0
        # 0-1 runs within the row: a run of skipped English sentences from column c
        # to column j is worth val[c] - (C[j] - C[c]) with C the cumulative skip
        # price; take the running maximum of val + C.
        price = en_skip_cum[cols]
        tilted = val + price
        run_best = np.maximum.accumulate(tilted)
        src = np.where(tilted >= run_best, np.arange(width), 0)
        src = np.maximum.accumulate(src)
        moved = run_best > tilted
        val = np.where(moved, run_best - price, val)
        back[moved] = -2
        sim_best[moved] = 0.0
        rows_val.append(val)
        rows_back.append(back)
        rows_src.append(src + lo[i])
        rows_sim.append(sim_best)
        if progress is not None and i % 256 == 0 and i:
            progress(256)
    if progress is not None:
        progress(n % 256 if n % 256 else 0)

    beads: list[tuple[tuple[int, ...], tuple[int, ...], float]] = []
    i, j = n, m
    while i > 0 or j > 0:
        c = j - lo[i]
        code = int(rows_back[i][c])
        if code == -2:
            start = int(rows_src[i][c])
            for col in range(j, start, -1):
                beads.append(((), (col - 1,), 0.0))
            j = start
            code = int(rows_back[i][j - lo[i]])
            if code == -2:  # defensive: a run never starts at another run's end
                raise AssertionError("inconsistent back pointers")
            continue
        if code == -1:
            beads.append(((i - 1,), (), 0.0))
            i -= 1
            continue
        if code == -3:
            raise AssertionError(f"no path reaches cell ({i}, {j})")
        bn, bm = types[code]
        sim = float(rows_sim[i][c])
        beads.append((tuple(range(i - bn, i)), tuple(range(j - bm, j)), sim))
        i, j = i - bn, j - bm
    return beads[::-1]


def edge_threshold(left_out: float, config: AlignConfig) -> float:
    """The z-score an edge sentence of a bead needs, given the share of its side left out.

    Two hypotheses for an edge sentence with score z (see :class:`Background`):
    not rendered, z ~ N(0, 1) by construction, with prior ``left_out``; or
    rendered, z ~ N(edge_mean, edge_std). The threshold is where the second
    becomes the likelier: solved on a grid; -inf (no z test) when ``left_out``
    is below ``config.edge_min_left_out``, or when the null is nowhere the
    likelier (below about 4 % with the default N(4, 2)).
    """
    if left_out < config.edge_min_left_out:
        return -np.inf
    u = min(left_out, 0.95)
    z = np.linspace(-6.0, config.edge_mean, 2001)
    null = np.log(u) - 0.5 * z * z
    rendered = np.log(1.0 - u) - np.log(config.edge_std) - 0.5 * ((z - config.edge_mean) / config.edge_std) ** 2
    # The null's narrower spread makes it the likelier only around 0; the
    # threshold is the upper end of that stretch.
    likelier_null = np.nonzero(null > rendered)[0]
    return float(z[likelier_null[-1]]) if likelier_null.size else -np.inf


def _edge_carries(sim, own, without, bg: Background, edge, config: AlignConfig) -> np.ndarray:
    """Does edge sentence ``edge`` carry content of the other side? ``sim``: the bead's
    similarity; ``own``: the edge sentence's with the other side's span; ``without``:
    the bead's without it. Arrays of the same shape (or scalars); bool."""
    return (bg.z(edge, own) >= bg.threshold) & (sim - without >= -config.edge_gain)


def _edges_carry(sim: np.ndarray, zh_vec: np.ndarray, en_spans: list[np.ndarray], en_bg: Background,
                 first: np.ndarray, bm: int, config: AlignConfig) -> np.ndarray:
    """For English spans starting at ``first`` (w,) of length ``bm`` >= 2 against one
    Chinese span vector: does each edge sentence carry content of the Chinese? (w,) bool."""
    ok = np.ones(len(first), dtype=bool)
    for edge, rest_start in ((first, first + 1), (first + bm - 1, first)):
        ok &= _edge_carries(sim, en_spans[0][edge] @ zh_vec, en_spans[bm - 2][rest_start] @ zh_vec,
                            en_bg, edge, config)
    return ok


def _edges_carry_zh(sim: np.ndarray, en_block: np.ndarray, zh_spans: list[np.ndarray], zh_bg: Background,
                    first: int, bn: int, config: AlignConfig) -> np.ndarray:
    """The same test for the Chinese edge sentences of one span of ``bn`` >= 2 sentences
    starting at ``first``, against English blocks (w, d). (w,) bool."""
    ok = np.ones(en_block.shape[0], dtype=bool)
    for edge, rest_start in ((first, first + 1), (first + bn - 1, first)):
        ok &= _edge_carries(sim, en_block @ zh_spans[0][edge], en_block @ zh_spans[bn - 2][rest_start],
                            zh_bg, edge, config)
    return ok


def align_vectors(
    zh_parts: list[np.ndarray],
    en_parts: list[np.ndarray],
    weights: list[float],
    zh_len: np.ndarray,
    en_len: np.ndarray,
    config: AlignConfig = AlignConfig(),
    progress: Progress | None = None,
    zh_first_spans: list[np.ndarray] | None = None,
    en_first_spans: list[np.ndarray] | None = None,
    zh_solo: np.ndarray | None = None,
    en_solo: np.ndarray | None = None,
) -> tuple[list[Bead], dict]:
    """Align two documents given per-sentence feature vectors.

    zh_parts / en_parts: lists of (n, d_f) / (m, d_f) arrays, one per feature
    (embedding, lexical...), combined with ``weights``. ``*_first_spans``
    optionally give the first feature's span vectors directly (see
    span_vectors). ``zh_solo`` (n,) / ``en_solo`` (m,) bool mark headings and
    notes: free to leave out, 1-1 beads only, not counted as left out when the
    edge thresholds are set. Returns the beads and a dict of diagnostics
    (anchors, band cells, length ratio, each side's share left out by the first
    pass and its edge threshold).
    """
    n, m = len(zh_len), len(en_len)
    if n == 0 or m == 0:
        beads = [Bead((i,), ()) for i in range(n)] + [Bead((), (j,)) for j in range(m)]
        return beads, {"anchors": 0, "band_cells": 0, "ratio": 0.0}
    max_len = max(config.max_zh, config.max_en)
    zh_spans = span_vectors(zh_parts, weights, min(max_len, config.max_zh), zh_first_spans)
    en_spans = span_vectors(en_parts, weights, min(max_len, config.max_en), en_first_spans)
    anchors, zh_bg, en_bg = find_anchors(zh_spans[0], en_spans[0], config)
    ratio = _length_ratio(anchors, zh_len, en_len)
    lo, hi = band_limits(n, m, anchors, config.window)
    skip_zh, skip_en = skip_prices(zh_bg.best, en_bg.best, anchors, config)
    if zh_solo is not None:
        skip_zh = np.where(zh_solo, 0.0, skip_zh)
    if en_solo is not None:
        skip_en = np.where(en_solo, 0.0, skip_en)
    raw = dp_align(zh_spans, en_spans, zh_len, en_len, lo, hi, config, ratio, None, skip_zh, skip_en,
                   None, None, zh_solo, en_solo)
    # How much of each side the first pass leaves out is the document's own
    # measure of how condensed the translation is: the prior that a bead's edge
    # sentence is not rendered at all. A full translation leaves almost nothing
    # out, and the edge tests relax until they never bite.
    zh_left = sum(1 for z, e, _ in raw if not e for i in z if zh_solo is None or not zh_solo[i]) / n
    en_left = sum(1 for z, e, _ in raw if not z for j in e if en_solo is None or not en_solo[j]) / m
    zh_bg = replace(zh_bg, threshold=edge_threshold(zh_left, config))
    en_bg = replace(en_bg, threshold=edge_threshold(en_left, config))
    # A first pass that leaves out a sentence in a hundred on either side says the
    # document has omissions, some of which it hid by gluing them onto a
    # neighbouring bead (a glued sentence is not counted as left out): the second
    # pass tests every multi-sentence bead's edges, on both sides.
    tested = max(zh_left, en_left) >= config.edge_min_left_out
    if tested:
        raw = dp_align(zh_spans, en_spans, zh_len, en_len, lo, hi, config, ratio, progress, skip_zh, skip_en,
                       zh_bg, en_bg, zh_solo, en_solo)
    elif progress is not None:
        progress(n)
    beads = [Bead(z, e, score=_confidence(s, config) if z and e else 0.0) for z, e, s in raw]
    info = {"anchors": len(anchors), "band_cells": int((hi - lo + 1).sum()), "ratio": round(float(ratio), 4),
            "left_out_first_pass": {"zh": round(zh_left, 4), "en": round(en_left, 4)},
            "edge_test": tested, "edge_z": {"zh": _finite(zh_bg.threshold), "en": _finite(en_bg.threshold)}}
    return beads, info


def _finite(value: float) -> float | None:
    """A threshold for the signature: None when the test is off."""
    return round(float(value), 3) if np.isfinite(value) else None


def skip_prices(zh_best: np.ndarray, en_best: np.ndarray, anchors: list[tuple[int, int]],
                config: AlignConfig) -> tuple[np.ndarray, np.ndarray]:
    """Price of leaving each sentence unaligned, calibrated from the data.

    Two kinds of evidence that a sentence is an omission (an editor's intro,
    a host's aside, a skipped anecdote) make leaving it out cheaper:

    - its best match anywhere on the other side is weak: the price rises
      linearly from 0 at ``orphan_below`` to the full ``skip_penalty`` at
      ``orphan_above``;
    - it lies between two anchors where its side has more sentences than
      beads of the allowed sizes could pair with the other side's sentences
      there (plus ``omission_slack``): that surplus is an omitted passage,
      and leaving it out is free.

    Elsewhere a sentence with a clear counterpart is merged into a bead rather
    than dropped. Returns (skip_zh (n,), skip_en (m,)).
    """
    span = max(config.orphan_above - config.orphan_below, 1e-9)

    def price(best: np.ndarray) -> np.ndarray:
        return config.skip_penalty * np.clip((best - config.orphan_below) / span, 0.0, 1.0)

    skip_zh, skip_en = price(zh_best), price(en_best)
    n, m = len(zh_best), len(en_best)
    points = [(-1, -1)] + list(anchors) + [(n, m)]
    for (i0, j0), (i1, j1) in zip(points, points[1:]):
        zh_gap, en_gap = i1 - i0 - 1, j1 - j0 - 1  # sentences strictly between the anchors
        # More sentences than beads of the allowed sizes could pair with the
        # other side's gap: the surplus is an omitted passage.
        if en_gap > config.max_en * zh_gap + config.omission_slack:
            skip_en[j0 + 1:j1] = 0.0
        if zh_gap > config.max_zh * en_gap + config.omission_slack:
            skip_zh[i0 + 1:i1] = 0.0
    return skip_zh, skip_en


@dataclass(frozen=True)
class Background:
    """How similar each sentence is to the other side's sentences at large.

    best: (k,) its best similarity with any sentence of the other side, the
    evidence that it has a counterpart; mean, std: (k,) the mean and standard
    deviation of its similarities with all of them, the document's own measure
    of what an unrelated pair scores for this sentence.
    """

    best: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    threshold: float = -np.inf  # the z an edge sentence needs (see edge_threshold)

    def z(self, index, sim):
        """How many standard deviations ``sim`` lies above what sentence ``index`` scores with anything."""
        return (sim - self.mean[index]) / self.std[index]


def find_anchors(zh: np.ndarray, en: np.ndarray, config: AlignConfig,
                 block: int = 2048) -> tuple[list[tuple[int, int]], Background, Background]:
    """Top-k English candidates per Chinese sentence, then the heaviest increasing chain.

    Also returns each side's :class:`Background`: every sentence's best, mean
    and spread of similarity with the other side's sentences. O(n m d) time in
    blocks of ``block`` rows, O(block m) memory.
    """
    k = min(config.top_k, en.shape[0])
    sims = np.empty((zh.shape[0], k), np.float32)
    idx = np.empty((zh.shape[0], k), np.int64)
    n, m = zh.shape[0], en.shape[0]
    zh_best = np.empty(n, np.float32)
    zh_sum = np.empty(n, np.float64)
    zh_sq = np.empty(n, np.float64)
    en_best = np.full(m, -np.inf, np.float32)
    en_sum = np.zeros(m, np.float64)
    en_sq = np.zeros(m, np.float64)
    for start in range(0, n, block):
        s = zh[start:start + block] @ en.T
        part = np.argpartition(-s, k - 1, axis=1)[:, :k]
        sims[start:start + block] = np.take_along_axis(s, part, axis=1)
        idx[start:start + block] = part
        zh_best[start:start + block] = s.max(axis=1)
        zh_sum[start:start + block] = s.sum(axis=1, dtype=np.float64)
        zh_sq[start:start + block] = np.einsum("ij,ij->i", s, s, dtype=np.float64)
        np.maximum(en_best, s.max(axis=0), out=en_best)
        en_sum += s.sum(axis=0, dtype=np.float64)
        en_sq += np.einsum("ij,ij->j", s, s, dtype=np.float64)
    return (anchor_pairs(sims, idx, config.anchor_min),
            _background(zh_best, zh_sum, zh_sq, m), _background(en_best, en_sum, en_sq, n))


def _background(best: np.ndarray, total: np.ndarray, squares: np.ndarray, count: int) -> Background:
    mean = total / max(count, 1)
    var = np.maximum(squares / max(count, 1) - mean * mean, 0.0)
    # A floor on the spread: a side of one or two sentences has (almost) none.
    return Background(best=best, mean=mean.astype(np.float32), std=np.maximum(np.sqrt(var), 0.02).astype(np.float32))


def _length_ratio(anchors: list[tuple[int, int]], zh_len: np.ndarray, en_len: np.ndarray) -> float:
    """Expected English/Chinese length ratio, from anchor pairs when there are enough."""
    if len(anchors) >= 3:
        zi, ej = zip(*anchors)
        ratios = (en_len[list(ej)] + 1.0) / (zh_len[list(zi)] + 1.0)
        return float(np.median(ratios))
    return float((en_len.sum() + 1.0) / (zh_len.sum() + 1.0))


CONFIDENCE_CENTRE = 0.15  # above the floor: a bead this much more similar scores 0.5
CONFIDENCE_SLOPE = 15.0


def _confidence(sim: float, config: AlignConfig) -> float:
    """Map a bead's similarity to (0, 1): 0.5 a little above the floor, rising with the margin.

    A display and filtering score, monotone in the similarity; not a probability.
    """
    return float(1.0 / (1.0 + np.exp(-(sim - config.floor - CONFIDENCE_CENTRE) * CONFIDENCE_SLOPE)))
