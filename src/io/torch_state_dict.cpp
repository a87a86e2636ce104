#include "io/torch_state_dict.h"

#include "io/quoted_name.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <span>
#include <string_view>

#include "engine/bits.h"
#include "engine/error.h"
#include "engine/limits.h"
#include "io/mapped_file.h"
#include "io/pickle.h"
#include "io/zip_reader.h"

namespace mn {

namespace {

constexpr size_t kMaxDims = 32;
// Output is float32 in memory, so what a small hostile file can make us allocate is capped:
// a tensor may hold more elements than its storage only through repeats (stride 0, e.g. a
// saved expand()), and only for small tensors; all tensors together may hold no more elements
// than the archive has bytes (plus as many repeats), since several tensors can view one storage.
constexpr int64_t kMaxRepeatedElements = int64_t(1) << 20;

// ---- small helpers ----------------------------------------------------------------------


const PyValue& expect(const PyValue* v, PyKind kind, const char* what) {
    check(v && v->kind == kind, std::string(what) + " should be a " + std::string(kind_name(kind)) + ", found " +
                                    describe(v));
    return *v;
}

int64_t expect_int(const PyValue* v, const char* what) { return expect(v, PyKind::Int, what).integer; }

// ---- element types ------------------------------------------------------------------------

enum class Elem { F32, F64, F16, BF16, I64, I32, I16, I8, U8, Bool };

struct StorageType {
    std::string_view name;
    Elem elem;
    size_t bytes;
};

constexpr StorageType kStorageTypes[] = {
    {"FloatStorage", Elem::F32, 4}, {"DoubleStorage", Elem::F64, 8}, {"HalfStorage", Elem::F16, 2},
    {"BFloat16Storage", Elem::BF16, 2}, {"LongStorage", Elem::I64, 8}, {"IntStorage", Elem::I32, 4},
    {"ShortStorage", Elem::I16, 2}, {"CharStorage", Elem::I8, 1}, {"ByteStorage", Elem::U8, 1},
    {"BoolStorage", Elem::Bool, 1},
};

const StorageType& storage_type(const PyValue* v) {
    const PyValue& g = expect(v, PyKind::Global, "storage type");
    if (g.text == "torch")
        for (const StorageType& t : kStorageTypes)
            if (g.name == t.name) return t;
    throw Error("unsupported storage type " + describe(v));
}

float half_to_float(uint16_t h) {
    uint32_t sign = uint32_t(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1F;
    uint32_t mantissa = h & 0x3FF;
    if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
        float v = std::ldexp(static_cast<float>(mantissa), -24);
        return sign ? -v : v;
    }
    if (exponent == 0x1F) return bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));  // inf, NaN
    return bit_cast<float>(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

template <typename T>
T load(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;  // little-endian host; big-endian archives are rejected up front
}

float load_as_float(Elem e, const uint8_t* p) {
    switch (e) {
        case Elem::F32: return load<float>(p);
        case Elem::F64: return static_cast<float>(load<double>(p));
        case Elem::F16: return half_to_float(load<uint16_t>(p));
        case Elem::BF16: return bit_cast<float>(uint32_t(load<uint16_t>(p)) << 16);
        case Elem::I64: return static_cast<float>(load<int64_t>(p));
        case Elem::I32: return static_cast<float>(load<int32_t>(p));
        case Elem::I16: return static_cast<float>(load<int16_t>(p));
        case Elem::I8: return static_cast<float>(load<int8_t>(p));
        case Elem::U8: return static_cast<float>(load<uint8_t>(p));
        case Elem::Bool: return *p ? 1.0f : 0.0f;
    }
    return 0.0f;
}

// ---- storages -----------------------------------------------------------------------------

struct Storage {
    const uint8_t* bytes = nullptr;
    Elem elem = Elem::F32;
    size_t elem_bytes = 4;
    int64_t numel = 0;  // elements the tensor may address
};

// Resolves persistent ids ('storage', torch.XStorage, key, location, numel) to the bytes of
// entry <top>/data/<key>. Each entry's CRC is checked once, however many tensors share it.
class StorageTable {
public:
    StorageTable(const ZipReader& zip, std::string top) : zip_(zip), top_(std::move(top)) {}

    Storage resolve(const PyValue* ref) {
        const PyValue& pid = expect(expect(ref, PyKind::PersistentId, "tensor storage").pid, PyKind::Tuple,
                                    "storage persistent id");
        check(pid.items.size() == 5 && pid.items[0]->kind == PyKind::Str && pid.items[0]->text == "storage",
              "unsupported persistent id " + describe(&pid));
        const StorageType& type = storage_type(pid.items[1]);
        const std::string& key = expect(pid.items[2], PyKind::Str, "storage key").text;
        int64_t numel = expect_int(pid.items[4], "storage size");
        check(numel >= 0, "storage " + quoted_name(key) + " has a negative size");

        std::span<const uint8_t> bytes = entry_bytes(key);
        // numel * elem_bytes <= bytes.size(), written so that it cannot overflow
        check(static_cast<uint64_t>(numel) <= bytes.size() / type.bytes,
              "storage " + quoted_name(key) + " should hold " + std::to_string(numel) + " " + std::string(type.name) +
                  " elements but its entry has only " + std::to_string(bytes.size()) + " bytes");
        return {bytes.data(), type.elem, type.bytes, numel};
    }

private:
    std::span<const uint8_t> entry_bytes(const std::string& key) {
        auto it = cache_.find(key);
        if (it != cache_.end()) return it->second;
        std::string name = top_ + "/data/" + key;
        const ZipEntry* entry = zip_.find(name);
        check(entry != nullptr, "storage entry " + quoted_name(name) + " is missing from the archive");
        return cache_[key] = zip_.contents(*entry);
    }

    const ZipReader& zip_;
    std::string top_;
    std::map<std::string, std::span<const uint8_t>> cache_;
};

// ---- tensors ------------------------------------------------------------------------------

struct Layout {
    std::vector<int64_t> size, stride;
    int64_t offset = 0;
    int64_t numel = 1;
};

std::vector<int64_t> int_tuple(const PyValue* v, const char* what) {
    const PyValue& t = expect(v, PyKind::Tuple, what);
    check(t.items.size() <= kMaxDims, std::string(what) + " has more than " + std::to_string(kMaxDims) + " dims");
    std::vector<int64_t> out;
    for (const PyValue* item : t.items) out.push_back(expect_int(item, what));
    return out;
}

Layout read_layout(const PyValue* offset, const PyValue* size, const PyValue* stride) {
    Layout l;
    l.offset = expect_int(offset, "storage offset");
    l.size = int_tuple(size, "tensor size");
    l.stride = int_tuple(stride, "tensor stride");
    check(l.offset >= 0, "negative storage offset " + std::to_string(l.offset));
    check(l.size.size() == l.stride.size(), "tensor size and stride have different lengths");
    for (size_t d = 0; d < l.size.size(); ++d) {
        check(l.size[d] >= 0, "negative tensor dimension " + std::to_string(l.size[d]));
        check(l.stride[d] >= 0, "negative tensor stride " + std::to_string(l.stride[d]));
        l.numel = int64_t(check_limit(mul_size(uint64_t(l.numel), uint64_t(l.size[d]), "tensor element count"),
                                      limits::kTensorElements, "tensor element count"));
        // A size-1 dimension never steps, so its stride (which may be anything) is irrelevant;
        // zeroing it keeps the index arithmetic in gather() within the bounds checked below.
        if (l.size[d] == 1) l.stride[d] = 0;
    }
    return l;
}

// The highest storage index the layout reads must exist: offset + sum((size-1) * stride).
void check_in_bounds(const Layout& l, const Storage& s) {
    if (l.numel == 0) return;  // reads nothing
    int64_t last = l.offset;
    bool overflow = false;
    for (size_t d = 0; d < l.size.size(); ++d) {
        int64_t span = 0;
        overflow |= __builtin_mul_overflow(l.size[d] - 1, l.stride[d], &span);
        overflow |= __builtin_add_overflow(last, span, &last);
    }
    check(!overflow && last < s.numel, "tensor reads past the end of its storage (needs element " +
                                           (overflow ? std::string("beyond int64") : std::to_string(last)) +
                                           ", storage has " + std::to_string(s.numel) + ")");
}

bool is_contiguous(const Layout& l) {
    int64_t expected = 1;
    for (size_t d = l.size.size(); d-- > 0;) {
        if (l.size[d] != 1 && l.stride[d] != expected) return false;
        expected *= l.size[d];
    }
    return true;
}

// Copies the elements in row-major order of `l` into `out`, walking a multi-index.
void gather(const Layout& l, const Storage& s, float* out) {
    if (l.numel == 0) return;
    const uint8_t* base = s.bytes + static_cast<size_t>(l.offset) * s.elem_bytes;
    if (s.elem == Elem::F32 && is_contiguous(l)) {
        std::memcpy(out, base, static_cast<size_t>(l.numel) * sizeof(float));
        return;
    }
    size_t dims = l.size.size();
    std::vector<int64_t> index(dims, 0);
    int64_t at = 0;  // storage element relative to base for the current index
    for (int64_t i = 0; i < l.numel; ++i) {
        out[i] = load_as_float(s.elem, base + static_cast<size_t>(at) * s.elem_bytes);
        // advance the innermost dimension, carrying into outer ones
        for (size_t d = dims; d-- > 0;) {
            at += l.stride[d];
            if (++index[d] < l.size[d]) break;
            at -= l.stride[d] * l.size[d];
            index[d] = 0;
        }
    }
}

// torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
// backward_hooks[, metadata]); parameters wrap one in _rebuild_parameter(tensor, ...).
const PyValue& tensor_call(const PyValue* v) {
    for (int unwrap = 0; unwrap < 2; ++unwrap) {
        check(v && v->kind == PyKind::Call, "is not a tensor (found " + describe(v) + ")");
        const PyValue* fn = v->callable;
        const auto& args = v->args->items;
        if (fn->is_global("torch._utils", "_rebuild_tensor_v2")) {
            check(args.size() == 6 || args.size() == 7,
                  "_rebuild_tensor_v2 takes 6 or 7 arguments, found " + std::to_string(args.size()));
            return *v;
        }
        bool parameter = fn->is_global("torch._utils", "_rebuild_parameter") ||
                         fn->is_global("torch._utils", "_rebuild_parameter_with_state");
        check(parameter && !args.empty(), "is not a supported tensor (found " + describe(v) + ")");
        v = args[0];
    }
    throw Error("is not a supported tensor (parameter of a parameter)");
}

NamedArray read_tensor(const std::string& name, const PyValue* value, StorageTable& storages,
                       SizeBudget& total_elements) {
    const auto& args = tensor_call(value).args->items;
    Storage storage = storages.resolve(args[0]);
    Layout layout = read_layout(args[1], args[2], args[3]);
    check_in_bounds(layout, storage);
    check(layout.numel <= storage.numel || layout.numel <= kMaxRepeatedElements,
          "tensor has " + std::to_string(layout.numel) + " elements but its storage only " +
              std::to_string(storage.numel));
    total_elements.spend(uint64_t(layout.numel));
    NamedArray out{name, layout.size, std::vector<float>(static_cast<size_t>(layout.numel))};
    gather(layout, storage, out.data.data());
    return out;
}

// ---- the archive --------------------------------------------------------------------------

// The folder holding data.pkl: "archive" in recent files, the file's stem in older ones.
std::string find_top_folder(const ZipReader& zip) {
    constexpr std::string_view kSuffix = "/data.pkl";
    std::string top;
    int found = 0;
    for (const ZipEntry& e : zip.entries()) {
        std::string_view n = e.name;
        if (n.size() <= kSuffix.size() || !n.ends_with(kSuffix)) continue;
        std::string_view folder = n.substr(0, n.size() - kSuffix.size());
        if (folder.find('/') != std::string_view::npos) continue;
        top = folder;
        ++found;
    }
    check(found > 0, "no data.pkl entry in the zip archive; not a PyTorch state_dict");
    check(found == 1, "the zip archive has " + std::to_string(found) + " data.pkl entries; expected one");
    return top;
}

// Archives written on a big-endian machine say so in <top>/byteorder (newer PyTorch only).
void check_byte_order(const ZipReader& zip, const std::string& top) {
    const ZipEntry* e = zip.find(top + "/byteorder");
    if (!e) return;
    std::span<const uint8_t> b = zip.contents(*e);
    std::string_view order(reinterpret_cast<const char*>(b.data()), b.size());
    check(order == "little", "the archive stores " + quoted_name(order) + "-endian data; only little-endian is supported");
}

// The pickled top object: an OrderedDict (REDUCE of collections.OrderedDict with no arguments,
// filled by SETITEMS, perhaps BUILD with its _metadata) or a plain dict.
const std::vector<std::pair<const PyValue*, const PyValue*>>& top_level_items(const PyValue* root) {
    const PyValue* v = root;
    for (int i = 0; i < 4 && v->kind == PyKind::Build; ++i) v = v->object;  // state (_metadata) unused
    if (v->kind == PyKind::Dict) return v->entries;
    bool ordered_dict = v->kind == PyKind::Call && v->callable->is_global("collections", "OrderedDict") &&
                        v->args->items.empty();
    check(ordered_dict, "data.pkl holds " + describe(root) + ", not a state_dict (a dict of tensors)");
    return v->entries;
}

}  // namespace

bool looks_like_zip(const uint8_t* data, size_t size) {
    return size >= 4 && data[0] == 'P' && data[1] == 'K' && data[2] == 3 && data[3] == 4;
}

std::vector<NamedArray> parse_torch_state_dict(const uint8_t* data, size_t size) {
    check(looks_like_zip(data, size), "not a zip archive, so not a PyTorch state_dict");
    ZipReader zip(data, size);
    std::string top = find_top_folder(zip);
    check_byte_order(zip, top);
    std::span<const uint8_t> pkl = zip.contents(*zip.find(top + "/data.pkl"));
    Pickle pickle = parse_pickle(pkl.data(), pkl.size());

    StorageTable storages(zip, top);
    std::vector<NamedArray> out;
    std::set<std::string> seen;
    SizeBudget total_elements(std::min<uint64_t>(limits::kModelElements, size + kMaxRepeatedElements),
                              "state_dict element count");
    for (const auto& [key, value] : top_level_items(pickle.root())) {
        const std::string& name = expect(key, PyKind::Str, "state_dict key").text;
        check(seen.insert(name).second, "the state_dict has two entries named " + quoted_name(name));
        try {
            out.push_back(read_tensor(name, value, storages, total_elements));
        } catch (const Error& e) {
            throw Error("tensor " + quoted_name(name) + ": " + e.what());
        }
    }
    return out;
}

std::vector<NamedArray> read_torch_state_dict(const std::string& path) {
    MappedFile file(path);
    return parse_torch_state_dict(file.data(), file.size());
}

}  // namespace mn
