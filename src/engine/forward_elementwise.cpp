// Element-wise ops: add (with broadcasting), relu, and cont (strided copy). Work is split by rows.
#include <cstring>

#include "engine/forward.h"
#include "kernels/kernels.h"

namespace mn {

void forward_add(const ComputeParams& p, Tensor* t) {
    const Tensor* a = t->src[0];
    const Tensor* b = t->src[1];
    const int64_t n0 = t->ne[0];
    int64_t begin, end;
    split_range(t->nrows(), p.ith, p.nth, 1, begin, end);
    const bool dense_rows = a->ne[0] == n0 && b->ne[0] == n0 && a->nb[0] == sizeof(float) && b->nb[0] == sizeof(float);
    for (int64_t row = begin; row < end; ++row) {
        const RowIndex r = row_index(t, row);
        float* y = reinterpret_cast<float*>(t->at(0, r.i1, r.i2, r.i3));
        const char* ar = a->at(0, bcast(r.i1, a->ne[1]), bcast(r.i2, a->ne[2]), bcast(r.i3, a->ne[3]));
        const char* br = b->at(0, bcast(r.i1, b->ne[1]), bcast(r.i2, b->ne[2]), bcast(r.i3, b->ne[3]));
        if (dense_rows) {
            kernels().add(y, reinterpret_cast<const float*>(ar), reinterpret_cast<const float*>(br), n0);
            continue;
        }
        for (int64_t i = 0; i < n0; ++i) {
            const float av = *reinterpret_cast<const float*>(ar + bcast(i, a->ne[0]) * a->nb[0]);
            const float bv = *reinterpret_cast<const float*>(br + bcast(i, b->ne[0]) * b->nb[0]);
            y[i] = av + bv;
        }
    }
}

void forward_relu(const ComputeParams& p, Tensor* t) {
    const Tensor* a = t->src[0];
    int64_t begin, end;
    split_range(t->nrows(), p.ith, p.nth, 1, begin, end);
    for (int64_t row = begin; row < end; ++row) {
        const RowIndex r = row_index(t, row);
        float* y = reinterpret_cast<float*>(t->at(0, r.i1, r.i2, r.i3));
        const char* x = a->at(0, r.i1, r.i2, r.i3);
        if (a->nb[0] == sizeof(float)) {
            kernels().relu(y, reinterpret_cast<const float*>(x), t->ne[0]);
            continue;
        }
        for (int64_t i = 0; i < t->ne[0]; ++i) {
            const float v = *reinterpret_cast<const float*>(x + i * a->nb[0]);
            y[i] = v > 0.0f ? v : 0.0f;
        }
    }
}

void forward_cont(const ComputeParams& p, Tensor* t) {
    const Tensor* a = t->src[0];
    const DTypeInfo& info = dtype_info(t->type);
    int64_t begin, end;
    split_range(t->nrows(), p.ith, p.nth, 1, begin, end);
    const size_t rb = row_bytes(t->type, t->ne[0]);
    // Rows of a quantized type are whole blocks; plain types may have any element stride.
    const bool row_copy = info.block_size > 1 || a->nb[0] == info.block_bytes;
    for (int64_t row = begin; row < end; ++row) {
        const RowIndex r = row_index(t, row);
        char* y = t->at(0, r.i1, r.i2, r.i3);
        const char* x = a->at(0, r.i1, r.i2, r.i3);
        if (row_copy) {
            std::memcpy(y, x, rb);
            continue;
        }
        for (int64_t i = 0; i < t->ne[0]; ++i) std::memcpy(y + i * info.block_bytes, x + i * a->nb[0], info.block_bytes);
    }
}

}  // namespace mn
