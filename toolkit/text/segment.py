"""Split a Chinese or English document into sentence segments.

Pure Python and regular expressions; linear in the length of the text.

Chinese: every non-empty input line is a paragraph and sentences never cross a
line break. A sentence ends after 。！？!? or an ellipsis (…… / ...), together
with the closing quotes, brackets and footnote marks that follow; a lone
half-width "." ends a sentence only before a Han character ("2.5亿", "GPT-3.5"
and URLs stay whole); semicolons never end one.

English: blocks are runs of non-empty lines. A block whose lines mostly end in
sentence-final punctuation is one paragraph per line; otherwise (ASR output
with one fragment per line, or prose wrapped at a fixed width) its lines are
joined with spaces and re-split. A sentence ends after . ! ? or an ellipsis
(plus closing quotes/brackets) followed by whitespace and an uppercase letter,
digit or opening quote, except after abbreviations, initials and dotted
acronyms.

Both languages: a speaker label at the start of a line (``Sam Altman:``,
``主持人：``) stays in the text of the turn's first sentence and sets its
``speaker``; a line wholly in brackets (``[APPLAUSE]``) is a ``note``; a short
line without sentence-final punctuation (a title, ``目录:``, ``一、…``) is a
``heading``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from toolkit.core.records import Document, Segment
from toolkit.text.normalize import detect_script, normalize_for_matching

LANGS = ("zh", "en")

# An English block is joined and re-split when more than this share of its
# lines (all but the last) do not end a sentence ...
JOIN_UNTERMINATED_SHARE = 0.5
# ... or when at least this share of its lines (all but the first) start in
# lowercase, which prose never does and ASR fragments often do.
JOIN_LOWERCASE_SHARE = 0.25
# Longest line (in characters) that can be taken as a heading.
MAX_HEADING_CHARS = {"zh": 50, "en": 100}
MAX_ENUMERATED_HEADING_CHARS = 80

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RE = re.compile(f"[{_HAN}]")
_CLOSERS = "\"'”’」』）)\\]】》〉»"
_OPENERS = "\"'“‘「『（(\\[【《〈«"
_BRACKET_PAIRS = {"[": "]", "(": ")", "（": "）", "【": "】", "〔": "〕", "［": "］"}
_WORD_CHAR_RE = re.compile(rf"[0-9A-Za-z{_HAN}\u00c0-\u024f]")
# A URL ends on a character that cannot be sentence punctuation.
_URL_RE = re.compile(r"(?:https?://|www\.)[\x21-\x7e]*[A-Za-z0-9/=&#_~\-]")

# --- speaker labels -------------------------------------------------------


def _without_label(text: str, speaker: str | None) -> str:
    """The text with its leading ``Speaker:`` label removed, for matching only.

    The other side rarely repeats the label, so it would only add noise.
    """
    if speaker and text.startswith(speaker):
        rest = text[len(speaker):].lstrip()
        if rest[:1] in (":", "："):
            return rest[1:].lstrip() or text
    return text

_NAME_PARTICLES = "de|da|di|du|van|von|der|den|del|della|la|le|bin|ibn|al|el|st"
_LATIN_NAME = (
    r"[A-Z][A-Za-z0-9'’.\-]*"
    rf"(?: (?:[A-Z][A-Za-z0-9'’.\-]*|(?:{_NAME_PARTICLES})(?= )|\d{{1,2}}(?=\s*[:：])))" r"{0,3}"
)  # a diarized transcript's "Speaker 2:" too (a number only as the last word)
_CJK_NAME = rf"[{_HAN}·・]{{1,6}}"
_LABEL_RE = re.compile(rf"\s*(?P<name>{_LATIN_NAME}|{_CJK_NAME})\s*[:：]\s*")
_NUMBERED_LABEL_RE = re.compile(r"(.+) \d{1,2}")
_PERSON_WORD_RE = re.compile(r"(?:[A-Z][a-z'’\-]+\.?|[A-Z]\.?|" + _NAME_PARTICLES + r")")
# Words that look like a label but introduce content rather than a speaker.
_NOT_SPEAKERS = frozenset(
    "note notes nb update updated source sources warning caution summary title abstract "
    "keywords example examples contents chapter section part step tip tips caption credit "
    "credits disclaimer transcript edit editor date time location tags category "
    "and but or so yes no well okay ok now then here there remember".split()
)
# Roles accepted as speakers even when they label a single turn.
_ROLE_SPEAKERS = frozenset(
    "主持人 主持 记者 記者 观众 觀眾 提问 提問 提问者 提問者 问 問 答 嘉宾 嘉賓 "
    "采访者 採訪者 受访者 受訪者 旁白 Q A Host Moderator Interviewer Audience".split()
)

# --- headings -------------------------------------------------------------
_ENUMERATOR_RE = re.compile(
    r"\s*(?:"
    r"[一二三四五六七八九十百零〇]+[、.．]"
    r"|[（(][一二三四五六七八九十0-9]+[）)]"
    r"|第[一二三四五六七八九十百零〇0-9]+[章节節部篇回卷]"
    r"|/\s*\d+\s*/"
    r"|\d+(?:\.\d+)*[、.．](?!\d)"
    r"|\d+(?:\.\d+)+\s"
    r"|#+\s"
    r"|(?:Chapter|Part|Section)\s+\w+"
    r")"
)
_HEADING_WORDS = frozenset(
    "目录 目錄 参考 參考 参考资料 參考資料 参考文献 參考文獻 附录 附錄 注释 註釋 "
    "contents table of contents references notes appendix".split()
)

# --- sentence ends --------------------------------------------------------
_ZH_TERMINATOR_RUN_RE = re.compile(r"[。！？!?…｡.．]+")
_EN_TERMINATOR_RUN_RE = re.compile(r"[.!?…]+")
_TRAILING_CLOSERS_RE = re.compile(rf"(?:[{re.escape(_CLOSERS)}]|\[\d+\])*")
_TRAILING_CLOSERS_AT_END_RE = re.compile(rf"(?:[{re.escape(_CLOSERS)}\s]|\[\d+\])+$")
_EN_NEXT_SENTENCE_RE = re.compile(rf"\s+[{re.escape(_OPENERS)}]?[A-Z0-9]")
_ZH_NO_BREAK_BEFORE = frozenset("，,、；;：:" + _CLOSERS)
_LEADING_NUMBER_RE = re.compile(r"\d{1,3}")
_LONG_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’\-]{3,}")
_WORD_BEFORE_DOT_RE = re.compile(r"[A-Za-z.]*$")
_DOTTED_ACRONYM_RE = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
# Never a sentence end: titles, Latin abbreviations, company suffixes.
_ABBREVIATIONS = frozenset(
    "mr mrs ms mx dr prof st jr sr rev fr gen col lt capt cpt sgt maj gov sen rep pres "
    "hon mt ft vs etc inc ltd co corp bros approx cf al e.g i.e u.s u.k u.n a.m p.m "
    "ph.d b.a m.a d.c".split()
)
# A sentence end unless a number follows ("No. 5", "Jan. 12", "Fig. 3").
_NUMBER_ABBREVIATIONS = frozenset(
    "no nos vol vols p pp fig figs art ch sec eq ed jan feb mar apr jun jul aug sep sept "
    "oct nov dec".split()
)
_SENTENCE_FINAL = frozenset("。！？!?….．｡")


@dataclass
class _Piece:
    text: str
    kind: str
    speaker: str | None
    paragraph: int


def segment_document(text: str, lang: str, name: str = "", presegmented: bool = False,
                     starts: Sequence[tuple[int, float]] = ()) -> Document:
    """Split ``text`` into a :class:`Document` of :class:`Segment` records.

    Segment ``text`` is the sentence exactly as written, stripped of
    surrounding whitespace (joined ASR fragments are joined with one space);
    ``norm`` is :func:`normalize_for_matching` of it; ``paragraph`` is the
    index of the input line (Chinese) or paragraph/joined block (English) it
    came from. For Chinese, ``Document.script`` is the detected script.

    With ``presegmented=True`` every non-empty line is one segment, taken as
    is; speaker labels and bracketed notes are still recognized, headings are
    not guessed (a headline and an ASR fragment look the same).

    ``starts`` are the times of a timed input (``(offset into text, seconds)``, offsets
    ascending, as :class:`toolkit.formats.reader.SourceText` gives them): each segment's
    ``start`` is the time of the text where its first word is, and no segment is taken
    as a heading (speech has none). Without them ``start`` is None.
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGS}")
    lines = [line.strip() for line in re.split(r"\r\n?|\n", text)]
    speakers = _SpeakerLabels(lines)
    headings = not starts  # speech has none: a short cue is a fragment, not a title
    if presegmented:
        pieces = _presegmented_pieces(lines, speakers)
    elif lang == "zh":
        pieces = _chinese_pieces(lines, speakers, headings)
    else:
        pieces = _english_pieces(lines, speakers, headings)
    segments = tuple(
        Segment(
            index=i,
            text=p.text,
            norm=normalize_for_matching(_without_label(p.text, p.speaker), lang),
            lang=lang,
            speaker=p.speaker,
            kind=p.kind,
            paragraph=p.paragraph,
            start=start,
        )
        for i, (p, start) in enumerate(zip(pieces, _piece_starts(pieces, text, starts)))
    )
    script = detect_script(text) if lang == "zh" else ""
    return Document(name=name, lang=lang, segments=segments, script=script)


_START_SEARCH_SLACK = 200  # characters searched beyond a piece's length for where it starts


def _piece_starts(pieces: list[_Piece], text: str, starts: Sequence[tuple[int, float]]) -> list[float | None]:
    """The time of each piece: that of the text where it begins, found by a forward search.

    A piece is its text's words in order (the segmenter only strips and joins with single
    spaces), so it is looked for with whitespace folded; a piece not found whole (a
    punctuation-only bit glued to it) is placed by its first word. Linear in the text.
    """
    if not starts:
        return [None] * len(pieces)
    words = [(match.start(), match.group()) for match in re.finditer(r"\S+", text)]
    folded = " ".join(word for _, word in words)
    folded_starts, position = [], 0
    for _, word in words:
        folded_starts.append(position)
        position += len(word) + 1

    def raw_offset(index: int) -> int:
        k = bisect_right(folded_starts, index) - 1
        return words[k][0] + index - folded_starts[k]

    offsets = [offset for offset, _ in starts]
    times, cursor = [], 0
    for piece in pieces:
        probe = " ".join(piece.text.split())
        # A piece starts right after the one before: a bounded window keeps misses linear.
        window = cursor + 2 * len(probe) + _START_SEARCH_SLACK
        found = folded.find(probe, cursor, window)
        if found < 0:
            found = folded.find(probe.split(" ", 1)[0], cursor, window)
        if found < 0:
            times.append(times[-1] if times else None)
            continue
        cursor = found + (len(probe) if folded.startswith(probe, found) else 1)
        k = bisect_right(offsets, raw_offset(found)) - 1
        times.append(starts[k][1] if k >= 0 else None)
    return times


# --- speaker labels -------------------------------------------------------


class _SpeakerLabels:
    """Decides, for the whole document, which line-initial ``Name:`` are speakers.

    A name counts when it labels two or more lines, is a known role (主持人, Q),
    or is a person-like name of two or more capitalized words ("Sam Altman",
    not "Note"); a single capitalized word labelling one line counts only in a
    document that already has speaker turns (the audience "Alex:" in an
    interview). A one-off short Chinese label ("信仰:", "來源:") is not trusted.
    """

    def __init__(self, lines: list[str]):
        self._matches: dict[int, re.Match] = {}
        for i, line in enumerate(lines):
            match = _LABEL_RE.match(line)
            if match:
                self._matches[i] = match
        counts = Counter(m["name"] for m in self._matches.values())
        accepted = {n for n, c in counts.items() if self._is_clear_speaker(n, c)}
        interview = bool(accepted)
        self._accepted = accepted | {
            n for n in counts
            if interview and _looks_like_person(n) and n.lower() not in _NOT_SPEAKERS and not _is_narration(n)
        }
        # "Speaker 2:" once, where "Speaker 1:" is a speaker: a diarized transcript's numbered labels
        numbered = {m[1] for n in accepted if (m := _NUMBERED_LABEL_RE.fullmatch(n))}
        self._accepted |= {n for n in counts if (m := _NUMBERED_LABEL_RE.fullmatch(n)) and m[1] in numbered}

    @staticmethod
    def _is_clear_speaker(name: str, count: int) -> bool:
        if name in _ROLE_SPEAKERS:
            return True
        if name.lower() in _NOT_SPEAKERS or _is_narration(name):
            return False
        if count >= 2:
            return True
        return " " in name and _looks_like_person(name)

    def label(self, line_number: int) -> tuple[str, str] | None:
        """``(speaker, rest of the line)`` when the line opens a speaker's turn."""
        match = self._matches.get(line_number)
        if match is None or match["name"] not in self._accepted:
            return None
        return match["name"], match.string[match.end():]


# Fiction introduces speech with a verb ("韦小宝笑道：", "凤姐道：", "他想："):
# narration, not a transcript's speaker label.
_SPEECH_VERB_RE = re.compile(r"(?:道|说|說|问|問|答|想|叫|喊|骂|罵|嚷|讲|講|曰|云)$")


def _is_narration(name: str) -> bool:
    return bool(_SPEECH_VERB_RE.search(name))


def _looks_like_person(name: str) -> bool:
    return all(_PERSON_WORD_RE.fullmatch(word) for word in name.split(" "))


# --- the three modes ------------------------------------------------------


def _presegmented_pieces(lines: list[str], speakers: _SpeakerLabels) -> list[_Piece]:
    pieces = []
    for i, line in enumerate(lines):
        if not line:
            continue
        label = speakers.label(i)
        kind = "note" if _is_bracketed(line) else "sentence"
        pieces.append(_Piece(line, kind, label[0] if label else None, len(pieces)))
    return pieces


def _chinese_pieces(lines: list[str], speakers: _SpeakerLabels, headings: bool = True) -> list[_Piece]:
    pieces: list[_Piece] = []
    paragraph = -1
    pending_speaker = None
    for i, line in enumerate(lines):
        if not line:
            continue
        paragraph += 1
        label = speakers.label(i)
        if label and not label[1]:  # "Sam Altman:" alone; the turn starts on the next line
            pieces.append(_Piece(line, "note", label[0], paragraph))
            pending_speaker = label[0]
            continue
        speaker = label[0] if label else pending_speaker
        pending_speaker = None
        if not label and _is_bracketed(line):
            pieces.append(_Piece(line, "note", speaker, paragraph))
            continue
        sentences = _split_chinese(line)
        kind = "heading" if headings and not label and _is_heading(sentences, "zh") else "sentence"
        for n, sentence in enumerate(sentences):
            pieces.append(_Piece(sentence, kind, speaker if n == 0 else None, paragraph))
    return pieces


def _english_pieces(lines: list[str], speakers: _SpeakerLabels, headings: bool = True) -> list[_Piece]:
    pieces: list[_Piece] = []
    paragraph = 0
    pending_speaker = None
    for block in _blocks(lines):
        if _should_join(block, lines):
            units = _joined_streams(block, lines, speakers)
        else:
            units = [(lines[i], i, False) for i in block]
        for unit_text, first_line, joined in units:
            label = speakers.label(first_line)
            if label and not label[1]:  # "Sam Altman:" alone; the turn starts on the next line
                pieces.append(_Piece(unit_text, "note", label[0], paragraph))
                pending_speaker = label[0]
                paragraph += 1
                continue
            if not label and _is_bracketed(unit_text):
                pieces.append(_Piece(unit_text, "note", None, paragraph))
                paragraph += 1
                continue
            speaker = label[0] if label else pending_speaker
            pending_speaker = None
            sentences = _split_english(unit_text)
            heading = headings and not joined and not label and _is_heading(sentences, "en")
            kind = "heading" if heading else "sentence"
            for n, sentence in enumerate(sentences):
                pieces.append(_Piece(sentence, kind, speaker if n == 0 else None, paragraph))
            paragraph += 1
    return pieces


def _blocks(lines: list[str]) -> list[list[int]]:
    """Line numbers of each run of non-empty lines."""
    blocks: list[list[int]] = []
    current: list[int] = []
    for i, line in enumerate(lines):
        if line:
            current.append(i)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _should_join(block: list[int], lines: list[str]) -> bool:
    """True for ASR fragments or wrapped prose, False for one paragraph per line."""
    text_lines = [lines[i] for i in block if not _is_bracketed(lines[i])]
    if len(text_lines) < 2:
        return False
    unterminated = sum(1 for line in text_lines[:-1] if not _ends_sentence(line))
    lowercase = sum(1 for line in text_lines[1:] if line[0].islower())
    n = len(text_lines) - 1
    return unterminated > JOIN_UNTERMINATED_SHARE * n or lowercase >= JOIN_LOWERCASE_SHARE * n


def _joined_streams(
    block: list[int], lines: list[str], speakers: _SpeakerLabels
) -> list[tuple[str, int, bool]]:
    """Join a block's lines into streams ``(text, first line number, joined)``.

    A bracketed note line stands alone and a speaker label starts a new
    stream, so neither is glued into the neighbouring sentences.
    """
    units: list[tuple[str, int, bool]] = []
    current: list[str] = []
    start = block[0]

    def flush() -> None:
        if current:
            units.append((" ".join(current), start, True))
            current.clear()

    for i in block:
        line = lines[i]
        if _is_bracketed(line):
            flush()
            units.append((line, i, False))
            continue
        if i == block[0] and len(block) > 1 and _is_title_line(line, lines[block[1]]):
            units.append((line, i, False))  # "Introduction" above wrapped prose
            continue
        if speakers.label(i) or not current:
            flush()
            start = i
        current.append(line)
    flush()
    return units


# --- sentence splitting ---------------------------------------------------


def _split_chinese(line: str) -> list[str]:
    protected = _protected_spans(line)
    cuts = []
    for match in _ZH_TERMINATOR_RUN_RE.finditer(line):
        run = match.group()
        if _inside(match.start(), protected):
            continue
        end = _TRAILING_CLOSERS_RE.match(line, match.end()).end()
        rest = line[end:].lstrip()
        if not rest or rest[0] in _ZH_NO_BREAK_BEFORE:
            continue
        if set(run) <= {".", "．"}:
            # A half-width dot ends a sentence only before Han text, and not
            # after an abbreviation ("U.S.公司") or inside "A.I.".
            if not _HAN_RE.match(rest) or (len(run) == 1 and _is_abbreviation(line, match.start(), rest)):
                continue
        cuts.append(end)
    return _cut(line, cuts)


def _split_english(text: str) -> list[str]:
    cuts = []
    for match in _EN_TERMINATOR_RUN_RE.finditer(text):
        if match.start() < 4 and _LEADING_NUMBER_RE.fullmatch(text, 0, match.start()):
            continue  # "1. Introduction": a list number, not a sentence
        end = _TRAILING_CLOSERS_RE.match(text, match.end()).end()
        follow = _EN_NEXT_SENTENCE_RE.match(text, end)
        if follow is None:
            continue
        if match.group() == "." and _is_abbreviation(text, match.start(), text[follow.end() - 1:]):
            continue
        cuts.append(end)
    return _cut(text, cuts)


def _is_abbreviation(text: str, dot: int, following: str) -> bool:
    """Whether the single "." at ``dot`` closes an abbreviation, initial or acronym."""
    # Look back a bounded distance: searching from 0 would make long joined
    # ASR streams quadratic.
    word = _WORD_BEFORE_DOT_RE.search(text, max(0, dot - 32), dot).group()
    if not word:
        return False
    lower = word.lower()
    if lower in _ABBREVIATIONS or _DOTTED_ACRONYM_RE.fullmatch(word):
        return True
    if lower in _NUMBER_ABBREVIATIONS and following[:1].isdigit():
        return True
    # An initial: "J. R. R. Tolkien", "George W. Bush" (but not the pronoun I).
    return len(word) == 1 and word.isupper() and word != "I"


def _cut(text: str, cuts: list[int]) -> list[str]:
    """Split at the cut offsets; punctuation-only bits join the sentence before."""
    sentences: list[str] = []
    start = 0
    for end in [*cuts, len(text)]:
        sentence = text[start:end].strip()
        start = end
        if not sentence:
            continue
        if sentences and not _WORD_CHAR_RE.search(sentence):
            sentences[-1] = f"{sentences[-1]}{sentence}"
        else:
            sentences.append(sentence)
    return sentences


def _protected_spans(line: str) -> list[tuple[int, int]]:
    return [m.span() for m in _URL_RE.finditer(line)] if "/" in line or "www." in line else []


def _inside(offset: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= offset < end for start, end in spans)


# --- kinds ----------------------------------------------------------------


def _is_bracketed(line: str) -> bool:
    """A line wholly inside one pair of brackets: ``[APPLAUSE]``, ``(本文作者…)``."""
    close = _BRACKET_PAIRS.get(line[:1])
    if close is None or not line.endswith(close) or len(line) < 3:
        return False
    depth = 0
    for offset, char in enumerate(line):
        if char == line[0]:
            depth += 1
        elif char == close:
            depth -= 1
            if depth == 0 and offset != len(line) - 1:
                return False  # "(左)与老师(右)": the first pair closes early
    return True


def _ends_sentence(line: str) -> bool:
    stripped = _TRAILING_CLOSERS_AT_END_RE.sub("", line)
    return bool(stripped) and stripped[-1] in _SENTENCE_FINAL


def _is_title_line(line: str, next_line: str) -> bool:
    """A title-cased first line of an English block, followed by a new sentence."""
    if not _is_heading([line], "en") or not next_line[:1].isupper():
        return False
    words = _LONG_WORD_RE.findall(line)
    capitalized = sum(1 for word in words if word[0].isupper())
    return bool(words) and capitalized >= 0.6 * len(words)


def _is_heading(sentences: list[str], lang: str) -> bool:
    """A one-sentence line without sentence-final punctuation that is short,
    numbered (一、 / 01 / 1.2) or a known heading word (目录:)."""
    if len(sentences) != 1:
        return False
    line = sentences[0]
    if _ends_sentence(line) or line[-1] in "，,、；;":
        return False
    if line[-1] in ":：":
        return line[:-1].strip().lower() in _HEADING_WORDS
    if _ENUMERATOR_RE.match(line):
        return len(line) <= MAX_ENUMERATED_HEADING_CHARS
    if len(line) > MAX_HEADING_CHARS[lang]:
        return False
    if lang == "en":
        return line[0].isupper() or line[0].isdigit() or line[0] in _OPENERS
    return True
