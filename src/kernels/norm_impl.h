// Batch normalisation's kernels over dense [c, pixels] activations (channels innermost).
// Included by kernels_impl.h inside the level's namespace.

// acc[0, c) += sum x, acc[c, 2c) += sum x^2 over the pixels and, with dy, acc[2c, 3c) += sum dy,
// acc[3c, 4c) += sum dy * x. Floats summed in blocks of pixels, each block's sums added in double
// (as sum_rows).
template <int VW>
void channel_moments_vec(const float* x, const float* dy, int64_t pixels, int64_t c, double* acc) {
    using V = Vec<VW>;
    constexpr int64_t kBlock = 128;  // 128 pixels of 32 channels: 16 KB, in L1 for every channel vector
    for (int64_t r0 = 0; r0 < pixels; r0 += kBlock) {
        const int64_t r1 = std::min(pixels, r0 + kBlock);
        for (int64_t i = 0; i < c; i += VW) {
            V sx{}, sxx{}, sg{}, sgx{};
            if (dy) {
                for (int64_t r = r0; r < r1; ++r) {
                    const V v = load_vec<VW>(x + r * c + i), g = load_vec<VW>(dy + r * c + i);
                    sx += v;
                    sxx += v * v;
                    sg += g;
                    sgx += g * v;
                }
            } else {
                for (int64_t r = r0; r < r1; ++r) {
                    const V v = load_vec<VW>(x + r * c + i);
                    sx += v;
                    sxx += v * v;
                }
            }
            float lanes[4][VW];
            store_vec<VW>(lanes[0], sx);
            store_vec<VW>(lanes[1], sxx);
            store_vec<VW>(lanes[2], sg);
            store_vec<VW>(lanes[3], sgx);
            for (int f = 0; f < (dy ? 4 : 2); ++f)
                for (int l = 0; l < VW; ++l) acc[f * c + i + l] += lanes[f][l];
        }
    }
}

void channel_moments(const float* x, const float* dy, int64_t pixels, int64_t c, double* acc) {
    if (c % W == 0) return channel_moments_vec<W>(x, dy, pixels, c, acc);
#if MN_VEC_FLOATS >= 8
    if (c % (W / 2) == 0) return channel_moments_vec<W / 2>(x, dy, pixels, c, acc);
#endif
    channel_moments_vec<1>(x, dy, pixels, c, acc);
}

// y = a * u + b (+ k * w) per channel (a, b, k [c]) over the pixels, or max(0, a * u + b).
template <int VW>
void channel_affine_vec(float* y, const float* u, const float* w, const float* a, const float* b, const float* k,
                        int64_t pixels, int64_t c, bool relu) {
    using V = Vec<VW>;
    for (int64_t r = 0; r < pixels; ++r) {
        const int64_t o = r * c;
        if (relu) {
            for (int64_t i = 0; i < c; i += VW) {
                const V v = load_vec<VW>(a + i) * load_vec<VW>(u + o + i) + load_vec<VW>(b + i);
#if MN_VEC_FLOATS > 1
                store_vec<VW>(y + o + i, v > V{} ? v : V{});
#else
                store_vec<VW>(y + o + i, v > 0.0f ? v : 0.0f);
#endif
            }
        } else if (w) {
            for (int64_t i = 0; i < c; i += VW)
                store_vec<VW>(y + o + i, load_vec<VW>(a + i) * load_vec<VW>(u + o + i) +
                                             load_vec<VW>(k + i) * load_vec<VW>(w + o + i) + load_vec<VW>(b + i));
        } else {
            for (int64_t i = 0; i < c; i += VW)
                store_vec<VW>(y + o + i, load_vec<VW>(a + i) * load_vec<VW>(u + o + i) + load_vec<VW>(b + i));
        }
    }
}

void channel_affine(float* y, const float* u, const float* w, const float* a, const float* b, const float* k,
                    int64_t pixels, int64_t c, bool relu) {
    if (c % W == 0) return channel_affine_vec<W>(y, u, w, a, b, k, pixels, c, relu);
#if MN_VEC_FLOATS >= 8
    if (c % (W / 2) == 0) return channel_affine_vec<W / 2>(y, u, w, a, b, k, pixels, c, relu);
#endif
    channel_affine_vec<1>(y, u, w, a, b, k, pixels, c, relu);
}
