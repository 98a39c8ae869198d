"""Fine-tune a seq2seq translation model (MarianMT by default) on aligned training data.

    python scripts/finetune.py DATA -o OUT [--dev FILE] [--model NAME_OR_DIR]
                               [--epochs N | --max-steps N] [--batch-size N] [--grad-accum N] [--lr X]
                               [--warmup-ratio X] [--max-source-length N] [--max-target-length N]
                               [--seed N] [--quiet]

DATA is the JSONL of ``bitext export ... --to jsonl --split -o DATA`` (or one of its
split files): the train split trains, the dev split is translated and scored with
sacrebleu before and after. OUT then holds the model and tokenizer, ``metrics.json``
and ``finetune.signature.json``; translate with ``bitext translate FILE --mt seq2seq:OUT``.
The recipe lives in :mod:`toolkit.train.finetune`; this is only its command line.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Optional

import typer

from toolkit.core.errors import ToolkitError
from toolkit.train.finetune import METRICS_FILE, SIGNATURE_FILE, FinetuneConfig, Progress, find_splits, finetune

_DEFAULT = FinetuneConfig()
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


class TqdmProgress(Progress):
    """tqdm bars on stderr, the training loss as the bar's postfix."""

    def __init__(self) -> None:
        self.bar = None

    def start(self, label: str, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=label, file=sys.stderr, leave=False, dynamic_ncols=True)

    def advance(self, n: int = 1, **info: float) -> None:
        if self.bar is not None:
            self.bar.update(n)
            if info:
                self.bar.set_postfix({k: f"{v:.3f}" for k, v in info.items()}, refresh=False)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@app.command()
def main(
    data: Path = typer.Argument(..., help="Training JSONL from `bitext export --to jsonl --split -o DATA` (or one of its split files)."),
    output: Path = typer.Option(..., "-o", "--output", help="Folder for the fine-tuned model, metrics.json and the signature."),
    dev: Optional[Path] = typer.Option(None, "--dev", help="Dev split [default: DATA's .dev.jsonl]."),
    model: str = typer.Option(_DEFAULT.model, "--model", help="Base model: a hub name or a local folder."),
    epochs: int = typer.Option(_DEFAULT.epochs, "--epochs", help="Passes over the train split."),
    max_steps: Optional[int] = typer.Option(_DEFAULT.max_steps, "--max-steps", help="Optimizer steps; overrides --epochs."),
    batch_size: int = typer.Option(_DEFAULT.batch_size, "--batch-size", help="Pairs per batch."),
    grad_accum: int = typer.Option(_DEFAULT.grad_accum, "--grad-accum", help="Batches per optimizer step."),
    learning_rate: float = typer.Option(_DEFAULT.learning_rate, "--lr", help="Peak learning rate (AdamW)."),
    warmup_ratio: float = typer.Option(_DEFAULT.warmup_ratio, "--warmup-ratio", help="Share of the steps with a rising learning rate."),
    weight_decay: float = typer.Option(_DEFAULT.weight_decay, "--weight-decay", help="AdamW weight decay."),
    max_source_length: int = typer.Option(_DEFAULT.max_source_length, "--max-source-length", help="Source tokens kept (longer is truncated)."),
    max_target_length: int = typer.Option(_DEFAULT.max_target_length, "--max-target-length", help="Target tokens kept (longer is truncated)."),
    eval_batch_size: int = typer.Option(_DEFAULT.eval_batch_size, "--eval-batch-size", help="Sentences per batch when translating the dev split."),
    num_beams: int = typer.Option(_DEFAULT.num_beams, "--num-beams", help="Beam size when translating the dev split."),
    seed: int = typer.Option(_DEFAULT.seed, "--seed", help="Random seed (initial shuffle, dropout)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars; print only the scores."),
) -> None:
    """Fine-tune a seq2seq translation model on the training JSONL of `bitext export`, scoring the dev split before and after."""
    command = shlex.join(["python", "scripts/finetune.py", *sys.argv[1:]])
    try:
        try:
            config = FinetuneConfig(model=model, epochs=epochs, max_steps=max_steps, batch_size=batch_size,
                                    grad_accum=grad_accum, learning_rate=learning_rate, warmup_ratio=warmup_ratio,
                                    weight_decay=weight_decay, max_source_length=max_source_length,
                                    max_target_length=max_target_length, eval_batch_size=eval_batch_size,
                                    num_beams=num_beams, seed=seed)
        except ValueError as exc:
            raise ToolkitError(f"bad option: {exc}", "see python scripts/finetune.py --help") from exc
        splits = find_splits(data, dev)
        report = finetune(config, splits["train"], splits["dev"], output,
                          progress=Progress() if quiet else TqdmProgress(), command=command)
    except ToolkitError as error:
        typer.echo(f"Error: {error.message}" + (f" — {error.hint}" if error.hint else ""), err=True)
        raise typer.Exit(1)
    loss = report.metrics["train"]["loss"]
    typer.echo(f"train: {report.run.steps} steps over {report.metrics['train']['pairs']} pairs, "
               f"loss {loss['first']:.3f} -> {loss['last']:.3f}")
    for label, scores in (("before", report.before), ("after", report.after)):
        typer.echo(f"dev {label:>6}: BLEU {scores.bleu:6.2f}  chrF {scores.chrf:6.2f}")
    typer.echo(f"  {report.after.bleu_signature}\n  {report.after.chrf_signature}")
    typer.echo(f"wrote {output} ({METRICS_FILE}, {SIGNATURE_FILE}); translate with: "
               f"bitext translate FILE --mt seq2seq:{shlex.quote(str(output))}")


if __name__ == "__main__":
    app()
