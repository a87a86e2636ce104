#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install dependencies, build, fetch MNIST, then
# evaluate the shipped model on the 10,000 test images (a digit, its prediction, the accuracy
# and the timings). Extra arguments go to `mnist eval` (e.g. --index 42, --threads 1).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/install_deps.sh"
"$ROOT/scripts/build.sh" -DMNIST_BUILD_TESTS=OFF
"$ROOT/scripts/fetch_data.sh"
exec "$ROOT/build/mnist" eval "$ROOT/models/mnist-fc-f32.gguf" \
  "$ROOT/data/mnist/t10k-images-idx3-ubyte" "$ROOT/data/mnist/t10k-labels-idx1-ubyte" "$@"
