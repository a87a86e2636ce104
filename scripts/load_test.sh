#!/usr/bin/env bash
# The server under load and abuse at the length the README reports (tests/e2e/test_serve_load.sh,
# which ctest runs for 3 s a measurement): wrk with 64 connections for SECONDS (default 30) on
# raw and PNG bodies, then 200 slow clients, half-closed and vanishing ones around a normal
# client, with the server's default timeout (10 s). Loopback only; the server stops at the end.
#   scripts/load_test.sh [SECONDS]     (needs build/mnist, or $BUILD_DIR/mnist, and data/mnist)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
mkdir -p "$BUILD/tests/tmp"
MNIST_BIN=$BUILD/mnist MNIST_SOURCE_DIR=$ROOT MNIST_DATA_DIR=$ROOT/data/mnist MNIST_TEST_TMP=$BUILD/tests/tmp \
  MNIST_LOAD_SECONDS=${1:-30} MNIST_LOAD_TIMEOUT=${MNIST_LOAD_TIMEOUT:-10} \
  bash "$ROOT/tests/e2e/test_serve_load.sh"
