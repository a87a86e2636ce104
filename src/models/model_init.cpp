// New models (random initialisation) and trainable copies of loaded ones.
#include <algorithm>
#include <cstring>
#include <random>

#include "engine/error.h"
#include "models/model.h"

namespace mn {

Model create_model(const std::string& arch_name, const std::string& preset, uint64_t seed) {
    return create_model(arch_name, find_architecture(arch_name).preset(preset), seed);
}

Model create_model(const std::string& arch_name, std::vector<gguf::KeyValue> hparams, uint64_t seed) {
    const Architecture& arch = find_architecture(arch_name);
    Model m;
    m.arch = arch_name;
    m.source_format = "new";
    m.metadata = std::move(hparams);
    const std::vector<ParamSpec> specs = arch.param_specs(m);
    size_t bytes = 0;
    for (const ParamSpec& s : specs) bytes += Context::tensor_arena_bytes(DType::F32, s.n_dims, s.ne);
    m.ctx = std::make_unique<Context>(bytes);
    // PyTorch's default for Linear and Conv2d: weights and biases uniform in ±1/sqrt(fan_in).
    std::mt19937_64 rng(seed);
    for (const ParamSpec& s : specs) {
        Tensor* t = m.ctx->new_tensor(DType::F32, s.n_dims, s.ne);
        t->set_name(s.name);
        t->flags |= s.state ? kFlagState : kFlagParam;
        m.params.push_back(t);
        if (s.initial) {
            std::fill(t->f32(), t->f32() + t->nelements(), *s.initial);
            continue;
        }
        const double bound = 1.0 / std::sqrt(double(s.fan_in));
        std::uniform_real_distribution<double> u(-bound, bound);
        for (int64_t i = 0; i < t->nelements(); ++i) t->f32()[i] = static_cast<float>(u(rng));
    }
    return m;
}

void make_trainable(Model& m) {
    size_t bytes = 0;
    for (const Tensor* t : m.params) {
        check(t->type == DType::F32, "only f32 models can be trained; '" + std::string(t->name) + "' is " +
                                         std::string(dtype_name(t->type)));
        bytes += Context::tensor_arena_bytes(t->type, t->n_dims(), t->ne);
    }
    auto ctx = std::make_unique<Context>(bytes);
    for (Tensor*& t : m.params) {
        Tensor* copy = ctx->new_tensor(t->type, kMaxDims, t->ne);
        std::memcpy(copy->data, t->data, t->nbytes());
        copy->set_name(t->name);
        copy->flags = t->flags;
        t = copy;
    }
    m.ctx = std::move(ctx);
    m.backing.reset();
}

}  // namespace mn
