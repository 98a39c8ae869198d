"""The bilingual editions: HTML page structure (checked on a parsed DOM), front matter, contents, marks,
colophon, escaping; Markdown as one table; EPUB and DOCX opened and read back; the HTML rendered in headless
Chromium at 1400 and 400 px (DOM checks) and printed to PDF."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from toolkit.export.book import FrontMatter, bead_anchor, build_book
from toolkit.export.edition import LOW_CONFIDENCE, omission_summary, render_html, render_markdown, zh_lang_tag

VOID = {"meta", "br", "hr", "img", "link", "input", "wbr", "source", "col", "area", "base", "embed", "track"}
NASTY = 'a <script>alert("x")</script> & \'q\' </div>\x07\x00 end'
SIGNATURE = {"aligner": "test", "zh_script_in": "simplified", "zh_script_out": "as-is", "note": "</pre><b>x</b>",
             "command": "bitext align /tmp/tmp.abc/talk.zh.txt /home/me/talk.en.txt -o /tmp/tmp.abc/out",
             "inputs": {"zh": {"path": "/tmp/tmp.abc/talk.zh.txt", "sha256": "ab" * 32},
                        "en": {"path": "C:\\Users\\me\\talk.en.txt", "sha256": "cd" * 32}},
             "mt": "llm:qwen1.5b (decoding=greedy)"}
FRONT = FrontMatter(title="Talk & <Notes>")
MACHINE_PATH = re.compile(r"(/tmp/|/home/|/work/|[A-Za-z]:\\|tmp\.)")


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
    return render_html(RECORDS, SIGNATURE, front=FRONT, date="2026-12-01")


@pytest.fixture(scope="module")
def dom(page) -> Node:
    return parse(page)


def beads_by_id(dom: Node) -> dict[int, Node]:
    return {int(n.attrs["data-id"]): n for n in dom.find_all("div", "bead")}


def ids(dom: Node) -> list[str]:
    return [n.attrs["id"] for n in dom.iter() if "id" in n.attrs]


# ---------------------------------------------------------------------------
# HTML structure


def test_every_bead_is_a_row_with_zh_and_en_cells_and_a_stable_id(dom):
    beads = beads_by_id(dom)
    assert sorted(beads) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]  # the heading is an h2
    for id, node in beads.items():
        record = RECORDS[id - 1]
        assert node.attrs["id"] == f"b{id}"
        assert node.attrs["data-type"] == record["type"] and node.attrs["data-origin"] == record["origin"]
        assert float(node.attrs["data-score"]) == pytest.approx(record["score"])
        cells = node.elements()
        assert [c.tag for c in cells] == ["div", "div"]
        assert "zh" in cells[0].classes and cells[0].attrs["lang"] == "zh-Hans"
        assert "en" in cells[1].classes and cells[1].attrs["lang"] == "en"
    assert len(ids(dom)) == len(set(ids(dom)))


@pytest.mark.parametrize("record, position, anchor", [
    ({"id": 243}, 1, "b243"), ({"id": "b243"}, 1, "b243"), ({"id": "17"}, 1, "b17"), ({}, 5, "b5"),
    ({"id": "no spaces allowed"}, 3, "b3"), ({"id": True}, 2, "b2"),
])
def test_bead_anchor(record, position, anchor):
    assert bead_anchor(record, position) == anchor


def test_string_bead_ids_and_duplicates_give_unique_anchors():
    records = [{**rec(1), "id": "b7"}, {**rec(2), "id": "b7"}, {**rec(3), "id": None}]
    anchors = [n.attrs["id"] for n in parse(render_html(records, {})).find_all("div", "bead")]
    assert anchors == ["b7", "b7-2", "b3"]


def test_heading_is_h2_with_both_languages(dom):
    (h2,) = dom.find_all("h2", "heading")
    assert [c.text() for c in h2.elements()] == ["第一章 开始", "Chapter One: Beginnings"]
    assert h2.attrs["id"] == "b1"
    (h1,) = dom.find_all("h1")
    assert h1.text() == "Talk & <Notes>"
    assert dom.find_all("title")[0].text() == "Talk & <Notes>"


def test_html_lang_is_the_chinese_editions(dom):
    (html_node,) = dom.find_all("html")
    assert html_node.attrs["lang"] == "zh-Hans"
    traditional = parse(render_html(RECORDS[:3], {"zh_script_in": "traditional", "zh_script_out": "as-is"}))
    assert traditional.find_all("html")[0].attrs["lang"] == "zh-Hant"


def test_font_stacks_by_language(dom):
    css = dom.find_all("style")[0].text()
    rules = dict(re.findall(r":lang\(([\w-]+)\) \{ font-family: ([^;]+);", css))
    assert set(rules) == {"en", "zh-Hans", "zh-Hant"}
    for lang, families in {"zh-Hans": ["SimSun", "Songti SC", "Noto Serif CJK SC", "Microsoft YaHei"],
                           "zh-Hant": ["PMingLiU", "Songti TC", "Noto Serif CJK TC", "Microsoft JhengHei"]}.items():
        assert all(f'"{family}"' in rules[lang] for family in families)
    assert "SC" not in rules["zh-Hant"] and "TC" not in rules["zh-Hans"]


# ---------------------------------------------------------------------------
# front matter


def _title(records, front=None):
    book = build_book(records, {}, front, fallback_title="hash_name")
    return book.title, book.title_en, [b.entries[0].record["id"] for b in book.blocks]


@pytest.mark.parametrize("records, expected", [
    # the first line reads as a title: it becomes the title and leaves the text
    ([rec(1, "标题在此", "The Title", kind="heading"), rec(2)], ("标题在此", "The Title", [2])),
    # an "original title" line wins over the first line, and stays where it is
    ([rec(1, "标题在此", kind="heading"), rec(2), rec(3, "原文标题 : 真正的标题", "Original title: The Real One", kind="heading")],
     ("真正的标题", "The Real One", [1, 2, 3])),
    # a first line that is a long sentence is not a title: the first heading is
    ([rec(1, "这是一句很长的话，" * 8 + "。"), rec(2, "第一节", "Part one", kind="heading")],
     ("第一节", "Part one", [1, 2])),
    # the first line in the Chinese's order, not the file's (English omissions come first)
    ([rec(1, "", "Intro."), {**rec(2, "短标题", "Short title"), "zh_ids": [0]}, {**rec(3), "zh_ids": [1]}],
     ("短标题", "Short title", [1, 3])),
    ([rec(1, "", "Only English.")], ("hash_name", None, [1])),
])
def test_title_comes_from_the_document(records, expected):
    assert _title(records) == expected


def test_front_matter_options_override_the_document():
    records = [rec(1, "标题在此", "The Title", kind="heading"), rec(2)]
    front = FrontMatter(title="我的书", subtitle="A subtitle", author="A. Author", translator="T. Translator",
                        source_url="https://example.org/talk", date="2024-03")
    assert _title(records, front) == ("我的书", None, [1, 2])
    dom = parse(render_html(records, SIGNATURE, front=front))
    assert dom.find_all("h1")[0].text() == "我的书"
    assert dom.find_all("p", "subtitle")[0].text() == "A subtitle"
    credits = {dt.text(): dt.parent.find_all("dd")[0].text() for dt in dom.find_all("dl", "credits")[0].find_all("dt")}
    assert credits == {"Author": "A. Author", "Translator": "T. Translator", "Date": "2024-03",
                       "Source": "https://example.org/talk"}
    assert [m.attrs["content"] for m in dom.find_all("meta") if m.attrs.get("name") == "author"] == ["A. Author"]
    # Front matter in Chinese is tagged as Chinese (its font), in English as English.
    mixed = parse(render_html(records, {"zh_script_in": "traditional"},
                              front=FrontMatter(title="An English Title", translator="智東西 (依婷)", author="Sam")))
    assert mixed.find_all("h1")[0].elements()[0].attrs["lang"] == "en"
    assert [dd.attrs.get("lang") for dd in mixed.find_all("dl", "credits")[0].find_all("dd")] == ["en", "zh-Hant"]


@pytest.mark.parametrize("field, value", [("title", "  "), ("source_url", "javascript:alert(1)"), ("author", "")])
def test_front_matter_refuses_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        FrontMatter(**{field: value})


# ---------------------------------------------------------------------------
# navigation

CONTENTS_RECORDS = [
    rec(1, "一次访谈", "An interview", kind="heading"),
    rec(2, "导言。", "Intro."),
    rec(3, "目录:", "Contents", kind="heading"),
    rec(4, "一、开端与起点", "1. Beginnings", kind="heading"),
    rec(5, "二、结局", "2. Endings", kind="heading"),
    rec(6, "/ 01 / 开端与起点", "/ 01 / Beginnings", kind="heading"),
    rec(7, "第一句。", "First."),
    rec(8, "", "English-only heading line", kind="heading"),
    rec(9, "/ 02 / 结局", "/ 02 / Endings", kind="heading"),
    rec(10, "最后。", "Last."),
]


def test_contents_link_to_the_headings_and_the_source_list_is_a_list():
    dom = parse(render_html(CONTENTS_RECORDS, {}))
    all_ids = set(ids(dom))
    (nav,) = dom.find_all("nav", "contents")
    links = [a.attrs["href"] for a in nav.find_all("a")]
    assert links == ["#b6", "#b9"]  # headings with Chinese; the source list's entries are not repeated
    assert all(link[1:] in all_ids for link in links)
    (source,) = dom.find_all("section", "source-contents")
    assert [h.text() for h in source.find_all("h2")] == ["目录: Contents"]
    items = source.find_all("li", "bead")
    assert [li.attrs["id"] for li in items] == ["b4", "b5"]
    assert [li.find_all("a")[0].attrs["href"] for li in items] == ["#b6", "#b9"]  # "一、开端" -> "/ 01 / 开端"
    assert [h.attrs["id"] for h in dom.find_all("h2", "heading") if h.parent.tag == "main"] == ["b6", "b8", "b9"]
    hrefs = [a.attrs["href"] for a in dom.find_all("a") if a.attrs["href"].startswith("#")]
    assert all(href[1:] in all_ids for href in hrefs)


# ---------------------------------------------------------------------------
# marks


def test_omission_runs_collapse_into_details_with_their_length(dom):
    details = dom.find_all("details", "omitted")
    assert [d.attrs["data-count"] for d in details] == ["3", "1"]
    first, second = details
    assert first.elements()[0].tag == "summary"
    assert first.elements()[0].text() == "3 English sentences (9 words) not in the Chinese"
    assert [b.attrs["data-id"] for b in first.find_all("div", "bead")] == ["4", "5", "6"]
    assert second.elements()[0].text() == "1 English sentence (3 words) not in the Chinese"
    assert "open" not in first.attrs  # collapsed on screen; the print CSS opens it
    assert "details.omitted::details-content" in dom.find_all("style")[0].text().split("@media print")[1]
    assert {id for d in details for id in (int(b.attrs["data-id"]) for b in d.find_all("div", "bead"))} == {4, 5, 6, 10}


def test_omission_summary_wording():
    assert omission_summary(12, 230) == "12 English sentences (230 words) not in the Chinese"
    assert omission_summary(1, 1) == "1 English sentence (1 word) not in the Chinese"


def test_chinese_with_no_english_is_marked_not_in_the_original(dom):
    beads = beads_by_id(dom)
    for id in (2, 11):
        en = beads[id].elements()[1]
        assert "missing" in beads[id].classes and [m.text() for m in en.find_all("span", "marker")] == ["not in the original"]
    assert beads[7].find_all("span", "marker") == []  # machine-translated: it has English


def test_mt_bead_is_marked_with_a_badge_and_mt_english(dom):
    bead = beads_by_id(dom)[7]
    assert "mt" in bead.classes and "low" not in bead.classes
    en = bead.elements()[1]
    (badge,) = en.find_all("span", "badge")
    assert badge.text() == "MT"
    assert en.text() == "MTThank you."
    assert dom.find_all("p", "banner") == []


def test_an_all_mt_document_gets_one_banner_and_no_badges():
    records = [rec(i, f"第{i}句。", "", 0.0, "mt", mt=f"Sentence {i}.") for i in range(1, 5)]
    dom = parse(render_html(records, {"mt": "llm:qwen1.5b (decoding=greedy)"}))
    (banner,) = dom.find_all("p", "banner")
    assert "machine translation (qwen1.5b)" in banner.text()
    assert dom.find_all("span", "badge") == []
    assert "all-mt" in dom.find_all("body")[0].classes  # the English is not coloured as MT line by line
    assert "MT" not in [dt.text() for dt in dom.find_all("dt")]  # nothing in the legend for a badge not shown
    text = render_markdown(records, {"mt": "llm:qwen1.5b"})
    assert "> All English in this edition is machine translation (qwen1.5b)" in text and "`MT`" not in text


def _reviewed_translation(id, zh, translation, kind="sentence") -> dict:
    """A 1-0 bead whose English a translator approved or wrote in `bitext review`."""
    return {**rec(id, zh, "", 0.0, "human", kind=kind, mt="Machine draft."), "review": "edited",
            "translation": translation}


def test_reviewed_translation_is_shown_with_its_own_badge():
    records = [rec(1), _reviewed_translation(2, "编者按。", "Editor's note."),
               _reviewed_translation(3, "目录", "Contents", "heading"), rec(4, "没有译文。", "", 0.0)]
    page_dom = parse(render_html(records, SIGNATURE))
    bead = beads_by_id(page_dom)[2]
    en = bead.elements()[1]
    assert "mt" not in bead.classes and [b.text() for b in en.find_all("span", "badge")] == ["TR"]
    assert en.text() == "TREditor's note."                      # the reviewer's text, not the machine draft
    (heading,) = page_dom.find_all("h2", "heading")
    assert heading.text().endswith("TRContents")
    assert beads_by_id(page_dom)[4].elements()[1].find_all("span", "badge") == []  # nothing to mark
    rows = [line for line in render_markdown(records, SIGNATURE).splitlines() if "编者按" in line]
    assert _cells(rows[0]) == ["编者按。", "`TR` Editor's note."]


def test_mt_the_checks_still_flag_says_what_to_check_in_every_format(tmp_path):
    import docx

    from toolkit.export.docx_edition import render_docx

    flagged = {**rec(2, "今年9月，辛顿离开。", "", 0.0, "mt", mt="In September 2019, Hinton left."),
               "mt_flags": ["number", "name"]}
    reviewed = {**_reviewed_translation(3, "一万人。", "Ten thousand people."), "origin": "mt", "mt_flags": ["number"]}
    kept = {**rec(5, "一万个GPU。", "", 0.0, "mt", mt="A million GPUs."), "mt_flags": ["number"],
            "review": "no-counterpart", "translation": "A million GPUs."}  # reviewed for its pairing only
    records = [rec(1), flagged, reviewed, rec(4, "谢谢。", "", 0.0, "mt", mt="Thank you."), kept]
    page_dom = parse(render_html(records, SIGNATURE))
    beads = beads_by_id(page_dom)
    (flag,) = beads[2].elements()[1].find_all("span", "flag")
    assert flag.text() == "⚑ check: a number, a name" and "against the Chinese" in flag.attrs["title"]
    assert beads[3].find_all("span", "flag") == [] and beads[4].find_all("span", "flag") == []  # reviewed; clean
    assert [f.text() for f in beads[5].find_all("span", "flag")] == ["⚑ check: a number"]
    (legend,) = page_dom.find_all("section", "legend")
    assert "⚑ check: a number" in [dt.text() for dt in legend.find_all("dt")]
    rows = [line for line in render_markdown(records, SIGNATURE).splitlines() if "辛顿" in line]
    assert _cells(rows[0])[1] == "`MT` In September 2019, Hinton left. ⚑ *check: a number, a name*"
    path = tmp_path / "book.docx"
    path.write_bytes(render_docx(records, SIGNATURE, date="2026-12-01"))
    cells = [[c.text for c in row.cells] for table in docx.Document(str(path)).tables for row in table.rows]
    assert ["今年9月，辛顿离开。", "MT In September 2019, Hinton left. ⚑ check: a number, a name"] in cells
    assert ["一万个GPU。", "MT A million GPUs. ⚑ check: a number"] in cells
    assert not any("⚑" in text for row in cells if row[0] not in ("今年9月，辛顿离开。", "一万个GPU。") for text in row[1:])


def test_low_confidence_pairs_are_flagged_with_their_score(dom):
    flagged = {id for id, node in beads_by_id(dom).items() if "low" in node.classes}
    assert flagged == {8}  # not one-sided beads, not MT (score 0 there means no alignment score)
    bead = beads_by_id(dom)[8]
    assert "low alignment confidence" in bead.attrs["title"]
    (conf,) = bead.find_all("span", "conf")
    assert conf.attrs["title"] == "low alignment confidence: 0.30" and conf.text() == "⚠ 0.30"
    css = dom.find_all("style")[0].text()
    assert ".conf .score { display: none;" in css and ".conf .score { display: inline; }" in css.split("@media print")[1]
    assert LOW_CONFIDENCE == 0.5


def test_legend_explains_every_mark_used(dom):
    (legend,) = dom.find_all("section", "legend")
    terms = [dt.text() for dt in legend.find_all("dt")]
    assert terms == ["MT", "⚠ 0.34", "not in the original", "▸ N English sentences …", "Name:"]
    assert all(dd.text() for dd in legend.find_all("dd"))


def test_speaker_labels_are_bold_at_turn_starts_on_both_sides(dom):
    bead = beads_by_id(dom)[3]
    assert "turn" in bead.classes and bead.attrs["data-speaker"] == "主持人"
    assert [s.text() for s in bead.find_all("strong", "speaker")] == ["主持人：", "Host:"]
    assert bead.elements()[0].text() == "主持人： 你好。"
    # Not a turn start: no label even though "编者按：" looks like one.
    assert beads_by_id(dom)[2].find_all("strong") == []
    # The English has no label (an ASR transcript): the speaker's name is shown there too.
    one_sided = parse(render_html([rec(1, "Stephen Zhan：你好吗？", "How are you?", speaker="Stephen Zhan")], {}))
    cells = one_sided.find_all("div", "bead")[0].elements()
    assert [c.find_all("strong")[0].text() for c in cells] == ["Stephen Zhan：", "Stephen Zhan:"]


def test_speaker_name_shown_when_the_text_has_no_label(dom):
    bead = beads_by_id(dom)[9]
    assert bead.attrs["data-speaker"] == 'O"Brien'  # quotes survive the attribute
    assert [n.text() for n in bead.find_all("strong", "speaker")] == ['O"Brien:', 'O"Brien:']


def test_english_start_time_links_into_a_video():
    records = [{**rec(1), "en_start": 62.4}, {**rec(2), "en_start": 3725}, rec(3)]
    front = FrontMatter(source_url="https://www.youtube.com/watch?v=c3b-JASoPi0")
    dom = parse(render_html(records, {}, front=front))
    links = dom.find_all("a", "time")
    assert [(a.text(), a.attrs["href"]) for a in links] == [
        ("1:02", "https://www.youtube.com/watch?v=c3b-JASoPi0&t=62s"),
        ("1:02:05", "https://www.youtube.com/watch?v=c3b-JASoPi0&t=3725s")]
    assert links[0].parent.attrs["class"] == "en"
    # An article is not a video; no address, no links.
    for other in (FrontMatter(source_url="https://example.org/article"), None):
        assert parse(render_html(records, {}, front=other)).find_all("a", "time") == []


def test_text_is_escaped_and_control_characters_dropped(page, dom):
    bead = beads_by_id(dom)[9]
    expected = 'a <script>alert("x")</script> & \'q\' </div> end'
    assert bead.elements()[0].text().endswith(expected)
    assert bead.elements()[1].text().endswith(expected)
    assert dom.find_all("script") == []
    assert "\x07" not in page and "\x00" not in page
    assert "&lt;script&gt;" in page


def test_running_head_is_escaped_in_the_css():
    nasty = FrontMatter(title='x"; } body { display: none } </style><script>')
    dom = parse(render_html([rec(1)], {}, front=nasty))
    (style,) = dom.find_all("style")
    assert "</style>" not in style.text() and dom.find_all("script") == []
    assert re.search(r"@top-center \{ content: \"[^\"]*\";", style.text())


def test_self_contained_with_print_css(page, dom):
    (style,) = dom.find_all("style")
    css = style.text()
    assert "@media print" in css and "break-inside: avoid" in css
    assert "@page { size: A4;" in css and "counter(page)" in css and '@top-center { content: "Talk \\26  \\3c Notes\\3e ";' in css
    assert "@media (max-width: 700px)" in css
    assert dom.find_all("link") == [] and dom.find_all("img") == [] and dom.find_all("script") == []
    assert not re.search(r"src\s*=|url\(|@import|https?://", page)
    assert {a.attrs["href"][0] for a in dom.find_all("a")} == {"#"}
    (meta,) = [m for m in dom.find_all("meta") if "charset" in m.attrs]
    assert meta.attrs["charset"] == "utf-8"


def test_colophon_is_short_with_file_names_and_hashes_not_paths(page, dom):
    (footer,) = dom.find_all("footer", "colophon")
    lines = {dt.text(): dt.parent.find_all("dd")[0].text() for dt in footer.find_all("dt")}
    assert lines["Made with"].startswith("bitext ") and lines["Date"] == "2026-12-01"
    assert lines["Chinese"] == f"talk.zh.txt · sha256 {'ab' * 32}"
    assert lines["English"] == f"talk.en.txt · sha256 {'cd' * 32}"   # a Windows path too
    assert lines["Machine translation"] == "qwen1.5b"
    assert not MACHINE_PATH.search(footer.text())
    assert not MACHINE_PATH.search(page)  # nowhere in the page: the command line is not printed
    assert "{" not in footer.text()       # no JSON
    assert dom.find_all("pre") == []


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
    dom = parse(render_html(RECORDS[:3], signature, front=FRONT))
    assert {n.attrs["lang"] for n in dom.find_all(cls="zh")} == {tag}


def test_empty_edition_is_still_a_page():
    dom = parse(render_html([], {}))
    assert dom.find_all("div", "bead") == [] and len(dom.find_all("footer")) == 1


# ---------------------------------------------------------------------------
# Markdown


def _cells(row: str) -> list[str]:
    """Split a table row on unescaped pipes."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def _table_rows(text: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index("| 中文 | English |")
    end = lines.index("", start)
    return lines[start + 2:end]


def test_markdown_is_one_table_through_the_document():
    records = [*RECORDS, rec(12, "甲|乙", "a | b * _c_ [d](e) `f`")]
    text = render_markdown(records, SIGNATURE, front=FRONT)
    lines = text.splitlines()
    assert lines[0] == "# Talk &amp; &lt;Notes&gt;"
    assert lines.count("| 中文 | English |") == 1
    rows = _table_rows(text)
    assert len(rows) == len(records) and all(len(_cells(row)) == 2 for row in rows)  # omissions are rows
    assert _cells(rows[0]) == ["**第一章 开始**", "**Chapter One: Beginnings**"]  # headings too
    assert _cells(rows[3]) == ["*3 English sentences (9 words) not in the Chinese*", "First omitted sentence here."]
    assert _cells(rows[4]) == ["", "Second one."]
    assert _cells(rows[1])[1] == "*\\[not in the original\\]*"
    assert _cells(rows[-1]) == ["甲\\|乙", "a \\| b \\* \\_c\\_ \\[d\\](e) \\`f\\`"]
    nasty = [row for row in rows if "alert" in row][0]
    assert "<script>" not in nasty and "&lt;script&gt;" in nasty and "&amp;" in nasty
    assert "\x07" not in text and "\x00" not in text
    assert _cells([row for row in rows if "Thank you." in row][0])[1] == "`MT` Thank you."
    assert _cells([row for row in rows if "Perhaps" in row][0])[1].endswith("⚠ 0.30")
    assert "<details>" not in text


def test_markdown_front_matter_and_colophon():
    text = render_markdown(CONTENTS_RECORDS, SIGNATURE, front=FrontMatter(author="A. Author", date="2024"),
                           date="2026-12-01")
    lines = text.splitlines()
    assert lines[0] == "# 一次访谈" and "**An interview**" in lines
    assert "- Author: A. Author" in lines and "- Date: 2024" in lines
    contents = lines[lines.index("## Contents") + 2:]
    assert contents[:2] == ["1. / 01 / 开端与起点 — / 01 / Beginnings", "2. / 02 / 结局 — / 02 / Endings"]
    colophon = [line for line in lines if line.startswith("**Colophon.**")][0]
    assert "Date: 2026-12-01" in colophon and f"talk.zh.txt · sha256 {'ab' * 32}" in colophon
    assert not MACHINE_PATH.search(text) and "```" not in text


def test_markdown_shows_a_speaker_missing_from_the_text():
    rows = [line for line in render_markdown(RECORDS, SIGNATURE).splitlines() if "alert" in line]
    assert _cells(rows[0])[0].startswith('**O"Brien:** a &lt;script&gt;')


@pytest.mark.skipif(importlib.util.find_spec("markdown_it") is None, reason="markdown-it-py is not installed")
def test_markdown_renders_as_one_commonmark_table():
    from markdown_it import MarkdownIt

    records = [*RECORDS, rec(12, "甲|乙", "a | b * _c_ [d](e) `f`")]
    rendered = MarkdownIt("commonmark").enable("table").render(render_markdown(records, SIGNATURE, front=FRONT))
    dom = parse("<!DOCTYPE html><div>" + rendered.replace("<hr />", "<hr>") + "</div>")
    (table,) = dom.find_all("table")
    rows = [tr for tr in table.find_all("tr") if tr.find_all("td")]
    assert len(rows) == 12 and all(len(tr.find_all("td")) == 2 for tr in rows)
    assert [td.text() for td in rows[-1].find_all("td")] == ["甲|乙", "a | b * _c_ [d](e) `f`"]
    assert [td.text() for td in rows[8].find_all("td")][1] == 'O"Brien: a <script>alert("x")</script> & \'q\' </div> end'
    assert dom.find_all("script") == [] and dom.find_all("a") == []
    assert [h.text() for h in dom.find_all("h1")] == ["Talk & <Notes>"]


def test_markdown_interleaved_escapes_line_starts():
    text = render_markdown([rec(1, "# 不是标题", "- not a list"), rec(2, "1. 一", "> not a quote")], {}, front=FRONT,
                           layout="interleaved")
    lines = text.splitlines()
    body = lines[lines.index("\\# 不是标题\\"):]
    assert body[:5] == ["\\# 不是标题\\", "\\- not a list", "", "1\\. 一\\", "&gt; not a quote"]
    assert not any(line.startswith("|") for line in lines)


# ---------------------------------------------------------------------------
# EPUB and DOCX

BOOK_FRONT = FrontMatter(title="访谈 & 对话", subtitle="A talk", author="A. Author", translator="T. Translator",
                         source_url="https://example.org/talk", date="2024-03")


def _xml(data: bytes):
    from xml.etree import ElementTree

    return ElementTree.fromstring(data)


XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.mark.skipif(importlib.util.find_spec("ebooklib") is None, reason="ebooklib is not installed")
def test_epub_structure_metadata_and_content(tmp_path):
    import zipfile

    from toolkit.export.epub import render_epub

    data = render_epub(CONTENTS_RECORDS + RECORDS[1:], SIGNATURE, front=BOOK_FRONT, date="2026-12-01")
    path = tmp_path / "book.epub"
    path.write_bytes(data)
    with zipfile.ZipFile(path) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert archive.read("mimetype") == b"application/epub+zip"
        container = _xml(archive.read("META-INF/container.xml"))
        opf_path = container.find(".//{urn:oasis:names:tc:opendocument:xmlns:container}rootfile").attrib["full-path"]
        opf = _xml(archive.read(opf_path))
        dc = "{http://purl.org/dc/elements/1.1/}"
        assert opf.find(f".//{dc}title").text == "访谈 & 对话"
        assert [e.text for e in opf.iter(f"{dc}language")] == ["zh-Hans", "en"]
        assert {e.text for e in opf.iter(f"{dc}creator")} == {"A. Author", "T. Translator"}
        assert opf.find(f".//{dc}source").text == "https://example.org/talk"
        assert opf.find(f".//{dc}date").text == "2024-03"
        base = opf_path.rsplit("/", 1)[0] + "/"
        manifest = {item.attrib["id"]: item.attrib["href"] for item in opf.iter("{http://www.idpf.org/2007/opf}item")}
        spine = [manifest[ref.attrib["idref"]] for ref in opf.iter("{http://www.idpf.org/2007/opf}itemref")]
        assert spine[0] == "title.xhtml" and spine[-1] == "colophon.xhtml"
        pages = {name: _xml(archive.read(base + name)) for name in spine}  # every page is well-formed XHTML
        anchors = {(name, e.attrib["id"]) for name, root in pages.items() for e in root.iter() if "id" in e.attrib}
        assert len({a for _, a in anchors}) == len(anchors)
        beads = [e for root in pages.values() for e in root.iter() if "bead" in e.attrib.get("class", "").split()]
        # Every record but the title and the four headings (目录 and three h2); the contents entries are beads.
        assert len(beads) == len(CONTENTS_RECORDS) + len(RECORDS[1:]) - 5
        # Links (the source's contents, the navigation document) resolve to an id in their file.
        nav = _xml(archive.read(base + manifest["nav"]))
        links = [a.attrib["href"] for root in [*pages.values(), nav] for a in root.iter(f"{XHTML}a")
                 if not a.attrib["href"].startswith("http")]
        assert links and all("#" not in link or tuple(link.split("#")) in anchors for link in links)
        text = "".join("".join(root.itertext()) for root in pages.values())
        for mark in ("MT", "not in the original", "3 English sentences (9 words) not in the Chinese", "⚠ 0.30",
                     f"talk.zh.txt · sha256 {'ab' * 32}"):
            assert mark in text
        assert not MACHINE_PATH.search(text)
        title_page = pages["title.xhtml"]
        assert title_page.attrib["lang"] == "zh-Hans"
        assert [h.text for h in title_page.iter(f"{XHTML}h1")] == [None] or "访谈 & 对话" in "".join(
            next(title_page.iter(f"{XHTML}h1")).itertext())
    from ebooklib import epub  # read back by the library that wrote it, too

    assert epub.read_epub(str(path)).get_metadata("DC", "title")[0][0] == "访谈 & 对话"


EPUBCHECK = shutil.which("epubcheck") and Path("/usr/share/java/epubcheck.jar")


@pytest.mark.skipif(not (EPUBCHECK and EPUBCHECK.is_file() and shutil.which("java")),
                    reason="epubcheck is not installed (apt-get install -y epubcheck)")
@pytest.mark.skipif(importlib.util.find_spec("ebooklib") is None, reason="ebooklib is not installed")
def test_epubcheck_accepts_the_epub(tmp_path):
    from toolkit.export.epub import render_epub

    path = tmp_path / "book.epub"
    path.write_bytes(render_epub(CONTENTS_RECORDS + RECORDS[1:], SIGNATURE, front=BOOK_FRONT))
    proc = subprocess.run(["java", "-jar", str(EPUBCHECK), str(path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "No errors or warnings detected" in proc.stdout + proc.stderr


@pytest.mark.skipif(importlib.util.find_spec("docx") is None, reason="python-docx is not installed")
def test_docx_reads_back_with_the_same_content_and_marks(tmp_path):
    import docx
    from docx.oxml.ns import qn

    from toolkit.export.docx_edition import render_docx

    path = tmp_path / "book.docx"
    path.write_bytes(render_docx(CONTENTS_RECORDS + RECORDS[1:], SIGNATURE, front=BOOK_FRONT, date="2026-12-01"))
    document = docx.Document(str(path))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[:3] == ["访谈 & 对话", "A talk", "Author: A. Author"]
    assert "Source: https://example.org/talk" in paragraphs
    assert document.core_properties.title == "访谈 & 对话" and document.core_properties.author == "A. Author"
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert section.header.paragraphs[0].text == "访谈 & 对话"
    assert "PAGE" in section.footer._element.xml
    rows = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    assert len(rows) == len(CONTENTS_RECORDS) + len(RECORDS[1:]) - 5  # as in the EPUB: all but title and headings
    assert ["谢谢。", "MT Thank you."] in rows
    assert ["编者按：这是导言。", "[not in the original]"] in rows
    assert ["3 English sentences (9 words) not in the Chinese", "First omitted sentence here."] in rows
    assert ["也许吧。", "Perhaps not at all, who knows. ⚠ 0.30"] in rows
    assert ["主持人： 你好。", "Host: Hello there."] in rows
    body = document.element.body
    bookmarks = {b.get(qn("w:name")) for b in body.iter(qn("w:bookmarkStart"))}
    links = [h.get(qn("w:anchor")) for h in body.iter(qn("w:hyperlink"))]
    assert {"b6", "b9"} <= bookmarks and links and set(links) <= bookmarks
    colophon = paragraphs[paragraphs.index("Colophon") + 1:]
    assert f"Chinese talk.zh.txt · sha256 {'ab' * 32}" in colophon
    assert not MACHINE_PATH.search("\n".join(paragraphs))


# ---------------------------------------------------------------------------
# headless browser: the page at 1400 and 400 px, and printed

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install -y chromium)")

# A page holding the edition in an iframe of the width under test (a headless window is at least
# 500 px wide); its script measures the DOM Chromium laid out (the edition itself has no script).
PROBE = """<!DOCTYPE html><html><body style="margin:0">
<iframe src="EDITION" style="width:WIDTHpx;height:900px;border:0" onload="probe(this.contentWindow)"></iframe>
<script>
function probe(win) {
  const doc = win.document;
  const r = {width: win.innerWidth, lang: doc.documentElement.lang};
  const all = [...doc.querySelectorAll('[id]')].map(e => e.id);
  r.duplicate_ids = all.filter((v, i) => all.indexOf(v) !== i);
  const links = [...doc.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href').slice(1));
  r.links = links.length;
  r.broken_links = links.filter(id => !doc.getElementById(decodeURIComponent(id)));
  const pair = [...doc.querySelectorAll('main > .bead')].find(
      b => b.querySelector('.zh').textContent && b.querySelector('.en').textContent);
  const zh = pair.querySelector('.zh'), en = pair.querySelector('.en');
  const z = zh.getBoundingClientRect(), e = en.getBoundingClientRect();
  r.side_by_side = Math.abs(z.top - e.top) < 2 && e.left >= z.right;
  r.stacked = e.top >= z.bottom - 1 && Math.abs(e.left - z.left) < 2;
  r.zh_font = win.getComputedStyle(zh).fontFamily;
  r.en_font = win.getComputedStyle(en).fontFamily;
  r.zh_lang = zh.lang;
  r.colophon = doc.querySelector('footer.colophon').innerText;
  r.overflow = doc.documentElement.scrollWidth > win.innerWidth + 1;
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify(r);
  document.body.appendChild(out);
}
</script></body></html>"""


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}", *args]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def _probe(tmp_path, page: str, width: int) -> dict:
    edition = tmp_path / "edition.html"
    edition.write_text(page, encoding="utf-8")
    wrapper = tmp_path / f"probe-{width}.html"
    wrapper.write_text(PROBE.replace("EDITION", edition.name).replace("WIDTH", str(width)), encoding="utf-8")
    proc = _chromium(tmp_path, f"--window-size={max(width, 500) + 50},1000", "--allow-file-access-from-files",
                     "--dump-dom", wrapper.as_uri())
    found = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.DOTALL)
    assert found, proc.stdout[-2000:]
    import html as html_module

    return json.loads(html_module.unescape(found.group(1)))


def _book_records(n: int = 60) -> list[dict]:
    """A document of some length: headings, turns, omissions, a low pair, MT and missing English."""
    records = [rec(1, "一次长访谈", "A long interview", kind="heading"), rec(2, "目录：", "Contents", kind="heading"),
               rec(3, "一、开端", "1. Beginnings", kind="heading"), rec(4, "二、结局", "2. Endings", kind="heading")]
    for i in range(5, n + 5):
        if i in (5, 5 + n // 2):
            records.append(rec(i, f"/ 0{1 if i == 5 else 2} / {'开端' if i == 5 else '结局'}",
                               "Beginnings" if i == 5 else "Endings", kind="heading"))
        elif i % 9 == 0:
            records.append(rec(i, "", f"An English sentence {i} that the Chinese leaves out entirely.", score=0.0))
        elif i % 13 == 0:
            records.append(rec(i, f"编者补充的第{i}句话，原文没有。", "", score=0.0))
        else:
            records.append(rec(i, f"主持人：这是第{i}句比较长的中文句子，用来占满一行以上的宽度。" * 2,
                               f"Host: This is English sentence number {i}, long enough to wrap across a line.",
                               score=0.3 if i % 11 == 0 else 0.9, speaker="主持人" if i % 5 == 0 else None))
    records.append(rec(n + 5, "谢谢。", "", 0.0, "mt", mt="Thank you."))
    return records


@needs_chromium
def test_chromium_lays_out_side_by_side_wide_and_interleaved_narrow(tmp_path):
    page = render_html(_book_records(), SIGNATURE)
    wide, narrow = _probe(tmp_path, page, 1400), _probe(tmp_path, page, 400)
    assert (wide["width"], narrow["width"]) == (1400, 400)
    assert wide["side_by_side"] and not wide["stacked"]
    assert narrow["stacked"] and not narrow["side_by_side"] and not narrow["overflow"]
    for probe in (wide, narrow):
        assert probe["lang"] == "zh-Hans" and probe["zh_lang"] == "zh-Hans"
        assert probe["duplicate_ids"] == [] and probe["links"] > 5 and probe["broken_links"] == []
        assert probe["zh_font"].startswith('"Songti SC"') and "Noto Serif CJK SC" in probe["zh_font"]
        assert probe["en_font"].startswith("Georgia")
        assert "talk.zh.txt" in probe["colophon"] and not MACHINE_PATH.search(probe["colophon"])


@needs_chromium
def test_chromium_picks_the_traditional_font_stack(tmp_path):
    records = [rec(i, "這是繁體字的句子。", "A sentence.") for i in range(1, 4)]
    probe = _probe(tmp_path, render_html(records, {"zh_script_in": "traditional", "zh_script_out": "as-is"}), 1400)
    assert probe["lang"] == "zh-Hant" and probe["zh_lang"] == "zh-Hant"
    assert probe["zh_font"].startswith('"Songti TC"') and "PMingLiU" in probe["zh_font"]
    assert "SC" not in probe["zh_font"]


PDFTOTEXT = shutil.which("pdftotext")


@needs_chromium
@pytest.mark.skipif(PDFTOTEXT is None, reason="no pdftotext (apt-get install -y poppler-utils)")
def test_printed_edition_is_a4_with_page_numbers_running_heads_and_open_omissions(tmp_path):
    records = _book_records(120)
    path = tmp_path / "edition.html"
    path.write_text(render_html(records, SIGNATURE), encoding="utf-8")
    pdf = tmp_path / "edition.pdf"
    _chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", path.as_uri())

    def text(first: int, last: int | None = None) -> str:
        args = [PDFTOTEXT, "-f", str(first), "-l", str(last or first), "-layout", str(pdf), "-"]
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout

    info = subprocess.run([shutil.which("pdfinfo") or "pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 3 and re.search(r"Page size:\s+59[45](\.\d*)? x 841(\.\d*)? pts \(A4\)", info)
    first = text(1)
    assert "一次长访谈" in first and "Contents" in first
    assert len(re.sub(r"\s", "", first)) > 600  # the text starts on the first page: it is not near-empty
    assert f"1 / {pages}" in first
    second = text(2)
    assert "一次长访谈" in second.splitlines()[0] + second.splitlines()[1]  # running head (not on page 1)
    assert f"2 / {pages}" in second
    everything = text(1, pages)
    assert "An English sentence 9 that the Chinese leaves out entirely." in everything  # omissions printed open
    assert "⚠ 0.30" in everything  # the low-confidence score is printed
    assert "not in the original" in everything
    assert not MACHINE_PATH.search(everything)


def test_markdown_links_english_start_times_into_a_video():
    records = [{**rec(1, "第一句。", "First."), "en_start": 62.4}, rec(2, "第二句。", "Second.")]
    text = render_markdown(records, {}, front=FrontMatter(title="T", source_url="https://youtu.be/abc"))
    rows = _table_rows(text)
    assert _cells(rows[0])[1] == "[1:02](https://youtu.be/abc?t=62s) First."
    assert _cells(rows[1])[1] == "Second."
