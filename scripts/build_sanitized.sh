#!/usr/bin/env bash
# Builds mnist.cpp with clang and sanitizers, lean (-O1, line tables only), beside the Release
# build:
#   scripts/build_sanitized.sh address   ASan + UBSan into build-asan/ ($ASAN_BUILD_DIR): the
#                                        library, the CLI, the unit tests and the fuzz targets
#                                        as libFuzzer binaries (-DMNIST_FUZZ=ON)
#   scripts/build_sanitized.sh thread    TSan into build-tsan/ ($TSAN_BUILD_DIR): the CLI and
#                                        the unit tests of the thread pool, the executor, the
#                                        session and the trainer (the server's are end-to-end)
# Incremental: running it again rebuilds what changed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${JOBS:-$(nproc)}
case "${1:-}" in
  address)
    dir=${ASAN_BUILD_DIR:-$ROOT/build-asan}
    flags=(-DMNIST_SANITIZE=address,undefined -DMNIST_FUZZ=ON)
    targets=()
    ;;
  thread)
    dir=${TSAN_BUILD_DIR:-$ROOT/build-tsan}
    flags=(-DMNIST_SANITIZE=thread)
    targets=(--target mnist mnist_thread_tests make_test_images)
    ;;
  *) echo "usage: scripts/build_sanitized.sh address|thread" >&2; exit 2 ;;
esac
cmake -S "$ROOT" -B "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Sanitize \
  -DCMAKE_C_FLAGS_SANITIZE="-O1 -gline-tables-only" -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -gline-tables-only" \
  -DMNIST_BUILD_TESTS=ON -DMNIST_BUILD_BENCH=OFF "${flags[@]}" > /dev/null
cmake --build "$dir" -j "$JOBS" "${targets[@]}"
