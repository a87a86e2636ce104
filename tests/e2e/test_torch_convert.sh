#!/usr/bin/env bash
# A model trained in PyTorch becomes ours: torch.save'd state_dict -> `mnist convert` -> GGUF,
# whose predictions on the 10,000 test images agree with PyTorch's own.
. "$(dirname "$0")/lib.sh"
need_data
/usr/bin/python3 -c "import torch" 2>/dev/null || skip "python3-torch is not installed (scripts/install_deps.sh installs it)"
/usr/bin/python3 "$SRC/tests/e2e/torch_fc_reference.py" "$DATA" "$TMP/fc.state_dict" "$TMP/p_torch"
"$BIN" convert "$TMP/fc.state_dict" "$TMP/fc.gguf"
"$BIN" eval "$TMP/fc.gguf" "$IMAGES" "$LABELS" --predictions "$TMP/p_ours" | tee "$TMP/out" | tail -3
# Float rounding may flip an argmax where two logits tie to ~1e-6; allow a handful of such images.
diff=$(paste "$TMP/p_torch" "$TMP/p_ours" | awk '$1 != $2' | wc -l)
[ "$diff" -le 3 ] || fail "$diff of 10000 predictions differ from PyTorch's"
echo "FC: $((10000 - diff))/10000 predictions agree with PyTorch"

# The CNN path: tools/train_cnn.py (a short run) -> state_dict -> mnist convert -> GGUF whose
# test accuracy is within 0.1 point of PyTorch's own.
/usr/bin/python3 "$SRC/tools/train_cnn.py" "$TMP/cnn.state_dict" --data "$DATA" --limit 2000 --epochs 1 --threads 2 | tee "$TMP/torch_cnn.log"
torch_acc=$(sed -n 's/.*test accuracy \([0-9.]*\)%.*/\1/p' "$TMP/torch_cnn.log")
"$BIN" convert "$TMP/cnn.state_dict" "$TMP/cnn.gguf"
"$BIN" eval "$TMP/cnn.gguf" "$IMAGES" "$LABELS" > "$TMP/cnn_eval"
our_acc=$(accuracy_of "$TMP/cnn_eval")
awk -v a="$torch_acc" -v b="$our_acc" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.1) }' ||
  fail "CNN: PyTorch says $torch_acc%, we say $our_acc%"
echo "CNN accuracy $our_acc% (PyTorch: $torch_acc%)"

# The fast preset, with batch normalisation: PyTorch's conv/bn modules and running statistics
# (num_batches_tracked dropped) become our folded inference graph.
/usr/bin/python3 "$SRC/tools/train_cnn.py" "$TMP/fast.state_dict" --preset fast --data "$DATA" --limit 3000 --epochs 1 --threads 2 | tee "$TMP/torch_fast.log"
torch_acc=$(sed -n 's/.*test accuracy \([0-9.]*\)%.*/\1/p' "$TMP/torch_fast.log")
"$BIN" convert "$TMP/fast.state_dict" "$TMP/fast.gguf"
"$BIN" info "$TMP/fast.gguf" > "$TMP/fast_info"
grep -q "conv2.bn.running_var" "$TMP/fast_info" || fail "fast: no running statistics in the converted file"
"$BIN" eval "$TMP/fast.gguf" "$IMAGES" "$LABELS" > "$TMP/fast_eval"
our_acc=$(accuracy_of "$TMP/fast_eval")
awk -v a="$torch_acc" -v b="$our_acc" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.1) }' ||
  fail "fast CNN: PyTorch says $torch_acc%, we say $our_acc%"
echo "PASS: fast CNN (batch norm) accuracy $our_acc% (PyTorch: $torch_acc%)"
