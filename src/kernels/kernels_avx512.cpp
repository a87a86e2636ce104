// AVX-512 kernels: 16-float registers; GEMM tiles of 24 accumulators (of 32 zmm): 48 x 8, 32 x 12
// and 16 x 24 (kernels/gemm_impl.h picks by the product's rows).
#define MN_KERNEL_NS kernels_avx512
#define MN_CPU_LEVEL CpuLevel::Avx512
#define MN_VEC_FLOATS 16
#define MN_GEMM_MV 3
#define MN_GEMM_NR 8
#include "kernels/kernels_impl.h"
