"""Translators: output checks, checked/cached translation with a fake backend, names, and
tiny random seq2seq and causal models built here (no network, no real weights).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.core.errors import ModelError
from toolkit.translate.backends import (
    LLM_ENGINES,
    LLMTranslator,
    NoTranslator,
    Seq2SeqTranslator,
    Translation,
    Translator,
    clean_llm_output,
    get_translator,
    translate_checked,
)
from toolkit.translate.cache import TranslationCache
from toolkit.translate.checks import check_translation

SPECIAL = ["<pad>", "<unk>", "</s>", "<s>", "<|im_start|>", "<|im_end|>", "zho_Hans", "eng_Latn"]
WORDS = "the host why did you build this tool it can handle chinese yes output text system user assistant".split()
CHARS = list("主持人张伟你为什么要做这个工具它能处理繁体中文吗可以输出的文字。？！：，")
SOURCES = ["主持人：你为什么要做这个工具？", "张伟：可以。", "它能处理繁体中文吗？", "可以输出文字。", "你好"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }} {{ m['content'] }}<|im_end|> {% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant {% endif %}"
)


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def _tokenizer(chat_template: str | None = None):
    """A word-level fast tokenizer: Latin words whole, every Chinese character a token."""
    tokenizers = pytest.importorskip("tokenizers")
    transformers = pytest.importorskip("transformers")
    vocab = {w: i for i, w in enumerate(dict.fromkeys(SPECIAL + WORDS + CHARS + list(".,:?!")))}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Sequence([
        tokenizers.pre_tokenizers.Whitespace(),
        tokenizers.pre_tokenizers.Split(tokenizers.Regex(r"[\u4e00-\u9fff]"), "isolated"),
    ])
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>", eos_token="</s>", bos_token="<s>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>", "zho_Hans", "eng_Latn"],
    )
    if chat_template:
        fast.chat_template = chat_template
    return fast, vocab


def _seq2seq_config(config_class, vocab):
    return config_class(
        vocab_size=len(vocab), d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64,
        pad_token_id=vocab["<pad>"], eos_token_id=vocab["</s>"], bos_token_id=vocab["<s>"],
        decoder_start_token_id=vocab["</s>"],
    )


@pytest.fixture(scope="module")
def tiny_marian(tmp_path_factory) -> Path:
    """A random 2-layer MarianMT (d_model 32) with a ~100-token word-level tokenizer."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("tiny-marian")
    tokenizer, vocab = _tokenizer()
    torch.manual_seed(0)
    transformers.MarianMTModel(_seq2seq_config(transformers.MarianConfig, vocab)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_nllb(tmp_path_factory) -> Path:
    """A random M2M100-architecture model whose tokenizer has NLLB's language codes."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("tiny-nllb")
    tokenizer, vocab = _tokenizer()
    torch.manual_seed(0)
    transformers.M2M100ForConditionalGeneration(_seq2seq_config(transformers.M2M100Config, vocab)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _save_tiny_llm(folder: Path, chat_template: str | None = CHAT_TEMPLATE) -> Path:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    tokenizer, vocab = _tokenizer(chat_template)
    config = transformers.Qwen2Config(
        vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=256, pad_token_id=vocab["<pad>"],
        eos_token_id=vocab["<|im_end|>"], bos_token_id=vocab["<s>"],
    )
    torch.manual_seed(0)
    transformers.Qwen2ForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_llm(tmp_path_factory) -> Path:
    """A random 2-layer Qwen2 (hidden 32) whose tokenizer has a small chat template."""
    return _save_tiny_llm(tmp_path_factory.mktemp("tiny-qwen"))


# ---------------------------------------------------------------------------
# Output checks


@pytest.mark.parametrize(
    "source, output, flags",
    [
        ("主持人：你为什么要做这个工具？", "Host: Why did you build this tool?", []),
        ("张伟：可以。", "Zhang Wei: Yes.", []),
        ("好。", "OK.", []),                                        # short source: no length check
        ("我们在2023年发布了GPT-4。", "We released GPT-4 in 2023.", []),
        ("张伟说他会来。", "Zhang Wei (张伟) said he would come.", []),  # two characters left are fine
        ("这是一个很长的句子，讲的是翻译工具。", "", ["empty"]),
        ("这是一个很长的句子，讲的是翻译工具。", "   \n", ["empty"]),
        ("这是一个很长的句子，讲的是翻译工具。", "This is a long sentence about 翻译工具.", ["cjk"]),
        ("在红杉资本的活动上，他们深入探讨了人工智能。", "At an event of Red杉 Capital, they discussed AI.", ["cjk"]),
        ("他仍处于初级阶段。", "He is still at the 初级 stage.", ["cjk"]),   # two characters, but in the running text
        ("这是一个很长的句子，讲的是翻译工具。", "这是一个很长的句子，讲的是翻译工具。", ["cjk", "length"]),
        ("他说了很多事情和想法。", "He said many many many many things.", ["repetition"]),
        ("这个模型很好用，我们每天都用它来做翻译工作。",
         "This model is useful, we use it every day for translation work, for translation work, for translation work.",
         ["repetition"]),
        ("我觉得我觉得我觉得", "I think I think I think", []),          # the source repeats too
        ("“这是一场精彩绝伦的表演……我很喜欢。”", "\"It is a brilliant show ... ... ... I love it.\"", []),
        ("这个模型很好用，我们每天都用它来做翻译工作。", "Useful.", ["length"]),
        ("这个模型很好用。", "This model is very useful, and here is a long explanation of why the translation "
         "reads the way it does, with notes on every single word of the original sentence.", ["length"]),
    ],
)
def test_check_translation(source, output, flags):
    assert check_translation(source, output) == flags


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("Hello there.", "Hello there."),
        ("  Translation: Hello there.  ", "Hello there."),
        ("English translation: Hello there.", "Hello there."),
        ("**Translation:** Hello there.", "Hello there."),
        ('"Hello there."', "Hello there."),
        ("“Hello there.”", "Hello there."),
        ('"Yes," he said, "no."', '"Yes," he said, "no."'),   # inner quotes: not a wrapper
        ("<think>the user wants English</think>\nHello there.", "Hello there."),
        ("Hello there.\n\nNote: 你好 is a greeting.", "Hello there."),
        ("", ""),
    ],
)
def test_clean_llm_output(raw, clean):
    assert clean_llm_output(raw) == clean


def test_translation_rejects_unknown_flags():
    assert Translation("你好", "Hello").ok
    with pytest.raises(ValueError):
        Translation("你好", "Hello", ("bogus",))


# ---------------------------------------------------------------------------
# Checked, cached translation with a fake backend


class FakeTranslator(Translator):
    """Looks outputs up in ``table`` (default: :func:`fake_english`); records what it was asked."""

    name = "fake"
    batch_size = 2
    RETRY_SETTINGS = {"retry": True}

    def __init__(self, table=None, retry_table=None, fail_on_call=None):
        super().__init__()
        self.table = table or {}
        self.retry_table = retry_table or {}
        self.fail_on_call = fail_on_call
        self.calls: list[list[str]] = []
        self.retries: list[list[str]] = []

    def _generate(self, texts, overrides):
        if overrides:
            self.retries.append(list(texts))
            return [self.retry_table.get(t, self.table.get(t, "")) for t in texts]
        self.calls.append(list(texts))
        if self.fail_on_call is not None and len(self.calls) == self.fail_on_call:
            raise KeyboardInterrupt
        return [self.table.get(t, fake_english(t)) for t in texts]


def fake_english(text: str) -> str:
    """A distinct, CJK-free, plausibly long "translation" of ``text``."""
    return "Sentence " + " ".join(str(ord(c)) for c in text) + "."


TEXTS = ["第一句。", "第二句。", "第一句。", "第三句。", "第四句。", "第五句。"]


def test_translate_checked_dedupes_and_keeps_order():
    fake = FakeTranslator()
    seen = []
    results = translate_checked(fake, TEXTS, progress=seen.append)
    assert [r.source for r in results] == TEXTS
    assert results[0] == results[2]
    assert all(r.ok and not r.cached for r in results)
    asked = [t for batch in fake.calls for t in batch]
    assert sorted(asked) == sorted(set(TEXTS))             # each distinct text once
    assert all(len(batch) <= fake.batch_size for batch in fake.calls)
    assert sum(seen) == len(TEXTS)                          # progress counts every input, duplicates too
    assert not fake.retries


def test_translate_checked_uses_the_cache(tmp_path):
    cache = TranslationCache(tmp_path / "mt.sqlite")
    first = translate_checked(FakeTranslator(), TEXTS, cache=cache)
    fake = FakeTranslator()
    seen = []
    second = translate_checked(fake, TEXTS + ["第六句。"], cache=cache, progress=seen.append)
    assert fake.calls == [["第六句。"]]                      # only the new text reaches the model
    assert [r.text for r in second[:len(TEXTS)]] == [r.text for r in first]
    assert all(r.cached for r in second[:len(TEXTS)]) and not second[-1].cached
    assert seen == [len(TEXTS), 1]


def test_cache_key_follows_the_settings(tmp_path):
    cache = TranslationCache(tmp_path / "mt.sqlite")
    translate_checked(FakeTranslator(), TEXTS, cache=cache)
    other = FakeTranslator()
    other.settings = lambda: {"num_beams": 4}
    translate_checked(other, TEXTS, cache=cache)
    assert other.calls                                        # different settings: no stale hits


def test_flagged_outputs_are_retried_once_and_flags_kept():
    long_source = "这个模型很好用，我们每天都用它来做翻译工作。"
    table = {
        "第一句。": "",                                           # empty, fixed by the retry
        "第二句。": "第二句。",                                    # CJK, still CJK on retry
        long_source: "这个模型 useful 翻译工作",                    # cjk + length; retry fixes the CJK only
        "第三句。": "The English translation of sentence three.",
    }
    retry = {
        "第一句。": "The first sentence, translated properly.",
        "第二句。": "第二句",
        long_source: "Useful.",
    }
    fake = FakeTranslator(table, retry)
    results = {r.source: r for r in translate_checked(fake, list(table), cache=None)}
    assert sorted(t for batch in fake.retries for t in batch) == sorted(["第一句。", "第二句。", long_source])
    assert results["第一句。"].text == "The first sentence, translated properly." and results["第一句。"].ok
    assert results["第二句。"].flags == ("cjk",)                 # never silently accepted
    assert results["第二句。"].text == "第二句。"                 # tie: the first attempt stays
    assert results[long_source].text == "Useful." and results[long_source].flags == ("length",)
    assert results["第三句。"].ok


def test_flags_are_cached_too(tmp_path):
    cache = TranslationCache(tmp_path / "mt.sqlite")
    translate_checked(FakeTranslator({"第一句。": ""}), ["第一句。"], cache=cache)
    again = FakeTranslator()
    [result] = translate_checked(again, ["第一句。"], cache=cache)
    assert result.flags == ("empty",) and result.cached and not again.calls


def test_interrupted_run_resumes_from_the_cache(tmp_path):
    texts = [f"第{n}句话。" for n in "一二三四五六七八"]
    cache = TranslationCache(tmp_path / "mt.sqlite")
    crashing = FakeTranslator(fail_on_call=3)
    with pytest.raises(KeyboardInterrupt):
        translate_checked(crashing, texts, cache=cache)
    assert cache.stats()["entries"] == 4                     # the two batches before the crash
    done = {t for batch in crashing.calls[:2] for t in batch}
    rerun = FakeTranslator()
    results = translate_checked(rerun, texts, cache=TranslationCache(tmp_path / "mt.sqlite"))
    assert sorted(t for batch in rerun.calls for t in batch) == sorted(set(texts) - done)
    assert [r.cached for r in results] == [t in done for t in texts]


def test_blank_texts_are_not_sent():
    fake = FakeTranslator()
    results = translate_checked(fake, ["", "  ", "第一句。"])
    assert fake.calls == [["第一句。"]]
    assert [r.text for r in results[:2]] == ["", ""] and results[0].ok


def test_none_translator_marks_untranslated(tmp_path):
    cache = TranslationCache(tmp_path / "mt.sqlite")
    seen = []
    results = translate_checked(NoTranslator(), TEXTS, cache=cache, progress=seen.append)
    assert [r.text for r in results] == [""] * len(TEXTS)
    assert all(r.flags == ("untranslated",) for r in results)
    assert cache.stats()["entries"] == 0 and seen == [len(TEXTS)]
    assert NoTranslator().translate(["你好"]) == [""]
    assert "none" in NoTranslator().describe()


def test_batches_are_sorted_by_length_and_capped():
    fake = FakeTranslator()
    fake.batch_size, fake.max_batch_chars = 3, 40
    texts = ["一" * 15, "一", "一" * 3, "一" * 2, "一" * 30, "一" * 4]
    batches = fake.batches(texts)
    assert batches == [[1, 3, 2], [5, 0], [4]]                   # 3 per batch at most, longest x size <= 40
    assert sorted(i for b in batches for i in b) == list(range(len(texts)))
    assert fake.translate(texts) == [fake_english(t) for t in texts]
    assert fake.batches([]) == []


# ---------------------------------------------------------------------------
# Names


def test_get_translator_names(tmp_path):
    assert isinstance(get_translator("none"), NoTranslator)
    marian = get_translator("seq2seq")
    assert isinstance(marian, Seq2SeqTranslator) and marian.model_name == "Helsinki-NLP/opus-mt-zh-en"
    assert get_translator("seq2seq:some/model").model_name == "some/model"
    assert get_translator("marian").model_name == "Helsinki-NLP/opus-mt-zh-en"
    llm = get_translator("llm:Qwen/Qwen2.5-1.5B-Instruct")
    assert isinstance(llm, LLMTranslator) and llm.gguf_file is None
    gguf = get_translator(f"llm:{tmp_path}/q4.gguf")
    assert (gguf.model_name, gguf.gguf_file) == (str(tmp_path), "q4.gguf")
    assert "q4.gguf" in gguf.describe()


def test_get_translator_from_paths(tiny_marian, tiny_llm, tmp_path):
    assert isinstance(get_translator(str(tiny_marian)), Seq2SeqTranslator)
    assert isinstance(get_translator(str(tiny_llm)), LLMTranslator)
    (tmp_path / "model.gguf").write_bytes(b"GGUF")
    from_file = get_translator(str(tmp_path / "model.gguf"))
    from_dir = get_translator(str(tmp_path))
    assert (from_file.model_name, from_file.gguf_file) == (from_dir.model_name, from_dir.gguf_file)


@pytest.mark.parametrize("spec, expected", [("nope", "unknown translator"), ("llm", "needs a model"),
                                            ("llm:", "needs a model"), ("", "unknown translator")])
def test_bad_translator_names(spec, expected, tmp_path):
    with pytest.raises(ModelError, match=expected) as info:
        get_translator(spec, models_dir=tmp_path)
    assert info.value.hint
    if expected == "unknown translator":
        assert "seq2seq" in info.value.hint and "none" in info.value.hint


def _write_registry(models_dir: Path, models: dict) -> None:
    models_dir.mkdir(exist_ok=True)
    (models_dir / "registry.json").write_text(json.dumps({"models": models}), encoding="utf-8")


def test_registry_names(tmp_path):
    models_dir = tmp_path / "models"
    _write_registry(models_dir, {
        "qwen1.5b": {"backend": "llm", "file": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "tokenizer": None,
                     "sha256": "0" * 64, "licence": "Apache-2.0"},
        "opus": {"backend": "seq2seq", "file": "opus-mt-zh-en"},
    })
    with pytest.raises(ModelError, match="not installed") as info:
        get_translator("qwen1.5b", models_dir=models_dir)
    assert "python scripts/fetch_models.py qwen1.5b" in info.value.hint
    with pytest.raises(ModelError) as info:
        get_translator("nope", models_dir=models_dir)
    assert "qwen1.5b" in info.value.hint and "opus" in info.value.hint

    (models_dir / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf").write_bytes(b"GGUF")
    (models_dir / "opus-mt-zh-en").mkdir()
    qwen = get_translator("qwen1.5b", models_dir=models_dir)
    assert isinstance(qwen, LLMTranslator)
    assert (qwen.model_name, qwen.gguf_file) == (str(models_dir), "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
    assert qwen.describe().startswith("llm:qwen1.5b")            # machine-independent in signatures
    opus = get_translator("opus", models_dir=models_dir)
    assert isinstance(opus, Seq2SeqTranslator) and opus.model_name == str(models_dir / "opus-mt-zh-en")


def test_registry_prompt_and_size(tmp_path):
    _write_registry(tmp_path, {"tiny": {"backend": "llm", "file": "tiny.gguf", "size": 4,
                                        "prompt": {"system": "Be brief.", "user": "English please: {text}"}}})
    (tmp_path / "tiny.gguf").write_bytes(b"GGUF")
    tiny = get_translator("tiny", models_dir=tmp_path)
    assert (tiny.system_prompt, tiny.user_prompt) == ("Be brief.", "English please: {text}")
    assert tiny.settings()["prompt"]["user"] == "English please: {text}"       # part of the cache key
    assert tiny.describe().startswith("llm:tiny (decoding=greedy, max_new_tokens=256, prompt=sha256:")
    (tmp_path / "tiny.gguf").write_bytes(b"GG")
    with pytest.raises(ModelError, match="incomplete") as info:
        get_translator("tiny", models_dir=tmp_path)
    assert "fetch_models.py tiny" in info.value.hint


def test_project_registry_is_found_from_anywhere(tmp_path, monkeypatch):
    from toolkit.translate.backends import PROJECT_MODELS_DIR, default_models_dir

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BITEXT_MODELS_DIR")  # conftest hides the project's models from other tests
    if not (PROJECT_MODELS_DIR / "registry.json").is_file():
        pytest.skip("no models/registry.json in this checkout")
    assert default_models_dir() == PROJECT_MODELS_DIR
    try:
        translator = get_translator("qwen0.5b")
    except ModelError as error:                       # not fetched here: the hint says how
        assert "fetch_models.py qwen0.5b" in error.hint
    else:
        assert isinstance(translator, LLMTranslator) and translator.gguf_file


def test_models_dir_from_the_environment(tmp_path, monkeypatch):
    from toolkit.translate.backends import default_models_dir

    monkeypatch.setenv("BITEXT_MODELS_DIR", str(tmp_path))
    assert default_models_dir() == tmp_path
    (tmp_path / "registry.json").write_text(json.dumps({"models": {"mine": {"backend": "llm", "file": "m.gguf"}}}),
                                            encoding="utf-8")
    with pytest.raises(ModelError, match="not installed"):  # found in that registry, but not fetched
        get_translator("mine")


def test_broken_registry(tmp_path):
    (tmp_path / "registry.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="registry") as info:
        get_translator("qwen1.5b", models_dir=tmp_path)
    assert info.value.hint


def test_import_does_not_load_torch():
    code = "import sys, toolkit.translate.backends, toolkit.translate.cache; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------
# Tiny real models


def test_seq2seq_on_tiny_marian(tiny_marian):
    translator = get_translator(f"seq2seq:{tiny_marian}")
    assert translator.describe() == f"seq2seq:{tiny_marian} (num_beams=1, max_new_tokens=256)"
    translator.batch_size, translator.max_new_tokens = 2, 16
    out = translator.translate(SOURCES)
    assert len(out) == len(SOURCES) and all(isinstance(t, str) for t in out)
    assert translator.translate(SOURCES) == out                                    # greedy: deterministic
    assert [translator.translate([s])[0] for s in SOURCES[:2]] == out[:2]          # batching changes nothing
    assert translator._generate_kwargs == {}                                        # no language codes for Marian
    results = translate_checked(translator, SOURCES)
    assert [r.source for r in results] == SOURCES     # random weights: flags or not, one result per text


def test_seq2seq_forces_english_for_nllb(tiny_nllb):
    translator = Seq2SeqTranslator(str(tiny_nllb), max_new_tokens=8)
    out = translator.translate(SOURCES[:2])
    assert len(out) == 2
    english = translator._tokenizer.convert_tokens_to_ids("eng_Latn")
    assert translator._generate_kwargs == {"forced_bos_token_id": english}
    assert translator._tokenizer.src_lang == "zho_Hans"


@pytest.mark.parametrize("engine", LLM_ENGINES)
def test_llm_on_tiny_model(tiny_llm, engine):
    import torch

    translator = LLMTranslator(str(tiny_llm), batch_size=8, max_new_tokens=12, engine=engine)
    out = translator.translate(SOURCES)
    assert len(out) == len(SOURCES) and all(isinstance(t, str) for t in out)
    assert translator._tokenizer.padding_side == "left"
    prompt = translator.prompt(SOURCES[0])
    assert "<|im_start|>system" in prompt and prompt.rstrip().endswith("<|im_start|>assistant")
    assert SOURCES[0] in prompt
    # Each batched output equals the new tokens of that prompt generated alone (no padding at all).
    tokenizer, model = translator._tokenizer, translator._model
    for source, batched in zip(SOURCES, out):
        ids = tokenizer(translator.prompt(source), add_special_tokens=False, return_tensors="pt")
        limit = min(12, 16 + 3 * max(len(s) for s in SOURCES))
        with torch.inference_mode():
            alone = model.generate(**ids, max_new_tokens=limit, do_sample=False, pad_token_id=tokenizer.pad_token_id)
        new = tokenizer.decode(alone[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
        assert batched == clean_llm_output(new)
    assert translator.translate(SOURCES) == out
    assert translator.retranslate(SOURCES[:1])[0] is not None


def test_llm_engines_agree_and_batch_differently(tiny_llm):
    continuous = LLMTranslator(str(tiny_llm), max_new_tokens=10, dtype="float32")
    padded = LLMTranslator(str(tiny_llm), max_new_tokens=10, dtype="float32", engine="padded")
    assert continuous.engine == LLMTranslator.DEFAULT_ENGINE == "continuous"
    assert (continuous.batch_size, padded.batch_size) == (LLMTranslator.CONTINUOUS_BATCH, LLMTranslator.PADDED_BATCH)
    assert continuous.translate(SOURCES) == padded.translate(SOURCES)
    assert continuous.describe() == padded.describe()  # same translations: the engine is not part of the cache key
    # Continuous batches are plain slices, longest text first; padded ones group by length.
    continuous.batch_size = 2
    texts = ["一", "一二三", "一二", "一二三四"]
    assert continuous.batches(texts) == [[3, 1], [2, 0]]
    with pytest.raises(ModelError, match="unknown LLM engine") as info:
        LLMTranslator("m", engine="vllm")
    assert "padded" in info.value.hint


def test_continuous_engine_falls_back_for_dropped_requests(tiny_llm, monkeypatch, caplog):
    translator = LLMTranslator(str(tiny_llm), max_new_tokens=10, dtype="float32")
    expected = translator.translate(SOURCES)
    real = translator._model.generate_batch

    def drops_the_first(inputs, **kwargs):  # as if the engine lost a request
        results = real(inputs=inputs, **kwargs)
        first = next(iter(results))
        return {key: value for key, value in results.items() if key != first}

    monkeypatch.setattr(translator._model, "generate_batch", drops_the_first)
    with caplog.at_level("WARNING", logger="toolkit.translate.backends"):
        assert translator.translate(SOURCES) == expected
    assert "no output for 1 of" in caplog.text


def test_retries_decode_padded(tiny_llm, monkeypatch):
    translator = LLMTranslator(str(tiny_llm), max_new_tokens=6)
    translator.load()
    calls = []
    monkeypatch.setattr(translator, "_generate_padded", lambda texts, overrides, clean=True: calls.append(overrides) or
                        ["x"] * len(texts))
    monkeypatch.setattr(translator, "_generate_continuous", lambda texts: calls.append("continuous") or ["y"] * len(texts))
    assert translator.translate(SOURCES[:2]) == ["y", "y"] and translator.retranslate(SOURCES[:2]) == ["x", "x"]
    assert calls == ["continuous", LLMTranslator.RETRY_SETTINGS]


def test_llm_needs_a_chat_template(tmp_path):
    folder = _save_tiny_llm(tmp_path / "no-template", chat_template=None)
    with pytest.raises(ModelError, match="chat template"):
        LLMTranslator(str(folder)).translate(["你好"])


def test_missing_model_folder(tmp_path):
    missing = tmp_path / "no-such-model"
    for translator in (get_translator(f"seq2seq:{missing}"), get_translator(f"llm:{missing}")):
        with pytest.raises(ModelError) as info:
            translator.translate(["你好"])
        assert str(missing) in info.value.message and "does not exist" in info.value.message
        assert info.value.hint


def test_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model", encoding="utf-8")
    with pytest.raises(ModelError, match="not a transformers model folder"):
        get_translator(f"seq2seq:{tmp_path}").translate(["你好"])
    with pytest.raises(ModelError, match="not a model folder"):
        get_translator(str(tmp_path))


def test_gguf_needs_its_packages(tmp_path, monkeypatch):
    pytest.importorskip("transformers")
    import toolkit.translate.backends as translate

    real = translate.importlib.util.find_spec
    monkeypatch.setattr(translate.importlib.util, "find_spec",
                        lambda name, *a: None if name in ("gguf", "accelerate") else real(name, *a))
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    with pytest.raises(ModelError, match="gguf") as info:
        get_translator(f"llm:{tmp_path / 'm.gguf'}").translate(["你好"])
    assert "pip install gguf accelerate" in info.value.hint


def _write_tiny_gguf(path: Path) -> Path:
    """A random 2-layer qwen2 GGUF (hidden 32, F32) with a byte-level BPE tokenizer and a chat template."""
    np = pytest.importorskip("numpy")
    gguf = pytest.importorskip("gguf")
    tokenizers = pytest.importorskip("tokenizers")
    bpe = tokenizers.ByteLevelBPETokenizer()
    bpe.train_from_iterator(SOURCES * 3 + ["Host: why did you build this tool?", "Yes, it can."], vocab_size=300,
                            min_frequency=1, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                            show_progress=False)
    vocab = bpe.get_vocab()
    tokens = sorted(vocab, key=vocab.get)
    merges = json.loads(bpe._tokenizer.to_str())["model"]["merges"]
    merges = [m if isinstance(m, str) else " ".join(m) for m in merges]
    hidden, inner, layers, heads, kv_heads = 32, 64, 2, 2, 1
    kv = kv_heads * hidden // heads
    writer = gguf.GGUFWriter(str(path), "qwen2")
    writer.add_context_length(128)
    writer.add_embedding_length(hidden)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(inner)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_rope_freq_base(10000.0)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types([3 if t.startswith("<|") else 1 for t in tokens])
    writer.add_token_merges(merges)
    writer.add_bos_token_id(vocab["<|endoftext|>"])
    writer.add_eos_token_id(vocab["<|im_end|>"])
    writer.add_pad_token_id(vocab["<|endoftext|>"])
    writer.add_chat_template(CHAT_TEMPLATE)
    rng = np.random.default_rng(0)

    def weights(*shape):
        return (rng.standard_normal(shape) * 0.1).astype(np.float32)

    writer.add_tensor("token_embd.weight", weights(len(tokens), hidden))
    writer.add_tensor("output_norm.weight", np.ones(hidden, np.float32))
    writer.add_tensor("output.weight", weights(len(tokens), hidden))
    for block in range(layers):
        name = f"blk.{block}."
        for norm in ("attn_norm", "ffn_norm"):
            writer.add_tensor(name + norm + ".weight", np.ones(hidden, np.float32))
        for proj, rows in (("attn_q", hidden), ("attn_k", kv), ("attn_v", kv)):
            writer.add_tensor(name + proj + ".weight", weights(rows, hidden))
            writer.add_tensor(name + proj + ".bias", weights(rows))
        writer.add_tensor(name + "attn_output.weight", weights(hidden, hidden))
        writer.add_tensor(name + "ffn_gate.weight", weights(inner, hidden))
        writer.add_tensor(name + "ffn_up.weight", weights(inner, hidden))
        writer.add_tensor(name + "ffn_down.weight", weights(hidden, inner))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_llm_from_a_tiny_gguf_file(tmp_path, capfd):
    pytest.importorskip("accelerate")
    path = _write_tiny_gguf(tmp_path / "tiny-q.gguf")
    translator = get_translator(f"llm:{path}")
    translator.max_new_tokens = 8
    out = translator.translate(SOURCES[:3])
    assert len(out) == 3 and all(isinstance(t, str) for t in out)
    assert translator.translate(SOURCES[:3]) == out
    assert translator.prompt("你好").endswith("<|im_start|>assistant ")   # the GGUF's own chat template
    assert "GGUF" not in capfd.readouterr().err                              # no progress bar from the library


def test_damaged_gguf_file(tmp_path):
    pytest.importorskip("gguf")
    pytest.importorskip("accelerate")
    (tmp_path / "broken.gguf").write_bytes(b"GGUF")
    with pytest.raises(ModelError, match="not a GGUF file") as info:
        get_translator(str(tmp_path / "broken.gguf")).translate(["你好"])
    assert info.value.hint


def test_gguf_conversion_is_cached_next_to_the_file(tmp_path, capfd):
    pytest.importorskip("accelerate")
    from toolkit.translate.backends import GGUF_CACHE_STAMP, gguf_cache_dir

    path = _write_tiny_gguf(tmp_path / "tiny-q.gguf")
    first = get_translator(f"llm:{path}")
    first.max_new_tokens = 8
    out = first.translate(SOURCES[:3])
    folder = gguf_cache_dir(path, first.dtype)
    assert folder == tmp_path / ".cache" / f"tiny-q-{first.dtype}"
    assert first.loaded_from is None and (folder / GGUF_CACHE_STAMP).is_file()
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]        # no temporary folder left

    second = get_translator(f"llm:{path}")
    second.max_new_tokens = 8
    assert second.translate(SOURCES[:3]) == out                                 # same model, same outputs
    assert second.loaded_from == str(folder)
    assert second.prompt("你好") == first.prompt("你好")                          # same tokenizer and template
    assert second.describe() == first.describe()                                # the cache is not a new model

    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # the file was replaced
    third = get_translator(f"llm:{path}")
    third.max_new_tokens = 8
    # The same batch (in bfloat16, a batch's other rows can tip a near-tie of this random model).
    assert third.translate(SOURCES[:3]) == out and third.loaded_from is None
    assert json.loads((folder / GGUF_CACHE_STAMP).read_text())["mtime_ns"] == path.stat().st_mtime_ns
    assert "GGUF" not in capfd.readouterr().err


def test_gguf_cache_can_be_turned_off(tmp_path):
    pytest.importorskip("accelerate")
    path = _write_tiny_gguf(tmp_path / "tiny-q.gguf")
    translator = LLMTranslator(str(tmp_path), gguf_file=path.name, max_new_tokens=4, gguf_cache=False)
    translator.translate(SOURCES[:1])
    assert not (tmp_path / ".cache").exists() and translator.loaded_from is None


def test_unwritable_gguf_cache_only_warns(tmp_path, monkeypatch, caplog):
    pytest.importorskip("accelerate")
    import toolkit.translate.backends as translate

    path = _write_tiny_gguf(tmp_path / "tiny-q.gguf")
    (tmp_path / ".cache").write_text("a file where the cache folder should be", encoding="utf-8")
    translator = LLMTranslator(str(tmp_path), gguf_file=path.name, max_new_tokens=4)
    with caplog.at_level("WARNING", logger=translate.__name__):
        assert len(translator.translate(SOURCES[:1])) == 1
    assert "not caching" in caplog.text


def test_llm_in_bfloat16(tiny_llm):
    import torch

    translator = LLMTranslator(str(tiny_llm), max_new_tokens=6, dtype="bfloat16")
    assert translator.settings()["dtype"] == "bfloat16" and "dtype=bfloat16" in translator.describe()
    out = translator.translate(SOURCES[:2])
    assert len(out) == 2 and all(isinstance(t, str) for t in out)
    assert translator._model.dtype == torch.bfloat16


def test_llm_dtype_default_and_unknown():
    assert "dtype" not in LLMTranslator("m", dtype="float32").settings()     # float32 keeps the old cache keys
    assert LLMTranslator("m").dtype == LLMTranslator.DEFAULT_DTYPE
    with pytest.raises(ModelError, match="unknown LLM dtype") as info:
        LLMTranslator("m", dtype="int8")
    assert "bfloat16" in info.value.hint


def test_a_tiny_llm_takes_a_request_with_examples(tiny_llm):
    from toolkit.translate.backends import TranslationRequest

    translator = LLMTranslator(str(tiny_llm), batch_size=4, max_new_tokens=6, engine="padded")
    request = TranslationRequest("你好。", examples=(("再见。", "Goodbye."),), terms=(("你好", "hello"),))
    prompt = translator.prompt(request)
    assert prompt.index("再见。") < prompt.index("Goodbye.") < prompt.index("你好 = hello") < prompt.rindex("你好。")
    assert prompt.count("<|im_start|>assistant") == 2                  # the example's answer, then the one to write
    out = translator.translate_requests([request, TranslationRequest("谢谢。")])
    assert len(out) == 2 and all(isinstance(t, str) for t in out)
