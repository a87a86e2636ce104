// Gradient checks: for every differentiable op, the gradient autodiff builds matches central
// finite differences of the loss L = sum_i w_i * f(x)_i, with fixed random weights w.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "engine/allocator.h"
#include "engine/autodiff.h"
#include "engine/error.h"
#include "engine/executor.h"
#include "engine/fusion.h"
#include "engine/op_params.h"
#include "engine/ops.h"
#include "test_support.h"

namespace mn {
namespace {

using Builder = std::function<Tensor*(Context&, const std::vector<Tensor*>&)>;

struct Check {
    std::vector<std::vector<int64_t>> shapes;  // one per parameter
    Builder f;
    float min_abs = 0.0f;  // keep |x| above this (away from kinks such as relu's)
    float spacing = 0.0f;  // if > 0: values are distinct multiples of this (no ties for max)
    double tol = 2e-2;
};

Tensor* make_param(Context& ctx, const std::vector<int64_t>& shape, std::mt19937& rng, const Check& c) {
    int64_t ne[kMaxDims] = {1, 1, 1, 1};
    for (size_t i = 0; i < shape.size(); ++i) ne[i] = shape[i];
    Tensor* t = ctx.new_tensor(DType::F32, static_cast<int>(shape.size()), ne);
    t->flags |= kFlagParam;
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    if (c.spacing > 0) {
        std::vector<float> v(static_cast<size_t>(t->nelements()));
        for (size_t i = 0; i < v.size(); ++i) v[i] = (float(i) - float(v.size()) / 2) * c.spacing;
        std::shuffle(v.begin(), v.end(), rng);
        std::copy(v.begin(), v.end(), t->f32());
        return t;
    }
    for (int64_t i = 0; i < t->nelements(); ++i) {
        float x = u(rng);
        if (std::fabs(x) < c.min_abs) x = x < 0 ? x - c.min_abs : x + c.min_abs;
        t->f32()[i] = x;
    }
    return t;
}

void gradient_check(const Check& c, int threads = 2, uint32_t seed = 1) {
    std::mt19937 rng(seed);
    Context params(1 << 22);
    std::vector<Tensor*> xs;
    for (const auto& s : c.shapes) xs.push_back(make_param(params, s, rng, c));

    Context ctx;
    Tensor* y = c.f(ctx, xs);
    // L = sum_i w_i y_i as a 1x1 matrix product with a constant random vector w.
    Tensor* flat = reshape(ctx, y->is_contiguous() ? y : cont(ctx, y), {y->nelements(), 1});
    Tensor* w = params.new_tensor(DType::F32, {y->nelements(), 1});
    std::normal_distribution<float> n(0.0f, 1.0f);
    for (int64_t i = 0; i < w->nelements(); ++i) w->f32()[i] = n(rng);
    Tensor* loss = reshape(ctx, mul_mat(ctx, w, flat), {1});
    loss->flags |= kFlagOutput;

    Graph g;
    g.build_forward(loss);
    Gradients grads = build_backward(ctx, g, loss);
    GraphAllocator alloc;
    alloc.allocate(g);
    Executor ex(threads);
    auto eval = [&] {
        ex.compute(g);
        return double(loss->f32()[0]);
    };
    eval();
    for (Tensor* x : xs) {
        std::vector<float> analytic(grads.get(x)->f32(), grads.get(x)->f32() + x->nelements());
        for (int64_t i = 0; i < x->nelements(); ++i) {
            const float saved = x->f32()[i];
            const float eps = 1e-2f;
            x->f32()[i] = saved + eps;
            const double up = eval();
            x->f32()[i] = saved - eps;
            const double down = eval();
            x->f32()[i] = saved;
            const double numeric = (up - down) / (2.0 * eps);
            ASSERT_NEAR(analytic[size_t(i)], numeric, c.tol * std::max(1.0, std::fabs(numeric)))
                << "param " << (x == xs[0] ? 0 : 1) << " element " << i;
        }
    }
}

TEST(Autodiff, Add) {
    gradient_check({{{5, 3}, {5, 1}}, [](Context& c, auto& x) { return add(c, x[0], x[1]); }});
    gradient_check({{{1, 3, 2}, {4, 1, 2}}, [](Context& c, auto& x) { return add(c, x[0], x[1]); }});
}
TEST(Autodiff, Scale) {
    gradient_check({{{7}}, [](Context& c, auto& x) { return scale(c, x[0], -2.5f, 0.75f); }});
}
TEST(Autodiff, SubMulBroadcasting) {
    gradient_check({{{5, 3}, {5, 1}}, [](Context& c, auto& x) { return sub(c, x[0], x[1]); }});
    gradient_check({{{1, 3, 2}, {4, 1, 2}}, [](Context& c, auto& x) { return mul(c, x[0], x[1]); }});
    gradient_check({{{6, 2}}, [](Context& c, auto& x) { return mul(c, x[0], x[0]); }});  // a square
}
TEST(Autodiff, SqrtAndRsqrt) {
    // of x^2 + 0.5, kept away from 0
    Check ch{{{7, 2}}, [](Context& c, auto& x) { return sqrt(c, scale(c, mul(c, x[0], x[0]), 1.0f, 0.5f)); }};
    gradient_check(ch);
    ch.f = [](Context& c, auto& x) { return rsqrt(c, scale(c, mul(c, x[0], x[0]), 1.0f, 0.5f)); };
    gradient_check(ch);
}
TEST(Autodiff, BatchNormInTraining) {
    // x [C=3, W=4, H=3, N=2], gamma, beta [3]; the running statistics are state, not parameters.
    gradient_check({{{3, 4, 3, 2}, {3}, {3}}, [](Context& c, auto& x) {
                        Tensor* mean = c.new_tensor(DType::F32, {3});
                        Tensor* var = c.new_tensor(DType::F32, {3});
                        static float m[3] = {0, 0, 0}, v[3] = {1, 1, 1};
                        mean->data = m;
                        var->data = v;
                        return batch_norm(c, x[0], x[1], x[2], mean, var, true);
                    }}, 2, 5);
}
TEST(Autodiff, MulMatBothOperands) {
    gradient_check({{{6, 4}, {6, 5}}, [](Context& c, auto& x) { return mul_mat(c, x[0], x[1]); }});
    // Large enough to take the packed GEMM path with transposed operands.
    gradient_check({{{33, 20}, {33, 40}}, [](Context& c, auto& x) { return mul_mat(c, x[0], x[1]); }}, 2, 7);
}
TEST(Autodiff, MulMatOfTransposedViews) {
    gradient_check({{{4, 6}, {5, 6}},
                    [](Context& c, auto& x) { return mul_mat(c, transpose(c, x[0]), transpose(c, x[1])); }});
}
TEST(Autodiff, Relu) {
    Check ch{{{9, 2}}, [](Context& c, auto& x) { return relu(c, x[0]); }};
    ch.min_abs = 0.1f;
    gradient_check(ch);
}
TEST(Autodiff, SoftMax) {
    gradient_check({{{6, 3}}, [](Context& c, auto& x) { return soft_max(c, x[0]); }});
}
TEST(Autodiff, SumToMeanSumAndRepeat) {
    gradient_check({{{4, 3, 2}}, [](Context& c, auto& x) {
                        const int64_t ne[kMaxDims] = {4, 1, 2, 1};
                        return sum_to(c, x[0], ne);
                    }});
    gradient_check({{{5, 2}}, [](Context& c, auto& x) { return mean(c, x[0]); }});
    gradient_check({{{5, 2}}, [](Context& c, auto& x) { return sum(c, x[0]); }});
    gradient_check({{{3, 1}}, [](Context& c, auto& x) { return repeat(c, x[0], c.new_tensor(DType::F32, {3, 4})); }});
}
TEST(Autodiff, ReshapePermuteCont) {
    gradient_check({{{2, 3, 4}}, [](Context& c, auto& x) { return reshape(c, x[0], {6, 4}); }});
    gradient_check({{{2, 3, 4}}, [](Context& c, auto& x) { return cont(c, permute(c, x[0], 2, 0, 1, 3)); }});
}
TEST(Autodiff, Im2ColAndCol2Im) {
    gradient_check({{{2, 5, 4, 2}}, [](Context& c, auto& x) { return im2col(c, x[0], 3, 3, 2, 1); }});
    gradient_check({{{2 * 9, 3, 2, 2}}, [](Context& c, auto& x) {
                        Context* scratch = &c;
                        Tensor* like = scratch->new_tensor(DType::F32, {2, 5, 4, 2});
                        return col2im(c, x[0], like, 3, 3, 2, 1);
                    }});
}
TEST(Autodiff, Conv2dKernelAndInput) {
    // kernel [KW, KH, IC, OC], input [IC, W, H, N]
    gradient_check({{{3, 3, 2, 3}, {2, 6, 5, 2}}, [](Context& c, auto& x) { return conv_2d(c, x[0], x[1], 1, 0); }});
    gradient_check({{{3, 3, 1, 2}, {1, 5, 5, 1}}, [](Context& c, auto& x) { return conv_2d(c, x[0], x[1], 1, 1); }});
}
TEST(Autodiff, MaxPool) {
    Check ch{{{3, 6, 5, 2}}, [](Context& c, auto& x) { return max_pool_2d(c, x[0], 2, 2); }};
    ch.spacing = 0.05f;
    gradient_check(ch);
    ch.f = [](Context& c, auto& x) { return max_pool_2d(c, x[0], 3, 2); };  // overlapping windows
    gradient_check(ch);
}
TEST(Autodiff, Dropout) {
    gradient_check({{{50, 2}}, [](Context& c, auto& x) {
                        Tensor* seed = c.new_tensor(DType::I32, {2});
                        static int32_t seed_value[2] = {1234, 5};
                        seed->data = seed_value;
                        return dropout(c, x[0], seed, 0.5f);
                    }});
}
TEST(Autodiff, CrossEntropyLoss) {
    gradient_check({{{10, 4}}, [](Context& c, auto& x) {
                        Tensor* labels = c.new_tensor(DType::F32, {10, 4});
                        static float one_hot[40] = {};
                        for (int b = 0; b < 4; ++b) one_hot[b * 10 + (3 * b + 1) % 10] = 1.0f;
                        labels->data = one_hot;
                        return cross_entropy_loss(c, x[0], labels);
                    }});
}
TEST(Autodiff, GradientsAccumulateOverSeveralUses) {
    Check ch{{{8}}, [](Context& c, auto& x) { return add(c, relu(c, x[0]), scale(c, x[0], 2.0f)); }};
    ch.min_abs = 0.1f;
    gradient_check(ch);
}
TEST(Autodiff, SmallNetworkEndToEnd) {
    // conv -> relu -> pool -> dense -> loss, every parameter checked at once.
    Check ch{{{3, 3, 1, 2}, {1, 2, 1}, {2 * 3 * 3, 3}},
             [](Context& c, auto& x) {
                 Tensor* img = c.new_tensor(DType::F32, {1, 8, 8, 2});
                 static float pixels[128];
                 for (int i = 0; i < 128; ++i) pixels[i] = float((i * 37) % 17) / 17.0f;
                 img->data = pixels;
                 Tensor* h = relu(c, add(c, conv_2d(c, x[0], img, 1, 0), reshape(c, x[1], {2})));
                 h = max_pool_2d(c, h, 2, 2);  // [2, 3, 3, 2]
                 return mul_mat(c, x[2], reshape(c, h, {18, 2}));
             }};
    gradient_check(ch, 2, 3);
}
TEST(Autodiff, RejectsNonScalarLossAndNonDifferentiableOps) {
    Context p(1 << 12);
    Tensor* x = p.new_tensor(DType::F32, {4});
    x->flags |= kFlagParam;
    Context ctx;
    Tensor* y = relu(ctx, x);
    Graph g;
    g.build_forward(y);
    EXPECT_THROW(build_backward(ctx, g, y), Error);  // not a scalar
    Tensor* part = view(ctx, x, {1}, {}, sizeof(float));  // a strided slice: no gradient rule
    Tensor* l = relu(ctx, part);
    Graph g2;
    g2.build_forward(l);
    try {
        build_backward(ctx, g2, l);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("not differentiable"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace mn

namespace mn {
namespace {

// The epilogue fusion pass rewrites a training graph (forward + backward); every output and
// gradient must come out the same as without it, including gradients that read the fused values
// through views (the transpose in mul_mat's backward).
TEST(Fusion, KeepsLossAndGradientsOfATrainingGraph) {
    auto run = [](bool fuse, std::vector<float>& out) {
        std::mt19937 rng(11);
        std::uniform_real_distribution<float> u(-1, 1);
        Context p(1 << 20);
        Tensor* w1 = p.new_tensor(DType::F32, {20, 30});
        Tensor* b1 = p.new_tensor(DType::F32, {30});
        Tensor* w2 = p.new_tensor(DType::F32, {30, 5});
        Tensor* b2 = p.new_tensor(DType::F32, {5});
        Tensor* x = p.new_tensor(DType::F32, {20, 40});
        Tensor* y = p.new_tensor(DType::F32, {5, 40});
        for (Tensor* t : {w1, b1, w2, b2, x}) {
            for (int64_t i = 0; i < t->nelements(); ++i) t->f32()[i] = u(rng);
        }
        for (Tensor* t : {w1, b1, w2, b2}) t->flags |= kFlagParam;
        std::fill(y->f32(), y->f32() + y->nelements(), 0.0f);
        for (int b = 0; b < 40; ++b) y->f32()[b * 5 + b % 5] = 1.0f;
        Context ctx;
        Tensor* h = relu(ctx, add(ctx, mul_mat(ctx, w1, x), b1));
        Tensor* logits = add(ctx, mul_mat(ctx, w2, h), b2);
        Tensor* loss = cross_entropy_loss(ctx, logits, y);
        loss->flags |= kFlagOutput;
        Graph g;
        g.build_forward(loss);
        Gradients grads = build_backward(ctx, g, loss);
        const size_t nodes_before = g.nodes.size();
        if (fuse) {
            optimize_graph(g);
            // two adds, the relu and its relu_backward gone
            EXPECT_EQ(g.nodes.size(), nodes_before - 4);
            EXPECT_EQ(std::count_if(g.nodes.begin(), g.nodes.end(), [](const Tensor* t) { return t->src[3]; }), 1);
        }
        GraphAllocator alloc;
        alloc.allocate(g);
        Executor(2).compute(g);
        out.assign(1, loss->f32()[0]);
        for (Tensor* t : {w1, b1, w2, b2}) out.insert(out.end(), grads.get(t)->f32(), grads.get(t)->f32() + t->nelements());
    };
    std::vector<float> plain, fused;
    run(false, plain);
    run(true, fused);
    ASSERT_EQ(plain.size(), fused.size());
    for (size_t i = 0; i < plain.size(); ++i) ASSERT_NEAR(plain[i], fused[i], 1e-5f * (1 + std::fabs(plain[i]))) << i;
}

}  // namespace
}  // namespace mn

namespace mn {
namespace {

// conv_2d + bias + relu + max pool as the inference graph runs them (the direct convolution op
// at stride 1, pooling as it goes; implicit GEMM gathering straight from the image at stride 2;
// bias and relu fused) compute what explicit im2col + mul_mat and separate ops do, for padding,
// stride, channel counts, partial tiles and odd sizes (pooling drops the last row and column).
TEST(Fusion, OptimizedConvolutionMatchesExplicitIm2Col) {
    struct Case {
        int64_t c, w, h, n, oc;
        int stride, pad;
    };
    test::LevelGuard guard;
    for (CpuLevel level : test::supported_levels())
    for (const Case& k : {Case{1, 28, 28, 3, 8, 1, 1}, Case{8, 14, 14, 2, 16, 1, 1}, Case{32, 13, 13, 2, 64, 1, 0},
                          Case{3, 9, 7, 2, 5, 2, 1}, Case{4, 11, 5, 3, 5, 1, 1}, Case{2, 30, 4, 1, 24, 1, 0}}) {
        set_cpu_level(level);
        std::mt19937 rng(5);
        std::uniform_real_distribution<float> u(-1, 1);
        Context p(1 << 22);
        Tensor* kernel = p.new_tensor(DType::F32, {3, 3, k.c, k.oc});
        Tensor* x = p.new_tensor(DType::F32, {k.c, k.w, k.h, k.n});
        Tensor* bias = p.new_tensor(DType::F32, {k.oc});
        for (Tensor* t : {kernel, x, bias})
            for (int64_t i = 0; i < t->nelements(); ++i) t->f32()[i] = u(rng);
        std::vector<float> results[2];
        for (int fused = 0; fused < 2; ++fused) {
            Context ctx;
            Tensor* conv = nullptr;
            if (fused) {
                conv = conv_2d(ctx, kernel, x, k.stride, k.pad);
            } else {  // by hand: kernel permuted into the patch order, times the im2col matrix
                Tensor* cols = im2col(ctx, x, 3, 3, k.stride, k.pad);
                Tensor* k2 = reshape(ctx, cont(ctx, permute(ctx, kernel, 1, 2, 0, 3)), {9 * k.c, k.oc});
                Tensor* product = mul_mat(ctx, k2, reshape(ctx, cols, {cols->ne[0], cols->ne[1] * cols->ne[2] * k.n}));
                conv = reshape(ctx, product, {k.oc, cols->ne[1], cols->ne[2], k.n});
            }
            Tensor* y = max_pool_2d(ctx, relu(ctx, add(ctx, conv, bias)), 2, 2);
            y->flags |= kFlagOutput;
            Graph g;
            g.build_forward(y);
            if (fused) {
                y = replacement(optimize_graph(g), y);
                // No im2col matrix, no separate bias or relu pass; at stride 1 no pooling pass.
                for (const Tensor* node : g.nodes) {
                    EXPECT_TRUE(node->op != Op::Im2Col && node->op != Op::Add && node->op != Op::Relu) << op_name(node->op);
                    if (k.stride == 1) {
                        EXPECT_NE(node->op, Op::MaxPool2d);
                    }
                }
            }
            GraphAllocator alloc;
            alloc.allocate(g);
            Executor(2).compute(g);
            results[fused].assign(y->f32(), y->f32() + y->nelements());
        }
        ASSERT_EQ(results[0].size(), results[1].size());
        for (size_t i = 0; i < results[0].size(); ++i) ASSERT_NEAR(results[0][i], results[1][i], 1e-4f) << cpu_level_name(level) << " " << i;
    }
}

}  // namespace
}  // namespace mn

namespace mn {
namespace {

// A small CNN's training graph (conv, bias, relu, max pool, dense, loss, and their gradients)
// gives the same loss and parameter gradients with every rewrite of optimize_graph as without,
// on every SIMD level: disjoint windows (with a border column and row no window covers) and
// overlapping ones. The rewrites must also remove what they promise.
TEST(Fusion, OptimizedCnnTrainingGraphKeepsLossAndGradients) {
    struct Case {
        int64_t c, w, oc;
        int pad, pool, stride;
    };
    test::LevelGuard guard;
    for (CpuLevel level : test::supported_levels())
        for (const Case& k : {Case{1, 10, 8, 1, 2, 2}, Case{3, 9, 16, 0, 2, 2}, Case{2, 9, 8, 1, 3, 2}}) {
            set_cpu_level(level);
            auto run = [&](bool optimize, std::vector<float>& out) {
                std::mt19937 rng(13);
                std::uniform_real_distribution<float> u(-1, 1);
                const int64_t n = 3, conv_w = k.w + 2 * k.pad - 2, pooled = (conv_w - k.pool) / k.stride + 1;
                Context p(1 << 22);
                Tensor* kernel = p.new_tensor(DType::F32, {3, 3, k.c, k.oc});
                Tensor* bias = p.new_tensor(DType::F32, {k.oc});
                Tensor* dense = p.new_tensor(DType::F32, {k.oc * pooled * pooled, 4});
                Tensor* x = p.new_tensor(DType::F32, {k.c, k.w, k.w, n});
                Tensor* y = p.new_tensor(DType::F32, {4, n});
                for (Tensor* t : {kernel, bias, dense, x})
                    for (int64_t i = 0; i < t->nelements(); ++i) t->f32()[i] = u(rng);
                for (Tensor* t : {kernel, bias, dense}) t->flags |= kFlagParam;
                std::fill(y->f32(), y->f32() + y->nelements(), 0.0f);
                for (int64_t b = 0; b < n; ++b) y->f32()[b * 4 + b % 4] = 1.0f;
                Context ctx;
                Tensor* h = relu(ctx, add(ctx, conv_2d(ctx, kernel, x, 1, k.pad), bias));
                Tensor* pooled_h = max_pool_2d(ctx, h, k.pool, k.stride);
                Tensor* flat = reshape(ctx, pooled_h, {k.oc * pooled * pooled, n});
                Tensor* loss = cross_entropy_loss(ctx, mul_mat(ctx, dense, flat), y);
                loss->flags |= kFlagOutput;
                Graph g;
                g.build_forward(loss);
                Gradients grads = build_backward(ctx, g, loss);
                if (optimize) {
                    optimize_graph(g);
                    bool pool_computes_conv = false;
                    for (const Tensor* node : g.nodes) {
                        EXPECT_NE(node->op, Op::ReluBackward);
                        pool_computes_conv |= node->op == Op::MaxPool2d && params<MaxPoolParams>(node).computes_conv != 0;
                    }
                    EXPECT_EQ(pool_computes_conv, k.pool == k.stride);  // disjoint windows: one pass
                }
                GraphAllocator alloc;
                alloc.allocate(g);
                Executor(2).compute(g);
                out.assign(1, loss->f32()[0]);
                for (Tensor* t : {kernel, bias, dense})
                    out.insert(out.end(), grads.get(t)->f32(), grads.get(t)->f32() + t->nelements());
            };
            std::vector<float> plain, optimized;
            run(false, plain);
            run(true, optimized);
            ASSERT_EQ(plain.size(), optimized.size());
            for (size_t i = 0; i < plain.size(); ++i)
                ASSERT_NEAR(plain[i], optimized[i], 1e-4f * (1 + std::fabs(plain[i])))
                    << cpu_level_name(level) << " case w=" << k.w << " pool=" << k.pool << " at " << i;
        }
}

}  // namespace
}  // namespace mn
