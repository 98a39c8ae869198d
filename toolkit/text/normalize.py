"""Script conversion and the matching-only normal form of a sentence.

Nothing here is meant for output text: the aligner compares ``norm`` strings,
writers always emit the text exactly as the user wrote it.

OpenCC converters are built lazily (the first call, not at import) and cached,
so ``import toolkit.text.normalize`` stays cheap and each config is loaded once.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

SIMPLIFIED_CONFIG = "t2s"
# OpenCC's standard traditional forms (爲, 着, 軟件). Chosen over the Taiwan
# configs (s2tw/s2twp) because s2twp also rewrites vocabulary (軟件→軟體,
# 鼠標→滑鼠), which changes wording rather than script, and because the
# traditional seed document in our corpus uses exactly these standard forms.
TRADITIONAL_CONFIG = "s2t"

SCRIPTS = ("simplified", "traditional")

_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WHITESPACE_RE = re.compile(r"\s+")
# Whitespace touching a CJK character carries no meaning for matching:
# "为 GPU 而设计" and "为GPU而设计" should compare equal.
_SPACE_NEXT_TO_CJK_RE = re.compile(
    r"(?<=[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef])\s+"
    r"|\s+(?=[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef])"
)
_ENGLISH_PUNCT_FOLD = str.maketrans(
    {
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’
        "\u201a": "'",  # ‚
        "\u201b": "'",  # ‛
        "\u2032": "'",  # ′
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u201e": '"',  # „
        "\u201f": '"',  # ‟
        "\u2033": '"',  # ″
        "\u00ab": '"',  # «
        "\u00bb": '"',  # »
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2015": "-",  # horizontal bar
        "\u2212": "-",  # minus sign
    }
)


@lru_cache(maxsize=None)
def _converter(config: str):
    import opencc  # lazy: the C extension loads its dictionaries on first use

    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """Convert Chinese text to simplified script (OpenCC ``t2s``)."""
    return _converter(SIMPLIFIED_CONFIG).convert(text)


def to_traditional(text: str) -> str:
    """Convert Chinese text to traditional script (OpenCC ``s2t``, see TRADITIONAL_CONFIG)."""
    return _converter(TRADITIONAL_CONFIG).convert(text)


def detect_script(text: str) -> str:
    """Return ``"traditional"`` or ``"simplified"`` for a Chinese text.

    Counts the Han characters that OpenCC's t2s conversion changes (they exist
    only in traditional script) against those its s2t conversion changes (only
    in simplified script). Text with neither kind, e.g. English or characters
    common to both scripts, counts as simplified.
    """
    traditional_only = _changed_han_chars(text, to_simplified(text))
    simplified_only = _changed_han_chars(text, to_traditional(text))
    return "traditional" if traditional_only > simplified_only else "simplified"


def _changed_han_chars(text: str, converted: str) -> int:
    if len(text) == len(converted):
        return sum(1 for a, b in zip(text, converted) if a != b and _CJK_RE.match(a))
    # Phrase conversions changed the length: fall back to comparing multisets.
    before = [c for c in text if _CJK_RE.match(c)]
    after = set(converted)
    return sum(1 for c in before if c not in after)


def normalize_for_matching(text: str, lang: str) -> str:
    """The form the aligner compares; never used for output.

    zh: simplified script, NFKC (full-width ASCII letters, digits and
    punctuation folded to half-width), whitespace collapsed and removed next to
    CJK characters. en: NFKC, curly quotes and dashes folded to ASCII,
    whitespace collapsed. Case is kept; scorers lowercase if they want to.
    """
    if lang == "zh":
        folded = unicodedata.normalize("NFKC", to_simplified(text))
        folded = _SPACE_NEXT_TO_CJK_RE.sub("", folded)
    elif lang == "en":
        folded = unicodedata.normalize("NFKC", text).translate(_ENGLISH_PUNCT_FOLD)
    else:
        raise ValueError(f"unknown language {lang!r}; expected 'zh' or 'en'")
    return _WHITESPACE_RE.sub(" ", folded).strip()
