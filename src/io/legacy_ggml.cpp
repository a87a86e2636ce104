#include "io/legacy_ggml.h"

#include <cstdio>
#include <cstring>

#include "engine/error.h"
#include "engine/limits.h"
#include "io/atomic_file.h"
#include "io/byte_reader.h"
#include "io/mapped_file.h"

namespace mn {

namespace {

// Magics of formats that may be confused with this one, for a more useful message.
constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF"
constexpr uint32_t kGgmfMagic = 0x67676d66;  // versioned successors of the legacy format
constexpr uint32_t kGgjtMagic = 0x67676a74;

std::string hex32(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "0x%08x", v);
    return buf;
}

std::string shape_text(const LegacyTensor& t) {
    std::string s = "[";
    for (int i = 0; i < t.n_dims; ++i) s += (i ? ", " : "") + std::to_string(t.ne[i]);
    return s + "]";
}

void check_magic(ByteReader& r) {
    check(r.size() >= 4, "file is too short to be a legacy ggml model (" +
                             std::to_string(r.size()) + " bytes)");
    uint32_t magic = r.u32("magic");
    if (magic == kLegacyGgmlMagic) return;
    check(magic != kGgufMagic, "this is a GGUF file, not a legacy ggml model");
    check(magic != kGgmfMagic && magic != kGgjtMagic,
          "this is a versioned ggml file (ggmf/ggjt); only the original unversioned ggml model "
          "format is supported");
    throw Error("not a legacy ggml model: magic is " + hex32(magic) + ", expected " +
                hex32(kLegacyGgmlMagic));
}

// One tensor header and its values; `index` (0-based) is only for messages.
LegacyTensor read_tensor(ByteReader& r, int index) {
    const std::string name = "tensor " + std::to_string(index);
    check(r.remaining() >= 4, "truncated: " + std::to_string(r.remaining()) +
                                  " stray bytes after tensor " + std::to_string(index - 1));
    LegacyTensor t;
    int32_t n_dims = r.i32("n_dims");
    check(n_dims >= 1 && n_dims <= 4,
          name + ": n_dims is " + std::to_string(n_dims) + ", expected 1..4");
    t.n_dims = n_dims;
    uint64_t count = 1;
    for (int i = 0; i < n_dims; ++i) {
        int32_t ne = r.i32("tensor sizes");
        check(ne >= 1, name + ": size " + std::to_string(i) + " is " + std::to_string(ne) +
                           ", must be at least 1");
        t.ne[i] = ne;
        count = mul_size(count, static_cast<uint64_t>(ne), name + " element count");
    }
    check_limit(count, limits::kTensorElements, name + " element count");
    // Compared with what is left before allocating, so hostile sizes cost nothing.
    const uint64_t bytes = count * sizeof(float);  // below 2^30: no overflow
    check(bytes <= r.remaining(),
          "truncated: " + name + " of shape " + shape_text(t) + " needs " + std::to_string(count) +
              " float32 values but only " + std::to_string(r.remaining()) + " bytes remain");
    t.data.resize(count);
    std::memcpy(t.data.data(), r.take(bytes, "values"), bytes);  // little-endian host and file
    return t;
}

void check_writable(const LegacyTensor& t, size_t index) {
    const std::string name = "tensor " + std::to_string(index);
    check(t.n_dims >= 1 && t.n_dims <= 4, name + ": n_dims must be 1..4");
    for (int i = 0; i < t.n_dims; ++i)
        check(t.ne[i] >= 1 && t.ne[i] <= INT32_MAX, name + ": sizes must be 1..2^31-1");
    int64_t count = 1;
    for (int i = 0; i < t.n_dims; ++i) count *= t.ne[i];  // the data vector bounds it
    check(t.data.size() == static_cast<uint64_t>(count),
          name + " of shape " + shape_text(t) + " has " + std::to_string(t.data.size()) +
              " values, expected " + std::to_string(count));
}

}  // namespace

bool is_legacy_ggml(const uint8_t* data, size_t size) {
    uint32_t magic = 0;
    if (size < 4) return false;
    std::memcpy(&magic, data, 4);
    return magic == kLegacyGgmlMagic;
}

std::vector<LegacyTensor> parse_legacy_ggml(const uint8_t* data, size_t size) {
    ByteReader r(data, size);
    check_magic(r);
    std::vector<LegacyTensor> tensors;
    while (!r.at_end()) {
        check(tensors.size() < static_cast<size_t>(kLegacyGgmlMaxTensors),
              "more than " + std::to_string(kLegacyGgmlMaxTensors) +
                  " tensors: not a legacy ggml model, or a corrupt one");
        tensors.push_back(read_tensor(r, static_cast<int>(tensors.size())));
    }
    check(!tensors.empty(), "legacy ggml model holds no tensors");
    return tensors;
}

std::vector<LegacyTensor> read_legacy_ggml(const std::string& path) {
    MappedFile f(path);
    return parse_legacy_ggml(f.data(), f.size());
}

void write_legacy_ggml(const std::string& path, const std::vector<LegacyTensor>& tensors) {
    check(!tensors.empty() && tensors.size() <= static_cast<size_t>(kLegacyGgmlMaxTensors),
          "a legacy ggml model holds 1.." + std::to_string(kLegacyGgmlMaxTensors) + " tensors, not " +
              std::to_string(tensors.size()));
    for (size_t i = 0; i < tensors.size(); ++i) check_writable(tensors[i], i);

    AtomicWriter w(path);
    w.write(&kLegacyGgmlMagic, 4);
    for (const LegacyTensor& t : tensors) {
        int32_t header[5] = {t.n_dims};
        for (int i = 0; i < t.n_dims; ++i) header[1 + i] = static_cast<int32_t>(t.ne[i]);
        w.write(header, sizeof(int32_t) * (1 + t.n_dims));
        w.write(t.data.data(), t.data.size() * sizeof(float));
    }
    w.commit();
}

}  // namespace mn
