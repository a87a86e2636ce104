// Zero skipping for the GEMM, part of kernels_impl.h (included inside its namespace, before the
// GEMM code that uses it).
//
// Products in this engine often multiply by mostly-zero operands: an MNIST image is 81% zero
// pixels (its border is blank in every image), and a relu layer's output is largely zero. A packed
// panel holds, for each step p of the depth, R values of one operand; where all R are zero the
// step adds nothing to the tile, and skipping it is exact: the steps that remain are summed in
// the same order, so C is bit for bit what the full loop gives. (The one difference: a product
// 0 * inf or 0 * NaN, which the full loop would turn into NaN, is skipped. Weights are checked
// finite when a model loads.)
//
// A mask has bit p % 64 of word p / 64 set where step p of a panel has a nonzero value (a -0.0
// counts as zero, a NaN as nonzero). Depths of a k block are at most KC_MAX = 64 * kMaskWords.
constexpr int kMaskWords = 8;  // the deepest k block (gemm_impl.h: KC_MAX) / 64
typedef uint64_t PanelMask[kMaskWords];

// Whether any of x[0, n) is nonzero (ignoring the sign bit).
inline bool any_nonzero(const float* x, int64_t n) {
    int64_t i = 0;
#if MN_VEC_FLOATS >= 8
    // AVX2 and AVX-512 levels: 8 floats at a time, their bits ORed, one test at the end.
    const __m256i magnitude = _mm256_set1_epi32(0x7fffffff);
    __m256i any = _mm256_setzero_si256();
    for (; i + 8 <= n; i += 8) any = _mm256_or_si256(any, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)));
    if (!_mm256_testz_si256(any, magnitude)) return true;
#elif defined(__wasm_simd128__)
    const v128_t magnitude = wasm_i32x4_splat(0x7fffffff);
    v128_t any = wasm_i32x4_splat(0);
    for (; i + 4 <= n; i += 4) any = wasm_v128_or(any, wasm_v128_load(x + i));
    if (wasm_v128_any_true(wasm_v128_and(any, magnitude))) return true;
#endif
    uint32_t bits = 0;
    for (; i < n; ++i) {
        uint32_t b;
        std::memcpy(&b, x + i, sizeof b);
        bits |= b;
    }
    return (bits & 0x7fffffffu) != 0;
}

// The mask of a panel packed p-major with R values per step (pack_panels' layout), kc <= KC.
template <int R>
void panel_mask(const float* panel, int64_t kc, PanelMask mask) {
    for (int w = 0; w < kMaskWords; ++w) mask[w] = 0;
    for (int64_t p = 0; p < kc; ++p) mask[p / 64] |= uint64_t(any_nonzero(panel + p * R, R)) << (p % 64);
}

// Sets bit p of mask where x[p] is nonzero, p < kc <= KC_MAX (a word at a time in a register:
// ORing each vector's bits into memory would chain every step through a store and a load).
inline void add_nonzero_bits(const float* x, int64_t kc, PanelMask mask) {
    for (int64_t p0 = 0; p0 < kc; p0 += 64) {
        const int64_t end = std::min<int64_t>(kc, p0 + 64);
        uint64_t bits = 0;
        int64_t p = p0;
#if MN_VEC_FLOATS >= 8 || (MN_VEC_FLOATS == 4 && defined(__wasm_simd128__))
        // Not equal (unordered): nonzero or NaN; -0.0 compares equal to 0. The last, partial
        // vector is read with its missing lanes as zeros, which set no bits.
        const auto nonzero = [](V v) -> uint64_t {
#if MN_VEC_FLOATS == 16
            return _mm512_cmp_ps_mask(reinterpret_cast<__m512>(v), _mm512_setzero_ps(), _CMP_NEQ_UQ);
#elif MN_VEC_FLOATS == 8
            return unsigned(_mm256_movemask_ps(_mm256_cmp_ps(reinterpret_cast<__m256>(v), _mm256_setzero_ps(), _CMP_NEQ_UQ)));
#else
            return uint32_t(wasm_i32x4_bitmask(wasm_f32x4_ne(reinterpret_cast<v128_t>(v), wasm_f32x4_splat(0.0f))));
#endif
        };
        for (; p + W <= end; p += W) bits |= nonzero(load_vec<W>(x + p)) << (p - p0);
        if (p < end) bits |= nonzero(load_first(x + p, end - p)) << (p - p0), p = end;
#endif
        for (; p < end; ++p) bits |= uint64_t(!(x[p] == 0.0f)) << (p - p0);
        mask[p0 / 64] |= bits;
    }
}

// The mask of one vector x[0, kc) (the single column of a matrix-vector product); returns the
// number of steps set.
inline int64_t vector_mask(const float* x, int64_t kc, PanelMask mask) {
    for (int w = 0; w < kMaskWords; ++w) mask[w] = 0;
    add_nonzero_bits(x, kc, mask);
    int64_t count = 0;
    for (int w = 0; w < kMaskWords; ++w) count += __builtin_popcountll(mask[w]);
    return count;
}

// The mask of a panel from the rows it is packed from: row r is x[r*ld, r*ld + kc).
inline void rows_mask(const float* x, int64_t ld, int64_t rows, int64_t kc, PanelMask mask) {
    for (int w = 0; w < kMaskWords; ++w) mask[w] = 0;
    for (int64_t r = 0; r < rows; ++r) add_nonzero_bits(x + r * ld, kc, mask);
}

// Calls step(p) for each set bit p of mask, in increasing order.
template <class Step>
inline __attribute__((always_inline)) void for_each_step(const PanelMask mask, int64_t kc, Step&& step) {
    for (int w = 0; w * 64 < kc; ++w) {
        uint64_t bits = mask[w];
        while (bits) {
            step(int64_t(w) * 64 + __builtin_ctzll(bits));
            bits &= bits - 1;
        }
    }
}

// Blocks of the depth shallower than this are multiplied in full: their masks would cost about
// as much as the product.
constexpr int64_t kMinSkippedDepth = 32;

// Below this share of nonzero steps the masked loop pays for its bookkeeping.
inline bool worth_skipping(int64_t nonzero_steps, int64_t kc) { return nonzero_steps * 8 < kc * 7; }
