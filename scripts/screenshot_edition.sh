#!/usr/bin/env bash
# Screenshot a bilingual edition in headless Chromium (kept with the benchmark output, git-ignored).
#
#   bash scripts/screenshot_edition.sh [EDITION.html] [OUT.png] [WIDTHxHEIGHT]
#
# Defaults: the Karpathy edition in aligned/004_*, bench_out/edition_004.png, 1400x2400.
# Needs Debian's chromium (and fonts-noto-cjk for the Chinese).
set -euo pipefail
cd "$(dirname "$0")/.."
PAGE="${1:-$(ls aligned/004_*/004_*.html | head -n 1)}"
OUT="${2:-bench_out/edition_004.png}"
SIZE="${3:-1400x2400}"
if ! command -v chromium >/dev/null 2>&1; then
    echo "Error: chromium is not installed — apt-get install chromium fonts-noto-cjk" >&2
    exit 1
fi
if [ ! -f "$PAGE" ]; then
    echo "Error: no edition at $PAGE — build it with bash scripts/build_editions.sh" >&2
    exit 1
fi
mkdir -p "$(dirname "$OUT")"
chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --hide-scrollbars \
    --window-size="${SIZE/x/,}" --screenshot="$(realpath -m "$OUT")" "file://$(realpath "$PAGE")" 2>/dev/null
echo "wrote $OUT ($SIZE) from $PAGE" >&2
