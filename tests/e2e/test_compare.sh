#!/usr/bin/env bash
# `mnist compare A B IMAGES LABELS` on the real test set: a model against itself disagrees
# nowhere; the shipped CNN against the shipped FC model gives the accuracies eval gives, a
# McNemar table that sums to the test count and gives both accuracies, and a disagreement count
# at least the difference in accuracy; its --report page is self-contained and draws the
# disagreeing images (all, or --max-images of them) with both predictions. Bad input: one error
# line and a non-zero exit.
. "$(dirname "$0")/lib.sh"
need_data
CNN=$SRC/models/mnist-cnn-f32.gguf
CHECK="/usr/bin/python3 $SRC/tests/e2e/report_check.py"
"$BIN" --help | grep -qE '^  compare +' || fail "mnist --help does not list compare"
"$BIN" compare --help | grep -q 'usage: mnist compare' || fail "no compare --help"

# the number on line "$2: ..." after "$3"
field() { sed -n "s/^$2.*$3\([0-9]*\).*/\1/p" "$1"; }
table() {  # both only_a only_b neither, from the printed table
  awk '/^  A right/ { r1 = $3 " " $4 } /^  A wrong/ { r2 = $3 " " $4 } END { print r1, r2 }' "$1"
}

"$BIN" compare "$CNN" "$CNN" "$IMAGES" "$LABELS" > "$TMP/self"
grep -q '^disagree on 0 images (0.00%): A right on 0, B right on 0, neither on 0$' "$TMP/self" || fail "a model disagrees with itself: $(cat "$TMP/self")"
read -r both only_a only_b neither <<< "$(table "$TMP/self")"
[ "$only_a" = 0 ] && [ "$only_b" = 0 ] || fail "self-comparison table: $(table "$TMP/self")"

"$BIN" compare "$CNN" "$MODEL" "$IMAGES" "$LABELS" --report "$TMP/compare.html" > "$TMP/out"
cat "$TMP/out"
correct_a=$(sed -n 's/^A: .* accuracy [0-9.]*% (\([0-9]*\)\/.*/\1/p' "$TMP/out")
correct_b=$(sed -n 's/^B: .* accuracy [0-9.]*% (\([0-9]*\)\/.*/\1/p' "$TMP/out")
disagree=$(sed -n 's/^disagree on \([0-9]*\) images.*/\1/p' "$TMP/out")
[ -n "$correct_a" ] && [ -n "$correct_b" ] && [ -n "$disagree" ] || fail "summary lines missing"
# the same accuracies as eval
"$BIN" eval "$CNN" "$IMAGES" "$LABELS" --index 0 > "$TMP/eval_a"
"$BIN" eval "$MODEL" "$IMAGES" "$LABELS" --index 0 > "$TMP/eval_b"
grep -q "($correct_a/10000)" "$TMP/eval_a" || fail "A's accuracy differs from eval's"
grep -q "($correct_b/10000)" "$TMP/eval_b" || fail "B's accuracy differs from eval's"
read -r both only_a only_b neither <<< "$(table "$TMP/out")"
[ $((both + only_a + only_b + neither)) = 10000 ] || fail "the table does not sum to 10000"
[ $((both + only_a)) = "$correct_a" ] && [ $((both + only_b)) = "$correct_b" ] || fail "the table does not give the accuracies"
diff=$((correct_a - correct_b)); diff=${diff#-}
[ "$diff" -le "$disagree" ] || fail "|correct A - correct B| = $diff exceeds the $disagree disagreements"
[ $((only_a + only_b)) -le "$disagree" ] || fail "fewer disagreements than images only one got right"
grep -q "^disagree on $disagree images ([0-9.]*%): A right on $only_a, B right on $only_b, neither on $((disagree - only_a - only_b))$" "$TMP/out" ||
  fail "the disagreement line does not match the table"
grep -qE '^McNemar: chi-square [0-9.]+ .*p = [0-9.e+-]+$' "$TMP/out" || fail "no McNemar line"
$CHECK compare-report "$TMP/compare.html" "$IMAGES" "$LABELS" "$correct_a" "$correct_b" "$disagree" 10000 100 || fail "report check"
"$BIN" compare "$CNN" "$MODEL" "$IMAGES" "$LABELS" --report "$TMP/five.html" --max-images 5 --threads 1 > /dev/null
$CHECK compare-report "$TMP/five.html" "$IMAGES" "$LABELS" "$correct_a" "$correct_b" "$disagree" 10000 5 || fail "--max-images check"

# bad input
expect_error 1 "$TMP/none.gguf: cannot open" "$BIN" compare "$CNN" "$TMP/none.gguf" "$IMAGES" "$LABELS"
expect_error 1 "images but the label file has" "$BIN" compare "$CNN" "$MODEL" "$IMAGES" "$DATA/train-labels-idx1-ubyte"
expect_error 1 "expected 0x00000803" "$BIN" compare "$CNN" "$MODEL" "$LABELS" "$LABELS"
expect_error 1 "$TMP/no/dir/c.html: " "$BIN" compare "$CNN" "$MODEL" "$IMAGES" "$LABELS" --report "$TMP/no/dir/c.html"
expect_error 2 "LABELS" "$BIN" compare "$CNN" "$MODEL" "$IMAGES"
expect_error 2 "max-images" "$BIN" compare "$CNN" "$MODEL" "$IMAGES" "$LABELS" --max-images -1
echo "PASS: CNN $correct_a, FC $correct_b right; $disagree disagreements; report $(wc -c < "$TMP/compare.html") bytes"
