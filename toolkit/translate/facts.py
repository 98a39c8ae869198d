"""The facts a translation must carry over: numbers, dates, percentages and Latin-script names.

Pure string functions, no model. :func:`chinese_number` reads a Chinese or mixed
numeral (一万二千 -> 12000, 3.5亿 -> 350000000, 二〇二四 -> 2024);
:func:`source_facts` finds the numbers of a Chinese sentence with what they are
(a plain number, a percentage, a year, a month, a day, a decade such as 90后);
:func:`english_values` reads every number an English sentence states, in digits
or words (10,000 / ten thousand / 10 thousand / 3.5 million / third);
:func:`latin_names` finds the Latin-script names a Chinese sentence contains
(Panken, Garry Tan, LLM OS). The output checks (:mod:`toolkit.translate.checks`)
combine them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_BIG_UNITS = {"万": 10 ** 4, "亿": 10 ** 8}
ARABIC = r"\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CN_START = "".join(CN_DIGITS) + "十"  # 百/千/万/亿 alone open words (千万 "by all means", 万一 "in case")
_CN_ANY = "".join(CN_DIGITS) + "".join(CN_SMALL_UNITS) + "".join(CN_BIG_UNITS)
# A numeral: Arabic digits or Chinese numerals, possibly mixed (3.5亿, 3亿5000万); full-width digits are
# folded to ASCII first (see _fold_digits).
# 千米, 千克, 千瓦 (km, kg, kW) are units, not thousands.
NUMERAL = re.compile(rf"(?:{ARABIC}|[{_CN_START}])(?:{ARABIC}|(?![千百][米克瓦])[{_CN_ANY}]|点(?=[{''.join(CN_DIGITS)}]))*")
# WMT-style Chinese puts spaces around digits ("500 万英镑", "2016 年 10 月"): drop them before units.
_SPACE_BEFORE_UNIT = re.compile(r"(?<=\d)\s+(?=[万亿年月日号%％后世])")
# 500多万, 10余亿 ("more than 5 million"): the number is the one before 多 with the unit after it.
_MORE_BEFORE_UNIT = re.compile(r"(?<=[\d十百千])\s*[多余]\s*(?=[万亿])")
# Words before or after a numeral that make it approximate (数十万 "hundreds of thousands",
# 十几 "a dozen or so", 几百): no exact value to check.
APPROX_BEFORE = ("数", "几", "好")
APPROX_AFTER = ("几", "来")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
MONTH_ABBREVIATIONS = {9: ("Sept", "Sep")}  # others: the first three letters (Jan, Feb, ...)


# Traditional forms of the characters numbers are read with (萬 億 兩 點 後 世紀 號 幾 數 餘), folded to the
# simplified ones, so a traditional-script source (zh-TW, zh-HK) has its numbers checked too.
_TRADITIONAL = str.maketrans("萬億兩點後紀號幾數餘", "万亿两点后纪号几数余")


def _fold_digits(text: str) -> str:
    folded = text.translate({0xFF10 + d: 0x30 + d for d in range(10)} | {0xFF0E: ord("."), 0xFF05: ord("%")})
    return folded.translate(_TRADITIONAL)


def chinese_number(text: str) -> int | float | None:
    """The value of a numeral in Chinese characters, Arabic digits or both; None if it is not one.

    一万二千 -> 12000, 十五 -> 15, 一千零五 -> 1005, 3.5亿 -> 350000000, 3亿5000万 -> 350000000,
    三万亿 -> 3000000000000, 二〇二四 -> 2024 (digits without units read positionally), 1,200 -> 1200.
    An integral value is returned as an int.
    """
    text = _fold_digits(text.strip())
    if not text:
        return None
    if "点" in text:  # 十五点二亿: 15.2 x 10^8
        whole, _, rest = text.partition("点")
        digits = "".join(ch for ch in rest if ch in CN_DIGITS)
        scale = chinese_number("一" + rest[len(digits):]) if rest[len(digits):] else 1
        if chinese_number(whole) is None or not digits or scale is None:
            return None
        value = (chinese_number(whole) + float("0." + "".join(str(CN_DIGITS[ch]) for ch in digits))) * scale
        return _exact(value)
    if all(ch in CN_DIGITS for ch in text):  # 二〇二四: digit by digit
        value = 0
        for ch in text:
            value = value * 10 + CN_DIGITS[ch]
        return value
    total, section, number = 0.0, 0.0, None
    pos = 0
    while pos < len(text):
        ch = text[pos]
        arabic = re.match(ARABIC, text[pos:])
        if arabic:
            number = float(arabic.group().replace(",", ""))
            pos += arabic.end()
            continue
        if ch in CN_DIGITS:
            if number:  # 十一五 (the 11th Five-Year Plan), 五六十 (fifty or sixty): no one value
                return None
            number = CN_DIGITS[ch]
        elif ch in CN_SMALL_UNITS:
            section += (1 if number is None else number) * CN_SMALL_UNITS[ch]
            number = None
        elif ch == "万":
            section = (section + (number or 0)) * CN_BIG_UNITS[ch]
            number = None
        elif ch == "亿":
            total = (total + section + (number or 0)) * CN_BIG_UNITS[ch]
            section, number = 0.0, None
        else:
            return None
        pos += 1
    return _exact(total + section + (number or 0))


def _exact(value: float) -> int | float:
    """``value`` without the binary fraction's error (1.15 x 10^8 is 114999999.99999999 in floats), an
    int when it is whole."""
    value = round(value, 6)
    return int(value) if float(value).is_integer() else value


@dataclass(frozen=True)
class Fact:
    """One number of a Chinese sentence: ``kind`` (number, percent, year, month, day, decade, century,
    hundred_years: 一百年, which English may call a centenary),
    the Chinese it was read from (``zh``) and its ``value`` (the month's number for a month,
    the two digits for a decade: 90后 -> 90)."""

    kind: str
    zh: str
    value: int | float

    def english(self) -> str:
        """How the English may say it, for a retry's prompt: September, 10,000, 20%, the 1990s."""
        if self.kind == "month":
            return MONTHS[int(self.value) - 1]
        if self.kind == "decade":
            value = int(self.value)
            century = 1900 if value >= 30 else 2000
            return f"the {century + value if value < 100 else value}s"
        number = f"{self.value:,}" if self.kind not in ("year", "day") else str(self.value)
        return number + "%" if self.kind == "percent" else number

    def found_in(self, english: str, values: set[float] | None = None) -> bool:
        """True if ``english`` renders this fact (``values``: its :func:`english_values`, if known)."""
        if self.kind == "month":
            month = int(self.value)
            names = (MONTHS[month - 1], *MONTH_ABBREVIATIONS.get(month, (MONTHS[month - 1][:3],)))
            return any(re.search(rf"\b{name}\b", english, re.IGNORECASE) for name in names)
        if self.kind == "decade":
            two = int(self.value) % 100
            century = 19 if two >= 30 else 20
            decade_word = DECADE_WORDS.get(two)
            pattern = rf"(?:\b|')(?:{century})?{two:02d}['’]?s\b|\bpost-{two:02d}\b"
            if decade_word:
                pattern += rf"|\b{decade_word}\b"
            return re.search(pattern, english, re.IGNORECASE) is not None
        values = english_values(english) if values is None else values
        if self.kind == "hundred_years" and CENTURY_WORDS.search(english):
            return True
        if self.kind == "century":  # 18世纪: the 18th century, or the 1700s
            return _contains(values, float(self.value)) or any(
                (self.value - 1) * 100 <= v < self.value * 100 for v in values)
        return _contains(values, float(self.value))


CENTURY_WORDS = re.compile(r"\bcenten(?:ary|aries|nial|nials)\b|\bcentur(?:y|ies)\b|\bhundred[- ]years?\b",
                           re.IGNORECASE)
DECADE_WORDS = {20: "twenties", 30: "thirties", 40: "forties", 50: "fifties", 60: "sixties",
                70: "seventies", 80: "eighties", 90: "nineties"}


def _contains(values: set[float], value: float) -> bool:
    return any(abs(v - value) <= 1e-9 * max(1.0, abs(value)) for v in values)


def source_facts(source: str) -> list[Fact]:
    """The numbers of a Chinese sentence that a translation must state, in order.

    Left out, because no single English rendering is right: numerals inside a
    Latin-script word (COVID-19, A380: the ``latin`` check keeps those whole),
    approximate ones (数十万, 十几, 几百), single Chinese digits (一个, 两岸, 三星:
    English says "a", "cross-strait", "Samsung"), Chinese digits without units
    unless they are a year (一一, 五四), and fractions other than 百分之N.
    """
    text = _SPACE_BEFORE_UNIT.sub("", _MORE_BEFORE_UNIT.sub("", _fold_digits(source)))
    latin_spans = [m.span() for m in LATIN_NAME.finditer(text) if not _is_unit(m.group())]
    facts: list[Fact] = []
    for match in NUMERAL.finditer(text):
        zh, start, end = match.group(), match.start(), match.end()
        before, after = text[max(0, start - 3):start], text[end:end + 2]
        if any(a <= start < b for a, b in latin_spans):
            continue
        if before.endswith(APPROX_BEFORE) or after.startswith(APPROX_AFTER) or after.startswith("分之"):
            continue
        if before.endswith("分之") and not before.endswith("百分之"):
            continue
        value = chinese_number(zh)
        if value is None:
            continue
        chinese_only = not re.search(r"\d", zh)
        units = any(ch in zh for ch in "十百千万亿")
        if after.startswith("月") and 1 <= value <= 12 and float(value).is_integer():
            facts.append(Fact("month", zh + "月", int(value)))
        elif after.startswith("年代") and value in (*range(10, 100, 10), *range(1900, 2100, 10)):
            facts.append(Fact("decade", zh + "年代", int(value) % 100))
        elif after.startswith("后") and not chinese_only and len(zh) == 2 and int(value) % 10 == 0:
            facts.append(Fact("decade", zh + "后", int(value)))
        elif after.startswith("年") and (not chinese_only or len(zh) == 4) and 1000 <= value <= 2100:
            facts.append(Fact("year", zh + "年", int(value)))
        elif after.startswith("年") and value == 100:  # 两个一百年: the two centenary goals
            facts.append(Fact("hundred_years", zh + "年", 100))
        elif after.startswith("世纪") and 1 <= value <= 21:
            facts.append(Fact("century", zh + "世纪", int(value)))
        elif after.startswith(("%", "％")) or before.endswith("百分之"):
            facts.append(Fact("percent", ("百分之" + zh) if before.endswith("百分之") else zh + "%", value))
        elif chinese_only and (not units or len(zh) == 1):
            continue
        elif after.startswith(("日", "号")) and 1 <= value <= 31:
            facts.append(Fact("day", zh + after[0], int(value)))
        else:
            facts.append(Fact("year" if _looks_like_year(zh, value) else "number", zh, value))
    return facts


def _looks_like_year(zh: str, value) -> bool:
    return bool(re.fullmatch(r"(?:19|20)\d\d", zh)) and 1900 <= value <= 2099


# English numbers in words: "twenty-five", "three hundred and twelve", "a million", "third".
_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
             "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
             "twentieth": 20, "thirtieth": 30, "hundredth": 100}
WORD_VALUES = {**{w: i for i, w in enumerate(_ONES)}, **_TENS, "dozen": 12, "half": 0.5}
SCALES = {"hundred": 100, "thousand": 10 ** 3, "million": 10 ** 6, "billion": 10 ** 9, "trillion": 10 ** 12,
          "k": 10 ** 3, "m": 10 ** 6, "bn": 10 ** 9, "mn": 10 ** 6}
_EN_TOKEN = re.compile(rf"{ARABIC}|[A-Za-z]+")


def english_values(text: str) -> set[float]:
    """Every number ``text`` states, as floats: digits (12,000; 3.5; 5G; 19th), digits with a scale
    word (3.5 billion, 10 thousand, $2bn) and numbers in words (ten thousand, twenty-five, a million,
    a dozen, third). A scaled number also counts unscaled (3.5 billion: 3.5 and 3.5e9)."""
    values: set[float] = set()
    tokens = [t.lower() for t in _EN_TOKEN.findall(_fold_digits(text).replace("-", " "))]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token[0].isdigit():
            number = float(token.replace(",", ""))
            values.add(number)
            if "." in token:  # 10.42pm: also the hour and the minutes
                values.update(float(part) for part in token.replace(",", "").split("."))
            if i + 1 < len(tokens) and tokens[i + 1] in SCALES:
                number *= SCALES[tokens[i + 1]]
                values.add(number)
                i += 1
                while i + 1 < len(tokens) and tokens[i + 1] in SCALES and SCALES[tokens[i + 1]] > 100:
                    number *= SCALES[tokens[i + 1]]  # "1.2 thousand billion": rare, but exact
                    values.add(number)
                    i += 1
            i += 1
            continue
        if token in _ORDINALS:
            values.add(float(_ORDINALS[token]))
        start = i
        if token in ("a", "an") and i + 1 < len(tokens) and tokens[i + 1] in SCALES and tokens[i + 1] not in ("k", "m"):
            tokens[i] = "one"
        value, i = _read_number_words(tokens, i)
        if value is not None:
            values.add(float(value))
        elif i == start:
            i += 1
    return values


def _read_number_words(tokens: list[str], i: int) -> tuple[float | None, int]:
    """A run of number words from ``tokens[i]``: (value, index after it), or (None, i)."""
    total, section, seen = 0.0, 0.0, False
    start = i
    while i < len(tokens):
        token = tokens[i]
        if token in WORD_VALUES and token != "half":
            section += WORD_VALUES[token]
        elif token in SCALES and token not in ("k", "m", "bn", "mn") and seen:
            if token == "hundred":
                section *= 100
            else:
                total += section * SCALES[token]
                section = 0.0
        elif token == "and" and seen and i + 1 < len(tokens) and tokens[i + 1] in WORD_VALUES:
            pass
        else:
            break
        seen = True
        i += 1
    if not seen:
        return None, start
    return total + section, i


_L = "A-Za-z\u00c0-\u024f"  # ASCII and accented Latin letters (François, Rättsmedicinalverket)
LATIN_NAME = re.compile(rf"(?<![{_L}0-9])[0-9]*[{_L}][{_L}0-9]*(?:[.'&+\-][{_L}0-9]+)*"
                        rf"(?:\s+[{_L}0-9][{_L}0-9]*(?:[.'&+\-][{_L}0-9]+)*)*")
# Units and abbreviations a translation rightly spells out or rewrites (5km -> 5 kilometres).
LATIN_UNITS = frozenset("km kg cm mm m g mg ml l t h s min kw kwh mw gw mb gb tb kb hz ghz mhz ppm vs".split())


def latin_names(source: str) -> list[str]:
    """The runs of Latin-script words in a Chinese sentence (Panken, Garry Tan, LLM OS, COVID-19), in
    order, each once; units (km, kg) are left out. A translation keeps them as they are."""
    names = []
    for match in LATIN_NAME.finditer(_fold_digits(source)):
        name = match.group().strip()
        if _is_unit(name):
            continue
        if name not in names:
            names.append(name)
    return names


def _is_unit(name: str) -> bool:
    return re.sub(r"^[\d.]+", "", name).lower() in LATIN_UNITS


def contains_verbatim(text: str, name: str) -> bool:
    """True if ``name`` occurs in ``text`` as whole words, in any case; spaces, hyphens, dots and
    ampersands inside it may differ, a space may come between letters and digits (Note7 / Note 7),
    and a plural or possessive s may follow it (CD / CDs)."""
    parts = [re.escape(p) for p in re.findall(r"[^\W\d_]+|\d+", name)]
    if not parts:
        return True
    pattern = r"(?<![^\W_])" + r"[\s\-.&'’+]*".join(parts) + r"(?:['’]?s)?(?![^\W\d_])"
    return re.search(pattern, _fold_digits(text), re.IGNORECASE) is not None


# A year in digits; not a decade ("the 1970s", "1990's": the decade check reads those).
YEAR_IN_ENGLISH = re.compile(r"(?<![\d,.$])(?:19|20)\d\d(?!\d|,\d|\.\d|\s*(?:%|percent)|['’]?s\b)")


def extra_years(source: str, output: str) -> list[int]:
    """Years (1900-2099, in digits) the English states that the Chinese does not: 今年9月 -> "September 2019"."""
    stated = {int(f.value) for f in source_facts(source) if f.kind in ("year", "number") and float(f.value).is_integer()}
    stated |= {int(v) for v in english_values(_fold_digits(source)) if float(v).is_integer()}
    out = []
    for match in YEAR_IN_ENGLISH.finditer(output):
        year = int(match.group())
        if year not in stated and year not in out:
            out.append(year)
    return out


# ---------------------------------------------------------------------------
# Repairs: number mistakes a model makes the same way every time, put right by rule

_BIG_UNIT_AMOUNT = re.compile(rf"({ARABIC})(万亿|万|亿)")
_ENGLISH_SCALE = r"\s*(?:thousand|million|billion|trillion|bn|mn|m)\b"
_ANY_MONTH = "|".join(MONTHS)


def english_amount(value: int | float) -> str:
    """``value`` as English news writes an amount: 6.7 million, 1.59 billion, 50,000."""
    for word, scale in (("trillion", 10 ** 12), ("billion", 10 ** 9), ("million", 10 ** 6)):
        if value >= scale:
            return f"{_exact(value / scale):,} {word}"
    return f"{_exact(value):,}"


def repair_numbers(source: str, output: str) -> str:
    """``output`` with two systematic mistakes put right; the same text where there is neither.

    - The digits of a 万/亿 amount kept with the wrong English scale: 15.9亿 -> "15.9 billion"
      (it is 1.59 billion), 670万 -> "670 million" (6.7 million). Repaired when the output does not
      state the amount, its Chinese digits occur once in the source's amounts and exactly once in
      the output before a scale word; they are rewritten as :func:`english_amount` says.
    - A year the Chinese does not state, after a month or a month and day: "July 19, 2019" for
      7月19日 -> "July 19"; a year elsewhere ("in 2019") is left (and stays flagged).
    """
    text = output
    facts = source_facts(source)
    amounts = [(fact, m.group(1)) for fact in facts if fact.kind == "number"
               for m in [_BIG_UNIT_AMOUNT.fullmatch(fact.zh)] if m]
    digits_used = Counter(digits for _, digits in amounts)
    for fact, digits in amounts:
        if digits_used[digits] > 1 or fact.found_in(text):
            continue
        hits = list(re.finditer(rf"(?<![\d.,]){re.escape(digits)}{_ENGLISH_SCALE}", text, re.IGNORECASE))
        if len(hits) == 1:
            hit = hits[0]
            text = text[:hit.start()] + english_amount(fact.value) + text[hit.end():]
    for year in extra_years(source, text):
        text = re.sub(rf"\b((?:{_ANY_MONTH})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?),?\s+{year}\b", r"\1", text)
        text = re.sub(rf"\b({_ANY_MONTH}),?\s+(?:of\s+)?{year}\b", r"\1", text)
    return text
