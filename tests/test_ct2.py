"""The CTranslate2 engine on a tiny random qwen2 GGUF written and converted here (no network, no real weights)."""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("ctranslate2")
pytest.importorskip("accelerate")

from test_translate import SOURCES, _write_tiny_gguf  # noqa: E402

from toolkit.core.errors import ModelError  # noqa: E402
from toolkit.translate.checks import HAN  # noqa: E402
from toolkit.translate.backends import (  # noqa: E402
    GGUF_CACHE_STAMP,
    LLMTranslator,
    get_translator,
    gguf_cache_dir,
    translate_checked,
)
from toolkit.translate.ct2 import CT2Translator, ct2_cache_dir  # noqa: E402


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture()
def registry(tmp_path):
    """A models folder whose registry names a tiny GGUF file, as fetch_models.py leaves it."""
    path = _write_tiny_gguf(tmp_path / "tiny-q.gguf")
    entry = {"backend": "llm", "format": "gguf", "file": path.name, "size": path.stat().st_size,
             "prompt": {"system": "Translate.", "user": "English: {text}"}}
    (tmp_path / "registry.json").write_text(json.dumps({"models": {"tiny": entry}}), encoding="utf-8")
    return tmp_path


class Steps:
    """A progress object that records what it is told."""

    def __init__(self):
        self.calls = []

    def start(self, label, total, unit="sent"):
        self.calls.append(("start", total, unit))

    def advance(self, n):
        self.calls.append(("advance", n))

    def finish(self):
        self.calls.append(("finish",))


def test_registry_model_runs_on_ctranslate2_converted_once(registry, capfd):
    translator = get_translator("tiny", models_dir=registry)
    assert isinstance(translator, CT2Translator)
    assert translator.describe().startswith("llm:tiny (")
    assert "engine=ctranslate2" in translator.describe() and "quantization=int8" in translator.describe()
    gguf = registry / "tiny-q.gguf"
    assert translator.needs_conversion()

    steps = Steps()
    translator.prepare(steps)  # no dequantised copy yet: two steps, then nothing loaded
    assert steps.calls == [("start", 2, "step"), ("advance", 1), ("advance", 1), ("finish",)]
    assert translator._model is None and not translator.needs_conversion()
    folder = ct2_cache_dir(gguf, "int8")
    assert folder == registry / ".cache" / "tiny-q-ct2-int8"
    assert (folder / "model.bin").is_file() and (folder / "tokenizer.json").is_file()
    assert (gguf_cache_dir(gguf, translator.dtype) / "model.safetensors").is_file()    # the transformers cache too
    stamp = json.loads((folder / GGUF_CACHE_STAMP).read_text())
    assert stamp["quantization"] == "int8" and stamp["size"] == gguf.stat().st_size
    assert sorted(p.name for p in folder.parent.iterdir()) == ["tiny-q-bfloat16", "tiny-q-ct2-int8"]  # no temp left

    translator.max_new_tokens = 6
    out = translator.translate(SOURCES)
    assert len(out) == len(SOURCES) and all(isinstance(t, str) for t in out)
    assert translator.loaded_from == str(folder)
    assert translator.prompt("你好").startswith("<|im_start|>system Translate.")    # the registry's prompt
    assert translator._static and translator.prompt("你好").startswith("".join(translator._static).replace("Ġ", " "))
    # Each text decoded alone gives what it gave in the batch (greedy; the static prompt is exact).
    assert [translator.translate([s])[0] for s in SOURCES[:2]] == out[:2]

    again = get_translator("tiny", models_dir=registry)
    assert not again.needs_conversion()
    steps = Steps()
    again.prepare(steps)
    assert steps.calls == []                                              # nothing to convert: no bar
    again.max_new_tokens = 6
    assert again.translate(SOURCES) == out
    assert "Loading weights" not in capfd.readouterr().err                # no progress bar from the library


def test_a_replaced_gguf_file_is_converted_again(registry):
    first = get_translator("tiny", models_dir=registry)
    first.prepare()
    gguf = registry / "tiny-q.gguf"
    os.utime(gguf, ns=(gguf.stat().st_atime_ns, gguf.stat().st_mtime_ns + 10**9))
    second = get_translator("tiny", models_dir=registry)
    assert second.needs_conversion()
    steps = Steps()
    second.prepare(steps)
    assert steps.calls[0] == ("start", 2, "step")                         # both copies were stale
    assert json.loads((second.converted_dir / GGUF_CACHE_STAMP).read_text())["mtime_ns"] == gguf.stat().st_mtime_ns


def test_checked_translation_and_retry_on_ctranslate2(registry):
    translator = get_translator("tiny", models_dir=registry)
    translator.max_new_tokens = 8
    results = translate_checked(translator, SOURCES + SOURCES[:1])
    assert [r.source for r in results] == SOURCES + SOURCES[:1]
    assert results[-1] == results[0]
    # The random model, trained on nothing, writes Chinese; the retry may not (english_only).
    first = translator.translate(SOURCES)
    assert any(HAN.search(t) for t in first)
    retried = translator.retranslate(SOURCES)
    assert len(retried) == len(SOURCES) and not any(HAN.search(t) or "\ufffd" in t for t in retried)
    assert translator.translate(SOURCES) == first                            # the retry changed nothing for later


def test_engine_can_be_chosen(registry, monkeypatch):
    assert type(get_translator("tiny", models_dir=registry, engine="transformers")) is LLMTranslator
    assert isinstance(get_translator("tiny", models_dir=registry, engine="ctranslate2"), CT2Translator)
    import toolkit.translate.ct2 as ct2

    monkeypatch.setattr(ct2, "ct2_available", lambda: False)              # not installed: transformers
    assert type(get_translator("tiny", models_dir=registry)) is LLMTranslator
    with pytest.raises(ModelError, match="unknown engine") as info:
        get_translator("tiny", models_dir=registry, engine="vllm")
    assert "ctranslate2" in info.value.hint
    with pytest.raises(ModelError, match="needs the ctranslate2 package") as info:
        get_translator("tiny", models_dir=registry, engine="ctranslate2").translate(["你好"])
    assert "pip install" in info.value.hint


def test_ctranslate2_needs_a_gguf_file(tmp_path):
    with pytest.raises(ModelError, match="converts GGUF files"):
        CT2Translator(str(tmp_path))
    with pytest.raises(ModelError, match="unknown CTranslate2 quantization"):
        CT2Translator(str(tmp_path), gguf_file="m.gguf", quantization="int4")


def test_unwritable_models_folder_is_one_clear_error(registry):
    (registry / ".cache").write_text("a file where the cache folder should be", encoding="utf-8")
    translator = get_translator("tiny", models_dir=registry)
    with pytest.raises(ModelError, match="cannot convert") as info:
        translator.translate(["你好"])
    assert "llm:" in info.value.hint


def test_translate_texts_shows_the_conversion_before_translating(registry, monkeypatch, tmp_path):
    from toolkit.pipeline import Progress, translate_texts

    monkeypatch.setenv("BITEXT_MODELS_DIR", str(registry))
    calls = []
    progress = Progress(lambda label, total, unit="sent": calls.append((label, total, unit)), lambda n: None,
                        lambda: calls.append("finish"))
    translations, model = translate_texts(SOURCES[:2], "tiny", tmp_path / "mt.sqlite", progress=progress)
    assert calls == [("tiny: converting once", 2, "step"), "finish", ("translating", 2, "sent"), "finish"]
    assert len(translations) == 2 and "engine=ctranslate2" in model
    calls.clear()
    translate_texts(SOURCES[:2], "tiny", tmp_path / "mt.sqlite", progress=progress)
    assert calls == [("translating", 2, "sent"), "finish"]                 # converted already: one bar
