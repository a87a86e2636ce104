// Batch normalisation and its gradients, per channel of [C, ...] activations (channels
// innermost: every pixel holds C contiguous values, so the per-channel sums and the element-wise
// passes run along vectors of channels: kernels/norm_impl.h). In training each takes two phases:
// every thread sums its share of the pixels (in float over blocks, then in double) into its scratch;
// after a barrier every thread adds all the partial sums up, in thread order (so a result
// depends on the thread count only), and writes its share of the output.
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/forward.h"
#include "engine/op_params.h"
#include "kernels/kernels.h"

namespace mn {

namespace {

struct Channels {
    int64_t c, pixels;
};
Channels channels_of(const Tensor* x) { return {x->ne[0], x->nelements() / x->ne[0]}; }

// Every thread's sums of its pixels, added up in thread order: total[fields * C], kept in the
// second half of this thread's scratch (the first half holds its own sums, which the others read).
const double* batch_sums(const ComputeParams& p, const float* x, const float* dy, int64_t C, int64_t P) {
    const int fields = dy ? 4 : 2;
    int64_t begin, end;
    split_range(P, p.ith, p.nth, 1, begin, end);
    double* mine = static_cast<double*>(p.work);
    std::fill(mine, mine + fields * C, 0.0);
    kernels().channel_moments(x + begin * C, dy ? dy + begin * C : nullptr, end - begin, C, mine);
    p.barrier();
    double* total = mine + fields * C;
    std::fill(total, total + fields * C, 0.0);
    for (int th = 0; th < p.nth; ++th) {
        const double* part = static_cast<const double*>(p.work_of(th));
        for (int64_t i = 0; i < fields * C; ++i) total[i] += part[i];
    }
    return total;
}

// The batch's mean and 1 / sqrt(var + eps) of channel c from its sums (biased variance).
void moments(const double* total, int64_t C, int64_t P, int64_t c, float eps, double& mean, double& var,
             double& inv) {
    mean = total[c] / double(P);
    var = std::max(0.0, total[C + c] / double(P) - mean * mean);
    inv = 1.0 / std::sqrt(var + eps);
}

const float* optional_f32(const Tensor* t) { return t ? t->f32() : nullptr; }

}  // namespace

size_t forward_batch_norm_work_bytes(const Tensor* t, int /*nth*/) {
    const bool training = params<BatchNormParams>(t).training != 0;
    const int64_t C = t->src[0]->ne[0];
    const int64_t fields = t->op == Op::BatchNorm ? 2 : 4;
    // Each thread's sums, then the total (batch_sums).
    return training || t->op != Op::BatchNorm ? static_cast<size_t>(2 * fields * C) * sizeof(double) : 0;
}

// y = gamma * (x - mean) / sqrt(var + eps) + beta, with this batch's statistics (training: the
// running ones move towards them, as PyTorch's do) or the running ones. gamma, beta optional.
void forward_batch_norm(const ComputeParams& p, Tensor* t) {
    const BatchNormParams bp = params<BatchNormParams>(t);
    const Tensor* x = t->src[0];
    float* running_mean = t->src[1]->f32();
    float* running_var = t->src[2]->f32();
    const float* gamma = optional_f32(t->src[3]);
    const float* beta = optional_f32(t->src[4]);
    const auto [C, P] = channels_of(x);
    std::vector<float> a(static_cast<size_t>(C)), b(static_cast<size_t>(C));  // y = a x + b
    if (bp.training) {
        const double* total = batch_sums(p, x->f32(), nullptr, C, P);
        for (int64_t c = 0; c < C; ++c) {
            double mean, var, inv;
            moments(total, C, P, c, bp.eps, mean, var, inv);
            a[c] = float(inv);
            b[c] = float(-mean * inv);
            if (p.ith == 0) {  // PyTorch's update, with the unbiased variance
                running_mean[c] = (1.0f - bp.momentum) * running_mean[c] + bp.momentum * float(mean);
                running_var[c] = (1.0f - bp.momentum) * running_var[c] + bp.momentum * float(var * P / (P - 1));
            }
        }
    } else {
        for (int64_t c = 0; c < C; ++c) {
            a[c] = 1.0f / std::sqrt(running_var[c] + bp.eps);
            b[c] = -running_mean[c] * a[c];
        }
    }
    for (int64_t c = 0; c < C; ++c) {
        if (gamma) a[c] *= gamma[c], b[c] *= gamma[c];
        if (beta) b[c] += beta[c];
    }
    int64_t begin, end;
    split_range(P, p.ith, p.nth, 1, begin, end);
    kernels().channel_affine(t->f32() + begin * C, x->f32() + begin * C, nullptr, a.data(), b.data(), nullptr, end - begin,
                             C, bp.relu != 0);
}

// With xh = (x - mean) / sqrt(var + eps) (this batch's statistics):
//   batch_norm_back:       dx = gamma / sqrt(var + eps) * (dy - mean(dy) - xh * mean(dy * xh))
//   batch_norm_back_gamma: dgamma = sum(dy * xh) per channel
// where mean(dy * xh) = (mean(dy * x) - mean * mean(dy)) / sqrt(var + eps). dx is written as
// k1 dy + k2 x + k3 per channel.
void forward_batch_norm_backward(const ComputeParams& p, Tensor* t) {
    const BatchNormParams bp = params<BatchNormParams>(t);
    const float* dy = t->src[0]->f32();
    const float* x = t->src[1]->f32();
    const float* gamma = optional_f32(t->src[2]);
    const auto [C, P] = channels_of(t->src[1]);
    const double* total = batch_sums(p, x, dy, C, P);
    std::vector<float> k1(static_cast<size_t>(C)), k2(static_cast<size_t>(C)), k3(static_cast<size_t>(C));
    for (int64_t c = 0; c < C; ++c) {
        double mean, var, inv;
        moments(total, C, P, c, bp.eps, mean, var, inv);
        const double mean_dy = total[2 * C + c] / double(P);
        const double mean_dy_xh = (total[3 * C + c] / double(P) - mean * mean_dy) * inv;
        const double g = gamma ? gamma[c] : 1.0;
        k1[c] = float(g * inv);
        k2[c] = float(-g * inv * inv * mean_dy_xh);
        k3[c] = float(g * inv * (inv * mean * mean_dy_xh - mean_dy));
    }
    int64_t begin, end;
    split_range(P, p.ith, p.nth, 1, begin, end);
    kernels().channel_affine(t->f32() + begin * C, dy + begin * C, x + begin * C, k1.data(), k3.data(), k2.data(),
                             end - begin, C, false);
}

void forward_batch_norm_backward_gamma(const ComputeParams& p, Tensor* t) {
    const BatchNormParams bp = params<BatchNormParams>(t);
    const float* dy = t->src[0]->f32();
    const float* x = t->src[1]->f32();
    const auto [C, P] = channels_of(t->src[1]);
    const double* total = batch_sums(p, x, dy, C, P);
    if (p.ith != 0) return;
    for (int64_t c = 0; c < C; ++c) {
        double mean, var, inv;
        moments(total, C, P, c, bp.eps, mean, var, inv);
        t->f32()[c] = float((total[3 * C + c] - mean * total[2 * C + c]) * inv);
    }
}

}  // namespace mn
