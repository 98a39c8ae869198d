"""Segmentation rules in SRX 2.0 (the format CAT tools such as OmegaT and Trados use).

An SRX file holds named *language rules*, each an ordered list of break and
no-break rules, and a *map* from language patterns to rule names. A rule is a
``beforebreak`` and an ``afterbreak`` regular expression: it applies at a
position of the text where the first matches the text just before and the
second the text just after. At each position the first applicable rule decides
(break or not); with ``cascade="yes"`` the rules of every map entry whose
pattern matches the language are tried in map order, otherwise only those of
the first one. The patterns are Java-style regular expressions (``\\p{Lu}``);
they are run with the ``regex`` module, which reads that syntax.

What is read: ``header/@cascade``, ``languagerule`` / ``rule/@break`` /
``beforebreak`` / ``afterbreak``, ``languagemap``. Format handles and
``segmentsubflows`` are about markup and are ignored (TMX segs are plain text).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from toolkit.core.errors import FormatError, InputError

SRX_NAMESPACE = "http://www.lisa.org/srx20"
# A rule's beforebreak is looked for in this many characters before a position: enough for
# any abbreviation or numbering pattern, and it keeps segmenting linear in the text's length.
BEFORE_WINDOW = 80
_HINT = "give an SRX 2.0 file, e.g. examples/segment.srx"


@dataclass(frozen=True)
class SrxRule:
    """One rule: break (or not) where ``before`` ends and ``after`` begins (None: matches anywhere)."""

    breaks: bool
    before: object | None  # compiled regex.Pattern, anchored at the end ("(?:...)\\Z")
    after: object | None  # compiled regex.Pattern, matched at the position

    def applies(self, text: str, position: int) -> bool:
        if self.before is not None and self.before.search(text, max(0, position - BEFORE_WINDOW), position) is None:
            return False
        return self.after is None or self.after.match(text, position) is not None


@dataclass(frozen=True)
class SrxRules:
    """The rules of one SRX file: language rules by name, the language map in order, cascade."""

    rules: dict  # name -> tuple[SrxRule, ...]
    language_map: tuple  # ((compiled language pattern, rule name), ...)
    cascade: bool
    source: str = ""  # the file's name, for signatures
    sha256: str = ""
    path: str = ""  # where it was read from, so a later rewrite of the same memory can read it again

    def rules_for(self, lang: str) -> tuple[SrxRule, ...]:
        """The rules that apply to ``lang`` (``zh-CN``, ``en``), in the order they are tried."""
        found: list[SrxRule] = []
        for pattern, name in self.language_map:
            if pattern.fullmatch(lang):
                found.extend(self.rules.get(name, ()))
                if not self.cascade:
                    break
        return tuple(found)

    def breaks_at(self, text: str, position: int, lang: str, rules: tuple[SrxRule, ...] | None = None) -> bool:
        """Whether ``text`` breaks at ``position``: the first rule that applies there decides; none: no break."""
        for rule in self.rules_for(lang) if rules is None else rules:
            if rule.applies(text, position):
                return rule.breaks
        return False

    def break_positions(self, text: str, lang: str) -> list[int]:
        """Offsets (0 < i < len(text)) where the text breaks into segments."""
        rules = self.rules_for(lang)
        return [position for position in range(1, len(text)) if self.breaks_at(text, position, lang, rules)]

    def segment(self, text: str, lang: str) -> list[str]:
        """``text`` cut at :meth:`break_positions`, each piece stripped; empty pieces dropped.

        Line breaks are positions like any other: a paragraph break is a rule's business.
        """
        cuts = [0, *self.break_positions(text, lang), len(text)]
        pieces = (text[a:b].strip() for a, b in zip(cuts, cuts[1:]))
        return [piece for piece in pieces if piece]

    def describe(self) -> dict:
        return {"file": self.source, "path": self.path, "sha256": self.sha256}


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element, name: str) -> list:
    return [child for child in element if _local(child.tag) == name]


_IGNORECASE = 2  # regex.IGNORECASE, without importing regex at module import


def _compile(pattern: str, where: str, suffix: str = "", flags: int = 0):
    import regex

    try:
        return regex.compile(f"(?:{pattern}){suffix}", flags | regex.VERSION0)
    except regex.error as exc:
        raise FormatError(f"{where}: bad regular expression {pattern!r} ({exc})", "fix the pattern in the SRX file")


def parse_srx(data: bytes, source: str = "<srx>") -> SrxRules:
    """Parse the bytes of an SRX 2.0 file (see the module docstring). Raises FormatError on anything else."""
    import xml.etree.ElementTree as ET

    import defusedxml
    import defusedxml.ElementTree as SafeET

    try:
        root = SafeET.fromstring(data)
    except defusedxml.DefusedXmlException as exc:
        raise FormatError(f"{source} declares XML entities, refused for safety", _HINT) from exc
    except ET.ParseError as exc:
        raise FormatError(f"{source} is not well-formed XML: {exc}", _HINT) from exc
    body = _children(root, "body")
    if _local(root.tag) != "srx" or not body:
        raise FormatError(f"{source} is not an SRX file (root <{_local(root.tag)}>, expected <srx> with a <body>)", _HINT)
    header = _children(root, "header")
    cascade = (header[0].get("cascade", "no") if header else "no").strip().lower()
    if cascade not in ("yes", "no"):
        raise FormatError(f"{source}: header cascade={cascade!r}", "cascade is 'yes' or 'no'")
    rules: dict[str, tuple[SrxRule, ...]] = {}
    for block in _children(body[0], "languagerules"):
        for language in _children(block, "languagerule"):
            name = language.get("languagerulename")
            if not name:
                raise FormatError(f"{source}: a <languagerule> has no languagerulename", _HINT)
            parsed = []
            for number, rule in enumerate(_children(language, "rule"), start=1):
                where = f"{source}, languagerule {name!r}, rule {number}"
                breaks = rule.get("break", "yes").strip().lower()
                if breaks not in ("yes", "no"):
                    raise FormatError(f"{where}: break={breaks!r}", "break is 'yes' or 'no'")
                before = [(e.text or "") for e in _children(rule, "beforebreak")]
                after = [(e.text or "") for e in _children(rule, "afterbreak")]
                if len(before) > 1 or len(after) > 1 or not (before or after):
                    raise FormatError(f"{where}: needs one <beforebreak> and/or one <afterbreak>", _HINT)
                parsed.append(SrxRule(
                    breaks=breaks == "yes",
                    before=_compile(before[0], where, r"\Z") if before and before[0] else None,
                    after=_compile(after[0], where) if after and after[0] else None,
                ))
            rules[name] = rules.get(name, ()) + tuple(parsed)
    language_map = []
    for block in _children(body[0], "maprules"):
        for entry in _children(block, "languagemap"):
            pattern, name = entry.get("languagepattern"), entry.get("languagerulename")
            if pattern is None or not name:
                raise FormatError(f"{source}: a <languagemap> needs languagepattern and languagerulename", _HINT)
            if name not in rules:
                raise FormatError(f"{source}: <languagemap> names languagerule {name!r}, which the file does not define",
                                  "define it or fix the name")
            # Language codes are matched whole and in any case: "ZH.*" maps zh-CN and zh-TW.
            language_map.append((_compile(pattern, f"{source}, languagemap {pattern!r}", flags=_IGNORECASE), name))
    if not language_map:
        raise FormatError(f"{source} maps no language to its rules (no <languagemap>)", _HINT)
    return SrxRules(rules=rules, language_map=tuple(language_map), cascade=cascade == "yes", source=source,
                    sha256=hashlib.sha256(data).hexdigest())


def read_srx(path: str | Path) -> SrxRules:
    """Read an SRX 2.0 file; InputError if it cannot be read, FormatError if it is not usable SRX."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"SRX file {path} does not exist", "check the path given to --srx") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path} is a folder, not an SRX file", "give the .srx file to --srx") from exc
    except OSError as exc:
        raise InputError(f"cannot read SRX file {path}: {exc.strerror or exc}", "check the path given to --srx") from exc
    return replace(parse_srx(data, path.name), path=str(path.resolve()))
