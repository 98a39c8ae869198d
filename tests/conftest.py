"""Suite-wide settings: the tests never reach the network, and never load an installed model.

``BITEXT_MODELS_DIR`` points at a folder that does not exist, so registry names (``qwen1.5b``) are
unknown unless a test builds its own registry: ``bitext align`` does not score by
default, and no test runs a multi-GB model because a developer has fetched one.
"""

import os
from pathlib import Path

# Read by huggingface_hub when transformers is first imported, so set before any test runs.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ["BITEXT_MODELS_DIR"] = str(Path(__file__).resolve().parent / "no-models-here")
