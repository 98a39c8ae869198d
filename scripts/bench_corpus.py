#!/usr/bin/env python3
"""Corpus throughput: a shell loop of `bitext align` against `bitext corpus --engine local` and `--engine ray`.

Builds a corpus of document pairs from ../shared: the MAC-Dev chapters cut
into documents of about --sentences Chinese sentences (cut where the gold
alignment has a bead boundary, so every piece is a true pair), plus the seeds
that have their English originals. Each mode aligns the same documents from a
fresh embedding cache of its own, as a separate command, and the script
prints documents/min and sentences/s for each, and the ratios the targets are
stated in (ray within 15 % of local; both at least 2x the shell loop).

    python scripts/bench_corpus.py                      # ~200 documents, all three modes
    python scripts/bench_corpus.py --loop-docs 40       # the shell loop on the 40 first only (it is slow)
    python scripts/bench_corpus.py --nodes 1,2,3 --modes ray   # Ray on 1-, 2- and 3-node local clusters

--nodes runs the ray mode once per cluster size, on a cluster of that many
nodes started here with ray.cluster_utils (one CPU each), and the CLI joins it
with --address.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MAC_DEV = SHARED / "gold" / "mac-dev"
SEEDS = {"000": "altman_yc_how_to_build_the_future_2024.en.txt", "004": "karpathy_sequoia_ai_ascent_2024.en.txt"}


def build_corpus(folder: Path, sentences: int, limit: int) -> Path:
    """Write the documents and a manifest (CSV) into ``folder``; returns the manifest's path."""
    rows = []
    for seed, english in SEEDS.items():
        zh = next((SHARED / "corpus" / "seeds").glob(f"{seed}_*.txt"), None)
        en = SHARED / "corpus" / "en" / english
        if zh and en.is_file():
            text = "\n".join(line for line in en.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))
            (folder / f"seed{seed}.en.txt").write_text(text + "\n", encoding="utf-8")
            rows.append((f"seed{seed}", str(zh), str(folder / f"seed{seed}.en.txt")))
    for gold in sorted((MAC_DEV / "gold").iterdir()):
        chapter = gold.name.removesuffix(".align")
        zh_lines = (MAC_DEV / "zh" / chapter).read_text(encoding="utf-8").splitlines()
        en_lines = (MAC_DEV / "en" / chapter).read_text(encoding="utf-8").splitlines()
        beads = [_bead(line) for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]
        piece, start_zh, start_en, number = [], 0, 0, 0
        for zh_ids, en_ids in beads:
            piece.append((zh_ids, en_ids))
            zh_end = max([i for z, _ in piece for i in z], default=start_zh - 1) + 1
            if zh_end - start_zh >= sentences and zh_ids and en_ids:
                en_end = max([j for _, e in piece for j in e], default=start_en - 1) + 1
                rows.append(_write_piece(folder, chapter, number, zh_lines[start_zh:zh_end], en_lines[start_en:en_end]))
                number, start_zh, start_en, piece = number + 1, zh_end, en_end, []
        if piece and start_zh < len(zh_lines) and start_en < len(en_lines):
            rows.append(_write_piece(folder, chapter, number, zh_lines[start_zh:], en_lines[start_en:]))
    rows = rows[:limit]
    manifest = folder / "manifest.csv"
    manifest.write_text("doc_id,zh,en\n" + "".join(f"{d},{z},{e}\n" for d, z, e in rows), encoding="utf-8")
    return manifest


def _bead(line: str) -> tuple[list[int], list[int]]:
    zh, en = line.split(":")[:2]
    return [int(x) for x in re.findall(r"\d+", zh)], [int(x) for x in re.findall(r"\d+", en)]


def _write_piece(folder: Path, chapter: str, number: int, zh: list[str], en: list[str]) -> tuple[str, str, str]:
    doc = f"mac{chapter}-{number:03d}"
    (folder / f"{doc}.zh.txt").write_text("\n".join(zh) + "\n", encoding="utf-8")
    (folder / f"{doc}.en.txt").write_text("\n".join(en) + "\n", encoding="utf-8")
    return doc, str(folder / f"{doc}.zh.txt"), str(folder / f"{doc}.en.txt")


def _rows(manifest: Path) -> list[list[str]]:
    return [line.split(",") for line in manifest.read_text(encoding="utf-8").splitlines()[1:]]


def _bitext(*args: str) -> list[str]:
    return [sys.executable, "-m", "toolkit", *args]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}


def run_loop(manifest: Path, work: Path, docs: int) -> tuple[float, int, int]:
    """The shell loop: one `bitext align` per document (models loaded every time)."""
    rows = _rows(manifest)[:docs]
    started = time.perf_counter()
    for doc, zh, en in rows:
        subprocess.run(_bitext("align", zh, en, "-o", str(work / "loop" / doc), "--name", doc, "--no-score", "-q",
                               "--embedding-cache", str(work / "loop-emb.sqlite")),
                       check=True, env=_env(), stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    return seconds, len(rows), _sentences(work / "loop", [r[0] for r in rows])


def run_corpus_mode(manifest: Path, work: Path, label: str, extra: list[str]) -> tuple[float, int, int]:
    out = work / label
    started = time.perf_counter()
    subprocess.run(_bitext("corpus", str(manifest), "-o", str(out), "-q",
                           "--embedding-cache", str(work / f"{label}-emb.sqlite"), *extra),
                   check=True, env=_env())
    seconds = time.perf_counter() - started
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    done = [d for d in run["documents"] if d["status"] == "done"]
    return seconds, len(done), sum(sum(d["sentences"].values()) for d in done)


def _sentences(folder: Path, docs: list[str]) -> int:
    total = 0
    for doc in docs:
        signature = json.loads((folder / doc / f"{doc}.signature.json").read_text(encoding="utf-8"))
        total += sum(signature["sentences"].values())
    return total


def subset_manifest(manifest: Path, docs: int) -> Path:
    lines = manifest.read_text(encoding="utf-8").splitlines()
    path = manifest.with_name(f"manifest-{docs}.csv")
    path.write_text("\n".join(lines[: docs + 1]) + "\n", encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200, help="documents in the corpus")
    parser.add_argument("--sentences", type=int, default=20, help="Chinese sentences per MAC-Dev document")
    parser.add_argument("--loop-docs", type=int, default=None,
                        help="documents the shell loop runs (the corpus modes run the same ones too, to compare)")
    parser.add_argument("--modes", default="loop,local,ray", help="comma-separated: loop, local, ray")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--nodes", default="", help="ray: comma-separated cluster sizes to measure, e.g. 1,2,3")
    args = parser.parse_args()
    if not (MAC_DEV / "gold").is_dir():
        print(f"skipped: {MAC_DEV} is not here (the benchmark needs ../shared)")
        return 0
    modes = args.modes.split(",")
    print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="bench-corpus-") as tmp:
        work = Path(tmp)
        (work / "in").mkdir()
        manifest = build_corpus(work / "in", args.sentences, args.docs)
        if args.loop_docs:
            manifest = subset_manifest(manifest, args.loop_docs)
        count = len(_rows(manifest))
        print(f"{count} documents ({sum(1 for r in _rows(manifest) if r[0].startswith('seed'))} seeds with originals)")
        figures = {}
        if "loop" in modes:
            figures["shell loop"] = run_loop(manifest, work, count)
        if "local" in modes:
            figures["--engine local"] = run_corpus_mode(manifest, work, "local", ["--workers", str(args.workers)])
        if "ray" in modes and not args.nodes:
            figures["--engine ray"] = run_corpus_mode(manifest, work, "ray",
                                                      ["--engine", "ray", "--workers", str(args.workers)])
        for nodes in [int(n) for n in args.nodes.split(",") if n]:
            from ray.cluster_utils import Cluster

            os.environ.setdefault("RAY_AUTH_MODE", "disabled")
            cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
            for _ in range(nodes - 1):
                cluster.add_node(num_cpus=1)
            cluster.wait_for_nodes()
            try:
                figures[f"ray, {nodes} node(s) x 1 CPU"] = run_corpus_mode(
                    manifest, work, f"ray{nodes}", ["--engine", "ray", "--address", cluster.address])
            finally:
                cluster.shutdown()
        print(f"\n{'mode':28} {'docs':>5} {'seconds':>8} {'docs/min':>9} {'sent/s':>8}")
        for label, (seconds, docs, sentences) in figures.items():
            print(f"{label:28} {docs:5d} {seconds:8.1f} {docs / seconds * 60:9.1f} {sentences / seconds:8.1f}")
        rate = {label: docs / seconds for label, (seconds, docs, _) in figures.items()}
        if "--engine local" in rate and "--engine ray" in rate:
            print(f"\nray / local: {rate['--engine ray'] / rate['--engine local']:.2f} (target >= 0.85)")
        if "shell loop" in rate:
            for label in ("--engine local", "--engine ray"):
                if label in rate:
                    print(f"{label} / shell loop: {rate[label] / rate['shell loop']:.2f} (target >= 2)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
