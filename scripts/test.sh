#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: install dependencies (Debian's and the
# browser tests' npm package), build with tests (and the kernel benchmarks, which a smoke test
# runs briefly), fetch MNIST and Fashion-MNIST (the end-to-end tests run on the real data), build
# the web demo (its page is tested in headless Chromium), run ctest, then the unit tests built
# for WebAssembly (scripts/test_wasm.sh). ctest also replays every fuzz target's seeds and
# regression inputs and runs the limit, kill, full-disk and server load/abuse tests. The
# sanitizer suites (scripts/test_sanitizers.sh) and fuzzing (scripts/fuzz.sh) are commands of
# their own: with them this suite would take longer than the 20 minutes it must stay in on
# 2 cores (README, "Hardening").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/install_deps.sh"
"$ROOT/scripts/install_npm.sh"
"$ROOT/scripts/build.sh" -DMNIST_BUILD_TESTS=ON -DMNIST_BUILD_BENCH=ON
"$ROOT/scripts/fetch_data.sh"
"$ROOT/scripts/fetch_fashion_mnist.sh"
"$ROOT/scripts/build_web.sh"
(cd "${BUILD_DIR:-$ROOT/build}" && ctest --output-on-failure -j "$(nproc)" --timeout 600 "$@")
"$ROOT/scripts/test_wasm.sh"
