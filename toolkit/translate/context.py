"""Translating with the document as context: its aligned pairs as examples, its names as a glossary.

Two situations:

- a document with English (``align --mt``, review's re-translate): every gap (Chinese with no
  English) is asked with its nearest aligned pairs as in-context examples and with the terms of
  the user glossary and of the document glossary mined from the aligned pairs
  (:func:`gap_requests`);
- a document with no English (``translate``): :func:`translate_in_context` goes through it in
  waves of WAVE sentences; each sentence sees the sentences before it with their translations,
  and a name's rendering is fixed where it first occurs (mined from what was translated so far;
  stated in brackets, 奥特曼(Sam Altman), it holds from the first sentence), so it stays the same
  throughout: a sentence translated before its name was fixed and rendering it otherwise is asked
  again with it at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from toolkit.translate.backends import ProgressFn, TranslationRequest, Translation, translate_checked
from toolkit.translate.checks import check_translation, fact_problems
from toolkit.translate.glossary import Glossary, bracketed_terms, mine_document_glossary

# Aligned pairs shown as examples before a gap, the nearest first, and their characters at most
# (both sides): enough to set names and register, short enough to keep a CPU prompt cheap.
CONTEXT_PAIRS = 4
MAX_CONTEXT_CHARS = 900
# Sentences translated together when each needs the translations before it (translate-only):
# one batch, so the model runs WAVE at a time; a name new in a wave is fixed for the next one.
WAVE = 8

Unit = tuple[str, str]  # (Chinese, English) of one bead in document order; "" for a side it lacks


def document_glossary(units: Sequence[Unit], user: Glossary | None = None) -> Glossary:
    """The user glossary (it wins), then the renderings the Chinese states itself (奥特曼(Sam Altman):
    :func:`bracketed_terms`), then the names mined from the document's two-sided units."""
    stated = bracketed_terms(zh for zh, _ in units)
    mined = mine_document_glossary([(zh, en) for zh, en in units if zh.strip() and en.strip()])
    return (user or Glossary()).merged(stated).merged(mined)


def nearest_examples(units: Sequence[Unit], at: int, pairs: int = CONTEXT_PAIRS,
                     max_chars: int = MAX_CONTEXT_CHARS) -> tuple[Unit, ...]:
    """Up to ``pairs`` two-sided units nearest to ``units[at]`` (before it on a tie), within
    ``max_chars`` characters together, in document order."""
    order = sorted((i for i, (zh, en) in enumerate(units) if i != at and zh.strip() and en.strip()),
                   key=lambda i: (abs(i - at), i > at))
    chosen, used = [], 0
    for i in order:
        if len(chosen) >= pairs:
            break
        size = len(units[i][0]) + len(units[i][1])
        if used + size > max_chars:
            continue
        chosen.append(i)
        used += size
    return tuple(units[i] for i in sorted(chosen))


def gap_request(units: Sequence[Unit], at: int, glossary: Glossary | None = None,
                pairs: int = CONTEXT_PAIRS) -> TranslationRequest:
    """The request for ``units[at]``'s Chinese: its nearest aligned pairs as examples (``pairs`` of them;
    0: none) and the ``glossary`` terms its Chinese contains."""
    zh = units[at][0]
    examples = nearest_examples(units, at, pairs) if pairs else ()
    return TranslationRequest(zh, examples=examples, terms=(glossary or Glossary()).terms_in(zh))


def gap_requests(units: Sequence[Unit], glossary: Glossary | None = None,
                 pairs: int = CONTEXT_PAIRS) -> list[TranslationRequest]:
    """One request per gap of ``units`` (Chinese, no English), in order (see :func:`gap_request`)."""
    return [gap_request(units, at, glossary, pairs) for at, (zh, en) in enumerate(units)
            if zh.strip() and not en.strip()]


def translate_in_context(translator, sources: Sequence[str], glossary: Glossary | None = None, cache=None,
                         progress: ProgressFn | None = None, pairs: int = CONTEXT_PAIRS,
                         wave: int = WAVE) -> tuple[list[Translation], Glossary]:
    """Translate a document with no English, in order, in waves of ``wave`` sentences.

    Each sentence is asked with the ``pairs`` sentences before it that are translated already
    (and their translations) as examples, and with the terms of ``glossary`` (the user's), the
    renderings the text states itself anywhere in it (奥特曼(Sam Altman): :func:`bracketed_terms`,
    so they hold from the first sentence) and the names mined from the translations so far
    (:func:`mine_document_glossary`); a name keeps the first rendering found for it. Returns the
    translations in the order of ``sources`` and the glossary as it stood at the end (the user's
    terms first). A sentence translated before a name of its was fixed, and rendering it otherwise,
    is asked again with it at the end (not counted by ``progress``).
    """
    fixed = (glossary or Glossary()).merged(bracketed_terms(sources))
    done: list[Translation] = []
    translated: list[Unit] = []
    for start in range(0, len(sources), wave):
        chunk = list(sources[start:start + wave])
        requests = []
        for zh in chunk:
            units = [*translated, (zh, "")]
            examples = nearest_examples(units, len(units) - 1, pairs) if pairs else ()
            requests.append(TranslationRequest(zh, examples=examples, terms=fixed.terms_in(zh)))
        results = translate_checked(translator, requests, cache=cache, progress=progress)
        done += results
        # Only clean outputs teach the next waves: a flagged one would spread its mistake.
        translated += [(zh, t.text) for zh, t in zip(chunk, results) if t.text and not t.flags]
        if getattr(translator, "takes_context", False):
            fixed = fixed.merged(mine_document_glossary(translated))
    return _ask_again_with_later_names(translator, sources, done, fixed, cache, pairs), fixed


def _ask_again_with_later_names(translator, sources: Sequence[str], done: list[Translation], glossary: Glossary,
                                cache, pairs: int) -> list[Translation]:
    """``done`` with the sentences translated before a name of theirs was fixed, and rendering it
    otherwise, asked again with it (kept where that leaves fewer flags, else the first translation
    is kept, flagged), so the name is one throughout."""
    def name_problem(zh: str, text: str) -> bool:
        return any(p.flag == "name" for p in fact_problems(zh, text, glossary.terms_in(zh)))

    stale = [i for i, (zh, t) in enumerate(zip(sources, done)) if t.text and name_problem(zh, t.text)]
    if not stale:
        return done
    units = [(zh, t.text if t.text and not t.flags else "") for zh, t in zip(sources, done)]
    requests = []
    for i in stale:
        around = [*units[:i], (sources[i], ""), *units[i + 1:]]
        examples = nearest_examples(around, i, pairs) if pairs else ()
        requests.append(TranslationRequest(sources[i], examples=examples, terms=glossary.terms_in(sources[i])))
    done = list(done)
    for i, request, again in zip(stale, requests, translate_checked(translator, requests, cache=cache)):
        before = tuple(check_translation(sources[i], done[i].text, request.terms))
        # The better one, with what the checks now say of it (a first translation that still names
        # him otherwise is flagged "name").
        done[i] = again if len(again.flags) < len(before) else replace(done[i], flags=before)
    return done
