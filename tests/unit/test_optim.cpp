// Optimizers against their textbook update rules, computed here in double precision.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/context.h"
#include "engine/error.h"
#include "engine/optim.h"

namespace mn {
namespace {

struct Fixture {
    Context ctx{1 << 12};
    Tensor* w = ctx.new_tensor(DType::F32, {3});
    Tensor* g = ctx.new_tensor(DType::F32, {3});
    Fixture() {
        const float w0[3] = {0.5f, -1.0f, 2.0f};
        std::copy(w0, w0 + 3, w->f32());
    }
    void set_grad(int step) {
        for (int i = 0; i < 3; ++i) g->f32()[i] = std::sin(float(step + 1) * float(i + 1));
    }
};

TEST(Optim, AdamWMatchesReference) {
    Fixture f;
    OptimizerConfig c;
    c.kind = OptimizerKind::AdamW;
    c.lr = 0.01f;
    c.weight_decay = 0.1f;
    Optimizer opt(c, {{f.w, f.g}});
    double w[3] = {0.5, -1.0, 2.0}, m[3] = {}, v[3] = {};
    for (int t = 1; t <= 5; ++t) {
        f.set_grad(t);
        opt.step();
        for (int i = 0; i < 3; ++i) {
            const double g = f.g->f32()[i];
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.999 * v[i] + 0.001 * g * g;
            const double mh = m[i] / (1 - std::pow(0.9, t)), vh = v[i] / (1 - std::pow(0.999, t));
            w[i] -= 0.01 * (mh / (std::sqrt(vh) + 1e-8) + 0.1 * w[i]);
            EXPECT_NEAR(f.w->f32()[i], w[i], 1e-5) << "step " << t;
        }
    }
    EXPECT_EQ(opt.steps_taken(), 5);
}

TEST(Optim, SgdMomentumMatchesReference) {
    Fixture f;
    OptimizerConfig c;
    c.kind = OptimizerKind::Sgd;
    c.lr = 0.1f;
    c.momentum = 0.9f;
    c.weight_decay = 0.01f;
    Optimizer opt(c, {{f.w, f.g}});
    double w[3] = {0.5, -1.0, 2.0}, buf[3] = {};
    for (int t = 1; t <= 5; ++t) {
        f.set_grad(t);
        opt.step();
        for (int i = 0; i < 3; ++i) {
            const double g = f.g->f32()[i] + 0.01 * w[i];
            buf[i] = 0.9 * buf[i] + g;
            w[i] -= 0.1 * buf[i];
            EXPECT_NEAR(f.w->f32()[i], w[i], 1e-5);
        }
    }
}

TEST(Optim, LearningRateSchedules) {
    Fixture f;
    OptimizerConfig c;
    c.lr = 1.0f;
    c.schedule = LrSchedule::Step;
    c.step_every = 2;
    c.gamma = 0.5f;
    Optimizer step(c, {{f.w, f.g}});
    const float expect_step[] = {1.0f, 1.0f, 0.5f, 0.5f, 0.25f};
    for (float e : expect_step) {
        EXPECT_FLOAT_EQ(step.learning_rate(), e);
        step.step();
    }
    c.schedule = LrSchedule::Cosine;
    c.total_steps = 4;
    Optimizer cosine(c, {{f.w, f.g}});
    const float expect_cos[] = {1.0f, 0.853553f, 0.5f, 0.146447f, 0.0f, 0.0f};
    for (float e : expect_cos) {
        EXPECT_NEAR(cosine.learning_rate(), e, 1e-5);
        cosine.step();
    }
}

TEST(Optim, OneCycleAndLinearSchedules) {
    Fixture f;
    OptimizerConfig c;
    c.lr = 1.0f;
    c.total_steps = 10;
    c.warmup_steps = 4;
    c.schedule = LrSchedule::OneCycle;  // lr/25 up to lr (half a cosine), then down to lr/25/1e4
    Optimizer one(c, {{f.w, f.g}});
    const float expect_one[] = {0.04f, 0.1806f, 0.52f, 0.8594f, 1.0f, 0.9330f, 0.75f, 0.5f, 0.25f, 0.0670f, 4e-6f};
    for (float e : expect_one) {
        EXPECT_NEAR(one.learning_rate(), e, 1e-4);
        one.step();
    }
    c.schedule = LrSchedule::Linear;  // 0 up to lr, then down to 0
    Optimizer lin(c, {{f.w, f.g}});
    const float expect_lin[] = {0.0f, 0.25f, 0.5f, 0.75f, 1.0f, 5.0f / 6, 4.0f / 6, 0.5f, 2.0f / 6, 1.0f / 6, 0.0f};
    for (float e : expect_lin) {
        EXPECT_NEAR(lin.learning_rate(), e, 1e-5);
        lin.step();
    }
}

TEST(Optim, ParsesNames) {
    EXPECT_EQ(parse_optimizer("adam"), OptimizerKind::AdamW);
    EXPECT_EQ(parse_optimizer("sgd"), OptimizerKind::Sgd);
    EXPECT_THROW(parse_optimizer("lion"), Error);
    EXPECT_EQ(parse_schedule("cosine"), LrSchedule::Cosine);
    EXPECT_THROW(parse_schedule("warm"), Error);
}

}  // namespace
}  // namespace mn
