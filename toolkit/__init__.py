"""bitext: align Chinese compiled translations with their English originals.

Importing the package is cheap: heavy dependencies (numpy models, torch,
transformers, ray) are imported by the stages that need them.

Subpackages follow the data's path, lowest first: core, formats, text, align,
translate, score, review, export, train; pipeline.py orchestrates the stages,
jobs.py runs one document pair end to end, corpus/ runs many; cli.py is the
command line. A module imports only from its own layer and lower ones
(tests/test_layout.py checks it).

The Python API::

    from toolkit import AlignJob, load_models, run_alignment
    from toolkit import CorpusJob, run_corpus
"""

from toolkit.core.version import __version__

__all__ = ["__version__", "AlignJob", "AlignOptions", "JobResult", "Models", "load_models", "run_alignment",
           "CorpusJob", "EngineSettings", "run_corpus"]

_LAZY = {
    "AlignJob": "toolkit.jobs", "JobResult": "toolkit.jobs", "Models": "toolkit.jobs", "load_models": "toolkit.jobs",
    "run_alignment": "toolkit.jobs", "AlignOptions": "toolkit.pipeline",
    "CorpusJob": "toolkit.corpus.runner", "run_corpus": "toolkit.corpus.runner",
    "EngineSettings": "toolkit.corpus.engines",
}


def __getattr__(name: str):
    """The API names, imported on first use (so ``import toolkit`` stays instant)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LAZY[name]), name)
