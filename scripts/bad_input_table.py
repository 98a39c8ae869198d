"""Run the bad-input table of tests/test_bad_input.py as real subprocesses and print it as Markdown.

    python scripts/bad_input_table.py [OUT.md]

One row per case: exit code, the first line of the message, the files in the output folder
afterwards, the time taken, and whether the case meets what the test expects. Used for the
before/after table of issue 10's closing note.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import test_bad_input as table  # noqa: E402


def files_after(tmp: Path) -> str:
    out = tmp / "out"
    if not out.exists():
        return "(no out/)"
    if out.is_file():
        return "(out is a file)"
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != "filler")
    return ", ".join(n.replace("talk", "T") for n in names) or "(empty)"


def first_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    trace = [line for line in lines if re.match(r"\w+(Error|Exception)\b", line)]
    line = errors[0] if errors else (trace[-1] if trace else (lines[0] if lines else ""))
    return line.replace("|", "\\|")[:150]


def run_case(case: table.Case) -> tuple[int, str, str, float, str]:
    with tempfile.TemporaryDirectory(prefix="badinput-", ignore_cleanup_errors=True) as scratch:
        tmp = Path(scratch)
        try:
            run = case.setup(tmp)
        except Exception as exc:  # noqa: BLE001 - a setup that cannot run here
            table.umount_all(tmp)
            return -1, f"setup failed: {exc}", "", 0.0, "skip"
        try:
            return _run(case, run, tmp)
        finally:
            if case.root:
                table.umount_all(tmp)


def _run(case: table.Case, run: table.Run, tmp: Path) -> tuple[int, str, str, float, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **run.env}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "toolkit", *run.args], cwd=run.cwd or tmp, env=env,
                          capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - started
    output = proc.stderr + proc.stdout
    verdict = "ok"
    try:
        assert proc.returncode == case.exit_code
        assert "Traceback" not in output
        if case.message:
            assert re.search(case.message, output, re.S)
        if case.forbid:
            assert not re.search(case.forbid, output, re.S)
        if case.check:
            case.check(tmp)
    except AssertionError:
        verdict = "FAIL"
    files = files_after(tmp)
    return proc.returncode, first_line(output), files, seconds, verdict


def main() -> None:
    rows = ["| case | exit | message (first line) | files in out/ afterwards | s | meets the test |",
            "|---|---|---|---|---|---|"]
    for case in table.CASES:
        code, message, files, seconds, verdict = run_case(case)
        rows.append(f"| {case.id} | {code} | {message} | {files} | {seconds:.1f} | {verdict} |")
        print(rows[-1], file=sys.stderr, flush=True)
    text = "\n".join(rows) + "\n"
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
