"""Lexical evidence: stems, CC-CEDICT glosses, pinyin names, concept vectors."""

import numpy as np
import pytest

from toolkit.align.lexicon import (
    chinese_concepts,
    concept_vectors,
    english_concepts,
    load_cedict,
    load_pinyin,
    pinyin_names,
    stem,
)


@pytest.mark.parametrize(
    "word, expected",
    [("friends", "friend"), ("studies", "study"), ("asked", "ask"), ("running", "runn"), ("is", "is"), ("Chen's", "chen")],
)
def test_stem(word, expected):
    assert stem(word) == expected


def test_english_concepts_drop_function_words_and_keep_numbers():
    concepts = english_concepts("The friends of Chen Qingyang met in 2024.")
    assert "the" not in concepts and "of" not in concepts
    assert {"friend", "chen", "qingyang", "2024"} <= set(concepts)


def test_cedict_glosses_and_pinyin():
    cedict = load_cedict()
    assert len(cedict) > 100_000
    assert "friend" in cedict["朋友"]
    readings = load_pinyin()
    # 陈 is read 'chen'; 王 has both a surname and a common reading, both 'wang'.
    assert readings["陈"] == "chen" and readings["王"] == "wang"


def test_chinese_concepts_reach_english_words():
    concepts = {c for c, _ in chinese_concepts("我的朋友在2024年研究GPT", load_cedict())}
    assert {"friend", "research", "2024", "gpt"} <= concepts


def test_pinyin_names_only_where_english_has_them():
    readings = load_pinyin()
    assert pinyin_names("陈清扬把我拽住", readings, {"chen", "qingyang"}) == ["chen", "qingyang"]
    assert pinyin_names("陈清扬把我拽住", readings, set()) == []


def test_concept_vectors_prefer_the_translation():
    zh = ["我的朋友陈清扬在研究音乐。", "天气很冷，下雪了。"]
    en = ["My friend Chen Qingyang studies music.", "It was cold and snowing."]
    zv, ev = concept_vectors(zh, en)
    assert zv.shape == (2, 1024) and ev.shape == (2, 1024)
    zv /= np.linalg.norm(zv, axis=1, keepdims=True)
    ev /= np.linalg.norm(ev, axis=1, keepdims=True)
    sims = zv @ ev.T
    assert sims[0, 0] > sims[0, 1] and sims[1, 1] > sims[1, 0]
