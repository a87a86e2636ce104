// Batch normalisation's standardization and its gradient, per channel of [C, ...] activations
// (channels innermost: every pixel holds C contiguous values, so the per-channel sums run along
// vectors of channels). In training both take two phases: each thread sums its share of the
// pixels into its scratch (in double), then, after a barrier, every thread adds all the partial
// sums up (in thread order, so the result depends on the thread count only) and writes its
// share of the output.
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/forward.h"
#include "engine/op_params.h"

namespace mn {

namespace {

struct Channels {
    int64_t c, pixels;
};
Channels channels_of(const Tensor* x) { return {x->ne[0], x->nelements() / x->ne[0]}; }

// Adds the partial sums of every thread: total[i] for i < n.
void add_partials(const ComputeParams& p, size_t n, std::vector<double>& total) {
    total.assign(n, 0.0);
    for (int th = 0; th < p.nth; ++th) {
        const double* part = static_cast<const double*>(p.work_of(th));
        for (size_t i = 0; i < n; ++i) total[i] += part[i];
    }
}

}  // namespace

size_t forward_batch_norm_work_bytes(const Tensor* t, int /*nth*/) {
    const bool training = params<BatchNormParams>(t).training != 0;
    const int64_t fields = t->op == Op::BatchNormBackward ? 4 : 2;
    return training ? static_cast<size_t>(fields * t->ne[0]) * sizeof(double) : 0;
}

// y = (x - mean) / sqrt(var + eps), with this batch's statistics (training: the running ones
// move towards them) or the running ones.
void forward_batch_norm(const ComputeParams& p, Tensor* t) {
    const BatchNormParams bp = params<BatchNormParams>(t);
    const Tensor* x = t->src[0];
    float* running_mean = t->src[1]->f32();
    float* running_var = t->src[2]->f32();
    const auto [C, P] = channels_of(x);
    const float* xd = x->f32();
    float* y = t->f32();
    int64_t begin, end;
    split_range(P, p.ith, p.nth, 1, begin, end);

    std::vector<float> mean(static_cast<size_t>(C)), inv(static_cast<size_t>(C));
    if (bp.training) {
        double* a = static_cast<double*>(p.work);  // [sum x | sum x^2] per channel
        std::fill(a, a + 2 * C, 0.0);
        for (int64_t px = begin; px < end; ++px) {
            const float* v = xd + px * C;
            for (int64_t c = 0; c < C; ++c) {
                a[c] += v[c];
                a[C + c] += double(v[c]) * v[c];
            }
        }
        p.barrier();
        std::vector<double> total;
        add_partials(p, static_cast<size_t>(2 * C), total);
        for (int64_t c = 0; c < C; ++c) {
            const double m = total[c] / double(P), var = std::max(0.0, total[C + c] / double(P) - m * m);
            mean[c] = float(m);
            inv[c] = float(1.0 / std::sqrt(var + bp.eps));
            if (p.ith == 0) {  // PyTorch's update, with the unbiased variance
                running_mean[c] = (1.0f - bp.momentum) * running_mean[c] + bp.momentum * float(m);
                running_var[c] = (1.0f - bp.momentum) * running_var[c] + bp.momentum * float(var * P / (P - 1));
            }
        }
    } else {
        for (int64_t c = 0; c < C; ++c) {
            mean[c] = running_mean[c];
            inv[c] = 1.0f / std::sqrt(running_var[c] + bp.eps);
        }
    }
    for (int64_t px = begin; px < end; ++px)
        for (int64_t c = 0; c < C; ++c) y[px * C + c] = (xd[px * C + c] - mean[c]) * inv[c];
}

// dx = (dy - mean(dy) - y * mean(dy * y)) / sqrt(var + eps), per channel, var that of x.
void forward_batch_norm_backward(const ComputeParams& p, Tensor* t) {
    const BatchNormParams bp = params<BatchNormParams>(t);
    const float* dy = t->src[0]->f32();
    const float* y = t->src[1]->f32();
    const float* xd = t->src[2]->f32();
    const auto [C, P] = channels_of(t);
    int64_t begin, end;
    split_range(P, p.ith, p.nth, 1, begin, end);
    double* a = static_cast<double*>(p.work);  // [sum x | sum x^2 | sum dy | sum dy*y] per channel
    std::fill(a, a + 4 * C, 0.0);
    for (int64_t px = begin; px < end; ++px) {
        const float *v = xd + px * C, *g = dy + px * C, *h = y + px * C;
        for (int64_t c = 0; c < C; ++c) {
            a[c] += v[c];
            a[C + c] += double(v[c]) * v[c];
            a[2 * C + c] += g[c];
            a[3 * C + c] += double(g[c]) * h[c];
        }
    }
    p.barrier();
    std::vector<double> total;
    add_partials(p, static_cast<size_t>(4 * C), total);
    std::vector<float> inv(static_cast<size_t>(C)), mean_dy(static_cast<size_t>(C)), mean_dyy(static_cast<size_t>(C));
    for (int64_t c = 0; c < C; ++c) {
        const double m = total[c] / double(P), var = std::max(0.0, total[C + c] / double(P) - m * m);
        inv[c] = float(1.0 / std::sqrt(var + bp.eps));
        mean_dy[c] = float(total[2 * C + c] / double(P));
        mean_dyy[c] = float(total[3 * C + c] / double(P));
    }
    float* dx = t->f32();
    for (int64_t px = begin; px < end; ++px)
        for (int64_t c = 0; c < C; ++c) {
            const int64_t i = px * C + c;
            dx[i] = (dy[i] - mean_dy[c] - y[i] * mean_dyy[c]) * inv[c];
        }
}

}  // namespace mn
