"""The bilingual edition as an EPUB 3 book (built with ``ebooklib``, imported when called).

Same :class:`toolkit.export.book.Book` as the HTML page, so the same text and marks:
a title page (title, credits, the all-MT banner, the legend), one chapter per
heading of the text (the navigation document lists them; the source's own
contents links into them), the colophon last. E-readers have small screens and
no ``<details>``: the languages are interleaved, and an omission run is a
``<div class="omitted">`` with its summary. Metadata: title, language (the
Chinese edition's tag, English as a second ``dc:language``), author and
translator (``role`` ``aut`` / ``trl``), date (when it is ``YYYY[-MM[-DD]]``), source, and an identifier made
from the content's hash, so the same records make the same identifier.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from toolkit.core.errors import ToolkitError
from toolkit.export.book import Block, Book, FrontMatter, build_book, clean_text
from toolkit.export.edition import blocks_html, colophon_html, front_html, page_css

_EPUB_CSS = """
body { margin: 0 4%; line-height: 1.6; }
.bead { margin: 0.5em 0; }
.bead > .en { margin-top: 0.15em; color: #3a3a3c; }
.bead > .empty { display: none; }
h2.heading .en { display: block; font-size: 0.85em; font-weight: normal; }
div.omitted > .bead > .en { color: #555; }
div.omitted > .summary { font-style: italic; margin: 0.8em 0 0.3em; }
.conf .score { display: inline; }
"""


def _chapters(book: Book) -> list[list[Block]]:
    """The text cut before each heading (the first part holds what comes before the first heading)."""
    chapters: list[list[Block]] = [[]]
    for block in book.blocks:
        if block.kind == "heading" and chapters[-1]:
            chapters.append([])
        chapters[-1].append(block)
    return [chapter for chapter in chapters if chapter]


def _chapter_title(blocks: Sequence[Block], fallback: str) -> str:
    first = blocks[0]
    if first.kind in ("heading", "contents"):
        record = first.entries[0].record
        return (record.get("zh") or "").strip() or fallback
    return fallback


def _identifier(records: Sequence[Mapping], book: Book) -> str:
    payload = json.dumps([book.title, [dict(r) for r in records]], sort_keys=True, ensure_ascii=False, default=str)
    return "urn:bitext:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def render_epub(records: Sequence[Mapping], signature: Mapping, title: str | None = None,
                front: FrontMatter | None = None, date: str | None = None) -> bytes:
    """The EPUB file's bytes. Raises ToolkitError if ebooklib is not installed."""
    try:
        from ebooklib import epub
    except ImportError as exc:  # an optional extra
        raise ToolkitError("the EPUB edition needs ebooklib", 'pip install -e ".[edition]"') from exc
    book = build_book(records, signature, front, fallback_title=title, date=date)
    out = epub.EpubBook()
    out.set_identifier(_identifier(records, book))
    out.set_title(clean_text(book.title + (f" — {book.title_en}" if book.title_en else "")))
    out.set_language(book.zh_lang)
    out.add_metadata("DC", "language", "en")
    if book.author:
        out.add_author(clean_text(book.author), uid="author", role="aut")
    if book.translator:
        out.add_author(clean_text(book.translator), uid="translator", role="trl")
    if book.date and re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", book.date):  # dc:date is W3C-DTF; others are printed only
        out.add_metadata("DC", "date", book.date)
    if book.source_url:
        out.add_metadata("DC", "source", book.source_url)
    out.add_metadata("DC", "publisher", "bitext")
    style = epub.EpubItem(uid="style", file_name="style/edition.css", media_type="text/css",
                          content=(page_css(book, screen=False) + _EPUB_CSS).encode("utf-8"))
    out.add_item(style)

    chapters = _chapters(book)
    files = {}  # anchor -> chapter file
    for number, blocks in enumerate(chapters, start=1):
        for block in blocks:
            for entry in block.entries:
                files[entry.anchor] = f"part{number:03d}.xhtml"
    files[book.title_anchor] = "title.xhtml"

    def href(anchor: str) -> str:
        return f"{Path(files.get(anchor, 'title.xhtml')).name}#{anchor}"

    def page(uid: str, name: str, heading: str, body: str) -> epub.EpubHtml:
        item = epub.EpubHtml(uid=uid, title=clean_text(heading), file_name=name, lang=book.zh_lang)
        item.content = f'<div class="edition{" all-mt" if book.all_mt else ""}">{body}</div>'
        item.add_item(style)
        out.add_item(item)
        return item

    title_page = page("title", "title.xhtml", book.title, front_html(book, href, contents=False))
    spine, toc = [title_page], []
    for number, blocks in enumerate(chapters, start=1):
        heading = _chapter_title(blocks, book.title)
        item = page(f"part{number:03d}", f"part{number:03d}.xhtml", heading,
                    blocks_html(book, href, blocks, collapsible=False))
        spine.append(item)
        if blocks[0].kind == "heading":
            toc.append(epub.Link(f"part{number:03d}.xhtml#{blocks[0].entries[0].anchor}", clean_text(heading),
                                 f"toc{number}"))
    colophon = page("colophon", "colophon.xhtml", "Colophon", colophon_html(book))
    spine.append(colophon)
    out.toc = [epub.Link("title.xhtml", clean_text(book.title), "toc-title"), *toc,
               epub.Link("colophon.xhtml", "Colophon", "toc-colophon")]
    out.add_item(epub.EpubNcx())
    out.add_item(epub.EpubNav())
    out.spine = spine
    buffer = io.BytesIO()
    epub.write_epub(buffer, out, {"epub2_guide": False, "epub3_landmark": False})
    return buffer.getvalue()
