#!/usr/bin/env python3
"""How many of OmegaT's segments of a Chinese text our TMX fills in by itself.

Aligns seed 004 (the Karpathy interview) with its English transcript once, exports the
memory in several ways (`bitext export --to tmx`), and for each one builds an OmegaT
project (source file: the Chinese text, zh-CN -> en, the memory alone in tm/auto/) and
runs OmegaT in console mode (`--mode=console-translate`). OmegaT fills every segment
that has an exact match in tm/auto/; its project_stats.txt gives the total and the
remaining (unfilled) segments. OmegaT runs with a HOME of its own, so its default
segmentation rules apply whatever a user has configured.

The variants:
  keep          one unit per bead, one-sided and machine-translated ones too (what bitext wrote before)
  drop          the default: units with a human text on both sides only
  drop+split    and n-m beads cut where their sentences pair up (--tmx-split-beads)
  drop+srx      and OmegaT-like SRX rules (--srx examples/segment.srx): beads the rules see as one segment merged
  drop+srx+split
plus any memory given with --tmx (e.g. one written by an older bitext).

Needs Debian's omegat (apt-get install -y omegat) and the shared corpus (../shared).

    python scripts/omegat_autofill.py [--tmx OLD.tmx] [--work bench_out/omegat]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED = "004_fadffe5ef7c73b46"
ENGLISH = "karpathy_sequoia_ai_ascent_2024.en.txt"
SRX = ROOT / "examples" / "segment.srx"
VARIANTS = {
    "keep": ["--tmx-one-sided", "keep"],
    "drop": [],
    "drop+split": ["--tmx-split-beads"],
    "drop+srx": ["--srx", str(SRX)],
    "drop+srx+split": ["--srx", str(SRX), "--tmx-split-beads"],
}
PROJECT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<omegat>
  <project version="1.0">
    <source_dir>__DEFAULT__</source_dir>
    <source_dir_excludes/>
    <target_dir>__DEFAULT__</target_dir>
    <tm_dir>__DEFAULT__</tm_dir>
    <glossary_dir>__DEFAULT__</glossary_dir>
    <glossary_file>__DEFAULT__</glossary_file>
    <dictionary_dir>__DEFAULT__</dictionary_dir>
    <source_lang>zh-CN</source_lang>
    <target_lang>en</target_lang>
    <source_tok>org.omegat.tokenizer.DefaultTokenizer</source_tok>
    <target_tok>org.omegat.tokenizer.DefaultTokenizer</target_tok>
    <sentence_seg>true</sentence_seg>
    <support_default_translations>true</support_default_translations>
    <remove_tags>false</remove_tags>
  </project>
</omegat>
"""
_STATS_ROW = re.compile(r"^(Total|Remaining):\s+(\d+)", re.MULTILINE)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command[:3])} ... failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done


def autofill(source: Path, memory: Path, project: Path, omegat: str) -> tuple[int, int]:
    """(segments, filled) of OmegaT's console-translate of ``source`` with ``memory`` in tm/auto/."""
    if project.exists():
        shutil.rmtree(project)
    for sub in ("source", "target", "tm/auto", "omegat", "glossary", "dictionary", "home"):
        (project / sub).mkdir(parents=True)
    (project / "omegat.project").write_text(PROJECT, encoding="utf-8")
    shutil.copyfile(source, project / "source" / "source.txt")
    shutil.copyfile(memory, project / "tm" / "auto" / memory.name)
    run([omegat, str(project), "--mode=console-translate"], timeout=600,
        env={"HOME": str(project / "home"), "PATH": "/usr/bin:/bin"})
    stats = dict((name, int(count)) for name, count in
                 _STATS_ROW.findall((project / "omegat" / "project_stats.txt").read_text(encoding="utf-8")))
    return stats["Total"], stats["Total"] - stats["Remaining"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=ROOT / "bench_out" / "omegat", help="scratch folder")
    parser.add_argument("--tmx", type=Path, action="append", default=[], help="also measure this memory")
    args = parser.parse_args()
    omegat = shutil.which("omegat")
    if omegat is None:
        sys.exit("omegat is not installed (Debian: apt-get install -y omegat)")
    zh = SHARED / "corpus" / "seeds" / f"{SEED}.txt"
    en = SHARED / "corpus" / "en" / ENGLISH
    if not zh.is_file() or not en.is_file():
        sys.exit(f"needs the shared corpus: {zh} and {en}")
    args.work.mkdir(parents=True, exist_ok=True)
    aligned = args.work / "aligned"
    bitext = [sys.executable, "-m", "toolkit"]
    started = time.perf_counter()
    run([*bitext, "align", str(zh), str(en), "--en-comment", "#", "-o", str(aligned), "--no-score", "-q",
         "--force"], cwd=ROOT)
    print(f"aligned {SEED} in {time.perf_counter() - started:.1f} s")
    memories = {}
    for variant, options in VARIANTS.items():
        memory = args.work / f"{variant}.tmx"
        done = run([*bitext, "export", str(aligned), "--to", "tmx", "-o", str(memory), *options], cwd=ROOT)
        memories[variant] = (memory, done.stderr.strip().splitlines()[0])
    for number, extra in enumerate(args.tmx, start=1):
        memories[f"--tmx {number}"] = (extra.resolve(), str(extra))
    version = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "omegat"], capture_output=True, text=True)
    print(f"\nOmegaT {version.stdout.strip() or '(version unknown)'}, console-translate of {zh.name} "
          "(zh-CN -> en), each memory alone in tm/auto/:\n")
    print(f"{'memory':<16} {'filled':>7} {'of':>4}  units")
    for variant, (memory, note) in memories.items():
        total, filled = autofill(zh, memory, args.work / "project", omegat)
        print(f"{variant:<16} {filled:>7} {total:>4}  {note}")


if __name__ == "__main__":
    main()
