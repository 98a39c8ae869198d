"""Checks on one machine translation's output: empty, Chinese left in, decoding loops, odd length.

:func:`check_translation` returns the flags (from :data:`FLAGS`) one output raises;
the backends' :func:`~toolkit.translate.backends.backends.translate_checked` retries a
flagged output once and keeps the flags of one that still fails. Pure string
functions, no model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

FLAGS = ("empty", "cjk", "repetition", "length", "untranslated")

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


def check_translation(source: str, output: str) -> list[str]:
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
