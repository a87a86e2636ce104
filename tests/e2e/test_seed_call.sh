#!/usr/bin/env bash
# The seeds' own call, `mnist MODEL IMAGES`, prints a digit as ASCII art and `predicted digit is N`.
. "$(dirname "$0")/lib.sh"
need_data
"$BIN" "$MODEL" "$IMAGES" | tee "$TMP/out"
[ "$(grep -cE '^([_*] ){28}$' "$TMP/out")" = 28 ] || fail "expected 28 lines of ASCII art"
grep -qE '^predicted digit is [0-9]' "$TMP/out" || fail "no prediction"
# --index picks the digit: test image 0 is a 7, and the shipped model knows it.
"$BIN" "$MODEL" "$IMAGES" --index 0 > "$TMP/out0"
grep -qE '^predicted digit is 7' "$TMP/out0" || fail "image 0 should be predicted as 7: $(cat "$TMP/out0")"
# --seed makes the random choice repeatable.
"$BIN" "$MODEL" "$IMAGES" --seed 123 | grep '^image' > "$TMP/a"
"$BIN" "$MODEL" "$IMAGES" --seed 123 | grep '^image' > "$TMP/b"
cmp -s "$TMP/a" "$TMP/b" || fail "--seed did not repeat the choice"
echo "PASS"
