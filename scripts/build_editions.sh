#!/usr/bin/env bash
# Build the published bilingual editions in aligned/ from the seed documents in ../shared.
#
#   bash scripts/build_editions.sh [MT_MODEL]      (default qwen1.5b; install it first with
#                                                   python scripts/fetch_models.py qwen1.5b)
#
# 004 (Karpathy at Sequoia AI Ascent 2024) is aligned with its English ASR transcript and its
# unmatched Chinese segments are machine-translated; the seeds whose English original is not
# available here (000: Sam Altman and Garry Tan; 001-003: Chinese articles) are machine-translated
# in full, marked as MT, ready to be re-aligned once an original is supplied. Only the outputs
# are kept: .tmx, .jsonl, .html edition, signature, and 004's sentence-BLEU report (no inputs, no model).
#
# A translator's review is part of the edition: if aligned/NAME/NAME.review.journal exists (made
# with `bitext review`), it is replayed on the fresh alignment and the edition shows the reviewed
# result. The journal is refused if the alignment it was made on has changed.
#
# It aligns and translates into a temporary folder and copies the edition files into aligned/NAME,
# so the protection of reviewed and published folders (bitext align refuses them without --force)
# does not stand in its way, and a failed build leaves the published editions as they were.
set -euo pipefail
cd "$(dirname "$0")/.."
MT="${1:-qwen1.5b}"
SHARED="$(cd .. && pwd)/shared"
SEEDS="$SHARED/corpus/seeds"
if [ ! -d "$SEEDS" ]; then
    echo "skipped: seed documents not found at $SEEDS" >&2
    exit 0
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

publish() {  # publish NAME: replay its review, keep the edition files of $WORK/NAME in aligned/NAME
    local name="$1" file
    if [ -f "aligned/$name/$name.review.journal" ]; then
        cp "aligned/$name/$name.review.journal" "$WORK/$name/"
        bitext review "$WORK/$name" --export
        # The review changed some pairs: score them again (the rest come from the translation cache).
        if [ -f "$WORK/$name/$name.score.json" ]; then bitext score "$WORK/$name" --mt "$MT" -q; fi
    fi
    bitext export "$WORK/$name" --to html -o "$WORK/$name/$name.html" -q
    mkdir -p "aligned/$name"
    for file in tmx jsonl html signature.json score.json; do
        if [ -f "$WORK/$name/$name.$file" ]; then cp "$WORK/$name/$name.$file" "aligned/$name/"; fi
    done
}

bitext align "$SEEDS/004_fadffe5ef7c73b46.txt" "$SHARED/corpus/en/karpathy_sequoia_ai_ascent_2024.en.txt" \
    --en-comment '#' --mt "$MT" -o "$WORK/004_fadffe5ef7c73b46" -q
publish 004_fadffe5ef7c73b46

for seed in "$SEEDS"/00[0-3]_*.txt; do
    name="$(basename "$seed" .txt)"
    bitext translate "$seed" --mt "$MT" -o "$WORK/$name" -q
    publish "$name"
done
echo "editions written to aligned/" >&2
