// Softmax cross-entropy loss and its gradient.
#include <algorithm>
#include <cmath>

#include "engine/forward.h"

namespace mn {

namespace {
// log(sum(exp(z))) of one column, stably.
double log_sum_exp(const Tensor* z, const RowIndex& r) {
    double mx = -INFINITY;
    for (int64_t c = 0; c < z->ne[0]; ++c) mx = std::max(mx, double(load_f32(z, c, r.i1, r.i2, r.i3)));
    double s = 0.0;
    for (int64_t c = 0; c < z->ne[0]; ++c) s += std::exp(double(load_f32(z, c, r.i1, r.i2, r.i3)) - mx);
    return mx + std::log(s);
}
// The loss is averaged over the total label mass (the number of labelled examples for one-hot
// labels), so columns with all-zero labels, such as the padding of a partial batch, count for
// nothing.
double label_mass(const Tensor* y) {
    double mass = 0.0;
    for (int64_t row = 0; row < y->nrows(); ++row) {
        const RowIndex r = row_index(y, row);
        for (int64_t c = 0; c < y->ne[0]; ++c) mass += load_f32(y, c, r.i1, r.i2, r.i3);
    }
    return mass;
}
}  // namespace

// One thread: the loss is a scalar and the batch is small next to the layers before it.
void forward_cross_entropy_loss(const ComputeParams& p, Tensor* t) {
    if (p.ith != 0) return;
    const Tensor* z = t->src[0];
    const Tensor* y = t->src[1];
    double total = 0.0;
    for (int64_t row = 0; row < z->nrows(); ++row) {
        const RowIndex r = row_index(z, row);
        const double lse = log_sum_exp(z, r);
        for (int64_t c = 0; c < z->ne[0]; ++c) {
            const double label = load_f32(y, c, r.i1, r.i2, r.i3);
            if (label != 0.0) total += label * (lse - load_f32(z, c, r.i1, r.i2, r.i3));
        }
    }
    const double mass = label_mass(y);
    t->f32()[0] = mass > 0.0 ? static_cast<float>(total / mass) : 0.0f;
}

// d loss / d z = (softmax(z) * sum(labels) - labels) * dloss / label mass
void forward_cross_entropy_loss_backward(const ComputeParams& p, Tensor* t) {
    const Tensor* z = t->src[0];
    const Tensor* y = t->src[1];
    const float dloss = *static_cast<const float*>(t->src[2]->data);
    const double mass = label_mass(y);
    const double k = mass > 0.0 ? double(dloss) / mass : 0.0;
    int64_t begin, end;
    split_range(z->nrows(), p.ith, p.nth, 1, begin, end);
    for (int64_t row = begin; row < end; ++row) {
        const RowIndex r = row_index(z, row);
        const double lse = log_sum_exp(z, r);
        double label_sum = 0.0;
        for (int64_t c = 0; c < z->ne[0]; ++c) label_sum += load_f32(y, c, r.i1, r.i2, r.i3);
        float* dz = reinterpret_cast<float*>(t->at(0, r.i1, r.i2, r.i3));
        for (int64_t c = 0; c < z->ne[0]; ++c) {
            const double prob = std::exp(double(load_f32(z, c, r.i1, r.i2, r.i3)) - lse);
            dz[c] = static_cast<float>((prob * label_sum - load_f32(y, c, r.i1, r.i2, r.i3)) * k);
        }
    }
}

}  // namespace mn
