"""Fault scenarios of issue 10 against a source tree, observed from outside, printed as a Markdown table.

    python scripts/fault_table.py [TREE] [OUT.md]

TREE (default: this checkout) is put first on PYTHONPATH, so an older version can be measured
too: it needs no test hook. A run is stopped or killed the moment its first output file is
replaced (polled), which is how the audit reproduced the mixed sets. Each row says the exit
codes, the first message line, and what the folder holds afterwards: the old set, the new set,
a mix, and any temporary files left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import test_faults as faults  # noqa: E402

TREE = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]


def start(zh: Path, en: Path, out: Path, quiet: bool = True) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(TREE)}
    args = [sys.executable, "-m", "toolkit", "align", str(zh), str(en), "-o", str(out), *(["-q"] if quiet else [])]
    # cwd: the output's parent, so that `-m toolkit` does not pick up a toolkit/ in the current folder
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=out.parent)


def when_writing(out: Path, proc: subprocess.Popen, replaced: bool = False, timeout: float = 120) -> bool:
    """Poll until the run starts writing (a temporary file or staging folder appears) or, with
    ``replaced``, until it has replaced its first output file; False if it ended first."""
    before = {p.name: p.stat().st_ino for p in out.iterdir()}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            for p in out.iterdir():
                if replaced:
                    if p.name in before and before[p.name] != p.stat().st_ino:
                        return True
                elif p.name.endswith(".tmp") or "staging" in p.name:
                    return True
        except FileNotFoundError:
            pass
    return False


def outcome(out: Path) -> str:
    try:
        held = faults.which_set(out)
    except Exception as exc:  # noqa: BLE001 - a set too broken to judge
        held = f"unreadable ({type(exc).__name__})"
    left = faults.debris(out)
    return held + (f"; left {', '.join(left)}" if left else "")


def first_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip() and "\r" not in line]
    return (lines[0] if lines else "(no message)").replace("|", "\\|")[:120]


def reader(out: Path, tmp: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(TREE)}
    proc = subprocess.run([sys.executable, "-m", "toolkit", "export", str(out), "--to", "jsonl", "-o",
                           str(tmp / "read.jsonl"), "-q", "--keep-one-sided"], capture_output=True, text=True, env=env,
                          cwd=tmp)
    return f"export exit {proc.returncode}" + (f": {first_line(proc.stderr)}" if proc.returncode else "")


def scenario_concurrent(tmp, old_zh, old_en, zh, en, out):
    a = start(zh, en, out)
    if not when_writing(out, a, replaced=True):
        return "A finished before it could be paused", ""
    a.send_signal(signal.SIGSTOP)
    b = faults.finish(start(old_zh, old_en, out))
    a.send_signal(signal.SIGCONT)
    code_a, err_a = faults.finish(a)
    return f"A {code_a}, B {b[0]}", first_line(b[1]) if b[0] else first_line(err_a)


def scenario_kill_mid_write(tmp, old_zh, old_en, zh, en, out, replaced=False):
    a = start(zh, en, out)
    if not when_writing(out, a, replaced):
        return "finished before the kill", ""
    a.send_signal(signal.SIGKILL)
    code, err = faults.finish(a)
    return str(code), first_line(err)


def scenario_ctrl_c(tmp, old_zh, old_en, zh, en, out):
    a = start(zh, en, out)
    time.sleep(1.0)
    a.send_signal(signal.SIGINT)
    code, err = faults.finish(a)
    return str(code), first_line(err)


def scenario_kill_after_first_file(tmp, old_zh, old_en, zh, en, out):
    return scenario_kill_mid_write(tmp, old_zh, old_en, zh, en, out, replaced=True)


def scenario_second_run_after_kill(tmp, old_zh, old_en, zh, en, out):
    code, _ = scenario_kill_mid_write(tmp, old_zh, old_en, zh, en, out, replaced=True)
    proc = faults.finish(start(zh, en, out))
    return f"killed, then {proc[0]}", first_line(proc[1])


SCENARIOS = [
    ("two runs into one folder (the first paused by SIGSTOP once it has replaced a file)", scenario_concurrent),
    ("SIGKILL as the first temporary file appears", scenario_kill_mid_write),
    ("SIGKILL once the first file is replaced", scenario_kill_after_first_file),
    ("the next run after that SIGKILL", scenario_second_run_after_kill),
    ("Ctrl-C (SIGINT) during the alignment", scenario_ctrl_c),
]


def main() -> None:
    rows = ["| scenario | exit | message (first line) | folder afterwards | a reader then |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="faults-") as scratch:
        base = Path(scratch)
        old_zh, old_en, zh, en = faults.inputs(base)
        template = base / "template"
        code, err = faults.finish(start(old_zh, old_en, template))
        assert code == 0, err
        for number, (label, run) in enumerate(SCENARIOS):
            tmp = base / f"s{number}"
            tmp.mkdir()
            out = tmp / "out"
            subprocess.run(["cp", "-a", str(template), str(out)], check=True)
            codes, message = run(tmp, old_zh, old_en, zh, en, out)
            rows.append(f"| {label} | {codes} | {message} | {outcome(out)} | {reader(out, tmp)} |")
            print(rows[-1], file=sys.stderr, flush=True)
    text = "\n".join(rows) + "\n"
    if len(sys.argv) > 2:
        Path(sys.argv[2]).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
