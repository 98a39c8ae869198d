"""Bilingual editions of an aligned result: a self-contained HTML page, or Markdown.

Both are made from one :class:`toolkit.export.book.Book` (front matter, contents,
blocks, marks, colophon), like the EPUB and DOCX editions (:mod:`toolkit.export.epub`,
:mod:`toolkit.export.docx`), so all four show the same text and marks.

The page reads like a book: a title page (the document's own title, credits, a
linked table of contents, a legend of the marks), then Chinese and English side
by side on a wide screen and interleaved under 700 px, headings as ``<h2>``,
speaker labels in bold at turn starts on both sides, runs of English sentences
missing from the Chinese collapsed into one ``<details class="omitted">``
(printed open), Chinese with no English marked "not in the original",
machine-translated English marked ``MT`` (or one banner when all of it is), a
reviewer's translation ``TR``, pairs the aligner was unsure of flagged ⚠ with
their score (on hover, and in print). Fonts come by language (``:lang(zh-Hans)``,
``:lang(zh-Hant)``, ``:lang(en)``) with the family names of Windows, macOS,
Android and Linux; ``<html lang>`` is the Chinese edition's. Print: A4 pages,
page numbers and the title as running head. Nothing is fetched: the CSS is
inline and there are no scripts, fonts or images. The colophon is a short block
(tool, version, date, the inputs' names and sha256).

Markup for tools and tests: each bead is ``<div class="bead" id="b3" data-id="3"
data-type="1-2" data-origin="aligned" data-score="0.8123">`` holding a ``.zh`` and
an ``.en`` cell; extra classes ``mt``, ``low``, ``turn`` (with ``data-speaker``),
``note``, ``missing``; an omission run is ``<details class="omitted" data-count="N"
data-words="W">``; headings are ``<h2 class="heading" id="b7">``; the front
matter's contents is ``<nav id="contents">``, the source's own one
``<section class="source-contents">``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence

from toolkit.core.version import __version__
from toolkit.export.book import (LOW_CONFIDENCE, MARK_LABELS, MISSING_TEXT, Block, Book, Entry, FrontMatter, badge,
                                 banner, build_book, cell_parts, clean_text, clock, credits, en_start, english,
                                 flag_text, is_low, is_missing, omission_stats, omission_summary, text_lang,
                                 zh_lang_tag)

__all__ = ["LAYOUTS", "LOW_CONFIDENCE", "SCORE_DECIMALS", "FrontMatter", "omission_summary", "render_html",
           "render_markdown", "zh_lang_tag", "page_css", "blocks_html"]

LAYOUTS = ("side-by-side", "interleaved")
SCORE_DECIMALS = 4
NARROW_PX = 700  # under this width the page interleaves the languages


# Font stacks by language: macOS / iOS, Windows, then Android and Linux (Noto, Source Han, WenQuanYi).
FONTS = {
    "en": ('Georgia, "Times New Roman", "Iowan Old Style", "Noto Serif", "Liberation Serif", "DejaVu Serif", serif'),
    "zh-Hans": ('"Songti SC", "STSong", "SimSun", "NSimSun", "Noto Serif CJK SC", "Noto Serif SC", '
                '"Source Han Serif SC", "Source Han Serif CN", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", '
                '"Noto Sans SC", "WenQuanYi Micro Hei", serif'),
    "zh-Hant": ('"Songti TC", "PMingLiU", "MingLiU", "Noto Serif CJK TC", "Noto Serif TC", "Source Han Serif TC", '
                '"Source Han Serif TW", "PingFang TC", "Microsoft JhengHei", "Noto Sans CJK TC", "Noto Sans TC", '
                'serif'),
    "ui": 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif',
}

_BASE_CSS = """
:root { --ink: #1d1d1f; --muted: #6e6e73; --rule: #e3e3e6; --mt: #8a4b00; --low: #b8860b; }
* { box-sizing: border-box; }
:lang(en) { font-family: FONT_EN; }
:lang(zh-Hans) { font-family: FONT_HANS; }
:lang(zh-Hant) { font-family: FONT_HANT; }
.ui, .badge, .legend, .colophon, .credits, .banner, nav.contents, details.omitted > summary, .marker, .time
  { font-family: FONT_UI; }
h1.title { font-size: 1.9rem; line-height: 1.3; margin: 0 0 0.4rem; }
h1.title .en { display: block; font-size: 1.15rem; font-weight: normal; color: var(--muted); margin-top: 0.3rem; }
.subtitle { font-size: 1.1rem; margin: 0.2rem 0 0.8rem; color: var(--muted); }
.credits { margin: 0.8rem 0; font-size: 0.85rem; }
.credits div { display: inline-block; margin-right: 1.5rem; }
.credits dt { display: inline; color: var(--muted); }
.credits dt::after { content: ": "; }
.credits dd { display: inline; margin: 0; }
.banner { border: 1px solid var(--mt); color: var(--mt); border-radius: 4px; padding: 0.5rem 0.8rem; font-size: 0.9rem; }
nav.contents h2, .legend h2, .colophon h2 { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.08em;
  color: var(--muted); margin: 1.4rem 0 0.4rem; }
nav.contents ol { margin: 0; padding-left: 1.4rem; font-size: 0.92rem; }
nav.contents a, .source-contents a { color: inherit; text-decoration: none; border-bottom: 1px dotted var(--muted); }
nav.contents .en { color: var(--muted); }
.legend dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 0.8rem; margin: 0; font-size: 0.82rem; }
.legend dd { margin: 0; }
h2.heading { font-size: 1.25rem; margin: 2rem 0 0.8rem; border-bottom: 1px solid var(--rule); padding-bottom: 0.3rem; }
.bead > div { min-width: 0; overflow-wrap: anywhere; }
.speaker { font-weight: bold; }
.turn { margin-top: 0.9rem; }
.note { font-style: italic; color: var(--muted); }
.mt .en { color: var(--mt); }
.all-mt .mt .en { color: inherit; }
.badge { display: inline-block; font-weight: bold; font-size: 0.65rem; line-height: 1.4; letter-spacing: 0.05em;
         border: 1px solid currentColor; border-radius: 3px; padding: 0 0.3em; margin-right: 0.4em;
         vertical-align: 0.15em; }
.marker { font-size: 0.8rem; color: var(--muted); font-style: italic; }
.marker::before { content: "["; } .marker::after { content: "]"; }
.conf { color: var(--low); margin-left: 0.3em; cursor: help; }
.flag { color: var(--mt); margin-left: 0.4em; font-size: 0.8em; cursor: help; white-space: nowrap; }
.conf .score { display: none; font-size: 0.8em; }
.low > .en { text-decoration: underline dotted var(--low); text-underline-offset: 0.3em; }
.time { font-size: 0.72rem; color: var(--muted); margin-right: 0.4em; text-decoration: none; }
details.omitted, div.omitted { margin: 0.4rem 0; color: var(--muted); }
details.omitted > summary, div.omitted > .summary { cursor: pointer; font-size: 0.85rem; }
details.omitted[open] .en { color: var(--ink); }
.source-contents ol { list-style: none; padding-left: 0; margin: 0.2rem 0 1rem; }
.source-contents li.bead { padding: 0.1rem 0; }
.colophon { margin-top: 3rem; border-top: 1px solid var(--rule); padding-top: 0.6rem; color: var(--muted);
            font-size: 0.72rem; line-height: 1.45; break-inside: avoid; page-break-inside: avoid; }
.colophon dl { margin: 0; }
.colophon div { display: inline; }
.colophon dt { display: inline; font-weight: bold; }
.colophon dt::after { content: " "; }
.colophon dd { display: inline; margin: 0 1rem 0 0; overflow-wrap: anywhere; }
"""

_SCREEN_CSS = """
body { margin: 0 auto; max-width: 72rem; padding: 2rem 1.5rem; color: var(--ink); background: #fff;
       font-size: 17px; line-height: 1.65; }
header.front { margin-bottom: 2rem; }
.side-by-side .bead, .side-by-side h2.heading, .side-by-side .source-contents li.bead {
  display: grid; grid-template-columns: 1fr 1fr; gap: 0 2rem; }
.bead { padding: 0.25rem 0; }
.bead > .empty::before { content: "\\2014"; color: var(--rule); }
.interleaved .bead > .en { margin-top: 0.1rem; color: #3a3a3c; }
.interleaved .bead > .empty { display: none; }
.interleaved h2.heading .en { display: block; font-size: 1rem; }
@media (max-width: NARROWpx) {
  body { padding: 1rem 0.9rem; font-size: 16px; }
  .side-by-side .bead, .side-by-side h2.heading, .side-by-side .source-contents li.bead { display: block; }
  .side-by-side .bead > .en { margin-top: 0.1rem; color: #3a3a3c; }
  .side-by-side .bead > .empty { display: none; }
  .side-by-side h2.heading .en { display: block; font-size: 1rem; }
  h1.title { font-size: 1.5rem; }
}
@page { size: A4; margin: 18mm 16mm 20mm;
  @top-center { content: RUNNING_HEAD; font: 8pt FONT_UI; color: #666; }
  @bottom-center { content: counter(page) " / " counter(pages); font: 8pt FONT_UI; color: #666; } }
@page :first { @top-center { content: none; } }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; line-height: 1.5; }
  .bead, h2.heading, .source-contents li { break-inside: avoid; page-break-inside: avoid; }
  h2.heading { break-after: avoid; page-break-after: avoid; }
  details.omitted::details-content { content-visibility: visible; display: block; }
  details.omitted > summary { list-style: none; cursor: auto; }
  details.omitted .en, .mt .en { color: #000; }
  .conf { color: #000; } .conf .score { display: inline; }
  .badge { border-color: #000; }
  a { color: inherit; text-decoration: none; border: 0 !important; }
  .time { display: none; }
}
"""


def _css_string(text: str) -> str:
    """A CSS string literal safe inside a <style> element."""
    escaped = "".join(ch if ch.isalnum() or ch in " .,:;!?()'-–—·/|" else f"\\{ord(ch):x} " for ch in clean_text(text))
    return f'"{escaped}"'


def page_css(book: Book, screen: bool = True) -> str:
    """The stylesheet: fonts, marks, and (``screen``) the responsive layout and the print rules."""
    css = _BASE_CSS + (_SCREEN_CSS if screen else "")
    for key, value in (("FONT_EN", FONTS["en"]), ("FONT_HANS", FONTS["zh-Hans"]), ("FONT_HANT", FONTS["zh-Hant"]),
                       ("FONT_UI", FONTS["ui"]), ("NARROW", str(NARROW_PX)),
                       ("RUNNING_HEAD", _css_string(book.title))):
        css = css.replace(key, value)
    return css


def _h(text: object) -> str:
    """HTML-escape a text (quotes too, so it is safe in attributes as well)."""
    return html.escape(clean_text(str(text)), quote=True)


# ---------------------------------------------------------------------------
# HTML

Href = Callable[[str], str]


def _same_page(anchor: str) -> str:
    return f"#{anchor}"


def _cell_html(book: Book, record: Mapping, side: str) -> str:
    label, text = cell_parts(record, side)
    parts = []
    if label:
        parts.append(f'<strong class="speaker">{_h(label)}</strong> ')
    parts.append(_h(text.strip() if label else text))
    return "".join(parts) if text.strip() else ""


def _en_cell(book: Book, record: Mapping) -> str:
    text = _cell_html(book, record, "en")
    if not text:
        return f'<span class="marker" lang="en">{MISSING_TEXT}</span>' if is_missing(record) else ""
    mark = badge(record, book.all_mt)
    prefix = ""
    if mark:
        title = MARK_LABELS[mark.lower()][1]
        prefix = f'<span class="badge {mark.lower()}" title="{_h(title)}">{mark}</span>'
    start = en_start(record)
    if start is not None and book.video:
        prefix = (f'<a class="time" href="{_h(book.time_url(start))}" title="in the recording">{clock(start)}</a>'
                  + prefix)
    suffix = ""
    if flag_text(record):
        suffix += f'<span class="flag" title="{_h(MARK_LABELS["flag"][1])}">⚑ {_h(flag_text(record))}</span>'
    if is_low(record):
        score = float(record.get("score") or 0.0)
        suffix += (f'<span class="conf" title="low alignment confidence: {score:.2f}">⚠'
                  f'<span class="score"> {score:.2f}</span></span>')
    return prefix + text + suffix


def _bead_attrs(book: Book, entry: Entry) -> dict[str, str]:
    record = entry.record
    origin = record.get("origin") or "aligned"
    classes = ["bead"]
    if origin == "mt":
        classes.append("mt")
    if is_low(record):
        classes.append("low")
    if record.get("speaker"):
        classes.append("turn")
    if record.get("kind") == "note":
        classes.append("note")
    if is_missing(record):
        classes.append("missing")
    score = float(record.get("score") or 0.0)
    attrs = {"class": " ".join(classes), "id": entry.anchor, "data-id": str(record.get("id", "")),
             "data-type": str(record.get("type", "")), "data-origin": origin,
             "data-score": f"{score:.{SCORE_DECIMALS}f}"}
    if record.get("speaker"):
        attrs["data-speaker"] = record["speaker"]
    if "low" in classes:
        attrs["title"] = f"low alignment confidence ({score:.2f})"
    return attrs


def _attrs(attrs: Mapping[str, str]) -> str:
    return " ".join(f'{key}="{_h(value)}"' for key, value in attrs.items())


def _bead_html(book: Book, entry: Entry, tag: str = "div", link: str | None = None) -> str:
    zh_html, en_html = _cell_html(book, entry.record, "zh"), _en_cell(book, entry.record)
    if link:
        zh_html = f'<a href="{_h(link)}">{zh_html}</a>' if zh_html else ""
        en_html = f'<a href="{_h(link)}">{en_html}</a>' if en_html else ""
    zh_class = "zh" if zh_html else "zh empty"
    en_class = "en" if en_html else "en empty"
    return (f'<{tag} {_attrs(_bead_attrs(book, entry))}><div class="{zh_class}" lang="{book.zh_lang}">{zh_html}</div>'
            f'<div class="{en_class}" lang="en">{en_html}</div></{tag}>')


def _heading_html(book: Book, entry: Entry) -> str:
    record = entry.record
    zh = _h(record.get("zh") or "")
    en = _h(english(record))
    mark = badge(record, book.all_mt) if en else ""
    badge_html = f'<span class="badge {mark.lower()}" title="{_h(MARK_LABELS[mark.lower()][1])}">{mark}</span>' if mark else ""
    return (f'<h2 class="heading" id="{_h(entry.anchor)}" data-id="{_h(record.get("id", ""))}"'
            f' data-type="{_h(record.get("type", ""))}" data-origin="{_h(record.get("origin") or "aligned")}">'
            f'<span class="zh" lang="{book.zh_lang}">{zh}</span> <span class="en" lang="en">{badge_html}{en}</span></h2>')


def blocks_html(book: Book, href: Href = _same_page, blocks: Sequence[Block] | None = None,
                collapsible: bool = True) -> str:
    """The text of the book as HTML (also XHTML: every element is closed, nothing is void).

    ``href`` turns an anchor into a link (the EPUB's anchors live in other files);
    ``collapsible`` False writes omission runs as ``<div class="omitted">`` instead of ``<details>``.
    """
    out: list[str] = []
    for block in book.blocks if blocks is None else blocks:
        if block.kind == "heading":
            out.append(_heading_html(book, block.entries[0]))
        elif block.kind == "bead":
            out.append(_bead_html(book, block.entries[0]))
        elif block.kind == "contents":
            head, *items = block.entries
            lines = [_bead_html(book, item, "li", href(item.target) if item.target else None) for item in items]
            out.append(f'<section class="source-contents">{_heading_html(book, head)}\n<ol>\n' + "\n".join(lines)
                       + "\n</ol></section>")
        else:
            count, words = omission_stats(block.entries)
            inner = "\n".join(_bead_html(book, entry) for entry in block.entries)
            summary = _h(omission_summary(count, words))
            if collapsible:
                out.append(f'<details class="omitted" data-count="{count}" data-words="{words}" lang="en">'
                           f"<summary>{summary}</summary>\n{inner}\n</details>")
            else:
                out.append(f'<div class="omitted" data-count="{count}" data-words="{words}">'
                           f'<p class="summary" lang="en">{summary}</p>\n{inner}\n</div>')
    return "\n".join(out)


def front_html(book: Book, href: Href = _same_page, contents: bool = True) -> str:
    """Title, English title, subtitle, credits, the all-MT banner, the contents and the legend."""
    title_lang = text_lang(book.title, book.zh_lang)
    out = [f'<h1 class="title" id="{_h(book.title_anchor)}"><span class="main" lang="{title_lang}">{_h(book.title)}</span>']
    if book.title_en:
        out[-1] += f' <span class="en" lang="en">{_h(book.title_en)}</span>'
    out[-1] += "</h1>"
    if book.subtitle:
        out.append(f'<p class="subtitle" lang="{text_lang(book.subtitle, book.zh_lang)}">{_h(book.subtitle)}</p>')
    items = credits(book)
    if items:
        rows = []
        for label, value in items:
            shown = f'<a href="{_h(value)}">{_h(value)}</a>' if label == "Source" else _h(value)
            rows.append(f'<div><dt>{label}</dt><dd lang="{text_lang(value, book.zh_lang)}">{shown}</dd></div>')
        out.append('<dl class="credits" lang="en">' + "".join(rows) + "</dl>")
    notice = banner(book)
    if notice:
        out.append(f'<p class="banner" lang="en">{_h(notice)}</p>')
    if contents and book.contents:
        entries = []
        for entry in book.contents:
            zh, en = _h(entry.record.get("zh") or ""), _h(english(entry.record))
            text = (f'<span class="zh" lang="{book.zh_lang}">{zh}</span>' if zh else "") + (
                f' <span class="en" lang="en">{en}</span>' if en else "")
            entries.append(f'<li><a href="{_h(href(entry.anchor))}">{text.strip()}</a></li>')
        out.append('<nav class="contents" id="contents" aria-label="Contents"><h2 lang="en">Contents</h2><ol>'
                   + "".join(entries) + "</ol></nav>")
    legend = legend_items(book)
    if legend:
        rows = "".join(f"<dt>{sample}</dt><dd>{_h(text)}</dd>" for sample, text in legend)
        out.append(f'<section class="legend" id="legend" lang="en"><h2>Marks</h2><dl>{rows}</dl></section>')
    return "\n".join(out)


def legend_items(book: Book) -> list[tuple[str, str]]:
    """``(sample HTML, explanation)`` for each mark the book uses."""
    samples = {
        "mt": '<span class="badge mt">MT</span>',
        "tr": '<span class="badge tr">TR</span>',
        "flag": '<span class="flag">⚑ check: a number</span>',
        "low": '<span class="conf">⚠<span class="score"> 0.34</span></span>',
        "missing": f'<span class="marker">{MISSING_TEXT}</span>',
        "omitted": '<span class="ui">▸ N English sentences …</span>',
        "speaker": '<strong class="speaker">Name:</strong>',
        "time": '<span class="time">1:02</span>',
    }
    return [(samples[mark], MARK_LABELS[mark][1]) for mark in samples if mark in book.marks]


def colophon_html(book: Book) -> str:
    rows = "".join(f"<div><dt>{_h(label)}</dt><dd>{_h(value)}</dd></div>" for label, value in book.colophon)
    return f'<footer class="colophon" id="colophon" lang="en"><h2>Colophon</h2><dl>{rows}</dl></footer>'


def render_html(records: Sequence[Mapping], signature: Mapping, layout: str = "side-by-side",
                title: str | None = None, front: FrontMatter | None = None, date: str | None = None) -> str:
    """A self-contained HTML5 page of the bead records (see the module docstring for the markup).

    ``title`` is the fallback when neither ``front`` nor the document gives one; ``date`` the
    colophon's (default today). The Chinese ``lang`` tag comes from the signature's
    ``zh_script_out`` / ``zh_script_in``. Raises ValueError for an unknown ``layout``.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    book = build_book(records, signature, front, fallback_title=title, date=date)
    page_title = book.title + (f" — {book.title_en}" if book.title_en else "")
    meta = [f'<meta name="generator" content="bitext {_h(__version__)}">']
    if book.author:
        meta.append(f'<meta name="author" content="{_h(book.author)}">')
    return "\n".join([
        "<!DOCTYPE html>",
        f'<html lang="{book.zh_lang}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        *meta,
        f"<title>{_h(page_title)}</title>",
        f"<style>{page_css(book)}</style>",
        "</head>",
        f'<body class="{layout}{" all-mt" if book.all_mt else ""}">',
        f'<header class="front">{front_html(book)}</header>',
        f'<main class="edition" data-layout="{layout}">',
        blocks_html(book),
        "</main>",
        colophon_html(book),
        "</body>",
        "</html>",
        "",
    ])


# ---------------------------------------------------------------------------
# Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")


def _md(text: str) -> str:
    """Markdown-escape a text for a table cell or a paragraph: one line, no markup, no raw HTML."""
    text = clean_text(text).strip()
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)

    # A block marker at the start ("# ", "- ", "1. ") would turn the text into a heading or a list.
    def escape_marker(match: re.Match) -> str:
        marker = match.group(2)
        return match.group(1) + (marker + "\\" if marker[0].isdigit() else "\\" + marker)

    return _MD_LINE_START.sub(escape_marker, text)


def _md_side(book: Book, record: Mapping, side: str) -> str:
    label, text = cell_parts(record, side)
    text = _md(text)
    if label and text:
        text = f"**{_md(label)}** {text}"
    if side == "en":
        if not text:
            return f"*\\[{MISSING_TEXT}\\]*" if is_missing(record) else ""
        mark = badge(record, book.all_mt)
        if mark:
            text = f"`{mark}` {text}"
        start = en_start(record)
        if start is not None and book.video:
            text = f"[{clock(start)}]({book.time_url(start)}) {text}"
        if flag_text(record):
            text += f" ⚑ *{_md(flag_text(record))}*"
        if is_low(record):
            text += f" ⚠ {float(record.get('score') or 0.0):.2f}"
    return text


def _md_front(book: Book) -> list[str]:
    lines = [f"# {_md(book.title)}", ""]
    if book.title_en:
        lines += [f"**{_md(book.title_en)}**", ""]
    if book.subtitle:
        lines += [f"*{_md(book.subtitle)}*", ""]
    items = credits(book)
    if items:
        lines += [f"- {label}: " + (f"<{value}>" if label == "Source" else _md(value)) for label, value in items]
        lines.append("")
    notice = banner(book)
    if notice:
        lines += [f"> {_md(notice)}", ""]
    if book.contents:
        lines += ["## Contents", ""]
        for number, entry in enumerate(book.contents, start=1):
            parts = [p for p in (_md(entry.record.get("zh") or ""), _md(english(entry.record))) if p]
            lines.append(f"{number}. " + " — ".join(parts))
        lines.append("")
    legend = [(mark, MARK_LABELS[mark]) for mark in MARK_LABELS if mark in book.marks]
    if legend:
        samples = {"mt": "`MT`", "tr": "`TR`", "flag": "⚑ *check: a number*", "low": "⚠ 0.34",
                   "missing": f"*\\[{MISSING_TEXT}\\]*", "omitted": "*N English sentences … not in the Chinese*",
                   "speaker": "**Name:**", "time": "1:02"}
        lines += ["Marks: " + " · ".join(f"{samples[mark]} {_md(text)}" for mark, (_, text) in legend), ""]
    return lines


def render_markdown(records: Sequence[Mapping], signature: Mapping, layout: str = "side-by-side",
                    title: str | None = None, front: FrontMatter | None = None, date: str | None = None) -> str:
    """The edition as Markdown: the front matter, then one two-column table for the whole text
    (or, interleaved, one paragraph per bead), then the colophon.

    In the table, headings are bold rows, an omission run is rows whose first Chinese cell says how
    much English the Chinese leaves out, MT English starts with `` `MT` ``, low-confidence pairs end
    with ⚠ and their score. Text is escaped (``|``, ``*``, ``<``, ``&``…) and kept on one line.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    book = build_book(records, signature, front, fallback_title=title, date=date)
    lines = _md_front(book)
    rows: list[tuple[str, str]] = []  # (zh, en) in reading order; headings bold
    headings: set[int] = set()
    for block in book.blocks:
        if block.kind == "omitted":
            count, words = omission_stats(block.entries)
            for number, entry in enumerate(block.entries):
                label = f"*{_md(omission_summary(count, words))}*" if number == 0 else ""
                rows.append((label, _md_side(book, entry.record, "en")))
            continue
        for number, entry in enumerate(block.entries):
            record = entry.record
            if record.get("kind") == "heading" and (block.kind == "heading" or number == 0):
                headings.add(len(rows))
                zh, en = _md(record.get("zh") or ""), _md(english(record))
                mark = badge(record, book.all_mt)
                rows.append((f"**{zh}**" if zh else "", (f"`{mark}` " if mark and en else "") + (f"**{en}**" if en else "")))
            else:
                rows.append((_md_side(book, record, "zh"), _md_side(book, record, "en")))
    if layout == "interleaved":
        for index, (zh, en) in enumerate(rows):
            if index in headings:
                lines += ["## " + " / ".join(p.strip("*") for p in (zh, en) if p), ""]
            else:
                # One paragraph per bead, a hard line break (trailing backslash) between the languages.
                texts = [text for text in (zh, en) if text]
                if texts:
                    lines += ["\\\n".join(texts), ""]
    else:
        lines += ["| 中文 | English |", "|---|---|", *(f"| {zh} | {en} |" for zh, en in rows), ""]
    lines += ["---", "", "**Colophon.** " + " · ".join(f"{_md(label)}: {_md(value)}" for label, value in book.colophon), ""]
    return "\n".join(lines)
