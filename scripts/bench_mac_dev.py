"""MAC-Dev alignment quality: strict and lax P/R/F1 of the default aligner.

Aligns the six MAC-Dev chapters (one sentence per line on both sides) with the
default offline settings, writes the predicted .align files to a temporary
folder and scores them with ``bitext eval``'s scorer. Prints the figures and
the time taken. Skips (exit 0) when ../shared/gold/mac-dev is absent.

    python scripts/bench_mac_dev.py [--embedder use] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from toolkit.align.embed import get_embedder
from toolkit.align.evaluate import score_paths
from toolkit.formats.writers import write_align
from toolkit.pipeline import AlignOptions, align_documents, load_document

MAC_DEV = Path(__file__).resolve().parents[2] / "shared" / "gold" / "mac-dev"
TARGET_STRICT_F1 = 0.90


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", default=AlignOptions().embedder)
    parser.add_argument("--out", type=Path, help="keep the predicted .align files here")
    args = parser.parse_args()
    if not (MAC_DEV / "gold").is_dir():
        print(f"skipped: MAC-Dev gold data not found at {MAC_DEV}")
        return 0
    out = args.out or Path(tempfile.mkdtemp(prefix="mac-dev-"))
    out.mkdir(parents=True, exist_ok=True)
    options = AlignOptions(embedder=args.embedder, presegmented=True)
    embedder = get_embedder(args.embedder)  # loaded once, shared by the chapters
    started = time.perf_counter()
    for gold in sorted((MAC_DEV / "gold").glob("*.align")):
        doc = gold.stem
        zh = load_document(MAC_DEV / "zh" / doc, "zh", presegmented=True, name=doc)
        en = load_document(MAC_DEV / "en" / doc, "en", presegmented=True, name=doc)
        result = align_documents(zh, en, options, embedder=embedder, name=doc)
        write_align(out / f"{doc}.align", result.beads)
        timings = result.signature["timings"]
        print(f"{doc}: {len(zh)} zh x {len(en)} en -> {len(result.beads)} beads "
              f"(embed {timings['embed_s']:.1f}s, dp {timings['dp_s']:.2f}s)")
    elapsed = time.perf_counter() - started
    scores = score_paths(MAC_DEV / "gold", out)
    print(scores.format())
    verdict = "PASS" if scores.f1_strict >= TARGET_STRICT_F1 else "FAIL"
    print(f"strict F1 {scores.f1_strict:.4f} (target >= {TARGET_STRICT_F1}: {verdict}); "
          f"lax F1 {scores.f1_lax:.4f}; total {elapsed:.1f}s; predictions in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
