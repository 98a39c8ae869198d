"""Output formats of an :class:`~toolkit.core.records.Alignment`, and readers for them.

Every format puts the Chinese side first. Formats:

- ``.align``: vecalign beads, one per line, ``[0, 1]:[0]:0.8123`` (0-based
  indices, ``[]`` for an empty side). Gold files without a score are read too.
- ``.zh.txt`` / ``.en.txt``: one segment per line; the indices refer to these lines.
- ``.jsonl``: one bead per line with its texts and metadata, for review tools.
- ``.tmx``: TMX 1.4b translation memory for CAT tools.
- ``.signature.json``: how the alignment was made, so it can be reproduced.

Bead numbers (JSONL ``id``, TMX ``tuid``) are 1-based, matching the line
number of the bead in the ``.align`` file. Every file is written atomically.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.core.atomic import atomic_write_text, atomic_writer
from toolkit.core.errors import FormatError, InputError, ToolkitError
from toolkit.core.records import Alignment, Bead, Document, Segment, bead_id
from toolkit.core.resultset import FolderLock, recover, staged_set
from toolkit.core.version import __version__

SCORE_DECIMALS = 4
TMX_CREATION_TOOL = "bitext"
ZH_JOINER = ""  # Chinese sentences are written without spaces between them
EN_JOINER = " "
JSONL_KEYS = ("id", "zh_ids", "en_ids", "zh", "en", "score", "type", "origin", "speaker", "kind", "mt", "mt_flags")
JSONL_OPTIONAL = ("mt_flags",)  # added later; files written before it still read

# ---------------------------------------------------------------------------
# vecalign bead format

_INDEX_LIST = r"\[\s*((?:\d+\s*(?:,\s*\d+\s*)*)?)\]"
_SCORE = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_BEAD_LINE = re.compile(rf"^\s*{_INDEX_LIST}\s*:\s*{_INDEX_LIST}\s*(?::\s*({_SCORE})\s*)?$")


def format_bead(bead: Bead) -> str:
    """``Bead((0, 1), (0,), 0.81234)`` -> ``"[0, 1]:[0]:0.8123"``; an empty side is ``[]``."""
    zh = ", ".join(str(i) for i in bead.zh)
    en = ", ".join(str(i) for i in bead.en)
    return f"[{zh}]:[{en}]:{bead.score:.{SCORE_DECIMALS}f}"


def parse_bead(line: str) -> Bead:
    """Parse one ``.align`` line; the score is optional (gold files have none, score 0.0).

    Spaces are optional: ``[0,1]:[0]`` and ``[0, 1]:[0]:0.8123`` both parse.
    Raises FormatError on anything else, including non-contiguous indices.
    """
    match = _BEAD_LINE.match(line)
    if match is None:
        raise FormatError(
            f"not a bead: {line.strip()[:80]!r}",
            "expected '[zh ids]:[en ids]' with an optional ':score', e.g. '[0, 1]:[0]:0.8123'",
        )
    zh_text, en_text, score_text = match.groups()
    zh = tuple(int(i) for i in zh_text.split(",")) if zh_text else ()
    en = tuple(int(i) for i in en_text.split(",")) if en_text else ()
    try:
        return Bead(zh=zh, en=en, score=float(score_text) if score_text else 0.0)
    except ValueError as exc:
        raise FormatError(f"bad bead {line.strip()[:80]!r}: {exc}", "fix or remove this line") from exc


def write_align(path: str | Path, beads: Iterable[Bead]) -> None:
    """Write beads one per line in vecalign format (origin and mt text are not kept)."""
    atomic_write_text(path, "".join(format_bead(bead) + "\n" for bead in beads))


def read_align(path: str | Path) -> list[Bead]:
    """Read a ``.align`` file (ours, vecalign's or a gold file); blank lines are skipped."""
    path = Path(path)
    beads = []
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            beads.append(parse_bead(line))
        except FormatError as exc:
            raise FormatError(f"{path}, line {number}: {exc.message}", exc.hint) from exc
    return beads


# ---------------------------------------------------------------------------
# plain sentences

# Everything str.splitlines() breaks on, so a reader splitting lines any way
# gets back exactly one line per segment.
_LINE_BREAKS = re.compile("\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def _one_line(text: str) -> str:
    return _LINE_BREAKS.sub(" ", text)


def write_sentences(path: str | Path, document: Document) -> None:
    """Write one segment text per line, so line ``i`` (0-based) is segment ``i``.

    Line breaks inside a text become spaces.
    """
    with atomic_writer(path) as handle:
        for segment in document.segments:
            handle.write(_one_line(segment.text) + "\n")


# ---------------------------------------------------------------------------
# shared helpers for the text-bearing formats


def _side(document: Document, ids: Sequence[int], bead_number: int) -> list[Segment]:
    for i in ids:
        if not 0 <= i < len(document.segments):
            raise ToolkitError(
                f"bead {bead_number} refers to {document.lang} sentence {i}, but "
                f"{document.name!r} has {len(document.segments)} sentences",
                "the beads do not belong to this document pair; re-run the alignment",
            )
    return [document.segments[i] for i in ids]


def _bead_speaker(zh: list[Segment], en: list[Segment]) -> str | None:
    for segment in (*zh, *en):
        if segment.speaker:
            return segment.speaker
    return None


def _bead_kind(zh: list[Segment], en: list[Segment]) -> str:
    """The kind shared by all segments of the zh side (the en side for a 0-n bead).

    A side mixing kinds (a heading glued to a sentence) counts as "sentence".
    """
    kinds = {segment.kind for segment in (zh or en)}
    return kinds.pop() if len(kinds) == 1 else "sentence"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"{path} does not exist", "check the path") from exc
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path} is not UTF-8 text", "re-save it as UTF-8") from exc


# ---------------------------------------------------------------------------
# JSONL


def bead_records(alignment: Alignment) -> list[dict]:
    """One dict per bead with the keys of :data:`JSONL_KEYS` (what ``write_jsonl`` writes)."""
    records = []
    for number, bead in enumerate(alignment.beads, start=1):
        zh = _side(alignment.zh, bead.zh, number)
        en = _side(alignment.en, bead.en, number)
        records.append(
            {
                "id": bead.id or bead_id(number),
                "zh_ids": list(bead.zh),
                "en_ids": list(bead.en),
                "zh": ZH_JOINER.join(s.text for s in zh),
                "en": EN_JOINER.join(s.text for s in en),
                "score": float(bead.score),  # a numpy float32 would not serialise
                "type": bead.kind,
                "origin": bead.origin,
                "speaker": _bead_speaker(zh, en),
                "kind": _bead_kind(zh, en),
                "mt": bead.mt_text,
                "mt_flags": list(bead.mt_flags),
            }
        )
    return records


def record_english(record: Mapping) -> str:
    """The English of a bead record: its original's text; for a bead without one, a reviewer's
    ``translation``, else (origin ``mt``) the machine translation; else ""."""
    if record.get("en_ids") or (record.get("en") or "").strip():
        return record.get("en") or ""
    if record.get("translation"):
        return record["translation"]
    if record.get("origin") == "mt":
        return record.get("mt") or ""
    return ""


def write_jsonl(path: str | Path, alignment: Alignment) -> None:
    """Write one JSON object per bead (UTF-8, not ASCII-escaped); keys in :data:`JSONL_KEYS`."""
    write_records(path, bead_records(alignment))


def write_records(path: str | Path, records: Iterable[Mapping]) -> None:
    """Replace a JSONL file with ``records``, one JSON object per line (UTF-8, not ASCII-escaped)."""
    with atomic_writer(path) as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_jsonl(path: str | Path) -> list[dict]:
    """Read the records written by :func:`write_jsonl`; blank lines are skipped.

    Raises FormatError naming the line if a line is not a JSON object with all
    of :data:`JSONL_KEYS`.
    """
    path = Path(path)
    records = []
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FormatError(f"{path}, line {number}: not JSON ({exc.msg})", "fix or remove this line") from exc
        if not isinstance(record, dict):
            raise FormatError(f"{path}, line {number}: expected a JSON object", "one bead object per line")
        missing = [key for key in JSONL_KEYS if key not in record and key not in JSONL_OPTIONAL]
        if missing:
            raise FormatError(
                f"{path}, line {number}: missing keys {', '.join(missing)}",
                f"each line needs {', '.join(k for k in JSONL_KEYS if k not in JSONL_OPTIONAL)}",
            )
        records.append(record)
    return records


# ---------------------------------------------------------------------------
# TMX 1.4b

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Characters XML 1.0 forbids (C0 controls except tab/LF/CR, lone surrogates, U+FFFE/F).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def zh_language_tag(document: Document) -> str:
    """``"zh-TW"`` for a document detected as traditional script, else ``"zh-CN"``."""
    return script_language_tag(document.script)


def script_language_tag(script: str | None) -> str:
    """The TMX tag of Chinese written in ``script``: ``"zh-TW"`` for traditional, else ``"zh-CN"``."""
    return "zh-TW" if script == "traditional" else "zh-CN"


def _clean(text: str) -> str:
    """Drop XML-illegal characters and fold line breaks into spaces (a seg is one line)."""
    return _one_line(_XML_ILLEGAL.sub("", text))


def _escape_text(text: str) -> str:
    # ">" too, so a "]]>" in the text cannot end anything.
    return _clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attr(value: str) -> str:
    # Tabs would be normalised to spaces by any XML parser; a character reference keeps them.
    return _escape_text(value).replace('"', "&quot;").replace("'", "&apos;").replace("\t", "&#9;")


def _prop(prop_type: str, value: str, indent: str) -> str:
    return f'{indent}<prop type="{_escape_attr(prop_type)}">{_escape_text(value)}</prop>\n'


def _tuv(lang: str, text: str) -> str:
    return f'      <tuv xml:lang="{_escape_attr(lang)}"><seg>{_escape_text(text)}</seg></tuv>\n'


# Optional record keys written as TMX props (record key -> prop type), when present and not None:
# sentence BLEU / chrF from `bitext score` (or a scored `bitext align`), a review's verdict.
TMX_SCORE_PROPS = (("bleu", "x-bleu"), ("chrf", "x-chrf"))
TMX_RECORD_PROPS = (*TMX_SCORE_PROPS, ("review", "x-review"))
TMX_UNREVIEWED = "pending"  # a review state that is not written (the unit was not reviewed)
_REVIEW_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z")


def write_tmx(path: str | Path, alignment: Alignment, zh_lang: str | None = None) -> None:
    """Write the alignment as a TMX 1.4b memory, one ``<tu>`` per bead (see :func:`write_tmx_records`).

    The Chinese tag is ``zh_lang`` or, by default, :func:`zh_language_tag`.
    """
    write_tmx_records(path, bead_records(alignment), alignment.signature, zh_lang or zh_language_tag(alignment.zh))


def write_tmx_records(path: str | Path, records: Sequence[Mapping], signature: Mapping, zh_lang: str) -> None:
    """Write bead records (:func:`bead_records`, possibly with extra keys) as a TMX 1.4b memory.

    One ``<tu>`` per record, ``tuid`` its id, ``changedate`` its ``reviewed_at``
    (if any). Each tu carries props ``x-origin``, ``x-score``, ``x-bead-type``,
    ``x-speaker`` (when known), ``x-mt-flags`` (when any) and those of
    :data:`TMX_RECORD_PROPS` the record has (a ``review`` of "pending" is not
    written); the header carries ``signature`` as JSON in ``x-signature``. A bead
    with an empty side gets a tu with just the tuv it has. The English tuv of a bead
    without an English original is its ``translation`` (a reviewer's), else, for
    origin ``mt``, its ``mt`` text. XML-illegal control characters are dropped and
    line breaks become spaces.
    """
    signature_json = json.dumps(signature, sort_keys=True, ensure_ascii=False, default=str)
    header_attrs = {
        "creationtool": TMX_CREATION_TOOL,
        "creationtoolversion": __version__,
        "segtype": "sentence",
        "o-tmf": TMX_CREATION_TOOL,
        "adminlang": "en",
        "srclang": zh_lang,
        "datatype": "plaintext",
    }
    with atomic_writer(path) as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write('<!DOCTYPE tmx SYSTEM "tmx14.dtd">\n')
        out.write('<tmx version="1.4">\n')
        attrs = " ".join(f'{key}="{_escape_attr(value)}"' for key, value in header_attrs.items())
        out.write(f"  <header {attrs}>\n")
        out.write(_prop("x-signature", signature_json, "    "))
        out.write("  </header>\n  <body>\n")
        for record in records:
            changed = _REVIEW_TIME.fullmatch(str(record.get("reviewed_at") or ""))
            date = ' changedate="{}{}{}T{}{}{}Z"'.format(*changed.groups()) if changed else ""
            out.write(f'    <tu tuid="{record["id"]}"{date}>\n')
            out.write(_prop("x-origin", record["origin"], "      "))
            out.write(_prop("x-score", f"{float(record['score']):.{SCORE_DECIMALS}f}", "      "))
            out.write(_prop("x-bead-type", record["type"], "      "))
            if record.get("speaker"):
                out.write(_prop("x-speaker", record["speaker"], "      "))
            if record.get("mt_flags"):
                out.write(_prop("x-mt-flags", " ".join(record["mt_flags"]), "      "))
            for key, prop_type in TMX_RECORD_PROPS:
                if record.get(key) is not None and not (key == "review" and record[key] == TMX_UNREVIEWED):
                    out.write(_prop(prop_type, _number(record[key]), "      "))
            if record["zh_ids"]:
                out.write(_tuv(zh_lang, record["zh"]))
            english = record_english(record)
            if record["en_ids"] or english:
                out.write(_tuv("en", english))
            out.write("    </tu>\n")
        out.write("  </body>\n</tmx>\n")


def _number(value) -> str:
    """A prop value for a number: as written in the record (``12.5``), never ``1.25e+01``."""
    return f"{value:g}" if isinstance(value, float) and abs(value) < 1e15 else str(value)


# Inline elements whose content is native markup (e.g. RTF codes), not text. A <sub>
# inside them is a separate flow (a footnote, an alt text), not part of the sentence.
_TMX_CODE_ELEMENTS = frozenset({"bpt", "ept", "it", "ph", "ut"})
# Primary language subtags (ISO 639-1, -2/B, -2/T, -3) read as our two sides.
_TMX_SIDES = {"zh": "zh", "zho": "zh", "chi": "zh", "cmn": "zh", "en": "en", "eng": "en"}
# Chinese script subtags and regions: which script a tuv's tag says it is in.
_TRADITIONAL_TAGS = frozenset({"hant", "tw", "hk", "mo"})
_SIMPLIFIED_TAGS = frozenset({"hans", "cn", "sg", "my"})


@dataclass(frozen=True)
class TmxUnit:
    """One ``<tu>`` as read back: its zh and en text (None if absent), their tags, props, notes.

    ``props`` maps each ``<prop type>`` of the tu to its text (the first one of a
    type wins); ``attributes`` are the tu's XML attributes (``tuid``, ``changedate``...).
    """

    zh: str | None
    en: str | None
    props: dict
    zh_lang: str | None = None
    en_lang: str | None = None
    notes: tuple[str, ...] = ()
    attributes: dict = field(default_factory=dict)

    @property
    def tuid(self) -> str | None:
        return self.attributes.get("tuid")


@dataclass(frozen=True)
class TranslationMemory:
    """A TMX file as read back: header attributes and props, and its units in file order."""

    header: dict
    header_props: dict
    units: tuple[TmxUnit, ...]


def _local(tag) -> str:
    """``{ns}tu`` -> ``tu``: some tools put the TMX elements in a namespace."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def tmx_side(lang: str) -> str | None:
    """``"ZH-Hans"``, ``"zh_TW"``, ``"zho"`` -> ``"zh"``; ``"EN-us"``, ``"eng"`` -> ``"en"``; others None."""
    primary = re.split(r"[-_]", lang.strip().lower(), maxsplit=1)[0]
    return _TMX_SIDES.get(primary)


def tmx_zh_script(lang: str) -> str | None:
    """The script a Chinese tag names: ``zh-TW``/``zh-Hant`` -> traditional, ``zh-CN``/``zh-Hans`` -> simplified, bare ``zh`` None."""
    subtags = set(re.split(r"[-_]", lang.strip().lower())[1:])
    if subtags & _TRADITIONAL_TAGS and not subtags & {"hans"}:
        return "traditional"
    if subtags & _SIMPLIFIED_TAGS:
        return "simplified"
    return None


_WRAPPED_LINE = re.compile(rf"[ \t]*(?:{_LINE_BREAKS.pattern})[ \t]*")


def _seg_parts(element: ET.Element, parts: list[str]) -> None:
    """Append the text pieces of ``element``'s content to ``parts``, depth first.

    Iterative, with a stack of (children, tail) pairs: a seg nested thousands deep (a hostile
    or broken memory) must not exhaust Python's recursion limit.
    """
    stack: list[tuple] = [(iter(element), None)]
    while stack:
        children, _ = stack[-1]
        child = next(children, None)
        if child is None:
            _, tail = stack.pop()
            if tail is not None:
                parts.append(tail)
            continue
        if _local(child.tag) not in _TMX_CODE_ELEMENTS:
            parts.append(child.text or "")
            stack.append((iter(child), child.tail or ""))  # its tail follows its content
            continue
        if parts and parts[-1].endswith(" ") and (child.tail or "").startswith(" "):
            # "a <ph/> b": the code stood between two spaces; keep one of them.
            parts[-1] = parts[-1].rstrip(" ") + " "
            parts.append(child.tail.lstrip(" "))
            continue
        parts.append(child.tail or "")


def _seg_text(seg: ET.Element) -> str:
    """The text of a seg: inline codes dropped (their content is markup), ``<hi>`` and such kept.

    A line break and the spaces around it become one space (a seg is one line, as
    write_tmx writes it; a tool that wraps long segs indents the next line) and the
    ends are stripped; everything else, tabs included, is kept as written.
    """
    parts = [seg.text or ""]
    _seg_parts(seg, parts)
    return _WRAPPED_LINE.sub(" ", "".join(parts)).strip()


def read_tmx_memory(path: str | Path) -> TranslationMemory:
    """Read a TMX memory (1.1 to 1.4b, as written by us or a CAT tool) with everything we use from it.

    A tuv counts for a side by its language tag (``xml:lang``, or TMX 1.1's ``lang``),
    any case and form: ``zh``, ``ZH-CN``, ``zh-Hans``, ``zh_TW``, ``zho`` are Chinese;
    ``en``, ``EN-US``, ``eng`` English; other languages are ignored. The first tuv of
    a side wins, in whatever order the tuvs come. A seg's text drops inline codes
    (``bpt``, ``ept``, ``it``, ``ph``, ``ut``: native markup) and keeps the text of
    ``hi`` and other elements; an empty seg counts as a missing side. Any encoding
    XML declares (UTF-16 with BOM as Trados writes) is read. Parsed with defusedxml:
    entity declarations (billion laughs, external entities) are refused. Raises InputError if
    the file is missing, FormatError if it is not XML, not TMX or declares entities.
    """
    import defusedxml
    import defusedxml.ElementTree as SafeET  # entities refused by us, whatever the system's expat allows

    path = Path(path)
    try:
        root = SafeET.parse(path).getroot()
    except defusedxml.DefusedXmlException as exc:
        raise FormatError(f"{path} declares XML entities, refused for safety ({type(exc).__name__})",
                          "a TMX memory needs no entity declarations; remove the <!DOCTYPE ...[...]> block") from exc
    except FileNotFoundError as exc:
        raise InputError(f"{path} does not exist", "check the path") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path} is a folder, not a TMX file", "give the .tmx file") from exc
    except ET.ParseError as exc:
        raise FormatError(f"{path} is not well-formed XML: {exc}", "is this really a TMX file?") from exc
    bodies = _children(root, "body")
    if _local(root.tag) != "tmx" or not bodies:
        raise FormatError(f"{path} is not a TMX file (root <{_local(root.tag)}>)", "expected <tmx> with a <body>")
    headers = _children(root, "header")
    header = headers[0] if headers else ET.Element("header")
    units = []
    for tu in bodies[0].iter():
        if _local(tu.tag) != "tu":
            continue
        props: dict[str, str] = {}
        for prop in _children(tu, "prop"):
            props.setdefault(prop.get("type", ""), prop.text or "")
        texts: dict[str, str] = {}
        langs: dict[str, str] = {}
        for tuv in _children(tu, "tuv"):
            lang = tuv.get(_XML_LANG) or tuv.get("lang") or ""
            side = tmx_side(lang)
            segs = _children(tuv, "seg")
            text = _seg_text(segs[0]) if segs else ""
            if side and text and side not in texts:
                texts[side], langs[side] = text, lang
        units.append(TmxUnit(
            zh=texts.get("zh"), en=texts.get("en"), props=props, zh_lang=langs.get("zh"), en_lang=langs.get("en"),
            notes=tuple((note.text or "").strip() for note in _children(tu, "note")), attributes=dict(tu.attrib),
        ))
    header_props: dict[str, str] = {}
    for prop in _children(header, "prop"):
        header_props.setdefault(prop.get("type", ""), prop.text or "")
    return TranslationMemory(header=dict(header.attrib), header_props=header_props, units=tuple(units))


def read_tmx(path: str | Path) -> list[tuple[str | None, str | None, dict]]:
    """Read a TMX memory back as ``(zh, en, props)`` per ``<tu>``, in file order.

    The short form of :func:`read_tmx_memory` (see there for what is accepted): a
    side is None when the tu has no non-empty tuv in that language; ``props`` maps
    each ``<prop type>`` of the tu to its text.
    """
    return [(unit.zh, unit.en, unit.props) for unit in read_tmx_memory(path).units]


# ---------------------------------------------------------------------------
# signature and everything at once


def write_signature(path: str | Path, signature: dict) -> None:
    """Write the signature as indented JSON with sorted keys (non-JSON values as strings)."""
    text = json.dumps(signature, sort_keys=True, indent=2, ensure_ascii=False, default=str)
    atomic_write_text(path, text + "\n")


def read_signature(path: str | Path) -> dict:
    """Read a signature written by :func:`write_signature`."""
    path = Path(path)
    try:
        signature = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path} is not JSON: {exc.msg}", "a signature is one JSON object") from exc
    if not isinstance(signature, dict):
        raise FormatError(f"{path} is not a JSON object", "a signature is one JSON object")
    return signature


def output_paths(out_dir: str | Path, name: str) -> dict[str, Path]:
    """The files :func:`write_alignment` writes for ``name``, by format."""
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise ToolkitError(
            f"alignment name {name!r} cannot be used as a file name",
            "name the document pair without path separators",
        )
    out_dir = Path(out_dir)
    suffixes = {
        "align": ".align",
        "zh": ".zh.txt",
        "en": ".en.txt",
        "jsonl": ".jsonl",
        "tmx": ".tmx",
        "signature": ".signature.json",
    }
    return {key: out_dir / f"{name}{suffix}" for key, suffix in suffixes.items()}


def write_alignment(out_dir: str | Path, alignment: Alignment,
                    records: Sequence[Mapping] | None = None,
                    extra: Mapping[str, Callable[[Path], None]] | None = None,
                    keep_others: bool = True, aside: Iterable[str] = (), aside_to: Path | None = None,
                    command: str = "") -> list[Path]:
    """Write every format for ``alignment`` into ``out_dir`` (created if needed), as one set.

    ``records`` replaces :func:`bead_records` in the JSONL and TMX: the same
    records with keys added, e.g. the ``bleu`` and ``chrf`` of a scored run.
    ``extra`` maps more file names of the set to functions writing them at a path
    (e.g. ``NAME.score.json``). The set is written as a whole
    (:mod:`toolkit.core.resultset`): under the folder's lock, staged, then committed
    with its manifest, so readers see the old set or the new one, never a mix; see
    :func:`toolkit.core.resultset.staged_set` for ``keep_others``, ``aside`` and ``aside_to``.
    Returns the paths in this order: ``.align``, ``.zh.txt``, ``.en.txt``,
    ``.jsonl``, ``.tmx``, ``.signature.json``, then those of ``extra``.
    """
    paths = output_paths(out_dir, alignment.name)
    own = bead_records(alignment)  # fail on beads that do not fit the documents before writing any file
    if records is None:
        records = own
    elif [r["id"] for r in records] != [r["id"] for r in own]:
        raise ValueError(f"{len(records)} records given for the {len(own)} beads of {alignment.name}")
    extra = dict(extra or {})
    out_dir = Path(out_dir)
    with FolderLock(out_dir, command or "bitext"):
        recover(out_dir, alignment.name, set_members(alignment.name))
        with staged_set(out_dir, alignment.name, command, keep_others=keep_others, aside=aside,
                        aside_to=aside_to, members=set_members(alignment.name)) as staging:
            staged = output_paths(staging, alignment.name)
            write_align(staged["align"], alignment.beads)
            write_sentences(staged["zh"], alignment.zh)
            write_sentences(staged["en"], alignment.en)
            write_records(staged["jsonl"], records)
            write_tmx_records(staged["tmx"], records, alignment.signature, zh_language_tag(alignment.zh))
            write_signature(staged["signature"], alignment.signature)
            for filename, writer in extra.items():
                writer(staging / filename)
    return [*paths.values(), *(out_dir / filename for filename in extra)]


# Files of a set besides those of output_paths: the score report (toolkit.score.metrics.REPORT_SUFFIX).
EXTRA_SET_SUFFIXES = (".score.json",)


def set_members(name: str) -> list[str]:
    """The file names a result set for ``name`` may hold (for cleaning up after an interrupted write)."""
    return [path.name for path in output_paths(".", name).values()] + [f"{name}{s}" for s in EXTRA_SET_SUFFIXES]
