// Row-wise ops along ne[0]: softmax, its gradient, and argmax.
#include <cmath>

#include "engine/forward.h"

namespace mn {

namespace {
inline float elem(const Tensor* t, int64_t i0, int64_t row) {
    const int64_t i1 = row % t->ne[1], i2 = (row / t->ne[1]) % t->ne[2], i3 = row / (t->ne[1] * t->ne[2]);
    return *reinterpret_cast<const float*>(t->at(i0, i1, i2, i3));
}
}  // namespace

void forward_soft_max(const ComputeParams& p, Tensor* t) {
    const Tensor* a = t->src[0];
    const int64_t n = t->ne[0];
    int64_t begin, end;
    split_range(t->nrows(), p.ith, p.nth, 1, begin, end);
    for (int64_t row = begin; row < end; ++row) {
        float* y = t->f32() + row * n;  // results are contiguous
        float max = -INFINITY;
        for (int64_t i = 0; i < n; ++i) max = std::fmax(max, elem(a, i, row));
        double sum = 0.0;
        for (int64_t i = 0; i < n; ++i) {
            y[i] = std::exp(elem(a, i, row) - max);
            sum += y[i];
        }
        const float inv = static_cast<float>(1.0 / sum);
        for (int64_t i = 0; i < n; ++i) y[i] *= inv;
    }
}

void forward_argmax(const ComputeParams& p, Tensor* t) {
    const Tensor* a = t->src[0];
    int64_t begin, end;
    split_range(a->nrows(), p.ith, p.nth, 1, begin, end);
    int32_t* out = static_cast<int32_t*>(t->data);
    for (int64_t row = begin; row < end; ++row) {
        int64_t best = 0;
        float best_v = elem(a, 0, row);
        for (int64_t i = 1; i < a->ne[0]; ++i) {
            const float v = elem(a, i, row);
            if (v > best_v) {
                best_v = v;
                best = i;
            }
        }
        out[row] = static_cast<int32_t>(best);
    }
}

void forward_soft_max_backward(const ComputeParams& p, Tensor* t) {
    const Tensor* dy = t->src[0];
    const Tensor* y = t->src[1];
    int64_t begin, end;
    split_range(t->nrows(), p.ith, p.nth, 1, begin, end);
    for (int64_t row = begin; row < end; ++row) {
        const RowIndex r = row_index(t, row);
        double dot = 0.0;
        for (int64_t i = 0; i < t->ne[0]; ++i)
            dot += double(load_f32(dy, i, r.i1, r.i2, r.i3)) * load_f32(y, i, r.i1, r.i2, r.i3);
        float* dx = reinterpret_cast<float*>(t->at(0, r.i1, r.i2, r.i3));
        for (int64_t i = 0; i < t->ne[0]; ++i)
            dx[i] = static_cast<float>(load_f32(y, i, r.i1, r.i2, r.i3) * (load_f32(dy, i, r.i1, r.i2, r.i3) - dot));
    }
}

}  // namespace mn
