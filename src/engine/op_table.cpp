// The op table: one entry per op, in the order of the Op enum (checked at start-up and by
// tests/unit/test_op_table.cpp). Gradients are written here, next to their op, as graphs of
// other ops; kernels are in forward_*.cpp.
#include "engine/op_table.h"

#include <array>

#include "engine/error.h"
#include "engine/forward.h"
#include "engine/op_params.h"
#include "engine/ops.h"

namespace mn {

Tensor* not_differentiable(Context&, Tensor* t, int, Tensor*) {
    throw Error(std::string("autodiff: op ") + op_name(t->op) + " is not differentiable");
}

namespace {

Tensor* as_contiguous(Context& ctx, Tensor* t) { return t->is_contiguous() ? t : cont(ctx, t); }

// A gradient reduced to the shape of a (possibly broadcast) source.
Tensor* reduce_like(Context& ctx, Tensor* g, const Tensor* like) {
    return g->same_shape(*like) ? g : sum_to(ctx, g, like->ne);
}

// ---- gradients: d(loss)/d(src i) of node t, given g = d(loss)/d(t) ----

Tensor* grad_add(Context& ctx, Tensor* t, int i, Tensor* g) { return reduce_like(ctx, g, t->src[i]); }
Tensor* grad_sub(Context& ctx, Tensor* t, int i, Tensor* g) {
    return reduce_like(ctx, i == 0 ? g : scale(ctx, g, -1.0f), t->src[i]);
}
Tensor* grad_mul(Context& ctx, Tensor* t, int i, Tensor* g) { return reduce_like(ctx, mul(ctx, g, t->src[1 - i]), t->src[i]); }
// d sqrt(x) = 1 / (2 sqrt(x)); d x^(-1/2) = -x^(-3/2) / 2 = -y^3 / 2.
Tensor* grad_sqrt(Context& ctx, Tensor* t, int, Tensor* g) { return mul(ctx, g, scale(ctx, rsqrt(ctx, t->src[0]), 0.5f)); }
Tensor* grad_rsqrt(Context& ctx, Tensor* t, int, Tensor* g) {
    return mul(ctx, g, scale(ctx, mul(ctx, t, mul(ctx, t, t)), -0.5f));
}
Tensor* grad_scale(Context& ctx, Tensor* t, int, Tensor* g) { return scale(ctx, g, params<ScaleParams>(t).s); }
// t(i, j) = sum_p a(p, i) b(p, j)
Tensor* grad_mul_mat(Context& ctx, Tensor* t, int i, Tensor* g) {
    if (i == 0) return reduce_like(ctx, mul_mat(ctx, transpose(ctx, t->src[1]), transpose(ctx, g)), t->src[0]);
    return mul_mat(ctx, transpose(ctx, t->src[0]), g);
}
Tensor* grad_relu(Context& ctx, Tensor* t, int, Tensor* g) { return relu_backward(ctx, g, t); }
Tensor* grad_soft_max(Context& ctx, Tensor* t, int, Tensor* g) { return soft_max_backward(ctx, g, t); }
Tensor* grad_sum_to(Context& ctx, Tensor* t, int, Tensor* g) { return repeat(ctx, g, t->src[0]); }
Tensor* grad_repeat(Context& ctx, Tensor* t, int, Tensor* g) { return sum_to(ctx, g, t->src[0]->ne); }
Tensor* grad_reshape(Context& ctx, Tensor* t, int, Tensor* g) {
    const Tensor* a = t->src[0];
    return reshape(ctx, as_contiguous(ctx, g), {a->ne[0], a->ne[1], a->ne[2], a->ne[3]});
}
Tensor* grad_permute(Context& ctx, Tensor* t, int, Tensor* g) {
    const PermuteParams p = params<PermuteParams>(t);
    int inverse[kMaxDims];
    for (int d = 0; d < kMaxDims; ++d) inverse[p.axes[d]] = d;
    return permute(ctx, g, inverse[0], inverse[1], inverse[2], inverse[3]);
}
Tensor* grad_cont(Context&, Tensor*, int, Tensor* g) { return g; }
Tensor* grad_im2col(Context& ctx, Tensor* t, int, Tensor* g) {
    const Im2ColParams p = params<Im2ColParams>(t);
    return col2im(ctx, as_contiguous(ctx, g), t->src[0], p.kw, p.kh, p.stride, p.pad);
}
Tensor* grad_col2im(Context& ctx, Tensor* t, int, Tensor* g) {
    const Im2ColParams p = params<Im2ColParams>(t);
    return im2col(ctx, as_contiguous(ctx, g), p.kw, p.kh, p.stride, p.pad);
}
// y = conv(kernel, x): src 0 is the kernel, src 1 the image.
Tensor* grad_conv_2d(Context& ctx, Tensor* t, int i, Tensor* g) {
    const int pad = params<Conv2dParams>(t).pad;
    if (i == 0) return conv_2d_backward_kernel(ctx, t->src[1], as_contiguous(ctx, g), t->src[0], pad);
    return conv_2d_backward_input(ctx, as_contiguous(ctx, g), t->src[0], t->src[1], pad);
}
Tensor* grad_max_pool_2d(Context& ctx, Tensor* t, int, Tensor* g) {
    const MaxPoolParams p = params<MaxPoolParams>(t);
    return max_pool_2d_backward(ctx, g, t->src[0], p.k, p.stride);
}
// The same mask (a hash of the seed and the index) scales the gradient.
Tensor* grad_dropout(Context& ctx, Tensor* t, int, Tensor* g) {
    return dropout(ctx, g, t->src[1], params<DropoutParams>(t).rate);
}
// In training mode: the batch's statistics depend on x too.
// Sources: x, running_mean, running_var (state: constant), gamma, beta.
Tensor* grad_batch_norm(Context& ctx, Tensor* t, int i, Tensor* g) {
    const BatchNormParams p = params<BatchNormParams>(t);
    check(p.training, "autodiff: batch_norm in inference mode is not differentiated (its statistics are constants)");
    g = as_contiguous(ctx, g);
    if (i == 0) return batch_norm_backward(ctx, g, t->src[0], t->src[3], p);
    if (i == 3) return batch_norm_backward_gamma(ctx, g, t->src[0], p);
    return sum_to(ctx, g, t->src[4]->ne);
}
Tensor* grad_cross_entropy_loss(Context& ctx, Tensor* t, int, Tensor* g) {
    return cross_entropy_loss_backward(ctx, t->src[0], t->src[1], g);
}

// ---- what fusion folded into a node (engine/fusion.h) ----

std::string fused_mul_mat(const Tensor* t) {
    std::string s;
    if (t->src[2]) s += " + bias";
    if (params<MulMatParams>(t).relu) s += " + relu";
    if (t->src[3]) s += " + relu_back";
    if (params<MulMatParams>(t).implicit_conv) s += " (im2col read in place)";
    return s;
}
std::string fused_conv_2d(const Tensor* t) {
    const Conv2dParams p = params<Conv2dParams>(t);
    std::string s;
    if (t->src[2]) s += " + bias";
    if (p.relu) s += " + relu";
    if (p.pool > 1) s += " + max_pool_2d " + std::to_string(p.pool) + "x" + std::to_string(p.pool);
    if (p.computed_by_pool) s += " (computed by its max_pool_2d)";
    return s;
}
std::string fused_batch_norm(const Tensor* t) { return params<BatchNormParams>(t).relu ? " + relu" : ""; }
std::string fused_max_pool_2d(const Tensor* t) {
    return params<MaxPoolParams>(t).computes_conv ? " (computes its conv_2d)" : "";
}
std::string fused_max_pool_2d_back(const Tensor* t) {
    return params<MaxPoolBackParams>(t).positive_only ? " + relu_back" : "";
}

constexpr uint8_t kSrc1 = 1u << 1, kSrc2 = 1u << 2;

// name, forward, work bytes, gradient, constant sources, view, always shared, fused
constexpr OpDef kOps[] = {
    {Op::None, "none", nullptr, nullptr, not_differentiable, 0, false, false, nullptr},
    {Op::Reshape, "reshape", nullptr, nullptr, grad_reshape, 0, true, false, nullptr},
    {Op::View, "view", nullptr, nullptr, not_differentiable, 0, true, false, nullptr},
    {Op::Permute, "permute", nullptr, nullptr, grad_permute, 0, true, false, nullptr},
    {Op::Cont, "cont", forward_cont, nullptr, grad_cont, 0, false, false, nullptr},
    {Op::Add, "add", forward_add, nullptr, grad_add, 0, false, false, nullptr},
    {Op::Sub, "sub", forward_sub, nullptr, grad_sub, 0, false, false, nullptr},
    {Op::Mul, "mul", forward_mul, nullptr, grad_mul, 0, false, false, nullptr},
    {Op::Sqrt, "sqrt", forward_sqrt, nullptr, grad_sqrt, 0, false, false, nullptr},
    {Op::Rsqrt, "rsqrt", forward_rsqrt, nullptr, grad_rsqrt, 0, false, false, nullptr},
    {Op::Scale, "scale", forward_scale, nullptr, grad_scale, 0, false, false, nullptr},
    {Op::MulMat, "mul_mat", forward_mul_mat, forward_mul_mat_work_bytes, grad_mul_mat, 0, false, false, fused_mul_mat},
    {Op::Relu, "relu", forward_relu, nullptr, grad_relu, 0, false, false, nullptr},
    {Op::SoftMax, "soft_max", forward_soft_max, nullptr, grad_soft_max, 0, false, false, nullptr},
    {Op::Argmax, "argmax", forward_argmax, nullptr, not_differentiable, 0, false, false, nullptr},
    {Op::SumTo, "sum_to", forward_sum_to, forward_sum_to_work_bytes, grad_sum_to, 0, false, false, nullptr},
    {Op::Repeat, "repeat", forward_repeat, nullptr, grad_repeat, 0, false, false, nullptr},
    {Op::Im2Col, "im2col", forward_im2col, nullptr, grad_im2col, 0, false, false, nullptr},
    {Op::Col2Im, "col2im", forward_col2im, nullptr, grad_col2im, 0, false, false, nullptr},
    {Op::Conv2d, "conv_2d", forward_conv_2d, forward_conv_2d_work_bytes, grad_conv_2d, 0, false, true, fused_conv_2d},
    {Op::MaxPool2d, "max_pool_2d", forward_max_pool_2d, forward_max_pool_2d_work_bytes, grad_max_pool_2d, 0, false,
     false, fused_max_pool_2d},
    {Op::Dropout, "dropout", forward_dropout, nullptr, grad_dropout, kSrc1, false, false, nullptr},
    {Op::BatchNorm, "batch_norm", forward_batch_norm, forward_batch_norm_work_bytes, grad_batch_norm, kSrc1 | kSrc2,
     false, false, fused_batch_norm},
    {Op::CrossEntropyLoss, "cross_entropy_loss", forward_cross_entropy_loss, nullptr, grad_cross_entropy_loss, kSrc1,
     false, false, nullptr},
    {Op::ReluBackward, "relu_back", forward_relu_backward, nullptr, not_differentiable, 0, false, false, nullptr},
    {Op::SoftMaxBackward, "soft_max_back", forward_soft_max_backward, nullptr, not_differentiable, 0, false, false,
     nullptr},
    {Op::MaxPool2dBackward, "max_pool_2d_back", forward_max_pool_2d_backward, nullptr, not_differentiable, 0, false,
     false, fused_max_pool_2d_back},
    {Op::CrossEntropyLossBackward, "cross_entropy_loss_back", forward_cross_entropy_loss_backward, nullptr,
     not_differentiable, 0, false, false, nullptr},
    {Op::Conv2dBackInput, "conv_2d_back_input", forward_conv_2d_back_input, forward_conv_2d_work_bytes,
     not_differentiable, 0, false, true, nullptr},
    {Op::Conv2dBackKernel, "conv_2d_back_kernel", forward_conv_2d_back_kernel, forward_conv_2d_work_bytes,
     not_differentiable, 0, false, true, nullptr},
    {Op::BatchNormBackward, "batch_norm_back", forward_batch_norm_backward, forward_batch_norm_work_bytes,
     not_differentiable, 0, false, false, nullptr},
    {Op::BatchNormBackGamma, "batch_norm_back_gamma", forward_batch_norm_backward_gamma, forward_batch_norm_work_bytes,
     not_differentiable, 0, false, false, nullptr},
};
static_assert(std::size(kOps) == static_cast<size_t>(Op::Count_), "one entry per op");

constexpr bool in_enum_order() {
    for (size_t i = 0; i < std::size(kOps); ++i)
        if (static_cast<size_t>(kOps[i].op) != i) return false;
    return true;
}
static_assert(in_enum_order(), "the table follows the Op enum");

}  // namespace

const OpDef& op_def(Op op) {
    check(static_cast<size_t>(op) < std::size(kOps), "unknown op");
    return kOps[static_cast<size_t>(op)];
}

const char* op_name(Op op) { return op_def(op).name; }
bool op_is_view(Op op) { return op_def(op).view; }

}  // namespace mn
