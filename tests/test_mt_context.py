"""Translating with the document as context: the prompt built from an alignment, the retry that states the
failing terms, translate-only documents whose names stay fixed, and --glossary on the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.core.records import Alignment, Bead
from toolkit.pipeline import bead_units, translate_gaps, translation_only
from toolkit.text.segment import segment_document
from toolkit.translate.backends import (
    SYSTEM_PROMPT,
    USER_PROMPT,
    TranslationRequest,
    Translator,
    build_messages,
    translate_checked,
)
from toolkit.translate.context import gap_requests, nearest_examples, translate_in_context
from toolkit.translate.glossary import Glossary

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


class ContextTranslator(Translator):
    """A model-free translator that takes context: answers from ``table`` (source -> output), a retry with
    hints from ``retry_table``; records every request it was given."""

    name = "context-fake"
    takes_context = True
    batch_size = 64

    def __init__(self, table: dict, retry_table: dict | None = None):
        super().__init__()
        self.table, self.retry_table = table, retry_table or {}
        self.requests: list[TranslationRequest] = []

    def describe(self) -> str:
        return "context-fake"

    def _generate(self, texts, overrides):
        self.requests += texts
        return [self.retry_table.get(r.source, self.table[r.source]) if r.hints else self.table[r.source]
                for r in texts]


def test_a_plain_text_gives_exactly_todays_prompt():
    assert build_messages("你好。") == [{"role": "system", "content": SYSTEM_PROMPT},
                                       {"role": "user", "content": USER_PROMPT.format(text="你好。")}]
    assert build_messages(TranslationRequest("你好。")) == build_messages("你好。")


def test_examples_terms_and_hints_in_the_messages():
    request = TranslationRequest("卡帕西在2024年说。", examples=(("卡帕西来了。", "Karpathy came."),),
                                 terms=(("卡帕西", "Karpathy"),), hints=("2024年 = 2024",))
    messages = build_messages(request, system_prompt="S", user_prompt="T: {text}")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "T: 卡帕西来了。" and messages[2]["content"] == "Karpathy came."
    last = messages[3]["content"]
    assert last.endswith("T: 卡帕西在2024年说。")
    assert "卡帕西 = Karpathy" in last and "2024年 = 2024" in last


def _alignment() -> Alignment:
    zh = segment_document("卡帕西说，软件正在改变。\n奥特曼和卡帕西谈到了模型。\n编者按：卡帕西还说了很多。\n"
                          "他说，这很好。\n", "zh", name="t")
    en = segment_document("Karpathy said that software is changing.\nAltman and Karpathy talked about models.\n"
                          "He said this was good.\n", "en", name="t")
    beads = (Bead((0,), (0,), 0.9), Bead((1,), (1,), 0.9), Bead((2,), ()), Bead((3,), (2,), 0.9))
    return Alignment(name="t", zh=zh, en=en, beads=beads, signature={"tool": "bitext"})


def test_the_in_context_prompt_built_from_an_alignment():
    from toolkit.translate.context import document_glossary

    units = bead_units(_alignment())
    glossary = document_glossary(units, Glossary((("软件", "software"),), origin="user.csv"))
    assert ("卡帕西", "Karpathy") in glossary.terms and glossary.terms[0] == ("软件", "software")
    [request] = gap_requests(units, glossary)
    assert request.source == "编者按：卡帕西还说了很多。"
    # The nearest aligned pairs, in document order: the two before the gap and the one after it.
    assert request.examples == (units[0], units[1], units[3])
    assert request.terms == (("卡帕西", "Karpathy"),)
    messages = build_messages(request)
    assert messages[2] == {"role": "assistant", "content": "Karpathy said that software is changing."}
    assert "卡帕西 = Karpathy" in messages[-1]["content"]


def test_nearest_examples_respect_the_budget():
    units = [("一。", "One."), ("二。", "Two."), ("三。", ""), ("四" * 50, "Four " * 50), ("五。", "Five.")]
    assert nearest_examples(units, 2, pairs=2) == (units[1], units[3])            # one each side
    assert nearest_examples(units, 2, pairs=3, max_chars=30) == (units[0], units[1], units[4])  # the long one skipped
    assert nearest_examples(units, 2, pairs=0) == ()


def test_a_flagged_output_is_retried_with_the_failing_term_stated():
    source = "今年9月，红杉资本投资了一万家公司。"
    translator = ContextTranslator({source: "In October 2019, Red Hat Capital invested in 1,000 companies."},
                                   {source: "This September, Sequoia Capital invested in 10,000 companies."})
    request = TranslationRequest(source, terms=(("红杉资本", "Sequoia Capital"),))
    [result] = translate_checked(translator, [request])
    assert result.text.startswith("This September") and result.flags == ()
    retry = translator.requests[-1]
    # The made-up year after the month was dropped by rule before the retry: it is not stated again.
    assert retry.hints == ("9月 = September", "一万 = 10,000", "红杉资本 = Sequoia Capital")


def test_a_number_mistake_put_right_by_rule_needs_no_retry():
    source = "目前，他的身价大约为 15.9 亿美元。"
    translator = ContextTranslator({source: "Currently, his worth is about $15.9 billion."},
                                   {source: "Currently, he is worth $15.9 billion."})
    [result] = translate_checked(translator, [source])
    assert result.text == "Currently, his worth is about $1.59 billion." and result.flags == ()
    assert len(translator.requests) == 1                                     # no retry was asked
    # A retried output is repaired the same way.
    other = "美国当地时间7月19日，他逝世，享年81岁。"
    translator = ContextTranslator({other: "He died at 81 in 2019."}, {other: "He died on July 19, 2019, at 81."})
    [result] = translate_checked(translator, [other])
    assert result.text == "He died on July 19, at 81." and result.flags == ()


def test_an_output_still_wrong_after_the_retry_keeps_its_flag():
    source = "智東西編譯|依婷編輯Panken"
    translator = ContextTranslator({source: "SmartThings | Eileen"}, {source: "SmartThings | Eileen | Pankeen"})
    [result] = translate_checked(translator, [source])
    assert result.text == "SmartThings | Eileen" and result.flags == ("latin",)
    assert translator.requests[-1].hints == ("keep Panken exactly as written",)


def test_requests_with_context_are_cached_apart(tmp_path):
    from toolkit.translate.cache import TranslationCache

    translator = ContextTranslator({"你好。": "Hello."})
    plain, with_example = TranslationRequest("你好。"), TranslationRequest("你好。", examples=(("再见。", "Bye."),))
    with TranslationCache(tmp_path / "mt.sqlite") as cache:
        translate_checked(translator, [plain, with_example, plain], cache=cache)
        assert len(translator.requests) == 2                                # the duplicate once
        again = translate_checked(translator, [with_example, "你好。"], cache=cache)
    assert len(translator.requests) == 2 and all(t.cached for t in again)   # a plain text is a plain request


def test_a_translate_only_document_keeps_each_name_as_first_rendered():
    sources = ["辛顿是一位科学家。", "他很有名。", "辛顿说，人工智能很危险。", "辛顿离开了谷歌。"]
    table = {sources[0]: "Hinton is a scientist.", sources[1]: "He is famous.",
             sources[2]: "Sidney said AI is dangerous.", sources[3]: "Hinton left Google."}
    translator = ContextTranslator(table, {sources[2]: "Hinton said AI is dangerous."})
    results, glossary = translate_in_context(translator, sources, wave=2, pairs=2)
    assert [r.text for r in results] == [table[sources[0]], table[sources[1]], "Hinton said AI is dangerous.",
                                         table[sources[3]]]
    assert ("辛顿", "Hinton") in glossary.terms
    later = [r for r in translator.requests if r.source == sources[2]]
    assert later[0].examples == ((sources[0], table[sources[0]]), (sources[1], table[sources[1]]))
    assert later[0].terms == (("辛顿", "Hinton"),)            # fixed in the first wave
    assert later[1].hints == ("辛顿 = Hinton",)               # the retry states it


def test_a_sentence_translated_before_its_name_was_fixed_is_asked_again():
    sources = ["辛顿说，这很危险。", "他很有名。", "辛顿离开了谷歌。"]
    table = {sources[0]: "The professor said it was dangerous.", sources[1]: "He is famous.",
             sources[2]: "Hinton left Google."}
    translator = ContextTranslator(table, {sources[0]: "Hinton said it was dangerous."})
    results, glossary = translate_in_context(translator, sources, wave=1, pairs=2)
    assert ("辛顿", "Hinton") in glossary.terms                     # learnt from the third sentence
    assert [r.text for r in results] == ["Hinton said it was dangerous.", "He is famous.", "Hinton left Google."]
    again = [r for r in translator.requests if r.source == sources[0]][1:]
    assert again[0].terms == (("辛顿", "Hinton"),) and again[0].examples  # asked with the name and context
    assert again[-1].hints == ("辛顿 = Hinton",)
    # Asked again and still no better: the first translation stays.
    stubborn = ContextTranslator(table)
    results, _ = translate_in_context(stubborn, sources, wave=1, pairs=2)
    assert results[0].text == "The professor said it was dangerous." and results[0].flags == ("name",)


def test_translate_gaps_fills_every_gap_and_records_the_context():
    alignment = _alignment()
    translator = ContextTranslator({"编者按：卡帕西还说了很多。": "Editor's note: Karpathy said a lot more."})
    filled = translate_gaps(alignment, "fake", use_cache=False, translator=translator)
    gap = filled.beads[2]
    assert (gap.origin, gap.mt_text, gap.mt_flags) == ("mt", "Editor's note: Karpathy said a lot more.", ())
    assert filled.signature["mt_context"]["document_terms"] >= 1
    assert filled.signature["mt_context"]["glossary"] is None
    alone = translate_gaps(alignment, "fake", use_cache=False, translator=translator, context=False)
    assert alone.beads[2].mt_text == gap.mt_text and translator.requests[-1].examples == ()

    # No English at all: in waves, each sentence with the translated ones before it.
    sources = [f"第{n}句很重要。" for n in ("一", "二", "三", "四", "五", "六", "七", "八", "九")]
    only = translation_only(segment_document("\n".join(sources) + "\n", "zh", name="x"))
    both = ContextTranslator({s: f"Sentence {n}." for n, s in enumerate(sources, 1)})
    filled = translate_gaps(only, "fake", use_cache=False, translator=both)
    assert [b.mt_text for b in filled.beads] == [f"Sentence {n}." for n in range(1, 10)]
    assert both.requests[0].examples == () and both.requests[-1].source == sources[8]
    assert both.requests[-1].examples[-1] == (sources[7], "Sentence 8.")


# ---------------------------------------------------------------------------
# --glossary on the command line


@pytest.fixture
def recording_mt(monkeypatch, tmp_path):
    import toolkit.translate.backends as backends

    seen: list = []

    class Recording(Translator):
        name = "rec"
        takes_context = True

        def describe(self) -> str:
            return "recording"

        def _generate(self, texts, overrides):
            seen.extend(texts)
            return [f"EN {len(t.source)}" for t in texts]

    monkeypatch.setattr(backends, "get_translator", lambda spec, models_dir=None: Recording())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(sys, "argv", ["bitext"])
    return seen


def test_translate_with_a_glossary(recording_mt, tmp_path):
    terms = tmp_path / "terms.csv"
    zh = segment_document((EXAMPLES / "interview.zh.txt").read_text(encoding="utf-8"), "zh", name="x")
    word = next(s.text for s in zh.segments if len(s.text) > 6)[:3]
    terms.write_text(f"zh,en\n{word},TERM\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["translate", str(EXAMPLES / "interview.zh.txt"), "-o", str(out),
                                      "--mt", "fake", "--glossary", str(terms), "-q"])
    assert result.exit_code == 0, result.output
    asked = [r for r in recording_mt if word in r.source]
    assert asked and all((word, "TERM") in r.terms for r in asked)
    records = [json.loads(line) for line in (out / "interview.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any("name" in r["mt_flags"] for r in records if word in r["zh"])  # "EN 12" lacks TERM: flagged
    signature = json.loads((out / "interview.signature.json").read_text(encoding="utf-8"))
    assert signature["mt_context"]["glossary"]["file"] == "terms.csv"


def test_a_bad_glossary_fails_before_any_work(recording_mt, tmp_path):
    terms = tmp_path / "terms.csv"
    terms.write_text("Hinton,辛顿\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["align", str(EXAMPLES / "interview.zh.txt"), str(EXAMPLES / "interview.en.txt"),
                                      "-o", str(out), "--mt", "fake", "--no-score", "--glossary", str(terms)])
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and "has no Chinese" in result.output
    assert not out.exists() and recording_mt == []
