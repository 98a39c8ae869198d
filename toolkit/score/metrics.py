"""BLEU, chrF and TER of machine translations against human text, through sacrebleu.

Two uses:

- plain files, one segment per line: :func:`sentence_scores` and :func:`corpus_scores`
  (what ``bitext bleu`` prints);
- an alignment's JSONL records: :func:`score_alignment` takes the machine
  translation of each bead's Chinese side (made elsewhere, e.g. by
  ``toolkit.translate.backends``), scores it against the bead's human English, adds
  ``bleu`` and ``chrf`` to every record and builds a corpus report.

Scores are on sacrebleu's 0–100 scale. Every corpus score carries sacrebleu's
own signature so it can be reproduced with ``sacrebleu`` itself. sacrebleu is
imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from toolkit.core.atomic import atomic_write_text
from toolkit.core.errors import FormatError, InputError, ToolkitError
from toolkit.core.version import __version__

log = logging.getLogger(__name__)

TARGET_LANGS = ("en", "zh")  # zh selects sacrebleu's "zh" BLEU tokenizer and CJK-aware TER
DEFAULT_TARGET_LANG = "en"
DEFAULT_MT = "qwen1.5b"  # translator spec of `bitext score`; toolkit.translate.backends resolves it
LOWEST_PAIRS = 10  # how many of the worst-scoring pairs the report lists
SCORE_DECIMALS = 2  # scores written to JSONL and the report
REPORT_SUFFIX = ".score.json"
SCORE_KEYS = ("bleu", "chrf")  # the keys score_alignment adds to each record


@dataclass(frozen=True)
class PairScore:
    """Sentence-level BLEU (effective n-gram order, exp smoothing) and chrF of one pair."""

    bleu: float
    chrf: float


@dataclass(frozen=True)
class CorpusScores:
    """Corpus-level BLEU, chrF and TER with sacrebleu's signature of each."""

    bleu: float
    chrf: float
    ter: float
    bleu_signature: str
    chrf_signature: str
    ter_signature: str
    segments: int

    def as_dict(self) -> dict:
        """``{"segments": n, "bleu": {"score", "signature"}, "chrf": {...}, "ter": {...}}``."""
        return {
            "segments": self.segments,
            "bleu": {"score": round(self.bleu, SCORE_DECIMALS), "signature": self.bleu_signature},
            "chrf": {"score": round(self.chrf, SCORE_DECIMALS), "signature": self.chrf_signature},
            "ter": {"score": round(self.ter, SCORE_DECIMALS), "signature": self.ter_signature},
        }

    def format(self) -> str:
        return _format_corpus(self.as_dict())


# ---------------------------------------------------------------------------
# metrics


def _check_lang(target_lang: str) -> None:
    if target_lang not in TARGET_LANGS:
        raise ToolkitError(
            f"unknown target language {target_lang!r}",
            f"choose one of {', '.join(TARGET_LANGS)}",
        )


def _check_lengths(hyps: Sequence[str], refs: Sequence[str]) -> None:
    if len(hyps) != len(refs):
        raise ToolkitError(
            f"{len(hyps)} translations but {len(refs)} references",
            "give exactly one reference per translation",
        )


def _bleu(target_lang: str, effective_order: bool):
    from sacrebleu.metrics import BLEU

    # tokenize=None lets sacrebleu pick its default (13a) so the signature matches its CLI.
    tokenize = "zh" if target_lang == "zh" else None
    return BLEU(tokenize=tokenize, effective_order=effective_order)


def _ter(target_lang: str):
    from sacrebleu.metrics import TER

    # TER's tokenizer only splits CJK characters when normalisation is on too.
    if target_lang == "zh":
        return TER(normalized=True, asian_support=True)
    return TER()


def sentence_scores(hyps: Sequence[str], refs: Sequence[str],
                    target_lang: str = DEFAULT_TARGET_LANG) -> list[PairScore]:
    """BLEU and chrF of each ``hyps[i]`` against ``refs[i]`` (one reference each).

    BLEU uses the effective n-gram order, so a short sentence with no 4-gram
    match still gets a non-zero score. An empty hypothesis scores 0.
    Raises ToolkitError if the lists differ in length or the language is unknown.
    """
    _check_lang(target_lang)
    _check_lengths(hyps, refs)
    if not hyps:
        return []
    from sacrebleu.metrics import CHRF

    bleu, chrf = _bleu(target_lang, effective_order=True), CHRF()
    return [
        PairScore(bleu=bleu.sentence_score(hyp, [ref]).score, chrf=chrf.sentence_score(hyp, [ref]).score)
        for hyp, ref in zip(hyps, refs)
    ]


def corpus_scores(hyps: Sequence[str], refs: Sequence[str],
                  target_lang: str = DEFAULT_TARGET_LANG) -> CorpusScores:
    """Corpus BLEU, chrF and TER of ``hyps`` against one reference each, with signatures.

    Raises ToolkitError if there are no segments, the lists differ in length or
    the language is unknown.
    """
    _check_lang(target_lang)
    _check_lengths(hyps, refs)
    if not hyps:
        raise ToolkitError("nothing to score: no segments", "give at least one translation and reference")
    from sacrebleu.metrics import CHRF

    bleu, chrf, ter = _bleu(target_lang, effective_order=False), CHRF(), _ter(target_lang)
    refs_list = [list(refs)]
    bleu_score = bleu.corpus_score(list(hyps), refs_list).score
    chrf_score = chrf.corpus_score(list(hyps), refs_list).score
    ter_score = ter.corpus_score(list(hyps), refs_list).score
    # A signature can only be taken after scoring (it needs the number of references).
    return CorpusScores(
        bleu=bleu_score,
        chrf=chrf_score,
        ter=ter_score,
        bleu_signature=str(bleu.get_signature()),
        chrf_signature=str(chrf.get_signature()),
        ter_signature=str(ter.get_signature()),
        segments=len(hyps),
    )


def read_segments(path: str | Path) -> list[str]:
    """The lines of a UTF-8 file, one segment each (a final newline ends the last line).

    Only ``\\n`` (or ``\\r\\n``) separates segments, as in sacrebleu. Raises
    InputError if the file is missing or empty, FormatError if it is not UTF-8.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"{path} does not exist", "check the path") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path} is a folder", "give a file with one segment per line") from exc
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path} is not UTF-8 text", "re-save it as UTF-8") from exc
    if not text:
        raise InputError(f"{path} is empty", "give a file with one segment per line")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


# ---------------------------------------------------------------------------
# alignments


def needs_translation(record: Mapping) -> bool:
    """Whether a bead is scored: text on both sides, and the English is human (origin not ``mt``)."""
    return (
        bool(record["zh_ids"]) and bool(record["en_ids"])
        and bool(str(record["zh"]).strip()) and bool(str(record["en"]).strip())
        and record["origin"] != "mt"
    )


def _skip_reason(record: Mapping) -> str:
    if record["origin"] == "mt":
        return "mt_origin"
    return "one_sided"


def _translations_by_record(records: Sequence[Mapping],
                            mt: Mapping[str, str] | Sequence[str | None]) -> list[str | None]:
    if isinstance(mt, Mapping):
        return [mt.get(record["zh"]) for record in records]
    if len(mt) != len(records):
        raise ToolkitError(
            f"{len(mt)} translations for {len(records)} beads",
            "give one translation (or None) per bead, or a mapping from Chinese text to translation",
        )
    return list(mt)


def _type_order(bead_type: str) -> tuple:
    # "1-1" < "1-2" < "2-1" < "10-1"; anything unparseable sorts last by name.
    try:
        zh, en = bead_type.split("-")
        return (0, int(zh), int(en), "")
    except ValueError:
        return (1, 0, 0, bead_type)


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), SCORE_DECIMALS) if values else None


def _group_counts(records: Sequence[Mapping], key: str, order=None) -> dict:
    """Per value of ``record[key]``: beads, scored beads and their mean sentence BLEU / chrF."""
    groups: dict[str, dict] = {}
    for record in records:
        group = groups.setdefault(str(record[key]), {"beads": 0, "scored": 0, "bleu": [], "chrf": []})
        group["beads"] += 1
        if record["bleu"] is not None:
            group["scored"] += 1
            group["bleu"].append(record["bleu"])
            group["chrf"].append(record["chrf"])
    names = sorted(groups, key=order) if order else sorted(groups, key=lambda name: (-groups[name]["beads"], name))
    return {
        name: {
            "beads": groups[name]["beads"],
            "scored": groups[name]["scored"],
            "mean_bleu": _mean(groups[name]["bleu"]),
            "mean_chrf": _mean(groups[name]["chrf"]),
        }
        for name in names
    }


def corpus_statistics(hyps: Sequence[str], refs: Sequence[str], target_lang: str = DEFAULT_TARGET_LANG) -> dict:
    """The sufficient statistics of corpus BLEU and chrF over these pairs (n-gram matches and totals,
    lengths), summed: statistics of several documents add up (:func:`add_statistics`) to exactly the
    scores of their concatenation (:func:`scores_from_statistics`)."""
    from sacrebleu.metrics import CHRF

    _check_lang(target_lang)
    _check_lengths(hyps, refs)
    totals = {}
    for key, metric in (("bleu", _bleu(target_lang, effective_order=False)), ("chrf", CHRF())):
        rows = metric._extract_corpus_statistics(list(hyps), [list(refs)])
        totals[key] = [sum(column) for column in zip(*rows)] if rows else []
    return {"segments": len(hyps), "target_lang": target_lang, **totals}


def add_statistics(parts: Sequence[Mapping]) -> dict | None:
    """The sum of :func:`corpus_statistics` results (None if there are none or none scored anything)."""
    parts = [p for p in parts if p and p.get("segments")]
    if not parts:
        return None
    langs = {p["target_lang"] for p in parts}
    if len(langs) > 1:
        raise ToolkitError(f"cannot add scores of different target languages: {', '.join(sorted(langs))}",
                           "score every document into the same language")
    return {"segments": sum(p["segments"] for p in parts), "target_lang": langs.pop(),
            **{key: [sum(column) for column in zip(*(p[key] for p in parts))] for key in ("bleu", "chrf")}}


def scores_from_statistics(stats: Mapping) -> dict:
    """Corpus BLEU and chrF (score and signature) from summed :func:`corpus_statistics`."""
    from sacrebleu.metrics import CHRF

    out = {"segments": stats["segments"]}
    for key, metric in (("bleu", _bleu(stats["target_lang"], effective_order=False)), ("chrf", CHRF())):
        score = metric._compute_score_from_stats(list(stats[key]))
        metric.num_refs = 1  # what corpus_score would have set: one reference per segment
        out[key] = {"score": round(score.score, SCORE_DECIMALS), "signature": str(metric.get_signature())}
    return out


def score_alignment(records: Sequence[Mapping], mt: Mapping[str, str] | Sequence[str | None],
                    model: str | None = None, lowest: int = LOWEST_PAIRS) -> tuple[list[dict], dict]:
    """Score the machine translation of each bead's Chinese side against its human English.

    ``records`` are JSONL records (see ``toolkit.formats.writers.bead_records``). ``mt``
    gives the translations, either as a mapping from a bead's ``zh`` text to its
    translation or as one entry per record (None where there is none). Only
    beads for which :func:`needs_translation` holds and a translation exists are
    scored; the rest get ``bleu`` and ``chrf`` of None. The input records are
    not changed.

    Returns ``(records, report)``: copies of the records with ``bleu`` and
    ``chrf`` added (rounded to :data:`SCORE_DECIMALS`), and a JSON-ready report
    with the corpus scores and their signatures (``None`` if nothing was
    scored), why beads were not scored, counts and mean sentence scores by bead
    type and by origin, and the ``lowest`` pairs by sentence chrF (then BLEU,
    then id). chrF ranks them because sentence BLEU is 0 for many short pairs.
    """
    translations = _translations_by_record(records, mt)
    scored = [i for i, record in enumerate(records) if needs_translation(record) and translations[i] is not None]
    hyps = [translations[i] for i in scored]
    refs = [records[i]["en"] for i in scored]
    pairs = dict(zip(scored, sentence_scores(hyps, refs)))

    not_scored = Counter()
    out = []
    for i, record in enumerate(records):
        pair = pairs.get(i)
        if pair is None:
            not_scored["no_translation" if needs_translation(record) else _skip_reason(record)] += 1
        out.append({
            **record,
            "bleu": round(pair.bleu, SCORE_DECIMALS) if pair else None,
            "chrf": round(pair.chrf, SCORE_DECIMALS) if pair else None,
        })
    if not_scored["no_translation"]:
        log.warning("%d two-sided beads had no translation and were not scored", not_scored["no_translation"])

    worst = sorted(scored, key=lambda i: (pairs[i].chrf, pairs[i].bleu, records[i]["id"]))[:max(lowest, 0)]
    report = {
        "tool": f"bitext {__version__}",
        "model": model,
        "target_lang": DEFAULT_TARGET_LANG,
        "corpus": corpus_scores(hyps, refs).as_dict() if scored else None,
        "statistics": corpus_statistics(hyps, refs) if scored else None,
        "beads": len(records),
        "scored": len(scored),
        "not_scored": {reason: not_scored[reason] for reason in ("one_sided", "mt_origin", "no_translation")},
        "by_type": _group_counts(out, "type", order=_type_order),
        "by_origin": _group_counts(out, "origin"),
        "lowest": [
            {
                "id": records[i]["id"],
                "zh": records[i]["zh"],
                "en": records[i]["en"],
                "mt": translations[i],
                "bleu": round(pairs[i].bleu, SCORE_DECIMALS),
                "chrf": round(pairs[i].chrf, SCORE_DECIMALS),
            }
            for i in worst
        ],
    }
    return out, report


# ---------------------------------------------------------------------------
# text and files


def _format_corpus(corpus: Mapping) -> str:
    lines = []
    for key, label in (("bleu", "BLEU"), ("chrf", "chrF"), ("ter", "TER")):
        lines.append(f"{label:<5}{corpus[key]['score']:7.2f}  {corpus[key]['signature']}")
    return "\n".join(lines)


def _format_mean(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _format_groups(title: str, groups: Mapping) -> list[str]:
    lines = [f"{title:<10}{'beads':>7}{'scored':>8}{'BLEU':>7}{'chrF':>7}"]
    for name, group in groups.items():
        lines.append(f"{name:<10}{group['beads']:>7}{group['scored']:>8}"
                     f"{_format_mean(group['mean_bleu']):>7}{_format_mean(group['mean_chrf']):>7}")
    return lines


def format_report(report: Mapping) -> str:
    """The report of :func:`score_alignment` as text for a terminal."""
    reasons = {"one_sided": "one-sided", "mt_origin": "machine-translated", "no_translation": "without translation"}
    skipped = ", ".join(f"{n} {reasons[k]}" for k, n in report["not_scored"].items() if n)
    lines = [f"MT: {report['model'] or 'unknown'}"]
    translation = report.get("translation")  # added by `bitext score`
    if translation:
        flags = ", ".join(f"{flag} {n}" for flag, n in translation["flags"].items())
        lines.append(f"translated {translation['texts']} texts ({translation['cached']} from the cache)"
                     + (f"; flagged: {flags}" if flags else ""))
    lines.append(f"scored {report['scored']} of {report['beads']} beads" + (f" (not scored: {skipped})" if skipped else ""))
    lines.append("")
    if report["corpus"] is None:
        lines.append("no pairs to score")
    else:
        lines.append(_format_corpus(report["corpus"]))
    lines.append("")
    lines.append("mean sentence scores")
    lines += _format_groups("type", report["by_type"])
    lines += _format_groups("origin", report["by_origin"])
    if report["lowest"]:
        lines.append("")
        lines.append(f"lowest-scoring pairs (by sentence chrF), {len(report['lowest'])}:")
        for pair in report["lowest"]:
            lines.append(f"  #{pair['id']}  chrF {pair['chrf']:.1f}  BLEU {pair['bleu']:.1f}")
            for key in ("zh", "en", "mt"):
                lines.append(f"    {key}: {pair[key]}")
    return "\n".join(lines)


def find_jsonl(out_dir: str | Path) -> Path:
    """The one ``*.jsonl`` file of an alignment output folder.

    Raises InputError if the folder does not exist or holds no or several JSONL files.
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise InputError(f"{out_dir} is not a folder", "give the output folder of `bitext align`")
    found = sorted(out_dir.glob("*.jsonl"))
    if len(found) != 1:
        names = ", ".join(p.name for p in found) if found else "none"
        raise InputError(
            f"{out_dir} must hold exactly one .jsonl file, found {len(found)} ({names})",
            "give the output folder of one `bitext align` run",
        )
    return found[0]


def report_path(jsonl_path: str | Path) -> Path:
    """``out/talk.jsonl`` -> ``out/talk.score.json``."""
    jsonl_path = Path(jsonl_path)
    return jsonl_path.with_name(jsonl_path.stem + REPORT_SUFFIX)


def write_report(path: str | Path, report: Mapping) -> None:
    """Write the report as indented JSON."""
    atomic_write_text(path, json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
