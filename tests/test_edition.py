"""The bilingual edition: HTML page structure (checked on a parsed DOM), escaping, Markdown, a headless render."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from toolkit.export.edition import LOW_CONFIDENCE, omission_summary, render_html, render_markdown, zh_lang_tag

VOID = {"meta", "br", "hr", "img", "link", "input", "wbr", "source", "col", "area", "base", "embed", "track"}
NASTY = 'a <script>alert("x")</script> & \'q\' </div>\x07\x00 end'
SIGNATURE = {"aligner": "test", "zh_script_in": "simplified", "zh_script_out": "as-is", "note": "</pre><b>x</b>"}


def rec(id, zh="你好。", en="Hello.", score=0.9, origin="aligned", kind="sentence", speaker=None, mt=None) -> dict:
    zh_ids = [id] if zh else []
    en_ids = [id] if en else []
    return {"id": id, "zh_ids": zh_ids, "en_ids": en_ids, "zh": zh, "en": en, "score": score,
            "type": f"{len(zh_ids)}-{len(en_ids)}", "origin": origin, "speaker": speaker, "kind": kind,
            "mt": mt, "mt_flags": []}


RECORDS = [
    rec(1, "第一章 开始", "Chapter One: Beginnings", kind="heading"),
    rec(2, "编者按：这是导言。", "", score=0.0),
    rec(3, "主持人：你好。", "Host: Hello there.", speaker="主持人"),
    rec(4, "", "First omitted sentence here.", score=0.0),
    rec(5, "", "Second one.", score=0.0),
    rec(6, "", "Third, and last.", score=0.0),
    rec(7, "谢谢。", "", score=0.0, origin="mt", mt="Thank you."),
    rec(8, "也许吧。", "Perhaps not at all, who knows.", score=0.3),
    rec(9, NASTY, NASTY, speaker='O"Brien'),
    rec(10, "", "A lone omission.", score=0.0),
    rec(11, "（掌声）", "", kind="note"),
]


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [n for n in self.iter() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)]

    def elements(self) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node)]


class TreeBuilder(HTMLParser):
    """A small DOM from html.parser; fails on mismatched end tags, so broken markup is caught."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root
        self.doctype = None

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag):
        assert self.current.tag == tag, f"</{tag}> closes <{self.current.tag}>"
        self.current = self.current.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(page: str) -> Node:
    builder = TreeBuilder()
    builder.feed(page)
    builder.close()
    assert builder.current is builder.root, f"<{builder.current.tag}> never closed"
    assert builder.doctype and builder.doctype.lower() == "doctype html"
    return builder.root


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(RECORDS, SIGNATURE, title="Talk & <Notes>")


@pytest.fixture(scope="module")
def dom(page) -> Node:
    return parse(page)


def beads_by_id(dom: Node) -> dict[int, Node]:
    return {int(n.attrs["data-id"]): n for n in dom.find_all("div", "bead")}


# ---------------------------------------------------------------------------
# HTML structure


def test_every_bead_is_a_row_with_zh_and_en_cells(dom):
    beads = beads_by_id(dom)
    assert sorted(beads) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]  # the heading is an h2
    for id, node in beads.items():
        record = RECORDS[id - 1]
        assert node.attrs["data-type"] == record["type"] and node.attrs["data-origin"] == record["origin"]
        assert float(node.attrs["data-score"]) == pytest.approx(record["score"])
        cells = node.elements()
        assert [c.tag for c in cells] == ["div", "div"]
        assert "zh" in cells[0].classes and cells[0].attrs["lang"] == "zh-Hans"
        assert "en" in cells[1].classes and cells[1].attrs["lang"] == "en"
    assert "empty" in beads[2].elements()[1].classes  # 1-0: no English


def test_heading_is_h2_with_both_languages(dom):
    (h2,) = dom.find_all("h2", "heading")
    assert [c.text() for c in h2.elements()] == ["第一章 开始", "Chapter One: Beginnings"]
    (h1,) = dom.find_all("h1")
    assert h1.text() == "Talk & <Notes>"
    assert dom.find_all("title")[0].text() == "Talk & <Notes>"


def test_omission_runs_collapse_into_details_with_their_length(dom):
    details = dom.find_all("details", "omitted")
    assert [d.attrs["data-count"] for d in details] == ["3", "1"]
    first, second = details
    assert first.elements()[0].tag == "summary"
    assert first.elements()[0].text() == "3 English sentences (9 words) not in the Chinese"
    assert [b.attrs["data-id"] for b in first.find_all("div", "bead")] == ["4", "5", "6"]
    assert second.elements()[0].text() == "1 English sentence (3 words) not in the Chinese"
    assert "open" not in first.attrs  # collapsed
    # Nothing else sits inside a details.
    assert {id for d in details for id in (int(b.attrs["data-id"]) for b in d.find_all("div", "bead"))} == {4, 5, 6, 10}


def test_omission_summary_wording():
    assert omission_summary(12, 230) == "12 English sentences (230 words) not in the Chinese"
    assert omission_summary(1, 1) == "1 English sentence (1 word) not in the Chinese"


def test_mt_bead_is_marked_with_a_badge_and_mt_english(dom):
    bead = beads_by_id(dom)[7]
    assert "mt" in bead.classes and "low" not in bead.classes
    en = bead.elements()[1]
    (badge,) = en.find_all("span", "badge")
    assert badge.text() == "MT"
    assert en.text() == "MTThank you."


def _reviewed_translation(id, zh, translation, kind="sentence") -> dict:
    """A 1-0 bead whose English a translator approved or wrote in `bitext review`."""
    return {**rec(id, zh, "", 0.0, "human", kind=kind, mt="Machine draft."), "review": "edited",
            "translation": translation}


def test_reviewed_translation_is_shown_with_its_own_badge():
    records = [_reviewed_translation(1, "编者按。", "Editor's note."), _reviewed_translation(2, "目录", "Contents", "heading"),
               rec(3, "没有译文。", "", 0.0)]
    page_dom = parse(render_html(records, SIGNATURE))
    bead = beads_by_id(page_dom)[1]
    en = bead.elements()[1]
    assert "mt" not in bead.classes and [b.text() for b in en.find_all("span", "badge")] == ["TR"]
    assert en.text() == "TREditor's note."                      # the reviewer's text, not the machine draft
    (heading,) = page_dom.find_all("h2", "heading")
    assert heading.text().endswith("TRContents")
    assert beads_by_id(page_dom)[3].elements()[1].find_all("span", "badge") == []  # nothing to mark
    rows = [line for line in render_markdown(records, SIGNATURE).splitlines() if "编者按" in line]
    assert _cells(rows[0]) == ["编者按。", "`TR` Editor's note."]


def test_low_confidence_pairs_are_flagged(dom):
    flagged = {id for id, node in beads_by_id(dom).items() if "low" in node.classes}
    assert flagged == {8}  # not one-sided beads, not MT (score 0 there means no alignment score)
    assert "low alignment confidence" in beads_by_id(dom)[8].attrs["title"]
    assert LOW_CONFIDENCE == 0.5


def test_speaker_labels_are_bold_at_turn_starts(dom):
    bead = beads_by_id(dom)[3]
    assert "turn" in bead.classes and bead.attrs["data-speaker"] == "主持人"
    labels = [s.text() for s in bead.find_all("strong", "speaker")]
    assert labels == ["主持人：", "Host:"]
    assert bead.elements()[0].text() == "主持人： 你好。"
    # Not a turn start: no label even though "编者按：" looks like one.
    assert beads_by_id(dom)[2].find_all("strong") == []


def test_speaker_name_shown_when_the_text_has_no_label(dom):
    bead = beads_by_id(dom)[9]
    assert bead.attrs["data-speaker"] == 'O"Brien'  # quotes survive the attribute
    names = bead.find_all("strong", "speaker")
    assert [n.text() for n in names] == ['O"Brien']


def test_text_is_escaped_and_control_characters_dropped(page, dom):
    bead = beads_by_id(dom)[9]
    expected = 'a <script>alert("x")</script> & \'q\' </div> end'
    assert bead.elements()[0].text().endswith(expected)
    assert bead.elements()[1].text() == expected
    assert dom.find_all("script") == []
    assert "\x07" not in page and "\x00" not in page
    assert "&lt;script&gt;" in page


def test_self_contained_with_print_css(page, dom):
    (style,) = dom.find_all("style")
    css = style.text()
    assert "@media print" in css and "break-inside: avoid" in css
    assert dom.find_all("link") == [] and dom.find_all("img") == [] and dom.find_all("script") == []
    assert not re.search(r"(src|href)\s*=|url\(|@import|https?://", page)
    (meta,) = [m for m in dom.find_all("meta") if "charset" in m.attrs]
    assert meta.attrs["charset"] == "utf-8"


def test_footer_carries_the_signature(dom):
    (footer,) = dom.find_all("footer")
    (pre,) = footer.find_all("pre", "signature")
    assert json.loads(pre.text()) == SIGNATURE


def test_interleaved_layout():
    dom = parse(render_html(RECORDS, SIGNATURE, layout="interleaved"))
    (body,) = dom.find_all("body")
    assert body.attrs["class"] == "interleaved"
    assert dom.find_all("main")[0].attrs["data-layout"] == "interleaved"
    assert len(dom.find_all("div", "bead")) == 10
    with pytest.raises(ValueError, match="layout"):
        render_html(RECORDS, SIGNATURE, layout="columns")


@pytest.mark.parametrize(
    "signature, tag",
    [
        ({"zh_script_in": "simplified", "zh_script_out": "as-is"}, "zh-Hans"),
        ({"zh_script_in": "traditional", "zh_script_out": "as-is"}, "zh-Hant"),
        ({"zh_script_in": "traditional", "zh_script_out": "simplified"}, "zh-Hans"),
        ({"zh_script_in": "simplified", "zh_script_out": "traditional"}, "zh-Hant"),
        ({"export": {}, "sources": {"talk": {"zh_script_in": "traditional"}}}, "zh-Hant"),
        ({}, "zh-Hans"),
    ],
)
def test_zh_lang_tag_from_the_signature(signature, tag):
    assert zh_lang_tag(signature) == tag
    dom = parse(render_html(RECORDS[:3], signature))
    assert {n.attrs["lang"] for n in dom.find_all(cls="zh")} == {tag}


def test_empty_edition_is_still_a_page():
    dom = parse(render_html([], {}))
    assert dom.find_all("div", "bead") == [] and len(dom.find_all("footer")) == 1


# ---------------------------------------------------------------------------
# Markdown


def _cells(row: str) -> list[str]:
    """Split a table row on unescaped pipes."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def test_markdown_table_structure_and_escaping():
    records = [*RECORDS, rec(12, "甲|乙", "a | b * _c_ [d](e) `f`")]
    text = render_markdown(records, SIGNATURE, title="Talk")
    lines = text.splitlines()
    assert lines[0] == "# Talk"
    assert "## 第一章 开始 / Chapter One: Beginnings" in lines
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| 中文")]
    assert all(len(_cells(row)) == 2 for row in rows)
    assert _cells(rows[-1]) == ["甲\\|乙", "a \\| b \\* \\_c\\_ \\[d\\](e) \\`f\\`"]
    nasty = [row for row in rows if "alert" in row][0]
    assert "<script>" not in nasty and "&lt;script&gt;" in nasty and "&amp;" in nasty
    assert "\x07" not in text and "\x00" not in text
    mt_row = [row for row in rows if "Thank you." in row][0]
    assert _cells(mt_row)[1] == "`MT` Thank you."
    assert _cells([row for row in rows if "Perhaps" in row][0])[1].endswith("⚠")
    assert "<details><summary>3 English sentences (9 words) not in the Chinese</summary>" in lines
    assert "> Second one." in lines


def test_markdown_shows_a_speaker_missing_from_the_text():
    rows = [line for line in render_markdown(RECORDS, SIGNATURE).splitlines() if "alert" in line]
    assert _cells(rows[0])[0].startswith('**O"Brien** a &lt;script&gt;')


@pytest.mark.skipif(importlib.util.find_spec("markdown_it") is None, reason="markdown-it-py is not installed")
def test_markdown_renders_as_commonmark_tables():
    from markdown_it import MarkdownIt

    records = [*RECORDS, rec(12, "甲|乙", "a | b * _c_ [d](e) `f`")]
    rendered = MarkdownIt("commonmark").enable("table").render(render_markdown(records, SIGNATURE))
    dom = parse("<!DOCTYPE html><div>" + rendered.replace("<hr />", "<hr>") + "</div>")
    rows = [tr for tr in dom.find_all("tr") if tr.find_all("td")]
    assert len(rows) == 7 and all(len(tr.find_all("td")) == 2 for tr in rows)
    assert [td.text() for td in rows[-1].find_all("td")] == ["甲|乙", "a | b * _c_ [d](e) `f`"]
    assert [td.text() for td in rows[4].find_all("td")][1] == 'a <script>alert("x")</script> & \'q\' </div> end'
    assert dom.find_all("script") == [] and dom.find_all("em") == [] and dom.find_all("a") == []
    assert [h.text() for h in dom.find_all("h2")] == ["第一章 开始 / Chapter One: Beginnings"]
    summaries = [s.text() for s in dom.find_all("summary")]
    assert summaries == [omission_summary(3, 9), omission_summary(1, 3)]


def test_markdown_ends_with_the_signature():
    text = render_markdown(RECORDS, SIGNATURE)
    block = text.split("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(block) == SIGNATURE


def test_markdown_interleaved_escapes_line_starts():
    text = render_markdown([rec(1, "# 不是标题", "- not a list"), rec(2, "1. 一", "> not a quote")], {},
                           layout="interleaved")
    lines = text.splitlines()
    assert lines[2:6] == ["\\# 不是标题\\", "\\- not a list", "", "1\\. 一\\"]
    assert lines[6] == "&gt; not a quote"  # an entity, not a block quote
    assert not any(line.startswith("|") for line in lines)


# ---------------------------------------------------------------------------
# headless browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install -y chromium)")
def test_chromium_renders_the_page(tmp_path, page):
    path = tmp_path / "edition.html"
    path.write_text(page, encoding="utf-8")
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.as_uri()]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # Chromium serialises its own DOM: same rows, omissions, badge, headings as we wrote.
    dom = parse("<!DOCTYPE html>" + proc.stdout.split(">", 1)[1] if proc.stdout.lower().startswith("<!doctype")
                else "<!DOCTYPE html>" + proc.stdout)
    assert len(dom.find_all("div", "bead")) == 10
    assert [d.attrs["data-count"] for d in dom.find_all("details", "omitted")] == ["3", "1"]
    assert [b.text() for b in dom.find_all("span", "badge") if b.parent.tag == "div"] == ["MT"]
    assert len(dom.find_all("h2", "heading")) == 1
    assert dom.find_all("script") == []
    assert "@media print" in dom.find_all("style")[0].text()


def test_what_the_checks_still_flag_is_shown_with_the_mt_badge():
    flagged = {**rec(1, "今年9月。", "", 0.0, "mt", mt="In September 2019."), "mt_flags": ["number"]}
    clean = rec(2, "你好。", "", 0.0, "mt", mt="Hello.")
    page_dom = parse(render_html([flagged, clean], SIGNATURE))
    en = beads_by_id(page_dom)[1].elements()[1]
    assert [b.text() for b in en.find_all("span", "badge")] == ["MT"]
    assert [f.text() for f in en.find_all("span", "flags")] == ["number"]
    assert beads_by_id(page_dom)[2].elements()[1].find_all("span", "flags") == []
    rows = [line for line in render_markdown([flagged, clean], SIGNATURE).splitlines() if "。" in line]
    assert _cells(rows[0]) == ["今年9月。", "`MT: number` In September 2019."]
    assert _cells(rows[1]) == ["你好。", "`MT` Hello."]
