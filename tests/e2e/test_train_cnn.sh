#!/usr/bin/env bash
# mnist-cnn trains in both presets; the ggml preset has ggml's tensor names and shapes; the
# written files evaluate, and convert/info treat them as any model.
. "$(dirname "$0")/lib.sh"
need_data
"$BIN" train mnist-cnn "$TMP/ggml.gguf" --preset ggml --data "$DATA" --limit 3000 --epochs 1 --batch 100 | tee "$TMP/log"
"$BIN" info "$TMP/ggml.gguf" > "$TMP/info"
for t in "conv1.kernel +f32 +\[3, 3, 1, 8\]" "conv1.bias +f32 +\[1, 1, 8\]" "conv2.kernel +f32 +\[3, 3, 8, 16\]" \
         "conv2.bias +f32 +\[1, 1, 16\]" "dense.weight +f32 +\[784, 10\]" "dense.bias +f32 +\[10\]"; do
  grep -qE "^  $t" "$TMP/info" || fail "ggml preset lacks tensor: $t"
done
grep -q "architecture mnist-cnn" "$TMP/info" || fail "architecture"
acc=$(sed -n 's/^test: accuracy \([0-9.]*\)%.*/\1/p' "$TMP/log")
awk -v a="$acc" 'BEGIN { exit !(a >= 60.0) }' || fail "ggml-preset CNN test accuracy $acc% after one short epoch"

"$BIN" train mnist-cnn "$TMP/seeds.gguf" --data "$DATA" --limit 2000 --epochs 1 --batch 64 | tee "$TMP/log2"
"$BIN" info "$TMP/seeds.gguf" > "$TMP/info2"
grep -qE "^  conv1.kernel +f32 +\[3, 3, 1, 32\]" "$TMP/info2" || fail "seeds preset conv1"
grep -qE "^  conv2.kernel +f32 +\[3, 3, 32, 64\]" "$TMP/info2" || fail "seeds preset conv2"
grep -qE "^  dense.weight +f32 +\[1600, 10\]" "$TMP/info2" || fail "seeds preset dense"
grep -qE "mnist-cnn.dropout +0.5" "$TMP/info2" || fail "dropout hyperparameter not recorded"
"$BIN" eval "$TMP/seeds.gguf" "$IMAGES" "$LABELS" --index 0 > "$TMP/eval"
grep -q '^predicted digit is' "$TMP/eval" || fail "eval of the CNN"
# A file as ggml's own tools write it (tensors and general.architecture, none of our keys) loads:
# the layer sizes and padding are read off the tensors, and it scores the same.
for net in ggml seeds; do
  /usr/bin/python3 "$SRC/tests/e2e/gguf_as_ggml_writes.py" "$TMP/$net.gguf" "$TMP/$net-bare.gguf"
  "$BIN" info "$TMP/$net-bare.gguf" | grep -q "mnist-cnn.channels" || fail "$net: channels not inferred"
  "$BIN" eval "$TMP/$net.gguf" "$IMAGES" "$LABELS" > "$TMP/e1"
  "$BIN" eval "$TMP/$net-bare.gguf" "$IMAGES" "$LABELS" > "$TMP/e2"
  [ "$(accuracy_of "$TMP/e1")" = "$(accuracy_of "$TMP/e2")" ] || fail "$net: a bare file scores differently"
done
"$BIN" graph "$TMP/ggml.gguf" -o "$TMP/cnn.dot" > /dev/null
# Inference fuses bias, relu and pooling into each convolution; the labels say so.
for op in conv1.kernel conv2.kernel "conv_2d + bias + relu + max_pool_2d 2x2" mul_mat; do
    grep -q "$op" "$TMP/cnn.dot" || fail "CNN graph lacks $op"
done
expect_error 1 "legacy ggml format only holds mnist-fc" "$BIN" convert "$TMP/ggml.gguf" "$TMP/x.bin"
echo "PASS"
