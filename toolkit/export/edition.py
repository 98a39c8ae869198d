"""A bilingual edition of an aligned result: one self-contained HTML page, or Markdown.

The page reads like a book: Chinese and English side by side (or interleaved),
headings as ``<h2>``, speaker labels in bold at turn starts, runs of English
sentences missing from the Chinese collapsed into one ``<details class="omitted">``,
machine-translated English marked with an "MT" badge, pairs the aligner was
unsure of subtly flagged. No scripts, fonts or images are fetched: the CSS is
inline and includes print rules. The signature of the run is in the footer.

Markup for tools and tests: each bead is ``<div class="bead" data-id="3"
data-type="1-2" data-origin="aligned" data-score="0.8123">`` holding a
``.zh`` and an ``.en`` cell; extra classes ``mt``, ``low``, ``turn`` (with
``data-speaker``), ``note``; an omission run is ``<details class="omitted"
data-count="N" data-words="W">``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Mapping, Sequence

from toolkit.core.version import __version__
from toolkit.formats.writers import record_english

LAYOUTS = ("side-by-side", "interleaved")
LOW_CONFIDENCE = 0.5  # an aligned pair scoring below this is flagged "low"
SCORE_DECIMALS = 4

# C0 controls and other characters that have no business in a page (tab, LF, CR are whitespace).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile("\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
# "Sam Altman:" / "主持人：" at the start of a turn.
_LABEL = re.compile(r"^([^\s:：。！？.!?][^:：。！？.!?\n]{0,39}[:：])\s*")

_CSS = """
:root { --ink: #1d1d1f; --muted: #6e6e73; --rule: #e3e3e6; --mt: #8a4b00; --low: #c9a227; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 2rem 1.5rem; color: var(--ink); background: #fff;
       font: 17px/1.65 Georgia, "Times New Roman", "Songti SC", "Noto Serif CJK SC", serif; }
h1 { font-size: 1.7rem; margin: 0 0 1.5rem; }
h2.heading { display: grid; grid-template-columns: 1fr 1fr; gap: 0 2rem; font-size: 1.25rem;
             margin: 2rem 0 0.8rem; border-bottom: 1px solid var(--rule); padding-bottom: 0.3rem; }
.bead { display: grid; grid-template-columns: 1fr 1fr; gap: 0 2rem; padding: 0.25rem 0; }
.bead > div { min-width: 0; overflow-wrap: anywhere; }
.zh:lang(zh) { font-family: "Songti SC", "Noto Serif CJK SC", "Source Han Serif", serif; }
.en.empty::before { content: "\\2014"; color: var(--rule); }
.speaker { font-weight: bold; }
.turn { margin-top: 0.9rem; }
.note { font-style: italic; color: var(--muted); }
.mt .en { color: var(--mt); }
.badge { display: inline-block; font: bold 0.65rem/1.4 system-ui, sans-serif; letter-spacing: 0.05em;
         border: 1px solid currentColor; border-radius: 3px; padding: 0 0.3em; margin-right: 0.4em;
         vertical-align: 0.15em; }
.flags { font: 0.65rem/1.4 system-ui, sans-serif; color: var(--low); margin-right: 0.4em; vertical-align: 0.15em; }
.low { border-left: 2px dotted var(--low); padding-left: 0.5rem; margin-left: -0.7rem; }
details.omitted { margin: 0.4rem 0; color: var(--muted); }
details.omitted > summary { cursor: pointer; font: 0.85rem/1.6 system-ui, sans-serif; }
details.omitted[open] .en { color: var(--ink); }
.interleaved h2.heading, .interleaved .bead { display: block; }
.interleaved .bead > .en { margin-top: 0.1rem; color: #3a3a3c; }
.interleaved .bead > .empty { display: none; }
footer { margin-top: 3rem; border-top: 1px solid var(--rule); padding-top: 1rem; color: var(--muted);
         font: 0.75rem/1.4 system-ui, sans-serif; }
footer pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.legend span { margin-right: 1.2rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  .bead, h2.heading { break-inside: avoid; page-break-inside: avoid; }
  h2.heading { break-after: avoid; page-break-after: avoid; }
  .mt .en, details.omitted { color: #000; }
  .badge { border-color: #000; }
  .low { border-left-color: #999; }
  footer { break-before: page; page-break-before: always; }
}
"""


def _clean(text: str) -> str:
    return _LINE_BREAKS.sub(" ", _ILLEGAL.sub("", text or ""))


def _h(text: str) -> str:
    """HTML-escape a text (quotes too, so it is safe in attributes as well)."""
    return html.escape(_clean(text), quote=True)


def _run_signature(signature: Mapping) -> Mapping:
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
    run = _run_signature(signature)
    out = run.get("zh_script_out")
    script = out if out in ("simplified", "traditional") else run.get("zh_script_in")
    return "zh-Hant" if script == "traditional" else "zh-Hans"


def _badge(record: Mapping) -> str:
    """The mark of English that is not the original's: machine-translated, or a reviewer's translation."""
    if record.get("origin") == "mt":
        flags = record.get("mt_flags") or ()
        if flags:  # what the output checks still found after the retry: the reader is told
            names = ", ".join(_h(str(f)) for f in flags)
            return (f'<span class="badge" title="machine-translated; the output checks flagged: {names}">MT</span>'
                    f'<span class="flags" title="output checks that failed">{names}</span>')
        return '<span class="badge" title="machine-translated">MT</span>'
    if not record.get("en_ids") and record.get("translation"):
        return '<span class="badge tr" title="translated, reviewed by a translator (no English original)">TR</span>'
    return ""


def _is_omission(record: Mapping) -> bool:
    """An English passage missing from the Chinese (0-n), headings excepted: those stay visible."""
    return not record.get("zh_ids") and not (record.get("zh") or "") and record.get("kind") != "heading"


def _is_low(record: Mapping) -> bool:
    return (record.get("origin") == "aligned" and bool(record.get("zh")) and bool(record_english(record))
            and float(record.get("score") or 0.0) < LOW_CONFIDENCE)


def _blocks(records: Sequence[Mapping]) -> Iterator[tuple[str, list[Mapping]]]:
    """``("omitted", run)`` for each run of consecutive omissions, ``("heading"|"bead", [record])`` otherwise."""
    run: list[Mapping] = []
    for record in records:
        if _is_omission(record):
            run.append(record)
            continue
        if run:
            yield "omitted", run
            run = []
        yield ("heading" if record.get("kind") == "heading" else "bead"), [record]
    if run:
        yield "omitted", run


def _words(text: str) -> int:
    return len(text.split())


def omission_summary(count: int, words: int) -> str:
    """``"12 English sentences (230 words) not in the Chinese"``."""
    sentences = "sentence" if count == 1 else "sentences"
    word_label = "word" if words == 1 else "words"
    return f"{count} English {sentences} ({words} {word_label}) not in the Chinese"


def _omission_stats(run: Sequence[Mapping]) -> tuple[int, int]:
    count = sum(max(1, len(r.get("en_ids") or ())) for r in run)
    return count, sum(_words(record_english(r)) for r in run)


# ---------------------------------------------------------------------------
# HTML


def _cell_html(text: str, turn: bool) -> tuple[str, bool]:
    """Escaped text, with a leading speaker label in bold at a turn start; and whether a label was found."""
    text = _clean(text)
    if turn:
        match = _LABEL.match(text)
        if match:
            label, rest = match.group(1), text[match.end():]
            return f'<strong class="speaker">{html.escape(label)}</strong> {html.escape(rest)}', True
    return html.escape(text), False


def _bead_html(record: Mapping, zh_lang: str) -> str:
    origin = record.get("origin") or "aligned"
    speaker = record.get("speaker")
    classes = ["bead"]
    if origin == "mt":
        classes.append("mt")
    if _is_low(record):
        classes.append("low")
    if speaker:
        classes.append("turn")
    if record.get("kind") == "note":
        classes.append("note")
    score = float(record.get("score") or 0.0)
    attrs = {
        "class": " ".join(classes),
        "data-id": str(record.get("id", "")),
        "data-type": str(record.get("type", "")),
        "data-origin": origin,
        "data-score": f"{score:.{SCORE_DECIMALS}f}",
    }
    if speaker:
        attrs["data-speaker"] = speaker
    if "low" in classes:
        attrs["title"] = f"low alignment confidence ({score:.2f})"
    zh_html, zh_label = _cell_html(record.get("zh") or "", bool(speaker))
    en_html, en_label = _cell_html(record_english(record), bool(speaker))
    if speaker and not (zh_label or en_label):  # the label was not in the text: show the name
        name = f'<strong class="speaker">{_h(speaker)}</strong> '
        if zh_html:
            zh_html = name + zh_html
        else:
            en_html = name + en_html
    if en_html:
        en_html = _badge(record) + en_html
    zh_class = "zh" if zh_html else "zh empty"
    en_class = "en" if en_html else "en empty"
    attr_text = " ".join(f'{key}="{_h(value)}"' for key, value in attrs.items())
    return (f'<div {attr_text}><div class="{zh_class}" lang="{zh_lang}">{zh_html}</div>'
            f'<div class="{en_class}" lang="en">{en_html}</div></div>')


def _heading_html(record: Mapping, zh_lang: str) -> str:
    zh, en = _h(record.get("zh") or ""), _h(record_english(record))
    badge = _badge(record) if en else ""
    return (f'<h2 class="heading" data-id="{_h(str(record.get("id", "")))}" data-type="{_h(str(record.get("type", "")))}"'
            f' data-origin="{_h(record.get("origin") or "aligned")}"><span class="zh" lang="{zh_lang}">{zh}</span>'
            f' <span class="en" lang="en">{badge}{en}</span></h2>')


def render_html(records: Sequence[Mapping], signature: Mapping, layout: str = "side-by-side",
                title: str | None = None) -> str:
    """A self-contained HTML5 page of the bead records (see the module docstring for the markup).

    ``signature`` is printed in the footer as JSON; the Chinese ``lang`` tag comes
    from its ``zh_script_out`` / ``zh_script_in`` (or those of its one source).
    Raises ValueError for an unknown ``layout``.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    zh_lang = zh_lang_tag(signature)
    title = title or "Bilingual edition"
    body: list[str] = []
    for kind, block in _blocks(records):
        if kind == "heading":
            body.append(_heading_html(block[0], zh_lang))
        elif kind == "bead":
            body.append(_bead_html(block[0], zh_lang))
        else:
            count, words = _omission_stats(block)
            inner = "\n".join(_bead_html(record, zh_lang) for record in block)
            body.append(f'<details class="omitted" data-count="{count}" data-words="{words}">'
                        f"<summary>{_h(omission_summary(count, words))}</summary>\n{inner}\n</details>")
    signature_json = json.dumps(signature, sort_keys=True, indent=2, ensure_ascii=False, default=str)
    legend = ('<p class="legend"><span><span class="badge">MT</span>machine-translated English</span>'
              '<span class="low">dotted rule: low alignment confidence</span></p>')
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="bitext {_h(__version__)}">',
        f"<title>{_h(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        f'<body class="{layout}">',
        f'<main class="edition" data-layout="{layout}">',
        f"<h1>{_h(title)}</h1>",
        *body,
        "</main>",
        f'<footer>{legend}<p>Made with bitext {_h(__version__)} from the alignment run below.</p>'
        f'<pre class="signature">{html.escape(_ILLEGAL.sub("", signature_json))}</pre></footer>',
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
    text = _clean(text).strip()
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # A block marker at the start ("# ", "- ", "1. ") would turn the text into a heading or a list.
    def escape_marker(match: re.Match) -> str:
        marker = match.group(2)
        return match.group(1) + (marker + "\\" if marker[0].isdigit() else "\\" + marker)

    return _MD_LINE_START.sub(escape_marker, text)


def _md_cell(record: Mapping, side: str) -> str:
    text = _md(record.get("zh") or "") if side == "zh" else _md(record_english(record))
    speaker = record.get("speaker")
    if speaker and text:
        match = _LABEL.match(text)
        if match:
            text = f"**{match.group(1)}** {text[match.end():]}"
        elif side == ("zh" if record.get("zh") else "en") and not any(
                _LABEL.match(_clean(t)) for t in (record.get("zh") or "", record_english(record))):
            text = f"**{_md(speaker)}** {text}"  # the label was not in the text: show the name
    if side == "en" and text and _badge(record):
        flags = record.get("mt_flags") if record.get("origin") == "mt" else None
        mark = f"`MT: {', '.join(flags)}` " if flags else "`MT` " if record.get("origin") == "mt" else "`TR` "
        text = mark + text
    if side == "en" and _is_low(record):
        text += " ⚠"
    return text


def render_markdown(records: Sequence[Mapping], signature: Mapping, layout: str = "side-by-side",
                    title: str | None = None) -> str:
    """The edition as Markdown: a two-column table (or interleaved paragraphs) per section.

    Headings are ``##`` lines, omission runs a ``<details>`` block, MT English
    starts with `` `MT` ``, low-confidence pairs end with ⚠. Text is escaped
    (``|``, ``*``, ``<``, ``&``…) and kept on one line. The signature closes the document.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    lines = [f"# {_md(title or 'Bilingual edition')}", ""]
    in_table = False

    def close_table() -> None:
        nonlocal in_table
        if in_table:
            lines.append("")
            in_table = False

    for kind, block in _blocks(records):
        if kind == "heading":
            close_table()
            record = block[0]
            parts = [p for p in (_md(record.get("zh") or ""), _md(record_english(record))) if p]
            lines += [f"## {' / '.join(parts)}", ""]
        elif kind == "omitted":
            close_table()
            count, words = _omission_stats(block)
            lines += [f"<details><summary>{html.escape(omission_summary(count, words))}</summary>", ""]
            lines += [f"> {_md(record_english(record))}\n>" for record in block]
            lines[-1] = lines[-1][:-2]
            lines += ["", "</details>", ""]
        elif layout == "interleaved":
            record = block[0]
            # One paragraph per bead, a hard line break (trailing backslash) between the languages.
            texts = [text for text in (_md_cell(block[0], "zh"), _md_cell(block[0], "en")) if text]
            lines += ["\\\n".join(texts), ""]
        else:
            if not in_table:
                lines += ["| 中文 | English |", "|---|---|"]
                in_table = True
            record = block[0]
            lines.append(f"| {_md_cell(record, 'zh')} | {_md_cell(record, 'en')} |")
    close_table()
    signature_json = json.dumps(signature, sort_keys=True, indent=2, ensure_ascii=False, default=str)
    fence = "````" if "```" in signature_json else "```"
    lines += ["---", "", f"Made with bitext {__version__}. Signature of the alignment run:", "",
              f"{fence}json", _ILLEGAL.sub("", signature_json), fence, ""]
    return "\n".join(lines)
