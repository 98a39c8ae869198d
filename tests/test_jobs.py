"""The library API under the commands: AlignJob, load_models, run_alignment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.core.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_the_python_api_aligns_several_pairs_with_models_loaded_once(tmp_path):
    from toolkit import AlignJob, load_models, run_alignment

    models = load_models(embedding_cache=tmp_path / "emb.sqlite")
    results = [run_alignment(AlignJob(zh=EXAMPLES / "interview.zh.txt", en=EXAMPLES / "interview.en.txt",
                                      output=tmp_path / f"out{i}"), models) for i in range(2)]
    first, second = results
    assert first.out_dir == tmp_path / "out0" and first.alignment.name == "interview"
    assert {p.name for p in first.paths} >= {"interview.jsonl", "interview.tmx", "interview.align"}
    assert first.details["embedding_cache"]["misses"] > 0 and second.details["embedding_cache"]["misses"] == 0
    assert models.embedder is not None  # the same embedder served both
    # The library wrote the same files twice; only the run details differ.
    assert (tmp_path / "out0" / "interview.jsonl").read_bytes() == (tmp_path / "out1" / "interview.jsonl").read_bytes()
    signature = json.loads((tmp_path / "out0" / "interview.signature.json").read_text(encoding="utf-8"))
    assert "timings" in signature  # run_details on by default, as bitext align writes


def test_run_details_off_makes_the_signature_reproducible(tmp_path):
    from toolkit import AlignJob, load_models, run_alignment

    models = load_models(use_embedding_cache=False)
    job = AlignJob(zh=str(EXAMPLES / "interview.zh.txt"), en=str(EXAMPLES / "interview.en.txt"),
                   output=str(tmp_path / "a"), run_details=False, command="bitext align ...")
    result = run_alignment(job, models)
    signature = json.loads((tmp_path / "a" / "interview.signature.json").read_text(encoding="utf-8"))
    assert "timings" not in signature and "command" not in signature and "embedding_cache" not in signature
    assert "embed_s" in result.details["timings"]  # still reported to the caller


def test_a_job_is_checked_when_it_is_made():
    from toolkit import AlignJob

    with pytest.raises(ValueError, match="needs a translator"):
        AlignJob(zh="a.zh.txt", en=None)
    with pytest.raises(ValueError, match="nothing to score"):
        AlignJob(zh="a.zh.txt", en=None, mt="none", score=True)
    assert AlignJob(zh="talk.zh.txt", en="talk.en.txt").out_dir == Path("out") / "talk"


def test_a_bad_input_fails_before_the_output_folder_is_made(tmp_path):
    from toolkit import AlignJob, load_models, run_alignment

    with pytest.raises(InputError, match="does not exist"):
        run_alignment(AlignJob(zh=tmp_path / "none.zh.txt", en=EXAMPLES / "interview.en.txt", output=tmp_path / "o"),
                      load_models(use_embedding_cache=False))
    assert not (tmp_path / "o").exists()


def test_the_key_changes_with_inputs_and_options():
    from toolkit.jobs import AlignJob, job_key
    from toolkit.pipeline import AlignOptions

    job = AlignJob(zh="a", en="b")
    base = job_key(job, b"zh", b"en")
    assert job_key(job, b"zh", b"en") == base
    assert job_key(job, b"zh!", b"en") != base and job_key(job, b"zh", b"en!") != base
    assert job_key(AlignJob(zh="a", en="b", options=AlignOptions(lexical=False)), b"zh", b"en") != base
    assert job_key(AlignJob(zh="a", en="b", en_comment="#"), b"zh", b"en") != base
    # Where the files are does not matter, what they hold does.
    assert job_key(AlignJob(zh="elsewhere/a", en="b"), b"zh", b"en") == base
