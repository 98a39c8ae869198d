"""Glossaries: the CSV/TSV/TBX reader, the terms a sentence needs, and the document glossary mined from aligned pairs."""

from __future__ import annotations

import pytest

from toolkit.core.errors import InputError
from toolkit.translate.glossary import Glossary, mine_document_glossary, read_glossary

TBX2 = """<?xml version="1.0" encoding="UTF-8"?>
<martif type="TBX" xml:lang="en">
  <text><body>
    <termEntry id="1">
      <langSet xml:lang="zh-CN"><tig><term>红杉资本</term></tig></langSet>
      <langSet xml:lang="en-US"><tig><term>Sequoia Capital</term></tig><tig><term>Sequoia</term></tig></langSet>
    </termEntry>
    <termEntry id="2">
      <langSet xml:lang="zh"><ntig><termGrp><term>卡帕西</term></termGrp></ntig></langSet>
      <langSet xml:lang="en"><ntig><termGrp><term>Karpathy</term></termGrp></ntig></langSet>
    </termEntry>
    <termEntry id="3">
      <langSet xml:lang="de"><tig><term>Kapital</term></tig></langSet>
      <langSet xml:lang="en"><tig><term>capital</term></tig></langSet>
    </termEntry>
  </body></text>
</martif>
"""

TBX3 = """<?xml version="1.0" encoding="UTF-8"?>
<tbx xmlns="urn:iso:std:iso:30042:ed-2" type="TBX-Basic" style="dca" xml:lang="en">
  <text><body>
    <conceptEntry id="c1">
      <langSec xml:lang="zh-Hans"><termSec><term>辛顿</term></termSec></langSec>
      <langSec xml:lang="en"><termSec><term>Hinton</term></termSec></langSec>
    </conceptEntry>
  </body></text>
</tbx>
"""


def test_csv_with_header_and_comments(tmp_path):
    path = tmp_path / "terms.csv"
    path.write_text("zh,en\n# people\n辛顿,Hinton\n\n\"红杉资本\",\"Sequoia Capital\"\n", encoding="utf-8-sig")
    glossary = read_glossary(path)
    assert glossary.terms == (("辛顿", "Hinton"), ("红杉资本", "Sequoia Capital"))
    assert glossary.origin == "terms.csv"


def test_tsv_without_header(tmp_path):
    path = tmp_path / "terms.tsv"
    path.write_text("卡帕西\tKarpathy\n简·雷克\tJan Leike\n", encoding="utf-8")
    assert read_glossary(path).terms == (("卡帕西", "Karpathy"), ("简·雷克", "Jan Leike"))


def test_tbx_v2_and_v3(tmp_path):
    (tmp_path / "a.tbx").write_text(TBX2, encoding="utf-8")
    (tmp_path / "b.tbx").write_text(TBX3, encoding="utf-8")
    assert read_glossary(tmp_path / "a.tbx").terms == (
        ("红杉资本", "Sequoia Capital"), ("红杉资本", "Sequoia"), ("卡帕西", "Karpathy"))  # the German entry is skipped
    assert read_glossary(tmp_path / "b.tbx").terms == (("辛顿", "Hinton"),)


@pytest.mark.parametrize("name, content, message", [
    ("bad.csv", "辛顿,Hinton\n奥特曼\n", "line 2: expected two columns"),
    ("bad.csv", "Hinton,辛顿\n", "line 1: the first column 'Hinton' has no Chinese"),
    ("empty.tsv", "zh\ten\n", "has no terms"),
    ("terms.txt", "辛顿,Hinton\n", "must be a .csv, .tsv or .tbx file"),
    ("broken.tbx", "<martif><text>", "not a TBX file"),
    ("laughs.tbx", '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]><martif>&a;</martif>', "not a TBX file"),
])
def test_bad_glossaries_are_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_glossary(path)
    assert message in caught.value.message and caught.value.hint


def test_a_missing_or_non_utf8_glossary(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_glossary(tmp_path / "none.csv")
    (tmp_path / "gbk.csv").write_bytes("辛顿,Hinton\n".encode("gbk"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_glossary(tmp_path / "gbk.csv")


def test_terms_in_prefers_the_longest_match():
    glossary = Glossary((("红杉", "redwood"), ("红杉资本", "Sequoia Capital"), ("辛顿", "Hinton")))
    assert glossary.terms_in("红杉资本的合伙人和辛顿") == (("红杉资本", "Sequoia Capital"), ("辛顿", "Hinton"))
    assert glossary.terms_in("一棵红杉") == (("红杉", "redwood"),)
    assert glossary.terms_in("没有") == ()


def test_merged_keeps_the_first_rendering():
    user = Glossary((("辛顿", "Hinton"),), origin="terms.csv")
    mined = Glossary((("辛顿", "Sidney"), ("奥特曼", "Altman")), origin="document")
    merged = user.merged(mined)
    assert merged.terms == (("辛顿", "Hinton"), ("奥特曼", "Altman"))
    assert merged.origin == "terms.csv + document"
    assert merged.merged(mined).origin == "terms.csv + document"
    with pytest.raises(ValueError):
        Glossary((("辛顿", " "),))


def test_a_document_glossary_from_aligned_pairs():
    pairs = [
        ("卡帕西说，软件正在改变。", "Karpathy said that software is changing."),
        ("奥特曼和卡帕西谈到了模型。", "Altman and Karpathy talked about models."),
        ("伊利亚离开了公司。", "Ilya left the company."),
        ("红杉资本投资了这家公司。", "Sequoia Capital invested in the company."),
        ("他说，这很好。", "He said this was good."),
        ("人们正试图弄明白。", "People are trying to figure it out."),   # a sentence's first word is no name
    ]
    terms = dict(mine_document_glossary(pairs).terms)
    assert terms.get("卡帕西") == "Karpathy"
    assert terms.get("奥特曼") == "Altman"
    assert terms.get("伊利亚") == "Ilya"
    assert "People" not in terms.values() and "He" not in terms.values()
    assert all(len(zh) >= 2 for zh in terms)


def test_the_renderings_a_text_states_in_brackets():
    from toolkit.translate.glossary import bracketed_terms

    glossary = bracketed_terms([
        "OpenAI的CEO奥特曼(Sam Altman)突然被开除。",
        "首席科学家伊利亚（Ilya Sutskever）宣布离职。",
        "另一位科学家简·雷克(Jan Leike)也走了。",
        "他们投资了红杉资本 (Sequoia Capital)，和乔尔·雷曼(Joel Lehman)谈过。",  # no dictionary has 红杉
        "转而面向社会公开(open source)，也谈到了超级智能(ASI)。",   # nothing in the Chinese renders these
        "后来奥特曼(Altmann)又回来了。",                               # a second statement: the first wins
    ])
    assert glossary.terms == (("奥特曼", "Altman"), ("伊利亚", "Ilya"), ("简·雷克", "Jan Leike"),
                              ("雷克", "Leike"), ("雷曼", "Lehman"))
    assert glossary.origin == "document"
    assert bracketed_terms(["没有括号的句子。", "括号里是中文（注释）。", "像是一个组织(Organizations)。"]).terms == ()
    # Traditional script: read through the simplified form, kept in its own characters.
    assert bracketed_terms(["首席科學家伊利亞（Ilya Sutskever）宣佈離職。"]).terms == (("伊利亞", "Ilya"),)


def test_a_traditional_script_document_glossary_keeps_its_characters():
    terms = mine_document_glossary([("奧特曼和卡帕西談到了模型。", "Altman and Karpathy talked about models."),
                                    ("卡帕西說。", "Karpathy said.")]).terms
    assert ("奧特曼", "Altman") in terms and ("卡帕西", "Karpathy") in terms


def test_a_stated_rendering_holds_from_the_first_sentence_of_a_translate_only_text():
    from toolkit.translate.context import document_glossary, translate_in_context
    from tests.test_mt_context import ContextTranslator

    sources = ["奥特曼回来了。", "OpenAI的CEO奥特曼(Sam Altman)曾被开除。"]
    translator = ContextTranslator({sources[0]: "Superman is back.", sources[1]: "OpenAI CEO Sam Altman was fired."},
                                   {sources[0]: "Altman is back."})
    results, glossary = translate_in_context(translator, sources, wave=1, pairs=1)
    assert [r.text for r in results] == ["Altman is back.", "OpenAI CEO Sam Altman was fired."]
    assert translator.requests[0].terms == (("奥特曼", "Altman"),)     # before the sentence that states it
    assert translator.requests[1].hints == ("奥特曼 = Altman",)
    # With English: the user's term first, then the stated one, then the mined ones.
    units = [(sources[1], "Altman was fired."), ("卡帕西说。", "Karpathy said.")]
    merged = document_glossary(units, Glossary((("奥特曼", "Sam Altman"),), origin="user.csv"))
    assert merged.terms[0] == ("奥特曼", "Sam Altman") and ("卡帕西", "Karpathy") in merged.terms
    assert document_glossary(units).terms[0] == ("奥特曼", "Altman")


def test_a_common_word_is_no_transliteration(monkeypatch):
    import toolkit.translate.glossary as glossary_module

    # 個人 ("individual") sounds a little like "Greg's" and comes with it (seed 000): it is still no name.
    pairs = [("這是他個人的看法。", "This is Greg's view."), ("個人電腦。", "Greg's computer.")]
    assert "個人" not in dict(mine_document_glossary(pairs).terms)
    monkeypatch.setattr(glossary_module, "_sounds_only", lambda span: True)
    assert dict(mine_document_glossary(pairs).terms).get("個人") == "Greg's"   # what the rule prevents


@pytest.mark.parametrize("span, name", [
    ("主义的", "July"),          # grammar at the end: seed 001's "理想主义的" lines were flagged for "July"
    ("伊利亚这", "Ilya"),        # grammar at the end
    ("而奥特曼", "Altman"),      # grammar at the start
])
def test_a_span_with_words_or_grammar_in_it_is_no_transliteration(span, name):
    from toolkit.align.lexicon import load_cedict, load_pinyin, stem
    from toolkit.translate.glossary import _name_similarity

    assert _name_similarity(span, name, load_pinyin(), load_cedict(), stem) == 0
    assert _name_similarity(span.strip("的这而"), name, load_pinyin(), load_cedict(), stem) > 0 or span == "主义的"
