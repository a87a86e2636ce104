#!/usr/bin/env bash
# GGUF -> legacy .bin -> GGUF keeps every weight: the files are byte-identical and every
# prediction on the test set agrees.
. "$(dirname "$0")/lib.sh"
need_data
"$BIN" convert "$MODEL" "$TMP/m.bin"
"$BIN" convert "$TMP/m.bin" "$TMP/m.gguf"
cmp "$MODEL" "$TMP/m.gguf" || fail "GGUF -> .bin -> GGUF changed the file"
"$BIN" eval "$TMP/m.bin" "$IMAGES" "$LABELS" --predictions "$TMP/p_bin" > /dev/null
"$BIN" eval "$MODEL" "$IMAGES" "$LABELS" --predictions "$TMP/p_gguf" > /dev/null
[ "$(wc -l < "$TMP/p_bin")" = 10000 ] || fail "expected 10000 predictions"
cmp "$TMP/p_bin" "$TMP/p_gguf" || fail "predictions differ between formats"
echo "PASS"
