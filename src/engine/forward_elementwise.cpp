// Element-wise ops: add, sub, mul (with broadcasting), sqrt, rsqrt, relu and its gradient, and
// cont (strided copy). Work is split by rows.
#include <cmath>
#include <cstring>

#include "engine/forward.h"
#include "kernels/kernels.h"

namespace mn {

namespace {
// y = f(a, b) element by element, a and b broadcast to y's shape; `dense` does a whole row of
// rows that need no broadcasting (null: element by element always). Threads take rows in
// chunks of `grain`.
template <class F>
void binary(const ComputeParams& p, Tensor* t, F f, void (*dense)(float*, const float*, const float*, int64_t),
            int64_t grain = 1) {
    const Tensor* a = t->src[0];
    const Tensor* b = t->src[1];
    const int64_t n0 = t->ne[0];
    int64_t begin, end;
    split_range(t->nrows(), p.ith, p.nth, grain, begin, end);
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

// y = f(x) element by element; `dense` does a whole contiguous f32 row (null: element by element).
template <class F>
void unary(const ComputeParams& p, Tensor* t, F f, void (*dense)(float*, const float*, int64_t) = nullptr) {
    const Tensor* a = t->src[0];
    int64_t begin, end;
    split_range(t->nrows(), p.ith, p.nth, 1, begin, end);
    const bool dense_rows = dense && a->type == DType::F32 && a->nb[0] == sizeof(float);
    for (int64_t row = begin; row < end; ++row) {
        const RowIndex r = row_index(t, row);
        float* y = reinterpret_cast<float*>(t->at(0, r.i1, r.i2, r.i3));
        if (dense_rows)
            dense(y, reinterpret_cast<const float*>(a->at(0, r.i1, r.i2, r.i3)), t->ne[0]);
        else
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
    unary(p, t, [](float x) { return x > 0.0f ? x : 0.0f; }, kernels().relu);
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

// dx = dy where the relu's output y is positive, else 0. Rows can be short (a CNN's channels):
// threads take them 16 at a time to keep apart.
void forward_relu_backward(const ComputeParams& p, Tensor* t) {
    binary(p, t, [](float dy, float y) { return y > 0.0f ? dy : 0.0f; }, nullptr, 16);
}

}  // namespace mn
