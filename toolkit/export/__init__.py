"""Exports of an aligned result folder: training JSONL, TSV, TMX, and the bilingual editions (HTML, Markdown)."""
