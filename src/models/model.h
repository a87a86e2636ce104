#pragma once
// A loaded model: its architecture name, hyperparameters (GGUF metadata under "<arch>.*"),
// and named parameter tensors. Weights read from GGUF point straight into the file's memory
// map; weights read from other formats (or trained) live in the model's own arena.
#include <memory>
#include <string>
#include <vector>

#include "engine/context.h"
#include "io/gguf.h"

namespace mn {

struct Model {
    std::string arch;           // "mnist-fc", "mnist-cnn"
    std::string source_format;  // where it came from: "gguf", "legacy ggml", "pytorch state_dict"
    std::vector<gguf::KeyValue> metadata;  // everything but the tensors, in file order
    std::vector<Tensor*> params;           // in file order

    std::unique_ptr<Context> ctx;       // owns the tensors (and their data, unless mapped)
    std::shared_ptr<const void> backing;  // keeps a memory map alive while tensors point into it

    Tensor* get(const std::string& name) const;        // throws "model has no tensor 'x'"
    Tensor* find(const std::string& name) const;       // nullptr if absent
    const gguf::Value* meta(const std::string& key) const;
    int64_t meta_int(const std::string& key, int64_t fallback) const;
    void set_meta(const std::string& key, gguf::Value value);
    int64_t n_params() const;  // total number of parameters (elements)
};

// What an architecture expects of one parameter tensor.
struct ParamSpec {
    std::string name;
    int n_dims;
    int64_t ne[kMaxDims];
    int64_t fan_in;  // inputs feeding each output unit: sets the scale of the initial weights
};

// What a forward pass needs beyond the weights.
struct ForwardOptions {
    bool training = false;
    Tensor* dropout_seed = nullptr;  // i32 [2], set per step (training only)
};

// One network family. Graph builders read like the math; everything else is data.
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
// supported type, no extra tensors. Throws Error naming the first problem.
void validate_model(const Model& m);

}  // namespace mn
