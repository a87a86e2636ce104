// WebAssembly SIMD kernels (128-bit vectors), for the browser build: compiled only by
// Emscripten with -msimd128, where they are the one level there is besides scalar.
#define MN_KERNEL_NS kernels_wasm_simd
#define MN_CPU_LEVEL CpuLevel::WasmSimd
#define MN_VEC_FLOATS 4
#define MN_GEMM_MV 2
#define MN_GEMM_NR 6
#include "kernels/kernels_impl.h"
