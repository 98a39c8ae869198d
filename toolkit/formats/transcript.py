"""Subtitles and timestamped transcripts: the text they carry, and when each part of it starts.

Three forms, recognised by content (the file's suffix is not needed):

- **WebVTT** (``WEBVTT`` on the first line): header, ``NOTE``, ``STYLE`` and ``REGION``
  blocks, cue identifiers and cue settings are skipped; tags (``<c>``, ``<i>``, ``<b>``,
  ``<ruby>``...) are dropped with their text kept, an inline timestamp ``<00:00:01.500>``
  marks when the words after it start, ``<v Name>`` is a speaker.
- **SubRip** (``.srt``: a cue number, then ``00:00:01,000 --> 00:00:04,000``): numbers and
  timings skipped, ``<i>``/``<font>`` tags and ``{\\an8}`` codes dropped.
- **Timestamped transcripts**: lines that start with a time, ``[00:01:02] text``,
  ``[01:02] text``, ``(01:02) text``, ``00:01:02 text``, ``[00:01:02.000 --> 00:01:05.000] text``
  (Whisper); a line without one continues the line above. A bare time needs hours or a
  fraction (``01:02`` alone could be a clock time in ordinary prose). A speaker and a time
  alone on a line with the text below (``Speaker 1  0:00``, ``Jane Doe (01:02):``, as Otter
  and Rev export) starts that speaker's turn.

YouTube's automatic captions roll: each cue repeats the line of the one before and adds one,
and a 10 ms cue shows the finished lines again. When a file's cues mostly start with the
previous cue's last line, those repeats (and a line repeated as the start of a longer one)
are dropped, so every word is read once.

Speaker turns: ``>>`` (a new speaker, name unknown), a dialogue dash ``- `` at the start of a
cue line, ``<v Name>``, and a line-initial label (``JOHN:``, ``Sam Altman:``) each start a
new paragraph; ``>>`` and the dash are dropped, a name is kept as a ``Name:`` label for the
segmenter to recognise. A cue that is wholly bracketed (``[Music]``, ``(applause)``) is a
paragraph of its own (a note). Everything else of a turn is joined with spaces (Chinese
cues ending in punctuation without one) for the segmenter to re-split into sentences.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass, field

# A file is taken as rolling captions when at least this share of its cues (after the
# first) begins with the previous cue's last line, or with it grown by more words (YouTube's
# own: nearly all of them; ordinary captions repeat a line now and then).
ROLLING_SHARE = 0.6
# A timestamped transcript: its first text line and at least this share of its text lines
# start with a time, and at least MIN_STAMPED_LINES do.
MIN_STAMPED_SHARE = 0.3
MIN_STAMPED_LINES = 2

# English captions with fewer sentence ends than one per this many words are unpunctuated
# (YouTube's automatic captions have none): their cues are grouped into segments of at least
# UNPUNCTUATED_WORDS words instead of being joined into one endless sentence.
MAX_WORDS_PER_SENTENCE = 60
UNPUNCTUATED_WORDS = 1

_SENTENCE_END_RE = re.compile(r"[.!?…](?=[\s\"'”’)\]]|$)")
_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_TIMING_LINE_RE = re.compile(rf"^\s*({_TIME})\s*-->\s*({_TIME})(?:\s.*)?$")
_TIME_PARTS_RE = re.compile(r"(?:(\d{1,2}):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?")
# A time at the start of a transcript line, bracketed, parenthesized or bare; a Whisper range.
_LINE_STAMP_RE = re.compile(
    rf"^\s*(?:\[\s*(?P<bracketed>{_TIME})(?:\s*-->\s*{_TIME})?\s*\]|\(\s*(?P<paren>{_TIME})\s*\)"
    rf"|(?P<bare>{_TIME})(?=\s|$))\s*(?:[-–—|:]\s+)?"
)
# A speaker and a time alone on a line, the text below (Otter, Rev): "Speaker 1  0:00", "Jane Doe (01:02):".
_SPEAKER_STAMP_RE = re.compile(
    rf"^\s*(?P<name>[^\W\d][^\[\]()\d:]{{0,40}}?(?: \d{{1,2}})?)\s+[\[(]?(?P<time>{_TIME})[\])]?\s*:?\s*$"
)
# Inline markup: a timestamp tag, a voice tag, any other tag, an ASS/SSA override code.
_INLINE_RE = re.compile(rf"<(?P<time>{_TIME})>|<v(?:\.[^\s>]*)?\s+(?P<voice>[^>]*)>|<[^>]*>|\{{\\[^}}]*\}}")
_VTT_BLOCK_RE = re.compile(r"(?:NOTE|STYLE|REGION)(?:[ \t]|$)")
_SPEAKER_CHANGE_RE = re.compile(r"^\s*(?:>>+|&gt;&gt;)\s*")
_DIALOGUE_DASH_RE = re.compile(r"^\s*[-–—]\s+")
# A speaker label as captions write it: NAME:, Sam Altman:, 主持人：.
_LABEL_RE = re.compile(r"^\s*(?P<name>[A-Z][A-Za-z0-9'’.\-]*(?: (?:[A-Z][A-Za-z0-9'’.\-]*|\d{1,2})){0,3}|[\u4e00-\u9fff·]{1,6})\s*[:：]\s*\S")
_BRACKETS = {"[": "]", "(": ")", "（": "）", "【": "】", "♪": "♪"}
_ZH_JOIN_AFTER = frozenset("。！？!?，,、；;：:…」』）)”’")


@dataclass(frozen=True)
class TimedText:
    """A timed input as text for the segmenter, with the times of its parts.

    ``starts`` is ``(offset into text, seconds)`` for every cue start and inline
    timestamp, offsets ascending: the text from an offset on was spoken from that time.
    ``form`` is ``webvtt``, ``srt`` or ``timestamped``; ``cues`` how many cues carried text.
    """

    text: str
    starts: tuple[tuple[int, float], ...]
    form: str
    cues: int


@dataclass
class _Cue:
    start: float
    lines: list[list[tuple[float, str]]]  # each line: runs of (time, text)
    voice: str | None = None


def seconds(stamp: str) -> float:
    """``"01:02:03,500"`` / ``"1:02.5"`` / ``"00:01:02"`` -> seconds (3723.5, 62.5, 62.0)."""
    match = _TIME_PARTS_RE.fullmatch(stamp.strip())
    if match is None:
        raise ValueError(f"not a time: {stamp!r}")
    hours, minutes, secs, fraction = match.groups()
    value = int(hours or 0) * 3600 + int(minutes) * 60 + int(secs)
    return round(value + (int(fraction.ljust(3, "0")) / 1000 if fraction else 0.0), 3)


def detect_form(text: str) -> str | None:
    """``"webvtt"``, ``"srt"``, ``"timestamped"`` or None (plain text), by content."""
    lines = text.lstrip("\ufeff").split("\n")
    first = next((line.strip() for line in lines if line.strip()), "")
    if re.match(r"WEBVTT(?:\s|$)", first):
        return "webvtt"
    head = [line for line in lines[:40] if line.strip()][:3]
    if any(_TIMING_LINE_RE.match(line) for line in head):
        return "srt"  # SubRip, or WebVTT cues without the header: read alike
    stamped = [bool(_stamp_of(line) or _SPEAKER_STAMP_RE.match(line)) for line in lines if line.strip()]
    if stamped and stamped[0] and sum(stamped) >= max(MIN_STAMPED_LINES, MIN_STAMPED_SHARE * len(stamped)):
        return "timestamped"
    return None


def read_timed(text: str, lang: str, cue_per_line: bool = False) -> TimedText | None:
    """The text and times of a subtitle file or timestamped transcript; None for plain text.

    ``lang`` ("zh" or "en") decides how cues are joined. A timed file none of whose cues
    holds text gives a TimedText with empty ``text``. With ``cue_per_line`` each cue is a
    line of its own (the segmentation the captions give, for presegmented input).
    """
    form = detect_form(text)
    if form is None:
        return None
    cues = _stamped_cues(text) if form == "timestamped" else _subtitle_cues(text)
    if _is_rolling(cues):
        cues = _without_repeats(cues)
    return _joined(cues, form, lang, cue_per_line)


def _stamp_of(line: str) -> re.Match | None:
    match = _LINE_STAMP_RE.match(line)
    if match is None:
        return None
    bare = match["bare"]
    if bare and bare.count(":") < 2 and not re.search(r"[.,]", bare):
        return None  # "10:30 the meeting": a clock time, not a transcript's stamp
    return match


# --- the cues -------------------------------------------------------------


def _subtitle_cues(text: str) -> list[_Cue]:
    """Cues of a WebVTT or SubRip file: a timing line starts one, an empty line ends it.

    Lines outside cues (the header, NOTE/STYLE/REGION blocks, cue numbers and identifiers)
    are skipped. A whitespace-only line inside a cue is part of it (YouTube writes them).
    """
    cues: list[_Cue] = []
    current: list[str] | None = None
    start = 0.0
    skipping = False  # inside a NOTE, STYLE or REGION block
    previous = ""
    for raw in text.lstrip("\ufeff").split("\n"):
        if current is None and not previous.strip() and _VTT_BLOCK_RE.match(raw):
            skipping = True
        previous = raw
        if skipping:
            skipping = bool(raw.strip())
            continue
        timing = _TIMING_LINE_RE.match(raw)
        if timing:
            if current is not None:
                if current and current[-1].strip().isdigit():
                    current.pop()  # the next cue's number, with no empty line before it
                cues.append(_cue(start, current))
            start, current = seconds(timing[1]), []
            continue
        if current is None:
            continue
        if raw == "":
            cues.append(_cue(start, current))
            current = None
            continue
        current.append(raw)
    if current is not None:
        cues.append(_cue(start, current))
    return [cue for cue in cues if cue.lines]


def _stamped_cues(text: str) -> list[_Cue]:
    cues: list[_Cue] = []
    label = None  # a "Speaker 1  0:00" header's name, for the first line of its text
    for line in text.split("\n"):
        if not line.strip():
            continue
        match = _stamp_of(line)
        header = None if match else _SPEAKER_STAMP_RE.match(line)
        if match:
            stamp = match["bracketed"] or match["paren"] or match["bare"]
            cues.append(_cue(seconds(stamp), [line[match.end():]]))
            label = None
        elif header:
            cues.append(_Cue(seconds(header["time"]), []))
            label = header["name"].strip()
        elif cues:
            if label and not cues[-1].lines:
                line = f"{label}: {line.strip()}"
            cues[-1].lines += _cue(cues[-1].start, [line]).lines
        # no text comes before the first stamp (detect_form wants the first line stamped)
    return [cue for cue in cues if cue.lines]


def _cue(start: float, raw_lines: list[str]) -> _Cue:
    """A cue from its payload lines: markup dropped, entities decoded, inline times kept."""
    cue = _Cue(start, [])
    for raw in raw_lines:
        runs: list[tuple[float, str]] = []
        time, pos, pieces = start, 0, []
        for match in _INLINE_RE.finditer(raw):
            pieces.append(raw[pos:match.start()])
            pos = match.end()
            if match["time"]:
                runs.append((time, "".join(pieces)))
                time, pieces = max(start, seconds(match["time"])), []
            elif match["voice"] and cue.voice is None:
                cue.voice = match["voice"].strip() or None
        pieces.append(raw[pos:])
        runs.append((time, "".join(pieces)))
        runs = [(t, html.unescape(s).replace("\u00a0", " ")) for t, s in runs]
        runs = [(t, s) for t, s in runs if s]
        if "".join(s for _, s in runs).strip():
            cue.lines.append(runs)
    return cue


def _line_text(runs: list[tuple[float, str]]) -> str:
    return " ".join("".join(s for _, s in runs).split())


def _is_rolling(cues: list[_Cue]) -> bool:
    def repeats_line(before: _Cue, cue: _Cue) -> bool:
        first, last = _line_text(cue.lines[0]), _line_text(before.lines[-1])
        return first == last or first.startswith(last + " ")

    repeats = sum(1 for before, cue in zip(cues, cues[1:]) if repeats_line(before, cue))
    return len(cues) > 2 and repeats >= ROLLING_SHARE * (len(cues) - 1)


def _without_repeats(cues: list[_Cue]) -> list[_Cue]:
    """Rolling captions with every line read once: a cue's leading lines that repeat the last
    lines shown are dropped, and a line that grows the last one keeps only what it adds."""
    shown: list[str] = []
    kept: list[_Cue] = []
    for cue in cues:
        lines = cue.lines
        texts = [_line_text(line) for line in lines]
        overlap = next((j for j in range(min(len(texts), len(shown)), 0, -1) if texts[:j] == shown[-j:]), 0)
        lines, texts = lines[overlap:], texts[overlap:]
        if lines and shown and texts[0].startswith(shown[-1] + " "):
            lines = [_drop_chars(lines[0], len(shown[-1])), *lines[1:]]
            shown[-1:] = texts[:1]
            texts = texts[1:]
            shown += texts
        else:
            shown += texts
        if lines:
            kept.append(_Cue(cue.start, lines, cue.voice))
    return kept


def _drop_chars(runs: list[tuple[float, str]], count: int) -> list[tuple[float, str]]:
    """The runs without the first ``count`` characters of their folded text (see _line_text)."""
    text = "".join(s for _, s in runs)
    folded, raw_end = 0, len(text)
    for k, word in enumerate(re.finditer(r"\S+", text)):
        folded += 1 if k else 0  # the space before it
        if folded >= count:
            raw_end = word.start()
            break
        if folded + len(word.group()) >= count:
            raw_end = word.start() + count - folded
            break
        folded += len(word.group())
    out, pos = [], 0
    for time, piece in runs:
        end = pos + len(piece)
        if end > raw_end:
            out.append((time, piece[max(0, raw_end - pos):]))
        pos = end
    return out


# --- the text -------------------------------------------------------------


@dataclass
class _Turn:
    """One speaker's run of cues: an optional label piece, and per cue the lines it adds."""

    label: tuple[float, str] | None = None
    cues: list[list[list[tuple[float, str]]]] = field(default_factory=list)
    note: bool = False  # a wholly bracketed cue ([Music]), kept apart

    def words(self) -> int:
        return sum(len(_line_text(line).split()) for cue in self.cues for line in cue)


def _joined(cues: list[_Cue], form: str, lang: str, cue_per_line: bool = False) -> TimedText:
    """Turns as paragraphs (blank lines between), cue lines joined inside a turn.

    With ``cue_per_line`` every cue is a line of its own (for presegmented input). A turn
    of unpunctuated captions (YouTube's automatic ones) is cut at cue boundaries into
    paragraphs of at least UNPUNCTUATED_WORDS words instead, since no sentence end would
    ever split it.
    """
    label_counts = Counter(m["name"] for cue in cues for line in cue.lines
                           if (m := _LABEL_RE.match(_line_text(line))))
    turns: list[_Turn] = [_Turn()]
    voice = None
    for cue in cues:
        if cue.voice and cue.voice != voice:
            voice = cue.voice
            turns.append(_Turn(label=(cue.start, f"{voice}: ")))
        whole = " ".join(_line_text(line) for line in cue.lines)
        if _is_bracketed(whole):
            turns += [_Turn(cues=[[[(cue.start, whole)]]], note=True), _Turn()]
            continue
        added: list[list[tuple[float, str]]] = []
        for line in cue.lines:
            text = _line_text(line)
            marker = _SPEAKER_CHANGE_RE.match(text) or _DIALOGUE_DASH_RE.match(text)
            label = _LABEL_RE.match(text)
            if marker or (label and _is_speaker_label(label["name"], label_counts)):
                if added:
                    turns[-1].cues.append(added)
                    added = []
                turns.append(_Turn())
                if marker:
                    line = _drop_chars(line, len(marker.group().rstrip()))
            line = _stripped(line)
            if line:
                added.append(line)
        if added:
            turns[-1].cues.append(added)
    paragraphs: list[list[tuple[float, str]]] = []
    for turn in turns:
        if not turn.cues:
            continue
        if cue_per_line:
            groups = [[cue] for cue in turn.cues]
            separator = "\n"
        elif not turn.note and _unpunctuated(turn, lang):
            groups, separator = _groups_of_words(turn.cues, UNPUNCTUATED_WORDS), "\n\n"
        else:
            groups, separator = [turn.cues], None
        for k, group in enumerate(groups):
            pieces = [turn.label] if turn.label and k == 0 else []
            for cue in group:
                for line in cue:
                    if pieces and not pieces[-1][1].endswith(" "):  # after a label: no joiner
                        pieces.append((-1.0, _joiner(pieces, lang)))
                    pieces += line
            if separator == "\n" and k:
                paragraphs[-1] += [(-1.0, "\n"), *pieces]
            else:
                paragraphs.append(pieces)
    text_parts: list[str] = []
    starts: list[tuple[int, float]] = []
    offset = 0
    for number, paragraph in enumerate(paragraphs):
        if number:
            text_parts.append("\n\n")
            offset += 2
        for time, piece in paragraph:
            lead = len(piece) - len(piece.lstrip())
            if time >= 0 and piece.strip() and (not starts or starts[-1][1] != time):
                starts.append((offset + lead, time))
            text_parts.append(piece)
            offset += len(piece)
    return TimedText("".join(text_parts), tuple(starts), form, len(cues))


def _unpunctuated(turn: _Turn, lang: str) -> bool:
    """A long turn with (almost) no sentence ends: fewer than one per MAX_WORDS_PER_SENTENCE words."""
    if lang != "en":
        return False
    words = turn.words()
    text = " ".join(_line_text(line) for cue in turn.cues for line in cue)
    ends = len(_SENTENCE_END_RE.findall(text))
    return words >= MAX_WORDS_PER_SENTENCE and ends * MAX_WORDS_PER_SENTENCE < words


def _groups_of_words(cues: list, least: int) -> list[list]:
    """Consecutive cues grouped until each group has at least ``least`` words (the last may have fewer)."""
    groups, current, words = [], [], 0
    for cue in cues:
        current.append(cue)
        words += sum(len(_line_text(line).split()) for line in cue)
        if words >= least:
            groups.append(current)
            current, words = [], 0
    if current:
        groups.append(current)
    return groups


def _stripped(runs: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """The runs of one line with the line's outer whitespace removed and inner runs folded."""
    folded: list[tuple[float, str]] = []
    for t, s in runs:
        s = re.sub(r"\s+", " ", s)
        if folded and folded[-1][1].endswith(" ") and s.startswith(" "):
            s = s[1:]
        if s:
            folded.append((t, s))
    runs = folded
    while runs and not runs[0][1].strip():
        runs.pop(0)
    while runs and not runs[-1][1].strip():
        runs.pop()
    if runs:
        runs[0] = (runs[0][0], runs[0][1].lstrip())
        runs[-1] = (runs[-1][0], runs[-1][1].rstrip())
    return runs


def _joiner(current: list[tuple[float, str]], lang: str) -> str:
    last = current[-1][1].rstrip()[-1:]
    return "" if lang == "zh" and last in _ZH_JOIN_AFTER else " "


def _is_speaker_label(name: str, counts: Counter) -> bool:
    """A caption's ``NAME:`` is a speaker when written in capitals, of two or more words, or used twice."""
    letters = [c for c in name if c.isalpha()]
    return (bool(letters) and all(c.isupper() for c in letters) and len(letters) > 1) \
        or " " in name or counts[name] >= 2


def _is_bracketed(text: str) -> bool:
    close = _BRACKETS.get(text[:1])
    return close is not None and len(text) > 2 and text.endswith(close) and text.count(text[0]) == (2 if close == text[0] else 1)
