"""The align job: putting left-out segments back, script conversion, and the example end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.align.embed import get_embedder
from toolkit.core.config import AlignConfig
from toolkit.core.records import Bead
from toolkit.pipeline import AlignOptions, Progress, align_documents, convert_script, load_document, restore_unaligned
from toolkit.text.segment import segment_document

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def pairs(beads) -> list[tuple[tuple, tuple]]:
    return [(tuple(b.zh), tuple(b.en)) for b in beads]


def assert_partition(beads, n_zh: int, n_en: int) -> None:
    """Every segment is in exactly one bead, in document order on each side."""
    assert [i for b in beads for i in b.zh] == list(range(n_zh))
    assert [j for b in beads for j in b.en] == list(range(n_en))


# ---------------------------------------------------------------------------
# restore_unaligned

B = Bead  # short for the table below

RESTORE_CASES = {
    "nothing left out": (
        [B((0,), (0,)), B((1,), (1,))], [0, 1], [0, 1], 2, 2,
        [((0,), (0,)), ((1,), (1,))],
    ),
    "chinese heading first": (
        [B((0,), (0,)), B((1,), (1,))], [1, 2], [0, 1], 3, 2,
        [((0,), ()), ((1,), (0,)), ((2,), (1,))],
    ),
    "english note in the middle": (
        [B((0,), (0,)), B((1,), (1,)), B((2,), (2,))], [0, 1, 2], [0, 1, 3], 3, 4,
        [((0,), (0,)), ((1,), (1,)), ((), (2,)), ((2,), (3,))],
    ),
    "left out at the end of both sides": (
        [B((0,), (0,))], [0], [0], 2, 3,
        [((0,), (0,)), ((1,), ()), ((), (1,)), ((), (2,))],
    ),
    "headings on both sides between beads": (
        [B((0,), (0,)), B((1,), (1,))], [0, 2], [0, 2], 3, 3,
        [((0,), (0,)), ((1,), ()), ((), (1,)), ((2,), (2,))],
    ),
    "english bead straddles a note": (
        [B((0,), (0,)), B((1,), (1, 2))], [0, 1], [0, 1, 3], 2, 4,
        [((0,), (0,)), ((1,), (1, 2, 3))],
    ),
    "chinese bead straddles two headings": (
        [B((0, 1), (0,))], [0, 3], [0], 4, 1,
        [((0, 1, 2, 3), (0,))],
    ),
    "omission beads keep their place": (
        [B((0,), ()), B((), (0,)), B((1,), (1,))], [1, 2], [0, 2], 3, 3,
        [((0,), ()), ((1,), ()), ((), (0,)), ((), (1,)), ((2,), (2,))],
    ),
    "no kept segments on one side": (
        [B((), (0,))], [], [1], 2, 2,
        [((), (0,)), ((), (1,)), ((0,), ()), ((1,), ())],
    ),
    "no beads at all": (
        [], [], [], 1, 2,
        [((0,), ()), ((), (0,)), ((), (1,))],
    ),
}


@pytest.mark.parametrize("beads, zh_keep, en_keep, n_zh, n_en, expected", RESTORE_CASES.values(), ids=RESTORE_CASES.keys())
def test_restore_unaligned(beads, zh_keep, en_keep, n_zh, n_en, expected):
    restored = restore_unaligned(beads, zh_keep, en_keep, n_zh, n_en)
    assert_partition(restored, n_zh, n_en)
    assert sorted(pairs(restored)) == sorted(expected)
    # Restored omissions come back unscored; beads keep score and origin.
    assert all(b.score == 0.0 for b in restored if not (b.zh and b.en))


def test_restore_unaligned_order_and_scores():
    beads = [Bead((0,), (0,), score=0.9), Bead((1,), (1, 2), score=0.7, origin="human")]
    restored = restore_unaligned(beads, [1, 2], [0, 1, 3], 4, 4)
    assert pairs(restored) == [((0,), ()), ((1,), (0,)), ((2,), (1, 2, 3)), ((3,), ())]
    assert [b.score for b in restored] == [0.0, 0.9, 0.7, 0.0]
    assert restored[2].origin == "human"


# ---------------------------------------------------------------------------
# convert_script

TRADITIONAL = "主持人：它能處理繁體中文嗎？\n輸出的文字仍然保持原來的寫法。\n"
SIMPLIFIED = "主持人：它能处理繁体中文吗？\n输出的文字仍然保持原来的写法。\n"


@pytest.mark.parametrize(
    "source, script_in, target, expected_text",
    [
        (TRADITIONAL, "traditional", "simplified", SIMPLIFIED),
        (SIMPLIFIED, "simplified", "traditional", TRADITIONAL),
        (TRADITIONAL, "traditional", "as-is", TRADITIONAL),
        (SIMPLIFIED, "simplified", "as-is", SIMPLIFIED),
        (TRADITIONAL, "traditional", "traditional", TRADITIONAL),
    ],
)
def test_convert_script(source, script_in, target, expected_text):
    document = segment_document(source, "zh", name="t")
    assert document.script == script_in
    converted = convert_script(document, target)
    assert converted.texts() == expected_text.splitlines()
    assert converted.script == (script_in if target == "as-is" else target)
    # Matching forms and everything else about the segments stay as they were.
    assert converted.norms() == document.norms()
    assert [(s.index, s.kind, s.speaker) for s in converted.segments] == [
        (s.index, s.kind, s.speaker) for s in document.segments
    ]


def test_convert_script_leaves_english_alone():
    document = segment_document("Host: Why did you build this tool?\n", "en", name="t")
    assert convert_script(document, "traditional") is document


# ---------------------------------------------------------------------------
# align_documents with the real default embedder


@pytest.fixture(scope="module")
def use_embedder():
    return get_embedder("use")


@pytest.fixture(scope="module")
def example(use_embedder):
    zh = load_document(EXAMPLES / "interview.zh.txt", "zh", name="interview")
    en = load_document(EXAMPLES / "interview.en.txt", "en", name="interview")
    calls = []
    progress = Progress(lambda label, total: calls.append(("start", label, total)),
                        lambda n: calls.append(("advance", n)),
                        lambda: calls.append(("finish",)))
    alignment = align_documents(zh, en, embedder=use_embedder, progress=progress, name="interview")
    return alignment, calls


def _bead_texts(alignment):
    return [(" ".join(alignment.zh.segments[i].text for i in b.zh), " ".join(alignment.en.segments[j].text for j in b.en))
            for b in alignment.beads]


def test_example_omissions(example):
    alignment, _ = example
    assert_partition(alignment.beads, len(alignment.zh), len(alignment.en))
    texts = _bead_texts(alignment)
    assert ("编者按：本文整理自一次关于翻译工具的访谈，有删节。", "") in texts
    assert ("", "By the way, we started the project in 2021 in a small office.") in texts
    omissions = [b for b in alignment.beads if not (b.zh and b.en)]
    assert len(omissions) == 2 and all(b.score == 0.0 for b in omissions)


def test_example_speaker_turns_aligned(example):
    alignment, _ = example
    texts = _bead_texts(alignment)
    for zh, en in [
        ("主持人：你为什么要做这个工具？", "Host: Why did you build this tool?"),
        ("主持人：它能处理繁体中文吗？", "Host: Can it handle traditional Chinese?"),
    ]:
        assert (zh, en) in texts
    assert ("这太浪费时间了！", "It is a huge waste of time.") in texts
    assert ("输出的文字仍然保持原来的写法。", "The output text keeps the original script.") in texts
    assert all(0.5 < b.score <= 1.0 for b in alignment.beads if b.zh and b.en)


def test_example_signature(example):
    alignment, _ = example
    sig = alignment.signature
    for key in ("tool", "version", "segmenter", "normalization", "zh_script_in", "zh_script_out",
                "embedder", "lexical", "aligner", "sentences", "diagnostics", "timings"):
        assert key in sig, key
    assert sig["embedder"].startswith("use-multilingual-v3")
    assert sig["aligner"]["threshold"] == AlignOptions().config.threshold
    assert sig["sentences"] == {"zh": 9, "en": 9}
    assert sig["zh_script_in"] == "simplified"
    assert sig["lexical"] != "off"
    assert set(sig["timings"]) == {"embed_s", "lexical_s", "dp_s"}


def test_example_progress_callbacks(example):
    _, calls = example
    starts = [c for c in calls if c[0] == "start"]
    assert [c[1] for c in starts] == ["embedding", "aligning"]
    # A small document embeds every span of 1..5 sentences exactly. The editor's note before
    # the first speaker turn is the preamble and is not aligned: 8 Chinese sentences, 9 English.
    assert starts[0][2] == (8 + 7 + 6 + 5 + 4) + (9 + 8 + 7 + 6 + 5) and starts[1][2] == 8
    embedding = calls[calls.index(starts[0]) + 1:calls.index(starts[1])]
    assert sum(c[1] for c in embedding if c[0] == "advance") == starts[0][2]
    assert calls.count(("finish",)) == 2
    # The aligning stage reports every Chinese row.
    after = calls[calls.index(starts[1]) + 1:]
    assert sum(c[1] for c in after if c[0] == "advance") == 8


def test_headings_and_notes_stand_alone(use_embedder):
    zh = segment_document(
        "第一章 开始\n主持人：你为什么要做这个工具？\n张伟：因为译者每天都在手工对齐句子。\n我们希望机器先做一遍，再由人来检查。\n",
        "zh", name="t")
    en = segment_document(
        "Chapter One\nHost: Why did you build this tool?\n[APPLAUSE]\n"
        "Zhang Wei: Because translators align sentences by hand every day.\n"
        "We want the machine to do a first pass, and then a person checks it.\n",
        "en", name="t")
    assert zh.segments[0].kind == "heading" and en.segments[2].kind == "note"
    alignment = align_documents(zh, en, embedder=use_embedder)
    # A heading the other side translates is paired with it; a note with no match stays alone.
    assert pairs(alignment.beads) == [((0,), (0,)), ((1,), (1,)), ((), (2,)), ((2,), (3,)), ((3,), (4,))]


def test_unmatched_heading_is_left_out_not_merged(use_embedder):
    # An editor's heading between two rendered sentences has no English: it must not
    # join the bead before or after it (that once made 2-1 beads around headings).
    zh = segment_document(
        "主持人：你为什么要做这个工具？\n/ 01 / 译者的日常\n张伟：因为译者每天都在手工对齐句子。\n我们希望机器先做一遍，再由人来检查。\n",
        "zh", name="t")
    en = segment_document(
        "Host: Why did you build this tool?\n"
        "Zhang Wei: Because translators align sentences by hand every day.\n"
        "We want the machine to do a first pass, and then a person checks it.\n",
        "en", name="t")
    assert zh.segments[1].kind == "heading"
    alignment = align_documents(zh, en, embedder=use_embedder)
    assert pairs(alignment.beads) == [((0,), (0,)), ((1,), ()), ((2,), (1,)), ((3,), (2,))]


def test_options_reject_unknown_script():
    with pytest.raises(ValueError, match="zh_script"):
        AlignOptions(zh_script="foo")


def test_align_documents_converts_output_script(use_embedder):
    zh = segment_document(TRADITIONAL, "zh", name="t")
    en = segment_document("Host: Can it handle traditional Chinese?\nThe output text keeps the original script.\n", "en", name="t")
    alignment = align_documents(zh, en, AlignOptions(zh_script="simplified"), embedder=use_embedder)
    assert alignment.zh.texts() == SIMPLIFIED.splitlines()
    assert alignment.signature["zh_script_in"] == "traditional"
    assert alignment.signature["zh_script_out"] == "simplified"
    assert pairs(alignment.beads) == [((0,), (0,)), ((1,), (1,))]


@pytest.mark.parametrize(
    "text, expected",
    [
        # editor's summary and a TOC line, then ten turns by two speakers: the first two segments.
        ("编者按：这是一篇访谈。\n目录\n" + "主持人：你好。\n张伟：你好。\n" * 5, [0, 1]),
        # the same opening but too long for a preamble (over a fifth of the text): a story, not an interview.
        ("编者按：这是一篇访谈。\n目录\n" + "主持人：你好。\n张伟：你好。\n" * 2, []),
        # "X道：" is fiction's narration, not a speaker label.
        ("他走了。\n" + "韦小宝道：好。\n小玄子道：不好。\n" * 5, []),
        # a single speaker: no preamble is assumed.
        ("前言。\n张伟：你好。\n张伟：再见。\n张伟：好的。\n张伟：是的。\n", []),
        # too few turns.
        ("前言。\n主持人：你好。\n张伟：再见。\n", []),
        # no speakers at all.
        ("第一句。第二句。\n", []),
    ],
)
def test_preamble_indices(text, expected):
    from toolkit.pipeline import preamble_indices

    assert preamble_indices(segment_document(text, "zh")) == expected


SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.mark.parametrize("limits", [(5, 5, 6), (2, 3, 4), (2, 2, 3), (1, 2, 3)])
def test_bead_limits_hold_around_headings(use_embedder, limits):
    # One English sentence renders the Chinese on both sides of an editor's heading. Headings
    # used to be put back after the DP by widening the bead around them, which made this a
    # 3-1 bead under --max-zh 2 (and 9-4 / 6-1 beads under the defaults on real documents).
    zh = segment_document("主持人：你们怎么做？\n张伟：我们希望机器先做一遍，\n二、人工检查\n然后再由人来检查每一句。\n"
                          "主持人：谢谢。\n", "zh", name="t")
    en = segment_document("Host: How do you do it?\nZhang Wei: We want the machine to do a first pass, and then a person "
                          "checks every sentence.\nHost: Thank you.\n", "en", name="t")
    assert zh.segments[2].kind == "heading"
    max_zh, max_en, max_total = limits
    config = AlignConfig(max_zh=max_zh, max_en=max_en, max_total=max_total)
    alignment = align_documents(zh, en, AlignOptions(config=config), embedder=use_embedder)
    assert_partition(alignment.beads, len(zh), len(en))
    for bead in alignment.beads:
        assert len(bead.zh) <= max_zh and len(bead.en) <= max_en and len(bead.zh) + len(bead.en) <= max_total
    assert ((2,), ()) in pairs(alignment.beads)  # the heading itself stays out


def test_bead_limits_hold_on_the_seeds(use_embedder):
    seeds = [(SHARED / "seeds" / "004_fadffe5ef7c73b46.txt", SHARED / "en" / "karpathy_sequoia_ai_ascent_2024.en.txt"),
             (SHARED / "seeds" / "000_9336bfe103d01715.txt", SHARED / "en" / "altman_yc_how_to_build_the_future_2024.en.txt")]
    if not all(p.exists() for pair in seeds for p in pair):
        pytest.skip(f"the shared corpus is not at {SHARED} (a user's clone does not have it)")
    config = AlignConfig(max_zh=5, max_en=5, max_total=6)
    for zh_path, en_path in seeds:
        zh = load_document(zh_path, "zh")
        en = load_document(en_path, "en", comment_prefix="#")
        alignment = align_documents(zh, en, AlignOptions(config=config, span_embedding="sum"), embedder=use_embedder)
        assert_partition(alignment.beads, len(zh), len(en))
        assert max(len(b.zh) for b in alignment.beads) <= 5 and max(len(b.en) for b in alignment.beads) <= 5
        assert max(len(b.zh) + len(b.en) for b in alignment.beads) <= 6


def test_a_note_the_english_translates_is_aligned(use_embedder):
    # A speech's date in parentheses is a note, but the English has it: a 1-1 bead, not an
    # omission glued to the next bead.
    zh = segment_document("在记者见面时的讲话\n\n（2012年11月15日）\n\n同志们，朋友们：\n\n大家好！\n\n"
                          "今天，我们在这里召开新闻发布会。\n", "zh", name="t")
    en = segment_document("Address at a Press Conference\n\nNovember 15, 2012\n\nLadies and gentlemen, friends,\n\n"
                          "Good afternoon!\n\nToday we hold a press conference here.\n", "en", name="t")
    assert zh.segments[1].kind == "note"
    alignment = align_documents(zh, en, embedder=use_embedder)
    assert pairs(alignment.beads) == [((i,), (i,)) for i in range(5)]
