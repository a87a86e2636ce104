#!/usr/bin/env bash
# A full disk during a write: `mnist convert` and `mnist train` writing into a 3 MB tmpfs (mounted
# in a mount namespace of our own, `unshare -rm`, so no root is needed where user namespaces
# are allowed) fail with "write failed: No space left on device" and exit 1; the files that were
# there before are intact and no temporary file is left.
. "$(dirname "$0")/lib.sh"
need_data
[ -f "$DATA/train-images-idx3-ubyte" ] || skip "MNIST training set not found in $DATA (run scripts/fetch_data.sh)"
unshare -rm true 2>/dev/null || skip "cannot make a mount namespace here (unshare -rm) to mount a small tmpfs"
mkdir -p "$TMP/disk"
cp "$MODEL" "$TMP/old.gguf"
"$BIN" convert "$MODEL" "$TMP/old.bin" > /dev/null
unshare -rm bash -s "$BIN" "$TMP" "$DATA" <<'SH' > "$TMP/out" 2>&1 || fail "$(cat "$TMP/out")"
set -euo pipefail
BIN=$1 TMP=$2 DATA=$3
mount -t tmpfs -o size=3m tmpfs "$TMP/disk"
fail() { echo "FAIL: $*"; exit 1; }
# 1.6 MB of old model and 1.6 MB of new one do not fit in 3 MB.
cp "$TMP/old.gguf" "$TMP/disk/model.gguf"
rc=0; "$BIN" convert "$TMP/old.bin" "$TMP/disk/model.gguf" > "$TMP/o" 2> "$TMP/e" || rc=$?
[ "$rc" = 1 ] || fail "convert on a full disk exited $rc: $(cat "$TMP/e")"
grep -q "^error: $TMP/disk/model.gguf: write failed: No space left on device" "$TMP/e" || fail "convert: $(cat "$TMP/e")"
cmp -s "$TMP/old.gguf" "$TMP/disk/model.gguf" || fail "convert on a full disk changed the old model"
[ "$(ls -A "$TMP/disk")" = model.gguf ] || fail "convert left files: $(ls -A "$TMP/disk")"
# A checkpoint (4.8 MB) cannot fit at all.
rc=0; "$BIN" train mnist-fc "$TMP/disk/model.gguf" --data "$DATA" --limit 1000 --epochs 1 --batch 100 \
  > "$TMP/o" 2> "$TMP/e" || rc=$?
[ "$rc" = 1 ] || fail "train on a full disk exited $rc: $(cat "$TMP/e")"
grep -q "^error: $TMP/disk/model.gguf.ckpt: write failed: No space left on device" "$TMP/e" || fail "train: $(cat "$TMP/e")"
cmp -s "$TMP/old.gguf" "$TMP/disk/model.gguf" || fail "train on a full disk changed the old model"
[ "$(ls -A "$TMP/disk")" = model.gguf ] || fail "train left files: $(ls -A "$TMP/disk")"
echo "full disk (3 MB tmpfs): convert and train fail with 'write failed: No space left on device', the old model intact"
SH
cat "$TMP/out"
echo "PASS"
