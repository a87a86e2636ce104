#include "models/model_io.h"

#include <cstdio>
#include <cstring>

#include "engine/error.h"
#include "io/legacy_ggml.h"
#include "io/torch_state_dict.h"

namespace mn {

namespace {

enum class Format { Gguf, Legacy, Torch };

Format detect_format(const std::string& path) {
    uint8_t head[4] = {};
    FILE* f = std::fopen(path.c_str(), "rb");
    check(f != nullptr, std::string("cannot open: ") + std::strerror(errno));
    const size_t n = std::fread(head, 1, 4, f);
    std::fclose(f);
    check(n == 4, "file is too short to be a model");
    if (std::memcmp(head, "GGUF", 4) == 0) return Format::Gguf;
    if (is_legacy_ggml(head, 4)) return Format::Legacy;
    if (looks_like_zip(head, 4)) return Format::Torch;
    throw Error("not a model file: expected GGUF, a legacy ggml .bin or a PyTorch state_dict");
}

// A tensor in the model's arena holding a copy of `values`.
Tensor* add_copied(Model& m, const std::string& name, int n_dims, const int64_t* ne, const float* values) {
    Tensor* t = m.ctx->new_tensor(DType::F32, n_dims, ne);
    std::memcpy(t->data, values, t->nbytes());
    t->set_name(name);
    t->flags |= kFlagParam;
    m.params.push_back(t);
    return t;
}

}  // namespace

Model model_from_gguf(const std::shared_ptr<const gguf::File>& file, const std::string& skip_prefix) {
    Model m;
    m.source_format = "gguf";
    m.arch = file->get_string("general.architecture");
    for (const auto& kv : file->kv())
        if (kv.first != "general.architecture" && kv.first != "general.alignment") m.metadata.push_back(kv);
    m.ctx = std::make_unique<Context>();
    for (const gguf::TensorInfo& info : file->tensors()) {
        if (!skip_prefix.empty() && info.name.rfind(skip_prefix, 0) == 0) continue;
        Tensor* t = m.ctx->new_tensor(info.type, info.n_dims, info.ne);
        t->data = const_cast<uint8_t*>(info.data);  // read-only map; weights are never written in place
        t->set_name(info.name);
        t->flags |= kFlagParam;
        m.params.push_back(t);
    }
    m.backing = file;
    return m;
}

namespace {

// A checkpoint is a model plus optimizer state: it evaluates like the model it holds.
Model load_gguf(const std::string& path) {
    return model_from_gguf(std::make_shared<gguf::File>(gguf::File::open(path)), "optimizer.");
}

Model load_legacy(const std::string& path) {
    const std::vector<LegacyTensor> tensors = read_legacy_ggml(path);
    static const char* kNames[] = {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
    check(tensors.size() == 4, "a legacy ggml file holds the 4 tensors of mnist-fc; this one has " +
                                   std::to_string(tensors.size()));
    Model m;
    m.source_format = "legacy ggml";
    m.arch = "mnist-fc";
    size_t bytes = 0;
    for (const LegacyTensor& t : tensors) bytes += Context::tensor_arena_bytes(DType::F32, t.n_dims, t.ne);
    m.ctx = std::make_unique<Context>(bytes);
    for (size_t i = 0; i < tensors.size(); ++i)
        add_copied(m, kNames[i], tensors[i].n_dims, tensors[i].ne, tensors[i].data.data());
    return m;
}

// Which of our architectures a state_dict's tensor names belong to.
std::string arch_of_state_dict(const std::vector<NamedArray>& arrays) {
    for (const NamedArray& a : arrays) {
        if (a.name == "fc1.weight") return "mnist-fc";
        if (a.name == "conv1.kernel" || a.name == "conv1.weight") return "mnist-cnn";
    }
    throw Error("state_dict does not look like a known network (no 'fc1.weight' or 'conv1.weight')");
}

Model load_torch(const std::string& path) {
    const std::vector<NamedArray> arrays = read_torch_state_dict(path);
    Model m;
    m.source_format = "pytorch state_dict";
    m.arch = arch_of_state_dict(arrays);
    size_t bytes = 0;
    std::vector<std::vector<int64_t>> dims;
    for (const NamedArray& a : arrays) {
        check(!a.shape.empty() && a.shape.size() <= kMaxDims,
              "tensor '" + a.name + "' has " + std::to_string(a.shape.size()) + " dimensions (1 to 4 supported)");
        // PyTorch lists sizes outermost first; ggml's ne[] innermost first. The bytes agree.
        dims.emplace_back(a.shape.rbegin(), a.shape.rend());
        bytes += Context::tensor_arena_bytes(DType::F32, int(dims.back().size()), dims.back().data());
    }
    m.ctx = std::make_unique<Context>(bytes);
    for (size_t i = 0; i < arrays.size(); ++i) {
        std::string name = arrays[i].name;
        std::vector<int64_t>& ne = dims[i];
        // tools/train_cnn.py names layers as we do, but PyTorch calls a kernel "weight" and keeps
        // a conv bias 1-D; our files follow ggml: convN.kernel and a [1, 1, C] bias.
        if (m.arch == "mnist-cnn" && name.rfind("conv", 0) == 0) {
            if (name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0)
                name = name.substr(0, name.size() - 7) + ".kernel";
            if (name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0 && ne.size() == 1)
                ne = {1, 1, ne[0]};
        }
        add_copied(m, name, int(ne.size()), ne.data(), arrays[i].data.data());
    }
    return m;
}

int spec_dims(const Model& m, const Tensor* t) {
    for (const ParamSpec& s : find_architecture(m.arch).param_specs(m))
        if (s.name == t->name) return s.n_dims;
    return t->n_dims();
}

}  // namespace

Model load_model(const std::string& path) {
    Model m;
    switch (detect_format(path)) {
        case Format::Gguf: m = load_gguf(path); break;
        case Format::Legacy: m = load_legacy(path); break;
        case Format::Torch: m = load_torch(path); break;
    }
    find_architecture(m.arch).infer_hparams(m);
    validate_model(m);
    return m;
}

void save_model_gguf(const Model& m, const std::string& path) {
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::str(m.arch));
    for (const auto& [key, value] : m.metadata) w.set(key, value);
    for (const Tensor* t : m.params) w.add_tensor(t->name, t->type, spec_dims(m, t), t->ne, t->data);
    w.write(path);
}

void save_model_legacy(const Model& m, const std::string& path) {
    check(m.arch == "mnist-fc", "the legacy ggml format only holds mnist-fc models, not " + m.arch);
    std::vector<LegacyTensor> out;
    for (const char* name : {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}) {
        const Tensor* t = m.get(name);
        check(t->type == DType::F32, "the legacy ggml format holds f32 tensors only");
        LegacyTensor lt;
        lt.n_dims = spec_dims(m, t);
        for (int i = 0; i < kMaxDims; ++i) lt.ne[i] = t->ne[i];
        lt.data.assign(t->f32(), t->f32() + t->nelements());
        out.push_back(std::move(lt));
    }
    write_legacy_ggml(path, out);
}

void save_model(const Model& m, const std::string& path) {
    const bool legacy = path.size() >= 4 && path.compare(path.size() - 4, 4, ".bin") == 0;
    if (legacy)
        save_model_legacy(m, path);
    else
        save_model_gguf(m, path);
}

}  // namespace mn
