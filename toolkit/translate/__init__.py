"""Machine translation: the translator backends, the checks on their outputs, and the persistent cache."""
