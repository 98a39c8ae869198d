"""Fault injection on real ``bitext align`` subprocesses: kills at each phase, concurrent writers,
Ctrl-C, a disk that fills up and a folder that turns read-only while the alignment runs.

Each run writes into a folder that already holds a complete result set (the *old* one, the
example: 9 zh / 9 en sentences) a *new* one (the example with one more sentence pair on each
side). After every fault the folder must hold the old complete set or the new complete set,
never a mix, and a reader (``bitext export``) must read it and say which.

A run is stopped at a chosen phase by the documented test hook ``BITEXT_TEST_PAUSE_AT=PHASE``
(``toolkit.core.resultset.PAUSE_ENV``): the process sends itself SIGSTOP there, so the test
can observe it from outside and send a real SIGKILL, SIGINT or SIGCONT. Phases: ``work`` (the
checks passed and the folder is locked, nothing computed yet), ``staged`` (the new set is
written in the staging folder, not committed), ``commit`` (half of the new files moved into
place) and ``done`` (all moved, the staging folder not yet removed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filesystems import can_mount, fill, mount_tmpfs
from typer.testing import CliRunner


ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ZH_TEXT = (EXAMPLES / "interview.zh.txt").read_text(encoding="utf-8")
EN_TEXT = (EXAMPLES / "interview.en.txt").read_text(encoding="utf-8")
EXTRA_ZH = "主持人：谢谢你今天来参加节目。\n"
EXTRA_EN = "Host: Thank you for joining us today.\n"
SET_SUFFIXES = (".align", ".zh.txt", ".en.txt", ".jsonl", ".tmx", ".signature.json")
PAUSE_ENV = "BITEXT_TEST_PAUSE_AT"
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists() or not hasattr(signal, "SIGSTOP"),
                                reason="watches processes through /proc and stops them with SIGSTOP (Linux)")
SIZES = {9: "old", 10: "new"}


def env(**extra) -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e.update(extra)
    return e


def inputs(tmp: Path) -> tuple[Path, Path, Path, Path]:
    old, new = tmp / "in-old", tmp / "in-new"
    for folder, zh, en in ((old, ZH_TEXT, EN_TEXT), (new, ZH_TEXT + EXTRA_ZH, EN_TEXT + EXTRA_EN)):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "talk.zh.txt").write_text(zh, encoding="utf-8")
        (folder / "talk.en.txt").write_text(en, encoding="utf-8")
    return old / "talk.zh.txt", old / "talk.en.txt", new / "talk.zh.txt", new / "talk.en.txt"


def start(zh: Path, en: Path, out: Path, pause: str | None = None, quiet: bool = True) -> subprocess.Popen:
    extra = {PAUSE_ENV: pause} if pause else {}
    args = [sys.executable, "-m", "toolkit", "align", str(zh), str(en), "-o", str(out), *(["-q"] if quiet else [])]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(**extra))


def state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "gone"


def wait_stopped(proc: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until ``proc`` has stopped itself at its pause point; fail if it ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended (exit {proc.returncode}) without pausing: {err.strip()[-300:]}")
        if state(proc.pid) == "T":
            return
        time.sleep(0.01)
    proc.kill()
    pytest.fail("the run did not reach its pause point")


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def label(n) -> str:
    return SIZES.get(n, f"? ({n})")


def which_set(out: Path, name: str = "talk") -> str:
    """'old', 'new', or 'mixed: ...' judged from every file of the set on its own."""
    labels = {}
    for suffix in (".zh.txt", ".en.txt"):
        labels[suffix] = label(len((out / f"{name}{suffix}").read_text(encoding="utf-8").splitlines()))
    align = (out / f"{name}.align").read_text(encoding="utf-8").splitlines()
    labels[".align"] = label(1 + max(int(i) for line in align for i in re.findall(r"\d+", line.split("]:")[0])))
    records = [json.loads(line) for line in (out / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
    labels[".jsonl"] = label(1 + max(i for r in records for i in r["zh_ids"]))
    signature = json.loads((out / f"{name}.signature.json").read_text(encoding="utf-8"))
    labels[".signature.json"] = label(signature["sentences"]["zh"])
    tmx = (out / f"{name}.tmx").read_text(encoding="utf-8")
    labels[".tmx"] = label(len(re.findall(r'xml:lang="zh', tmx)) and
                           json.loads(re.search(r'"sentences": (\{[^}]*\})', tmx.replace("&quot;", '"')).group(1))["zh"])
    found = set(labels.values())
    return found.pop() if len(found) == 1 else f"mixed: {labels}"


def reader_says(out: Path, tmp: Path) -> tuple[int, str]:
    """``bitext export OUT --to jsonl``: (exit code, output); a reader of the folder."""
    from toolkit.cli import app

    result = CliRunner().invoke(app, ["export", str(out), "--to", "jsonl", "-o", str(tmp / "read.jsonl"), "-q",
                                      "--keep-one-sided"])
    return result.exit_code, result.output


def debris(out: Path) -> list[str]:
    """Temporary files and folders a run left behind (lock files are not debris)."""
    return sorted(p.name for p in out.iterdir() if p.name.endswith(".tmp") or "staging" in p.name)


@pytest.fixture(scope="module")
def old_set(tmp_path_factory) -> Path:
    """The old complete set, made once by a real run."""
    tmp = tmp_path_factory.mktemp("old-set")
    zh, en, _, _ = inputs(tmp)
    code, err = finish(start(zh, en, tmp / "out"))
    assert code == 0, err
    return tmp / "out"


@pytest.fixture
def case(tmp_path, old_set):
    """(inputs of the new set, an output folder holding a copy of the old set)."""
    _, _, zh, en = inputs(tmp_path)
    out = tmp_path / "out"
    shutil.copytree(old_set, out)
    assert which_set(out) == "old"
    return zh, en, out


@pytest.mark.parametrize("phase, expected", [("work", "old"), ("staged", "old"), ("commit", "new"), ("done", "new")])
def test_sigkill_at_each_phase(case, tmp_path, phase, expected):
    zh, en, out = case
    proc = start(zh, en, out, pause=phase)
    wait_stopped(proc)
    proc.send_signal(signal.SIGKILL)
    finish(proc)
    code, output = reader_says(out, tmp_path)
    assert code == 0, output
    assert which_set(out) == expected
    if phase == "staged":
        # leftovers of the killed run (and of an older version's per-file writes) go on the next run
        (out / ".talk.jsonl.k2j3h4.tmp").write_text("half", encoding="utf-8")
        code, err = finish(start(zh, en, out))
        assert code == 0, err
        assert which_set(out) == "new"
        assert debris(out) == []


def test_second_writer_is_refused_while_the_first_runs(case, tmp_path):
    zh, en, out = case
    first = start(zh, en, out, pause="work", quiet=False)
    wait_stopped(first)
    try:
        old_zh, old_en = tmp_path / "in-old" / "talk.zh.txt", tmp_path / "in-old" / "talk.en.txt"
        started = time.monotonic()
        code, err = finish(start(old_zh, old_en, out))
        assert code == 1, err
        assert re.search(r"another bitext|being written|locked", err), err
        assert time.monotonic() - started < 15
        assert which_set(out) == "old"
    finally:
        first.send_signal(signal.SIGCONT)
    code, err = finish(first)
    assert code == 0, err
    assert which_set(out) == "new"
    assert debris(out) == []
    assert "\r" not in err, "progress bars must not write carriage returns into a log file"


@pytest.mark.parametrize("phase", ["work", "staged"])
def test_ctrl_c_says_so_and_keeps_the_old_set(case, tmp_path, phase):
    zh, en, out = case
    proc = start(zh, en, out, pause=phase)
    wait_stopped(proc)
    # while the writer holds the folder (its new set staged or not), a reader reads the old set
    code, output = reader_says(out, tmp_path)
    assert code == 0, output
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGCONT)
    code, err = finish(proc)
    assert code == 130
    assert re.search(r"[Ii]nterrupted", err), err
    assert "Traceback" not in err
    assert which_set(out) == "old"
    assert debris(out) == []






@pytest.fixture
def mounted(tmp_path, old_set):
    """An output folder on its own small tmpfs, holding the old set (needs root)."""
    if not can_mount():
        pytest.skip("needs root to mount a small tmpfs (disk full / read-only while running)")
    _, _, zh, en = inputs(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    mount_tmpfs(out, "512k")
    try:
        for item in old_set.iterdir():
            if item.is_file():
                shutil.copy2(item, out / item.name)
        yield zh, en, out
    finally:
        subprocess.run(["umount", "-l", str(out)], check=False)


def test_disk_fills_up_during_the_run(mounted):
    zh, en, out = mounted
    proc = start(zh, en, out, pause="work")
    wait_stopped(proc)
    fill(out / "filler")
    proc.send_signal(signal.SIGCONT)
    code, err = finish(proc)
    assert code == 1, err
    assert re.search(r"space", err), err
    assert "Traceback" not in err
    assert which_set(out) == "old"
    assert debris(out) == []


def test_folder_turns_read_only_during_the_run(mounted):
    zh, en, out = mounted
    proc = start(zh, en, out, pause="work")
    wait_stopped(proc)
    subprocess.run(["mount", "-o", "remount,ro", str(out)], check=True)
    proc.send_signal(signal.SIGCONT)
    code, err = finish(proc)
    assert code == 1, err
    assert re.search(r"read-only", err), err
    assert "Traceback" not in err
    assert which_set(out) == "old"
