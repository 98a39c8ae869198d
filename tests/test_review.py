"""Reviewing an aligned folder: operations, the journal, crash recovery, export, and the line-mode CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolkit.align.evaluate import score_alignments, score_paths
from toolkit.cli import app
from toolkit.core.resultset import FolderLock, staged_set
from toolkit.core.records import Alignment, Bead, Document, Segment
from toolkit.formats.writers import read_align, read_jsonl, read_signature, read_tmx, write_alignment, write_records
from toolkit.core.errors import FormatError
from toolkit.review.journal import Journal, JournalError
from toolkit.review.session import ReviewError, ReviewSession, format_rows, parse_range

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()

ZH = ["编者按：这是一次访谈。", "主持人：你好。", "张伟：你好。", "很高兴来。", "我们开始吧。"]
EN = ["Host: Hello.", "Zhang Wei: Hello, glad to be here.", "By the way, it was raining.", "Let's start.", "Right now."]
# 1: 1-0 machine-translated; 2: 1-1; 3: 2-1; 4: 0-1; 5: 1-2
BEADS = (
    Bead((0,), (), 0.0, "mt", "Editor's note: this is an interview.", ()),
    Bead((1,), (0,), 0.91),
    Bead((2, 3), (1,), 0.42),
    Bead((), (2,), 0.0),
    Bead((4,), (3, 4), 0.77),
)


def clock_from(start: int = 0):
    """A clock that ticks one second per call, so timestamps are predictable."""
    ticks = iter(range(start, 10_000))
    return lambda: f"2026-01-01T00:{next(ticks) // 60:02d}:{next(ticks) % 60:02d}Z"


def write_folder(out: Path, beads=BEADS) -> Path:
    zh = Document("doc", "zh", tuple(Segment(i, t, t, "zh", speaker="张伟" if i == 2 else None)
                                     for i, t in enumerate(ZH)), "simplified")
    en = Document("doc", "en", tuple(Segment(i, t, t, "en") for i, t in enumerate(EN)))
    write_alignment(out, Alignment("doc", zh, en, beads, {"tool": "bitext", "zh_script_in": "simplified"}))
    return out


@pytest.fixture
def folder(tmp_path) -> Path:
    return write_folder(tmp_path / "out")


def open_session(folder: Path) -> ReviewSession:
    return ReviewSession.open(folder, clock=clock_from())


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def journal_lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "doc.review.journal").read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------------------
# opening


def test_open_reads_beads_texts_and_origins(folder):
    session = open_session(folder)
    assert [b.kind for b in session.beads] == ["1-0", "1-1", "2-1", "0-1", "1-2"]
    assert session.beads[2].zh_text == "张伟：你好。很高兴来。"
    assert session.beads[2].zh[0].speaker == "张伟"
    assert session.beads[0].translation == "Editor's note: this is an interview."
    status = session.status()
    assert (status.beads, status.pending, status.machine_translated, status.operations) == (5, 5, 1, 0)
    assert not (folder / "doc.review.journal").exists()  # opening writes nothing


@pytest.mark.parametrize("make, message", [
    (lambda d: d, "is not an aligned result"),
    (lambda d: d / "missing", "does not exist"),
    (lambda d: (d / "file.txt").write_text("x") and d / "file.txt", "is not a folder"),
])
def test_open_refuses_what_is_not_an_aligned_result(tmp_path, make, message):
    with pytest.raises(Exception) as info:
        ReviewSession.open(make(tmp_path))
    assert message in str(info.value)


def test_open_refuses_jsonl_disagreeing_with_align(folder):
    (folder / "doc.manifest.json").unlink()  # a folder written before manifests (with one, the manifest refuses it)
    (folder / "doc.align").write_text("[0]:[]:0.0\n[1, 2]:[0]:0.9\n", encoding="utf-8")
    with pytest.raises(Exception, match="disagree"):
        ReviewSession.open(folder)


# ---------------------------------------------------------------------------
# operations


def test_approve_range_marks_beads_human_with_timestamp(folder):
    session = open_session(folder)
    assert session.approve(2, 3)
    assert [b.review for b in session.beads] == ["pending", "approved", "approved", "pending", "pending"]
    assert all(b.reviewed_at and b.export_origin == "human" for b in session.beads[1:3])
    assert session.beads[1].score == pytest.approx(0.91)  # approval keeps the aligner's score
    assert not session.approve(2)  # already approved: nothing changes, nothing is journaled
    assert [e["op"] for e in journal_lines(folder)[1:]] == ["approve"]


def test_set_en_and_set_zh_edit_one_side(folder):
    session = open_session(folder)
    session.set_en(5, "Let's start right now.")
    assert session.beads[4].kind == "1-1" and session.beads[4].en_text == "Let's start right now."
    session.set_zh(3, "张伟：你好，很高兴来。")
    assert session.beads[2].kind == "1-1" and session.beads[2].zh[0].speaker == "张伟"
    assert session.beads[2].review == "edited"
    session.set_en(2, "")  # drop the English: the bead becomes 1-0
    assert session.beads[1].kind == "1-0" and session.beads[1].score == 0.0
    session.set_zh(5, "")  # drop the Chinese: the bead becomes 0-1
    assert session.beads[4].kind == "0-1" and session.beads[4].score == 0.0
    alignment = session.alignment()
    assert len(alignment.en.segments) == 3 and [s.index for s in alignment.en.segments] == [0, 1, 2]
    assert len(alignment.zh.segments) == 3


def test_set_en_on_a_bead_without_english_edits_its_translation(folder):
    session = open_session(folder)
    session.set_en(1, "Editor's note: an interview.")
    bead = session.beads[0]
    assert (bead.kind, bead.translation, bead.mt_text) == ("1-0", "Editor's note: an interview.",
                                                            "Editor's note: this is an interview.")
    assert session.status().machine_translated == 0


@pytest.mark.parametrize("call, message", [
    (lambda s: s.set_en(4, "  "), "would empty both sides"),
    (lambda s: s.set_zh(4, "新的中文"), "has no Chinese sentence"),
    (lambda s: s.set_zh(0, "x"), "bead 0 does not exist"),
    (lambda s: s.approve(6), "bead 6 does not exist (the alignment has 5 beads)"),
    (lambda s: s.approve(3, 2), "runs backwards"),
    (lambda s: s.approve(True), "whole number"),
    (lambda s: s.merge_next(5), "no next bead"),
    (lambda s: s.merge_prev(1), "no previous bead"),
    (lambda s: s.split(2, 0, 0), "would leave an empty bead"),
    (lambda s: s.split(3, 3, 0), "it has 2"),
    (lambda s: s.move(4, "zh", "next"), "no zh sentence"),
    (lambda s: s.move(4, "en", "prev"), "would empty it"),
    (lambda s: s.move(1, "zh", "prev"), "no previous bead"),
    (lambda s: s.move(2, "fr", "prev"), "unknown side"),
    (lambda s: s.mark_no_counterpart(2), "only a bead with one empty side"),
    (lambda s: s.undo(), "nothing to undo"),
    (lambda s: s.redo(), "nothing to redo"),
    (lambda s: s.do({"op": "delete", "bead": 1}), "unknown operation"),
])
def test_invalid_operations_raise_and_write_nothing(folder, call, message):
    session = open_session(folder)
    before = list(session.beads)
    with pytest.raises(ReviewError) as info:
        call(session)
    assert message in info.value.message and info.value.hint
    assert session.beads == before
    assert not (folder / "doc.review.journal").exists()


def test_merge_next_and_prev(folder):
    session = open_session(folder)
    session.merge_next(3)  # 2-1 + 0-1
    assert [b.kind for b in session.beads] == ["1-0", "1-1", "2-2", "1-2"]
    merged = session.beads[2]
    assert (merged.origin, merged.review, merged.score) == ("human", "edited", 1.0)
    session.merge_prev(2)  # the MT 1-0 with the 1-1: an English original replaces the translation
    assert session.beads[0].kind == "2-1" and session.beads[0].translation is None


def test_split_and_move(folder):
    session = open_session(folder)
    session.split(3, 1, 1)
    assert [b.kind for b in session.beads] == ["1-0", "1-1", "1-1", "1-0", "0-1", "1-2"]
    session.move(6, "en", "prev")  # the first English sentence of bead 6 goes to the end of bead 5
    assert [b.kind for b in session.beads][4:] == ["0-2", "1-1"]
    session.move(5, "en", "next")  # and back, as the last English sentence of bead 5
    assert [b.kind for b in session.beads][4:] == ["0-1", "1-2"]
    assert session.beads[5].en_text == "Let's start. Right now."


def test_mark_no_counterpart(folder):
    session = open_session(folder)
    session.mark_no_counterpart(4)
    assert session.beads[3].review == "no-counterpart"
    assert session.status().no_counterpart == 1


def test_a_machine_translation_with_no_counterpart_is_still_exported_as_mt(folder):
    session = open_session(folder)
    session.mark_no_counterpart(1)   # bead 1: Chinese only, its English machine-translated
    session.export()
    first = read_jsonl(folder / "doc.jsonl")[0]
    assert (first["origin"], first["review"]) == ("mt", "no-counterpart")  # nobody approved these words
    session.approve(1, 1)            # no-counterpart is already a review: approving changes nothing
    session.set_en(1, "Editor's note: an interview.")
    session.export()
    first = read_jsonl(folder / "doc.jsonl")[0]
    assert (first["origin"], first["translation"]) == ("human", "Editor's note: an interview.")


def test_do_all_is_all_or_nothing(folder):
    session = open_session(folder)
    with pytest.raises(ReviewError):
        session.do_all([{"op": "approve", "first": 1, "last": 2}, {"op": "merge_next", "bead": 5}])
    assert session.status().operations == 0 and not (folder / "doc.review.journal").exists()
    assert session.do_all([{"op": "approve", "first": 1, "last": 2}, {"op": "merge_next", "bead": 4}]) == 2


def test_undo_redo(folder):
    session = open_session(folder)
    original = list(session.beads)
    session.merge_next(1)
    merged = list(session.beads)
    session.undo()
    assert session.beads == original
    session.redo()
    assert session.beads == merged
    session.undo()
    session.approve(1)  # a new change forgets what was undone
    with pytest.raises(ReviewError, match="nothing to redo"):
        session.redo()
    assert [e["op"] for e in journal_lines(folder)[1:]] == ["merge_next", "undo", "redo", "undo", "approve"]


def test_rows_filters_and_table(folder):
    session = open_session(folder)
    session.approve(2)
    # "Doubtful" is about pairs: the one-sided beads (score 0 by definition) are a filter of their own.
    assert [r.number for r in session.rows(below=0.5)] == [3]
    assert [r.number for r in session.rows(one_sided=True)] == [1, 4]
    assert [r.number for r in session.rows(mt_only=True)] == [1]
    assert [r.number for r in session.rows(unreviewed=True)] == [1, 3, 4, 5]
    assert [r.number for r in session.rows(search="raining")] == [4]
    table = format_rows(session.rows(one_sided=True))
    assert "[MT] Editor's note" in table and len(table.splitlines()) == 3
    assert [line.split()[:2] for line in table.splitlines()[1:]] == [["1", "b1"], ["4", "b4"]]


def test_parse_range():
    assert parse_range("12-40") == (12, 40) and parse_range(" 7 ") == (7, 7)
    with pytest.raises(ReviewError):
        parse_range("1-x")


# ---------------------------------------------------------------------------
# the journal


def make_changes(session: ReviewSession) -> None:
    session.approve(1, 2)
    session.set_en(2, "Host: Hi there.")
    session.merge_next(3)
    session.split(3, 1, 1)
    session.undo()
    session.move(4, "en", "prev")
    session.mark_no_counterpart(1)


def test_journal_replay_equals_the_in_memory_state(folder):
    session = open_session(folder)
    make_changes(session)
    reopened = ReviewSession.open(folder)
    assert reopened.beads == session.beads
    assert reopened.status() == session.status()
    header = journal_lines(folder)[0]
    assert header["format"] == "bitext-review" and set(header["identity"]) == {"align", "zh", "en"}
    assert all("at" in entry for entry in journal_lines(folder)[1:])


def test_reopen_continues_where_the_review_stopped(folder):
    session = open_session(folder)
    session.merge_next(1)
    reopened = ReviewSession.open(folder)
    reopened.undo()  # undo reaches changes from the earlier session
    assert [b.kind for b in reopened.beads] == ["1-0", "1-1", "2-1", "0-1", "1-2"]
    assert ReviewSession.open(folder).beads == reopened.beads


def test_crash_mid_append_loses_nothing_before_it(folder):
    session = open_session(folder)
    make_changes(session)
    path = folder / "doc.review.journal"
    with open(path, "ab") as handle:  # a crash half-way through writing the next entry
        handle.write(b'{"at": "2026-01-01T00:00:00Z", "bead": 1, "op": "appr')
    reopened = ReviewSession.open(folder)
    assert reopened.beads == session.beads
    assert reopened.warnings and "incomplete last line" in reopened.warnings[0]
    assert reopened.undo()  # the damaged tail is cut off before the next entry
    lines = path.read_text(encoding="utf-8").splitlines()
    assert all(json.loads(line) for line in lines) and json.loads(lines[-1])["op"] == "undo"
    assert ReviewSession.open(folder).warnings == []


def test_damaged_last_line_with_newline_is_ignored(folder):
    session = open_session(folder)
    session.approve(1)
    with open(folder / "doc.review.journal", "ab") as handle:
        handle.write(b"\x00\x00\x00\n")
    reopened = ReviewSession.open(folder)
    assert reopened.beads == session.beads and reopened.warnings


def test_damage_in_the_middle_is_an_error(folder):
    session = open_session(folder)
    session.approve(1)
    session.approve(2)
    path = folder / "doc.review.journal"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = "garbage\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(JournalError, match="line 2 is damaged"):
        ReviewSession.open(folder)


def test_journal_from_another_alignment_is_refused(folder, tmp_path):
    session = open_session(folder)
    session.merge_next(4)  # bead 4 does not even exist in the other alignment: refused before any replay
    other = write_folder(tmp_path / "other", BEADS[:2] + (Bead((2, 3, 4), (1, 2, 3, 4), 0.5),))
    shutil.copy(folder / "doc.review.journal", other / "doc.review.journal")
    before = snapshot(other)
    with pytest.raises(JournalError) as info:
        ReviewSession.open(other)
    assert "journal belongs to another alignment" in info.value.message
    assert "move doc.review.journal away" in info.value.message
    assert snapshot(other) == before


def test_journal_create_refuses_to_overwrite(tmp_path):
    Journal.create(tmp_path / "j.jsonl", {"format": "x"})
    with pytest.raises(JournalError, match="already exists"):
        Journal.create(tmp_path / "j.jsonl", {"format": "x"})


# ---------------------------------------------------------------------------
# export


def _score_folder(folder: Path, bleu: dict[int, float]) -> None:
    """Add bleu/chrf to the folder's JSONL as `bitext score` does (None where a bead has no score); keys: bead numbers."""
    records = [{**r, "bleu": bleu.get(n), "chrf": None if n not in bleu else bleu[n] + 10}
               for n, r in enumerate(read_jsonl(folder / "doc.jsonl"), start=1)]
    with FolderLock(folder), staged_set(folder, "doc") as staging:  # as a set, with its manifest
        write_records(staging / "doc.jsonl", records)


def test_export_keeps_the_scores_of_unchanged_pairs(folder):
    _score_folder(folder, {2: 31.5, 3: 12.0, 5: 50.0})
    session = open_session(folder)
    session.approve(2)                        # same texts: its scores still hold
    session.set_en(5, "Let's start. Right away.")  # new English: its old scores do not
    session.export()
    records = read_jsonl(folder / "doc.jsonl")
    assert [(r["bleu"], r["chrf"]) for r in records] == [(None, None), (31.5, 41.5), (12.0, 22.0), (None, None),
                                                          (None, None)]
    from toolkit.formats.writers import read_tmx_memory

    props = {unit.tuid: unit.props for unit in read_tmx_memory(folder / "doc.tmx").units}
    assert (props["b2"]["x-bleu"], props["b2"]["x-chrf"], props["b2"]["x-review"]) == ("31.5", "41.5", "approved")
    assert "x-bleu" not in props["b5"] and props["b5"]["x-review"] == "edited"


def test_export_of_an_unscored_folder_adds_no_scores(folder):
    session = open_session(folder)
    session.approve(2)
    session.export()
    assert all("bleu" not in r and "chrf" not in r for r in read_jsonl(folder / "doc.jsonl"))


def test_export_rewrites_every_format(folder):
    session = open_session(folder)
    session.approve(1)  # the MT bead: its English must survive in the TMX
    session.set_en(2, "Host: Hi there.")
    session.merge_next(3)
    session.export()

    beads = read_align(folder / "doc.align")
    assert [(b.zh, b.en) for b in beads] == [((0,), ()), ((1,), (0,)), ((2, 3), (1, 2)), ((4,), (3, 4))]
    scores = score_paths(folder / "doc.align", folder / "doc.align")
    assert scores.f1_strict == 1.0
    assert (folder / "doc.en.txt").read_text(encoding="utf-8").splitlines()[0] == "Host: Hi there."

    records = read_jsonl(folder / "doc.jsonl")
    assert [r["origin"] for r in records] == ["human", "human", "human", "aligned"]
    assert [r["review"] for r in records] == ["approved", "edited", "edited", "pending"]
    assert records[0]["mt"] == "Editor's note: this is an interview." and records[0]["en"] == ""
    assert records[0]["translation"] == records[0]["mt"] and records[0]["reviewed_at"]

    units = read_tmx(folder / "doc.tmx")
    assert len(units) == 4
    assert units[0][1] == "Editor's note: this is an interview."
    assert units[0][2]["x-origin"] == "human" and units[0][2]["x-review"] == "approved"
    assert units[3][2]["x-origin"] == "aligned" and "x-review" not in units[3][2]
    assert 'changedate="20260101T' in (folder / "doc.tmx").read_text(encoding="utf-8")

    review = read_signature(folder / "doc.signature.json")["review"]
    assert review["operations"] == 3 and review["journal"] == "doc.review.journal"


def test_export_then_reopen_and_undo_past_it(folder):
    session = open_session(folder)
    session.merge_next(1)
    session.export()
    reopened = ReviewSession.open(folder)  # the files are the export; the journal knows them
    assert reopened.beads == session.beads
    reopened.undo()  # the original is in the journal, so undo still reaches it
    reopened.export()
    assert [(b.zh, b.en) for b in read_align(folder / "doc.align")] == [(b.zh, b.en) for b in BEADS]


def test_crash_during_export_is_recognised(folder, monkeypatch):
    session = open_session(folder)
    session.set_en(2, "Host: Hi there.")
    import toolkit.review.session as review

    def crash(*args, **kwargs):
        from toolkit.formats.writers import write_align
        write_align(folder / "doc.align", args[1].beads)  # the first file is written, then the lights go out
        raise KeyboardInterrupt

    monkeypatch.setattr(review, "write_alignment", crash)
    with pytest.raises(KeyboardInterrupt):
        session.export()
    monkeypatch.undo()
    assert ReviewSession.open(folder).beads == session.beads


def test_reviewed_export_reads_back_without_a_journal(folder):
    session = open_session(folder)
    make_changes(session)
    session.export()
    (folder / "doc.review.journal").rename(folder / "old.review")
    fresh = ReviewSession.open(folder)
    assert [(b.kind, b.review, b.translation) for b in fresh.beads] == \
        [(b.kind, b.review, b.translation) for b in session.beads]


def test_export_is_scored_by_evaluate(folder):
    session = open_session(folder)
    session.split(3, 1, 1)
    session.export()
    gold = [Bead(b.zh, b.en) for b in BEADS]
    scores = score_alignments([gold], [read_align(folder / "doc.align")])
    assert 0 < scores.f1_strict < 1


# ---------------------------------------------------------------------------
# the line-mode CLI


def run(*args: str):
    return runner.invoke(app, ["review", *args])


def test_cli_list_filters(folder):
    result = run(str(folder), "--list", "--below", "0.5")
    assert result.exit_code == 0, result.output
    numbers = [line.split()[0] for line in result.stdout.splitlines()[1:-1]]  # header, rows, status
    assert numbers == ["3"]
    result = run(str(folder), "--list", "--one-sided")
    assert [line.split()[0] for line in result.stdout.splitlines()[1:-1]] == ["1", "4"]
    result = run(str(folder), "--list", "--mt-only")
    assert "[MT]" in result.stdout and "Host" not in result.stdout


def test_cli_changes_are_journaled_and_exported(folder):
    result = run(str(folder), "--approve", "1-2", "--set-en", "5", "Let's start now.", "--merge", "3")
    assert result.exit_code == 0, result.output
    assert "3 changes made" in result.stdout and "exported 6 files" in result.stdout
    records = read_jsonl(folder / "doc.jsonl")
    assert [r["type"] for r in records] == ["1-0", "1-1", "2-2", "1-1"]
    assert records[3]["en"] == "Let's start now."
    result = run(str(folder), "--undo")
    assert result.exit_code == 0 and len(read_jsonl(folder / "doc.jsonl")) == 5
    result = run(str(folder), "--redo", "--no-export")
    assert result.exit_code == 0 and len(read_jsonl(folder / "doc.jsonl")) == 5
    assert run(str(folder), "--export").exit_code == 0 and len(read_jsonl(folder / "doc.jsonl")) == 4


@pytest.mark.parametrize("args, message", [
    (["--approve", "9"], "bead 9 does not exist"),
    (["--approve", "2-x"], "not a bead range"),
    (["--approve", "1", "--merge", "5"], "no next bead"),
    (["--set-en", "4", ""], "would empty both sides"),
    (["--split", "2", "1", "1"], "would leave an empty bead"),
    (["--merge", "1", "--split", "2", "0", "1"], "one per call"),
    (["--undo"], "nothing to undo"),
    (["--undo", "--approve", "1"], "cannot be combined"),
    (["--no-counterpart", "2"], "only a bead with one empty side"),
])
def test_cli_bad_input_changes_nothing(folder, args, message):
    before = snapshot(folder)
    result = run(str(folder), *args)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("Error: ") and message in errors[0]
    assert snapshot(folder) == before


def test_cli_refuses_a_folder_that_is_not_aligned(tmp_path):
    result = run(str(tmp_path))
    assert result.exit_code == 1 and result.stderr.startswith("Error: ") and "not an aligned result" in result.stderr


def test_cli_signature_mismatch(folder, tmp_path):
    assert run(str(folder), "--approve", "1").exit_code == 0
    other = write_folder(tmp_path / "other", BEADS[:4] + (Bead((4,), (3,), 0.5), Bead((), (4,), 0.0)))
    shutil.copy(folder / "doc.review.journal", other / "doc.review.journal")
    result = run(str(other), "--list")
    assert result.exit_code == 1 and "journal belongs to another alignment" in result.stderr


def test_cli_on_a_real_alignment(tmp_path, monkeypatch):
    out = tmp_path / "aligned"
    monkeypatch.setattr("sys.argv", ["bitext", "align"])
    result = runner.invoke(app, ["align", str(EXAMPLES / "interview.zh.txt"), str(EXAMPLES / "interview.en.txt"),
                                 "-o", str(out), "--name", "interview", "--quiet"])
    assert result.exit_code == 0, result.output
    gold = read_align(out / "interview.align")
    result = run(str(out), "--approve", f"1-{len(gold)}")
    assert result.exit_code == 0, result.output
    assert {r["origin"] for r in read_jsonl(out / "interview.jsonl")} == {"human"}
    assert score_paths(out / "interview.align", out / "interview.align").f1_strict == 1.0
    assert [(b.zh, b.en) for b in read_align(out / "interview.align")] == [(b.zh, b.en) for b in gold]


def test_reviewed_folder_still_serves_score_and_export(folder):
    from toolkit.export.exports import load_result
    from toolkit.score.metrics import find_jsonl

    assert run(str(folder), "--approve", "1-5").exit_code == 0
    assert find_jsonl(folder) == folder / "doc.jsonl"  # the journal is not mistaken for the beads
    assert len(load_result(folder).records) == 5


def test_two_sessions_on_one_journal_do_not_mix_histories(folder):
    first = open_session(folder)
    first.approve(1)
    second = ReviewSession.open(folder)
    second.merge_next(2)
    with pytest.raises(JournalError, match="changed by another review session"):
        first.approve(3)
    assert ReviewSession.open(folder).beads == second.beads


def test_cli_move_set_zh_and_no_counterpart(folder):
    result = run(str(folder), "--set-zh", "3", "张伟：你好，很高兴来。", "--no-counterpart", "4", "--move", "5", "en", "prev",
                 "--list")
    assert result.exit_code == 0, result.output
    records = read_jsonl(folder / "doc.jsonl")
    assert [r["type"] for r in records] == ["1-0", "1-1", "1-1", "0-2", "1-1"]
    assert records[2]["zh"] == "张伟：你好，很高兴来。" and records[3]["review"] == "edited"
    assert "no-counterpart" not in result.stdout  # bead 4 was confirmed, then the move made it an edit
    result = run(str(folder), "--move", "5", "en", "sideways")
    assert result.exit_code == 1 and "unknown direction" in result.stderr


# ---------------------------------------------------------------------------
# re-translation and the saved cursor (shared by the line mode and the UI)


class EchoTranslator:
    """The Translator interface as review uses it: translate_checked calls translate / batches / describe."""

    name = "echo"
    translates = True
    RETRY_SETTINGS: dict = {}

    def __init__(self, output: str = "An interview, as the editor says."):
        self.output, self.calls = output, 0

    def describe(self) -> str:
        return "echo:test"

    def settings(self) -> dict:
        return {}

    def batches(self, texts):
        return [list(range(len(texts)))]

    def translate(self, texts):
        self.calls += 1
        return [self.output for _ in texts]

    retranslate = translate


def test_retranslate_replaces_the_machine_english_and_replays(folder):
    session = open_session(folder)
    session.set_en(1, "A person's translation.")
    assert session.retranslate(1, EchoTranslator())
    bead = session.beads[0]
    assert (bead.translation, bead.mt_text, bead.mt_model) == ("An interview, as the editor says.",) * 2 + ("echo:test",)
    assert (bead.origin, bead.review, bead.reviewed_at) == ("mt", "pending", None)  # a machine's work: pending again
    assert session.status().machine_translated == 1
    entry = journal_lines(folder)[-1]
    assert (entry["op"], entry["source"], entry["model"], entry["flags"]) == ("retranslate", ZH[0], "echo:test", [])
    assert ReviewSession.open(folder).beads == session.beads  # replay needs no model
    assert not session.retranslate(1, EchoTranslator())  # same output: nothing journaled
    session.undo()
    assert session.beads[0].translation == "A person's translation."


class TwoWayTranslator(EchoTranslator):
    """Greedy output first; the second-attempt decoding gives another one."""

    def __init__(self, first: str, second: str):
        super().__init__(first)
        self.second, self.asked_again = second, []

    def retranslate(self, texts):
        self.asked_again += list(texts)
        return [self.second for _ in texts]


def test_retranslate_offers_the_second_attempt_when_the_output_is_the_current_one(folder):
    session = open_session(folder)
    current = session.beads[0].mt_text  # "Editor's note: this is an interview." from the alignment's MT
    translator = TwoWayTranslator(current, "Editor's note: an interview.")
    assert session.retranslate(1, translator)
    assert translator.asked_again == [ZH[0]]
    bead = session.beads[0]
    assert (bead.mt_text, bead.mt_model) == ("Editor's note: an interview.", "echo:test, second-attempt decoding")
    # A model with no alternative (same output both ways) changes nothing.
    assert not session.retranslate(1, TwoWayTranslator("Editor's note: an interview.", "Editor's note: an interview."))


def test_retranslate_keeps_the_checks_flags(folder):
    session = open_session(folder)
    session.retranslate(1, EchoTranslator("编者按"))  # Chinese left in the output
    assert "cjk" in session.beads[0].mt_flags


@pytest.mark.parametrize("call, message", [
    (lambda s: s.retranslate(2, EchoTranslator()), "only a bead with Chinese and no English original"),
    (lambda s: s.retranslate(4, EchoTranslator()), "only a bead with Chinese and no English original"),
    (lambda s: s.retranslate(9, EchoTranslator()), "bead 9 does not exist"),
    (lambda s: s.retranslate(1, EchoTranslator("  ")), "gave no English"),
    (lambda s: s.do({"op": "retranslate", "bead": 1, "source": "别的中文", "text": "x"}), "not the text that was translated"),
])
def test_retranslate_refusals(folder, call, message):
    session = open_session(folder)
    with pytest.raises(ReviewError, match=message):
        call(session)
    assert not (folder / "doc.review.journal").exists()


def test_retranslate_with_none_is_refused(folder):
    from toolkit.translate.backends import NoTranslator

    with pytest.raises(ReviewError, match="does not translate"):
        open_session(folder).retranslate(1, NoTranslator())


def test_saved_cursor_and_resume(folder):
    session = open_session(folder)
    assert session.saved_cursor() is None and session.resume_at() == 1
    session.approve(1, 2)
    assert session.resume_at() == 3  # the first pending bead
    session.save_cursor(5)
    assert ReviewSession.open(folder).resume_at() == 5
    session.merge_next(4)  # only 4 beads now: a saved 5 is clamped
    assert ReviewSession.open(folder).saved_cursor() == 4
    (folder / "doc.review.cursor").write_text("not json")
    assert ReviewSession.open(folder).saved_cursor() is None  # a damaged position is no reason to refuse the review


def test_needs_export(folder):
    session = open_session(folder)
    assert not session.needs_export()
    session.merge_next(1)
    assert session.needs_export()
    original = (folder / "doc.align").read_bytes()
    session.export()
    assert not session.needs_export() and not ReviewSession.open(folder).needs_export()
    # as if the export was cut short after its journal entry (a version without result-set manifests)
    (folder / "doc.manifest.json").unlink()
    (folder / "doc.align").write_bytes(original)
    assert ReviewSession.open(folder).needs_export()


# ---------------------------------------------------------------------------
# carrying a review over to a new alignment (--rebase)

# The same texts aligned again, differently: bead 3 (2-1) is now 1-1 + 1-0, the 0-1 is absorbed.
REALIGNED = (
    Bead((0,), (), 0.0, "mt", "Editor's note: this is an interview.", ()),
    Bead((1,), (0,), 0.91),
    Bead((2,), (1,), 0.8),
    Bead((3,), (), 0.0),
    Bead((), (2,), 0.0),
    Bead((4,), (3, 4), 0.77),
)


def test_rebase_carries_over_what_still_applies(folder, tmp_path):
    session = open_session(folder)
    session.set_en(1, "Editor's note: an interview.")   # bead 1 exists in both: applied
    session.approve(2, 2)                                # bead 2 too
    session.approve(3, 3)                                # the 2-1 bead is gone: dropped
    session.mark_no_counterpart(4)                       # the 0-1 bead is bead 5 now: applied there
    session.move(5, "en", "prev")                        # its neighbours are consecutive there too: applied
    new = write_folder(tmp_path / "new", REALIGNED)
    rebased = ReviewSession.open(new, clock=clock_from())
    from toolkit.review.session import rebase_review

    report = rebase_review(folder / "doc.review.journal", rebased)
    assert [op["op"] for op in report.applied] == ["set_en", "approve", "no_counterpart", "move"]
    assert [op["bead"] for op in report.applied if "bead" in op] == [1, 5, 6]
    assert [op for op, _ in report.dropped] == [{"op": "approve", "zh": [2, 3], "en": [1]}]
    assert [b.kind for b in rebased.beads][-2:] == ["0-2", "1-1"]
    assert rebased.beads[0].translation == "Editor's note: an interview."
    assert rebased.beads[1].review == "approved" and rebased.beads[2].review == "pending"
    # What was applied is journaled in the new folder, so reopening it gives the same state.
    again = ReviewSession.open(new, clock=clock_from())
    assert [(b.review, b.translation) for b in again.beads] == [(b.review, b.translation) for b in rebased.beads]


def test_rebase_keeps_the_words_approved_when_the_machine_translation_changed(folder, tmp_path):
    session = open_session(folder)
    session.approve(1, 2)  # bead 1: its machine translation, approved as it was
    redrafted = (Bead((0,), (), 0.0, "mt", "Editor's note: an interview follows.", ()), *BEADS[1:])
    same = (Bead((0,), (), 0.0, "mt", "Editor's note: this is an interview.", ()), *BEADS[1:])
    from toolkit.review.session import rebase_review

    rebased = ReviewSession.open(write_folder(tmp_path / "new", redrafted), clock=clock_from())
    report = rebase_review(folder / "doc.review.journal", rebased)
    assert report.applied == ({"op": "set_en", "bead": 1, "text": "Editor's note: this is an interview."},
                              {"op": "approve", "first": 2, "last": 2})
    assert (rebased.beads[0].review, rebased.beads[0].translation) == ("edited", "Editor's note: this is an interview.")
    assert rebased.beads[0].mt_text == "Editor's note: an interview follows."  # the new draft is kept beside it
    unchanged = ReviewSession.open(write_folder(tmp_path / "same", same), clock=clock_from())
    assert [op["op"] for op in rebase_review(folder / "doc.review.journal", unchanged).applied] == ["approve"] * 2
    assert unchanged.beads[0].review == "approved"


def test_rebase_onto_the_same_alignment_applies_everything(folder, tmp_path):
    session = open_session(folder)
    make_changes(session)
    shutil.copytree(folder, tmp_path / "copy")
    (tmp_path / "copy" / "doc.review.journal").unlink()
    fresh = write_folder(tmp_path / "fresh")
    rebased = ReviewSession.open(fresh, clock=clock_from())
    from toolkit.review.session import rebase_review

    report = rebase_review(folder / "doc.review.journal", rebased)
    assert not report.dropped
    assert [(b.zh, b.en, b.review, b.translation) for b in rebased.beads] == \
        [(b.zh, b.en, b.review, b.translation) for b in session.beads]


def test_rebase_refuses_a_journal_of_other_texts(folder, tmp_path):
    open_session(folder).approve(2, 2)
    other = tmp_path / "other"
    write_folder(other)
    (other / "doc.zh.txt").write_text("\n".join(["别的"] * len(ZH)) + "\n", encoding="utf-8")
    (other / "doc.manifest.json").unlink()  # edited by hand: no longer the set one run wrote
    from toolkit.review.session import rebase_review

    with pytest.raises(JournalError, match="other texts"):
        rebase_review(folder / "doc.review.journal", ReviewSession.open(other))


def test_rebase_cli(folder, tmp_path):
    open_session(folder).approve(1, 3)
    new = write_folder(tmp_path / "new", REALIGNED)
    result = runner.invoke(app, ["review", str(new), "--rebase", str(folder / "doc.review.journal")])
    assert result.exit_code == 0, result.output
    assert "2 operations applied, 0 already in effect, 1 no longer applicable" in result.output
    assert '"zh": [2, 3]' in result.output  # the dropped approval names its sentences
    records = read_jsonl(new / "doc.jsonl")
    assert [r["review"] for r in records][:3] == ["approved", "approved", "pending"]
    result = runner.invoke(app, ["review", str(new), "--rebase", str(folder / "doc.review.journal"), "--approve", "1"])
    assert result.exit_code != 0 and "--rebase cannot be combined" in result.output


# ---------------------------------------------------------------------------
# stable bead ids


def ids(session: ReviewSession) -> list[str]:
    return [b.id for b in session.beads]


def test_bead_ids_survive_merges_splits_undo_and_replay(folder):
    session = open_session(folder)
    assert ids(session) == ["b1", "b2", "b3", "b4", "b5"]  # given at alignment, in the JSONL
    assert [r["id"] for r in read_jsonl(folder / "doc.jsonl")] == ["b1", "b2", "b3", "b4", "b5"]
    session.merge_next(2)                       # a merge keeps the first bead's id
    assert ids(session) == ["b1", "b2", "b4", "b5"]
    session.split(2, 1, 1)                      # a split: the first part keeps it, the second gets a new one
    assert ids(session) == ["b1", "b2", "b6", "b4", "b5"]
    session.undo()
    session.split(2, 2, 1)                      # b6 was given once: never again, even after the undo
    assert ids(session) == ["b1", "b2", "b7", "b4", "b5"]
    session.move(3, "zh", "next")               # a move keeps both beads' ids
    assert ids(session) == ["b1", "b2", "b7", "b4", "b5"]
    assert [e.get("new_id") for e in journal_lines(folder)[1:] if e["op"] == "split"] == ["b6", "b7"]
    session.export()
    assert [r["id"] for r in read_jsonl(folder / "doc.jsonl")] == ids(session)
    assert open_session(folder).beads == session.beads  # replay gives the same ids
    # A journal written before ids were journaled (no new_id) replays to the same ids: they are given in order.
    lines = [json.loads(line) for line in (folder / "doc.review.journal").read_text(encoding="utf-8").splitlines()]
    (folder / "doc.review.journal").write_text("".join(
        json.dumps({k: v for k, v in line.items() if k != "new_id"}, ensure_ascii=False) + "\n" for line in lines),
        encoding="utf-8")
    assert ids(open_session(folder)) == ids(session)


def test_files_written_before_ids_were_stable_read_as_positions(folder):
    records = [{**r, "id": n} for n, r in enumerate(read_jsonl(folder / "doc.jsonl"), start=1)]
    with FolderLock(folder), staged_set(folder, "doc") as staging:
        write_records(staging / "doc.jsonl", records)
    assert ids(open_session(folder)) == ["b1", "b2", "b3", "b4", "b5"]


def test_rebase_carries_the_ids_over(folder, tmp_path):
    session = open_session(folder)
    session.split(3, 1, 1)  # b3 (2-1) -> b3 (1-1) + b6 (1-0): the new alignment has both by itself
    session.approve(5, 5)
    new = write_folder(tmp_path / "new", REALIGNED)
    from toolkit.review.session import rebase_review

    rebased = ReviewSession.open(new, clock=clock_from())
    report = rebase_review(folder / "doc.review.journal", rebased)
    assert [op["op"] for op in report.in_effect] == ["split"]
    # Each bead keeps the id the earlier review knew it by, so a link to #b6 still finds its passage.
    assert ids(rebased) == ["b1", "b2", "b3", "b6", "b4", "b5"]
    rebased.split(6, 1, 1)
    assert ids(rebased)[-1] == "b7"
    rebased.export()
    assert [r["id"] for r in read_jsonl(new / "doc.jsonl")] == ids(rebased)
    assert ids(ReviewSession.open(new)) == ids(rebased)


# ---------------------------------------------------------------------------
# exports that do not show the journal yet, and published editions


def test_unexported_review_is_told_without_replaying(folder):
    from toolkit.review.session import unexported_review

    assert unexported_review(folder, "doc") is None  # no journal
    session = open_session(folder)
    session.approve(2)
    assert unexported_review(folder, "doc") == "doc.review.journal holds 1 change not exported yet"
    session.export()
    assert unexported_review(folder, "doc") is None
    session.undo()
    assert "1 change not exported" in unexported_review(folder, "doc")


def test_bitext_export_replays_journaled_changes_first(folder, tmp_path):
    open_session(folder).set_en(2, "Host: Good evening.")  # journaled, not exported
    target = tmp_path / "doc.md"
    result = runner.invoke(app, ["export", str(folder), "--to", "md", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "1 change not exported yet: replayed the review" in result.output
    assert "Good evening" in target.read_text(encoding="utf-8")  # never a silently stale edition
    assert "Good evening" in read_jsonl(folder / "doc.jsonl")[1]["en"]  # the folder is current too
    result = runner.invoke(app, ["export", str(folder), "--to", "md", "-o", str(target)])
    assert result.exit_code == 0 and "replayed" not in result.output  # nothing left to replay


def test_a_review_export_refreshes_the_folder_editions(folder):
    for fmt, layout in (("html", "interleaved"), ("md", "side-by-side")):
        result = runner.invoke(app, ["export", str(folder), "--to", fmt, "--layout", layout,
                                     "-o", str(folder / f"doc.{fmt}")])
        assert result.exit_code == 0, result.output
    (folder / "export").mkdir()
    (folder / "doc.md").rename(folder / "export" / "doc.md")
    result = runner.invoke(app, ["review", str(folder), "--set-en", "2", "Host: Good evening."])
    assert result.exit_code == 0, result.output
    html = (folder / "doc.html").read_text(encoding="utf-8")
    assert "Good evening" in html and 'data-layout="interleaved"' in html  # rewritten, in its own layout
    assert "Good evening" in (folder / "export" / "doc.md").read_text(encoding="utf-8")


SHARED_EDITION = Path(__file__).resolve().parents[1] / "aligned" / "004_fadffe5ef7c73b46"


@pytest.fixture
def published(tmp_path) -> Path:
    """A copy of the published, reviewed Karpathy edition (never the edition itself)."""
    if not SHARED_EDITION.is_dir():
        pytest.skip(f"the published edition {SHARED_EDITION.name} is not in this checkout")
    return Path(shutil.copytree(SHARED_EDITION, tmp_path / SHARED_EDITION.name))


def test_review_opens_a_published_edition(published):
    name = published.name
    assert not (published / f"{name}.align").exists()
    records = read_jsonl(published / f"{name}.jsonl")
    session = ReviewSession.open(published)  # the .align and sentence files rebuilt from the journal
    assert [(b.zh_text, b.en_text, b.review) for b in session.beads] == \
        [(r["zh"], r["en"] or r.get("translation") or "", r["review"]) for r in records]
    assert all((published / f"{name}.{ext}").is_file() for ext in ("align", "zh.txt", "en.txt"))
    assert not session.needs_export()
    result = runner.invoke(app, ["review", str(published), "--list", "--one-sided"])
    assert result.exit_code == 0, result.output
    assert all(line.split()[2] in ("1-0", "0-1") for line in result.stdout.splitlines()[1:-1])


def test_a_published_edition_without_journal_is_rebuilt_from_the_jsonl(published):
    name = published.name
    (published / f"{name}.review.journal").unlink()
    session = ReviewSession.open(published)
    records = read_jsonl(published / f"{name}.jsonl")
    assert [(b.zh_text, " ".join(s.text for s in b.en)) for b in session.beads] == [(r["zh"], r["en"]) for r in records]
    assert [len(b.zh) for b in session.beads] == [len(r["zh_ids"]) for r in records]


def test_a_published_edition_that_cannot_be_rebuilt_is_refused(published):
    name = published.name
    (published / f"{name}.review.journal").unlink()
    records = read_jsonl(published / f"{name}.jsonl")
    two = next(i for i, r in enumerate(records) if len(r["zh_ids"]) > 1)
    records[two] = {**records[two], "zh": "没有句号的一句话"}  # its sentences can no longer be told apart
    write_records(published / f"{name}.jsonl", records)
    with pytest.raises(FormatError, match="cannot be told apart"):
        ReviewSession.open(published)
    assert not (published / f"{name}.align").exists()  # nothing half-written


def test_retranslate_asks_with_the_document_and_the_glossary(folder):
    from toolkit.translate.backends import Translator
    from toolkit.translate.glossary import Glossary

    class Recording(Translator):
        name, takes_context = "rec", True

        def __init__(self):
            super().__init__()
            self.requests = []

        def describe(self) -> str:
            return "rec:test"

        def _generate(self, texts, overrides):
            self.requests += texts
            return ["Editor's note: this is a talk."] * len(texts)

    translator = Recording()
    session = open_session(folder)
    [op] = session.retranslation_ops([1], translator, glossary=Glossary((("访谈", "interview"),)))
    first = translator.requests[0]
    assert first.terms == (("访谈", "interview"),)
    assert first.examples[0] == ("主持人：你好。", "Host: Hello.")          # the nearest pair with an English original
    assert op["flags"] == ["name"]                                       # "talk" is not the glossary's "interview"
    assert translator.requests[-1].hints == ("访谈 = interview",)         # and the retry said so
