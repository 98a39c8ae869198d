"""An append-only JSON-lines journal that survives crashes.

The first line is a header (a JSON object written atomically when the journal
is created); every later line is one entry, appended with a single write and
fsynced before :meth:`Journal.append` returns. A crash can therefore only
damage the last line: on open, a last line that is incomplete (no newline) or
not JSON is ignored and reported in :attr:`Journal.warnings`, and cut off
before the next append so new entries start on a clean line. Damage anywhere
else is not a crash artefact and raises :class:`JournalError`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from toolkit.core.atomic import atomic_write_text, fsync_dir
from toolkit.core.errors import ToolkitError


class JournalError(ToolkitError):
    """A journal cannot be used: damaged, not a journal, or from another alignment."""


class Journal:
    """One journal file: its ``header`` and ``entries`` (dicts, in file order)."""

    def __init__(self, path: Path, header: dict, entries: list[dict], good_bytes: int, warnings: list[str]):
        self.path = path
        self.header = header
        self.entries = entries
        self.warnings = warnings
        self._good_bytes = good_bytes  # length of the file up to the last complete line
        self._tail_damaged = bool(warnings)

    @classmethod
    def create(cls, path: str | Path, header: dict) -> Journal:
        """Write a new journal holding only ``header``; refuses to replace an existing file."""
        path = Path(path)
        if path.exists():
            raise JournalError(f"{path} already exists", "open it instead, or move it away to start anew")
        line = _encode(header)
        atomic_write_text(path, line)
        fsync_dir(path.parent)  # the new directory entry must survive a crash too
        return cls(path, header, [], len(line.encode("utf-8")), [])

    @classmethod
    def open(cls, path: str | Path) -> Journal:
        """Read a journal; an incomplete last line is dropped with a warning, never an exception."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise JournalError(f"cannot read {path}: {exc.strerror or exc}", "check the file's permissions") from exc
        lines = data.split(b"\n")
        # After the final newline split() leaves b""; anything else there is a line cut short.
        complete, tail = lines[:-1], lines[-1]
        warnings = []
        if tail.strip(b"\0 \t\r"):
            warnings.append(f"{path.name}: ignored an incomplete last line (the session was interrupted while writing it)")
        good_bytes = len(data) - len(tail)
        objects = []
        for number, raw in enumerate(complete, start=1):
            entry = _decode(raw)
            if entry is None:
                if number == len(complete) and number > 1 and not warnings:
                    warnings.append(f"{path.name}: ignored a damaged last line (the session was interrupted while writing it)")
                    good_bytes -= len(raw) + 1
                    break
                raise JournalError(f"{path}, line {number} is damaged (not a JSON object)",
                                   f"the journal can only be repaired by hand; or move {path.name} away to start a new review")
            objects.append(entry)
        if not objects:
            raise JournalError(f"{path} has no header line", f"move {path.name} away to start a new review")
        return cls(path, objects[0], objects[1:], good_bytes, warnings)

    def append(self, entry: dict) -> None:
        """Add one entry as one line, flushed and fsynced before returning."""
        line = _encode(entry).encode("utf-8")
        with open(self.path, "r+b") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size < self._good_bytes or (size > self._good_bytes and not self._tail_damaged):
                # Another process wrote to it since we read it; appending now would mix two histories.
                raise JournalError(f"{self.path.name} was changed by another review session",
                                   "close the other session and open the review again; nothing was lost")
            if self._tail_damaged:
                handle.truncate(self._good_bytes)
                self._tail_damaged = False
            handle.seek(self._good_bytes)
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        self._good_bytes += len(line)
        self.entries.append(entry)


def _encode(entry: dict) -> str:
    # ensure_ascii=False keeps Chinese readable; json escapes newlines, so one entry is one line.
    return json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"


def _decode(raw: bytes) -> dict | None:
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return entry if isinstance(entry, dict) else None
