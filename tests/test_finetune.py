"""Fine-tuning: data reading and its errors, the schedule and padding, and an end-to-end run of
scripts/finetune.py on a tiny random MarianMT whose sentencepiece vocabularies are trained here
(no network, no real weights): the loss goes down, the saved folder loads as ``seq2seq:PATH``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import itertools
import json
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolkit.core.errors import FormatError, InputError
from toolkit.export.exports import split_path, write_training_jsonl
from toolkit.train.finetune import (
    FinetuneConfig,
    collate,
    find_splits,
    linear_schedule,
    read_translation_jsonl,
    tokenize_pairs,
    total_steps,
)

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses")
runner = CliRunner()

# An invented toy language pair: subject x verb x object, each part translated word for word.
SUBJECTS = {"我": "I", "你": "you", "他": "he", "她": "she", "我们": "we", "他们": "they"}
VERBS = {"喜欢": "like", "看见": "see", "想要": "want", "画": "draw"}
OBJECTS = {"猫": "cats", "狗": "dogs", "书": "books", "茶": "tea", "鱼": "fish", "花": "flowers"}


def toy_pairs() -> list[tuple[str, str]]:
    return [(f"{s}{v}{o}。", f"{se} {ve} {oe}.")
            for (s, se), (v, ve), (o, oe) in itertools.product(SUBJECTS.items(), VERBS.items(), OBJECTS.items())]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def one_thread():
    """One torch thread: a tiny model gains nothing from two, and loses a lot when the cores are busy."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_marian(tmp_path_factory) -> Path:
    """A random 2-layer MarianMT (d_model 32) with a MarianTokenizer: a sentencepiece model per language."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    spm = pytest.importorskip("sentencepiece")
    folder = tmp_path_factory.mktemp("tiny-marian-spm")
    pairs = toy_pairs()
    vocab = {"</s>": 0, "<unk>": 1, "<pad>": 2}
    for name, lines, model_type in (("source.spm", [zh for zh, _ in pairs], "char"),
                                    ("target.spm", [en for _, en in pairs], "word")):
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model, vocab_size=60,
                                       model_type=model_type, character_coverage=1.0, pad_id=-1, unk_id=1, bos_id=-1,
                                       eos_id=2, hard_vocab_limit=False, minloglevel=2)
        (folder / name).write_bytes(model.getvalue())
        processor = spm.SentencePieceProcessor(model_file=str(folder / name))
        for i in range(processor.get_piece_size()):
            vocab.setdefault(processor.id_to_piece(i), len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Recommended: pip install sacremoses"
        tokenizer = transformers.MarianTokenizer(str(folder / "source.spm"), str(folder / "target.spm"),
                                                 str(folder / "vocab.json"), source_lang="zh", target_lang="en")
    config = transformers.MarianConfig(
        vocab_size=len(vocab), d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64,
        pad_token_id=vocab["<pad>"], eos_token_id=vocab["</s>"], decoder_start_token_id=vocab["<pad>"],
        forced_eos_token_id=vocab["</s>"], dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
    )
    torch.manual_seed(0)
    transformers.MarianMTModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def training_record(number: int, zh: str, en: str) -> dict:
    return {"id": number, "zh": zh, "en": en, "score": 0.9, "type": "1-1", "origin": "aligned", "mt": None}


def write_splits(folder: Path, train: list[tuple[str, str]], dev: list[tuple[str, str]]) -> Path:
    """Split files as `bitext export --to jsonl --split -o folder/corpus.jsonl` names them, with sidecars."""
    base = folder / "corpus.jsonl"
    for split, pairs in (("train", train), ("dev", dev)):
        records = [training_record(i, zh, en) for i, (zh, en) in enumerate(pairs, start=1)]
        signature = {"export": {"format": "jsonl", "split": split}, "sources": {f"doc-{split}": {}}}
        write_training_jsonl(split_path(base, split), {f"doc-{split}": records}, signature)
    return base


def load_script():
    spec = importlib.util.spec_from_file_location("finetune_script", ROOT / "scripts" / "finetune.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------
# data


def test_read_translation_jsonl_skips_one_sided_pairs_and_reads_the_sidecar(tmp_path):
    base = write_splits(tmp_path, [("你好。", "Hello."), ("", "Only English."), ("再见。", " ")], [("好。", "Good.")])
    data = read_translation_jsonl(split_path(base, "train"))
    assert (data.sources, data.targets, data.skipped) == (("你好。",), ("Hello.",), 2)
    assert data.sha256 == hashlib.sha256(split_path(base, "train").read_bytes()).hexdigest()
    assert data.signature()["export"] == {"format": "jsonl", "split": "train"}
    assert data.signature()["documents"] == ["doc-train"]


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (None, InputError, "does not exist"),
        ("", InputError, "has no translation pairs \\(it is empty\\)"),
        ('{"translation": {"zh": "", "en": "x"}}\n', InputError, "all 1 pairs have an empty side"),
        ('{"zh": "你好", "en": "hi"}\n', FormatError, "line 1: no translation pair"),
        ('\n{"translation": {"zh": "你好", "de": "Hallo"}}\n', FormatError, "line 2: no translation pair"),
        ('{"translation": {"zh": "你好", "en": 3}}\n', FormatError, "line 1: no translation pair"),
        ("[1, 2]\n", FormatError, "line 1: no translation pair"),
        ("{broken\n", FormatError, "line 1: not JSON"),
    ],
)
def test_bad_training_files(tmp_path, content, error, message):
    path = tmp_path / "x.dev.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(error, match=message):
        read_translation_jsonl(path, "dev")


def test_find_splits(tmp_path):
    base = write_splits(tmp_path, [("你好。", "Hello.")], [("好。", "Good.")])
    expected = {"train": split_path(base, "train"), "dev": split_path(base, "dev")}
    for given in (base, split_path(base, "train"), split_path(base, "dev")):
        assert find_splits(given) == expected
    single = tmp_path / "single.jsonl"
    single.write_text(split_path(base, "train").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InputError, match="no dev split"):
        find_splits(single)
    assert find_splits(single, dev=split_path(base, "dev")) == {"train": single, "dev": split_path(base, "dev")}
    with pytest.raises(InputError, match="both the train and the dev"):
        find_splits(single, dev=single)
    with pytest.raises(InputError, match="no training data"):
        find_splits(tmp_path / "missing.jsonl")


# ---------------------------------------------------------------------------
# settings, schedule, batches


@pytest.mark.parametrize("bad", [{"epochs": 0}, {"max_steps": 0}, {"batch_size": -1}, {"learning_rate": 0.0},
                                 {"warmup_ratio": 1.0}, {"grad_accum": 1.5}, {"model": ""}])
def test_config_validates(bad):
    with pytest.raises(ValueError):
        FinetuneConfig(**bad)


def test_total_steps():
    assert total_steps(FinetuneConfig(epochs=2, batch_size=4), 10) == 6  # 3 batches per epoch
    assert total_steps(FinetuneConfig(epochs=2, batch_size=4, grad_accum=2), 10) == 4  # ceil(3 / 2) per epoch
    assert total_steps(FinetuneConfig(epochs=5, max_steps=7), 10) == 7


def test_linear_schedule_warms_up_then_decays_to_zero():
    factors = [linear_schedule(step, 4, 20) for step in range(20)]
    assert factors[:4] == sorted(factors[:4]) and factors[0] > 0  # rising, never a zero first step
    assert factors[4] == 1.0
    assert factors[4:] == sorted(factors[4:], reverse=True) and factors[-1] == pytest.approx(1 / 16)
    assert linear_schedule(20, 4, 20) == 0.0
    assert linear_schedule(0, 0, 10) == 1.0


def test_collate_pads_sources_with_pad_and_labels_with_minus_100():
    pytest.importorskip("torch")
    batch = collate([([5, 6, 0], [7, 0]), ([5, 0], [8, 9, 10, 0])], pad_id=2)
    assert batch["input_ids"].tolist() == [[5, 6, 0], [5, 0, 2]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["labels"].tolist() == [[7, 0, -100, -100], [8, 9, 10, 0]]


def test_labels_come_from_the_target_vocabulary_and_are_truncated(tiny_marian):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_marian)
    [(source, labels)] = tokenize_pairs(tokenizer, ["我喜欢猫。"], ["I like cats."], 64, 64)
    assert tokenizer.decode(labels, skip_special_tokens=True) == "I like cats."
    assert labels != tokenizer("I like cats.")["input_ids"]  # the source side would spell it with other pieces
    assert labels[-1] == tokenizer.eos_token_id and source[-1] == tokenizer.eos_token_id
    [(short_source, short_labels)] = tokenize_pairs(tokenizer, ["我喜欢猫。"], ["I like cats."], 3, 2)
    assert len(short_source) == 3 and len(short_labels) == 2


# ---------------------------------------------------------------------------
# end to end


def test_finetune_end_to_end(tiny_marian, tmp_path, one_thread):
    from toolkit.translate.backends import get_translator

    pairs = toy_pairs()
    dev = pairs[5::12]  # every 12th pair held out: 12 pairs, each word still seen in training
    train = [p for p in pairs if p not in dev]
    base = write_splits(tmp_path, train, dev)
    out = tmp_path / "tuned"
    script = load_script()
    outcome = runner.invoke(script.app, [str(base), "-o", str(out), "--model", str(tiny_marian), "--max-steps", "150",
                                         "--batch-size", "16", "--lr", "0.005", "--warmup-ratio", "0.1", "--seed", "1",
                                         "--max-source-length", "32", "--max-target-length", "32", "--quiet"])
    assert outcome.exit_code == 0, outcome.output

    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    losses = metrics["train"]["losses"]
    assert metrics["train"]["steps"] == len(losses) == 150
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:5]) / 5  # the training loss falls by 30% or more
    assert metrics["after"]["loss"] < metrics["before"]["loss"]  # and so does the held-out loss
    for when in ("before", "after"):
        assert 0.0 <= metrics[when]["bleu"] <= 100.0 and 0.0 <= metrics[when]["chrf"] <= 100.0
        assert metrics[when]["bleu_signature"].startswith("nrefs:1|") and "tok:13a" in metrics[when]["bleu_signature"]
        assert metrics[when]["chrf_signature"].startswith("nrefs:1|") and "nc:6" in metrics[when]["chrf_signature"]
        assert metrics[when]["segments"] == len(dev)
    assert "BLEU" in outcome.output and f"seq2seq:{out}" in outcome.output

    signature = json.loads((out / "finetune.signature.json").read_text(encoding="utf-8"))
    assert signature["settings"]["max_steps"] == 150 and signature["settings"]["learning_rate"] == 0.005
    assert signature["base_model"] == str(tiny_marian)
    train_file = split_path(base, "train")
    assert signature["data"]["train"]["sha256"] == hashlib.sha256(train_file.read_bytes()).hexdigest()
    assert signature["data"]["train"]["pairs"] == len(train) and signature["data"]["dev"]["pairs"] == len(dev)
    assert signature["data"]["dev"]["export"]["split"] == "dev"
    assert "scripts/finetune.py" in signature["command"] and "torch" in signature["versions"]

    translator = get_translator(f"seq2seq:{out}")
    outputs = translator.translate([zh for zh, _ in dev])
    assert len(outputs) == len(dev) and all(text.strip() for text in outputs)
    assert all(word.isascii() for text in outputs for word in text.split())  # English pieces, not the source's
    assert get_translator(str(out)).translate(["我喜欢猫。"])[0].strip()  # a bare folder path is seq2seq too


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: d / "missing.jsonl", "no training data"),
        (lambda d: (split_path(write_splits(d, [("你好。", "Hello.")], [("好。", "Good.")]), "dev")
                    .write_text('{"text": "no pairs here"}\n', encoding="utf-8"), d / "corpus.jsonl")[1],
         "line 1: no translation pair"),
        (lambda d: (split_path(write_splits(d, [("你好。", "Hello.")], [("好。", "Good.")]), "dev")
                    .write_text("", encoding="utf-8"), d / "corpus.jsonl")[1], "the dev split"),
    ],
)
def test_cli_bad_input_is_one_error_line(tmp_path, setup, message):
    data = setup(tmp_path)
    outcome = runner.invoke(load_script().app, [str(data), "-o", str(tmp_path / "out"), "--model", "no-such-model"])
    assert outcome.exit_code == 1
    lines = outcome.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and message in lines[0]
    assert not (tmp_path / "out").exists()  # data errors come before any folder or model


def test_cli_bad_option_and_unusable_output(tmp_path, tiny_marian):
    base = write_splits(tmp_path, [("你好。", "Hello.")], [("好。", "Good.")])
    outcome = runner.invoke(load_script().app, [str(base), "-o", str(tmp_path / "out"), "--epochs", "0"])
    assert outcome.exit_code == 1 and "Error: bad option: epochs" in outcome.output
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine", encoding="utf-8")
    outcome = runner.invoke(load_script().app, [str(base), "-o", str(occupied), "--model", str(tiny_marian)])
    assert outcome.exit_code == 1 and "is not empty and not a fine-tuned model folder" in outcome.output
    assert sorted(p.name for p in occupied.iterdir()) == ["notes.txt"]
