// Graph builders for reductions, convolutional networks, losses and gradients.
#include <cstring>

#include "engine/error.h"
#include "engine/ops.h"

namespace mn {

namespace {

Tensor* new_op(Context& ctx, Op op, DType type, const int64_t* ne, Tensor* a, Tensor* b = nullptr,
               Tensor* c = nullptr) {
    Tensor* t = ctx.new_tensor(type, kMaxDims, ne);
    t->op = op;
    t->src[0] = a;
    t->src[1] = b;
    t->src[2] = c;
    return t;
}

void set_f32_param(Tensor* t, int i, float v) { std::memcpy(&t->op_params[i], &v, sizeof(float)); }

void require_same_shape(const Tensor* a, const Tensor* b, const char* op) {
    check(a->same_shape(*b), std::string(op) + ": shapes differ: " + a->shape_string() + " and " + b->shape_string());
}

int64_t pooled_size(int64_t in, int k, int stride, int pad = 0) { return (in + 2 * pad - k) / stride + 1; }

}  // namespace

float op_param_f32(const Tensor* t, int i) {
    float v;
    std::memcpy(&v, &t->op_params[i], sizeof(float));
    return v;
}

Tensor* scale(Context& ctx, Tensor* a, float s) {
    Tensor* t = new_op(ctx, Op::Scale, DType::F32, a->ne, a);
    set_f32_param(t, 0, s);
    return t;
}

Tensor* sum_to(Context& ctx, Tensor* a, const int64_t ne[kMaxDims]) {
    for (int i = 0; i < kMaxDims; ++i)
        check(ne[i] == a->ne[i] || ne[i] == 1, "sum_to: cannot reduce " + a->shape_string() + " to that shape");
    return new_op(ctx, Op::SumTo, DType::F32, ne, a);
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
    return new_op(ctx, Op::Repeat, DType::F32, like->ne, a);
}

Tensor* im2col(Context& ctx, Tensor* x, int kw, int kh, int stride, int pad) {
    check(kw >= 1 && kh >= 1 && stride >= 1 && pad >= 0, "im2col: bad kernel, stride or padding");
    const int64_t ow = pooled_size(x->ne[1], kw, stride, pad), oh = pooled_size(x->ne[2], kh, stride, pad);
    check(ow >= 1 && oh >= 1, "im2col: kernel larger than the padded image " + x->shape_string());
    const int64_t ne[kMaxDims] = {kw * kh * x->ne[0], ow, oh, x->ne[3]};
    Tensor* t = new_op(ctx, Op::Im2Col, DType::F32, ne, x);
    t->op_params[0] = kw;
    t->op_params[1] = kh;
    t->op_params[2] = stride;
    t->op_params[3] = pad;
    return t;
}

Tensor* col2im(Context& ctx, Tensor* cols, const Tensor* like, int kw, int kh, int stride, int pad) {
    const int64_t ow = pooled_size(like->ne[1], kw, stride, pad), oh = pooled_size(like->ne[2], kh, stride, pad);
    check(cols->ne[0] == kw * kh * like->ne[0] && cols->ne[1] == ow && cols->ne[2] == oh && cols->ne[3] == like->ne[3],
          "col2im: columns " + cols->shape_string() + " do not match the image " + like->shape_string());
    Tensor* t = new_op(ctx, Op::Col2Im, DType::F32, like->ne, cols);
    t->op_params[0] = kw;
    t->op_params[1] = kh;
    t->op_params[2] = stride;
    t->op_params[3] = pad;
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
        Tensor* t = new_op(ctx, Op::Conv2d, DType::F32, ne, kernel, x);
        t->op_params[1] = pad;
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
    Tensor* t = new_op(ctx, Op::MaxPool2d, DType::F32, ne, x);
    t->op_params[0] = k;
    t->op_params[1] = stride;
    return t;
}

Tensor* dropout(Context& ctx, Tensor* x, Tensor* seed, float rate) {
    check(rate >= 0.0f && rate < 1.0f, "dropout: rate must be in [0, 1)");
    check(seed->type == DType::I32 && seed->nelements() == 2, "dropout: seed must be an i32 [2] tensor");
    Tensor* t = new_op(ctx, Op::Dropout, DType::F32, x->ne, x, seed);
    set_f32_param(t, 0, rate);
    return t;
}

Tensor* cross_entropy_loss(Context& ctx, Tensor* logits, Tensor* labels) {
    require_same_shape(logits, labels, "cross_entropy_loss");
    const int64_t one[kMaxDims] = {1, 1, 1, 1};
    return new_op(ctx, Op::CrossEntropyLoss, DType::F32, one, logits, labels);
}

Tensor* relu_backward(Context& ctx, Tensor* dy, Tensor* y) {
    require_same_shape(dy, y, "relu_backward");
    return new_op(ctx, Op::ReluBackward, DType::F32, y->ne, dy, y);
}

Tensor* soft_max_backward(Context& ctx, Tensor* dy, Tensor* y) {
    require_same_shape(dy, y, "soft_max_backward");
    return new_op(ctx, Op::SoftMaxBackward, DType::F32, y->ne, dy, y);
}

Tensor* conv_2d_backward_input(Context& ctx, Tensor* dy, Tensor* kernel, const Tensor* x, int pad) {
    check(dy->ne[0] == kernel->ne[3] && kernel->ne[2] == x->ne[0], "conv_2d_backward_input: shapes do not match");
    Tensor* t = new_op(ctx, Op::Conv2dBackInput, DType::F32, x->ne, dy, kernel);
    t->op_params[1] = pad;
    return t;
}

Tensor* conv_2d_backward_kernel(Context& ctx, Tensor* x, Tensor* dy, const Tensor* kernel, int pad) {
    check(dy->ne[0] == kernel->ne[3] && kernel->ne[2] == x->ne[0], "conv_2d_backward_kernel: shapes do not match");
    Tensor* t = new_op(ctx, Op::Conv2dBackKernel, DType::F32, kernel->ne, x, dy);
    t->op_params[1] = pad;
    return t;
}

Tensor* max_pool_2d_backward(Context& ctx, Tensor* dy, Tensor* x, int k, int stride) {
    check(dy->ne[1] == pooled_size(x->ne[1], k, stride) && dy->ne[2] == pooled_size(x->ne[2], k, stride) &&
              dy->ne[0] == x->ne[0] && dy->ne[3] == x->ne[3],
          "max_pool_2d_backward: gradient does not match the pooled shape");
    Tensor* t = new_op(ctx, Op::MaxPool2dBackward, DType::F32, x->ne, dy, x);
    t->op_params[0] = k;
    t->op_params[1] = stride;
    return t;
}

Tensor* cross_entropy_loss_backward(Context& ctx, Tensor* logits, Tensor* labels, Tensor* dloss) {
    require_same_shape(logits, labels, "cross_entropy_loss_backward");
    check(dloss->nelements() == 1, "cross_entropy_loss_backward: the loss gradient must be a scalar");
    return new_op(ctx, Op::CrossEntropyLossBackward, DType::F32, logits->ne, logits, labels, dloss);
}

}  // namespace mn
