#!/usr/bin/env bash
# `mnist train` on real MNIST: a short run whose loss falls and whose accuracy is far above
# chance; the same seed and thread count give a bit-identical file; the settings are in the
# file's metadata.
. "$(dirname "$0")/lib.sh"
need_data
train() { "$BIN" train mnist-fc "$@" --data "$DATA" --limit 6000 --epochs 2 --batch 100 --threads 2; }
train "$TMP/a.gguf" | tee "$TMP/log"
loss1=$(sed -n 's/^epoch   1\/2: train loss \([0-9.]*\).*/\1/p' "$TMP/log")
loss2=$(sed -n 's/^epoch   2\/2: train loss \([0-9.]*\).*/\1/p' "$TMP/log")
awk -v a="$loss1" -v b="$loss2" 'BEGIN { exit !(b < a) }' || fail "train loss did not fall: $loss1 -> $loss2"
grep -qE '\| val loss [0-9.]+, acc [0-9.]+%' "$TMP/log" || fail "no validation line"
acc=$(sed -n 's/^test: accuracy \([0-9.]*\)%.*/\1/p' "$TMP/log")
awk -v a="$acc" 'BEGIN { exit !(a >= 85.0) }' || fail "test accuracy $acc% after 2 short epochs"
grep -qE '^wrote .*a.gguf; trained in [0-9.]+ s' "$TMP/log" || fail "no summary line"

# determinism
train "$TMP/b.gguf" > /dev/null
cmp "$TMP/a.gguf" "$TMP/b.gguf" || fail "same seed and threads gave different files"
train "$TMP/c.gguf" --seed 7 > /dev/null
! cmp -s "$TMP/a.gguf" "$TMP/c.gguf" || fail "a different seed gave the same file"
# Batches of 100 in passes of 30 (30, 30, 30, 10) take the same steps up to rounding.
train "$TMP/d.gguf" --micro-batch 30 | tee "$TMP/log_micro"
grep -q "^each batch in passes of 30 images" "$TMP/log_micro" || fail "--micro-batch not reported"
loss2_micro=$(sed -n 's/^epoch   2\/2: train loss \([0-9.]*\).*/\1/p' "$TMP/log_micro")
awk -v a="$loss2" -v b="$loss2_micro" 'BEGIN { d = a - b; exit !(d < 0.002 && d > -0.002) }' ||
  fail "micro-batches trained differently: loss $loss2 vs $loss2_micro"

# metadata and the model itself
"$BIN" info "$TMP/a.gguf" > "$TMP/info"
for key in training.optimizer training.learning_rate training.epochs training.batch_size training.seed training.val_split; do
  grep -q "$key" "$TMP/info" || fail "metadata lacks $key"
done
"$BIN" eval "$TMP/a.gguf" "$IMAGES" "$LABELS" > "$TMP/eval"
[ "$(accuracy_of "$TMP/eval")" = "$acc" ] || fail "eval of the written file disagrees with training's test accuracy"
# the checkpoint evaluates as a model too
"$BIN" eval "$TMP/a.gguf.ckpt" "$IMAGES" "$LABELS" > "$TMP/eval_ckpt"
[ "$(accuracy_of "$TMP/eval_ckpt")" = "$acc" ] || fail "checkpoint does not hold the final weights"

# bad arguments
expect_error 2 "unknown architecture" "$BIN" train mnist-rnn "$TMP/x.gguf"
expect_error 2 "unknown optimizer" "$BIN" train mnist-fc "$TMP/x.gguf" --optimizer lion
expect_error 1 "$TMP/none/train-images-idx3-ubyte: cannot open" "$BIN" train mnist-fc "$TMP/x.gguf" --data "$TMP/none"
expect_error 1 "$TMP/a.gguf: not a training checkpoint" "$BIN" train mnist-fc "$TMP/x.gguf" --data "$DATA" --resume "$TMP/a.gguf"
echo "PASS: loss $loss1 -> $loss2, test accuracy $acc%"
