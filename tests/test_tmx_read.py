"""A translation memory back from a CAT tool: read_tmx_memory on the forms such tools write,
and the export -> edit -> read -> export round trip (library and `bitext export FILE.tmx`).

The "edited" memories are written here by hand, the way OmegaT / Trados-style tools
write them back: other header attributes, language tags in other case and form, TMX 1.1
``lang=``, extra props and notes, inline markup, tuvs swapped, units edited, added and
emptied, UTF-16 with a BOM.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.core.errors import FormatError, InputError
from toolkit.core.records import Alignment, Bead, Document, Segment
from toolkit.export.exports import (
    TMX_IMPORT_KEY,
    export_signature,
    load_result,
    load_tmx_result,
    pair_fingerprint,
    sidecar_path,
    write_result_tmx,
)
from toolkit.formats.writers import TmxOptions, read_tmx, read_tmx_memory, tmx_side, tmx_zh_script, write_alignment

runner = CliRunner()

ZH = ["第二部分", "主持人：欢迎来到节目。", "今天我们聊聊翻译记忆。", "术语表很重要。", "这一段没有英文原文。",
      "谢谢大家。", "最后一句也是机器翻译的。"]
EN = ["Part Two", "Host: Welcome to the show.", "Today we talk about translation memories.", "Glossaries matter.",
      "An aside with no Chinese.", "Thank you all."]


def make_result(folder: Path, script: str = "simplified") -> Path:
    """An aligned result folder with a heading, a 2-2 bead with a speaker, a low score, omissions and MT."""
    zh = Document("show", "zh", tuple(Segment(i, t, t, "zh", "主持人" if i == 1 else None,
                                              "heading" if i == 0 else "sentence") for i, t in enumerate(ZH)),
                  script=script)
    en = Document("show", "en", tuple(Segment(i, t, t, "en", None, "heading" if i == 0 else "sentence")
                                      for i, t in enumerate(EN)))
    beads = (
        Bead((0,), (0,), 0.93),
        Bead((1, 2), (1, 2), 0.81),
        Bead((3,), (3,), 0.42),
        Bead((), (4,), 0.0),
        Bead((4,), (), 0.0, origin="mt", mt_text="This passage has no English original."),
        Bead((5,), (5,), 0.88),
        Bead((6,), (), 0.0, origin="mt", mt_text="The last sentence was machine translated too", mt_flags=("length",)),
    )
    signature = {"aligner": "test", "zh_script_in": script, "zh_script_out": "as-is"}
    write_alignment(folder, Alignment("show", zh, en, beads, signature))
    return folder


def exported_tmx(tmp_path: Path, script: str = "simplified") -> Path:
    """`bitext export OUT_DIR --to tmx` of :func:`make_result`, through the CLI."""
    folder = make_result(tmp_path / "show", script)
    target = tmp_path / "show.tmx"
    # Every bead, one-sided and machine-translated ones too: the round trip is tested on all kinds.
    outcome = runner.invoke(app, ["export", str(folder), "--to", "tmx", "-o", str(target), "--tmx-one-sided", "keep"])
    assert outcome.exit_code == 0, outcome.output
    return target


def header_signature_text(path: Path) -> str:
    return read_tmx_memory(path).header_props["x-signature"]


def cat_tool_edit(exported: Path, target: Path, zh_tags=("ZH-CN", "zh-Hans", "zh_CN", "zh-cn")) -> Path:
    """The exported memory as a CAT tool writes it back after a translator's session (UTF-16, BOM)."""
    signature = escape(header_signature_text(exported))
    tag1, tag2, tag3, tag4 = zh_tags
    text = f"""<?xml version="1.0" encoding="UTF-16"?>
<!DOCTYPE tmx SYSTEM "tmx14.dtd">
<tmx version="1.4">
<header creationtool="OmegaT" creationtoolversion="6.0.1" segtype="paragraph" o-tmf="OmegaT TMX"
        adminlang="EN-US" srclang="{tag1}" datatype="plaintext" creationdate="20240501T101500Z">
  <prop type="x-project">talk-show</prop>
  <prop type="x-signature">{signature}</prop>
  <note>Reviewed by the translator.</note>
</header>
<body>
  <tu tuid="1" creationdate="20240501T101501Z" creationid="bitext">
    <prop type="x-context">heading</prop>
    <prop type="x-origin">aligned</prop><prop type="x-score">0.9300</prop><prop type="x-bead-type">1-1</prop>
    <tuv xml:lang="EN-US"><seg>Part Two</seg></tuv>
    <tuv xml:lang="{tag1}"><seg>第二部分</seg></tuv>
  </tu>
  <tu tuid="2">
    <note>Speaker label kept in both languages.</note>
    <prop type="x-origin">aligned</prop><prop type="x-score">0.8100</prop><prop type="x-bead-type">2-2</prop>
    <prop type="x-speaker">主持人</prop>
    <tuv xml:lang="{tag2}"><seg><bpt i="1" x="1">&lt;b&gt;</bpt>主持人<ept i="1">&lt;/b&gt;</ept>：欢迎来到节目。<ph x="2">&lt;br/&gt;</ph>今天我们聊聊翻译记忆。</seg></tuv>
    <tuv xml:lang="en-GB"><seg><hi type="bold">Host</hi>: Welcome to the show. <ph x="2">&lt;br/&gt;</ph> Today we talk about
 translation memories.</seg></tuv>
  </tu>
  <tu tuid="3" changedate="20240502T080000Z" changeid="translator">
    <prop type="x-origin">aligned</prop><prop type="x-score">0.4200</prop><prop type="x-bead-type">1-1</prop>
    <tuv xml:lang="{tag3}"><seg>术语表很重要。</seg></tuv>
    <tuv xml:lang="en" changeid="translator"><seg>Glossaries really matter.</seg></tuv>
  </tu>
  <tu tuid="4">
    <prop type="x-origin">aligned</prop><prop type="x-score">0.0000</prop><prop type="x-bead-type">0-1</prop>
    <note>No Chinese for this one.</note>
    <tuv xml:lang="EN"><seg>An aside with no Chinese.</seg></tuv>
  </tu>
  <tu tuid="5">
    <prop type="x-origin">mt</prop><prop type="x-score">0.0000</prop><prop type="x-bead-type">1-0</prop>
    <tuv lang="{tag4}"><seg>这一段没有英文原文。</seg></tuv>
    <tuv lang="EN-US"><seg>This passage has no <it pos="begin">&lt;i&gt;</it>original in English.</seg></tuv>
  </tu>
  <tu tuid="6">
    <prop type="x-origin">aligned</prop><prop type="x-score">0.8800</prop><prop type="x-bead-type">1-1</prop>
    <tuv xml:lang="{tag1}"><seg>谢谢大家。</seg></tuv>
    <tuv xml:lang="en-US"><seg></seg></tuv>
  </tu>
  <tu tuid="7">
    <prop type="x-origin">mt</prop><prop type="x-score">0.0000</prop><prop type="x-bead-type">1-0</prop>
    <prop type="x-mt-flags">length</prop>
    <tuv xml:lang="{tag1}"><seg>最后一句也是机器翻译的。</seg></tuv>
    <tuv xml:lang="EN-US"><seg>The last sentence was machine translated too</seg></tuv>
  </tu>
  <tu creationid="translator">
    <tuv xml:lang="{tag3}"><seg>新增的一句。</seg></tuv>
    <tuv xml:lang="en-us"><seg>A sentence the translator added.</seg></tuv>
  </tu>
  <tu><tuv xml:lang="fr-FR"><seg>Seulement en français.</seg></tuv></tu>
</body>
</tmx>
"""
    target.write_text(text, encoding="utf-16")  # Python writes the BOM
    return target


# What the edited memory must come back as: (zh, en, mt, origin, score, type, speaker, mt_flags).
EXPECTED = [
    ("第二部分", "Part Two", None, "aligned", 0.93, "1-1", None, []),
    ("主持人：欢迎来到节目。今天我们聊聊翻译记忆。", "Host: Welcome to the show. Today we talk about translation memories.",
     None, "aligned", 0.81, "2-2", "主持人", []),
    ("术语表很重要。", "Glossaries really matter.", None, "human", 0.42, "1-1", None, []),      # edited
    ("", "An aside with no Chinese.", None, "aligned", 0.0, "0-1", None, []),
    ("这一段没有英文原文。", "This passage has no original in English.", None, "human", 0.0, "1-1", None, []),  # MT post-edited
    ("谢谢大家。", "", None, "human", 0.88, "1-0", None, []),                                      # English emptied
    ("最后一句也是机器翻译的。", "", "The last sentence was machine translated too", "mt", 0.0, "1-0", None, ["length"]),
    ("新增的一句。", "A sentence the translator added.", None, "human", 0.0, "1-1", None, []),   # added
]


def summary(records) -> list[tuple]:
    return [(r["zh"], r["en"], r["mt"], r["origin"], r["score"], r["type"], r["speaker"], r["mt_flags"])
            for r in records]


# ---------------------------------------------------------------------------
# reading the forms CAT tools write


@pytest.mark.parametrize(
    ("tag", "side", "script"),
    [
        ("zh", "zh", None), ("ZH-CN", "zh", "simplified"), ("zh-Hans", "zh", "simplified"), ("zh_SG", "zh", "simplified"),
        ("zh-TW", "zh", "traditional"), ("ZH-HANT", "zh", "traditional"), ("zh-Hant-HK", "zh", "traditional"),
        ("zh-Hans-HK", "zh", "simplified"), ("zho", "zh", None), ("chi", "zh", None), ("cmn-Hans-CN", "zh", "simplified"),
        ("en", "en", None), ("EN-US", "en", None), ("en_GB", "en", None), ("eng", "en", None),
        ("fr", None, None), ("de-CH", None, None), ("", None, None), ("enm", None, None), ("zu", None, None),
    ],
)
def test_language_tags(tag, side, script):
    assert tmx_side(tag) == side
    if side == "zh":
        assert tmx_zh_script(tag) == script


@pytest.mark.parametrize(
    ("seg", "expected"),
    [
        ("plain", "plain"),
        ('<bpt i="1">&lt;b&gt;</bpt>粗体<ept i="1">&lt;/b&gt;</ept>文字', "粗体文字"),
        ('Hello <ph x="1">{\\line}</ph> world', "Hello world"),
        ('Hello<ph x="1"/>world', "Helloworld"),
        ('<it pos="begin">&lt;i&gt;</it>Italic to the end', "Italic to the end"),
        ('<hi type="b">kept</hi> and <hi type="i">also <hi>nested</hi></hi>', "kept and also nested"),
        ('a<ut>{\\b}</ut>b', "ab"),
        ('Text<bpt i="1">&lt;a title="<sub>a footnote</sub>"&gt;</bpt> link<ept i="1">&lt;/a&gt;</ept>', "Text link"),
        ("over\n  two lines", "over two lines"),
        ("a\r\n\tb \u2028 c", "a b c"),
        ("  padded  ", "padded"),
        ("tab\tkept", "tab\tkept"),
        ("&lt;&amp;&gt; &#x4E2D;", "<&> 中"),
    ],
)
def test_inline_markup_is_dropped_and_its_text_kept(tmp_path, seg, expected):
    path = tmp_path / "m.tmx"
    path.write_text(f'<tmx version="1.4"><header/><body><tu><tuv xml:lang="en"><seg>{seg}</seg></tuv></tu></body></tmx>',
                    encoding="utf-8")
    assert read_tmx(path) == [(None, expected, {})]


def test_cat_tool_memory_reads_every_unit(tmp_path):
    edited = cat_tool_edit(exported_tmx(tmp_path), tmp_path / "edited.tmx")
    assert edited.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    memory = read_tmx_memory(edited)
    assert memory.header["creationtool"] == "OmegaT" and memory.header_props["x-project"] == "talk-show"
    assert [u.tuid for u in memory.units] == ["1", "2", "3", "4", "5", "6", "7", None, None]
    first = memory.units[0]
    assert (first.zh, first.en, first.zh_lang, first.en_lang) == ("第二部分", "Part Two", "ZH-CN", "EN-US")  # swapped tuvs
    assert first.props["x-context"] == "heading" and first.props["x-origin"] == "aligned"
    assert memory.units[1].notes == ("Speaker label kept in both languages.",)
    assert memory.units[2].attributes["changeid"] == "translator"
    assert (memory.units[4].zh_lang, memory.units[4].en_lang) == ("zh-cn", "EN-US")  # TMX 1.1 lang=
    assert (memory.units[5].zh, memory.units[5].en) == ("谢谢大家。", None)  # empty seg: missing side
    assert (memory.units[8].zh, memory.units[8].en) == (None, None)  # French only


def test_namespaced_tmx(tmp_path):
    path = tmp_path / "ns.tmx"
    path.write_text('<tmx xmlns="http://www.lisa.org/tmx14" version="1.4"><header srclang="zh"/><body>'
                    '<tu tuid="a"><prop type="x-origin">human</prop><tuv xml:lang="zh"><seg>你好</seg></tuv>'
                    '<tuv xml:lang="en"><seg>Hi</seg></tuv></tu></body></tmx>', encoding="utf-8")
    [unit] = read_tmx_memory(path).units
    assert (unit.tuid, unit.zh, unit.en, unit.props) == ("a", "你好", "Hi", {"x-origin": "human"})


# ---------------------------------------------------------------------------
# a memory as an aligned result


def test_edited_memory_comes_back_with_our_metadata(tmp_path):
    edited = cat_tool_edit(exported_tmx(tmp_path), tmp_path / "edited.tmx")
    result = load_result(edited)  # load_result takes a .tmx as well as a result folder
    assert result.name == "show"  # from the header's signature, not the file name
    assert summary(result.records) == EXPECTED
    assert [r["id"] for r in result.records] == list(range(1, len(EXPECTED) + 1))
    assert result.signature["aligner"] == "test"  # the source run's signature
    assert result.signature["zh_script_out"] == "simplified"
    imported = result.signature[TMX_IMPORT_KEY]
    assert {k: imported[k] for k in ("units", "read", "edited", "added", "skipped", "edit_detection")} == {
        "units": 9, "read": 4, "edited": 3, "added": 1, "skipped": 1, "edit_detection": True}
    assert imported["creationtool"] == "OmegaT"


def test_fingerprints_ignore_markup_and_spacing_but_not_edits():
    base = pair_fingerprint("你好。", "Hello there.")
    assert pair_fingerprint("你好。", " Hello  there.\x07") == base
    assert pair_fingerprint("你好。", "Hello there!") != base
    assert pair_fingerprint("", "你好。 Hello there.") != base


def test_round_trip_is_a_fixed_point(tmp_path):
    """export -> edit -> read -> export -> read gives the same records (the edits now stand as they are)."""
    edited = cat_tool_edit(exported_tmx(tmp_path), tmp_path / "edited.tmx")
    first = load_tmx_result(edited)
    again = tmp_path / "again.tmx"
    outcome = runner.invoke(app, ["export", str(edited), "--to", "tmx", "-o", str(again), "--tmx-one-sided", "keep"])
    assert outcome.exit_code == 0, outcome.output
    second = load_tmx_result(again)
    assert second.records == first.records
    assert second.name == first.name
    assert second.signature[TMX_IMPORT_KEY]["read"] == len(EXPECTED)  # nothing counts as edited any more
    # The re-exported file is ours again: zh-CN / en tags, our header, the edit recorded in the signature.
    memory = read_tmx_memory(again)
    assert memory.header["creationtool"] == "bitext"
    assert {u.zh_lang for u in memory.units if u.zh} == {"zh-CN"} and {u.en_lang for u in memory.units if u.en} == {"en"}
    sources = json.loads(memory.header_props["x-signature"])["sources"]
    assert sources["show"][TMX_IMPORT_KEY]["edited"] == 3


def test_cli_training_export_from_an_edited_memory(tmp_path):
    edited = cat_tool_edit(exported_tmx(tmp_path), tmp_path / "edited.tmx")
    target = tmp_path / "train.jsonl"
    outcome = runner.invoke(app, ["export", str(edited), "--to", "jsonl", "-o", str(target)])
    assert outcome.exit_code == 0, outcome.output
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    # One-sided and MT units dropped; the edited low-score pair and the post-edited MT pair are human now, so kept.
    assert [(r["translation"]["zh"], r["translation"]["en"], r["origin"]) for r in rows] == [
        (zh, en, origin) for zh, en, mt, origin, score, kind, _, _ in EXPECTED
        if zh and en and origin != "mt"
    ]
    assert [r["doc"] for r in rows] == ["show"] * len(rows)
    signature = json.loads(sidecar_path(target).read_text(encoding="utf-8"))
    assert signature["sources"]["show"][TMX_IMPORT_KEY]["file"] == str(edited)


def test_cli_edition_from_a_memory(tmp_path):
    edited = cat_tool_edit(exported_tmx(tmp_path), tmp_path / "edited.tmx")
    outcome = runner.invoke(app, ["export", str(edited), "--to", "html", "-o", str(tmp_path / "show.html")])
    assert outcome.exit_code == 0, outcome.output
    html = (tmp_path / "show.html").read_text(encoding="utf-8")
    assert "Glossaries really matter." in html and "新增的一句。" in html


def test_traditional_tags_set_the_script(tmp_path):
    edited = cat_tool_edit(exported_tmx(tmp_path, script="traditional"), tmp_path / "edited.tmx",
                           zh_tags=("zh-TW", "ZH-HANT", "zh_HK", "zh-Hant-TW"))
    result = load_tmx_result(edited)
    assert result.signature["zh_script_out"] == "traditional"
    again = tmp_path / "again.tmx"
    write_result_tmx(again, result, export_signature({result.name: result.signature}, "tmx"), TmxOptions(one_sided="keep"))
    assert {u.zh_lang for u in read_tmx_memory(again).units if u.zh} == {"zh-TW"}


def test_without_our_header_or_props(tmp_path):
    """A tool that dropped the header signature: origins as declared; one that dropped props: all human."""
    exported = exported_tmx(tmp_path)
    text = exported.read_text(encoding="utf-8")
    no_header = tmp_path / "no-header.tmx"
    no_header.write_text(text.replace('<prop type="x-signature">', '<prop type="x-dropped">'), encoding="utf-8")
    result = load_tmx_result(no_header)
    assert result.name == "no-header" and result.signature[TMX_IMPORT_KEY]["edit_detection"] is False
    assert [r["origin"] for r in result.records] == ["aligned"] * 4 + ["mt", "aligned", "mt"]
    root = ET.parse(exported).getroot()
    for tu in root.iter("tu"):
        for prop in tu.findall("prop"):
            tu.remove(prop)
    no_props = tmp_path / "no-props.tmx"
    ET.ElementTree(root).write(no_props, encoding="utf-8")
    result = load_tmx_result(no_props)
    assert {r["origin"] for r in result.records} == {"human"}
    assert [r["type"] for r in result.records][:4] == ["1-1", "1-1", "1-1", "0-1"]


def test_sentence_scores_come_back_unless_edited(tmp_path):
    path = tmp_path / "scored.tmx"
    units = "".join(
        f'<tu tuid="{i}"><prop type="x-origin">mt</prop><prop type="x-bleu">{bleu}</prop><prop type="x-chrf">55.5</prop>'
        f'<tuv xml:lang="zh-CN"><seg>{zh}</seg></tuv><tuv xml:lang="en"><seg>{en}</seg></tuv></tu>'
        for i, (zh, en, bleu) in enumerate([("你好。", "Hello.", "12.25"), ("再见。", "Bye.", "3")], start=1))
    fingerprints = {"1": pair_fingerprint("你好。", "Hello."), "2": pair_fingerprint("再见。", "Goodbye.")}  # 2 was edited
    signature = escape(json.dumps({"export": {"tu_fingerprints": fingerprints}, "sources": {"s": {}}}))
    path.write_text(f'<tmx version="1.4"><header><prop type="x-signature">{signature}</prop></header><body>{units}'
                    "</body></tmx>", encoding="utf-8")
    first, second = load_tmx_result(path).records
    assert (first["origin"], first["bleu"], first["chrf"], first["mt"]) == ("mt", 12.25, 55.5, "Hello.")
    assert second["origin"] == "human" and "bleu" not in second and second["en"] == "Bye."


def test_the_runs_own_tmx_reads_with_its_signature(tmp_path):
    folder = make_result(tmp_path / "show")
    result = load_result(folder / "show.tmx")
    assert result.name == "show" and result.signature["aligner"] == "test"
    # The run's own memory holds the human pairs only (by default): no 0-1, no machine translation.
    assert [(r["zh"], r["en"], r["origin"]) for r in result.records] == [
        ("第二部分", "Part Two", "aligned"), ("主持人：欢迎来到节目。今天我们聊聊翻译记忆。",
                                          "Host: Welcome to the show. Today we talk about translation memories.", "aligned"),
        ("术语表很重要。", "Glossaries matter.", "aligned"), ("谢谢大家。", "Thank you all.", "aligned")]


@pytest.mark.parametrize(
    ("tu", "error", "message"),
    [
        ('<tu><prop type="x-origin">robot</prop><tuv xml:lang="en"><seg>x</seg></tuv></tu>', FormatError, "unknown x-origin"),
        ('<tu tuid="9"><prop type="x-score">high</prop><tuv xml:lang="en"><seg>x</seg></tuv></tu>', FormatError,
         "tu 9: x-score 'high' is not a number"),
        ('<tu><tuv xml:lang="de"><seg>nur Deutsch</seg></tuv></tu>', InputError, "no unit with Chinese or English"),
        ("", InputError, "no unit with Chinese or English"),
    ],
)
def test_bad_memories(tmp_path, tu, error, message):
    path = tmp_path / "bad.tmx"
    path.write_text(f'<tmx version="1.4"><header/><body>{tu}</body></tmx>', encoding="utf-8")
    with pytest.raises(error, match=message):
        load_tmx_result(path)


def test_cli_missing_memory_is_a_one_line_error(tmp_path):
    outcome = runner.invoke(app, ["export", str(tmp_path / "nowhere.tmx"), "--to", "jsonl"])
    assert outcome.exit_code == 1
    assert outcome.output.strip().startswith("Error:") and "nowhere.tmx does not exist" in outcome.output
    assert "Traceback" not in outcome.output
