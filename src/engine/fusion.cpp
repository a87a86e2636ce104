#include "engine/fusion.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "engine/op_params.h"

namespace mn {

namespace {

using Consumers = std::unordered_map<const Tensor*, std::vector<Tensor*>>;

Consumers consumers_of(const Graph& g) {
    Consumers c;
    for (Tensor* n : g.nodes)
        for (Tensor* s : n->src)
            if (s) c[s].push_back(n);
    return c;
}

bool only_reader(const Consumers& c, const Tensor* t, const Tensor* reader) {
    auto it = c.find(t);
    return it != c.end() && it->second.size() == 1 && it->second[0] == reader && !(t->flags & kFlagOutput);
}

// A relu after the bias, in the epilogue of a mul_mat or conv_2d.
void set_epilogue_relu(Tensor* product) {
    if (product->op == Op::MulMat) {
        MulMatParams p = params<MulMatParams>(product);
        p.relu = 1;
        set_params(product, p);
    } else {
        Conv2dParams p = params<Conv2dParams>(product);
        p.relu = 1;
        set_params(product, p);
    }
}

// A row vector: bias[i] for output row i of a product with m rows.
bool is_row_bias(const Tensor* b, int64_t m) {
    return b->type == DType::F32 && b->ne[0] == m && b->nelements() == m && b->nb[0] == sizeof(float);
}

// Every reader of `from` (and the graph's outputs) now reads `to`.
void redirect(Graph& g, Consumers& c, Replacements& done, Tensor* from, Tensor* to) {
    done[from] = to;
    for (Tensor* reader : c[from])
        for (Tensor*& s : reader->src)
            if (s == from) s = to;
    // Views of `from`, direct or through other views, share its memory: make them share `to`'s
    // (to may itself be a view).
    for (Tensor* node : g.nodes)
        if (node->view_src == from) {
            node->view_src = to->view_src ? to->view_src : to;
            node->view_offs += to->view_offs;
        }
    to->flags |= from->flags & (kFlagOutput | kFlagInput);
    if (from->name[0]) to->set_name(from->name);
    auto& into = c[to];
    into.insert(into.end(), c[from].begin(), c[from].end());
    c.erase(from);
    g.nodes.erase(std::find(g.nodes.begin(), g.nodes.end(), from));
}

}  // namespace

Tensor* replacement(const Replacements& r, Tensor* t) {
    for (auto it = r.find(t); it != r.end(); it = r.find(t)) t = it->second;
    return t;
}

Replacements fuse_mul_mat_epilogues(Graph& g) {
    Consumers c = consumers_of(g);
    Replacements done;
    const std::vector<Tensor*> nodes = g.nodes;
    for (Tensor* add_node : nodes) {
        if (add_node->op != Op::Add) continue;
        // add(product, bias), the product possibly seen through a reshape.
        Tensor* x = add_node->src[0];
        Tensor* bias = add_node->src[1];
        Tensor* product = x->op == Op::Reshape ? x->src[0] : x;
        const bool gemm = product->op == Op::MulMat && product->ne[2] == 1 && product->ne[3] == 1;
        if (!(gemm || product->op == Op::Conv2d) || product->src[2]) continue;
        if (!is_row_bias(bias, product->ne[0]) || !x->same_shape(*add_node)) continue;
        if (!only_reader(c, x, add_node) || (x != product && !only_reader(c, product, x))) continue;

        // A bias computed in the graph (batch norm folded into a convolution) may come after the
        // product in the order of the nodes; the product then moves to just before the add: only
        // the add reads it, and its own sources all come before where it was.
        const auto at = [&](const Tensor* t) { return std::find(g.nodes.begin(), g.nodes.end(), t); };
        if (bias->op != Op::None && at(bias) != g.nodes.end() && at(bias) > at(product)) {
            if (x != product) continue;  // (a view of the product between them would come first)
            g.nodes.erase(at(product));
            g.nodes.insert(at(add_node), product);
        }
        product->src[2] = bias;
        Tensor* result = add_node;
        auto readers = c.find(add_node);
        if (readers != c.end() && readers->second.size() == 1 && readers->second[0]->op == Op::Relu &&
            !(add_node->flags & kFlagOutput)) {
            Tensor* relu_node = readers->second[0];
            set_epilogue_relu(product);
            redirect(g, c, done, add_node, x);
            result = relu_node;
        }
        redirect(g, c, done, result, x);
    }
    return done;
}

int fuse_implicit_im2col(Graph& g) {
    Consumers c = consumers_of(g);
    int fused = 0;
    for (Tensor* mm : std::vector<Tensor*>(g.nodes)) {
        if (mm->op != Op::MulMat || params<MulMatParams>(mm).implicit_conv) continue;
        Tensor* r = mm->src[1];
        if (r->op != Op::Reshape) continue;
        Tensor* cols = r->src[0];
        if (cols->op != Op::Im2Col || cols->src[0]->nb[0] != sizeof(float)) continue;
        if (!only_reader(c, r, mm) || !only_reader(c, cols, r) || mm->ne[2] != 1 || mm->ne[3] != 1) continue;
        mm->src[1] = cols->src[0];
        MulMatParams p = params<MulMatParams>(mm);
        const Im2ColParams geometry = params<Im2ColParams>(cols);
        p.implicit_conv = 1;
        p.kw = geometry.kw;
        p.kh = geometry.kh;
        p.stride = geometry.stride;
        p.pad = geometry.pad;
        p.ow = static_cast<int32_t>(cols->ne[1]);
        p.oh = static_cast<int32_t>(cols->ne[2]);
        set_params(mm, p);
        c[cols->src[0]].push_back(mm);
        for (Tensor* gone : {r, cols}) g.nodes.erase(std::find(g.nodes.begin(), g.nodes.end(), gone));
        ++fused;
    }
    return fused;
}

Replacements fuse_relu_backward(Graph& g) {
    Consumers c = consumers_of(g);
    Replacements done;
    for (Tensor* relu_back : std::vector<Tensor*>(g.nodes)) {
        if (relu_back->op != Op::ReluBackward) continue;
        Tensor* producer = relu_back->src[0];
        Tensor* y = relu_back->src[1];  // the relu's output
        if (!only_reader(c, producer, relu_back)) continue;
        if (producer->op == Op::MaxPool2dBackward && producer->src[1] == y) {
            // The pooling read y too: pass the gradient only where the window's maximum is above 0.
            MaxPoolBackParams p = params<MaxPoolBackParams>(producer);
            p.positive_only = 1;
            set_params(producer, p);
        } else if (producer->op == Op::MulMat && !producer->src[3] && producer->ne[2] == 1 && producer->ne[3] == 1 &&
                   y->type == DType::F32 && y->nb[0] == sizeof(float) && y->same_shape(*producer)) {
            // The gate is read like C: rows of floats, same shape, no batch dimensions.
            producer->src[3] = y;
            c[y].push_back(producer);
        } else {
            continue;
        }
        redirect(g, c, done, relu_back, producer);
    }
    return done;
}

Replacements fuse_pool_into_conv(Graph& g) {
    Consumers c = consumers_of(g);
    Replacements done;
    for (Tensor* pool : std::vector<Tensor*>(g.nodes)) {
        if (pool->op != Op::MaxPool2d) continue;
        Tensor* conv = pool->src[0];
        MaxPoolParams pp = params<MaxPoolParams>(pool);
        if (conv->op != Op::Conv2d || pp.k != pp.stride || pp.k < 2) continue;
        Conv2dParams cp = params<Conv2dParams>(conv);
        if (cp.pool || cp.computed_by_pool) continue;
        if (!only_reader(c, conv, pool)) {
            // Training: the pooling's gradient reads the conv rows, so they are written, but the
            // pooling computes them itself and pools each window while it is in L1. It reads the
            // convolution's input from now on: that keeps the input's memory alive until then.
            if (conv->flags & kFlagOutput || pool->src[1]) continue;
            cp.computed_by_pool = 1;
            pp.computes_conv = 1;
            set_params(conv, cp);
            set_params(pool, pp);
            pool->src[1] = conv->src[1];
            c[conv->src[1]].push_back(pool);
            continue;
        }
        cp.pool = pp.k;
        set_params(conv, cp);
        for (int d = 1; d <= 2; ++d) conv->ne[d] = pool->ne[d];
        set_contiguous_strides(*conv);
        redirect(g, c, done, pool, conv);
    }
    return done;
}

Replacements fuse_relu_into_batch_norm(Graph& g) {
    Consumers c = consumers_of(g);
    Replacements done;
    for (Tensor* relu_node : std::vector<Tensor*>(g.nodes)) {
        if (relu_node->op != Op::Relu) continue;
        Tensor* bn = relu_node->src[0];
        if (bn->op != Op::BatchNorm || !only_reader(c, bn, relu_node)) continue;
        // (The gradient of batch_norm reads its sources, not its output: relu's gradient, by
        // the relu's output, now reads the same values from the batch_norm.)
        BatchNormParams p = params<BatchNormParams>(bn);
        p.relu = 1;
        set_params(bn, p);
        redirect(g, c, done, relu_node, bn);
    }
    return done;
}

Replacements optimize_graph(Graph& g) {
    fuse_implicit_im2col(g);
    Replacements r = fuse_mul_mat_epilogues(g);
    for (const auto& [from, to] : fuse_relu_into_batch_norm(g)) r[from] = to;
    for (const auto& [from, to] : fuse_relu_backward(g)) r[from] = to;
    for (const auto& [from, to] : fuse_pool_into_conv(g)) r[from] = to;
    return r;
}

}  // namespace mn
