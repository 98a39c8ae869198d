"""How long approving a bead takes in the full-screen review, on a synthetic alignment.

    python scripts/bench_review.py [--beads 4000] [--presses 20] [--baseline REV]

Writes a synthetic aligned folder of BEADS 1-1 beads (short zh/en sentences,
scores spread over 0-1) into a temporary folder, opens the review UI headless
(Textual's Pilot, a 120 x 34 terminal), and presses ``a`` PRESSES times from
the middle of the table. For each press it times the key from the moment it is
sent until the app is idle again (the handler, the journal's fsync, the table
and panes updated) and prints the median and the worst, and the median CPU time
the process used meanwhile (what a busy shared machine inflates least), beside the median of
a key bound to nothing (what Pilot and the event loop take by themselves) and
of a cursor move (Down: the table redraws its visible rows, as for an approval).

``--baseline REV`` also runs the same measurement on the toolkit as it is at git
revision REV (e.g. ``main``), unpacked with ``git archive`` into a temporary
folder and run in a subprocess, and prints both: the figure before a change and
after it, on the same machine in the same run. The load average is printed too,
since the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZE = (120, 34)
ZH_WORDS = "我们 今天 讨论 模型 训练 数据 工程师 团队 问题 时间".split()
EN_WORDS = "we today discuss model training data engineer team problem time".split()


def synthetic_folder(out: Path, beads: int) -> Path:
    """An aligned folder of ``beads`` 1-1 beads, written with the toolkit's own writer."""
    from toolkit.core.records import Alignment, Bead, Document, Segment
    from toolkit.formats.writers import write_alignment

    zh_texts = ["".join(ZH_WORDS[(i + k) % 10] for k in range(4)) + f"{i}。" for i in range(beads)]
    en_texts = [" ".join(EN_WORDS[(i + k) % 10] for k in range(6)).capitalize() + f" {i}." for i in range(beads)]
    zh = tuple(Segment(i, t, t, "zh") for i, t in enumerate(zh_texts))
    en = tuple(Segment(i, t, t, "en") for i, t in enumerate(en_texts))
    aligned = tuple(Bead((i,), (i,), ((i * 37) % 100) / 100) for i in range(beads))
    write_alignment(out, Alignment("synthetic", Document("synthetic", "zh", zh, "simplified"),
                                   Document("synthetic", "en", en), aligned, {"tool": "bitext"}))
    return out


async def measure(folder: Path, presses: int) -> dict:
    from toolkit.review.session import ReviewSession
    from toolkit.review.ui import ReviewApp

    session = ReviewSession.open(folder)
    app = ReviewApp(session, export_on_quit=False)
    app.current = len(session.beads) // 2
    times = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.rebuild()  # the cursor on the middle bead, as a jump would put it
        await pilot.pause()
        idle, moves, cpu = [], [], []
        for _ in range(presses):
            start, used = time.perf_counter(), time.process_time()
            await pilot.press("a")
            await pilot.pause()
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - used)
            start = time.perf_counter()
            await pilot.press("f12")  # a key bound to nothing: what Pilot itself takes
            await pilot.pause()
            idle.append(time.perf_counter() - start)
            start = time.perf_counter()
            await pilot.press("down")  # a cursor move: the table redraws its rows as for an approval
            await pilot.pause()
            moves.append(time.perf_counter() - start)
        approved = session.status().approved
    return {"beads": len(session.beads), "presses": presses, "approved": approved,
            "median_ms": round(statistics.median(times) * 1000, 1), "max_ms": round(max(times) * 1000, 1),
            "cpu_ms": round(statistics.median(cpu) * 1000, 1),
            "idle_ms": round(statistics.median(idle) * 1000, 1), "down_ms": round(statistics.median(moves) * 1000, 1)}


def run_here(beads: int, presses: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bitext-bench-review-") as work:
        folder = synthetic_folder(Path(work) / "synthetic", beads)
        return asyncio.run(measure(folder, presses))


def run_at_revision(rev: str, beads: int, presses: int) -> dict:
    """The same measurement on the toolkit at git revision ``rev`` (this script's copy drives it)."""
    with tempfile.TemporaryDirectory(prefix="bitext-bench-review-rev-") as tree:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "toolkit"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        env = {**os.environ, "PYTHONPATH": tree}
        done = subprocess.run([sys.executable, __file__, "--beads", str(beads), "--presses", str(presses), "--json",
                               "--no-root"], env=env, check=True, capture_output=True, text=True)
        return json.loads(done.stdout)


def describe(label: str, result: dict) -> str:
    return (f"{label}: approve on {result['beads']} beads: median {result['median_ms']} ms "
            f"(CPU {result.get('cpu_ms', '?')} ms), "
            f"worst {result['max_ms']} ms over {result['presses']} presses "
            f"(for comparison, medians: a key bound to nothing {result.get('idle_ms', '?')} ms, "
            f"a cursor move {result.get('down_ms', '?')} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--beads", type=int, default=4000)
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--baseline", metavar="REV", help="also measure the toolkit at this git revision (e.g. main)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-root", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.no_root:
        sys.path.insert(0, str(ROOT))
    if args.json:
        print(json.dumps(run_here(args.beads, args.presses)))
        return
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.baseline:
        print(describe(f"before ({args.baseline})", run_at_revision(args.baseline, args.beads, args.presses)))
    print(describe("after (this tree)" if args.baseline else "this tree", run_here(args.beads, args.presses)))


if __name__ == "__main__":
    main()
