#include "engine/autodiff.h"

#include <unordered_set>

#include "engine/error.h"
#include "engine/op_table.h"
#include "engine/ops.h"

namespace mn {

namespace {

// d(loss)/d(src i) of node t, given g = d(loss)/d(t) (the op table holds each op's rule).
Tensor* source_gradient(Context& ctx, Tensor* t, int i, Tensor* g) { return op_def(t->op).gradient(ctx, t, i, g); }

// Sources whose gradient is never needed even when they depend on params (a seed, labels).
bool source_is_differentiable(const Tensor* t, int i) { return !(op_def(t->op).constant_sources & (1u << i)); }

}  // namespace

Tensor* Gradients::get(const Tensor* leaf) const {
    auto it = of.find(leaf);
    check(it != of.end(), std::string("the loss does not depend on '") + leaf->name + "'");
    return it->second;
}

Gradients build_backward(Context& ctx, Graph& graph, Tensor* loss) {
    std::vector<Tensor*> params;
    for (Tensor* leaf : graph.leafs)
        if (leaf->flags & kFlagParam) params.push_back(leaf);
    return build_backward(ctx, graph, loss, params);
}

Gradients build_backward(Context& ctx, Graph& graph, Tensor* loss, const std::vector<Tensor*>& wrt) {
    check(loss->nelements() == 1, "autodiff: the loss must be a scalar, got " + loss->shape_string());
    check(graph.contains(loss), "autodiff: the loss is not in the graph");

    // Which tensors lie on a path from a leaf in wrt: only they get gradients.
    std::unordered_set<const Tensor*> depends;
    for (const Tensor* leaf : wrt) {
        check(leaf->op == Op::None && graph.contains(leaf), std::string("autodiff: '") + leaf->name + "' is not a leaf of the graph");
        depends.insert(leaf);
    }
    for (const Tensor* node : graph.nodes)
        for (int i = 0; i < kMaxSrc; ++i)
            if (node->src[i] && depends.count(node->src[i]) && source_is_differentiable(node, i)) {
                depends.insert(node);
                break;
            }

    Gradients grads;
    grads.constants = std::make_unique<Context>(Context::kAlignment);
    Tensor* one = grads.constants->new_tensor(DType::F32, {1});
    one->f32()[0] = 1.0f;
    one->set_name("d_loss");

    std::unordered_map<const Tensor*, Tensor*> grad_of{{loss, one}};
    const std::vector<Tensor*> forward_nodes = graph.nodes;
    for (auto it = forward_nodes.rbegin(); it != forward_nodes.rend(); ++it) {
        Tensor* t = *it;
        auto g = grad_of.find(t);
        if (g == grad_of.end()) continue;
        for (int i = 0; i < kMaxSrc; ++i) {
            Tensor* s = t->src[i];
            if (!s || !depends.count(s) || !source_is_differentiable(t, i)) continue;
            Tensor* contribution = source_gradient(ctx, t, i, g->second);
            auto [slot, fresh] = grad_of.emplace(s, contribution);
            // A tensor read by several ops sums the gradients from each of them.
            if (!fresh) slot->second = add(ctx, slot->second, contribution);
        }
    }

    for (Tensor* leaf : wrt) {
        auto g = grad_of.find(leaf);
        if (g == grad_of.end()) continue;
        Tensor* grad = g->second;
        if (!grad->is_contiguous() || grad->view_src) grad = cont(ctx, grad);  // an owned, dense buffer
        grad->flags |= kFlagOutput;
        grad->set_name(std::string("grad.") + leaf->name);
        grads.of[leaf] = grad;
    }
    for (auto& [leaf, grad] : grads.of) graph.build_forward(grad);
    return grads;
}

}  // namespace mn
