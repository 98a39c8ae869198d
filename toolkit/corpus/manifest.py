"""The corpus manifest: one document pair per row, ``doc_id, zh, en`` (JSONL, CSV or TSV).

``en`` may be empty (the document is translated whole). Paths are local
(relative ones from the manifest's folder) or any fsspec URL. A manifest that
cannot be read as a whole (no such file, unknown columns, a duplicate id) is
refused before any work; a row whose files are bad becomes that document's
error record at run time, and the rest of the corpus goes on.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from toolkit.core.errors import InputError
from toolkit.formats.reader import is_url, read_input_bytes

COLUMNS = ("doc_id", "zh", "en")
# A document id names its result folder: letters, digits, '.', '_', '-', not starting with '.'.
_DOC_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}")


@dataclass(frozen=True)
class Entry:
    """One row of the manifest: a document id and its inputs (``en`` None: translate-only)."""

    doc_id: str
    zh: str
    en: str | None
    line: int


def _resolve(location: str, base: str) -> str:
    if not location or is_url(location) or Path(location).is_absolute() or is_url(base):
        return location
    return str(Path(base) / location)


def read_manifest(location: str | Path) -> list[Entry]:
    """The entries of the manifest at ``location`` (a path or URL), in order.

    The format is told by the suffix (``.jsonl``, ``.csv``, ``.tsv``; others by
    content). Raises InputError naming the line for a row without ``doc_id`` or
    ``zh``, an id that cannot name a folder, or an id used twice.
    """
    location = str(location)
    data = read_input_bytes(location)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{location} is not UTF-8 text", "write the manifest as UTF-8 JSONL, CSV or TSV") from None
    base = location.rsplit("/", 1)[0] if is_url(location) else str(Path(location).parent)
    rows = list(_rows(text, location))
    if not rows:
        raise InputError(f"{location} lists no documents", "give one row per document pair: doc_id, zh, en")
    entries, seen = [], {}
    for line, row in rows:
        unknown = sorted(set(row) - set(COLUMNS))
        if unknown:
            raise InputError(f"{location}, line {line}: unknown column(s) {', '.join(unknown)}",
                             f"the columns are {', '.join(COLUMNS)}")
        doc_id, zh, en = (str(row.get(key) or "").strip() for key in COLUMNS)
        if not doc_id or not zh:
            raise InputError(f"{location}, line {line}: a row needs a doc_id and a zh file",
                             "give doc_id, zh and en (en may be empty) on every row")
        if not _DOC_ID.fullmatch(doc_id):
            raise InputError(f"{location}, line {line}: doc_id {doc_id!r} cannot name a folder",
                             "use letters, digits, '.', '_' and '-' (not starting with '.')")
        if doc_id in seen:
            raise InputError(f"{location}, line {line}: doc_id {doc_id!r} is used twice (also line {seen[doc_id]})",
                             "give every document its own id")
        seen[doc_id] = line
        entries.append(Entry(doc_id, _resolve(zh, base), _resolve(en, base) or None, line))
    return entries


def _rows(text: str, location: str):
    """(line number, row dict) of each non-blank row."""
    suffix = location.lower().rsplit(".", 1)[-1]
    first = next((line for line in text.splitlines() if line.strip()), "")
    if suffix == "jsonl" or (suffix not in ("csv", "tsv") and first.lstrip().startswith("{")):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise InputError(f"{location}, line {number}: not JSON ({exc.msg})",
                                 'write one object per line: {"doc_id": ..., "zh": ..., "en": ...}') from None
            if not isinstance(row, dict):
                raise InputError(f"{location}, line {number}: not a JSON object",
                                 'write one object per line: {"doc_id": ..., "zh": ..., "en": ...}')
            yield number, row
        return
    delimiter = "\t" if suffix == "tsv" or (suffix != "csv" and "\t" in first) else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = None
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip() for cell in row]
            if "doc_id" not in header:
                raise InputError(f"{location}: the first row must name the columns ({', '.join(COLUMNS)})",
                                 "add a header row: doc_id,zh,en")
            continue
        if len(row) > len(header):
            raise InputError(f"{location}, line {number}: {len(row)} fields under a header of {len(header)}",
                             "quote fields that contain the delimiter")
        yield number, dict(zip(header, row))
