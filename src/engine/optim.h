#pragma once
// Optimizers that update parameters from the gradients autodiff computed: SGD with momentum and
// AdamW, with an optional learning-rate schedule. State (moments, step count) is plain data so a
// checkpoint can save and restore it exactly.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace mn {

class Executor;

enum class OptimizerKind { Sgd, AdamW };
enum class LrSchedule { Constant, Step, Cosine, OneCycle, Linear };

struct OptimizerConfig {
    OptimizerKind kind = OptimizerKind::AdamW;
    float lr = 1e-3f;
    float momentum = 0.9f;      // SGD
    float beta1 = 0.9f;         // AdamW
    float beta2 = 0.999f;
    float eps = 1e-8f;
    float weight_decay = 0.0f;  // AdamW: decoupled; SGD: added to the gradient
    LrSchedule schedule = LrSchedule::Constant;
    int64_t step_every = 1;     // Step: multiply the rate by `gamma` every this many steps
    float gamma = 0.1f;
    int64_t total_steps = 1;    // Cosine, OneCycle, Linear: the rate falls to (about) 0 over this many steps
    // OneCycle: from lr / 25 up to lr over the first warmup_steps (half a cosine), then down to
    // lr / 250000 (another); Linear: from 0 up to lr, then down to 0, in straight lines.
    int64_t warmup_steps = 0;
};

OptimizerKind parse_optimizer(const std::string& name);  // "sgd" | "adamw" | "adam" (= adamw, no decay)
const char* optimizer_name(OptimizerKind kind);
LrSchedule parse_schedule(const std::string& name);  // "none" | "step" | "cosine" | "onecycle" | "linear"
const char* schedule_name(LrSchedule s);

class Optimizer {
public:
    struct Slot {
        Tensor* param;
        const Tensor* grad;
        std::vector<float> m, v;  // AdamW moments; SGD keeps its momentum buffer in m
    };

    Optimizer(const OptimizerConfig& config, std::vector<std::pair<Tensor*, const Tensor*>> params_and_grads);

    // One update of every parameter from its current gradient.
    // One update of every parameter; with an executor, its threads share the elements (the
    // result is the same: every element's update is independent of the others).
    void step(Executor* executor = nullptr);
    float learning_rate() const { return learning_rate_at(t_); }  // the rate the next step will use
    float learning_rate_at(int64_t step) const;  // the rate of step `step` (0 = the first)
    int64_t steps_taken() const { return t_; }
    void set_steps_taken(int64_t t) { t_ = t; }
    std::vector<Slot>& slots() { return slots_; }
    const OptimizerConfig& config() const { return config_; }

private:
    OptimizerConfig config_;
    std::vector<Slot> slots_;
    int64_t t_ = 0;
};

}  // namespace mn
