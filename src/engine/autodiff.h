#pragma once
// Reverse-mode automatic differentiation over a graph. build_backward() appends to the graph the
// nodes that compute d(loss)/d(param) for every parameter (kFlagParam) the loss depends on.
// The backward graph is built once; each evaluation of the graph then computes the loss and all
// gradients afresh (gradients are outputs, overwritten each time, so there is nothing to zero).
#include <memory>
#include <unordered_map>

#include "engine/context.h"
#include "engine/graph.h"

namespace mn {

struct Gradients {
    std::unordered_map<const Tensor*, Tensor*> of;  // param -> its gradient (same shape)
    std::unique_ptr<Context> constants;             // owns d(loss)/d(loss) = 1

    Tensor* get(const Tensor* param) const;  // throws if the loss does not depend on param
};

// `loss` must be a scalar [1] already in `graph` (graph.build_forward(loss)). Gradient nodes are
// recorded in `ctx` (a context without arena: the GraphAllocator places them).
Gradients build_backward(Context& ctx, Graph& graph, Tensor* loss);

}  // namespace mn
