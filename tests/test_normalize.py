"""Script conversion, script detection and the matching-only normal form."""

from __future__ import annotations

import pytest

from toolkit.text.normalize import (
    _converter,
    detect_script,
    normalize_for_matching,
    to_simplified,
    to_traditional,
)


@pytest.mark.parametrize(
    "traditional, simplified",
    [
        ("智東西編譯", "智东西编译"),
        ("隨着規模的擴大,深度學習會變得更好", "随着规模的扩大,深度学习会变得更好"),
        ("OpenAI聯合創始人", "OpenAI联合创始人"),
        ("GPT-4 和 1.0 版本", "GPT-4 和 1.0 版本"),  # nothing to convert
    ],
)
def test_to_simplified(traditional, simplified):
    assert to_simplified(traditional) == simplified


@pytest.mark.parametrize(
    "simplified, traditional",
    [
        ("智东西编译", "智東西編譯"),
        ("软件开发", "軟件開發"),  # s2t keeps vocabulary (s2twp would give 軟體)
        ("头发", "頭髮"),  # one-to-many: 发 → 髮, chosen from the phrase
        ("发展", "發展"),
    ],
)
def test_to_traditional(simplified, traditional):
    assert to_traditional(simplified) == traditional


def test_converters_are_built_once():
    to_simplified("測試")
    to_simplified("測試")
    info = _converter.cache_info()
    assert info.hits >= 1
    assert info.currsize <= 2


@pytest.mark.parametrize(
    "text, script",
    [
        ("在红杉资本2024年的AI Ascent上,他们深入探讨了AI的未来发展方向。", "simplified"),
        ("訪談從Sam Altman的博客文章切入,談到了OpenAI初創團隊的建立。", "traditional"),
        ("我们的人工智能", "simplified"),
        ("我們的人工智慧", "traditional"),
        ("中文人口", "simplified"),  # same in both scripts: default
        ("English only", "simplified"),
        ("", "simplified"),
    ],
)
def test_detect_script(text, script):
    assert detect_script(text) == script


@pytest.mark.parametrize(
    "text, norm",
    [
        ("智東西編譯", "智东西编译"),  # traditional → simplified
        ("ＧＰＴ－４和１２３", "GPT-4和123"),  # full-width ASCII/digits folded
        ("你好，世界！", "你好,世界!"),  # full-width punctuation folded
        ("  为 GPU 而设计  ", "为GPU而设计"),  # spaces next to Han removed
        ("Large\u3000Language\t\tModel", "Large Language Model"),  # other whitespace folded
        ("他说:“好。”", "他说:“好。”"),  # CJK quotes and 。 kept
    ],
)
def test_normalize_for_matching_zh(text, norm):
    assert normalize_for_matching(text, "zh") == norm


@pytest.mark.parametrize(
    "text, norm",
    [
        ("\u201cHello,\u201d she said \u2014 it\u2019s fine.", '"Hello," she said - it\'s fine.'),
        ("pages 10\u201312", "pages 10-12"),
        ("  too   many\n spaces ", "too many spaces"),
        ("\ufb01ne \u2026 \uff21", "fine ... A"),  # NFKC: ligature, ellipsis, full-width
        ("Keep Case", "Keep Case"),
    ],
)
def test_normalize_for_matching_en(text, norm):
    assert normalize_for_matching(text, "en") == norm


def test_normalize_rejects_unknown_language():
    with pytest.raises(ValueError, match="unknown language"):
        normalize_for_matching("x", "de")
