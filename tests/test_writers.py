"""Writers and readers of every output format, and the atomic writer beneath them."""

from __future__ import annotations

import json
import os
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import toolkit
from toolkit.core import atomic
from toolkit.core.atomic import atomic_write_bytes, atomic_write_text, atomic_writer
from toolkit.core.errors import FormatError, InputError, ToolkitError
from toolkit.core.records import Alignment, Bead, Document, Segment
from toolkit.formats.writers import (
    JSONL_KEYS,
    bead_records,
    format_bead,
    parse_bead,
    read_align,
    read_jsonl,
    read_signature,
    read_tmx,
    write_align,
    write_alignment,
    write_jsonl,
    write_sentences,
    write_signature,
    TmxOptions,
    write_tmx,
)

GOLD_DIR = Path(__file__).resolve().parents[2] / "shared" / "gold" / "mac-dev" / "gold"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


# ---------------------------------------------------------------------------
# fixtures


def make_document(lang: str, texts: list[str], script: str = "", **per_index) -> Document:
    """A document of ``texts``; ``per_index`` maps field -> {index: value} (speaker, kind)."""
    segments = tuple(
        Segment(
            index=i,
            text=text,
            norm=text,
            lang=lang,
            speaker=per_index.get("speaker", {}).get(i),
            kind=per_index.get("kind", {}).get(i, "sentence"),
        )
        for i, text in enumerate(texts)
    )
    return Document(name="talk", lang=lang, segments=segments, script=script)


def make_alignment(script: str = "simplified") -> Alignment:
    zh = make_document(
        "zh",
        ["第一章", "山姆：你好。", "我们开始吧。", "谢谢。", "（掌声）"],
        script=script,
        speaker={1: "Sam"},
        kind={0: "heading", 4: "note"},
    )
    en = make_document(
        "en",
        ["Chapter One", "Sam: Hello.", "Let's begin.", "Thanks."],
        kind={0: "heading"},
    )
    beads = (
        Bead((0,), (0,), 0.9),
        Bead((1, 2), (1, 2), 0.75),
        Bead((3,), (), 0.0, origin="mt", mt_text="Thank you."),
        Bead((), (3,), 0.0),
        Bead((4,), (), 0.0),
    )
    return Alignment(name="talk", zh=zh, en=en, beads=beads, signature={"aligner": "test", "version": "0.1.0"})


def one_bead_alignment(zh_text: str, en_text: str, script: str = "simplified", speaker: str | None = None) -> Alignment:
    zh = make_document("zh", [zh_text], script=script, speaker={0: speaker} if speaker else {})
    en = make_document("en", [en_text])
    return Alignment(name="one", zh=zh, en=en, beads=(Bead((0,), (0,), 0.5),))


# ---------------------------------------------------------------------------
# .align


@pytest.mark.parametrize(
    ("bead", "line"),
    [
        (Bead((0, 1), (0,), 0.81234), "[0, 1]:[0]:0.8123"),
        (Bead((), (22,), 0.0), "[]:[22]:0.0000"),
        (Bead((5,), (), 0.0), "[5]:[]:0.0000"),
        (Bead((8, 9), (10, 11, 12), 1.0), "[8, 9]:[10, 11, 12]:1.0000"),
    ],
)
def test_format_bead_and_back(bead, line):
    assert format_bead(bead) == line
    parsed = parse_bead(line)
    assert (parsed.zh, parsed.en) == (bead.zh, bead.en)
    assert parsed.score == pytest.approx(bead.score, abs=5e-5)


@pytest.mark.parametrize(
    ("line", "zh", "en", "score"),
    [
        ("[0,1]:[0]", (0, 1), (0,), 0.0),  # gold format: no score, no spaces
        ("[2]:[1,2]", (2,), (1, 2), 0.0),
        ("[]:[3]", (), (3,), 0.0),
        ("[4]:[]", (4,), (), 0.0),
        ("  [ 0 , 1 ] : [ 0 ] : 0.5  ", (0, 1), (0,), 0.5),
        ("[0]:[0]:-0.25", (0,), (0,), -0.25),  # vecalign writes costs, which may be negative
        ("[0]:[0]:1e-3", (0,), (0,), 0.001),
    ],
)
def test_parse_bead_accepts(line, zh, en, score):
    bead = parse_bead(line)
    assert (bead.zh, bead.en, bead.score) == (zh, en, pytest.approx(score))


@pytest.mark.parametrize(
    "line",
    ["", "[0]", "[0]:[1]:x", "[]:[]", "[0, 2]:[1]", "[1, 0]:[0]", "(0):(1)", "[a]:[1]", "[0]:[1]:0.5:7", "[0,]:[1]"],
)
def test_parse_bead_refuses(line):
    with pytest.raises(FormatError):
        parse_bead(line)


def test_align_file_round_trip(tmp_path):
    beads = list(make_alignment().beads)
    path = tmp_path / "sub" / "talk.align"
    write_align(path, beads)
    assert path.read_text(encoding="utf-8").splitlines()[3] == "[]:[3]:0.0000"
    back = read_align(path)
    assert [(b.zh, b.en) for b in back] == [(b.zh, b.en) for b in beads]
    assert [b.score for b in back] == pytest.approx([b.score for b in beads])


def test_read_align_skips_blank_lines(tmp_path):
    path = tmp_path / "gold.align"
    path.write_text("[0,1]:[0]\n\n[2]:[1]\n\n", encoding="utf-8")
    assert [(b.zh, b.en) for b in read_align(path)] == [((0, 1), (0,)), ((2,), (1,))]


@pytest.mark.parametrize(
    ("content", "bad_line"),
    [
        ("[0]:[0]\n[1]:[1\n", 2),
        ("[0]:[0]\n\n[1]:[1]\n[]:[]\n", 4),
        ("[0, 2]:[0]\n", 1),
    ],
)
def test_read_align_names_file_and_line(tmp_path, content, bad_line):
    path = tmp_path / "bad.align"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FormatError) as info:
        read_align(path)
    assert str(path) in info.value.message
    assert f"line {bad_line}" in info.value.message
    assert info.value.hint


def test_read_align_missing_file_and_binary(tmp_path):
    with pytest.raises(InputError):
        read_align(tmp_path / "nope.align")
    binary = tmp_path / "bin.align"
    binary.write_bytes(b"\xff\xfe\x00[0]:[0]")
    with pytest.raises(FormatError):
        read_align(binary)


# ---------------------------------------------------------------------------
# sentences


def test_write_sentences_one_line_per_segment(tmp_path):
    doc = make_document("en", ["First\nline.", "Second\r\nline.", "Third\u2028line.", ""])
    path = tmp_path / "talk.en.txt"
    write_sentences(path, doc)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == ["First line.", "Second line.", "Third line.", ""]
    assert path.read_bytes().endswith(b"\n")


# ---------------------------------------------------------------------------
# JSONL


def test_jsonl_round_trip_matches_alignment(tmp_path):
    alignment = make_alignment()
    path = tmp_path / "talk.jsonl"
    write_jsonl(path, alignment)
    records = read_jsonl(path)
    assert len(records) == len(alignment.beads)
    for number, (record, bead) in enumerate(zip(records, alignment.beads), start=1):
        assert set(record) == set(JSONL_KEYS)
        assert record["id"] == f"b{number}"
        assert record["zh_ids"] == list(bead.zh)
        assert record["en_ids"] == list(bead.en)
        assert record["zh"] == "".join(alignment.zh.segments[i].text for i in bead.zh)
        assert record["en"] == " ".join(alignment.en.segments[i].text for i in bead.en)
        assert record["score"] == bead.score
        assert record["type"] == bead.kind
        assert record["origin"] == bead.origin
        assert record["mt"] == bead.mt_text


def test_jsonl_is_not_ascii_escaped(tmp_path):
    path = tmp_path / "talk.jsonl"
    write_jsonl(path, make_alignment())
    text = path.read_text(encoding="utf-8")
    assert "第一章" in text
    assert "\\u" not in text


@pytest.mark.parametrize(
    ("bead_index", "zh", "en", "speaker", "kind"),
    [
        (0, "第一章", "Chapter One", None, "heading"),
        (1, "山姆：你好。我们开始吧。", "Sam: Hello. Let's begin.", "Sam", "sentence"),
        (2, "谢谢。", "", None, "sentence"),
        (3, "", "Thanks.", None, "sentence"),
        (4, "（掌声）", "", None, "note"),
    ],
)
def test_jsonl_texts_speaker_kind(tmp_path, bead_index, zh, en, speaker, kind):
    path = tmp_path / "talk.jsonl"
    write_jsonl(path, make_alignment())
    record = read_jsonl(path)[bead_index]
    assert (record["zh"], record["en"], record["speaker"], record["kind"]) == (zh, en, speaker, kind)


def test_jsonl_speaker_falls_back_to_english_side(tmp_path):
    zh = make_document("zh", ["你好。"])
    en = make_document("en", ["Hello."], speaker={0: "Host"})
    alignment = Alignment(name="x", zh=zh, en=en, beads=(Bead((0,), (0,), 1.0),))
    write_jsonl(tmp_path / "x.jsonl", alignment)
    assert read_jsonl(tmp_path / "x.jsonl")[0]["speaker"] == "Host"


def test_jsonl_mixed_zh_kinds_is_sentence(tmp_path):
    zh = make_document("zh", ["第一章", "你好。"], kind={0: "heading"})
    en = make_document("en", ["Chapter One. Hello."], kind={0: "heading"})
    alignment = Alignment(name="x", zh=zh, en=en, beads=(Bead((0, 1), (0,), 1.0),))
    write_jsonl(tmp_path / "x.jsonl", alignment)
    assert read_jsonl(tmp_path / "x.jsonl")[0]["kind"] == "sentence"


@pytest.mark.parametrize(
    "content",
    ["not json\n", "[1, 2]\n", '{"id": 1}\n'],
)
def test_read_jsonl_refuses(tmp_path, content):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FormatError) as info:
        read_jsonl(path)
    assert "line 1" in info.value.message


def test_bead_outside_document_is_an_error(tmp_path):
    alignment = make_alignment()
    broken = Alignment(name="talk", zh=alignment.zh, en=alignment.en, beads=(Bead((7,), (0,), 0.5),))
    with pytest.raises(ToolkitError) as info:
        write_jsonl(tmp_path / "talk.jsonl", broken)
    assert "sentence 7" in info.value.message
    assert not (tmp_path / "talk.jsonl").exists()


# ---------------------------------------------------------------------------
# TMX

TMX_HEADER_REQUIRED = ("creationtool", "creationtoolversion", "segtype", "o-tmf", "adminlang", "srclang", "datatype")


def check_tmx_structure(path: Path) -> ET.Element:
    """Check the TMX 1.4b structure rules this toolkit relies on; return the root.

    tmx(version=1.4) = header, body; header has the required attributes and only
    note/ude/prop children; body holds only tu; tu = (note|prop)*, tuv+;
    tuv has xml:lang and = (note|prop)*, seg; every prop has a type; segs here
    are plain text (no inline elements).
    """
    root = ET.parse(path).getroot()
    assert root.tag == "tmx"
    assert root.get("version") == "1.4"
    assert [child.tag for child in root] == ["header", "body"]
    header, body = root
    for attribute in TMX_HEADER_REQUIRED:
        assert header.get(attribute), f"header lacks {attribute}"
    assert header.get("segtype") in ("block", "paragraph", "sentence", "phrase")
    assert all(child.tag in ("note", "ude", "prop") for child in header)
    for prop in root.iter("prop"):
        assert prop.get("type"), "prop without type"
        assert len(prop) == 0
    for tu in body:
        assert tu.tag == "tu"
        tags = [child.tag for child in tu]
        assert "tuv" in tags, f"tu {tu.get('tuid')} has no tuv"
        first_tuv = tags.index("tuv")
        assert all(tag in ("note", "prop") for tag in tags[:first_tuv])
        assert all(tag == "tuv" for tag in tags[first_tuv:])
        for tuv in tu.findall("tuv"):
            assert tuv.get(XML_LANG), "tuv without xml:lang"
            tuv_tags = [child.tag for child in tuv]
            assert tuv_tags.count("seg") == 1 and tuv_tags[-1] == "seg"
            assert all(tag in ("note", "prop") for tag in tuv_tags[:-1])
            assert len(tuv.find("seg")) == 0, "seg with inline elements"
    return root


def tu_props(tu: ET.Element) -> dict[str, str]:
    return {prop.get("type"): prop.text for prop in tu.findall("prop")}


def test_tmx_structure_header_and_units(tmp_path):
    alignment = make_alignment()
    path = tmp_path / "talk.tmx"
    write_tmx(path, alignment)
    root = check_tmx_structure(path)
    header = root.find("header")
    assert header.get("creationtool") == "bitext"
    assert header.get("creationtoolversion") == toolkit.__version__
    assert header.get("o-tmf") == "bitext"
    assert header.get("adminlang") == "en"
    assert header.get("datatype") == "plaintext"
    assert header.get("srclang") == "zh-CN"
    signature = json.loads(tu_props(header)["x-signature"])
    tmx = signature.pop("tmx")
    assert signature == alignment.signature
    # By default only the two-sided human pairs: bead 3 has machine-translated English, 4 and 5 one side.
    assert tmx == {"one_sided": "drop", "split_beads": False, "srx": None,
                   "counts": {"beads": 5, "merged": 0, "split": 0, "one_sided": 2, "mt": 1, "units": 2}}
    units = root.find("body").findall("tu")
    assert [tu.get("tuid") for tu in units] == ["b1", "b2"]  # the stable bead ids
    assert tu_props(units[1]) == {"x-origin": "aligned", "x-score": "0.7500", "x-bead-type": "2-2", "x-speaker": "Sam"}
    assert "x-speaker" not in tu_props(units[0])


def test_tmx_keep_writes_one_unit_per_bead(tmp_path):
    path = tmp_path / "talk.tmx"
    write_tmx(path, make_alignment(), options=TmxOptions(one_sided="keep"))
    units = check_tmx_structure(path).find("body").findall("tu")
    assert [tu.get("tuid") for tu in units] == ["b1", "b2", "b3", "b4", "b5"]


@pytest.mark.parametrize(
    ("tuid", "langs", "texts"),
    [
        ("1", ["zh-CN", "en"], ["第一章", "Chapter One"]),
        ("3", ["zh-CN", "en"], ["谢谢。", "Thank you."]),  # mt bead: English from mt_text
        ("4", ["en"], ["Thanks."]),  # 0-1: only the tuv it has
        ("5", ["zh-CN"], ["（掌声）"]),  # 1-0
    ],
)
def test_tmx_tuvs_per_bead(tmp_path, tuid, langs, texts):
    path = tmp_path / "talk.tmx"
    write_tmx(path, make_alignment(), options=TmxOptions(one_sided="keep"))
    tu = next(tu for tu in ET.parse(path).getroot().iter("tu") if tu.get("tuid") == f"b{tuid}")
    assert [tuv.get(XML_LANG) for tuv in tu.findall("tuv")] == langs
    assert [tuv.find("seg").text for tuv in tu.findall("tuv")] == texts


def test_tmx_mt_bead_props(tmp_path):
    path = tmp_path / "talk.tmx"
    write_tmx(path, make_alignment(), options=TmxOptions(one_sided="keep"))
    tu = next(tu for tu in ET.parse(path).getroot().iter("tu") if tu.get("tuid") == "b3")
    assert tu_props(tu)["x-origin"] == "mt"
    assert tu_props(tu)["x-bead-type"] == "1-0"


@pytest.mark.parametrize(
    ("script", "zh_lang", "expected"),
    [
        ("simplified", None, "zh-CN"),
        ("traditional", None, "zh-TW"),
        ("", None, "zh-CN"),
        ("traditional", "zh-HK", "zh-HK"),
    ],
)
def test_tmx_chinese_tag(tmp_path, script, zh_lang, expected):
    path = tmp_path / "one.tmx"
    write_tmx(path, one_bead_alignment("你好。", "Hello.", script=script), zh_lang=zh_lang)
    root = check_tmx_structure(path)
    assert root.find("header").get("srclang") == expected
    assert root.find("body/tu/tuv").get(XML_LANG) == expected


@pytest.mark.parametrize(
    ("zh_text", "en_text", "zh_expected", "en_expected", "raw_fragment"),
    [
        ("甲<乙>丙", "a < b > c", "甲<乙>丙", "a < b > c", "a &lt; b &gt; c"),
        ("甲&乙", "Tom & Jerry", "甲&乙", "Tom & Jerry", "Tom &amp; Jerry"),
        ("“引号”", "He said \"hi\" & 'bye'", "“引号”", "He said \"hi\" & 'bye'", "&amp; 'bye'"),
        ("控制\x01字符\x0b", "bell\x07 and nul\x00 gone", "控制字符", "bell and nul gone", "bell and nul"),
        ("换\n行", "line\r\nbreak", "换 行", "line break", "line break"),
        ("制表\t符", "tab\tkept", "制表\t符", "tab\tkept", "tab\tkept"),
        ("]]>", "x ]]> y", "]]>", "x ]]> y", "]]&gt;"),
    ],
)
def test_tmx_escaping_and_cleaning(tmp_path, zh_text, en_text, zh_expected, en_expected, raw_fragment):
    path = tmp_path / "one.tmx"
    write_tmx(path, one_bead_alignment(zh_text, en_text))
    raw = path.read_text(encoding="utf-8")
    assert raw_fragment in raw
    for bad in ("\x00", "\x01", "\x07", "\x0b"):
        assert bad not in raw
    check_tmx_structure(path)  # parses, so escaping is right
    [(zh, en, _)] = read_tmx(path)
    assert (zh, en) == (zh_expected, en_expected)


def test_tmx_escapes_quotes_in_attributes(tmp_path):
    path = tmp_path / "one.tmx"
    odd_tag = "zh\"&'<x>"
    write_tmx(path, one_bead_alignment("你好", "hello", speaker='Sam "the" <man> & co'), zh_lang=odd_tag)
    root = check_tmx_structure(path)
    assert root.find("header").get("srclang") == odd_tag
    assert root.find("body/tu/tuv").get(XML_LANG) == odd_tag
    assert tu_props(root.find("body/tu"))["x-speaker"] == 'Sam "the" <man> & co'


def test_tmx_signature_with_markup_survives(tmp_path):
    alignment = make_alignment()
    alignment = Alignment(
        name=alignment.name,
        zh=alignment.zh,
        en=alignment.en,
        beads=alignment.beads,
        signature={"command": "bitext align a.txt b.txt --x '<&>'", "nested": {"k": [1, 2]}},
    )
    path = tmp_path / "talk.tmx"
    write_tmx(path, alignment)
    header = check_tmx_structure(path).find("header")
    signature = json.loads(tu_props(header)["x-signature"])
    assert signature.pop("tmx")["counts"]["units"] == 2
    assert signature == alignment.signature


def test_read_tmx_round_trip(tmp_path):
    alignment = make_alignment()
    path = tmp_path / "talk.tmx"
    write_tmx(path, alignment, options=TmxOptions(one_sided="keep"))
    units = read_tmx(path)
    assert [(zh, en) for zh, en, _ in units] == [
        ("第一章", "Chapter One"),
        ("山姆：你好。我们开始吧。", "Sam: Hello. Let's begin."),
        ("谢谢。", "Thank you."),
        (None, "Thanks."),
        ("（掌声）", None),
    ]
    assert [props["x-origin"] for _, _, props in units] == ["aligned", "aligned", "mt", "aligned", "aligned"]
    assert units[1][2]["x-speaker"] == "Sam"
    assert [props["x-bead-type"] for _, _, props in units] == [bead.kind for bead in alignment.beads]


def test_read_tmx_from_a_cat_tool(tmp_path):
    """Other tools write TMX with other tags, inline codes and the old lang attribute."""
    path = tmp_path / "edited.tmx"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<tmx version="1.4"><header creationtool="X" creationtoolversion="1" segtype="sentence" '
        'o-tmf="x" adminlang="en-US" srclang="ZH-HANS" datatype="rtf"/><body>'
        '<tu><prop type="x-origin">human</prop>'
        '<tuv xml:lang="ZH-HANS"><seg>你<bpt i="1">{\\b </bpt>好<ept i="1">}</ept>。</seg></tuv>'
        '<tuv xml:lang="EN-GB"><seg>Hel<hi x="1">lo</hi>.</seg></tuv>'
        '<tuv xml:lang="fr"><seg>Bonjour.</seg></tuv></tu>'
        '<tu><tuv lang="en"><seg>Only English.</seg></tuv></tu>'
        "</body></tmx>",
        encoding="utf-8",
    )
    assert read_tmx(path) == [("你好。", "Hello.", {"x-origin": "human"}), (None, "Only English.", {})]


@pytest.mark.parametrize(
    "content",
    ["plain text, not XML\n", '<?xml version="1.0"?><html><body/></html>', '<tmx version="1.4"><header/></tmx>'],
)
def test_read_tmx_refuses_non_tmx(tmp_path, content):
    path = tmp_path / "x.tmx"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FormatError) as info:
        read_tmx(path)
    assert str(path) in info.value.message


# ---------------------------------------------------------------------------
# signature and write_alignment


def test_signature_round_trip(tmp_path):
    signature = {"version": "0.1.0", "aligner": {"name": "dp", "skip": -0.1}, "command": "bitext align 中文.txt"}
    path = tmp_path / "x.signature.json"
    write_signature(path, signature)
    assert read_signature(path) == signature
    text = path.read_text(encoding="utf-8")
    assert text.index('"aligner"') < text.index('"command"') < text.index('"version"')  # sorted
    assert "\n  " in text  # indented
    assert "中文" in text


@pytest.mark.parametrize("content", ["[1, 2]", "{not json"])
def test_read_signature_refuses(tmp_path, content):
    path = tmp_path / "x.signature.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FormatError):
        read_signature(path)


def test_write_alignment_writes_every_format(tmp_path):
    alignment = make_alignment()
    out_dir = tmp_path / "out" / "nested"
    paths = write_alignment(out_dir, alignment)
    assert [p.name for p in paths] == [
        "talk.align",
        "talk.zh.txt",
        "talk.en.txt",
        "talk.jsonl",
        "talk.tmx",
        "talk.signature.json",
    ]
    assert all(p.parent == out_dir and p.is_file() for p in paths)
    align, zh_txt, en_txt, jsonl, tmx, signature = paths
    beads = read_align(align)
    zh_lines = zh_txt.read_text(encoding="utf-8").splitlines()
    en_lines = en_txt.read_text(encoding="utf-8").splitlines()
    assert zh_lines == alignment.zh.texts()
    assert en_lines == alignment.en.texts()
    # The indices in the .align file point at the right lines of the .txt files.
    for bead, record in zip(beads, read_jsonl(jsonl)):
        assert "".join(zh_lines[i] for i in bead.zh) == record["zh"]
        assert " ".join(en_lines[i] for i in bead.en) == record["en"]
    # the two beads with a human text on both sides (3 is machine-translated, 4 and 5 one-sided)
    assert len(read_tmx(tmx)) == 2
    assert read_signature(signature) == alignment.signature
    # no temp files left; the manifest lists the set
    assert sorted(os.listdir(out_dir)) == sorted([*(p.name for p in paths), "talk.manifest.json"])


def test_write_alignment_with_scored_records(tmp_path):
    alignment = make_alignment()
    records = bead_records(alignment)
    scored = [{**r, "bleu": 12.5 if i == 0 else None, "chrf": 40.25 if i == 0 else None} for i, r in enumerate(records)]
    paths = write_alignment(tmp_path, alignment, scored)
    assert read_jsonl(paths[3]) == scored
    root = check_tmx_structure(paths[4])
    units = root.find("body").findall("tu")
    assert (tu_props(units[0])["x-bleu"], tu_props(units[0])["x-chrf"]) == ("12.5", "40.25")
    assert all("x-bleu" not in tu_props(tu) and "x-chrf" not in tu_props(tu) for tu in units[1:])
    with pytest.raises(ValueError, match="records given"):
        write_alignment(tmp_path / "other", alignment, scored[:-1])
    assert not (tmp_path / "other").exists()


@pytest.mark.parametrize("name", ["", "a/b", "..", "a\\b"])
def test_write_alignment_refuses_path_like_names(tmp_path, name):
    alignment = make_alignment()
    bad = Alignment(name=name, zh=alignment.zh, en=alignment.en, beads=alignment.beads)
    with pytest.raises(ToolkitError):
        write_alignment(tmp_path, bad)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------
# atomic writes


def test_atomic_write_text_creates_parents_and_replaces(tmp_path):
    path = tmp_path / "a" / "b" / "out.txt"
    atomic_write_text(path, "one\n")
    atomic_write_text(path, "two\nthree\n")
    assert path.read_text(encoding="utf-8") == "two\nthree\n"
    atomic_write_bytes(path, b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert os.listdir(path.parent) == ["out.txt"]


def test_atomic_writer_uses_utf8_and_unix_newlines(tmp_path):
    path = tmp_path / "out.txt"
    with atomic_writer(path) as handle:
        handle.write("中文\nline\n")
    assert path.read_bytes() == "中文\nline\n".encode("utf-8")


def test_atomic_new_file_gets_normal_permissions(tmp_path):
    path = tmp_path / "out.txt"
    atomic_write_text(path, "x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~atomic._UMASK
    path.chmod(0o640)
    atomic_write_text(path, "y")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_atomic_writer_error_midway_keeps_old_file(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic_writer(path) as handle:
            handle.write("new, partial")
            raise RuntimeError("disk on fire")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["out.txt"]


@pytest.mark.parametrize(
    "write",
    [
        lambda path: atomic_write_text(path, "new\n"),
        lambda path: atomic_write_bytes(path, b"new\n"),
        lambda path: write_tmx(path, make_alignment()),
        lambda path: write_jsonl(path, make_alignment()),
        lambda path: write_align(path, make_alignment().beads),
    ],
)
def test_failed_replace_keeps_old_file_and_no_temp(tmp_path, monkeypatch, write):
    path = tmp_path / "out.txt"
    path.write_text("old\n", encoding="utf-8")

    def failing_replace(src, dst):
        raise OSError("simulated failure")

    monkeypatch.setattr(atomic.os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated"):
        write(path)
    assert path.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_failed_writer_does_not_create_file(tmp_path):
    path = tmp_path / "new.jsonl"
    alignment = make_alignment()
    broken = Alignment(name="talk", zh=alignment.zh, en=alignment.en, beads=(Bead((0,), (9,), 0.5),))
    with pytest.raises(ToolkitError):
        write_jsonl(path, broken)
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------
# the shared gold files


@pytest.mark.skipif(not GOLD_DIR.is_dir(), reason=f"gold alignments not available at {GOLD_DIR}")
def test_read_align_parses_all_gold_files():
    files = sorted(GOLD_DIR.glob("*.align"))
    assert files
    for path in files:
        beads = read_align(path)
        assert beads, path
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        assert len(beads) == len(lines)
        # Gold beads cover each side in order, without gaps or overlaps.
        zh_ids = [i for bead in beads for i in bead.zh]
        en_ids = [i for bead in beads for i in bead.en]
        assert zh_ids == list(range(len(zh_ids))), path
        assert en_ids == list(range(len(en_ids))), path
