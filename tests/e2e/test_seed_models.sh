#!/usr/bin/env bash
# Compatibility with the seeds' own files, where they exist: the legacy ggml-model-f32.bin
# evaluates, the PyTorch state_dict converts, and both agree on every prediction.
. "$(dirname "$0")/lib.sh"
need_data
SEEDS=""
for d in "$SRC/../shared/seed-models" "/work/shared/seed-models"; do
  [ -f "$d/ggml-model-f32.bin" ] && [ -f "$d/mnist_model.state_dict" ] && { SEEDS=$d; break; }
done
[ -n "$SEEDS" ] || skip "seed models not present (../shared/seed-models): compatibility not checked here"
"$BIN" eval "$SEEDS/ggml-model-f32.bin" "$IMAGES" "$LABELS" --predictions "$TMP/p_bin" | tee "$TMP/o_bin"
"$BIN" convert "$SEEDS/mnist_model.state_dict" "$TMP/seed.gguf"
"$BIN" eval "$TMP/seed.gguf" "$IMAGES" "$LABELS" --predictions "$TMP/p_sd" > "$TMP/o_sd"
cmp "$TMP/p_bin" "$TMP/p_sd" || fail "the seed .bin and the converted state_dict disagree"
acc=$(accuracy_of "$TMP/o_bin")
awk -v a="$acc" 'BEGIN { exit !(a > 97.0) }' || fail "seed model accuracy $acc% is implausibly low"
echo "PASS: seed models agree on all 10000 predictions ($acc%)"
