"""Alignment quality when the English comes as subtitles instead of text (Karpathy gold).

The shared data has no subtitle file, so this builds them at run time from the hand-made
Karpathy gold's English (``../shared/gold/karpathy/en.txt``; nothing is written into the
project): its words are cut into caption-sized cues of 4 to 10 words (deterministically,
``SEED``), across sentence boundaries as real captions are, with fake times (``WORD_SECONDS``
per word). The same cues are written as

``text``      one cue per line in a ``.txt`` (an ASR transcript, as the seeds' originals are);
``srt``       SubRip, with cue numbers and ``<i>`` tags on some cues;
``vtt``       WebVTT with a header, a NOTE and a STYLE block, cue identifiers and settings;
``youtube``   YouTube's rolling automatic captions: each cue repeats the line before and
              carries a ``<00:00:01.234><c> word</c>`` timestamp per word, with a 10 ms cue
              between that shows the finished line again;
``stamped``   a timestamped transcript, ``[00:01:02] text`` per cue;
``youtube-bare`` the ``youtube`` captions lowercased and without punctuation, as YouTube's
              automatic captions come (no sentence ends at all: the reader cuts them at cues).

Each is read and segmented by the toolkit (``load_document``, not presegmented) and aligned
with the gold Chinese (presegmented) by ``align_documents`` with default options; the gold
English presegmented (how README's Karpathy figure is measured) is the baseline. A route's
sentences need not be the gold's: its beads are projected onto the gold sentences (a gold
sentence belongs to the segment holding its first word) and scored with the project's
scorer, strict and lax F1 as ``bitext eval``. The projected ``.align`` files are written to
``--out`` so ``bitext eval GOLD OUT/ROUTE.align`` gives the same figures. For every timed
route it also checks that each sentence's start is the start of the cue (or, for ``youtube``,
of the word) where it begins.

    python scripts/bench_transcript.py [--out DIR] [--routes text,srt,vtt,youtube,stamped]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
KARPATHY = SHARED / "gold" / "karpathy"
SEED = 20261201
CUE_WORDS = (4, 10)
WORD_SECONDS = 0.35
ROUTES = ("text", "srt", "vtt", "youtube", "stamped", "youtube-bare")
BARE_PUNCTUATION = str.maketrans("", "", ".,?!;:\"“”")


def caption_cues(sentences: list[str], seed: int = SEED) -> list[tuple[float, list[str]]]:
    """The sentences' words cut into cues ``(start seconds, words)``; the times are fake."""
    words = " ".join(sentences).split()
    rng = random.Random(seed)
    cues, i = [], 0
    while i < len(words):
        n = rng.randint(*CUE_WORDS)
        cues.append((round(i * WORD_SECONDS, 3), words[i:i + n]))
        i += n
    return cues


def stamp(seconds: float, comma: bool = False) -> str:
    """``62.5`` -> ``00:01:02.500`` (``00:01:02,500`` for SubRip)."""
    ms = round(seconds * 1000)
    text = f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"
    return text.replace(".", ",") if comma else text


def _end(cues, k: int) -> float:
    return cues[k + 1][0] if k + 1 < len(cues) else cues[k][0] + len(cues[k][1]) * WORD_SECONDS


def as_text(cues) -> str:
    return "".join(" ".join(words) + "\n" for _, words in cues)


def as_srt(cues) -> str:
    blocks = []
    for k, (start, words) in enumerate(cues):
        line = " ".join(words)
        if k % 7 == 3:
            line = f"<i>{line}</i>"
        blocks.append(f"{k + 1}\n{stamp(start, True)} --> {stamp(_end(cues, k), True)}\n{line}\n")
    return "\n".join(blocks)


def as_vtt(cues) -> str:
    out = ["WEBVTT - made by scripts/bench_transcript.py\nKind: captions\nLanguage: en\n",
           "NOTE fake times, cut from the gold sentences\nover two lines\n",
           "STYLE\n::cue {\n  color: yellow;\n}\n"]
    for k, (start, words) in enumerate(cues):
        out.append(f"cue-{k + 1}\n{stamp(start)} --> {stamp(_end(cues, k))} line:90% align:center\n{' '.join(words)}\n")
    return "\n".join(out)


def as_youtube(cues) -> str:
    out = ["WEBVTT\nKind: captions\nLanguage: en\n"]
    previous = " "
    for k, (start, words) in enumerate(cues):
        end = _end(cues, k)
        timed = words[0] + "".join(f"<{stamp(start + j * WORD_SECONDS)}><c> {w}</c>" for j, w in enumerate(words) if j)
        out.append(f"{stamp(start)} --> {stamp(end - 0.01)} align:start position:0%\n{previous}\n{timed}\n")
        previous = " ".join(words)
        out.append(f"{stamp(end - 0.01)} --> {stamp(end)} align:start position:0%\n{previous}\n \n")
    return "\n".join(out)


def bare(cues):
    """The cues lowercased and without punctuation (a word that is only punctuation kept as is)."""
    return [(start, [w.lower().translate(BARE_PUNCTUATION) or w for w in words]) for start, words in cues]


def as_youtube_bare(cues) -> str:
    return as_youtube(bare(cues))


def as_stamped(cues) -> str:
    return "".join(f"[{stamp(start)[:8]}] {' '.join(words)}\n" for start, words in cues)


WRITERS = {"text": (as_text, ".txt"), "srt": (as_srt, ".srt"), "vtt": (as_vtt, ".vtt"),
           "youtube": (as_youtube, ".vtt"), "stamped": (as_stamped, ".txt"), "youtube-bare": (as_youtube_bare, ".vtt")}


def expected_starts(cues, route: str) -> list[float]:
    """The start time of every word of the cues, as the route can know it."""
    times = []
    for start, words in cues:
        for j in range(len(words)):
            if route in ("youtube", "youtube-bare"):
                times.append(round(start + j * WORD_SECONDS, 3))
            elif route == "stamped":
                times.append(float(int(start)))  # [hh:mm:ss]: whole seconds
            else:
                times.append(start)
    return times


def project(beads, segments, gold_sentences: list[str]):
    """Beads over ``segments`` as beads over the gold sentences (see the module docstring)."""
    from toolkit.core.records import Bead

    first_word = []  # word index where each gold sentence starts
    position = 0
    for sentence in gold_sentences:
        first_word.append(position)
        position += len(sentence.split())
    segment_of_word = []
    for k, segment in enumerate(segments):
        segment_of_word += [k] * len(segment.text.split())
    if len(segment_of_word) != position:
        raise ValueError(f"the route has {len(segment_of_word)} words, the gold {position}")
    owner = [segment_of_word[w] for w in first_word]  # gold sentence -> our segment
    by_segment: dict[int, list[int]] = {}
    for g, k in enumerate(owner):
        by_segment.setdefault(k, []).append(g)
    projected = []
    for bead in beads:
        en = tuple(g for k in bead.en for g in by_segment.get(k, ()))
        if bead.zh or en:
            projected.append(Bead(zh=bead.zh, en=en, score=bead.score))
    return projected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench_out/transcript"), help="where the files go")
    parser.add_argument("--routes", default=",".join(ROUTES))
    args = parser.parse_args(argv)
    if not (KARPATHY / "gold.align").is_file():
        print(f"skipped: no gold data at {KARPATHY}", file=sys.stderr)
        return 0

    from toolkit.align.evaluate import score_alignments
    from toolkit.formats.writers import read_align, write_align
    from toolkit.pipeline import AlignOptions, align_documents, cached_embedder, load_document

    args.out.mkdir(parents=True, exist_ok=True)
    gold = read_align(KARPATHY / "gold.align")
    gold_en = (KARPATHY / "en.txt").read_text(encoding="utf-8").splitlines()
    zh = load_document(KARPATHY / "zh.txt", "zh", presegmented=True, name="karpathy")
    embedder = cached_embedder("use")
    cues = caption_cues(gold_en)
    rows = []
    routes = [("text-presegmented", None)] + [(r, r) for r in args.routes.split(",") if r]
    for route, kind in routes:
        if kind is None:
            en = load_document(KARPATHY / "en.txt", "en", presegmented=True, name="karpathy")
        else:
            write, suffix = WRITERS[kind]
            path = args.out / f"karpathy.{kind}{suffix}"
            path.write_text(write(cues), encoding="utf-8")
            en = load_document(path, "en", name="karpathy")
        began = time.perf_counter()
        result = align_documents(zh, en, AlignOptions(presegmented=kind is None), embedder, name="karpathy")
        seconds = time.perf_counter() - began
        beads = project(result.beads, en.segments, gold_en)
        write_align(args.out / f"{route}.align", beads)
        scores = score_alignments([gold], [beads])
        wrong_starts = "-"
        if kind != "text" and kind is not None:
            times = expected_starts(cues, kind)
            word, wrong = 0, 0
            for segment in en.segments:
                wrong += segment.start != times[word]
                word += len(segment.text.split())
            wrong_starts = str(wrong)
        rows.append((route, len(en), scores.f1_strict, scores.precision_strict, scores.recall_strict,
                     scores.f1_lax, wrong_starts, seconds))
    print(f"{'route':18} {'en sents':>8} {'strict F1':>9} {'P':>6} {'R':>6} {'lax F1':>7} {'bad starts':>10} {'s':>6}")
    for route, n, f1, p, r, lax, wrong, seconds in rows:
        print(f"{route:18} {n:8d} {f1:9.3f} {p:6.3f} {r:6.3f} {lax:7.3f} {wrong:>10} {seconds:6.1f}")
    print(f"\n{len(cues)} cues; projected beads in {args.out}/ROUTE.align: "
          f"bitext eval {KARPATHY / 'gold.align'} {args.out}/vtt.align")
    return 0


if __name__ == "__main__":
    sys.exit(main())
