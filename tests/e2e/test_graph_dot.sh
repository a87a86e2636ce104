#!/usr/bin/env bash
# `mnist graph` writes a DOT file of the inference graph that graphviz accepts.
. "$(dirname "$0")/lib.sh"
"$BIN" graph "$MODEL" -o "$TMP/mnist.dot"
grep -q '^digraph' "$TMP/mnist.dot" || fail "not a DOT file"
for name in fc1.weight fc1.bias fc2.bias mul_mat soft_max argmax images logits; do
  grep -q "$name" "$TMP/mnist.dot" || fail "DOT lacks $name"
done
grep -q 'cluster_weights' "$TMP/mnist.dot" || fail "weights are not drawn apart"
if command -v dot >/dev/null; then
  dot -Tsvg "$TMP/mnist.dot" -o "$TMP/mnist.svg" || fail "dot rejected the file"
  "$BIN" graph "$MODEL" -o "$TMP/g.dot" --png
  [ -s "$TMP/g.dot.png" ] || fail "--png wrote no PNG"
  echo "PASS (graphviz accepted it)"
else
  echo "PASS (graphviz not installed: DOT syntax not checked by dot)"
fi
