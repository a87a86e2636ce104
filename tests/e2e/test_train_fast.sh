#!/usr/bin/env bash
# The fast preset (batch norm, one-cycle rate, label smoothing) on a share of MNIST: it learns,
# its file keeps the running statistics as state, and `mnist eval` scores the written file as
# training said. (The full recipe's 99% in seconds is bench/fast.py's, not a test's: no timings here.)
. "$(dirname "$0")/lib.sh"
need_data
"$BIN" train mnist-cnn --preset fast --data "$DATA" --limit 12000 --epochs 1 --threads 2 "$TMP/fast.gguf" | tee "$TMP/train.log"
grep -q "preset fast" "$TMP/train.log" || fail "the preset is not named"
grep -q "onecycle" "$TMP/train.log" || fail "the fast recipe's one-cycle schedule is not in use"
acc=$(sed -n 's/^test: accuracy \([0-9.]*\)%.*/\1/p' "$TMP/train.log")
awk -v a="$acc" 'BEGIN { exit !(a >= 96.0) }' || fail "fast preset on 12,000 images: $acc% test accuracy, expected >= 96%"
"$BIN" info "$TMP/fast.gguf" > "$TMP/info"
for t in conv1.bn.weight conv1.bn.bias conv1.bn.running_mean conv2.bn.running_var; do
  grep -q "$t" "$TMP/info" || fail "$t missing from the file"
done
"$BIN" eval "$TMP/fast.gguf" "$IMAGES" "$LABELS" > "$TMP/eval"
[ "$(accuracy_of "$TMP/eval")" = "$acc" ] || fail "mnist eval says $(accuracy_of "$TMP/eval")%, training said $acc%"
# Label smoothing 0.1 as PyTorch's: targets 0.91 / 0.01, whose cross-entropy is at least their
# entropy, 0.50; without it the same run's training loss falls well below that.
loss_of() { sed -n 's/^epoch .*train loss \([0-9.]*\),.*/\1/p' "$1" | tail -1; }
loss=$(loss_of "$TMP/train.log")
awk -v l="$loss" 'BEGIN { exit !(l >= 0.50) }' || fail "train loss $loss with label smoothing 0.1: below the targets' entropy 0.50"
"$BIN" train mnist-cnn --preset fast --data "$DATA" --limit 12000 --epochs 1 --label-smoothing 0 --threads 2 "$TMP/ls0.gguf" > "$TMP/ls0.log"
loss0=$(loss_of "$TMP/ls0.log")
awk -v l="$loss0" 'BEGIN { exit !(l < 0.45) }' || fail "train loss $loss0 without label smoothing, expected < 0.45"
# Micro-batches: statistics per pass (documented); a step in passes of 32 still trains.
"$BIN" train mnist-cnn --preset fast --data "$DATA" --limit 4000 --epochs 1 --micro-batch 32 --threads 2 "$TMP/micro.gguf" > "$TMP/micro.log"
grep -q "passes of 32 images" "$TMP/micro.log" || fail "no micro-batches: $(head -3 "$TMP/micro.log")"
acc_m=$(sed -n 's/^test: accuracy \([0-9.]*\)%.*/\1/p' "$TMP/micro.log")
awk -v a="$acc_m" 'BEGIN { exit !(a >= 90.0) }' || fail "fast preset in micro-batches of 32: $acc_m%"
echo "PASS: fast preset $acc% on 12,000 images, one epoch; in micro-batches of 32 on 4,000: $acc_m%"
