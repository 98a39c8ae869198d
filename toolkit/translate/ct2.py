"""The registry's GGUF LLMs on a CPU through CTranslate2: int8 weights, several prompts per call.

:class:`CT2Translator` is an :class:`~toolkit.translate.backends.LLMTranslator`
in everything but the engine: the same prompt (system and user turns through
the model's chat template), the same greedy decoding, the same output cleaning
and retry settings. Only the weights and the decoding loop differ.

The GGUF file is converted once: transformers dequantises it into the
safetensors folder the LLM backend already caches (``models/.cache/<stem>-bfloat16/``),
CTranslate2's converter quantises that to int8 into ``models/.cache/<stem>-ct2-int8/``,
with a stamp naming the GGUF file (name, size, mtime) and the converter's
version. Nothing in either folder is code or a pickle: safetensors, JSON and
CTranslate2's own tensor file, all written here from the GGUF's tensors.

The shared head of every prompt (the system turn and the user turn up to the
text) is given to CTranslate2 as a *static prompt*: its attention state is
computed once and reused by every later batch.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from toolkit.core.errors import ModelError
from toolkit.translate.backends import (
    GGUF_CACHE_STAMP,
    LLMTranslator,
    Translator,
    _cap_new_tokens,
    _gguf_stamp,
    _read_gguf_cache,
    clean_llm_output,
    gguf_cache_dir,
)
from toolkit.translate.checks import HAN

log = logging.getLogger(__name__)

CT2_QUANTIZATIONS = ("int8", "float32")
CT2_CACHE_VERSION = 1  # bump when what the converted folder holds changes
# Copied from the dequantised folder next to CTranslate2's weights, so the converted folder is
# complete on its own (tokenizer, chat template, end-of-turn tokens).
CT2_COMPANION_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json",
                       "special_tokens_map.json")
INSTALL_HINT = 'pip install -e ".[mt]" (or pip install ctranslate2)'


def ct2_available() -> bool:
    """True when the ctranslate2 package is installed (checked without importing it)."""
    return importlib.util.find_spec("ctranslate2") is not None


def ct2_cache_dir(gguf_path: str | Path, quantization: str) -> Path:
    """Where the CTranslate2 form of ``gguf_path`` is kept: ``<folder>/.cache/<stem>-ct2-<quantization>/``."""
    return gguf_cache_dir(gguf_path, f"ct2-{quantization}")


def _ct2_stamp(gguf_path: Path, quantization: str, source_dtype: str) -> dict:
    import ctranslate2

    return {**_gguf_stamp(gguf_path, source_dtype), "engine": "ctranslate2", "ct2_cache_version": CT2_CACHE_VERSION,
            "quantization": quantization, "ctranslate2": ctranslate2.__version__}


class CT2Translator(LLMTranslator):
    """A GGUF instruction-tuned LLM decoded by CTranslate2 (``quantization`` int8 by default).

    Takes LLMTranslator's arguments; ``dtype`` is the dequantised copy the
    conversion starts from. Batches are cut by length like the padded engine's
    (CTranslate2 feeds a batch's prompts together up to its shortest one), at
    most ``batch_size`` texts. ``threads`` defaults to the cores this process
    may use.
    """

    # name stays "llm": the engine and quantization are in settings(), so in the description and cache key.
    # 1.5B int8 model, 2 AVX2 cores, 32 WMT18 sentences: 4.3 output tokens/s one at a time, 10.5 in
    # batches of 8, 13.9 in batches of 32 (the cores are busy from about 32 on).
    BATCH = 32
    max_batch_chars = 2048
    DEFAULT_QUANTIZATION = "int8"
    # Second attempt: LLMTranslator's penalties, and no token that writes Chinese (a Han character,
    # or a piece of a multi-byte character): the commonest flag left on the int8 model's news output
    # is a Chinese word kept in the English ("the发言人 of the Houthis").
    RETRY_SETTINGS = {**LLMTranslator.RETRY_SETTINGS, "english_only": True}
    # Two texts that share nothing: their prompts' common head is the template's fixed part.
    _PROBES = ("甲", "Z")

    def __init__(self, model: str, gguf_file: str | None = None, batch_size: int | None = None,
                 quantization: str | None = None, threads: int | None = None, **kwargs):
        kwargs.pop("engine", None)
        super().__init__(model, gguf_file=gguf_file, batch_size=batch_size or self.BATCH, engine="padded", **kwargs)
        if not gguf_file:
            raise ModelError(f"the CTranslate2 engine converts GGUF files; {model!r} names none",
                             "give a registry name or a .gguf file, or use llm:NAME_OR_FOLDER (transformers)")
        quantization = quantization or self.DEFAULT_QUANTIZATION
        if quantization not in CT2_QUANTIZATIONS:
            raise ModelError(f"unknown CTranslate2 quantization {quantization!r}",
                             f"choose one of {', '.join(CT2_QUANTIZATIONS)}")
        self.engine = "ctranslate2"
        self.quantization = quantization
        self.threads = threads or _usable_cores()
        self._static: list[str] = []
        self._chinese: list[list[str]] | None = None  # the tokens english_only suppresses, once looked up
        self._end_ids: list[int] = []

    def settings(self) -> dict:
        return {**super().settings(), "engine": "ctranslate2", "quantization": self.quantization}

    @property
    def gguf_path(self) -> Path:
        return Path(self.model_name) / self.gguf_file

    @property
    def converted_dir(self) -> Path:
        return ct2_cache_dir(self.gguf_path, self.quantization)

    def batches(self, texts):
        return Translator.batches(self, texts)  # by length, whatever LLMTranslator does for its engines

    # -- conversion ---------------------------------------------------------

    def needs_conversion(self) -> bool:
        """True when no converted folder matches the GGUF file (the next load converts it, a minute or more)."""
        return self._read_converted() is None

    def _read_converted(self) -> Path | None:
        folder = self.converted_dir
        try:
            stamp = json.loads((folder / GGUF_CACHE_STAMP).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not self.gguf_path.is_file() or not ct2_available():
            return None
        return folder if stamp == _ct2_stamp(self.gguf_path, self.quantization, self.dtype) else None

    def prepare(self, progress=None) -> None:
        """Convert the GGUF file now if it needs it, reporting the steps to ``progress``.

        ``progress`` has ``start(label, total, unit)``, ``advance(n)`` and
        ``finish()`` (:class:`toolkit.pipeline.Progress`); a converted model is
        not loaded here, so a run whose translations are all cached loads nothing.
        """
        if self._model is None and self.needs_conversion():
            self._convert(progress)

    def _convert(self, progress=None) -> Path:
        self._require_ct2()
        if not self.gguf_path.is_file():
            raise ModelError(f"no GGUF file {self.gguf_file} in {self.model_name}",
                             "check the file name, or fetch the model again")
        source = _read_gguf_cache(self.gguf_path, self.dtype)
        steps = ["dequantising the GGUF file"] if source is None else []
        steps.append(f"converting to CTranslate2 {self.quantization}")
        if progress is not None:
            progress.start(f"{self.model_label}: converting once", len(steps), unit="step")
        try:
            if source is None:
                source = self._dequantise()
                if progress is not None:
                    progress.advance(1)
            folder = self._write_converted(source)
            if progress is not None:
                progress.advance(1)
        finally:
            if progress is not None:
                progress.finish()
        return folder

    def _dequantise(self) -> Path:
        """The transformers backend's own GGUF load, which leaves the dequantised copy in models/.cache."""
        caching, self.gguf_cache = self.gguf_cache, True
        try:
            LLMTranslator._load(self)
        finally:
            self.gguf_cache = caching
            self._model = self._tokenizer = None  # the torch model is not what runs here
            gc.collect()
        source = _read_gguf_cache(self.gguf_path, self.dtype)
        if source is None:
            raise ModelError(f"cannot convert {self.gguf_file} for CTranslate2: its dequantised copy could not be "
                             f"written under {self.gguf_path.parent / '.cache'} (see the warning above)",
                             "make that folder writable, or use the transformers engine: --mt llm:PATH/FILE.gguf")
        return source

    def _write_converted(self, source: Path) -> Path:
        """Quantise the dequantised folder ``source`` into the converted folder, whole or not at all."""
        from ctranslate2.converters import TransformersConverter

        folder = self.converted_dir
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=folder.name + ".", suffix=".tmp", dir=folder.parent))
        except OSError as exc:
            raise ModelError(f"cannot convert {self.gguf_file} for CTranslate2: {exc}",
                             "make the models folder writable, or use the transformers engine: --mt llm:PATH/FILE.gguf"
                             ) from exc
        try:
            companions = [name for name in CT2_COMPANION_FILES if (source / name).is_file()]
            converter = TransformersConverter(str(source), copy_files=companions, low_cpu_mem_usage=True)
            converter.convert(str(work), quantization=self.quantization, force=True)
            (work / GGUF_CACHE_STAMP).write_text(
                json.dumps(_ct2_stamp(self.gguf_path, self.quantization, self.dtype), indent=1) + "\n",
                encoding="utf-8")
            work.chmod(0o755)  # mkdtemp makes it private; the models folder is not
            shutil.rmtree(folder, ignore_errors=True)  # a stale conversion of an older file
            work.rename(folder)
        except Exception as exc:  # disk full, an architecture the converter does not know
            shutil.rmtree(work, ignore_errors=True)
            if isinstance(exc, ModelError):
                raise
            raise ModelError(f"cannot convert {self.gguf_file} for CTranslate2 ({exc.__class__.__name__}: {exc})",
                             "use the transformers engine: --mt llm:PATH/FILE.gguf") from exc
        log.info("converted %s for CTranslate2 (%s) in %s", self.gguf_file, self.quantization, folder)
        return folder

    # -- loading and decoding -----------------------------------------------

    @staticmethod
    def _require_ct2() -> None:
        if not ct2_available():
            raise ModelError("the CTranslate2 engine needs the ctranslate2 package", INSTALL_HINT)

    def _load(self) -> None:
        if self._model is not None:
            return
        self._require_ct2()
        folder = self._read_converted() or self._convert()
        import ctranslate2
        from transformers import AutoTokenizer

        from toolkit.translate.backends import _quiet_transformers

        _quiet_transformers()
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.tokenizer_name or str(folder))
            model = ctranslate2.Generator(str(folder), device="cpu", compute_type=self.quantization,
                                          intra_threads=self.threads, inter_threads=1)
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelError(f"cannot load the CTranslate2 model in {folder}: {exc}",
                             f"delete that folder to convert {self.gguf_file} again") from exc
        if not getattr(tokenizer, "chat_template", None):
            raise ModelError(f"the tokenizer of {self.model_label!r} has no chat template",
                             "use an instruction-tuned (chat) model, or give a tokenizer that has one")
        self._end_ids = _end_token_ids(folder, tokenizer)
        self.loaded_from = str(folder)
        self._tokenizer, self._model = tokenizer, model
        first, second = (self._prompt_tokens(p) for p in self._PROBES)
        shared = 0
        while shared < min(len(first), len(second)) - 1 and first[shared] == second[shared]:
            shared += 1
        self._static = first[:shared]

    def _prompt_tokens(self, request) -> list[str]:
        """The prompt's tokens for a text or a TranslationRequest (context: examples, terms, hints)."""
        # The chat template already wrote any BOS token; do not add a second one.
        ids = self._tokenizer(self.prompt(request), add_special_tokens=False)["input_ids"]
        return self._tokenizer.convert_ids_to_tokens(ids)

    def _generate(self, texts: list, overrides: dict) -> list[str]:
        from toolkit.translate.backends import _source

        self._load()
        prompts = [self._prompt_tokens(t) for t in texts]
        texts = [_source(t) for t in texts]  # requests carry their source text
        overrides = dict(overrides)
        if overrides.pop("english_only", False):
            overrides["suppress_sequences"] = self._chinese_tokens()
        options = {"max_length": _cap_new_tokens(texts, self.max_new_tokens), "sampling_topk": 1, "beam_size": 1,
                   "include_prompt_in_result": False, "end_token": self._end_ids, **overrides}
        head = len(self._static)
        # The template's fixed head goes once as a static prompt (its state is cached across
        # batches); a prompt whose tokens do not start with it exactly goes whole.
        if head and all(len(p) > head and p[:head] == self._static for p in prompts):
            options["static_prompt"] = self._static
            prompts = [p[head:] for p in prompts]
        results = self._model.generate_batch(prompts, **options)
        return [clean_llm_output(self._tokenizer.decode(r.sequences_ids[0], skip_special_tokens=True))
                for r in results]


    def _chinese_tokens(self) -> list[list[str]]:
        """Every vocabulary token whose text has a Han character or is part of a multi-byte character."""
        if self._chinese is None:
            ids = sorted(set(self._tokenizer.get_vocab().values()) - set(self._tokenizer.all_special_ids))
            texts = self._tokenizer.batch_decode([[i] for i in ids])
            banned = [i for i, text in zip(ids, texts) if "\ufffd" in text or HAN.search(text)]
            self._chinese = [[token] for token in self._tokenizer.convert_ids_to_tokens(banned)]
        return self._chinese


def _usable_cores() -> int:
    """The cores this process may run on (its affinity mask where the OS has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else (os.cpu_count() or 1)


def _end_token_ids(folder: Path, tokenizer) -> list[int]:
    """The end-of-turn tokens: generation_config's eos_token_id (one or several), else the tokenizer's."""
    try:
        ids = json.loads((folder / "generation_config.json").read_text(encoding="utf-8")).get("eos_token_id")
    except (OSError, ValueError):
        ids = None
    if ids is None:
        ids = tokenizer.eos_token_id
    ids = ids if isinstance(ids, list) else [ids]
    return [int(i) for i in ids if i is not None]
