"""BLEU, chrF and TER of machine translations against the human text, through sacrebleu."""
