#!/usr/bin/env bash
# Wrong arguments print usage and exit 2; bad files print one line `error: <file>: <what>` and
# exit 1. Never a crash, a hang or a huge allocation (each run is capped at 2 GiB and 20 s).
. "$(dirname "$0")/lib.sh"
if [[ "${MNIST_SANITIZE_FLAGS:-}" == *address* ]]; then
  # AddressSanitizer reserves terabytes of address space for its shadow: no ulimit -v. Its own
  # bound instead: one allocation over 2 GiB is a report, and the run fails.
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_allocation_size_mb=2048"
else
  ulimit -v 2097152
fi
run() { timeout 20 "$BIN" "$@"; }

# --help everywhere
for cmd in "" eval convert graph info; do
  out=$(run $cmd --help) || fail "mnist $cmd --help exited non-zero"
  grep -q '^usage: mnist' <<<"$out" || fail "mnist $cmd --help prints no usage"
done

# usage errors: exit 2
rc=0; run > "$TMP/o" 2>&1 || rc=$?; [ $rc = 2 ] || fail "no arguments: exit $rc"
expect_error 2 "missing argument MODEL" run eval
expect_error 2 "unknown option '--bogus'" run eval "$MODEL" x --bogus
expect_error 2 "--threads must be an integer" run eval "$MODEL" x --threads 0
expect_error 2 "--batch must be an integer" run eval "$MODEL" x --batch lots
expect_error 2 "unknown CPU level" run eval "$MODEL" x --cpu sse9
expect_error 2 "unknown command 'frobnicate'" run frobnicate
expect_error 2 "needs a value" run graph "$MODEL" -o

# bad model files: exit 1, one line naming the file
expect_error 1 "$TMP/none.gguf: cannot open" run info "$TMP/none.gguf"
echo "hello world, not a model" > "$TMP/text.gguf"
expect_error 1 "$TMP/text.gguf: not a model file" run info "$TMP/text.gguf"
head -c 1000 "$MODEL" > "$TMP/trunc.gguf"
expect_error 1 "$TMP/trunc.gguf:" run info "$TMP/trunc.gguf"
head -c 3 "$MODEL" > "$TMP/tiny.gguf"
expect_error 1 "too short" run info "$TMP/tiny.gguf"
# A legacy .bin whose first weight is NaN.
"$BIN" convert "$MODEL" "$TMP/m.bin" > /dev/null
cp "$TMP/m.bin" "$TMP/nan.bin"
printf '\x00\x00\xc0\x7f' | dd of="$TMP/nan.bin" bs=1 seek=16 conv=notrunc status=none
expect_error 1 "$TMP/nan.bin: tensor 'fc1.weight' contains NaN" run info "$TMP/nan.bin"
# A legacy .bin with hostile dimensions (2^31-1 x 2^31-1).
printf 'lmgg\x02\x00\x00\x00\xff\xff\xff\x7f\xff\xff\xff\x7f' > "$TMP/huge.bin"
expect_error 1 "$TMP/huge.bin:" run info "$TMP/huge.bin"

if [ -f "$IMAGES" ]; then
  # image files: labels given as images, truncated, hostile header
  expect_error 1 "$LABELS:" run "$MODEL" "$LABELS"
  head -c 5000 "$IMAGES" > "$TMP/trunc-images"
  expect_error 1 "$TMP/trunc-images: " run "$MODEL" "$TMP/trunc-images"
  printf '\x00\x00\x08\x03\x7f\xff\xff\xff\x00\x00\x00\x1c\x00\x00\x00\x1c' > "$TMP/hostile-images"
  expect_error 1 "$TMP/hostile-images:" run "$MODEL" "$TMP/hostile-images"
  # labels that do not match the images
  head -c 5008 "$LABELS" > "$TMP/short-labels"
  expect_error 1 "$TMP/short-labels:" run eval "$MODEL" "$IMAGES" "$TMP/short-labels"
  expect_error 2 "--index must be an integer from 0 to 9999" run "$MODEL" "$IMAGES" --index 10000
  # a model file given as images
  expect_error 1 "$MODEL:" run "$MODEL" "$MODEL"
fi
# Writing to a directory that does not exist fails cleanly and leaves nothing behind.
expect_error 1 "$TMP/no/such/dir/x.gguf:" run convert "$MODEL" "$TMP/no/such/dir/x.gguf"
echo "PASS"
