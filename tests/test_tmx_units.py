"""What goes into a TMX memory: one-sided and MT units, SRX segmentation and merging, bead splitting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolkit.align.embed import get_embedder
from toolkit.align.subunits import BeadSplitter, best_partition
from toolkit.cli import app
from toolkit.core.errors import FormatError, InputError
from toolkit.core.records import Alignment, Bead
from toolkit.formats.srx import parse_srx, read_srx
from toolkit.formats.writers import TmxOptions, read_tmx_memory, tmx_units, write_alignment, write_tmx

from test_writers import make_document

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SRX = read_srx(EXAMPLES / "segment.srx")
runner = CliRunner()


def record(number, zh, en, origin="aligned", zh_ids=None, en_ids=None, **extra) -> dict:
    """A bead record as bead_records makes it (one sentence a side unless told)."""
    return {"id": number, "zh_ids": [0] if zh and zh_ids is None else zh_ids or [],
            "en_ids": [0] if en and en_ids is None else en_ids or [], "zh": zh, "en": en, "score": 0.8,
            "type": "1-1", "origin": origin, "speaker": None, "kind": "sentence", "mt": None, "mt_flags": [], **extra}


# ---------------------------------------------------------------------------
# SRX


@pytest.mark.parametrize(("text", "lang", "segments"), [
    ("他说:“好。”然后走了！真的？", "zh-CN", ["他说:“好。”然后走了！", "真的？"]),  # 。” stays together
    ("这是什么?那是什么?我不知道。", "zh-TW", ["这是什么?那是什么?我不知道。"]),  # half-width ? is not a Chinese break
    ("价格是3.5元。下一句。", "zh", ["价格是3.5元。", "下一句。"]),
    ("Mr. Smith met J. R. Tolkien. He left... then came back. Done? Yes!", "en",
     ["Mr. Smith met J. R. Tolkien.", "He left... then came back.", "Done?", "Yes!"]),
    ("1.2 Overview of the plan", "en", ["1.2", "Overview of the plan"]),
])
def test_srx_segments(text, lang, segments):
    assert SRX.segment(text, lang) == segments


def _srx(cascade: str, rules: str, maps: str) -> bytes:
    return (f'<srx xmlns="http://www.lisa.org/srx20" version="2.0"><header cascade="{cascade}"/><body>'
            f'<languagerules>{rules}</languagerules><maprules>{maps}</maprules></body></srx>').encode()


CASCADE_RULES = ('<languagerule languagerulename="A"><rule break="no"><beforebreak>Dr\\.</beforebreak>'
                 '<afterbreak>\\s</afterbreak></rule></languagerule>'
                 '<languagerule languagerulename="B"><rule break="yes"><beforebreak>\\.</beforebreak>'
                 '<afterbreak>\\s</afterbreak></rule></languagerule>')
CASCADE_MAPS = ('<languagemap languagepattern="EN.*" languagerulename="A"/>'
                '<languagemap languagepattern=".*" languagerulename="B"/>')


@pytest.mark.parametrize(("cascade", "segments"), [
    ("yes", ["Ask Dr. Who.", "Then go."]),  # A's exception, then B's break
    ("no", ["Ask Dr. Who. Then go."]),      # only A (the first map that matches): nothing breaks
])
def test_srx_cascade(cascade, segments):
    rules = parse_srx(_srx(cascade, CASCADE_RULES, CASCADE_MAPS))
    assert rules.segment("Ask Dr. Who. Then go.", "en-US") == segments
    assert rules.segment("Ask Dr. Who. Then go.", "fr") == ["Ask Dr.", "Who.", "Then go."]  # only B maps fr


@pytest.mark.parametrize(("data", "message"), [
    (b"<srx", "not well-formed XML"),
    (b"<segmentation/>", "not an SRX file"),
    (_srx("yes", '<languagerule languagerulename="A"><rule><beforebreak>[</beforebreak></rule></languagerule>',
          '<languagemap languagepattern=".*" languagerulename="A"/>'), "bad regular expression"),
    (_srx("yes", CASCADE_RULES, '<languagemap languagepattern=".*" languagerulename="Nope"/>'), "'Nope'"),
    (_srx("yes", CASCADE_RULES, ""), "maps no language"),
    (_srx("maybe", CASCADE_RULES, CASCADE_MAPS), "cascade"),
    (_srx("yes", '<languagerule languagerulename="A"><rule break="perhaps"><afterbreak>x</afterbreak></rule>'
                 '</languagerule>', '<languagemap languagepattern=".*" languagerulename="A"/>'), "break='perhaps'"),
    (b'<!DOCTYPE srx [<!ENTITY a "b">]><srx/>', "entities"),
])
def test_bad_srx_is_one_clear_error(data, message):
    with pytest.raises(FormatError, match=message) as caught:
        parse_srx(data, "rules.srx")
    assert "\n" not in caught.value.message


def test_bad_srx_on_the_command_line_fails_before_any_work(tmp_path):
    bad = tmp_path / "rules.srx"
    bad.write_bytes(b"<srx><body/>")
    out = tmp_path / "out"
    result = runner.invoke(app, ["align", str(EXAMPLES / "interview.zh.txt"), str(EXAMPLES / "interview.en.txt"),
                                 "-o", str(out), "--no-score", "--srx", str(bad)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: rules.srx is not well-formed XML")
    assert not out.exists()
    missing = runner.invoke(app, ["export", str(out), "--to", "tmx", "--srx", str(tmp_path / "none.srx")])
    assert missing.exit_code == 1 and "SRX file" in missing.output and "does not exist" in missing.output


def test_tmx_options_only_with_tmx(tmp_path):
    folder = tmp_path / "talk"
    write_alignment(folder, Alignment("talk", make_document("zh", ["你好。"]), make_document("en", ["Hello."]),
                                      (Bead((0,), (0,), 0.9),)))
    result = runner.invoke(app, ["export", str(folder), "--to", "html", "--tmx-one-sided", "keep"])
    assert result.exit_code == 1 and "not --to html" in result.output
    result = runner.invoke(app, ["export", str(folder), "--to", "tmx", "--tmx-one-sided", "sometimes"])
    assert result.exit_code == 1 and "--tmx-one-sided 'sometimes'" in result.output


# ---------------------------------------------------------------------------
# one-sided and machine-translated units


def test_one_sided_and_mt_units():
    records = [
        record(1, "你好。", "Hello."),
        record(2, "没有原文。", "", origin="mt", mt="No original.", en_ids=[]),             # pending MT
        record(3, "审过的。", "", origin="human", translation="Reviewed.", en_ids=[]),     # a reviewer's translation
        record(4, "", "Only English."),
        record(5, "只有中文。", "", en_ids=[]),
    ]
    units, counts = tmx_units(records)
    assert [(u["tuid"], u["zh"], u["en"]) for u in units] == [("1", "你好。", "Hello."), ("3", "审过的。", "Reviewed.")]
    assert counts == {"beads": 5, "merged": 0, "split": 0, "one_sided": 2, "mt": 1, "units": 2}
    kept, counts = tmx_units(records, TmxOptions(one_sided="keep"))
    assert [u["tuid"] for u in kept] == ["1", "2", "3", "4", "5"]
    assert kept[1]["en"] == "No original." and kept[1]["origin"] == "mt"
    assert counts["units"] == 5
    with pytest.raises(ValueError, match="one-sided"):
        TmxOptions(one_sided="sometimes")


# ---------------------------------------------------------------------------
# SRX merging


def test_srx_merges_beads_the_rules_keep_in_one_segment():
    records = [
        record(1, "这是什么?", "What is this?"),
        record(2, "那是什么?", "What is that?"),
        record(3, "", "Um."),                                  # English-only inside the segment
        record(4, "我不知道。", "I don't know."),
        record(5, "下一句。", "Next sentence."),                # after 。: a new segment
        record(6, "谁说的?", "Who said it?", speaker="Sam"),    # a turn starts a segment
        record(7, "第二章", "Chapter Two", kind="heading"),      # a heading stands alone
    ]
    units, counts = tmx_units(records, TmxOptions(srx=SRX))
    assert [(u["tuid"], u["zh"], u["en"]) for u in units] == [
        ("1+2+3+4", "这是什么?那是什么?我不知道。", "What is this? What is that? Um. I don't know."),
        ("5", "下一句。", "Next sentence."), ("6", "谁说的?", "Who said it?"), ("7", "第二章", "Chapter Two")]
    assert units[0]["type"] == "3-4" and units[0]["beads"] == [1, 2, 3, 4]
    assert counts["merged"] == 4


def test_srx_does_not_merge_over_a_passage_without_english():
    records = [record(1, "这是什么?", "What is this?"), record(2, "那是什么?", "", en_ids=[]),
               record(3, "我不知道。", "I don't know.")]
    units, counts = tmx_units(records, TmxOptions(srx=SRX))
    assert [u["tuid"] for u in units] == ["1", "3"] and counts["merged"] == 0 and counts["one_sided"] == 1


def test_merged_unit_in_the_file(tmp_path):
    zh = make_document("zh", ["这是什么?", "那是什么。", "下一句。"])  # no break after the half-width ?, one after 。
    en = make_document("en", ["What is this?", "What is that?", "Next."])
    alignment = Alignment("talk", zh, en, (Bead((0,), (0,), 0.9), Bead((1,), (1,), 0.7), Bead((2,), (2,), 0.8)))
    path = tmp_path / "talk.tmx"
    write_tmx(path, alignment, options=TmxOptions(srx=SRX))
    units = read_tmx_memory(path).units
    assert [(u.tuid, u.zh, u.en) for u in units] == [("b1+b2", "这是什么?那是什么。", "What is this? What is that?"),
                                                     ("b3", "下一句。", "Next.")]
    assert units[0].props["x-beads"] == "b1 b2" and units[0].props["x-score"] == "0.7000"
    assert "x-beads" not in units[1].props


# ---------------------------------------------------------------------------
# splitting beads


@pytest.fixture(scope="module")
def splitter():
    return BeadSplitter(get_embedder())


@pytest.mark.parametrize(("zh", "en", "parts"), [
    # a 2-2 bead whose sentences translate each other one by one: two units
    (["我今天早上去了超市。", "我买了很多新鲜的水果。"], ["This morning I went to the supermarket.", "I bought a lot of fresh fruit."],
     [([0], [0]), ([1], [1])]),
    # 3-3, the same: three units
    (["会议推迟到下周二。", "请大家提前准备好材料。", "有问题可以随时联系我。"],
     ["The meeting has been moved to next Tuesday.", "Please prepare your materials in advance.",
      "Feel free to contact me with any questions."], [([0], [0]), ([1], [1]), ([2], [2])]),
    # crossed: the first Chinese sentence renders the second English one; no monotone cut
    (["我买了很多新鲜的水果。", "我今天早上去了超市。"], ["This morning I went to the supermarket.", "I bought a lot of fresh fruit."],
     [([0, 1], [0, 1])]),
    # the English cut falls inside the Chinese first sentence: "Beijing | and Shanghai"
    (["我们昨天去了北京和上海。", "两座城市都很热。"], ["Yesterday we went to Beijing", "and Shanghai, and both cities were hot."],
     [([0, 1], [0, 1])]),
    # one English sentence carries both Chinese ones: nothing to pair
    (["你认为其他公司在哪些领域有机会?", "而大公司会在哪些领域继续占主导?"],
     ["Where do other companies have a chance, and where will the big ones keep dominating?"], [([0, 1], [0])]),
])
def test_splitter(splitter, zh, en, parts):
    assert [(list(z), list(e)) for z, e in splitter.split(zh, en)] == parts


@pytest.mark.parametrize(("n", "m", "best", "expected"), [
    (2, 2, {(0, 1, 0, 1): 0.9, (1, 2, 1, 2): 0.9}, [([0], [0]), ([1], [1])]),
    (2, 2, {(0, 1, 0, 1): 0.1, (1, 2, 1, 2): 0.1, (0, 2, 0, 2): 0.9}, [([0, 1], [0, 1])]),
    (2, 3, {(0, 1, 0, 2): 0.8, (1, 2, 2, 3): 0.8}, [([0], [0, 1]), ([1], [2])]),
])
def test_best_partition(n, m, best, expected):
    sim = {(a, b, c, d): 0.0 for a in range(n) for b in range(a + 1, n + 1) for c in range(m) for d in range(c + 1, m + 1)}
    sim.update(best)
    assert [(list(z), list(e)) for z, e in best_partition(n, m, sim, 3)] == expected


def test_split_units_in_the_file(tmp_path, splitter):
    zh = make_document("zh", ["我今天早上去了超市。", "我买了很多新鲜的水果。", "我买了很多新鲜的水果。", "我今天早上去了超市。"])
    en = make_document("en", ["This morning I went to the supermarket.", "I bought a lot of fresh fruit.",
                              "This morning I went to the supermarket.", "I bought a lot of fresh fruit."])
    alignment = Alignment("talk", zh, en, (Bead((0, 1), (0, 1), 0.9), Bead((2, 3), (2, 3), 0.8)))
    path = tmp_path / "talk.tmx"
    counts = write_tmx(path, alignment, options=TmxOptions(split_beads=True), splitter=splitter)
    units = read_tmx_memory(path).units
    assert [(u.tuid, u.zh, u.props["x-bead-type"]) for u in units] == [
        ("b1.1", "我今天早上去了超市。", "1-1"), ("b1.2", "我买了很多新鲜的水果。", "1-1"),
        ("b2", "我买了很多新鲜的水果。我今天早上去了超市。", "2-2")]
    assert units[1].en == "I bought a lot of fresh fruit." and units[0].props["x-beads"] == "b1"
    assert counts["split"] == 1 and counts["units"] == 3
    with pytest.raises(ValueError, match="splitter"):
        tmx_units([], TmxOptions(split_beads=True))


def test_cli_export_split_and_srx(tmp_path):
    """`bitext export --to tmx --tmx-split-beads --srx` end to end, with the counts on stderr."""
    zh = make_document("zh", ["我今天早上去了超市。", "我买了很多新鲜的水果。", "这是什么?", "那是什么?"])
    en = make_document("en", ["This morning I went to the supermarket.", "I bought a lot of fresh fruit.",
                              "What is this?", "What is that?"])
    folder = tmp_path / "talk"
    write_alignment(folder, Alignment("talk", zh, en, (Bead((0, 1), (0, 1), 0.9), Bead((2,), (2,), 0.8),
                                                       Bead((3,), (3,), 0.8))))
    out = tmp_path / "cat.tmx"
    result = runner.invoke(app, ["export", str(folder), "--to", "tmx", "-o", str(out), "--tmx-split-beads",
                                 "--srx", str(EXAMPLES / "segment.srx")])
    assert result.exit_code == 0, result.output
    assert "3 beads -> 3 units (2 beads merged by SRX, 1 split" in result.stderr
    # An exported memory numbers its units 1..N (a folder's own TMX uses the stable bead ids).
    assert [u.tuid for u in read_tmx_memory(out).units] == ["1.1", "1.2", "2+3"]


def test_srx_recorded_and_reapplied_after_a_review(tmp_path):
    """align --srx records the rules in the signature; a review's export rewrites the memory with them."""
    from toolkit.review.session import ReviewSession

    out = tmp_path / "out"
    result = runner.invoke(app, ["align", str(EXAMPLES / "interview.zh.txt"), str(EXAMPLES / "interview.en.txt"),
                                 "-o", str(out), "--no-score", "-q", "--srx", str(EXAMPLES / "segment.srx")])
    assert result.exit_code == 0, result.output
    before = (out / "interview.tmx").read_text(encoding="utf-8")
    assert '"srx": {"file": "segment.srx"' in before.replace("&quot;", '"')
    session = ReviewSession.open(out)
    session.approve(1)
    session.export()
    after = read_tmx_memory(out / "interview.tmx")
    recorded = json.loads(after.header_props["x-signature"])["tmx"]
    assert recorded["srx"]["sha256"] == SRX.sha256 and recorded["one_sided"] == "drop"


def test_read_srx_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_srx(tmp_path / "none.srx")
