"""Capture the full-screen review (``bitext review``) on a real aligned result, headless.

    python scripts/capture_review_screen.py [FOLDER] [--bead N] [--out bench_out/review-screen]

Runs the Textual UI with a virtual terminal of 120 x 34 cells on a *copy* of
FOLDER (default: the Karpathy edition, aligned/004_*), moves to bead N (default:
the lowest-scoring pair), and writes the screen as text (``OUT.txt``, what the
README shows) and as SVG (``OUT.svg``). The folder itself is never changed.

A published edition in aligned/ keeps only .jsonl, .tmx, .html, the signature
and its review journal; the review also needs the .align and sentence files, so
they are rebuilt by re-running the command recorded in the signature (its inputs
must be where it says; machine translations come from the translation cache),
with the journal replayed, and the rebuilt beads must be the published ones.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZE = (120, 34)


def complete_result(edition: Path, work: Path) -> Path:
    """A folder ``bitext review`` can open, with ``edition``'s beads; rebuilt from the signature if need be."""
    from toolkit.core.errors import ToolkitError
    from toolkit.formats.writers import output_paths, read_jsonl, read_signature
    from toolkit.review.session import JOURNAL_SUFFIX, ReviewSession

    folder = work / edition.name
    shutil.copytree(edition, folder)
    jsonl = next(folder.glob("*.jsonl"))
    name = jsonl.name[: -len(".jsonl")]
    paths = output_paths(folder, name)
    if all(p.is_file() for p in paths.values()):
        return folder
    signature = read_signature(paths["signature"])
    words = shlex.split(signature["command"])[1:]  # without "bitext"
    at = words.index("-o")
    rebuilt = work / "rebuilt" / name
    words[at + 1] = str(rebuilt)
    from typer.testing import CliRunner

    from toolkit.cli import app

    result = CliRunner().invoke(app, words)
    if result.exit_code != 0:
        raise ToolkitError(f"cannot rebuild {edition.name}: {result.output.strip()}",
                           "the signature's inputs must be where it says, relative to the project folder")
    journal = folder / f"{name}{JOURNAL_SUFFIX}"
    if journal.is_file():  # the published edition is the reviewed one: replay the review on the rebuild
        shutil.copy(journal, rebuilt / journal.name)
        ReviewSession.open(rebuilt, name=name).export()
        shutil.copy(rebuilt / journal.name, journal)  # now with the rebuild's export in it

    def beads(path: Path) -> list[tuple]:
        return [(r["zh_ids"], r["en_ids"], r["zh"], r["en"], r["origin"], r.get("translation"))
                for r in read_jsonl(path)]

    if beads(rebuilt / jsonl.name) != beads(jsonl):
        raise ToolkitError(f"the rebuilt alignment of {edition.name} differs from the published one",
                           "re-run scripts/build_editions.sh, or give a complete aligned folder")
    for key in ("align", "zh", "en"):
        shutil.copy(rebuilt / paths[key].name, paths[key])
    return folder


def screen_text(app) -> str:
    """The app's current screen as plain text (what a terminal of that size shows)."""
    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, force_terminal=True,
                      color_system="truecolor", legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


async def capture(folder: Path, bead: int | None, out: Path) -> None:
    from toolkit.review.session import ReviewSession
    from toolkit.review.ui import ReviewApp

    session = ReviewSession.open(folder)
    if bead is None:
        pairs = [(b.score, i) for i, b in enumerate(session.beads, start=1) if b.zh and b.en]
        bead = min(pairs)[1]
    app = ReviewApp(session, export_on_quit=False)
    app.current = bead
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".txt").write_text(screen_text(app) + "\n", encoding="utf-8")
        out.with_suffix(".svg").write_text(app.export_screenshot(title="bitext review", simplify=True), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=next((ROOT / "aligned").glob("004_*"), None))
    parser.add_argument("--bead", type=int, default=None, help="bead to show [default: the lowest-scoring pair]")
    parser.add_argument("--out", type=Path, default=ROOT / "bench_out" / "review-screen")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bitext-capture-") as work:
        folder = complete_result(args.folder.resolve(), Path(work))
        asyncio.run(capture(folder, args.bead, args.out))
    print(f"wrote {args.out.with_suffix('.txt')} and {args.out.with_suffix('.svg')}", file=sys.stderr)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
