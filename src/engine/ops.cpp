#include "engine/ops.h"

#include <algorithm>

#include "engine/error.h"

namespace mn {

namespace {

Tensor* new_result(Context& ctx, Op op, DType type, const int64_t* ne, Tensor* a, Tensor* b = nullptr) {
    Tensor* t = ctx.new_tensor(type, kMaxDims, ne);
    t->op = op;
    t->src[0] = a;
    t->src[1] = b;
    return t;
}

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
    return new_result(ctx, Op::MulMat, DType::F32, ne, a, b);
}

Tensor* add(Context& ctx, Tensor* a, Tensor* b) {
    require_f32(a, "add");
    require_f32(b, "add");
    int64_t ne[kMaxDims];
    for (int i = 0; i < kMaxDims; ++i) {
        ne[i] = std::max(a->ne[i], b->ne[i]);
        check((a->ne[i] == ne[i] || a->ne[i] == 1) && (b->ne[i] == ne[i] || b->ne[i] == 1),
              "add: cannot broadcast " + shapes_of(a, b));
    }
    return new_result(ctx, Op::Add, DType::F32, ne, a, b);
}

Tensor* relu(Context& ctx, Tensor* a) {
    require_f32(a, "relu");
    return new_result(ctx, Op::Relu, DType::F32, a->ne, a);
}

Tensor* soft_max(Context& ctx, Tensor* a) {
    require_f32(a, "soft_max");
    return new_result(ctx, Op::SoftMax, DType::F32, a->ne, a);
}

Tensor* argmax(Context& ctx, Tensor* a) {
    require_f32(a, "argmax");
    const int64_t ne[kMaxDims] = {a->ne[1], a->ne[2], a->ne[3], 1};
    return new_result(ctx, Op::Argmax, DType::I32, ne, a);
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
    t->op_params[0] = static_cast<int32_t>(offset);
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
    for (int i = 0; i < kMaxDims; ++i) {
        t->ne[axes[i]] = a->ne[i];
        t->nb[axes[i]] = a->nb[i];
        t->op_params[i] = axes[i];
    }
    t->op = Op::Permute;
    t->src[0] = a;
    return t;
}

Tensor* transpose(Context& ctx, Tensor* a) { return permute(ctx, a, 1, 0, 2, 3); }

Tensor* cont(Context& ctx, Tensor* a) { return new_result(ctx, Op::Cont, a->type, a->ne, a); }

}  // namespace mn
