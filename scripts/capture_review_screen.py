"""Capture the full-screen review (``bitext review``) on a real aligned result, headless.

    python scripts/capture_review_screen.py [FOLDER] [--bead N] [--size 120x34] [--out bench_out/review-screen]

Runs the Textual UI in a virtual terminal (120 x 34 cells by default; the README
also shows 80 x 24) on a *copy* of FOLDER (default: the Karpathy edition,
aligned/004_*), moves to bead N (default: the lowest-scoring pair), and writes
the screen as text (``OUT.txt``, what the README shows) and as SVG (``OUT.svg``).
The folder itself is never changed.

A published edition in aligned/ keeps only .jsonl, .tmx, .html, the signature
and its review journal; ``bitext review`` rebuilds the .align and sentence files
it needs from the journal (checked against the sha256 its last export recorded),
so the copy opens as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZE = (120, 34)


def screen_text(app) -> str:
    """The app's current screen as plain text (what a terminal of that size shows)."""
    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, force_terminal=True,
                      color_system="truecolor", legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


async def capture(folder: Path, bead: int | None, out: Path, size: tuple[int, int] = SIZE) -> None:
    from toolkit.review.session import ReviewSession
    from toolkit.review.ui import ReviewApp

    session = ReviewSession.open(folder)
    if bead is None:
        pairs = [(b.score, i) for i, b in enumerate(session.beads, start=1) if b.zh and b.en]
        bead = min(pairs)[1]
    app = ReviewApp(session, export_on_quit=False)
    app.current = bead
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".txt").write_text(screen_text(app) + "\n", encoding="utf-8")
        out.with_suffix(".svg").write_text(app.export_screenshot(title="bitext review", simplify=True), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=next((ROOT / "aligned").glob("004_*"), None))
    parser.add_argument("--bead", type=int, default=None, help="bead to show [default: the lowest-scoring pair]")
    parser.add_argument("--size", default=f"{SIZE[0]}x{SIZE[1]}", help="terminal size, COLUMNSxLINES")
    parser.add_argument("--out", type=Path, default=ROOT / "bench_out" / "review-screen")
    args = parser.parse_args()
    width, _, height = args.size.partition("x")
    with tempfile.TemporaryDirectory(prefix="bitext-capture-") as work:
        folder = Path(shutil.copytree(args.folder.resolve(), Path(work) / args.folder.name))
        asyncio.run(capture(folder, args.bead, args.out, (int(width), int(height))))
    print(f"wrote {args.out.with_suffix('.txt')} and {args.out.with_suffix('.svg')}", file=sys.stderr)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
