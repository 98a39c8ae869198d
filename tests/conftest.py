"""Suite-wide settings: the tests never reach the network, and never load an installed model.

``XDG_CACHE_HOME`` is a temporary folder of the run's. ``BITEXT_MODELS_DIR`` points at a folder that does not exist, so registry names (``qwen1.5b``) are
unknown unless a test builds its own registry: ``bitext align`` does not score by
default, and no test runs a multi-GB model because a developer has fetched one.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Read by huggingface_hub when transformers is first imported, so set before any test runs.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ["BITEXT_MODELS_DIR"] = str(Path(__file__).resolve().parent / "no-models-here")
# Caches (embeddings, translations) go to a folder of this run's, removed at its end, never the user's.
_CACHE = tempfile.mkdtemp(prefix="bitext-tests-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
