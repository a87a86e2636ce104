#!/usr/bin/env bash
# The test suite under sanitizers (a command of its own, beside scripts/test.sh):
#   1. the whole suite (unit, end-to-end, C API, fuzz seeds and regressions) built with
#      AddressSanitizer + UndefinedBehaviorSanitizer: any report fails the test that made it;
#   2. the tests of what runs on several threads (the thread pool, the executor, the session,
#      the server under its ordinary tests and under load) built with ThreadSanitizer.
# Extra arguments go to both ctest runs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Reports with the symbolised stack; leaks are reports too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

"$ROOT/scripts/build_sanitized.sh" address
(cd "${ASAN_BUILD_DIR:-$ROOT/build-asan}" && ctest --output-on-failure -j "$(nproc)" --timeout 900 "$@")

"$ROOT/scripts/build_sanitized.sh" thread
(cd "${TSAN_BUILD_DIR:-$ROOT/build-tsan}" && ctest --output-on-failure -j "$(nproc)" --timeout 900 -L threads "$@")
