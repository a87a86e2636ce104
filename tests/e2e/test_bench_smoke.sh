#!/usr/bin/env bash
# The benchmark scripts, in a tiny run (no timing is checked): bench/gemm.py makes its tables with
# OpenBLAS's kernel named, bench/compare.py its table with PyTorch's BLAS named, both with
# OpenBLAS's overrides unset for the peers' processes only; against the reference BLAS
# compare.py prints no ratio. bench/web/export.py (the browser benchmark's peer models) writes
# both shipped models for ONNX Runtime Web and TensorFlow.js, with PyTorch's predictions.
. "$(dirname "$0")/lib.sh"
need_data
/usr/bin/python3 -c "import torch" 2>/dev/null || skip "python3-torch is not installed (scripts/install_deps.sh installs it)"
BENCH=${MNIST_BUILD_DIR:?}/bench/bench_kernels
[ -x "$BENCH" ] || skip "bench_kernels is not built (scripts/build.sh -DMNIST_BUILD_BENCH=ON; scripts/test.sh does)"

# The peers' environment drops OpenBLAS's overrides, whatever ours holds.
OPENBLAS_CORETYPE=Prescott OPENBLAS_L2_SIZE=1 /usr/bin/python3 -c "
import sys; sys.path.insert(0, '$SRC/bench'); import machine, os
env = machine.peer_env()
assert 'OPENBLAS_CORETYPE' not in env and 'OPENBLAS_L2_SIZE' not in env, env
assert os.environ['OPENBLAS_CORETYPE'] == 'Prescott'
assert machine.peer_env('Haswell')['OPENBLAS_CORETYPE'] == 'Haswell'
" || fail "peer_env keeps OpenBLAS's overrides"

OPENBLAS_CORETYPE=Prescott /usr/bin/python3 "$SRC/bench/gemm.py" --smoke --bin "$BENCH" | tee "$TMP/gemm"
grep -q '^machine: .*family .* model .*L1d' "$TMP/gemm" || fail "gemm.py does not name the CPU and its caches"
grep -q 'kernel [A-Za-z0-9]* (chosen by OpenBLAS for this CPU)' "$TMP/gemm" || fail "gemm.py does not name OpenBLAS's kernel"
grep -q 'kernel Prescott' "$TMP/gemm" && fail "gemm.py let OPENBLAS_CORETYPE through to OpenBLAS"
grep -Eq '^\| 10 x 500 x 500, fc2 batch 500 \| 1 \| [0-9.]+ ms \| [0-9.]+ ms \| [0-9]+% \|$' "$TMP/gemm" ||
  fail "gemm.py made no table row"

# The Winograd/direct pairs behind winograd_suits run and name their layers (every level here
# that the CPU has; a level it lacks says so).
"$BENCH" --benchmark_filter='BM_conv_pool/avx2' --benchmark_min_time=0.01 > "$TMP/pool" 2>&1 || fail "BM_conv_pool failed"
for kernel in direct winograd; do
  grep -Eq "^BM_conv_pool/avx2_$kernel/2 .*(ggml conv2 batch 500|not supported)" "$TMP/pool" ||
    fail "BM_conv_pool made no $kernel row: $(cat "$TMP/pool")"
done

OPENBLAS_CORETYPE=Prescott /usr/bin/python3 "$SRC/bench/compare.py" --mnist-bin "$BIN" --jobs fc-eval --runs 1 --passes 1 \
  > "$TMP/cmp" 2>/dev/null || fail "compare.py failed"
cat "$TMP/cmp"
grep -q '^PyTorch: torch=.* kind=openblas core=[A-Za-z0-9]* threads=openmp' "$TMP/cmp" ||
  fail "compare.py does not name PyTorch's BLAS, or it is not OpenBLAS's OpenMP build"
grep -q 'core=Prescott' "$TMP/cmp" && fail "compare.py let OPENBLAS_CORETYPE through to PyTorch"
grep -Eq '^\| FC eval.* \| [0-9.]+x \| [0-9.]+ s \| [0-9.]+ s \| [0-9.]+x \|' "$TMP/cmp" || fail "compare.py made no row with ratios"

# Against a BLAS short of the best, no ratio: compare.py run with LIBDIR's libblas.so.3 first
# must see it (SEEN, a pattern of its PyTorch line) and say why it prints no ratio.
no_ratio_on() {
  local libdir=$1 name=$2 seen=$3 out=$TMP/$2
  [ -e "$libdir/libblas.so.3" ] || return 0
  LD_LIBRARY_PATH=$libdir /usr/bin/python3 "$SRC/bench/compare.py" --mnist-bin "$BIN" --jobs fc-eval --runs 1 --passes 1 \
    > "$out" 2>/dev/null || fail "compare.py failed on the $name BLAS"
  grep -q "$seen" "$out" || fail "compare.py did not see the $name BLAS: $(cat "$out")"
  grep -q 'no ratios are printed' "$out" || fail "compare.py does not say why there are no ratios ($name)"
  grep '^| FC eval' "$out" | grep -Eq '[0-9.]+x' && fail "compare.py printed a ratio against the $name BLAS"
  echo "$name BLAS: no ratios, as it should"
}
no_ratio_on /usr/lib/x86_64-linux-gnu/blas reference 'kind=reference'
# OpenBLAS's pthread build (Debian's default), whose threads oversubscribe PyTorch's
no_ratio_on /usr/lib/x86_64-linux-gnu/openblas-pthread pthread-openblas 'threads=pthreads'

rc=0
/usr/bin/python3 "$SRC/bench/compare.py" --ggml-bin "$TMP/nowhere" --jobs fc-eval > /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" != 0 ] && grep -q 'no mnist-eval' "$TMP/err" || fail "compare.py accepted a --ggml-bin without ggml's tools"
# export.py: the ONNX files, the raw weights in TensorFlow.js's layouts (checked by running the FC
# network from them in numpy: the same argmax as PyTorch's), and PyTorch reading the digits.
/usr/bin/python3 "$SRC/bench/web/export.py" "$TMP/exported" "$DATA" "$SRC/models/mnist-fc-f32.gguf" \
  "$SRC/models/mnist-cnn-f32.gguf" | tee "$TMP/export" || fail "export.py failed"
/usr/bin/python3 - "$TMP/exported" "$DATA" <<'PY' || fail "export.py wrote a wrong manifest, ONNX file or weights"
import json, os, sys
import numpy as np
out = sys.argv[1]
m = json.load(open(os.path.join(out, "models.json")))
assert sorted(m) == ["mnist-cnn-f32", "mnist-fc-f32"], sorted(m)
for stem, parameters in (("mnist-fc-f32", 397510), ("mnist-cnn-f32", 34826)):
    e = m[stem]
    assert os.path.getsize(os.path.join(out, e["onnx"])) > 4 * parameters, f"{stem}: the ONNX file is short"
    blob = np.fromfile(os.path.join(out, e["weights"]), np.float32)
    assert blob.size == parameters, (stem, blob.size)
    assert len(e["torch_argmax"]) == 100 and set(e["torch_argmax"]) <= set(range(10)), stem
fc = m["mnist-fc-f32"]
blob = np.fromfile(os.path.join(out, fc["weights"]), np.float32)
w = {t["name"]: blob[t["offset"]:t["offset"] + int(np.prod(t["shape"]))].reshape(t["shape"]) for t in fc["tensors"]}
raw = open(os.path.join(sys.argv[2], "t10k-images-idx3-ubyte"), "rb").read()
x = np.frombuffer(raw, np.uint8, 100 * 784, 16).reshape(100, 784).astype(np.float32) / 255
h = np.maximum(x @ w["fc1.weight"] + w["fc1.bias"], 0)  # [in, out] layouts, as TensorFlow.js reads them
assert (h @ w["fc2.weight"] + w["fc2.bias"]).argmax(1).tolist() == fc["torch_argmax"], "TF.js weights differ from PyTorch"
PY
grep -Eq '^export: mnist-cnn-f32: .* reads (9[5-9]|100) of the first 100 test digits right' "$TMP/export" ||
  fail "PyTorch did not read the test digits with the exported CNN"

echo "benchmark scripts: ok"
