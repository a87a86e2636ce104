#pragma once
// A static compute graph: the tensors needed to compute some outputs, in an order where every
// tensor comes after its sources. `nodes` are computed by ops; `leafs` are data the caller
// provides (weights, inputs, constants).
#include <unordered_set>
#include <vector>

#include "engine/tensor.h"

namespace mn {

struct Graph {
    std::vector<Tensor*> nodes;
    std::vector<Tensor*> leafs;

    // Adds `out` and everything it depends on (depth-first, sources before users). Idempotent:
    // tensors already in the graph are not added twice, so several outputs can share a graph.
    void build_forward(Tensor* out);
    bool contains(const Tensor* t) const { return visited_.count(t) != 0; }

private:
    std::unordered_set<const Tensor*> visited_;
};

}  // namespace mn
