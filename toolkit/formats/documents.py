"""Word, EPUB and HTML documents as plain text, one paragraph per line; other binary formats named.

- ``.docx``: the paragraphs of ``word/document.xml`` in order (table cells and text boxes
  included, deleted revisions and field codes not; footnotes and headers are left out),
  a tab or line break inside a paragraph kept.
- ``.epub``: the XHTML files of the book in its spine's reading order (``linear="no"``
  items, such as a cover page, skipped), each read as HTML.
- ``.html`` / ``.htm`` / ``.xhtml``: the text of the body; every block element (``p``,
  ``h1``…``h6``, ``li``, ``div``, ``td``, ``br``…) ends a paragraph; ``script``, ``style``,
  ``head``, ``nav`` and the like are dropped; character references decoded; whitespace folded as a
  browser does (a line break between two Chinese characters vanishes).

Paragraphs come back separated by an empty line, so each is its own block for the
segmenter. The XML is parsed with defusedxml (no entity expansion). Any other binary
format (PDF, images, audio, archives, old Office files, spreadsheets) is refused by
:func:`identify_binary` with what it is and what to do.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from html.parser import HTMLParser
from urllib.parse import unquote

from toolkit.core.errors import InputError

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
# Largest uncompressed member read from a .docx/.epub (a zip bomb is refused, not inflated).
MAX_MEMBER_BYTES = 200 * 2**20

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_OPF = "{http://www.idpf.org/2007/opf}"
_CONTAINER = "{urn:oasis:names:tc:opendocument:xmlns:container}"
_HTML_START_RE = re.compile(r"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S)
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_CJK_BREAK_RE = re.compile(rf"(?<=[{_HAN}])[ \t]*\n\s*(?=[{_HAN}])")

# Formats that are not text, by their magic number: what to do -> (prefix, offset, what it is).
_SAVE_AS = "save it as .docx or as plain text (UTF-8) first"
_OCR = "an image holds no text to read: run OCR on it (e.g. tesseract) and give the text"
_TRANSCRIBE = "transcribe it first, or give its subtitles (.srt / .vtt)"
_EXTRACT = "extract the text file from it first"
_BINARY_FORMATS = {
    "convert it to text first (e.g. pdftotext -layout FILE.pdf FILE.txt), or give the .docx or .txt it was made from":
        ((b"%PDF-", 0, "a PDF document"),),
    _SAVE_AS: ((b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "an old Microsoft Office file (.doc, .xls or .ppt)"),
               (b"{\\rtf", 0, "an RTF document")),
    _OCR: ((b"\x89PNG", 0, "a PNG image"), (b"\xff\xd8\xff", 0, "a JPEG image"), (b"GIF87a", 0, "a GIF image"),
           (b"GIF89a", 0, "a GIF image"), (b"II*\x00", 0, "a TIFF image"), (b"MM\x00*", 0, "a TIFF image"),
           (b"WEBP", 8, "a WebP image")),
    _TRANSCRIBE: ((b"WAVE", 8, "a WAV recording"), *((b"ID3" + bytes([v]), 0, "an MP3 recording") for v in (2, 3, 4)),
                  (b"fLaC", 0, "a FLAC recording"), (b"OggS", 0, "an Ogg recording"),
                  (b"ftyp", 4, "an MP4/M4A video or recording"), (b"\x1a\x45\xdf\xa3", 0, "a Matroska/WebM video")),
    _EXTRACT: ((b"\x1f\x8b", 0, "a gzip archive"), (b"\xfd7zXZ\x00", 0, "an xz archive"),
               (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive"), (b"Rar!\x1a\x07", 0, "a RAR archive")),
    "give the text file to align": ((b"\x7fELF", 0, "a program (ELF executable)"),),
}
# Zip-based formats by a member they always have: (member prefix, what it is, what to do).
_ZIP_FORMATS = (
    ("xl/", "an Excel workbook (.xlsx)", "export the column with the text as a plain-text file (UTF-8)"),
    ("ppt/", "a PowerPoint presentation (.pptx)", _SAVE_AS),
    ("content.xml", "an OpenDocument file (.odt/.ods/.odp)", _SAVE_AS),
)


def identify_binary(data: bytes, name: str) -> str | None:
    """``"docx"`` or ``"epub"`` for those formats, None for anything that may be text.

    Raises InputError naming the format, with what to do, for every other binary format
    recognised by its magic number (PDF, images, audio/video, archives, old Office files,
    .xlsx/.pptx/.odt, a plain ZIP archive).
    """
    for hint, formats in _BINARY_FORMATS.items():
        for magic, offset, what in formats:
            if data[offset:offset + len(magic)] == magic:
                raise InputError(f"{name} is {what}, not a text file", hint)
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100].strip() if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        raise InputError(f"{name} looks like a ZIP archive (or .docx/.epub) but cannot be opened: {exc}",
                         "check that the file is complete, or give it as plain text") from None
    if "word/document.xml" in names:
        return "docx"
    if mimetype == b"application/epub+zip" or "META-INF/container.xml" in names and mimetype.startswith(b"application/epub"):
        return "epub"
    for member, what, hint in _ZIP_FORMATS:
        if any(n.startswith(member) for n in names):
            raise InputError(f"{name} is {what}, not a text file", hint)
    raise InputError(f"{name} is a ZIP archive, not a text file", _EXTRACT)


def looks_like_html(text: str, suffix: str = "") -> bool:
    """An HTML page: by its suffix, or a text that opens with ``<!DOCTYPE html>`` / ``<html``."""
    return suffix.lower() in HTML_SUFFIXES or bool(_HTML_START_RE.match(text[:4096]))


def document_text(data: bytes, form: str, name: str) -> str:
    """The text of a ``.docx`` or ``.epub`` file (``form`` from :func:`identify_binary`)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        paragraphs = _docx_paragraphs(archive, name) if form == "docx" else _epub_paragraphs(archive, name)
    return _paragraphs_text(paragraphs)


def html_text(text: str) -> str:
    """The text of an HTML page, one paragraph per block, paragraphs separated by an empty line."""
    return _paragraphs_text(_html_paragraphs(text))


def _paragraphs_text(paragraphs: list[str]) -> str:
    kept = [p.strip() for p in paragraphs if p.strip()]
    return "\n\n".join(kept) + ("\n" if kept else "")


# --- docx -----------------------------------------------------------------


def _member(archive: zipfile.ZipFile, member: str, name: str) -> bytes:
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise InputError(f"{name} has no {member}", "the file is damaged; save it again from its editor") from None
    if info.file_size > MAX_MEMBER_BYTES:
        raise InputError(f"{name}: {member} is {info.file_size:,} bytes uncompressed, more than a document holds",
                         "convert the file to plain text first")
    try:
        return archive.read(member)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        raise InputError(f"{name}: {member} cannot be read: {exc}", "the file is damaged; save it again") from None


def _xml(data: bytes, member: str, name: str):
    import xml.etree.ElementTree as ET

    import defusedxml
    import defusedxml.ElementTree as SafeET

    try:
        return SafeET.fromstring(data)
    except (ET.ParseError, defusedxml.DefusedXmlException) as exc:
        raise InputError(f"{name}: {member} is not usable XML ({exc})", "the file is damaged; save it again") from None


def _docx_paragraphs(archive: zipfile.ZipFile, name: str) -> list[str]:
    root = _xml(_member(archive, "word/document.xml", name), "word/document.xml", name)
    paragraphs: list[str] = []
    # Iterative walk: (element, the paragraph's parts it writes into, or None outside paragraphs).
    stack = [(child, None) for child in reversed(list(root))]
    open_paragraphs: list[tuple[int, list[str]]] = []  # (stack size when opened, parts)
    while stack:
        while open_paragraphs and len(stack) < open_paragraphs[-1][0]:
            paragraphs.append("".join(open_paragraphs.pop()[1]))
        element, parts = stack.pop()
        tag = element.tag
        if tag == _MC_FALLBACK or tag in (f"{_W}delText", f"{_W}instrText"):
            continue
        if tag == f"{_W}p":
            parts = []
            open_paragraphs.append((len(stack) + 1, parts))
        elif parts is not None:
            if tag == f"{_W}t":
                parts.append(element.text or "")
            elif tag == f"{_W}tab":
                parts.append("\t")
            elif tag in (f"{_W}br", f"{_W}cr"):
                parts.append("\n")
            elif tag == f"{_W}noBreakHyphen":
                parts.append("-")
        stack.extend((child, parts) for child in reversed(list(element)))
    while open_paragraphs:
        paragraphs.append("".join(open_paragraphs.pop()[1]))
    return paragraphs


# --- epub -----------------------------------------------------------------


def _epub_paragraphs(archive: zipfile.ZipFile, name: str) -> list[str]:
    container = _xml(_member(archive, "META-INF/container.xml", name), "META-INF/container.xml", name)
    rootfile = container.find(f".//{_CONTAINER}rootfile")
    opf_path = rootfile.get("full-path") if rootfile is not None else None
    if not opf_path:
        raise InputError(f"{name}: META-INF/container.xml names no package file", "the EPUB is damaged")
    opf = _xml(_member(archive, opf_path, name), opf_path, name)
    base = posixpath.dirname(opf_path)
    manifest = {item.get("id"): item for item in opf.iter(f"{_OPF}item")}
    paragraphs: list[str] = []
    for itemref in opf.iter(f"{_OPF}itemref"):
        item = manifest.get(itemref.get("idref"))
        if item is None or itemref.get("linear", "yes") == "no":
            continue
        if "html" not in (item.get("media-type") or "") and not (item.get("href") or "").endswith(HTML_SUFFIXES):
            continue
        member = posixpath.normpath(posixpath.join(base, unquote(item.get("href") or "")))
        data = _member(archive, member, name)
        try:
            page = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"{name}: {member} is not UTF-8", "an EPUB's pages are UTF-8; the file is damaged") from None
        paragraphs += _html_paragraphs(page)
    if not paragraphs:
        raise InputError(f"{name}: its spine lists no pages with text", "check that it is the book itself, not a sample")
    return paragraphs


# --- html -----------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li dt dd blockquote pre tr td th section article header footer aside "
    "figure figcaption table ul ol dl br hr address main body caption summary details".split()
)
_SKIPPED_TAGS = frozenset("script style head noscript template svg math nav iframe object".split())


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._parts: list[str] = []
        self._skipping: list[str] = []
        self._pre = 0

    def _flush(self) -> None:
        text = "".join(self._parts)
        self._parts = []
        if self._pre:
            self.paragraphs += text.split("\n")
            return
        text = _CJK_BREAK_RE.sub("", text)
        self.paragraphs.append(" ".join(text.split()))

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED_TAGS:
            self._skipping.append(tag)
        elif not self._skipping and tag in _BLOCK_TAGS:
            self._flush()
            self._pre += tag == "pre"

    def handle_startendtag(self, tag, attrs):
        if not self._skipping and tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag):
        if self._skipping:
            if tag == self._skipping[-1]:
                self._skipping.pop()
            return
        if tag in _BLOCK_TAGS:
            self._flush()
            self._pre -= tag == "pre" and self._pre > 0

    def handle_data(self, data):
        if not self._skipping:
            self._parts.append(data)

    def close(self):
        super().close()
        self._flush()


def _html_paragraphs(text: str) -> list[str]:
    parser = _TextParser()
    parser.feed(text)
    parser.close()
    return parser.paragraphs
