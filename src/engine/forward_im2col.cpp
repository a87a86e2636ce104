// im2col and its adjoint col2im on [C, W, H, N] activations (strided convolutions as a GEMM).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/forward.h"
#include "engine/op_params.h"
#include "kernels/kernels.h"

namespace mn {

// cols(p, ox, oy, n) with p = c + C*(kx + KW*ky) holds x(c, ox*s + kx - pad, oy*s + ky - pad, n):
// for each ky, one contiguous run of KW*C values of x (when the patch is inside the image).
void forward_im2col(const ComputeParams& p, Tensor* t) {
    const Tensor* x = t->src[0];
    const Im2ColParams g = params<Im2ColParams>(t);
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
    const Im2ColParams g = params<Im2ColParams>(t);
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

}  // namespace mn
