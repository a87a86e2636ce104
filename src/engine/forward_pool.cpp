// Max pooling of [C, W, H, N] activations and its gradient.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/forward.h"
#include "engine/op_params.h"
#include "kernels/kernels.h"

namespace mn {

void forward_max_pool_2d(const ComputeParams& p, Tensor* t) {
    const MaxPoolParams mp = params<MaxPoolParams>(t);
    if (mp.computes_conv) return forward_max_pool_of_conv(p, t);
    const Tensor* x = t->src[0];
    const int k = mp.k, s = mp.stride;
    const int64_t C = x->ne[0];
    if (x->is_contiguous() && t->is_contiguous()) {
        const int64_t W = x->ne[1], H = x->ne[2], OW = t->ne[1], OH = t->ne[2];
        int64_t begin, end;
        split_range(OH * t->ne[3], p.ith, p.nth, 1, begin, end);
        for (int64_t row = begin; row < end; ++row) {
            const int64_t oy = row % OH, n = row / OH;
            kernels().max_pool_row(static_cast<const float*>(x->data) + ((n * H + oy * s) * W) * C, W, C,
                                   t->f32() + row * OW * C, OW, k, s);
        }
        return;
    }
    int64_t begin, end;
    split_range(t->nrows(), p.ith, p.nth, 1, begin, end);
    for (int64_t row = begin; row < end; ++row) {
        const RowIndex r = row_index(t, row);
        float* out = reinterpret_cast<float*>(t->at(0, r.i1, r.i2, r.i3));
        std::fill(out, out + C, -INFINITY);
        for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx)
                for (int64_t c = 0; c < C; ++c)
                    out[c] = std::max(out[c], load_f32(x, c, r.i1 * s + kx, r.i2 * s + ky, r.i3));
    }
}

// The gradient goes to the first maximum of each window (with positive_only, only where that
// maximum is above 0: the relu_backward of a relu before the pooling, engine/fusion.cpp).
void forward_max_pool_2d_backward(const ComputeParams& p, Tensor* t) {
    const Tensor* dy = t->src[0];
    const Tensor* x = t->src[1];
    const MaxPoolBackParams mp = params<MaxPoolBackParams>(t);
    const int k = mp.k, s = mp.stride;
    const bool positive_only = mp.positive_only != 0;
    const int64_t C = x->ne[0], W = x->ne[1], H = x->ne[2], OW = dy->ne[1], OH = dy->ne[2];
    const bool dense = x->is_contiguous() && dy->is_contiguous() && t->is_contiguous();
    if (dense && k == s) {
        // Disjoint windows: threads own output rows, and with them the k rows of dx beneath.
        int64_t begin, end;
        split_range(OH * dy->ne[3], p.ith, p.nth, 1, begin, end);
        const float* xd = static_cast<const float*>(x->data);
        const float* gd = static_cast<const float*>(dy->data);
        float* dx = t->f32();
        for (int64_t row = begin; row < end; ++row) {
            const int64_t oy = row % OH, n = row / OH;
            const int64_t at = ((n * H + oy * k) * W) * C;
            kernels().max_pool_backward_row(xd + at, W, C, gd + row * OW * C, dx + at, OW, k, positive_only);
            if (oy == OH - 1)  // rows below the last window get no gradient
                std::fill(dx + ((n * H + OH * k) * W) * C, dx + ((n + 1) * H * W) * C, 0.0f);
        }
        return;
    }
    // Overlapping windows: threads own whole images, so two threads never add to one element.
    int64_t begin, end;
    split_range(t->ne[3], p.ith, p.nth, 1, begin, end);
    for (int64_t n = begin; n < end; ++n) {
        for (int64_t y = 0; y < H; ++y)
            for (int64_t xx = 0; xx < W; ++xx) {
                float* row = reinterpret_cast<float*>(t->at(0, xx, y, n));
                std::fill(row, row + C, 0.0f);
            }
        for (int64_t oy = 0; oy < OH; ++oy)
            for (int64_t ox = 0; ox < OW; ++ox)
                for (int64_t c = 0; c < C; ++c) {
                    int64_t bx = ox * s, by = oy * s;
                    float best = load_f32(x, c, bx, by, n);
                    for (int ky = 0; ky < k; ++ky)
                        for (int kx = 0; kx < k; ++kx) {
                            const float v = load_f32(x, c, ox * s + kx, oy * s + ky, n);
                            if (v > best) {
                                best = v;
                                bx = ox * s + kx;
                                by = oy * s + ky;
                            }
                        }
                    if (positive_only && !(best > 0.0f)) continue;
                    *reinterpret_cast<float*>(t->at(c, bx, by, n)) += load_f32(dy, c, ox, oy, n);
                }
    }
}

}  // namespace mn
