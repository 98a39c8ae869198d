"""Glossaries: fixed English renderings of Chinese terms, given to the translator and checked in its output.

A user glossary is read from a file (:func:`read_glossary`: CSV or TSV ``zh,en``,
or TBX); a *document glossary* is mined from a document's own aligned pairs
(:func:`mine_document_glossary`: 红杉资本 <-> Sequoia Capital, 卡帕西 <-> Karpathy),
so that a machine-translated gap names people and organisations as the human
English around it does; and a Chinese text gives its own renderings where it puts the
original after a name, 奥特曼(Sam Altman) (:func:`bracketed_terms`). All are :class:`Glossary`
values; :meth:`Glossary.terms_in` picks the terms one sentence needs.
"""

from __future__ import annotations

import csv
import difflib
import functools
import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.core.errors import InputError

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
GLOSSARY_SUFFIXES = (".csv", ".tsv", ".tbx")
HEADER_WORDS = {"zh", "en", "chinese", "english", "source", "target", "zh-cn", "zh-hans", "en-us", "term"}

Term = tuple[str, str]


@dataclass(frozen=True)
class Glossary:
    """(Chinese, English) terms; several terms with one Chinese are alternative renderings, the
    first preferred. ``origin`` says where they came from (a file name, "document")."""

    terms: tuple[Term, ...] = ()
    origin: str = ""
    _by_length: tuple[Term, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for zh, en in self.terms:
            if not zh.strip() or not en.strip():
                raise ValueError(f"a glossary term needs both sides, got {(zh, en)!r}")
        # Longest Chinese first: 红杉资本 is matched before 红杉.
        object.__setattr__(self, "_by_length", tuple(sorted(self.terms, key=lambda t: -len(t[0]))))

    def __len__(self) -> int:
        return len(self.terms)

    def __bool__(self) -> bool:
        return bool(self.terms)

    def terms_in(self, source: str) -> tuple[Term, ...]:
        """The terms whose Chinese occurs in ``source``, longest first; a term inside a longer
        matched one (红杉 in 红杉资本) is left out."""
        found: list[Term] = []
        covered: list[tuple[int, int]] = []
        for zh, en in self._by_length:
            start = source.find(zh)
            while start >= 0:
                span = (start, start + len(zh))
                if not any(a <= span[0] and span[1] <= b and (a, b) != span for a, b in covered):
                    if (zh, en) not in found:
                        found.append((zh, en))
                    covered.append(span)
                start = source.find(zh, start + 1)
        return tuple(found)

    def merged(self, other: Glossary) -> Glossary:
        """This glossary with ``other``'s terms for the Chinese it does not have (this one wins)."""
        have = {zh for zh, _ in self.terms}
        extra = tuple(t for t in other.terms if t[0] not in have)
        origins = [o for o in (*self.origin.split(" + "), *other.origin.split(" + ")) if o]
        origin = " + ".join(dict.fromkeys(origins))
        return Glossary(self.terms + extra, origin)

    def fingerprint(self) -> str:
        """sha256 of the terms, for signatures."""
        text = "\n".join(f"{zh}\t{en}" for zh, en in self.terms)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------
# Reading a glossary file


def read_glossary(path: str | Path) -> Glossary:
    """The terms of a CSV or TSV file (``zh,en`` per row; a header row is skipped) or a TBX file.

    Raises :class:`InputError` naming the line (or entry) of a malformed row, a row whose first
    column has no Chinese, an unknown suffix, or a file without any term.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in GLOSSARY_SUFFIXES:
        raise InputError(f"{path}: a glossary must be a .csv, .tsv or .tbx file",
                         "write one term a line as zh,en (CSV) or zh<TAB>en (TSV), or export TBX from your CAT tool")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the glossary {path}: {exc.strerror or exc}", "check the path") from exc
    if suffix == ".tbx":
        terms = _read_tbx(raw, path)
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path} is not UTF-8 (byte {exc.start})", "save the glossary as UTF-8") from exc
        terms = _read_delimited(text, "\t" if suffix == ".tsv" else ",", path)
    if not terms:
        raise InputError(f"the glossary {path} has no terms", "give one term a line: Chinese, then English")
    return Glossary(tuple(terms), origin=path.name)


def _read_delimited(text: str, delimiter: str, path: Path) -> list[Term]:
    terms: list[Term] = []
    for line_no, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), 1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if line_no == 1 and {c.lower() for c in cells[:2]} <= HEADER_WORDS:
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise InputError(f"{path}, line {line_no}: expected two columns, Chinese and English, got {row!r}",
                             "write each term as zh" + ("<TAB>" if delimiter == "\t" else ",") + "en")
        if not HAN.search(cells[0]):
            raise InputError(f"{path}, line {line_no}: the first column {cells[0]!r} has no Chinese",
                             "the Chinese term comes first, then its English")
        terms.append((cells[0], cells[1]))
    return terms


def _read_tbx(raw: bytes, path: Path) -> list[Term]:
    """TBX (v2 ``termEntry/langSet/tig|ntig``, v3 ``conceptEntry/langSec/termSec``): each entry's Chinese
    terms paired with its English ones (the first English preferred). Parsed with defusedxml."""
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException
    from xml.etree.ElementTree import ParseError

    try:
        root = ElementTree.fromstring(raw)
    except (ParseError, DefusedXmlException) as exc:
        raise InputError(f"{path} is not a TBX file that can be read safely: {exc}",
                         "export the termbase again as TBX (entity declarations are refused)") from exc
    terms: list[Term] = []
    entries = [e for e in root.iter() if _local(e.tag) in ("termEntry", "conceptEntry")]
    for number, entry in enumerate(entries, 1):
        by_lang: dict[str, list[str]] = {"zh": [], "en": []}
        for lang_set in entry:
            if _local(lang_set.tag) not in ("langSet", "langSec"):
                continue
            lang = _lang_of(lang_set)
            if lang not in by_lang:
                continue
            for element in lang_set.iter():
                if _local(element.tag) == "term" and (element.text or "").strip():
                    by_lang[lang].append("".join(element.itertext()).strip())
        if not by_lang["zh"] or not by_lang["en"]:
            continue  # an entry in other languages, or one side only: nothing to translate by
        for zh in by_lang["zh"]:
            if not HAN.search(zh):
                raise InputError(f"{path}, entry {number}: the Chinese term {zh!r} has no Chinese",
                                 "check the entry's xml:lang")
            terms.extend((zh, en) for en in by_lang["en"])
    return terms


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _lang_of(element) -> str:
    for key, value in element.attrib.items():
        if _local(key) == "lang" or key == "lang":
            return value.lower().replace("_", "-").split("-")[0]
    return ""


# ---------------------------------------------------------------------------
# Mining a document glossary from its aligned pairs

# An English name: capitalised words in a row (Sequoia Capital, Andrej Karpathy, OpenAI).
_EN_NAME = re.compile(r"\b[A-Z][A-Za-z0-9'’\-]*(?:\s+(?:of\s+|&\s+)?[A-Z][A-Za-z0-9'’\-]*)*")
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff·・]+")
MAX_TERM_CHARS = 6
# How alike a name and the pinyin of a Chinese candidate must be to be its transliteration
# (difflib ratio on simplified spellings: 卡帕西 kapaxi / Karpathy 0.62, 奥特曼 aoteman / Altman 0.77).
TRANSLITERATION_MIN = 0.6
# A Chinese candidate must come with its English name in most of the pairs it occurs in.
COOCCURRENCE_MIN = 0.5
_COMMON_CAPITALISED = frozenset("""I A An The This That These Those It He She We They You My Our Your His Her Their
And But Or So If When Then There Here What Why How Who Which Where Yes No Not Now Well Okay OK Also Just Mr Mrs Ms Dr
Today Yesterday Tomorrow""".split())


def mine_document_glossary(pairs: Iterable[tuple[str, str]]) -> Glossary:
    """Names a document's aligned ``(Chinese, English)`` pairs render consistently, as a Glossary.

    An English name (capitalised words, not a sentence's common first word, not already
    Latin in the Chinese) is paired with the Chinese span of 2..MAX_TERM_CHARS characters in
    the same pairs whose CC-CEDICT glosses give its words (马斯克 -> Elon, 资本 -> capital), or that
    is its transliteration (pinyin alike, TRANSLITERATION_MIN) and comes with it in at least
    COOCCURRENCE_MIN of the pairs it occurs in. Each Chinese span keeps its best-scored
    English name, and each name its best-scored span (the longer on a tie: 卡帕西, not 卡帕).
    """
    from toolkit.align.lexicon import load_cedict, load_pinyin, stem

    pairs = [(zh, en) for zh, en in pairs if zh.strip() and en.strip()]
    simplified, in_script = _simplified([zh for zh, _ in pairs])
    pairs = [(zh, en) for zh, (_, en) in zip(simplified, pairs)]
    readings, cedict = load_pinyin(), load_cedict()
    zh_counts: Counter[str] = Counter()
    candidates_of: list[set[str]] = []
    for zh, _ in pairs:
        spans = _chinese_spans(zh, cedict)
        candidates_of.append(spans)
        zh_counts.update(spans)
    best: dict[str, tuple[float, int, str]] = {}  # zh -> (score, length, en)
    joint: Counter[tuple[str, str]] = Counter()
    scores: dict[tuple[str, str], float] = {}
    # Words the document writes in lower case, or that are dictionary English: common, not names.
    lowercase_words = {w for _, en in pairs for w in re.findall(r"\b[a-z][a-z'’\-]*", en)} | _gloss_vocabulary()
    for (zh, en), spans in zip(pairs, candidates_of):
        for name in _english_names(en, zh, lowercase_words):
            for span in spans:
                key = (span, name)
                joint[key] += 1
                if key not in scores:
                    scores[key] = _name_similarity(span, name, readings, cedict, stem)
    for (span, name), together in joint.items():
        score = scores[(span, name)]
        # A dictionary translation (score above 1) needs no more evidence; a sound-alike must mostly
        # come with its name.
        if score <= 0 or (score < 1 and together / zh_counts[span] < COOCCURRENCE_MIN):
            continue
        current = best.get(span)
        if current is None or (score, together) > (current[0], current[1]):
            best[span] = (score, together, name)
    terms = [(span, name) for span, (_, _, name) in best.items()]
    # One English name, one Chinese span: the best-scored (a longer one on a tie).
    chosen: dict[str, tuple[float, Term]] = {}
    for span, name in terms:
        score = best[span][0]
        if name not in chosen or (score, len(span)) > (chosen[name][0], len(chosen[name][1][0])):
            chosen[name] = (score, (span, name))
    terms = [(in_script(zh), en) for _, (zh, en) in chosen.values()]
    return Glossary(tuple(sorted(terms, key=lambda t: t[0])), origin="document")


def _simplified(texts: list[str]):
    """``texts`` in simplified script (the dictionary's), and a function giving a span of them back in
    the texts' own script (a traditional source keeps 奧特曼 where 奥特曼 was found)."""
    from toolkit.text.normalize import to_simplified

    converted = []
    for text in texts:
        simple = to_simplified(text)
        converted.append(simple if len(simple) == len(text) else text)  # t2s keeps lengths; else as it is
    changed = [(simple, text) for simple, text in zip(converted, texts) if simple != text]

    def in_script(span: str) -> str:
        for simple, text in changed:
            at = simple.find(span)
            if at >= 0:
                return text[at:at + len(span)]
        return span

    return converted, in_script


# A Chinese name or term with its original in brackets right after it: 奥特曼(Sam Altman), 简·雷克（Jan Leike）.
_BRACKETED = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff·・]+)\s*[(（]\s*"
                        r"([A-Za-z][A-Za-z0-9'’.\-]*(?:\s+[A-Za-z0-9][A-Za-z0-9'’.\-]*){0,5})\s*[)）]")
MAX_NAME_CHARS = 10  # a transliterated full name with its dot: 达里奥·阿莫迪, 肯尼斯·斯坦利


def bracketed_terms(texts: Iterable[str]) -> Glossary:
    """The renderings a Chinese text states itself, where it puts the original in brackets after a
    name or term: 奥特曼(Sam Altman), 伊利亚(Ilya Sutskever), 简·雷克(Jan Leike), 红杉资本(Sequoia Capital).

    Which characters before the bracket are the term, and which words of the original it renders, is
    decided by :func:`_name_similarity` (dictionary glosses, or a transliteration's likeness): every
    ending of the Chinese run (2..MAX_NAME_CHARS characters) against every run of the original's
    words, the best kept (the longer Chinese on a tie). So 奥特曼(Sam Altman) gives 奥特曼 = Altman,
    the name the text calls him by afterwards, and 伊利亚(Ilya Sutskever) 伊利亚 = Ilya. A full name with
    a dot also gives its last part: 简·雷克 = Jan Leike and 雷克 = Leike. A bracket nothing in the
    Chinese renders (超级智能(ASI), an English gloss the dictionary does not confirm) gives nothing,
    and neither does a two-character common word (组织(Organizations)): the text glosses it once,
    it need not say it so everywhere. The first statement of a term wins; a traditional-script
    text is read through its simplified form and keeps its own characters (奧特曼).
    """
    from toolkit.align.lexicon import load_cedict, load_pinyin, stem

    readings, cedict = load_pinyin(), load_cedict()
    terms: dict[str, str] = {}
    simplified, in_script = _simplified(list(texts))
    for text in simplified:
        for match in _BRACKETED.finditer(text):
            run, original = match.group(1), match.group(2).strip(" .")
            words = original.split()
            parts = {" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)}
            scored = []
            for size in range(2, min(MAX_NAME_CHARS, len(run)) + 1):
                span = run[-size:]
                if span[0] in "·・" or ("·" not in span and "・" not in span and size > MAX_TERM_CHARS):
                    continue
                after_dot = run[:-len(span)].endswith(("·", "・"))
                for name in parts:
                    score = _name_similarity(span, name, readings, cedict, stem)
                    # Part of the original only as a transliteration (伊利亚 = Ilya) or the family name
                    # after a dot (乔尔·雷曼: 雷曼 = Lehman); a translation renders all of it (公开 is not
                    # the "open" of "open source", 资本 not the "Capital" of "Sequoia Capital").
                    common_word = score >= 1 and len(span) < 3 and " " not in name and not after_dot  # 组织
                    if score > 0 and (score < 1 or name == original or after_dot) and not common_word:
                        scored.append((score, len(span), len(name), span, name))
            if not scored:
                continue
            _, _, _, span, name = max(scored)
            full = next((s for _, _, _, s, n in sorted(scored, reverse=True) if n == original and "·" in s), None)
            if full and full != span:  # 简·雷克 = Jan Leike as well as the 雷克 = Leike it scored best
                terms.setdefault(full, original)
            terms.setdefault(span, name)
            if "·" in span or "・" in span:  # the family name alone, as the text goes on to use it
                family, last = re.split("[·・]", span)[-1], name.split()[-1]
                if len(family) >= 2 and _name_similarity(family, last, readings, cedict, stem) > 0:
                    terms.setdefault(family, last)
    return Glossary(tuple((in_script(zh), en) for zh, en in terms.items()), origin="document")


def _chinese_spans(zh: str, cedict: dict) -> set[str]:
    """Spans of 2..MAX_TERM_CHARS Chinese characters that start and end on word boundaries (forward
    maximum matching over CC-CEDICT: 开发更 is 开发|更, so 发更 is no candidate; a transliteration
    that is no dictionary word falls apart into characters and stays one)."""
    spans = set()
    for run in _HAN_RUN.findall(zh):
        cuts = {0, len(run)}
        pos = 0
        while pos < len(run):
            size = next((n for n in range(min(MAX_TERM_CHARS, len(run) - pos), 1, -1)
                         if run[pos:pos + n] in cedict), 1)
            pos += size
            cuts.add(pos)
        for start in sorted(cuts):
            for end in sorted(cuts):
                span = run[start:end]
                if 2 <= len(span) <= MAX_TERM_CHARS and span[0] not in "·・" and span[-1] not in "·・":
                    spans.add(span)
    return spans


@functools.lru_cache(maxsize=1)
def _gloss_vocabulary() -> frozenset[str]:
    from toolkit.align.lexicon import load_cedict

    return frozenset(w for stems in load_cedict().values() for w in stems)


def _english_names(en: str, zh: str, lowercase_words: set[str]) -> list[str]:
    """The names of an English sentence: capitalised runs, without a common word that is capitalised
    only because it starts the sentence (one the document also writes in lower case)."""
    from toolkit.align.lexicon import stem

    names = []
    for match in _EN_NAME.finditer(en):
        words = match.group().strip(" '’-").split()
        at_start = match.start() == 0 or re.search(r"[.!?:\"“(]\s*$", en[:match.start()])
        if words and at_start and (words[0].lower() in lowercase_words or stem(words[0]) in lowercase_words):
            words = words[1:]
        while words and words[0] in _COMMON_CAPITALISED:
            words = words[1:]
        name = " ".join(words)
        if not name or name.lower() in zh.lower() or not re.search(r"[a-z]", name):
            continue  # Latin in the Chinese already (the latin check keeps it), or all capitals
        if name not in names:
            names.append(name)
    return names


# Pinyin and English spell the same sounds differently; both are folded to one rough spelling.
_PINYIN_FOLD = [("zh", "j"), ("ch", "ch"), ("sh", "sh"), ("x", "s"), ("q", "ch"), ("ao", "au"), ("ou", "o"),
                ("yi", "i"), ("wu", "u"), ("ui", "uei"), ("iu", "iou")]
_ENGLISH_FOLD = [("ph", "f"), ("th", "t"), ("ck", "k"), ("c", "k"), ("y", "i"), ("w", "u"), ("ll", "l"),
                 ("tt", "t"), ("ss", "s"), ("x", "ks"), ("q", "k")]


def _fold(text: str, rules) -> str:
    for old, new in rules:
        text = text.replace(old, new)
    return text


def _name_similarity(span: str, name: str, readings: dict, cedict: dict, stem) -> float:
    """How well Chinese ``span`` renders English ``name``, 0 if it does not: above 1 when it translates
    it (every dictionary word of the span has a CC-CEDICT gloss among the name's words, and every
    word of the name is such a gloss: 红杉|资本 -> Sequoia Capital), else its transliteration likeness
    (0 for a span that cannot be one: see :func:`_sounds_only`)."""
    words = {stem(w) for w in re.findall(r"[a-z]+", name.lower())}
    if not words:
        return 0.0
    parts = _dictionary_words(span.replace("·", "").replace("・", ""), cedict)
    if parts and all(set(cedict[p]) & words for p in parts) and words <= set().union(*(cedict[p] for p in parts)):
        return 1.0 + 0.01 * len(span)
    syllables = [readings.get(ch, "") for ch in span if ch not in "·・"]
    english = re.sub(r"[^a-z]", "", name.lower())
    if not all(syllables) or len(english) < 4 or not _sounds_only(span):
        return 0.0
    pinyin = _fold("".join(syllables), _PINYIN_FOLD)
    english = _fold(english, _ENGLISH_FOLD)
    if not _same_first_sound(pinyin, english):
        return 0.0
    # Letters alike, and sounds alike (consonants by place, vowels as one): 辛顿 sindun / Hinton.
    letters = difflib.SequenceMatcher(None, pinyin, english).ratio()
    sounds = difflib.SequenceMatcher(None, _sound_classes(pinyin), _sound_classes(english)).ratio()
    score = (letters + sounds) / 2
    return score if score >= TRANSLITERATION_MIN else 0.0


# Characters that are grammar, not sound: a span that begins or ends with one is no transliteration
# (主义的, 伊利亚这, 而奥特曼, 了一个所有人).
_GRAMMAR = frozenset("的了这那将而是在和与就也都把被对从给让说着过们之其该此及或又还再只很更最")


def _sounds_only(span: str) -> bool:
    """True if ``span`` could be a transliteration: not a common word (个人 "individual" is not Greg's)
    and no grammar at its ends (主义的, 伊利亚这). A common word inside one is allowed: 卡帕 in 卡帕西."""
    from toolkit.align.lexicon import common_words

    return span not in common_words() and span[0] not in _GRAMMAR and span[-1] not in _GRAMMAR


def _dictionary_words(span: str, cedict: dict) -> list[str]:
    """``span`` cut into CC-CEDICT words by forward maximum matching ([] if some part is no word)."""
    parts: list[str] = []
    pos = 0
    while pos < len(span):
        size = next((n for n in range(min(MAX_TERM_CHARS, len(span) - pos), 0, -1) if span[pos:pos + n] in cedict), 0)
        if not size:
            return []
        parts.append(span[pos:pos + size])
        pos += size
    return parts


_SOUND_CLASS = str.maketrans("aeiouybpdtgkcfvhsxzjqlrmnw", "aaaaaabbddgggfffsssssllnnu")


def _sound_classes(text: str) -> str:
    return text.translate(_SOUND_CLASS)


_SOUND_GROUPS = ["aeiouy", "bp", "td", "kgc", "fvh", "sxzjc", "lr", "mn", "wu"]


def _same_first_sound(pinyin: str, english: str) -> bool:
    a, b = pinyin[:1], english[:1]
    if a == b or (a == "s" and b == "h"):  # 辛顿 xin-dun: Hinton
        return True
    return any(a in group and b in group for group in _SOUND_GROUPS)
