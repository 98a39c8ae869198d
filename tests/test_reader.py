"""read_text / detect_encoding: encodings round-trip, every bad input is refused."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from toolkit.core.errors import InputError
from toolkit.formats.reader import detect_encoding, read_text

SHARED = Path(__file__).resolve().parents[2] / "shared"
KARPATHY = SHARED / "corpus" / "en" / "karpathy_sequoia_ai_ascent_2024.en.txt"
SEED_TRADITIONAL = SHARED / "corpus" / "seeds" / "000_9336bfe103d01715.txt"

SIMPLIFIED = "在红杉资本的活动上，他们深入探讨了人工智能的未来发展方向。\n这是第二段，讨论初创企业生态系统。\n"
TRADITIONAL = "訪談從博客文章切入，談到了初創團隊的建立與發展。\n這是第二段，關於團隊變動的經歷。\n"
ENGLISH = "I'm thrilled to introduce our next and final speaker.\nHe designed the first deep learning class.\n"


def _write(tmp_path: Path, data: bytes, name: str = "doc.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "text, lang, encoding, expected_encoding",
    [
        (SIMPLIFIED, "zh", "utf-8", "utf-8"),
        (SIMPLIFIED, "zh", "utf-8-sig", "utf-8-sig"),
        (SIMPLIFIED, "zh", "utf-16", "utf-16"),
        (SIMPLIFIED, "zh", "utf-16-be", None),  # BOM written by hand below
        (SIMPLIFIED, "zh", "gb18030", "gb18030"),
        (SIMPLIFIED, "zh", "gbk", "gb18030"),
        (TRADITIONAL, "zh", "big5", "big5"),
        (TRADITIONAL, "zh", "gb18030", "gb18030"),
        (TRADITIONAL, "zh", "utf-16", "utf-16"),
        (ENGLISH, "en", "utf-8", "utf-8"),
        (ENGLISH, "en", "utf-16", "utf-16"),
    ],
)
def test_encodings_round_trip(tmp_path, text, lang, encoding, expected_encoding):
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
        expected_encoding = "utf-16"
    path = _write(tmp_path, data)
    assert detect_encoding(data) == expected_encoding
    assert read_text(path, lang) == text


@pytest.mark.parametrize(
    "raw, expected",
    [
        (b"line one\r\nline two\r\n", "line one\nline two\n"),
        (b"line one\rline two\r", "line one\nline two\n"),
        ("line one\u2028line two".encode(), "line one\nline two"),
    ],
)
def test_newlines_are_normalized(tmp_path, raw, expected):
    assert read_text(_write(tmp_path, raw), "en") == expected


def test_comment_header_is_dropped(tmp_path):
    path = _write(tmp_path, b"# SOURCE: somewhere\n# another header line\n\nFirst line.\n# not a header\n")
    assert read_text(path, "en", comment_prefix="#") == "First line.\n# not a header\n"
    assert read_text(path, "en").startswith("# SOURCE")


@pytest.mark.parametrize(
    "data, lang, message_part",
    [
        (b"", "en", "is empty"),
        (b"   \n\t\n  \n", "en", "only whitespace"),
        ("\u3000\n \n".encode(), "zh", "only whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "en", "is a PNG image, not a text file"),
        (b"\x13\x37\x00\x00\x00\x01unknown format", "en", "binary"),
        (bytes(range(1, 32)) * 20 + b"some text", "en", "binary"),
        (ENGLISH.encode(), "zh", "looks like English, not Chinese; check the order of the arguments"),
        (SIMPLIFIED.encode(), "en", "looks like Chinese, not English"),
        (TRADITIONAL.encode("big5"), "en", "looks like Chinese, not English"),
        (b"12345 67890\n", "zh", "no Chinese"),
        (b"# only a header\n# and more\n", "en", "header lines"),
    ],
)
def test_bad_input_is_refused(tmp_path, data, lang, message_part):
    path = _write(tmp_path, data, "bad input.txt")
    with pytest.raises(InputError) as caught:
        read_text(path, lang, comment_prefix="#" if b"header" in data else None)
    assert message_part in caught.value.message
    assert str(path) in caught.value.message  # the message names the file
    assert caught.value.hint  # and says what to do


def test_missing_file_is_refused(tmp_path):
    path = tmp_path / "nope.txt"
    with pytest.raises(InputError, match="does not exist") as caught:
        read_text(path, "zh")
    assert str(path) in caught.value.message
    assert "path" in caught.value.hint


def test_directory_is_refused(tmp_path):
    with pytest.raises(InputError, match="is a directory") as caught:
        read_text(tmp_path, "zh")
    assert caught.value.hint


def test_unknown_language_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError, match="unknown language"):
        read_text(_write(tmp_path, ENGLISH.encode()), "fr")


def test_english_in_latin1_is_not_mistaken_for_chinese(tmp_path):
    text = "Caf\u00e9 owners met na\u00efve investors. They talked about r\u00e9sum\u00e9s.\n" * 3
    path = _write(tmp_path, text.encode("cp1252"))
    assert read_text(path, "en") == text


def test_chinese_with_many_english_terms_is_accepted(tmp_path):
    text = "Andrej Karpathy:OpenAI基本上是在试图建立LLM OS,为开发人员提供免费、快速的 LLM API。\n"
    assert read_text(_write(tmp_path, text.encode()), "zh") == text


@pytest.mark.skipif(not KARPATHY.exists(), reason="../shared corpus not available")
def test_karpathy_transcript_header_is_dropped():
    text = read_text(KARPATHY, "en", comment_prefix="#")
    assert text.startswith("[MUSIC PLAYING]\n")
    assert "# SOURCE" not in text
    with pytest.raises(InputError, match="looks like English"):
        read_text(KARPATHY, "zh", comment_prefix="#")


@pytest.mark.skipif(not SEED_TRADITIONAL.exists(), reason="../shared corpus not available")
def test_traditional_seed_survives_big5_round_trip(tmp_path):
    text = read_text(SEED_TRADITIONAL, "zh")
    # Keep only lines Big5 can encode (the seed has a few GBK-only symbols).
    lines = []
    for line in text.split("\n"):
        try:
            line.encode("big5")
            lines.append(line)
        except UnicodeEncodeError:
            pass
    big5_text = "\n".join(lines)
    assert len(big5_text) > 1000
    path = _write(tmp_path, big5_text.encode("big5"))
    assert read_text(path, "zh") == big5_text
