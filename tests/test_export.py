"""Exports of an aligned result folder: loading, training filters, splits, JSONL / TSV / TMX, the CLI."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.core.errors import FormatError, InputError, ToolkitError
from toolkit.core.records import Alignment, Bead, Document, Segment
from toolkit.core.version import __version__
from toolkit.export.exports import (
    AlignedResult,
    AlignmentScoreFilter,
    DuplicateFilter,
    FilterSummary,
    LengthRatioFilter,
    MachineTranslatedFilter,
    OneSidedFilter,
    TrainingFilters,
    default_output,
    export_signature,
    load_result,
    pair_texts,
    sidecar_path,
    split_by_document,
    split_path,
    training_records,
    training_row,
    write_result_tmx,
    write_training_jsonl,
    write_tsv,
)
from toolkit.formats.writers import TmxOptions, read_signature, read_tmx, read_tmx_memory, write_alignment

runner = CliRunner()
TRICKY_ZH = '他说：“<b>&amp;”\t和\'引号\'\x07。'
TRICKY_EN = 'He said "<b>&amp;"\tand \'quotes\'\x07\nover two lines.'


def record(zh="你好。", en="Hello.", score=0.9, origin="aligned", mt=None, id=1, **extra) -> dict:
    """A bead record as writers.bead_records makes it."""
    zh_ids = [0] if zh else []
    en_ids = [0] if en else []
    return {"id": id, "zh_ids": zh_ids, "en_ids": en_ids, "zh": zh, "en": en, "score": score,
            "type": f"{len(zh_ids)}-{len(en_ids)}", "origin": origin, "speaker": None, "kind": "sentence",
            "mt": mt, "mt_flags": [], **extra}


def make_result(folder: Path, name: str = "talk", script: str = "simplified", zh_script_out: str = "as-is") -> Path:
    """Write a small aligned result folder with write_alignment: every kind of bead, tricky text."""
    zh_texts = ["第一章", "主持人：你好。", "我们开始吧。", TRICKY_ZH, "谢谢。", "好的。", "很长很长的一句话。", "你好。"]
    en_texts = ["Chapter One", "Host: Hello.", "Let's begin.", TRICKY_EN, "Omitted one.", "Omitted two.", "Hi.",
                "Hello."]
    kinds = {0: "heading"}
    zh = Document(name, "zh", tuple(Segment(i, t, t, "zh", "主持人" if i == 1 else None, kinds.get(i, "sentence"))
                                    for i, t in enumerate(zh_texts)), script=script)
    en = Document(name, "en", tuple(Segment(i, t, t, "en", None, kinds.get(i, "sentence"))
                                    for i, t in enumerate(en_texts)))
    beads = (
        Bead((0,), (0,), 0.95),                          # heading
        Bead((1, 2), (1, 2), 0.8),                       # 2-2
        Bead((3,), (3,), 0.7),                           # tricky characters
        Bead((), (4,), 0.0),                             # 0-1
        Bead((), (5,), 0.0),                             # 0-1
        Bead((4,), (), 0.0, origin="mt", mt_text="Thank you."),
        Bead((5,), (), 0.0),                             # 1-0
        Bead((6,), (6,), 0.3),                           # low score, and "Hi." is far too short
        Bead((7,), (7,), 0.9),                           # a plain good pair
    )
    signature = {"aligner": "test", "zh_script_in": script, "zh_script_out": zh_script_out}
    write_alignment(folder, Alignment(name=name, zh=zh, en=en, beads=beads, signature=signature))
    return folder


@pytest.fixture
def result_dir(tmp_path) -> Path:
    return make_result(tmp_path / "talk")


# ---------------------------------------------------------------------------
# loading


def test_load_result_reads_records_and_signature(result_dir):
    result = load_result(result_dir)
    assert result.name == "talk"
    assert len(result.records) == 9
    assert result.signature["aligner"] == "test"
    assert result.records[2]["zh"] == TRICKY_ZH


@pytest.mark.parametrize(
    "prepare, message",
    [
        (lambda d: d / "missing", "is not a folder"),
        (lambda d: d, "found 0"),
        (lambda d: ((d / "a.jsonl").write_text("", encoding="utf-8"), (d / "b.jsonl").write_text(""))
         and d, "found 2"),
        (lambda d: (d / "a.jsonl").write_text("\n", encoding="utf-8") and d, "no a.signature.json"),
    ],
)
def test_load_result_rejects_folders_that_are_not_results(tmp_path, prepare, message):
    with pytest.raises(InputError, match=message) as caught:
        load_result(prepare(tmp_path))
    assert "bitext align" in caught.value.hint


def test_load_result_rejects_a_damaged_jsonl(tmp_path):
    (tmp_path / "x.jsonl").write_text("{not json\n", encoding="utf-8")
    (tmp_path / "x.signature.json").write_text("{}", encoding="utf-8")
    with pytest.raises(FormatError, match="line 1"):
        load_result(tmp_path)


def test_pair_texts_takes_mt_english_for_mt_beads():
    assert pair_texts(record(en="", origin="mt", mt="Thanks.")) == ("你好。", "Thanks.")
    assert pair_texts(record()) == ("你好。", "Hello.")


def test_a_reviewed_translation_is_the_beads_english_everywhere(tmp_path):
    """A 1-0 bead whose MT a translator corrected in `bitext review`: origin human, English = translation."""
    reviewed = record(en="", origin="human", mt="Thanks a lot a lot.", review="edited", translation="Thank you.",
                      reviewed_at="2026-01-02T03:04:05Z")
    assert pair_texts(reviewed) == ("你好。", "Thank you.")
    kept, _ = training_records([reviewed], TrainingFilters())
    assert kept == [reviewed]  # checked by a person: training data, not dropped as MT or one-sided
    assert training_row("talk", reviewed)["translation"] == {"zh": "你好。", "en": "Thank you."}
    result = AlignedResult("talk", tmp_path, (reviewed,), {"zh_script_in": "simplified"})
    write_result_tmx(tmp_path / "talk.tmx", result, {})
    (unit,) = read_tmx(tmp_path / "talk.tmx")
    assert unit[:2] == ("你好。", "Thank you.")
    assert (unit[2]["x-origin"], unit[2]["x-review"]) == ("human", "edited")
    assert 'changedate="20260102T030405Z"' in (tmp_path / "talk.tmx").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# filters


@pytest.mark.parametrize(
    "make_filter, rec, value, accepted",
    [
        (OneSidedFilter, record(), 0.0, True),
        (OneSidedFilter, record(en=""), 1.0, False),
        (OneSidedFilter, record(zh=""), 1.0, False),
        (OneSidedFilter, record(en="", origin="mt", mt="Hi there."), 0.0, True),
        (MachineTranslatedFilter, record(), 0.0, True),
        (MachineTranslatedFilter, record(en="", origin="mt", mt="x"), 1.0, False),
        (lambda: AlignmentScoreFilter(0.5), record(score=0.5), 0.5, True),
        (lambda: AlignmentScoreFilter(0.5), record(score=0.49), 0.49, False),
        (lambda: AlignmentScoreFilter(0.5), record(score=0.0, origin="human"), None, True),
        (lambda: AlignmentScoreFilter(0.5), record(en="", score=0.0), None, True),
        (lambda: LengthRatioFilter(3.0), record(zh="你好吗", en="How are you"), 1.0, True),
        (lambda: LengthRatioFilter(3.0), record(zh="很长很长的一句话。", en="Hi."), 27 / 3, False),
        (lambda: LengthRatioFilter(3.0), record(en=""), None, True),
    ],
)
def test_filter_score_and_accept(make_filter, rec, value, accepted):
    record_filter = make_filter()
    score = record_filter.score(rec)
    assert score == pytest.approx(value) if value is not None else score is None
    assert record_filter.accept(score) is accepted


def test_duplicate_filter_keeps_the_first_copy_case_and_space_folded():
    dedupe = DuplicateFilter()
    values = [dedupe.score(r) for r in (record(en="Hello."), record(en="hello. "), record(en="Bye."))]
    assert values == [0.0, 1.0, 0.0]
    assert [dedupe.accept(v) for v in values] == [True, False, True]


def test_filters_rescore_without_rescoring():
    # OpusFilter style: values are computed once, thresholds applied later.
    values = [AlignmentScoreFilter(0.5).score(record(score=s)) for s in (0.2, 0.6, 0.9)]
    assert [AlignmentScoreFilter(0.7).accept(v) for v in values] == [False, False, True]


@pytest.mark.parametrize("bad", [{"min_score": 1.5}, {"min_score": -0.1}, {"max_length_ratio": 0.5},
                                 {"min_score": float("nan")}])
def test_training_filters_validate(bad):
    with pytest.raises(ValueError):
        TrainingFilters(**bad)


def test_training_records_and_summary(result_dir):
    records = list(load_result(result_dir).records)
    records.append(dict(records[1], id="b10"))  # an exact duplicate of the 2-2 bead
    kept, summary = training_records(records)
    assert [r["id"] for r in kept] == ["b1", "b2", "b3", "b9"]
    assert summary.total == 10 and summary.kept == 4
    assert summary.as_dict()["removed"] == {"one_sided": 3, "mt": 1, "min_score": 1, "length_ratio": 0, "dedupe": 1}
    text = summary.format()
    assert text.splitlines()[0] == "4 of 10 pairs kept"
    assert "alignment score below 0.5" in text


def test_training_records_with_everything_kept(result_dir):
    records = load_result(result_dir).records
    filters = TrainingFilters(min_score=0.0, max_length_ratio=100, drop_mt=False, drop_one_sided=False, dedupe=False)
    kept, summary = training_records(records, filters)
    assert len(kept) == len(records) == summary.kept
    assert [name for name, _, _ in summary.removed] == ["min_score", "length_ratio"]


def test_keep_mt_keeps_the_mt_pair_with_its_english(result_dir):
    kept, _ = training_records(load_result(result_dir).records, TrainingFilters(drop_mt=False))
    mt = [r for r in kept if r["origin"] == "mt"]
    assert len(mt) == 1 and pair_texts(mt[0]) == ("谢谢。", "Thank you.")


def test_length_ratio_filter_counts_in_summary():
    _, summary = training_records([record(zh="很长很长的一句话。", en="Hi.")])
    assert summary.as_dict()["removed"]["length_ratio"] == 1


def test_summaries_combine():
    a = FilterSummary(5, 3, (("one_sided", "x", 2), ("mt", "y", 0)))
    b = FilterSummary(4, 1, (("one_sided", "x", 1), ("mt", "y", 2)))
    assert FilterSummary.combine([a, b]) == FilterSummary(9, 4, (("one_sided", "x", 3), ("mt", "y", 2)))
    assert FilterSummary.combine([]) == FilterSummary(0, 0, ())


# ---------------------------------------------------------------------------
# split


def test_split_is_by_document_and_deterministic():
    docs = {f"doc{i:03d}": [record(id=j) for j in range(3)] for i in range(300)}
    first = split_by_document(docs, dev=0.1, test=0.2, seed=7)
    assert first == split_by_document(dict(reversed(list(docs.items()))), dev=0.1, test=0.2, seed=7)
    names = [name for split in first.values() for name in split]
    assert sorted(names) == sorted(docs)  # each document exactly once, whole
    assert all(len(records) == 3 for split in first.values() for records in split.values())
    assert 15 <= len(first["dev"]) <= 50 and 35 <= len(first["test"]) <= 85
    # A document's split does not depend on the other documents.
    alone = split_by_document({"doc042": docs["doc042"]}, dev=0.1, test=0.2, seed=7)
    assert [s for s in alone if alone[s]] == [s for s in first if "doc042" in first[s]]
    # Another seed moves documents.
    assert split_by_document(docs, dev=0.1, test=0.2, seed=8) != first


def test_split_extremes_and_validation():
    docs = {"a": [record()], "b": [record()]}
    assert set(split_by_document(docs, dev=0.0, test=0.0)["train"]) == {"a", "b"}
    assert set(split_by_document(docs, dev=0.0, test=1.0)["test"]) == {"a", "b"}
    for dev, test in ((-0.1, 0.1), (0.6, 0.6), (0.1, 1.1)):
        with pytest.raises(ValueError):
            split_by_document(docs, dev=dev, test=test)


@pytest.mark.parametrize(
    "path, split, expected",
    [("out/corpus.jsonl", "dev", "out/corpus.dev.jsonl"), ("t.train.jsonl", "test", "t.test.jsonl"),
     ("t.train.jsonl", "train", "t.train.jsonl"), ("plain", "dev", "plain.dev")],
)
def test_split_path(path, split, expected):
    assert split_path(path, split) == Path(expected)


# ---------------------------------------------------------------------------
# writers


def test_training_jsonl_shape_escaping_and_sidecar(result_dir, tmp_path):
    result = load_result(result_dir)
    kept, summary = training_records(result.records)
    signature = export_signature({"talk": result.signature}, "jsonl", TrainingFilters(), summary, "bitext export")
    out = tmp_path / "train.jsonl"
    sidecar = write_training_jsonl(out, {"talk": kept}, signature)
    assert sidecar == sidecar_path(out) == tmp_path / "train.jsonl.signature.json"
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(kept) == 4
    rows = [json.loads(line) for line in lines]
    assert set(rows[0]) == {"translation", "id", "doc", "score", "type", "origin"}
    assert rows[0]["translation"] == {"zh": "第一章", "en": "Chapter One"} and rows[0]["doc"] == "talk"
    tricky = rows[2]
    assert tricky["translation"] == {"zh": TRICKY_ZH, "en": TRICKY_EN}  # JSON escapes, no loss
    assert tricky["id"] == "b3" and tricky["type"] == "1-1" and tricky["origin"] == "aligned"
    assert not lines[0].startswith("#")  # no signature line in the data
    written = read_signature(sidecar)
    assert written["sources"]["talk"]["aligner"] == "test"
    assert written["export"]["filters"]["min_score"] == 0.5
    assert written["export"]["summary"]["kept"] == 4


def test_training_row_of_an_mt_bead_uses_the_mt_text():
    row = training_row("d", record(en="", origin="mt", mt="Thanks.", score=0.0))
    assert row["translation"] == {"zh": "你好。", "en": "Thanks."} and row["origin"] == "mt"


@pytest.mark.skipif(importlib.util.find_spec("datasets") is None,
                    reason="the `datasets` package is not installed (pip install datasets)")
def test_training_jsonl_loads_with_hugging_face_datasets(result_dir, tmp_path):
    import datasets

    kept, _ = training_records(load_result(result_dir).records)
    out = tmp_path / "train.jsonl"
    write_training_jsonl(out, {"talk": kept}, {})
    dataset = datasets.load_dataset("json", data_files={"train": str(out)}, split="train",
                                    cache_dir=str(tmp_path / "hf-cache"))
    assert dataset.num_rows == 4
    assert dataset[2]["translation"] == {"zh": TRICKY_ZH, "en": TRICKY_EN}
    assert dataset.features["translation"]["zh"].dtype == "string"
    assert dataset[0]["doc"] == "talk"


def test_tsv_one_bead_per_line_tabs_and_breaks_folded(result_dir, tmp_path):
    result = load_result(result_dir)
    kept, _ = training_records(result.records)
    out = tmp_path / "pairs.tsv"
    sidecar = write_tsv(out, {"talk": kept}, {"sources": {"talk": result.signature}})
    data = out.read_bytes().decode("utf-8")
    lines = data.split("\n")
    assert lines[-1] == "" and len(lines) - 1 == len(kept)
    assert all(line.count("\t") == 1 for line in lines[:-1])
    assert not data.startswith("#")  # no comment line: a spreadsheet would show it as data
    zh, en = lines[2].split("\t")
    assert zh == '他说：“<b>&amp;” 和\'引号\'。'  # tab -> space, BEL dropped, no HTML escaping
    assert en == 'He said "<b>&amp;" and \'quotes\' over two lines.'
    assert "\x07" not in data and "\r" not in data
    assert read_signature(sidecar)["sources"]["talk"]["aligner"] == "test"


@pytest.mark.parametrize("script, out_script, tag", [("simplified", "as-is", "zh-CN"), ("traditional", "as-is", "zh-TW"),
                                                     ("traditional", "simplified", "zh-CN")])
def test_tmx_export_reuses_write_tmx(tmp_path, script, out_script, tag):
    result = load_result(make_result(tmp_path / "r", script=script, zh_script_out=out_script))
    signature = export_signature({"talk": result.signature}, "tmx")
    out = tmp_path / "talk.tmx"
    write_result_tmx(out, result, signature, TmxOptions(one_sided="keep"))
    units = read_tmx(out)
    assert len(units) == 9
    assert units[1][0] == "主持人：你好。我们开始吧。" and units[1][1] == "Host: Hello. Let's begin."
    assert units[1][2]["x-speaker"] == "主持人" and units[1][2]["x-bead-type"] == "2-2"  # the record's type, not one segment per side
    assert units[2][0] == TRICKY_ZH.replace("\x07", "")  # XML cannot hold BEL; the rest is escaped, not lost
    assert units[3][0] is None and units[3][1] == "Omitted one."
    assert units[5][1] == "Thank you." and units[5][2]["x-origin"] == "mt"
    text = out.read_text(encoding="utf-8")
    assert f'srclang="{tag}"' in text
    assert "x-signature" in text


def test_tmx_export_drops_one_sided_and_mt_units_by_default(tmp_path):
    result = load_result(make_result(tmp_path / "r"))
    out = tmp_path / "talk.tmx"
    counts = write_result_tmx(out, result, export_signature({"talk": result.signature}, "tmx"))
    units = read_tmx_memory(out).units
    # beads 4 and 5 are 0-1, 7 is 1-0, 6 has only a machine translation
    assert [unit.tuid for unit in units] == ["1", "2", "3", "8", "9"]
    assert all(unit.zh and unit.en for unit in units)
    assert counts == {"beads": 9, "merged": 0, "split": 0, "one_sided": 3, "mt": 1, "units": 5}


def test_tmx_header_carries_the_run_signature(result_dir, tmp_path):
    import xml.etree.ElementTree as ET

    result = load_result(result_dir)
    out = tmp_path / "t.tmx"
    write_result_tmx(out, result, export_signature({"talk": result.signature}, "tmx", command="bitext export"))
    header = ET.parse(out).getroot().find("header")
    signature = json.loads(header.find("prop[@type='x-signature']").text)
    assert signature["sources"]["talk"]["aligner"] == "test"
    assert signature["export"]["format"] == "tmx" and signature["export"]["command"] == "bitext export"


def test_default_output_is_outside_the_result_folder_glob(result_dir):
    result = load_result(result_dir)
    assert default_output(result, "jsonl") == result_dir / "export" / "talk.train.jsonl"
    assert default_output(result, "html") == result_dir / "export" / "talk.html"
    with pytest.raises(ToolkitError):
        default_output(result, "pdf")


# ---------------------------------------------------------------------------
# CLI


def run(args, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["bitext", *args])
    return runner.invoke(app, args)


def test_cli_jsonl_prints_summary_and_writes_sidecar(result_dir, monkeypatch):
    result = run(["export", str(result_dir), "--to", "jsonl"], monkeypatch)
    assert result.exit_code == 0, result.output
    assert "4 of 9 pairs kept" in result.stderr
    assert "removed: machine-translated" in result.stderr
    out = result_dir / "export" / "talk.train.jsonl"
    assert len(out.read_text(encoding="utf-8").splitlines()) == 4
    signature = read_signature(sidecar_path(out))
    assert signature["export"]["command"] == f"bitext export {result_dir} --to jsonl"
    load_result(result_dir)  # the export did not add a second JSONL to the result folder


def test_cli_filter_options_and_quiet(result_dir, tmp_path, monkeypatch):
    out = tmp_path / "pairs.tsv"
    args = ["export", str(result_dir), "--to", "tsv", "-o", str(out), "--min-score", "0", "--keep-mt",
            "--keep-one-sided", "--no-dedupe", "--max-length-ratio", "100", "-q"]
    result = run(args, monkeypatch)
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert len(out.read_text(encoding="utf-8").splitlines()) == 9
    filters = read_signature(sidecar_path(out))["export"]["filters"]
    assert filters == {"min_score": 0.0, "max_length_ratio": 100.0, "drop_mt": False, "drop_one_sided": False,
                       "dedupe": False}


def test_cli_split_over_several_folders(tmp_path, monkeypatch):
    folders = [str(make_result(tmp_path / f"r{i}", name=f"doc{i}")) for i in range(6)]
    out = tmp_path / "corpus.jsonl"
    result = run(["export", *folders, "--to", "jsonl", "-o", str(out), "--split", "-q"], monkeypatch)
    assert result.exit_code == 0, result.output
    seen = {}
    for split in ("train", "dev", "test"):
        path = tmp_path / f"corpus.{split}.jsonl"
        docs = {json.loads(line)["doc"] for line in path.read_text(encoding="utf-8").splitlines()}
        signature = read_signature(sidecar_path(path))
        assert signature["export"]["split"] == split
        assert set(signature["sources"]) == set(signature["export"]["documents"]) >= docs
        seen.update(dict.fromkeys(docs, split))
    assert sorted(seen) == [f"doc{i}" for i in range(6)]
    expected = split_by_document({f"doc{i}": [] for i in range(6)})
    assert all(name in expected[split] for name, split in seen.items())


def test_cli_tmx_carries_the_signature(result_dir, monkeypatch):
    result = run(["export", str(result_dir), "--to", "tmx"], monkeypatch)
    assert result.exit_code == 0, result.output
    text = (result_dir / "export" / "talk.tmx").read_text(encoding="utf-8")
    assert "bitext export" in text
    assert "&quot;aligner&quot;: &quot;test&quot;" in text or '"aligner": "test"' in text


@pytest.mark.parametrize("fmt, suffix", [("html", ".html"), ("md", ".md")])
def test_cli_edition_has_a_colophon_not_the_signature(result_dir, monkeypatch, fmt, suffix):
    result = run(["export", str(result_dir), "--to", fmt], monkeypatch)
    assert result.exit_code == 0, result.output
    text = (result_dir / "export" / f"talk{suffix}").read_text(encoding="utf-8")
    assert f"bitext {__version__}" in text and "Colophon" in text
    assert "bitext export" not in text and '"aligner"' not in text  # no command line, no JSON


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--to", "pdf"], "--to 'pdf'"),
        (["--to", "html", "--layout", "columns"], "--layout 'columns'"),
        (["--to", "jsonl", "--min-score", "2"], "min_score"),
        (["--to", "html", "--split"], "--to html takes one folder"),
        (["--to", "tmx", "--title", "A title"], "--to tmx has no front matter"),
        (["--to", "html", "--source-url", "file:///etc/passwd"], "source_url must be an http(s) address"),
        (["--to", "epub", "--author", " "], "author is empty"),
    ],
)
def test_cli_bad_options_are_one_line_errors(result_dir, monkeypatch, extra, message):
    result = run(["export", str(result_dir), *extra], monkeypatch)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt", ["html", "md", "epub", "docx"])
def test_cli_editions_take_the_front_matter_options(result_dir, monkeypatch, fmt):
    if fmt in ("epub", "docx") and importlib.util.find_spec("ebooklib" if fmt == "epub" else "docx") is None:
        pytest.skip(f"the {fmt} edition's library is not installed")
    options = ["--title", "演讲集", "--subtitle", "Talks, 2024", "--author", "Ann Speaker", "--translator", "Tom Translator",
               "--source-url", "https://example.org/talk", "--date", "2024-03-01"]
    result = run(["export", str(result_dir), "--to", fmt, *options], monkeypatch)
    assert result.exit_code == 0, result.output
    path = result_dir / "export" / f"talk.{fmt}"
    if fmt == "epub":
        import zipfile

        with zipfile.ZipFile(path) as archive:
            text = "".join(archive.read(name).decode("utf-8") for name in archive.namelist() if name.endswith((".opf", ".xhtml")))
    elif fmt == "docx":
        import docx

        text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    else:
        text = path.read_text(encoding="utf-8")
    for value in ("演讲集", "Talks, 2024", "Ann Speaker", "Tom Translator", "https://example.org/talk", "2024-03-01"):
        assert value in text, value


def test_cli_folder_that_is_not_a_result(tmp_path, monkeypatch):
    result = run(["export", str(tmp_path), "--to", "html"], monkeypatch)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "must hold exactly one .jsonl file" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("fmt, name", [("jsonl", "talk.jsonl"), ("tmx", "talk.tmx"), ("tsv", "talk.zh.txt"),
                                       ("jsonl", "talk")])  # the sidecar would be talk.signature.json
def test_cli_never_overwrites_the_result_it_reads(result_dir, monkeypatch, fmt, name):
    before = {p.name: p.read_bytes() for p in result_dir.iterdir()}
    result = run(["export", str(result_dir), "--to", fmt, "-o", str(result_dir / name)], monkeypatch)
    assert result.exit_code == 1 and "is a file of the aligned result 'talk'" in result.stderr
    assert {p.name: p.read_bytes() for p in result_dir.iterdir()} == before


def test_cli_several_folders_need_output(result_dir, tmp_path, monkeypatch):
    other = make_result(tmp_path / "other", name="other")
    result = run(["export", str(result_dir), str(other), "--to", "jsonl"], monkeypatch)
    assert result.exit_code == 1 and "-o FILE" in result.stderr
