"""What every bilingual edition (HTML, Markdown, EPUB, DOCX) is made of: a :class:`Book`.

:func:`build_book` reads the bead records and the run's signature once and decides
everything the formats share, so they show the same content and marks:

- the front matter: the document's own title (an "原文标题 : …" / "Original title: …"
  line if there is one, else the first Chinese line when it reads as a title),
  overridden by :class:`FrontMatter` (the CLI's ``--title``, ``--author``, …);
- the blocks in reading order: headings, beads, runs of English missing from the
  Chinese (``omitted``), and the source's own table of contents (``contents``: a
  "目录" heading and the headings after it, each pointed at the heading it names);
- a stable anchor per bead (:func:`bead_anchor`: ``b243``), unique in the book;
- the contents (the headings), which marks occur (for the legend), whether the
  whole English is machine-translated (one banner instead of a badge per line);
- the colophon: tool, version, date, the inputs' file names and sha256 — never
  a folder path, never the command line.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

from toolkit.core.version import __version__
from toolkit.formats.writers import record_english

LOW_CONFIDENCE = 0.5  # an aligned pair scoring below this is flagged "low"
MAX_TITLE_CHARS = 60  # a first line longer than this is a paragraph, not a title
CONTENTS_MATCH = 0.8  # how alike a source contents entry and a heading must be to link them

_TITLE_LINE = re.compile(r"^\s*(?:原文标题|原文標題|原标题|原標題|original\s+title)\s*[:：]\s*(?P<title>\S.*?)\s*$",
                         re.IGNORECASE)
_CONTENTS_LINE = re.compile(r"^\s*(?:目录|目錄|contents|table\s+of\s+contents)\s*[:：]?\s*$", re.IGNORECASE)
# Numbering in front of a heading: "一、", "/ 01 /", "1.", "第三章", "Part 2:".
_NUMBERING = re.compile(r"^\s*(?:/\s*\d+\s*/|第?[一二三四五六七八九十百零〇\d]+[、.．:：章节節部]|\(?\d+[.)、]|"
                        r"(?:part|chapter)\s+\d+[:.]?)\s*", re.IGNORECASE)
_ANCHOR = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_SENTENCE_END = ("。", "！", "；")
_VIDEO_URL = re.compile(r"^https?://(?:www\.|m\.)?(?:youtube\.com/watch|youtu\.be/|vimeo\.com/|bilibili\.com/video/)",
                        re.IGNORECASE)

# C0 controls and other characters that have no business in a book (tab, LF, CR are whitespace).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile("\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def clean_text(text: str) -> str:
    """One line of printable text: control characters dropped, line breaks made spaces."""
    return _LINE_BREAKS.sub(" ", _ILLEGAL.sub("", text or ""))


@dataclass(frozen=True)
class FrontMatter:
    """What the user says about the edition; None leaves a field to the document (or out)."""

    title: str | None = None
    subtitle: str | None = None
    author: str | None = None
    translator: str | None = None
    source_url: str | None = None
    date: str | None = None

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value is not None and not value.strip():
                raise ValueError(f"{field.name} is empty")
        if self.source_url is not None and not re.match(r"^https?://\S+$", self.source_url):
            raise ValueError(f"source_url must be an http(s) address, got {self.source_url!r}")


@dataclass(frozen=True)
class Entry:
    """One bead record of the book with its anchor; ``target`` is the anchor a contents entry points at."""

    record: Mapping
    anchor: str
    target: str | None = None


@dataclass(frozen=True)
class Block:
    """``kind`` is ``heading``, ``bead``, ``omitted`` (a run of English missing from the Chinese) or
    ``contents`` (the source's own table of contents: its heading, then its entries)."""

    kind: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Book:
    title: str
    title_en: str | None
    title_anchor: str
    subtitle: str | None
    author: str | None
    translator: str | None
    source_url: str | None
    date: str | None
    zh_lang: str
    blocks: tuple[Block, ...]
    contents: tuple[Entry, ...]
    marks: frozenset[str]
    all_mt: bool
    mt_model: str | None
    colophon: tuple[tuple[str, str], ...]

    @property
    def video(self) -> bool:
        """Whether ``source_url`` is a video, so English start times become links into it."""
        return is_video(self.source_url)

    def time_url(self, seconds: float) -> str:
        """The source video at ``seconds`` (``t=`` for YouTube, a media fragment elsewhere)."""
        url, whole = self.source_url or "", int(seconds)
        if re.search(r"youtube\.com|youtu\.be", url, re.IGNORECASE):
            return f"{url}{'&' if '?' in url else '?'}t={whole}s"
        return f"{url.split('#')[0]}#t={whole}"


def is_video(url: str | None) -> bool:
    return bool(url and _VIDEO_URL.match(url))


# ---------------------------------------------------------------------------
# what a record is


def english(record: Mapping) -> str:
    return record_english(record)


def is_omission(record: Mapping) -> bool:
    """An English passage missing from the Chinese (0-n), headings excepted: those stay visible."""
    return not record.get("zh_ids") and not (record.get("zh") or "") and record.get("kind") != "heading"


def is_low(record: Mapping) -> bool:
    return (record.get("origin") == "aligned" and bool(record.get("zh")) and bool(english(record))
            and float(record.get("score") or 0.0) < LOW_CONFIDENCE)


def is_missing(record: Mapping) -> bool:
    """Chinese with no English at all: not in the original, and not translated either."""
    return bool((record.get("zh") or "").strip()) and not english(record).strip()


# What each MT flag (toolkit.translate.checks.FLAGS) tells a reader to check against the Chinese.
FLAG_WORDS = {"empty": "no translation", "cjk": "Chinese left", "repetition": "repeats itself",
              "length": "length", "untranslated": "untranslated", "number": "a number", "name": "a name",
              "latin": "Latin-script text"}


def mt_flags(record: Mapping) -> tuple[str, ...]:
    """The checks a machine translation still fails after its retry (none once a reviewer replaced it)."""
    translation = record.get("translation")
    if record.get("origin") != "mt" or (translation and translation != record.get("mt")) or not english(record).strip():
        return ()
    return tuple(str(flag) for flag in record.get("mt_flags") or ())


def flag_text(record: Mapping) -> str:
    """``"check: a number, a name"`` for a flagged machine translation, else ``""``."""
    flags = mt_flags(record)
    return "check: " + ", ".join(FLAG_WORDS.get(flag, flag) for flag in flags) if flags else ""


def badge(record: Mapping, all_mt: bool = False) -> str:
    """``"MT"`` for machine-translated English (unless the whole book is), ``"TR"`` for a reviewer's
    translation of a passage with no original, else ``""``."""
    if record.get("origin") == "mt":
        return "" if all_mt else "MT"
    if not record.get("en_ids") and record.get("translation"):
        return "TR"
    return ""


def en_start(record: Mapping) -> float | None:
    """The English's start time in the source recording (seconds), if the record has one."""
    value = record.get("en_start")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value)


def clock(seconds: float) -> str:
    """``62`` -> ``"1:02"``, ``3725`` -> ``"1:02:05"``."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def bead_anchor(record: Mapping, position: int) -> str:
    """The bead's id as an HTML id: its own (``"b243"``) if it is one, ``b{id}`` for a number, else
    ``b{position}`` (1-based place in the file)."""
    value = record.get("id")
    if isinstance(value, str) and _ANCHOR.match(value):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return f"b{value}"
    if isinstance(value, str) and value.isdigit():
        return f"b{int(value)}"
    return f"b{position}"


def _key(text: str) -> str:
    """A heading's text without numbering, spaces or case, to match a contents entry to it."""
    text = _NUMBERING.sub("", text or "")
    return "".join(ch for ch in text.casefold() if ch.isalnum())


# ---------------------------------------------------------------------------
# the run's signature


def run_signature(signature: Mapping) -> Mapping:
    """The alignment run's own signature: itself, or the one source of an export signature."""
    if "zh_script_out" in signature or "zh_script_in" in signature:
        return signature
    sources = signature.get("sources")
    if isinstance(sources, Mapping) and len(sources) == 1:
        only = next(iter(sources.values()))
        if isinstance(only, Mapping):
            return only
    return signature


def zh_lang_tag(signature: Mapping) -> str:
    """``"zh-Hant"`` if the Chinese was written in traditional script, else ``"zh-Hans"``."""
    run = run_signature(signature)
    out = run.get("zh_script_out")
    script = out if out in ("simplified", "traditional") else run.get("zh_script_in")
    return "zh-Hant" if script == "traditional" else "zh-Hans"


def file_name(path: object) -> str:
    """The last part of a path written on any system: a colophon names files, never folders."""
    return re.split(r"[\\/]", str(path).rstrip("\\/"))[-1]


def _short_model(description: object) -> str | None:
    """``"llm:qwen1.5b (decoding=greedy, …)"`` -> ``"qwen1.5b"``."""
    if not isinstance(description, str) or not description.strip():
        return None
    name = description.split(" (", 1)[0].strip()
    return file_name(name.split(":", 1)[1] if ":" in name else name)


def colophon(signature: Mapping, date: str) -> tuple[tuple[str, str], ...]:
    """``(label, text)`` lines: tool and version, date, inputs (names and sha256), aligner, MT, review."""
    run = run_signature(signature)
    lines = [("Made with", f"bitext {__version__}"), ("Date", date)]
    inputs = run.get("inputs")
    if isinstance(inputs, Mapping):
        for side, label in (("zh", "Chinese"), ("en", "English")):
            item = inputs.get(side)
            if isinstance(item, Mapping) and item.get("path"):
                digest = item.get("sha256")
                lines.append((label, file_name(item["path"]) + (f" · sha256 {digest}" if digest else "")))
    tmx = run.get("tmx_import") or signature.get("tmx_import")
    if isinstance(tmx, Mapping) and tmx.get("file"):
        lines.append(("Memory", file_name(tmx["file"]) + (f" · sha256 {tmx['sha256']}" if tmx.get("sha256") else "")))
    aligner = run.get("aligner")
    embedder = run.get("embedder")
    if isinstance(aligner, str):
        lines.append(("Alignment", aligner))
    elif embedder:
        lines.append(("Alignment", f"bitext aligner, {file_name(str(embedder).split(' (')[0])} embeddings"))
    model = _short_model(run.get("mt"))
    if model:
        lines.append(("Machine translation", model))
    review = run.get("review")
    if isinstance(review, Mapping):
        counts = [f"{review[key]} {label}" for key, label in (("approved", "approved"), ("edited", "edited"),
                                                               ("no_counterpart", "without counterpart"))
                  if isinstance(review.get(key), int)]
        if counts:
            lines.append(("Review", ", ".join(counts)))
    return tuple(lines)


# ---------------------------------------------------------------------------
# building the book


def _title_from(records: Sequence[Mapping]) -> tuple[str, str | None, int | None, bool] | None:
    """``(title, English title, index of its record, whether that record is taken out of the text)``."""
    for index, record in enumerate(records):
        match = _TITLE_LINE.match(record.get("zh") or "")
        if match:
            en = english(record)
            en_match = _TITLE_LINE.match(en)
            return match["title"], (en_match["title"] if en_match else en) or None, index, False
    firsts = [(min(r["zh_ids"]), i) for i, r in enumerate(records) if r.get("zh_ids") and (r.get("zh") or "").strip()]
    if not firsts:
        return None
    index = min(firsts)[1]
    record = records[index]
    text = (record.get("zh") or "").strip()
    if (len(text) <= MAX_TITLE_CHARS and not record.get("speaker") and record.get("kind") != "note"
            and (record.get("kind") == "heading" or not text.endswith(_SENTENCE_END))):
        return text, english(record).strip() or None, index, True
    for index, record in enumerate(records):  # else the first heading names the text (and stays in it)
        text = (record.get("zh") or "").strip()
        if record.get("kind") == "heading" and text and not _CONTENTS_LINE.match(text):
            return text, english(record).strip() or None, index, False
    return None


def _contents_runs(records: Sequence[Mapping], skip: int | None) -> dict[int, int]:
    """``{start: end}`` of each source table of contents: a "目录" heading and the headings right after it."""
    runs = {}
    index = 0
    while index < len(records):
        record = records[index]
        if (index != skip and record.get("kind") == "heading"
                and (_CONTENTS_LINE.match(record.get("zh") or "") or _CONTENTS_LINE.match(english(record)))):
            end, keys = index + 1, set()
            # The entries run on while headings follow, up to the first that repeats an entry: the text's own.
            while end < len(records) and records[end].get("kind") == "heading" and end != skip:
                key = _key(records[end].get("zh") or "") or _key(english(records[end]))
                if key in keys:
                    break
                keys.add(key)
                end += 1
            if end - index >= 2:
                runs[index] = end
            index = end
            continue
        index += 1
    return runs


def _unique_anchors(records: Sequence[Mapping]) -> list[str]:
    anchors, seen = [], set()
    for position, record in enumerate(records, start=1):
        anchor = bead_anchor(record, position)
        if anchor in seen or anchor in ("title", "contents", "legend", "colophon"):
            number = 2
            while f"{anchor}-{number}" in seen:
                number += 1
            anchor = f"{anchor}-{number}"
        seen.add(anchor)
        anchors.append(anchor)
    return anchors


def _point_entries(entries: list[Entry], headings: Sequence[Entry]) -> list[Entry]:
    """Each contents entry pointed at the first heading after the contents whose text it names."""
    keys = [(_key(h.record.get("zh") or ""), _key(english(h.record)), h.anchor) for h in headings]
    pointed = []
    for entry in entries:
        zh_key, en_key = _key(entry.record.get("zh") or ""), _key(english(entry.record))
        target = None
        for heading_zh, heading_en, anchor in keys:
            pairs = [(zh_key, heading_zh), (en_key, heading_en)]
            if any(a and b and (a == b or difflib.SequenceMatcher(None, a, b).ratio() >= CONTENTS_MATCH) for a, b in pairs):
                target = anchor
                break
        pointed.append(Entry(entry.record, entry.anchor, target))
    return pointed


def build_book(records: Sequence[Mapping], signature: Mapping, front: FrontMatter | None = None,
               fallback_title: str | None = None, date: str | None = None) -> Book:
    """The :class:`Book` of an aligned result (records in file order). ``fallback_title`` (e.g. the
    result's name) is used when neither ``front`` nor the document gives a title; ``date`` is the
    colophon's (default: today, UTC)."""
    front = front or FrontMatter()
    anchors = _unique_anchors(records)
    found = _title_from(records)
    title_index = found[2] if found and found[3] and not front.title else None  # a record shown as the title
    if front.title:
        title, title_en = front.title, None
    elif found:
        title, title_en = found[0], found[1]
    else:
        title, title_en = fallback_title or "Bilingual edition", None
    title_anchor = anchors[title_index] if title_index is not None else "title"

    with_english = [r for r in records if english(r).strip()]
    all_mt = bool(with_english) and all(r.get("origin") == "mt" for r in with_english)
    runs = _contents_runs(records, title_index)
    blocks: list[Block] = []
    omitted: list[Entry] = []
    index = 0
    while index < len(records):
        record, entry = records[index], Entry(records[index], anchors[index])
        if index == title_index:
            index += 1
            continue
        if is_omission(record):
            omitted.append(entry)
            index += 1
            continue
        if omitted:
            blocks.append(Block("omitted", tuple(omitted)))
            omitted = []
        if index in runs:
            end = runs[index]
            blocks.append(Block("contents", tuple(Entry(records[i], anchors[i]) for i in range(index, end))))
            index = end
            continue
        blocks.append(Block("heading" if record.get("kind") == "heading" else "bead", (entry,)))
        index += 1
    if omitted:
        blocks.append(Block("omitted", tuple(omitted)))

    # The contents: headings with Chinese (an English line taken for a heading names no section).
    headings = [b.entries[0] for b in blocks if b.kind == "heading" and (b.entries[0].record.get("zh") or "").strip()]
    for number, block in enumerate(blocks):
        if block.kind == "contents":
            later = [h for b in blocks[number + 1:] if b.kind == "heading" for h in b.entries]
            blocks[number] = Block("contents", (block.entries[0], *_point_entries(list(block.entries[1:]), later)))

    marks = set()
    for record in records:
        mark = badge(record, all_mt)
        if mark:
            marks.add(mark.lower())
        if is_low(record):
            marks.add("low")
        if mt_flags(record):
            marks.add("flag")
        if is_missing(record):
            marks.add("missing")
        if record.get("speaker"):
            marks.add("speaker")
    if any(b.kind == "omitted" for b in blocks):
        marks.add("omitted")
    if is_video(front.source_url) and any(en_start(r) is not None for r in records):
        marks.add("time")
    run = run_signature(signature)
    return Book(
        title=title, title_en=title_en, title_anchor=title_anchor, subtitle=front.subtitle, author=front.author,
        translator=front.translator, source_url=front.source_url, date=front.date, zh_lang=zh_lang_tag(signature),
        blocks=tuple(blocks), contents=tuple(headings), marks=frozenset(marks), all_mt=all_mt,
        mt_model=_short_model(run.get("mt")),
        colophon=colophon(signature, date or _dt.datetime.now(_dt.timezone.utc).date().isoformat()),
    )


# ---------------------------------------------------------------------------
# wording shared by the formats

MARK_LABELS = {
    "mt": ("MT", "machine-translated English: the passage has no English original"),
    "tr": ("TR", "English written or approved by a reviewer: the passage has no English original"),
    "flag": ("⚑", "a machine translation the checks still flag after a retry (a number, a name or "
                  "Latin-script text of the Chinese not found in it, Chinese left, …): check it against the Chinese"),
    "low": ("⚠", "the aligner was unsure these sentences translate each other (its score, 0–1, follows)"),
    "missing": ("not in the original", "Chinese the compiler added: nothing in the English original matches it"),
    "omitted": ("not in the Chinese", "English of the original left out of the Chinese, collapsed (printed open)"),
    "speaker": ("Name:", "the speaker, at each change of turn, on both sides"),
    "time": ("1:02", "where the English starts in the recording (a link into the video)"),
}
MISSING_TEXT = "not in the original"


def banner(book: Book) -> str | None:
    """The one notice of an all-MT book, else None."""
    if not book.all_mt:
        return None
    model = f" ({book.mt_model})" if book.mt_model else ""
    return (f"All English in this edition is machine translation{model}: no English original was aligned with "
            "the Chinese. Read it as a guide to the Chinese, not as a published translation.")


def omission_summary(count: int, words: int) -> str:
    """``"12 English sentences (230 words) not in the Chinese"``."""
    sentences = "sentence" if count == 1 else "sentences"
    word_label = "word" if words == 1 else "words"
    return f"{count} English {sentences} ({words} {word_label}) not in the Chinese"


def omission_stats(entries: Sequence[Entry]) -> tuple[int, int]:
    count = sum(max(1, len(e.record.get("en_ids") or ())) for e in entries)
    return count, sum(len(english(e.record).split()) for e in entries)


_CJK = re.compile("[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def text_lang(text: str, zh_lang: str) -> str:
    """The language tag of a line of front matter: the Chinese edition's if it has Chinese in it, else English."""
    return zh_lang if _CJK.search(text or "") else "en"


def credits(book: Book) -> list[tuple[str, str]]:
    """``(label, value)`` of the credits present, in the order they are shown."""
    items = [("Author", book.author), ("Translator", book.translator), ("Date", book.date),
             ("Source", book.source_url)]
    return [(label, value) for label, value in items if value]


# "Sam Altman:" / "主持人：" at the start of a turn.
_LABEL = re.compile(r"^([^\s:：。！？.!?][^:：。！？.!?\n]{0,39}[:：])\s*")


def cell_parts(record: Mapping, side: str) -> tuple[str | None, str]:
    """``(speaker label, rest of the text)`` of one side (``"zh"`` / ``"en"``) of a bead.

    At a turn start (the record has a ``speaker``) both sides show a label: the one the
    text starts with, else the speaker's name (``"Stephen Zhan:"``, ``"主持人："``).
    """
    text = (record.get("zh") or "") if side == "zh" else english(record)
    speaker = record.get("speaker")
    if not speaker or not text.strip():
        return None, text
    match = _LABEL.match(text)
    if match:
        return match.group(1), text[match.end():]
    return f"{speaker}{'：' if side == 'zh' and not speaker.isascii() else ':'}", text
