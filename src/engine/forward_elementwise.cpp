// Element-wise ops: add, sub, mul (with broadcasting), sqrt, rsqrt, relu and its gradient, and
// cont (strided copy). Work is split by rows.
#include <cmath>
#include <cstring>

#include "engine/forward.h"
#include "kernels/kernels.h"

namespace mn {

namespace {
// y = f(a, b) element by element, a and b broadcast to y's shape; `dense` does a whole row of
// rows that need no broadcasting (null: element by element always).
template <class F>
void binary(const ComputeParams& p, Tensor* t, F f, void (*dense)(float*, const float*, const float*, int64_t)) {
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
            const float* av = reinterpret_cast<const float*>(ar);
            const float* bv = reinterpret_cast<const float*>(br);
            if (dense)
                dense(y, av, bv, n0);
            else
                for (int64_t i = 0; i < n0; ++i) y[i] = f(av[i], bv[i]);
            continue;
        }
        for (int64_t i = 0; i < n0; ++i) {
            const float av = *reinterpret_cast<const float*>(ar + bcast(i, a->ne[0]) * a->nb[0]);
            const float bv = *reinterpret_cast<const float*>(br + bcast(i, b->ne[0]) * b->nb[0]);
            y[i] = f(av, bv);
        }
    }
}

// y = f(x) element by element.
template <class F>
void unary(const ComputeParams& p, Tensor* t, F f) {
    const Tensor* a = t->src[0];
    int64_t begin, end;
    split_range(t->nrows(), p.ith, p.nth, 1, begin, end);
    for (int64_t row = begin; row < end; ++row) {
        const RowIndex r = row_index(t, row);
        float* y = reinterpret_cast<float*>(t->at(0, r.i1, r.i2, r.i3));
        for (int64_t i = 0; i < t->ne[0]; ++i) y[i] = f(load_f32(a, i, r.i1, r.i2, r.i3));
    }
}
}  // namespace

void forward_add(const ComputeParams& p, Tensor* t) {
    binary(p, t, [](float a, float b) { return a + b; }, kernels().add);
}
void forward_sub(const ComputeParams& p, Tensor* t) {
    binary(p, t, [](float a, float b) { return a - b; }, nullptr);
}
void forward_mul(const ComputeParams& p, Tensor* t) {
    binary(p, t, [](float a, float b) { return a * b; }, nullptr);
}
void forward_sqrt(const ComputeParams& p, Tensor* t) {
    unary(p, t, [](float x) { return std::sqrt(x); });
}
void forward_rsqrt(const ComputeParams& p, Tensor* t) {
    unary(p, t, [](float x) { return 1.0f / std::sqrt(x); });
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

void forward_relu_backward(const ComputeParams& p, Tensor* t) {
    const Tensor* dy = t->src[0];
    const Tensor* y = t->src[1];
    int64_t begin, end;
    // Rows can be short (a CNN's channels): split in chunks of rows to keep threads apart.
    split_range(t->nrows(), p.ith, p.nth, 16, begin, end);
    for (int64_t row = begin; row < end; ++row) {
        const RowIndex r = row_index(t, row);
        float* dx = reinterpret_cast<float*>(t->at(0, r.i1, r.i2, r.i3));
        if (y->nb[0] == sizeof(float) && dy->nb[0] == sizeof(float)) {
            const float* yr = reinterpret_cast<const float*>(y->at(0, r.i1, r.i2, r.i3));
            const float* gr = reinterpret_cast<const float*>(dy->at(0, r.i1, r.i2, r.i3));
            for (int64_t i = 0; i < t->ne[0]; ++i) dx[i] = yr[i] > 0.0f ? gr[i] : 0.0f;
            continue;
        }
        for (int64_t i = 0; i < t->ne[0]; ++i)
            dx[i] = load_f32(y, i, r.i1, r.i2, r.i3) > 0.0f ? load_f32(dy, i, r.i1, r.i2, r.i3) : 0.0f;
    }
}

}  // namespace mn
