#!/usr/bin/env bash
# `mnist predict` on image files our test tool draws from MNIST test digits: every format, both
# polarities, a huge and a tiny image, numbers; broken files reported one per line while the
# others still run (exit 1); --json, --show, --number, standard input, usage errors.
. "$(dirname "$0")/lib.sh"
need_data
BUILD=${MNIST_BUILD_DIR:?set MNIST_BUILD_DIR}
IMG=$TMP/images
mkdir -p "$IMG"
"$BUILD/tests/make_test_images" "$DATA" "$IMG"

# Every readable single digit, in one call: each line names its file and the right digit.
files=()
while read -r f want; do
  [[ $f == number-* ]] && continue
  files+=("$IMG/$f")
done < "$IMG/manifest.txt"
"$BIN" predict "${files[@]}" > "$TMP/out"
while read -r f want; do
  [[ $f == number-* ]] && continue
  line=$(grep -F "$IMG/$f: " "$TMP/out") || fail "no line for $f: $(cat "$TMP/out")"
  got=$(sed -n 's/^[^:]*: \([0-9]\) (p = .*/\1/p' <<< "$line")
  [ "$got" = "$want" ] || fail "$f: read $got, expected $want: $line"
  grep -q "top 3: " <<< "$line" || fail "no top 3: $line"
done < "$IMG/manifest.txt"
echo "read ${#files[@]} digits in PNG, JPEG, GIF, BMP, PGM, PPM right"

# The tiny image (14x14) is read without complaint.
"$BIN" predict "$IMG/tiny-8.png" | grep -q '^.*tiny-8.png: [0-9] (p = ' || fail "tiny image"

# Broken files: one error line each, the good file still read, exit 1.
rc=0
"$BIN" predict "$IMG/truncated.png" "$IMG/mnist-0.png" "$IMG/not-an-image.png" "$IMG/hostile-size.png" \
  "$TMP/missing.png" > "$TMP/out" 2> "$TMP/err" || rc=$?
[ "$rc" = 1 ] || fail "exit $rc with broken files, expected 1"
grep -q "mnist-0.png: 7 (p = " "$TMP/out" || fail "the good file was not read: $(cat "$TMP/out")"
[ "$(wc -l < "$TMP/err")" = 4 ] || fail "expected 4 error lines: $(cat "$TMP/err")"
grep -q "^error: $IMG/truncated.png: cannot decode the png image" "$TMP/err" || fail "truncated: $(cat "$TMP/err")"
grep -q "^error: $IMG/not-an-image.png: not an image: expected PNG, JPEG" "$TMP/err" || fail "text: $(cat "$TMP/err")"
grep -q "^error: $IMG/hostile-size.png: image of 100000x100000 pixels is over the limit" "$TMP/err" ||
  fail "hostile size: $(cat "$TMP/err")"
grep -q "^error: $TMP/missing.png: cannot open" "$TMP/err" || fail "missing: $(cat "$TMP/err")"

# A PGM header without digits, which stb_image reads as a 0x0 image (found by fuzz_image).
printf 'P5\n\xff\xff\n255\n' > "$TMP/no-size.pgm"
expect_error 1 "$TMP/no-size.pgm: the pgm header gives a 0x0 image with 1 channels" "$BIN" predict "$TMP/no-size.pgm"

# Sizes stb_image would trust (found by the fuzzers): a PNG chunk claiming 1 GB in a small file,
# a JPEG Huffman table of more than 256 codes.
/usr/bin/python3 - "$IMG/mnist-0.png" "$IMG/photo-3.jpg" "$TMP" <<'PY'
import sys
png, jpg, tmp = sys.argv[1:]
d = bytearray(open(png, "rb").read())
i = d.index(b"IDAT") - 4
d[i:i + 4] = (1 << 30).to_bytes(4, "big")
open(f"{tmp}/huge-chunk.png", "wb").write(d)
d = bytearray(open(jpg, "rb").read())
i = d.index(b"\xff\xc4")
d[i + 5 + 14] = d[i + 5 + 15] = 255  # the counts of 15- and 16-bit codes
open(f"{tmp}/many-codes.jpg", "wb").write(d)
PY
expect_error 1 "huge-chunk.png: cannot decode the png image: a chunk of 1073741824 bytes runs past the end" \
  "$BIN" predict "$TMP/huge-chunk.png"
expect_error 1 "many-codes.jpg: cannot decode the jpeg image: a Huffman table of .* codes (at most 256)" \
  "$BIN" predict "$TMP/many-codes.jpg"

# A PGM width of 10 digits, which would overflow stb_image's int.
printf 'P5\n# a comment\n8888888888 28\n255\n' > "$TMP/long-width.pgm"
expect_error 1 "long-width.pgm: cannot read the pgm header: its width has 10 digits" "$BIN" predict "$TMP/long-width.pgm"

# Uncompressed files cut short: their pixels must be in the file (stb_image would make up zeros).
head -c 2000 "$IMG/screen-4.bmp" > "$TMP/short.bmp"
expect_error 1 "short.bmp: cannot decode the bmp image: its header gives .* bytes of pixels, the file holds" \
  "$BIN" predict "$TMP/short.bmp"
head -c 100 "$IMG/gray-6.pgm" > "$TMP/short.pgm"
expect_error 1 "short.pgm: cannot decode the pgm image: its header gives .* bytes of pixels, the file holds" \
  "$BIN" predict "$TMP/short.pgm"

# A file over the 256 MB an image file may have (sparse: no disk used) is refused unread.
truncate -s 300M "$TMP/big.png"
expect_error 1 "$TMP/big.png: file is over the limit of 256 MB" "$BIN" predict "$TMP/big.png"

# Standard input, and --show: the 28x28 the model saw, 28 rows of ASCII art.
"$BIN" predict --show - < "$IMG/photo-3.jpg" > "$TMP/out"
head -1 "$TMP/out" | grep -q "^-: $(grep '^photo-3.jpg ' "$IMG/manifest.txt" | cut -d' ' -f2) (p = " || fail "stdin: $(head -1 "$TMP/out")"
[ "$(grep -c '^[_*] ' "$TMP/out")" = 28 ] || fail "--show should print 28 rows"

# --json: one object per line with the fields the README names; probabilities sum to 1.
"$BIN" predict --json "$IMG/mnist-0.png" "$IMG/scan-5.gif" > "$TMP/out"
/usr/bin/python3 - "$TMP/out" <<'PY' || fail "--json output: $(cat "$TMP/out")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 2, lines
for line, digit in zip(lines, (7, 1)):
    o = json.loads(line)
    assert set(o) >= {"file", "digit", "probabilities", "time_us"}, o.keys()
    assert o["digit"] == digit, o
    assert len(o["probabilities"]) == 10 and abs(sum(o["probabilities"]) - 1) < 1e-4
PY

# Numbers: each printed with every digit's probability; at least 4 of the 5 read exactly.
right=0
while read -r f want; do
  [[ $f == number-* ]] || continue
  got=$("$BIN" predict --number "$IMG/$f" | sed -n 's/^[^:]*: \([0-9]*\) (digits: .*/\1/p')
  [ "$got" = "$want" ] && right=$((right + 1))
  echo "$f: read '$got', written '$want'"
done < "$IMG/manifest.txt"
[ "$right" -ge 4 ] || fail "only $right of 5 numbers read exactly"
"$BIN" predict --number --json "$IMG/number-0.png" > "$TMP/out"
/usr/bin/python3 -c '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert set(o) >= {"file", "number", "digits", "time_us"}, o
assert len(o["digits"]) == len(o["number"]) and all(len(d["probabilities"]) == 10 for d in o["digits"])
' "$TMP/out" || fail "--number --json: $(cat "$TMP/out")"

# Another model, a bad model, usage errors.
"$BIN" predict --model "$SRC/models/mnist-fc-f32.gguf" "$IMG/mnist-0.png" | grep -q ": 7 (p = " || fail "--model"
expect_error 1 "$IMG/not-an-image.png: not a model file" "$BIN" predict --model "$IMG/not-an-image.png" "$IMG/mnist-0.png"
expect_error 2 "missing argument IMAGE" "$BIN" predict
expect_error 2 "unknown option '--nope'" "$BIN" predict --nope "$IMG/mnist-0.png"
"$BIN" predict --help | grep -q "usage: mnist predict \[options\] IMAGE..." || fail "--help"
echo "PASS"
