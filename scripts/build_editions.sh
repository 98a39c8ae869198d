#!/usr/bin/env bash
# Build the published bilingual editions in aligned/ from the seed documents in ../shared.
#
#   bash scripts/build_editions.sh [MT_MODEL [SEED ...]]   (default qwen1.5b, every seed; install
#                                     the model first with python scripts/fetch_models.py qwen1.5b;
#                                     SEED: the number of a seed to rebuild, e.g. 000 004;
#                                     SCORE=no in the environment skips the sentence-BLEU report)
#   bash scripts/build_editions.sh --export-only [SEED ...]
#                                    (no alignment, no machine translation: the editions -- HTML,
#                                     EPUB, DOCX -- are exported again from the published JSONL and
#                                     signature in aligned/NAME, e.g. after a change of the edition's
#                                     layout or of the credits below)
#
# 004 (Karpathy at Sequoia AI Ascent 2024) and 000 (Sam Altman and Garry Tan at YC, traditional
# script) are aligned with their English ASR transcripts and their unmatched Chinese segments are
# machine-translated; the seeds whose English original is not available (001-003: Chinese
# articles) are machine-translated in full, marked as MT. Only the outputs are kept: .tmx, .jsonl,
# the .html, .epub and .docx editions, signature, sentence-BLEU report and review journal (no
# inputs, no model).
#
# A translator's review is part of the edition: if aligned/NAME/NAME.review.journal exists (made
# with `bitext review`), it is carried over to the fresh alignment (`bitext review --rebase`): its
# changes are redone where the new alignment has the same beads, and the rest are listed; the
# published journal is the carried-over one, made on the alignment it is published with.
#
# It aligns and translates into a temporary folder and copies the edition files into aligned/NAME,
# so the protection of reviewed and published folders (bitext align refuses them without --force)
# does not stand in its way, and a failed build leaves the published editions as they were.
set -euo pipefail
cd "$(dirname "$0")/.."
EXPORT_ONLY=no
if [ "${1:-}" = --export-only ]; then EXPORT_ONLY=yes; shift; MT=none; else MT="${1:-qwen1.5b}"; shift || true; fi
ONLY="$*"
wanted() {  # wanted NAME: is this seed among those asked for (all when none were named)?
    [ -z "$ONLY" ] && return 0
    local seed
    for seed in $ONLY; do [ "${1%%_*}" = "$seed" ] && return 0; done
    return 1
}
# The front matter of each edition: what the seed itself does not say (the title comes from the
# document: its "原文标题" line, else its first line, else its first heading), taken from the
# sources' own bylines and the transcripts' headers. 002's first line is a section label ("背景"):
# its title is its first section heading.
credits() {  # credits NAME: the bitext export options of that edition, one per line
    case "$1" in
        004_*) printf '%s\n' --subtitle "Andrej Karpathy in conversation with Stephanie Zhan, Sequoia Capital AI Ascent 2024" \
                   --author "Andrej Karpathy, Stephanie Zhan" --translator "Chinese compilation: not credited in the source" \
                   --source-url "https://www.youtube.com/watch?v=c3b-JASoPi0" --date 2024-03 ;;
        000_*) printf '%s\n' --subtitle "How To Build The Future: Sam Altman (Y Combinator)" \
                   --author "Sam Altman, Garry Tan" --translator "智東西 (compiled by 依婷, edited by Panken)" \
                   --source-url "https://www.youtube.com/watch?v=xXCBz_8hM9w" --date 2024-11-08 ;;
        001_*) printf '%s\n' --subtitle "第一财经" --author "饭统戴老板" --date 2024-05-28 ;;
        002_*) printf '%s\n' --title "ChatGPT无法被复制" --date 2023-02-19 ;;
        *) ;;
    esac
}

export_editions() {  # export_editions FOLDER NAME: the HTML, EPUB and DOCX editions of FOLDER/NAME.jsonl into FOLDER
    local folder="$1" name="$2" fmt options=()
    mapfile -t options < <(credits "$name")
    for fmt in html epub docx; do
        bitext export "$folder" --to "$fmt" -o "$folder/$name.$fmt" "${options[@]}" -q
    done
}

SHARED="$(cd .. && pwd)/shared"
SEEDS="$SHARED/corpus/seeds"
if [ "$EXPORT_ONLY" = yes ]; then
    WORK="$(mktemp -d)"
    trap 'rm -rf "$WORK"' EXIT
    for folder in aligned/*/; do
        name="$(basename "$folder")"
        wanted "$name" || continue
        # Into a copy, then moved in: a failed export leaves the published editions as they were.
        mkdir -p "$WORK/$name"
        cp "$folder/$name.jsonl" "$folder/$name.signature.json" "$WORK/$name/"
        export_editions "$WORK/$name" "$name"
        for file in html epub docx; do cp "$WORK/$name/$name.$file" "$folder/"; done
    done
    echo "editions exported again in aligned/" >&2
    exit 0
fi
if [ ! -d "$SEEDS" ]; then
    echo "skipped: seed documents not found at $SEEDS" >&2
    exit 0
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

publish() {  # publish NAME: carry its review over, keep the edition files of $WORK/NAME in aligned/NAME
    local name="$1" file
    if [ -f "aligned/$name/$name.review.journal" ]; then
        bitext review "$WORK/$name" --rebase "aligned/$name/$name.review.journal"
        # The review changed some pairs: score them again (the rest come from the translation cache).
        if [ -f "$WORK/$name/$name.score.json" ]; then bitext score "$WORK/$name" --mt "$MT" -q; fi
    fi
    export_editions "$WORK/$name" "$name"
    mkdir -p "aligned/$name"
    for file in tmx jsonl html epub docx signature.json score.json review.journal; do
        if [ -f "$WORK/$name/$name.$file" ]; then cp "$WORK/$name/$name.$file" "aligned/$name/"; fi
    done
}

align_seed() {  # align_seed SEED TRANSCRIPT: align a seed with its English original, MT of the gaps
    local name
    name="$(basename "$1" .txt)"
    wanted "$name" || return 0
    local score=--score
    [ "${SCORE:-yes}" = no ] && score=--no-score
    bitext align "$SEEDS/$1" "$SHARED/corpus/en/$2" --en-comment '#' --mt "$MT" "$score" -o "$WORK/$name" -q
    publish "$name"
}

align_seed 004_fadffe5ef7c73b46.txt karpathy_sequoia_ai_ascent_2024.en.txt
align_seed 000_9336bfe103d01715.txt altman_yc_how_to_build_the_future_2024.en.txt

for seed in "$SEEDS"/00[1-3]_*.txt; do
    name="$(basename "$seed" .txt)"
    wanted "$name" || continue
    bitext translate "$seed" --mt "$MT" -o "$WORK/$name" -q
    publish "$name"
done
echo "editions written to aligned/" >&2
