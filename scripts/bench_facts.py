"""Names-and-numbers benchmark: how often a translation renders every number and Latin-script name right.

From WMT18 and WMT19 zh->en news (``../shared/mt-test/``), the sentences whose Chinese contains a
number, year, percentage, month, decade or Latin-script name (``toolkit.translate.facts``). An
output counts as right when the fact checks find no problem in it (``fact_problems``: every
number stated in some form, no year the Chinese does not state, every Latin name kept).

Two runs of one model on the same sentences, in one process:

* **before**: what the pipeline did before the fact checks: the first attempt, and one retry with
  the penalised decoding for an output the form checks flag (empty, Chinese left, loops, length);
* **after**: ``translate_checked`` as it runs now: the same first attempt, then a retry that states
  the failing terms in the prompt (``9月 = September``) for an output the fact checks flag.

Greedy decoding makes the first attempt the same in both runs, so it is generated once and replayed
for the second run (the retries are generated afresh). The human references are checked the same
way, which says how strict the checks are (a free or partial reference fails them too).

    python scripts/bench_facts.py [--mt qwen1.5b] [--limit 100] [--skip 0] [--json FILE]

Skips (exit 0) when the test sets are absent.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mt import SHARED, read_test_set  # noqa: E402

TEST_SETS = [SHARED / "mt-test" / f"damo_mt_testsets_zh2en_news_{name}.csv" for name in ("wmt18", "wmt19")]


def fact_sentences(limit: int | None, skip: int = 0) -> tuple[list[str], list[str]]:
    """The (Chinese, reference) pairs of WMT18 then WMT19 that hold a number or a Latin-script name
    (after the first ``skip`` of them, at most ``limit``)."""
    from toolkit.translate.facts import latin_names, source_facts

    sources, refs = [], []
    for path in TEST_SETS:
        zh, en = read_test_set(path, 10 ** 9)
        for s, r in zip(zh, en):
            if source_facts(s) or latin_names(s):
                sources.append(s)
                refs.append(r)
    end = skip + limit if limit else None
    return sources[skip:end], refs[skip:end]


def share_right(sources: list[str], outputs: list[str]) -> tuple[float, list[int]]:
    """The percentage of outputs with no fact problem, and the indices of the others."""
    from toolkit.translate.checks import fact_problems

    wrong = [i for i, (s, o) in enumerate(zip(sources, outputs)) if fact_problems(s, o)]
    return round(100 * (1 - len(wrong) / max(1, len(sources))), 2), wrong


class Replay:
    """A translator whose first attempts come from ``first`` (source -> output); retries go to ``inner``."""

    def __init__(self, inner, first: dict[str, str]):
        self.inner, self.first = inner, first
        self.name, self.translates = inner.name, inner.translates
        self.takes_context, self.RETRY_SETTINGS = inner.takes_context, inner.RETRY_SETTINGS

    def describe(self) -> str:
        return self.inner.describe()

    def settings(self) -> dict:
        return self.inner.settings()

    def batches(self, texts):
        return [list(range(len(texts)))]

    def translate_requests(self, requests, retry: bool = False):
        if not retry and all(not r.hints and not r.examples and not r.terms for r in requests):
            return [self.first[r.source] for r in requests]
        return self.inner.translate_requests(requests, retry=retry)


def before_pipeline(translator, sources: list[str]) -> list[str]:
    """The first attempt, and the form-check retry the pipeline made before the fact checks."""
    from toolkit.translate.checks import FACT_FLAGS, check_translation

    outputs = translator.translate(sources)

    def form_flags(source: str, output: str) -> list[str]:
        return [f for f in check_translation(source, output) if f not in FACT_FLAGS]

    flags = [form_flags(s, o) for s, o in zip(sources, outputs)]
    again = [i for i, f in enumerate(flags) if f]
    for i, output in zip(again, translator.retranslate([sources[i] for i in again]) if again else []):
        if len(form_flags(sources[i], output)) < len(flags[i]):
            outputs[i] = output
    return [o.strip() for o in outputs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mt", default="qwen1.5b", help="translator spec (default: qwen1.5b)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N such sentences")
    parser.add_argument("--skip", type=int, default=0,
                        help="leave out the first N such sentences (--skip 64 --limit 64: a slice apart from the first 64)")
    parser.add_argument("--json", help="write the figures, outputs included, to this file")
    args = parser.parse_args(argv)
    if not all(p.is_file() for p in TEST_SETS):
        print("skipped: the WMT test sets are absent (they come with ../shared next to the project)")
        return 0

    from toolkit.score.metrics import corpus_scores
    from toolkit.translate.backends import get_translator, translate_checked

    sources, refs = fact_sentences(args.limit, args.skip)
    translator = get_translator(args.mt).load()
    start = time.perf_counter()
    # A first attempt straight from the model, shared by both runs (greedy: the same either way).
    first = dict(zip(sources, translator.translate(sources)))
    first_s = time.perf_counter() - start
    before = before_pipeline(_FirstThen(translator, first), sources)
    before_s = time.perf_counter() - start  # the first attempt and the form retries
    after_start = time.perf_counter()
    after = [t.text for t in translate_checked(Replay(translator, first), sources)]
    after_s = time.perf_counter() - after_start + first_s

    figures = {"mt": translator.describe(), "sentences": len(sources), "limit": args.limit, "skip": args.skip,
               "sources": sources,
               "load_average": [round(x, 2) for x in os.getloadavg()],
               "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    for label, outputs, seconds in (("reference", refs, None), ("before", before, before_s), ("after", after, after_s)):
        right, wrong = share_right(sources, outputs)
        entry = {"right_percent": right, "wrong": len(wrong)}
        if label != "reference":
            scores = corpus_scores(outputs, refs)
            entry.update({"bleu": round(scores.bleu, 2), "chrf": round(scores.chrf, 2), "seconds": round(seconds, 1),
                          "outputs": outputs, "wrong_ids": wrong})
        figures[label] = entry
    print(f"{figures['mt']}: {len(sources)} WMT18/19 sentences with numbers or Latin names"
          + (f" (after the first {args.skip})" if args.skip else "") + (f" (at most {args.limit})" if args.limit else ""))
    for label in ("reference", "before", "after"):
        entry = figures[label]
        extra = (f", BLEU {entry['bleu']:.2f}, chrF {entry['chrf']:.2f}, {entry['seconds']:.0f} s"
                 if label != "reference" else " (the human translations, checked the same way)")
        print(f"  {label:9} every fact right in {entry['right_percent']:.1f}% ({entry['wrong']} wrong){extra}")
    print(f"  load average {figures['load_average']}, peak RSS {figures['peak_rss_mb'] / 1024:.2f} GB")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


class _FirstThen:
    """``translate`` replays the first attempts; ``retranslate`` (the form retry) asks the model."""

    def __init__(self, inner, first: dict[str, str]):
        self.inner, self.first = inner, first

    def translate(self, texts):
        return [self.first[t] for t in texts]

    def retranslate(self, texts):
        return self.inner.retranslate(texts)


if __name__ == "__main__":
    sys.exit(main())
