"""toolkit.score.metrics: sacrebleu scores checked against hand-computed values, and alignment scoring."""

from __future__ import annotations

import json
import math

import pytest

from toolkit.core.errors import InputError, ToolkitError
from toolkit.formats.writers import read_jsonl, write_records
from toolkit.score.metrics import (LOWEST_PAIRS, CorpusScores, PairScore, corpus_scores, find_jsonl, format_report,
                           needs_translation, read_segments, report_path, score_alignment, sentence_scores,
                           write_report)

# ---------------------------------------------------------------------------
# sentence and corpus scores


def test_identical_scores_100():
    [pair] = sentence_scores(["The cat sat on the mat."], ["The cat sat on the mat."])
    assert pair == PairScore(bleu=pytest.approx(100.0), chrf=pytest.approx(100.0))
    corpus = corpus_scores(["a b c d", "e f g h"], ["a b c d", "e f g h"])
    assert (corpus.bleu, corpus.chrf, corpus.ter, corpus.segments) == (pytest.approx(100), pytest.approx(100), 0, 2)


def test_disjoint_scores_0():
    [pair] = sentence_scores(["xyz"], ["abc"])
    assert (pair.bleu, pair.chrf) == (0.0, 0.0)


# Each case: hyp, ref, target language, BLEU worked out by hand from n-gram counts.
HAND_BLEU = [
    # hyp 6 tokens, ref 6 (BP 1). Clipped matches: 1-grams the×2 cat on mat 5/6; 2-grams
    # "the cat" "on the" "the mat" 3/5; 3-grams "on the mat" 1/4; 4-grams 0/3, which exp
    # smoothing turns into 1/(2·3). BLEU = (5/6 · 3/5 · 1/4 · 1/6)^(1/4) = (1/48)^(1/4).
    ("the cat sat on the mat", "the cat is on the mat", "en", 100 * (1 / 48) ** 0.25),  # 37.99
    # hyp 2 tokens: only orders 1 and 2 exist (effective order 2), both precisions 1.
    # BP = exp(1 - 6/2). BLEU = 100 · e^-2.
    ("the cat", "the cat sat on the mat", "en", 100 * math.exp(-2)),  # 13.53
    # tok:zh splits Han characters: hyp 7 chars, ref 4 (BP 1). Matches 4/7, 3/6, 2/5, 1/4.
    # BLEU = (4/7 · 3/6 · 2/5 · 1/4)^(1/4) = (1/35)^(1/4).
    ("我爱北京天安门", "我爱北京", "zh", 100 * (1 / 35) ** 0.25),  # 41.11
    # the same text under tok:13a is one token each, no match at all.
    ("我爱北京天安门", "我爱北京", "en", 0.0),
]


@pytest.mark.parametrize("hyp, ref, lang, expected", HAND_BLEU)
def test_sentence_bleu_by_hand(hyp, ref, lang, expected):
    [pair] = sentence_scores([hyp], [ref], target_lang=lang)
    assert pair.bleu == pytest.approx(expected, abs=0.01)


def test_corpus_bleu_zh_tokenizer_by_hand():
    corpus = corpus_scores(["我爱北京天安门"], ["我爱北京"], target_lang="zh")
    assert corpus.bleu == pytest.approx(100 * (1 / 35) ** 0.25, abs=0.01)


def test_sentence_chrf_by_hand():
    # chrF2, whitespace ignored. hyp "ab", ref "abc". Orders present on both sides: 1 (a b vs
    # a b c: P 2/2, R 2/3) and 2 (ab vs ab bc: P 1/1, R 1/2). Mean P = 1, mean R = 7/12.
    # F2 = 5·P·R / (4·P + R) = (35/12) / (55/12) = 7/11.
    [pair] = sentence_scores(["a b"], ["a bc"])
    assert pair.chrf == pytest.approx(100 * 7 / 11, abs=0.01)


def test_corpus_signatures():
    en = corpus_scores(["the cat sat"], ["the cat sat down"])
    assert isinstance(en, CorpusScores)
    for signature in (en.bleu_signature, en.chrf_signature, en.ter_signature):
        assert "nrefs:1" in signature and "version:2." in signature
    assert "tok:13a" in en.bleu_signature and "eff:no" in en.bleu_signature
    assert "nc:6" in en.chrf_signature and "tok:tercom" in en.ter_signature
    zh = corpus_scores(["我爱北京天安门"], ["我爱北京"], target_lang="zh")
    assert "tok:zh" in zh.bleu_signature
    assert "asian:yes" in zh.ter_signature
    # hyp 7 characters against ref 4: three deletions over four reference words.
    assert zh.ter == pytest.approx(75.0)
    text = en.format()
    assert [line.split()[0] for line in text.splitlines()] == ["BLEU", "chrF", "TER"]
    assert en.bleu_signature in text


@pytest.mark.parametrize("call", [sentence_scores, corpus_scores])
def test_bad_arguments(call):
    with pytest.raises(ToolkitError, match="2 translations but 1 references"):
        call(["a", "b"], ["a"])
    with pytest.raises(ToolkitError, match="unknown target language"):
        call(["a"], ["a"], target_lang="de")


def test_empty_inputs():
    assert sentence_scores([], []) == []
    with pytest.raises(ToolkitError, match="no segments"):
        corpus_scores([], [])


def test_read_segments(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("\ufeffone\r\n\ntwo\u2028half\nthree".encode("utf-8"))
    # Only \n separates segments (as in sacrebleu); an empty line is an empty segment.
    assert read_segments(path) == ["one", "", "two\u2028half", "three"]
    path.write_text("x\n", encoding="utf-8")
    assert read_segments(path) == ["x"]
    path.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="is empty"):
        read_segments(path)
    with pytest.raises(InputError, match="does not exist"):
        read_segments(tmp_path / "missing.txt")
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ToolkitError, match="not UTF-8"):
        read_segments(path)


# ---------------------------------------------------------------------------
# alignments


def record(id_, zh_ids, en_ids, zh, en, origin="aligned", mt=None):
    return {
        "id": id_, "zh_ids": zh_ids, "en_ids": en_ids, "zh": zh, "en": en, "score": 0.5,
        "type": f"{len(zh_ids)}-{len(en_ids)}", "origin": origin, "speaker": None, "kind": "sentence", "mt": mt,
    }


RECORDS = [
    record(1, [0], [0], "猫坐在垫子上。", "The cat sat on the mat."),
    record(2, [1], [], "编者按。", ""),  # omission: not scored
    record(3, [2], [1, 2], "狗在叫。", "The dog barks. It is loud."),
    record(4, [], [3], "", "[APPLAUSE]"),  # omission: not scored
    record(5, [3], [], "机器翻译的句子。", "", origin="mt", mt="A machine-translated sentence."),
    record(6, [4], [4], "他走了。", "He left.", origin="human"),
    record(7, [5], [5], "没有译文。", "No translation."),  # the MT below has none for it
]
MT = {
    "猫坐在垫子上。": "The cat sat on the mat.",  # perfect
    "狗在叫。": "A dog is barking.",  # poor
    "他走了。": "He has left.",  # middling
    "机器翻译的句子。": "must not be used",
}


def test_needs_translation():
    assert [needs_translation(r) for r in RECORDS] == [True, False, True, False, False, True, True]


def test_score_alignment_records():
    scored, _ = score_alignment(RECORDS, MT, model="fake")
    assert [r["id"] for r in scored] == [1, 2, 3, 4, 5, 6, 7]
    # The record's own keys come first, in their order; the scores are appended.
    assert list(scored[0]) == [*RECORDS[0], "bleu", "chrf"]
    assert scored[0]["bleu"] == 100.0 and scored[0]["chrf"] == 100.0
    for i in (1, 3, 4, 6):  # one-sided, mt origin, no translation
        assert scored[i]["bleu"] is None and scored[i]["chrf"] is None
    expected = sentence_scores(["A dog is barking."], ["The dog barks. It is loud."])[0]
    assert scored[2]["bleu"] == round(expected.bleu, 2) and scored[2]["chrf"] == round(expected.chrf, 2)
    assert "bleu" not in RECORDS[0]  # the input is not changed


def test_score_alignment_report():
    _, report = score_alignment(RECORDS, MT, model="fake")
    assert report["model"] == "fake"
    assert (report["beads"], report["scored"]) == (7, 3)
    assert report["not_scored"] == {"one_sided": 2, "mt_origin": 1, "no_translation": 1}
    hyps = ["The cat sat on the mat.", "A dog is barking.", "He has left."]
    refs = ["The cat sat on the mat.", "The dog barks. It is loud.", "He left."]
    assert report["corpus"] == corpus_scores(hyps, refs).as_dict()
    assert report["corpus"]["segments"] == 3
    assert "tok:13a" in report["corpus"]["bleu"]["signature"]
    assert list(report["by_type"]) == ["0-1", "1-0", "1-1", "1-2"]
    assert {k: (v["beads"], v["scored"]) for k, v in report["by_type"].items()} == {
        "0-1": (1, 0), "1-0": (2, 0), "1-1": (3, 2), "1-2": (1, 1)}
    assert report["by_type"]["1-0"]["mean_chrf"] is None
    assert {k: (v["beads"], v["scored"]) for k, v in report["by_origin"].items()} == {
        "aligned": (5, 2), "mt": (1, 0), "human": (1, 1)}
    # lowest first, by sentence chrF
    assert [p["id"] for p in report["lowest"]] == [3, 6, 1]
    chrfs = [p["chrf"] for p in report["lowest"]]
    assert chrfs == sorted(chrfs)
    assert report["lowest"][0] == {"id": 3, "zh": "狗在叫。", "en": "The dog barks. It is loud.",
                                   "mt": "A dog is barking.", "bleu": report["lowest"][0]["bleu"],
                                   "chrf": chrfs[0]}
    json.dumps(report)  # JSON-ready


def test_score_alignment_lowest_limit_and_ties():
    records = [record(i, [i], [i], f"句{i}", "same words here") for i in (3, 1, 2)]
    _, report = score_alignment(records, ["other text"] * 3, lowest=2)
    assert [p["id"] for p in report["lowest"]] == [1, 2]  # equal scores: by id
    assert LOWEST_PAIRS >= 1
    _, report = score_alignment(records, ["other text"] * 3, lowest=0)
    assert report["lowest"] == []


def test_score_alignment_list_of_translations():
    mt = ["The cat sat on the mat.", None, "A dog is barking.", None, None, "He has left.", None]
    scored, report = score_alignment(RECORDS, mt)
    assert scored == score_alignment(RECORDS, MT)[0]
    assert report["model"] is None
    with pytest.raises(ToolkitError, match="2 translations for 7 beads"):
        score_alignment(RECORDS, ["a", "b"])


def test_score_alignment_nothing_to_score():
    scored, report = score_alignment(RECORDS[1:2], {})
    assert scored[0]["bleu"] is None
    assert report["corpus"] is None and report["scored"] == 0 and report["lowest"] == []
    assert "no pairs to score" in format_report(report)


def test_format_report():
    _, report = score_alignment(RECORDS, MT, model="fake-mt")
    text = format_report(report)
    assert "MT: fake-mt" in text
    assert "scored 3 of 7 beads (not scored: 2 one-sided, 1 machine-translated, 1 without translation)" in text
    assert report["corpus"]["chrf"]["signature"] in text
    assert "#3  chrF" in text and "mt: A dog is barking." in text
    assert text.index("#3") < text.index("#6") < text.index("#1 ")


def test_files_round_trip(tmp_path):
    scored, report = score_alignment(RECORDS, MT, model="fake")
    jsonl = tmp_path / "talk.jsonl"
    write_records(jsonl, scored)
    assert read_jsonl(jsonl) == scored  # extra keys pass the reader's check
    assert "猫" in jsonl.read_text(encoding="utf-8")  # not ASCII-escaped
    assert find_jsonl(tmp_path) == jsonl
    assert report_path(jsonl) == tmp_path / "talk.score.json"
    write_report(report_path(jsonl), report)
    assert json.loads(report_path(jsonl).read_text(encoding="utf-8")) == report


def test_find_jsonl_errors(tmp_path):
    with pytest.raises(InputError, match="found 0"):
        find_jsonl(tmp_path)
    (tmp_path / "a.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match=r"found 2 \(a.jsonl, b.jsonl\)"):
        find_jsonl(tmp_path)
    with pytest.raises(InputError, match="not a folder"):
        find_jsonl(tmp_path / "a.jsonl")


def test_summed_statistics_score_like_sacrebleu_on_the_concatenation():
    """Corpus BLEU/chrF of a corpus run come from per-document statistics: equal to scoring it all at once."""
    from sacrebleu.metrics import BLEU, CHRF

    from toolkit.score.metrics import add_statistics, corpus_statistics, scores_from_statistics

    documents = [
        (["The cat sat on the mat.", "It was a sunny day in May."], ["A cat sat on the mat.", "It was sunny in May."]),
        (["Prices rose 3.5% in 2024."], ["Prices went up by 3.5 percent in 2024."]),
        (["He said nothing at all", "We met again in Beijing", "OK"], ["He said nothing.", "We met in Beijing again.", "Okay"]),
    ]
    summed = scores_from_statistics(add_statistics([corpus_statistics(h, r) for h, r in documents]))
    hyps = [h for doc, _ in documents for h in doc]
    refs = [r for _, doc in documents for r in doc]
    assert summed["segments"] == len(hyps)
    assert summed["bleu"]["score"] == round(BLEU().corpus_score(hyps, [refs]).score, 2)
    assert summed["chrf"]["score"] == round(CHRF().corpus_score(hyps, [refs]).score, 2)
    # ... and not the mean of the documents' own scores, which weighs a one-line document like a long one.
    mean = sum(BLEU().corpus_score(h, [r]).score for h, r in documents) / len(documents)
    assert abs(mean - summed["bleu"]["score"]) > 0.5
    assert add_statistics([]) is None and add_statistics([None, {"segments": 0}]) is None
