#!/usr/bin/env bash
# GGUF -> legacy .bin -> GGUF keeps every weight (the legacy format has no metadata, so the
# training.* keys are lost on the way): the tensors are byte-identical and every prediction on
# the test set agrees.
. "$(dirname "$0")/lib.sh"
need_data
"$BIN" convert "$MODEL" "$TMP/m.bin"
"$BIN" convert "$TMP/m.bin" "$TMP/m.gguf"
"$BIN" convert "$TMP/m.gguf" "$TMP/m2.bin"
cmp "$TMP/m.bin" "$TMP/m2.bin" || fail "GGUF -> .bin -> GGUF -> .bin changed the weights"
"$BIN" info "$TMP/m.gguf" | grep -q "mnist-fc.n_hidden" || fail "hyperparameters not restored"
"$BIN" eval "$TMP/m.bin" "$IMAGES" "$LABELS" --predictions "$TMP/p_bin" > /dev/null
"$BIN" eval "$MODEL" "$IMAGES" "$LABELS" --predictions "$TMP/p_gguf" > /dev/null
[ "$(wc -l < "$TMP/p_bin")" = 10000 ] || fail "expected 10000 predictions"
cmp "$TMP/p_bin" "$TMP/p_gguf" || fail "predictions differ between formats"
echo "PASS"
