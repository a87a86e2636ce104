// Max pooling of one output row, part of kernels_impl.h (after conv_direct_impl.h, whose
// vector helpers it uses). x points at the first input row of the windows, rows of w pixels
// of c dense channels; y receives ow pixels. Channels are the vector lanes: the level's width
// when it divides c, else half of it, else one at a time.
template <int VW>
void max_pool_row_vec(const float* x, int64_t w, int64_t c, float* y, int64_t ow, int k, int s) {
    using V = Vec<VW>;
    for (int64_t ox = 0; ox < ow; ++ox, y += c) {
        const float* window = x + ox * s * c;
        for (int64_t i = 0; i < c; i += VW) {
            V best = load_vec<VW>(window + i);
            for (int ky = 0; ky < k; ++ky)
                for (int kx = 0; kx < k; ++kx) {
                    const V v = load_vec<VW>(window + (ky * w + kx) * c + i);
                    best = v > best ? v : best;  // lane-wise for vectors
                }
            store_vec<VW>(y + i, best);
        }
    }
}

void max_pool_row(const float* x, int64_t w, int64_t c, float* y, int64_t ow, int k, int s) {
    if (c % W == 0) return max_pool_row_vec<W>(x, w, c, y, ow, k, s);
#if MN_VEC_FLOATS >= 8
    if (c % (W / 2) == 0) return max_pool_row_vec<W / 2>(x, w, c, y, ow, k, s);
#endif
    max_pool_row_vec<1>(x, w, c, y, ow, k, s);
}
