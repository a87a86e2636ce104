// Batch normalisation: the fused op against the same normalisation composed from primitives
// (values and gradients), PyTorch's update of the running statistics, inference with them, and
// mnist-cnn's folding of them into the convolution.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/allocator.h"
#include "engine/autodiff.h"
#include "engine/executor.h"
#include "engine/ops.h"
#include "models/inference.h"
#include "models/model.h"
#include "test_support.h"

namespace mn {
namespace {

void fill_uniform(Tensor* t, std::mt19937& rng, float lo, float hi) {
    std::uniform_real_distribution<float> u(lo, hi);
    for (int64_t i = 0; i < t->nelements(); ++i) t->f32()[i] = u(rng);
}

// Evaluates the graph ending in `outs` (and the gradients of `loss` if given) on `threads`.
struct GraphRun {
    Graph graph;
    GraphAllocator alloc;
    Gradients grads;
};
void evaluate(Context& ctx, GraphRun& r, std::vector<Tensor*> outs, Tensor* loss, int threads) {
    for (Tensor* o : outs) {
        o->flags |= kFlagOutput;
        r.graph.build_forward(o);
    }
    if (loss) r.grads = build_backward(ctx, r.graph, loss);
    r.alloc.allocate(r.graph);
    Executor ex(threads);
    ex.compute(r.graph);
}

// (x - mean) / sqrt(var + eps) per channel, from sum_to, sub, mul and rsqrt.
Tensor* standardize_composed(Context& c, Tensor* x, float eps) {
    const int64_t ch[kMaxDims] = {x->ne[0], 1, 1, 1};
    const float inv_n = 1.0f / float(x->nelements() / x->ne[0]);
    Tensor* centred = sub(c, x, scale(c, sum_to(c, x, ch), inv_n));
    Tensor* var = scale(c, sum_to(c, mul(c, centred, centred), ch), inv_n);
    return mul(c, centred, rsqrt(c, scale(c, var, 1.0f, eps)));
}

TEST(BatchNorm, FusedEqualsComposedInValuesAndGradients) {
    for (int threads : {1, 2}) {
        std::mt19937 rng(3);
        Context p(1 << 20);
        Tensor* x = p.new_tensor(DType::F32, {8, 5, 4, 3});
        Tensor* w = p.new_tensor(DType::F32, {8, 5, 4, 3});  // a random linear loss sum(w * y)
        Tensor* mean = p.new_tensor(DType::F32, {8});
        Tensor* var = p.new_tensor(DType::F32, {8});
        fill_uniform(x, rng, -2.0f, 3.0f);
        fill_uniform(w, rng, -1.0f, 1.0f);
        x->flags |= kFlagParam;
        std::vector<float> y_fused, y_composed, g_fused, g_composed;
        for (bool fused : {true, false}) {
            std::fill(mean->f32(), mean->f32() + 8, 0.0f);
            std::fill(var->f32(), var->f32() + 8, 1.0f);
            Context ctx;
            BatchNormParams bp;
            bp.training = 1;
            Tensor* y = fused ? batch_standardize(ctx, x, mean, var, bp) : standardize_composed(ctx, x, bp.eps);
            Tensor* loss = sum(ctx, mul(ctx, y, w));
            GraphRun r;
            evaluate(ctx, r, {y, loss}, loss, threads);
            (fused ? y_fused : y_composed).assign(y->f32(), y->f32() + y->nelements());
            const Tensor* g = r.grads.get(x);
            (fused ? g_fused : g_composed).assign(g->f32(), g->f32() + g->nelements());
        }
        for (size_t i = 0; i < y_fused.size(); ++i) {
            ASSERT_NEAR(y_fused[i], y_composed[i], 1e-5) << i;
            ASSERT_NEAR(g_fused[i], g_composed[i], 1e-4) << i;
        }
    }
}

TEST(BatchNorm, TrainingUpdatesRunningStatisticsAsPyTorchAndInferenceUsesThem) {
    std::mt19937 rng(4);
    Context p(1 << 20);
    Tensor* x = p.new_tensor(DType::F32, {2, 3, 3, 2});  // 18 values per channel
    fill_uniform(x, rng, -1.0f, 5.0f);
    Tensor* mean = p.new_tensor(DType::F32, {2});
    Tensor* var = p.new_tensor(DType::F32, {2});
    const float m0[2] = {0.5f, -1.0f}, v0[2] = {2.0f, 0.25f};
    std::copy(m0, m0 + 2, mean->f32());
    std::copy(v0, v0 + 2, var->f32());
    {
        Context ctx;
        BatchNormParams bp;
        bp.training = 1;
        bp.momentum = 0.1f;
        GraphRun r;
        evaluate(ctx, r, {batch_standardize(ctx, x, mean, var, bp)}, nullptr, 2);
    }
    for (int c = 0; c < 2; ++c) {
        double s = 0, s2 = 0;
        for (int i = 0; i < 18; ++i) s += x->f32()[i * 2 + c];
        const double m = s / 18;
        for (int i = 0; i < 18; ++i) s2 += (x->f32()[i * 2 + c] - m) * (x->f32()[i * 2 + c] - m);
        EXPECT_NEAR(mean->f32()[c], 0.9 * m0[c] + 0.1 * m, 1e-6);
        EXPECT_NEAR(var->f32()[c], 0.9 * v0[c] + 0.1 * s2 / 17, 1e-5);  // unbiased
    }
    // Inference: the running statistics, untouched.
    const std::vector<float> m1(mean->f32(), mean->f32() + 2), v1(var->f32(), var->f32() + 2);
    Context ctx;
    BatchNormParams bp;
    Tensor* y = batch_standardize(ctx, x, mean, var, bp);
    GraphRun r;
    evaluate(ctx, r, {y}, nullptr, 1);
    for (int i = 0; i < 36; ++i)
        ASSERT_NEAR(y->f32()[i], (x->f32()[i] - m1[i % 2]) / std::sqrt(v1[i % 2] + bp.eps), 1e-5);
    EXPECT_EQ(mean->f32()[0], m1[0]);
    EXPECT_EQ(var->f32()[1], v1[1]);
}

// mnist-cnn folds the running statistics into the kernel and a bias for inference: the same
// logits as the network with batch_norm in inference mode after each convolution.
TEST(BatchNorm, FoldingIntoTheConvolutionKeepsTheLogits) {
    Model m = create_model("mnist-cnn", "fast", 9);
    std::mt19937 rng(5);
    for (Tensor* t : m.params) {
        const std::string name = t->name;
        if (name.find("running_var") != std::string::npos) fill_uniform(t, rng, 0.2f, 3.0f);
        else if (name.find(".bn.") != std::string::npos) fill_uniform(t, rng, -1.0f, 1.0f);
    }
    Context p(1 << 16);
    Tensor* images = p.new_tensor(DType::F32, {784, 4});
    fill_uniform(images, rng, 0.0f, 1.0f);
    Executor ex(2);
    // Through the inference graph (folded, fused).
    Predictor pred(m, 4, ex);
    std::vector<uint8_t> pixels(784 * 4);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t(images->f32()[i] * 255.0f);
    for (size_t i = 0; i < pixels.size(); ++i) images->f32()[i] = float(pixels[i]) / 255.0f;  // the same inputs
    pred.run(pixels.data(), 4);
    // Unfolded, by hand.
    Context ctx;
    Tensor* x = reshape(ctx, images, {1, 28, 28, 4});
    for (int i = 1; i <= 2; ++i) {
        const std::string conv = "conv" + std::to_string(i);
        x = conv_2d(ctx, m.get(conv + ".kernel"), x, 1, 0);
        x = batch_norm(ctx, x, m.get(conv + ".bn.weight"), m.get(conv + ".bn.bias"), m.get(conv + ".bn.running_mean"),
                       m.get(conv + ".bn.running_var"), false);
        x = max_pool_2d(ctx, relu(ctx, x), 2, 2);
    }
    Tensor* h = reshape(ctx, x, {x->ne[0] * x->ne[1] * x->ne[2], 4});
    Tensor* logits = add(ctx, mul_mat(ctx, m.get("dense.weight"), h), m.get("dense.bias"));
    GraphRun r;
    evaluate(ctx, r, {logits}, nullptr, 1);
    for (int b = 0; b < 4; ++b)
        for (int k = 0; k < 10; ++k) ASSERT_NEAR(pred.logits(b)[k], logits->f32()[b * 10 + k], 1e-3) << b << " " << k;
}

}  // namespace
}  // namespace mn
