#!/usr/bin/env bash
# The benchmarks on a fresh Debian 12 machine, the peers at their best: installs what they need
# (OpenBLAS for PyTorch and for the GEMM baseline), builds with the kernel benchmarks, fetches
# MNIST, then prints the GEMM tables (bench/gemm.py) and the whole-job table against PyTorch
# (bench/compare.py; with GGML_BIN=DIR also against ggml's own mnist-eval / mnist-train built in
# DIR). Takes about 20 minutes on 2 cores; arguments go to compare.py (e.g. --jobs fc-eval).
# Run it on an otherwise idle machine: the figures are only as quiet as the machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/install_deps.sh" libopenblas0-pthread libopenblas0-openmp
"$ROOT/scripts/build.sh" -DMNIST_BUILD_TESTS=OFF -DMNIST_BUILD_BENCH=ON
"$ROOT/scripts/fetch_data.sh"
/usr/bin/python3 "$ROOT/bench/gemm.py"
echo
exec /usr/bin/python3 "$ROOT/bench/compare.py" ${GGML_BIN:+--ggml-bin "$GGML_BIN"} "$@"
