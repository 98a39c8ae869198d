"""Alignment quality on compiled and clean translations, ours beside Bertalign's algorithm.

For every document of every data set it prints strict/lax P/R/F1 (the
project's scorer, Vecalign's definitions) and the time taken, for

* **ours**: ``align_documents`` with ``AlignOptions(presegmented=True)`` and one
  USE embedder (``get_embedder("use")``) loaded once and shared;
* **bertalign**: Bertalign's own algorithm (its ``Encoder.transform`` windows,
  first-pass 1-1 DP with top-k, second pass with ``max_align`` and ``win``, its
  default parameters), imported from a checkout given by ``--bertalign PATH``
  or ``$BERTALIGN_PATH``, encoding with the same USE embedder instead of LaBSE.

The data sets are built at run time from ../shared (read-only; nothing is
written into the project); a set whose data is absent is skipped with a reason:

``karpathy``
    ``gold/karpathy``: a compiled Chinese translation against an ASR transcript.
``mac-dev``
    ``gold/mac-dev``: six novel chapters and their published translations.
``synthetic-compiled``
    MAC-Dev made to look compiled, deterministically (``SYNTH_SEED``): runs of
    Chinese sentences deleted (their English becomes 0-1 beads), transcript
    fillers inserted into the English as 0-1 beads, some long English sentences
    cut into two ASR fragments.
``wmt-clean``
    WMT18/19 zh-en news test sentences (``mt-test/*.csv``) cut into documents of
    ``--wmt-size`` consecutive pairs, in four variants: ``1-1``; ``zh-joined``
    (two consecutive Chinese sentences joined into one line: a 1-2 bead, Chinese
    first); ``en-joined`` (two English sentences joined: 2-1); ``dropped`` (a few
    sentences dropped from one side or the other: 0-1 / 1-0).

At the end: one table, set x aligner -> strict P/R/F1, lax F1, seconds; for the
compiled sets also a breakdown of the wrong predicted beads by kind.

    python scripts/bench_compiled.py [--sets karpathy,mac-dev,synthetic-compiled,wmt-clean]
        [--bertalign PATH | --no-bertalign] [--wmt-docs 4] [--wmt-size 80]
        [--out DIR] [--json FILE] [--embedding-cache FILE]

Bertalign needs numba, scipy, faiss-cpu and torch importable (not the project's
dependencies: install them beside the checkout, e.g. ``pip install --target
DIR numba scipy faiss-cpu`` and put DIR on PYTHONPATH). Nothing of Bertalign is part
of the project; its ``bertalign/__init__.py`` (which loads LaBSE from the model
hub) is not run: the package is imported module by module, with stand-ins for
``sentence_transformers`` (our embedder) and, when absent, ``googletrans`` and
``sentence_splitter`` (language detection and sentence splitting, unused on
presegmented input).

Times are wall-clock seconds on whatever else the machine is doing. The USE
model load, our lexicon load and Bertalign's numba compilation are timed once, apart.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib
import importlib.util
import inspect
import io
import json
import os
import random
import sys
import time
import types
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Every import from the toolkit is here (its modules are being moved into subpackages).
from toolkit.align.embed import get_embedder
from toolkit.align.evaluate import AlignmentScores, score_alignments
from toolkit.pipeline import AlignOptions, align_documents, cached_embedder, load_document
from toolkit.core.records import Bead
from toolkit.text.segment import segment_document
from toolkit.formats.writers import read_align, write_align

SHARED = Path(__file__).resolve().parents[2] / "shared"
KARPATHY = SHARED / "gold" / "karpathy"
MAC_DEV = SHARED / "gold" / "mac-dev"
MT_TEST = SHARED / "mt-test"
SETS = ("karpathy", "mac-dev", "synthetic-compiled", "wmt-clean")
COMPILED_SETS = ("karpathy", "synthetic-compiled")  # the sets whose errors are broken down
EMBEDDER = "use"

SYNTH_SEED = 20240917
SYNTH_KEPT_RUN = (2, 8)      # gold beads kept per run (uniform, inclusive)
SYNTH_DELETED_RUN = (1, 6)   # gold beads whose Chinese is deleted per run: ~40 % of the Chinese
SYNTH_FILLER_RATE = 0.12     # chance of a filler after each bead
SYNTH_FRAGMENT_RATE = 0.2    # chance that a long English sentence is cut into two ASR fragments
SYNTH_FRAGMENT_WORDS = 14    # "long": at least this many words
FILLERS = (
    "Yeah.", "Right.", "Okay.", "Mm-hmm.", "Um, so.", "Uh, yeah.", "So, yeah.", "Exactly.",
    "You know, that's a great question.", "I mean, honestly.", "Let me think about that for a second.",
    "Sorry, go ahead.", "Can everyone hear me okay?", "That's fair.", "Totally.", "Anyway.",
    "I think that's right.", "Yeah, yeah, for sure.", "Where was I?", "Thank you.",
    "Sorry, I lost my train of thought.", "It's kind of funny, actually.", "Oh, interesting.",
    "Good question.", "Like, you know.", "We'll come back to that.",
)

WMT_SEED = 20240918
WMT_DOCS = 4       # documents per variant
WMT_SIZE = 80      # sentence pairs per document
WMT_JOIN_SHARE = 0.1   # pairs joined with the next one on one side
WMT_DROP_SHARE = 0.05  # pairs that lose one side
WMT_VARIANTS = ("1-1", "zh-joined", "en-joined", "dropped")


class Skip(Exception):
    """A data set or aligner that cannot run here; the message says why."""


@dataclass(frozen=True)
class Case:
    """One document to align: both sides presegmented, and its gold beads.

    ``group`` is the summary row it counts in (a set, or a set's variant).
    """

    group: str
    name: str
    zh: object   # toolkit Document
    en: object
    gold: tuple[Bead, ...]


@dataclass(frozen=True)
class Run:
    """One aligner's beads for one case, with wall-clock seconds (embedding and DP apart)."""

    beads: tuple[Bead, ...]
    seconds: float
    embed_s: float
    dp_s: float


# --------------------------------------------------------------------------
# data sets

def check_gold(beads, n_zh: int, n_en: int, where: str) -> None:
    """Raise ValueError unless every index is used once, beads are contiguous, monotonic and non-empty."""
    next_zh = next_en = 0
    for number, bead in enumerate(beads, start=1):
        if not bead.zh and not bead.en:
            raise ValueError(f"{where}: bead {number} is empty")
        for side, ids, expected in (("zh", bead.zh, next_zh), ("en", bead.en, next_en)):
            if ids and list(ids) != list(range(expected, expected + len(ids))):
                raise ValueError(f"{where}: bead {number} {side} {list(ids)} does not continue at {expected}")
        next_zh += len(bead.zh)
        next_en += len(bead.en)
    if (next_zh, next_en) != (n_zh, n_en):
        raise ValueError(f"{where}: gold covers {next_zh} zh / {next_en} en of {n_zh} / {n_en} sentences")


def make_case(group: str, name: str, zh_lines: list[str], en_lines: list[str], gold: list[Bead]) -> Case:
    """A case from sentence lists (one sentence each, non-empty) and gold beads over them."""
    check_gold(gold, len(zh_lines), len(en_lines), f"{group}/{name}")
    zh = segment_document("\n".join(zh_lines), "zh", name=name, presegmented=True)
    en = segment_document("\n".join(en_lines), "en", name=name, presegmented=True)
    if (len(zh), len(en)) != (len(zh_lines), len(en_lines)):
        raise ValueError(f"{group}/{name}: a sentence was lost in segmentation")
    return Case(group, name, zh, en, tuple(gold))


def load_case(group: str, name: str, zh_path: Path, en_path: Path, gold_path: Path) -> Case:
    """A case from presegmented files and a gold .align file."""
    zh = load_document(zh_path, "zh", presegmented=True, name=name)
    en = load_document(en_path, "en", presegmented=True, name=name)
    gold = read_align(gold_path)
    check_gold(gold, len(zh), len(en), str(gold_path))
    return Case(group, name, zh, en, tuple(gold))


def karpathy_cases(args) -> list[Case]:
    if not (KARPATHY / "gold.align").is_file():
        raise Skip(f"no gold data at {KARPATHY}")
    return [load_case("karpathy", "karpathy", KARPATHY / "zh.txt", KARPATHY / "en.txt", KARPATHY / "gold.align")]


def mac_dev_cases(args, group: str = "mac-dev") -> list[Case]:
    if not (MAC_DEV / "gold").is_dir():
        raise Skip(f"no MAC-Dev gold data at {MAC_DEV}")
    return [load_case(group, gold.stem, MAC_DEV / "zh" / gold.stem, MAC_DEV / "en" / gold.stem, gold)
            for gold in sorted((MAC_DEV / "gold").glob("*.align"))]


def asr_fragments(sentence: str, rng: random.Random) -> list[str]:
    """The sentence, or sometimes two pieces cut at the comma nearest its middle (as ASR cuts)."""
    words = sentence.split()
    if len(words) < SYNTH_FRAGMENT_WORDS or rng.random() >= SYNTH_FRAGMENT_RATE:
        return [sentence]
    commas = [i for i, word in enumerate(words[2:-2], start=2) if word.endswith(",")]
    if not commas:
        return [sentence]
    cut = min(commas, key=lambda i: abs(i - len(words) / 2)) + 1
    return [" ".join(words[:cut]), " ".join(words[cut:])]


def make_compiled(case: Case, seed: str) -> Case:
    """A compiled-translation look-alike of a clean case, and its gold.

    Gold beads are walked in alternating runs: in a kept run a bead stays
    (its English perhaps cut into ASR fragments, all in the bead); in a deleted
    run its Chinese goes and each English sentence or fragment becomes a 0-1
    bead (a 1-0 bead vanishes). After any bead a filler may follow as a 0-1 bead.
    """
    rng = random.Random(seed)
    zh_src, en_src = case.zh.texts(), case.en.texts()
    zh_lines: list[str] = []
    en_lines: list[str] = []
    gold: list[Bead] = []

    def add_english(texts: list[str]) -> tuple[int, ...]:
        en_lines.extend(texts)
        return tuple(range(len(en_lines) - len(texts), len(en_lines)))

    deleting, left = False, rng.randint(*SYNTH_KEPT_RUN)
    for bead in case.gold:
        if left == 0:
            deleting = not deleting
            left = rng.randint(*(SYNTH_DELETED_RUN if deleting else SYNTH_KEPT_RUN))
        left -= 1
        pieces = [piece for e in bead.en for piece in asr_fragments(en_src[e], rng)]
        if deleting:
            gold.extend(Bead((), add_english([piece])) for piece in pieces)
        else:
            zh_lines.extend(zh_src[z] for z in bead.zh)
            zh_ids = tuple(range(len(zh_lines) - len(bead.zh), len(zh_lines)))
            gold.append(Bead(zh_ids, add_english(pieces)))
        if rng.random() < SYNTH_FILLER_RATE:
            gold.append(Bead((), add_english([rng.choice(FILLERS)])))
    return make_case("synthetic-compiled", case.name, zh_lines, en_lines, gold)


def synthetic_cases(args) -> list[Case]:
    return [make_compiled(case, f"{SYNTH_SEED}:{case.name}") for case in mac_dev_cases(args)]


def read_wmt_pairs() -> list[tuple[str, str]]:
    """(zh, en) rows of every mt-test CSV (header row dropped, rows with an empty side too), in file order."""
    pairs = []
    for path in sorted(MT_TEST.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))[1:]
        pairs.extend((r[0].strip(), r[1].strip()) for r in rows if len(r) >= 2 and r[0].strip() and r[1].strip())
    return pairs


def wmt_variant(block: list[tuple[str, str]], variant: str, rng: random.Random):
    """Sentence lists and gold for one variant of a block of 1-1 pairs.

    ``zh-joined`` / ``en-joined`` join ``WMT_JOIN_SHARE`` of the pairs with the
    next one on that side (never a pair twice); ``dropped`` takes one side away
    from ``WMT_DROP_SHARE`` of the pairs, the side chosen by a coin.
    """
    n = len(block)
    joins: set[int] = set()
    drops: dict[int, str] = {}
    if variant in ("zh-joined", "en-joined"):
        k = min(round(WMT_JOIN_SHARE * n), n // 2)
        # k sorted distinct picks from n-k, the j-th shifted by j: starts at least 2 apart, the last <= n-2.
        joins = {p + j for j, p in enumerate(sorted(rng.sample(range(n - k), k)))}
    elif variant == "dropped":
        drops = {i: rng.choice(("zh", "en")) for i in rng.sample(range(n), round(WMT_DROP_SHARE * n))}
    zh_lines: list[str] = []
    en_lines: list[str] = []
    gold: list[Bead] = []
    i = 0
    while i < n:
        (zh, en), step = block[i], 1
        zh_side, en_side = [zh], [en]
        if i in joins:
            (next_zh, next_en), step = block[i + 1], 2
            if variant == "zh-joined":
                zh_side, en_side = [zh + next_zh], [en, next_en]
            else:
                zh_side, en_side = [zh, next_zh], [en + " " + next_en]
        elif i in drops:
            zh_side, en_side = ([], [en]) if drops[i] == "zh" else ([zh], [])
        zh_lines.extend(zh_side)
        en_lines.extend(en_side)
        gold.append(Bead(tuple(range(len(zh_lines) - len(zh_side), len(zh_lines))),
                         tuple(range(len(en_lines) - len(en_side), len(en_lines)))))
        i += step
    return zh_lines, en_lines, gold


def wmt_cases(args) -> list[Case]:
    if not list(MT_TEST.glob("*.csv")):
        raise Skip(f"no WMT test CSVs in {MT_TEST}")
    pairs = read_wmt_pairs()
    size, docs = args.wmt_size, args.wmt_docs
    if len(pairs) < size:
        raise Skip(f"only {len(pairs)} WMT pairs, fewer than one document of {size}")
    # Blocks spread evenly over the test sets; every variant uses the same blocks.
    last = len(pairs) - size
    starts = sorted({round(k * last / max(1, docs - 1)) for k in range(docs)})
    cases = []
    for variant in WMT_VARIANTS:
        for start in starts:
            rng = random.Random(f"{WMT_SEED}:{variant}:{start}")
            zh_lines, en_lines, gold = wmt_variant(pairs[start:start + size], variant, rng)
            cases.append(make_case(f"wmt-clean/{variant}", f"{variant}-{start:04d}", zh_lines, en_lines, gold))
    return cases


BUILDERS: dict[str, Callable[[argparse.Namespace], list[Case]]] = {
    "karpathy": karpathy_cases,
    "mac-dev": mac_dev_cases,
    "synthetic-compiled": synthetic_cases,
    "wmt-clean": wmt_cases,
}


# --------------------------------------------------------------------------
# aligners

def run_ours(case: Case, embedder, options: AlignOptions) -> tuple[Run, dict]:
    """Our aligner on one case; also returns its signature."""
    started = time.perf_counter()
    result = align_documents(case.zh, case.en, options, embedder=embedder, name=case.name)
    seconds = time.perf_counter() - started
    timings = result.signature["timings"]
    run = Run(tuple(result.beads), seconds, timings["embed_s"], timings["lexical_s"] + timings["dp_s"])
    return run, result.signature


def _unavailable(*args, **kwargs):
    raise RuntimeError("not available in this benchmark (input is presegmented, languages are known)")


class BertalignAdapter:
    """Bertalign's encoder wrapper and two-pass DP, from a checkout, encoding with our embedder.

    ``bertalign/__init__.py`` is not run (it loads LaBSE at import time): the
    package is put together from its modules, with ``sentence_transformers``
    standing in as our embedder. ``align`` does what ``Bertalign.__init__``
    does with ``is_split=True`` (clean_text, splitlines, ``Encoder.transform``
    with ``max_align - 1`` windows, char_ratio), then calls Bertalign's own
    ``align_sents`` on those embeddings, with its default parameters.
    """

    def __init__(self, root: Path, embedder):
        package_dir = root / "bertalign"
        if not (package_dir / "corelib.py").is_file():
            raise Skip(f"no bertalign/corelib.py under {root}")
        # numba's np.dot needs scipy's BLAS; torch is only asked whether CUDA is there.
        for dependency, package in (("numba", "numba"), ("scipy", "scipy"), ("faiss", "faiss-cpu"), ("torch", "torch")):
            if importlib.util.find_spec(dependency) is None:
                raise Skip(f"Bertalign's DP needs {dependency} (pip install {package})")

        class SentenceTransformer:
            """Stands in for sentence_transformers.SentenceTransformer: our embedder, rows L2-normalised."""

            def __init__(self, model_name):
                self.model_name = model_name

            def encode(self, sentences):
                return embedder.embed(list(sentences))

        stubs = {"sentence_transformers": types.SimpleNamespace(SentenceTransformer=SentenceTransformer)}
        if importlib.util.find_spec("googletrans") is None:
            stubs["googletrans"] = types.SimpleNamespace(Translator=_unavailable)
        if importlib.util.find_spec("sentence_splitter") is None:
            stubs["sentence_splitter"] = types.SimpleNamespace(SentenceSplitter=_unavailable)
        package = types.ModuleType("bertalign")
        package.__path__ = [str(package_dir)]
        saved = {name: sys.modules.get(name) for name in [*stubs, "bertalign"]}
        try:
            sys.modules.update(stubs)
            sys.modules["bertalign"] = package
            encoder = importlib.import_module("bertalign.encoder")
            package.model = encoder.Encoder(f"USE ({embedder.describe()})")  # as __init__ does with LaBSE
            self.module = importlib.import_module("bertalign.aligner")
        finally:
            for name, module in saved.items():
                if name == "bertalign":
                    continue  # the package stays: its modules refer to it
                if module is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = module
        self.model = package.model
        self.root = root
        signature = inspect.signature(self.module.Bertalign.__init__).parameters
        self.params = {name: signature[name].default
                       for name in ("max_align", "top_k", "win", "skip", "margin", "len_penalty")}

    def describe(self) -> dict:
        return {"checkout": str(self.root), "embedder": self.model.model_name, **self.params}

    def align(self, zh_texts: list[str], en_texts: list[str]) -> Run:
        module, params = self.module, self.params
        src_sents = module.clean_text("\n".join(zh_texts)).splitlines()
        tgt_sents = module.clean_text("\n".join(en_texts)).splitlines()
        if (len(src_sents), len(tgt_sents)) != (len(zh_texts), len(en_texts)):
            raise ValueError("Bertalign's clean_text changed the number of sentences")
        started = time.perf_counter()
        src_vecs, src_lens = self.model.transform(src_sents, params["max_align"] - 1)
        tgt_vecs, tgt_lens = self.model.transform(tgt_sents, params["max_align"] - 1)
        embedded = time.perf_counter()
        aligner = module.Bertalign.__new__(module.Bertalign)
        vars(aligner).update(
            params,
            src_lang="zh", tgt_lang="en", src_sents=src_sents, tgt_sents=tgt_sents,
            src_num=len(src_sents), tgt_num=len(tgt_sents), src_lens=src_lens, tgt_lens=tgt_lens,
            char_ratio=src_lens[0].sum() / tgt_lens[0].sum(), src_vecs=src_vecs, tgt_vecs=tgt_vecs,
        )
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its progress
            aligner.align_sents()
        done = time.perf_counter()
        beads = tuple(Bead(tuple(zh), tuple(en)) for zh, en in aligner.result)
        return Run(beads, done - started, embedded - started, done - embedded)


def load_bertalign(args, embedder) -> tuple[BertalignAdapter | None, str]:
    """The adapter and its set-up time in words, or None and why it is skipped."""
    if args.no_bertalign:
        return None, "skipped: --no-bertalign"
    path = args.bertalign or os.environ.get("BERTALIGN_PATH")
    if not path:
        return None, "skipped: no checkout given (--bertalign PATH or $BERTALIGN_PATH)"
    started = time.perf_counter()
    try:
        adapter = BertalignAdapter(Path(path), embedder)
        imported = time.perf_counter()
        adapter.align(["你好。", "今天天气很好。", "再见。"],  # compiles the numba kernels before timing
                      ["Hello.", "The weather is fine today.", "Goodbye."])
    except Skip as exc:
        return None, f"skipped: {exc}"
    done = time.perf_counter()
    return adapter, f"import {imported - started:.1f}s, numba warm-up {done - imported:.1f}s"


# --------------------------------------------------------------------------
# reporting

def error_kinds(gold, pred) -> Counter:
    """Wrong predicted beads by kind, and missed gold omissions (keys starting 'missed')."""
    gold_keys = {(b.zh, b.en) for b in gold}
    by_zh = {z: b for b in gold for z in b.zh}
    gold_01 = {b.en[0] for b in gold if not b.zh}
    kinds: Counter = Counter()
    for bead in pred:
        if (bead.zh, bead.en) in gold_keys:
            continue
        if not bead.zh:
            kinds["0-1, gold pairs this English"] += 1
            continue
        if not bead.en:
            kinds["1-0, gold pairs this Chinese"] += 1
            continue
        beads = {by_zh[z] for z in bead.zh}
        if len(beads) > 1:
            kinds["Chinese of several gold beads merged"] += 1
            continue
        target = beads.pop()
        if target.zh != bead.zh:
            kinds["Chinese is part of a gold bead"] += 1
        elif not target.en:
            kinds["gold 1-0 (untranslated), predicted paired"] += 1
        else:
            pred_en, gold_en = set(bead.en), set(target.en)
            extra = pred_en - gold_en
            if pred_en > gold_en:
                if extra <= gold_01:
                    kinds["right Chinese + gold 0-1 English glued on"] += 1
                else:
                    kinds["right Chinese + English of a neighbouring bead"] += 1
            elif pred_en < gold_en:
                kinds["right Chinese, part of its English missing"] += 1
            elif pred_en & gold_en:
                kinds["right Chinese, English shifted"] += 1
            else:
                kinds["right Chinese, wrong English"] += 1
    pred_keys = {(b.zh, b.en) for b in pred}
    for b in gold:
        if not b.zh and (b.zh, b.en) not in pred_keys:
            where = by_pred_side(pred, en=b.en[0])
            kinds[f"missed gold 0-1: English {where}"] += 1
        elif not b.en and (b.zh, b.en) not in pred_keys:
            kinds["missed gold 1-0"] += 1
    return kinds


def by_pred_side(pred, en: int) -> str:
    """How the prediction used English sentence ``en``: glued into a bead, or in a 0-1 of several."""
    for bead in pred:
        if en in bead.en:
            return "glued into a bead" if bead.zh else "in a wider 0-1"
    return "absent"


def fmt_scores(s: AlignmentScores) -> str:
    return (f"P {s.precision_strict:.3f} R {s.recall_strict:.3f} F1 {s.f1_strict:.3f}  "
            f"lax F1 {s.f1_lax:.3f}")


def summary_table(rows: list[dict]) -> str:
    header = (f"{'set':<22} {'aligner':<10} {'docs':>4} {'P':>6} {'R':>6} {'F1':>6} {'laxF1':>6} "
              f"{'seconds':>8} {'embed':>7} {'dp':>6}")
    lines = [header, "-" * len(header)]
    for row in rows:
        s = row["scores"]
        lines.append(
            f"{row['set']:<22} {row['aligner']:<10} {s['documents']:>4} {s['precision_strict']:>6.3f} "
            f"{s['recall_strict']:>6.3f} {s['f1_strict']:>6.3f} {s['f1_lax']:>6.3f} "
            f"{row['seconds']:>8.1f} {row['embed_s']:>7.1f} {row['dp_s']:>6.1f}")
    return "\n".join(lines)


@dataclass
class Results:
    """What the run gathers for the table and the JSON: summary rows, per-document figures, error kinds."""

    rows: list = field(default_factory=list)
    documents: list = field(default_factory=list)
    breakdowns: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)
    our_signature: dict = field(default_factory=dict)


def run_set(set_name: str, args, embedder, options: AlignOptions, bertalign: BertalignAdapter | None,
            results: Results) -> None:
    """Build one data set, align every document with each aligner, print and gather the figures."""
    try:
        cases = BUILDERS[set_name](args)
    except Skip as exc:
        print(f"\n== {set_name}: skipped: {exc}")
        results.skipped[set_name] = str(exc)
        return
    print(f"\n== {set_name}: {len(cases)} document(s)")
    aligners = ["ours"] + (["bertalign"] if bertalign else [])
    runs: dict[str, list[Run]] = {aligner: [] for aligner in aligners}
    for case in cases:
        kinds = Counter(f"{len(b.zh)}-{len(b.en)}" for b in case.gold)
        print(f"{case.group}/{case.name}: {len(case.zh)} zh x {len(case.en)} en, {len(case.gold)} gold beads "
              f"({', '.join(f'{kind} {n}' for kind, n in kinds.most_common(4))})")
        for aligner in aligners:
            if aligner == "ours":
                run, signature = run_ours(case, embedder, options)
                results.our_signature = results.our_signature or signature
            else:
                run = bertalign.align(case.zh.texts(), case.en.texts())
            runs[aligner].append(run)
            scores = score_alignments([case.gold], [run.beads])
            print(f"  {aligner:<10} {fmt_scores(scores)}  {run.seconds:6.1f}s "
                  f"(embed {run.embed_s:.1f}, dp {run.dp_s:.2f})")
            results.documents.append({
                "set": set_name, "group": case.group, "document": case.name, "aligner": aligner,
                "zh": len(case.zh), "en": len(case.en), "seconds": round(run.seconds, 3),
                "embed_s": round(run.embed_s, 3), "dp_s": round(run.dp_s, 3), "scores": scores.as_dict()})
            if args.out:
                folder = args.out / set_name / aligner
                folder.mkdir(parents=True, exist_ok=True)
                write_align(folder / f"{case.name}.align", run.beads)
    groups = sorted({case.group for case in cases})
    for group in groups + ([set_name] if len(groups) > 1 else []):
        picked = [i for i, case in enumerate(cases) if group in (case.group, set_name)]
        for aligner in aligners:
            chosen = [runs[aligner][i] for i in picked]
            scores = score_alignments([cases[i].gold for i in picked], [r.beads for r in chosen])
            results.rows.append({"set": group, "aligner": aligner, "scores": scores.as_dict(),
                                 "seconds": sum(r.seconds for r in chosen),
                                 "embed_s": sum(r.embed_s for r in chosen),
                                 "dp_s": sum(r.dp_s for r in chosen)})
    if set_name not in COMPILED_SETS:
        return
    for aligner in aligners:
        kinds = Counter()
        for case, run in zip(cases, runs[aligner]):
            kinds.update(error_kinds(case.gold, run.beads))
        predicted = sum(len(run.beads) for run in runs[aligner])
        wrong = sum(n for kind, n in kinds.items() if not kind.startswith("missed"))
        results.breakdowns.setdefault(set_name, {})[aligner] = {"predicted": predicted, "wrong": wrong, **kinds}
        print(f"  {aligner} errors: {wrong} of {predicted} predicted beads wrong")
        for kind, n in sorted(kinds.items(), key=lambda item: (item[0].startswith("missed"), -item[1])):
            print(f"    {n:4d}  {kind}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, from {', '.join(SETS)}")
    parser.add_argument("--bertalign", metavar="PATH", help="a Bertalign checkout (default: $BERTALIGN_PATH)")
    parser.add_argument("--no-bertalign", action="store_true", help="run our aligner only")
    parser.add_argument("--wmt-docs", type=int, default=WMT_DOCS, help="documents per WMT variant")
    parser.add_argument("--wmt-size", type=int, default=WMT_SIZE, help="sentence pairs per WMT document")
    parser.add_argument("--out", type=Path, help="keep the predictions here: DIR/SET/ALIGNER/DOC.align")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the figures as JSON")
    parser.add_argument("--embedding-cache", type=Path, metavar="FILE",
                        help="embed through this cache (both aligners): for quality runs; times are then not comparable")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.sets.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SETS]
    if unknown or args.wmt_docs < 1 or args.wmt_size < 2:
        print(f"Error: unknown set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}" if unknown
              else "Error: --wmt-docs must be >= 1 and --wmt-size >= 2", file=sys.stderr)
        return 2

    total_started = time.perf_counter()
    load_before = os.getloadavg()
    # Loaded once, shared by every document and both aligners.
    embedder = cached_embedder(EMBEDDER, args.embedding_cache) if args.embedding_cache else get_embedder(EMBEDDER)
    started = time.perf_counter()
    embedder.embed(["warm-up"])
    print(f"embedder: {embedder.describe()} (loaded in {time.perf_counter() - started:.1f}s)")
    options = AlignOptions(embedder=EMBEDDER, presegmented=True)
    started = time.perf_counter()
    warm_up = make_case("warm-up", "warm-up", ["你好。", "再见。"], ["Hello.", "Goodbye."],
                        [Bead((0,), (0,)), Bead((1,), (1,))])
    run_ours(warm_up, embedder, options)  # loads the lexicon, so the first document does not pay for it
    print(f"ours: warm-up (lexicon load) {time.perf_counter() - started:.1f}s")
    bertalign, bertalign_note = load_bertalign(args, embedder)
    print(f"bertalign: {bertalign_note}" + (f"; {bertalign.describe()}" if bertalign else ""))

    results = Results()
    for set_name in chosen:
        run_set(set_name, args, embedder, options, bertalign, results)

    elapsed = time.perf_counter() - total_started
    load = {"start": load_before[0], "end": os.getloadavg()[0]}
    print("\n" + summary_table(results.rows))
    print(f"strict P/R/F1 and lax F1 (Vecalign's definitions); seconds = align time, embedding and DP apart; "
          f"total run {elapsed:.0f}s; load average {load['start']:.1f} at start, {load['end']:.1f} at end "
          f"on {os.cpu_count()} cores")
    if args.json:
        dropped = ("diagnostics", "timings", "sentences")  # per document, not per run
        signature = {k: v for k, v in results.our_signature.items() if k not in dropped}
        payload = {
            "command": sys.argv, "total_s": round(elapsed, 1), "load_average": load,
            "sets": chosen, "skipped": results.skipped,
            "ours": signature, "bertalign": bertalign.describe() if bertalign else bertalign_note,
            "synthetic": {"seed": SYNTH_SEED, "kept_run": SYNTH_KEPT_RUN, "deleted_run": SYNTH_DELETED_RUN,
                          "filler_rate": SYNTH_FILLER_RATE, "fragment_rate": SYNTH_FRAGMENT_RATE},
            "wmt": {"seed": WMT_SEED, "docs": args.wmt_docs, "size": args.wmt_size,
                    "join_share": WMT_JOIN_SHARE, "drop_share": WMT_DROP_SHARE},
            "summary": results.rows, "documents": results.documents, "error_kinds": results.breakdowns,
        }
        args.json.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
