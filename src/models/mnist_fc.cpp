// mnist-fc: the seeds' fully connected network,  logits = W2 · relu(W1 · x + b1) + b2.
#include "engine/error.h"
#include "engine/ops.h"
#include "models/model.h"
#include "models/registry.h"

namespace mn {

namespace {

class MnistFc : public Architecture {
public:
    std::string name() const override { return "mnist-fc"; }

    std::vector<ParamSpec> param_specs(const Model& m) const override {
        const int64_t n_in = m.meta_int("mnist-fc.n_input", 784);
        const int64_t n_hidden = m.meta_int("mnist-fc.n_hidden", 500);
        const int64_t n_out = m.meta_int("mnist-fc.n_classes", 10);
        return {
            {"fc1.weight", 2, {n_in, n_hidden, 1, 1}, n_in},
            {"fc1.bias", 1, {n_hidden, 1, 1, 1}, n_in},
            {"fc2.weight", 2, {n_hidden, n_out, 1, 1}, n_hidden},
            {"fc2.bias", 1, {n_out, 1, 1, 1}, n_hidden},
        };
    }

    void infer_hparams(Model& m) const override {
        if (const Tensor* w1 = m.find("fc1.weight")) {
            if (!m.meta("mnist-fc.n_input")) m.set_meta("mnist-fc.n_input", gguf::Value::u32(uint32_t(w1->ne[0])));
            if (!m.meta("mnist-fc.n_hidden")) m.set_meta("mnist-fc.n_hidden", gguf::Value::u32(uint32_t(w1->ne[1])));
        }
        if (const Tensor* w2 = m.find("fc2.weight"))
            if (!m.meta("mnist-fc.n_classes")) m.set_meta("mnist-fc.n_classes", gguf::Value::u32(uint32_t(w2->ne[1])));
    }

    std::vector<gguf::KeyValue> preset(const std::string& name) const override {
        check(name.empty() || name == "seeds", "mnist-fc has one preset, 'seeds' (784-500-10)");
        return {{"mnist-fc.n_input", gguf::Value::u32(784)},
                {"mnist-fc.n_hidden", gguf::Value::u32(500)},
                {"mnist-fc.n_classes", gguf::Value::u32(10)}};
    }

    Tensor* logits(Context& ctx, const Model& m, Tensor* x, const ForwardOptions&) const override {
        Tensor* h = relu(ctx, add(ctx, mul_mat(ctx, m.get("fc1.weight"), x), m.get("fc1.bias")));
        return add(ctx, mul_mat(ctx, m.get("fc2.weight"), h), m.get("fc2.bias"));
    }

    int64_t n_classes(const Model& m) const override { return m.meta_int("mnist-fc.n_classes", 10); }
    int64_t n_pixels(const Model& m) const override { return m.meta_int("mnist-fc.n_input", 784); }

    // The seeds': Adam 1e-3, batch 1000, 30 epochs.
    TrainRecipe recipe(const std::string&) const override {
        TrainRecipe r;
        r.epochs = 30;
        r.batch = 1000;
        r.val_split = 0.05;
        return r;
    }

    // PyTorch's nn.Linear layers fc1, fc2: the same names and, in ggml's order, the same layout.
    bool is_state_dict_of(const std::vector<std::string>& names) const override {
        for (const std::string& n : names)
            if (n == "fc1.weight") return true;
        return false;
    }
};

}  // namespace

const Architecture& mnist_fc_architecture() {
    static const MnistFc arch;
    return arch;
}

}  // namespace mn
