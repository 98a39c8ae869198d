"""Suite-wide settings: the tests never reach the network."""

import os

# Read by huggingface_hub when transformers is first imported, so set before any test runs.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
