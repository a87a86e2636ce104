// One implementation of every kernel, compiled once per SIMD level. The including file defines:
//   MN_KERNEL_NS    namespace of the level (kernels_scalar, kernels_avx2, ...)
//   MN_CPU_LEVEL    its CpuLevel
//   MN_VEC_FLOATS   floats per SIMD register (1 = plain scalar code)
//   MN_GEMM_MV      vectors per column of the tallest GEMM tile (its height MR = MV * VEC_FLOATS)
//   MN_GEMM_NR      that tile's width; MV * NR accumulators, as in every tile of the level
//                   (gemm_impl.h)
// and is compiled with that level's -m flags. GCC/Clang vector extensions turn the same source
// into AVX-512, AVX2 or WASM SIMD code.
#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#if MN_VEC_FLOATS >= 8
#include <immintrin.h>
#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

#include "kernels/kernels.h"

namespace mn::MN_KERNEL_NS {

namespace {

constexpr int W = MN_VEC_FLOATS;
#include "kernels/vec_impl.h"
typedef Vec<W> V;  // one register of the level

// The sum of a vector's lanes, as a tree of halves (a chain of W - 1 adds would wait on each).
inline float hsum(V v) {
#if MN_VEC_FLOATS >= 8
#if MN_VEC_FLOATS == 16
    const __m256 y = reinterpret_cast<__m256>(__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
                                              __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15));
#else
    const __m256 y = reinterpret_cast<__m256>(v);
#endif
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(y), _mm256_extractf128_ps(y, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    return _mm_cvtss_f32(_mm_add_ss(x, _mm_movehdup_ps(x)));
#elif MN_VEC_FLOATS > 1
    float t[W];
    std::memcpy(t, &v, sizeof t);
    for (int half = W / 2; half >= 1; half /= 2)
        for (int i = 0; i < half; ++i) t[i] += t[i + half];
    return t[0];
#else
    return v;
#endif
}

// Lanes [0, n) of a vector at p, 0 < n < W: the others read as 0 and are not written.
inline V load_first(const float* p, int64_t n) {
#if MN_VEC_FLOATS == 16
    return reinterpret_cast<V>(_mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p));
#elif MN_VEC_FLOATS == 8
    const __m256i lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return reinterpret_cast<V>(_mm256_maskload_ps(p, lanes));
#else
    V x{};
    std::memcpy(&x, p, size_t(n) * sizeof(float));
    return x;
#endif
}
inline void store_first(float* p, V x, int64_t n) {
#if MN_VEC_FLOATS == 16
    _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), reinterpret_cast<__m512>(x));
#else  // (AVX2's masked store, vmaskmovps, is microcoded and slow on AMD's cores)
    std::memcpy(p, &x, size_t(n) * sizeof(float));
#endif
}

#include "kernels/zero_mask_impl.h"
#include "kernels/gemm_impl.h"

void add(float* y, const float* a, const float* b, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W) store_vec<W>(y + i, load_vec<W>(a + i) + load_vec<W>(b + i));
    for (; i < n; ++i) y[i] = a[i] + b[i];
}

// Counter-based dropout: element i is kept when a 24-bit hash of (key, first + i) is at or above
// the threshold. Plain integer loops that the compiler vectorises (64-bit multiplies on AVX-512).
void dropout(const float* x, float* y, int64_t n, uint64_t key, uint64_t first, uint64_t threshold, float scale) {
    for (int64_t i = 0; i < n; ++i) {
        const bool keep = (mix64(key ^ mix64(first + static_cast<uint64_t>(i))) >> 40) >= threshold;
        y[i] = keep ? x[i] * scale : 0.0f;
    }
}

void relu(float* y, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

#include "kernels/pool_impl.h"
#include "kernels/conv_direct_impl.h"
#include "kernels/conv_winograd_impl.h"
#include "kernels/conv_weight_grad_impl.h"
#include "kernels/norm_impl.h"

}  // namespace

const KernelTable& table() {
    static const KernelTable t{
        .level = MN_CPU_LEVEL,
        .name = cpu_level_name(MN_CPU_LEVEL),
        .gemm_workspace = gemm_workspace,
        .gemm = gemm,
        .packed_a_floats = packed_a_floats,
        .pack_a = pack_a,
        .pack_a_grain = pack_a_grain,
        .conv_packed_floats = conv_packed_floats,
        .pack_conv_weights = pack_conv_weights,
        .conv_workspace = conv_workspace,
        .conv = conv,
        .winograd_packed_floats = winograd_packed_floats,
        .pack_winograd_weights = pack_winograd_weights,
        .winograd_workspace = winograd_workspace,
        .winograd_suits = winograd_suits,
        .conv_weight_grad = conv_weight_grad,
        .max_pool_row = max_pool_row,
        .max_pool_backward_row = max_pool_backward_row,
        .sum_rows = sum_rows,
        .channel_moments = channel_moments,
        .channel_affine = channel_affine,
        .add = add,
        .relu = relu,
        .dropout = dropout,
    };
    return t;
}

}  // namespace mn::MN_KERNEL_NS
