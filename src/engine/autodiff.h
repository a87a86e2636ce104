#pragma once
// Reverse-mode automatic differentiation over a graph. build_backward() appends to the graph the
// nodes that compute d(loss)/d(x) for every parameter (kFlagParam) the loss depends on, or for
// the leaves it is given (an input image: where the model looks).
// The backward graph is built once; each evaluation of the graph then computes the loss and all
// gradients afresh (gradients are outputs, overwritten each time, so there is nothing to zero).
#include <memory>
#include <unordered_map>
#include <vector>

#include "engine/context.h"
#include "engine/graph.h"

namespace mn {

struct Gradients {
    std::unordered_map<const Tensor*, Tensor*> of;  // leaf -> its gradient (same shape)
    std::unique_ptr<Context> constants;             // owns d(loss)/d(loss) = 1

    Tensor* get(const Tensor* leaf) const;  // throws if the loss does not depend on leaf
};

// `loss` must be a scalar [1] already in `graph` (graph.build_forward(loss)). Gradient nodes are
// recorded in `ctx` (a context without arena: the GraphAllocator places them).
// With respect to every parameter of the graph:
Gradients build_backward(Context& ctx, Graph& graph, Tensor* loss);
// With respect to the leaves in `wrt` only (parameters or inputs); nothing is computed for the
// others, so the gradient of an input costs no weight gradients.
Gradients build_backward(Context& ctx, Graph& graph, Tensor* loss, const std::vector<Tensor*>& wrt);

}  // namespace mn
