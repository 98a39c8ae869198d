"""The full-screen review, driven for real through Textual's Pilot, and --retranslate in line mode.

Each test opens the UI on a small aligned folder (the one of test_review.py),
presses keys, and checks what the reviewer would rely on: the journal, the
re-exported .align / JSONL / TMX, and where the review reopens.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Label, OptionList, Static, TextArea
from typer.testing import CliRunner

from test_review import BEADS, EN, ZH, clock_from, journal_lines, published, snapshot, write_folder  # noqa: F401
from toolkit.cli import app as cli_app
from toolkit.core.records import Bead
from toolkit.formats.writers import read_align, read_jsonl, read_tmx_memory
from toolkit.review.session import ReviewSession, recorded_mt_spec
from toolkit.review.ui import (EditScreen, HelpScreen, MoveScreen, PromptScreen, ReviewApp, SplitScreen)
from toolkit.translate.backends import Translator

SIZE = (110, 32)
runner = CliRunner()


class FakeTranslator(Translator):
    """A tiny stand-in for a model: a fixed phrase book, and a count of what it was asked."""

    name = "fake"
    label = "phrasebook"
    PHRASES = {ZH[0]: "Editor's note: what follows is an interview.",
               "张伟：你好。很高兴来。": "Zhang Wei: Hello. Glad to come."}

    def __init__(self):
        super().__init__()
        self.asked: list[str] = []

    def _generate(self, texts, overrides):
        self.asked += texts
        return [self.PHRASES.get(t, "Something else entirely.") for t in texts]


@pytest.fixture
def folder(tmp_path) -> Path:
    return write_folder(tmp_path / "out")


def review_app(folder: Path, translator=None, **kwargs) -> ReviewApp:
    return ReviewApp(ReviewSession.open(folder, clock=clock_from()),
                     translator_factory=(lambda: translator) if translator else None,
                     mt_label="fake", use_cache=False, **kwargs)


def drive(app: ReviewApp, script, quit: bool = True) -> None:
    """Run ``app`` headless, let ``script(pilot)`` press its keys, then quit with q (unless it did, or ``quit`` is False)."""
    async def main():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await script(pilot)
            await pilot.pause()
            if quit and app.is_running:
                await pilot.press("q")
                await pilot.pause()

    asyncio.run(main())


async def go_to(pilot, n: int | str) -> None:
    """Jump with the g dialog, as a reviewer would (a bead number or id)."""
    await pilot.press("g", *str(n), "enter")
    await pilot.pause()


def ops(folder: Path) -> list[str]:
    """The journal's operations, without the exports (quitting exports after changes)."""
    return [entry["op"] for entry in journal_lines(folder)[1:] if entry["op"] != "export"]


def status_line(app: ReviewApp) -> str:
    return str(app.query_one("#status", Static).render())


# ---------------------------------------------------------------------------
# opening and looking around


def test_opens_with_table_detail_and_status(folder):
    app = review_app(folder)

    async def script(pilot):
        table = app.query_one(DataTable)
        assert table.row_count == 5
        assert [str(c.label) for c in table.columns.values()] == ["#", "id", "type", "score", "origin", "review", "中文",
                                                                   "English"]
        assert [str(table.get_row_at(i)[2]) for i in range(5)] == ["1-0", "1-1", "2-1", "0-1", "1-2"]
        assert [str(table.get_row_at(i)[1]) for i in range(5)] == ["b1", "b2", "b3", "b4", "b5"]
        assert "[MT] Editor's note" in str(table.get_row_at(0)[7])
        assert app.current == 1  # nothing reviewed yet: the first pending bead
        detail = str(app.query_one("#detail", Static).render())
        assert "▶ bead 1 (b1) · 1-0" in detail and ZH[0] in detail and "bead 2 (b2) · 1-1" in detail  # and its neighbour
        status = status_line(app)
        assert "0 approved · 0 edited" in status and "5 pending · 1 machine-translated" in status
        await pilot.press("down", "down")
        assert app.current == 3 and "▶ bead 3 (b3) · 2-1" in str(app.query_one("#detail", Static).render())
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "merge with the previous bead" in str(app.screen.query_one("#help-text", Static).render())
        await pilot.press("a")  # keys belong to the dialog while it is open
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

    drive(app, script)
    assert not (folder / "doc.review.journal").exists()  # looking changes nothing


def test_approve_marks_the_bead_and_moves_on(folder):
    app = review_app(folder)

    async def script(pilot):
        await go_to(pilot, 2)
        await pilot.press("a")
        assert app.current == 3
        assert "1 approved" in status_line(app)
        assert "approved" in str(app.query_one(DataTable).get_row_at(1)[5])

    drive(app, script)
    assert ops(folder) == ["approve"] and journal_lines(folder)[1]["first"] == 2
    assert journal_lines(folder)[-1]["op"] == "export"
    assert [r["review"] for r in read_jsonl(folder / "doc.jsonl")] == ["pending", "approved", "pending", "pending",
                                                                     "pending"]  # quitting exported


def test_edit_english_and_chinese_through_the_dialog(folder):
    app = review_app(folder)

    async def script(pilot):
        await go_to(pilot, 5)
        await pilot.press("e")
        assert isinstance(app.screen, EditScreen)
        editor = app.screen.query_one(TextArea)
        assert editor.text == "Let's start.\nRight now."  # one sentence per line
        editor.text = ""
        await pilot.press(*"Let's start right now.")  # typed, key by key
        await pilot.press("ctrl+s")
        assert not isinstance(app.screen, EditScreen)
        assert app.session.beads[4].en_text == "Let's start right now." and app.session.beads[4].kind == "1-1"
        await go_to(pilot, 3)
        await pilot.press("c")
        app.screen.query_one(TextArea).text = "张伟：你好，很高兴来。"
        await pilot.press("ctrl+s")
        await pilot.press("c")  # and an edit given up: Esc
        app.screen.query_one(TextArea).text = "不要这个。"
        await pilot.press("escape")
        assert app.session.beads[2].zh_text == "张伟：你好，很高兴来。"
        await go_to(pilot, 4)
        await pilot.press("c")  # a 0-1 bead has no Chinese: told so, no dialog
        assert not isinstance(app.screen, EditScreen) and "no Chinese" in app.message and app.message_is_error

    drive(app, script)
    assert ops(folder) == ["set_en", "set_zh"]
    records = read_jsonl(folder / "doc.jsonl")
    assert records[4]["en"] == "Let's start right now." and records[4]["review"] == "edited"
    assert records[2]["zh"] == "张伟：你好，很高兴来。"
    assert (folder / "doc.zh.txt").read_text(encoding="utf-8").splitlines()[2] == "张伟：你好，很高兴来。"
    units = {unit.tuid: unit for unit in read_tmx_memory(folder / "doc.tmx").units}  # two-sided units only
    assert units["b5"].en == "Let's start right now." and units["b5"].props["x-review"] == "edited"


def test_merge_split_move_mark_undo_redo(folder):
    app = review_app(folder)

    async def script(pilot):
        await go_to(pilot, 3)
        await pilot.press("n")  # 2-1 + 0-1
        assert [b.kind for b in app.session.beads] == ["1-0", "1-1", "2-2", "1-2"] and app.current == 3
        await pilot.press("s")
        assert isinstance(app.screen, SplitScreen)
        zh_list = app.screen.query_one("#zh-cut", OptionList)
        assert zh_list.option_count == 3 and zh_list.highlighted == 1
        await pilot.press("enter", "down", "enter")  # after 1 Chinese and 2 English sentences
        assert [b.kind for b in app.session.beads] == ["1-0", "1-1", "1-2", "1-0", "1-2"]
        await pilot.press("u")
        assert [b.kind for b in app.session.beads] == ["1-0", "1-1", "2-2", "1-2"]
        await pilot.press("y")
        assert [b.kind for b in app.session.beads] == ["1-0", "1-1", "1-2", "1-0", "1-2"]
        await pilot.press("x")  # bead 3 is 1-2: refused
        assert "only a bead with one empty side" in app.message
        await pilot.press("down", "x")  # bead 4 (1-0) has no counterpart; the cursor moves on
        assert app.session.beads[3].review == "no-counterpart" and app.current == 5
        await pilot.press("v")
        assert isinstance(app.screen, MoveScreen)
        await pilot.press("down", "down", "enter")  # the first English sentence -> the previous bead
        assert [b.kind for b in app.session.beads] == ["1-0", "1-1", "1-2", "1-1", "1-1"]
        await pilot.press("p")  # merge 5 into 4
        assert [b.kind for b in app.session.beads][3:] == ["2-2"] and app.current == 4
        await go_to(pilot, 1)
        await pilot.press("p")  # nothing before bead 1: refused, said, nothing journaled
        assert "no previous bead" in app.message and app.message_is_error

    drive(app, script)
    assert ops(folder) == ["merge_next", "split", "undo", "redo", "no_counterpart", "move", "merge_prev"]
    assert [(b.zh, b.en) for b in read_align(folder / "doc.align")] == [
        ((0,), ()), ((1,), (0,)), ((2,), (1, 2)), ((3, 4), (3, 4))]
    assert ReviewSession.open(folder).beads == app.session.beads  # the journal replays to what was on screen


def test_retranslate_with_an_injected_translator(folder):
    translator = FakeTranslator()
    app = review_app(folder, translator)

    async def script(pilot):
        await pilot.press("r")  # bead 1: a 1-0 with machine English
        await app.workers.wait_for_complete()
        await pilot.pause()
        bead = app.session.beads[0]
        assert bead.translation == "Editor's note: what follows is an interview." == bead.mt_text
        assert (bead.origin, bead.review, bead.mt_model) == ("mt", "pending", "fake:phrasebook")
        assert "re-translated bead 1" in app.message
        await pilot.press("r")  # the same output, and no other from the second-attempt decoding: nothing to journal
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.message == "nothing changed"
        await go_to(pilot, 2)
        await pilot.press("r")  # a bead with an English original is not machine-translated
        assert "only a bead with Chinese and no English original" in app.message

    drive(app, script)
    assert translator.asked == [ZH[0], ZH[0], ZH[0]]  # first r; second r: greedy again, then the second attempt
    entries = [e for e in journal_lines(folder)[1:] if e["op"] != "export"]
    assert [e["op"] for e in entries] == ["retranslate"]
    assert entries[0]["source"] == ZH[0] and entries[0]["model"] == "fake:phrasebook"
    record = read_jsonl(folder / "doc.jsonl")[0]
    assert (record["origin"], record["mt"], record["mt_model"]) == ("mt", "Editor's note: what follows is an interview.",
                                                                   "fake:phrasebook")
    # A machine translation nobody approved yet is not a human pair: the memory leaves it out.
    tuids = [unit.tuid for unit in read_tmx_memory(folder / "doc.tmx").units]
    assert tuids and "1" not in tuids
    assert json.loads((folder / "doc.signature.json").read_text())["review"]["retranslated_with"] == ["fake:phrasebook"]


def test_retranslate_after_a_merge_and_without_a_translator(folder):
    translator = FakeTranslator()
    app = review_app(folder, translator)

    async def script(pilot):
        await go_to(pilot, 3)
        await pilot.press("c")  # the Chinese of bead 3 edited, its English dropped: now a 1-0 to translate
        app.screen.query_one(TextArea).text = "张伟：你好。很高兴来。"
        await pilot.press("ctrl+s", "e")
        app.screen.query_one(TextArea).text = ""
        await pilot.press("ctrl+s")
        assert app.session.beads[2].kind == "1-0"
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.session.beads[2].translation == "Zhang Wei: Hello. Glad to come."
        await pilot.press("u")  # undo reaches a re-translation like any change
        assert app.session.beads[2].translation is None

    drive(app, script)
    assert ops(folder) == ["set_zh", "set_en", "retranslate", "undo"]

    bare = review_app(folder)  # opened without --mt and without a recorded model

    async def no_model(pilot):
        await pilot.press("r")
        assert "no translator configured" in bare.message

    drive(bare, no_model)


def test_jump_search_and_filters(folder):
    app = review_app(folder)

    async def script(pilot):
        await pilot.press("g")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("4", "enter")
        assert app.current == 4 and app.query_one(DataTable).cursor_row == 3
        await pilot.press("g", "9", "enter")
        assert app.current == 4 and "bead numbers run from 1 to 5" in app.message
        await pilot.press("1")  # doubtful pairs: below the threshold, two-sided (not the omissions at score 0)
        assert app.shown == [3] and app.current == 3
        await pilot.press("2")  # and machine-translated: bead 1 is, but it is one-sided
        assert app.shown == [] and "no bead matches" in app.message
        await pilot.press("0", "4")  # one-sided beads, a filter of their own
        assert app.shown == [1, 4]
        await pilot.press("0", "3")  # unreviewed only
        assert app.shown == [1, 2, 3, 4, 5]
        await go_to(pilot, 2)
        await pilot.press("a")  # the row is updated in place: it stays until the filters change
        assert app.shown == [1, 2, 3, 4, 5] and app.current == 3
        assert "approved" in str(app.query_one(DataTable).get_row_at(1)[5])
        await pilot.press("3", "3")
        assert app.shown == [1, 3, 4, 5]
        await go_to(pilot, 2)  # hidden by the filter: the filters are cleared to show it
        assert app.current == 2 and app.shown == [1, 2, 3, 4, 5] and "cleared" in app.message
        await go_to(pilot, "b4")  # by id
        assert app.current == 4
        await pilot.press("slash")
        await pilot.press(*"raining", "enter")
        assert app.shown == [4] and app.current == 4
        assert app.query_one(DataTable).row_count == 1
        await pilot.press("slash")
        assert app.screen.query_one(Input).value == "raining"
        app.screen.query_one(Input).value = ""
        await pilot.press("enter")
        assert app.shown == [1, 2, 3, 4, 5]
        await pilot.press("slash", *"nowhere", "enter")
        assert app.shown == [] and "containing 'nowhere'" in status_line(app)

    drive(app, script)


# ---------------------------------------------------------------------------
# quitting, reopening, crashing


def test_reopen_resumes_at_the_bead_where_the_review_stopped(folder):
    app = review_app(folder)

    async def script(pilot):
        await go_to(pilot, 2)
        await pilot.press("a", "down")  # approve 2, then walk on to 4 (no change, only the cursor moves)
        assert app.current == 4
        await pilot.press("q")

    drive(app, script)
    assert json.loads((folder / "doc.review.cursor").read_text())["bead"] == 4
    again = review_app(folder)

    async def reopened(pilot):
        assert again.current == 4 and again.query_one(DataTable).cursor_row == 3
        assert "1 approved" in status_line(again)

    drive(again, reopened)


def test_cursor_is_saved_when_it_rests_even_without_quitting(folder):
    app = review_app(folder)

    async def script(pilot):
        await pilot.press("down", "down")
        await pilot.pause(0.8)  # longer than CURSOR_SAVE_DELAY
        assert ReviewSession.open(folder).saved_cursor() == 3

    drive(app, script)


def test_a_crash_between_two_actions_loses_nothing(folder, tmp_path):
    app = review_app(folder, export_on_quit=False)
    crashed = tmp_path / "crashed"

    async def script(pilot):
        await go_to(pilot, 2)
        await pilot.press("a")
        await pilot.press("n")  # bead 3 + bead 4
        # The machine dies now: what is on disk is all there is. Copy it as it is, then a half-written entry.
        shutil.copytree(folder, crashed)
        with open(crashed / "doc.review.journal", "ab") as handle:
            handle.write(b'{"at": "2026-01-01T00:09:00Z", "bead": 1, "op": "appro')

    drive(app, script, quit=False)
    assert [(b.zh, b.en) for b in read_align(crashed / "doc.align")] == [(b.zh, b.en) for b in BEADS]
    again = review_app(crashed)

    async def reopened(pilot):
        assert [b.kind for b in again.session.beads] == ["1-0", "1-1", "2-2", "1-2"]
        assert again.session.beads[1].review == "approved"
        assert "incomplete last line" in again.message and again.current == 3
        await pilot.press("down", "a")  # the next change starts on a clean line

    drive(again, reopened)
    assert ops(crashed) == ["approve", "merge_next", "approve"] and journal_lines(crashed)[-1]["op"] == "export"
    assert [r["type"] for r in read_jsonl(crashed / "doc.jsonl")] == ["1-0", "1-1", "2-2", "1-2"]


def test_killed_process_loses_nothing(folder):
    """The real thing: bitext review in a pseudo-terminal, killed with SIGKILL right after a key."""
    pty = pytest.importorskip("pty")
    import fcntl
    import select
    import signal
    import struct
    import termios
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: a 100 x 30 terminal running the UI
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [sys.executable, "-m", "toolkit", "review", str(folder)])
    journal = folder / "doc.review.journal"
    screen = bytearray()

    def wait_for(condition, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    screen.extend(os.read(fd, 65536))  # keep the terminal's output flowing
                except OSError:
                    break
        return condition()

    try:
        assert wait_for(lambda: b"approved" in screen, 30), "the UI did not draw its status line"
        os.write(fd, b"a")
        assert wait_for(lambda: journal.exists() and len(journal.read_text().splitlines()) == 2, 15)
        os.kill(pid, signal.SIGKILL)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)
    session = ReviewSession.open(folder)
    assert session.beads[0].review == "approved" and session.warnings == []
    assert "review" not in read_jsonl(folder / "doc.jsonl")[0]  # killed before any export: the journal has it all
    result = runner.invoke(cli_app, ["review", str(folder), "--export"])
    assert result.exit_code == 0 and read_jsonl(folder / "doc.jsonl")[0]["review"] == "approved"


# ---------------------------------------------------------------------------
# the command line


def test_bitext_review_without_options_opens_the_ui(folder, monkeypatch):
    seen = {}

    def fake_run(session, factory, spec, cache):
        seen.update(session=session, factory=factory, spec=spec, cache=cache)

        class Done:
            exported: list = []
        return Done()

    monkeypatch.setattr("toolkit.review.ui.run_review", fake_run)
    monkeypatch.setattr("toolkit.cli._has_terminal", lambda: True)  # CliRunner's streams are not a terminal
    result = runner.invoke(cli_app, ["review", str(folder), "--mt", "qwen0.5b", "--mt-cache", "c.sqlite"])
    assert result.exit_code == 0, result.output
    assert seen["spec"] == "qwen0.5b" and seen["cache"] == Path("c.sqlite") and seen["factory"] is not None
    assert "5 beads: 0 approved" in result.stdout
    result = runner.invoke(cli_app, ["review", str(folder)])  # no --mt, and the alignment recorded none
    assert result.exit_code == 0 and seen["spec"] is None and seen["factory"] is None


def test_cli_import_stays_light():
    code = "import sys, toolkit.cli; print(sorted(m for m in ('textual', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.fixture
def fake_model(monkeypatch):
    made = []

    def get_translator(spec, models_dir=None):
        if spec != "fake":
            from toolkit.core.errors import ModelError
            raise ModelError(f"unknown translator {spec!r}", "only fake here")
        made.append(FakeTranslator())
        return made[-1]

    monkeypatch.setattr("toolkit.translate.backends.get_translator", get_translator)
    return made


def test_line_mode_retranslate(folder, tmp_path, fake_model):
    cache = tmp_path / "mt.sqlite"
    result = runner.invoke(cli_app, ["review", str(folder), "--retranslate", "1-5", "--mt", "fake",
                                     "--mt-cache", str(cache)])
    assert result.exit_code == 0, result.output
    assert "1 change made" in result.stdout and "exported 6 files" in result.stdout
    record = read_jsonl(folder / "doc.jsonl")[0]
    assert record["mt"] == "Editor's note: what follows is an interview." and record["mt_model"] == "fake:phrasebook"
    assert fake_model[0].asked == [ZH[0]]  # only the bead without English, of the five in the range
    result = runner.invoke(cli_app, ["review", str(folder), "--retranslate", "1", "--mt", "fake",
                                     "--mt-cache", str(cache)])
    assert result.exit_code == 0 and "0 of 1 changes made" in result.stdout
    assert fake_model[1].asked == [ZH[0]]  # greedy output from the cache, the same: one second-attempt decoding
    assert ops(folder) == ["retranslate"]


@pytest.mark.parametrize("args, message", [
    (["--retranslate", "2", "--mt", "fake"], "only a bead with Chinese and no English original"),
    (["--retranslate", "9", "--mt", "fake"], "bead 9 does not exist"),
    (["--retranslate", "2-4", "--mt", "fake"], "no bead in the range"),
    (["--retranslate", "1", "--mt", "nonsense"], "unknown translator 'nonsense'"),
    (["--retranslate", "1"], "no translator: the alignment was not machine-translated"),
    (["--retranslate", "1", "--approve", "2", "--mt", "fake"], "cannot be combined"),
])
def test_line_mode_retranslate_bad_input(folder, fake_model, args, message):
    before = snapshot(folder)
    result = runner.invoke(cli_app, ["review", str(folder), *args])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("Error: ") and message in errors[0]
    assert snapshot(folder) == before


def test_line_mode_retranslate_uses_the_recorded_model(tmp_path, fake_model):
    folder = write_folder(tmp_path / "out")
    signature = json.loads((folder / "doc.signature.json").read_text())
    signature["command"] = "bitext align a.zh.txt a.en.txt --mt fake -o out"
    (folder / "doc.signature.json").write_text(json.dumps(signature))
    (folder / "doc.manifest.json").unlink()  # edited by hand: as a folder written before manifests
    result = runner.invoke(cli_app, ["review", str(folder), "--retranslate", "1", "--mt-cache", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert read_jsonl(folder / "doc.jsonl")[0]["mt_model"] == "fake:phrasebook"


@pytest.mark.parametrize("signature, spec", [
    ({"command": "bitext align a b --mt qwen1.5b -o x", "mt": "llm:qwen1.5b (decoding=greedy)"}, "qwen1.5b"),
    ({"command": "bitext align a b --mt=seq2seq -o x"}, "seq2seq"),
    ({"command": "bitext align a b", "mt": "seq2seq:Helsinki-NLP/opus-mt-zh-en (beams=4)"},
     "seq2seq:Helsinki-NLP/opus-mt-zh-en"),
    ({"command": "bitext align a b --mt none"}, None),
    ({"command": "bitext align a b"}, None),
    ({}, None),
])
def test_recorded_mt_spec(signature, spec):
    assert recorded_mt_spec(signature) == spec


# ---------------------------------------------------------------------------
# getting around quickly, and what the screen must always show


def test_home_end_and_g_g_G_go_to_the_first_and_last_bead(folder):
    app = review_app(folder)

    async def script(pilot):
        await go_to(pilot, 3)
        await pilot.press("end")
        assert app.current == 5 and app.query_one(DataTable).cursor_row == 4
        await pilot.press("home")
        assert app.current == 1 and app.query_one(DataTable).cursor_row == 0
        await pilot.press("G")
        assert app.current == 5
        await pilot.press("g", "g")
        assert app.current == 1 and not isinstance(app.screen, PromptScreen)
        await pilot.press("4", "end")  # within a filter: the last bead it shows
        assert app.shown == [1, 4] and app.current == 4
        await pilot.press("home")
        assert app.current == 1

    drive(app, script)


def test_after_a_merge_or_split_the_cursor_stays_on_the_result_outside_the_filter(folder):
    app = review_app(folder)

    async def script(pilot):
        await pilot.press("1")  # doubtful pairs: bead 3 (2-1, 0.42) only
        assert app.shown == [3] and app.current == 3
        await pilot.press("n")  # merged with the 0-1 after it: a human pairing now, score 1, outside the filter
        assert app.session.beads[2].kind == "2-2" and app.current == 3 and 3 in app.shown
        assert app.query_one(DataTable).cursor_row == app.shown.index(3)
        await pilot.press("s", "enter", "enter")  # split after 1 zh and 1 en sentence: the first part stays current
        assert [b.kind for b in app.session.beads][2:4] == ["1-1", "1-1"]
        assert app.current == 3 and 3 in app.shown and "bead 3 (b3)" in str(app.query_one("#detail", Static).render())
        await pilot.press("1", "1")  # a filter change shows what the filter says again
        assert 3 not in app.shown

    drive(app, script)


def test_approve_updates_the_row_in_place(folder):
    app = review_app(folder)
    rebuilds = []

    async def script(pilot):
        await go_to(pilot, 2)
        table = app.query_one(DataTable)
        rows_before = [table.get_row_at(i) for i in range(table.row_count)]
        original = app.rebuild
        app.rebuild = lambda *args, **kwargs: (rebuilds.append(args), original(*args, **kwargs))
        await pilot.press("a", "a")
        assert app.session.beads[1].review == app.session.beads[2].review == "approved"
        assert [str(c) for c in table.get_row_at(1)][5] == "approved" and app.current == 4
        assert [table.get_row_at(i) for i in (0, 3, 4)] == [rows_before[i] for i in (0, 3, 4)]
        await pilot.pause()
        drawn = {line.split()[1]: line for line in _screen_text(app).splitlines()[1:6]}
        assert "approved" in drawn["b2"] and "approved" in drawn["b3"] and "pending" in drawn["b4"]  # as drawn
        await pilot.press("n", "u")  # a merge and its undo renumber what follows: those rebuild the table
        assert len(rebuilds) == 2
        await pilot.press("end", "a")  # the last bead: the cursor stays on the row it redraws
        await pilot.pause()
        assert app.current == 5 and app.session.beads[4].review == "approved"
        assert "approved" in _screen_text(app).splitlines()[5]

    drive(app, script)
    assert len(rebuilds) == 2


def test_the_edit_dialog_shows_the_text_to_match(folder):
    app = review_app(folder)

    async def script(pilot):
        await go_to(pilot, 3)
        await pilot.press("e")
        match = str(app.screen.query_one("#match", Static).render())
        assert "张伟：你好。" in match and "很高兴来。" in match  # the Chinese the English must match
        assert "the Chinese it must match" in str(app.screen.query_one(".hint", Label).render())
        await pilot.press("escape", "c")
        assert "Zhang Wei: Hello, glad to be here." in str(app.screen.query_one("#match", Static).render())
        await pilot.press("escape")

    drive(app, script)


def _screen_text(app: ReviewApp) -> str:
    """The screen as the terminal shows it, rendered by the capture script."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "capture_review_screen", Path(__file__).resolve().parents[1] / "scripts" / "capture_review_screen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.screen_text(app)


def test_at_80_by_24_the_footer_keeps_help_and_quit_and_messages_keep_their_hint(folder):
    app = review_app(folder)

    async def main():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            footer = _screen_text(app).splitlines()[-1]
            assert footer.split()[:4] == ["?", "help", "q", "quit"]
            await go_to(pilot, 1)
            await pilot.press("p")  # refused, with a message and a hint longer than the 80 columns
            assert app.message_is_error and len(app.message) > 80
            hint = app.message.split(" — ", 1)[1]
            screen = " ".join(_screen_text(app).split())
            assert " ".join(hint.split()) in screen  # the whole hint, wrapped, not cut
            assert " ".join(_screen_text(app).splitlines()[-1].split()[:4]) == "? help q quit"

    asyncio.run(main())


# ---------------------------------------------------------------------------
# the command line around the UI


def test_without_a_terminal_bitext_review_points_to_the_line_mode(folder):
    done = subprocess.run([sys.executable, "-m", "toolkit", "review", str(folder)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "needs a terminal" in done.stderr and f"bitext review {folder} --list" in done.stderr
    assert not (folder / "doc.review.journal").exists()


def test_the_ui_on_a_published_edition_and_quitting_refreshes_its_html(published, monkeypatch):
    name = published.name
    edited = "So this sentence was edited in the review."

    def headless(session, factory, spec, cache):  # the real UI, driven headless instead of on a terminal
        app = ReviewApp(session, factory, spec, cache)

        async def main():
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                await go_to(pilot, "b300")
                await pilot.press("e")
                app.screen.query_one(TextArea).text = edited
                await pilot.press("ctrl+s", "q")
                await pilot.pause()

        asyncio.run(main())
        return app

    monkeypatch.setattr("toolkit.review.ui.run_review", headless)
    monkeypatch.setattr("toolkit.cli._has_terminal", lambda: True)
    assert edited not in (published / f"{name}.html").read_text(encoding="utf-8")
    result = runner.invoke(cli_app, ["review", str(published)])
    assert result.exit_code == 0, result.output
    record = next(r for r in read_jsonl(published / f"{name}.jsonl") if r["id"] == "b300")
    assert record["review"] == "edited" and (record["en"] or record["translation"]) == edited
    assert edited in (published / f"{name}.html").read_text(encoding="utf-8")  # the edition follows the review
