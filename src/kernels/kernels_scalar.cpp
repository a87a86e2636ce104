// Portable kernels: plain C++ with no SIMD intrinsics (the compiler may still vectorize loops).
#define MN_KERNEL_NS kernels_scalar
#define MN_CPU_LEVEL CpuLevel::Scalar
#define MN_VEC_FLOATS 1
#define MN_GEMM_MV 4
#define MN_GEMM_NR 4
#include "kernels/kernels_impl.h"
