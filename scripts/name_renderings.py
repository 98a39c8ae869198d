"""How a published edition renders given Chinese names: every English rendering, with its count.

For each term (``--terms 辛顿,奥特曼``) and each edition JSONL given, the script reads the records
whose Chinese contains the term and collects, from their English (the reviewer's translation, the
human English, else the machine translation), the Latin-script names: runs of capitalised words
(``Geoffrey Hinton``, ``Sam Altman``, ``Spike Lee``), initials and particles kept inside a run.
A term is rendered *consistently* when the name most often found in its lines is found in every
one of them (as words: "Ilya" is in "Ilya Sutskever" and "Ilya's"). Comparing two builds of one edition shows what a change did, e.g. the published
edition before and after a rebuild:

    git show HEAD~1:aligned/NAME/NAME.jsonl > /tmp/before.jsonl
    python scripts/name_renderings.py /tmp/before.jsonl aligned/NAME/NAME.jsonl --terms 辛顿,伊利亚,奥特曼,简·雷克

Output: per file and term, the number of lines with the term, each candidate name with the number
of those lines it occurs in (most frequent first), and whether the commonest is in all of them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

# A run of capitalised words, allowing inner initials ("Geoffrey E. Hinton") and name particles.
NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:[A-Z]\.|[A-Z][\w'’-]*|de|van|von|bin))*")
# Capitalised words that start sentences or are not names on their own.
NOT_NAMES = frozenset("""A An The This That These Those It Its In On At As By For From Of To And But Or If When
While After Before Since With Without He She They We I You His Her Their Our Your My Mr Mrs Ms Dr Professor
However Although Because So Then There Here What Who Why How Where Which One Two Three""".split())


def record_english(record: dict) -> str:
    return str(record.get("translation") or record.get("en") or record.get("mt") or "")


def names_in(text: str) -> set[str]:
    """The capitalised-word runs of ``text``, a leading non-name word ("The", "Professor") dropped."""
    found = set()
    for match in NAME.finditer(text):
        words = match.group(0).split()
        while words and words[0] in NOT_NAMES:
            words = words[1:]
        if words:
            found.add(" ".join(words))
    return found


def renderings(records: list[dict], term: str) -> tuple[int, Counter]:
    """How many records have ``term`` in their Chinese, and in how many of them each name occurs.

    A name counts in every line where it occurs as words, inside a longer name too: "Ilya" is in
    a line that says "Ilya Sutskever" or "Ilya's".
    """
    lines = [record_english(r) for r in records if term in (r.get("zh") or "")]
    candidates = {re.sub(r"['’]s$", "", name) for line in lines for name in names_in(line)}
    counts: Counter = Counter()
    for name in candidates:
        pattern = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
        counts[name] = sum(1 for line in lines if pattern.search(line))
    return len(lines), counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("jsonl", nargs="+", type=Path, help="edition JSONL files (NAME.jsonl)")
    parser.add_argument("--terms", required=True, help="comma-separated Chinese names")
    parser.add_argument("--top", type=int, default=8, help="candidate names shown per term")
    args = parser.parse_args(argv)
    terms = [t.strip() for t in args.terms.split(",") if t.strip()]
    for path in args.jsonl:
        try:
            records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, ValueError) as exc:
            print(f"Error: cannot read {path}: {exc}", file=sys.stderr)
            return 1
        print(path)
        for term in terms:
            count, names = renderings(records, term)
            if not count:
                print(f"  {term}: not in the Chinese")
                continue
            top = names.most_common(args.top)
            consistent = bool(top) and top[0][1] == count
            shown = ", ".join(f"{name} ×{n}" for name, n in top) or "no Latin name"
            print(f"  {term}: {count} lines; {shown}; {'consistent' if consistent else 'NOT consistent'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
