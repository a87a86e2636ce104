#include "engine/autodiff.h"

#include <unordered_set>

#include "engine/error.h"
#include "engine/ops.h"

namespace mn {

namespace {

Tensor* as_contiguous(Context& ctx, Tensor* t) { return t->is_contiguous() ? t : cont(ctx, t); }

// A gradient reduced to the shape of a (possibly broadcast) source.
Tensor* reduce_like(Context& ctx, Tensor* g, const Tensor* like) {
    return g->same_shape(*like) ? g : sum_to(ctx, g, like->ne);
}

// d(loss)/d(src i) of node t, given g = d(loss)/d(t).
Tensor* source_gradient(Context& ctx, Tensor* t, int i, Tensor* g) {
    Tensor* a = t->src[0];
    switch (t->op) {
        case Op::Add: return reduce_like(ctx, g, t->src[i]);
        case Op::Scale: return scale(ctx, g, op_param_f32(t, 0));
        case Op::MulMat:
            // t(i, j) = sum_p a(p, i) b(p, j)
            if (i == 0) return reduce_like(ctx, mul_mat(ctx, transpose(ctx, t->src[1]), transpose(ctx, g)), a);
            return mul_mat(ctx, transpose(ctx, a), g);
        case Op::Relu: return relu_backward(ctx, g, t);
        case Op::SoftMax: return soft_max_backward(ctx, g, t);
        case Op::SumTo: return repeat(ctx, g, a);
        case Op::Repeat: return sum_to(ctx, g, a->ne);
        case Op::Reshape: {
            Tensor* r = reshape(ctx, as_contiguous(ctx, g), {a->ne[0], a->ne[1], a->ne[2], a->ne[3]});
            return r;
        }
        case Op::Permute: {
            int inverse[kMaxDims];
            for (int d = 0; d < kMaxDims; ++d) inverse[t->op_params[d]] = d;
            return permute(ctx, g, inverse[0], inverse[1], inverse[2], inverse[3]);
        }
        case Op::Cont: return g;
        case Op::Im2Col:
            return col2im(ctx, as_contiguous(ctx, g), a, t->op_params[0], t->op_params[1], t->op_params[2], t->op_params[3]);
        case Op::Col2Im:
            return im2col(ctx, as_contiguous(ctx, g), t->op_params[0], t->op_params[1], t->op_params[2], t->op_params[3]);
        case Op::Conv2d:
            if (i == 0) return conv_2d_backward_kernel(ctx, t->src[1], as_contiguous(ctx, g), a, t->op_params[1]);
            return conv_2d_backward_input(ctx, as_contiguous(ctx, g), a, t->src[1], t->op_params[1]);
        case Op::MaxPool2d: return max_pool_2d_backward(ctx, g, a, t->op_params[0], t->op_params[1]);
        case Op::Dropout: return dropout(ctx, g, t->src[1], op_param_f32(t, 0));
        case Op::CrossEntropyLoss:
            check(i == 0, "cross_entropy_loss: no gradient with respect to the labels");
            return cross_entropy_loss_backward(ctx, a, t->src[1], g);
        default: break;
    }
    throw Error(std::string("autodiff: op ") + op_name(t->op) + " is not differentiable");
}

// Sources whose gradient is never needed even when they depend on params.
bool source_is_differentiable(const Tensor* t, int i) {
    if (t->op == Op::Dropout) return i == 0;           // src 1 is the seed
    if (t->op == Op::CrossEntropyLoss) return i == 0;  // src 1 is the labels
    return true;
}

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
