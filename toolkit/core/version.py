"""The toolkit's version: written into every signature, read by setuptools (pyproject.toml)."""

__version__ = "0.1.0"
