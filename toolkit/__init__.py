"""bitext: align Chinese compiled translations with their English originals.

Importing the package is cheap: heavy dependencies (numpy models, torch,
transformers) are imported by the stages that need them.
"""

__version__ = "0.1.0"
