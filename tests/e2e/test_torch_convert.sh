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
echo "PASS: $((10000 - diff))/10000 predictions agree with PyTorch"
