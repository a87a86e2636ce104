#!/usr/bin/env python3
"""Checks what `mnist eval --report/--confusion`, `mnist compare --report` and `mnist train
--log/--plot` write, reading the files back with nothing but Python's standard library (the
HTML parser, xml.etree, zlib, json). Each check prints one line and exits 0, or prints
FAIL: ... and exits 1. Run by tests/e2e/test_eval_report.sh, test_compare.sh, test_train_log.sh.

  report_check.py eval-report REPORT.html IMAGES LABELS PREDICTIONS CORRECT TOTAL
  report_check.py confusion EVAL_OUTPUT CORRECT TOTAL [REPORT.html]
  report_check.py compare-report REPORT.html IMAGES LABELS CORRECT_A CORRECT_B DISAGREE TOTAL MAX_IMAGES
  report_check.py train-log LOG.jsonl EPOCHS STEPS_PER_EPOCH LOG_EVERY RUNS
  report_check.py curves CURVES.svg POINTS
"""
import base64
import html.parser
import json
import re
import struct
import sys
import xml.etree.ElementTree as ET
import zlib


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


class Elements(html.parser.HTMLParser):
    """Every start tag as (tag, attrs, text up to the next tag), and the element ids it sits in."""

    def __init__(self):
        super().__init__()
        self.elements = []
        self.stack = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append({"tag": tag, "attrs": a, "text": "", "inside": [s for s in self.stack if s]})
        if tag not in ("img", "br", "meta", "line", "rect", "circle", "polyline"):
            self.stack.append(a.get("id", ""))

    def handle_endtag(self, tag):
        if tag not in ("img", "br", "meta", "line", "rect", "circle", "polyline") and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if self.elements:
            self.elements[-1]["text"] += data

    def find(self, tag=None, cls=None, inside=None, **attrs):
        out = []
        for e in self.elements:
            if tag and e["tag"] != tag:
                continue
            if cls and cls not in e["attrs"].get("class", "").split():
                continue
            if inside and inside not in e["inside"]:
                continue
            if any(e["attrs"].get(k.replace("_", "-")) != v for k, v in attrs.items()):
                continue
            out.append(e)
        return out


def parse_html(path):
    text = open(path, encoding="utf-8").read()
    expect(text.startswith("<!DOCTYPE html>"), f"{path} is not an HTML page")
    # Self-contained: nothing to load from anywhere, no scripts.
    expect(not re.search(r"https?://", text), f"{path} refers to http(s):// URLs")
    expect("<script" not in text.lower(), f"{path} has a script")
    p = Elements()
    p.feed(text)
    for e in p.elements:
        for key in ("src", "href"):
            if key in e["attrs"]:
                expect(e["attrs"][key].startswith("data:"), f"{path}: {e['tag']} {key} is not a data: URL")
    return p


def idx(path, magic):
    data = open(path, "rb").read()
    (m,) = struct.unpack(">I", data[:4])
    expect(m == magic, f"{path}: magic {m:#x}")
    if magic == 0x803:
        n, rows, cols = struct.unpack(">III", data[4:16])
        return data[16:], rows, cols
    return data[8:], 0, 0


def png_pixels(url):
    """The pixels of an 8-bit grayscale PNG data: URL, every chunk's CRC checked."""
    expect(url.startswith("data:image/png;base64,"), "an image is not a PNG data: URL")
    png = base64.b64decode(url.split(",", 1)[1])
    expect(png[:8] == b"\x89PNG\r\n\x1a\n", "bad PNG signature")
    pos, chunks = 8, {}
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind, body = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])
        expect(crc == zlib.crc32(kind + body), f"bad CRC in the PNG's {kind} chunk")
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    w, h, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    expect(depth == 8 and color == 0, "not an 8-bit grayscale PNG")
    raw = zlib.decompress(chunks[b"IDAT"])
    expect(len(raw) == h * (w + 1), "PNG data of the wrong size")
    rows = [raw[r * (w + 1):(r + 1) * (w + 1)] for r in range(h)]
    expect(all(row[0] == 0 for row in rows), "PNG rows with a filter")
    return w, h, b"".join(row[1:] for row in rows)


def check_digit(fig_img, images, rows, cols, index):
    w, h, px = png_pixels(fig_img["attrs"]["src"])
    expect((w, h) == (cols, rows), f"digit {index} drawn {w}x{h}")
    expected = bytes(255 - b for b in images[index * rows * cols:(index + 1) * rows * cols])
    expect(px == expected, f"the picture of image {index} is not its pixels (inverted)")


def matrix_of(p):
    cells = p.find("rect", cls="cell", inside="confusion")
    expect(len(cells) == 100, f"{len(cells)} confusion cells, expected 100")
    m = [[0] * 10 for _ in range(10)]
    for c in cells:
        a = c["attrs"]
        m[int(a["data-true"])][int(a["data-predicted"])] = int(a["data-count"])
    return m


def eval_report(path, images_path, labels_path, predictions_path, correct, total):
    correct, total = int(correct), int(total)
    p = parse_html(path)
    images, rows, cols = idx(images_path, 0x803)
    labels, _, _ = idx(labels_path, 0x801)
    preds = [int(x) for x in open(predictions_path).read().split()]
    expect(len(preds) == total, "predictions file has the wrong length")

    m = matrix_of(p)
    expect(sum(map(sum, m)) == total, f"confusion cells sum to {sum(map(sum, m))}, not {total}")
    expect(sum(m[i][i] for i in range(10)) == correct, "the diagonal is not the number eval got right")
    for t in range(10):
        for q in range(10):
            n = sum(1 for i in range(total) if labels[i] == t and preds[i] == q)
            expect(m[t][q] == n, f"cell ({t}, {q}) is {m[t][q]}, the predictions give {n}")

    rows_ = p.find("tr", cls="class", inside="classes")
    expect(len(rows_) == 10, f"{len(rows_)} per-class rows")
    cells = [e for e in p.find("td", inside="classes")]
    values = [float(e["text"]) for e in cells]
    expect(len(values) == 50, "per-class table is not 10 rows of 5 cells")
    for c in range(10):
        cls, support, precision, recall, f1 = values[5 * c:5 * c + 5]
        row, col = sum(m[c]), sum(m[k][c] for k in range(10))
        expect(int(cls) == c and int(support) == row, f"class {c}: support {support}, the matrix says {row}")
        expect(abs(recall - m[c][c] / row) < 6e-5, f"class {c}: recall {recall}")
        expect(abs(precision - m[c][c] / col) < 6e-5, f"class {c}: precision {precision}")
        expect(abs(f1 - 2 * precision * recall / (precision + recall)) < 2e-4, f"class {c}: F1 {f1}")

    ece_el = p.find("span", cls="value", inside="ece")
    expect(len(ece_el) == 1, "no ECE value")
    ece = float(ece_el[0]["text"])
    expect(0.0 <= ece <= 1.0, f"ECE {ece} is not in [0, 1]")
    bins = p.find("rect", cls="bin", inside="reliability")
    counts = [int(b["attrs"]["data-count"]) for b in bins]
    expect(sum(counts) == total, "reliability bins do not hold every image")
    mine = sum(int(b["attrs"]["data-count"]) / total *
               abs(float(b["attrs"]["data-accuracy"]) - float(b["attrs"]["data-confidence"])) for b in bins)
    expect(abs(mine - ece) < 1e-4, f"ECE {ece}, the bins give {mine:.5f}")
    right = sum(round(int(b["attrs"]["data-count"]) * float(b["attrs"]["data-accuracy"])) for b in bins)
    expect(right == correct, "the bins' accuracies do not add up to the correct count")

    figs = p.find("figure", cls="mistake", inside="mistakes")
    expect(len(figs) == 25, f"{len(figs)} mistakes shown, expected 25")
    probs = [float(f["attrs"]["data-probability"]) for f in figs]
    expect(probs == sorted(probs, reverse=True), "mistakes are not the most confident first")
    wrong_total = total - correct
    for f, prob in zip(figs, probs):
        i = int(f["attrs"]["data-index"])
        expect(int(f["attrs"]["data-label"]) == labels[i], f"mistake {i}: wrong label")
        expect(int(f["attrs"]["data-predicted"]) == preds[i] != labels[i], f"mistake {i} is not a mistake")
        expect(0.0 < prob <= 1.0, f"mistake {i}: probability {prob} out of range")
    imgs = p.find("img", inside="mistakes")
    expect(len(imgs) == 25, "not one picture per mistake")
    for f, im in zip(figs, imgs):
        check_digit(im, images, rows, cols, int(f["attrs"]["data-index"]))
    for key in ("model file", "architecture", "images file", "threads", "images", "evaluation time", "load time"):
        expect(any(e["text"] == key for e in p.find("th", inside="settings")), f"settings lack '{key}'")
    print(f"eval report: {total} images, {correct} right, ECE {ece}, 25 of {wrong_total} mistakes, "
          f"{len(open(path, 'rb').read())} bytes")


def confusion(out_path, correct, total, report=None):
    lines = open(out_path).read().splitlines()
    start = [i for i, l in enumerate(lines) if l.startswith("confusion matrix (rows: true label, columns: predicted)")]
    expect(len(start) == 1, "no confusion matrix header")
    head = lines[start[0] + 1].split()
    expect(head == ["true\\pred"] + [str(c) for c in range(10)], f"bad column header: {lines[start[0] + 1]}")
    m = []
    for t in range(10):
        cells = lines[start[0] + 2 + t].split()
        expect(len(cells) == 11 and cells[0] == str(t), f"bad row {t}: {lines[start[0] + 2 + t]}")
        m.append([int(x) for x in cells[1:]])
    expect(sum(map(sum, m)) == int(total), "the printed matrix does not sum to the image count")
    expect(sum(m[i][i] for i in range(10)) == int(correct), "the printed diagonal is not the correct count")
    if report:
        expect(m == matrix_of(parse_html(report)), "the printed matrix differs from the report's")
    print(f"confusion: 10x10, sum {total}, diagonal {correct}")


def compare_report(path, images_path, labels_path, correct_a, correct_b, disagree, total, max_images):
    correct_a, correct_b, disagree, total, max_images = map(int, (correct_a, correct_b, disagree, total, max_images))
    p = parse_html(path)
    images, rows, cols = idx(images_path, 0x803)
    labels, _, _ = idx(labels_path, 0x801)
    cell = {e["attrs"]["data-cell"]: int(e["text"]) for e in p.find("td", inside="pairs") if "data-cell" in e["attrs"]}
    expect(set(cell) == {"both", "only_a", "only_b", "neither"}, f"McNemar table cells: {sorted(cell)}")
    expect(sum(cell.values()) == total, "the McNemar table does not sum to the image count")
    expect(cell["both"] + cell["only_a"] == correct_a and cell["both"] + cell["only_b"] == correct_b,
           "the McNemar table does not give the accuracies")
    d = p.find("p", id="disagree")
    expect(len(d) == 1 and int(d[0]["attrs"]["data-count"]) == disagree, "disagreement count differs")
    figs = p.find("figure", cls="disagreement", inside="disagreements")
    expect(len(figs) == min(disagree, max_images), f"{len(figs)} disagreements drawn, expected {min(disagree, max_images)}")
    imgs = p.find("img", inside="disagreements")
    for f, im in zip(figs, imgs):
        a = f["attrs"]
        i = int(a["data-index"])
        expect(a["data-a"] != a["data-b"], f"image {i} is drawn but the models agree on it")
        expect(int(a["data-label"]) == labels[i], f"image {i}: wrong label")
        check_digit(im, images, rows, cols, i)
    bars = p.find("rect", inside="class-recall")
    expect(len([b for b in bars if "data-value" in b["attrs"]]) == 20, "recall chart lacks bars")
    print(f"compare report: table {cell}, {len(figs)} of {disagree} disagreements drawn")


def train_log(path, epochs, steps_per_epoch, log_every, runs):
    epochs, steps_per_epoch, log_every, runs = map(int, (epochs, steps_per_epoch, log_every, runs))
    lines = [json.loads(l) for l in open(path)]  # every line must parse
    kinds = [l["kind"] for l in lines]
    expect(set(kinds) <= {"run", "epoch", "step"}, f"unknown kinds {set(kinds)}")
    expect(kinds.count("run") == runs, f"{kinds.count('run')} run lines, expected {runs}")
    ep = [l for l in lines if l["kind"] == "epoch"]
    expect([l["epoch"] for l in ep] == list(range(1, epochs + 1)), f"epoch lines {[l['epoch'] for l in ep]}")
    for l in ep:
        for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "images_per_s", "seconds"):
            expect(isinstance(l.get(key), (int, float)), f"epoch {l['epoch']}: {key} is {l.get(key)!r}")
        expect(0 <= l["train_accuracy"] <= 1 and 0 <= l["val_accuracy"] <= 1, "accuracy out of [0, 1]")
        expect(l["step"] == l["epoch"] * steps_per_epoch, f"epoch {l['epoch']} ends at step {l['step']}")
    st = [l for l in lines if l["kind"] == "step"]
    total_steps = epochs * steps_per_epoch
    expect([l["step"] for l in st] == list(range(log_every, total_steps + 1, log_every)),
           f"step lines at {[l['step'] for l in st]}, expected every {log_every} of {total_steps}")
    for l in st:
        for key in ("epoch", "loss", "accuracy", "lr", "images_per_s"):
            expect(isinstance(l.get(key), (int, float)), f"step {l['step']}: {key} is {l.get(key)!r}")
        expect(l["epoch"] == (l["step"] - 1) // steps_per_epoch + 1, f"step {l['step']} in epoch {l['epoch']}")
    steps = [l["step"] for l in lines]
    expect(steps == sorted(steps), "lines out of order")
    print(f"train log: {len(lines)} lines: {runs} run, {len(ep)} epoch, {len(st)} step")


def curves(path, points):
    points = int(points)
    root = ET.parse(path).getroot()  # valid XML or an exception
    ns = "{http://www.w3.org/2000/svg}"
    expect(root.tag == ns + "svg", f"root element {root.tag}")
    lines = root.iter(ns + "polyline")
    by_kind = {}
    for pl in lines:
        n = len(pl.get("points").split())
        expect(int(pl.get("data-points")) == n, "data-points differs from the points drawn")
        by_kind.setdefault(pl.get("class"), []).append(n)
    expect(by_kind.get("train") == [points, points] and by_kind.get("validation") == [points, points],
           f"polylines {by_kind}, expected train and validation with {points} points in each of 2 panels")
    texts = [t.text for t in root.iter(ns + "text")]
    for word in ("loss", "accuracy", "epoch", "train", "validation"):
        expect(word in texts, f"no '{word}' label")
    print(f"curves: 2 panels, train and validation, {points} points each")


if __name__ == "__main__":
    checks = {"eval-report": eval_report, "confusion": confusion, "compare-report": compare_report,
              "train-log": train_log, "curves": curves}
    if len(sys.argv) < 2 or sys.argv[1] not in checks:
        fail(__doc__)
    checks[sys.argv[1]](*sys.argv[2:])
