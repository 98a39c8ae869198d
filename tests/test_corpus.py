"""Corpus mode: the manifest, the local engine, resumption, error records, the corpus outputs.

The documents are made here from the example interview (cut in different
places, so every one is its own pair). The Ray engine's tests are in
tests/test_corpus_ray.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from toolkit.core.errors import InputError
from toolkit.corpus.engines import EngineSettings
from toolkit.corpus.manifest import read_manifest
from toolkit.corpus.runner import CorpusJob, CorpusProgress, run_corpus

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ZH = (EXAMPLES / "interview.zh.txt").read_text(encoding="utf-8").splitlines()
EN = (EXAMPLES / "interview.en.txt").read_text(encoding="utf-8").splitlines()


def make_corpus(folder: Path, documents: int = 4, fmt: str = "csv", repeat: int = 1) -> Path:
    """``documents`` pairs (the interview without its last i lines, ``repeat`` times over) and a manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(documents):
        keep_zh, keep_en = ZH[: len(ZH) - i % 3] * repeat, EN[: len(EN) - i % 3] * repeat
        if i >= 3:  # beyond three cuts, a sentence of its own makes the pair distinct
            keep_zh, keep_en = [*keep_zh, f"第{i}号文件到此结束。"], [*keep_en, f"This is the end of file {i}."]
        (folder / f"d{i}.zh.txt").write_text("\n".join(keep_zh) + "\n", encoding="utf-8")
        (folder / f"d{i}.en.txt").write_text("\n".join(keep_en) + "\n", encoding="utf-8")
        rows.append({"doc_id": f"d{i}", "zh": f"d{i}.zh.txt", "en": f"d{i}.en.txt"})
    return write_manifest(folder, rows, fmt)


def write_manifest(folder: Path, rows: list[dict], fmt: str = "csv") -> Path:
    path = folder / f"manifest.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    else:
        sep = "," if fmt == "csv" else "\t"
        lines = [sep.join(("doc_id", "zh", "en"))] + [sep.join((r["doc_id"], r["zh"], r.get("en") or "")) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def corpus_job(manifest: Path, out: Path, **kwargs) -> CorpusJob:
    kwargs.setdefault("engine", EngineSettings("local", workers=2))
    return CorpusJob(manifest=str(manifest), output=str(out), embedding_cache=str(out.parent / "emb.sqlite"), **kwargs)


def data_files(out: Path) -> dict[str, bytes]:
    """Every output file that says what was aligned (not the bookkeeping: run.json, run.log, markers, set manifests)."""
    files = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if path.is_file() and not (rel in ("run.json", "run.log") or path.name in (".done", ".lock")
                                   or path.name.endswith(".manifest.json")):
            files[rel] = path.read_bytes()
    return files


# ---------------------------------------------------------------------------
# the manifest


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl"])
def test_manifest_formats_read_alike(tmp_path, fmt):
    rows = [{"doc_id": "a", "zh": "a.zh.txt", "en": "a.en.txt"}, {"doc_id": "b", "zh": "/abs/b.zh.txt", "en": ""},
            {"doc_id": "c", "zh": "memory://c.zh", "en": "s3://bucket/c.en"}]
    entries = read_manifest(write_manifest(tmp_path, rows, fmt))
    assert [(e.doc_id, e.zh, e.en) for e in entries] == [
        ("a", str(tmp_path / "a.zh.txt"), str(tmp_path / "a.en.txt")),  # relative to the manifest
        ("b", "/abs/b.zh.txt", None),                                     # no English: translate-only
        ("c", "memory://c.zh", "s3://bucket/c.en"),                       # URLs as they are
    ]


@pytest.mark.parametrize("content, message", [
    ("doc_id,zh,en\na,a.zh,a.en\na,b.zh,b.en\n", "used twice"),
    ("doc_id,zh,en\n../up,a.zh,a.en\n", "cannot name a folder"),
    ("doc_id,zh,en\na,,a.en\n", "needs a doc_id and a zh file"),
    ("zh,en\na.zh,a.en\n", "first row must name the columns"),
    ("doc_id,zh,en,lang\na,a.zh,a.en,zh\n", "unknown column"),
    ("doc_id,zh,en\n", "lists no documents"),
])
def test_a_bad_manifest_is_refused_before_any_work(tmp_path, content, message):
    path = tmp_path / "manifest.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_manifest(path)


def test_a_jsonl_manifest_line_that_is_not_json_is_named(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"doc_id": "a", "zh": "a"}\n{oops\n', encoding="utf-8")
    with pytest.raises(InputError, match="line 2: not JSON"):
        read_manifest(path)


# ---------------------------------------------------------------------------
# the local engine


@pytest.fixture(scope="module")
def done_corpus(tmp_path_factory):
    """Four documents run once for the tests that only read the outputs: (out, result, records seen)."""
    folder = tmp_path_factory.mktemp("corpus")
    manifest = make_corpus(folder / "in", documents=4)
    out = folder / "out"
    seen = []
    result = run_corpus(corpus_job(manifest, out, shard_rows=3), CorpusProgress(done=seen.append))
    return out, result, seen


def test_a_corpus_run_writes_every_document_and_the_corpus_outputs(done_corpus):
    out, result, seen = done_corpus
    assert [r.status for r in result.records] == ["done"] * 4
    assert sorted(r.doc_id for r in seen) == ["d0", "d1", "d2", "d3"]
    for doc in ("d0", "d1", "d2", "d3"):
        folder = out / "docs" / doc
        assert (folder / ".done").is_file() and (folder / f"{doc}.jsonl").is_file() and (folder / f"{doc}.tmx").is_file()
        # The same bytes `bitext align` would write, less what differs from run to run.
        signature = json.loads((folder / f"{doc}.signature.json").read_text(encoding="utf-8"))
        assert "timings" not in signature and "command" not in signature
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["complete"] and run["counts"] == {"done": 4, "skipped": 0, "error": 0}
    assert len((out / "run.log").read_text(encoding="utf-8").splitlines()) == 4
    shards = sorted((out / "corpus").glob("train-*.jsonl"))
    rows = [json.loads(line) for shard in shards for line in shard.read_text(encoding="utf-8").splitlines()]
    assert rows and {row["doc"] for row in rows} <= {"d0", "d1", "d2", "d3"}
    pairs = [(row["translation"]["zh"], row["translation"]["en"]) for row in rows]
    assert len(pairs) == len(set(pairs))  # the documents share most pairs: each is kept once across the corpus
    assert len(pairs) < sum(r.pairs for r in result.records)
    sizes = [len(s.read_text(encoding="utf-8").splitlines()) for s in shards]
    assert len(shards) > 1 and max(sizes) <= 3 and shards[0].name.endswith(f"-of-{len(shards):05d}.jsonl")
    tmx = (out / "corpus" / "corpus.tmx").read_text(encoding="utf-8")
    assert 'tuid="d0:1"' in tmx or 'tuid="d0:2"' in tmx
    assert json.loads((out / "signature.json").read_text(encoding="utf-8"))["finished"] == 4


def test_bad_documents_become_error_records_and_the_rest_is_done(tmp_path):
    folder = tmp_path / "in"
    make_corpus(folder, documents=2)
    (folder / "binary.zh.txt").write_bytes(bytes(range(256)) * 8)
    rows = [{"doc_id": "d0", "zh": "d0.zh.txt", "en": "d0.en.txt"},
            {"doc_id": "missing", "zh": "nowhere.zh.txt", "en": "d0.en.txt"},
            {"doc_id": "binary", "zh": "binary.zh.txt", "en": "d0.en.txt"},
            {"doc_id": "swapped", "zh": "d1.en.txt", "en": "d1.zh.txt"},
            {"doc_id": "d1", "zh": "d1.zh.txt", "en": "d1.en.txt"}]
    out = tmp_path / "out"
    result = run_corpus(corpus_job(write_manifest(folder, rows), out))
    status = {r.doc_id: r for r in result.records}
    assert [r.doc_id for r in result.records] == ["d0", "missing", "binary", "swapped", "d1"]  # manifest order
    assert status["d0"].status == status["d1"].status == "done"
    assert "does not exist" in status["missing"].message
    assert "binary" in status["binary"].message
    assert "English, not Chinese" in status["swapped"].message
    assert all(status[d].status == "error" and status[d].hint for d in ("missing", "binary", "swapped"))
    assert not (out / "docs" / "swapped" / ".done").exists()
    log = (out / "run.log").read_text(encoding="utf-8")
    assert log.count("\terror\t") == 3 and log.count("\tdone\t") == 2


def test_a_rerun_skips_what_is_done_and_redoes_what_changed(tmp_path):
    manifest = make_corpus(tmp_path / "in", documents=3)
    out = tmp_path / "out"
    first = run_corpus(corpus_job(manifest, out))
    before = data_files(out)
    again = run_corpus(corpus_job(manifest, out))
    assert [r.status for r in again.records] == ["skipped"] * 3
    assert data_files(out) == before  # a run with nothing to do writes the same corpus
    (tmp_path / "in" / "d1.en.txt").write_text("\n".join(EN[:3]) + "\n", encoding="utf-8")
    changed = run_corpus(corpus_job(manifest, out))
    assert [r.status for r in changed.records] == ["skipped", "done", "skipped"]
    assert changed.records[1].key != first.records[1].key
    from toolkit.corpus.runner import plan

    tasks, known, _ = plan(corpus_job(manifest, out, options=first_options(threshold=0.5)))
    assert len(tasks) == 3 and not known  # options are part of the key: all would be redone


def first_options(**config):
    from dataclasses import replace

    from toolkit.core.config import AlignConfig
    from toolkit.pipeline import AlignOptions

    return AlignOptions(config=replace(AlignConfig(), **config))


def test_worker_caches_are_merged_into_the_shared_cache(done_corpus, tmp_path):
    from toolkit.align.embcache import EmbeddingCache

    out, result, _ = done_corpus
    assert not (out / ".work").exists()  # the workers' files are gone, merged
    with EmbeddingCache(out.parent / "emb.sqlite") as cache:
        (entries,) = cache._db.execute("SELECT COUNT(*) FROM vectors").fetchone()
    assert entries > 0
    # Aligned again elsewhere with the same shared cache: nothing is embedded afresh.
    manifest = out.parent / "in" / "manifest.csv"
    rerun = run_corpus(CorpusJob(manifest=str(manifest), output=str(tmp_path / "out2"),
                                 embedding_cache=str(out.parent / "emb.sqlite"), engine=EngineSettings(workers=1)))
    assert all(r.details["embedding_cache"]["misses"] == 0 for r in rerun.records)
    documents = {k: v for k, v in data_files(out).items() if k.startswith("docs/")}
    assert {k: v for k, v in data_files(tmp_path / "out2").items() if k.startswith("docs/")} == documents
    # one worker or two, vectors cached or computed: the same bytes


def test_inputs_and_manifest_may_be_fsspec_urls(tmp_path):
    fsspec = pytest.importorskip("fsspec")
    memory = fsspec.filesystem("memory")
    rows = []
    for i in range(2):
        memory.pipe(f"/corpus-test/d{i}.zh.txt", ("\n".join(ZH[: len(ZH) - i]) + "\n").encode())
        memory.pipe(f"/corpus-test/d{i}.en.txt", ("\n".join(EN[: len(EN) - i]) + "\n").encode())
        rows.append(json.dumps({"doc_id": f"d{i}", "zh": f"memory://corpus-test/d{i}.zh.txt",
                                "en": f"file://{tmp_path}/d{i}.en.txt" if i else f"memory://corpus-test/d{i}.en.txt"}))
    (tmp_path / "d1.en.txt").write_text("\n".join(EN[:-1]) + "\n", encoding="utf-8")
    memory.pipe("/corpus-test/manifest.jsonl", ("\n".join(rows) + "\n").encode())
    # The memory filesystem lives in this process: the run uses one worker process, so read here, run there.
    job = corpus_job(tmp_path / "unused", tmp_path / "out")
    from dataclasses import replace

    job = replace(job, manifest="memory://corpus-test/manifest.jsonl")
    from toolkit.corpus.runner import plan

    tasks, known, entries = plan(job)
    assert [t.doc_id for t in tasks] == ["d0", "d1"] and not known
    from toolkit.corpus.worker import Worker, WorkerSetup

    worker = Worker(WorkerSetup(embedder=job.options.embedder, mt=None, cache_dir=str(tmp_path / "cache"),
                                embedding_cache=None, mt_cache=None))
    records = [worker.process(task) for task in tasks]
    assert [r.status for r in records] == ["done", "done"], [r.message for r in records]
    signature = json.loads((tmp_path / "out" / "docs" / "d0" / "d0.signature.json").read_text(encoding="utf-8"))
    assert signature["inputs"]["zh"]["path"] == "memory://corpus-test/d0.zh.txt"


def test_export_split_reads_a_corpus_output(done_corpus, tmp_path):
    from typer.testing import CliRunner

    from toolkit.cli import app

    out, _, _ = done_corpus
    target = tmp_path / "corpus.jsonl"
    result = CliRunner().invoke(app, ["export", str(out), "--to", "jsonl", "--split", "-o", str(target), "-q"])
    assert result.exit_code == 0, result.output
    docs = set()
    for path in tmp_path.glob("corpus.*.jsonl"):
        docs |= {json.loads(line)["doc"] for line in path.read_text(encoding="utf-8").splitlines()}
    assert docs and docs <= {"d0", "d1", "d2", "d3"}


# ---------------------------------------------------------------------------
# the command line


def _bitext(*args, cwd: Path, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "toolkit", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def test_cli_exits_non_zero_with_a_summary_when_documents_fail(tmp_path):
    folder = tmp_path / "in"
    make_corpus(folder, documents=1)
    manifest = write_manifest(folder, [{"doc_id": "d0", "zh": "d0.zh.txt", "en": "d0.en.txt"},
                                       {"doc_id": "gone", "zh": "gone.zh.txt", "en": "d0.en.txt"}])
    proc = _bitext("corpus", str(manifest), "-o", str(tmp_path / "out"), "--workers", "1", cwd=tmp_path)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1
    assert "2 documents: 1 aligned, 0 unchanged, 1 failed" in err and "gone: " in err and "does not exist" in err


def test_cli_refuses_a_bad_option_in_one_line(tmp_path):
    manifest = make_corpus(tmp_path / "in", documents=1)
    proc = _bitext("corpus", str(manifest), "-o", str(tmp_path / "out"), "--mt-gpus", "1", cwd=tmp_path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and err.strip().splitlines()[-1].startswith("Error: bad option:")
    assert not (tmp_path / "out").exists()


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path):
    """SIGINT to the CLI mid-run; the rerun skips what was finished and completes the rest."""
    manifest = make_corpus(tmp_path / "in", documents=8, repeat=6)
    out = tmp_path / "out"
    args = ("corpus", str(manifest), "-o", str(out), "--workers", "1", "--embedding-cache", str(tmp_path / "e.sqlite"))
    proc = _bitext(*args, cwd=tmp_path)
    log = out / "run.log"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (log.is_file() and "\tdone\t" in log.read_text(encoding="utf-8")):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0, err
    finished = [d for d in range(8) if (out / "docs" / f"d{d}" / ".done").is_file()]
    assert 1 <= len(finished) < 8, "the run should have been stopped midway"
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["complete"] is False
    proc = _bitext(*args, cwd=tmp_path)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["complete"] and run["counts"]["skipped"] >= len(finished)
    assert run["counts"]["done"] + run["counts"]["skipped"] == 8
    assert all((out / "docs" / f"d{d}" / ".done").is_file() for d in range(8))
