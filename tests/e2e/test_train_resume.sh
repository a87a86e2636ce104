#!/usr/bin/env bash
# Ctrl-C writes a checkpoint and exits cleanly (130); --resume continues to the very same model
# file as an uninterrupted run. Checked for mnist-fc and for the CNN (whose dropout masks must
# be reproduced too), and for the fast preset (batch norm's running statistics, one-cycle rate).
. "$(dirname "$0")/lib.sh"
need_data
check_resume() {
  local name=$1; shift
  "$BIN" train "$@" "$TMP/$name-full.gguf" > "$TMP/$name-full.log"
  local rc=0
  "$BIN" train "$@" "$TMP/$name-cut.gguf" > "$TMP/$name-cut.log" 2>&1 &
  local pid=$!
  # Interrupt once the first epoch is done, while later epochs still run.
  for _ in $(seq 1 3000); do
    grep -q "^epoch   1/" "$TMP/$name-cut.log" 2>/dev/null && break
    sleep 0.01
  done
  kill -INT $pid 2>/dev/null || fail "$name: the run ended before it could be interrupted"
  wait $pid || rc=$?
  [ $rc = 130 ] || fail "$name: interrupted run exited $rc, expected 130: $(tail -3 "$TMP/$name-cut.log")"
  grep -q "checkpoint written to" "$TMP/$name-cut.log" || fail "$name: no checkpoint message"
  [ ! -e "$TMP/$name-cut.gguf" ] || fail "$name: an interrupted run must not write the model"
  "$BIN" train "$@" "$TMP/$name-cut.gguf" --resume "$TMP/$name-cut.gguf.ckpt" > "$TMP/$name-resume.log"
  grep -q "resuming at epoch" "$TMP/$name-resume.log" || fail "$name: resume did not say where it resumed"
  cmp "$TMP/$name-full.gguf" "$TMP/$name-cut.gguf" || fail "$name: resumed run differs from the uninterrupted one"
  echo "$name: $(grep -o 'interrupted at epoch [0-9]*, batch [0-9]*' "$TMP/$name-cut.log"), resumed to an identical file"
}
check_resume fc mnist-fc --data "$DATA" --limit 20000 --epochs 8 --batch 100 --threads 2
check_resume cnn mnist-cnn --data "$DATA" --limit 2000 --epochs 8 --batch 64 --threads 2
# batch norm's running statistics (model state) and the one-cycle rate's position
check_resume fast mnist-cnn --preset fast --data "$DATA" --limit 2000 --epochs 8 --batch 64 --threads 2
echo "PASS"
