#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: install dependencies, build with tests (and
# the kernel benchmarks, which a smoke test runs briefly),
# fetch MNIST and Fashion-MNIST (the end-to-end tests run on the real data), run ctest, then
# the unit tests built for WebAssembly (scripts/test_wasm.sh), the suite again under ASan + UBSan
# and its threaded part under TSan (scripts/test_sanitizers.sh), and every fuzz target for 10 s
# over its corpus (scripts/fuzz.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/install_deps.sh"
"$ROOT/scripts/build.sh" -DMNIST_BUILD_TESTS=ON -DMNIST_BUILD_BENCH=ON
"$ROOT/scripts/fetch_data.sh"
"$ROOT/scripts/fetch_fashion_mnist.sh"
(cd "${BUILD_DIR:-$ROOT/build}" && ctest --output-on-failure -j "$(nproc)" --timeout 600 "$@")
"$ROOT/scripts/test_wasm.sh"
"$ROOT/scripts/test_sanitizers.sh"
FUZZ_JOBS=$(nproc) "$ROOT/scripts/fuzz.sh" "${FUZZ_SECONDS:-10}"
