// The GEMM, part of kernels_impl.h (included inside its namespace, after the vector helpers and
// zero_mask_impl.h): C = A·Bᵀ as kernels.h's GemmArgs describes it, BLIS-style.
//
//   for each NC-wide block of columns of B          (B block: kc x nc, packed, in L2/L3)
//     for each k block of depth kc                  (k split into equal blocks of at most KC)
//       pack B's block into NR-wide panels
//       for each MC-tall block of rows of A         (A block: mc x kc, packed, in L2)
//         pack A's block into MR-tall panels (or use A packed ahead, weights)
//         for each panel of B  (kc x NR, stays in L1)
//           for each panel of A  (MR x kc, streams from L2)
//             the register tile: C[MR x NR] (+)= A panel · B panelᵀ, then the epilogue
//
// The block sizes come from the caches this CPU reports (kernels.h: cpu_caches()), so the same
// code suits a 32 KB or a 48 KB L1 and a 512 KB, 1 MB or 2 MB L2.

// ---- register tiles --------------------------------------------------------------------------
// A tile is MV vectors tall (MR = MV * W rows of C) and NR columns wide: MV * NR accumulators,
// MV loads of A and NR broadcasts of B per step of the depth. Every tile of a level holds the
// same number of accumulators (MN_GEMM_MV * MN_GEMM_NR, all the registers can hold besides the
// loaded A vectors and one broadcast B value); a product with few rows (fc2's 10 classes, a
// convolution's 32 channels) takes a shorter, wider tile so that no lanes are wasted.
constexpr int kAccumulators = MN_GEMM_MV * MN_GEMM_NR;

template <int MV_>
struct Tile {
    static constexpr int MV = MV_, NR = kAccumulators / MV_, MR = MV_ * W;
};
// The tiles of this level: MV = 1 .. MN_GEMM_MV where it divides the accumulators.
constexpr bool tile_exists(int mv) { return mv >= 1 && mv <= MN_GEMM_MV && kAccumulators % mv == 0; }

// The tile for a product of m rows: the one-vector tile if it covers m, else the tile of two or
// more vectors that pads m least (ties to the shorter one, whose wider B panel costs fewer
// loads of A per step: 32 x 12 beat 48 x 8 by 2-5% on AVX-512 where both fit m alike).
inline int tile_mv(int64_t m) {
    if (m <= W || MN_GEMM_MV == 1) return 1;
    int best = 0;
    int64_t best_rows = 0;
    for (int mv = 2; mv <= MN_GEMM_MV; ++mv) {
        if (!tile_exists(mv)) continue;
        const int64_t rows = (m + mv * W - 1) / (mv * W) * (mv * W);
        if (best == 0 || rows < best_rows) best = mv, best_rows = rows;
    }
    return best;
}

// Runs f(Tile<mv>{}) for the tile of height mv.
template <class F>
decltype(auto) with_tile(int mv, F&& f) {
    if constexpr (tile_exists(1))
        if (mv == 1) return f(Tile<1>{});
    if constexpr (tile_exists(2))
        if (mv == 2) return f(Tile<2>{});
    if constexpr (tile_exists(3))
        if (mv == 3) return f(Tile<3>{});
    return f(Tile<MN_GEMM_MV>{});
}

// The height MR of the tile for a product of m rows (also the kernel table's pack_a_grain: the
// rows of one packed panel).
int64_t pack_a_grain(int64_t m) {
    return with_tile(tile_mv(m), [](auto t) { return int64_t(decltype(t)::MR); });
}

// ---- cache blocking --------------------------------------------------------------------------
// Depths are at most KC_MAX deep (the zero masks have a bit per step: kMaskWords * 64).
constexpr int64_t KC_MAX = 64 * kMaskWords;

struct Blocking {
    int64_t kc;        // deepest k block
    int64_t a_floats;  // the A block: mc x kc floats at most (mc a multiple of MR)
    int64_t b_floats;  // the B block: kc x nc floats at most (nc a multiple of NR)
};

// From the caches: a kc x NR panel of B stays in L1 while MR x kc panels of A stream through it,
// so the B panel takes half of L1 (deeper blocks load and store C less often); the mc x kc block
// of A that the B panels sweep stays in L2, taking half of it; the kc x nc block of B fills L2
// (measured on Zen 5: B blocks of one to two L2s ran 3-5% faster than blocks sized to L3). mc
// and nc follow from the depth of the product's k blocks: a shallow product gets wide blocks.
template <class T>
Blocking blocking_for(const CacheSizes& caches) {
    return Blocking{std::clamp<int64_t>(caches.l1d / 2 / (T::NR * 4) / 16 * 16, 64, KC_MAX), caches.l2 / 2 / 4,
                    caches.l2 / 4};
}

template <class T>
const Blocking& blocking() {
    static const Blocking b = blocking_for<T>(cpu_caches());
    return b;
}

// The depth of the k blocks for a product of depth k: as few blocks of at most kc as cover it,
// of equal depth (784 = 4 x 196, not 3 x 256 + 16: a thin last block pays the full cost of
// loading and storing C for little work).
template <class T>
int64_t k_block(int64_t k) {
    const int64_t kc = blocking<T>().kc;
    const int64_t blocks = (k + kc - 1) / kc;
    return (k + blocks - 1) / blocks;
}

// ---- packing ---------------------------------------------------------------------------------
// Packs an mc x kc block of a row-major operand x(r, p) = x[r*ld + p] (or, transposed,
// x[p*ld + r]) into panels of R rows laid out p-major: panel[p * R + r]; rows past mc are zero.
// A is packed with R = MR, B with R = NR. masks[panel] receives each panel's zero mask
// (zero_mask_impl.h), computed while the panel's values are still in L1, unless masks is null.
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
// Four rows of 8 floats transposed into dst[c * stride + r], r < 4 (a 12-wide panel's last rows).
inline void transpose4x8(const float* x, int64_t ld, float* dst, int64_t stride) {
    const __m256 r0 = _mm256_loadu_ps(x), r1 = _mm256_loadu_ps(x + ld), r2 = _mm256_loadu_ps(x + 2 * ld),
                 r3 = _mm256_loadu_ps(x + 3 * ld);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
                 t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
                 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    _mm_storeu_ps(dst + 0 * stride, _mm256_castps256_ps128(u0));
    _mm_storeu_ps(dst + 1 * stride, _mm256_castps256_ps128(u1));
    _mm_storeu_ps(dst + 2 * stride, _mm256_castps256_ps128(u2));
    _mm_storeu_ps(dst + 3 * stride, _mm256_castps256_ps128(u3));
    _mm_storeu_ps(dst + 4 * stride, _mm256_extractf128_ps(u0, 1));
    _mm_storeu_ps(dst + 5 * stride, _mm256_extractf128_ps(u1, 1));
    _mm_storeu_ps(dst + 6 * stride, _mm256_extractf128_ps(u2, 1));
    _mm_storeu_ps(dst + 7 * stride, _mm256_extractf128_ps(u3, 1));
}
// Two rows of 8 floats transposed into dst[c * stride + r], r < 2 (a 6-wide panel's last rows).
inline void transpose2x8(const float* x, int64_t ld, float* dst, int64_t stride) {
    for (int half = 0; half < 2; ++half) {
        const __m128 a = _mm_loadu_ps(x + 4 * half), b = _mm_loadu_ps(x + ld + 4 * half);
        const __m128 lo = _mm_unpacklo_ps(a, b), hi = _mm_unpackhi_ps(a, b);  // a0 b0 a1 b1, a2 b2 a3 b3
        float* d = dst + 4 * half * stride;
        _mm_storel_pi(reinterpret_cast<__m64*>(d), lo);
        _mm_storeh_pi(reinterpret_cast<__m64*>(d + stride), lo);
        _mm_storel_pi(reinterpret_cast<__m64*>(d + 2 * stride), hi);
        _mm_storeh_pi(reinterpret_cast<__m64*>(d + 3 * stride), hi);
    }
}
#endif

// One panel: rows [0, rows) of x (rows <= R) into dst[p * R + r].
template <int R>
void pack_panel(const float* x, int64_t ld, bool trans, int64_t rows, int64_t kc, float* dst) {
#if MN_VEC_FLOATS >= 8
    if constexpr (R % 2 == 0) {
        // Whole panels of rows stored one after another (images of a batch, B of a forward
        // product, weights): transpose them 8 x 8 (then 4 x 8, 2 x 8) at a time.
        if (!trans && rows == R) {
            int64_t p = 0;
            for (; p + 8 <= kc; p += 8) {
                int r0 = 0;
                for (; r0 + 8 <= R; r0 += 8) transpose8x8(x + r0 * ld + p, ld, dst + p * R + r0, R);
                if (r0 + 4 <= R) transpose4x8(x + r0 * ld + p, ld, dst + p * R + r0, R), r0 += 4;
                if (r0 < R) transpose2x8(x + r0 * ld + p, ld, dst + p * R + r0, R);
            }
            for (; p < kc; ++p)
                for (int r = 0; r < R; ++r) dst[p * R + r] = x[r * ld + p];
            return;
        }
    }
#endif
    if (trans) {
        for (int64_t p = 0; p < kc; ++p) {
            const float* src = x + p * ld;
            for (int64_t r = 0; r < rows; ++r) dst[p * R + r] = src[r];
            for (int64_t r = rows; r < R; ++r) dst[p * R + r] = 0.0f;
        }
    } else {
        for (int64_t r = 0; r < rows; ++r) {
            const float* src = x + r * ld;
            for (int64_t p = 0; p < kc; ++p) dst[p * R + r] = src[p];
        }
        for (int64_t r = rows; r < R; ++r)
            for (int64_t p = 0; p < kc; ++p) dst[p * R + r] = 0.0f;
    }
}

template <int R>
void pack_panels(const float* x, int64_t ld, bool trans, int64_t mc, int64_t kc, float* dst, PanelMask* masks) {
    for (int64_t ir = 0; ir < mc; ir += R, dst += kc * R) {
        const float* rows = x + (trans ? ir : ir * ld);
        const int64_t n = std::min<int64_t>(R, mc - ir);
        pack_panel<R>(rows, ld, trans, n, kc, dst);
        if (!masks) continue;
        if (trans)
            panel_mask<R>(dst, kc, masks[ir / R]);
        else  // (from the rows: contiguous runs of the depth, compared a vector at a time)
            rows_mask(rows, ld, n, kc, masks[ir / R]);
    }
}

// Packs columns [j0, j0+nc) x depth [p0, p0+kc) of an implicit im2col matrix into NR-wide
// panels, reading the image directly (see ConvGather). Depth runs over (c, kx) for each ky, so
// each tap is a contiguous run of C values of the image. masks as for pack_panels (or null).
template <int NR>
void pack_gather(const ConvGather& g, int64_t j0, int64_t p0, int64_t nc, int64_t kc, float* dst, PanelMask* masks) {
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
        if (masks) panel_mask<NR>(dst, kc, masks[jr / NR]);
        dst += kc * NR;
    }
}

// ---- the register tile -----------------------------------------------------------------------
struct Epilogue {
    bool accumulate;  // add to what C holds: the sums of the k blocks before
    const float* bias;  // applied on the last k block only
    bool relu;
    const float* gate;  // the tile's corner in GemmArgs::gate, or null; last k block only
    int64_t ldgate;
};

// Lanes [0, n) of a vector of VW floats at p, 0 < n < VW, the others 0 (load) or untouched (store).
template <int VW>
inline Vec<VW> load_first_of(const float* p, int64_t n) {
    if constexpr (VW == W) {
        return load_first(p, n);
#if MN_VEC_FLOATS == 16
    } else if constexpr (VW == 8) {
        return reinterpret_cast<Vec<8>>(_mm256_maskz_loadu_ps(__mmask8((1u << n) - 1), p));
#endif
    } else {
        Vec<VW> x{};
        std::memcpy(&x, p, size_t(n) * sizeof(float));
        return x;
    }
}
template <int VW>
inline void store_first_of(float* p, Vec<VW> x, int64_t n) {
    if constexpr (VW == W) {
        store_first(p, x, n);
#if MN_VEC_FLOATS == 16
    } else if constexpr (VW == 8) {
        _mm256_mask_storeu_ps(p, __mmask8((1u << n) - 1), reinterpret_cast<__m256>(x));
#endif
    } else {
        std::memcpy(p, &x, size_t(n) * sizeof(float));
    }
}

// The epilogue of a register tile of MV vectors of VW floats by NR columns, in registers: what
// C holds (when accumulating), bias, relu, gate, then the store. The vector that holds C's last
// row, when the tile runs past it, reads and writes its first lanes only.
template <int VW, int MV, int NR>
__attribute__((always_inline)) inline void store_tile(Vec<VW> (&acc)[NR][MV], float* c, int64_t ldc, int64_t rows,
                                                      int64_t cols, const Epilogue& ep) {
    typedef Vec<VW> VV;
#pragma GCC unroll 32
    for (int j = 0; j < NR; ++j) {
        if (j >= cols) break;
        float* cj = c + j * ldc;
        const float* gj = ep.gate ? ep.gate + j * ep.ldgate : nullptr;
#pragma GCC unroll 4
        for (int v = 0; v < MV; ++v) {
            const int64_t lanes = rows - v * VW;
            if (lanes <= 0) break;
            VV x = acc[j][v];
            if (lanes >= VW) {
                if (ep.accumulate) x += load_vec<VW>(cj + v * VW);
                if (ep.bias) x += load_vec<VW>(ep.bias + v * VW);
                if (ep.relu) x = relu_vec<VW>(x);
                if (gj) x = keep_where_positive<VW>(x, load_vec<VW>(gj + v * VW));
                store_vec<VW>(cj + v * VW, x);
            } else {
                if (ep.accumulate) x += load_first_of<VW>(cj + v * VW, lanes);
                if (ep.bias) x += load_first_of<VW>(ep.bias + v * VW, lanes);
                if (ep.relu) x = relu_vec<VW>(x);
                if (gj) x = keep_where_positive<VW>(x, load_first_of<VW>(gj + v * VW, lanes));
                store_first_of<VW>(cj + v * VW, x, lanes);
            }
        }
    }
}

// One step p of the depth: acc[j][v] += a(v-th vector of rows, p) * b(j, p).
template <int MV, int NR>
__attribute__((always_inline)) inline void tile_step(V (&acc)[NR][MV], const float* ap, const float* bp) {
    V a[MV];
#pragma GCC unroll 4
    for (int v = 0; v < MV; ++v) a[v] = load_vec<W>(ap + v * W);
#pragma GCC unroll 32
    for (int j = 0; j < NR; ++j) {
        const V b = splat_vec<W>(bp[j]);
#pragma GCC unroll 4
        for (int v = 0; v < MV; ++v) acc[j][v] += a[v] * b;
    }
}

// The register tile: an MR x NR block of C accumulated over kc steps of packed A and B, or over
// the steps set in `mask` alone (zero_mask_impl.h). Only the accumulators and one step's
// operands are live in the loops; the epilogue comes after.
template <class T, bool kMasked>
void tile_kernel(int64_t kc, const uint64_t* mask, const float* pa, const float* pb, float* c, int64_t ldc,
                 int64_t rows, int64_t cols, const Epilogue& ep) {
    constexpr int MV = T::MV, NR = T::NR, MR = T::MR;
    V acc[NR][MV];
#pragma GCC unroll 32
    for (int j = 0; j < NR; ++j)
#pragma GCC unroll 4
        for (int v = 0; v < MV; ++v) acc[j][v] = V{};
    if constexpr (kMasked) {
        for (int w = 0; w * 64 < kc; ++w) {
            for (uint64_t bits = mask[w]; bits; bits &= bits - 1) {
                const int64_t p = int64_t(w) * 64 + __builtin_ctzll(bits);
                tile_step<MV, NR>(acc, pa + p * MR, pb + p * NR);
            }
        }
    } else {
        for (int64_t p = 0; p < kc; ++p) tile_step<MV, NR>(acc, pa + p * MR, pb + p * NR);
    }

    store_tile<W, MV, NR>(acc, c, ldc, rows, cols, ep);
}

// ---- products with few columns -----------------------------------------------------------------
inline float finish(float x, const GemmArgs& g, int64_t i, int64_t j) {
    if (g.bias) x += g.bias[i];
    if (g.relu && x < 0.0f) x = 0.0f;
    if (g.gate && !(g.gate[j * g.ldgate + i] > 0.0f)) x = 0.0f;
    return x;
}

// Few columns, or few rows: packing would cost as much as the product itself, so take dot
// products straight from the rows (a single image without packed weights; fc2's 10 classes).
// A block of R <= 5 rows by NB columns, U vectors of the depth at a time: R * NB * U independent
// FMA chains hide the FMA latency; each load of a row of A feeds NB columns, each load of a
// column of B R rows. (R x 4 x 1 on AVX-512, R x 2 x 1 with 16 registers, as fast as R x 1 x 2.)
template <int R, int NB, int U>
void dots_block(const GemmArgs& g, int64_t i, int64_t j) {
    const int64_t tail = g.k % W;  // the last, partial vector of each row: masked loads
    const int64_t k_vec = g.k - tail;
    const float* a[R];
    for (int r = 0; r < R; ++r) a[r] = g.a + (i + r) * g.lda;
    const float* b[NB];
    for (int q = 0; q < NB; ++q) b[q] = g.b + (j + q) * g.ldb;
    V acc[U][R][NB];
    for (int u = 0; u < U; ++u)
        for (int r = 0; r < R; ++r)
            for (int q = 0; q < NB; ++q) acc[u][r][q] = V{};
    const auto step = [&](int u, int64_t p, auto load) __attribute__((always_inline)) {
        V bv[NB];
#pragma GCC unroll 4
        for (int q = 0; q < NB; ++q) bv[q] = load(b[q] + p);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
            const V av = load(a[r] + p);
#pragma GCC unroll 4
            for (int q = 0; q < NB; ++q) acc[u][r][q] += av * bv[q];
        }
    };
    const auto full = [](const float* x) { return load_vec<W>(x); };
    int64_t p = 0;
    for (; p + U * W <= k_vec; p += U * W)
#pragma GCC unroll 2
        for (int u = 0; u < U; ++u) step(u, p + u * W, full);
    for (; p < k_vec; p += W) step(0, p, full);
    if (tail) step(U - 1, k_vec, [tail](const float* x) { return load_first(x, tail); });
    for (int q = 0; q < NB; ++q)
        for (int r = 0; r < R; ++r) {
            V sum = acc[0][r][q];
            for (int u = 1; u < U; ++u) sum += acc[u][r][q];
            g.c[(j + q) * g.ldc + i + r] = finish(hsum(sum), g, i + r, j + q);
        }
}

// The rows in blocks of nearly equal height, at most kDotRows (m = 10: 5 + 5, not 4 + 4 + 2,
// whose last block has too few FMA chains to hide their latency).
constexpr int kDotRows = 5;
template <int NB, int U>
void dots_columns(const GemmArgs& g, int64_t j) {
    const int64_t blocks = (g.m + kDotRows - 1) / kDotRows, base = g.m / blocks, taller = g.m % blocks;
    int64_t i = 0;
    for (int64_t b = 0; b < blocks; ++b) {
        switch (base + (b < taller)) {
            case 5: dots_block<5, NB, U>(g, i, j), i += 5; break;
            case 4: dots_block<4, NB, U>(g, i, j), i += 4; break;
            case 3: dots_block<3, NB, U>(g, i, j), i += 3; break;
            case 2: dots_block<2, NB, U>(g, i, j), i += 2; break;
            default: dots_block<1, NB, U>(g, i, j), i += 1; break;
        }
    }
}

void gemm_by_dots(const GemmArgs& g) {
    constexpr int NB = kRegisters >= 32 ? 4 : 2, U = 1;
    int64_t j = 0;
    for (; j + NB <= g.n; j += NB) dots_columns<NB, U>(g, j);
    for (; j < g.n; ++j) dots_columns<1, 2>(g, j);
}

// All of A packed ahead (weights), in gemm_tiled's order: k blocks of k_block(k), each holding
// every row (padded to MR) as MR-row panels, so block (pc, ic) starts at pc * m_padded + ic * kc,
// and the panel of row r (a multiple of MR) at pc * m_padded + r * kc. Then the panels' zero
// masks, k block after k block.
template <class T>
int64_t padded_rows(int64_t m) {
    return (m + T::MR - 1) / T::MR * T::MR;
}
template <class T>
int64_t packed_panel_floats(int64_t m, int64_t k) {
    return padded_rows<T>(m) * k;
}
// The masks follow the panels, at an even float offset: 64-bit mask words must be 8-byte
// aligned (a misaligned store is undefined behaviour; UBSan reports it).
template <class T>
int64_t packed_masks_offset(int64_t m, int64_t k) {
    return (packed_panel_floats<T>(m, k) + 1) & ~int64_t(1);
}
template <class T>
PanelMask* packed_masks(float* packed, int64_t m, int64_t k, int64_t pc, int64_t row) {
    const int64_t block = pc / k_block<T>(k), panels = padded_rows<T>(m) / T::MR;
    return reinterpret_cast<PanelMask*>(packed + packed_masks_offset<T>(m, k)) + block * panels + row / T::MR;
}
template <class T>
const float* packed_block(const GemmArgs& g, int64_t pc, int64_t row, int64_t kc) {
    return g.a_packed + pc * padded_rows<T>(g.a_packed_m ? g.a_packed_m : g.m) + (g.a_packed_row + row) * kc;
}
template <class T>
const PanelMask* packed_block_masks(const GemmArgs& g, int64_t pc, int64_t row) {
    return packed_masks<T>(const_cast<float*>(g.a_packed), g.a_packed_m ? g.a_packed_m : g.m, g.k, pc,
                           g.a_packed_row + row);
}

// Columns times a pre-packed A, one column at a time (one image through a layer of weights
// packed at load, or a batch where columns_apart_pay): the packed panels are contiguous streams, and P panels at a time give P * MV independent
// accumulators, enough to hide the FMA latency, while each broadcast of b feeds them all.
// One call covers one k block of column j, with the tiled path's epilogue: the first block
// stores its sums, the others add theirs to what C holds, and bias, relu and gate apply on the
// last. The block's steps are listed once for all its panels:
// the offset p * MR of each step p taken in a panel, and b's value there (only the nonzero ones
// where skipping pays).
struct GemvBlock {
    int64_t pc, kc;
    bool first, last;
    int64_t steps;
    const int32_t* offsets;
    const float* values;
};

template <class T, int P>
void gemv_panels(const GemmArgs& g, int64_t j, int64_t i0, const GemvBlock& blk) {
    constexpr int MR = T::MR, MV = T::MV;
    const int64_t panel = blk.kc * MR;  // floats from one panel to the next
    V acc[P][1][MV];                    // P panels of one column
    for (int q = 0; q < P; ++q)
        for (int v = 0; v < MV; ++v) acc[q][0][v] = V{};
    const float* pa = packed_block<T>(g, blk.pc, i0, blk.kc);
    for (int64_t s = 0; s < blk.steps; ++s) {
        const V bv = splat_vec<W>(blk.values[s]);
        const float* ap = pa + blk.offsets[s];
#pragma GCC unroll 4
        for (int q = 0; q < P; ++q)
#pragma GCC unroll 4
            for (int v = 0; v < MV; ++v) acc[q][0][v] += load_vec<W>(ap + q * panel + v * W) * bv;
    }
    for (int q = 0; q < P; ++q) {
        const int64_t first = i0 + q * MR;
        const Epilogue ep{!blk.first, blk.last && g.bias ? g.bias + first : nullptr, blk.last && g.relu,
                          blk.last && g.gate ? g.gate + j * g.ldgate + first : nullptr, g.ldgate};
        store_tile<W, MV, 1>(acc[q], g.c + j * g.ldc + first, g.ldc, std::min<int64_t>(MR, g.m - first), 1, ep);
    }
}

template <class T>
void gemv_packed(const GemmArgs& g) {
    constexpr int MR = T::MR;
    const int64_t kb = k_block<T>(g.k);
    int32_t offsets[KC_MAX];
    float values[KC_MAX];
    for (int64_t j = 0; j < g.n; ++j) {
        for (int64_t pc = 0; pc < g.k; pc += kb) {
            const int64_t kc = std::min(kb, g.k - pc);
            const float* b = g.b + j * g.ldb + pc;
            // An image is mostly zero pixels, a relu's output often too: skip the weights they
            // would multiply (zero_mask_impl.h).
            PanelMask mask;
            int64_t steps = 0;
            const auto take = [&](int64_t p) {
                offsets[steps] = static_cast<int32_t>(p * MR);
                values[steps++] = b[p];
            };
            if (worth_skipping(vector_mask(b, kc, mask), kc))
                for_each_step(mask, kc, take);
            else
                for (int64_t p = 0; p < kc; ++p) take(p);
            const GemvBlock blk{pc, kc, pc == 0, pc + kc == g.k, steps, offsets, values};
            int64_t i0 = 0;
            for (; (g.m - i0 + MR - 1) / MR >= 4; i0 += 4 * MR) gemv_panels<T, 4>(g, j, i0, blk);
            switch ((g.m - i0 + MR - 1) / MR) {  // the panels left, the last one possibly partial
                case 3: gemv_panels<T, 3>(g, j, i0, blk); break;
                case 2: gemv_panels<T, 2>(g, j, i0, blk); break;
                case 1: gemv_panels<T, 1>(g, j, i0, blk); break;
                default: break;
            }
        }
    }
}

// Whether a batch times packed weights is cheaper column by column (gemv_packed, each column
// skipping its own zero steps) than in the tile (which skips only the steps zero in all NR
// columns of a panel of B): MNIST images are 18% nonzero pixels one by one, 42% in groups of 6.
// Counted in operations per step: the tile's MV loads, NR broadcasts and MV * NR multiply-adds
// cover NR columns; a column alone costs MV loads, MV multiply-adds and about one more for the
// bookkeeping. That count decides only without FMA (WASM, scalar), where arithmetic is the
// cost: at batch 100 of the FC network in Chromium, 12 against 18 us an image. With FMA the
// tile wins even so (AVX-512: 4.1 against 6.2 us an image), because column by column reads
// the weights from L2 again for each column.
template <class T>
bool columns_apart_pay(const GemmArgs& g) {
#if defined(__FMA__)
    (void)g;
    return false;
#else
    constexpr int64_t MV = T::MV, NR = T::NR;
    constexpr int64_t multiply_add = 2;  // a multiply and an add
    const int64_t kb = k_block<T>(g.k);
    int64_t alone = 0, together = 0;  // nonzero steps of the columns, and of their panels
    for (int64_t pc = 0; pc < g.k; pc += kb) {
        const int64_t kc = std::min(kb, g.k - pc);
        for (int64_t j0 = 0; j0 < g.n; j0 += NR) {
            PanelMask panel = {};
            for (int64_t j = j0; j < std::min(g.n, j0 + NR); ++j) {
                PanelMask column;
                alone += vector_mask(g.b + j * g.ldb + pc, kc, column);
                for (int w = 0; w < kMaskWords; ++w) panel[w] |= column[w];
            }
            for (int w = 0; w < kMaskWords; ++w) together += __builtin_popcountll(panel[w]);
        }
    }
    return alone * (MV + MV * multiply_add + 1) < together * (MV + NR + MV * NR * multiply_add);
#endif
}

// ---- products of one row panel -------------------------------------------------------------
// A product whose rows fit one tile (a convolution's 8 or 16 output channels over every pixel of
// a batch, as a GEMM) meets each column of B once, so packing B would copy it for one use, at
// about the cost of the product itself when the depth is small (9 taps). The tile reads B's rows
// where they lie instead, NB columns at a time, while A's columns (MV vectors of VW floats per
// step of the depth, packed once per call) stay in L1. On AVX-512, 8 rows or fewer take 256-bit
// vectors, so that no lane is idle. The sum runs over the depth in order, as in the tiled path.
template <int VW, int MV, int NB>
void one_panel_block(const GemmArgs& g, const float* pa, int64_t lda_packed, int64_t j, const Epilogue& ep) {
    Vec<VW> acc[NB][MV];
#pragma GCC unroll 32
    for (int q = 0; q < NB; ++q)
#pragma GCC unroll 4
        for (int v = 0; v < MV; ++v) acc[q][v] = Vec<VW>{};
    const float* b = g.b + j * g.ldb;
    for (int64_t p = 0; p < g.k; ++p) {
        Vec<VW> a[MV];
#pragma GCC unroll 4
        for (int v = 0; v < MV; ++v) a[v] = load_vec<VW>(pa + p * lda_packed + v * VW);
#pragma GCC unroll 32
        for (int q = 0; q < NB; ++q) {
            const Vec<VW> bq = splat_vec<VW>(b[q * g.ldb + p]);
#pragma GCC unroll 4
            for (int v = 0; v < MV; ++v) acc[q][v] += a[v] * bq;
        }
    }
    Epilogue at = ep;
    if (at.gate) at.gate += j * at.ldgate;
    store_tile<VW, MV, NB>(acc, g.c + j * g.ldc, g.ldc, g.m, NB, at);
}

// The vectors of the one-panel path for m rows: width (the level's, or half of it on AVX-512 for
// 8 rows or fewer) and count. Products of more rows than the tallest tile take the tiled path.
inline int one_panel_width(int64_t m) { return W == 16 && m <= 8 ? 8 : W; }
inline int64_t one_panel_rows(int64_t m) {
    const int64_t vw = one_panel_width(m);
    return (m + vw - 1) / vw * vw;
}

template <int VW, int MV>
void one_panel_product(const GemmArgs& g, void* workspace) {
    constexpr int NB = kAccumulators / MV;  // the level's accumulators, as in every tile
    // A's columns: the panel packed ahead for the tile (tile_mv: one panel of MR rows, its k
    // blocks one after another, so one column every MR floats), or packed here.
    const float* pa = g.a_packed;
    int64_t lda_packed = pack_a_grain(g.m);
    if (!pa) {
        float* packed = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(workspace) + 63) & ~uintptr_t(63));
        lda_packed = MV * VW;
        pack_panels<MV * VW>(g.a, g.lda, g.a_trans, g.m, g.k, packed, nullptr);
        pa = packed;
    }
    const Epilogue ep{false, g.bias, g.relu, g.gate, g.ldgate};
    int64_t j = 0;
    for (; j + NB <= g.n; j += NB) one_panel_block<VW, MV, NB>(g, pa, lda_packed, j, ep);
    for (; j < g.n; ++j) one_panel_block<VW, MV, 1>(g, pa, lda_packed, j, ep);  // (B ends here)
}

// Whether an m x k A suits the one-panel path: its rows in one tile, its columns small enough to
// stay in half of L1 beside the B rows being read.
inline bool one_panel_fits(int64_t m, int64_t k) {
    const int64_t mr = pack_a_grain(m);  // the tile's height
    return W > 1 && m <= mr && k * mr * int64_t(sizeof(float)) <= cpu_caches().l1d / 2;
}
// Whether g takes it: also B's rows in memory, and A (if packed ahead) packed for these rows.
inline bool one_panel(const GemmArgs& g) {
    return one_panel_fits(g.m, g.k) && !g.b_trans && !g.b_gather &&
           (!g.a_packed || !g.a_packed_m || g.a_packed_m == g.m);
}

inline void run_one_panel(const GemmArgs& g, void* workspace) {
    const int vw = one_panel_width(g.m);
    const int mv = int(one_panel_rows(g.m) / vw);
    if constexpr (W == 16) {
        if (vw == 8) return one_panel_product<8, 1>(g, workspace);
    }
    if (mv == 1) return one_panel_product<W, 1>(g, workspace);
    if constexpr (tile_exists(2))
        if (mv == 2) return one_panel_product<W, 2>(g, workspace);
    if constexpr (tile_exists(3))
        if (mv == 3) return one_panel_product<W, 3>(g, workspace);
    one_panel_product<W, MN_GEMM_MV>(g, workspace);
}

// ---- the blocked product -------------------------------------------------------------------
// The size of the blocks that cut `total` rows (or columns) into as few blocks of about `most`
// as cover it, of equal size rounded up to `grain` (a register tile's side). Not blocks of
// `most` and a thin rest: with 1024 columns, 6-wide panels and room for 512 columns, 510 + 510
// + 4 would sweep all of A a third time for 4 columns. A block may exceed `most` by less than
// a grain.
inline int64_t balanced_block(int64_t total, int64_t most, int64_t grain) {
    most = std::max<int64_t>(most, 1);
    const int64_t blocks = std::max<int64_t>((total + most - 1) / most, 1);
    const int64_t size = (total + blocks - 1) / blocks;
    return std::max<int64_t>((size + grain - 1) / grain, 1) * grain;
}
// The largest balanced_block(t, most, grain) of any t <= total. balanced_block itself is not
// monotone (a total just past `most` gets two half blocks), but a workspace sized for one
// thread's share must hold the blocks of every smaller share (forward_mul_mat sizes it by the
// first, largest share).
inline int64_t balanced_block_bound(int64_t total, int64_t most, int64_t grain) {
    const int64_t size = std::max<int64_t>(std::min(total, std::max<int64_t>(most, 1)), 1);
    return (size + grain - 1) / grain * grain;
}

// Scratch of one call: the packed A block, the packed B block, and a zero mask per panel of each.
template <class T>
struct GemmScratch {
    int64_t kc, mc, nc;
    float* packed_a;
    float* packed_b;
    PanelMask* a_masks;
    PanelMask* b_masks;

    // workspace: bytes(m, n, k) of them, or of a larger shape's.
    GemmScratch(int64_t m, int64_t n, int64_t k, void* workspace) {
        const Blocking& bl = blocking<T>();
        kc = std::max<int64_t>(k_block<T>(k), 1);
        mc = balanced_block(m, bl.a_floats / kc, T::MR);
        nc = balanced_block(n, bl.b_floats / kc, T::NR);
        char* ws = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(workspace) + 63) & ~uintptr_t(63));
        packed_a = reinterpret_cast<float*>(ws);
        packed_b = packed_a + mc * kc;
        // (8-byte aligned: nc * kc may be odd)
        a_masks = reinterpret_cast<PanelMask*>((reinterpret_cast<uintptr_t>(packed_b + nc * kc) + 7) & ~uintptr_t(7));
        b_masks = a_masks + mc / T::MR;
    }
    // Bytes for this shape and every smaller one (see balanced_block_bound).
    static size_t bytes(int64_t m, int64_t n, int64_t k) {
        const Blocking& bl = blocking<T>();
        const int64_t kc = std::max<int64_t>(k_block<T>(k), 1);
        const int64_t mc = balanced_block_bound(m, bl.a_floats / kc, T::MR);
        const int64_t nc = balanced_block_bound(n, bl.b_floats / kc, T::NR);
        return static_cast<size_t>((mc + nc) * kc) * sizeof(float) +
               static_cast<size_t>(mc / T::MR + nc / T::NR) * sizeof(PanelMask) + 64 + 8;
    }
};

template <class T>
void gemm_tiled(const GemmArgs& g, void* workspace) {
    constexpr int MR = T::MR, NR = T::NR;
    GemmScratch<T> s(g.m, g.n, g.k, workspace);
    const int64_t kb = k_block<T>(g.k);

    // Blocks too shallow to skip much are not worth their masks: computing them would cost
    // about as much as the product (a convolution's 9 taps as k).
    const bool skip_zeros = kb >= kMinSkippedDepth;
    for (int64_t jc = 0; jc < g.n; jc += s.nc) {
        const int64_t nc = std::min(s.nc, g.n - jc);
        for (int64_t pc = 0; pc < g.k; pc += kb) {
            const int64_t kc = std::min(kb, g.k - pc);
            const bool last_k = pc + kc == g.k;
            const Epilogue ep{pc > 0, last_k ? g.bias : nullptr, last_k && g.relu,
                              last_k ? g.gate : nullptr, g.ldgate};
            if (g.b_gather) {
                pack_gather<NR>(*g.b_gather, g.b_first_column + jc, pc, nc, kc, s.packed_b, skip_zeros ? s.b_masks : nullptr);
            } else {
                const float* b_block = g.b_trans ? g.b + pc * g.ldb + jc : g.b + jc * g.ldb + pc;
                pack_panels<NR>(b_block, g.ldb, g.b_trans, nc, kc, s.packed_b, skip_zeros ? s.b_masks : nullptr);
            }
            for (int64_t ic = 0; ic < g.m; ic += s.mc) {
                const int64_t mc = std::min(s.mc, g.m - ic);
                const float* pa = s.packed_a;
                const PanelMask* a_masks = s.a_masks;
                if (g.a_packed) {  // see packed_block
                    pa = packed_block<T>(g, pc, ic, kc);
                    a_masks = packed_block_masks<T>(g, pc, ic);
                } else {
                    const float* a_block = g.a_trans ? g.a + pc * g.lda + ic : g.a + ic * g.lda + pc;
                    pack_panels<MR>(a_block, g.lda, g.a_trans, mc, kc, s.packed_a, skip_zeros ? s.a_masks : nullptr);
                }
                for (int64_t jr = 0; jr < nc; jr += NR) {
                    const float* pb = s.packed_b + jr * kc;
                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        Epilogue ep_tile = ep;
                        if (ep.bias) ep_tile.bias += ic + ir;
                        if (ep.gate) ep_tile.gate += (jc + jr) * ep.ldgate + ic + ir;
                        PanelMask both;
                        int64_t nonzero = kc;
                        if (skip_zeros) {
                            nonzero = 0;
                            for (int w = 0; w < kMaskWords; ++w) {
                                both[w] = s.b_masks[jr / NR][w] & a_masks[ir / MR][w];
                                nonzero += __builtin_popcountll(both[w]);
                            }
                        }
                        const auto kernel = worth_skipping(nonzero, kc) ? tile_kernel<T, true> : tile_kernel<T, false>;
                        kernel(kc, both, pa + ir * kc, pb, g.c + (jc + jr) * g.ldc + ic + ir, g.ldc,
                               std::min<int64_t>(MR, mc - ir), std::min<int64_t>(NR, nc - jr), ep_tile);
                    }
                }
            }
        }
    }
}

// ---- the kernel table's entries ------------------------------------------------------------
size_t gemm_workspace(int64_t m, int64_t n, int64_t k) {
    // Enough for any tile: the call may be a share of the rows of a product whose tile was chosen
    // by all of its rows (packed_a).
    size_t bytes = one_panel_fits(m, k) ? static_cast<size_t>(one_panel_rows(m) * k) * sizeof(float) + 64 : 0;
    for (int mv = 1; mv <= MN_GEMM_MV; ++mv)
        if (tile_exists(mv))
            bytes = std::max(bytes, with_tile(mv, [&](auto t) { return GemmScratch<decltype(t)>::bytes(m, n, k); }));
    return bytes;
}

size_t packed_a_floats(int64_t m, int64_t k) {
    return with_tile(tile_mv(m), [&](auto t) {
        using T = decltype(t);
        const int64_t blocks = (k + k_block<T>(k) - 1) / k_block<T>(k);
        return static_cast<size_t>(packed_masks_offset<T>(m, k) +
                                   blocks * (padded_rows<T>(m) / T::MR) * kMaskWords * 2);  // 2 floats a mask word
    });
}

// Rows [row_begin, row_end) of A packed as packed_block and packed_block_masks read them.
void pack_a(const float* a, int64_t lda, bool trans, int64_t m, int64_t k, int64_t row_begin, int64_t row_end,
            float* dst) {
    if (row_begin >= row_end) return;
    with_tile(tile_mv(m), [&](auto t) {
        using T = decltype(t);
        const int64_t kb = k_block<T>(k), m_padded = padded_rows<T>(m);
        for (int64_t pc = 0; pc < k; pc += kb) {
            const int64_t kc = std::min(kb, k - pc);
            const float* block = trans ? a + pc * lda + row_begin : a + row_begin * lda + pc;
            pack_panels<T::MR>(block, lda, trans, row_end - row_begin, kc, dst + pc * m_padded + row_begin * kc,
                               packed_masks<T>(dst, m, k, pc, row_begin));
        }
    });
}

void gemm(const GemmArgs& g, void* workspace) {
    if (g.m <= 0 || g.n <= 0) return;
    // Packed A is laid out for the tile of the whole matrix, of which this call may be a part.
    const int mv = tile_mv(g.a_packed && g.a_packed_m ? g.a_packed_m : g.m);
    constexpr int64_t few_columns = kAccumulators / MN_GEMM_MV / 2;
    if (g.k > 0 && g.a_packed && !g.b_trans && !g.b_gather &&
        with_tile(mv, [&](auto t) { return g.n < few_columns || columns_apart_pay<decltype(t)>(g); })) {
        with_tile(mv, [&](auto t) { gemv_packed<decltype(t)>(g); });
        return;
    }
    // Few rows (fc2's 10 classes): the tile would leave a quarter of its lanes idle or more, and
    // packing B would cost about as much as the product. Dot products straight from the rows
    // instead, with A kept in L1.
    const int64_t padded = with_tile(mv, [&](auto t) { return padded_rows<decltype(t)>(g.m); });
    const bool few_rows = 4 * g.m <= 3 * padded && g.k >= 64 && g.m * g.k * 4 <= cpu_caches().l1d / 2;
    if (g.k == 0 || ((g.n < few_columns || few_rows) && !g.a_trans && !g.b_trans && !g.b_gather)) {
        gemm_by_dots(g);
        return;
    }
    if (one_panel(g)) {
        run_one_panel(g, workspace);
        return;
    }
    with_tile(mv, [&](auto t) { gemm_tiled<decltype(t)>(g, workspace); });
}
