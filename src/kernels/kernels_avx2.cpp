// AVX2 + FMA kernels: 8-float registers; GEMM tiles of 12 accumulators (of 16 ymm): 24 x 4, 16 x 6
// and 8 x 12 (kernels/gemm_impl.h picks by the product's rows).
#define MN_KERNEL_NS kernels_avx2
#define MN_CPU_LEVEL CpuLevel::Avx2
#define MN_VEC_FLOATS 8
#define MN_GEMM_MV 3
#define MN_GEMM_NR 4
#include "kernels/kernels_impl.h"
