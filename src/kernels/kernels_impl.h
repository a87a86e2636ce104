// One implementation of every kernel, compiled once per SIMD level. The including file defines:
//   MN_KERNEL_NS    namespace of the level (kernels_scalar, kernels_avx2, ...)
//   MN_CPU_LEVEL    its CpuLevel
//   MN_VEC_FLOATS   floats per SIMD register (1 = plain scalar code)
//   MN_GEMM_MV      registers per micro-tile column (micro-tile height MR = MV * VEC_FLOATS)
//   MN_GEMM_NR      micro-tile width (columns of C kept in registers)
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
#if MN_VEC_FLOATS > 1
typedef float V __attribute__((vector_size(MN_VEC_FLOATS * sizeof(float))));
#else
typedef float V;
#endif
// Register tiles: MV vectors tall (MR = MV * W rows of C) by NR columns. The wide tile is the
// default; a product with few rows (a CNN layer with 8 or 16 channels) would waste most of it,
// so it gets a tile one vector tall and twice as wide, with as many accumulators.
struct WideTile {
    static constexpr int MV = MN_GEMM_MV, NR = MN_GEMM_NR;
};
struct NarrowTile {
    static constexpr int MV = 1, NR = MN_GEMM_MV * MN_GEMM_NR;
};

// Cache blocking (BLIS-style): a KC x NR sliver of B stays in L1 while MR x KC slivers of A
// stream from an MC x KC block kept in L2; the KC x NC block of B is reused across all of A.
constexpr int64_t KC = 256;
// The depth of the k blocks for a product of depth k: as few blocks of at most KC as cover it,
// of equal depth (784 = 4 x 196, not 3 x 256 + 16: a thin last block pays the full cost of
// loading and storing C for little work).
inline int64_t k_block(int64_t k) {
    const int64_t blocks = (k + KC - 1) / KC;
    return (k + blocks - 1) / blocks;
}
constexpr int64_t MC = 480;  // a multiple of every MR
constexpr int64_t NC_TILES = 96;  // NC = NR * NC_TILES

#include "kernels/zero_mask_impl.h"
static_assert(KC == 64 * kMaskWords, "a mask covers one k block");

inline V loadu(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof(V));
    return v;
}
inline void storeu(float* p, V v) { std::memcpy(p, &v, sizeof(V)); }
// One broadcast instruction (that can fold its memory operand into the FMA); the generic forms
// `V{} + x` or an element-wise fill make GCC emit extra adds or shuffles.
inline V splat(float x) {
#if MN_VEC_FLOATS == 16
    return reinterpret_cast<V>(_mm512_set1_ps(x));
#elif MN_VEC_FLOATS == 8
    return reinterpret_cast<V>(_mm256_set1_ps(x));
#elif MN_VEC_FLOATS == 4 && defined(__wasm_simd128__)
    return reinterpret_cast<V>(wasm_f32x4_splat(x));
#elif MN_VEC_FLOATS > 1
    V v;
    for (int i = 0; i < W; ++i) v[i] = x;
    return v;
#else
    return x;
#endif
}
// x where gate > 0, else 0 (a relu's gradient, gated by the relu's output).
inline V keep_where_positive(V x, V gate) {
#if MN_VEC_FLOATS > 1
    return gate > V{} ? x : V{};
#else
    return gate > 0.0f ? x : 0.0f;
#endif
}
inline V max0(V x) {
#if MN_VEC_FLOATS > 1
    return x > V{} ? x : V{};  // lane-wise select
#else
    return x > 0.0f ? x : 0.0f;
#endif
}
inline float hsum(V v) {
#if MN_VEC_FLOATS > 1
    float s = 0;
    for (int i = 0; i < W; ++i) s += v[i];
    return s;
#else
    return v;
#endif
}

// Packs an mc x kc block of a row-major operand x(r, p) = x[r*ld + p] (or, transposed,
// x[p*ld + r]) into panels of R rows laid out p-major: panel[p * R + r]; rows past mc are zero.
// A is packed with R = MR, B with R = NR.
#if MN_VEC_FLOATS >= 8
// Eight rows of 8 floats (row r at x + r * ld) transposed into dst[c * stride + r]: the 8 x 8
// block of a panel, in 24 register shuffles instead of 64 scalar moves.
inline void transpose8x8(const float* x, int64_t ld, float* dst, int64_t stride) {
    __m256 r0 = _mm256_loadu_ps(x), r1 = _mm256_loadu_ps(x + ld), r2 = _mm256_loadu_ps(x + 2 * ld),
           r3 = _mm256_loadu_ps(x + 3 * ld), r4 = _mm256_loadu_ps(x + 4 * ld), r5 = _mm256_loadu_ps(x + 5 * ld),
           r6 = _mm256_loadu_ps(x + 6 * ld), r7 = _mm256_loadu_ps(x + 7 * ld);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
                 t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
                 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
                 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
                 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
                 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(dst + 0 * stride, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(dst + 1 * stride, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(dst + 2 * stride, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(dst + 3 * stride, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(dst + 4 * stride, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(dst + 5 * stride, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(dst + 6 * stride, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(dst + 7 * stride, _mm256_permute2f128_ps(u3, u7, 0x31));
}
#endif

template <int R>
void pack_panels(const float* x, int64_t ld, bool trans, int64_t mc, int64_t kc, float* dst) {
    for (int64_t ir = 0; ir < mc; ir += R) {
        const int64_t rows = std::min<int64_t>(R, mc - ir);
#if MN_VEC_FLOATS >= 8
        if constexpr (R % 8 == 0) {
            // Whole panels of rows stored one after another (images of a batch, B of a forward
            // product): transpose them 8 x 8 at a time.
            if (!trans && rows == R) {
                int64_t p = 0;
                for (; p + 8 <= kc; p += 8)
                    for (int r0 = 0; r0 < R; r0 += 8) transpose8x8(x + (ir + r0) * ld + p, ld, dst + p * R + r0, R);
                for (; p < kc; ++p)
                    for (int r = 0; r < R; ++r) dst[p * R + r] = x[(ir + r) * ld + p];
                dst += kc * R;
                continue;
            }
        }
#endif
        if (trans) {
            for (int64_t p = 0; p < kc; ++p) {
                const float* src = x + p * ld + ir;
                for (int64_t r = 0; r < rows; ++r) dst[p * R + r] = src[r];
                for (int64_t r = rows; r < R; ++r) dst[p * R + r] = 0.0f;
            }
        } else {
            for (int64_t r = 0; r < rows; ++r) {
                const float* src = x + (ir + r) * ld;
                for (int64_t p = 0; p < kc; ++p) dst[p * R + r] = src[p];
            }
            for (int64_t r = rows; r < R; ++r)
                for (int64_t p = 0; p < kc; ++p) dst[p * R + r] = 0.0f;
        }
        dst += kc * R;
    }
}

// Packs columns [j0, j0+nc) x depth [p0, p0+kc) of an implicit im2col matrix into NR-wide
// panels, reading the image directly (see ConvGather). Depth runs over (c, kx) for each ky, so
// each tap is a contiguous run of C values of the image.
template <int NR>
void pack_gather(const ConvGather& g, int64_t j0, int64_t p0, int64_t nc, int64_t kc, float* dst) {
    for (int64_t jr = 0; jr < nc; jr += NR) {
        const int64_t cols = std::min<int64_t>(NR, nc - jr);
        for (int64_t col = 0; col < NR; ++col) {
            float* d = dst + col;
            if (col >= cols) {
                for (int64_t i = 0; i < kc; ++i) d[i * NR] = 0.0f;
                continue;
            }
            const int64_t j = j0 + jr + col;
            const int64_t ox = j % g.ow, oy = (j / g.ow) % g.oh, n = j / (g.ow * g.oh);
            const int64_t x0 = ox * g.stride - g.pad, y0 = oy * g.stride - g.pad;
            const float* image = g.x + n * g.sn;
            // Walk the taps from p0 without dividing per element.
            int64_t c0 = p0 % g.c, tap = p0 / g.c;
            int64_t kx = tap % g.kw, ky = tap / g.kw;
            for (int64_t i = 0; i < kc;) {
                const int64_t ix = x0 + kx, iy = y0 + ky;
                const int64_t run = std::min(g.c - c0, kc - i);  // the rest of this tap's channels
                float* out = d + i * NR;
                if (ix >= 0 && ix < g.w && iy >= 0 && iy < g.h) {
                    const float* in = image + iy * g.sy + ix * g.sx + c0;
                    for (int64_t r = 0; r < run; ++r) out[r * NR] = in[r];
                } else {
                    for (int64_t r = 0; r < run; ++r) out[r * NR] = 0.0f;
                }
                i += run;
                c0 = 0;
                if (++kx == g.kw) {
                    kx = 0;
                    ++ky;
                }
            }
        }
        dst += kc * NR;
    }
}

struct Epilogue {
    bool accumulate;  // add to what C holds
    const float* bias;  // applied on the last k block only
    bool relu;
    const float* gate;  // the tile's corner in GemmArgs::gate, or null; last k block only
    int64_t ldgate;
};

// The register tile: an MR x NR block of C accumulated over kc steps of packed A and B, or over
// the steps set in `mask` alone (zero_mask_impl.h).
template <int MV, int NR>
void micro_kernel(int64_t kc, const uint64_t* mask, const float* pa, const float* pb, float* c, int64_t ldc,
                  int64_t rows, int64_t cols, const Epilogue& ep) {
    constexpr int MR = MV * W;
    V acc[NR][MV];
#pragma GCC unroll 32
    for (int j = 0; j < NR; ++j)
#pragma GCC unroll 4
        for (int v = 0; v < MV; ++v) acc[j][v] = V{};
    // The tile of C is read or written after the loop: fetch it while the loop runs.
#pragma GCC unroll 32
    for (int j = 0; j < NR; ++j)
        if (j < cols)
            for (int r = 0; r < MR; r += 16) __builtin_prefetch(c + j * ldc + r, 1);

    const auto step = [&](int64_t p) __attribute__((always_inline)) {
        const float* ap = pa + p * MR;
        const float* bp = pb + p * NR;
        V a[MV];
#pragma GCC unroll 4
        for (int v = 0; v < MV; ++v) a[v] = loadu(ap + v * W);
#pragma GCC unroll 32
        for (int j = 0; j < NR; ++j) {
            const V b = splat(bp[j]);
#pragma GCC unroll 4
            for (int v = 0; v < MV; ++v) acc[j][v] += a[v] * b;
        }
    };
    if (mask)
        for_each_step(mask, kc, step);
    else
        for (int64_t p = 0; p < kc; ++p) step(p);

    if (rows == MR) {  // a full tile: the epilogue in registers
        V bias[MV];
        for (int v = 0; v < MV; ++v) bias[v] = ep.bias ? loadu(ep.bias + v * W) : V{};
#pragma GCC unroll 32
        for (int j = 0; j < NR; ++j) {
            if (j >= cols) break;
            float* cj = c + j * ldc;
#pragma GCC unroll 4
            for (int v = 0; v < MV; ++v) {
                V x = acc[j][v] + bias[v];
                if (ep.accumulate) x += loadu(cj + v * W);
                if (ep.relu) x = max0(x);
                if (ep.gate) x = keep_where_positive(x, loadu(ep.gate + j * ep.ldgate + v * W));
                storeu(cj + v * W, x);
            }
        }
        return;
    }
    float tile[MR];
    for (int64_t j = 0; j < cols; ++j) {
        float* cj = c + j * ldc;
        for (int v = 0; v < MV; ++v) storeu(tile + v * W, acc[j][v]);
        for (int64_t r = 0; r < rows; ++r) {
            float x = tile[r];
            if (ep.accumulate) x += cj[r];
            if (ep.bias) x += ep.bias[r];
            if (ep.relu) x = x > 0.0f ? x : 0.0f;
            if (ep.gate && !(ep.gate[j * ep.ldgate + r] > 0.0f)) x = 0.0f;
            cj[r] = x;
        }
    }
}

size_t gemm_workspace(int64_t m, int64_t n, int64_t k) {
    // Enough for either tile: at most MC rows of A and NC columns of B, k-block deep.
    const int64_t kc = std::min(k, KC);
    const int64_t nr_max = std::max(WideTile::NR, NarrowTile::NR);
    const int64_t mc = std::min<int64_t>(((m + W - 1) / W) * W + WideTile::MV * W, MC);
    const int64_t nc = std::min<int64_t>(((n + nr_max - 1) / nr_max) * nr_max, nr_max * NC_TILES);
    return static_cast<size_t>((mc + nc) * kc) * sizeof(float) + 64;
}

// Few columns: packing all of A would cost as much as the product itself, so take dot
// products straight from the rows (this is the single-image path). Four rows at a time, two
// accumulators each: eight independent FMA chains hide the FMA latency, and each load of b
// feeds four rows.
inline float finish(float x, const GemmArgs& g, int64_t i, int64_t j) {
    if (g.accumulate) x += g.c[j * g.ldc + i];
    if (g.bias) x += g.bias[i];
    if (g.relu && x < 0.0f) x = 0.0f;
    if (g.gate && !(g.gate[j * g.ldgate + i] > 0.0f)) x = 0.0f;
    return x;
}

void gemm_by_dots(const GemmArgs& g) {
    for (int64_t j = 0; j < g.n; ++j) {
        const float* bj = g.b + j * g.ldb;
        float* cj = g.c + j * g.ldc;
        int64_t i = 0;
        for (; i + 4 <= g.m; i += 4) {
            const float* a0 = g.a + i * g.lda;
            const float* a1 = a0 + g.lda;
            const float* a2 = a1 + g.lda;
            const float* a3 = a2 + g.lda;
            V s0 = V{}, s1 = V{}, s2 = V{}, s3 = V{}, t0 = V{}, t1 = V{}, t2 = V{}, t3 = V{};
            int64_t p = 0;
            for (; p + 2 * W <= g.k; p += 2 * W) {
                const V b0 = loadu(bj + p), b1 = loadu(bj + p + W);
                s0 += loadu(a0 + p) * b0;
                s1 += loadu(a1 + p) * b0;
                s2 += loadu(a2 + p) * b0;
                s3 += loadu(a3 + p) * b0;
                t0 += loadu(a0 + p + W) * b1;
                t1 += loadu(a1 + p + W) * b1;
                t2 += loadu(a2 + p + W) * b1;
                t3 += loadu(a3 + p + W) * b1;
            }
            float x[4] = {hsum(s0 + t0), hsum(s1 + t1), hsum(s2 + t2), hsum(s3 + t3)};
            for (; p < g.k; ++p) {
                x[0] += a0[p] * bj[p];
                x[1] += a1[p] * bj[p];
                x[2] += a2[p] * bj[p];
                x[3] += a3[p] * bj[p];
            }
            for (int r = 0; r < 4; ++r) cj[i + r] = finish(x[r], g, i + r, j);
        }
        for (; i < g.m; ++i) {
            const float* ai = g.a + i * g.lda;
            V s0 = V{}, s1 = V{};
            int64_t p = 0;
            for (; p + 2 * W <= g.k; p += 2 * W) {
                s0 += loadu(ai + p) * loadu(bj + p);
                s1 += loadu(ai + p + W) * loadu(bj + p + W);
            }
            float x = hsum(s0 + s1);
            for (; p < g.k; ++p) x += ai[p] * bj[p];
            cj[i] = finish(x, g, i, j);
        }
    }
}

// A few columns times a pre-packed A (one image through a layer of weights packed at load):
// the packed panels are contiguous streams, and P panels at a time give P * MV independent
// accumulators, enough to hide the FMA latency, while each broadcast of b feeds them all.
template <class Tile, int P>
void gemv_panels(const GemmArgs& g, int64_t j, int64_t i0) {
    const float* b = g.b + j * g.ldb;
    float* c = g.c + j * g.ldc;
    constexpr int MR = Tile::MV * W, MV = Tile::MV;
    const int64_t m_all = g.a_packed_m ? g.a_packed_m : g.m;
    const int64_t m_padded = ((m_all + MR - 1) / MR) * MR;
    const int64_t kb = k_block(g.k);
    V acc[P][MV];
    for (int q = 0; q < P; ++q)
        for (int v = 0; v < MV; ++v) acc[q][v] = V{};
    for (int64_t pc = 0; pc < g.k; pc += kb) {
        const int64_t kc = std::min(kb, g.k - pc);
        const float* pa = g.a_packed + pc * m_padded + (g.a_packed_row + i0) * kc;
        const auto step = [&](int64_t p) __attribute__((always_inline)) {
            const V bv = splat(b[pc + p]);
#pragma GCC unroll 4
            for (int q = 0; q < P; ++q)
#pragma GCC unroll 4
                for (int v = 0; v < MV; ++v) acc[q][v] += loadu(pa + p * MR + q * kc * MR + v * W) * bv;
        };
        // An image is mostly zero pixels, a relu's output often too: skip the weights they
        // would multiply (zero_mask_impl.h).
        PanelMask mask;
        if (worth_skipping(vector_mask(b + pc, kc, mask), kc))
            for_each_step(mask, kc, step);
        else
            for (int64_t p = 0; p < kc; ++p) step(p);
    }
    float tile[MR];
    for (int q = 0; q < P; ++q) {
        for (int v = 0; v < MV; ++v) storeu(tile + v * W, acc[q][v]);
        const int64_t first = i0 + q * MR, rows = std::min<int64_t>(MR, g.m - first);
        for (int64_t r = 0; r < rows; ++r) c[first + r] = finish(tile[r], g, first + r, j);
    }
}

template <class Tile>
void gemv_packed(const GemmArgs& g) {
    constexpr int MR = Tile::MV * W;
    for (int64_t j = 0; j < g.n; ++j) {
        int64_t i0 = 0;
        for (; (g.m - i0 + MR - 1) / MR >= 4; i0 += 4 * MR) gemv_panels<Tile, 4>(g, j, i0);
        switch ((g.m - i0 + MR - 1) / MR) {  // the panels left, the last one possibly partial
            case 3: gemv_panels<Tile, 3>(g, j, i0); break;
            case 2: gemv_panels<Tile, 2>(g, j, i0); break;
            case 1: gemv_panels<Tile, 1>(g, j, i0); break;
            default: break;
        }
    }
}

template <class Tile>
void gemm_tiled(const GemmArgs& g, void* workspace) {
    constexpr int MR = Tile::MV * W, NR = Tile::NR;
    constexpr int64_t NC = NR * NC_TILES;
    float* ws = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(workspace) + 63) & ~uintptr_t(63));
    const int64_t kc_max = std::min(g.k, KC);
    float* packed_a = ws;
    float* packed_b = ws + std::min<int64_t>(((g.m + MR - 1) / MR) * MR, MC) * kc_max;
    PanelMask a_masks[MC / MR], b_masks[NC_TILES];

    for (int64_t jc = 0; jc < g.n; jc += NC) {
        const int64_t nc = std::min(NC, g.n - jc);
        const int64_t kb = k_block(g.k);
        for (int64_t pc = 0; pc < g.k; pc += kb) {
            const int64_t kc = std::min(kb, g.k - pc);
            const bool last_k = pc + kc == g.k;
            const Epilogue ep{g.accumulate || pc > 0, last_k ? g.bias : nullptr, last_k && g.relu,
                              last_k ? g.gate : nullptr, g.ldgate};
            if (g.b_gather) {
                pack_gather<NR>(*g.b_gather, g.b_first_column + jc, pc, nc, kc, packed_b);
            } else {
                const float* b_block = g.b_trans ? g.b + pc * g.ldb + jc : g.b + jc * g.ldb + pc;
                pack_panels<NR>(b_block, g.ldb, g.b_trans, nc, kc, packed_b);
            }
            // Which steps of each panel of B, and below of A, are not all zero.
            for (int64_t jr = 0; jr < nc; jr += NR) panel_mask<NR>(packed_b + (jr / NR) * kc * NR, kc, b_masks[jr / NR]);
            for (int64_t ic = 0; ic < g.m; ic += MC) {
                const int64_t mc = std::min(MC, g.m - ic);
                const float* pa = packed_a;
                if (g.a_packed) {  // see pack_a_whole
                    const int64_t m_all = g.a_packed_m ? g.a_packed_m : g.m;
                    pa = g.a_packed + pc * (((m_all + MR - 1) / MR) * MR) + (g.a_packed_row + ic) * kc;
                } else {
                    const float* a_block = g.a_trans ? g.a + pc * g.lda + ic : g.a + ic * g.lda + pc;
                    pack_panels<MR>(a_block, g.lda, g.a_trans, mc, kc, packed_a);
                }
                // (A scan costs 1/nc of the products that follow on the block.)
                for (int64_t ir = 0; ir < mc; ir += MR) panel_mask<MR>(pa + ir * kc, kc, a_masks[ir / MR]);
                Epilogue ep_block = ep;
                if (ep.bias) ep_block.bias = ep.bias + ic;
                if (ep.gate) ep_block.gate = ep.gate + jc * ep.ldgate + ic;
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    const float* pb = packed_b + (jr / NR) * kc * NR;
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        Epilogue ep_tile = ep_block;
                        if (ep_tile.bias) ep_tile.bias += ir;
                        if (ep_tile.gate) ep_tile.gate += jr * ep.ldgate + ir;
                        PanelMask both;
                        int64_t nonzero = 0;
                        for (int w = 0; w < kMaskWords; ++w) {
                            both[w] = b_masks[jr / NR][w] & a_masks[ir / MR][w];
                            nonzero += __builtin_popcountll(both[w]);
                        }
                        micro_kernel<Tile::MV, NR>(kc, worth_skipping(nonzero, kc) ? both : nullptr,
                                                   pa + (ir / MR) * kc * MR, pb,
                                                   g.c + (jc + jr) * g.ldc + ic + ir, g.ldc,
                                                   std::min<int64_t>(MR, mc - ir), std::min<int64_t>(NR, nc - jr),
                                                   ep_tile);
                    }
                }
            }
        }
    }
}

// All of A in gemm_tiled's order: k blocks of k_block(k), each holding every row (padded to MR) as
// MR-row panels, so block (pc, ic) starts at pc * m_padded + ic * kc, and the panel of row r
// (a multiple of MR) at pc * m_padded + r * kc. Packs rows [row_begin, row_end) of that.
template <class Tile>
void pack_a_whole(const float* a, int64_t lda, bool trans, int64_t m, int64_t k, int64_t row_begin, int64_t row_end,
                  float* dst) {
    constexpr int MR = Tile::MV * W;
    const int64_t m_padded = ((m + MR - 1) / MR) * MR;
    const int64_t kb = k_block(k);
    for (int64_t pc = 0; pc < k; pc += kb) {
        const int64_t kc = std::min(kb, k - pc);
        const float* block = trans ? a + pc * lda + row_begin : a + row_begin * lda + pc;
        pack_panels<MR>(block, lda, trans, row_end - row_begin, kc, dst + pc * m_padded + row_begin * kc);
    }
}

bool narrow(int64_t m) { return W > 1 && m <= W; }

size_t packed_a_floats(int64_t m, int64_t k) {
    const int64_t mr = narrow(m) ? NarrowTile::MV * W : WideTile::MV * W;
    return static_cast<size_t>(((m + mr - 1) / mr) * mr * k);
}

int64_t pack_a_grain(int64_t m) { return narrow(m) ? NarrowTile::MV * W : WideTile::MV * W; }

void pack_a(const float* a, int64_t lda, bool trans, int64_t m, int64_t k, int64_t row_begin, int64_t row_end,
            float* dst) {
    if (row_begin >= row_end) return;
    if (narrow(m))
        pack_a_whole<NarrowTile>(a, lda, trans, m, k, row_begin, row_end, dst);
    else
        pack_a_whole<WideTile>(a, lda, trans, m, k, row_begin, row_end, dst);
}

void gemm(const GemmArgs& g, void* workspace) {
    if (g.m <= 0 || g.n <= 0) return;
    // Packed A is laid out for the tile of the whole matrix, of which this call may be a part.
    const bool narrow_tile = narrow(g.a_packed && g.a_packed_m ? g.a_packed_m : g.m);
    if (g.k > 0 && g.n < WideTile::NR / 2 && g.a_packed && !g.b_trans && !g.b_gather) {
        if (narrow_tile)
            gemv_packed<NarrowTile>(g);
        else
            gemv_packed<WideTile>(g);
        return;
    }
    if (g.k == 0 || (g.n < WideTile::NR / 2 && !g.a_trans && !g.b_trans && !g.b_gather)) {
        gemm_by_dots(g);
        return;
    }
    if (narrow_tile)
        gemm_tiled<NarrowTile>(g, workspace);
    else
        gemm_tiled<WideTile>(g, workspace);
}

float dot(const float* a, const float* b, int64_t n) {
    V s0 = V{}, s1 = V{};
    int64_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
        s0 += loadu(a + i) * loadu(b + i);
        s1 += loadu(a + i + W) * loadu(b + i + W);
    }
    float s = hsum(s0 + s1);
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

void add(float* y, const float* a, const float* b, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W) storeu(y + i, loadu(a + i) + loadu(b + i));
    for (; i < n; ++i) y[i] = a[i] + b[i];
}

// Counter-based dropout: element i is kept when a 24-bit hash of (key, first + i) is at or above
// the threshold. Plain integer loops that the compiler vectorises (64-bit multiplies on AVX-512).
inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void dropout(const float* x, float* y, int64_t n, uint64_t key, uint64_t first, uint64_t threshold, float scale) {
    for (int64_t i = 0; i < n; ++i) {
        const bool keep = (mix64(key ^ mix64(first + static_cast<uint64_t>(i))) >> 40) >= threshold;
        y[i] = keep ? x[i] * scale : 0.0f;
    }
}

void relu(float* y, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

#include "kernels/vec_impl.h"
#include "kernels/pool_impl.h"
#include "kernels/conv_direct_impl.h"
#include "kernels/conv_weight_grad_impl.h"

}  // namespace

const KernelTable& table() {
    static const KernelTable t{MN_CPU_LEVEL, cpu_level_name(MN_CPU_LEVEL), gemm_workspace, gemm, packed_a_floats, pack_a, pack_a_grain,
                               conv_packed_floats, pack_conv_weights, conv_workspace, conv, conv_weight_grad,
                               max_pool_row, max_pool_backward_row, sum_rows,
                               dot, add, relu, dropout};
    return t;
}

}  // namespace mn::MN_KERNEL_NS
