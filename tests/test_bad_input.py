"""Bad input, table-driven: every case of issue 10 and the earlier audits, through the CLI.

Each case builds its inputs in a fresh folder, runs one ``bitext`` command in-process
(typer's CliRunner) and checks the exit code, the message (one ``Error:`` line, never a
traceback), how fast a refusal comes (before the work), and the files afterwards.
``scripts/bad_input_table.py`` runs the same table as subprocesses and prints it as the
case / exit code / message / files table of the closing note.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from filesystems import can_mount, fill, mount_tmpfs


ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ZH_TEXT = (EXAMPLES / "interview.zh.txt").read_text(encoding="utf-8")
EN_TEXT = (EXAMPLES / "interview.en.txt").read_text(encoding="utf-8")
# Traditional script, so the Big5 case is a real one.
ZH_TRADITIONAL = "主持人：你為什麼要做這個工具？\n張偉：因為譯者每天都在手工對齊句子。\n我們希望機器先做一遍，再由人來檢查。\n"


@dataclass
class Run:
    """What a case runs: the CLI arguments (``{tmp}`` is replaced by the case's folder) and the cwd."""

    args: list[str]
    cwd: Path | None = None
    env: dict = field(default_factory=dict)


@dataclass
class Case:
    id: str
    setup: Callable[[Path], Run]
    exit_code: int
    message: str | None = None        # regex the output must match
    forbid: str | None = None         # regex the output must not match
    fast: bool = False                # a refusal that must come before the work (under a second)
    check: Callable[[Path], None] | None = None  # the files afterwards
    root: bool = False                # needs root (a mount)


# ---------------------------------------------------------------------------
# builders


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def align_run(tmp: Path, zh: bytes | str = ZH_TEXT, en: bytes | str = EN_TEXT, *extra: str, out: str = "out") -> Run:
    write(tmp / "talk.zh.txt", zh)
    write(tmp / "talk.en.txt", en)
    return Run(["align", str(tmp / "talk.zh.txt"), str(tmp / "talk.en.txt"), "-o", str(tmp / out), "-q", *extra])


def loud(run: Run) -> Run:
    """The run without -q, so its summary lines are seen."""
    return Run([a for a in run.args if a != "-q"], run.cwd, run.env)


def insert(data: bytes, at: float, extra: bytes) -> bytes:
    cut = int(len(data) * at)
    return data[:cut] + extra + data[cut:]


def gbk_with_bad_byte() -> bytes:
    data = ZH_TEXT.encode("gbk")
    # after a complete two-byte character: the fifth line's start
    cut = data.index("主持人：它".encode("gbk"))
    return data[:cut] + b"\xff" + data[cut:]


def utf8_with_bad_byte() -> bytes:
    data = ZH_TEXT.encode("utf-8")
    cut = data.index("主持人：它".encode("utf-8"))
    return data[:cut] + b"\xff" + data[cut:]


def ascii_with_bad_bytes() -> bytes:
    data = EN_TEXT.encode("ascii")
    cut = data.index(b"It is a huge")
    return data[:cut] + b"\xfe\xff" + data[cut:]


def cp1252_english() -> bytes:
    return (EN_TEXT.replace("Why did you", "\u201cWhy\u201d did you") + "Caf\u00e9 au lait \u2013 fine.\n").encode("cp1252")


def reviewed_folder(tmp: Path, name: str = "talk") -> Path:
    """A small aligned folder (written by the library, no embedding) and its review journal, exported."""
    from typer.testing import CliRunner

    from toolkit.cli import app
    from toolkit.core.records import Alignment, Bead, Document, Segment
    from toolkit.formats.writers import write_alignment

    out = tmp / "out"
    zh = ["主持人：你好。", "张伟：你好。", "我们开始吧。"]
    en = ["Host: Hello.", "Zhang Wei: Hello.", "Let's start."]
    zh_doc = Document(name, "zh", tuple(Segment(i, t, t, "zh") for i, t in enumerate(zh)), "simplified")
    en_doc = Document(name, "en", tuple(Segment(i, t, t, "en") for i, t in enumerate(en)))
    beads = tuple(Bead((i,), (i,), 0.9) for i in range(3))
    write_alignment(out, Alignment(name, zh_doc, en_doc, beads, {"tool": "bitext", "zh_script_in": "simplified"}))
    result = CliRunner().invoke(app, ["review", str(out), "--approve", "1"])
    assert result.exit_code == 0, result.output
    return out


def journal_of(folder: Path) -> Path:
    return next(folder.glob("*.review.journal"))


def setup_truncated_journal(tmp: Path) -> Run:
    from typer.testing import CliRunner

    from toolkit.cli import app

    out = reviewed_folder(tmp)
    assert CliRunner().invoke(app, ["review", str(out), "--merge", "1"]).exit_code == 0  # renumbers: a new .align
    journal = journal_of(out)
    lines = journal.read_text(encoding="utf-8").splitlines(keepends=True)
    journal.write_text("".join(lines[:-1]), encoding="utf-8")  # the last (export) line cut off by hand
    return Run(["review", str(out), "--list"])


def setup_foreign_journal_line(tmp: Path) -> Run:
    out = reviewed_folder(tmp / "a")
    other = reviewed_folder(tmp / "b", name="talk")
    from typer.testing import CliRunner

    from toolkit.cli import app

    assert CliRunner().invoke(app, ["review", str(other), "--approve", "2"]).exit_code == 0
    foreign = [line for line in journal_of(other).read_text(encoding="utf-8").splitlines(keepends=True)
               if '"approve"' in line and '"first": 2' in line]
    with open(journal_of(out), "a", encoding="utf-8") as handle:
        handle.write(foreign[0])
    return Run(["review", str(out), "--list"])


def setup_realign_reviewed(tmp: Path, *extra: str) -> Run:
    run = align_run(tmp, ZH_TEXT, EN_TEXT, *extra, out="out")
    # the folder already holds a reviewed alignment of the same name
    from typer.testing import CliRunner

    from toolkit.cli import app

    first = CliRunner().invoke(app, run.args[:-1] if extra else run.args)  # a first, plain alignment
    assert first.exit_code == 0, first.output
    assert CliRunner().invoke(app, ["review", str(tmp / "out"), "--approve", "1"]).exit_code == 0
    return run


def setup_published(tmp: Path) -> Run:
    run = align_run(tmp)
    out = tmp / "out"
    # a published edition: what scripts/build_editions.sh keeps (no .align)
    write(out / "talk.jsonl", '{"id": 1}\n')
    write(out / "talk.signature.json", "{}\n")
    write(out / "talk.tmx", "<tmx/>\n")
    write(out / "talk.html", "<html>edition</html>\n")
    return run


def setup_mismatched(tmp: Path, command: str) -> Run:
    """A complete folder whose .jsonl was replaced by another run's (what concurrent runs left)."""
    from typer.testing import CliRunner

    from toolkit.cli import app

    a = align_run(tmp, out="a")
    assert CliRunner().invoke(app, a.args).exit_code == 0
    shutil.copytree(tmp / "a", tmp / "b")  # the other run's files (same beads)
    b_jsonl = (tmp / "b" / "talk.jsonl").read_text(encoding="utf-8").splitlines()
    # another run: same beads but other scores (as a run with other settings would write)
    changed = [json.dumps({**json.loads(line), "score": 0.1234}, ensure_ascii=False) for line in b_jsonl]
    write(tmp / "a" / "talk.jsonl", "\n".join(changed) + "\n")
    if command == "export":
        return Run(["export", str(tmp / "a"), "--to", "tmx", "-o", str(tmp / "x.tmx"), "-q"])
    shutil.copy(tmp / "b" / "talk.align", tmp / "gold.align")
    (tmp / "a" / "talk.align").write_text("[0]:[0]:0.5000\n", encoding="utf-8")  # .align from another run
    return Run(["eval", str(tmp / "gold.align"), str(tmp / "a" / "talk.align")])


def setup_tmx(tmp: Path, body: str, doctype: str = "") -> Run:
    tmx = ('<?xml version="1.0" encoding="UTF-8"?>\n' + doctype +
           '<tmx version="1.4"><header srclang="zh-CN" creationtool="x" creationtoolversion="1" segtype="sentence" '
           'o-tmf="x" adminlang="en" datatype="plaintext"/><body>' + body + "</body></tmx>\n")
    write(tmp / "memory.tmx", tmx)
    return Run(["export", str(tmp / "memory.tmx"), "--to", "jsonl", "-o", str(tmp / "train.jsonl"), "-q",
                "--keep-one-sided"])


def tu(zh: str, en: str) -> str:
    return f'<tu><tuv xml:lang="zh-CN"><seg>{zh}</seg></tuv><tuv xml:lang="en"><seg>{en}</seg></tuv></tu>'


BILLION_LAUGHS = ('<!DOCTYPE tmx [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                            for i in range(1, 10))
                  + "]>\n")
EXTERNAL_ENTITY = '<!DOCTYPE tmx [<!ENTITY secret SYSTEM "file:///etc/hostname">]>\n'


def deep_seg(depth: int) -> str:
    return "<hi>" * depth + "深" + "</hi>" * depth




def umount_all(tmp: Path) -> None:
    mounts = Path("/proc/mounts").read_text().splitlines()
    for line in reversed(mounts):
        point = line.split()[1]
        if point.startswith(str(tmp)):
            subprocess.run(["umount", "-l", point], check=False)




def setup_readonly(tmp: Path) -> Run:
    run = align_run(tmp)
    mount_tmpfs(tmp / "out")
    subprocess.run(["mount", "-o", "remount,ro", str(tmp / "out")], check=True)
    return run


def setup_disk_full(tmp: Path) -> Run:
    run = align_run(tmp)
    mount_tmpfs(tmp / "out", "64k")
    fill(tmp / "out" / "filler")
    return run




def setup_registry_model_missing(tmp: Path) -> Run:
    models = tmp / "models"
    write(models / "registry.json", json.dumps({"models": {"tiny": {"backend": "llm", "file": "tiny.gguf",
                                                                   "size": 1000}}}))
    run = align_run(tmp, ZH_TEXT, EN_TEXT, "--mt", "tiny")
    run.env = {"BITEXT_MODELS_DIR": str(models)}
    return run


def setup_registry_model_truncated(tmp: Path) -> Run:
    run = setup_registry_model_missing(tmp)
    write(tmp / "models" / "tiny.gguf", b"GGUF" + b"\0" * 100)  # registry says 1000 bytes
    return run


def setup_default_output(tmp: Path) -> Run:
    run = align_run(tmp)
    return Run(run.args[:3] + ["-q"], cwd=tmp)


def check_default_output(tmp: Path) -> None:
    assert not (tmp / "aligned").exists(), "a plain align must not write into the project's aligned/"
    assert list(tmp.rglob("talk.align")), "the alignment was written somewhere under the current folder"


def setup_empty_gold(tmp: Path) -> Run:
    write(tmp / "gold.align", "")
    write(tmp / "pred.align", "[0]:[0]:0.5\n")
    return Run(["eval", str(tmp / "gold.align"), str(tmp / "pred.align")])


# ---------------------------------------------------------------------------
# what the files afterwards must be


def nothing_written(tmp: Path) -> None:
    out = tmp / "out"
    leftovers = [p.name for p in out.rglob("*")] if out.exists() else []
    assert not [n for n in leftovers if n.startswith("talk") or n.endswith(".tmp")], leftovers


def complete_set(tmp: Path) -> None:
    out = tmp / "out"
    names = {p.name for p in out.iterdir()}
    assert {f"talk{s}" for s in (".align", ".zh.txt", ".en.txt", ".jsonl", ".tmx", ".signature.json")} <= names
    assert not [n for n in names if n.endswith(".tmp") or n.startswith(".talk")], names


def tmx_round_trips(tmp: Path) -> None:
    from toolkit.formats.writers import read_tmx

    complete_set(tmp)
    units = read_tmx(tmp / "out" / "talk.tmx")
    assert any(zh and "<b>" in zh and "&amp;" in zh for zh, _, _ in units)
    assert any(en and "]]>" in en for _, en, _ in units)


def published_untouched(tmp: Path) -> None:
    assert (tmp / "out" / "talk.html").read_text() == "<html>edition</html>\n"
    assert (tmp / "out" / "talk.jsonl").read_text() == '{"id": 1}\n'
    assert not (tmp / "out" / "talk.align").exists()


def reviewed_untouched(tmp: Path) -> None:
    out = tmp / "out"
    journal = journal_of(out)
    assert json.loads(journal.read_text(encoding="utf-8").splitlines()[-1])["op"] == "export"
    records = [json.loads(line) for line in (out / "talk.jsonl").read_text(encoding="utf-8").splitlines()]
    assert records[0].get("review") == "approved"


def journal_kept_aside(tmp: Path) -> None:
    complete_set(tmp)
    out = tmp / "out"
    journals = [p for p in out.rglob("*journal*")]
    assert journals, "the review journal was deleted"
    assert not (out / "talk.review.journal").exists(), "the old journal was left where it no longer fits"


def readonly_intact(tmp: Path) -> None:
    assert list((tmp / "out").iterdir()) == []


def disk_full_intact(tmp: Path) -> None:
    assert [p.name for p in (tmp / "out").iterdir()] == ["filler"]


# ---------------------------------------------------------------------------
# the table

ENCODING_PLACE = r"byte (offset )?[\d,]+"

CASES = [
    # input files
    Case("missing file", lambda t: Run(["align", str(t / "nope.zh.txt"), str(t / "nope.en.txt"), "-o", str(t / "out")]),
         1, r"does not exist", fast=True, check=nothing_written),
    Case("directory as input", lambda t: align_run(t) and Run(["align", str(t), str(t / "talk.en.txt"), "-o", str(t / "out")]),
         1, r"is a directory", fast=True, check=nothing_written),
    Case("binary (PNG) as Chinese", lambda t: align_run(t, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)) * 4),
         1, r"is a PNG image, not a text file.*OCR", fast=True, check=nothing_written),
    Case("PDF as English", lambda t: align_run(t, ZH_TEXT, b"%PDF-1.7\n" + bytes(range(256)) * 4), 1,
         r"is a PDF document.*convert it to text first", forbid=r"UTF-16", fast=True, check=nothing_written),
    Case("unknown binary as Chinese", lambda t: align_run(t, b"\x13\x37\0\0" + bytes(range(256)) * 4),
         1, r"looks binary", fast=True, check=nothing_written),
    Case("empty Chinese file", lambda t: align_run(t, b""), 1, r"is empty", fast=True, check=nothing_written),
    Case("empty English file", lambda t: align_run(t, ZH_TEXT, b""), 1, r"is empty", fast=True, check=nothing_written),
    Case("whitespace-only English", lambda t: align_run(t, ZH_TEXT, " \n\t\n"), 1, r"only whitespace", fast=True,
         check=nothing_written),
    Case("GBK Chinese", lambda t: align_run(t, ZH_TEXT.encode("gbk")), 0, check=complete_set),
    Case("Big5 Chinese (traditional)", lambda t: align_run(t, ZH_TRADITIONAL.encode("big5")), 0, check=complete_set),
    Case("UTF-16 with BOM", lambda t: align_run(t, ZH_TEXT.encode("utf-16")), 0, check=complete_set),
    Case("GBK with one bad byte", lambda t: align_run(t, gbk_with_bad_byte()), 1,
         r"GBK|GB18030", forbid=r"order of the arguments|looks like English", fast=True, check=nothing_written),
    Case("UTF-8 with one bad byte", lambda t: align_run(t, utf8_with_bad_byte()), 1,
         r"UTF-8.*" + ENCODING_PLACE, forbid=r"order of the arguments", fast=True, check=nothing_written),
    Case("ASCII English with bad bytes", lambda t: align_run(t, ZH_TEXT, ascii_with_bad_bytes()), 1,
         ENCODING_PLACE, fast=True, check=nothing_written),
    Case("Windows-1252 English (curly quotes, é)", lambda t: align_run(t, ZH_TEXT, cp1252_english()), 0,
         check=complete_set),
    Case("English given as Chinese (swapped)", lambda t: align_run(t, EN_TEXT, ZH_TEXT), 1,
         r"looks like English.*order of the arguments", fast=True, check=nothing_written),
    Case("English on both sides", lambda t: align_run(t, EN_TEXT, EN_TEXT), 1, r"looks like English", fast=True,
         check=nothing_written),
    Case("Chinese on both sides", lambda t: align_run(t, ZH_TEXT, ZH_TEXT), 1, r"looks like Chinese", fast=True,
         check=nothing_written),
    Case("3 control characters in Chinese", lambda t: align_run(t, ZH_TEXT.replace("。", "\x1b[31m。", 3)), 1,
         r"control character", forbid=r"looks binary", fast=True, check=nothing_written),
    Case("3 control characters in English", lambda t: align_run(t, ZH_TEXT, EN_TEXT.replace(".", "\x1b[31m.", 3)), 1,
         r"control character", fast=True, check=nothing_written),
    Case("a 10,000-character line", lambda t: align_run(t, ZH_TEXT + "很" * 3000 + "\n", EN_TEXT + ("word " * 2000) + "\n"), 0,
         check=complete_set),
    Case("XML specials in the text", lambda t: align_run(
        t, ZH_TEXT.replace("这个工具", "<b>这个工具</b> &amp; ]]>"), EN_TEXT.replace("this tool", "this <b>tool</b> & ]]>")),
        0, check=tmx_round_trips),
    Case("sides wildly out of proportion", lambda t: align_run(t, ZH_TEXT * 40, EN_TEXT), 1,
         r"proportion.*--force|--force", fast=True, check=nothing_written),
    # options and models
    Case("output path is a file", lambda t: (write(t / "out", "a file"), align_run(t))[1], 1, r"is a file|not a folder",
         fast=True, check=lambda t: None),
    Case("output folder read-only", setup_readonly, 1, r"read-only|not writable|cannot write", fast=True,
         check=readonly_intact, root=True),
    Case("output disk full", setup_disk_full, 1, r"space", fast=True, check=disk_full_intact, root=True),
    Case("--mt unknown model", lambda t: align_run(t, ZH_TEXT, EN_TEXT, "--mt", "qwen9b"), 1, r"qwen9b", fast=True,
         check=nothing_written),
    Case("--mt registry model not installed", setup_registry_model_missing, 1, r"not installed", fast=True,
         check=nothing_written),
    Case("--mt registry model truncated", setup_registry_model_truncated, 1, r"incomplete", fast=True,
         check=nothing_written),
    Case("--score without a model", lambda t: align_run(t, ZH_TEXT, EN_TEXT, "--score"), 1, r"--score needs",
         fast=True, check=nothing_written),
    Case("--threshold 5", lambda t: align_run(t, ZH_TEXT, EN_TEXT, "--threshold", "5"), 1, r"threshold", fast=True,
         check=nothing_written),
    Case("--mt none (no scoring message)", lambda t: loud(align_run(t, ZH_TEXT, EN_TEXT, "--mt", "none")),
         0, forbid=r"not scored: no MT model", check=complete_set),
    Case("translate --mt none", lambda t: align_run(t) and Run(["translate", str(t / "talk.zh.txt"), "-o", str(t / "out"),
                                                                "--mt", "none"]),
         0, forbid=r"segments translated", check=lambda t: None),
    # result folders
    Case("re-align a reviewed folder", setup_realign_reviewed, 1, r"review.*--force|--force", fast=True,
         check=reviewed_untouched),
    Case("re-align a reviewed folder --force", lambda t: setup_realign_reviewed(t, "--force"), 0,
         check=journal_kept_aside),
    Case("re-align over a published edition", setup_published, 1, r"--force", fast=True, check=published_untouched),
    Case("plain align: default output folder", setup_default_output, 0, check=check_default_output),
    Case("export of a mixed set", lambda t: setup_mismatched(t, "export"), 1, r"manifest|another run|does not match",
         check=lambda t: None),
    Case("eval of a mixed set", lambda t: setup_mismatched(t, "eval"), 1, r"manifest|another run|does not match",
         check=lambda t: None),
    Case("eval with an empty gold file", setup_empty_gold, 1, r"empty|no beads", check=lambda t: None),
    # journals
    Case("journal tail truncated by hand", setup_truncated_journal, 1, r"cut short|truncated",
         forbid=r"another alignment", check=lambda t: None),
    Case("journal line from another alignment", setup_foreign_journal_line, 1, r"another (journal|alignment|review)",
         check=lambda t: None),
    # hostile TMX
    Case("TMX: 2,000-deep nested inline element", lambda t: setup_tmx(t, tu(deep_seg(2000), "Deep.")), 0,
         forbid=r"Traceback|RecursionError", check=lambda t: None),
    Case("TMX: billion laughs", lambda t: setup_tmx(t, tu("&lol9;", "x"), BILLION_LAUGHS), 1, r"entit",
         fast=True, check=lambda t: None),
    Case("TMX: external entity", lambda t: setup_tmx(t, tu("&secret;", "x"), EXTERNAL_ENTITY), 1, r"entit",
         fast=True, check=lambda t: None),
]


def run_in_process(case: Case, tmp: Path):
    """(exit code, output, seconds) of ``case`` run through CliRunner in ``tmp``."""
    from typer.testing import CliRunner

    from toolkit.cli import app

    run = case.setup(tmp)
    old_cwd, old_env, old_argv = Path.cwd(), dict(os.environ), sys.argv
    try:
        os.chdir(run.cwd or tmp)
        os.environ.update(run.env)
        sys.argv = ["bitext", *run.args]
        started = time.perf_counter()
        result = CliRunner().invoke(app, run.args)
        seconds = time.perf_counter() - started
    finally:
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)
        sys.argv = old_argv
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        output += "".join(traceback.format_exception(result.exception))
    return result.exit_code, output, seconds


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path):
    if case.root and not can_mount():
        pytest.skip("needs root to mount a small tmpfs (read-only / full disk)")
    try:
        code, output, seconds = run_in_process(case, tmp_path)
        assert "Traceback" not in output, output
        assert code == case.exit_code, output
        if case.exit_code:
            errors = [line for line in output.splitlines() if line.startswith("Error: ")]
            assert len(errors) == 1, output
        if case.message:
            assert re.search(case.message, output, re.S), output
        if case.forbid:
            assert not re.search(case.forbid, output, re.S), output
        if case.fast:
            assert seconds < 1.0, f"refused after {seconds:.2f} s, not before the work"
        if case.check:
            case.check(tmp_path)
    finally:
        if case.root:
            umount_all(tmp_path)
