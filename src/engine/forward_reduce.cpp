// scale, sum_to (reduce over broadcast dimensions) and repeat (broadcast).
#include <algorithm>
#include <cstring>

#include "engine/forward.h"
#include "engine/op_params.h"
#include "engine/ops.h"
#include "kernels/kernels.h"

namespace mn {

namespace {
// sum_to a [C] row from a dense [C, ...] tensor: a bias gradient, summed over ~10^6 pixels.
bool sums_columns(const Tensor* t) {
    const Tensor* a = t->src[0];
    return t->nelements() == t->ne[0] && a->ne[0] == t->ne[0] && a->is_contiguous();
}

// Two phases: each thread sums a share of the rows into double partial sums in its scratch;
// after a barrier, threads add up everyone's partials (in thread order) for disjoint columns.
void sum_columns(const ComputeParams& p, Tensor* t) {
    const Tensor* a = t->src[0];
    const int64_t c = t->ne[0], rows = a->nelements() / c;
    double* partial = static_cast<double*>(p.work);
    std::fill(partial, partial + c, 0.0);
    int64_t begin, end;
    split_range(rows, p.ith, p.nth, 64, begin, end);
    if (begin < end) kernels().sum_rows(static_cast<const float*>(a->data) + begin * c, end - begin, c, partial);
    p.barrier();
    split_range(c, p.ith, p.nth, 1, begin, end);
    for (int64_t i = begin; i < end; ++i) {
        double s = 0.0;
        for (int th = 0; th < p.nth; ++th) s += (th == p.ith ? partial : static_cast<const double*>(p.work_of(th)))[i];
        t->f32()[i] = static_cast<float>(s);
    }
}
}  // namespace

size_t forward_sum_to_work_bytes(const Tensor* t, int nth) {
    if (sums_columns(t)) return static_cast<size_t>(t->ne[0]) * sizeof(double);
    int64_t begin, end;
    split_range(t->nelements(), 0, nth, 1, begin, end);
    return static_cast<size_t>(end - begin) * sizeof(double);
}

void forward_scale(const ComputeParams& p, Tensor* t) {
    const Tensor* a = t->src[0];
    const ScaleParams sp = params<ScaleParams>(t);
    int64_t begin, end;
    split_range(t->nrows(), p.ith, p.nth, 1, begin, end);
    for (int64_t row = begin; row < end; ++row) {
        const RowIndex r = row_index(t, row);
        float* y = reinterpret_cast<float*>(t->at(0, r.i1, r.i2, r.i3));
        for (int64_t i = 0; i < t->ne[0]; ++i) y[i] = sp.s * load_f32(a, i, r.i1, r.i2, r.i3) + sp.offset;
    }
}

// Each thread owns a range of output elements and scans every source row that feeds them, in
// order, so every sum is taken in the same order whatever the thread count.
void forward_sum_to(const ComputeParams& p, Tensor* t) {
    if (sums_columns(t)) {
        sum_columns(p, t);
        return;
    }
    const Tensor* a = t->src[0];
    int64_t begin, end;
    split_range(t->nelements(), p.ith, p.nth, 1, begin, end);
    if (begin >= end) return;
    float* out = t->f32();
    double* acc = static_cast<double*>(p.work);  // sized by forward_work_bytes
    std::fill(acc, acc + (end - begin), 0.0);
    const bool reduce0 = t->ne[0] == 1 && a->ne[0] > 1;
    const bool dense = a->nb[0] == sizeof(float);
    // Rows walked with nested loops: no division per row (a bias gradient has ~10^6 short rows).
    for (int64_t i3 = 0; i3 < a->ne[3]; ++i3)
        for (int64_t i2 = 0; i2 < a->ne[2]; ++i2)
            for (int64_t i1 = 0; i1 < a->ne[1]; ++i1) {
                const int64_t out_row = bcast(i1, t->ne[1]) + t->ne[1] * (bcast(i2, t->ne[2]) + t->ne[2] * bcast(i3, t->ne[3]));
                const int64_t first = out_row * t->ne[0];
                if (first + t->ne[0] <= begin || first >= end) continue;
                if (reduce0) {
                    double s = 0.0;
                    for (int64_t i = 0; i < a->ne[0]; ++i) s += load_f32(a, i, i1, i2, i3);
                    acc[first - begin] += s;
                    continue;
                }
                const int64_t lo = std::max(first, begin), hi = std::min(first + t->ne[0], end);
                if (dense) {
                    const float* src = reinterpret_cast<const float*>(a->at(0, i1, i2, i3)) - first;
                    double* dst = acc - begin;
                    for (int64_t o = lo; o < hi; ++o) dst[o] += src[o];
                    continue;
                }
                for (int64_t o = lo; o < hi; ++o) acc[o - begin] += load_f32(a, o - first, i1, i2, i3);
            }
    for (int64_t o = begin; o < end; ++o) out[o] = static_cast<float>(acc[o - begin]);
}

void forward_repeat(const ComputeParams& p, Tensor* t) {
    const Tensor* a = t->src[0];
    int64_t begin, end;
    split_range(t->nrows(), p.ith, p.nth, 1, begin, end);
    for (int64_t row = begin; row < end; ++row) {
        const RowIndex r = row_index(t, row);
        float* y = reinterpret_cast<float*>(t->at(0, r.i1, r.i2, r.i3));
        const int64_t a1 = bcast(r.i1, a->ne[1]), a2 = bcast(r.i2, a->ne[2]), a3 = bcast(r.i3, a->ne[3]);
        for (int64_t i = 0; i < t->ne[0]; ++i) y[i] = load_f32(a, bcast(i, a->ne[0]), a1, a2, a3);
    }
}

}  // namespace mn
