"""Inputs as they come: subtitles and timestamped transcripts (with each sentence's start),
.docx / .html / .epub documents, and a clear refusal for every other binary format."""

from __future__ import annotations

import importlib.util
import json
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.core.errors import InputError
from toolkit.formats.reader import read_source, read_text
from toolkit.formats.transcript import detect_form, read_timed, seconds
from toolkit.formats.writers import read_jsonl, read_tmx
from toolkit.pipeline import load_document
from toolkit.text.segment import segment_document

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"
KARPATHY = SHARED / "gold" / "karpathy"
KARPATHY_EN = SHARED / "corpus" / "en" / "karpathy_sequoia_ai_ascent_2024.en.txt"

runner = CliRunner()


def _bench():
    """scripts/bench_transcript.py, whose cue writers the tests share."""
    spec = importlib.util.spec_from_file_location("bench_transcript", ROOT / "scripts" / "bench_transcript.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sentences(text: str, lang: str = "en") -> list[tuple]:
    """(start, text, speaker, kind) of each segment of a timed text."""
    timed = read_timed(text, lang)
    assert timed is not None, "not recognised as timed"
    document = segment_document(timed.text, lang, starts=timed.starts)
    return [(s.start, s.text, s.speaker, s.kind) for s in document.segments]


# --- times ----------------------------------------------------------------


@pytest.mark.parametrize("stamp, expected", [
    ("00:00:01,000", 1.0), ("01:02:03.5", 3723.5), ("1:02.25", 62.25), ("00:01:02", 62.0), ("12:34", 754.0),
])
def test_seconds(stamp, expected):
    assert seconds(stamp) == expected


SRT = """1
00:00:01,000 --> 00:00:03,500
<i>Where are you</i>
<b>going tonight?</b>

2
00:00:03,600 --> 00:00:06,000 X1:100 X2:200 Y1:10 Y2:20
I am going home. It is late

3
00:00:06,200 --> 00:00:08,000
{\\an8}and I am tired &amp; cold.
"""

VTT = """WEBVTT - a lecture
Kind: captions

NOTE a comment block: everything up to the empty line is skipped,
00:00:00.000 --> 00:00:01.000 even a line that looks like a timing

STYLE
::cue(.yellow) { color: yellow; }

intro
00:00:01.000 --> 00:00:04.000 line:0 position:20% align:start
<v Roger Bingham>We are in New York City,
<c.yellow>and we're</c> here with a guest.

00:04.500 --> 00:07.000
<v Roger Bingham>Thank you for
<lang en>coming</lang>.

00:00:07.500 --> 00:00:09.000
<v Neil Tyson>My pleasure.
"""


def test_srt_cue_text_rejoined_and_resplit_with_starts():
    assert sentences(SRT) == [
        (1.0, "Where are you going tonight?", None, "sentence"),
        (3.6, "I am going home.", None, "sentence"),
        (3.6, "It is late and I am tired & cold.", None, "sentence"),  # begins in cue 2, ends in cue 3
    ]


def test_webvtt_header_notes_styles_settings_and_voices():
    assert sentences(VTT) == [
        (1.0, "Roger Bingham: We are in New York City, and we're here with a guest.", "Roger Bingham", "sentence"),
        (4.5, "Thank you for coming.", None, "sentence"),
        (7.5, "Neil Tyson: My pleasure.", "Neil Tyson", "sentence"),
    ]


def test_no_cue_number_timing_or_markup_reaches_a_sentence():
    for text in (SRT, VTT):
        joined = " ".join(s[1] for s in sentences(text))
        for leftover in ("-->", "00:0", "<", ">", "{\\", "WEBVTT", "NOTE", "STYLE", "::cue", "intro", "Kind:"):
            assert leftover not in joined, leftover
        assert not any(s[1].strip().isdigit() for s in sentences(text))


def _rolling(lines: list[list[str]], start: float = 0.0, step: float = 0.5) -> str:
    """YouTube's automatic captions: each cue shows the previous line, then the new one with a
    timestamp per word; a 10 ms cue between shows the finished line again."""
    out, previous, t = ["WEBVTT\nKind: captions\nLanguage: en\n"], " ", start
    for words in lines:
        times = [t + j * step for j in range(len(words))]
        end = t + len(words) * step
        timed = words[0] + "".join(f"<{_stamp(times[j])}><c> {w}</c>" for j, w in enumerate(words) if j)
        out.append(f"{_stamp(t)} --> {_stamp(end - 0.01)} align:start position:0%\n{previous}\n{timed}\n")
        previous = " ".join(words)
        out.append(f"{_stamp(end - 0.01)} --> {_stamp(end)} align:start position:0%\n{previous}\n \n")
        t = end
    return "\n".join(out)


def _stamp(value: float) -> str:
    return _bench().stamp(value)


def test_youtube_rolling_captions_read_every_word_once():
    text = _rolling([["so", "welcome", "everyone."], ["Today", "we", "talk"], ["about", "subtitles.", "Okay?"]])
    assert read_timed(text, "en").text == "so welcome everyone. Today we talk about subtitles. Okay?"
    # the start of a sentence is the start of its first word (the inline timestamps)
    assert sentences(text) == [
        (0.0, "so welcome everyone.", None, "sentence"),
        (1.5, "Today we talk about subtitles.", None, "sentence"),
        (4.0, "Okay?", None, "sentence"),
    ]


def test_rolling_lines_that_grow_keep_only_what_they_add():
    text = ("WEBVTT\n\n00:01.000 --> 00:02.000\nwe were\n\n00:02.000 --> 00:03.000\nwe were saying\n\n"
            "00:03.000 --> 00:04.000\nwe were saying that.\nAnd then\n\n00:04.000 --> 00:05.000\nAnd then more.\n")
    assert read_timed(text, "en").text == "we were saying that. And then more."
    assert [s[0] for s in sentences(text)] == [1.0, 3.0]


def test_ordinary_captions_that_repeat_a_line_are_not_taken_as_rolling():
    text = "1\n00:00:01,000 --> 00:00:02,000\nNo.\n\n2\n00:00:02,000 --> 00:00:03,000\nNo.\n\n" \
           "3\n00:00:03,000 --> 00:00:04,000\nI said no.\n\n4\n00:00:04,000 --> 00:00:05,000\nFine.\n"
    assert [s[1] for s in sentences(text)] == ["No.", "No.", "I said no.", "Fine."]


@pytest.mark.parametrize("line1, line2", [
    ("[00:01:02] Hello there, this is", "[00:01:05] a transcript. It has stamps."),
    ("00:01:02 Hello there, this is", "00:01:05 a transcript. It has stamps."),
    ("(01:02) Hello there, this is", "(01:05) a transcript. It has stamps."),
    ("[1:02] Hello there, this is", "[1:05] a transcript. It has stamps."),
    ("[00:01:02.000 --> 00:01:05.000] Hello there, this is", "[00:01:05.000 --> 00:01:08.000] a transcript. It has stamps."),
    ("00:01:02 - Hello there, this is", "00:01:05 - a transcript. It has stamps."),
])
def test_timestamped_transcripts(line1, line2):
    assert sentences(f"{line1}\n{line2}\n") == [
        (62.0, "Hello there, this is a transcript.", None, "sentence"),
        (65.0, "It has stamps.", None, "sentence"),
    ]


def test_timestamped_line_continues_on_the_next_line():
    assert sentences("[00:00:01] First part of it\ncontinues here.\n[00:00:09] Second.\n") == [
        (1.0, "First part of it continues here.", None, "sentence"), (9.0, "Second.", None, "sentence")]


def test_speaker_and_time_header_lines_start_turns():
    text = ("Speaker 1  0:00\nHello everyone, welcome to the show.\nIt is good to be here.\n\n"
            "Jane Doe (01:02):\nThanks. I am glad\nto be here.\n\nSpeaker 1  1:10\nGreat.\n")
    assert sentences(text) == [
        (0.0, "Speaker 1: Hello everyone, welcome to the show.", "Speaker 1", "sentence"),
        (0.0, "It is good to be here.", None, "sentence"),
        (62.0, "Jane Doe: Thanks.", "Jane Doe", "sentence"),
        (62.0, "I am glad to be here.", None, "sentence"),
        (70.0, "Speaker 1: Great.", "Speaker 1", "sentence"),
    ]


@pytest.mark.parametrize("text", [
    "10:30 the meeting starts.\n11:15 coffee.\n12:00 lunch.\n",  # clock times in prose, not stamps
    "Chapter one.\n[00:01:02] a stamp in the middle\nis not a transcript.\nMore text.\nAnd more.\nEven more.\n",
    "1. Introduction\n2. Methods\n",
])
def test_plain_text_is_not_taken_as_timed(text):
    assert detect_form(text) is None


@pytest.mark.parametrize("marker", [">> ", "&gt;&gt; ", "- "])
def test_speaker_change_markers_start_a_turn_and_are_dropped(marker):
    text = (f"1\n00:00:01,000 --> 00:00:03,000\n{marker}How are you doing\n\n"
            f"2\n00:00:03,000 --> 00:00:05,000\ntoday?\n{marker}Very well, thanks\n\n"
            "3\n00:00:05,000 --> 00:00:06,000\nfor asking\n")
    timed = read_timed(text, "en")
    assert timed.text == "How are you doing today?\n\nVery well, thanks for asking"
    assert [s[:2] for s in sentences(text)] == [(1.0, "How are you doing today?"), (3.0, "Very well, thanks for asking")]


def test_caption_speaker_labels_are_recognised_by_the_segmenter():
    text = ("WEBVTT\n\n00:01.000 --> 00:03.000\nSPEAKER 1: So what did you\nfind out?\n\n"
            "00:03.000 --> 00:05.000\nSPEAKER 2: Nothing yet. We keep\nlooking.\n\n"
            "00:05.000 --> 00:06.000\nSPEAKER 1: Fine.\n")
    assert sentences(text) == [
        (1.0, "SPEAKER 1: So what did you find out?", "SPEAKER 1", "sentence"),
        (3.0, "SPEAKER 2: Nothing yet.", "SPEAKER 2", "sentence"),
        (3.0, "We keep looking.", None, "sentence"),
        (5.0, "SPEAKER 1: Fine.", "SPEAKER 1", "sentence"),
    ]


def test_sound_cues_become_notes():
    text = "WEBVTT\n\n00:00.000 --> 00:02.000\n[Music]\n\n00:02.000 --> 00:04.000\nHello and\n\n" \
           "00:04.000 --> 00:05.000\n(applause)\n\n00:05.000 --> 00:07.000\nwelcome.\n"
    assert sentences(text) == [(0.0, "[Music]", None, "note"), (2.0, "Hello and", None, "sentence"),
                               (4.0, "(applause)", None, "note"), (5.0, "welcome.", None, "sentence")]


def test_chinese_subtitles_join_after_punctuation_without_a_space():
    text = "1\n00:00:01,000 --> 00:00:02,000\n我们今天来谈谈，\n\n2\n00:00:02,000 --> 00:00:03,000\n字幕的问题。然后\n\n" \
           "3\n00:00:03,000 --> 00:00:04,000\n再说别的\n"
    assert sentences(text, "zh") == [(1.0, "我们今天来谈谈，字幕的问题。", None, "sentence"),
                                     (2.0, "然后 再说别的", None, "sentence")]


def test_presegmented_captions_give_one_segment_per_cue(tmp_path):
    path = tmp_path / "captions.srt"
    path.write_text(SRT, encoding="utf-8")
    document = load_document(path, "en", presegmented=True)
    assert document.texts() == ["Where are you going tonight?", "I am going home. It is late", "and I am tired & cold."]
    assert [s.start for s in document.segments] == [1.0, 3.6, 6.2]


def test_unpunctuated_captions_are_cut_at_cues_not_joined_into_one_sentence():
    words = ("so today we are going to talk about how these models are trained and why the data "
             "matters more than anything else you know because if the data is bad then").split()
    lines = [words[i:i + 6] for i in range(0, len(words), 6)] * 3  # 90 words, not one sentence end
    found = sentences(_rolling(lines))
    assert [s[1] for s in found] == [" ".join(line) for line in lines]  # each cue a segment
    cue_starts = [0.5 * sum(len(line) for line in lines[:i]) for i in range(len(lines))]  # 0.5 s a word
    assert [s[0] for s in found] == cue_starts
    # punctuated captions of the same length stay joined into sentences
    punctuated = sentences(_rolling([["This", "is", "one."], ["And", "another", "one."]] * 12))
    assert [s[1] for s in punctuated][:2] == ["This is one.", "And another one."]


# --- files ----------------------------------------------------------------


def test_subtitles_are_recognised_by_content_whatever_the_suffix(tmp_path):
    path = tmp_path / "transcript.txt"
    path.write_text(SRT, encoding="utf-8")
    source = read_source(path, "en")
    assert source.form == "srt" and source.starts[0] == (0, 1.0)
    assert read_text(path, "en").startswith("Where are you going tonight?")
    vtt = tmp_path / "captions.vtt"
    vtt.write_bytes(("\ufeff" + VTT).encode("utf-16"))  # any encoding the reader knows
    assert read_source(vtt, "en").form == "webvtt"


def test_subtitles_without_text_are_refused(tmp_path):
    path = tmp_path / "empty.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:02,000\n\n2\n00:00:02,000 --> 00:00:03,000\n<i></i>\n", encoding="utf-8")
    with pytest.raises(InputError, match="subtitle file .* no text"):
        read_source(path, "en")


def _docx(path: Path, body: str) -> Path:
    """A minimal .docx as Word writes one: the parts a reader needs, WordprocessingML namespaces."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>'))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>'))
        archive.writestr("word/document.xml", (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{w}" '
            'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
            f'<w:body>{body}<w:sectPr/></w:body></w:document>'))
    return path


def _p(*runs: str) -> str:
    return "<w:p><w:pPr><w:pStyle w:val=\"Normal\"/></w:pPr>" + "".join(runs) + "</w:p>"


def _r(text: str) -> str:
    return f'<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>'


def test_docx_paragraphs_in_order(tmp_path):
    body = (_p(_r("标题")) + _p(_r("第一段的"), _r("第一句。第二句。")) +
            _p(_r("删掉的"), '<w:del><w:r><w:delText>不要这个</w:delText></w:r></w:del>', _r("留下。")) +
            '<w:tbl><w:tr><w:tc>' + _p(_r("表格里的一句。")) + '</w:tc></w:tr></w:tbl>' +
            _p(_r("一行"), "<w:r><w:br/></w:r>", _r("下一行。")) +
            _p('<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>', _r("页。")))
    path = _docx(tmp_path / "文章.docx", body)
    source = read_source(path, "zh")
    assert source.form == "docx"
    assert source.text == "标题\n\n第一段的第一句。第二句。\n\n删掉的留下。\n\n表格里的一句。\n\n一行\n下一行。\n\n页。\n"
    document = load_document(path, "zh")
    assert document.texts() == ["标题", "第一段的第一句。", "第二句。", "删掉的留下。", "表格里的一句。", "一行", "下一行。", "页。"]
    assert document.segments[0].kind == "heading"


def test_docx_given_as_english_side_too(tmp_path):
    path = _docx(tmp_path / "original.docx", _p(_r("The first paragraph. It has two sentences.")) +
                 _p(_r("A second paragraph.")))
    assert load_document(path, "en").texts() == ["The first paragraph.", "It has two sentences.", "A second paragraph."]


def _epub(path: Path, pages: dict[str, str], spine: list[str], nonlinear: tuple[str, ...] = ()) -> Path:
    """A small EPUB 3: mimetype first and stored, container, OPF (manifest in another order than the spine)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        archive.writestr("META-INF/container.xml", (
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            '</rootfiles></container>'))
        items = "".join(f'<item id="{name}" href="text/{name}.xhtml" media-type="application/xhtml+xml"/>'
                        for name in sorted(pages))
        linear = ' linear="no"'
        refs = "".join(f'<itemref idref="{name}"{linear if name in nonlinear else ""}/>' for name in spine)
        archive.writestr("OEBPS/content.opf", (
            '<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
            'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">x'
            f'</dc:identifier><dc:title>T</dc:title><dc:language>en</dc:language></metadata><manifest>{items}'
            f'</manifest><spine>{refs}</spine></package>'))
        for name, body in pages.items():
            archive.writestr(f"OEBPS/text/{name}.xhtml", (
                '<?xml version="1.0" encoding="utf-8"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml">'
                f'<head><title>{name}</title><style>p {{ margin: 0 }}</style></head><body>{body}</body></html>'))
    return path


def test_epub_pages_in_spine_order(tmp_path):
    path = _epub(tmp_path / "book.epub", {
        "a_cover": "<p>Cover page.</p>",
        "b_two": "<h2>Chapter Two</h2><p>The second chapter begins.</p>",
        "c_one": "<h1>Chapter One</h1><p>It was a dark night.\nThe wind blew.</p><p>Then it&#8217;s morning.</p>",
    }, spine=["a_cover", "c_one", "b_two"], nonlinear=("a_cover",))
    source = read_source(path, "en")
    assert source.form == "epub"
    assert source.text == ("Chapter One\n\nIt was a dark night. The wind blew.\n\nThen it\u2019s morning.\n\n"
                           "Chapter Two\n\nThe second chapter begins.\n")


def test_html_page_text_blocks_kept_scripts_dropped(tmp_path):
    page = ("<!DOCTYPE html><html><head><title>Site</title><script>var x = '<p>no</p>';</script></head><body>"
            "<nav><a href='/'>Home</a></nav><h1>访谈</h1><p>他们深入探讨了\n人工智能的未来。</p>"
            "<ul><li>第一点。</li><li>第二点&amp;第三点。</li></ul><style>p{}</style><p>最后一段<br>换行。</p></body></html>")
    path = tmp_path / "page.htm"
    path.write_text(page, encoding="utf-8")
    source = read_source(path, "zh")
    assert source.form == "html"
    assert source.text == "访谈\n\n他们深入探讨了人工智能的未来。\n\n第一点。\n\n第二点&第三点。\n\n最后一段\n\n换行。\n"
    recognised = tmp_path / "saved-page.txt"  # recognised by content too
    recognised.write_text(page, encoding="utf-8")
    assert read_source(recognised, "zh").form == "html"


def _zip(path: Path, members: dict[str, str]) -> bytes:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path.read_bytes()


@pytest.mark.parametrize("name, make, what, todo", [
    ("paper.pdf", lambda p: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "a PDF document", "convert it to text first"),
    ("scan.png", lambda p: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image", "OCR"),
    ("photo.jpg", lambda p: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "a JPEG image", "OCR"),
    ("old.doc", lambda p: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, "an old Microsoft Office file", "save it as .docx"),
    ("talk.mp3", lambda p: b"ID3\x04\x00\x00\x00\x00\x00\x00", "an MP3 recording", "subtitles"),
    ("talk.mp4", lambda p: b"\x00\x00\x00\x18ftypmp42\x00\x00", "an MP4", "subtitles"),
    ("data.xlsx", lambda p: _zip(p, {"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"}),
     "an Excel workbook", "export the column"),
    ("slides.pptx", lambda p: _zip(p, {"ppt/presentation.xml": "<p/>"}), "a PowerPoint presentation", "save it as .docx"),
    ("text.odt", lambda p: _zip(p, {"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"}),
     "an OpenDocument file", "save it as .docx"),
    ("bundle.zip", lambda p: _zip(p, {"a.txt": "hello"}), "a ZIP archive", "extract the text file"),
    ("text.txt.gz", lambda p: b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "a gzip archive", "extract the text file"),
])
def test_other_binary_formats_are_named(tmp_path, name, make, what, todo):
    path = tmp_path / name
    data = make(path)
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        read_text(path, "en")
    assert caught.value.message == f"{path} is {what}" + caught.value.message.split(what, 1)[1]
    assert what in caught.value.message and todo in caught.value.hint
    assert "UTF-16" not in str(caught.value)


def test_damaged_docx_is_reported_as_such(tmp_path):
    path = tmp_path / "broken.docx"
    path.write_bytes(_docx(tmp_path / "whole.docx", _p(_r("Text."))).read_bytes()[:200])
    with pytest.raises(InputError, match="cannot be opened"):
        read_text(path, "en")


def test_cli_names_a_docx_with_no_text_and_a_pdf(tmp_path):
    empty = _docx(tmp_path / "empty.docx", _p(_r("  ")))
    result = runner.invoke(app, ["align", str(EXAMPLES / "interview.zh.txt"), str(empty), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "no text (read as docx)" in result.output and "UTF-16" not in result.output
    pdf = tmp_path / "original.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + bytes(range(256)))
    result = runner.invoke(app, ["align", str(EXAMPLES / "interview.zh.txt"), str(pdf), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1 and "is a PDF document" in result.output and "pdftotext" in result.output
    assert not (tmp_path / "o").exists()


# --- end to end -------------------------------------------------------------


def _example_vtt() -> tuple[str, list[float]]:
    """examples/interview.en.txt as WebVTT: every line cut into two cues (mid-sentence), fake times;
    and the start time of each of its words."""
    out, word_times, t = ["WEBVTT\n"], [], 0.0
    for line in (EXAMPLES / "interview.en.txt").read_text(encoding="utf-8").splitlines():
        words = line.split()
        half = max(1, len(words) // 2)
        for part in (words[:half], words[half:]):
            if part:
                out.append(f"{_stamp(t)} --> {_stamp(t + 1.5)} align:start\n{' '.join(part)}\n")
                word_times += [round(t, 3)] * len(part)
                t += 1.75
    return "\n".join(out), word_times


def test_align_with_english_subtitles_writes_en_start(tmp_path, monkeypatch):
    text, word_times = _example_vtt()
    vtt = tmp_path / "interview.en.vtt"
    vtt.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    args = ["align", str(EXAMPLES / "interview.zh.txt"), str(vtt), "-o", str(out), "--name", "interview", "--quiet"]
    monkeypatch.setattr(sys, "argv", ["bitext", *args])
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    # the same sentences as from the text transcript
    plain = load_document(EXAMPLES / "interview.en.txt", "en")
    timed = load_document(vtt, "en")
    assert timed.texts() == plain.texts()
    assert [s.speaker for s in timed.segments] == [s.speaker for s in plain.segments]
    assert (out / "interview.en.txt").read_text(encoding="utf-8").splitlines() == plain.texts()
    # each sentence starts at the cue where its first word is
    line_starts, word = [], 0
    for segment in timed.segments:
        line_starts.append(word_times[word])
        word += len(segment.text.split())
    assert [s.start for s in timed.segments] == line_starts
    assert len(set(line_starts)) > 5
    records = read_jsonl(out / "interview.jsonl")
    for record in records:
        assert record["en_starts"] == [line_starts[i] for i in record["en_ids"]]
        assert record["en_start"] == (line_starts[record["en_ids"][0]] if record["en_ids"] else None)
    units = read_tmx(out / "interview.tmx")
    # the memory holds the two-sided beads (one-sided units are left out by default)
    assert [float(props["x-en-start"]) if "x-en-start" in props else None for _, _, props in units] == \
        [r["en_start"] for r in records if r["zh_ids"] and r["en_ids"]]
    # a review keeps the times (the JSONL is rebuilt from the review's state)
    monkeypatch.setattr(sys, "argv", ["bitext", "review", str(out), "--merge", "2"])
    result = runner.invoke(app, ["review", str(out), "--merge", "2"])
    assert result.exit_code == 0, result.output
    merged = read_jsonl(out / "interview.jsonl")
    assert len(merged) == len(records) - 1
    assert [t for r in merged for t in r["en_starts"]] == [t for r in records for t in r["en_starts"]]


def test_text_input_writes_no_times(tmp_path, monkeypatch):
    out = tmp_path / "out"
    args = ["align", str(EXAMPLES / "interview.zh.txt"), str(EXAMPLES / "interview.en.txt"), "-o", str(out), "-q"]
    monkeypatch.setattr(sys, "argv", ["bitext", *args])
    assert runner.invoke(app, args).exit_code == 0
    line = (out / "interview.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert "en_start" not in json.loads(line)
    assert "x-en-start" not in (out / "interview.tmx").read_text(encoding="utf-8")


# --- the seed 004 transcript as subtitles (../shared) --------------------------------


@pytest.mark.skipif(not KARPATHY_EN.is_file(), reason=f"no shared transcript at {KARPATHY_EN}")
def test_seed_004_transcript_as_subtitles_gives_the_same_sentences(tmp_path):
    """One cue per Whisper segment (the transcript's lines), fake times: the segments are exactly
    those of the text transcript, so the alignment is the same; each starts at its cue's time."""
    bench = _bench()
    lines = [line for line in KARPATHY_EN.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    cues = [(round(i * 2.5, 3), line.split()) for i, line in enumerate(lines)]
    plain = load_document(KARPATHY_EN, "en", comment_prefix="#")
    for route in ("vtt", "srt", "youtube", "stamped"):
        write, suffix = bench.WRITERS[route]
        path = tmp_path / f"karpathy{suffix}"
        path.write_text(write(cues), encoding="utf-8")
        timed = load_document(path, "en")
        assert timed.texts() == plain.texts(), route
        assert [s.kind for s in timed.segments] == [s.kind for s in plain.segments], route
        word_times = bench.expected_starts(cues, route)
        word = 0
        for segment in timed.segments:
            assert segment.start == word_times[word], (route, segment.text)
            word += len(segment.text.split())


@pytest.mark.skipif(not (KARPATHY / "gold.align").is_file(), reason=f"no gold data at {KARPATHY}")
def test_gold_sentences_cut_into_captions_segment_as_the_text_does(tmp_path):
    """The gold English cut into 4-10 word cues across sentence ends (as scripts/bench_transcript.py
    does to measure F1): the subtitle routes give the text route's sentences."""
    bench = _bench()
    gold_en = (KARPATHY / "en.txt").read_text(encoding="utf-8").splitlines()
    cues = bench.caption_cues(gold_en)
    texts = {}
    for route in (r for r in bench.ROUTES if r != "youtube-bare"):  # that one has no sentence ends
        write, suffix = bench.WRITERS[route]
        path = tmp_path / f"{route}{suffix}"
        path.write_text(write(cues), encoding="utf-8")
        texts[route] = load_document(path, "en").texts()
    assert all(t == texts["text"] for t in texts.values())
    assert len(texts["text"]) >= len(gold_en) - 2
