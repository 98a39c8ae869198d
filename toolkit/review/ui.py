"""The full-screen review: a Textual UI over :class:`toolkit.review.session.ReviewSession`.

Every key that changes the alignment becomes one operation of the session
(``session.do``), which journals it (fsynced) before it takes effect, so
quitting, Ctrl-C or a crash loses nothing; the UI only keeps what is on the
screen. The current bead is saved with ``session.save_cursor`` (after every
change, when the cursor rests, and on quit), so the review reopens where the
reviewer stopped.

Only ``bitext review OUT_DIR`` imports this module: Textual is not loaded for
any other command.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.geometry import Region, Spacing
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label, OptionList, Static, TextArea
from textual.widgets.data_table import RowKey
from textual.widgets.option_list import Option

from toolkit.core.errors import ToolkitError
from toolkit.review.session import LOW_SCORE, ReviewBead, ReviewError, ReviewSession, clip

log = logging.getLogger(__name__)

# (key, action, label in the footer or "" for none, help line). One table for the bindings, the help and the README.
KEYS: tuple[tuple[str, str, str, str], ...] = (
    ("a", "approve", "approve", "approve the current bead (and go to the next)"),
    ("e", "edit('en')", "edit en", "edit the English (one sentence per line; a bead with no original: its translation)"),
    ("c", "edit('zh')", "edit zh", "edit the Chinese (one sentence per line)"),
    ("p", "merge('prev')", "merge ↑", "merge with the previous bead"),
    ("n", "merge('next')", "merge ↓", "merge with the next bead"),
    ("s", "split", "split", "split the bead: choose where on each side"),
    ("v", "move", "move", "move one sentence across the bead's boundary"),
    ("x", "no_counterpart", "", "mark a one-sided bead (1-0 / 0-1) as having no counterpart"),
    ("r", "retranslate", "re-MT", "machine-translate the Chinese of a bead with no English original again "
                                  "(if the model repeats its current translation, its second-attempt decoding "
                                  "offers an alternative)"),
    ("u", "history('undo')", "undo", "undo the last change"),
    ("y", "history('redo')", "", "redo the last undone change"),
    ("g", "jump", "", "go to a bead by its number or id (g g: the first bead)"),
    ("G", "go('last')", "", "go to the last bead (Home / End: the first / the last)"),
    ("slash", "search", "", "show only beads containing a text (either side); empty to clear"),
    ("1", "filter('low')", "", f"filter: pairs (both sides) scoring below {LOW_SCORE} (toggle)"),
    ("2", "filter('mt')", "", "filter: machine-translated English only (toggle)"),
    ("3", "filter('unreviewed')", "", "filter: not reviewed yet (toggle)"),
    ("4", "filter('one_sided')", "", "filter: one-sided beads, 1-0 / 0-1 (toggle)"),
    ("0", "filter('none')", "", "clear the filters and the search"),
    ("w", "export", "", "export now: rewrite .align, .jsonl, .tmx and the sentence files (quitting does it too)"),
    ("question_mark", "help", "help", "this help"),
    ("q", "quit", "quit", "quit (nothing is lost: every change is already journaled)"),
)
KEY_NAMES = {"slash": "/", "question_mark": "?"}
FIRST_IN_FOOTER = ("help", "quit")  # what a narrow terminal must still show, so the footer starts with them
# The table's fixed columns (label, width); the Chinese and English share the rest of the width.
COLUMNS = (("#", 5), ("id", 6), ("type", 5), ("score", 6), ("origin", 7), ("review", 9))
REVIEW_LABELS = {"pending": "pending", "approved": "approved", "edited": "edited", "no-counterpart": "no-cpart"}
CURSOR_SAVE_DELAY = 0.5  # seconds the cursor must rest before its position is written

TranslatorFactory = Callable[[], object]


@dataclass(frozen=True)
class Filters:
    """Which beads the table shows (all of them by default)."""

    low: bool = False
    mt: bool = False
    unreviewed: bool = False
    one_sided: bool = False
    search: str | None = None

    def describe(self) -> str:
        parts = ([f"pairs < {LOW_SCORE}"] if self.low else []) + (["MT only"] if self.mt else []) + \
            (["unreviewed"] if self.unreviewed else []) + (["one-sided"] if self.one_sided else []) + \
            ([f"containing {self.search!r}"] if self.search else [])
        return ", ".join(parts) or "all beads"


def english_cell(bead: ReviewBead) -> tuple[str, str]:
    """What the table shows for the English side, and its style."""
    if bead.en:
        return bead.en_text, ""
    if bead.translation:
        return ("[MT] " if bead.translation == bead.mt_text else "[tr] ") + bead.translation, "magenta"
    return "—", "dim"


def bead_text(number: int, bead: ReviewBead, current: bool) -> Text:
    """One bead for the detail pane: a header line, then each sentence on its own numbered line."""
    text = Text()
    flags = f" · flags: {', '.join(bead.mt_flags)}" if bead.mt_flags else ""
    when = f" · {bead.reviewed_at}" if bead.reviewed_at else ""
    model = f" · {bead.mt_model}" if bead.mt_model else ""
    text.append(f"{'▶' if current else ' '} bead {number} ({bead.id}) · {bead.kind} · score {bead.score:.3f} · {bead.export_origin} · {bead.review}"
                f"{when}{flags}{model} ", style="reverse bold" if current else "bold dim")
    text.append("\n")
    for i, segment in enumerate(bead.zh, start=1):
        text.append(f"  zh{i} ", style="cyan bold")
        text.append(segment.text + "\n", style="" if current else "dim")
    if not bead.zh:
        text.append("  zh  — no Chinese\n", style="dim")
    for i, segment in enumerate(bead.en, start=1):
        text.append(f"  en{i} ", style="green bold")
        text.append(segment.text + "\n", style="" if current else "dim")
    if not bead.en:
        if bead.translation:
            label = "MT" if bead.translation == bead.mt_text else "translation"
            text.append(f"  {label} ", style="magenta bold")
            text.append(bead.translation + "\n", style="" if current else "dim")
        else:
            text.append("  en  — no English\n", style="dim")
    return text


# ---------------------------------------------------------------------------
# dialogs


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "close")]

    def compose(self) -> ComposeResult:
        lines = Text("Review keys\n\n", style="bold")
        for key, _action, _label, help_line in KEYS:
            lines.append(f"  {KEY_NAMES.get(key, key):>3}  ", style="bold cyan")
            lines.append(help_line + "\n")
        lines.append("\n  ↑ ↓ PgUp PgDn Home End move · Ctrl-C quits too · Esc closes a dialog\n", style="dim")
        lines.append("  Every change is journaled at once in NAME.review.journal; quitting exports the folder.",
                     style="dim")
        with VerticalScroll(classes="dialog"):
            yield Static(lines, id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)


Answer = TypeVar("Answer")


class Dialog(ModalScreen[Answer | None]):
    """A dialog that answers with a value, or None when Esc cancels it."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)


class BeadDialog(Dialog[Answer]):
    """A dialog about one bead (its number and the bead as shown)."""

    def __init__(self, number: int, bead: ReviewBead):
        super().__init__()
        self.number, self.bead = number, bead


class PromptScreen(Dialog[str]):
    """One line of input: Enter answers, Esc cancels."""

    def __init__(self, title: str, value: str = "", placeholder: str = ""):
        super().__init__()
        self.title_text, self.value, self.placeholder = title, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog small"):
            yield Label(self.title_text)
            yield Input(self.value, placeholder=self.placeholder, id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


class GoScreen(PromptScreen):
    """Where to go: a bead number or id and Enter; ``g`` (so ``g g`` from the table) the first bead, ``G`` the last."""

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.value in ("g", "G"):
            self.dismiss("first" if event.value == "g" else "last")


class EditScreen(Dialog[str]):
    """A side's text, one sentence per line, under the other side's (what it must match): Ctrl-S saves, Esc cancels."""

    BINDINGS = [Binding("ctrl+s", "save", "save", priority=True)]

    def __init__(self, title: str, text: str, match_label: str = "", match: str = ""):
        super().__init__()
        self.title_text, self.text = title, text
        self.match_label, self.match = match_label, match

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text)
            if self.match_label:
                yield Label(self.match_label, classes="hint")
                yield Static(Text(self.match or "—"), id="match")
            yield Label("one sentence per line · Ctrl-S saves · Esc cancels", classes="hint")
            yield TextArea(self.text, id="editor", soft_wrap=True)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)


def _cut_options(segments, lang: str) -> list[Option]:
    """Split points of one side: option k keeps the first k sentences in the first bead."""
    options = [Option(f"0 · none of the {lang} sentences stay in the first bead", id="0")]
    for k, segment in enumerate(segments, start=1):
        options.append(Option(f"{k} · … {clip(segment.text, 60).rstrip()}  ┃ cut here", id=str(k)))
    return options


class SplitScreen(BeadDialog[tuple[int, int]]):
    """Choose the split point on each side: Enter on the Chinese list, then Enter on the English one."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Split bead {self.number} ({self.bead.kind}): the first bead keeps the sentences up to the cut")
            yield Label("↑↓ choose · Enter on the Chinese, then on the English, splits · Tab switches · Esc cancels",
                        classes="hint")
            yield Label("Chinese")
            yield OptionList(*_cut_options(self.bead.zh, "Chinese"), id="zh-cut")
            yield Label("English")
            yield OptionList(*_cut_options(self.bead.en, "English"), id="en-cut")

    def on_mount(self) -> None:
        for side, segments in (("zh", self.bead.zh), ("en", self.bead.en)):
            self.query_one(f"#{side}-cut", OptionList).highlighted = min(1, len(segments))
        self.query_one("#zh-cut", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_list.id == "zh-cut":
            self.query_one("#en-cut", OptionList).focus()
            return
        zh_at = self.query_one("#zh-cut", OptionList).highlighted or 0
        en_at = self.query_one("#en-cut", OptionList).highlighted or 0
        self.dismiss((zh_at, en_at))


class MoveScreen(BeadDialog[tuple[str, str]]):
    """Which sentence to move: the first one to the previous bead, or the last one to the next bead."""

    def compose(self) -> ComposeResult:
        options = []
        for side, lang in (("zh", "Chinese"), ("en", "English")):
            segments = getattr(self.bead, side)
            if not segments:
                continue
            options.append(Option(f"first {lang} sentence → end of bead {self.number - 1}: "
                                  f"{clip(segments[0].text, 50).rstrip()}", id=f"{side}:prev"))
            options.append(Option(f"last {lang} sentence → start of bead {self.number + 1}: "
                                  f"{clip(segments[-1].text, 50).rstrip()}", id=f"{side}:next"))
        with Vertical(classes="dialog small"):
            yield Label(f"Move a sentence of bead {self.number} across its boundary (Enter moves, Esc cancels)")
            yield OptionList(*options, id="moves")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        side, to = str(event.option.id).split(":")
        self.dismiss((side, to))


class BeadTable(DataTable):
    """The beads' table; Home and End go to the first and the last bead shown (not the first and last column)."""

    BINDINGS = [Binding("home", "app.go('first')", "first bead", show=False),
                Binding("end", "app.go('last')", "last bead", show=False)]

    def set_row(self, row_key: str, values: Sequence[object]) -> None:
        """Replace the cells of one row and draw that row again, not the whole table.

        ``update_cell`` counts an update, and every cached rendering of every cell is
        keyed by that count: after it, each visible cell is rendered again (and the
        row order and offsets recomputed over all rows). An approval changes one row;
        here only that row's cached cells and rows are dropped. Should Textual's
        internals differ from what this expects, it falls back to ``update_cell``.
        """
        try:
            key = RowKey(row_key)
            cells = self._data[key]
            caches = (self._cell_render_cache, self._row_render_cache)
            for column, value in zip(self.ordered_columns, values):
                cells[column.key] = value
            for cache in caches:
                for cached in [k for k in cache.keys() if k[0] == key]:
                    cache.discard(cached)
            self._row_renderable_cache.clear()  # keyed by row index: cheap to make again for the rows shown
            self._line_cache.clear()
        except (AttributeError, TypeError, KeyError):
            for column, value in zip(self.ordered_columns, values):
                self.update_cell(row_key, column.key, value)
            return
        self.refresh()

    def _get_row_region(self, row_index: int) -> Region:
        # Textual's own adds up the heights of every row above (4,000 at the end of a long alignment), twice per
        # cursor move; every row here is one line high (add_row's default), so the row's place is its index.
        if not self.is_valid_row_index(row_index):
            return Region(0, 0, 0, 0)
        width = sum(column.get_render_width(self) for column in self.columns.values()) + self._row_label_column_width
        return Region(0, row_index + (self.header_height if self.show_header else 0), max(self.size.width, width), 1)

    def _get_fixed_offset(self) -> Spacing:
        # Textual's own walks every row (a new list after each cell update) to add up the heights of the fixed
        # rows; this table has none, and at 4,000 beads that walk was most of an approval's time.
        if self.fixed_rows or self.fixed_columns:
            return super()._get_fixed_offset()
        return Spacing(self.header_height if self.show_header else 0, 0, 0, self._row_label_column_width)


# ---------------------------------------------------------------------------
# the application


class ReviewApp(App[None]):
    """The review of one aligned folder. ``translator_factory`` builds the translator for ``r`` on first use."""

    TITLE = "bitext review"
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    #beads { height: 3fr; }
    #detail-pane { height: 2fr; border-top: solid $accent; padding: 0 1; }
    #status { height: auto; max-height: 4; background: $panel; padding: 0 1; }
    #status.error { background: $error 40%; }
    .dialog { width: 90%; height: auto; max-height: 90%; border: thick $accent; background: $surface; padding: 1 2; }
    .dialog.small { width: 80%; }
    .hint { color: $text-muted; }
    #editor { height: 12; }
    HelpScreen, PromptScreen, EditScreen, SplitScreen, MoveScreen { align: center middle; }
    SplitScreen OptionList { height: auto; max-height: 10; }
    """
    BINDINGS = [Binding(key, action, label, show=bool(label))
                for key, action, label, _ in sorted(KEYS, key=lambda k: k[1] not in FIRST_IN_FOOTER)] + [
        Binding("ctrl+c", "quit", "quit", show=False, priority=True),
    ]

    def __init__(self, session: ReviewSession, translator_factory: TranslatorFactory | None = None,
                 mt_label: str | None = None, cache_path: Path | None = None, use_cache: bool = True,
                 export_on_quit: bool = True, glossary=None):
        super().__init__()
        self.glossary = glossary  # a toolkit.translate.glossary.Glossary for re-translation, or None
        self.session = session
        self.translator_factory = translator_factory
        self.mt_label = mt_label
        self.cache_path, self.use_cache = cache_path, use_cache
        self.export_on_quit = export_on_quit
        self.translator = None
        self.filters = Filters()
        self.current = session.resume_at()
        self.shown: list[int] = []
        self._rows: dict[int, int] = {}  # bead number -> its row in the table
        self._last_history: str | None = None  # "undo" while an undo is being shown
        self.message, self.message_is_error = "", False
        self.busy: str | None = None  # what a background job is doing (the UI refuses changes meanwhile)
        self.changes = 0  # changes made in this UI session
        self.exported: list[Path] = []
        self._save_timer = None

    # -- layout ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield BeadTable(id="beads", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="detail-pane"):
            yield Static(id="detail")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        for warning in self.session.warnings:
            self.say(warning, error=True)
        self.rebuild()
        self.query_one(DataTable).focus()

    def on_resize(self) -> None:
        self.rebuild()

    def _text_widths(self) -> tuple[int, int]:
        fixed = sum(width for _label, width in COLUMNS) + 2 * len(COLUMNS) + 2  # columns, their padding, the scrollbar
        room = max(self.size.width - fixed, 20)
        return room * 2 // 5, room - room * 2 // 5

    def _cells(self, number: int, bead: ReviewBead) -> tuple:
        """The table's cells for bead ``number``, in the order of :data:`COLUMNS` and the two texts."""
        zh_width, en_width = self._text_widths()
        english, style = english_cell(bead)
        score_style = "red" if bead.score < LOW_SCORE and bead.zh and bead.en else ""
        review_style = {"approved": "green", "edited": "yellow", "no-counterpart": "blue"}.get(bead.review, "dim")
        return (Text(str(number), justify="right"), bead.id, bead.kind,
                Text(f"{bead.score:.3f}", style=score_style, justify="right"), bead.export_origin,
                Text(REVIEW_LABELS[bead.review], style=review_style),
                clip(bead.zh_text, zh_width).rstrip(), Text(clip(english, en_width).rstrip(), style=style))

    def rebuild(self, keep: int | None = None) -> None:
        """Refill the table from the session and the filters, keeping the cursor on ``self.current``.

        ``keep``: a bead shown (and made current) even if the filters leave it out, e.g. the
        result of a merge or split, so the reviewer does not lose it.
        """
        if not self._screen_built():
            return
        table = self.screen_stack[0].query_one(DataTable)
        zh_width, en_width = self._text_widths()
        table.clear(columns=True)
        for label, width in (*COLUMNS, ("中文", zh_width), ("English", en_width)):
            table.add_column(label, width=width, key=label)
        f = self.filters
        rows = self.session.rows(below=LOW_SCORE if f.low else None, mt_only=f.mt, unreviewed=f.unreviewed,
                                 search=f.search, one_sided=f.one_sided)
        numbers = [row.number for row in rows]
        if keep is not None and 1 <= keep <= len(self.session.beads) and keep not in numbers:
            numbers = sorted([*numbers, keep])
        self.shown = numbers
        self._rows = {n: i for i, n in enumerate(numbers)}
        beads = self.session.beads
        for n in numbers:
            table.add_row(*self._cells(n, beads[n - 1]), key=str(n))
        self.current = keep if keep in self._rows else min(max(self.current, 1), len(beads))
        if self.shown:
            if self.current not in self._rows:
                later = [n for n in self.shown if n >= self.current]
                self.current = later[0] if later else self.shown[-1]
            table.move_cursor(row=self._rows[self.current], animate=False)
        self.show_current()

    def update_rows(self, first: int, last: int) -> None:
        """Redraw the rows of beads ``first..last`` in place (the beads kept their places: no rebuild)."""
        table = self.screen_stack[0].query_one(BeadTable)
        beads = self.session.beads
        for n in range(first, last + 1):
            if n in self._rows:
                table.set_row(str(n), self._cells(n, beads[n - 1]))

    def show_current(self) -> None:
        beads = self.session.beads
        detail = Text()
        for n in range(self.current - 1, self.current + 2):
            if 1 <= n <= len(beads):
                detail.append_text(bead_text(n, beads[n - 1], current=n == self.current))
        self.screen_stack[0].query_one("#detail", Static).update(detail)
        self.show_status()

    def show_status(self) -> None:
        """The status line: the message first, wrapped if need be (its hint is at its end and must show), then
        where the cursor is and the counts, cut to one line."""
        status = self.session.status()
        bead = self.session.beads[self.current - 1] if 1 <= self.current <= status.beads else None
        line = (f"bead {self.current}/{status.beads}{f' ({bead.id})' if bead else ''} │ {status.approved} approved · "
                f"{status.edited} edited · {status.no_counterpart} no counterpart · {status.pending} pending · "
                f"{status.machine_translated} machine-translated │ showing {len(self.shown)}: {self.filters.describe()}")
        if self.busy:
            line = f"{self.busy}… │ {line}"
        text = Text()
        if self.message:
            text.append(self.message + "\n", style="bold")
        text.append(clip(line, max(self.size.width - 2, 20)).rstrip())
        widget = self.screen_stack[0].query_one("#status", Static)
        widget.update(text)
        widget.set_class(self.message_is_error, "error")

    def say(self, message: str, error: bool = False) -> None:
        self.message, self.message_is_error = message, error
        if self._screen_built():
            self.show_status()

    def _screen_built(self) -> bool:
        return bool(self.screen_stack) and bool(self.screen_stack[0].query("#status"))

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        # The cursor as it is now, not as the (possibly stale) event says: a rebuild moves it several times.
        row = self.query_one(DataTable).cursor_row
        if 0 <= row < len(self.shown) and self.shown[row] != self.current:
            self.current = self.shown[row]
            self.show_current()
            self._schedule_cursor_save()

    # -- the cursor ------------------------------------------------------------

    def _schedule_cursor_save(self) -> None:
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(CURSOR_SAVE_DELAY, self.save_cursor)

    def save_cursor(self) -> None:
        try:
            self.session.save_cursor(self.current)
        except ToolkitError as error:
            self.say(f"cannot save the position: {error}", error=True)

    # -- changes ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While a dialog is open its keys are its own (typing "a" in the editor approves nothing).
        return action == "quit" or not isinstance(self.screen, ModalScreen)

    def perform(self, op: dict, done: str, cursor: int | None = None) -> bool:
        """Do one operation through the session (journaled before it takes effect); show the outcome."""
        if self.busy:
            self.say(f"wait: {self.busy}", error=True)
            return False
        try:
            changed = self.session.do(op)
        except ToolkitError as error:
            self.say(f"{error.message}" + (f" — {error.hint}" if error.hint else ""), error=True)
            return False
        self.changes += changed
        self.message, self.message_is_error = (done if changed else "nothing changed"), False  # shown below
        touched = self._touched() if changed else None
        if touched is not None:
            # The beads kept their places (an approval, an edit, a move): redraw those rows only.
            self.update_rows(*touched)
            self._go(cursor if cursor is not None else self.current, save=False)
        elif changed:
            self.rebuild(keep=cursor)
        else:
            self.show_current()
        self.save_cursor()
        return changed

    def _touched(self) -> tuple[int, int] | None:
        """The bead numbers the last change (or undo, or redo) rewrote, if it left every bead in its place."""
        session = self.session
        history = session.undone if self._last_history == "undo" else session.done
        change = history[-1] if history else None
        if change is None or len(change.old) != len(change.new):
            return None
        return change.start + 1, change.start + len(change.new)

    def _bead(self) -> ReviewBead:
        return self.session.beads[self.current - 1]

    def action_approve(self) -> None:
        n = self.current
        following = self._next_after(n)
        if not self.perform({"op": "approve", "first": n, "last": n}, f"approved bead {n}", following) and \
                self.session.beads[n - 1].review != "pending":
            self._go(following)

    def _next_after(self, n: int) -> int:
        row = self._rows.get(n)
        if row is not None:
            return self.shown[row + 1] if row + 1 < len(self.shown) else n
        later = [m for m in self.shown if m > n]
        return later[0] if later else n

    def _go(self, n: int, save: bool = True) -> None:
        self.current = n
        if n in self._rows:
            self.query_one(DataTable).move_cursor(row=self._rows[n], animate=False)
        self.show_current()
        if save:
            self._schedule_cursor_save()

    def action_go(self, where: str) -> None:
        """Go to the first or the last bead shown (Home / End, g g / G)."""
        if self.shown:
            self._go(self.shown[0] if where == "first" else self.shown[-1])
            self.say(f"{where} bead{'' if self.filters == Filters() else ' shown'}: bead {self.current}")

    def action_edit(self, side: str) -> None:
        n, bead = self.current, self._bead()
        if side == "zh" and not bead.zh:
            self.say(f"bead {n} has no Chinese sentence to edit — mark it with x or merge it (p / n)", error=True)
            return
        if side == "en":
            text = "\n".join(s.text for s in bead.en) if bead.en else (bead.translation or "")
            title = f"English of bead {n} ({bead.id})" if bead.en else \
                f"English translation of bead {n} ({bead.id}, no English original)"
            match_label, match = "the Chinese it must match:", "\n".join(s.text for s in bead.zh)
        else:
            text, title = "\n".join(s.text for s in bead.zh), f"Chinese of bead {n} ({bead.id})"
            match_label, match = "the English it must match:", english_cell(bead)[0] if bead.en or bead.translation \
                else ""

        def save(new: str | None) -> None:
            if new is not None:
                self.perform({"op": f"set_{side}", "bead": n, "text": new}, f"edited the {side} of bead {n}", n)

        self.push_screen(EditScreen(title, text, match_label, match), save)

    def action_merge(self, direction: str) -> None:
        n = self.current
        self.perform({"op": f"merge_{direction}", "bead": n},
                     f"merged bead {n} with the {'previous' if direction == 'prev' else 'next'} one",
                     n - 1 if direction == "prev" else n)

    def action_split(self) -> None:
        n, bead = self.current, self._bead()
        if len(bead.zh) + len(bead.en) < 2:
            self.say(f"bead {n} ({bead.kind}) has one sentence: nothing to split", error=True)
            return

        def split(cut: tuple[int, int] | None) -> None:
            if cut is not None:
                self.perform({"op": "split", "bead": n, "zh_at": cut[0], "en_at": cut[1]},
                             f"split bead {n} after {cut[0]} zh and {cut[1]} en sentences", n)

        self.push_screen(SplitScreen(n, bead), split)

    def action_move(self) -> None:
        n = self.current

        def move(choice: tuple[str, str] | None) -> None:
            if choice is not None:
                side, to = choice
                self.perform({"op": "move", "bead": n, "side": side, "to": to},
                             f"moved a {side} sentence of bead {n} to the {'previous' if to == 'prev' else 'next'} bead", n)

        self.push_screen(MoveScreen(n, self._bead()), move)

    def action_no_counterpart(self) -> None:
        n = self.current
        following = self._next_after(n)
        if not self.perform({"op": "no_counterpart", "bead": n}, f"bead {n} has no counterpart", following) and \
                self.session.beads[n - 1].review == "no-counterpart":
            self._go(following)

    def action_history(self, which: str) -> None:
        self._last_history = which
        self.perform({"op": which}, f"{which} done")
        self._last_history = None

    # -- machine translation ---------------------------------------------------

    def action_retranslate(self) -> None:
        n, bead = self.current, self._bead()
        if self.busy:
            self.say(f"wait: {self.busy}", error=True)
            return
        if not bead.translatable:
            self.say(f"bead {n} is {bead.kind}: only a bead with Chinese and no English original is "
                     "machine-translated", error=True)
            return
        if self.translator_factory is None and self.translator is None:
            self.say("no translator configured — open the review with --mt MODEL, e.g. --mt qwen1.5b", error=True)
            return
        self.busy = f"translating bead {n} with {self.mt_label or 'the translator'}"
        self.say("")
        self._translate(n)

    @work(thread=True, exclusive=True, group="translate")
    def _translate(self, n: int) -> None:
        try:
            if self.translator is None:
                self.translator = self.translator_factory()
            cache = None
            if self.use_cache and getattr(self.translator, "translates", True):
                from toolkit.translate.cache import TranslationCache, default_cache_path

                cache = TranslationCache(self.cache_path or default_cache_path())
            try:
                ops = self.session.retranslation_ops([n], self.translator, cache, self.glossary)
            finally:
                if cache is not None:
                    cache.close()
        except ToolkitError as error:
            self.call_from_thread(self._translated, n, None, f"{error.message}" + (f" — {error.hint}" if error.hint else ""))
        except Exception as exc:  # noqa: BLE001 - a failing model must not take the review (and its screen) down
            log.exception("re-translation of bead %d failed", n)
            self.call_from_thread(self._translated, n, None, f"translation failed: {exc}")
        else:
            self.call_from_thread(self._translated, n, ops, "")

    def _translated(self, n: int, ops: list[dict] | None, error: str) -> None:
        self.busy = None
        if ops is None:
            self.say(error, error=True)
            return
        model = ops[0]["model"] if ops else ""
        self.perform(ops[0], f"re-translated bead {n} with {model}", n)

    # -- finding ---------------------------------------------------------------

    def action_jump(self) -> None:
        def jump(answer: str | None) -> None:
            if answer is None or not answer.strip():
                return
            if answer in ("first", "last"):
                self.action_go(answer)
                return
            total = len(self.session.beads)
            answer = answer.strip()
            by_id = next((i for i, b in enumerate(self.session.beads, start=1) if b.id == answer), None)
            if by_id is None and (not answer.isdigit() or not 1 <= int(answer) <= total):
                self.say(f"no bead {answer!r}: bead numbers run from 1 to {total}; ids look like b12", error=True)
                return
            n = by_id or int(answer)
            if n not in self.shown:
                self.filters = Filters()
                self.say(f"bead {n} was hidden by the filters: cleared them")
            else:
                self.say(f"bead {n}")
            self.current = n
            self.rebuild()
            self.save_cursor()

        self.push_screen(GoScreen(f"Go to bead: its number (1–{len(self.session.beads)}) or id, then Enter · "
                                  "g the first · G the last", placeholder="number or id (b12)"), jump)

    def action_search(self) -> None:
        def search(answer: str | None) -> None:
            if answer is None:
                return
            self.filters = replace(self.filters, search=answer.strip() or None)
            self.rebuild()
            self.say(f"{len(self.shown)} beads: {self.filters.describe()}")

        self.push_screen(PromptScreen("Search both sides (empty: show all)", self.filters.search or "",
                                      "text in Chinese or English"), search)

    def action_filter(self, which: str) -> None:
        f = self.filters
        if which == "none":
            self.filters = Filters()
        else:
            self.filters = replace(f, **{which: not getattr(f, which)})
        self.rebuild()
        self.say(f"{len(self.shown)} beads: {self.filters.describe()}" if self.shown
                 else f"no bead matches: {self.filters.describe()} (0 clears the filters)")

    def action_export(self) -> None:
        if self.busy:
            self.say(f"wait: {self.busy}", error=True)
            return
        try:
            self.exported = self.session.export()
        except ToolkitError as error:
            self.say(f"export failed: {error.message}", error=True)
            return
        self.say(f"exported {len(self.exported)} files")

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        self.save_cursor()
        if self.export_on_quit and self.session.needs_export():
            try:
                self.exported = self.session.export()
            except ToolkitError as error:
                # The journal holds every change; `bitext review OUT_DIR --export` can write the files later.
                self.say(f"export failed: {error.message}", error=True)
                log.error("export failed: %s", error)
        self.exit()


def run_review(session: ReviewSession, translator_factory: TranslatorFactory | None = None,
               mt_label: str | None = None, cache_path: Path | None = None, use_cache: bool = True,
               glossary=None) -> ReviewApp:
    """Run the full-screen review until the reviewer quits; returns the app (``changes``, ``exported``)."""
    app = ReviewApp(session, translator_factory, mt_label, cache_path, use_cache, glossary=glossary)
    app.run()
    return app
