"""Read a Chinese or English text file into one clean ``str``.

Decoding order: a byte-order mark (UTF-8, UTF-16, UTF-32) wins; otherwise
strict UTF-8; otherwise the strict decodes among GB18030 and Big5 (cp950),
judged by how many of the Han characters they yield are common ones, since
GB18030 accepts nearly any byte sequence; when none of them looks like
Chinese, Windows-1252 (the usual 8-bit English encoding); charset-normalizer
is asked only when all of these fail.

Besides plain text, :func:`read_source` reads, recognised by content: Word ``.docx``,
``.epub`` and HTML (:mod:`toolkit.formats.documents`: the text, one paragraph per block),
and subtitles and timestamped transcripts (:mod:`toolkit.formats.transcript`: the cue text
for the segmenter, with the time each part starts). Other binary formats are refused with
what they are and what to do.

Every refusal is an :class:`~toolkit.core.errors.InputError` naming the file.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from toolkit.core.errors import InputError

log = logging.getLogger(__name__)

LANGS = ("zh", "en")

# Share of control characters (other than tab/newline/CR/FF) above which a
# decoded file is taken to be binary, if there are more than MAX_STRAY_CONTROLS;
# fewer are refused as control characters, with their place.
MAX_CONTROL_SHARE = 0.01
MAX_STRAY_CONTROLS = 8
# A file that is UTF-8 but for a few bytes is reported as such (with the first bad byte's
# place), not guessed as another encoding: at most this share of its non-ASCII characters bad.
MAX_BAD_SHARE = 0.01
# What Windows-1252 makes of bytes that English text does not use (Icelandic letters, rare
# symbols): a file whose 8-bit bytes decode to these is damaged, not Windows-1252.
_UNLIKELY_CP1252 = frozenset("þÞðÐÿ¤¦¨¬¯¸¾¼ª¹÷")
# For lang="zh": Han characters / (Han characters + Latin words) must reach
# this. Counting Latin *words* rather than letters keeps Chinese with many
# English terms (seed 004) well above it while English text scores ~0.
MIN_CJK_SHARE_ZH = 0.3
# For lang="en": refuse when Han characters dominate to this degree.
MAX_CJK_SHARE_EN = 0.5
# Below this share of common characters a GB18030/Big5 decode is suspect.
MIN_COMMON_HAN_SHARE = 0.8
# Below this share a CJK decode is taken as mojibake of an 8-bit Latin file.
MAX_COMMON_HAN_SHARE_LATIN = 0.5

_BOMS = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CJK_ENCODINGS = ("gb18030", "big5", "cp950")

_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_LATIN_WORD_RE = re.compile(r"[A-Za-z\u00c0-\u024f]+")
# Unicode category Cc (C0, DEL, C1) less tab, newline and form feed (CR is folded into newlines first).
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0d-\x1f\x7f-\x9f]")
_NEWLINES_RE = re.compile(r"\r\n?|[\u2028\u2029\x85]")


# What an input file was read as: plain text, a document format, or a timed transcript.
SOURCE_FORMATS = ("text", "docx", "epub", "html", "webvtt", "srt", "timestamped")


@dataclass(frozen=True)
class SourceText:
    """An input file's text, and for a timed input (subtitles, a timestamped transcript) when
    each part of it starts: ``starts`` is ``(offset into text, seconds)``, offsets ascending
    (empty for untimed input). ``form`` is one of :data:`SOURCE_FORMATS`."""

    text: str
    form: str = "text"
    starts: tuple[tuple[int, float], ...] = ()


def read_text(path: str | os.PathLike, lang: str, comment_prefix: str | None = None) -> str:
    """The text of :func:`read_source` (without the times)."""
    return read_source(path, lang, comment_prefix).text


def read_source(path: str | os.PathLike, lang: str, comment_prefix: str | None = None,
                cue_per_line: bool = False, data: bytes | None = None) -> SourceText:
    """Read an input file in ``lang`` ("zh" or "en") and return its text, form and times.

    Newlines are normalized to ``\\n``. When ``comment_prefix`` is given, the
    leading lines starting with it (a provenance header) are dropped; blank
    lines among them go too. A ``.docx``/``.epub`` (by content) or an HTML page (by
    content or suffix) gives its text, paragraphs kept; a WebVTT/SubRip file or a
    timestamped transcript (by content) gives its cue text, joined for the segmenter, and
    the cues' start times (with ``cue_per_line``, one cue per line: the segmentation the
    captions give, for presegmented input). ``data``: the file's bytes when the caller has
    read them already (a URL is then not fetched twice); ``path`` still names it.

    Raises InputError for a missing file, a directory, binary or undecodable
    content (other binary formats named, with what to do), an empty or whitespace-only
    file, subtitles with no text, and text that is plainly in the other language (an
    English file given as Chinese, or vice versa).
    """
    # Lazy: the command line imports this module, and only reading a file needs them.
    from toolkit.formats.documents import document_text, html_text, identify_binary, looks_like_html
    from toolkit.formats.transcript import read_timed

    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGS}")
    if data is None:
        data = read_input_bytes(path)
    path = str(path) if is_url(path) else Path(path)
    if not data:
        raise InputError(f"{path} is empty (0 bytes)", "give a file that contains the text to align")
    form = identify_binary(data, str(path)) or "text"
    if form != "text":
        text = _NEWLINES_RE.sub("\n", document_text(data, form, str(path)))
        _refuse_binary_text(text, path)
    else:
        text = _decoded(data, path)
        if looks_like_html(text, Path(str(path)).suffix):
            form, text = "html", _NEWLINES_RE.sub("\n", html_text(text))
            _refuse_binary_text(text, path)
    if comment_prefix and form == "text":
        text = _drop_header(text, comment_prefix)
    starts: tuple[tuple[int, float], ...] = ()
    timed = read_timed(text, lang, cue_per_line) if form == "text" else None
    if timed is not None:
        if not timed.text.strip():
            raise InputError(f"{path} is a subtitle file ({timed.form}) with no text in its cues",
                             "give the file with the subtitles' text")
        text, form, starts = timed.text, timed.form, timed.starts
        log.debug("read %s as %s: %d cues", path, form, timed.cues)
    if not text.strip():
        what = f"only '{comment_prefix}' header lines" if comment_prefix else "only whitespace"
        if form in ("docx", "epub", "html"):
            what = f"no text (read as {form})"
        raise InputError(f"{path} contains {what}", "give a file that contains the text to align")
    _check_language(text, lang, path)
    return SourceText(text, form, starts)


def _decoded(data: bytes, path: Path) -> str:
    """``data`` decoded (see :func:`detect_encoding`), newlines normalized, control characters refused."""
    encoding = detect_encoding(data, name=str(path))
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path} cannot be decoded as {encoding}: {_place(data, exc.start)} is not valid in it",
            "convert the file to UTF-8 and try again",
        ) from None
    except LookupError:
        raise InputError(f"{path} cannot be decoded (best guess: {encoding})",
                         "convert the file to UTF-8 and try again") from None
    log.debug("read %s as %s", path, encoding)
    text = _NEWLINES_RE.sub("\n", text).lstrip("\ufeff")
    _refuse_binary_text(text, path)
    return text


def detect_encoding(data: bytes, name: str = "<bytes>") -> str:
    """Return the Python codec name that decodes ``data``.

    One of ``utf-8-sig``, ``utf-16``, ``utf-32`` (by BOM), ``utf-8``,
    ``gb18030``, ``big5``, ``cp950``, ``cp1252``, or whatever
    charset-normalizer proposes as a last resort. ``name`` is used in error messages only.

    Raises InputError for binary data (NUL bytes without a UTF-16/32 BOM) and
    data that nothing decodes.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    if b"\x00" in data:
        raise InputError(
            f"{name} looks binary (it contains NUL bytes)",
            "give a plain-text file; if it is UTF-16 without a byte-order mark, save it as UTF-8",
        )
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    _refuse_nearly(data, "utf-8", "UTF-8", first_bad, name)

    decoded = {}
    for encoding in _CJK_ENCODINGS:
        if encoding == "cp950" and "big5" in decoded:
            continue  # cp950 only matters for Microsoft's additions to Big5
        try:
            decoded[encoding] = data.decode(encoding)
        except UnicodeDecodeError:
            continue
    best, best_share = None, -1.0
    for encoding, text in decoded.items():  # ties go to the earlier, GB18030
        share = _common_han_share(text)
        if share > best_share:
            best, best_share = encoding, share
    if best is not None and best_share >= MIN_COMMON_HAN_SHARE:
        return best
    if best is None:
        # Chinese with a few bad bytes (a damaged GBK or Big5 file) is said to be so, with the
        # place of the first, rather than guessed as an 8-bit Latin encoding.
        for encoding, label in (("gb18030", "GB18030/GBK"), ("big5", "Big5")):
            try:
                data.decode(encoding)
            except UnicodeDecodeError as exc:
                _refuse_nearly(data, encoding, label, exc.start, name, chinese=True)
    if best is None or best_share < MAX_COMMON_HAN_SHARE_LATIN:
        # Not Chinese in any CJK encoding: an 8-bit English file is almost
        # always Windows-1252 (Latin-1's printable superset); charset-normalizer
        # guesses rarer code pages on short texts.
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            pass
        else:
            unlikely = next((i for i, c in enumerate(text) if c in _UNLIKELY_CP1252), None)
            if unlikely is None:
                return "cp1252"
            # cp1252 is one byte per character: the character's index is the byte's offset
            raise InputError(
                f"{name} is not UTF-8, and read as Windows-1252 it has {_place(data, unlikely)} "
                f"as {text[unlikely]!r}, which English text does not use: the file is damaged",
                "fix or remove that byte, or convert the file to UTF-8 from its real encoding",
            )

    guess = _charset_normalizer_guess(data)
    if guess is not None:
        return guess
    if best is not None:
        return best
    raise InputError(
        f"{name} cannot be decoded as UTF-8, UTF-16, GB18030 or Big5",
        "convert the file to UTF-8 (e.g. iconv -f <encoding> -t utf-8) and try again",
    )


def _place(data: bytes, offset: int) -> str:
    """``byte 0xFF at offset 1,234 (line 5)``: where a bad byte is, for messages."""
    line = data.count(b"\n", 0, offset) + 1
    return f"byte 0x{data[offset]:02X} at offset {offset:,} (line {line})"


def _refuse_nearly(data: bytes, encoding: str, label: str, first_bad: int, name: str, chinese: bool = False) -> None:
    """Raise InputError if ``data`` is text in ``encoding`` but for a few bad bytes.

    "A few": at most MAX_BAD_SHARE of its non-ASCII characters fail to decode (and, for a
    Chinese encoding, what decodes is common Chinese). Returns quietly otherwise.
    """
    text = data.decode(encoding, errors="replace")
    genuine = "\ufffd".encode(encoding, errors="ignore")  # U+FFFD written in the file itself
    bad = text.count("\ufffd") - (data.count(genuine) if genuine else 0)
    good = sum(1 for c in text if c >= "\x80" and c != "\ufffd")
    if bad < 1 or good < 1 or bad > max(1.0, MAX_BAD_SHARE * good):
        return
    if chinese and _common_han_share(text.replace("\ufffd", "")) < MIN_COMMON_HAN_SHARE:
        return
    others = f"; {bad} bad bytes in all" if bad > 1 else ""
    raise InputError(
        f"{name} is {label} text except for {_place(data, first_bad)}, which is not valid {label}{others}",
        f"fix or remove the byte (iconv -c -f {encoding} -t utf-8 FILE > CLEAN.txt drops bad bytes), then try again",
    )


def is_url(location: str | os.PathLike) -> bool:
    """Whether ``location`` names a file by URL (``s3://…``, ``memory://…``, ``file://…``) rather than a path."""
    return isinstance(location, str) and _URL_RE.match(location) is not None


_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://")


def read_input_bytes(location: str | os.PathLike) -> bytes:
    """The bytes of an input file: a local path, or any fsspec URL (``s3://`` needs ``s3fs``).

    Raises InputError for what cannot be read (missing, a folder, no permission, no fsspec).
    """
    if not is_url(location):
        return _read_bytes(Path(location))
    try:
        import fsspec
    except ImportError:
        raise InputError(f"{location} is a URL, and reading URLs needs fsspec",
                         "pip install fsspec (and s3fs for s3://), or give a local path") from None
    try:
        with fsspec.open(location, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise InputError(f"{location} does not exist", "check the URL") from None
    except IsADirectoryError:
        raise InputError(f"{location} is a directory, not a text file", "give the URL of a file inside it") from None
    except ImportError as exc:  # the protocol's package (e.g. s3fs) is missing
        raise InputError(f"{location} cannot be read: {exc}", "install the fsspec package for that protocol") from None
    except ValueError as exc:  # an unknown protocol
        raise InputError(f"{location} cannot be read: {exc}", "give a local path or a URL fsspec knows") from None
    except OSError as exc:
        raise InputError(f"{location} cannot be read: {exc.strerror or exc}", "check the URL and your access") from None


def _read_bytes(path: Path) -> bytes:
    if path.is_dir():
        raise InputError(f"{path} is a directory, not a text file", "give the path of a file inside it")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path} does not exist", "check the path and the current directory") from None
    except PermissionError:
        raise InputError(f"{path} cannot be read (permission denied)", "check the file's permissions") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read: {exc.strerror}", "check that it is a regular file") from None


def _refuse_binary_text(text: str, path: Path) -> None:
    """Refuse binary data, and any control character: the same on both sides.

    Tab, newline and form feed (a page break in text from PDFs) are text; every other C0/C1
    control (an ANSI colour code's ESC, a stray BEL) would land as is in the sentence files.
    """
    controls = [m.start() for m in _CONTROL_RE.finditer(text)]
    if "\x00" in text or (len(controls) > MAX_STRAY_CONTROLS and len(controls) > MAX_CONTROL_SHARE * len(text)):
        raise InputError(
            f"{path} looks binary ({len(controls)} control characters in {len(text)})",
            "give a text file (.txt, .srt, .vtt, .html, .docx or .epub); convert other formats to text first",
        )
    if controls:
        first = controls[0]
        line = text.count("\n", 0, first) + 1
        column = first - (text.rfind("\n", 0, first) + 1) + 1
        many = f"{len(controls)} control characters" if len(controls) > 1 else "a control character"
        raise InputError(
            f"{path} contains {many} (the first, U+{ord(text[first]):04X}, at line {line}, column {column})",
            "remove them (e.g. tr -d '\\000-\\010\\013\\016-\\037\\177' < FILE > CLEAN.txt); "
            "only tab, newline and form feed are kept as text",
        )


def _drop_header(text: str, prefix: str) -> str:
    lines = text.split("\n")
    start = 0
    while start < len(lines) and (lines[start].startswith(prefix) or not lines[start].strip()):
        start += 1
    return "\n".join(lines[start:])


def _check_language(text: str, lang: str, path: Path) -> None:
    # Counted without lists of matches: memory stays that of the text (a 20 MB file took 500 MB).
    han = len(text) - len(_HAN_RE.sub("", text))
    latin_words = sum(1 for _ in _LATIN_WORD_RE.finditer(text))
    if han + latin_words == 0:
        raise InputError(
            f"{path} contains no {'Chinese' if lang == 'zh' else 'English'} words",
            "give the file with the text itself",
        )
    share = han / (han + latin_words)
    if lang == "zh" and share < MIN_CJK_SHARE_ZH:
        if latin_words > han:
            raise InputError(
                f"{path} looks like English, not Chinese; check the order of the arguments",
                "the Chinese file comes first, the English second",
            )
        raise InputError(
            f"{path} has too few Chinese characters ({share:.0%} of its words)",
            "give the Chinese side of the document pair",
        )
    if lang == "en" and share > MAX_CJK_SHARE_EN:
        raise InputError(
            f"{path} looks like Chinese, not English; check the order of the arguments",
            "the Chinese file comes first, the English second",
        )


@lru_cache(maxsize=1)
def _common_han() -> frozenset[str]:
    """The 3,755 level-1 GB2312 characters plus the 5,401 common Big5 ones.

    Derived from the codecs themselves, so no character list is shipped.
    Built once, on the first non-UTF-8 file (~20 ms).
    """
    common = set()
    for code in range(0x4E00, 0xA000):
        char = chr(code)
        try:
            gb = char.encode("gb2312")
            if 0xB0 <= gb[0] <= 0xD7:
                common.add(char)
        except UnicodeEncodeError:
            pass
        try:
            big5 = char.encode("big5")
            if 0xA440 <= int.from_bytes(big5[:2], "big") <= 0xC67E:
                common.add(char)
        except UnicodeEncodeError:
            pass
    return frozenset(common)


def _common_han_share(text: str) -> float:
    """Share of common Han characters among all non-ASCII characters.

    A wrong CJK decode yields rare characters, private-use code points and
    stray symbols; a right one yields mostly common characters and ordinary
    punctuation, which is also counted as common.
    """
    common = _common_han()
    total = hits = 0
    for char in text:
        if char < "\x80":
            continue
        total += 1
        if char in common or unicodedata.category(char).startswith(("P", "Z")):
            hits += 1
    return hits / total if total else 0.0


def _charset_normalizer_guess(data: bytes) -> str | None:
    import charset_normalizer  # lazy: only for files the strict decodes reject

    match = charset_normalizer.from_bytes(data).best()
    if match is None:
        return None
    return match.encoding
