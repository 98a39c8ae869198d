"""Alignment: sentence embeddings, the bilingual lexicon, the dynamic-programming aligner, and the gold scorer."""
