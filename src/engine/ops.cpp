#include "engine/ops.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/op_params.h"

namespace mn {

namespace {

std::string shapes_of(const Tensor* a, const Tensor* b) {
    return a->shape_string() + " and " + b->shape_string();
}

void require_f32(const Tensor* t, const char* op) {
    check(t->type == DType::F32, std::string(op) + " needs an f32 input, got " + std::string(dtype_name(t->type)));
}

}  // namespace

Tensor* mul_mat(Context& ctx, Tensor* a, Tensor* b) {
    require_f32(b, "mul_mat");
    check(a->ne[0] == b->ne[0], "mul_mat: inner sizes differ: " + shapes_of(a, b));
    check(b->ne[2] % a->ne[2] == 0 && b->ne[3] % a->ne[3] == 0,
          "mul_mat: cannot broadcast " + shapes_of(a, b));
    // Rows (k) or columns must be contiguous; the kernel reads transposed views directly.
    for (const Tensor* t : {a, b})
        check(t->nb[0] == sizeof(float) || t->nb[1] == sizeof(float),
              "mul_mat: operand " + t->shape_string() + " has neither contiguous rows nor columns (use cont)");
    require_f32(a, "mul_mat");
    const int64_t ne[kMaxDims] = {a->ne[1], b->ne[1], b->ne[2], b->ne[3]};
    Tensor* t = ctx.new_op(Op::MulMat, DType::F32, ne, {a, b});
    set_params(t, MulMatParams{});
    return t;
}

namespace {
// An element-wise op of two tensors that broadcast against each other.
Tensor* binary(Context& ctx, Op op, Tensor* a, Tensor* b) {
    require_f32(a, op_name(op));
    require_f32(b, op_name(op));
    int64_t ne[kMaxDims];
    for (int i = 0; i < kMaxDims; ++i) {
        ne[i] = std::max(a->ne[i], b->ne[i]);
        check((a->ne[i] == ne[i] || a->ne[i] == 1) && (b->ne[i] == ne[i] || b->ne[i] == 1),
              std::string(op_name(op)) + ": cannot broadcast " + shapes_of(a, b));
    }
    return ctx.new_op(op, DType::F32, ne, {a, b});
}
Tensor* unary(Context& ctx, Op op, Tensor* a) {
    require_f32(a, op_name(op));
    return ctx.new_op(op, DType::F32, a->ne, {a});
}
}  // namespace

Tensor* add(Context& ctx, Tensor* a, Tensor* b) { return binary(ctx, Op::Add, a, b); }
Tensor* sub(Context& ctx, Tensor* a, Tensor* b) { return binary(ctx, Op::Sub, a, b); }
Tensor* mul(Context& ctx, Tensor* a, Tensor* b) { return binary(ctx, Op::Mul, a, b); }
Tensor* sqrt(Context& ctx, Tensor* a) { return unary(ctx, Op::Sqrt, a); }
Tensor* rsqrt(Context& ctx, Tensor* a) { return unary(ctx, Op::Rsqrt, a); }

Tensor* relu(Context& ctx, Tensor* a) {
    require_f32(a, "relu");
    return ctx.new_op(Op::Relu, DType::F32, a->ne, {a});
}

Tensor* soft_max(Context& ctx, Tensor* a) {
    require_f32(a, "soft_max");
    return ctx.new_op(Op::SoftMax, DType::F32, a->ne, {a});
}

Tensor* argmax(Context& ctx, Tensor* a) {
    require_f32(a, "argmax");
    const int64_t ne[kMaxDims] = {a->ne[1], a->ne[2], a->ne[3], 1};
    return ctx.new_op(Op::Argmax, DType::I32, ne, {a});
}

Tensor* reshape(Context& ctx, Tensor* a, std::initializer_list<int64_t> shape) {
    check(a->is_contiguous(), "reshape needs a contiguous tensor (use cont first)");
    check(shape.size() >= 1 && shape.size() <= kMaxDims, "reshape: 1 to 4 dimensions");
    Tensor* t = ctx.new_view(a, 0);
    int i = 0;
    for (int64_t d : shape) t->ne[i++] = d;
    check(t->nelements() == a->nelements(),
          "reshape: " + a->shape_string() + " has " + std::to_string(a->nelements()) + " elements, " +
              t->shape_string() + " has " + std::to_string(t->nelements()));
    set_contiguous_strides(*t);
    t->op = Op::Reshape;
    t->src[0] = a;
    return t;
}

Tensor* view(Context& ctx, Tensor* a, std::initializer_list<int64_t> shape, std::initializer_list<size_t> strides,
             size_t offset) {
    check(shape.size() >= 1 && shape.size() <= kMaxDims, "view: 1 to 4 dimensions");
    check(strides.size() + 1 == shape.size(), "view: give one stride per dimension after the first");
    Tensor* t = ctx.new_view(a, offset);
    int i = 0;
    for (int64_t d : shape) t->ne[i++] = d;
    set_contiguous_strides(*t);
    i = 1;
    for (size_t s : strides) t->nb[i++] = s;
    // Dimensions past the given ones keep contiguous strides after the last given one.
    for (int d = static_cast<int>(shape.size()); d < kMaxDims; ++d) t->nb[d] = t->nb[d - 1] * t->ne[d - 1];
    check(offset + t->nbytes() <= a->nbytes(), "view: reaches past its source");
    t->op = Op::View;
    t->src[0] = a;
    return t;
}

Tensor* permute(Context& ctx, Tensor* a, int ax0, int ax1, int ax2, int ax3) {
    const int axes[kMaxDims] = {ax0, ax1, ax2, ax3};
    bool seen[kMaxDims] = {};
    for (int ax : axes) {
        check(ax >= 0 && ax < kMaxDims && !seen[ax], "permute: axes must be a permutation of 0..3");
        seen[ax] = true;
    }
    Tensor* t = ctx.new_view(a, 0);
    PermuteParams p;
    for (int i = 0; i < kMaxDims; ++i) {
        t->ne[axes[i]] = a->ne[i];
        t->nb[axes[i]] = a->nb[i];
        p.axes[i] = axes[i];
    }
    set_params(t, p);
    t->op = Op::Permute;
    t->src[0] = a;
    return t;
}

Tensor* transpose(Context& ctx, Tensor* a) { return permute(ctx, a, 1, 0, 2, 3); }

Tensor* cont(Context& ctx, Tensor* a) { return ctx.new_op(Op::Cont, a->type, a->ne, {a}); }

}  // namespace mn
