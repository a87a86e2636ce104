// Graph builders for reductions, convolutional networks, losses and gradients.
#include "engine/error.h"
#include "engine/op_params.h"
#include "engine/ops.h"

namespace mn {

namespace {

void require_same_shape(const Tensor* a, const Tensor* b, const char* op) {
    check(a->same_shape(*b), std::string(op) + ": shapes differ: " + a->shape_string() + " and " + b->shape_string());
}

int64_t pooled_size(int64_t in, int k, int stride, int pad = 0) { return (in + 2 * pad - k) / stride + 1; }

}  // namespace

Tensor* scale(Context& ctx, Tensor* a, float s, float offset) {
    Tensor* t = ctx.new_op(Op::Scale, DType::F32, a->ne, {a});
    set_params(t, ScaleParams{s, offset});
    return t;
}

Tensor* sum_to(Context& ctx, Tensor* a, const int64_t ne[kMaxDims]) {
    for (int i = 0; i < kMaxDims; ++i)
        check(ne[i] == a->ne[i] || ne[i] == 1, "sum_to: cannot reduce " + a->shape_string() + " to that shape");
    return ctx.new_op(Op::SumTo, DType::F32, ne, {a});
}

Tensor* sum(Context& ctx, Tensor* a) {
    const int64_t one[kMaxDims] = {1, 1, 1, 1};
    return sum_to(ctx, a, one);
}

Tensor* mean(Context& ctx, Tensor* a) { return scale(ctx, sum(ctx, a), 1.0f / static_cast<float>(a->nelements())); }

Tensor* repeat(Context& ctx, Tensor* a, const Tensor* like) {
    for (int i = 0; i < kMaxDims; ++i)
        check(a->ne[i] == like->ne[i] || a->ne[i] == 1,
              "repeat: cannot broadcast " + a->shape_string() + " to " + like->shape_string());
    return ctx.new_op(Op::Repeat, DType::F32, like->ne, {a});
}

Tensor* im2col(Context& ctx, Tensor* x, int kw, int kh, int stride, int pad) {
    check(kw >= 1 && kh >= 1 && stride >= 1 && pad >= 0, "im2col: bad kernel, stride or padding");
    const int64_t ow = pooled_size(x->ne[1], kw, stride, pad), oh = pooled_size(x->ne[2], kh, stride, pad);
    check(ow >= 1 && oh >= 1, "im2col: kernel larger than the padded image " + x->shape_string());
    const int64_t ne[kMaxDims] = {kw * kh * x->ne[0], ow, oh, x->ne[3]};
    Tensor* t = ctx.new_op(Op::Im2Col, DType::F32, ne, {x});
    set_params(t, Im2ColParams{kw, kh, stride, pad});
    return t;
}

Tensor* col2im(Context& ctx, Tensor* cols, const Tensor* like, int kw, int kh, int stride, int pad) {
    const int64_t ow = pooled_size(like->ne[1], kw, stride, pad), oh = pooled_size(like->ne[2], kh, stride, pad);
    check(cols->ne[0] == kw * kh * like->ne[0] && cols->ne[1] == ow && cols->ne[2] == oh && cols->ne[3] == like->ne[3],
          "col2im: columns " + cols->shape_string() + " do not match the image " + like->shape_string());
    Tensor* t = ctx.new_op(Op::Col2Im, DType::F32, like->ne, {cols});
    set_params(t, Im2ColParams{kw, kh, stride, pad});
    return t;
}

Tensor* conv_2d(Context& ctx, Tensor* kernel, Tensor* x, int stride, int pad) {
    check(kernel->ne[2] == x->ne[0], "conv_2d: kernel " + kernel->shape_string() + " expects " +
                                         std::to_string(kernel->ne[2]) + " input channels, got " + x->shape_string());
    const int kw = static_cast<int>(kernel->ne[0]), kh = static_cast<int>(kernel->ne[1]);
    const int64_t oc = kernel->ne[3];
    if (stride == 1 && kw == kh && pad >= 0 && pad < kw) {
        check(kernel->type == DType::F32 && x->type == DType::F32 && kernel->is_contiguous() && x->nb[0] == sizeof(float),
              "conv_2d: needs f32 tensors with dense channels");
        check(pad >= 0, "conv_2d: bad padding");
        const int64_t ow = pooled_size(x->ne[1], kw, 1, pad), oh = pooled_size(x->ne[2], kh, 1, pad);
        check(ow >= 1 && oh >= 1, "conv_2d: kernel larger than the padded image " + x->shape_string());
        const int64_t ne[kMaxDims] = {oc, ow, oh, x->ne[3]};
        Tensor* t = ctx.new_op(Op::Conv2d, DType::F32, ne, {kernel, x});
        Conv2dParams p;
        p.pad = pad;
        set_params(t, p);
        return t;
    }
    Tensor* cols = im2col(ctx, x, kw, kh, stride, pad);  // [K, OW, OH, N]
    // [KW, KH, IC, OC] -> [IC, KW, KH, OC]: the patch order of im2col.
    Tensor* k2 = reshape(ctx, cont(ctx, permute(ctx, kernel, 1, 2, 0, 3)), {kw * kh * kernel->ne[2], oc});
    Tensor* out = mul_mat(ctx, k2, reshape(ctx, cols, {cols->ne[0], cols->ne[1] * cols->ne[2] * cols->ne[3]}));
    return reshape(ctx, out, {oc, cols->ne[1], cols->ne[2], cols->ne[3]});
}

Tensor* max_pool_2d(Context& ctx, Tensor* x, int k, int stride) {
    check(k >= 1 && stride >= 1, "max_pool_2d: bad window or stride");
    const int64_t ow = pooled_size(x->ne[1], k, stride), oh = pooled_size(x->ne[2], k, stride);
    check(ow >= 1 && oh >= 1, "max_pool_2d: window larger than the image " + x->shape_string());
    const int64_t ne[kMaxDims] = {x->ne[0], ow, oh, x->ne[3]};
    Tensor* t = ctx.new_op(Op::MaxPool2d, DType::F32, ne, {x});
    MaxPoolParams p;
    p.k = k;
    p.stride = stride;
    set_params(t, p);
    return t;
}

Tensor* dropout(Context& ctx, Tensor* x, Tensor* seed, float rate) {
    check(rate >= 0.0f && rate < 1.0f, "dropout: rate must be in [0, 1)");
    check(seed->type == DType::I32 && seed->nelements() == 2, "dropout: seed must be an i32 [2] tensor");
    Tensor* t = ctx.new_op(Op::Dropout, DType::F32, x->ne, {x, seed});
    set_params(t, DropoutParams{rate});
    return t;
}

namespace {
void require_channel_vector(const Tensor* v, const Tensor* x, const char* what) {
    check(v->type == DType::F32 && v->nelements() == x->ne[0] && v->is_contiguous(),
          std::string("batch_norm: ") + what + " must be an f32 vector of " + std::to_string(x->ne[0]) +
              " (one per channel), got " + v->shape_string());
}
}  // namespace

namespace {
Tensor* batch_norm_op(Context& ctx, Tensor* x, Tensor* gamma, Tensor* beta, Tensor* running_mean, Tensor* running_var,
                      const BatchNormParams& p) {
    check(x->type == DType::F32 && x->is_contiguous(), "batch_norm needs a contiguous f32 input");
    require_channel_vector(running_mean, x, "running_mean");
    require_channel_vector(running_var, x, "running_var");
    if (gamma) require_channel_vector(gamma, x, "gamma");
    if (beta) require_channel_vector(beta, x, "beta");
    check(p.eps > 0.0f && p.momentum >= 0.0f && p.momentum <= 1.0f, "batch_norm: bad eps or momentum");
    check(!p.training || x->nrows() >= 2, "batch_norm: training needs more than one value per channel");
    Tensor* t = ctx.new_op(Op::BatchNorm, DType::F32, x->ne, {x, running_mean, running_var, gamma, beta});
    set_params(t, p);
    return t;
}
}  // namespace

Tensor* batch_standardize(Context& ctx, Tensor* x, Tensor* running_mean, Tensor* running_var, const BatchNormParams& p) {
    return batch_norm_op(ctx, x, nullptr, nullptr, running_mean, running_var, p);
}

Tensor* batch_norm(Context& ctx, Tensor* x, Tensor* gamma, Tensor* beta, Tensor* running_mean, Tensor* running_var,
                   bool training, float eps, float momentum) {
    check(gamma && beta, "batch_norm: gamma and beta are required (batch_standardize has none)");
    BatchNormParams p;
    p.eps = eps;
    p.momentum = momentum;
    p.training = training;
    return batch_norm_op(ctx, x, gamma, beta, running_mean, running_var, p);
}

Tensor* batch_norm_backward(Context& ctx, Tensor* dy, Tensor* x, Tensor* gamma, const BatchNormParams& p) {
    require_same_shape(dy, x, "batch_norm_backward");
    check(dy->is_contiguous(), "batch_norm_backward needs a contiguous gradient");
    Tensor* t = ctx.new_op(Op::BatchNormBackward, DType::F32, x->ne, {dy, x, gamma});
    set_params(t, p);
    return t;
}

Tensor* batch_norm_backward_gamma(Context& ctx, Tensor* dy, Tensor* x, const BatchNormParams& p) {
    require_same_shape(dy, x, "batch_norm_backward_gamma");
    check(dy->is_contiguous(), "batch_norm_backward_gamma needs a contiguous gradient");
    const int64_t ne[kMaxDims] = {x->ne[0], 1, 1, 1};
    Tensor* t = ctx.new_op(Op::BatchNormBackGamma, DType::F32, ne, {dy, x});
    set_params(t, p);
    return t;
}

Tensor* cross_entropy_loss(Context& ctx, Tensor* logits, Tensor* labels) {
    require_same_shape(logits, labels, "cross_entropy_loss");
    const int64_t one[kMaxDims] = {1, 1, 1, 1};
    return ctx.new_op(Op::CrossEntropyLoss, DType::F32, one, {logits, labels});
}

Tensor* relu_backward(Context& ctx, Tensor* dy, Tensor* y) {
    require_same_shape(dy, y, "relu_backward");
    return ctx.new_op(Op::ReluBackward, DType::F32, y->ne, {dy, y});
}

Tensor* soft_max_backward(Context& ctx, Tensor* dy, Tensor* y) {
    require_same_shape(dy, y, "soft_max_backward");
    return ctx.new_op(Op::SoftMaxBackward, DType::F32, y->ne, {dy, y});
}

Tensor* conv_2d_backward_input(Context& ctx, Tensor* dy, Tensor* kernel, const Tensor* x, int pad) {
    check(dy->ne[0] == kernel->ne[3] && kernel->ne[2] == x->ne[0], "conv_2d_backward_input: shapes do not match");
    Tensor* t = ctx.new_op(Op::Conv2dBackInput, DType::F32, x->ne, {dy, kernel});
    set_params(t, Conv2dBackParams{pad});
    return t;
}

Tensor* conv_2d_backward_kernel(Context& ctx, Tensor* x, Tensor* dy, const Tensor* kernel, int pad) {
    check(dy->ne[0] == kernel->ne[3] && kernel->ne[2] == x->ne[0], "conv_2d_backward_kernel: shapes do not match");
    Tensor* t = ctx.new_op(Op::Conv2dBackKernel, DType::F32, kernel->ne, {x, dy});
    set_params(t, Conv2dBackParams{pad});
    return t;
}

Tensor* max_pool_2d_backward(Context& ctx, Tensor* dy, Tensor* x, int k, int stride) {
    check(dy->ne[1] == pooled_size(x->ne[1], k, stride) && dy->ne[2] == pooled_size(x->ne[2], k, stride) &&
              dy->ne[0] == x->ne[0] && dy->ne[3] == x->ne[3],
          "max_pool_2d_backward: gradient does not match the pooled shape");
    Tensor* t = ctx.new_op(Op::MaxPool2dBackward, DType::F32, x->ne, {dy, x});
    MaxPoolBackParams p;
    p.k = k;
    p.stride = stride;
    set_params(t, p);
    return t;
}

Tensor* cross_entropy_loss_backward(Context& ctx, Tensor* logits, Tensor* labels, Tensor* dloss) {
    require_same_shape(logits, labels, "cross_entropy_loss_backward");
    check(dloss->nelements() == 1, "cross_entropy_loss_backward: the loss gradient must be a scalar");
    return ctx.new_op(Op::CrossEntropyLossBackward, DType::F32, logits->ne, {logits, labels, dloss});
}

}  // namespace mn
