#pragma once
// Graph builders. Each function records an op in a new tensor of `ctx` and computes nothing:
// evaluation happens later, when a Graph of these tensors is run by the Executor.
// Conventions follow ggml: ne[0] is the innermost dimension.
#include <cstdint>
#include <initializer_list>

#include "engine/context.h"
#include "engine/op_params.h"

namespace mn {

// a [k, m, d2, d3] x b [k, n, d2', d3'] -> [m, n, d2', d3'] (f32): out(i, j) = sum_p a(p, i) * b(p, j).
// a is broadcast over dims 2 and 3 when b has more (b's sizes must be multiples of a's).
Tensor* mul_mat(Context& ctx, Tensor* a, Tensor* b);
// Element-wise a + b, a - b, a * b. Shapes broadcast per dimension: each size equals the
// result's or is 1.
Tensor* add(Context& ctx, Tensor* a, Tensor* b);
Tensor* sub(Context& ctx, Tensor* a, Tensor* b);
Tensor* mul(Context& ctx, Tensor* a, Tensor* b);
// Element-wise square root and its reciprocal (ggml's names).
Tensor* sqrt(Context& ctx, Tensor* a);
Tensor* rsqrt(Context& ctx, Tensor* a);
Tensor* relu(Context& ctx, Tensor* a);
// Softmax along ne[0] (each row), computed stably (max subtracted first).
Tensor* soft_max(Context& ctx, Tensor* a);
// Index of the largest value of each row: [n, d1, d2, d3] f32 -> [d1, d2, d3] i32.
Tensor* argmax(Context& ctx, Tensor* a);

// Layout ops. reshape needs a contiguous source; view takes explicit strides and a byte offset;
// permute moves source dimension i to position axes[i] (as ggml_permute); cont copies any
// strided tensor into contiguous memory.
Tensor* reshape(Context& ctx, Tensor* a, std::initializer_list<int64_t> ne);
Tensor* view(Context& ctx, Tensor* a, std::initializer_list<int64_t> ne, std::initializer_list<size_t> nb,
             size_t offset);
Tensor* permute(Context& ctx, Tensor* a, int ax0, int ax1, int ax2, int ax3);
Tensor* transpose(Context& ctx, Tensor* a);
Tensor* cont(Context& ctx, Tensor* a);

// ---- reductions and broadcasting ----
Tensor* scale(Context& ctx, Tensor* a, float s, float offset = 0.0f);  // a * s + offset
// Sums `a` down to the shape ne[] (each ne[i] equals a->ne[i] or is 1): the reverse of broadcasting.
Tensor* sum_to(Context& ctx, Tensor* a, const int64_t ne[kMaxDims]);
Tensor* sum(Context& ctx, Tensor* a);   // all elements -> [1]
Tensor* mean(Context& ctx, Tensor* a);  // all elements -> [1]
// Broadcasts `a` to the shape of `like` (each a->ne[i] is like->ne[i] or 1).
Tensor* repeat(Context& ctx, Tensor* a, const Tensor* like);

// ---- convolutional networks ----
// Activations are [C, W, H, N]: channels innermost, then x, then y, then the batch.
// A column of im2col is the patch (c, kx, ky) with c innermost: for one ky the patch is a
// contiguous run of KW*C values of x. Kernels are ggml's [KW, KH, IC, OC].
//
// im2col: x [C, W, H, N] -> [C*KW*KH, OW, OH, N], zero outside the image.
Tensor* im2col(Context& ctx, Tensor* x, int kw, int kh, int stride, int pad);
// col2im: the adjoint of im2col (overlapping patches add up), back to the shape of `like`.
Tensor* col2im(Context& ctx, Tensor* cols, const Tensor* like, int kw, int kh, int stride, int pad);
// conv_2d = kernel · im2col(x): [IC, W, H, N] -> [OC, OW, OH, N]. At stride 1 it is one op
// (Op::Conv2d, Conv2dParams; fusion may add bias, relu and a max pooling, engine/fusion.h)
// computed by the direct convolution kernel, with the same
// kernel computing its input gradient and a sibling its kernel gradient; other strides build
// im2col + mul_mat, with the kernel permuted (a small copy) into the patch order.
Tensor* conv_2d(Context& ctx, Tensor* kernel, Tensor* x, int stride, int pad);
// Max pooling over k x k windows (no padding; a partial window at the edge is dropped).
Tensor* max_pool_2d(Context& ctx, Tensor* x, int k, int stride);
// Zeroes each element with probability `rate` and scales the rest by 1/(1-rate). The mask is a
// hash of (seed, element index): `seed` is an i32 [2] input set per step, so a step is
// repeatable on any number of threads and the backward pass recomputes the same mask.
Tensor* dropout(Context& ctx, Tensor* x, Tensor* seed, float rate);
// Batch normalisation of x [C, ...] per channel, then gamma * x + beta (gamma, beta [C]):
// standardized with this batch's mean and variance in training, where the running statistics
// (running_mean, running_var [C], model state: no gradient) are updated in place as PyTorch
// does (unbiased variance), and with the running statistics otherwise.
Tensor* batch_norm(Context& ctx, Tensor* x, Tensor* gamma, Tensor* beta, Tensor* running_mean, Tensor* running_var,
                   bool training, float eps = 1e-5f, float momentum = 0.1f);
// One op (Op::BatchNorm). The standardization alone, without gamma and beta: (x - mean) /
// sqrt(var + eps) per channel.
Tensor* batch_standardize(Context& ctx, Tensor* x, Tensor* running_mean, Tensor* running_var, const BatchNormParams& p);

// ---- loss ----
// Cross-entropy between softmax(logits) and `labels` (a distribution per column, e.g. one-hot),
// summed and divided by the total label mass: the mean over the labelled columns. Columns whose
// labels are all zero (padding) add nothing. logits, labels [C, B] -> [1]. Stable for any logits.
Tensor* cross_entropy_loss(Context& ctx, Tensor* logits, Tensor* labels);

// ---- gradients (used by autodiff) ----
Tensor* relu_backward(Context& ctx, Tensor* dy, Tensor* y);        // dy * (y > 0)
Tensor* soft_max_backward(Context& ctx, Tensor* dy, Tensor* y);    // y * (dy - sum(dy * y))
Tensor* max_pool_2d_backward(Context& ctx, Tensor* dy, Tensor* x, int k, int stride);
// Of a stride-1 conv_2d y = conv(kernel, x, pad), given dy: the gradients with respect to x
// (shaped like x) and to the kernel (shaped like kernel).
Tensor* conv_2d_backward_input(Context& ctx, Tensor* dy, Tensor* kernel, const Tensor* x, int pad);
Tensor* conv_2d_backward_kernel(Context& ctx, Tensor* x, Tensor* dy, const Tensor* kernel, int pad);
Tensor* cross_entropy_loss_backward(Context& ctx, Tensor* logits, Tensor* labels, Tensor* dloss);
// Of y = batch_norm(x) in training, with xh = (x - mean) / sqrt(var + eps) of this batch:
// dx = gamma / sqrt(var + eps) * (dy - mean(dy) - xh * mean(dy * xh)) (gamma null: 1), and
// dgamma = sum(dy * xh) per channel ([C]); dbeta is sum_to(dy).
Tensor* batch_norm_backward(Context& ctx, Tensor* dy, Tensor* x, Tensor* gamma, const BatchNormParams& p);
Tensor* batch_norm_backward_gamma(Context& ctx, Tensor* dy, Tensor* x, const BatchNormParams& p);

}  // namespace mn
