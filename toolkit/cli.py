"""The ``bitext`` command line: a thin layer over the library.

Heavy modules (numpy models, torch) are imported inside the commands, so
``bitext --help`` stays instant. User mistakes surface as one ``Error:`` line
and exit code 1, never as a traceback.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path
from typing import Optional

import typer

from toolkit.align.embed import DEFAULT_EMBEDDER, EMBEDDERS
from toolkit.core.config import AlignConfig
from toolkit.core.errors import ToolkitError
from toolkit.formats.writers import TMX_ONE_SIDED
from toolkit.jobs import OUTPUT_ROOT
from toolkit.pipeline import EXACT_SPAN_LIMIT, SPAN_EMBEDDINGS, ZH_SCRIPTS
from toolkit.score.metrics import DEFAULT_MT as SCORE_MT

app = typer.Typer(
    name="bitext",
    help="Align Chinese compiled translations with their English originals (sentence level, offline).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: rich markup would eat the "[default: ...]" notes of the option help texts.
    rich_markup_mode=None,
)
_DEFAULT = AlignConfig()
_FORCE_HELP = ("Replace a result folder that holds a reviewed alignment (a review journal) or a published edition; "
               "its files and journal are kept in OUT/NAME.superseded-TIME/. Also aligns sides far out of proportion.")
_EMBEDDER_HELP = "Sentence embedder: " + "; ".join(f"'{k}': {v.help}" for k, v in EMBEDDERS.items())
_TMX_ONE_SIDED_HELP = (f"TMX units without a human text on both sides (1-0 / 0-1 beads, and Chinese whose only English is "
                       f"an unreviewed machine translation): {' or '.join(TMX_ONE_SIDED)} [default: {TMX_ONE_SIDED[0]}; "
                       "the JSONL keeps every bead].")
_TMX_SPLIT_HELP = ("TMX: cut an n-m bead into sub-units where its sentences pair up inside it (a monotone DP on the "
                   "aligner's embedding similarity; only where the evidence is clear).")
_SRX_HELP = ("TMX: cut the Chinese and English of each unit into the segments of this SRX 2.0 file's rules, and merge "
             "beads the rules keep in one segment, so a CAT tool's own segments find exact matches (e.g. examples/segment.srx).")


def _tmx_options(one_sided: Optional[str], split_beads: bool, srx: Optional[Path]):
    """The TmxOptions of the --tmx-one-sided, --tmx-split-beads and --srx options (an unusable SRX file fails here)."""
    from toolkit.formats.srx import read_srx
    from toolkit.formats.writers import TmxOptions

    if one_sided is not None and one_sided not in TMX_ONE_SIDED:
        raise ToolkitError(f"bad option: --tmx-one-sided {one_sided!r}", f"choose {' or '.join(TMX_ONE_SIDED)}")
    return TmxOptions(one_sided=one_sided or TMX_ONE_SIDED[0], split_beads=split_beads,
                      srx=read_srx(srx) if srx is not None else None)


def _fail(error: ToolkitError) -> None:
    typer.echo(f"Error: {error.message}" + (f" — {error.hint}" if error.hint else ""), err=True)
    raise typer.Exit(1)


class _Bar:
    """tqdm progress bars on stderr when it is a terminal, or nothing with --quiet."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.bar = None

    def start(self, label: str, total: int, unit: str = "sent") -> None:
        if self.quiet:
            return
        from tqdm import tqdm

        # Only on a terminal: redirected to a log file, a bar is a stream of carriage returns.
        self.bar = tqdm(total=total, desc=label, unit=unit, file=sys.stderr, leave=False,
                        disable=not sys.stderr.isatty())

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# Options that align and corpus share (one declaration each).
_PRESEGMENTED = typer.Option(False, "--presegmented", help="Both files have one sentence per line: take them as is.")
_ZH_SCRIPT = typer.Option("as-is", "--zh-script", help=f"Chinese script of the output: {', '.join(ZH_SCRIPTS)}.")
_EN_COMMENT = typer.Option(None, "--en-comment", help="Drop leading English lines starting with this prefix (e.g. '#').")
_EMBEDDER = typer.Option(DEFAULT_EMBEDDER, "--embedder", help=_EMBEDDER_HELP)
_SPAN_EMBEDDING = typer.Option(
    "auto", "--span-embedding",
    help=f"How multi-sentence spans are embedded: {', '.join(SPAN_EMBEDDINGS)}. 'exact' embeds each span's text "
    f"(more accurate, ~15x slower), 'sum' adds sentence vectors, 'auto' is exact up to {EXACT_SPAN_LIMIT} sentences.",
)
_NO_LEXICAL = typer.Option(False, "--no-lexical", help="Do not use the CC-CEDICT / number / name evidence.")
_ALIGN_HEADINGS = typer.Option(False, "--align-headings", help="Treat headings and notes as sentences (default: they pair only 1-1 with what translates them, else stay unaligned).")
_ALIGN_PREAMBLE = typer.Option(False, "--align-preamble", help="In an interview, also align the text before the first speaker turn (default: left unaligned as the editor's preamble).")
_MAX_ZH = typer.Option(_DEFAULT.max_zh, "--max-zh", help="Most Chinese sentences in one bead.")
_MAX_EN = typer.Option(_DEFAULT.max_en, "--max-en", help="Most English sentences in one bead.")
_MAX_TOTAL = typer.Option(_DEFAULT.max_total, "--max-total", help="Most sentences in one bead, both sides.")
_THRESHOLD = typer.Option(_DEFAULT.threshold, "--threshold", help="Similarity a pair must beat to be aligned rather than left as an omission.")
_EMBEDDING_CACHE = typer.Option(None, "--embedding-cache", help="Embedding cache (SQLite): what was embedded once is never embedded again [default: $XDG_CACHE_HOME/bitext/embeddings.sqlite].")
_NO_EMBEDDING_CACHE = typer.Option(False, "--no-embedding-cache", help="Embed everything afresh and keep nothing.")
_MT_CACHE = typer.Option(None, "--mt-cache", help="Translation cache (SQLite) [default: $XDG_CACHE_HOME/bitext/translations.sqlite].")
_TMX_ONE_SIDED = typer.Option(None, "--tmx-one-sided", metavar="|".join(TMX_ONE_SIDED), help=_TMX_ONE_SIDED_HELP)
_TMX_SPLIT_BEADS = typer.Option(False, "--tmx-split-beads", help=_TMX_SPLIT_HELP)
_SRX = typer.Option(None, "--srx", metavar="FILE", help=_SRX_HELP)
_GLOSSARY_HELP = ("Glossary of fixed renderings, a CSV (zh,en) / TSV (zh<TAB>en) / TBX file: the terms a sentence "
                  "contains are given to the model and checked in its output (flag 'name').")
_GLOSSARY = typer.Option(None, "--glossary", help=_GLOSSARY_HELP)
_MT_CONTEXT = typer.Option(
    True, "--mt-context/--no-mt-context",
    help="Translate each gap with its nearest aligned pairs as examples and the names mined from them "
    "(a document with no English: with the sentences before it and their translations).")


@app.command()
def align(
    zh_file: Path = typer.Argument(..., metavar="ZH_FILE", help="The Chinese text (UTF-8, GB18030/GBK or Big5; simplified or traditional)."),
    en_file: Path = typer.Argument(..., metavar="EN_FILE", help="The English original (an article or an ASR transcript)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help=f"Output folder [default: {OUTPUT_ROOT}/NAME/]."),
    name: Optional[str] = typer.Option(None, "--name", help="Base name of the output files [default: the Chinese file's name without .zh]."),
    force: bool = typer.Option(False, "--force", help=_FORCE_HELP),
    presegmented: bool = _PRESEGMENTED,
    zh_script: str = _ZH_SCRIPT,
    en_comment: Optional[str] = _EN_COMMENT,
    embedder: str = _EMBEDDER,
    span_embedding: str = _SPAN_EMBEDDING,
    no_lexical: bool = _NO_LEXICAL,
    align_headings: bool = _ALIGN_HEADINGS,
    align_preamble: bool = _ALIGN_PREAMBLE,
    max_zh: int = _MAX_ZH,
    max_en: int = _MAX_EN,
    max_total: int = _MAX_TOTAL,
    threshold: float = _THRESHOLD,
    embedding_cache: Optional[Path] = _EMBEDDING_CACHE,
    no_embedding_cache: bool = _NO_EMBEDDING_CACHE,
    mt: Optional[str] = typer.Option(None, "--mt", help="Machine-translate the Chinese segments left without English (1-0 beads) with this translator: a registry name (qwen1.5b, qwen0.5b), seq2seq[:MODEL], llm:MODEL, a path, or none [default: no translation]."),
    mt_cache: Optional[Path] = _MT_CACHE,
    glossary: Optional[Path] = _GLOSSARY,
    mt_context: bool = _MT_CONTEXT,
    score_pairs: Optional[bool] = typer.Option(
        None, "--score/--no-score",
        help=f"Machine-translate the Chinese of every aligned pair and write its sentence BLEU/chrF into the JSONL and TMX, "
        f"plus NAME.score.json [default: on with --mt (same translator), or when {SCORE_MT} is installed; see bitext score].",
    ),
    tmx_one_sided: Optional[str] = _TMX_ONE_SIDED,
    tmx_split_beads: bool = _TMX_SPLIT_BEADS,
    srx: Optional[Path] = _SRX,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or summary."),
) -> None:
    """Align a Chinese text with its English original and write .align, .jsonl, .tmx, sentences and a signature.

    Everything that can be checked is checked before the work (options, models, inputs, the output folder);
    the files are written as one set, under a lock on the folder (see toolkit.core.resultset).
    """
    from toolkit.jobs import AlignJob, load_models, run_alignment
    from toolkit.pipeline import Progress

    bar = _Bar(quiet)
    command = shlex.join(["bitext", *sys.argv[1:]])
    try:
        try:
            options = _align_options(embedder, max_zh, max_en, max_total, threshold, no_lexical, align_headings,
                                     align_preamble, presegmented, zh_script, span_embedding)
            tmx = _tmx_options(tmx_one_sided, tmx_split_beads, srx)
            job = AlignJob(zh=zh_file, en=en_file, output=output, name=name, options=options, en_comment=en_comment,
                           mt=mt, mt_cache=mt_cache, glossary=glossary, mt_context=mt_context,
                           score=score_pairs, embedding_cache=embedding_cache,
                           use_embedding_cache=not no_embedding_cache, force=force, command=command, tmx=tmx)
        except ValueError as exc:
            raise ToolkitError(f"bad option: {exc}", "see bitext align --help") from exc
        # An unknown embedder, a missing model or an unusable cache fails before the work.
        models = load_models(embedder, mt, embedding_cache, not no_embedding_cache)
        result = run_alignment(job, models, Progress(bar.start, bar.advance, bar.finish))
    except ToolkitError as error:
        bar.finish()  # clear a progress bar the error interrupted, so the message stands alone
        _fail(error)
    if not quiet:
        _report_job(result)


def _align_options(embedder, max_zh, max_en, max_total, threshold, no_lexical, align_headings, align_preamble,
                   presegmented, zh_script, span_embedding):
    """The AlignOptions of the shared align options (ValueError for a bad one)."""
    from dataclasses import replace

    from toolkit.pipeline import AlignOptions

    config = replace(_DEFAULT, max_zh=max_zh, max_en=max_en, max_total=max_total, threshold=threshold)
    return AlignOptions(embedder=embedder, config=config, lexical=not no_lexical, align_headings=align_headings,
                        align_preamble=align_preamble, presegmented=presegmented, zh_script=zh_script,
                        span_embedding=span_embedding)


def _report_job(result) -> None:
    """The summary lines of an align or translate run, on stderr."""
    from collections import Counter

    alignment, report = result.alignment, result.report
    if result.job.en is None:
        translated = sum(1 for b in alignment.beads if b.origin == "mt")
        if translated:
            flagged = sum(1 for b in alignment.beads if b.mt_flags)
            typer.echo(f"{translated} of {len(alignment.zh)} segments translated ({flagged} flagged by the output checks)",
                       err=True)
        else:
            typer.echo(f"{len(alignment.zh)} segments written untranslated"
                       + (" (--mt none)" if result.job.mt == "none" else ""), err=True)
    else:
        kinds = Counter(b.kind for b in alignment.beads)
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))
        typer.echo(f"{len(alignment.zh)} zh / {len(alignment.en)} en segments -> {len(alignment.beads)} beads ({summary})",
                   err=True)
        if report is not None and report["corpus"]:
            corpus = report["corpus"]
            typer.echo(f"scored {report['scored']} pairs with {result.scorer}: BLEU {corpus['bleu']['score']:.2f}, "
                       f"chrF {corpus['chrf']['score']:.2f} (details in {result.paths[-1].name})", err=True)
        elif result.not_scored == "mt none":
            typer.echo("not scored (--mt none)", err=True)
        elif result.not_scored == "no-score":
            typer.echo("not scored (--no-score)", err=True)
        elif result.not_scored == "no model":
            typer.echo(f"not scored: no MT model (give --mt, or install {SCORE_MT}: python scripts/fetch_models.py {SCORE_MT})",
                       err=True)
    if result.aside:
        typer.echo(f"the previous files and their review journal are kept in {result.aside}/", err=True)
    typer.echo(f"wrote {len(result.paths)} files to {result.out_dir}/", err=True)


def _read_glossary(path: Optional[Path]):
    if path is None:
        return None
    from toolkit.translate.glossary import read_glossary

    return read_glossary(path)


@app.command()
def translate(
    zh_file: Path = typer.Argument(..., metavar="ZH_FILE", help="A Chinese text whose English original is not available."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help=f"Output folder [default: {OUTPUT_ROOT}/NAME/]."),
    name: Optional[str] = typer.Option(None, "--name", help="Base name of the output files [default: the file's name without .zh]."),
    force: bool = typer.Option(False, "--force", help=_FORCE_HELP),
    mt: str = typer.Option("qwen1.5b", "--mt", help="Translator: a registry name (qwen1.5b, qwen0.5b), seq2seq[:MODEL], llm:MODEL or a path."),
    mt_cache: Optional[Path] = typer.Option(None, "--mt-cache", help="Translation cache (SQLite) [default: $XDG_CACHE_HOME/bitext/translations.sqlite]."),
    glossary: Optional[Path] = _GLOSSARY,
    mt_context: bool = _MT_CONTEXT,
    presegmented: bool = typer.Option(False, "--presegmented", help="One sentence per line: take the lines as they are."),
    zh_script: str = typer.Option("as-is", "--zh-script", help=f"Chinese script of the output: {', '.join(ZH_SCRIPTS)}."),
    tmx_one_sided: Optional[str] = typer.Option(None, "--tmx-one-sided", metavar="|".join(TMX_ONE_SIDED), help=_TMX_ONE_SIDED_HELP + " With drop, the TMX of a translation has no units: keep writes them, marked x-origin mt."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
) -> None:
    """Machine-translate a whole Chinese document, segment by segment, marked as MT (same outputs as align)."""
    from toolkit.jobs import AlignJob, load_models, run_alignment
    from toolkit.pipeline import AlignOptions, Progress

    bar = _Bar(quiet)
    command = shlex.join(["bitext", *sys.argv[1:]])
    try:
        if zh_script not in ZH_SCRIPTS:
            raise ToolkitError(f"bad option: --zh-script {zh_script!r}", f"choose one of {', '.join(ZH_SCRIPTS)}")
        job = AlignJob(zh=zh_file, en=None, output=output, name=name, mt=mt, mt_cache=mt_cache, glossary=glossary,
                       mt_context=mt_context, force=force,
                       options=AlignOptions(presegmented=presegmented, zh_script=zh_script), command=command,
                       tmx=_tmx_options(tmx_one_sided, False, None))
        models = load_models(embedder=None, mt=mt)  # a missing model fails now
        result = run_alignment(job, models, Progress(bar.start, bar.advance, bar.finish))
    except ToolkitError as error:
        bar.finish()
        _fail(error)
    if not quiet:
        _report_job(result)


@app.command("eval")
def evaluate(
    gold: Path = typer.Argument(..., metavar="GOLD", help="Gold .align file, or a folder of them."),
    pred: Path = typer.Argument(..., metavar="PRED", help="Predicted .align file, or a folder (matched by file name)."),
) -> None:
    """Strict and lax precision / recall / F1 of predicted beads against gold (Vecalign's definitions)."""
    from toolkit.align.evaluate import score_paths

    try:
        scores = score_paths(gold, pred)
    except ToolkitError as error:
        _fail(error)
    typer.echo(scores.format())


def _print_version(value: bool) -> None:
    # An option callback runs while parsing, so --version works without a command.
    if value:
        from toolkit.core.version import __version__

        typer.echo(f"bitext {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True,
                                       callback=_print_version)) -> None:
    pass


# ---------------------------------------------------------------------------
# scoring: imported here, not at the top, so the commands above stay untouched;
# toolkit.score.metrics imports sacrebleu lazily, so this costs nothing at start-up.
from toolkit.score.metrics import DEFAULT_MT, DEFAULT_TARGET_LANG, LOWEST_PAIRS, TARGET_LANGS  # noqa: E402


@app.command()
def bleu(
    hyp: Path = typer.Argument(..., metavar="HYP", help="Machine translation, one segment per line (UTF-8)."),
    ref: Path = typer.Argument(..., metavar="REF", help="Reference translation, one segment per line, as many lines as HYP."),
    lang: str = typer.Option(DEFAULT_TARGET_LANG, "--lang", help=f"Language of HYP and REF: {', '.join(TARGET_LANGS)} ('zh' uses sacrebleu's zh tokenizer)."),
    sentence: bool = typer.Option(False, "--sentence", help="Also print each line's BLEU and chrF as TSV."),
) -> None:
    """Corpus BLEU, chrF and TER of HYP against REF with sacrebleu's signatures."""
    from toolkit.core.errors import InputError
    from toolkit.score.metrics import corpus_scores, read_segments, sentence_scores

    try:
        hyps, refs = read_segments(hyp), read_segments(ref)
        if len(hyps) != len(refs):
            raise InputError(f"{hyp} has {len(hyps)} lines but {ref} has {len(refs)}",
                             "give one reference line per translated line")
        corpus = corpus_scores(hyps, refs, lang)
        pairs = sentence_scores(hyps, refs, lang) if sentence else []
    except ToolkitError as error:
        _fail(error)
    typer.echo(corpus.format())
    if sentence:
        typer.echo("\nline\tBLEU\tchrF")
        for number, pair in enumerate(pairs, start=1):
            typer.echo(f"{number}\t{pair.bleu:.2f}\t{pair.chrf:.2f}")


@app.command()
def score(
    out_dir: Path = typer.Argument(..., metavar="OUT_DIR", help="Output folder of `bitext align` (holding one NAME.jsonl)."),
    mt: str = typer.Option(DEFAULT_MT, "--mt", help="Translator for the Chinese side: a toolkit.translate.backends spec (registry name, seq2seq[:MODEL], llm:MODEL, a path)."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Translation cache (SQLite) [default: $XDG_CACHE_HOME/bitext/translations.sqlite]."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor fill the translation cache."),
    glossary: Optional[Path] = _GLOSSARY,
    lowest: int = typer.Option(LOWEST_PAIRS, "--lowest", help="How many of the lowest-scoring pairs to list."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar, and no report on the terminal (it is still written)."),
) -> None:
    """Machine-translate the Chinese side and score it against the human English (BLEU, chrF, TER).

    Adds sentence BLEU and chrF to each record of NAME.jsonl and each unit of NAME.tmx (props x-bleu, x-chrf),
    and writes the corpus report to NAME.score.json.
    """
    from toolkit.core.resultset import FolderLock, staged_set, verify
    from toolkit.formats.writers import read_jsonl, set_members, write_records
    from toolkit.pipeline import Progress, score_records
    from toolkit.score.metrics import find_jsonl, format_report, report_path, write_report

    bar = _Bar(quiet)
    command = shlex.join(["bitext", *sys.argv[1:]])
    try:
        translator = _translator_for(mt)  # a missing model fails now, not after reading
        terms = _read_glossary(glossary)
        jsonl = find_jsonl(out_dir)
        folder, name = jsonl.parent, jsonl.name[: -len(".jsonl")]
        with FolderLock(folder, command):
            verify(folder, name, set_members(name))
            records = read_jsonl(jsonl)
            scored, report = score_records(records, mt, cache, not no_cache,
                                           Progress(bar.start, bar.advance, bar.finish), lowest=lowest,
                                           translator=translator, glossary=terms)
            report["command"] = command
            # The scored JSONL, TMX and report replace the old ones as one set with the files they go with.
            with staged_set(folder, name, command, keep_others=True, members=set_members(name)) as staging:
                write_records(staging / jsonl.name, scored)
                _rewrite_tmx(jsonl, scored, staging)
                write_report(staging / report_path(jsonl).name, report)
    except ToolkitError as error:
        bar.finish()
        _fail(error)
    if not quiet:
        typer.echo(format_report(report))


def _is_corpus(out_dirs: list[Path]) -> bool:
    from toolkit.corpus.runner import corpus_folders

    return any(corpus_folders(folder) is not None for folder in out_dirs)


def _expand_corpus(out_dirs: list[Path]) -> list[Path]:
    """Each corpus run's folder replaced by its finished documents' folders."""
    from toolkit.corpus.runner import corpus_folders

    expanded = []
    for folder in out_dirs:
        documents = corpus_folders(folder)
        expanded += documents if documents is not None else [folder]
    return expanded


def _rewrite_tmx(jsonl: Path, records: list[dict], into: Optional[Path] = None) -> None:
    """Rewrite the NAME.tmx next to ``jsonl`` from ``records`` (scores added), if the folder has one;
    into the folder ``into`` if given."""
    from toolkit.export.exports import zh_script
    from toolkit.formats.writers import TmxOptions, read_signature, script_language_tag, write_tmx_records

    tmx = jsonl.with_suffix(".tmx")
    signature_path = jsonl.with_name(jsonl.stem + ".signature.json")
    if not tmx.is_file():
        return
    signature = read_signature(signature_path) if signature_path.is_file() else {}
    write_tmx_records(into / tmx.name if into else tmx, records, signature, script_language_tag(zh_script(signature)),
                      TmxOptions.recorded(signature))


# ---------------------------------------------------------------------------
# export: defaults come from toolkit.export.exports and toolkit.export.edition (light modules).
from toolkit.export.edition import LAYOUTS  # noqa: E402
from toolkit.export.exports import EDITION_FORMATS, FORMATS, TRAINING_FORMATS, TrainingFilters  # noqa: E402
from toolkit.corpus.runner import SHARD_ROWS  # noqa: E402

_FILTERS = TrainingFilters()


@app.command()
def export(
    out_dirs: list[Path] = typer.Argument(..., metavar="OUT_DIR...", help="Output folder(s) of `bitext align`, or a .tmx memory back from a CAT tool; several only for jsonl/tsv."),
    to: str = typer.Option(..., "--to", help=f"Format: {', '.join(FORMATS)}."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Output file [default: OUT_DIR/export/NAME.train.jsonl, .tsv, .tmx, .html, .md, .epub or .docx]."),
    layout: str = typer.Option(LAYOUTS[0], "--layout", help=f"html/md: {', '.join(LAYOUTS)}."),
    title: Optional[str] = typer.Option(None, "--title", help="Editions: the title [default: the document's own: its 原文标题/original title line, else its first line if it reads as a title, else its first heading]."),
    subtitle: Optional[str] = typer.Option(None, "--subtitle", help="Editions: a subtitle."),
    author: Optional[str] = typer.Option(None, "--author", help="Editions: the author (or speakers) of the original."),
    translator: Optional[str] = typer.Option(None, "--translator", help="Editions: the translator or compiler of the Chinese."),
    source_url: Optional[str] = typer.Option(None, "--source-url", help="Editions: where the original is (a video address links the English start times into it)."),
    date: Optional[str] = typer.Option(None, "--date", help="Editions: the original's date, as you want it printed."),
    min_score: float = typer.Option(_FILTERS.min_score, "--min-score", help="jsonl/tsv: drop aligned pairs scoring below this."),
    max_length_ratio: float = typer.Option(_FILTERS.max_length_ratio, "--max-length-ratio", help="jsonl/tsv: drop pairs whose lengths disagree more than this (1 = typical)."),
    keep_mt: bool = typer.Option(not _FILTERS.drop_mt, "--keep-mt", help="jsonl/tsv: keep machine-translated pairs (synthetic English)."),
    keep_one_sided: bool = typer.Option(not _FILTERS.drop_one_sided, "--keep-one-sided", help="jsonl/tsv: keep 1-0 / 0-1 beads."),
    no_dedupe: bool = typer.Option(not _FILTERS.dedupe, "--no-dedupe", help="jsonl/tsv: keep repeated pairs."),
    split: bool = typer.Option(False, "--split", help="jsonl/tsv: write train/dev/test files, whole documents split by a hash of their names."),
    tmx_one_sided: Optional[str] = typer.Option(None, "--tmx-one-sided", metavar="|".join(TMX_ONE_SIDED), help="tmx: " + _TMX_ONE_SIDED_HELP),
    tmx_split_beads: bool = _TMX_SPLIT_BEADS,
    srx: Optional[Path] = _SRX,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No filter summary."),
) -> None:
    """Export aligned results: TMX, training JSONL (Hugging Face translation shape), TSV, or a bilingual edition (HTML, Markdown, EPUB, DOCX).

    Every export carries the signature of its run: in the TMX header, FILE.signature.json next to JSONL/TSV; an edition's colophon names the tool, version, date and the inputs' names and sha256.
    """
    from toolkit.export.book import FrontMatter
    from toolkit.export.exports import (FilterSummary, default_output, export_signature, load_result, split_by_document, split_path,
                         training_records, write_result_tmx, write_training_jsonl, write_tsv)

    command = shlex.join(["bitext", *sys.argv[1:]])
    try:
        if to not in FORMATS:
            raise ToolkitError(f"bad option: --to {to!r}", f"choose one of {', '.join(FORMATS)}")
        if layout not in LAYOUTS:
            raise ToolkitError(f"bad option: --layout {layout!r}", f"choose one of {', '.join(LAYOUTS)}")
        if to in TRAINING_FORMATS and output is None and _is_corpus(out_dirs):
            output = out_dirs[0] / "export" / f"corpus.train.{to}"
        if to not in TRAINING_FORMATS and (len(out_dirs) > 1 or split or _is_corpus(out_dirs)):
            raise ToolkitError(f"--to {to} takes one folder and no --split", "several folders and --split are for jsonl and tsv")
        if len(out_dirs) > 1 and output is None:
            raise ToolkitError("several folders need an output file", "give one with -o FILE")
        if to != "tmx" and (tmx_one_sided is not None or tmx_split_beads or srx is not None):
            raise ToolkitError(f"--tmx-one-sided, --tmx-split-beads and --srx shape a TMX, not --to {to}",
                               "drop them, or export with --to tmx")
        tmx = _tmx_options(tmx_one_sided, tmx_split_beads, srx)
        try:
            front = FrontMatter(title=title, subtitle=subtitle, author=author, translator=translator,
                                source_url=source_url, date=date)
        except ValueError as exc:
            raise ToolkitError(f"bad option: {exc}", "give a non-empty text; --source-url takes an http(s) address") from exc
        if to not in EDITION_FORMATS and front != FrontMatter():
            raise ToolkitError(f"--to {to} has no front matter", f"--title, --author, ... are for {', '.join(EDITION_FORMATS)}")
        try:
            filters = TrainingFilters(min_score=min_score, max_length_ratio=max_length_ratio, drop_mt=not keep_mt,
                                      drop_one_sided=not keep_one_sided, dedupe=not no_dedupe)
        except ValueError as exc:
            raise ToolkitError(f"bad option: {exc}", "see bitext export --help") from exc
        folders = _expand_corpus(out_dirs)
        for folder in folders:
            _replay_unexported_review(folder, command, quiet)
        results = [load_result(folder) for folder in folders]
        names = [r.name for r in results]
        if len(set(names)) != len(names):
            raise ToolkitError("two folders hold results of the same name", "documents are told apart by name; rename one")
        target = output or default_output(results[0], to)
        sources = {r.name: r.signature for r in results}
        written: list[Path] = []
        summary = tmx_counts = None
        try:
            if to in TRAINING_FORMATS:
                kept, summaries = {}, []
                for result in results:
                    kept[result.name], doc_summary = training_records(result.records, filters)
                    summaries.append(doc_summary)
                summary = FilterSummary.combine(summaries)
                write = write_training_jsonl if to == "jsonl" else write_tsv
                groups = split_by_document(kept) if split else {"": kept}
                for split_name, docs in groups.items():
                    path = split_path(target, split_name) if split_name else target
                    signature = export_signature({n: sources[n] for n in docs}, to, filters, summary, command,
                                                 split=split_name or None, documents=sorted(docs))
                    written += [path, write(path, docs, signature)]
            else:
                result = results[0]
                signature = export_signature(sources, to, command=command)
                if to == "tmx":
                    tmx_counts = write_result_tmx(target, result, signature, tmx, _splitter(tmx))
                else:
                    _write_edition(result, to, target, layout, signature, front)
                written.append(target)
        except OSError as exc:
            raise ToolkitError(f"cannot write {target}: {exc.strerror or exc}", "choose another file with -o") from exc
    except ToolkitError as error:
        _fail(error)
    if not quiet:
        if summary is not None:
            typer.echo(summary.format(), err=True)
        if tmx_counts is not None:
            typer.echo(_format_tmx_counts(tmx_counts), err=True)
        typer.echo("wrote " + ", ".join(str(p) for p in written), err=True)


def _splitter(tmx):
    """The bead splitter --tmx-split-beads needs (the default embedder behind the cache), or None."""
    if not tmx.split_beads:
        return None
    from toolkit.align.subunits import BeadSplitter
    from toolkit.pipeline import cached_embedder

    return BeadSplitter(cached_embedder())


def _format_tmx_counts(counts: dict) -> str:
    """``"459 beads -> 259 units (36 beads merged by SRX, 0 split; left out: 176 one-sided, 0 MT)"``."""
    return (f"{counts['beads']} beads -> {counts['units']} units ({counts['merged']} beads merged by SRX, "
            f"{counts['split']} split; left out: {counts['one_sided']} one-sided, {counts['mt']} machine-translated)")


# What a review's export refreshes: NAME.html / .md / .epub / .docx in the folder or its export/.
REFRESHED_EDITIONS = ("html", "md", "epub", "docx")


def _write_edition(result, to: str, target: Path, layout: str, signature: dict, front=None) -> None:
    """Write the bilingual edition of ``result`` as ``to`` (html, md, epub or docx) at ``target``."""
    from toolkit.core.atomic import atomic_write_bytes, atomic_write_text
    from toolkit.export.book import FrontMatter

    front = front or FrontMatter()
    if to in ("html", "md"):
        from toolkit.export.edition import render_html, render_markdown

        render = render_html if to == "html" else render_markdown
        atomic_write_text(target, render(result.records, signature, layout=layout, title=result.name, front=front))
        return
    if to == "epub":
        from toolkit.export.epub import render_epub as render_book
    else:
        from toolkit.export.docx_edition import render_docx as render_book
    atomic_write_bytes(target, render_book(result.records, signature, title=result.name, front=front))


def _edition_layout(path: Path) -> str:
    """The layout an existing edition file was written with (side by side unless it says otherwise)."""
    if path.suffix in (".epub", ".docx"):
        return LAYOUTS[0]
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        found = re.search(r'data-layout="([a-z-]+)"', text)
        return found.group(1) if found and found.group(1) in LAYOUTS else LAYOUTS[0]
    return LAYOUTS[0] if re.search(r"^\|", text, re.MULTILINE) else "interleaved"  # Markdown: a table or not


def _refresh_editions(folder: Path, name: str, command: str) -> list[Path]:
    """Write again the editions of ``folder`` (NAME.html / NAME.md in it or in its export/) from its files,
    so a review's export never leaves an edition behind; returns those written."""
    from toolkit.export.exports import export_signature, load_result

    found = [folder / sub / f"{name}.{fmt}" for sub in ("", "export") for fmt in REFRESHED_EDITIONS]
    found = [path for path in found if path.is_file()]
    if not found:
        return []
    result = load_result(folder)
    for path in found:
        fmt = path.suffix[1:]
        try:
            _write_edition(result, fmt, path, _edition_layout(path),
                           export_signature({result.name: result.signature}, fmt, command=command))
        except OSError as exc:
            raise ToolkitError(f"cannot write {path}: {exc.strerror or exc}",
                               "check the folder's permissions; the review itself is saved") from exc
    return found


def _replay_unexported_review(folder: Path, command: str, quiet: bool) -> None:
    """If ``folder``'s review journal holds changes its files do not show yet, export them first (and its
    editions), so an export never reads a stale folder."""
    from toolkit.review.session import ReviewSession, unexported_review

    if folder.suffix.lower() == ".tmx" or not folder.is_dir():
        return
    names = [p.name[: -len(".jsonl")] for p in folder.glob("*.jsonl")]
    if len(names) != 1:
        return  # load_result says what is wrong
    reason = unexported_review(folder, names[0])
    if reason is None:
        return
    session = ReviewSession.open(folder, name=names[0])
    written = session.export() + _refresh_editions(folder, names[0], command)
    if not quiet:
        typer.echo(f"{reason}: replayed the review into {folder} first (rewrote {len(written)} files)", err=True)


# ---------------------------------------------------------------------------
# corpus: many document pairs (toolkit.corpus); ray is imported only by --engine ray.
from toolkit.corpus.engines import ENGINES  # noqa: E402


@app.command()
def corpus(
    manifest: str = typer.Argument(..., metavar="MANIFEST", help="JSONL, CSV or TSV of doc_id, zh, en (en may be empty: translated whole with --mt); paths local (relative to the manifest) or fsspec URLs (s3://... with s3fs)."),
    output: Path = typer.Option(..., "-o", "--output", help="Output folder: docs/DOC_ID/ per document, corpus/ (training shards, TMX), run.json, run.log, signature.json. Rerun into it to resume."),
    engine: str = typer.Option("local", "--engine", help=f"Scheduler: {', '.join(ENGINES)} ('ray' needs pip install 'bitext-toolkit[ray]')."),
    address: Optional[str] = typer.Option(None, "--address", help="ray: address of a running cluster [default: start a local one]."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Worker processes (local) or CPU actors (ray) [default: one per core]."),
    mt_workers: Optional[int] = typer.Option(None, "--mt-workers", help="ray: translator actors [default: half the workers]."),
    mt_gpus: float = typer.Option(0.0, "--mt-gpus", help="ray: GPUs per translator actor (0: CPU)."),
    mt: Optional[str] = typer.Option(None, "--mt", help="Translator for the Chinese without English (1-0 beads, and documents without English) [default: none]."),
    mt_cache: Optional[Path] = _MT_CACHE,
    score_pairs: bool = typer.Option(False, "--score/--no-score", help="Machine-translate every aligned pair's Chinese and score it (BLEU/chrF per document and for the corpus); needs --mt."),
    force: bool = typer.Option(False, "--force", help="Replace documents that hold a review, and align sides far out of proportion."),
    presegmented: bool = _PRESEGMENTED,
    zh_script: str = _ZH_SCRIPT,
    en_comment: Optional[str] = _EN_COMMENT,
    embedder: str = _EMBEDDER,
    span_embedding: str = _SPAN_EMBEDDING,
    no_lexical: bool = _NO_LEXICAL,
    align_headings: bool = _ALIGN_HEADINGS,
    align_preamble: bool = _ALIGN_PREAMBLE,
    max_zh: int = _MAX_ZH,
    max_en: int = _MAX_EN,
    max_total: int = _MAX_TOTAL,
    threshold: float = _THRESHOLD,
    embedding_cache: Optional[Path] = _EMBEDDING_CACHE,
    no_embedding_cache: bool = _NO_EMBEDDING_CACHE,
    min_score: float = typer.Option(_FILTERS.min_score, "--min-score", help="Training shards: drop aligned pairs scoring below this."),
    max_length_ratio: float = typer.Option(_FILTERS.max_length_ratio, "--max-length-ratio", help="Training shards: drop pairs whose lengths disagree more than this."),
    keep_mt: bool = typer.Option(not _FILTERS.drop_mt, "--keep-mt", help="Training shards: keep machine-translated pairs."),
    no_dedupe: bool = typer.Option(not _FILTERS.dedupe, "--no-dedupe", help="Training shards: keep pairs repeated within and across documents."),
    shard_rows: int = typer.Option(SHARD_ROWS, "--shard-rows", help="Training rows per JSONL shard."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary (run.log still gets a line per document)."),
) -> None:
    """Align every document pair of a manifest, resumably, on this machine or a Ray cluster.

    Documents already done with the same inputs and options are skipped; one that fails becomes an error record
    (in run.json and run.log) and the run goes on, exiting 1 at the end if any failed. Export with
    bitext export OUT --to jsonl --split.
    """
    from toolkit.corpus.engines import EngineSettings
    from toolkit.corpus.runner import CorpusJob, run_corpus

    command = shlex.join(["bitext", *sys.argv[1:]])
    bar = _CorpusBar(quiet)
    try:
        try:
            options = _align_options(embedder, max_zh, max_en, max_total, threshold, no_lexical, align_headings,
                                     align_preamble, presegmented, zh_script, span_embedding)
            if score_pairs and not mt:
                raise ValueError("--score needs --mt (the translator that scores)")
            job = CorpusJob(manifest=manifest, output=output, options=options, en_comment=en_comment, mt=mt,
                            score=score_pairs, embedding_cache=embedding_cache,
                            use_embedding_cache=not no_embedding_cache, mt_cache=mt_cache, force=force,
                            engine=EngineSettings(engine, workers, address, mt_workers, mt_gpus),
                            filters=TrainingFilters(min_score=min_score, max_length_ratio=max_length_ratio,
                                                    drop_mt=not keep_mt, dedupe=not no_dedupe),
                            shard_rows=shard_rows, command=command)
        except ValueError as exc:
            raise ToolkitError(f"bad option: {exc}", "see bitext corpus --help") from exc
        result = run_corpus(job, bar.progress())
    except ToolkitError as error:
        bar.close()
        _fail(error)
    finally:
        bar.close()
    failed = result.failed
    if not quiet:
        typer.echo(f"{len(result.records)} documents: {result.count('done')} aligned, {result.count('skipped')} "
                   f"unchanged, {len(failed)} failed, in {result.seconds:.1f} s", err=True)
        for record in failed[:10]:
            typer.echo(f"  {record.doc_id}: {record.message}" + (f" — {record.hint}" if record.hint else ""), err=True)
        if len(failed) > 10:
            typer.echo(f"  ... and {len(failed) - 10} more (see {output / 'run.log'})", err=True)
        if result.scores:
            typer.echo(f"corpus BLEU {result.scores['bleu']['score']:.2f}, chrF {result.scores['chrf']['score']:.2f} "
                       f"over {result.scores['segments']} pairs", err=True)
        typer.echo(f"wrote {output}/ (run.json, corpus/)", err=True)
    if failed:
        raise typer.Exit(1)


class _CorpusBar:
    """One bar over a corpus run: documents done / failed, sentences/s, an ETA weighted by document size."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.bar = None
        self.done = self.failed = self.sentences = 0
        self.started = 0.0

    def progress(self):
        from toolkit.corpus.runner import CorpusProgress

        return CorpusProgress(start=self.start, done=self.advance)

    def start(self, documents: int, size: int, skipped: int) -> None:
        import time

        self.started = time.monotonic()
        if self.quiet:
            return
        from tqdm import tqdm

        # The bar counts input bytes, so the ETA weighs a long document as what it is.
        self.bar = tqdm(total=size, desc=f"{documents} documents ({skipped} unchanged)", unit="B", unit_scale=True,
                        file=sys.stderr, leave=False, disable=not sys.stderr.isatty())

    def advance(self, record) -> None:
        import time

        if record.status == "error":
            self.failed += 1
        else:
            self.done += 1
            self.sentences += sum(record.sentences.values())
        if self.bar is not None:
            rate = self.sentences / max(time.monotonic() - self.started, 1e-6)
            self.bar.set_postfix_str(f"done {self.done}, failed {self.failed}, {rate:.0f} sent/s", refresh=False)
            self.bar.update(record.size)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# ---------------------------------------------------------------------------
# review: the full-screen UI (toolkit.review.ui, Textual) or the line mode, both over toolkit.review.session.


@app.command()
def review(
    out_dir: Path = typer.Argument(..., metavar="OUT_DIR", help="Output folder of `bitext align`."),
    name: Optional[str] = typer.Option(None, "--name", help="Which alignment, if the folder holds several."),
    list_beads: bool = typer.Option(False, "--list", help="Print the beads as a table (after any changes)."),
    below: Optional[float] = typer.Option(None, "--below", help="--list: only pairs (beads with both sides) scoring below this."),
    one_sided: bool = typer.Option(False, "--one-sided", help="--list: only one-sided beads (1-0 / 0-1)."),
    mt_only: bool = typer.Option(False, "--mt-only", help="--list: only beads with machine-translated English."),
    unreviewed: bool = typer.Option(False, "--unreviewed", help="--list: only beads not reviewed yet."),
    search: Optional[str] = typer.Option(None, "--search", help="--list: only beads containing this text (either side)."),
    approve: Optional[list[str]] = typer.Option(None, "--approve", metavar="N|A-B", help="Approve beads N or A-B (repeatable)."),
    set_zh: Optional[tuple[int, str]] = typer.Option(None, "--set-zh", metavar="N TEXT", help="Replace the Chinese of bead N with TEXT (one sentence per line)."),
    set_en: Optional[tuple[int, str]] = typer.Option(None, "--set-en", metavar="N TEXT", help="Replace the English of bead N with TEXT; for a bead with no English original, its translation."),
    no_counterpart: Optional[list[int]] = typer.Option(None, "--no-counterpart", metavar="N", help="Confirm that one-sided bead N has no counterpart (repeatable)."),
    merge: Optional[int] = typer.Option(None, "--merge", metavar="N", help="Merge bead N with the next bead."),
    split: Optional[tuple[int, int, int]] = typer.Option(None, "--split", metavar="N ZH_AT EN_AT", help="Split bead N after ZH_AT Chinese and EN_AT English sentences."),
    move: Optional[tuple[int, str, str]] = typer.Option(None, "--move", metavar="N SIDE DIRECTION", help="Move a sentence of bead N across its boundary: N SIDE (zh/en) DIRECTION (prev: its first sentence; next: its last)."),
    undo: bool = typer.Option(False, "--undo", help="Undo the last change."),
    redo: bool = typer.Option(False, "--redo", help="Redo the last undone change."),
    retranslate: Optional[list[str]] = typer.Option(None, "--retranslate", metavar="N|A-B", help="Machine-translate again the beads N or A-B that have Chinese and no English original (repeatable; in a range, the others are skipped)."),
    mt: Optional[str] = typer.Option(None, "--mt", help="Translator for re-translation (the UI's r key, --retranslate): a registry name (qwen1.5b), seq2seq[:MODEL], llm:MODEL or a path [default: the one the alignment was translated with]."),
    mt_cache: Optional[Path] = typer.Option(None, "--mt-cache", help="Translation cache (SQLite) [default: $XDG_CACHE_HOME/bitext/translations.sqlite]."),
    glossary: Optional[Path] = _GLOSSARY,
    export_files: Optional[bool] = typer.Option(None, "--export/--no-export", help="Rewrite .align, .jsonl, .tmx and the sentence files from the review [default: after a change]."),
    rebase: Optional[Path] = typer.Option(None, "--rebase", metavar="JOURNAL", help="Carry over the review in JOURNAL, made on an earlier alignment of the same texts: its changes are redone where the new alignment has the same beads, and the rest are listed."),
) -> None:
    """Review an alignment in a full-screen UI, or in line mode with the options below.

    Without a line-mode option, opens the full-screen review (press ? for its keys). Every change is journaled
    at once in NAME.review.journal, and the review reopens where it stopped.
    Bead numbers are the JSONL ids as shown by --list. Several changes in one call are all made or none;
    they apply in this order: --set-zh, --set-en, --no-counterpart, --approve, then one of --split, --merge, --move.
    --retranslate, --undo and --redo go alone.
    """
    from toolkit.review.session import ReviewSession, format_rows, parse_range, rebase_review, recorded_mt_spec

    ops: list[dict] = []
    try:
        if set_zh and set_zh[0] is not None:
            ops.append({"op": "set_zh", "bead": set_zh[0], "text": set_zh[1]})
        if set_en and set_en[0] is not None:
            ops.append({"op": "set_en", "bead": set_en[0], "text": set_en[1]})
        ops += [{"op": "no_counterpart", "bead": n} for n in no_counterpart or ()]
        for text in approve or ():
            first, last = parse_range(text)
            ops.append({"op": "approve", "first": first, "last": last})
        structural = []
        if split and split[0] is not None:
            structural.append({"op": "split", "bead": split[0], "zh_at": split[1], "en_at": split[2]})
        if merge is not None:
            structural.append({"op": "merge_next", "bead": merge})
        if move and move[0] is not None:
            structural.append({"op": "move", "bead": move[0], "side": move[1], "to": move[2]})
        if len(structural) > 1:
            raise ToolkitError("--split, --merge and --move renumber the beads; give one per call",
                               "run bitext review again for the next one")
        ops += structural
        history = [{"op": op} for op, wanted in (("undo", undo), ("redo", redo)) if wanted]
        if history and (ops or len(history) > 1):
            raise ToolkitError("--undo and --redo cannot be combined with other changes", "give one per call")
        ops += history
        ranges = [parse_range(text) for text in retranslate or ()]
        if ranges and ops:
            raise ToolkitError("--retranslate cannot be combined with other changes", "give it a call of its own")
        if rebase is not None and (ops or ranges):
            raise ToolkitError("--rebase cannot be combined with other changes", "give it a call of its own")
        terms = _read_glossary(glossary)
        session = ReviewSession.open(out_dir, name=name)
        spec = mt or recorded_mt_spec(session.signature)
        command = shlex.join(["bitext", *sys.argv[1:]])
        if rebase is not None:
            report = rebase_review(rebase, session)
            written = session.export() if export_files is not False else []
            written += _refresh_editions(session.out_dir, session.name, command) if written else []
            for op, reason in report.dropped:
                typer.echo(f"not carried over: {json.dumps(op, ensure_ascii=False)} ({reason})", err=True)
            typer.echo(f"{report.format()}; " + session.status().format()
                       + (f"; exported {len(written)} files" if written else ""))
            return
        if not ops and not ranges and not list_beads and export_files is None:
            _review_ui(session, spec, mt_cache, command, terms)
            return
        for warning in session.warnings:
            typer.echo(f"Warning: {warning}", err=True)
        if ranges:
            ops = _retranslation_ops(session, ranges, spec, mt_cache, terms)
        changed = session.do_all(ops) if ops else 0
        written = session.export() if (export_files if export_files is not None else changed > 0) else []
        written += _refresh_editions(session.out_dir, session.name, command) if written else []
    except ToolkitError as error:
        _fail(error)
    if list_beads:
        typer.echo(format_rows(session.rows(below=below, mt_only=mt_only, unreviewed=unreviewed, search=search,
                                            one_sided=one_sided)))
    if ops:
        typer.echo(f"{changed} of {len(ops)} changes made (the rest changed nothing)" if changed < len(ops)
                   else f"{changed} change{'s' if changed != 1 else ''} made")
    typer.echo(session.status().format() + (f"; exported {len(written)} files" if written else ""))


def _translator_for(spec: Optional[str]):
    from toolkit.jobs import translator_for

    if not spec:
        raise ToolkitError("no translator: the alignment was not machine-translated",
                           "choose one with --mt, e.g. --mt qwen1.5b")
    return translator_for(spec)


def _retranslation_ops(session, ranges: list[tuple[int, int]], spec: Optional[str], cache: Optional[Path],
                       glossary=None) -> list[dict]:
    """The retranslate operations for --retranslate N / A-B (one translator run for all of them)."""
    import contextlib

    from toolkit.review.session import ReviewError

    numbers: list[int] = []
    for first, last in ranges:
        if first == last:
            numbers.append(first)  # a single bead that cannot be translated is an error, said by the session
            continue
        if last < first:
            raise ReviewError(f"bead range {first}-{last} runs backwards", "give the lower number first, e.g. 12-40")
        if last > len(session.beads):
            raise ReviewError(f"bead {last} does not exist (the alignment has {len(session.beads)} beads)",
                              f"bead numbers run from 1 to {len(session.beads)}, as shown by --list")
        numbers += [n for n in range(first, last + 1) if session.beads[n - 1].translatable]
    numbers = list(dict.fromkeys(numbers))
    if not numbers:
        raise ToolkitError("no bead in the range has Chinese without an English original", "see bitext review --list --mt-only")
    translator = _translator_for(spec)
    with contextlib.ExitStack() as stack:
        store = None
        if translator.translates:
            from toolkit.translate.cache import TranslationCache, default_cache_path

            store = stack.enter_context(TranslationCache(cache or default_cache_path()))
        return session.retranslation_ops(numbers, translator, store, glossary)


def _has_terminal() -> bool:
    """Whether the full-screen review can run: standard input and output are a terminal."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def _review_ui(session, spec: Optional[str], cache: Optional[Path], command: str, glossary=None) -> None:
    if not _has_terminal():
        raise ToolkitError("the full-screen review needs a terminal, and standard input or output is not one",
                           f"use the line mode: bitext review {session.out_dir} --list (then --approve N, --set-en N "
                           "TEXT, --merge N, …)")
    try:
        from toolkit.review.ui import run_review
    except ImportError as exc:
        raise ToolkitError(f"the full-screen review needs Textual ({exc})",
                           "pip install textual, or use the line mode: bitext review OUT_DIR --list") from exc
    factory = (lambda: _translator_for(spec)) if spec else None
    app = run_review(session, factory, spec, cache, **({"glossary": glossary} if glossary else {}))
    written = list(app.exported)
    if written:  # quitting exported the folder: its editions follow
        written += _refresh_editions(session.out_dir, session.name, command)
    typer.echo(session.status().format() + (f"; exported {len(written)} files" if written else ""))


INTERRUPTED_EXIT = 130  # 128 + SIGINT, what shells report for Ctrl-C


def _interrupted(signum, frame) -> None:
    """Ctrl-C: say so (typer then exits 130); a second Ctrl-C is not caught."""
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)
    typer.echo("\nInterrupted: stopped before finishing; no file was left half-written, and an output folder "
               "keeps its previous result set", err=True)
    raise KeyboardInterrupt


def main() -> None:
    import signal

    signal.signal(signal.SIGINT, _interrupted)
    try:
        app()
    except KeyboardInterrupt:  # outside a command (typer turns one inside into exit 130)
        raise SystemExit(INTERRUPTED_EXIT) from None
