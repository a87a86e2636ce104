#include "engine/optim.h"

#include <cmath>

#include "engine/error.h"
#include "engine/executor.h"

namespace mn {

OptimizerKind parse_optimizer(const std::string& name) {
    if (name == "sgd") return OptimizerKind::Sgd;
    if (name == "adamw" || name == "adam") return OptimizerKind::AdamW;
    throw Error("unknown optimizer '" + printable(name) + "' (expected sgd, adam or adamw)");
}

const char* optimizer_name(OptimizerKind kind) { return kind == OptimizerKind::Sgd ? "sgd" : "adamw"; }

LrSchedule parse_schedule(const std::string& name) {
    if (name == "none" || name == "constant") return LrSchedule::Constant;
    if (name == "step") return LrSchedule::Step;
    if (name == "cosine") return LrSchedule::Cosine;
    if (name == "onecycle") return LrSchedule::OneCycle;
    if (name == "linear") return LrSchedule::Linear;
    throw Error("unknown learning-rate schedule '" + printable(name) + "' (expected none, step, cosine, onecycle or linear)");
}

const char* schedule_name(LrSchedule s) {
    switch (s) {
        case LrSchedule::Constant: return "none";
        case LrSchedule::Step: return "step";
        case LrSchedule::Cosine: return "cosine";
        case LrSchedule::OneCycle: return "onecycle";
        case LrSchedule::Linear: return "linear";
    }
    return "?";
}

Optimizer::Optimizer(const OptimizerConfig& config, std::vector<std::pair<Tensor*, const Tensor*>> pg)
    : config_(config) {
    for (auto& [param, grad] : pg) {
        check(param->type == DType::F32 && param->is_contiguous(), "optimizer: parameters must be contiguous f32");
        check(grad->same_shape(*param), std::string("optimizer: gradient shape differs for ") + param->name);
        Slot s{param, grad, std::vector<float>(static_cast<size_t>(param->nelements()), 0.0f), {}};
        if (config.kind == OptimizerKind::AdamW) s.v.assign(s.m.size(), 0.0f);
        slots_.push_back(std::move(s));
    }
}

float Optimizer::learning_rate_at(int64_t t) const {
    switch (config_.schedule) {
        case LrSchedule::Constant: return config_.lr;
        case LrSchedule::Step:
            return config_.lr * std::pow(config_.gamma, static_cast<float>(t / std::max<int64_t>(1, config_.step_every)));
        case LrSchedule::Cosine: {
            const double frac = std::min(1.0, double(t) / double(std::max<int64_t>(1, config_.total_steps)));
            return static_cast<float>(config_.lr * 0.5 * (1.0 + std::cos(M_PI * frac)));
        }
        case LrSchedule::OneCycle:
        case LrSchedule::Linear: {
            // Up over the warm-up, then down over the rest: `frac` of the way through each phase.
            const int64_t up = std::max<int64_t>(1, config_.warmup_steps);
            const int64_t down = std::max<int64_t>(1, config_.total_steps - up);
            const bool rising = t < up;
            const double frac = std::min(1.0, rising ? double(t) / double(up) : double(t - up) / double(down));
            if (config_.schedule == LrSchedule::Linear) return static_cast<float>(config_.lr * (rising ? frac : 1.0 - frac));
            const double low = rising ? config_.lr / 25.0 : config_.lr / 25.0 / 1e4;  // PyTorch's OneCycleLR
            const double cos_in = 0.5 * (1.0 - std::cos(M_PI * frac));                  // 0 -> 1
            return static_cast<float>(rising ? low + (config_.lr - low) * cos_in : config_.lr - (config_.lr - low) * cos_in);
        }
    }
    return config_.lr;
}

void Optimizer::step(Executor* executor) {
    const float lr = learning_rate();
    ++t_;
    const OptimizerConfig& c = config_;
    // AdamW (Loshchilov & Hutter): bias-corrected moments, weight decay applied to the weights.
    const float bc1 = 1.0f - std::pow(c.beta1, static_cast<float>(t_));
    const float bc2 = 1.0f - std::pow(c.beta2, static_cast<float>(t_));
    const float step_size = lr / bc1;
    const float inv_sqrt_bc2 = 1.0f / std::sqrt(bc2);
    for (Slot& s : slots_) {
        float* w = s.param->f32();
        const float* g = s.grad->f32();
        float* m = s.m.data();
        float* v = s.v.data();
        auto update = [&](int64_t begin, int64_t end) {
            if (c.kind == OptimizerKind::Sgd) {
                for (int64_t i = begin; i < end; ++i) {
                    const float grad = g[i] + c.weight_decay * w[i];
                    m[i] = c.momentum * m[i] + grad;
                    w[i] -= lr * m[i];
                }
                return;
            }
            for (int64_t i = begin; i < end; ++i) {
                m[i] = c.beta1 * m[i] + (1.0f - c.beta1) * g[i];
                v[i] = c.beta2 * v[i] + (1.0f - c.beta2) * g[i] * g[i];
                const float denom = std::sqrt(v[i]) * inv_sqrt_bc2 + c.eps;
                w[i] -= lr * c.weight_decay * w[i] + step_size * m[i] / denom;
            }
        };
        const int64_t n = static_cast<int64_t>(s.m.size());
        if (executor && n >= 4096)
            executor->parallel_for(n, 1024, update);
        else
            update(0, n);
    }
}

}  // namespace mn
