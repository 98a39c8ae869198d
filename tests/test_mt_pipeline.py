"""Machine translation of what has no English counterpart: fill_gaps, translation_only, the CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.core.records import Alignment, Bead, Document
from toolkit.formats.writers import read_tmx
from toolkit.pipeline import bead_units, fill_gaps, translation_only
from toolkit.text.segment import segment_document
from toolkit.translate.backends import Translation, Translator

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _alignment() -> Alignment:
    zh = segment_document("编者按：有删节。\n你好。\n再见。\n", "zh", name="t")
    en = segment_document("Hello.\n", "en", name="t")
    beads = (Bead((0,), ()), Bead((1,), (0,), 0.9), Bead((2,), ()))
    return Alignment(name="t", zh=zh, en=en, beads=beads, signature={"tool": "bitext"})


def test_the_gaps_are_the_one_sided_chinese_beads():
    assert [zh for zh, en in bead_units(_alignment()) if not en] == ["编者按：有删节。", "再见。"]


def test_fill_gaps_marks_mt_beads_and_keeps_flags():
    alignment = _alignment()
    translations = [Translation("编者按：有删节。", "Editor's note: abridged.", ()),
                    Translation("再见。", "再见 goodbye", ("cjk",))]
    filled = fill_gaps(alignment, translations, "fake-model")
    first, middle, last = filled.beads
    assert (first.origin, first.mt_text, first.mt_flags) == ("mt", "Editor's note: abridged.", ())
    assert middle == alignment.beads[1]  # aligned pairs are untouched
    assert (last.origin, last.mt_flags) == ("mt", ("cjk",))  # a flagged output is kept, never silently
    assert filled.signature["mt"] == "fake-model"


def test_fill_gaps_with_no_translation_keeps_origin_and_flags_it():
    alignment = _alignment()
    translations = [Translation(zh, "", ("untranslated",)) for zh, en in bead_units(alignment) if not en]
    filled = fill_gaps(alignment, translations, "none")
    assert [b.origin for b in filled.beads] == ["aligned"] * 3
    assert filled.beads[0].mt_flags == ("untranslated",) and filled.beads[0].mt_text is None


def test_translation_only_has_every_segment_as_a_one_sided_bead():
    zh = segment_document("第一句。第二句。\n第三句。\n", "zh", name="x")
    result = translation_only(zh)
    assert [b.kind for b in result.beads] == ["1-0"] * 3
    assert len(result.en) == 0 and result.signature["sentences"] == {"zh": 3, "en": 0}


class UpperTranslator(Translator):
    """A model-free translator: 'translates' by tagging the text, so tests can see what went where."""

    name = "fake"

    def describe(self) -> str:
        return "fake-upper"

    def settings(self) -> dict:
        return {}

    def _generate(self, texts, overrides):
        return [f"EN({len(t)} chars)" for t in texts]


@pytest.fixture
def fake_mt(monkeypatch, tmp_path):
    import toolkit.translate.backends as translate

    monkeypatch.setattr(translate, "get_translator", lambda spec, models_dir=None: UpperTranslator())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(sys, "argv", ["bitext"])


def test_align_with_mt_fills_the_gaps(fake_mt, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["align", str(EXAMPLES / "interview.zh.txt"), str(EXAMPLES / "interview.en.txt"),
                                      "-o", str(out), "--mt", "fake", "-q"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (out / "interview.jsonl").read_text(encoding="utf-8").splitlines()]
    mt = [r for r in records if r["origin"] == "mt"]
    assert mt and all(r["type"] == "1-0" and r["mt"].startswith("EN(") for r in mt)
    assert all(r["origin"] == "aligned" for r in records if r["type"] != "1-0")
    # A machine translation is not a human pair: left out of the TMX by default ...
    tmx = read_tmx(out / "interview.tmx")
    assert tmx and all(props["x-origin"] != "mt" and zh and en for zh, en, props in tmx)
    signature = json.loads((out / "interview.signature.json").read_text(encoding="utf-8"))
    assert signature["mt"] == "fake-upper"
    # The cache was filled: a rerun translates nothing new (same outputs).
    again = CliRunner().invoke(app, ["align", str(EXAMPLES / "interview.zh.txt"), str(EXAMPLES / "interview.en.txt"),
                                     "-o", str(out), "--mt", "fake", "-q", "--tmx-one-sided", "keep"])
    assert again.exit_code == 0
    assert (tmp_path / "cache" / "bitext" / "translations.sqlite").exists()
    # ... and kept, marked, with --tmx-one-sided keep.
    tmx = read_tmx(out / "interview.tmx")
    assert any(props.get("x-origin") == "mt" and en and en.startswith("EN(") for _, en, props in tmx)
    assert len(tmx) == len(records)


def test_translate_command_writes_an_all_mt_edition(fake_mt, tmp_path):
    out = tmp_path / "mt"
    result = CliRunner().invoke(app, ["translate", str(EXAMPLES / "interview.zh.txt"), "-o", str(out),
                                      "--mt", "fake", "--zh-script", "traditional", "-q", "--tmx-one-sided", "keep"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (out / "interview.jsonl").read_text(encoding="utf-8").splitlines()]
    assert records and all(r["origin"] == "mt" and r["type"] == "1-0" for r in records)
    assert "處理" in (out / "interview.zh.txt").read_text(encoding="utf-8")  # traditional output
    tmx_text = (out / "interview.tmx").read_text(encoding="utf-8")
    assert 'xml:lang="zh-TW"' in tmx_text
    assert tmx_text.count('<prop type="x-origin">mt</prop>') == len(records)


def test_translate_command_refuses_english_input(fake_mt, tmp_path):
    result = CliRunner().invoke(app, ["translate", str(EXAMPLES / "interview.en.txt"), "-o", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error:") and "Traceback" not in result.output
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------------------
# scoring in `bitext align`


def _align(out, *options):
    return CliRunner().invoke(app, ["align", str(EXAMPLES / "interview.zh.txt"), str(EXAMPLES / "interview.en.txt"),
                                    "-o", str(out), *options])


def _records(out):
    return [json.loads(line) for line in (out / "interview.jsonl").read_text(encoding="utf-8").splitlines()]


def test_align_with_mt_scores_every_pair_by_default(fake_mt, tmp_path):
    from toolkit.score.metrics import sentence_scores

    out = tmp_path / "out"
    result = _align(out, "--mt", "fake")
    assert result.exit_code == 0, result.output
    records = _records(out)
    pairs = [r for r in records if r["zh_ids"] and r["en_ids"]]
    assert pairs and all(r["origin"] == "aligned" for r in pairs)
    # Each pair's BLEU/chrF is sacrebleu's of the fake MT of its Chinese against its English.
    expected = sentence_scores([f"EN({len(r['zh'])} chars)" for r in pairs], [r["en"] for r in pairs])
    assert [(r["bleu"], r["chrf"]) for r in pairs] == [(round(e.bleu, 2), round(e.chrf, 2)) for e in expected]
    assert all(r["bleu"] is None and r["chrf"] is None for r in records if not (r["zh_ids"] and r["en_ids"]))
    # The TMX carries the same numbers, on the same units.
    units = read_tmx(out / "interview.tmx")  # one unit per pair: one-sided and MT beads are left out
    assert len(units) == len(pairs)
    for record, (_, _, props) in zip(pairs, units):
        if record["bleu"] is None:
            assert "x-bleu" not in props and "x-chrf" not in props
        else:
            assert float(props["x-bleu"]) == record["bleu"] and float(props["x-chrf"]) == record["chrf"]
    report = json.loads((out / "interview.score.json").read_text(encoding="utf-8"))
    assert report["scored"] == len(pairs) and report["model"] == "fake-upper"
    assert report["corpus"]["bleu"]["signature"].startswith("nrefs:1")
    assert "scored" in result.stderr and "BLEU" in result.stderr


def test_align_no_score(fake_mt, tmp_path):
    out = tmp_path / "out"
    result = _align(out, "--mt", "fake", "--no-score", "-q")
    assert result.exit_code == 0, result.output
    assert all("bleu" not in r for r in _records(out))
    assert "x-bleu" not in (out / "interview.tmx").read_text(encoding="utf-8")
    assert not (out / "interview.score.json").exists()


def test_align_without_a_model_is_not_scored_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("BITEXT_MODELS_DIR", str(tmp_path / "no-models"))
    out = tmp_path / "out"
    result = _align(out)
    assert result.exit_code == 0, result.output
    assert "not scored" in result.stderr and "fetch_models.py" in result.stderr
    assert all("bleu" not in r for r in _records(out))
    assert not (out / "interview.score.json").exists()


def test_align_score_without_a_translator_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("BITEXT_MODELS_DIR", str(tmp_path / "no-models"))
    out = tmp_path / "out"
    result = _align(out, "--score", "--mt", "none")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: --score needs a translator") and "fetch_models.py" in lines[-1]
    assert not out.exists()  # nothing half-written


def test_translate_presegmented_is_recorded_in_the_signature(fake_mt, tmp_path):
    source = tmp_path / "lines.zh.txt"
    source.write_text("第一行。第二句还在第一行。\n第二行。\n", encoding="utf-8")
    out = tmp_path / "mt"
    result = CliRunner().invoke(app, ["translate", str(source), "-o", str(out), "--mt", "fake", "--presegmented", "-q"])
    assert result.exit_code == 0, result.output
    assert len(_records_of(out / "lines.jsonl")) == 2  # one segment per line, as given
    signature = json.loads((out / "lines.signature.json").read_text(encoding="utf-8"))
    assert signature["segmenter"].endswith("(presegmented)")


def _records_of(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_align_uses_one_translator_for_the_gaps_and_the_scores(monkeypatch, tmp_path):
    import toolkit.translate.backends as translate

    built = []
    monkeypatch.setattr(translate, "get_translator", lambda spec, models_dir=None: built.append(spec) or UpperTranslator())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "out"
    result = _align(out, "--mt", "fake", "-q")
    assert result.exit_code == 0, result.output
    assert built == ["fake"]  # its model would be loaded once, not once for the gaps and again for the scores
    records = _records(out)
    assert any(r["origin"] == "mt" for r in records) and any(r.get("bleu") is not None for r in records)
