#include "models/model.h"

#include <cmath>

#include "engine/error.h"

namespace mn {

Tensor* Model::find(const std::string& name) const {
    for (Tensor* t : params)
        if (name == t->name) return t;
    return nullptr;
}

Tensor* Model::get(const std::string& name) const {
    Tensor* t = find(name);
    check(t != nullptr, "model has no tensor '" + name + "'");
    return t;
}

const gguf::Value* Model::meta(const std::string& key) const {
    for (const auto& [k, v] : metadata)
        if (k == key) return &v;
    return nullptr;
}

int64_t Model::meta_int(const std::string& key, int64_t fallback) const {
    const gguf::Value* v = meta(key);
    return v ? v->as_int() : fallback;
}

void Model::set_meta(const std::string& key, gguf::Value value) {
    for (auto& [k, v] : metadata)
        if (k == key) {
            v = std::move(value);
            return;
        }
    metadata.emplace_back(key, std::move(value));
}

int64_t Model::n_params() const {
    int64_t n = 0;
    for (const Tensor* t : params) n += t->nelements();
    return n;
}

void validate_model(Model& m) {
    const Architecture& arch = find_architecture(m.arch);
    const std::vector<ParamSpec> specs = arch.param_specs(m);
    for (const ParamSpec& spec : specs) {
        const Tensor* t = m.find(spec.name);
        check(t != nullptr, "missing tensor '" + spec.name + "' for architecture " + m.arch);
        Tensor expect;
        for (int i = 0; i < spec.n_dims; ++i) expect.ne[i] = spec.ne[i];
        check(t->same_shape(expect), "tensor '" + spec.name + "' has shape " + t->shape_string() + ", expected " +
                                         expect.shape_string());
        check(t->type == DType::F32, "tensor '" + spec.name + "' has type " + std::string(dtype_name(t->type)) +
                                         ", which " + m.arch + " cannot use yet");
    }
    for (const Tensor* t : m.params) {
        if (t->type == DType::F32)
            for (int64_t i = 0; i < t->nelements(); ++i)
                if (!std::isfinite(t->f32()[i]))
                    throw Error("tensor '" + std::string(t->name) + "' contains NaN or infinite values");
        bool known = false;
        for (const ParamSpec& spec : specs) known = known || spec.name == t->name;
        check(known, "unexpected tensor '" + std::string(t->name) + "' for architecture " + m.arch);
    }
    for (const ParamSpec& spec : specs) {
        Tensor* t = m.find(spec.name);
        t->flags = (t->flags & ~(kFlagParam | kFlagState)) | (spec.state ? kFlagState : kFlagParam);
    }
}

}  // namespace mn
