"""Files in and out: reading input text, and the .align / JSONL / TMX / signature files of a result folder."""
