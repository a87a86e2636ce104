#pragma once
// Graph rewrites that save passes over memory without changing any value a reader sees. What a
// rewrite folds into a node is recorded in its typed parameters (engine/op_params.h) and its
// optional sources.
#include <unordered_map>

#include "engine/graph.h"

namespace mn {

// relu(mul_mat(a, b) + bias) and mul_mat(a, b) + bias, with bias a vector along the rows
// (possibly through a reshape of the product), become one mul_mat whose GEMM adds the bias and
// applies relu as it writes each tile (src[2] = bias, MulMatParams::relu); the same for conv_2d,
// with a bias per output channel. Readers of the removed add/relu nodes read the product instead. Safe after autodiff too: no gradient reads the intermediate values it removes.
// Returns, for every node removed, the tensor that now holds its value (callers holding
// pointers to graph outputs look theirs up with `replacement`).
using Replacements = std::unordered_map<const Tensor*, Tensor*>;
Replacements fuse_mul_mat_epilogues(Graph& graph);
Tensor* replacement(const Replacements& r, Tensor* t);

// mul_mat(kernel, reshape(im2col(x))) where nothing else reads the im2col matrix becomes a
// mul_mat that gathers its columns straight from x (implicit GEMM: MulMatParams::implicit_conv
// and the im2col's geometry). The im2col matrix, 9x the size of x for a 3x3 kernel, is then
// never written. Training graphs keep it: the kernel's gradient reads it. (Only strided
// convolutions have an im2col: conv_2d at stride 1 is an op of its own.)
int fuse_implicit_im2col(Graph& graph);

// A relu's gradient folded into the op that computes the gradient it gates, where only it reads
// that op's result (y the relu's output):
// - relu_backward(max_pool_2d_backward(dy, y), y) becomes one max_pool_2d_backward that passes
//   the gradient only where the window's maximum is above 0 (MaxPoolBackParams::positive_only;
//   one pass over y instead of three);
// - relu_backward(mul_mat(a, b), y) becomes one mul_mat whose GEMM zeroes C where y <= 0 as it
//   writes each tile (src[3] = y): a layer's gradient through its relu without a pass of its own.
Replacements fuse_relu_backward(Graph& graph);

// max_pool_2d(conv_2d(...)) with disjoint windows, where nothing else reads the convolution
// (inference), becomes one conv_2d that pools as it goes (Conv2dParams::pool = the window): its
// full-size output, the largest activation of a CNN, is never written. Where the pooling's
// gradient reads it too (training), the pooling computes the convolution itself in the same
// pass (MaxPoolParams::computes_conv, Conv2dParams::computed_by_pool; the convolution's input
// becomes the pooling's src[1]): the conv rows are written once and never read back to pool.
Replacements fuse_pool_into_conv(Graph& graph);

// relu(batch_norm(x)) as one batch_norm whose output pass clamps at 0 (BatchNormParams::relu).
Replacements fuse_relu_into_batch_norm(Graph& graph);

// Every rewrite above, in order.
Replacements optimize_graph(Graph& graph);

}  // namespace mn
