#!/usr/bin/env bash
# Fashion-MNIST (Debian's dataset-fashion-mnist: same IDX format, gzip-compressed) trains and
# evaluates with the same commands as MNIST.
. "$(dirname "$0")/lib.sh"
FASHION=${MNIST_FASHION_DIR:-$SRC/data/fashion-mnist}
[ -e "$FASHION/train-images-idx3-ubyte" ] || skip "Fashion-MNIST not in $FASHION (run scripts/fetch_fashion_mnist.sh)"
head -c 2 "$FASHION/t10k-images-idx3-ubyte" | od -An -tx1 | grep -q '1f 8b' || echo "note: Fashion-MNIST files are not gzip here"
"$BIN" train mnist-fc "$TMP/fashion.gguf" --data "$FASHION" --limit 6000 --epochs 2 --batch 100 | tee "$TMP/log"
acc=$(sed -n 's/^test: accuracy \([0-9.]*\)%.*/\1/p' "$TMP/log")
[ -n "$acc" ] || fail "no test accuracy (the t10k files were not found?)"
awk -v a="$acc" 'BEGIN { exit !(a >= 65.0) }' || fail "Fashion-MNIST test accuracy $acc% is too low"
"$BIN" eval "$TMP/fashion.gguf" "$FASHION/t10k-images-idx3-ubyte" "$FASHION/t10k-labels-idx1-ubyte" > "$TMP/eval"
[ "$(accuracy_of "$TMP/eval")" = "$acc" ] || fail "eval disagrees with training's test accuracy"
echo "PASS: Fashion-MNIST test accuracy $acc% after 2 short epochs"
