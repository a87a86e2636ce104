#pragma once
// Graph builders. Each function records an op in a new tensor of `ctx` and computes nothing:
// evaluation happens later, when a Graph of these tensors is run by the Executor.
// Conventions follow ggml: ne[0] is the innermost dimension.
#include <initializer_list>

#include "engine/context.h"

namespace mn {

// a [k, m, d2, d3] x b [k, n, d2', d3'] -> [m, n, d2', d3'] (f32): out(i, j) = sum_p a(p, i) * b(p, j).
// a is broadcast over dims 2 and 3 when b has more (b's sizes must be multiples of a's).
Tensor* mul_mat(Context& ctx, Tensor* a, Tensor* b);
// Element-wise a + b. Shapes broadcast per dimension: each size equals the result's or is 1.
Tensor* add(Context& ctx, Tensor* a, Tensor* b);
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

}  // namespace mn
