"""The aligner's kernels on hand-made vectors with known answers (no embedder).

Every sentence is a mix of orthonormal "concept" vectors: a Chinese sentence
and an English sentence that share a concept are translations, sentences with
a concept nobody else has are omissions, and a sentence that carries several
concepts is the counterpart of a run of sentences on the other side. Lengths
follow the concepts (20 Chinese characters, 60 English characters each), so
the length-ratio term agrees with the intended beads.
"""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.align.dp import align_vectors, anchor_pairs, band_limits, dp_align, find_anchors, skip_prices, span_vectors
from toolkit.core.config import AlignConfig
from toolkit.core.records import Bead

ZH_CHARS_PER_CONCEPT = 20
EN_CHARS_PER_CONCEPT = 60
DIM = 256


def _concept_basis(dim: int = DIM) -> np.ndarray:
    """(dim, dim) orthonormal rows, fixed by the seed."""
    q, _ = np.linalg.qr(np.random.default_rng(7).standard_normal((dim, dim)))
    return q.T.astype(np.float32)


BASIS = _concept_basis()


class Concepts:
    """Names -> orthonormal vectors, handed out on first use."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def vector(self, spec: str) -> np.ndarray:
        """``"a"`` or a mix ``"a+b+c"``: the normalised sum of the named concepts."""
        total = np.zeros(DIM, np.float32)
        for name in spec.split("+"):
            total += BASIS[self.ids.setdefault(name, len(self.ids))]
        return total / np.linalg.norm(total)


def _side(concepts: Concepts, specs: list[str], chars_per_concept: int) -> tuple[np.ndarray, np.ndarray]:
    vectors = np.array([concepts.vector(s) for s in specs], np.float32).reshape(len(specs), DIM)
    lengths = np.array([chars_per_concept * len(s.split("+")) for s in specs], np.float64)
    return vectors, lengths


def align_specs(zh: list[str], en: list[str], config: AlignConfig = AlignConfig()) -> list[tuple[tuple, tuple]]:
    """Align sentences given as concept specs; returns (zh ids, en ids) per bead."""
    concepts = Concepts()
    zh_vec, zh_len = _side(concepts, zh, ZH_CHARS_PER_CONCEPT)
    en_vec, en_len = _side(concepts, en, EN_CHARS_PER_CONCEPT)
    beads, _ = align_vectors([zh_vec], [en_vec], [1.0], zh_len, en_len, config)
    return [(b.zh, b.en) for b in beads]


def context(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(count)]


def diagonal(zh_start: int, en_start: int, count: int) -> list[tuple[tuple, tuple]]:
    return [((zh_start + k,), (en_start + k,)) for k in range(count)]


def assert_partition(beads: list[tuple[tuple, tuple]], n: int, m: int) -> None:
    """Every sentence is in exactly one bead, in order on both sides."""
    assert [i for zh, _ in beads for i in zh] == list(range(n))
    assert [j for _, en in beads for j in en] == list(range(m))


# ---------------------------------------------------------------------------
# align_vectors / dp_align: whole documents with known answers

PRE, POST = context("p", 6), context("q", 6)  # aligned context around each case

CASES = {
    "one-to-one diagonal": (
        context("c", 12), context("c", 12),
        diagonal(0, 0, 12),
    ),
    "chinese omission (1-0)": (
        PRE + ["zh-only"] + POST, PRE + POST,
        diagonal(0, 0, 6) + [((6,), ())] + diagonal(7, 6, 6),
    ),
    "ten english omissions (0-1 x 10)": (
        PRE + POST, PRE + context("en-only", 10) + POST,
        diagonal(0, 0, 6) + [((), (6 + k,)) for k in range(10)] + diagonal(6, 16, 6),
    ),
    "one-to-three split": (
        PRE + ["a+b+c"] + POST, PRE + ["a", "b", "c"] + POST,
        diagonal(0, 0, 6) + [((6,), (6, 7, 8))] + diagonal(7, 9, 6),
    ),
    "two-to-one merge": (
        PRE + ["a", "b"] + POST, PRE + ["a+b"] + POST,
        diagonal(0, 0, 6) + [((6, 7), (6,))] + diagonal(8, 7, 6),
    ),
    # The first Chinese sentence carries the third English one: no monotone
    # split into smaller beads exists, so the whole crossing is one 2-3 bead.
    "two-to-three crossing": (
        PRE + ["c", "a+b"] + POST, PRE + ["a", "b", "c"] + POST,
        diagonal(0, 0, 6) + [((6, 7), (6, 7, 8))] + diagonal(8, 9, 6),
    ),
    "two-to-two crossing": (
        PRE + ["b", "a"] + POST, PRE + ["a", "b"] + POST,
        diagonal(0, 0, 6) + [((6, 7), (6, 7))] + diagonal(8, 8, 6),
    ),
    "omissions at both ends": (
        ["zh-only"] + context("c", 8), context("c", 8) + ["en-only"],
        [((0,), ())] + diagonal(1, 0, 8) + [((), (8,))],
    ),
    # 40 English sentences with no counterpart in the middle of 60 aligned
    # ones: far wider than the band's window, so only the anchors find it.
    "long english passage omitted": (
        context("c", 60), context("c", 30) + context("en-only", 40) + context("c", 60)[30:],
        diagonal(0, 0, 30) + [((), (30 + k,)) for k in range(40)] + diagonal(30, 70, 30),
    ),
    "long chinese passage omitted": (
        context("c", 30) + context("zh-only", 25) + context("c", 60)[30:], context("c", 60),
        diagonal(0, 0, 30) + [((30 + k,), ()) for k in range(25)] + diagonal(55, 30, 30),
    ),
}


@pytest.mark.parametrize("zh, en, expected", CASES.values(), ids=CASES.keys())
def test_align_vectors_known_answers(zh, en, expected):
    beads = align_specs(zh, en)
    assert_partition(beads, len(zh), len(en))
    assert beads == expected


def test_unrelated_documents_are_all_omissions():
    beads = align_specs(context("x", 10), context("y", 10))
    assert_partition(beads, 10, 10)
    assert all(not zh or not en for zh, en in beads)


def _condensed(kept: int, english_per_chinese: int) -> tuple[list[str], list[str]]:
    """Chinese keeps one sentence of every ``english_per_chinese`` English ones."""
    en = []
    for i in range(kept):
        en += [f"c{i}"] + [f"en-only{i}.{k}" for k in range(english_per_chinese - 1)]
    return context("c", kept), en


@pytest.mark.parametrize("kept, per", [(8, 10), (3, 20)], ids=["8-of-80", "3-of-60"])
def test_condensed_translation_with_few_anchors(kept, per):
    zh, en = _condensed(kept, per)
    beads = align_specs(zh, en)
    assert_partition(beads, len(zh), len(en))
    assert [(z, e) for z, e in beads if z] == [((i,), (i * per,)) for i in range(kept)]


def test_condensed_translation_with_many_anchors():
    zh, en = _condensed(12, 10)
    beads = align_specs(zh, en)
    assert [(z, e) for z, e in beads if z] == [((i,), (i * 10,)) for i in range(12)]


@pytest.mark.parametrize(
    "n, m",
    [(0, 0), (0, 3), (4, 0)],
)
def test_align_vectors_empty_side(n, m):
    zh_vec = np.ones((n, 4), np.float32)
    en_vec = np.ones((m, 4), np.float32)
    beads, info = align_vectors([zh_vec], [en_vec], [1.0], np.full(n, 10.0), np.full(m, 30.0))
    assert [(b.zh, b.en) for b in beads] == [((i,), ()) for i in range(n)] + [((), (j,)) for j in range(m)]
    assert all(b.score == 0.0 for b in beads)
    assert info["anchors"] == 0


def test_align_vectors_scores_and_info():
    concepts = Concepts()
    zh_vec, zh_len = _side(concepts, context("c", 12) + ["zh-only"], ZH_CHARS_PER_CONCEPT)
    en_vec, en_len = _side(concepts, context("c", 12), EN_CHARS_PER_CONCEPT)
    beads, info = align_vectors([zh_vec], [en_vec], [1.0], zh_len, en_len)
    assert all(isinstance(b, Bead) for b in beads)
    aligned = [b for b in beads if b.zh and b.en]
    # Identical vectors: far above the threshold, so confidence near 1; omissions score 0.
    assert all(0.9 < b.score <= 1.0 for b in aligned)
    assert [b.score for b in beads if not b.en] == [0.0]
    assert info["anchors"] == 12
    # Each pair has 60 English characters (+1) over 20 Chinese ones (+1).
    assert info["ratio"] == pytest.approx(61 / 21, abs=1e-3)
    assert info["band_cells"] > 0


def test_two_features_are_weighted():
    """A lexical part that disagrees with a weak embedding part decides when it weighs more."""
    concepts = Concepts()
    zh_emb, zh_len = _side(concepts, context("c", 10), ZH_CHARS_PER_CONCEPT)
    en_emb, en_len = _side(concepts, context("c", 10), EN_CHARS_PER_CONCEPT)
    # The second feature says nothing (all rows equal); the result follows the first.
    flat_zh = np.ones((10, 8), np.float32)
    flat_en = np.ones((10, 8), np.float32)
    beads, _ = align_vectors([zh_emb, flat_zh], [en_emb, flat_en], [0.7, 0.3], zh_len, en_len)
    assert [(b.zh, b.en) for b in beads] == diagonal(0, 0, 10)


def test_merge_limits_are_respected():
    """With max_en=2 a 1-3 split cannot be one bead; the third sentence goes elsewhere."""
    zh, en = PRE + ["a+b+c"] + POST, PRE + ["a", "b", "c"] + POST
    config = AlignConfig(max_zh=2, max_en=2, max_total=3)
    beads = align_specs(zh, en, config)
    assert_partition(beads, len(zh), len(en))
    assert all(len(z) <= 2 and len(e) <= 2 and len(z) + len(e) <= 3 for z, e in beads)
    assert ((6,), (6, 7, 8)) not in beads


def test_dp_align_full_band_matches_banded():
    """On a clean case the band changes nothing: a full-width DP gives the same path."""
    zh = PRE + ["a+b+c"] + POST[:3] + ["zh-only"] + POST[3:]
    en = PRE + ["a", "b", "c"] + context("en-only", 3) + POST
    concepts = Concepts()
    zh_vec, zh_len = _side(concepts, zh, ZH_CHARS_PER_CONCEPT)
    en_vec, en_len = _side(concepts, en, EN_CHARS_PER_CONCEPT)
    config = AlignConfig()
    zh_spans = span_vectors([zh_vec], [1.0], config.max_zh)
    en_spans = span_vectors([en_vec], [1.0], config.max_en)
    n, m = len(zh), len(en)
    lo, hi = np.zeros(n + 1, np.int64), np.full(n + 1, m, np.int64)
    anchors, zh_bg, en_bg = find_anchors(zh_spans[0], en_spans[0], config)
    skip_zh, skip_en = skip_prices(zh_bg.best, en_bg.best, anchors, config)
    raw = dp_align(zh_spans, en_spans, zh_len, en_len, lo, hi, config, 3.0, None, skip_zh, skip_en)
    full = [(z, e) for z, e, _ in raw]
    assert full == align_specs(zh, en, config)
    expected = (diagonal(0, 0, 6) + [((6,), (6, 7, 8))] + [((), (9 + k,)) for k in range(3)]
                + diagonal(7, 12, 3) + [((10,), ())] + diagonal(11, 15, 3))
    assert full == expected
    sims = {(z, e): s for z, e, s in raw}
    assert sims[((6,), (6, 7, 8))] == pytest.approx(1.0, abs=1e-5)
    assert sims[((10,), ())] == 0.0


# ---------------------------------------------------------------------------
# anchor_pairs


def _topk(rows: list[list[tuple[int, float]]]) -> tuple[np.ndarray, np.ndarray]:
    """(sims, idx) arrays from per-row candidate lists of equal length."""
    idx = np.array([[j for j, _ in row] for row in rows], np.int64)
    sims = np.array([[s for _, s in row] for row in rows], np.float32)
    return sims, idx


def test_anchor_chain_skips_far_outlier():
    # Twenty rows on the diagonal (sim 0.8); row 5's best candidate is English
    # sentence 95, far off the diagonal, with a higher similarity.
    rows = [[(i, 0.8), (i + 40, 0.3)] for i in range(20)]
    rows[5] = [(95, 0.99), (5, 0.8)]
    sims, idx = _topk(rows)
    assert anchor_pairs(sims, idx, min_sim=0.35) == [(i, i) for i in range(20)]


def test_anchor_chain_is_strictly_increasing_on_both_sides():
    # Rows 2 and 3 both point at English 2; only one of them can be in the chain.
    rows = [[(0, 0.9)], [(1, 0.9)], [(2, 0.9)], [(2, 0.95)], [(3, 0.9)]]
    sims, idx = _topk(rows)
    chain = anchor_pairs(sims, idx, min_sim=0.35)
    assert [j for _, j in chain] == [0, 1, 2, 3]
    assert len({i for i, _ in chain}) == len(chain)
    assert all(a[0] < b[0] and a[1] < b[1] for a, b in zip(chain, chain[1:]))


def test_anchor_one_node_per_row():
    # A row with two increasing candidates must not chain with itself.
    rows = [[(0, 0.9), (1, 0.9)], [(5, 0.2), (6, 0.2)]]
    sims, idx = _topk(rows)
    chain = anchor_pairs(sims, idx, min_sim=0.35)
    assert len(chain) == 1 and chain[0][0] == 0


@pytest.mark.parametrize(
    "rows, min_sim, expected",
    [
        ([[(0, 0.2)], [(1, 0.3)]], 0.35, []),                 # everything below min_sim
        ([[(0, 0.2)], [(1, 0.9)]], 0.35, [(1, 1)]),           # the weak one is dropped
        ([[(3, 0.9)], [(1, 0.5)], [(2, 0.5)]], 0.35, [(0, 3)]),  # 0.55 beats 0.15 + 0.15
        ([[(3, 0.9)], [(1, 0.8)], [(2, 0.8)]], 0.35, [(1, 1), (2, 2)]),  # 0.9 beats 0.55
    ],
)
def test_anchor_weights(rows, min_sim, expected):
    sims, idx = _topk(rows)
    assert anchor_pairs(sims, idx, min_sim) == expected


def test_anchor_pairs_empty():
    assert anchor_pairs(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int64), 0.35) == []


# ---------------------------------------------------------------------------
# band_limits


@pytest.mark.parametrize(
    "n, m, anchors, window",
    [
        (10, 10, [], 2),
        (10, 10, [(i, i) for i in range(10)], 1),
        (30, 70, [(i, i) for i in range(15)] + [(i, i + 40) for i in range(15, 30)], 3),
        (5, 40, [(0, 2), (4, 38)], 2),
        (40, 5, [(1, 0), (39, 4)], 1),
        (1, 1, [(0, 0)], 8),
        (3, 0, [], 8),
        (0, 3, [], 8),
    ],
)
def test_band_limits_shape(n, m, anchors, window):
    lo, hi = band_limits(n, m, anchors, window)
    assert lo.shape == hi.shape == (n + 1,)
    assert lo[0] == 0 and hi[n] == m          # both corners are inside
    assert np.all(lo <= hi)
    assert np.all((lo >= 0) & (hi <= m))
    assert np.all(np.diff(lo) >= 0) and np.all(np.diff(hi) >= 0)  # monotone
    for i, j in anchors:                      # every anchor cell is inside
        assert lo[i + 1] <= j + 1 <= hi[i + 1]


def test_band_limits_narrow_on_diagonal():
    lo, hi = band_limits(100, 100, [(i, i) for i in range(100)], window=2)
    width = hi - lo + 1
    assert width.max() <= 2 * 2 * 2 + 3  # a few windows wide, not the whole row
    assert np.all(lo <= np.arange(101)) and np.all(np.arange(101) <= hi)


def test_band_covers_gap_between_anchors():
    # 40 columns between two consecutive anchors: every row near the gap reaches across it.
    anchors = [(i, i) for i in range(30)] + [(i, i + 40) for i in range(30, 60)]
    lo, hi = band_limits(60, 100, anchors, window=2)
    assert lo[30] <= 30 and hi[30] >= 70


# ---------------------------------------------------------------------------
# span_vectors


@pytest.mark.parametrize("n, max_len", [(5, 3), (2, 4), (1, 1), (0, 2)])
def test_span_vectors_shapes(n, max_len):
    rng = np.random.default_rng(n)
    parts = [rng.standard_normal((n, 6)).astype(np.float32), rng.standard_normal((n, 3)).astype(np.float32)]
    spans = span_vectors(parts, [0.75, 0.25], max_len)
    assert len(spans) == max_len
    for length, arr in enumerate(spans, start=1):
        assert arr.shape == (max(n - length + 1, 0), 9)
        assert arr.dtype == np.float32
        if arr.shape[0]:
            # Each feature normalised, then scaled by sqrt(weight): squared norm = sum of weights.
            assert np.allclose(np.linalg.norm(arr, axis=1), 1.0, atol=1e-5)


def test_span_vectors_content():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 5)).astype(np.float32)
    b = rng.standard_normal((4, 2)).astype(np.float32)
    w = [0.6, 0.4]
    spans = span_vectors([a, b], w, 3)

    def unit(v):
        return v / np.linalg.norm(v)

    # Span starting at 1 of length 2 covers sentences 1 and 2.
    expected = np.concatenate([unit(a[1] + a[2]) * np.sqrt(0.6), unit(b[1] + b[2]) * np.sqrt(0.4)])
    assert np.allclose(spans[1][1], expected, atol=1e-5)
    # The dot product of two spans is the weighted mean of the per-feature cosines.
    cos_a = unit(a[0]) @ unit(a[0] + a[1] + a[2])
    cos_b = unit(b[0]) @ unit(b[0] + b[1] + b[2])
    assert spans[0][0] @ spans[2][0] == pytest.approx(0.6 * cos_a + 0.4 * cos_b, abs=1e-5)


def test_span_vectors_leave_inputs_alone():
    a = np.arange(12, dtype=np.float32).reshape(4, 3)
    before = a.copy()
    span_vectors([a], [1.0], 2)
    assert np.array_equal(a, before)


# ---------------------------------------------------------------------------
# omission prices


def test_skip_penalty_runs_are_priced_per_sentence():
    """Regression: a run of 0-1 beads must cost its length times the price, not earn it."""
    vectors = np.eye(4, dtype=np.float32)
    config = AlignConfig(skip_penalty=0.75, lexical_weight=0.0, length_weight=0.0)
    spans = span_vectors([vectors], [1.0], 5)
    lo, hi = np.zeros(5, np.int64), np.full(5, 4, np.int64)
    raw = dp_align(spans, spans, np.ones(4), np.ones(4), lo, hi, config, 1.0)
    assert [(z, e) for z, e, _ in raw] == diagonal(0, 0, 4)


@pytest.mark.parametrize("price", [0.0, 0.3, 2.0])
def test_per_sentence_prices_decide_between_merge_and_omission(price):
    """Three unrelated English sentences next to a 1-1: dropped when free, absorbed when dear."""
    zh_vec = np.array([[1.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    en_vec = np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1.0]], dtype=np.float32)
    config = AlignConfig(lexical_weight=0.0, length_weight=0.0, floor=0.0)
    zh_spans = span_vectors([zh_vec], [1.0], 5)
    en_spans = span_vectors([en_vec], [1.0], 5)
    lo, hi = np.zeros(2, np.int64), np.full(2, 4, np.int64)
    skip_en = np.full(4, price)
    raw = dp_align(zh_spans, en_spans, np.ones(1), np.ones(4), lo, hi, config, 1.0, None, np.zeros(1), skip_en)
    beads = [(z, e) for z, e, _ in raw]
    if price == 0.0:
        assert beads == [((0,), (0,)), ((), (1,)), ((), (2,)), ((), (3,))]
    elif price == 2.0:
        assert beads == [((0,), (0, 1, 2, 3))]
    else:  # a middle price: whatever the choice, every English sentence is accounted for once
        assert sorted(j for _, e in beads for j in e) == [0, 1, 2, 3]


def test_skip_prices_orphans_and_surplus():
    config = AlignConfig(skip_penalty=0.1, orphan_below=0.2, orphan_above=0.4, omission_slack=1, max_en=5, max_zh=5)
    zh_best = np.array([0.9, 0.1, 0.3, 0.9])
    en_best = np.full(20, 0.9)
    # Anchors (0, 0) and (3, 19): 2 Chinese sentences between them face 18 English ones,
    # more than 5 per Chinese sentence (+1) could cover, so those English sentences are free.
    skip_zh, skip_en = skip_prices(zh_best, en_best, [(0, 0), (3, 19)], config)
    assert skip_zh == pytest.approx([0.1, 0.0, 0.05, 0.1])
    assert skip_en[0] == pytest.approx(0.1) and skip_en[19] == pytest.approx(0.1)
    assert np.all(skip_en[1:19] == 0.0)
    # In step (2 zh : 3 en between anchors): nothing is free.
    _, skip_en = skip_prices(zh_best, en_best[:5], [(0, 0), (3, 4)], config)
    assert np.all(skip_en == pytest.approx(0.1))


# ---------------------------------------------------------------------------
# edge tests in a clean translation with a few sentences dropped

def _length_weighted_spans(vectors: np.ndarray, lengths: np.ndarray, max_len: int) -> list[np.ndarray]:
    """Span vectors as an embedder of the concatenated text roughly makes them: each
    sentence weighs by its length, so a short sentence barely moves its span."""
    weighted = vectors * lengths[:, None].astype(np.float32)
    return [np.array([weighted[s:s + n].sum(axis=0) for s in range(len(vectors) - n + 1)], np.float32)
            .reshape(-1, vectors.shape[1]) for n in range(1, max_len + 1)]


def _dropped_document(long_omissions: int):
    """100 translated pairs; two short Chinese sentences whose English was dropped (after
    pairs 20 and 60); ``long_omissions`` full-length Chinese sentences with no English
    (after pair 80). Returns the aligner's input and the expected beads."""
    specs, lengths, expected = [], [], []
    for i in range(100):
        specs.append(f"c{i}")
        lengths.append(ZH_CHARS_PER_CONCEPT)
        expected.append(((len(specs) - 1,), (i,)))
        extra = {20: [("short-zh-only0", 6)], 60: [("short-zh-only1", 6)],
                 80: [(f"zh-only{k}", ZH_CHARS_PER_CONCEPT) for k in range(long_omissions)]}.get(i, [])
        for spec, length in extra:
            specs.append(spec)
            lengths.append(length)
            expected.append(((len(specs) - 1,), ()))
    concepts = Concepts()
    zh_vec = np.array([concepts.vector(s) for s in specs], np.float32)
    en_vec, en_len = _side(concepts, context("c", 100), EN_CHARS_PER_CONCEPT)
    zh_len = np.array(lengths, np.float64)
    config = AlignConfig()
    inputs = dict(zh_parts=[zh_vec], en_parts=[en_vec], weights=[1.0], zh_len=zh_len, en_len=en_len, config=config,
                  zh_first_spans=_length_weighted_spans(zh_vec, zh_len, config.max_zh),
                  en_first_spans=_length_weighted_spans(en_vec, en_len, config.max_en))
    return inputs, expected


def test_dropped_sentences_in_a_clean_translation_are_left_out():
    # Two long Chinese sentences with no English: the first pass leaves out 2 of 104
    # (1.9 %), too few for a z test but enough to say the document has omissions. The
    # short untranslated ones it glued onto the bead before them (adding one barely lowers
    # the span's similarity, and the size reward pays for it); the second pass's edge test
    # (removing the short sentence makes the bead more similar) leaves them out.
    inputs, expected = _dropped_document(long_omissions=2)
    beads, info = align_vectors(**inputs)
    assert info["edge_test"] and info["left_out_first_pass"]["zh"] == pytest.approx(2 / 104, abs=1e-4)
    assert [(b.zh, b.en) for b in beads] == expected
    # The glue is what the first pass alone makes: with the edge test kept for larger
    # shares left out (as it was below 2 %), both short sentences join their neighbour.
    glued, info = align_vectors(**{**inputs, "config": AlignConfig(edge_min_left_out=0.02)})
    assert not info["edge_test"]
    assert ((20, 21), (20,)) in [(b.zh, b.en) for b in glued]


def test_full_translation_runs_no_edge_test():
    # Nothing clearly left out (one sentence in 103 is under 1 %): one pass, no edge test.
    inputs, _ = _dropped_document(long_omissions=1)
    _, info = align_vectors(**inputs)
    assert not info["edge_test"] and info["edge_z"] == {"zh": None, "en": None}
