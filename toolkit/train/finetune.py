"""Fine-tuning a seq2seq translation model on the training JSONL of ``bitext export --to jsonl --split``.

The data is the Hugging Face ``datasets`` translation shape, one object per line,
``{"translation": {"zh": ..., "en": ...}, ...metadata}``, in the split files the
export writes (``NAME.train.jsonl``, ``NAME.dev.jsonl``, ``NAME.test.jsonl``; see
:func:`toolkit.export.exports.split_path`). :func:`finetune` runs the whole recipe:

1. read the train and dev splits (:func:`read_translation_jsonl`);
2. translate the dev sources with the base model and score them with sacrebleu
   (BLEU and chrF with their signatures, :func:`toolkit.score.metrics.corpus_scores`);
3. train with a plain PyTorch loop (:func:`train`): the model's own tokenizer
   (``text_target=`` for the labels, padded with -100), AdamW, linear warmup
   and decay, gradient accumulation, gradient clipping, a fixed seed;
4. save the model and tokenizer with ``save_pretrained`` into the output folder,
   which ``--mt seq2seq:FOLDER`` (:func:`toolkit.translate.backends.get_translator`) loads;
5. translate and score the dev split again, through that same loader, and write
   ``metrics.json`` and ``finetune.signature.json`` (settings, data checksums,
   the export's own signature, versions, the command line).

Library code: it never prints or exits; torch and transformers are imported
only when training or evaluating starts. Progress goes to a :class:`Progress`.
Costs: training is ``steps x batch_size`` forward/backward passes; each
evaluation translates the dev split once (greedy unless ``num_beams`` > 1)
and computes its teacher-forced loss once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from toolkit.core.atomic import atomic_write_text
from toolkit.core.errors import FormatError, InputError, ModelError, ToolkitError
from toolkit.core.version import __version__
from toolkit.export.exports import sidecar_path, split_path
from toolkit.translate.backends import Seq2SeqTranslator

log = logging.getLogger(__name__)

SOURCE_LANG = "zh"
TARGET_LANG = "en"
METRICS_FILE = "metrics.json"
SIGNATURE_FILE = "finetune.signature.json"
DATA_HINT = 'expected the training JSONL of `bitext export --to jsonl`: {"translation": {"zh": "...", "en": "..."}} per line'
LOSS_DECIMALS = 4
SCORE_DECIMALS = 2
SAMPLE_TRANSLATIONS = 5  # dev translations kept in metrics.json, to eyeball


@dataclass(frozen=True)
class FinetuneConfig:
    """Every setting of a fine-tuning run; each default is declared here only (the CLI reads them).

    ``max_steps`` (optimizer steps), when set, overrides ``epochs``. The effective
    batch is ``batch_size x grad_accum`` pairs. ``warmup_ratio`` is the share of
    the steps over which the learning rate climbs linearly from 0; it then
    decays linearly to 0 at the last step. Lengths are in tokens; longer texts
    are truncated.
    """

    model: str = Seq2SeqTranslator.DEFAULT_MODEL
    epochs: int = 3
    max_steps: int | None = None
    batch_size: int = 16
    grad_accum: int = 1
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    max_source_length: int = 256
    max_target_length: int = 256
    eval_batch_size: int = 16
    num_beams: int = 1
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "grad_accum": self.grad_accum,
                    "max_source_length": self.max_source_length, "max_target_length": self.max_target_length,
                    "eval_batch_size": self.eval_batch_size, "num_beams": self.num_beams}
        if self.max_steps is not None:
            positive["max_steps"] = self.max_steps
        for name, value in positive.items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
        if not self.learning_rate > 0 or math.isinf(self.learning_rate):
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if not self.weight_decay >= 0.0 or not self.max_grad_norm > 0.0:
            raise ValueError("weight_decay must be >= 0 and max_grad_norm > 0")
        if not self.model:
            raise ValueError("model must name a model or a folder")


class Progress:
    """What the library reports while it works; the CLI draws tqdm bars. This one shows nothing."""

    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, n: int = 1, **info: float) -> None:
        pass

    def finish(self) -> None:
        pass


# ---------------------------------------------------------------------------
# data


@dataclass(frozen=True)
class ParallelData:
    """The usable ``(zh, en)`` pairs of one split file; ``skipped`` counts pairs with an empty side."""

    path: Path
    split: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    skipped: int
    sha256: str
    export: dict | None = None  # the export's sidecar signature (FILE.signature.json), if there is one

    def __len__(self) -> int:
        return len(self.sources)

    def signature(self) -> dict:
        """Where the data came from: file, checksum, counts and how it was exported."""
        entry = {"file": str(self.path), "sha256": self.sha256, "pairs": len(self), "skipped": self.skipped}
        if self.export:
            entry["export"] = self.export.get("export")
            entry["documents"] = sorted(self.export.get("sources") or ())
        return entry


def read_translation_jsonl(path: str | Path, split: str = "train") -> ParallelData:
    """Read the ``translation`` pairs of a training JSONL file.

    Pairs with an empty (or whitespace-only) side are skipped and counted.
    Raises InputError if the file is missing or has no usable pair ("empty
    split"), FormatError (naming the line) if a line is not a JSON object with
    ``translation.zh`` and ``translation.en`` strings.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path} does not exist", "check the path; the splits come from `bitext export --to jsonl --split`") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path} is a folder", "give a .jsonl file") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path} is not UTF-8 text", DATA_HINT) from exc
    sources, targets, skipped = [], [], 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FormatError(f"{path}, line {number}: not JSON ({exc.msg})", DATA_HINT) from exc
        pair = row.get("translation") if isinstance(row, dict) else None
        if not isinstance(pair, dict) or not all(isinstance(pair.get(k), str) for k in (SOURCE_LANG, TARGET_LANG)):
            raise FormatError(f"{path}, line {number}: no translation pair with {SOURCE_LANG!r} and {TARGET_LANG!r} texts",
                              DATA_HINT)
        source, target = pair[SOURCE_LANG].strip(), pair[TARGET_LANG].strip()
        if not source or not target:
            skipped += 1
            continue
        sources.append(source)
        targets.append(target)
    if not sources:
        what = f"all {skipped} pairs have an empty side" if skipped else "it is empty"
        raise InputError(f"the {split} split {path} has no translation pairs ({what})",
                         "export more documents, or give another file (--dev FILE for the dev split)")
    export = None
    sidecar = sidecar_path(path)
    if sidecar.is_file():
        try:
            export = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("%s is not readable JSON; the data signature goes without it", sidecar)
    return ParallelData(path, split, tuple(sources), tuple(targets), skipped, hashlib.sha256(raw).hexdigest(),
                        export if isinstance(export, dict) else None)


def find_splits(data: str | Path, dev: str | Path | None = None) -> dict[str, Path]:
    """The train and dev files for ``data``: a split file or the ``-o`` path given to ``bitext export --split``.

    ``corpus.jsonl``, ``corpus.train.jsonl`` and ``corpus.dev.jsonl`` all give
    ``{"train": corpus.train.jsonl, "dev": corpus.dev.jsonl}``; a file exported
    without ``--split`` is the train split itself and needs ``dev``. Raises
    InputError when a file is missing.
    """
    data = Path(data)
    train = split_path(data, "train")
    if not train.is_file():
        if not data.is_file():
            raise InputError(f"no training data: neither {data} nor {train} exists",
                             "give the JSONL of `bitext export --to jsonl --split -o FILE`")
        train = data
    dev_path = Path(dev) if dev is not None else split_path(data, "dev")
    if not dev_path.is_file():
        raise InputError(f"no dev split: {dev_path} does not exist",
                         "export with --split, or give the dev file with --dev FILE")
    if dev_path.resolve() == train.resolve():
        raise InputError(f"{train} would be both the train and the dev split", "give another dev file with --dev FILE")
    return {"train": train, "dev": dev_path}


# ---------------------------------------------------------------------------
# tokenization and training


def _language_codes(model, tokenizer) -> None:
    """NLLB / M2M100 tokenizers: source zh and target en, as the translator sets them for decoding."""
    from toolkit.translate.backends import _language_settings

    forced = _language_settings(model.config, tokenizer).get("forced_bos_token_id")
    if forced is not None and hasattr(tokenizer, "tgt_lang"):
        tokenizer.tgt_lang = tokenizer.convert_ids_to_tokens(forced) if tokenizer.src_lang == "zho_Hans" else "en"


def tokenize_pairs(tokenizer, sources: Sequence[str], targets: Sequence[str], max_source_length: int,
                   max_target_length: int) -> list[tuple[list[int], list[int]]]:
    """``(input_ids, labels)`` per pair, unpadded, truncated to the maximum lengths (targets via ``text_target=``)."""
    inputs = tokenizer(list(sources), max_length=max_source_length, truncation=True)["input_ids"]
    labels = tokenizer(text_target=list(targets), max_length=max_target_length, truncation=True)["input_ids"]
    return list(zip(inputs, labels))


def collate(features: Sequence[tuple[list[int], list[int]]], pad_id: int) -> dict:
    """Pad a batch: ``input_ids`` with ``pad_id`` (attention mask 0 there), ``labels`` with -100 (ignored by the loss).

    Shapes: ``input_ids``/``attention_mask`` (batch, longest source), ``labels`` (batch, longest target).
    """
    import torch

    source_len = max(len(ids) for ids, _ in features)
    target_len = max(len(labels) for _, labels in features)
    input_ids = torch.full((len(features), source_len), pad_id, dtype=torch.long)
    attention = torch.zeros((len(features), source_len), dtype=torch.long)
    labels = torch.full((len(features), target_len), -100, dtype=torch.long)
    for row, (ids, target) in enumerate(features):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention[row, : len(ids)] = 1
        labels[row, : len(target)] = torch.tensor(target)
    return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}


def linear_schedule(step: int, warmup: int, total: int) -> float:
    """Learning-rate factor at optimizer step ``step`` (0-based): 0 -> 1 over ``warmup`` steps, then 1 -> 0 at ``total``."""
    if step < warmup:
        return (step + 1) / (warmup + 1)
    return max(0.0, (total - step) / max(1, total - warmup))


def total_steps(config: FinetuneConfig, pairs: int) -> int:
    """Optimizer steps of a run: ``max_steps``, or ``epochs`` x ceil(batches per epoch / grad_accum)."""
    if config.max_steps is not None:
        return config.max_steps
    return config.epochs * math.ceil(math.ceil(pairs / config.batch_size) / config.grad_accum)


def dev_loss(model, features: Sequence[tuple[list[int], list[int]]], pad_id: int, batch_size: int) -> float:
    """Mean teacher-forced cross-entropy per target token over ``features`` (no dropout, no gradients)."""
    import torch

    was_training = model.training
    model.eval()
    total, tokens = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(features), batch_size):
            batch = collate(features[start:start + batch_size], pad_id)
            batch = {k: v.to(model.device) for k, v in batch.items()}
            count = int((batch["labels"] != -100).sum())
            total += float(model(**batch).loss) * count
            tokens += count
    model.train(was_training)
    return total / max(tokens, 1)


@dataclass
class TrainingRun:
    """What :func:`train` did: the mean loss of every optimizer step, dev losses before and after, timings."""

    losses: list[float] = field(default_factory=list)
    learning_rates: list[float] = field(default_factory=list)
    steps: int = 0
    epochs: float = 0.0
    dev_loss_before: float | None = None
    dev_loss_after: float | None = None
    seconds: float = 0.0
    parameters: int = 0


def load_model(name: str, device: str = "cpu"):
    """``(model, tokenizer)`` of a transformers seq2seq model (hub name or folder); ModelError if it cannot be loaded."""
    from toolkit.translate.backends import _quiet_transformers

    _quiet_transformers()
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        model = AutoModelForSeq2SeqLM.from_pretrained(name).to(device)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"cannot load the seq2seq model {name!r}: {str(exc).splitlines()[0] if str(exc) else exc}",
                         "give a hub name (e.g. Helsinki-NLP/opus-mt-zh-en) or a folder with config.json and a tokenizer") from exc
    if tokenizer.pad_token_id is None:
        raise ModelError(f"the tokenizer of {name!r} has no padding token", "use a translation model's tokenizer")
    return model, tokenizer


def train(model, tokenizer, config: FinetuneConfig, data: ParallelData, dev: ParallelData | None = None,
          progress: Progress | None = None) -> TrainingRun:
    """Fine-tune ``model`` in place on ``data`` for :func:`total_steps` optimizer steps.

    Each epoch visits the pairs in a fresh order drawn from ``config.seed``; a
    step accumulates ``grad_accum`` batches, clips the gradient norm and steps
    AdamW (no weight decay on biases and norms) under :func:`linear_schedule`.
    With ``dev``, its teacher-forced loss is measured before and after.
    """
    import torch

    progress = progress or Progress()
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    order_rng = random.Random(config.seed)
    _language_codes(model, tokenizer)
    pad_id = tokenizer.pad_token_id
    features = tokenize_pairs(tokenizer, data.sources, data.targets, config.max_source_length, config.max_target_length)
    dev_features = (tokenize_pairs(tokenizer, dev.sources, dev.targets, config.max_source_length,
                                   config.max_target_length) if dev is not None else None)
    run = TrainingRun(parameters=sum(p.numel() for p in model.parameters()))
    if dev_features:
        run.dev_loss_before = dev_loss(model, dev_features, pad_id, config.eval_batch_size)

    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and (n.endswith("bias") or "norm" in n.lower())]
    decay = [p for n, p in model.named_parameters() if p.requires_grad and not (n.endswith("bias") or "norm" in n.lower())]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=config.learning_rate)
    steps = total_steps(config, len(features))
    warmup = int(config.warmup_ratio * steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: linear_schedule(step, warmup, steps))

    model.train()
    progress.start("training", steps)
    batches_done, micro, step_losses = 0, 0, []
    try:
        while run.steps < steps:
            order = list(range(len(features)))
            order_rng.shuffle(order)
            batches = [order[i:i + config.batch_size] for i in range(0, len(order), config.batch_size)]
            for batch_ids in batches:
                batch = collate([features[i] for i in batch_ids], pad_id)
                batch = {k: v.to(model.device) for k, v in batch.items()}
                loss = model(**batch).loss
                (loss / config.grad_accum).backward()
                step_losses.append(float(loss.detach()))
                micro += 1
                batches_done += 1
                if micro < config.grad_accum and batches_done % len(batches):
                    continue
                # an epoch's last batches make a (smaller) step of their own
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                run.learning_rates.append(scheduler.get_last_lr()[0])
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                run.losses.append(sum(step_losses) / len(step_losses))
                run.steps += 1
                micro, step_losses = 0, []
                progress.advance(1, loss=run.losses[-1])
                if run.steps >= steps:
                    break
    finally:
        progress.finish()
    model.eval()
    run.epochs = batches_done / max(1, math.ceil(len(features) / config.batch_size))
    if dev_features:
        run.dev_loss_after = dev_loss(model, dev_features, pad_id, config.eval_batch_size)
    run.seconds = time.perf_counter() - started
    return run


# ---------------------------------------------------------------------------
# evaluation


@dataclass(frozen=True)
class DevScores:
    """Corpus BLEU and chrF of a model's translations of the dev split, with sacrebleu's signatures."""

    bleu: float
    chrf: float
    bleu_signature: str
    chrf_signature: str
    segments: int
    samples: tuple[tuple[str, str, str], ...] = ()  # (source, reference, translation), the first few
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"bleu": round(self.bleu, SCORE_DECIMALS), "chrf": round(self.chrf, SCORE_DECIMALS),
                "bleu_signature": self.bleu_signature, "chrf_signature": self.chrf_signature,
                "segments": self.segments, "seconds": round(self.seconds, 2),
                "samples": [{"zh": s, "ref": r, "mt": h} for s, r, h in self.samples]}


def evaluate(model: str, dev: ParallelData, config: FinetuneConfig, progress: Progress | None = None,
             label: str = "translating dev") -> DevScores:
    """Translate ``dev`` with the ``seq2seq:model`` translator (how ``--mt`` loads it) and score it."""
    from toolkit.score.metrics import corpus_scores

    progress = progress or Progress()
    started = time.perf_counter()
    translator = Seq2SeqTranslator(model, batch_size=config.eval_batch_size, num_beams=config.num_beams,
                                   device=config.device)
    chunk = config.eval_batch_size * 4  # progress in steps of a few batches; the translator batches by length
    hyps: list[str] = []
    progress.start(label, len(dev))
    try:
        for start in range(0, len(dev), chunk):
            part = dev.sources[start:start + chunk]
            hyps += translator.translate(part)
            progress.advance(len(part))
    finally:
        progress.finish()
    scores = corpus_scores(hyps, dev.targets, target_lang=TARGET_LANG)
    samples = tuple(zip(dev.sources, dev.targets, hyps))[:SAMPLE_TRANSLATIONS]
    return DevScores(scores.bleu, scores.chrf, scores.bleu_signature, scores.chrf_signature, scores.segments,
                     samples, time.perf_counter() - started)


# ---------------------------------------------------------------------------
# the whole run


@dataclass(frozen=True)
class FinetuneReport:
    """The outcome of :func:`finetune`: where it went, the dev scores before and after, the training run."""

    out_dir: Path
    before: DevScores
    after: DevScores
    run: TrainingRun
    metrics: dict
    signature: dict


def _prepare_output(out_dir: Path) -> None:
    """Refuse a file, or a folder with other things in it (a previous fine-tune's folder is fine)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ToolkitError(f"{out_dir} is a file", "give a folder for the fine-tuned model with -o")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / SIGNATURE_FILE).is_file():
        raise ToolkitError(f"{out_dir} is not empty and not a fine-tuned model folder",
                           "give a new or empty folder with -o (a previous fine-tune's folder is replaced)")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ToolkitError(f"cannot create {out_dir}: {exc.strerror or exc}", "choose another folder with -o") from exc


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {"bitext": __version__}
    for package in ("torch", "transformers", "tokenizers", "sentencepiece", "sacrebleu"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found


def _loss_summary(losses: Sequence[float]) -> dict:
    k = max(1, min(5, len(losses) // 4))  # mean over the first and last few steps: one step is noisy
    return {"first": round(sum(losses[:k]) / k, LOSS_DECIMALS), "last": round(sum(losses[-k:]) / k, LOSS_DECIMALS),
            "steps_averaged": k}


def finetune(config: FinetuneConfig, train_path: str | Path, dev_path: str | Path, out_dir: str | Path,
             progress: Progress | None = None, command: str | None = None) -> FinetuneReport:
    """Fine-tune ``config.model`` on ``train_path``, evaluate on ``dev_path`` before and after, save to ``out_dir``.

    ``out_dir`` receives the model and tokenizer (``save_pretrained``),
    :data:`METRICS_FILE` and :data:`SIGNATURE_FILE`. Raises InputError/FormatError
    for bad data (before any model is loaded), ModelError if the model cannot
    be loaded, ToolkitError for an unusable output folder.
    """
    out_dir = Path(out_dir)
    train_data = read_translation_jsonl(train_path, "train")
    dev_data = read_translation_jsonl(dev_path, "dev")
    _prepare_output(out_dir)
    log.info("fine-tuning %s on %d pairs (dev %d)", config.model, len(train_data), len(dev_data))

    # The base model is scored through the translator first (a bad name fails here), then loaded to train:
    # two loads, but never two copies in memory.
    before = evaluate(config.model, dev_data, config, progress, "dev, base model")
    model, tokenizer = load_model(config.model, config.device)
    run = train(model, tokenizer, config, train_data, dev_data, progress)
    try:
        model.save_pretrained(out_dir)
        tokenizer.save_pretrained(out_dir)
    except OSError as exc:
        raise ToolkitError(f"cannot save the model to {out_dir}: {exc.strerror or exc}", "check the disk and the folder") from exc
    del model
    after = evaluate(str(out_dir), dev_data, config, progress, "dev, fine-tuned")

    metrics = {
        "dev": {"file": str(dev_data.path), "pairs": len(dev_data)},
        "before": {**before.as_dict(), "loss": _round(run.dev_loss_before)},
        "after": {**after.as_dict(), "loss": _round(run.dev_loss_after)},
        "train": {"pairs": len(train_data), "steps": run.steps, "epochs": round(run.epochs, 3),
                  "loss": _loss_summary(run.losses), "losses": [round(x, LOSS_DECIMALS) for x in run.losses],
                  "seconds": round(run.seconds, 2)},
    }
    signature = {
        "tool": "bitext-finetune",
        "versions": _versions(),
        "base_model": config.model,
        "settings": asdict(config),
        "data": {"train": train_data.signature(), "dev": dev_data.signature()},
        "parameters": run.parameters,
        "results": {"bleu_before": metrics["before"]["bleu"], "bleu_after": metrics["after"]["bleu"],
                    "chrf_before": metrics["before"]["chrf"], "chrf_after": metrics["after"]["chrf"],
                    "bleu_signature": after.bleu_signature, "chrf_signature": after.chrf_signature},
        "command": command,
    }
    atomic_write_text(out_dir / METRICS_FILE, json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(out_dir / SIGNATURE_FILE, json.dumps(signature, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    return FinetuneReport(out_dir, before, after, run, metrics, signature)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, LOSS_DECIMALS)
