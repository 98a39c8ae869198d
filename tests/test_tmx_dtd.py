"""Our TMX memories validate against the TMX 1.4b DTD (tests/tmx14.dtd, written from the spec) with xmllint."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.formats.srx import read_srx
from toolkit.formats.writers import TmxOptions, write_tmx

from test_writers import make_alignment

HERE = Path(__file__).resolve().parent
DTD = HERE / "tmx14.dtd"
EXAMPLES = HERE.parent / "examples"
XMLLINT = shutil.which("xmllint")

pytestmark = pytest.mark.skipif(XMLLINT is None, reason="xmllint is not installed (Debian: apt-get install libxml2-utils)")


def validate(path: Path) -> subprocess.CompletedProcess:
    """xmllint against our DTD; a copy beside the file answers the memory's own <!DOCTYPE tmx SYSTEM "tmx14.dtd">."""
    shutil.copyfile(DTD, path.parent / "tmx14.dtd")
    return subprocess.run([XMLLINT, "--noout", "--nonet", "--dtdvalid", str(DTD), str(path)],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("options", [TmxOptions(), TmxOptions(one_sided="keep"),
                                     TmxOptions(srx=read_srx(EXAMPLES / "segment.srx"))], ids=["drop", "keep", "srx"])
def test_written_memory_is_valid(tmp_path, options):
    path = tmp_path / "talk.tmx"
    write_tmx(path, make_alignment(), options=options)
    outcome = validate(path)
    assert outcome.returncode == 0, outcome.stderr


def test_aligned_and_exported_memories_are_valid(tmp_path):
    out = tmp_path / "out"
    runner = CliRunner()
    aligned = runner.invoke(app, ["align", str(EXAMPLES / "interview.zh.txt"), str(EXAMPLES / "interview.en.txt"),
                                  "-o", str(out), "--no-score", "-q", "--srx", str(EXAMPLES / "segment.srx")])
    assert aligned.exit_code == 0, aligned.output
    exported = tmp_path / "all.tmx"
    result = runner.invoke(app, ["export", str(out), "--to", "tmx", "-o", str(exported), "--tmx-one-sided", "keep"])
    assert result.exit_code == 0, result.output
    for path in (out / "interview.tmx", exported):
        outcome = validate(path)
        assert outcome.returncode == 0, outcome.stderr


@pytest.mark.parametrize(("broken", "complaint"), [
    (('<tuv xml:lang="en">', "<tuv>"), "xml:lang"),                    # a variant must name its language
    (('<prop type="x-origin">', "<prop>"), "type"),                    # a property must have a type
    (('segtype="sentence"', 'segtype="chapter"'), "segtype"),          # not one of the four segment types
])
def test_the_dtd_catches_invalid_memories(tmp_path, broken, complaint):
    """The DTD is not a rubber stamp: what TMX 1.4b forbids fails."""
    path = tmp_path / "talk.tmx"
    write_tmx(path, make_alignment())
    text = path.read_text(encoding="utf-8")
    old, new = broken
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    outcome = validate(path)
    assert outcome.returncode != 0
    assert complaint in outcome.stderr
