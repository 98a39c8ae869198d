"""MT benchmark: quality and speed of the offline models on WMT18 and WMT19 zh->en news.

For each model (a registry name or any ``--mt`` spec) and each engine, the
script reports, on the first N sentences of each test set (``--sets``:
``../shared/mt-test/damo_mt_testsets_zh2en_news_wmt18.csv`` and ``..._wmt19.csv``,
CSV ``zh,en`` with a header row; or one ``--csv`` file):

* load time (the GGUF conversion on a first run, the cached safetensors after);
* generation time and sentences per second, through ``translate_checked`` (checks
  and one retry of flagged outputs included, as the pipeline runs it);
* corpus BLEU and chrF with sacrebleu's signatures (``toolkit.score.metrics.corpus_scores``);
* how many outputs are still flagged, by flag;
* peak memory (max RSS) of the process.

Each model and engine runs in a fresh child process (``--child SPEC``) over
all the sets, so that one run's peak memory and warm caches do not leak into
the next; the parent prints the results and can write them as JSON.
``--engines`` lists the engines of a registry GGUF model to compare in one run:
``ctranslate2`` (int8, the default where installed), ``continuous`` and
``padded`` (transformers' two decoding engines). The translation cache is a throwaway file
(or none with ``--no-cache``), so every sentence is really translated.

    python scripts/bench_mt.py [--models qwen1.5b,qwen0.5b] [--n 500] [--sets wmt18,wmt19 | --csv PATH]
                               [--engines default,ctranslate2,continuous,padded] [--batch-size N]
                               [--dtype float32|bfloat16] [--no-cache] [--no-gguf-cache] [--json FILE]

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
TEST_SETS = {name: SHARED / "mt-test" / f"damo_mt_testsets_zh2en_news_{name}.csv" for name in ("wmt18", "wmt19")}
WMT18 = TEST_SETS["wmt18"]
DEFAULT_MODELS = "qwen1.5b,qwen0.5b"
DEFAULT_N = 500
# "default" is what --mt NAME gets; the others force an engine of a registry GGUF model.
ENGINES = ("default", "ctranslate2", "continuous", "padded")


def read_test_set(path: Path, n: int) -> tuple[list[str], list[str]]:
    """The first ``n`` (zh, en) rows of a two-column CSV with a header row."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    rows = [r for r in rows if len(r) >= 2][:n]
    return [r[0] for r in rows], [r[1] for r in rows]



def build_translator(spec: str, engine: str, quantization: str | None = None):
    """The translator ``--mt spec`` gives, or that registry model on the engine ``engine``."""
    from toolkit.translate.backends import get_translator

    if engine in ("default", "ctranslate2"):
        translator = get_translator(spec, engine=None if engine == "default" else engine)
        if quantization and hasattr(translator, "quantization"):
            translator.quantization = quantization
        return translator
    translator = get_translator(spec, engine="transformers")
    translator.engine = engine
    translator.batch_size = translator.CONTINUOUS_BATCH if engine == "continuous" else translator.PADDED_BATCH
    return translator


def run_child(spec: str, args: argparse.Namespace) -> dict:
    """Load one model on one engine, translate every test set, score each: what the parent reports."""
    import logging

    from toolkit.core.errors import ToolkitError
    from toolkit.score.metrics import corpus_scores
    from toolkit.translate.backends import translate_checked
    from toolkit.translate.cache import TranslationCache

    logging.basicConfig(level=logging.WARNING, format="  %(message)s")
    label = f"{spec} [{args.engine}]"
    try:
        translator = build_translator(spec, args.engine, args.quantization)
        if args.batch_size:
            translator.batch_size = args.batch_size
        if args.dtype:
            translator.dtype = args.dtype
        if args.no_gguf_cache:
            translator.gguf_cache = False
        start = time.perf_counter()
        translator.load()
        load_s = time.perf_counter() - start
    except ToolkitError as error:
        return {"model": label, "error": str(error)}

    sets = []
    for name, path in test_sets(args):
        sources, refs = read_test_set(path, args.n)
        done = 0

        def progress(count: int) -> None:
            nonlocal done
            done += count
            print(f"  {label} {name}: {done}/{len(sources)} sentences, {time.perf_counter() - start:.0f} s",
                  file=sys.stderr, flush=True)

        with tempfile.TemporaryDirectory() as scratch:
            cache = None if args.no_cache else TranslationCache(Path(scratch) / "mt.sqlite")
            load_before = os.getloadavg()[0]
            cpu_start = time.process_time()
            start = time.perf_counter()
            results = translate_checked(translator, sources, cache=cache, progress=progress)
            generate_s = time.perf_counter() - start
            cpu_s = time.process_time() - cpu_start
            if cache is not None:
                cache.close()
        scores = corpus_scores([r.text for r in results], refs)
        flags = Counter(flag for r in results for flag in r.flags)
        sets.append({
            "set": name,
            "sentences": len(sources),
            "generate_s": round(generate_s, 2),
            "generate_cpu_s": round(cpu_s, 2),
            "sentences_per_s": round(len(sources) / generate_s, 3),
            "bleu": round(scores.bleu, 2),
            "bleu_signature": scores.bleu_signature,
            "chrf": round(scores.chrf, 2),
            "chrf_signature": scores.chrf_signature,
            "flagged": sum(1 for r in results if r.flags),
            "flags": dict(sorted(flags.items())),
            "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "outputs": [r.text for r in results] if args.keep_outputs else None,
        })
        one = {k: v for k, v in sets[-1].items() if k != "outputs"}
        print(f"  {label} {name} done: {json.dumps(one)}", file=sys.stderr, flush=True)  # kept if a later set is cut short
    import transformers

    versions = {"transformers": transformers.__version__}
    for package in ("torch", "ctranslate2"):
        try:
            versions[package] = __import__(package).__version__
        except ImportError:
            pass
    return {
        "model": label,
        "translator": translator.describe(),
        "loaded_from_cache": getattr(translator, "loaded_from", None) is not None,
        "batch_size": translator.batch_size,
        "engine": getattr(translator, "engine", None),
        "threads": getattr(translator, "threads", None) or __import__("torch").get_num_threads(),
        "load_s": round(load_s, 2),
        "sets": sets,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "versions": versions,
    }


def format_result(result: dict) -> str:
    if "error" in result:
        return f"{result['model']}: Error: {result['error']}"
    lines = [
        f"{result['model']}: {result['translator']}",
        f"  load          {result['load_s']:.1f} s ({'converted cache' if result['loaded_from_cache'] else 'from the model file'}); "
        f"engine {result.get('engine')}, batch size {result['batch_size']}, {result.get('threads')} threads",
    ]
    for one in result["sets"]:
        flags = ", ".join(f"{k} {v}" for k, v in one["flags"].items()) or "none"
        lines += [
            f"  {one['set']:<6} generation {one['generate_s']:.1f} s for {one['sentences']} sentences "
            f"= {one['sentences_per_s']:.2f} sentences/s (CPU {one['generate_cpu_s']:.0f} s, "
            f"load average {one['load_average'][0]} -> {one['load_average'][1]})",
            f"  {one['set']:<6} BLEU {one['bleu']:.2f}  chrF {one['chrf']:.2f}  still flagged {one['flagged']} ({flags})",
        ]
    lines += [f"  signatures    {result['sets'][0]['bleu_signature']}  {result['sets'][0]['chrf_signature']}"
              if result["sets"] else "  no test set",
              f"  peak RSS      {result['peak_rss_mb'] / 1024:.2f} GB"]
    return "\n".join(lines)


def test_sets(args: argparse.Namespace) -> list[tuple[str, Path]]:
    if args.csv:
        return [(Path(args.csv).stem, Path(args.csv))]
    return [(name, TEST_SETS[name]) for name in args.sets.split(",")]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated translator specs")
    parser.add_argument("--n", type=int, default=DEFAULT_N, help="first N sentences of each test set")
    parser.add_argument("--sets", default="wmt18,wmt19", help=f"comma-separated, of {', '.join(TEST_SETS)}")
    parser.add_argument("--csv", default=None, help="one CSV zh,en with a header row instead of --sets")
    parser.add_argument("--engines", default="default", help=f"comma-separated, of {', '.join(ENGINES)} "
                        "(each a separate run; all but default need a registry GGUF model)")
    parser.add_argument("--engine", default="default", choices=ENGINES, help=argparse.SUPPRESS)  # the child's
    parser.add_argument("--batch-size", type=int, default=None, help="default: the translator's own")
    parser.add_argument("--quantization", choices=("int8", "float32"), default=None,
                        help="CTranslate2 weights (default: the translator's own, int8)")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default=None,
                        help="LLM weights (default: the translator's own)")
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
    unknown = [s for s in args.sets.split(",") if s not in TEST_SETS]
    if unknown:
        parser.error(f"unknown test set(s) {', '.join(unknown)}; choose from {', '.join(TEST_SETS)}")
    unknown = [e for e in args.engines.split(",") if e not in ENGINES]
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(unknown)}; choose from {', '.join(ENGINES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.child, args), ensure_ascii=False))
        return 0
    missing = [str(path) for _, path in test_sets(args) if not path.is_file()]
    if missing:
        print(f"skipped: the test set(s) {', '.join(missing)} are absent (they come with ../shared next to the project)")
        return 0
    passthrough = [a for a in (argv if argv is not None else sys.argv[1:])]
    results = []
    for spec in [m.strip() for m in args.models.split(",") if m.strip()]:
        for engine in args.engines.split(","):
            command = [sys.executable, str(Path(__file__).resolve()), *_without_models(passthrough),
                       "--engine", engine, "--child", spec]
            child = subprocess.run(command, stdout=subprocess.PIPE, text=True)
            lines = child.stdout.strip().splitlines()
            try:
                result = json.loads(lines[-1])
            except (IndexError, ValueError):
                result = {"model": f"{spec} [{engine}]", "error": f"the benchmark process failed (exit {child.returncode})"}
            results.append(result)
            print(format_result(result), flush=True)
    if args.json:
        meta = {"test_sets": [str(p) for _, p in test_sets(args)], "n": args.n,
                "command": " ".join([Path(sys.argv[0]).name, *passthrough])}
        Path(args.json).write_text(json.dumps({**meta, "results": results}, indent=1, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    return 1 if any("error" in r for r in results) else 0


def _without_models(argv: list[str]) -> list[str]:
    """The parent's options for a child: everything but --models, --engines and --json."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--models", "--engines", "--json"):
            skip = True
            continue
        if arg.startswith(("--models=", "--engines=", "--json=")):
            continue
        out.append(arg)
    return out


if __name__ == "__main__":
    sys.exit(main())
