"""MT benchmark: quality and speed of the offline models on WMT18 zh->en news.

For each model (a registry name or any ``--mt`` spec) the script reports, on
the first N sentences of ``../shared/mt-test/damo_mt_testsets_zh2en_news_wmt18.csv``
(CSV ``zh,en`` with a header row):

* load time (the GGUF conversion on a first run, the cached safetensors after);
* generation time and sentences per second, through ``translate_checked`` (checks
  and one retry of flagged outputs included, as the pipeline runs it);
* corpus BLEU and chrF with sacrebleu's signatures (``toolkit.score.metrics.corpus_scores``);
* how many outputs are still flagged, by flag;
* peak memory (max RSS) of the process.

Each model runs in a fresh child process (``--child SPEC``) so that one model's
peak memory and warm caches do not leak into the next; the parent prints the
results and can write them as JSON. The translation cache is a throwaway file
(or none with ``--no-cache``), so every sentence is really translated.

    python scripts/bench_mt.py [--models qwen1.5b,qwen0.5b] [--n 500] [--csv PATH]
                               [--batch-size N] [--dtype float32|bfloat16] [--engine continuous|padded]
                               [--no-cache] [--no-gguf-cache] [--json FILE]

Times are wall-clock: other work on the machine inflates them (the child records
the load average and its CPU time so a reader can tell).

Skips (exit 0) when the test set is absent (no ../shared next to the project).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
WMT18 = SHARED / "mt-test" / "damo_mt_testsets_zh2en_news_wmt18.csv"
DEFAULT_MODELS = "qwen1.5b,qwen0.5b"
DEFAULT_N = 500


def read_test_set(path: Path, n: int) -> tuple[list[str], list[str]]:
    """The first ``n`` (zh, en) rows of a two-column CSV with a header row."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    rows = [r for r in rows if len(r) >= 2][:n]
    return [r[0] for r in rows], [r[1] for r in rows]


def run_child(spec: str, args: argparse.Namespace) -> dict:
    """Load one model, translate the test set, score it: everything the parent reports."""
    import logging

    from toolkit.core.errors import ToolkitError
    from toolkit.score.metrics import corpus_scores
    from toolkit.translate.backends import get_translator, translate_checked
    from toolkit.translate.cache import TranslationCache

    logging.basicConfig(level=logging.WARNING, format="  %(message)s")
    sources, refs = read_test_set(Path(args.csv), args.n)
    try:
        translator = get_translator(spec)
        if args.batch_size:
            translator.batch_size = args.batch_size
        if args.dtype:
            translator.dtype = args.dtype
        if args.engine:
            translator.engine = args.engine
            if not args.batch_size:  # the engine's own default batch
                translator.batch_size = (translator.CONTINUOUS_BATCH if args.engine == "continuous"
                                         else translator.PADDED_BATCH)
        if args.no_gguf_cache:
            translator.gguf_cache = False
        start = time.perf_counter()
        translator.load()
        load_s = time.perf_counter() - start
    except ToolkitError as error:
        return {"model": spec, "error": str(error)}

    done = 0

    def progress(count: int) -> None:
        nonlocal done
        done += count
        print(f"  {spec}: {done}/{len(sources)} sentences, {time.perf_counter() - start:.0f} s",
              file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as scratch:
        cache = None if args.no_cache else TranslationCache(Path(scratch) / "mt.sqlite")
        cpu_start = time.process_time()
        start = time.perf_counter()
        results = translate_checked(translator, sources, cache=cache, progress=progress)
        generate_s = time.perf_counter() - start
        cpu_s = time.process_time() - cpu_start
        if cache is not None:
            cache.close()
    scores = corpus_scores([r.text for r in results], refs)
    flags = Counter(flag for r in results for flag in r.flags)
    import torch
    import transformers

    return {
        "model": spec,
        "translator": translator.describe(),
        "loaded_from_cache": getattr(translator, "loaded_from", None) is not None,
        "batch_size": translator.batch_size,
        "engine": getattr(translator, "engine", None),
        "sentences": len(sources),
        "load_s": round(load_s, 2),
        "generate_s": round(generate_s, 2),
        "generate_cpu_s": round(cpu_s, 2),
        "sentences_per_s": round(len(sources) / generate_s, 3),
        "bleu": round(scores.bleu, 2),
        "bleu_signature": scores.bleu_signature,
        "chrf": round(scores.chrf, 2),
        "chrf_signature": scores.chrf_signature,
        "flagged": sum(1 for r in results if r.flags),
        "flags": dict(sorted(flags.items())),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average": round(os.getloadavg()[0], 2),
        "torch_threads": torch.get_num_threads(),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "outputs": [r.text for r in results] if args.keep_outputs else None,
    }


def format_result(result: dict) -> str:
    if "error" in result:
        return f"{result['model']}: Error: {result['error']}"
    flags = ", ".join(f"{k} {v}" for k, v in result["flags"].items()) or "none"
    return "\n".join([
        f"{result['model']}: {result['translator']}",
        f"  load          {result['load_s']:.1f} s ({'cached conversion' if result['loaded_from_cache'] else 'from the model file'})",
        f"  generation    {result['generate_s']:.1f} s for {result['sentences']} sentences "
        f"= {result['sentences_per_s']:.2f} sentences/s (engine {result.get('engine')}, batch size {result['batch_size']}, "
        f"CPU {result['generate_cpu_s']:.0f} s, load average {result['load_average']})",
        f"  BLEU          {result['bleu']:.2f}  {result['bleu_signature']}",
        f"  chrF          {result['chrf']:.2f}  {result['chrf_signature']}",
        f"  still flagged {result['flagged']} ({flags})",
        f"  peak RSS      {result['peak_rss_mb'] / 1024:.2f} GB",
    ])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated translator specs")
    parser.add_argument("--n", type=int, default=DEFAULT_N, help="first N sentences of the test set")
    parser.add_argument("--csv", default=str(WMT18), help="CSV zh,en with a header row")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the translator's own")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default=None,
                        help="LLM weights (default: the translator's own)")
    parser.add_argument("--engine", choices=("continuous", "padded"), default=None,
                        help="LLM decoding engine (default: the translator's own)")
    parser.add_argument("--no-cache", action="store_true", help="no translation cache at all "
                        "(default: a throwaway one, so every sentence is translated either way)")
    parser.add_argument("--no-gguf-cache", action="store_true",
                        help="convert the GGUF file on load, without reading or writing models/.cache")
    parser.add_argument("--keep-outputs", action="store_true", help="put the translations in --json")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.child, args), ensure_ascii=False))
        return 0
    if not Path(args.csv).is_file():
        print(f"skipped: the test set {args.csv} is absent (it comes with ../shared next to the project)")
        return 0
    passthrough = [a for a in (argv if argv is not None else sys.argv[1:])]
    results = []
    for spec in [m.strip() for m in args.models.split(",") if m.strip()]:
        command = [sys.executable, str(Path(__file__).resolve()), *_without_models(passthrough), "--child", spec]
        child = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        lines = child.stdout.strip().splitlines()
        try:
            result = json.loads(lines[-1])
        except (IndexError, ValueError):
            result = {"model": spec, "error": f"the benchmark process failed (exit {child.returncode})"}
        results.append(result)
        print(format_result(result), flush=True)
    if args.json:
        meta = {"test_set": str(args.csv), "n": args.n, "command": " ".join([Path(sys.argv[0]).name, *passthrough])}
        Path(args.json).write_text(json.dumps({**meta, "results": results}, indent=1, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    return 1 if any("error" in r for r in results) else 0


def _without_models(argv: list[str]) -> list[str]:
    """The parent's options for a child: everything but --models and --json."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--models", "--json"):
            skip = True
            continue
        if arg.startswith(("--models=", "--json=")):
            continue
        out.append(arg)
    return out


if __name__ == "__main__":
    sys.exit(main())
