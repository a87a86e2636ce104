#pragma once
// A loaded model: its architecture name, hyperparameters (GGUF metadata under "<arch>.*"),
// and named parameter tensors. Weights read from GGUF point straight into the file's memory
// map; weights read from other formats (or trained) live in the model's own arena.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/context.h"
#include "io/gguf.h"

namespace mn {

struct Model {
    std::string arch;           // "mnist-fc", "mnist-cnn"
    std::string source_format;  // where it came from: "gguf", "legacy ggml", "pytorch state_dict"
    std::vector<gguf::KeyValue> metadata;  // everything but the tensors, in file order
    // Every tensor, in file order: trained parameters (kFlagParam) and state (kFlagState).
    std::vector<Tensor*> params;

    std::unique_ptr<Context> ctx;       // owns the tensors (and their data, unless mapped)
    std::shared_ptr<const void> backing;  // keeps a memory map alive while tensors point into it

    Tensor* get(const std::string& name) const;        // throws "model has no tensor 'x'"
    Tensor* find(const std::string& name) const;       // nullptr if absent
    const gguf::Value* meta(const std::string& key) const;
    int64_t meta_int(const std::string& key, int64_t fallback) const;
    void set_meta(const std::string& key, gguf::Value value);
    int64_t n_params() const;  // total number of parameters (elements)
};

// What an architecture expects of one tensor of the model.
struct ParamSpec {
    std::string name;
    int n_dims;
    int64_t ne[kMaxDims];
    int64_t fan_in;  // inputs feeding each output unit: sets the scale of the initial weights
    // A constant initial value instead (batch norm's scale 1, shift 0, running mean 0, variance 1).
    std::optional<float> initial = std::nullopt;
    bool state = false;  // not trained (kFlagState): updated by the ops that read it, no gradient
};

// What a forward pass needs beyond the weights.
struct ForwardOptions {
    bool training = false;
    Tensor* dropout_seed = nullptr;  // i32 [2], set per step (training only)
};

// How a network trains when `mnist train` is given no options: its published recipe.
struct TrainRecipe {
    int64_t epochs = 10, batch = 128;
    double lr = 1e-3, val_split = 0.1;
    int augment_shift = 0;            // random shifts of up to this many pixels
    std::string optimizer = "adam";   // engine/optim.h names
    std::string schedule = "none";
    double warmup = 0.0;              // share of the steps that warm the rate up (onecycle, linear)
    double label_smoothing = 0.0;
};

// One network family. Graph builders read like the math; everything else is data. What is
// known about the network — its tensors, presets, recipe, and how a PyTorch state_dict of it
// names things — lives in its Architecture, nowhere else.
class Architecture {
public:
    virtual ~Architecture() = default;
    virtual std::string name() const = 0;
    // Parameters the model needs, given its hyperparameters.
    virtual std::vector<ParamSpec> param_specs(const Model& m) const = 0;
    // Fills hyperparameters missing from `m.metadata` from the shapes of its tensors (for
    // formats that carry no metadata, like the legacy .bin or a PyTorch state_dict).
    virtual void infer_hparams(Model& m) const = 0;
    // Hyperparameters of a named preset ("" = the default), as metadata key/values.
    virtual std::vector<gguf::KeyValue> preset(const std::string& name) const = 0;
    // Logits [n_classes, B] of images [n_pixels, B] (f32 in [0, 1]).
    virtual Tensor* logits(Context& ctx, const Model& m, Tensor* images, const ForwardOptions& opt = {}) const = 0;
    virtual int64_t n_classes(const Model& m) const = 0;
    virtual int64_t n_pixels(const Model& m) const = 0;
    // The default training recipe of a preset.
    virtual TrainRecipe recipe(const std::string& preset) const = 0;
    // Whether a PyTorch state_dict with these tensor names holds this network.
    virtual bool is_state_dict_of(const std::vector<std::string>& names) const = 0;
    // A state_dict tensor's name in our files, with its sizes (innermost first) adjusted where
    // our layout differs; "" to leave the tensor out (PyTorch's bookkeeping).
    virtual std::string from_pytorch(const std::string& name, std::vector<int64_t>& ne) const {
        (void)ne;
        return name;
    }
};

const Architecture& find_architecture(const std::string& name);  // throws for unknown names
std::vector<std::string> architecture_names();

// A new model with PyTorch's default initialisation (uniform in ±1/sqrt(fan_in)), seeded.
Model create_model(const std::string& arch, const std::string& preset, uint64_t seed);
// The same with any hyperparameters (e.g. a tiny network for a test), missing ones defaulted.
Model create_model(const std::string& arch, std::vector<gguf::KeyValue> hparams, uint64_t seed);
// Copies parameters that point into a read-only file map into the model's own arena, so an
// optimizer can update them.
void make_trainable(Model& m);

// Checks m.params against the architecture's specs: every tensor present, right shape, a
// supported type, finite values, no extra tensors (throws Error naming the first problem); then
// marks each tensor a trained parameter (kFlagParam) or state (kFlagState), as its spec says.
void validate_model(Model& m);

}  // namespace mn
