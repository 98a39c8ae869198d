"""The bilingual edition as a Word document (built with ``python-docx``, imported when called).

Same :class:`toolkit.export.book.Book` as the HTML page: a title block (title,
English title, subtitle, credits, the all-MT banner, a linked contents, the
legend), then the text as two-column tables (Chinese | English), one per section,
each section opened by a Heading 2 paragraph that carries a bookmark named
by the heading's anchor (``b60``), so the contents links resolve in Word and
LibreOffice. Marks as in the HTML: ``MT`` / ``TR`` badges, ``⚠ 0.34`` for a
low-confidence pair, "[not in the original]" for Chinese with no English, and an
omission run as rows whose first Chinese cell says how much English is left out.
A4 pages with the title as running head and the page number in the footer; the
colophon closes the document. East Asian text is tagged with the edition's
language (``zh-CN`` / ``zh-TW``) and its font (SimSun / PMingLiU, as Word expects).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from toolkit.core.errors import ToolkitError
from toolkit.export.book import (MARK_LABELS, MISSING_TEXT, Book, Entry, FrontMatter, badge, banner, build_book,
                                 cell_parts, clean_text, clock, credits, en_start, english, flag_text, is_low,
                                 is_missing, omission_stats, omission_summary)

# Word's own family names: what a Windows or macOS Word has; LibreOffice substitutes Noto CJK.
_EAST_ASIAN = {"zh-Hans": ("SimSun", "zh-CN"), "zh-Hant": ("PMingLiU", "zh-TW")}
_LATIN_FONT = "Georgia"
_MUTED = (0x6E, 0x6E, 0x73)
_MT = (0x8A, 0x4B, 0x00)


def _docx():
    try:
        import docx  # noqa: F401
    except ImportError as exc:  # an optional extra
        raise ToolkitError("the DOCX edition needs python-docx", 'pip install -e ".[edition]"') from exc
    return docx


def _set_styles(document, book: Book) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font_name, lang = _EAST_ASIAN[book.zh_lang]
    normal = document.styles["Normal"]
    normal.font.name = _LATIN_FONT
    normal.font.size = Pt(10.5)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), font_name)
    language = rpr.makeelement(qn("w:lang"), {qn("w:val"): "en-US", qn("w:eastAsia"): lang})
    rpr.append(language)


def _field(paragraph, instruction: str) -> None:
    """A Word field (``PAGE``) in a paragraph."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, instruction), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == instruction:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {instruction} "
        else:
            element = OxmlElement("w:t")
            element.text = text
        run._r.append(element)


def _bookmark(paragraph, name: str, number: int) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), str(number))
    paragraph._p.insert(0, start)
    paragraph._p.append(end)


def _internal_link(paragraph, anchor: str, text: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    link = OxmlElement("w:hyperlink")
    link.set(qn("w:anchor"), anchor)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "dotted")
    props.append(underline)
    run.append(props)
    node = OxmlElement("w:t")
    node.set(qn("xml:space"), "preserve")
    node.text = clean_text(text)
    run.append(node)
    link.append(run)
    paragraph._p.append(link)


def _run(paragraph, text: str, bold: bool = False, italic: bool = False, color=None, size: float | None = None):
    from docx.shared import Pt, RGBColor

    run = paragraph.add_run(clean_text(text))
    run.bold = bold or None
    run.italic = italic or None
    if color:
        run.font.color.rgb = RGBColor(*color)
    if size:
        run.font.size = Pt(size)
    return run


def _fill_side(paragraph, book: Book, record: Mapping, side: str) -> None:
    label, text = cell_parts(record, side)
    if side == "en":
        if not text.strip():
            if is_missing(record):
                _run(paragraph, f"[{MISSING_TEXT}]", italic=True, color=_MUTED, size=8.5)
            return
        mark = badge(record, book.all_mt)
        start = en_start(record)
        if start is not None and book.video:
            _run(paragraph, clock(start) + " ", color=_MUTED, size=8)
        if mark:
            _run(paragraph, mark + " ", bold=True, color=_MT, size=7.5)
    if label:
        _run(paragraph, label + " ", bold=True)
        text = text.strip()
    _run(paragraph, text, color=_MT if side == "en" and record.get("origin") == "mt" and not book.all_mt else None)
    if side == "en" and flag_text(record):
        _run(paragraph, f" ⚑ {flag_text(record)}", italic=True, color=_MT, size=8)
    if side == "en" and is_low(record):
        _run(paragraph, f" ⚠ {float(record.get('score') or 0.0):.2f}", color=(0xB8, 0x86, 0x0B), size=8)


def _table(document):
    from docx.shared import Mm

    table = document.add_table(rows=0, cols=2)
    table.autofit = False
    for column in table.columns:
        column.width = Mm(87)
    return table


def _add_row(table, book: Book, entry: Entry, zh_note: str | None = None, link: str | None = None) -> None:
    from docx.shared import Mm

    cells = table.add_row().cells
    for cell in cells:
        cell.width = Mm(87)
    zh, en = cells[0].paragraphs[0], cells[1].paragraphs[0]
    if zh_note is not None:
        if zh_note:
            _run(zh, zh_note, italic=True, color=_MUTED, size=8.5)
    else:
        _fill_side(zh, book, entry.record, "zh")
    _fill_side(en, book, entry.record, "en")
    if link:  # a source contents entry: the Chinese links to the heading it names
        text = "".join(r.text for r in zh.runs)
        for run in list(zh.runs):
            run._r.getparent().remove(run._r)
        _internal_link(zh, link, text)


def render_docx(records: Sequence[Mapping], signature: Mapping, title: str | None = None,
                front: FrontMatter | None = None, date: str | None = None) -> bytes:
    """The DOCX file's bytes. Raises ToolkitError if python-docx is not installed."""
    docx = _docx()
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    book = build_book(records, signature, front, fallback_title=title, date=date)
    document = docx.Document()
    _set_styles(document, book)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(18)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.different_first_page_header_footer = True
    head = section.header.paragraphs[0]
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(head, book.title, color=_MUTED, size=8)
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(foot, "PAGE")
    first_foot = section.first_page_footer.paragraphs[0]
    first_foot.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(first_foot, "PAGE")

    properties = document.core_properties
    properties.title = clean_text(book.title)
    properties.author = clean_text(book.author or "")
    properties.subject = clean_text(book.title_en or "")
    properties.language = _EAST_ASIAN[book.zh_lang][1]
    properties.comments = f"bilingual edition made with {book.colophon[0][1]}"

    bookmarks = 0
    title_paragraph = document.add_heading(clean_text(book.title), level=0)
    bookmarks += 1
    _bookmark(title_paragraph, book.title_anchor, bookmarks)
    if book.title_en:
        document.add_paragraph(clean_text(book.title_en), style="Subtitle")
    if book.subtitle:
        document.add_paragraph(clean_text(book.subtitle), style="Subtitle")
    for label, value in credits(book):
        paragraph = document.add_paragraph()
        _run(paragraph, f"{label}: ", color=_MUTED)
        _run(paragraph, value)
    notice = banner(book)
    if notice:
        paragraph = document.add_paragraph()
        _run(paragraph, notice, italic=True, color=_MT)
    if book.contents:
        document.add_heading("Contents", level=1)
        for entry in book.contents:
            paragraph = document.add_paragraph(style="List Number")
            parts = [p for p in ((entry.record.get("zh") or "").strip(), english(entry.record).strip()) if p]
            _internal_link(paragraph, entry.anchor, " — ".join(parts))
    legend = [(MARK_LABELS[mark][0], MARK_LABELS[mark][1]) for mark in MARK_LABELS if mark in book.marks]
    if legend:
        document.add_heading("Marks", level=1)
        for sample, text in legend:
            paragraph = document.add_paragraph()
            _run(paragraph, sample + "  ", bold=True, size=9)
            _run(paragraph, text, size=9)

    table = None
    for block in book.blocks:
        if block.kind == "heading" or block.kind == "contents":
            head_entry = block.entries[0]
            record = head_entry.record
            paragraph = document.add_heading(level=2)
            bookmarks += 1
            mark = badge(record, book.all_mt)
            zh, en = (record.get("zh") or "").strip(), english(record).strip()
            _run(paragraph, zh)
            if en:
                if zh:
                    _run(paragraph, " / ")
                if mark:
                    _run(paragraph, mark + " ", size=8)
                _run(paragraph, en)
            _bookmark(paragraph, head_entry.anchor, bookmarks)
            table = None
            if block.kind == "contents":
                table = _table(document)
                for entry in block.entries[1:]:
                    _add_row(table, book, entry, link=entry.target)
                table = None
            continue
        if table is None:
            table = _table(document)
        if block.kind == "omitted":
            count, words = omission_stats(block.entries)
            for number, entry in enumerate(block.entries):
                _add_row(table, book, entry, zh_note=omission_summary(count, words) if number == 0 else "")
        else:
            _add_row(table, book, block.entries[0])

    document.add_heading("Colophon", level=1)
    for label, value in book.colophon:
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(0)
        _run(paragraph, f"{label} ", bold=True, size=8)
        _run(paragraph, value, size=8)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
