"""The fact checks: the Chinese number converter, the numbers and names of a sentence, the new flags."""

from __future__ import annotations

import pytest

from toolkit.translate.checks import FLAGS, Problem, check_translation, fact_problems, repaired
from toolkit.translate.facts import (
    Fact,
    chinese_number,
    contains_verbatim,
    english_amount,
    english_values,
    extra_years,
    latin_names,
    repair_numbers,
    source_facts,
)


@pytest.mark.parametrize("text, value", [
    ("一万二千", 12000),
    ("一万", 10000),
    ("3.5亿", 350_000_000),
    ("3亿5000万", 350_000_000),
    ("一亿二千万", 120_000_000),
    ("三万亿", 3_000_000_000_000),
    ("十五", 15),
    ("二十", 20),
    ("一千零五", 1005),
    ("十万", 100_000),
    ("二〇二四", 2024),
    ("２０２４", 2024),
    ("1,200", 1200),
    ("十五点二亿", 1_520_000_000),
    ("1.15亿", 115_000_000),   # not 114999999.99999999, the float product
    ("15.9亿", 1_590_000_000),
    ("12.5", 12.5),
    ("两千", 2000),
    ("十一五", None),          # the 11th Five-Year Plan: a digit after a digit is no one number
    ("五六十", None),          # fifty or sixty
    ("猫", None),
    ("", None),
])
def test_chinese_number(text, value):
    assert chinese_number(text) == value


@pytest.mark.parametrize("source, facts", [
    ("2024年9月", [Fact("year", "2024年", 2024), Fact("month", "9月", 9)]),
    ("今年9月", [Fact("month", "9月", 9)]),
    ("增长了百分之二十", [Fact("percent", "百分之二十", 20)]),
    ("占12.5%", [Fact("percent", "12.5%", 12.5)]),
    ("90后", [Fact("decade", "90后", 90)]),
    ("九十年代", [Fact("decade", "九十年代", 90)]),
    ("3.5亿人", [Fact("number", "3.5亿", 350_000_000)]),
    ("一万二千家公司", [Fact("number", "一万二千", 12000)]),
    ("500 万英镑", [Fact("number", "500万", 5_000_000)]),       # WMT-style spaces before the unit
    ("10月18日", [Fact("month", "10月", 10), Fact("day", "18日", 18)]),
    ("18世纪", [Fact("century", "18世纪", 18)]),
    ("二〇二四年", [Fact("year", "二〇二四年", 2024)]),
    ("3个月", [Fact("number", "3", 3)]),                        # months counted, not a month's name
    ("投资了 500 多万英镑", [Fact("number", "500万", 5_000_000)]),  # "more than 5 million"
    ("10余亿元", [Fact("number", "10亿", 1_000_000_000)]),
    ("实现两个一百年奋斗目标", [Fact("hundred_years", "一百年", 100)]),
    ("十一五减排目标", []),
    # No exact number to check: single Chinese digits, approximate amounts, units, Latin words.
    ("一个人去了两岸三地", []),
    ("十几个人，数十万人，几百年", []),
    ("跑了10千米", [Fact("number", "10", 10)]),                  # 千米 is km, not thousands
    ("COVID-19和A380", []),
    ("千万不要万一", []),
])
def test_source_facts(source, facts):
    assert source_facts(source) == facts


@pytest.mark.parametrize("english, expected", [
    ("12,000 companies", {12000}),
    ("ten thousand", {10000}),
    ("10 thousand", {10, 10000}),
    ("350 million people", {350, 350e6}),
    ("$2bn", {2, 2e9}),
    ("twenty-five", {25}),
    ("three hundred and twelve", {312}),
    ("a million", {1e6}),
    ("the third time", {3}),
    ("the 19th congress", {19}),
    ("a dozen", {12}),
    ("at 10.42pm", {10.42, 10, 42}),
])
def test_english_values(english, expected):
    assert english_values(english) == {float(v) for v in expected}


@pytest.mark.parametrize("fact, english, found", [
    (Fact("month", "9月", 9), "in September", True),
    (Fact("month", "9月", 9), "in Sept. this year", True),
    (Fact("month", "9月", 9), "in October", False),
    (Fact("number", "一万", 10000), "10,000 people", True),
    (Fact("number", "一万", 10000), "ten thousand people", True),
    (Fact("number", "一万", 10000), "1,000 people", False),
    (Fact("year", "2024年", 2024), "in 2024", True),
    (Fact("year", "2024年", 2024), "in 2023", False),
    (Fact("percent", "百分之二十", 20), "up 20 percent", True),
    (Fact("percent", "百分之二十", 20), "up 20%", True),
    (Fact("decade", "90后", 90), "the post-90s generation", True),
    (Fact("decade", "90后", 90), "people born in the 1990s", True),
    (Fact("decade", "90后", 90), "young people", False),
    (Fact("century", "18世纪", 18), "in the 1700s", True),
    (Fact("century", "18世纪", 18), "in the 18th century", True),
    (Fact("number", "3.5亿", 350_000_000), "350 million", True),
    (Fact("number", "3.5亿", 350_000_000), "0.35 billion", True),
    (Fact("number", "3.5亿", 350_000_000), "3.5 million", False),
])
def test_fact_found_in(fact, english, found):
    assert fact.found_in(english) is found


def test_fact_english_is_what_a_retry_states():
    assert [f.english() for f in source_facts("2024年9月，一万二千人，百分之二十，90后")] == [
        "2024", "September", "12,000", "20%", "the 1990s"]


def test_latin_names_are_kept_whole():
    assert latin_names("智东西编译|依婷编辑Panken，Garry Tan谈LLM OS和5km外的3D打印") == [
        "Panken", "Garry Tan", "LLM OS", "3D"]
    assert contains_verbatim("Garry Tan said", "Garry Tan")
    assert contains_verbatim("the Note 7 phone", "Note7")              # a space between letters and digits
    assert not contains_verbatim("Garry Tang said", "Garry Tan")        # whole words
    assert not contains_verbatim("important", "Tan")


def test_traditional_script_numbers_are_read_like_simplified_ones():
    traditional = source_facts("一個人加一萬個GPU創造十億美元年營收，兩千人，3.5億，90後，19世紀，十幾萬")
    simplified = source_facts("一个人加一万个GPU创造十亿美元年营收，两千人，3.5亿，90后，19世纪，十几万")
    assert [(f.kind, f.value) for f in traditional] == [(f.kind, f.value) for f in simplified] == [
        ("number", 10000), ("number", 1_000_000_000), ("number", 2000), ("number", 350_000_000),
        ("decade", 90), ("century", 19)]
    assert chinese_number("一萬二千") == 12000 and chinese_number("十五點二億") == 1_520_000_000


def test_extra_years_are_years_the_chinese_does_not_state():
    assert extra_years("今年9月", "In September 2019") == [2019]
    assert extra_years("2019年9月", "In September 2019") == []
    assert extra_years("他有2019元", "He has 2,019 yuan") == []
    assert extra_years("上世纪70年代开始", "They began in the 1970s") == []  # a decade, not a year
    assert extra_years("90后", "the 1990's generation") == []


# The new checks on hand-made outputs (the failures the published editions showed).
@pytest.mark.parametrize("source, output, terms, flags", [
    ("今年9月，他们发布了新模型。", "In September 2019, they released a new model.", (), ["number"]),
    ("今年9月，他们发布了新模型。", "This September, they released a new model.", (), []),
    ("2024年红杉资本投资了一万家公司。", "In 2023, Sequoia Capital invested in 10,000 companies.", (), ["number"]),
    ("2024年红杉资本投资了一万家公司。", "In 2024, Red Hat Capital invested in 10,000 companies.",
     (("红杉资本", "Sequoia Capital"),), ["name"]),
    ("2024年红杉资本投资了一万家公司。", "In 2024, Sequoia Capital invested in ten thousand companies.",
     (("红杉资本", "Sequoia Capital"),), []),
    ("智東西編譯|依婷編輯Panken", "SmartThings | Eileen", (), ["latin"]),
    ("智東西編譯|依婷編輯Panken", "Zhidongxi compiled | edited by Yiting, Panken", (), []),
    ("辛顿说，他很担心。", "Stephen Hawking said he was worried.", (("辛顿", "Hinton"),), ["name"]),
    ("辛顿说，他很担心。", "Hinton said he was worried.", (("辛顿", "Hinton"),), []),
    ("Garry Tan说。", "Gary Tan said.", (), ["latin"]),
])
def test_fact_flags_on_hand_made_outputs(source, output, terms, flags):
    assert check_translation(source, output, terms) == flags
    assert all(flag in FLAGS for flag in flags)


def test_fact_problems_name_the_failing_term_for_the_retry():
    problems = fact_problems("今年9月，红杉资本投资了一万家公司，Garry Tan说。",
                             "In October 2019, Red Hat invested in 1,000 firms, Gary said.",
                             (("红杉资本", "Sequoia Capital"),))
    assert problems == [Problem("number", "9月", "September"), Problem("number", "一万", "10,000"),
                        Problem("number", "", "2019"), Problem("name", "红杉资本", "Sequoia Capital"),
                        Problem("latin", "Garry Tan", "Garry Tan")]
    assert [p.hint() for p in problems] == [
        "9月 = September", "一万 = 10,000", "the Chinese states no year 2019: do not add it",
        "红杉资本 = Sequoia Capital", "keep Garry Tan exactly as written"]


def test_an_empty_output_is_only_empty():
    assert check_translation("2024年9月", "") == ["empty"]


@pytest.mark.parametrize("source, output, fine", [
    ("两个一百年奋斗目标", "the two centenary goals", True),
    ("两个一百年奋斗目标", "the two hundred-year goals", True),
    ("一百年以后", "100 years later", True),
    ("一百年以后", "two years later", False),
])
def test_a_hundred_years_may_be_a_centenary(source, output, fine):
    assert (fact_problems(source, output) == []) is fine


def test_a_latin_name_may_take_a_plural_or_possessive_s():
    assert contains_verbatim("books and CDs", "CD")
    assert contains_verbatim("Pladis's owner", "Pladis")
    assert not contains_verbatim("books and CDROMs", "CD")


@pytest.mark.parametrize("value, english", [
    (1_590_000_000, "1.59 billion"),
    (6_700_000, "6.7 million"),
    (115_000_000, "115 million"),
    (10_000_000_000, "10 billion"),
    (50_000, "50,000"),
    (3_000_000_000_000, "3 trillion"),
])
def test_english_amount(value, english):
    assert english_amount(value) == english


@pytest.mark.parametrize("source, output, fixed", [
    # The digits of a 万/亿 amount kept with the English scale word: the model's usual mistake.
    ("目前，他的身价大约为 15.9 亿美元。", "Currently, his worth is about $15.9 billion.",
     "Currently, his worth is about $1.59 billion."),
    ("对于 670 万纽约人，有超过 1.15 亿美国人受到影响。", "for 670 million New Yorkers, over 1.15 billion Americans",
     "for 6.7 million New Yorkers, over 115 million Americans"),
    ("投资了 500 多万英镑。", "invested £500 million.", "invested £5 million."),
    ("有5万人参加。", "5 thousand people took part.", "50,000 people took part."),
    # A year the Chinese does not state, after a date.
    ("美国当地时间7月19日，他逝世，享年81岁。", "He died on July 19, 2019, at the age of 81.",
     "He died on July 19, at the age of 81."),
    ("今年9月，他们发布了新模型。", "In September 2019, they released a new model.",
     "In September, they released a new model."),
    # Left alone: right already; the digits twice in the source or the output; a year not after a date.
    ("他的身价为 15.9 亿美元。", "His worth is $1.59 billion.", "His worth is $1.59 billion."),
    ("从100万增加到100亿。", "from 100 million to 100 billion", "from 100 million to 100 billion"),
    ("他有15.9亿美元。", "15.9 billion, or 15.9 billion", "15.9 billion, or 15.9 billion"),
    ("今年他们发布了新模型。", "In 2019, they released a new model.", "In 2019, they released a new model."),
])
def test_repair_numbers(source, output, fixed):
    assert repair_numbers(source, output) == fixed


def test_a_repair_is_kept_only_when_it_leaves_fewer_problems():
    source = "目前，他的身价大约为 15.9 亿美元。"
    assert repaired(source, "His worth is about $15.9 billion.") == "His worth is about $1.59 billion."
    assert fact_problems(source, "His worth is about $1.59 billion.") == []
    assert repaired(source, "His worth is about $1.59 billion.") == "His worth is about $1.59 billion."
    # 今年 with a year the model made up elsewhere: nothing to repair, the flag stays.
    assert repaired("今年他们发布了新模型。", "In 2019, they released it.") == "In 2019, they released it."
    assert check_translation("今年他们发布了新模型。", "In 2019, they released it.") == ["number"]
