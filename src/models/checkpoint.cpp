#include "models/checkpoint.h"

#include <cstring>

#include "engine/error.h"
#include "models/model_io.h"

namespace mn {

namespace {
constexpr const char* kMoment1 = "optimizer.m.";
constexpr const char* kMoment2 = "optimizer.v.";
constexpr const char* kOptimizerPrefix = "optimizer.";
}  // namespace

void set_training_metadata(Model& m, const TrainConfig& c, const std::string& data_name) {
    m.set_meta("training.optimizer", gguf::Value::str(optimizer_name(c.optimizer.kind)));
    m.set_meta("training.learning_rate", gguf::Value::f32(c.optimizer.lr));
    m.set_meta("training.weight_decay", gguf::Value::f32(c.optimizer.weight_decay));
    m.set_meta("training.momentum", gguf::Value::f32(c.optimizer.momentum));
    m.set_meta("training.beta1", gguf::Value::f32(c.optimizer.beta1));
    m.set_meta("training.beta2", gguf::Value::f32(c.optimizer.beta2));
    m.set_meta("training.eps", gguf::Value::f32(c.optimizer.eps));
    m.set_meta("training.schedule", gguf::Value::str(schedule_name(c.optimizer.schedule)));
    m.set_meta("training.schedule_gamma", gguf::Value::f32(c.optimizer.gamma));
    m.set_meta("training.schedule_step_every", gguf::Value::i64(c.optimizer.step_every));
    m.set_meta("training.schedule_total_steps", gguf::Value::i64(c.optimizer.total_steps));
    m.set_meta("training.epochs", gguf::Value::i64(c.epochs));
    m.set_meta("training.batch_size", gguf::Value::i64(c.batch));
    m.set_meta("training.val_split", gguf::Value::f64(c.val_split));
    m.set_meta("training.seed", gguf::Value::u64(c.seed));
    m.set_meta("training.augment_shift", gguf::Value::i32(c.augment_shift));
    m.set_meta("training.label_smoothing", gguf::Value::f64(c.label_smoothing));
    m.set_meta("training.schedule_warmup_steps", gguf::Value::i64(c.optimizer.warmup_steps));
    m.set_meta("training.data", gguf::Value::str(data_name));
}

TrainConfig training_config_of(const Model& m, const TrainConfig& fallback) {
    TrainConfig c = fallback;
    if (const auto* v = m.meta("training.optimizer")) c.optimizer.kind = parse_optimizer(v->as_string());
    if (const auto* v = m.meta("training.learning_rate")) c.optimizer.lr = static_cast<float>(v->as_float());
    if (const auto* v = m.meta("training.weight_decay")) c.optimizer.weight_decay = static_cast<float>(v->as_float());
    if (const auto* v = m.meta("training.momentum")) c.optimizer.momentum = static_cast<float>(v->as_float());
    if (const auto* v = m.meta("training.beta1")) c.optimizer.beta1 = static_cast<float>(v->as_float());
    if (const auto* v = m.meta("training.beta2")) c.optimizer.beta2 = static_cast<float>(v->as_float());
    if (const auto* v = m.meta("training.eps")) c.optimizer.eps = static_cast<float>(v->as_float());
    if (const auto* v = m.meta("training.schedule")) c.optimizer.schedule = parse_schedule(v->as_string());
    if (const auto* v = m.meta("training.schedule_gamma")) c.optimizer.gamma = static_cast<float>(v->as_float());
    if (const auto* v = m.meta("training.schedule_step_every")) c.optimizer.step_every = v->as_int();
    if (const auto* v = m.meta("training.schedule_total_steps")) c.optimizer.total_steps = v->as_int();
    if (const auto* v = m.meta("training.epochs")) c.epochs = v->as_int();
    if (const auto* v = m.meta("training.batch_size")) c.batch = v->as_int();
    if (const auto* v = m.meta("training.val_split")) c.val_split = v->as_float();
    if (const auto* v = m.meta("training.seed")) c.seed = static_cast<uint64_t>(v->as_int());
    if (const auto* v = m.meta("training.augment_shift")) c.augment_shift = static_cast<int>(v->as_int());
    if (const auto* v = m.meta("training.label_smoothing")) c.label_smoothing = v->as_float();
    if (const auto* v = m.meta("training.schedule_warmup_steps")) c.optimizer.warmup_steps = v->as_int();
    return c;
}

void save_checkpoint(const std::string& path, const Model& m, Optimizer& opt, const TrainPosition& pos) {
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::str(m.arch));
    for (const auto& [key, value] : m.metadata)
        if (key.rfind("checkpoint.", 0) != 0) w.set(key, value);
    w.set("checkpoint.epoch", gguf::Value::i64(pos.epoch));
    w.set("checkpoint.batch_in_epoch", gguf::Value::i64(pos.batch_in_epoch));
    w.set("checkpoint.steps", gguf::Value::i64(opt.steps_taken()));
    const std::vector<ParamSpec> specs = find_architecture(m.arch).param_specs(m);
    for (const Tensor* t : m.params) {
        int n_dims = t->n_dims();
        for (const ParamSpec& s : specs)
            if (s.name == t->name) n_dims = s.n_dims;
        w.add_tensor(t->name, t->type, n_dims, t->ne, t->data);
    }
    for (const Optimizer::Slot& s : opt.slots()) {
        const Tensor* p = s.param;
        const int64_t ne[1] = {p->nelements()};
        w.add_tensor(kMoment1 + std::string(p->name), DType::F32, 1, ne, s.m.data());
        if (!s.v.empty()) w.add_tensor(kMoment2 + std::string(p->name), DType::F32, 1, ne, s.v.data());
    }
    w.write(path);
}

Checkpoint load_checkpoint(const std::string& path) {
    Checkpoint ck;
    ck.file = std::make_shared<gguf::File>(gguf::File::open(path));
    check(ck.file->find("checkpoint.epoch") != nullptr, "not a training checkpoint (no checkpoint.epoch)");
    ck.model = model_from_gguf(ck.file, kOptimizerPrefix);
    std::erase_if(ck.model.metadata, [](const gguf::KeyValue& kv) { return kv.first.rfind("checkpoint.", 0) == 0; });
    find_architecture(ck.model.arch).infer_hparams(ck.model);
    validate_model(ck.model);
    make_trainable(ck.model);
    ck.position.epoch = ck.file->get_int("checkpoint.epoch");
    ck.position.batch_in_epoch = ck.file->get_int("checkpoint.batch_in_epoch");
    ck.steps = ck.file->get_int("checkpoint.steps");
    check(ck.position.epoch >= 0 && ck.position.batch_in_epoch >= 0 && ck.steps >= 0, "negative checkpoint position");
    return ck;
}

void restore_optimizer(Optimizer& opt, const Checkpoint& ck) {
    for (Optimizer::Slot& s : opt.slots()) {
        const std::string name = s.param->name;
        auto restore = [&](const char* prefix, std::vector<float>& dst) {
            const gguf::TensorInfo* t = ck.file->find_tensor(prefix + name);
            check(t != nullptr, "checkpoint lacks optimizer state '" + std::string(prefix) + name + "'");
            check(t->type == DType::F32 && t->n_elements() == static_cast<int64_t>(dst.size()),
                  "optimizer state '" + std::string(prefix) + name + "' has the wrong size");
            std::memcpy(dst.data(), t->data, dst.size() * sizeof(float));
        };
        restore(kMoment1, s.m);
        if (!s.v.empty()) restore(kMoment2, s.v);
    }
    opt.set_steps_taken(ck.steps);
}

}  // namespace mn
