"""bitext: align Chinese compiled translations with their English originals.

Importing the package is cheap: heavy dependencies (numpy models, torch,
transformers) are imported by the stages that need them.

Subpackages follow the data's path, lowest first: core, formats, text, align,
translate, score, review, export, train; pipeline.py orchestrates, cli.py is the
command line. A module imports only from its own subpackage and lower ones
(tests/test_layout.py checks it).
"""

from toolkit.core.version import __version__

__all__ = ["__version__"]
