"""``bitext bleu`` and ``bitext score`` through typer's CliRunner; the translator is a fake module."""

from __future__ import annotations

import json
import sys
import types
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.core.errors import ModelError
from toolkit.formats.writers import read_jsonl, write_records
from toolkit.score.metrics import DEFAULT_MT

runner = CliRunner()


def write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def one_error_line(result):
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


# ---------------------------------------------------------------------------
# bitext bleu


def test_bleu_identical(tmp_path):
    hyp = write_lines(tmp_path / "hyp.txt", ["the cat sat on the mat", "a dog barks"])
    result = runner.invoke(app, ["bleu", hyp, hyp])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["BLEU", "100.00"], ["chrF", "100.00"], ["TER", "0.00"]]
    assert "nrefs:1" in lines[0] and "tok:13a" in lines[0]


def test_bleu_sentence_tsv(tmp_path):
    hyp = write_lines(tmp_path / "hyp.txt", ["the cat sat on the mat", "xyz"])
    ref = write_lines(tmp_path / "ref.txt", ["the cat is on the mat", "abc"])
    result = runner.invoke(app, ["bleu", hyp, ref, "--sentence"])
    assert result.exit_code == 0, result.output
    tsv = result.stdout.split("\n\n", 1)[1].splitlines()
    assert tsv[0] == "line\tBLEU\tchrF"
    assert tsv[1].split("\t")[:2] == ["1", "37.99"]  # (1/48)^(1/4), see test_score.py
    assert tsv[2] == "2\t0.00\t0.00"


def test_bleu_zh(tmp_path):
    hyp = write_lines(tmp_path / "hyp.txt", ["我爱北京天安门"])
    ref = write_lines(tmp_path / "ref.txt", ["我爱北京"])
    result = runner.invoke(app, ["bleu", hyp, ref, "--lang", "zh"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("BLEU   41.11")
    assert "tok:zh" in result.stdout


def test_bleu_line_count_mismatch(tmp_path):
    hyp = write_lines(tmp_path / "hyp.txt", ["a", "b", "c"])
    ref = write_lines(tmp_path / "ref.txt", ["a", "b"])
    line = one_error_line(runner.invoke(app, ["bleu", hyp, ref]))
    assert "has 3 lines but" in line and "has 2" in line


def test_bleu_empty_file(tmp_path):
    hyp = write_lines(tmp_path / "hyp.txt", ["a"])
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    line = one_error_line(runner.invoke(app, ["bleu", hyp, str(tmp_path / "empty.txt")]))
    assert "is empty" in line


@pytest.mark.parametrize("args, message", [
    (["--lang", "de"], "unknown target language 'de'"),
    (["--missing"], None),
])
def test_bleu_bad_options(tmp_path, args, message):
    hyp = write_lines(tmp_path / "hyp.txt", ["a"])
    result = runner.invoke(app, ["bleu", hyp, hyp, *args])
    assert result.exit_code != 0
    if message:
        assert message in one_error_line(result)


def test_bleu_missing_file(tmp_path):
    hyp = write_lines(tmp_path / "hyp.txt", ["a"])
    assert "does not exist" in one_error_line(runner.invoke(app, ["bleu", hyp, str(tmp_path / "nope.txt")]))


# ---------------------------------------------------------------------------
# bitext score


@dataclass(frozen=True)
class FakeTranslation:
    source: str
    text: str
    flags: tuple = ()
    cached: bool = False


FAKE_MT = {"猫坐在垫子上。": "The cat sat on the mat.", "狗在叫。": "A dog is barking."}


class FakeTranslator:
    def __init__(self, spec):
        self.spec = spec
        self.translates = spec != "none"  # like the real NoTranslator, "none" needs no cache

    def describe(self):
        return f"fake:{self.spec}"


class FakeCache:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        pass


@pytest.fixture
def fake_translate(monkeypatch, tmp_path):
    """Stand-ins for ``toolkit.translate.backends`` and ``toolkit.translate.cache``; records what they were asked."""
    calls = {}

    def get_translator(spec):
        if spec == "bad":
            raise ModelError("unknown translator 'bad'", "choose a known model")
        calls["spec"] = spec
        return FakeTranslator(spec)

    def translate_checked(translator, texts, cache=None, progress=None):
        calls["texts"] = list(texts)
        calls["cache"] = cache.path if cache is not None else None
        if progress:
            progress(len(texts))
        if translator.spec == "none":  # what the real "none" translator returns
            return [FakeTranslation(t, "", ("untranslated",)) for t in texts]
        return [FakeTranslation(t, FAKE_MT.get(t, "?"), ("length",) if t == "狗在叫。" else (), t == "狗在叫。")
                for t in texts]

    translate = types.ModuleType("toolkit.translate.backends")
    translate.get_translator = get_translator
    translate.translate_checked = translate_checked
    mtcache = types.ModuleType("toolkit.translate.cache")
    mtcache.TranslationCache = FakeCache
    mtcache.default_cache_path = lambda: tmp_path / "xdg" / "bitext" / "translations.sqlite"
    monkeypatch.setitem(sys.modules, "toolkit.translate.backends", translate)
    monkeypatch.setitem(sys.modules, "toolkit.translate.cache", mtcache)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return calls


def record(id_, zh_ids, en_ids, zh, en, origin="aligned"):
    return {"id": id_, "zh_ids": zh_ids, "en_ids": en_ids, "zh": zh, "en": en, "score": 0.5,
            "type": f"{len(zh_ids)}-{len(en_ids)}", "origin": origin, "speaker": None, "kind": "sentence",
            "mt": "An MT sentence." if origin == "mt" else None}


@pytest.fixture
def out_dir(tmp_path):
    out = tmp_path / "talk"
    records = [
        record(1, [0], [0], "猫坐在垫子上。", "The cat sat on the mat."),
        record(2, [1], [], "编者按。", ""),
        record(3, [2], [1], "狗在叫。", "The dog barks."),
        record(4, [3], [], "机器翻译。", "", origin="mt"),
        record(5, [4], [2], "狗在叫。", "The dog barks."),  # same Chinese text: translated once
    ]
    out.mkdir()
    write_records(out / "talk.jsonl", records)
    (out / "talk.tmx").write_text("<tmx/>", encoding="utf-8")
    return out


def test_score_writes_records_and_report(out_dir, fake_translate, monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "argv", ["bitext", "score", str(out_dir)])
    result = runner.invoke(app, ["score", str(out_dir)])
    assert result.exit_code == 0, result.output
    assert fake_translate == {"spec": DEFAULT_MT, "texts": ["猫坐在垫子上。", "狗在叫。"],
                              "cache": tmp_path / "xdg" / "bitext" / "translations.sqlite"}
    records = read_jsonl(out_dir / "talk.jsonl")
    assert [(r["bleu"], r["chrf"]) for r in records][:2] == [(100.0, 100.0), (None, None)]
    assert records[2]["bleu"] is not None and records[2]["bleu"] == records[4]["bleu"]
    assert records[3]["bleu"] is None and records[3]["mt"] == "An MT sentence."  # mt beads untouched
    report = json.loads((out_dir / "talk.score.json").read_text(encoding="utf-8"))
    assert report["model"] == f"fake:{DEFAULT_MT}" and report["scored"] == 3
    assert report["corpus"]["segments"] == 3 and "tok:13a" in report["corpus"]["bleu"]["signature"]
    assert report["translation"] == {"spec": DEFAULT_MT, "texts": 2, "cached": 1, "flags": {"length": 1}}
    assert report["command"] == f"bitext score {out_dir}"
    assert [p["id"] for p in report["lowest"]] == [3, 5, 1]
    assert result.stdout.startswith(f"MT: fake:{DEFAULT_MT}\ntranslated 2 texts (1 from the cache); flagged: length 1\n"
                                    "scored 3 of 5 beads")
    assert "#3  chrF" in result.stdout


def test_score_writes_the_scores_into_the_tmx(out_dir, fake_translate):
    from toolkit.formats.writers import read_tmx

    # The TMX is rewritten as the signature says it was made: here with the one-sided units kept.
    (out_dir / "talk.signature.json").write_text(json.dumps({"zh_script_in": "traditional",
                                                             "tmx": {"one_sided": "keep"}}), encoding="utf-8")
    result = runner.invoke(app, ["score", str(out_dir), "-q"])
    assert result.exit_code == 0, result.output
    records = read_jsonl(out_dir / "talk.jsonl")
    units = read_tmx(out_dir / "talk.tmx")
    assert [(zh, en) for zh, en, _ in units] == [
        ("猫坐在垫子上。", "The cat sat on the mat."), ("编者按。", None), ("狗在叫。", "The dog barks."),
        ("机器翻译。", "An MT sentence."), ("狗在叫。", "The dog barks.")]
    assert [(p.get("x-bleu"), p.get("x-chrf")) for _, _, p in units] == [
        (None if r["bleu"] is None else f"{r['bleu']:g}", None if r["chrf"] is None else f"{r['chrf']:g}")
        for r in records]
    assert units[0][2]["x-bleu"] == "100"
    assert 'srclang="zh-TW"' in (out_dir / "talk.tmx").read_text(encoding="utf-8")  # script from the signature


def test_score_mt_option_and_quiet(out_dir, fake_translate):
    result = runner.invoke(app, ["score", str(out_dir), "--mt", "other", "--quiet", "--lowest", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and fake_translate["spec"] == "other"
    report = json.loads((out_dir / "talk.score.json").read_text(encoding="utf-8"))
    assert report["model"] == "fake:other" and len(report["lowest"]) == 1


def test_score_cache_options(out_dir, fake_translate, tmp_path):
    assert runner.invoke(app, ["score", str(out_dir), "-q", "--cache", str(tmp_path / "c.sqlite")]).exit_code == 0
    assert fake_translate["cache"] == tmp_path / "c.sqlite"
    assert runner.invoke(app, ["score", str(out_dir), "-q", "--no-cache"]).exit_code == 0
    assert fake_translate["cache"] is None


def test_score_empty_translations_are_not_scored(out_dir, fake_translate):
    result = runner.invoke(app, ["score", str(out_dir), "--mt", "none"])
    assert result.exit_code == 0, result.output
    assert all(r["bleu"] is None for r in read_jsonl(out_dir / "talk.jsonl"))
    report = json.loads((out_dir / "talk.score.json").read_text(encoding="utf-8"))
    assert report["corpus"] is None and report["not_scored"]["no_translation"] == 3
    assert "no pairs to score" in result.stdout


def test_score_twice_rescores(out_dir, fake_translate):
    assert runner.invoke(app, ["score", str(out_dir), "-q"]).exit_code == 0
    first = read_jsonl(out_dir / "talk.jsonl")
    assert runner.invoke(app, ["score", str(out_dir), "-q"]).exit_code == 0
    assert read_jsonl(out_dir / "talk.jsonl") == first


def test_score_translator_error(out_dir, fake_translate):
    before = (out_dir / "talk.jsonl").read_text(encoding="utf-8")
    line = one_error_line(runner.invoke(app, ["score", str(out_dir), "--mt", "bad"]))
    assert line == "Error: unknown translator 'bad' — choose a known model"
    assert (out_dir / "talk.jsonl").read_text(encoding="utf-8") == before
    assert not (out_dir / "talk.score.json").exists()


def test_score_folder_errors(tmp_path, fake_translate):
    assert "not a folder" in one_error_line(runner.invoke(app, ["score", str(tmp_path / "nope")]))
    assert "found 0" in one_error_line(runner.invoke(app, ["score", str(tmp_path)]))
    (tmp_path / "a.jsonl").write_text('{"id": 1}\n', encoding="utf-8")
    assert "missing keys" in one_error_line(runner.invoke(app, ["score", str(tmp_path)]))
    (tmp_path / "b.jsonl").write_text("", encoding="utf-8")
    assert "found 2" in one_error_line(runner.invoke(app, ["score", str(tmp_path)]))


def test_score_without_translate_module(out_dir, monkeypatch):
    # None in sys.modules makes the import fail, as when toolkit.translate.backends is not installed.
    monkeypatch.setitem(sys.modules, "toolkit.translate.backends", None)
    assert "machine translation is not available" in one_error_line(runner.invoke(app, ["score", str(out_dir)]))


def test_score_with_the_real_none_translator(out_dir, tmp_path):
    """Against toolkit.translate.backends itself when it is there: 'none' translates nothing, so nothing is scored."""
    pytest.importorskip("toolkit.translate.backends")
    result = runner.invoke(app, ["score", str(out_dir), "--mt", "none", "--cache", str(tmp_path / "c.sqlite"), "-q"])
    assert result.exit_code == 0, result.output
    report = json.loads((out_dir / "talk.score.json").read_text(encoding="utf-8"))
    assert report["scored"] == 0 and report["translation"]["flags"] == {"untranslated": 2}


def test_score_writes_its_files_as_one_set(out_dir, fake_translate):
    """The scored JSONL, TMX and report are committed together, with a manifest that readers check."""
    from toolkit.core.resultset import read_manifest, verify

    assert runner.invoke(app, ["score", str(out_dir), "-q"]).exit_code == 0
    manifest = read_manifest(out_dir, "talk")
    assert {"talk.jsonl", "talk.tmx", "talk.score.json"} <= set(manifest["files"])
    assert verify(out_dir, "talk") == manifest
    assert [p.name for p in out_dir.iterdir() if p.name.startswith(".")] == []  # no staging, no lock file
    (out_dir / "talk.tmx").write_text("<tmx/>", encoding="utf-8")  # replaced behind the set's back
    result = runner.invoke(app, ["score", str(out_dir), "-q"])  # a reader of the set too
    assert result.exit_code == 1 and "mixed result set: talk.tmx" in result.output
