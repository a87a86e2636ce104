#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_*.cpp) for SECONDS each (default 60), built with ASan + UBSan
# as libFuzzer binaries (scripts/build_sanitized.sh address), over its corpus: the seeds our own
# tools write (fuzz/make_seeds.py), the inputs found before (fuzz/regressions/<target>/) and
# what earlier runs kept. Prints executions and findings per target; exits 1 on any finding.
#   scripts/fuzz.sh [SECONDS]
#   FUZZ_TARGETS="gguf zip"   only these targets
#   FUZZ_JOBS=2               targets run side by side (default 1)
#   FUZZ_WORK=DIR             corpora, logs and findings (default: build-asan/fuzz-work); findings
#                             are DIR/findings/<target>/crash-*, leak-*, timeout-*, oom-* (an
#                             earlier run's are moved to DIR/earlier-findings/<target>/ first)
# A finding is any crash, sanitizer report, leak, input taking over 10 s, or allocation over
# 512 MB (or 2 GB of memory in all): each is fixed and its input committed as a regression.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=${1:-60}
BUILD=${ASAN_BUILD_DIR:-$ROOT/build-asan}
WORK=${FUZZ_WORK:-$BUILD/fuzz-work}
JOBS=${FUZZ_JOBS:-1}
"$ROOT/scripts/build_sanitized.sh" address
SEEDS=$BUILD/fuzz/seeds
/usr/bin/python3 "$ROOT/fuzz/make_seeds.py" "$BUILD/fuzz/make_seeds" "$ROOT/data/mnist" "$SEEDS"
targets=${FUZZ_TARGETS:-$(cd "$ROOT/fuzz" && ls fuzz_*.cpp | sed 's/^fuzz_//; s/\.cpp$//')}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

fuzz_one() {
  local t=$1
  mkdir -p "$WORK/corpus/$t" "$WORK/findings/$t" "$WORK/logs"
  # What earlier runs found (fixed since, and kept as regressions) is not this run's finding.
  if [ -n "$(ls -A "$WORK/findings/$t")" ]; then
    mkdir -p "$WORK/earlier-findings/$t"
    mv "$WORK/findings/$t"/* "$WORK/earlier-findings/$t/"
  fi
  local dirs=("$WORK/corpus/$t" "$SEEDS/$t")
  [ -d "$ROOT/fuzz/regressions/$t" ] && dirs+=("$ROOT/fuzz/regressions/$t")
  "$BUILD/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=512 -artifact_prefix="$WORK/findings/$t/" "${dirs[@]}" \
    > "$WORK/logs/$t.log" 2>&1 || true
}

running=0
for t in $targets; do
  [ -x "$BUILD/fuzz/fuzz_$t" ] || { echo "error: no fuzz target '$t'" >&2; exit 2; }
  fuzz_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
done
wait

total=0
echo
echo "| target | seconds | executions | exec/s | corpus | findings |"
echo "|---|---|---|---|---|---|"
for t in $targets; do
  log=$WORK/logs/$t.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corpus=$(find "$WORK/corpus/$t" -type f | wc -l)
  found=$(find "$WORK/findings/$t" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  # A run that printed no statistics ended in a finding (or did not start): count it.
  [ -n "$execs" ] || { execs="?"; [ "$found" -gt 0 ] || found=1; }
  total=$((total + found))
  echo "| $t | $SECONDS_EACH | $execs | ${rate:-?} | $corpus | $found |"
done
echo
if [ "$total" -gt 0 ]; then
  echo "fuzz: $total findings; see $WORK/findings/ and $WORK/logs/" >&2
  exit 1
fi
echo "fuzz: no findings"
