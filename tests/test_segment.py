"""Sentence segmentation of Chinese and English documents."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from toolkit.core.records import Document
from toolkit.formats.reader import read_text
from toolkit.text.segment import segment_document

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "corpus" / "seeds"
KARPATHY = SHARED / "corpus" / "en" / "karpathy_sequoia_ai_ascent_2024.en.txt"


def texts(text: str, lang: str) -> list[str]:
    return segment_document(text, lang).texts()


# --- Chinese --------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("第一句。第二句!第三句?", ["第一句。", "第二句!", "第三句?"]),
        ("真的吗？！是的！！好。", ["真的吗？！", "是的！！", "好。"]),
        ("他说:“你好。”然后走了。", ["他说:“你好。”", "然后走了。"]),
        ("「我們現在該做什麼?」這是一個問題。", ["「我們現在該做什麼?」", "這是一個問題。"]),
        ("（注意安全。）下一句。", ["（注意安全。）", "下一句。"]),
        ("是的……他走了。", ["是的……", "他走了。"]),
        ("我们希望……,但无论如何都好。", ["我们希望……,但无论如何都好。"]),
        ("我不知道...从历史来看,很难说。", ["我不知道...", "从历史来看,很难说。"]),
        ("我在想;还有别的。他同意；她也同意。", ["我在想;还有别的。", "他同意；她也同意。"]),
        ("估值2.5亿美元。Llama 2.0发布了。", ["估值2.5亿美元。", "Llama 2.0发布了。"]),
        ("给 GPT-3.5 做界面。", ["给 GPT-3.5 做界面。"]),
        ("这是第一句.这是第二句。", ["这是第一句.", "这是第二句。"]),
        ("A.I.公司很多。U.S.市场也是。", ["A.I.公司很多。", "U.S.市场也是。"]),
        ("访问https://example.com/a?b=1.然后再说。", ["访问https://example.com/a?b=1.", "然后再说。"]),
        ("见www.example.com/x?q=1。好的。", ["见www.example.com/x?q=1。", "好的。"]),
        ("做点好事[3]。」后来呢?", ["做点好事[3]。」", "后来呢?"]),
        ("旨在取代原本的硅谷。[9]”下一句。", ["旨在取代原本的硅谷。[9]”", "下一句。"]),
        ("什么?OpenAI说不。", ["什么?", "OpenAI说不。"]),
        ("第一行。\n第二行没有句号\n第三行。", ["第一行。", "第二行没有句号", "第三行。"]),
        ("  前后有空格。  \n\n\n  ", ["前后有空格。"]),
    ],
)
def test_chinese_sentences(text, expected):
    assert texts(text, "zh") == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # (texts, speakers) per segment
        (
            "Sam Altman:你好。我很好。\nGarry Tan：谢谢。",
            [("Sam Altman:你好。", "Sam Altman"), ("我很好。", None), ("Garry Tan：谢谢。", "Garry Tan")],
        ),
        ("Stephen Zhan:Andrej,您如何看待AGI?", [("Stephen Zhan:Andrej,您如何看待AGI?", "Stephen Zhan")]),
        ("主持人：欢迎大家。今天很高兴。", [("主持人：欢迎大家。", "主持人"), ("今天很高兴。", None)]),
        (
            "张三:你好。\n李四:你好。\n张三:再见。\n李四:再见。",
            [("张三:你好。", "张三"), ("李四:你好。", "李四"), ("张三:再见。", "张三"), ("李四:再见。", "李四")],
        ),
        # a short Chinese name labelling one line only is not trusted as a speaker
        ("张三:你好。\n李四:你好。\n张三:再见。", [("张三:你好。", "张三"), ("李四:你好。", None), ("张三:再见。", "张三")]),
        # A one-off short Chinese "label" is a heading or a lead-in, not a speaker.
        ("信仰:AGI 神教", [("信仰:AGI 神教", None)]),
        ("來源:Y Combinator", [("來源:Y Combinator", None)]),
        ("但很多人的疑问是:", [("但很多人的疑问是:", None)]),
        # A label alone on its line: a note, and the speaker goes to the next line.
        ("Sam Altman:\n你好。", [("Sam Altman:", "Sam Altman"), ("你好。", "Sam Altman")]),
    ],
)
def test_chinese_speaker_labels(text, expected):
    doc = segment_document(text, "zh")
    assert [(s.text, s.speaker) for s in doc.segments] == expected


def test_single_word_speakers_count_in_an_interview():
    text = "Stephen Zhan:问题一?\nAndrej Karpathy:回答。\nAlex:我有个问题。\nAndrej Karpathy:好的。"
    doc = segment_document(text, "zh")
    assert [s.speaker for s in doc.segments] == ["Stephen Zhan", "Andrej Karpathy", "Alex", "Andrej Karpathy"]


@pytest.mark.parametrize(
    "line, kind",
    [
        ("目录:", "heading"),
        ("一、LLMOS:免费、高效的的 LLM API平台", "heading"),
        ("/ 01 / LLM OS:免费、高效的的 LLM API平台", "heading"),
        ("OpenAI CEO深度訪談:1人+10000塊GPU,能創收數十億美元", "heading"),
        ("第一章 开始", "heading"),
        ("科学家与狂想家", "heading"),
        ("“强者,便使它更强”", "heading"),
        ("萨特斯基弗(左)与老师杰夫·辛顿(右)", "heading"),
        ("(本文作者饭统戴老板,财经自媒体)", "note"),
        ("【图片】", "note"),
        ("然而,他只花了2年,就打了所有人的脸。", "sentence"),
        ("“他正在建立一种新的经济。[9]”", "sentence"),
        ("但很多人的疑问是:", "sentence"),
        ("这一行很长但是没有句末标点" + "所以它仍然是一个句子而不是标题" * 3, "sentence"),
    ],
)
def test_chinese_line_kinds(line, kind):
    doc = segment_document(line, "zh")
    assert [s.kind for s in doc.segments] == [kind]


def test_chinese_paragraphs_and_indices():
    doc = segment_document("目录:\n一、开始\n\n第一句。第二句。\n第三句。", "zh", name="demo")
    assert isinstance(doc, Document)
    assert doc.name == "demo" and doc.lang == "zh"
    assert [s.index for s in doc.segments] == [0, 1, 2, 3, 4]
    assert [s.paragraph for s in doc.segments] == [0, 1, 2, 2, 3]
    assert [s.kind for s in doc.segments] == ["heading", "heading", "sentence", "sentence", "sentence"]
    assert all(s.lang == "zh" for s in doc.segments)


def test_traditional_text_is_kept_and_norm_is_simplified():
    doc = segment_document("訪談從博客文章切入。談到了ＯｐｅｎＡＩ初創團隊的建立。", "zh")
    assert doc.script == "traditional"
    assert doc.texts() == ["訪談從博客文章切入。", "談到了ＯｐｅｎＡＩ初創團隊的建立。"]
    assert doc.norms() == ["访谈从博客文章切入。", "谈到了OpenAI初创团队的建立。"]


def test_simplified_script_is_detected():
    assert segment_document("访谈从博客文章切入。", "zh").script == "simplified"
    assert segment_document("Plain English.", "en").script == ""


# --- English --------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("One. Two! Three? Four.", ["One.", "Two!", "Three?", "Four."]),
        (
            "Mr. Smith met Dr. Jones. Mrs. Brown and Prof. Green came too.",
            ["Mr. Smith met Dr. Jones.", "Mrs. Brown and Prof. Green came too."],
        ),
        ("We met at 3 p.m. Then we left.", ["We met at 3 p.m. Then we left."]),
        ("He moved to the U.S. in 2010. It was fine.", ["He moved to the U.S. in 2010.", "It was fine."]),
        ("Use tools, e.g. Python. Or i.e. R etc. Done.", ["Use tools, e.g. Python.", "Or i.e. R etc. Done."]),
        ("Apple Inc. Is big. Acme Ltd. Co. Too.", ["Apple Inc. Is big.", "Acme Ltd. Co. Too."]),
        ("It grew 3.14% to $2.5 billion. That was big.", ["It grew 3.14% to $2.5 billion.", "That was big."]),
        ("Version 2.0 shipped in 2023. Users liked it.", ["Version 2.0 shipped in 2023.", "Users liked it."]),
        (
            "J. R. R. Tolkien wrote it. George W. Bush read it.",
            ["J. R. R. Tolkien wrote it.", "George W. Bush read it."],
        ),
        ("See No. 5 here. No. I disagree.", ["See No. 5 here.", "No.", "I disagree."]),
        ("Born Jan. 12 in Ohio. Jan. Smith agreed.", ["Born Jan. 12 in Ohio.", "Jan.", "Smith agreed."]),
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        ("\u201cReally?\u201d she asked. \u201cYes.\u201d", ["\u201cReally?\u201d she asked.", "\u201cYes.\u201d"]),
        ("(It was late.) We left.", ["(It was late.)", "We left."]),
        ("Wait... What happened? I don't know!", ["Wait...", "What happened?", "I don't know!"]),
        ("I was thinking... maybe not.", ["I was thinking... maybe not."]),
        ("Hmm\u2026 Okay then.", ["Hmm\u2026", "Okay then."]),
        ("Really?! Yes.", ["Really?!", "Yes."]),
        ("the web site example.com. It works.", ["the web site example.com.", "It works."]),
        ("lowercase after a period. does not split", ["lowercase after a period. does not split"]),
        ("It was the A.I. Fuse story.", ["It was the A.I. Fuse story."]),
        ("He was 5. Then 6.", ["He was 5.", "Then 6."]),
    ],
)
def test_english_sentences(text, expected):
    assert texts(text, "en") == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Sam Altman: Thanks for having me. It is great.\nGarry Tan: Welcome back.",
            [("Sam Altman: Thanks for having me.", "Sam Altman"), ("It is great.", None),
             ("Garry Tan: Welcome back.", "Garry Tan")],
        ),
        ("Garry Tan\uff1a Welcome back.", [("Garry Tan\uff1a Welcome back.", "Garry Tan")]),
        ("Dr. Jane Smith: Hello there.", [("Dr. Jane Smith: Hello there.", "Dr. Jane Smith")]),
        ("Q: What now? A: Nothing.", [("Q: What now?", "Q"), ("A: Nothing.", None)]),
        ("Note: this is not a speaker.", [("Note: this is not a speaker.", None)]),
        ("The answer is simple: no.", [("The answer is simple: no.", None)]),
    ],
)
def test_english_speaker_labels(text, expected):
    doc = segment_document(text, "en")
    assert [(s.text, s.speaker) for s in doc.segments] == expected


@pytest.mark.parametrize(
    "line, kind",
    [
        ("[MUSIC PLAYING]", "note"),
        ("[APPLAUSE]", "note"),
        ("(Laughter)", "note"),
        ("(audience applauding)", "note"),
        ("Making AI Accessible", "heading"),
        ("1. Introduction", "heading"),
        ("Chapter 3", "heading"),
        ("This is a sentence.", "sentence"),
        ("[5] Ego, Fear and Money: How the A.I. Fuse Was Lit.", "sentence"),
    ],
)
def test_english_line_kinds(line, kind):
    doc = segment_document(line, "en")
    assert [s.kind for s in doc.segments] == [kind]


ASR = """[MUSIC PLAYING]
I'm thrilled to introduce our next and final speaker,
Andrej Karpathy.
I think Karpathy probably needs no introduction.
He designed the first deep learning class at Stanford,
was part of the founding team at OpenAI,
and is now a mystery man again, now
that he has just left OpenAI.
Thank you.
[APPLAUSE]
So if the team is small and strong,
then engineers and the code are the source of truth.
"""


def test_asr_fragments_are_joined_and_resplit():
    doc = segment_document(ASR, "en")
    assert doc.texts() == [
        "[MUSIC PLAYING]",
        "I'm thrilled to introduce our next and final speaker, Andrej Karpathy.",
        "I think Karpathy probably needs no introduction.",
        "He designed the first deep learning class at Stanford, was part of the founding team at OpenAI,"
        " and is now a mystery man again, now that he has just left OpenAI.",
        "Thank you.",
        "[APPLAUSE]",
        "So if the team is small and strong, then engineers and the code are the source of truth.",
    ]
    assert [s.kind for s in doc.segments] == ["note"] + ["sentence"] * 4 + ["note", "sentence"]
    # the note lines separate the joined streams into paragraphs
    assert [s.paragraph for s in doc.segments] == [0, 1, 1, 1, 1, 2, 3]


def test_asr_speaker_label_starts_a_new_stream():
    text = "Sam Altman: so I think\nthis is the way\nforward. And then\nGarry Tan: right and\nso we go."
    doc = segment_document(text, "en")
    assert [(s.text, s.speaker) for s in doc.segments] == [
        ("Sam Altman: so I think this is the way forward.", "Sam Altman"),
        ("And then", None),
        ("Garry Tan: right and so we go.", "Garry Tan"),
    ]


WRAPPED = """The first paragraph is wrapped at a fixed width so that
its sentences run across lines. Mr. Smith wrote it in
2010. It ends here.

A second paragraph, also
wrapped.
"""

ONE_PER_LINE = """Introduction
This paragraph is one line. It has two sentences.
This is the next paragraph.
"""


def test_wrapped_prose_is_joined_within_blank_line_paragraphs():
    doc = segment_document(WRAPPED, "en")
    assert doc.texts() == [
        "The first paragraph is wrapped at a fixed width so that its sentences run across lines.",
        "Mr. Smith wrote it in 2010.",
        "It ends here.",
        "A second paragraph, also wrapped.",
    ]
    assert [s.paragraph for s in doc.segments] == [0, 0, 0, 1]


def test_title_above_wrapped_prose_is_a_heading():
    doc = segment_document("Making AI Accessible\nThis text is wrapped so\nthat it continues. And more\ntext.", "en")
    assert doc.texts() == ["Making AI Accessible", "This text is wrapped so that it continues.", "And more text."]
    assert [s.kind for s in doc.segments] == ["heading", "sentence", "sentence"]


def test_one_paragraph_per_line_prose_keeps_lines():
    doc = segment_document(ONE_PER_LINE, "en")
    assert doc.texts() == [
        "Introduction",
        "This paragraph is one line.",
        "It has two sentences.",
        "This is the next paragraph.",
    ]
    assert [s.kind for s in doc.segments] == ["heading", "sentence", "sentence", "sentence"]
    assert [s.paragraph for s in doc.segments] == [0, 1, 1, 2]


# --- presegmented ---------------------------------------------------------


@pytest.mark.parametrize(
    "text, lang, expected",
    [
        ("第一句。第二句。\n\n第三句\n", "zh", ["第一句。第二句。", "第三句"]),
        ("One. Two.\nthree\n  four  \n", "en", ["One. Two.", "three", "four"]),
    ],
)
def test_presegmented_takes_lines_as_is(text, lang, expected):
    doc = segment_document(text, lang, presegmented=True)
    assert doc.texts() == expected
    assert [s.paragraph for s in doc.segments] == list(range(len(expected)))


def test_presegmented_still_marks_speakers_and_notes():
    doc = segment_document("Sam Altman: Hi. Bye.\n[APPLAUSE]\nIntroduction", "en", presegmented=True)
    assert [(s.speaker, s.kind) for s in doc.segments] == [
        ("Sam Altman", "sentence"), (None, "note"), (None, "sentence")
    ]


# --- records, errors, speed -----------------------------------------------


def test_norm_is_the_matching_form():
    doc = segment_document("\u201cIt\u2019s   fine\u201d \u2014 he said.", "en")
    assert doc.texts() == ["\u201cIt\u2019s   fine\u201d \u2014 he said."]
    assert doc.norms() == ['"It\'s fine" - he said.']


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unknown language"):
        segment_document("text", "fr")


def test_empty_text_gives_empty_document():
    assert len(segment_document("\n  \n", "en")) == 0


def test_twenty_thousand_sentences_are_fast():
    zh = "\n".join("Sam Altman:我们在2024年发布了GPT-4.5模型。它非常好!真的吗?" for _ in range(7000))
    en = "\n".join("Mr. Smith paid $2.5 million in the U.S. last year. It was big! Really?" for _ in range(7000))
    for text, lang in ((zh, "zh"), (en, "en")):
        segment_document("预热。", "zh")  # builds the OpenCC converters outside the timing
        start = time.perf_counter()
        doc = segment_document(text, lang)
        elapsed = time.perf_counter() - start
        assert len(doc) == 21000
        assert elapsed < 2.0, f"{lang}: {elapsed:.2f}s for 21000 sentences"


# --- the real corpus ------------------------------------------------------


@pytest.mark.skipif(not SEEDS.exists(), reason="../shared corpus not available")
def test_seed_004_interview():
    doc = segment_document(read_text(SEEDS / "004_fadffe5ef7c73b46.txt", "zh"), "zh", name="004")
    assert doc.script == "simplified"
    assert 250 <= len(doc) <= 380
    headings = [s.text for s in doc.segments if s.kind == "heading"]
    assert headings[:3] == ["目录:", "一、LLMOS:免费、高效的的 LLM API平台", "二、马斯克的企业理念:小而精的技术团队"]
    assert "/ 01 / LLM OS:免费、高效的的 LLM API平台" in headings
    speakers = {s.speaker for s in doc.segments if s.speaker}
    assert {"Stephen Zhan", "Andrej Karpathy", "Alex", "Michael"} <= speakers
    assert "目录" not in speakers and "原文标题" not in speakers
    first_turn = next(s for s in doc.segments if s.speaker == "Stephen Zhan")
    assert first_turn.text == "Stephen Zhan:Andrej,您如何看待AGI在未来的前景?"
    assert all("\n" not in s.text for s in doc.segments)


@pytest.mark.skipif(not SEEDS.exists(), reason="../shared corpus not available")
def test_seed_000_traditional():
    doc = segment_document(read_text(SEEDS / "000_9336bfe103d01715.txt", "zh"), "zh", name="000")
    assert doc.script == "traditional"
    assert doc.segments[0].kind == "heading"
    assert doc.segments[0].text.startswith("OpenAI CEO深度訪談")
    assert doc.segments[0].norm.startswith("OpenAI CEO深度访谈")
    assert {s.speaker for s in doc.segments if s.speaker} == {"Garry Tan", "Sam Altman"}


@pytest.mark.skipif(not KARPATHY.exists(), reason="../shared corpus not available")
def test_karpathy_transcript_becomes_sentences():
    doc = segment_document(read_text(KARPATHY, "en", comment_prefix="#"), "en", name="karpathy")
    sentences = [s for s in doc.segments if s.kind == "sentence"]
    notes = [s.text for s in doc.segments if s.kind == "note"]
    assert notes == ["[MUSIC PLAYING]", "[APPLAUSE]", "[LAUGHTER]", "[APPLAUSE]", "(audience applauding)"]
    assert 450 <= len(sentences) <= 700  # 957 fragment lines
    assert doc.segments[1].text == "I'm thrilled to introduce our next and final speaker, Andrej Karpathy."
    # nearly every sentence starts in uppercase and ends in punctuation
    well_formed = [s for s in sentences if s.text[0].isupper() and s.text[-1] in ".?!"]
    assert len(well_formed) >= 0.95 * len(sentences)


def test_fiction_speech_verbs_are_not_speaker_labels():
    from toolkit.text.segment import segment_document

    doc = segment_document("韦小宝笑道：好。\n凤姐道：不好。\n韦小宝笑道：走吧。\n凤姐道：是。\n", "zh")
    assert all(s.speaker is None for s in doc.segments)
    doc = segment_document("主持人：你好。\n张伟：你好。\n主持人：再见。\n张伟：再见。\n", "zh")
    assert [s.speaker for s in doc.segments] == ["主持人", "张伟", "主持人", "张伟"]
