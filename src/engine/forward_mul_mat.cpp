#include <algorithm>

#include "engine/forward.h"
#include "engine/op_params.h"
#include "kernels/kernels.h"

namespace mn {

namespace {
// Columns of the output (images of a batch) are the natural unit to share between threads;
// with too few of them, threads share the rows (output features) instead.
constexpr int64_t kColumnGrain = 16;
constexpr int64_t kRowGrain = 32;

bool split_by_columns(int64_t n, int nth) { return n >= 2 * kColumnGrain * nth; }

// Weights packed once ahead (models/inference.cpp) for the active kernel level, or null.
const float* packed_ahead_of(const Tensor* t) {
    const auto* packed = static_cast<const PackedMatrix*>(t->op_data);
    const Tensor* a = t->src[0];
    return packed && packed->level == kernels().level && a->ne[2] == 1 && a->ne[3] == 1 ? packed->data.data() : nullptr;
}

// Threads that share the columns all read every row of A: when A is not packed ahead (weights
// that change every training step, activations), they pack it together, each its share of
// the rows, into one buffer behind thread 0's GEMM scratch.
bool packs_a_together(const Tensor* t, int nth) {
    const Tensor* a = t->src[0];
    return nth > 1 && split_by_columns(t->ne[1], nth) && t->ne[2] == 1 && t->ne[3] == 1 && a->ne[2] == 1 &&
           a->ne[3] == 1 && !packed_ahead_of(t) && (a->nb[0] == sizeof(float) || a->nb[1] == sizeof(float));
}

// Threads that share the rows of a packed A start theirs on one of its panels.
int64_t row_grain_of(const Tensor* t) {
    return packed_ahead_of(t) ? std::max<int64_t>(kRowGrain, kernels().pack_a_grain(t->ne[0])) : kRowGrain;
}

size_t gemm_scratch_bytes(const Tensor* t, int nth) {
    const int64_t m = t->ne[0], n = t->ne[1], k = t->src[0]->ne[0];
    int64_t b, e;
    if (split_by_columns(n, nth)) {
        split_range(n, 0, nth, kColumnGrain, b, e);
        return (kernels().gemm_workspace(m, e - b, k) + 63) / 64 * 64;
    }
    split_range(m, 0, nth, row_grain_of(t), b, e);
    return kernels().gemm_workspace(e - b, n, k);
}
}  // namespace

ConvGather image_gather(const Tensor* x, int kw, int kh, int stride, int pad, int64_t ow, int64_t oh) {
    ConvGather g;
    g.x = static_cast<const float*>(x->data);
    g.c = x->ne[0];
    g.w = x->ne[1];
    g.h = x->ne[2];
    g.sx = static_cast<int64_t>(x->nb[1] / sizeof(float));
    g.sy = static_cast<int64_t>(x->nb[2] / sizeof(float));
    g.sn = static_cast<int64_t>(x->nb[3] / sizeof(float));
    g.ow = ow;
    g.oh = oh;
    g.kw = kw;
    g.kh = kh;
    g.stride = stride;
    g.pad = pad;
    return g;
}

// A mul_mat whose B is an implicit im2col of an image (engine/fusion.cpp).
ConvGather conv_gather_of(const Tensor* t) {
    const MulMatParams p = params<MulMatParams>(t);
    return image_gather(t->src[1], p.kw, p.kh, p.stride, p.pad, p.ow, p.oh);
}

size_t forward_mul_mat_work_bytes(const Tensor* t, int nth) {
    size_t bytes = gemm_scratch_bytes(t, nth);
    if (packs_a_together(t, nth)) bytes += kernels().packed_a_floats(t->ne[0], t->src[0]->ne[0]) * sizeof(float);
    return bytes;
}

void forward_mul_mat(const ComputeParams& p, Tensor* t) {
    const Tensor* a = t->src[0];
    const Tensor* b = t->src[1];
    const MulMatParams mp = params<MulMatParams>(t);
    const bool implicit_conv = mp.implicit_conv != 0;
    const ConvGather gather = implicit_conv ? conv_gather_of(t) : ConvGather{};
    const int64_t m = t->ne[0], n = t->ne[1], k = a->ne[0];
    const bool by_columns = split_by_columns(n, p.nth);
    const float* packed_together = nullptr;
    if (packs_a_together(t, p.nth) && p.work_all) {
        const KernelTable& kt = kernels();
        const bool trans = a->nb[0] != sizeof(float);
        float* shared = reinterpret_cast<float*>(static_cast<uint8_t*>(p.work_of(0)) + gemm_scratch_bytes(t, p.nth));
        int64_t row_begin, row_end;
        split_range(m, p.ith, p.nth, kt.pack_a_grain(m), row_begin, row_end);
        kt.pack_a(static_cast<const float*>(a->data), static_cast<int64_t>(a->nb[trans ? 0 : 1] / sizeof(float)), trans,
                  m, k, row_begin, row_end, shared);
        p.barrier();
        packed_together = shared;
    }
    const float* packed_ahead = packed_ahead_of(t);
    int64_t begin, end;
    split_range(by_columns ? n : m, p.ith, p.nth, by_columns ? kColumnGrain : row_grain_of(t), begin, end);
    if (begin >= end) return;

    for (int64_t i3 = 0; i3 < t->ne[3]; ++i3) {
        for (int64_t i2 = 0; i2 < t->ne[2]; ++i2) {
            // a is broadcast over the batch dimensions of b.
            const int64_t a2 = i2 / (t->ne[2] / a->ne[2]), a3 = i3 / (t->ne[3] / a->ne[3]);
            GemmArgs g;
            g.k = k;
            // An operand whose rows are not contiguous is a transposed view: its columns are.
            g.a_trans = a->nb[0] != sizeof(float);
            g.b_trans = !implicit_conv && b->nb[0] != sizeof(float);
            g.a = reinterpret_cast<const float*>(a->at(0, 0, a2, a3));
            g.lda = static_cast<int64_t>(a->nb[g.a_trans ? 0 : 1] / sizeof(float));
            g.b = reinterpret_cast<const float*>(b->at(0, 0, i2, i3));
            g.ldb = static_cast<int64_t>(b->nb[g.b_trans ? 0 : 1] / sizeof(float));
            g.c = reinterpret_cast<float*>(t->at(0, 0, i2, i3));
            g.ldc = static_cast<int64_t>(t->nb[1] / sizeof(float));
            // Fused epilogue (engine/fusion.cpp): src[2] is a bias per row, then relu, and src[3]
            // a relu's output that gates the result (relu_backward).
            g.bias = t->src[2] ? static_cast<const float*>(t->src[2]->data) : nullptr;
            g.relu = mp.relu != 0;
            if (const Tensor* gate = t->src[3]) {
                g.gate = reinterpret_cast<const float*>(gate->at(0, 0, i2, i3));
                g.ldgate = static_cast<int64_t>(gate->nb[1] / sizeof(float));
            }
            if (implicit_conv) {
                g.b = nullptr;
                g.b_gather = &gather;
            }
            if (by_columns) {
                g.m = m;
                g.n = end - begin;
                g.a_packed = packed_together ? packed_together : packed_ahead;
                if (implicit_conv)
                    g.b_first_column = begin;
                else
                    g.b += begin * (g.b_trans ? 1 : g.ldb);
                g.c += begin * g.ldc;
                if (g.gate) g.gate += begin * g.ldgate;
            } else {
                g.m = end - begin;
                g.n = n;
                g.a_packed = packed_ahead;
                g.a_packed_m = m;
                g.a_packed_row = begin;
                g.a += begin * (g.a_trans ? 1 : g.lda);
                g.c += begin;
                if (g.bias) g.bias += begin;
                if (g.gate) g.gate += begin;
            }
            kernels().gemm(g, p.work);
        }
    }
}

}  // namespace mn
