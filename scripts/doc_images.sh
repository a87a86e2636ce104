#!/usr/bin/env bash
# Redraws the README's pictures (docs/images/) from real runs of the built CLI on MNIST:
#   report-confusion.svg  the confusion matrix of `mnist eval --report` for the shipped CNN
#   compare-recall.svg    recall per class of `mnist compare --report`, CNN against FC
#   curves.svg            `mnist train mnist-fc --epochs 15 --plot` (about 15 s on 2 cores)
# The two from reports are cut out of their pages as they are, with the XML header and
# namespace that a file of its own needs and a white ground. Needs scripts/build.sh and scripts/fetch_data.sh first.
#   scripts/doc_images.sh [OUT_DIR]     (default docs/images)
#   DOC_IMAGES_EPOCHS=N                  train N epochs instead of 15 (tests/e2e/test_doc_images.sh)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MNIST=${MNIST_BIN:-$ROOT/build/mnist}
DATA=$ROOT/data/mnist
OUT=${1:-$ROOT/docs/images}
[ -x "$MNIST" ] || { echo "error: no $MNIST: run scripts/build.sh first" >&2; exit 1; }
[ -f "$DATA/t10k-images-idx3-ubyte" ] || { echo "error: no MNIST in $DATA: run scripts/fetch_data.sh first" >&2; exit 1; }
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TEST=("$DATA/t10k-images-idx3-ubyte" "$DATA/t10k-labels-idx1-ubyte")

# The <svg> element with this id in the page, as a file of its own.
cut_svg() {  # page id out
    /usr/bin/python3 - "$@" <<'EOF'
import re, sys
page, svg_id, out = sys.argv[1:]
html = open(page, encoding="utf-8").read()
m = re.search(r'<svg [^>]*\bid="%s"[^>]*>.*?</svg>' % re.escape(svg_id), html, re.S)
if not m:
    sys.exit(f"error: no <svg id=\"{svg_id}\"> in {page}")
svg = m.group(0).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
# A white ground, as the page has: the picture stays readable on a dark background.
head_end = svg.index(">") + 1
svg = svg[:head_end] + '\n<rect width="100%" height="100%" fill="#fff"/>' + svg[head_end:]
with open(out + ".tmp", "w", encoding="utf-8") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n")
import os
os.replace(out + ".tmp", out)
EOF
}

"$MNIST" eval "$ROOT/models/mnist-cnn-f32.gguf" "${TEST[@]}" --report "$WORK/report.html" > /dev/null
cut_svg "$WORK/report.html" confusion "$OUT/report-confusion.svg"
"$MNIST" compare "$ROOT/models/mnist-cnn-f32.gguf" "$ROOT/models/mnist-fc-f32.gguf" "${TEST[@]}" \
    --report "$WORK/compare.html" > /dev/null
cut_svg "$WORK/compare.html" class-recall "$OUT/compare-recall.svg"
(cd "$WORK" && "$MNIST" train mnist-fc fc.gguf --epochs "${DOC_IMAGES_EPOCHS:-15}" --data "$DATA" --log fc.jsonl --log-every 100 \
    --plot "$OUT/curves.svg" > /dev/null)
echo "wrote $OUT/report-confusion.svg, $OUT/compare-recall.svg, $OUT/curves.svg"
