// Convolution building blocks on [C, W, H, N] activations: im2col / col2im, max pooling, dropout.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/forward.h"
#include "engine/ops.h"
#include "kernels/kernels.h"

namespace mn {

namespace {

struct ConvGeometry {
    int kw, kh, stride, pad;
};

ConvGeometry geometry_of(const Tensor* t) { return {t->op_params[0], t->op_params[1], t->op_params[2], t->op_params[3]}; }

}  // namespace

// cols(p, ox, oy, n) with p = c + C*(kx + KW*ky) holds x(c, ox*s + kx - pad, oy*s + ky - pad, n):
// for each ky, one contiguous run of KW*C values of x (when the patch is inside the image).
void forward_im2col(const ComputeParams& p, Tensor* t) {
    const Tensor* x = t->src[0];
    const ConvGeometry g = geometry_of(t);
    const int64_t C = x->ne[0], W = x->ne[1], H = x->ne[2], OW = t->ne[1], OH = t->ne[2];
    const bool dense_channels = x->nb[0] == sizeof(float);
    const size_t row_bytes_out = t->nb[1];
    int64_t begin, end;
    split_range(t->nrows(), p.ith, p.nth, 1, begin, end);
    if (begin >= end) return;
    // Walk output pixels with counters (a division per pixel costs more than its copies).
    RowIndex r = row_index(t, begin);
    char* out_row = static_cast<char*>(t->at(0, r.i1, r.i2, r.i3));
    for (int64_t row = begin; row < end; ++row, out_row += row_bytes_out) {
        float* out = reinterpret_cast<float*>(out_row);
        for (int ky = 0; ky < g.kh; ++ky) {
            const int64_t iy = r.i2 * g.stride + ky - g.pad;
            for (int kx = 0; kx < g.kw; ++kx, out += C) {
                const int64_t ix = r.i1 * g.stride + kx - g.pad;
                if (ix < 0 || ix >= W || iy < 0 || iy >= H) {
                    std::fill(out, out + C, 0.0f);
                } else if (dense_channels) {
                    const float* in = reinterpret_cast<const float*>(x->at(0, ix, iy, r.i3));
                    for (int64_t c = 0; c < C; ++c) out[c] = in[c];
                } else {
                    for (int64_t c = 0; c < C; ++c) out[c] = load_f32(x, c, ix, iy, r.i3);
                }
            }
        }
        if (++r.i1 == OW) {
            r.i1 = 0;
            if (++r.i2 == OH) {
                r.i2 = 0;
                ++r.i3;
            }
        }
    }
}

// The adjoint of im2col, written as a gather so that threads own disjoint output rows.
void forward_col2im(const ComputeParams& p, Tensor* t) {
    const Tensor* cols = t->src[0];
    const ConvGeometry g = geometry_of(t);
    const int64_t C = t->ne[0], OW = cols->ne[1], OH = cols->ne[2];
    const bool dense = cols->nb[0] == sizeof(float);
    int64_t begin, end;
    split_range(t->nrows(), p.ith, p.nth, 1, begin, end);
    for (int64_t row = begin; row < end; ++row) {
        const RowIndex r = row_index(t, row);  // (ix, iy, n)
        float* out = reinterpret_cast<float*>(t->at(0, r.i1, r.i2, r.i3));
        std::fill(out, out + C, 0.0f);
        for (int ky = 0; ky < g.kh; ++ky) {
            const int64_t ty = r.i2 + g.pad - ky;  // = oy * stride
            if (ty < 0 || ty % g.stride != 0 || ty / g.stride >= OH) continue;
            for (int kx = 0; kx < g.kw; ++kx) {
                const int64_t tx = r.i1 + g.pad - kx;
                if (tx < 0 || tx % g.stride != 0 || tx / g.stride >= OW) continue;
                const int64_t first = C * (kx + int64_t(g.kw) * ky);
                if (dense) {
                    const float* col = reinterpret_cast<const float*>(cols->at(first, tx / g.stride, ty / g.stride, r.i3));
                    for (int64_t c = 0; c < C; ++c) out[c] += col[c];
                } else {
                    for (int64_t c = 0; c < C; ++c) out[c] += load_f32(cols, first + c, tx / g.stride, ty / g.stride, r.i3);
                }
            }
        }
    }
}

void forward_max_pool_2d(const ComputeParams& p, Tensor* t) {
    const Tensor* x = t->src[0];
    const int k = t->op_params[0], s = t->op_params[1];
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

// The gradient goes to the first maximum of each window (op_params[2]: and only where that
// maximum is above 0, the relu_backward of a relu before the pooling, engine/fusion.cpp).
void forward_max_pool_2d_backward(const ComputeParams& p, Tensor* t) {
    const Tensor* dy = t->src[0];
    const Tensor* x = t->src[1];
    const int k = t->op_params[0], s = t->op_params[1];
    const bool positive_only = t->op_params[2] != 0;
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

void forward_dropout(const ComputeParams& p, Tensor* t) {
    const Tensor* x = t->src[0];
    const int32_t* seed = static_cast<const int32_t*>(t->src[1]->data);
    const uint64_t key = (uint64_t(uint32_t(seed[1])) << 32) | uint32_t(seed[0]);
    const float rate = op_param_f32(t, 0);
    const float keep_scale = 1.0f / (1.0f - rate);
    // Keep when a 24-bit uniform draw is at or above the rate.
    const uint64_t threshold = static_cast<uint64_t>(static_cast<double>(rate) * (1 << 24));
    int64_t begin, end;
    split_range(t->nrows(), p.ith, p.nth, 1, begin, end);
    for (int64_t row = begin; row < end; ++row) {
        const RowIndex r = row_index(t, row);
        float* y = reinterpret_cast<float*>(t->at(0, r.i1, r.i2, r.i3));
        const uint64_t base = static_cast<uint64_t>(row * t->ne[0]);
        if (x->nb[0] == sizeof(float)) {
            kernels().dropout(reinterpret_cast<const float*>(x->at(0, r.i1, r.i2, r.i3)), y, t->ne[0], key, base, threshold,
                              keep_scale);
            continue;
        }
        for (int64_t i = 0; i < t->ne[0]; ++i) {
            const float v = load_f32(x, i, r.i1, r.i2, r.i3);
            kernels().dropout(&v, y + i, 1, key, base + static_cast<uint64_t>(i), threshold, keep_scale);
        }
    }
}

}  // namespace mn
