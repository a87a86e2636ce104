#!/usr/bin/env bash
# The unit tests built for WebAssembly (Emscripten, with the WASM SIMD kernels) and run in
# node: every kernel level the browser build has (scalar, wasm-simd) against the same
# references as on x86. Part of scripts/test.sh; needs `emscripten` (scripts/install_deps.sh).
#   scripts/test_wasm.sh                 build in build-wasm/ and run
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="${WASM_BUILD_DIR:-$ROOT/build-wasm}"
# Emscripten's JS optimizer needs Debian's node modules (acorn), which a Node.js from
# elsewhere does not look for.
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"
emcmake cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DMNIST_BUILD_CLI=OFF -DMNIST_BUILD_TESTS=ON >/dev/null
cmake --build "$BUILD" -j "$(nproc)"
cd "$BUILD"
ctest --output-on-failure --timeout 600 "$@"
