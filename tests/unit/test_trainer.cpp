// A batch trained in micro-batches takes the same optimizer step as in one pass: the gradients
// of the passes, weighted by their share of the batch, sum to the batch's gradient. Checked with
// plain SGD (the step is the gradient times the rate), on both networks, with a partial last
// micro-batch and a partial batch. (Not on the seeds' CNN: each pass draws its own dropout
// masks, so its step is a different sample of the same distribution.)
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/executor.h"
#include "models/model.h"
#include "models/trainer.h"

namespace mn {
namespace {

// n random 28x28 images, mostly zero like MNIST, with random labels.
void random_set(int64_t n, IdxImages& images, IdxLabels& labels) {
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> pixel(0, 255), label(0, 9);
    std::bernoulli_distribution ink(0.2);
    images.count = n;
    images.rows = images.cols = 28;
    images.pixels.resize(static_cast<size_t>(n * 784));
    for (uint8_t& p : images.pixels) p = ink(rng) ? static_cast<uint8_t>(pixel(rng)) : 0;
    labels.labels.resize(static_cast<size_t>(n));
    for (uint8_t& l : labels.labels) l = static_cast<uint8_t>(label(rng));
}

// The parameters after one SGD step on images [0, n) with the given micro-batch size.
std::vector<float> after_one_step(const std::string& arch, const std::string& preset, int64_t batch, int64_t n,
                                  int64_t micro, const IdxImages& images, const IdxLabels& labels) {
    Model model = create_model(arch, preset, 7);
    TrainConfig config;
    config.batch = batch;
    config.micro_batch = micro;
    config.optimizer.kind = OptimizerKind::Sgd;
    config.optimizer.momentum = 0.0f;
    config.optimizer.lr = 0.5f;
    Executor executor(2);
    Trainer trainer(model, config, executor, images.count);
    EXPECT_EQ(trainer.micro_batch(), micro);
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = (i * 7) % images.count;
    trainer.step(images, labels, order.data(), n);
    std::vector<float> params;
    for (const Tensor* p : model.params) params.insert(params.end(), p->f32(), p->f32() + p->nelements());
    return params;
}

TEST(Trainer, MicroBatchesTakeTheSameStepAsOnePass) {
    IdxImages images;
    IdxLabels labels;
    random_set(200, images, labels);
    struct Case {
        const char *arch, *preset;
        int64_t batch, n, micro;
    };
    for (const Case& c : {Case{"mnist-fc", "", 100, 100, 25}, Case{"mnist-fc", "", 100, 100, 30},
                          Case{"mnist-cnn", "ggml", 96, 96, 32}, Case{"mnist-cnn", "ggml", 96, 70, 40}}) {
        const auto whole = after_one_step(c.arch, c.preset, c.batch, c.n, c.batch, images, labels);
        const auto split = after_one_step(c.arch, c.preset, c.batch, c.n, c.micro, images, labels);
        const auto before = after_one_step(c.arch, c.preset, c.batch, 0, c.batch, images, labels);
        ASSERT_EQ(whole.size(), split.size());
        double moved = 0.0;
        for (size_t i = 0; i < whole.size(); ++i) {
            moved = std::max(moved, double(std::fabs(whole[i] - before[i])));
            ASSERT_NEAR(split[i], whole[i], 1e-5 * (1.0 + std::fabs(whole[i])))
                << c.arch << " " << c.preset << " micro " << c.micro << " parameter " << i;
        }
        EXPECT_GT(moved, 1e-3) << "the step must move the parameters for the comparison to mean anything";
    }
}

}  // namespace
}  // namespace mn
