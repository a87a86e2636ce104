#!/usr/bin/env bash
# `mnist train --log FILE --log-every N --plot FILE` on real MNIST (short FC runs): every line of
# the log is JSON, one "run" line, one "epoch" line per epoch with the numbers the terminal
# printed, one "step" line every N optimizer steps; the plot is valid SVG (xml.etree) with train
# and validation polylines of one point per epoch. Interrupted after its first epoch, the run
# has already written the plot for the epochs done (it is rewritten after each); resumed, it
# appends to the log (dropping what a killed run wrote past its checkpoint, and a line cut short)
# and the plot shows every epoch of both runs.
. "$(dirname "$0")/lib.sh"
need_data
CHECK="/usr/bin/python3 $SRC/tests/e2e/report_check.py"

# 6000 images, 5% held out: 5700 to train on, 57 steps of 100 an epoch.
"$BIN" train mnist-fc "$TMP/a.gguf" --data "$DATA" --limit 6000 --epochs 3 --batch 100 --threads 2 \
  --log "$TMP/a.jsonl" --log-every 20 --plot "$TMP/a.svg" > "$TMP/a.out"
$CHECK train-log "$TMP/a.jsonl" 3 57 20 1 || fail "log check"
$CHECK curves "$TMP/a.svg" 3 || fail "plot check"
# The epoch lines hold what the terminal printed.
for e in 1 2 3; do
  printed=$(sed -n "s/^epoch   $e\/3: train loss \([0-9.]*\), acc \([0-9.]*\)% | val loss \([0-9.]*\), acc \([0-9.]*\)%.*/\1 \2 \3 \4/p" "$TMP/a.out")
  logged=$(/usr/bin/python3 -c "
import json, sys
l = [j for j in map(json.loads, open(sys.argv[1])) if j['kind'] == 'epoch'][$e - 1]
print('%.4f %.2f %.4f %.2f' % (l['train_loss'], 100 * l['train_accuracy'], l['val_loss'], 100 * l['val_accuracy']))" "$TMP/a.jsonl")
  [ -n "$printed" ] && [ "$printed" = "$logged" ] || fail "epoch $e: printed '$printed', logged '$logged'"
done
# A new run starts the log afresh.
"$BIN" train mnist-fc "$TMP/a.gguf" --data "$DATA" --limit 6000 --epochs 1 --batch 100 --threads 2 --log "$TMP/a.jsonl" > /dev/null
$CHECK train-log "$TMP/a.jsonl" 1 57 1000 1 || fail "a new run did not start the log afresh"
# Without a validation set (the fast preset holds none out) the epoch lines say null, and the
# plot draws the training curves alone.
"$BIN" train mnist-cnn "$TMP/f.gguf" --preset fast --data "$DATA" --limit 2000 --epochs 1 --threads 2 \
  --log "$TMP/f.jsonl" --plot "$TMP/f.svg" > /dev/null
/usr/bin/python3 -c "
import json, sys, xml.etree.ElementTree as ET
e = [j for j in map(json.loads, open(sys.argv[1])) if j['kind'] == 'epoch']
assert len(e) == 1 and e[0]['val_loss'] is None and e[0]['val_accuracy'] is None, e
kinds = [p.get('class') for p in ET.parse(sys.argv[2]).getroot().iter('{http://www.w3.org/2000/svg}polyline')]
assert kinds == ['train', 'train'], kinds" "$TMP/f.jsonl" "$TMP/f.svg" || fail "a run without validation"

# Interrupted, then resumed: 19,000 training images, 190 steps an epoch, 8 epochs.
# (the binary itself in the background, not a function: SIGINT must reach it)
run=("$BIN" train mnist-fc "$TMP/b.gguf" --data "$DATA" --limit 20000 --epochs 8 --batch 100 --threads 2
  --log "$TMP/b.jsonl" --log-every 50 --plot "$TMP/b.svg")
"${run[@]}" > "$TMP/b.out" 2>&1 &
pid=$!
for _ in $(seq 1 3000); do
  grep -q "^epoch   1/" "$TMP/b.out" 2>/dev/null && break
  sleep 0.01
done
kill -INT $pid 2>/dev/null || fail "the run ended before it could be interrupted"
rc=0; wait $pid || rc=$?
[ $rc = 130 ] || fail "interrupted run exited $rc: $(tail -3 "$TMP/b.out")"
done_epochs=$(grep -c '^epoch ' "$TMP/b.out")
[ "$done_epochs" -lt 8 ] || fail "the run was not interrupted before its end"
$CHECK curves "$TMP/b.svg" "$done_epochs" || fail "the plot was not written after each epoch of the interrupted run"
# What a run killed after its checkpoint may leave: a later line, and one cut short; and a
# line that is not ours.
echo '{"kind":"step","step":999999,"epoch":99}' >> "$TMP/b.jsonl"
/usr/bin/python3 -c 'print("[" * 100000 + "]" * 100000)' >> "$TMP/b.jsonl"  # not ours (and deep)
printf '{"kind":"epo' >> "$TMP/b.jsonl"
"${run[@]}" --resume "$TMP/b.gguf.ckpt" > "$TMP/b2.out"
grep -q "resuming at epoch" "$TMP/b2.out" || fail "did not resume"
$CHECK train-log "$TMP/b.jsonl" 8 190 50 2 || fail "resumed log check"
$CHECK curves "$TMP/b.svg" 8 || fail "the resumed run's plot lacks the first run's epochs"

# bad arguments
expect_error 2 "\-\-log-every needs \-\-log" "$BIN" train mnist-fc "$TMP/x.gguf" --data "$DATA" --log-every 5
expect_error 2 "log-every" "$BIN" train mnist-fc "$TMP/x.gguf" --data "$DATA" --log "$TMP/x.jsonl" --log-every 0
expect_error 1 "$TMP/no/dir/x.jsonl: " "$BIN" train mnist-fc "$TMP/x.gguf" --data "$DATA" --limit 600 --epochs 1 --log "$TMP/no/dir/x.jsonl"
expect_error 1 "$TMP/no/dir/x.svg: " "$BIN" train mnist-fc "$TMP/x.gguf" --data "$DATA" --limit 600 --epochs 1 --plot "$TMP/no/dir/x.svg"
echo "PASS: log and plot of 3 epochs; interrupted after $done_epochs of 8, resumed to all 8"
