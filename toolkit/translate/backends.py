"""Machine translation of Chinese segments into English, behind one small interface.

Every backend is a :class:`Translator` with ``translate(texts) -> texts`` (raw
output, batched by length) and ``describe()`` (model and settings, for
signatures and cache keys). Models are loaded on first use, so building a
translator, and importing this module, never imports torch.

:func:`translate_checked` is what the pipeline calls: it deduplicates, reads
and fills the persistent cache (:mod:`toolkit.translate.cache`) batch by batch, checks
every output (:func:`check_translation`), retries a flagged one once with
different decoding settings, and keeps the flags of an output that still
fails: a bad translation is never silently accepted.

Backends (``--mt``): ``seq2seq[:NAME_OR_DIR]`` (MarianMT, NLLB-200, M2M100),
``llm:NAME_OR_DIR`` / ``llm:FILE.gguf`` (an instruction-tuned causal LM),
``none``, and the names in ``models/registry.json``; see :func:`get_translator`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from toolkit.core.errors import ModelError
from toolkit.translate.checks import FACT_FLAGS, FLAGS, Term, check_translation, fact_problems, repaired

log = logging.getLogger(__name__)

ProgressFn = Callable[[int], None]  # called with the number of input texts just finished

# ---------------------------------------------------------------------------
# What one translation is asked with


@dataclass(frozen=True)
class TranslationRequest:
    """One source text and what its prompt may carry besides it.

    ``examples``: (Chinese, English) pairs shown to the model first, in document order (the
    aligned neighbours of a gap, or the previous sentences and their translations);
    ``terms``: glossary (Chinese, English) renderings the source needs, also checked in the
    output (flag ``name``); ``hints``: what a first attempt got wrong, stated by the retry.
    A backend that cannot take context (``Translator.takes_context`` False) translates the
    source alone; the terms are still checked.
    """

    source: str
    examples: tuple[Term, ...] = ()
    terms: tuple[Term, ...] = ()
    hints: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        """Characters of source and examples: what a batch's cost grows with."""
        return len(self.source) + sum(len(zh) + len(en) for zh, en in self.examples)

    def cache_text(self) -> str:
        """The text a cache keys this request by: the source alone when nothing else is asked (so plain
        requests share entries with plain texts), else the source with its examples and terms as JSON.
        Hints are left out: they follow from the first attempt, which the rest decides."""
        if not self.examples and not self.terms:
            return self.source
        return json.dumps({"source": self.source, "examples": [list(e) for e in self.examples],
                           "terms": [list(t) for t in self.terms]}, ensure_ascii=False, sort_keys=True)


def as_request(item: str | TranslationRequest) -> TranslationRequest:
    """A request for ``item`` (a plain text becomes a request with nothing else)."""
    return item if isinstance(item, TranslationRequest) else TranslationRequest(item)


def _source(item: str | TranslationRequest) -> str:
    return item if isinstance(item, str) else item.source


def _size(item: str | TranslationRequest) -> int:
    return len(item) if isinstance(item, str) else item.size


# ---------------------------------------------------------------------------
# Translators


class Translator:
    """Base class: subclasses implement ``_load`` and ``_generate`` on one batch.

    ``translate`` sorts the texts by length and cuts them into batches of at
    most ``batch_size`` texts and ``max_batch_chars`` padded characters (the
    longest text times the batch's size), so short sentences travel in big
    batches and a long one does not pad a whole batch. ``retranslate`` is the
    second attempt for flagged outputs, with ``RETRY_SETTINGS`` on top.
    """

    name = "base"
    translates = True  # False for "none": nothing to check, cache or retry
    takes_context = False  # True if the prompt can carry a request's examples, terms and hints
    batch_size = 16
    max_batch_chars = 4096
    RETRY_SETTINGS: dict = {}

    def __init__(self) -> None:
        self._model = None
        self._tokenizer = None

    def describe(self) -> str:
        """The model and settings in one line, for signatures (and, with ``settings()``, cache keys)."""
        settings = ", ".join(f"{k}={_short(v)}" for k, v in self.settings().items())
        return f"{self.name}:{self.model_label} ({settings})" if settings else f"{self.name}:{self.model_label}"

    @property
    def model_label(self) -> str:
        return getattr(self, "label", None) or getattr(self, "model_name", "")

    def settings(self) -> dict:
        """Everything besides the model that decides an output (JSON-able)."""
        return {}

    def batches(self, texts: Sequence[str]) -> list[list[int]]:
        """Indices of ``texts`` grouped into batches, shortest texts first."""
        order = sorted(range(len(texts)), key=lambda i: (_size(texts[i]), i))
        batches: list[list[int]] = []
        current: list[int] = []
        for i in order:
            longest = _size(texts[i])  # ascending order: the newcomer is the longest
            if current and (len(current) >= self.batch_size
                            or (len(current) + 1) * max(longest, 1) > self.max_batch_chars):
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
        return batches

    def load(self) -> Translator:
        """Load the model now rather than on the first batch (e.g. to time loading apart); returns self."""
        self._load()
        return self

    def _load(self) -> None:
        """Load the model and tokenizer once; a backend without a model has nothing to do."""

    def prepare(self, progress=None) -> None:
        """Do any long one-off work (a model conversion) now, reporting it to ``progress``
        (``start(label, total, unit)``, ``advance(n)``, ``finish()``); most backends have none."""

    def translate(self, texts: Sequence[str]) -> list[str]:
        """Raw translations of ``texts``, one per text, in order (no checks, no cache)."""
        return self._run(texts, {})

    def retranslate(self, texts: Sequence[str]) -> list[str]:
        """The second attempt for flagged outputs: the same prompt, ``RETRY_SETTINGS`` decoding."""
        return self._run(texts, self.RETRY_SETTINGS)

    def translate_requests(self, requests: Sequence[TranslationRequest], retry: bool = False) -> list[str]:
        """Raw translations of ``requests`` (with ``RETRY_SETTINGS`` if ``retry``); a backend that does not
        take context translates their sources alone."""
        items = list(requests) if self.takes_context else [r.source for r in requests]
        return self._run(items, self.RETRY_SETTINGS if retry else {})

    def _run(self, texts: Sequence[str], overrides: dict) -> list[str]:
        out = [""] * len(texts)
        for batch in self.batches(texts):
            results = self._generate([texts[i] for i in batch], overrides)
            if len(results) != len(batch):  # pragma: no cover - a backend bug, not a user mistake
                raise RuntimeError(f"{self.name} returned {len(results)} outputs for {len(batch)} inputs")
            for i, result in zip(batch, results):
                out[i] = result
        return out

    def _generate(self, texts: list[str], overrides: dict) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError


def _short(value) -> str:
    # A custom prompt would swamp the one-line description: show its fingerprint instead.
    if isinstance(value, (dict, list)):
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return str(value)


class NoTranslator(Translator):
    """``none``: segments without a counterpart stay untranslated (flagged ``untranslated``)."""

    name = "none"
    translates = False

    def describe(self) -> str:
        return "none (untranslated)"

    def _generate(self, texts: list[str], overrides: dict) -> list[str]:
        return [""] * len(texts)


def _quiet_transformers():
    try:
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ModelError(
            "machine translation needs torch and transformers",
            "pip install torch==2.13.0 transformers sentencepiece",
        ) from exc
    from transformers.utils import logging as hf_logging

    # Library code stays quiet: no download or weight-loading bars on stderr.
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


@contextlib.contextmanager
def _quiet_gguf_loading():
    """transformers' GGUF reader draws its own tqdm bar, deaf to its logging switches: mute it while loading."""
    try:
        from transformers import modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:  # pragma: no cover - older or newer transformers without that module
        yield
        return
    original = getattr(gguf_utils, "tqdm", None)
    if original is None:  # pragma: no cover
        yield
        return
    gguf_utils.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = original


@contextlib.contextmanager
def _quiet_continuous_batching():
    """transformers' continuous batching may print to stdout when its thread dies: log that instead."""
    import io

    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        yield
    if captured.getvalue().strip():
        log.warning("continuous batching: %s", captured.getvalue().strip())


# ---------------------------------------------------------------------------
# GGUF conversion cache
#
# transformers turns a GGUF file into torch tensors by dequantising every block
# in Python and converts its tokenizer on every load (~55 s for the 1.5B model
# on 2 cores). The converted model, saved once as safetensors with its
# tokenizer, loads in about a second.

GGUF_CACHE_FOLDER = ".cache"  # next to the GGUF file: models/.cache/<stem>-<dtype>/
GGUF_CACHE_STAMP = "source.json"  # which GGUF file (name, size, mtime) the folder was made from
GGUF_CACHE_VERSION = 1  # bump when what the folder holds changes


def gguf_cache_dir(gguf_path: str | Path, dtype: str) -> Path:
    """Where the converted form of ``gguf_path`` in ``dtype`` is kept: ``<folder>/.cache/<stem>-<dtype>/``."""
    gguf_path = Path(gguf_path)
    return gguf_path.parent / GGUF_CACHE_FOLDER / f"{gguf_path.stem}-{dtype}"


def _gguf_stamp(gguf_path: Path, dtype: str) -> dict:
    stat = gguf_path.stat()
    return {"version": GGUF_CACHE_VERSION, "file": gguf_path.name, "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns, "dtype": dtype}


def _read_gguf_cache(gguf_path: Path, dtype: str) -> Path | None:
    """The cache folder if it was made from this very file (same name, size and mtime), else None."""
    folder = gguf_cache_dir(gguf_path, dtype)
    try:
        stamp = json.loads((folder / GGUF_CACHE_STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return folder if stamp == _gguf_stamp(gguf_path, dtype) else None


def _write_gguf_cache(gguf_path: Path, dtype: str, model, tokenizer) -> None:
    """Save the converted model and tokenizer; a failure only costs the next load its speed."""
    import shutil
    import tempfile

    folder = gguf_cache_dir(gguf_path, dtype)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=folder.name + ".", suffix=".tmp", dir=folder.parent))
    except OSError as exc:
        log.warning("not caching the converted %s (%s): every load will convert it again", gguf_path.name, exc)
        return
    try:
        # The weights are plain dequantised tensors by now; the GGUF quantizer that
        # transformers leaves on the model only blocks save_pretrained.
        quantizer = getattr(model, "hf_quantizer", None)
        config_quant = getattr(model.config, "quantization_config", None)
        if config_quant is not None:
            del model.config.quantization_config
        model.hf_quantizer = None
        try:
            model.save_pretrained(work)
        finally:
            model.hf_quantizer = quantizer
            if config_quant is not None:
                model.config.quantization_config = config_quant
        tokenizer.save_pretrained(work)
        (work / GGUF_CACHE_STAMP).write_text(json.dumps(_gguf_stamp(gguf_path, dtype), indent=1) + "\n",
                                             encoding="utf-8")
        work.chmod(0o755)  # mkdtemp makes it private; the models folder is not
        shutil.rmtree(folder, ignore_errors=True)  # a stale conversion of an older file
        work.rename(folder)
        log.info("cached the converted %s in %s", gguf_path.name, folder)
    except Exception as exc:  # disk full, read-only folder, a model save_pretrained refuses
        shutil.rmtree(work, ignore_errors=True)
        log.warning("not caching the converted %s (%s: %s): every load will convert it again",
                    gguf_path.name, exc.__class__.__name__, exc)


def _load_error(kind: str, model: str, exc: Exception, gguf_file: str | None = None) -> ModelError:
    where = Path(model)
    if gguf_file:
        reason = f"{gguf_file} is not a GGUF file transformers can read ({exc.__class__.__name__}: {exc})"
    elif (where.is_absolute() or model.startswith(".")) and not where.exists():
        reason = "the folder does not exist"
    elif where.is_dir():
        reason = "not a transformers model folder" if not (where / "config.json").exists() else f"{exc}"
    else:
        reason = f"{exc.__class__.__name__} (model hub unreachable or unknown name)"
    return ModelError(
        f"cannot load {kind} model {model!r}: {reason}",
        "give a local model folder (config.json, weights, tokenizer) or a registry name, "
        "or run where the model hub is reachable",
    )


def _cap_new_tokens(texts: Sequence[str], limit: int) -> int:
    # A Chinese character rarely needs more than ~1.5 English tokens; a cap
    # from the batch's longest source stops greedy loops from running to the
    # global limit on every short sentence.
    return max(8, min(limit, 16 + 3 * max(len(t) for t in texts)))


class Seq2SeqTranslator(Translator):
    """A transformers encoder-decoder translation model (MarianMT by default).

    NLLB-200 and M2M100 are recognised (config ``model_type`` ``m2m_100`` or
    ``nllb-moe``, then the tokenizer's language codes): the source language is
    set to ``zho_Hans``/``zh`` and generation is forced to start with
    ``eng_Latn``/``en``. Greedy decoding unless ``num_beams`` > 1.
    """

    name = "seq2seq"
    DEFAULT_MODEL = "Helsinki-NLP/opus-mt-zh-en"
    # Second attempt: beam search that may not repeat a 3-gram, repetition penalised.
    RETRY_SETTINGS = {"num_beams": 4, "no_repeat_ngram_size": 3, "repetition_penalty": 1.2}
    MAX_SOURCE_TOKENS = 512

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 16, max_new_tokens: int = 256,
                 num_beams: int = 1, device: str = "cpu", label: str | None = None):
        super().__init__()
        self.model_name = str(model)
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.num_beams = num_beams
        self.device = device
        self.label = label
        self._generate_kwargs: dict = {}

    def settings(self) -> dict:
        return {"num_beams": self.num_beams, "max_new_tokens": self.max_new_tokens}

    def _load(self) -> None:
        if self._model is not None:
            return
        _quiet_transformers()
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(self.model_name)
            model = AutoModelForSeq2SeqLM.from_pretrained(self.model_name).to(self.device).eval()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise _load_error("translation", self.model_name, exc) from exc
        self._generate_kwargs = _language_settings(model.config, tokenizer)
        self._tokenizer, self._model = tokenizer, model

    def _generate(self, texts: list[str], overrides: dict) -> list[str]:
        import torch

        self._load()
        limit = min(self.MAX_SOURCE_TOKENS,
                    getattr(self._model.config, "max_position_embeddings", None) or self.MAX_SOURCE_TOKENS)
        batch = self._tokenizer(texts, padding=True, truncation=True, max_length=limit,
                                return_tensors="pt").to(self.device)
        kwargs = {"max_new_tokens": _cap_new_tokens(texts, self.max_new_tokens),
                  "num_beams": self.num_beams, "do_sample": False, **self._generate_kwargs, **overrides}
        kwargs["num_beams"] = max(kwargs["num_beams"], self.num_beams)
        with torch.inference_mode():
            out = self._model.generate(**batch, **kwargs)
        return [t.strip() for t in self._tokenizer.batch_decode(out, skip_special_tokens=True)]


def _language_settings(config, tokenizer) -> dict:
    """NLLB / M2M100: set the tokenizer's source language; force English as the first token."""
    if getattr(config, "model_type", "") not in ("m2m_100", "nllb-moe"):
        return {}
    unk = tokenizer.unk_token_id
    if tokenizer.convert_tokens_to_ids("eng_Latn") not in (None, unk):  # NLLB-200
        tokenizer.src_lang = "zho_Hans"
        return {"forced_bos_token_id": tokenizer.convert_tokens_to_ids("eng_Latn")}
    if hasattr(tokenizer, "get_lang_id"):  # M2M100
        tokenizer.src_lang = "zh"
        return {"forced_bos_token_id": tokenizer.get_lang_id("en")}
    if tokenizer.convert_tokens_to_ids("__en__") not in (None, unk):
        tokenizer.src_lang = "zh"
        return {"forced_bos_token_id": tokenizer.convert_tokens_to_ids("__en__")}
    raise ModelError(
        f"the model {getattr(config, 'name_or_path', '')!r} is M2M100-like but its tokenizer has no English language code",
        "use an NLLB-200 or M2M100 tokenizer (eng_Latn or __en__ in its vocabulary)",
    )


SYSTEM_PROMPT = (
    "You are a professional translator. Translate the Chinese text the user gives you into "
    "fluent, faithful English. Reply with the English translation only: no notes, no "
    "explanations, no quotation marks, no Chinese."
)
USER_PROMPT = "Translate into English:\n\n{text}"
# What a request adds before the user prompt (see build_messages).
TERMS_NOTE = "Use these English renderings: {terms}."
HINTS_NOTE = "Get these right (a first translation did not): {hints}."


def build_messages(request: str | TranslationRequest, system_prompt: str = SYSTEM_PROMPT,
                   user_prompt: str = USER_PROMPT) -> list[dict]:
    """The chat messages that ask for one translation, for any chat-model engine.

    ``[system, (user: example Chinese, assistant: its English)..., user: the source]``: each of the
    request's examples is a finished exchange, so the model sees the document's own renderings
    before the source. The request's terms (TERMS_NOTE, ``红杉资本 = Sequoia Capital``) and hints
    (HINTS_NOTE) go before the user prompt of the source. A plain text gives exactly
    ``[system, user]``, the prompt used without context.
    """
    request = as_request(request)
    messages = [{"role": "system", "content": system_prompt}]
    for zh, en in request.examples:
        messages += [{"role": "user", "content": user_prompt.format(text=zh)}, {"role": "assistant", "content": en}]
    notes = []
    if request.terms:
        notes.append(TERMS_NOTE.format(terms="; ".join(f"{zh} = {en}" for zh, en in request.terms)))
    if request.hints:
        notes.append(HINTS_NOTE.format(hints="; ".join(request.hints)))
    content = user_prompt.format(text=request.source)
    messages.append({"role": "user", "content": "\n".join(notes) + "\n\n" + content if notes else content})
    return messages

_LABEL = re.compile(r"^\s*(?:\*\*)?(?:english\s+translation|translation|english|译文|翻译)(?:\*\*)?\s*[:：]\s*(?:\*\*)?",
                    re.IGNORECASE)
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
_QUOTES = [('"', '"'), ("“", "”"), ("'", "'"), ("‘", "’"), ("「", "」"), ("『", "』")]


def clean_llm_output(text: str) -> str:
    """The translation alone: no reasoning block, "Translation:" label, wrapping quotes or trailing note."""
    text = _THINK.sub("", text).strip()
    text = _LABEL.sub("", text, count=1).strip()
    # A note or explanation after the translation, in its own paragraph.
    text = re.split(r"\n\s*\n\s*(?:\(?note|\*\*note|explanation)\b", text, maxsplit=1, flags=re.IGNORECASE)[0].strip()
    for left, right in _QUOTES:
        inner = text[len(left):-len(right)] if len(text) >= 2 else ""
        if text.startswith(left) and text.endswith(right) and left not in inner and right not in inner:
            text = inner.strip()
            break
    return text


LLM_DTYPES = ("float32", "bfloat16")
# How an LLM batch is decoded. "continuous": transformers' continuous batching
# (generate_batch, paged KV cache): prompts are packed without padding and a
# finished translation frees its slot at once, so no step is spent on padding or
# on rows that are done. "padded": one left-padded generate() call per batch.
# 1.5B model, 2 cores, first 500 WMT18 sentences (scripts/bench_mt.py): continuous
# 1.29 sentences/s, BLEU 18.12; padded (batch 8) 0.42 sentences/s, BLEU 18.21.
LLM_ENGINES = ("continuous", "padded")
# Continuous batching, sized for a CPU: requests decoded together, tokens per
# forward pass (a long prompt is prefilled in chunks of this), KV page size (small
# pages let the prompts share the system prompt's cached pages).
CB_MAX_REQUESTS = 32
CB_MAX_BATCH_TOKENS = 256
CB_PAGE_SIZE = 32


class LLMTranslator(Translator):
    """An instruction-tuned causal LM through transformers, with a fixed translation prompt.

    ``model`` is a hub name or a local folder; ``gguf_file`` names a GGUF file
    inside it (needs the ``gguf`` and ``accelerate`` packages; transformers
    dequantises it on load). Each text gets SYSTEM_PROMPT and USER_PROMPT
    through the tokenizer's chat template; decoding is greedy, by continuous
    batching (``engine="continuous"``, the default) or in left-padded batches
    (``"padded"``, also used for the retry's penalised decoding); only the new
    tokens are decoded, then cleaned by :func:`clean_llm_output`.
    ``tokenizer`` overrides where the tokenizer comes from.
    """

    name = "llm"
    takes_context = True
    DEFAULT_ENGINE = "continuous"
    # Texts per call: padded batches stay small (padding and finished rows cost
    # every step); continuous batching schedules its own, so it gets many texts at
    # once (the cache is written after each call).
    PADDED_BATCH = 8
    CONTINUOUS_BATCH = 128
    max_batch_chars = 2048
    # bfloat16 runs on the CPU's AMX/AVX-512 units: 0.69 sentences/s for the 1.5B model on
    # 40 WMT18 sentences (2 cores, padded batch 8) against under 0.2 in float32, same BLEU range.
    DEFAULT_DTYPE = "bfloat16"
    # Second attempt: still greedy (so reproducible and cacheable), but a repeated
    # token is penalised and no 4-gram may come twice, which breaks decoding loops.
    RETRY_SETTINGS = {"repetition_penalty": 1.2, "no_repeat_ngram_size": 4}

    def __init__(self, model: str, gguf_file: str | None = None, batch_size: int | None = None,
                 max_new_tokens: int = 256, tokenizer: str | None = None, device: str = "cpu",
                 system_prompt: str = SYSTEM_PROMPT, user_prompt: str = USER_PROMPT,
                 label: str | None = None, dtype: str | None = None, gguf_cache: bool = True,
                 engine: str | None = None):
        super().__init__()
        engine = engine or self.DEFAULT_ENGINE
        if engine not in LLM_ENGINES:
            raise ModelError(f"unknown LLM engine {engine!r}", f"choose one of {', '.join(LLM_ENGINES)}")
        self.engine = engine
        if batch_size is None:
            batch_size = self.CONTINUOUS_BATCH if engine == "continuous" else self.PADDED_BATCH
        if "{text}" not in user_prompt:
            raise ModelError("the user prompt of an LLM translator needs a {text} placeholder",
                             f"for example: {USER_PROMPT!r}")
        dtype = dtype or self.DEFAULT_DTYPE
        if dtype not in LLM_DTYPES:
            raise ModelError(f"unknown LLM dtype {dtype!r}", f"choose one of {', '.join(LLM_DTYPES)}")
        self.dtype = dtype
        self.gguf_cache = gguf_cache
        self.loaded_from: str | None = None  # the GGUF cache folder the model came from, once loaded
        self.model_name = str(model)
        self.gguf_file = gguf_file
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.tokenizer_name = tokenizer
        self.device = device
        self.system_prompt = system_prompt
        self.user_prompt = user_prompt
        self.label = label

    @property
    def model_label(self) -> str:
        if self.label:
            return self.label
        return f"{self.model_name}/{self.gguf_file}" if self.gguf_file else self.model_name

    def settings(self) -> dict:
        settings = {"decoding": "greedy", "max_new_tokens": self.max_new_tokens}
        if self.system_prompt != SYSTEM_PROMPT or self.user_prompt != USER_PROMPT:
            settings["prompt"] = {"system": self.system_prompt, "user": self.user_prompt}
        if self.dtype != "float32":  # float32 is the reference: its cache keys stay as they were
            settings["dtype"] = self.dtype
        return settings

    def _load(self) -> None:
        if self._model is not None:
            return
        _quiet_transformers()
        if self.gguf_file:
            missing = [p for p in ("gguf", "accelerate") if importlib.util.find_spec(p) is None]
            if missing:
                raise ModelError(
                    f"loading the GGUF file {self.gguf_file} needs the package(s) {', '.join(missing)}",
                    "pip install gguf accelerate",
                )
            if Path(self.model_name).is_dir() and not (Path(self.model_name) / self.gguf_file).is_file():
                raise ModelError(f"no GGUF file {self.gguf_file} in {self.model_name}",
                                 "check the file name, or fetch the model again")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        gguf = {"gguf_file": self.gguf_file} if self.gguf_file else {}
        weights_dtype = self.dtype
        source, cached = self.model_name, None
        if gguf and self.gguf_cache:
            gguf_path = Path(self.model_name) / self.gguf_file
            cached = _read_gguf_cache(gguf_path, weights_dtype) if gguf_path.is_file() else None
            if cached is not None:
                source, gguf = str(cached), {}
        try:
            with _quiet_gguf_loading() if gguf else contextlib.nullcontext():
                if self.tokenizer_name:
                    tokenizer = AutoTokenizer.from_pretrained(self.tokenizer_name)
                else:
                    tokenizer = AutoTokenizer.from_pretrained(source, **gguf)
                model = AutoModelForCausalLM.from_pretrained(
                    source, dtype=getattr(torch, weights_dtype), **gguf).to(self.device).eval()
        except Exception as exc:
            # A damaged or unsupported GGUF file fails anywhere in its reader (struct.error,
            # NotImplementedError for an unknown architecture...): all of it is "cannot load".
            if not gguf and not isinstance(exc, (OSError, ValueError, KeyError, TypeError, RuntimeError)):
                raise
            raise _load_error("LLM", self.model_name, exc, self.gguf_file) from exc
        if not getattr(tokenizer, "chat_template", None):
            raise ModelError(
                f"the tokenizer of {self.model_label!r} has no chat template",
                "use an instruction-tuned (chat) model, or give a tokenizer that has one",
            )
        if gguf and self.gguf_cache and not self.tokenizer_name:
            _write_gguf_cache(Path(self.model_name) / self.gguf_file, weights_dtype, model, tokenizer)
        elif gguf and self.gguf_cache:  # the GGUF's own tokenizer is what the cache must hold
            with _quiet_gguf_loading():
                _write_gguf_cache(Path(self.model_name) / self.gguf_file, weights_dtype, model,
                                  AutoTokenizer.from_pretrained(self.model_name, **gguf))
        tokenizer.padding_side = "left"  # generation continues from the right end of every row
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.loaded_from = source if cached is not None else None
        self._tokenizer, self._model = tokenizer, model

    def messages(self, request: str | TranslationRequest) -> list[dict]:
        """The chat messages for one text or request, with this translator's prompts (:func:`build_messages`)."""
        return build_messages(request, self.system_prompt, self.user_prompt)

    def prompt(self, request: str | TranslationRequest) -> str:
        """The full prompt string for one text or request, through the chat template."""
        self._load()
        messages = self.messages(request)
        try:
            return self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        except Exception:  # some templates (Gemma) reject a system turn: fold it into the first user's
            first = {"role": "user", "content": self.system_prompt + "\n\n" + messages[1]["content"]}
            return self._tokenizer.apply_chat_template([first, *messages[2:]], tokenize=False,
                                                       add_generation_prompt=True)

    def batches(self, texts: Sequence[str]) -> list[list[int]]:
        """Padded engine: by length, as the base class. Continuous: ``batch_size`` texts at a time,
        longest first (no padding to limit; the long ones start early and the short ones fill in)."""
        if self.engine != "continuous":
            return super().batches(texts)
        order = sorted(range(len(texts)), key=lambda i: (-_size(texts[i]), i))
        return [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]

    def _generate(self, texts: list[str | TranslationRequest], overrides: dict) -> list[str]:
        self._load()
        # The retry's repetition penalties are not all supported by continuous batching; retries are few.
        if self.engine == "continuous" and not overrides and hasattr(self._model, "generate_batch"):
            return self._generate_continuous(texts)
        return self._generate_padded(texts, overrides)

    def _generate_continuous(self, texts: list[str]) -> list[str]:
        from transformers import GenerationConfig

        try:
            from transformers.generation.configuration_utils import ContinuousBatchingConfig
        except ImportError:  # a transformers release before this API: padded batches do the same job
            return self._generate_padded(texts, {})
        prompts = [self._tokenizer(self.prompt(t), add_special_tokens=False)["input_ids"] for t in texts]
        max_new = _cap_new_tokens([_source(t) for t in texts], self.max_new_tokens)
        requests = min(CB_MAX_REQUESTS, len(prompts))
        # KV pages for every request running at once, at its longest, plus one page each of slack.
        tokens = requests * (max(len(p) for p in prompts) + max_new + CB_PAGE_SIZE)
        config = ContinuousBatchingConfig(page_size=CB_PAGE_SIZE, num_blocks=-(-tokens // CB_PAGE_SIZE),
                                          max_batch_tokens=CB_MAX_BATCH_TOKENS, max_requests_per_batch=requests)
        generation = GenerationConfig(max_new_tokens=max_new, do_sample=False, pad_token_id=self._tokenizer.pad_token_id,
                                      eos_token_id=self._model.generation_config.eos_token_id)
        with _quiet_continuous_batching():
            results = self._model.generate_batch(inputs=prompts, generation_config=generation,
                                                 continuous_batching_config=config, warmup=False)
        outputs: list[str | None] = [None] * len(texts)
        by_prompt: dict[tuple, list[int]] = {}
        for i, prompt in enumerate(prompts):
            by_prompt.setdefault(tuple(prompt), []).append(i)
        for result in results.values():
            waiting = by_prompt.get(tuple(result.prompt_ids))
            if result.error is None and waiting:
                outputs[waiting.pop(0)] = self._tokenizer.decode(result.generated_tokens, skip_special_tokens=True)
        missing = [i for i, out in enumerate(outputs) if out is None]
        if missing:  # a request the engine dropped or failed: decode it the plain way
            log.warning("continuous batching returned no output for %d of %d texts; decoding them padded",
                        len(missing), len(texts))
            for i, out in zip(missing, self._generate_padded([texts[i] for i in missing], {}, clean=False)):
                outputs[i] = out
        return [clean_llm_output(out) for out in outputs]

    def _generate_padded(self, texts: list[str], overrides: dict, clean: bool = True) -> list[str]:
        import torch

        prompts = [self.prompt(t) for t in texts]
        # The chat template already wrote any BOS token; do not add a second one.
        batch = self._tokenizer(prompts, padding=True, add_special_tokens=False, return_tensors="pt").to(self.device)
        kwargs = {"max_new_tokens": _cap_new_tokens([_source(t) for t in texts], self.max_new_tokens),
                  "do_sample": False, "pad_token_id": self._tokenizer.pad_token_id, **overrides}
        with torch.inference_mode():
            out = self._model.generate(**batch, **kwargs)
        new_tokens = out[:, batch["input_ids"].shape[1]:]
        decoded = self._tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        return [clean_llm_output(t) for t in decoded] if clean else decoded


# ---------------------------------------------------------------------------
# Checked, cached translation


@dataclass(frozen=True)
class Translation:
    """One source text's machine translation, with the flags its checks raised.

    ``flags`` empty means the output passed every check; ``cached`` says it came
    from the cache rather than from the model in this run.
    """

    source: str
    text: str
    flags: tuple[str, ...] = ()
    cached: bool = False

    def __post_init__(self) -> None:
        unknown = [f for f in self.flags if f not in FLAGS]
        if unknown:
            raise ValueError(f"unknown translation flags {unknown}; expected some of {FLAGS}")

    @property
    def ok(self) -> bool:
        return not self.flags


# Part of the cache key: stored flags are only as good as the checks that made them.
# 3: the fact checks (number, name, latin) and the retry that states the failing terms.
# 4: a decade ("the 1970s") is not an extra year; 1.15亿 is 115,000,000 exactly; traditional numerals (一萬).
# 5: 万/亿 amounts with the wrong scale and years added after a date are repaired by rule; 十一五 is no
#    number; 500多万 is 5 million; CDs keeps CD; 一百年 may be a centenary.
CHECKS_VERSION = 5


def cache_settings(translator: Translator) -> dict:
    """The settings half of a translator's cache key."""
    return {**translator.settings(), "retry": translator.RETRY_SETTINGS, "checks": CHECKS_VERSION}


def translate_checked(translator: Translator, texts: Sequence[str | TranslationRequest], cache=None,
                      progress: ProgressFn | None = None) -> list[Translation]:
    """Translate ``texts`` (plain texts or :class:`TranslationRequest`\\ s) with checks, one retry for
    flagged outputs, and a cache.

    Identical texts (requests) are translated once. ``cache`` (a
    :class:`~toolkit.translate.cache.TranslationCache`) is read first and written after
    every batch, so an interrupted run resumes where it stopped. A flagged output is
    translated once more: with the failing facts stated in the prompt (a request's
    ``hints``, e.g. ``9月 = September``) when a fact check flagged it, and with
    ``translator.RETRY_SETTINGS`` decoding when a form check did; the attempt with fewer
    flags is kept (the first on a tie) together with its flags. Before each attempt is checked, the
    number mistakes models make the same way every time are put right by rule (:func:`repaired`). ``progress`` gets the number
    of input texts finished (duplicates counted): first the cache hits, then each batch.
    Each Translation's ``source`` is the request's source text.
    """
    progress = progress or (lambda n: None)
    requests = [as_request(t) for t in texts]
    if not getattr(translator, "takes_context", False):  # examples change nothing such a backend says
        requests = [replace(r, examples=()) if r.examples else r for r in requests]
    copies: dict[TranslationRequest, int] = {}
    for request in requests:
        copies[request] = copies.get(request, 0) + 1
    if not translator.translates:
        progress(len(requests))
        return [Translation(r.source, "", ("untranslated",)) for r in requests]

    model, settings = translator.describe(), cache_settings(translator)
    done: dict[TranslationRequest, Translation] = {}
    for request in copies:
        if not request.source.strip():  # nothing to translate
            done[request] = Translation(request.source, "", ())
    if cache is not None:
        wanted = {r.cache_text(): r for r in copies if r not in done}
        for key, (output, flags) in cache.get_many(model, settings, list(wanted)).items():
            done[wanted[key]] = Translation(wanted[key].source, output, tuple(flags), cached=True)
    if done:
        progress(sum(copies[r] for r in done))

    misses = [r for r in copies if r not in done]
    for batch in translator.batches(misses if getattr(translator, "takes_context", False)
                                    else [r.source for r in misses]):
        chosen = [misses[i] for i in batch]
        fresh = _translate_batch(translator, chosen)
        if cache is not None:
            cache.put_many(model, settings, {r.cache_text(): (t.text, t.flags) for r, t in zip(chosen, fresh)})
        for request, result in zip(chosen, fresh):
            done[request] = result
        progress(sum(copies[r] for r in chosen))
    return [done[r] for r in requests]


def raw_outputs(translator: Translator, requests: list[TranslationRequest], retry: bool) -> list[str]:
    """Unchecked outputs for ``requests``: the first attempt, or with ``retry`` the second-attempt decoding."""
    if hasattr(translator, "translate_requests"):
        return translator.translate_requests(requests, retry=retry)
    sources = [r.source for r in requests]  # a duck-typed translator with translate/retranslate only
    return translator.retranslate(sources) if retry else translator.translate(sources)


def _translate_batch(translator: Translator, requests: list[TranslationRequest]) -> list[Translation]:
    outputs = [repaired(r.source, o, r.terms) for r, o in zip(requests, raw_outputs(translator, requests, retry=False))]
    flags = [check_translation(r.source, o, r.terms) for r, o in zip(requests, outputs)]
    # Form problems (loops, Chinese left, odd length) get the penalised decoding; fact problems the
    # same greedy decoding with the failing terms stated (a backend without context: decoding only).
    first_flags = list(flags)  # each output is retried once, in the group its first flags put it in
    for form in (True, False):
        again = [i for i, f in enumerate(first_flags) if f and any(flag not in FACT_FLAGS for flag in f) == form]
        if not again:
            continue
        log.info("%s: retrying %d flagged output(s)", translator.name, len(again))
        retry_requests = []
        for i in again:
            hints = tuple(p.hint() for p in fact_problems(requests[i].source, outputs[i], requests[i].terms))
            retry_requests.append(replace(requests[i], hints=hints) if hints else requests[i])
        retried = raw_outputs(translator, retry_requests, retry=form or not getattr(translator, "takes_context", False))
        for i, output in zip(again, retried):
            output = repaired(requests[i].source, output, requests[i].terms)
            second = check_translation(requests[i].source, output, requests[i].terms)
            if len(second) < len(flags[i]):
                outputs[i], flags[i] = output, second
    return [Translation(r.source, o.strip(), tuple(f)) for r, o, f in zip(requests, outputs, flags)]


# ---------------------------------------------------------------------------
# Names on the command line


DEFAULT_MT = "seq2seq"
# Where scripts/fetch_models.py installs models: the project's models/ folder.
PROJECT_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
FETCH_COMMAND = "python scripts/fetch_models.py {name}"
# Short names for hub models; registry names (models/registry.json) come on top.
HUB_MODELS = {
    "marian": ("seq2seq", Seq2SeqTranslator.DEFAULT_MODEL),
    "nllb": ("seq2seq", "facebook/nllb-200-distilled-600M"),
    "m2m100": ("seq2seq", "facebook/m2m100_418M"),
}


def read_registry(models_dir: Path) -> dict[str, dict]:
    """The ``models`` table of ``models_dir/registry.json`` ({} when there is no such file)."""
    path = Path(models_dir) / "registry.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        models = data["models"]
        if not isinstance(models, dict) or not all(isinstance(e, dict) for e in models.values()):
            raise ValueError("'models' must map names to objects")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"the model registry {path} cannot be read: {exc}",
                         'fix it: {"models": {"NAME": {"backend": "llm", "file": "...gguf"}}}') from exc
    return models


MODELS_DIR_ENV = "BITEXT_MODELS_DIR"


def default_models_dir() -> Path:
    """Where registry names are looked up: ``$BITEXT_MODELS_DIR`` if set, else the project's
    ``models/`` (where fetch_models.py writes) if it has a registry, else ``./models``."""
    if os.environ.get(MODELS_DIR_ENV):
        return Path(os.environ[MODELS_DIR_ENV]).expanduser()
    return PROJECT_MODELS_DIR if (PROJECT_MODELS_DIR / "registry.json").is_file() else Path("models")


def get_translator(spec: str = DEFAULT_MT, models_dir: Path | None = None,
                   engine: str | None = None) -> Translator:
    """Build a translator from ``--mt``: a backend, a backend with its model, a registry name or a path.

    - ``none``: no translation.
    - ``seq2seq`` (MarianMT opus-mt-zh-en) or ``seq2seq:NAME_OR_DIR``; ``marian``, ``nllb``, ``m2m100``.
    - ``llm:NAME_OR_DIR`` or ``llm:PATH/FILE.gguf`` (the file's folder + ``gguf_file``).
    - a name in ``models_dir/registry.json``, e.g. ``qwen1.5b``: its file must be under
      ``models_dir`` (otherwise the hint says how to fetch it); ``models_dir`` defaults
      to :func:`default_models_dir`. A registry GGUF model runs on CTranslate2
      (:mod:`toolkit.translate.ct2`) when it is installed, else on transformers;
      ``engine`` (one of ``REGISTRY_ENGINES``) chooses instead.
    - a path: a ``.gguf`` file, or a model folder (encoder-decoder -> seq2seq, else llm).
    """
    spec = spec.strip()
    backend, _, arg = spec.partition(":")
    if spec == "none":
        return NoTranslator()
    if backend == "seq2seq":
        return Seq2SeqTranslator(arg) if arg else Seq2SeqTranslator()
    if backend == "llm":
        if not arg:
            raise ModelError("the llm backend needs a model",
                             "write llm:NAME_OR_FOLDER, llm:PATH/FILE.gguf, or a registry name")
        return _llm_from_path(arg)
    models_dir = Path(models_dir) if models_dir is not None else default_models_dir()
    registry = read_registry(models_dir)
    if spec in registry:
        return _from_registry(spec, registry[spec], models_dir, engine)
    if spec in HUB_MODELS:
        return Seq2SeqTranslator(HUB_MODELS[spec][1], label=spec)
    path = Path(spec).expanduser()
    if spec and path.exists():
        return _from_path(path)
    choices = ["none", "seq2seq", "seq2seq:NAME_OR_DIR", "llm:NAME_OR_DIR", "llm:FILE.gguf",
               *HUB_MODELS, *sorted(registry)]
    raise ModelError(f"unknown translator {spec!r}",
                     f"choose one of: {', '.join(choices)}; or give a model folder or .gguf file")


def _llm_from_path(arg: str, **kwargs) -> LLMTranslator:
    if arg.lower().endswith(".gguf"):
        path = Path(arg).expanduser()
        return LLMTranslator(str(path.parent), gguf_file=path.name, **kwargs)
    return LLMTranslator(arg, **kwargs)


def _from_path(path: Path) -> Translator:
    if path.is_file():
        if path.suffix.lower() == ".gguf":
            return _llm_from_path(str(path))
        raise ModelError(f"{path} is not a model", "give a model folder or a .gguf file")
    config = path / "config.json"
    if config.is_file():
        try:
            is_seq2seq = bool(json.loads(config.read_text(encoding="utf-8")).get("is_encoder_decoder"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read {config}: {exc}", "is this a transformers model folder?") from exc
        return Seq2SeqTranslator(str(path)) if is_seq2seq else LLMTranslator(str(path))
    ggufs = sorted(path.glob("*.gguf"))
    if len(ggufs) == 1:
        return LLMTranslator(str(path), gguf_file=ggufs[0].name)
    raise ModelError(f"{path} is not a model folder (no config.json and not exactly one .gguf file)",
                     "give seq2seq:FOLDER, llm:FOLDER or llm:FOLDER/FILE.gguf")


# How a registry GGUF model runs: "auto" is CTranslate2 when installed (on 2 cores, a third of
# transformers' CPU time a sentence or less; see README), else transformers.
REGISTRY_ENGINES = ("auto", "ctranslate2", "transformers")


def _registry_llm_class(engine: str | None) -> type[LLMTranslator]:
    engine = engine or "auto"
    if engine not in REGISTRY_ENGINES:
        raise ModelError(f"unknown engine {engine!r}", f"choose one of {', '.join(REGISTRY_ENGINES)}")
    from toolkit.translate.ct2 import CT2Translator, ct2_available

    if engine == "ctranslate2" or (engine == "auto" and ct2_available()):
        return CT2Translator
    return LLMTranslator


def _from_registry(name: str, entry: dict, models_dir: Path, engine: str | None = None) -> Translator:
    backend = entry.get("backend", "llm")
    file = entry.get("file") or entry.get("dir") or name
    path = models_dir / file
    if not path.exists():
        raise ModelError(f"model {name!r} is not installed: {path} is missing",
                         "install it with: " + FETCH_COMMAND.format(name=name))
    size = entry.get("size")
    if path.is_file() and isinstance(size, int) and path.stat().st_size != size:
        raise ModelError(f"model {name!r} is incomplete: {path} has {path.stat().st_size:,} bytes, "
                         f"the registry says {size:,}",
                         "fetch it again with: " + FETCH_COMMAND.format(name=name))
    if path.is_file() and (entry.get("format") == "gguf" or path.suffix.lower() == ".gguf"):
        with open(path, "rb") as handle:  # four bytes: loadable as GGUF, checked before any work
            magic = handle.read(4)
        if magic != b"GGUF":
            raise ModelError(f"model {name!r} cannot be loaded: {path} is not a GGUF file",
                             "fetch it again with: " + FETCH_COMMAND.format(name=name))
    tokenizer = entry.get("tokenizer")
    if tokenizer and (models_dir / tokenizer).exists():
        tokenizer = str(models_dir / tokenizer)
    if backend == "seq2seq":
        return Seq2SeqTranslator(str(path), label=name)
    if backend != "llm":
        raise ModelError(f"registry entry {name!r} has an unknown backend {backend!r}",
                         "use \"backend\": \"llm\" or \"seq2seq\" in models/registry.json")
    kwargs: dict = {"tokenizer": tokenizer, "label": name}
    prompt = entry.get("prompt")
    if isinstance(prompt, dict):
        kwargs.update({k: v for k, v in (("system_prompt", prompt.get("system")),
                                         ("user_prompt", prompt.get("user"))) if v})
    if path.is_file():
        return _registry_llm_class(engine)(str(path.parent), gguf_file=path.name, **kwargs)
    return LLMTranslator(str(path), **kwargs)
