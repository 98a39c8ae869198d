"""Checks on one machine translation's output: form (empty, Chinese left in, decoding loops, odd
length) and facts (numbers, glossary names, Latin-script names carried over).

:func:`check_translation` returns the flags (from :data:`FLAGS`) one output raises;
:func:`fact_problems` says which terms a fact flag is about, so that the retry of
:func:`~toolkit.translate.backends.translate_checked` can state them in its prompt;
:func:`repaired` puts right by rule the number mistakes a model makes the same way every time;
an output still flagged after the retry keeps its flags. Pure string functions, no model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from toolkit.translate.facts import (contains_verbatim, english_values, extra_years, latin_names, repair_numbers,
                                     source_facts)

FLAGS = ("empty", "cjk", "repetition", "length", "untranslated", "number", "name", "latin")
# The flags about facts rather than form: a retry states the failing terms in its prompt.
FACT_FLAGS = ("number", "name", "latin")
Term = tuple[str, str]  # (Chinese, English) from a glossary; several rows for one Chinese are alternatives

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
LATIN_OR_DIGIT = re.compile(r"[A-Za-z0-9]")
WORD = re.compile(r"\w+")  # punctuation runs ("...", "???") are style, not loops

MAX_CJK_LEFT = 2  # a name kept in brackets, Zhang Wei (张伟), is fine; more is untranslated text
BRACKETED = re.compile(r"[(（][^()（）]*[)）]")
# English characters expected per Chinese character, and per Latin letter or digit
# kept in the source. 3.5 is the median over the WMT18/19 zh->en news test sets
# (5,949 pairs); a Latin letter or digit usually carries over as one character.
EN_CHARS_PER_HAN = 3.5
EN_CHARS_PER_LATIN = 1.0
# An output shorter than 0.35x or longer than 3.5x the expected length is flagged.
# On the WMT references (human translations) these bounds flag 5 of 5,949 pairs (0.08%).
LENGTH_BOUNDS = (0.35, 3.5)
MIN_EXPECTED_CHARS = 16.0  # sources under ~5 Chinese characters ("好。" -> "OK.") are exempt
# A word repeated this many times in a row, or a phrase of
# 2..MAX_PERIOD tokens repeated REPEAT_PHRASE times in a row, is a decoding loop.
REPEAT_TOKEN = 4
REPEAT_PHRASE = 3
MAX_PERIOD = 12


@dataclass(frozen=True)
class Problem:
    """One fact an output got wrong: its ``flag``, the Chinese (or Latin) term ``zh``, and the English
    the output should contain (``en``; for a year the Chinese does not state, ``zh`` is empty)."""

    flag: str
    zh: str
    en: str

    def hint(self) -> str:
        """The problem as one instruction for a retry's prompt."""
        if self.flag == "latin":
            return f"keep {self.en} exactly as written"
        if not self.zh:
            return f"the Chinese states no year {self.en}: do not add it"
        return f"{self.zh} = {self.en}"


def fact_problems(source: str, output: str, terms: Sequence[Term] = ()) -> list[Problem]:
    """What ``output`` gets wrong about the facts of ``source`` (empty list: nothing).

    - ``number``: a number, year, percentage, month, day or decade of the source
      (:func:`~toolkit.translate.facts.source_facts`) that the output does not state in
      any form (9月 -> September, 一万 -> 10,000 / ten thousand, 2024年 -> 2024, 90后 -> post-90s),
      or a year in digits that the source does not state (今年9月 -> "September 2019").
    - ``name``: a term whose Chinese is in the source and none of whose English renderings
      is in the output (whole words, any case).
    - ``latin``: a Latin-script name of the source (Panken, Garry Tan, LLM OS) missing from the output.
    """
    if not output.strip():
        return []
    problems: list[Problem] = []
    values = english_values(output)
    for fact in source_facts(source):
        if not fact.found_in(output, values):
            problems.append(Problem("number", fact.zh, fact.english()))
    problems += [Problem("number", "", str(year)) for year in extra_years(source, output)]
    renderings: dict[str, list[str]] = {}
    for zh, en in terms:
        if zh and zh in source:
            renderings.setdefault(zh, []).append(en)
    for zh, options in renderings.items():
        if not any(contains_verbatim(output, en) for en in options):
            problems.append(Problem("name", zh, options[0]))
    problems += [Problem("latin", name, name) for name in latin_names(source)
                 if not contains_verbatim(output, name)]
    return problems


def check_translation(source: str, output: str, terms: Sequence[Term] = ()) -> list[str]:
    """The problems of one machine translation, as flags from :data:`FLAGS` (empty list: fine).

    - ``empty``: nothing but whitespace.
    - ``cjk``: a Chinese character left in the running text ("Red杉 Capital"), or
      more than MAX_CJK_LEFT even inside brackets, where a name's original is fine.
    - ``repetition``: a word repeated REPEAT_TOKEN+ times in a row, or a phrase of
      2..MAX_PERIOD words REPEAT_PHRASE+ times in a row, punctuation ignored
      (unless the source repeats itself the same way).
    - ``length``: output characters outside LENGTH_BOUNDS x the expected length
      (EN_CHARS_PER_HAN per Chinese character + EN_CHARS_PER_LATIN per Latin
      letter or digit); sources whose expected length is under MIN_EXPECTED_CHARS are exempt.
    - ``number``, ``name``, ``latin``: see :func:`fact_problems` (``terms``: the glossary).
    """
    text = output.strip()
    if not text:
        return ["empty"]
    flags = []
    if HAN.search(BRACKETED.sub("", text)) or len(HAN.findall(text)) > MAX_CJK_LEFT:
        flags.append("cjk")
    if _has_loop(WORD.findall(text.lower())) and not _has_loop(_source_units(source)):
        flags.append("repetition")
    expected = expected_length(source)
    if expected >= MIN_EXPECTED_CHARS:
        ratio = len(text) / expected
        if not LENGTH_BOUNDS[0] <= ratio <= LENGTH_BOUNDS[1]:
            flags.append("length")
    for problem in fact_problems(source, text, terms):
        if problem.flag not in flags:
            flags.append(problem.flag)
    return flags


def expected_length(source: str) -> float:
    """The usual length in characters of an English translation of ``source``."""
    return EN_CHARS_PER_HAN * len(HAN.findall(source)) + EN_CHARS_PER_LATIN * len(LATIN_OR_DIGIT.findall(source))


def _source_units(source: str) -> list[str]:
    # Chinese has no spaces: each character is a unit, Latin words stay whole.
    return re.findall(r"[A-Za-z0-9]+|[^\W\d_A-Za-z]", source.lower())


def _has_loop(tokens: Sequence[str]) -> bool:
    """True if some run of 1..MAX_PERIOD tokens repeats back to back (see REPEAT_TOKEN/REPEAT_PHRASE)."""
    n = len(tokens)
    for period in range(1, MAX_PERIOD + 1):
        copies = REPEAT_TOKEN if period == 1 else REPEAT_PHRASE
        needed = (copies - 1) * period  # consecutive positions i with tokens[i] == tokens[i + period]
        if needed + period > n:
            break
        run = 0
        for i in range(n - period):
            run = run + 1 if tokens[i] == tokens[i + period] else 0
            if run >= needed:
                return True
    return False


def repaired(source: str, output: str, terms: Sequence[Term] = ()) -> str:
    """``output`` with its number mistakes put right by rule (:func:`~toolkit.translate.facts.repair_numbers`:
    15.9亿 -> "15.9 billion" becomes "1.59 billion"; a year the Chinese does not state is dropped after
    a date) when that leaves fewer fact problems and raises no flag the output did not have; else
    ``output`` unchanged."""
    problems = fact_problems(source, output, terms)
    if not any(p.flag == "number" for p in problems):
        return output
    fixed = repair_numbers(source, output)
    if fixed == output or len(fact_problems(source, fixed, terms)) >= len(problems):
        return output
    return fixed if set(check_translation(source, fixed, terms)) <= set(check_translation(source, output, terms)) else output
