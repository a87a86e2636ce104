#include "models/model_io.h"

#include <cstring>
#include <utility>

#include "engine/error.h"
#include "io/legacy_ggml.h"
#include "io/mapped_file.h"
#include "io/torch_state_dict.h"

namespace mn {

namespace {

enum class Format { Gguf, Legacy, Torch };

Format detect_format(const uint8_t* data, size_t size) {
    check(size >= 4, "file is too short to be a model");
    if (std::memcmp(data, "GGUF", 4) == 0) return Format::Gguf;
    if (is_legacy_ggml(data, size)) return Format::Legacy;
    if (looks_like_zip(data, size)) return Format::Torch;
    throw Error("not a model file: expected GGUF, a legacy ggml .bin or a PyTorch state_dict");
}

// A tensor in the model's arena holding a copy of `values`.
Tensor* add_copied(Model& m, const std::string& name, int n_dims, const int64_t* ne, const float* values) {
    Tensor* t = m.ctx->new_tensor(DType::F32, n_dims, ne);
    std::memcpy(t->data, values, t->nbytes());
    t->set_name(name);
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
    // Tensors whose data is not 8-byte aligned in memory (a file may ask for an alignment of 1 or
    // 2, or a caller pass bytes at any address) are copied: the kernels load floats from it.
    auto copies = std::make_shared<std::vector<std::vector<uint64_t>>>();
    for (const gguf::TensorInfo& info : file->tensors()) {
        if (!skip_prefix.empty() && info.name.rfind(skip_prefix, 0) == 0) continue;
        Tensor* t = m.ctx->new_tensor(info.type, info.n_dims, info.ne);
        t->data = const_cast<uint8_t*>(info.data);  // read-only map; weights are never written in place
        if (reinterpret_cast<uintptr_t>(info.data) % alignof(uint64_t) != 0) {
            std::vector<uint64_t>& copy = copies->emplace_back((t->nbytes() + 7) / 8);
            std::memcpy(copy.data(), info.data, t->nbytes());
            t->data = copy.data();
        }
        t->set_name(info.name);
        m.params.push_back(t);
    }
    m.backing = std::make_shared<std::pair<std::shared_ptr<const void>, std::shared_ptr<const void>>>(file, copies);
    return m;
}

namespace {

// A checkpoint is a model plus optimizer state: it evaluates like the model it holds. The
// tensors point into `bytes`, which `owner` keeps alive as long as the model.
Model load_gguf(std::span<const uint8_t> bytes, std::shared_ptr<const void> owner) {
    auto file = std::make_shared<gguf::File>(gguf::File::from_memory(bytes.data(), bytes.size()));
    Model m = model_from_gguf(file, "optimizer.");
    m.backing = std::make_shared<std::pair<std::shared_ptr<const void>, std::shared_ptr<const void>>>(std::move(owner),
                                                                                                   std::move(m.backing));
    return m;
}

Model load_legacy(std::span<const uint8_t> file) {
    const std::vector<LegacyTensor> tensors = parse_legacy_ggml(file.data(), file.size());
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
    std::vector<std::string> names;
    for (const NamedArray& a : arrays) names.push_back(a.name);
    for (const std::string& arch : architecture_names())
        if (find_architecture(arch).is_state_dict_of(names)) return arch;
    throw Error("state_dict does not look like a known network (no 'fc1.weight' or 'conv1.weight')");
}

Model load_torch(std::span<const uint8_t> file) {
    const std::vector<NamedArray> arrays = parse_torch_state_dict(file.data(), file.size());
    Model m;
    m.source_format = "pytorch state_dict";
    m.arch = arch_of_state_dict(arrays);
    const Architecture& arch = find_architecture(m.arch);
    // Our names and sizes (PyTorch lists sizes outermost first, ggml's ne[] innermost first; the
    // bytes agree), without what we do not keep.
    struct Kept {
        std::string name;
        std::vector<int64_t> ne;
        const NamedArray* array;
    };
    std::vector<Kept> kept;
    size_t bytes = 0;
    for (const NamedArray& a : arrays) {
        std::vector<int64_t> ne(a.shape.rbegin(), a.shape.rend());
        std::string name = arch.from_pytorch(a.name, ne);
        if (name.empty()) continue;
        check(!ne.empty() && ne.size() <= kMaxDims,
              "tensor '" + printable(a.name) + "' has " + std::to_string(a.shape.size()) + " dimensions (1 to 4 supported)");
        bytes += Context::tensor_arena_bytes(DType::F32, int(ne.size()), ne.data());
        kept.push_back({std::move(name), std::move(ne), &a});
    }
    m.ctx = std::make_unique<Context>(bytes);
    for (const Kept& k : kept) add_copied(m, k.name, int(k.ne.size()), k.ne.data(), k.array->data.data());
    return m;
}

int spec_dims(const Model& m, const Tensor* t) {
    for (const ParamSpec& s : find_architecture(m.arch).param_specs(m))
        if (s.name == t->name) return s.n_dims;
    return t->n_dims();
}

}  // namespace

Model load_model(std::span<const uint8_t> bytes, std::shared_ptr<const void> owner) {
    Model m;
    switch (detect_format(bytes.data(), bytes.size())) {
        case Format::Gguf: m = load_gguf(bytes, std::move(owner)); break;
        case Format::Legacy: m = load_legacy(bytes); break;
        case Format::Torch: m = load_torch(bytes); break;
    }
    find_architecture(m.arch).infer_hparams(m);
    validate_model(m);
    return m;
}

Model load_model(const std::string& path) {
    auto map = std::make_shared<const MappedFile>(path);
    return load_model({map->data(), map->size()}, map);
}

Model load_model_from_memory(const uint8_t* data, size_t size) {
    auto copy = std::make_shared<const std::vector<uint8_t>>(data, data + size);
    return load_model({copy->data(), copy->size()}, copy);
}

namespace {
gguf::Writer gguf_writer(const Model& m) {
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::str(m.arch));
    for (const auto& [key, value] : m.metadata) w.set(key, value);
    for (const Tensor* t : m.params) w.add_tensor(t->name, t->type, spec_dims(m, t), t->ne, t->data);
    return w;
}
}  // namespace

void save_model_gguf(const Model& m, const std::string& path) { gguf_writer(m).write(path); }

std::vector<uint8_t> model_gguf_bytes(const Model& m) { return gguf_writer(m).to_bytes(); }

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

bool is_legacy_path(const std::string& path) {
    return path.size() >= 4 && path.compare(path.size() - 4, 4, ".bin") == 0;
}

void save_model(const Model& m, const std::string& path) {
    if (is_legacy_path(path))
        save_model_legacy(m, path);
    else
        save_model_gguf(m, path);
}

}  // namespace mn
