"""Strict/lax precision and recall, checked against hand-computed cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.align.evaluate import AlignmentScores, pair_paths, score_alignments, score_paths
from toolkit.core.errors import InputError, ToolkitError
from toolkit.core.records import Bead
from toolkit.formats.writers import parse_bead, read_align

GOLD_DIR = Path(__file__).resolve().parents[2] / "shared" / "gold" / "mac-dev" / "gold"


def beads(*lines: str):
    return [parse_bead(line) for line in lines]


# Each case: gold beads, predicted beads, and the hand-computed
# (P strict, R strict, P lax, R lax); F1 follows from P and R.
CASES = {
    "identical": (
        beads("[0]:[0]", "[1,2]:[1]", "[]:[2]", "[3]:[]"),
        beads("[0]:[0]", "[1,2]:[1]", "[]:[2]", "[3]:[]"),
        (1.0, 1.0, 1.0, 1.0),
    ),
    # [1]:[1] shares the link 1-1 with gold [1]:[1,2]; []:[2] has no links.
    # Recall: gold [0]:[0] found exactly, [1]:[1,2] only laxly.
    "split 1-2 into 1-1 and 0-1": (
        beads("[0]:[0]", "[1]:[1,2]"),
        beads("[0]:[0]", "[1]:[1]", "[]:[2]"),
        (1 / 3, 1 / 2, 2 / 3, 2 / 2),
    ),
    # Predicting a pair where the gold has two omissions: a wrong bead for
    # precision (no shared link), invisible to recall (gold omissions dropped).
    "missed omissions": (
        beads("[0]:[0]", "[1]:[]", "[]:[1]", "[2]:[2]"),
        beads("[0]:[0]", "[1]:[1]", "[2]:[2]"),
        (2 / 3, 2 / 2, 2 / 3, 2 / 2),
    ),
    # Omissions predicted where the gold pairs the sentences: both wrong, even laxly;
    # recall loses gold [1]:[1] because predicted omissions are dropped.
    "spurious omissions": (
        beads("[0]:[0]", "[1]:[1]"),
        beads("[0]:[0]", "[1]:[]", "[]:[1]"),
        (1 / 3, 1 / 2, 1 / 3, 1 / 2),
    ),
    # Many-to-many gold, predicted as smaller pieces: nothing strict, half lax
    # ([0]:[0] and [2]:[1] share links), every gold bead touched laxly.
    "many-to-many in pieces": (
        beads("[0,1]:[0]", "[2]:[1,2]"),
        beads("[0]:[0]", "[1]:[]", "[2]:[1]", "[]:[2]"),
        (0 / 4, 0 / 2, 2 / 4, 2 / 2),
    ),
    # Off by one: no shared link anywhere.
    "shifted": (
        beads("[0]:[0]", "[1]:[1]", "[2]:[2]"),
        beads("[0]:[1]", "[1]:[2]", "[2]:[0]"),
        (0.0, 0.0, 0.0, 0.0),
    ),
    "empty prediction": (beads("[0]:[0]"), [], (0.0, 0.0, 0.0, 0.0)),
    # A repeated bead counts once.
    "duplicate prediction": (beads("[0]:[0]", "[1]:[1]"), beads("[0]:[0]", "[0]:[0]"), (1 / 1, 1 / 2, 1 / 1, 1 / 2)),
}


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


@pytest.mark.parametrize("name", list(CASES))
def test_hand_computed_cases(name):
    gold, pred, (p_strict, r_strict, p_lax, r_lax) = CASES[name]
    scores = score_alignments([gold], [pred])
    assert scores.precision_strict == pytest.approx(p_strict)
    assert scores.recall_strict == pytest.approx(r_strict)
    assert scores.precision_lax == pytest.approx(p_lax)
    assert scores.recall_lax == pytest.approx(r_lax)
    assert scores.f1_strict == pytest.approx(f1(p_strict, r_strict))
    assert scores.f1_lax == pytest.approx(f1(p_lax, r_lax))
    assert scores.documents == 1


def test_counts_of_the_docstring_example():
    scores = score_alignments([CASES["split 1-2 into 1-1 and 0-1"][0]], [CASES["split 1-2 into 1-1 and 0-1"][1]])
    assert (scores.predicted, scores.predicted_strict, scores.predicted_lax) == (3, 1, 2)
    assert (scores.gold, scores.gold_strict, scores.gold_lax) == (2, 1, 2)
    assert scores.f1_strict == pytest.approx(0.4)
    assert scores.f1_lax == pytest.approx(0.8)


def test_scores_ignore_bead_score_and_origin():
    gold = beads("[0]:[0]:0.1")
    pred = [parse_bead("[0]:[0]:0.9")]
    assert score_alignments([gold], [pred]).f1_strict == 1.0


def test_counts_are_summed_over_documents_not_averaged():
    # Document 1: four beads, all right. Document 2: two 2-2 beads where the gold has 1-1s.
    gold_1 = beads("[0]:[0]", "[1]:[1]", "[2]:[2]", "[3]:[3]")
    gold_2 = beads("[0]:[0]", "[1]:[1]", "[2]:[2]", "[3]:[3]")
    pred_1 = list(gold_1)
    pred_2 = beads("[0,1]:[0,1]", "[2,3]:[2,3]")
    scores = score_alignments([gold_1, gold_2], [pred_1, pred_2])
    assert scores.documents == 2
    assert (scores.predicted, scores.predicted_strict, scores.predicted_lax) == (6, 4, 6)
    assert (scores.gold, scores.gold_strict, scores.gold_lax) == (8, 4, 8)
    assert scores.precision_strict == pytest.approx(4 / 6)  # the average of 1 and 0 would be 0.5
    assert scores.recall_strict == pytest.approx(4 / 8)
    assert scores.precision_lax == scores.recall_lax == 1.0
    assert scores.f1_strict == pytest.approx(f1(4 / 6, 1 / 2))


def test_indices_of_different_documents_do_not_mix():
    # Summing counts must not pool beads: [0]:[0] is right in doc 1 only.
    scores = score_alignments([beads("[0]:[0]"), beads("[0]:[1]")], [beads("[0]:[0]"), beads("[0]:[0]")])
    assert scores.predicted_strict == 1
    assert scores.predicted_lax == 1


def test_document_count_mismatch_is_an_error():
    with pytest.raises(ToolkitError):
        score_alignments([beads("[0]:[0]")], [])


def test_no_documents_scores_zero():
    scores = score_alignments([], [])
    assert scores.documents == 0
    assert (scores.precision_strict, scores.recall_lax, scores.f1_lax) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    "counts",
    [
        dict(predicted=2, predicted_strict=2, predicted_lax=1, gold=2, gold_strict=0, gold_lax=0, documents=1),
        dict(predicted=1, predicted_strict=0, predicted_lax=2, gold=2, gold_strict=0, gold_lax=0, documents=1),
        dict(predicted=1, predicted_strict=0, predicted_lax=0, gold=1, gold_strict=-1, gold_lax=0, documents=1),
        dict(predicted=1, predicted_strict=0, predicted_lax=0, gold=1, gold_strict=0, gold_lax=0, documents=-1),
    ],
)
def test_scores_refuse_inconsistent_counts(counts):
    with pytest.raises(ValueError):
        AlignmentScores(**counts)


def test_format_shows_the_six_numbers():
    gold, pred, _ = CASES["split 1-2 into 1-1 and 0-1"]
    table = score_alignments([gold], [pred]).format()
    lines = table.splitlines()
    assert lines[0].split() == ["strict", "lax"]
    assert lines[1].split() == ["precision", "0.3333", "0.6667"]
    assert lines[2].split() == ["recall", "0.5000", "1.0000"]
    assert lines[3].split() == ["F1", "0.4000", "0.8000"]
    assert "1 document" in lines[4]


def test_as_dict_has_ratios_and_counts():
    gold, pred, _ = CASES["spurious omissions"]
    data = score_alignments([gold], [pred]).as_dict()
    assert data["precision_strict"] == pytest.approx(1 / 3)
    assert data["gold"] == 2
    assert data["documents"] == 1


# ---------------------------------------------------------------------------
# score_paths


def write(path: Path, *lines: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_score_two_files(tmp_path):
    gold = write(tmp_path / "gold.align", "[0]:[0]", "[1]:[1,2]")
    pred = write(tmp_path / "pred.align", "[0]:[0]:0.9", "[1]:[1]:0.5", "[]:[2]:0.0")
    scores = score_paths(gold, pred)
    assert scores.documents == 1
    assert (scores.precision_strict, scores.recall_lax) == (pytest.approx(1 / 3), 1.0)


@pytest.mark.parametrize(
    "layout",
    [
        {"001": "001.align", "002": "002.align"},  # flat
        {"001": "001/001.align", "002": "002/002.align"},  # one folder per document
        {"001": "run-a/001.align", "002": "002.align"},  # anywhere one level down
    ],
)
def test_score_two_folders(tmp_path, layout):
    write(tmp_path / "gold" / "001.align", "[0]:[0]", "[1]:[1]")
    write(tmp_path / "gold" / "002.align", "[0]:[0]", "[1]:[1]")
    write(tmp_path / "pred" / layout["001"], "[0]:[0]", "[1]:[1]")
    write(tmp_path / "pred" / layout["002"], "[0,1]:[0,1]")
    write(tmp_path / "pred" / "999.align", "[5]:[5]")  # extra predictions are ignored
    pairs = pair_paths(tmp_path / "gold", tmp_path / "pred")
    assert [(g.name, p.relative_to(tmp_path / "pred").as_posix()) for g, p in pairs] == [
        ("001.align", layout["001"]),
        ("002.align", layout["002"]),
    ]
    scores = score_paths(tmp_path / "gold", tmp_path / "pred")
    assert scores.documents == 2
    assert (scores.predicted, scores.predicted_strict, scores.predicted_lax) == (3, 2, 3)
    assert (scores.gold, scores.gold_strict, scores.gold_lax) == (4, 2, 4)


def test_missing_predictions_are_named(tmp_path):
    for name in ("001", "002", "003"):
        write(tmp_path / "gold" / f"{name}.align", "[0]:[0]")
    write(tmp_path / "pred" / "002.align", "[0]:[0]")
    with pytest.raises(InputError) as info:
        score_paths(tmp_path / "gold", tmp_path / "pred")
    assert "001.align" in info.value.message and "003.align" in info.value.message
    assert "002.align" not in info.value.message


def test_ambiguous_nested_prediction_is_an_error(tmp_path):
    write(tmp_path / "gold" / "001.align", "[0]:[0]")
    write(tmp_path / "pred" / "a" / "001.align", "[0]:[0]")
    write(tmp_path / "pred" / "b" / "001.align", "[0]:[0]")
    with pytest.raises(InputError) as info:
        score_paths(tmp_path / "gold", tmp_path / "pred")
    assert "2 predictions" in info.value.message


@pytest.mark.parametrize(
    ("gold", "pred"),
    [
        ("gold", "pred.align"),  # folder vs file
        ("gold.align", "missing.align"),  # no such path
        ("empty", "gold"),  # folder without .align files
    ],
)
def test_score_paths_refuses(tmp_path, gold, pred):
    write(tmp_path / "gold" / "001.align", "[0]:[0]")
    write(tmp_path / "gold.align", "[0]:[0]")
    write(tmp_path / "pred.align", "[0]:[0]")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError):
        score_paths(tmp_path / gold, tmp_path / pred)


# ---------------------------------------------------------------------------
# the shared gold files


@pytest.mark.skipif(not GOLD_DIR.is_dir(), reason=f"gold alignments not available at {GOLD_DIR}")
def test_gold_scored_against_itself_is_perfect():
    files = sorted(GOLD_DIR.glob("*.align"))
    assert files
    for path in files:
        scores = score_paths(path, path)
        assert scores.f1_strict == 1.0, path
        assert scores.f1_lax == 1.0, path
    everything = score_paths(GOLD_DIR, GOLD_DIR)
    assert everything.documents == len(files)
    assert everything.f1_strict == 1.0


@pytest.mark.skipif(not GOLD_DIR.is_dir(), reason=f"gold alignments not available at {GOLD_DIR}")
def test_gold_against_a_merged_version_loses_strict_not_lax():
    # Merging neighbouring beads keeps every link, so lax scores stay 1 while
    # strict precision drops: a sanity check on real data.
    gold = read_align(sorted(GOLD_DIR.glob("*.align"))[0])
    merged: list[Bead] = []
    for bead in gold:
        last = merged[-1] if merged else None
        can_merge = (
            last is not None
            and len(last.zh) == 1  # merge pairs of beads only, not whole runs
            and bead.zh and bead.en and last.zh and last.en
            and bead.zh[0] == last.zh[-1] + 1 and bead.en[0] == last.en[-1] + 1
        )
        if can_merge:
            merged[-1] = Bead(last.zh + bead.zh, last.en + bead.en)
        else:
            merged.append(bead)
    assert len(merged) < len(gold)
    scores = score_alignments([gold], [merged])
    assert scores.precision_lax == 1.0
    assert scores.recall_lax == 1.0
    assert scores.precision_strict < 1.0
