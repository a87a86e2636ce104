// Max pooling of one output row, part of kernels_impl.h (after vec_impl.h, whose vector
// helpers it uses). x points at the first input row of the windows, rows of w pixels
// of c dense channels; y receives ow pixels. Channels are the vector lanes: the level's width
// when it divides c, else half of it, else one at a time.
//
// K is the window when known at compile time (2, every pooling of our models), else 0 and k
// says: with constants the window's loops unroll and its index arithmetic folds away, which
// makes these kernels several times faster than the general loops.
template <int VW, int K>
void max_pool_row_vec(const float* x, int64_t w, int64_t c, float* y, int64_t ow, int k_any, int s_any) {
    using V = Vec<VW>;
    const int k = K ? K : k_any, s = K ? K : s_any;
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

template <int K>
void max_pool_row_window(const float* x, int64_t w, int64_t c, float* y, int64_t ow, int k, int s) {
    if (c % W == 0) return max_pool_row_vec<W, K>(x, w, c, y, ow, k, s);
#if MN_VEC_FLOATS >= 8
    if (c % (W / 2) == 0) return max_pool_row_vec<W / 2, K>(x, w, c, y, ow, k, s);
#endif
    max_pool_row_vec<1, K>(x, w, c, y, ow, k, s);
}

void max_pool_row(const float* x, int64_t w, int64_t c, float* y, int64_t ow, int k, int s) {
    if (k == 2 && s == 2) return max_pool_row_window<2>(x, w, c, y, ow, k, s);
    max_pool_row_window<0>(x, w, c, y, ow, k, s);
}

// The gradient of a max pooling with disjoint windows (k == s) for one output row: each window
// of x gets dy at its first maximum and 0 elsewhere (0 everywhere when positive_only and the
// maximum is not above 0: the relu before the pooling let nothing through there). Writes the
// k rows of dx under the windows in full, the pixels right of the last window included. K as
// above.
template <int VW, int K>
void max_pool_backward_row_vec(const float* x, int64_t w, int64_t c, const float* dy, float* dx, int64_t ow, int k_any,
                               bool positive_only) {
    using V = Vec<VW>;
    const int k = K ? K : k_any;
    for (int64_t ox = 0; ox < ow; ++ox, dy += c) {
        const int64_t first = ox * k * c;
        for (int64_t i = 0; i < c; i += VW) {
            V best = load_vec<VW>(x + first + i), where = V{};
            for (int t = 1; t < k * k; ++t) {
                const V v = load_vec<VW>(x + first + ((t / k) * w + t % k) * c + i);
                const V tap = splat_vec<VW>(static_cast<float>(t));
                where = v > best ? tap : where;
                best = v > best ? v : best;
            }
            V g = load_vec<VW>(dy + i);
            if (positive_only) g = best > V{} ? g : V{};
            for (int t = 0; t < k * k; ++t) {
                const V tap = splat_vec<VW>(static_cast<float>(t));
                store_vec<VW>(dx + first + ((t / k) * w + t % k) * c + i, where == tap ? g : V{});
            }
        }
    }
    for (int ky = 0; ky < k; ++ky) std::fill(dx + (ky * w + ow * k) * c, dx + (ky * w + w) * c, 0.0f);
}

template <int K>
void max_pool_backward_row_window(const float* x, int64_t w, int64_t c, const float* dy, float* dx, int64_t ow, int k,
                                  bool positive_only) {
    if (c % W == 0) return max_pool_backward_row_vec<W, K>(x, w, c, dy, dx, ow, k, positive_only);
#if MN_VEC_FLOATS >= 8
    if (c % (W / 2) == 0) return max_pool_backward_row_vec<W / 2, K>(x, w, c, dy, dx, ow, k, positive_only);
#endif
    max_pool_backward_row_vec<1, K>(x, w, c, dy, dx, ow, k, positive_only);
}

void max_pool_backward_row(const float* x, int64_t w, int64_t c, const float* dy, float* dx, int64_t ow, int k,
                           bool positive_only) {
    if (k == 2) return max_pool_backward_row_window<2>(x, w, c, dy, dx, ow, k, positive_only);
    max_pool_backward_row_window<0>(x, w, c, dy, dx, ow, k, positive_only);
}

// Column sums of a dense rows x c matrix added to acc[c] (a bias gradient: the sum over every
// pixel of the batch). Floats summed in blocks of rows, each block's sums added in double, so
// that a million rows lose no more precision than a few hundred do.
template <int VW>
void sum_rows_vec(const float* x, int64_t rows, int64_t c, double* acc) {
    using V = Vec<VW>;
    constexpr int64_t kBlock = 256;
    for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
        const int64_t r1 = std::min(rows, r0 + kBlock);
        for (int64_t i = 0; i < c; i += VW) {
            V s0 = V{}, s1 = V{};
            int64_t r = r0;
            for (; r + 1 < r1; r += 2) {
                s0 += load_vec<VW>(x + r * c + i);
                s1 += load_vec<VW>(x + (r + 1) * c + i);
            }
            if (r < r1) s0 += load_vec<VW>(x + r * c + i);
            float lanes[VW];
            store_vec<VW>(lanes, s0 + s1);
            for (int l = 0; l < VW; ++l) acc[i + l] += lanes[l];
        }
    }
}

void sum_rows(const float* x, int64_t rows, int64_t c, double* acc) {
    if (c % W == 0) return sum_rows_vec<W>(x, rows, c, acc);
#if MN_VEC_FLOATS >= 8
    if (c % (W / 2) == 0) return sum_rows_vec<W / 2>(x, rows, c, acc);
#endif
    sum_rows_vec<1>(x, rows, c, acc);
}
