"""Embedders: the transformers one on a tiny random BERT built here, and the default USE one.

No network: the tiny model lives in a temporary folder and the hub is switched
off (see conftest.py; the tests that load models also set it themselves).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from toolkit.align.embed import TransformersEmbedder, USEEmbedder, get_embedder
from toolkit.core.errors import ModelError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
HIDDEN = 32

VOCAB = (
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    + "host zhang wei why did you build this tool it is a the can handle chinese yes output text".split()
    + list("?.,:!")
    + list("主持人张伟你为什么要做这个工具它能处理繁体中文吗可以输出的文字。？！：，")
)

TEXTS = [
    "Host: Why did you build this tool?",
    "主持人：你为什么要做这个工具？",
    "Zhang Wei: yes.",
    "张伟：可以。",
    "Host: Why did you build this tool?",  # repeated on purpose
    "unknownword",
]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer BERT (hidden 32) with a WordPiece vocabulary of ~70 tokens."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(dict.fromkeys(VOCAB)) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizer(str(vocab))
    config = transformers.BertConfig(
        vocab_size=len(tokenizer), hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64,
    )
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("prefix", ["hf", "labse"])
def test_transformers_embedder_on_tiny_model(tiny_model, prefix):
    embedder = get_embedder(f"{prefix}:{tiny_model}")
    assert isinstance(embedder, TransformersEmbedder)
    assert embedder.describe() == f"transformers:{tiny_model}"
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), HIDDEN)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors[0], vectors[4])             # identical texts, identical rows
    assert not np.allclose(vectors[0], vectors[1], atol=1e-3)  # different texts differ
    assert np.array_equal(embedder.embed(TEXTS), vectors)     # deterministic across calls
    assert embedder.dim == HIDDEN


def test_tiny_model_padding_does_not_change_rows(tiny_model):
    """A text embedded alone or in a padded batch gets (nearly) the same vector."""
    embedder = get_embedder(f"hf:{tiny_model}")
    alone = embedder.embed(["张伟：可以。"])
    batched = embedder.embed(["Host: Why did you build this tool? Zhang Wei: yes.", "张伟：可以。"])
    assert np.allclose(alone[0], batched[1], atol=1e-5)


def test_tiny_model_batches_and_progress(tiny_model):
    embedder = get_embedder(f"hf:{tiny_model}")
    embedder.batch_size = 2
    seen = []
    vectors = embedder.embed(TEXTS, seen.append)
    assert vectors.shape == (len(TEXTS), HIDDEN)
    # Progress counts every input text (duplicates included), one call per batch of 2 unique texts.
    assert sum(seen) == len(TEXTS)
    assert len(seen) == -(-len(set(TEXTS)) // 2)
    whole = get_embedder(f"hf:{tiny_model}").embed(TEXTS)
    assert np.allclose(vectors, whole, atol=1e-5)


def test_empty_input(tiny_model):
    vectors = get_embedder(f"hf:{tiny_model}").embed([])
    assert vectors.shape == (0, HIDDEN)


def test_missing_model_folder(tmp_path):
    missing = tmp_path / "no-such-model"
    embedder = get_embedder(f"hf:{missing}")  # building is cheap; loading fails
    with pytest.raises(ModelError) as info:
        embedder.embed(["hello"])
    assert str(missing) in info.value.message
    assert info.value.hint


def test_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model", encoding="utf-8")
    with pytest.raises(ModelError):
        get_embedder(f"hf:{tmp_path}").embed(["hello"])


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("nope", "unknown embedder"),
        ("nope:arg", "unknown embedder"),
        ("hf", "needs a model"),
        ("hf:", "needs a model"),
    ],
)
def test_bad_embedder_names(spec, expected):
    with pytest.raises(ModelError, match=expected) as info:
        get_embedder(spec)
    assert info.value.hint


def test_embedder_names_build_the_right_class():
    assert isinstance(get_embedder(), USEEmbedder)
    assert isinstance(get_embedder("use"), USEEmbedder)
    labse = get_embedder("labse")
    assert isinstance(labse, TransformersEmbedder)
    assert labse.model_name == TransformersEmbedder.DEFAULT_MODEL


def test_cli_align_with_tiny_model(tiny_model, tmp_path, monkeypatch):
    from toolkit.cli import app
    from toolkit.formats.writers import read_align, read_signature

    monkeypatch.setattr("sys.argv", ["bitext"])
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "align", str(EXAMPLES / "interview.zh.txt"), str(EXAMPLES / "interview.en.txt"),
        "-o", str(out), "--name", "tiny", "--embedder", f"hf:{tiny_model}", "-q",
    ])
    assert result.exit_code == 0, result.output
    assert len(list(out.iterdir())) == 7  # the six files and the set's manifest
    beads = read_align(out / "tiny.align")
    assert [i for b in beads for i in b.zh] == list(range(9))
    assert read_signature(out / "tiny.signature.json")["embedder"] == f"transformers:{tiny_model}"


# ---------------------------------------------------------------------------
# the default embedder


@pytest.fixture(scope="module")
def use():
    return get_embedder("use")


def test_use_shape_and_norm(use):
    vectors = use.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 512)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors[0], vectors[4])
    assert use.describe().startswith("use-multilingual-v3")


@pytest.mark.parametrize(
    "zh, translation, unrelated",
    [
        ("主持人：你为什么要做这个工具？", "Host: Why did you build this tool?",
         "By the way, we started the project in 2021 in a small office."),
        ("这太浪费时间了！", "It is a huge waste of time.", "Can it handle traditional Chinese?"),
        ("输出的文字仍然保持原来的写法。", "The output text keeps the original script.",
         "Because translators align sentences by hand every day."),
    ],
)
def test_use_translation_is_closest(use, zh, translation, unrelated):
    z, t, u = use.embed([zh, translation, unrelated])
    assert z @ t > z @ u + 0.1


def test_cli_quiet_with_tiny_model(tiny_model, tmp_path, monkeypatch):
    from toolkit.cli import app

    monkeypatch.setattr("sys.argv", ["bitext"])
    result = CliRunner().invoke(app, [
        "align", str(EXAMPLES / "interview.zh.txt"), str(EXAMPLES / "interview.en.txt"),
        "-o", str(tmp_path / "out"), "--embedder", f"hf:{tiny_model}", "--quiet",
    ])
    assert result.exit_code == 0, result.output
    assert result.output == ""
