#!/usr/bin/env bash
# scripts/doc_images.sh redraws the README's pictures from real runs: each is a standalone SVG
# (XML header, namespace, white ground) of the right chart, the confusion matrix's cells
# summing to the test set, the training curves of as many epochs as were trained.
. "$(dirname "$0")/lib.sh"
need_data
MNIST_BIN=$BIN DOC_IMAGES_EPOCHS=2 "$SRC/scripts/doc_images.sh" "$TMP/images" > "$TMP/out" || fail "doc_images.sh failed"
/usr/bin/python3 - "$TMP/images" <<'PY' || fail "the pictures are not what the README shows"
import sys, xml.etree.ElementTree as ET
d = sys.argv[1]
ns = "{http://www.w3.org/2000/svg}"
for name, svg_id in [("report-confusion", "confusion"), ("compare-recall", "class-recall"), ("curves", None)]:
    text = open(f"{d}/{name}.svg", encoding="utf-8").read()
    assert text.startswith('<?xml version="1.0"'), name
    root = ET.fromstring(text)  # well-formed, in the SVG namespace
    assert root.tag == ns + "svg", (name, root.tag)
    if svg_id:
        assert root.get("id") == svg_id, (name, root.get("id"))
        first = root[0]
        assert first.tag == ns + "rect" and first.get("fill") == "#fff", (name, first.attrib)
confusion = ET.parse(f"{d}/report-confusion.svg").getroot()
cells = [int(r.get("data-count")) for r in confusion.iter(ns + "rect") if r.get("data-count")]
assert len(cells) == 100 and sum(cells) == 10000, (len(cells), sum(cells))
recall = ET.parse(f"{d}/compare-recall.svg").getroot()
bars = [float(r.get("data-value")) for r in recall.iter(ns + "rect") if r.get("data-value")]
assert len(bars) == 20 and all(0.9 < b <= 1.0 for b in bars), bars
print("pictures ok:", len(cells), "confusion cells,", len(bars), "recall bars")
PY
grep -q "wrote $TMP/images/report-confusion.svg" "$TMP/out" || fail "no summary line: $(cat "$TMP/out")"
echo "ok"
