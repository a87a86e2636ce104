#include "io/gguf.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>

#include "engine/bits.h"
#include "engine/error.h"
#include "engine/limits.h"
#include "io/atomic_file.h"
#include "io/byte_reader.h"
#include "io/mapped_file.h"

namespace mn::gguf {

namespace {

constexpr uint32_t kMaxValueTypeCode = 12;
constexpr const char kMagic[4] = {'G', 'G', 'U', 'F'};
// Arrays of arrays are legal but never needed in practice; a small depth limit keeps the
// recursive parser's stack use bounded on hostile input.
constexpr int kMaxArrayDepth = 8;
// Smallest possible encodings. Counts read from the file are checked against them and the
// bytes left, so a lying count is rejected before anything is allocated for it.
constexpr uint64_t kMinKeyValueBytes = 8 + 4 + 1;          // empty key, type, one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, n_dims, 1 dim, type, offset
constexpr uint64_t kMinStringBytes = 8;                      // the length alone
constexpr uint64_t kMinArrayBytes = 4 + 8;                   // element type and count
constexpr size_t kMaxShownElements = 8;   // to_string() shows at most this many array items
constexpr size_t kMaxShownStringBytes = 200;

// Bytes of one element of a fixed-size type; 0 for STRING and ARRAY.
size_t scalar_bytes(ValueType t) {
    switch (t) {
        case ValueType::U8: case ValueType::I8: case ValueType::BOOL: return 1;
        case ValueType::U16: case ValueType::I16: return 2;
        case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
        case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
        case ValueType::STRING: case ValueType::ARRAY: return 0;
    }
    return 0;
}

bool is_packed(ValueType t) { return scalar_bytes(t) != 0; }

bool is_integer_type(ValueType t) {
    switch (t) {
        case ValueType::U8: case ValueType::I8: case ValueType::U16: case ValueType::I16:
        case ValueType::U32: case ValueType::I32: case ValueType::U64: case ValueType::I64:
            return true;
        default:
            return false;
    }
}

bool is_float_type(ValueType t) { return t == ValueType::F32 || t == ValueType::F64; }

bool is_power_of_two(uint64_t a) { return a != 0 && (a & (a - 1)) == 0; }

// Names and keys come from the file: quoted, made safe for one line of an error message.
std::string quoted(std::string_view s) { return "'" + printable(s) + "'"; }

// The shortest text that reads back as v.
template <class T>
std::string shortest(T v) {
    char buf[64];
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
    auto res = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, res.ptr);
#else  // a C++ library without floating-point to_chars (WebAssembly): the fewest digits that round-trip
    for (int digits = 1; digits <= 17; ++digits) {
        std::snprintf(buf, sizeof(buf), "%.*g", digits, static_cast<double>(v));
        if (static_cast<T>(std::strtod(buf, nullptr)) == v) break;
    }
    return buf;
#endif
}

// Escapes a string value for to_string(); bytes >= 0x80 pass through so UTF-8 prints as text.
std::string escape_for_display(std::string_view s) {
    size_t shown = s.size();
    if (shown > kMaxShownStringBytes) {
        shown = kMaxShownStringBytes;
        while (shown > 0 && (static_cast<unsigned char>(s[shown]) & 0xC0) == 0x80) --shown;
    }
    std::string out = "\"";
    for (size_t i = 0; i < shown; ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    static const char* hex = "0123456789abcdef";
                    out += "\\x";
                    out += hex[c >> 4];
                    out += hex[c & 15];
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    if (shown < s.size()) return out + "...\" (" + std::to_string(s.size()) + " bytes)";
    return out + "\"";
}

// Validates a tensor shape and returns its size in bytes. `dims` holds n_dims entries.
// Shared by the reader (hostile input) and the writer (caller mistakes).
uint64_t checked_tensor_bytes(const std::string& what, DType type, int n_dims, const uint64_t* dims) {
    uint64_t elements = 1;
    for (int d = 0; d < n_dims; ++d) {
        check(dims[d] != 0, what + " has a zero-sized dimension");
        elements = mul_size(elements, dims[d], what + " element count");
    }
    check_limit(elements, limits::kTensorElements, what + " element count");
    const DTypeInfo& info = dtype_info(type);
    const uint64_t block = uint64_t(info.block_size);
    check(dims[0] % block == 0, what + ": first dimension " + std::to_string(dims[0]) +
                                    " is not a multiple of the " + std::string(info.name) +
                                    " block size " + std::to_string(block));
    uint64_t bytes = mul_size(dims[0] / block, uint64_t(info.block_bytes), what + " byte size");
    for (int d = 1; d < n_dims; ++d) bytes = mul_size(bytes, dims[d], what + " byte size");
    return bytes;
}

// Rethrows an Error with "<prefix>: " in front, to say which key or tensor a problem is in.
template <class F>
auto with_context(const std::string& prefix, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const Error& e) {
        throw Error(prefix + ": " + e.what());
    }
}

// ---- little-endian output ----
void put_bytes(std::vector<uint8_t>& out, const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out.insert(out.end(), b, b + n);
}
void put_u32(std::vector<uint8_t>& out, uint32_t v) { put_bytes(out, &v, 4); }
void put_u64(std::vector<uint8_t>& out, uint64_t v) { put_bytes(out, &v, 8); }
void put_string(std::vector<uint8_t>& out, std::string_view s) {
    put_u64(out, s.size());
    put_bytes(out, s.data(), s.size());
}

struct VectorSink {
    std::vector<uint8_t>& out;
    void write(const void* p, size_t n) { put_bytes(out, p, n); }
    void pad_to(size_t alignment) { out.resize(align_up(out.size(), alignment), 0); }
};

}  // namespace

std::string_view value_type_name(ValueType t) {
    switch (t) {
        case ValueType::U8: return "u8";
        case ValueType::I8: return "i8";
        case ValueType::U16: return "u16";
        case ValueType::I16: return "i16";
        case ValueType::U32: return "u32";
        case ValueType::I32: return "i32";
        case ValueType::F32: return "f32";
        case ValueType::BOOL: return "bool";
        case ValueType::STRING: return "string";
        case ValueType::ARRAY: return "array";
        case ValueType::U64: return "u64";
        case ValueType::I64: return "i64";
        case ValueType::F64: return "f64";
    }
    return "unknown";
}

// =============================================================================================
// Codec: everything that touches the byte format or Value internals.
// =============================================================================================
struct Codec {
    template <class T>
    static Value packed_array(ValueType elem, const std::vector<T>& v) {
        Value out;
        out.type_ = ValueType::ARRAY;
        out.elem_type_ = elem;
        out.count_ = v.size();
        out.packed_.resize(v.size() * sizeof(T));
        if (!v.empty()) std::memcpy(out.packed_.data(), v.data(), out.packed_.size());
        return out;
    }

    static Value empty_array(ValueType elem, size_t count) {
        Value out;
        out.type_ = ValueType::ARRAY;
        out.elem_type_ = elem;
        out.count_ = count;
        return out;
    }

    // ---- decoding ----
    static std::string_view read_string(ByteReader& r, uint64_t max_bytes, const char* what) {
        // Called once per string of a possibly huge array: no message is built unless needed.
        const uint64_t n = r.u64(what);
        if (n > r.remaining()) {
            throw Error(std::string("file is truncated or corrupt: ") + what + " length " +
                        std::to_string(n) + " exceeds the remaining " +
                        std::to_string(r.remaining()) + " bytes");
        }
        if (n > max_bytes) check_limit(n, max_bytes, std::string(what) + " length");
        return r.str(size_t(n), what);
    }

    static ValueType read_type(ByteReader& r, const char* what) {
        const uint32_t code = r.u32(what);
        check(code <= kMaxValueTypeCode, "unknown " + std::string(what) + " " + std::to_string(code));
        return static_cast<ValueType>(code);
    }

    static void check_bools(const uint8_t* p, size_t n) {
        for (size_t i = 0; i < n; ++i) {
            if (p[i] > 1) throw Error("invalid bool value " + std::to_string(p[i]) + " (must be 0 or 1)");
        }
    }

    // `memory` is charged what each value takes once decoded: a small file must not make
    // a large tree of strings and arrays.
    static Value read_value(ByteReader& r, ValueType t, int depth, SizeBudget& memory) {
        memory.spend(sizeof(Value));
        if (t == ValueType::STRING) {
            const std::string_view s = read_string(r, limits::kStringBytes, "string");
            memory.spend(s.size());
            return Value::str(std::string(s));
        }
        if (t == ValueType::ARRAY) return read_array(r, depth + 1, memory);
        const size_t n = scalar_bytes(t);
        const uint8_t* p = r.take(n, "value");
        if (t == ValueType::BOOL) check_bools(p, 1);
        uint64_t bits = 0;
        std::memcpy(&bits, p, n);  // little-endian host: the low bytes hold the value
        return Value::scalar(t, bits);
    }

    // The payload of an array: element type, count, elements (without a per-element type).
    static Value read_array(ByteReader& r, int depth, SizeBudget& memory) {
        check(depth <= kMaxArrayDepth, "arrays are nested more than " +
                                           std::to_string(kMaxArrayDepth) + " levels deep");
        const ValueType elem = read_type(r, "array element type");
        const uint64_t count = r.u64("array length");
        const uint64_t min_bytes = is_packed(elem) ? scalar_bytes(elem)
                                   : elem == ValueType::STRING ? kMinStringBytes
                                                               : kMinArrayBytes;
        check(count <= r.remaining() / min_bytes,
              "file is truncated or corrupt: array of " + std::to_string(count) + " " +
                  std::string(value_type_name(elem)) + " elements exceeds the remaining " +
                  std::to_string(r.remaining()) + " bytes");
        check_limit(count, limits::kArrayElements, "array length");

        Value out = empty_array(elem, size_t(count));
        if (is_packed(elem)) {
            const size_t n = size_t(count) * scalar_bytes(elem);
            memory.spend(n);
            const uint8_t* p = r.take(n, "array");
            if (elem == ValueType::BOOL) check_bools(p, n);
            out.packed_.assign(p, p + n);
        } else if (elem == ValueType::STRING) {
            memory.spend(count * sizeof(std::string));
            out.strings_.reserve(size_t(count));
            for (uint64_t i = 0; i < count; ++i) {
                const std::string_view s = read_string(r, limits::kStringBytes, "string");
                memory.spend(s.size());
                out.strings_.emplace_back(s);
            }
        } else {
            // No reserve here: memory grows with the arrays actually present, not the count.
            for (uint64_t i = 0; i < count; ++i) {
                memory.spend(sizeof(Value));
                out.items_.push_back(read_array(r, depth + 1, memory));
            }
        }
        return out;
    }

    static void read_header(ByteReader& r, uint64_t& n_tensors, uint64_t& n_kv) {
        const uint8_t* magic = r.take(4, "magic");
        check(std::memcmp(magic, kMagic, 4) == 0, "not a GGUF file (bad magic)");
        const uint32_t version = r.u32("version");
        // A big-endian writer's version 1..3 reads here as 0x01000000..0x03000000.
        check(!(version >= 0x01000000 && version <= 0x03000000 && (version & 0x00ffffff) == 0),
              "big-endian GGUF files are not supported");
        check(version == kVersion, "unsupported GGUF version " + std::to_string(version) +
                                       " (only version 3 is supported)");
        n_tensors = r.u64("tensor count");
        n_kv = r.u64("key count");
        check_limit(n_kv, limits::kMetadataEntries, "key count");
        check_limit(n_tensors, limits::kTensors, "tensor count");
        check(n_kv <= r.remaining() / kMinKeyValueBytes,
              "file is truncated or corrupt: key count " + std::to_string(n_kv) +
                  " cannot fit in the remaining " + std::to_string(r.remaining()) + " bytes");
        check(n_tensors <= r.remaining() / kMinTensorInfoBytes,
              "file is truncated or corrupt: tensor count " + std::to_string(n_tensors) +
                  " cannot fit in the remaining " + std::to_string(r.remaining()) + " bytes");
    }

    static void read_key_values(ByteReader& r, File& f, uint64_t n_kv) {
        // No reserve: an entry takes far more memory than its 13-byte minimum in the file, so
        // memory should only grow with entries actually present, not with the claimed count.
        SizeBudget memory(limits::kMetadataBytes, "decoded metadata bytes");
        for (uint64_t i = 0; i < n_kv; ++i) {
            std::string key(read_string(r, kMaxKeyBytes, "key"));
            check(f.kv_index_.count(key) == 0, "duplicate key " + quoted(key));
            Value v = with_context("key " + quoted(key), [&] {
                return read_value(r, read_type(r, "value type"), 0, memory);
            });
            f.kv_index_.emplace(key, f.kv_.size());
            f.kv_.emplace_back(std::move(key), std::move(v));
        }
    }

    static size_t read_alignment(const File& f) {
        const Value* v = f.find("general.alignment");
        if (v == nullptr) return kDefaultAlignment;
        check(v->type() == ValueType::U32, "general.alignment must be a u32, not " + v->type_string());
        const uint32_t a = v->as_u32();
        check(is_power_of_two(a),
              "general.alignment " + std::to_string(a) + " is not a nonzero power of two");
        check_limit(a, limits::kGgufAlignment, "general.alignment");
        return a;
    }

    static TensorInfo read_tensor_info(ByteReader& r, const File& f) {
        TensorInfo t;
        t.name = std::string(read_string(r, kMaxTensorNameBytes, "tensor name"));
        const std::string what = "tensor " + quoted(t.name);
        check(f.tensor_index_.count(t.name) == 0, "duplicate tensor name " + quoted(t.name));

        const uint32_t n_dims = r.u32("tensor dimension count");
        check(n_dims >= 1 && n_dims <= uint32_t(kMaxDims),
              what + " has " + std::to_string(n_dims) + " dimensions (must be 1 to 4)");
        t.n_dims = int(n_dims);
        uint64_t dims[kMaxDims] = {1, 1, 1, 1};
        for (uint32_t d = 0; d < n_dims; ++d) dims[d] = r.u64("tensor dimension");

        const uint32_t code = r.u32("tensor type");
        const std::optional<DType> type = dtype_from_code(code);
        check(type.has_value(), what + " has unknown tensor type " + std::to_string(code));
        t.type = *type;

        const uint64_t nbytes = checked_tensor_bytes(what, t.type, t.n_dims, dims);
        // No tensor can be larger than the file; checking now also makes the size_t cast safe.
        check(nbytes <= f.size_, what + " data extends past the end of the file");
        t.nbytes = size_t(nbytes);
        for (int d = 0; d < kMaxDims; ++d) t.ne[d] = int64_t(dims[d]);

        t.offset = r.u64("tensor offset");
        check(t.offset % f.alignment_ == 0,
              what + " offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                  std::to_string(f.alignment_));
        return t;
    }

    static void read_tensor_infos(ByteReader& r, File& f, uint64_t n_tensors) {
        check(n_tensors <= r.remaining() / kMinTensorInfoBytes,
              "file is truncated or corrupt: tensor count " + std::to_string(n_tensors) +
                  " cannot fit in the remaining " + std::to_string(r.remaining()) + " bytes");
        f.tensors_.reserve(size_t(n_tensors));
        for (uint64_t i = 0; i < n_tensors; ++i) {
            TensorInfo t = read_tensor_info(r, f);
            f.tensor_index_.emplace(t.name, f.tensors_.size());
            f.tensors_.push_back(std::move(t));
        }
    }

    // Points every tensor at its bytes, after checking they lie inside the file and that
    // no two tensors share bytes.
    static void locate_tensor_data(File& f) {
        for (TensorInfo& t : f.tensors_) {
            uint64_t start = 0;
            const bool inside = !__builtin_add_overflow(f.data_offset_, t.offset, &start) &&
                                start <= f.size_ && t.nbytes <= f.size_ - start;
            check(inside, "tensor " + quoted(t.name) + " data extends past the end of the file");
            t.data = f.base_ + start;
        }
        std::vector<size_t> order(f.tensors_.size());
        std::iota(order.begin(), order.end(), size_t{0});
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return f.tensors_[a].offset < f.tensors_[b].offset;
        });
        for (size_t i = 1; i < order.size(); ++i) {
            const TensorInfo& prev = f.tensors_[order[i - 1]];
            const TensorInfo& cur = f.tensors_[order[i]];
            check(prev.offset + prev.nbytes <= cur.offset,  // both are inside the file: no overflow
                  "tensors " + quoted(prev.name) + " and " + quoted(cur.name) + " overlap");
        }
    }

    static void parse(File& f) {
        ByteReader r(f.base_, f.size_);
        uint64_t n_tensors = 0, n_kv = 0;
        read_header(r, n_tensors, n_kv);
        read_key_values(r, f, n_kv);
        f.alignment_ = read_alignment(f);
        read_tensor_infos(r, f, n_tensors);
        f.data_offset_ = align_up(r.pos(), f.alignment_);
        locate_tensor_data(f);
    }

    // ---- encoding ----
    // A value without its type tag; array elements are written this way too.
    static void encode_payload(std::vector<uint8_t>& out, const Value& v) {
        if (v.type_ == ValueType::STRING) {
            put_string(out, v.str_);
        } else if (v.type_ == ValueType::ARRAY) {
            put_u32(out, uint32_t(v.elem_type_));
            put_u64(out, v.count_);
            if (is_packed(v.elem_type_)) {
                put_bytes(out, v.packed_.data(), v.packed_.size());
            } else if (v.elem_type_ == ValueType::STRING) {
                for (const std::string& s : v.strings_) put_string(out, s);
            } else {
                for (const Value& item : v.items_) encode_payload(out, item);
            }
        } else {
            put_bytes(out, &v.bits_, scalar_bytes(v.type_));  // little-endian host
        }
    }
};

// =============================================================================================
// Value
// =============================================================================================
Value Value::scalar(ValueType t, uint64_t bits) {
    Value v;
    v.type_ = t;
    v.bits_ = bits;
    return v;
}

Value Value::u8(uint8_t v) { return scalar(ValueType::U8, v); }
Value Value::i8(int8_t v) { return scalar(ValueType::I8, uint8_t(v)); }
Value Value::u16(uint16_t v) { return scalar(ValueType::U16, v); }
Value Value::i16(int16_t v) { return scalar(ValueType::I16, uint16_t(v)); }
Value Value::u32(uint32_t v) { return scalar(ValueType::U32, v); }
Value Value::i32(int32_t v) { return scalar(ValueType::I32, uint32_t(v)); }
Value Value::u64(uint64_t v) { return scalar(ValueType::U64, v); }
Value Value::i64(int64_t v) { return scalar(ValueType::I64, uint64_t(v)); }
Value Value::f32(float v) { return scalar(ValueType::F32, bit_cast<uint32_t>(v)); }
Value Value::f64(double v) { return scalar(ValueType::F64, bit_cast<uint64_t>(v)); }
Value Value::boolean(bool v) { return scalar(ValueType::BOOL, v ? 1 : 0); }
Value Value::str(std::string v) {
    Value out;
    out.type_ = ValueType::STRING;
    out.str_ = std::move(v);
    return out;
}

Value Value::array(const std::vector<uint8_t>& v) { return Codec::packed_array(ValueType::U8, v); }
Value Value::array(const std::vector<int8_t>& v) { return Codec::packed_array(ValueType::I8, v); }
Value Value::array(const std::vector<uint16_t>& v) { return Codec::packed_array(ValueType::U16, v); }
Value Value::array(const std::vector<int16_t>& v) { return Codec::packed_array(ValueType::I16, v); }
Value Value::array(const std::vector<uint32_t>& v) { return Codec::packed_array(ValueType::U32, v); }
Value Value::array(const std::vector<int32_t>& v) { return Codec::packed_array(ValueType::I32, v); }
Value Value::array(const std::vector<uint64_t>& v) { return Codec::packed_array(ValueType::U64, v); }
Value Value::array(const std::vector<int64_t>& v) { return Codec::packed_array(ValueType::I64, v); }
Value Value::array(const std::vector<float>& v) { return Codec::packed_array(ValueType::F32, v); }
Value Value::array(const std::vector<double>& v) { return Codec::packed_array(ValueType::F64, v); }

Value Value::array(const std::vector<bool>& v) {
    Value out = Codec::empty_array(ValueType::BOOL, v.size());
    for (bool b : v) out.packed_.push_back(b ? 1 : 0);
    return out;
}

Value Value::array(const std::vector<std::string>& v) {
    Value out = Codec::empty_array(ValueType::STRING, v.size());
    out.strings_ = v;
    return out;
}

Value Value::array(ValueType elem_type, const std::vector<Value>& items) {
    check(uint32_t(elem_type) <= kMaxValueTypeCode,
          "unknown array element type " + std::to_string(uint32_t(elem_type)));
    Value out = Codec::empty_array(elem_type, items.size());
    for (size_t i = 0; i < items.size(); ++i) {
        const Value& item = items[i];
        check(item.type_ == elem_type, "array element " + std::to_string(i) + " is " +
                                           item.type_string() + ", expected " +
                                           std::string(value_type_name(elem_type)));
        if (is_packed(elem_type)) {
            const auto* p = reinterpret_cast<const uint8_t*>(&item.bits_);  // little-endian host
            out.packed_.insert(out.packed_.end(), p, p + scalar_bytes(elem_type));
        } else if (elem_type == ValueType::STRING) {
            out.strings_.push_back(item.str_);
        } else {
            out.items_.push_back(item);
        }
    }
    return out;
}

bool Value::is_integer() const { return is_integer_type(type_); }

std::string Value::type_string() const {
    if (type_ != ValueType::ARRAY) return std::string(value_type_name(type_));
    return "array[" + std::string(value_type_name(elem_type_)) + "]";
}

void Value::expect(ValueType t) const {
    check(type_ == t, "expected " + std::string(value_type_name(t)) + ", got " + type_string());
}

void Value::expect_array() const {
    check(type_ == ValueType::ARRAY, "expected an array, got " + type_string());
}

uint8_t Value::as_u8() const { expect(ValueType::U8); return uint8_t(bits_); }
int8_t Value::as_i8() const { expect(ValueType::I8); return int8_t(uint8_t(bits_)); }
uint16_t Value::as_u16() const { expect(ValueType::U16); return uint16_t(bits_); }
int16_t Value::as_i16() const { expect(ValueType::I16); return int16_t(uint16_t(bits_)); }
uint32_t Value::as_u32() const { expect(ValueType::U32); return uint32_t(bits_); }
int32_t Value::as_i32() const { expect(ValueType::I32); return int32_t(uint32_t(bits_)); }
uint64_t Value::as_u64() const { expect(ValueType::U64); return bits_; }
int64_t Value::as_i64() const { expect(ValueType::I64); return int64_t(bits_); }
float Value::as_f32() const { expect(ValueType::F32); return bit_cast<float>(uint32_t(bits_)); }
double Value::as_f64() const { expect(ValueType::F64); return bit_cast<double>(bits_); }
bool Value::as_bool() const { expect(ValueType::BOOL); return bits_ != 0; }
const std::string& Value::as_string() const { expect(ValueType::STRING); return str_; }

int64_t Value::as_int() const {
    switch (type_) {
        case ValueType::U8: case ValueType::U16: case ValueType::U32: return int64_t(bits_);
        case ValueType::I8: return as_i8();
        case ValueType::I16: return as_i16();
        case ValueType::I32: return as_i32();
        case ValueType::I64: return as_i64();
        case ValueType::U64:
            check(bits_ <= uint64_t(std::numeric_limits<int64_t>::max()),
                  "u64 value " + std::to_string(bits_) + " does not fit in i64");
            return int64_t(bits_);
        default:
            throw Error("expected an integer, got " + type_string());
    }
}

double Value::as_float() const {
    if (type_ == ValueType::F32) return as_f32();
    if (type_ == ValueType::F64) return as_f64();
    throw Error("expected f32 or f64, got " + type_string());
}

ValueType Value::elem_type() const { expect_array(); return elem_type_; }
size_t Value::size() const { expect_array(); return count_; }

Value Value::at(size_t i) const {
    expect_array();
    check(i < count_, "array index " + std::to_string(i) + " is out of range (size " +
                          std::to_string(count_) + ")");
    if (is_packed(elem_type_)) {
        const size_t n = scalar_bytes(elem_type_);
        uint64_t bits = 0;
        std::memcpy(&bits, packed_.data() + i * n, n);
        return scalar(elem_type_, bits);
    }
    if (elem_type_ == ValueType::STRING) return str(strings_[i]);
    return items_[i];
}

std::vector<int64_t> Value::as_int_array() const {
    expect_array();
    check(is_integer_type(elem_type_), "expected an array of integers, got " + type_string());
    std::vector<int64_t> out;
    out.reserve(count_);
    for (size_t i = 0; i < count_; ++i) out.push_back(at(i).as_int());
    return out;
}

std::vector<double> Value::as_float_array() const {
    expect_array();
    check(is_float_type(elem_type_), "expected an array of f32 or f64, got " + type_string());
    std::vector<double> out;
    out.reserve(count_);
    for (size_t i = 0; i < count_; ++i) out.push_back(at(i).as_float());
    return out;
}

std::vector<std::string> Value::as_string_array() const {
    expect_array();
    check(elem_type_ == ValueType::STRING, "expected an array of strings, got " + type_string());
    return strings_;
}

std::string Value::to_string() const {
    switch (type_) {
        case ValueType::U8: case ValueType::U16: case ValueType::U32: case ValueType::U64:
            return std::to_string(bits_);
        case ValueType::I8: case ValueType::I16: case ValueType::I32: case ValueType::I64:
            return std::to_string(as_int());
        case ValueType::F32: return shortest(as_f32());
        case ValueType::F64: return shortest(as_f64());
        case ValueType::BOOL: return bits_ ? "true" : "false";
        case ValueType::STRING: return escape_for_display(str_);
        case ValueType::ARRAY: break;
    }
    std::string out = "[";
    const size_t shown = std::min(count_, kMaxShownElements);
    for (size_t i = 0; i < shown; ++i) {
        if (i > 0) out += ", ";
        out += at(i).to_string();
    }
    if (shown < count_) out += ", ... (" + std::to_string(count_) + " items)";
    return out + "]";
}

bool Value::operator==(const Value& o) const {
    return type_ == o.type_ && bits_ == o.bits_ && str_ == o.str_ && elem_type_ == o.elem_type_ &&
           count_ == o.count_ && packed_ == o.packed_ && strings_ == o.strings_ && items_ == o.items_;
}

// =============================================================================================
// File
// =============================================================================================
File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;
File::~File() = default;

File File::open(const std::string& path) {
    File f;
    f.map_ = std::make_unique<MappedFile>(path);
    f.base_ = f.map_->data();
    f.size_ = f.map_->size();
    Codec::parse(f);
    return f;
}

File File::from_memory(const uint8_t* data, size_t size) {
    static const uint8_t empty = 0;
    File f;
    f.base_ = data != nullptr ? data : &empty;
    f.size_ = data != nullptr ? size : 0;
    Codec::parse(f);
    return f;
}

const Value* File::find(std::string_view key) const {
    auto it = kv_index_.find(key);
    return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const Value& File::get(std::string_view key) const {
    const Value* v = find(key);
    check(v != nullptr, "missing key " + quoted(key));
    return *v;
}

namespace {
template <class F>
auto get_typed(const File& f, std::string_view key, F&& convert) {
    const Value& v = f.get(key);
    return with_context("key " + quoted(key), [&] { return convert(v); });
}
}  // namespace

std::string File::get_string(std::string_view key) const {
    return get_typed(*this, key, [](const Value& v) { return v.as_string(); });
}
uint32_t File::get_u32(std::string_view key) const {
    return get_typed(*this, key, [](const Value& v) { return v.as_u32(); });
}
int32_t File::get_i32(std::string_view key) const {
    return get_typed(*this, key, [](const Value& v) { return v.as_i32(); });
}
uint64_t File::get_u64(std::string_view key) const {
    return get_typed(*this, key, [](const Value& v) { return v.as_u64(); });
}
int64_t File::get_i64(std::string_view key) const {
    return get_typed(*this, key, [](const Value& v) { return v.as_i64(); });
}
float File::get_f32(std::string_view key) const {
    return get_typed(*this, key, [](const Value& v) { return v.as_f32(); });
}
bool File::get_bool(std::string_view key) const {
    return get_typed(*this, key, [](const Value& v) { return v.as_bool(); });
}
int64_t File::get_int(std::string_view key) const {
    return get_typed(*this, key, [](const Value& v) { return v.as_int(); });
}
double File::get_float(std::string_view key) const {
    return get_typed(*this, key, [](const Value& v) { return v.as_float(); });
}

const TensorInfo* File::find_tensor(std::string_view name) const {
    auto it = tensor_index_.find(name);
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

// =============================================================================================
// Writer
// =============================================================================================
void Writer::set(const std::string& key, Value value) {
    check_limit(key.size(), kMaxKeyBytes, "key length");
    if (key == "general.alignment") {
        check(value.type() == ValueType::U32,
              "general.alignment must be a u32, not " + value.type_string());
        check(is_power_of_two(value.as_u32()), "general.alignment " +
                                                   std::to_string(value.as_u32()) +
                                                   " is not a nonzero power of two");
        check_limit(value.as_u32(), limits::kGgufAlignment, "general.alignment");
    }
    for (KeyValue& kv : kv_) {
        if (kv.first == key) {
            kv.second = std::move(value);
            return;
        }
    }
    kv_.emplace_back(key, std::move(value));
}

bool Writer::remove(std::string_view key) {
    auto it = std::find_if(kv_.begin(), kv_.end(), [&](const KeyValue& kv) { return kv.first == key; });
    if (it == kv_.end()) return false;
    kv_.erase(it);
    return true;
}

const Value* Writer::find(std::string_view key) const {
    for (const KeyValue& kv : kv_) {
        if (kv.first == key) return &kv.second;
    }
    return nullptr;
}

size_t Writer::alignment() const {
    const Value* v = find("general.alignment");
    return v != nullptr ? v->as_u32() : kDefaultAlignment;
}

void Writer::add_tensor(const std::string& name, DType type, int n_dims, const int64_t ne[],
                        const void* data) {
    const std::string what = "tensor " + quoted(name);
    check_limit(name.size(), kMaxTensorNameBytes, what + " name length");
    check(n_dims >= 1 && n_dims <= kMaxDims,
          what + " has " + std::to_string(n_dims) + " dimensions (must be 1 to 4)");
    for (const Tensor& t : tensors_) check(t.name != name, "duplicate tensor name " + quoted(name));

    Tensor t{name, type, n_dims, {1, 1, 1, 1}, {}};
    uint64_t dims[kMaxDims] = {1, 1, 1, 1};
    for (int d = 0; d < n_dims; ++d) {
        check(ne[d] >= 1, what + " has a dimension < 1");
        t.ne[d] = ne[d];
        dims[d] = uint64_t(ne[d]);
    }
    const uint64_t nbytes = checked_tensor_bytes(what, type, n_dims, dims);
    check(nbytes <= std::numeric_limits<size_t>::max(), what + " is too large for this machine");
    check(data != nullptr, what + " has no data");
    const auto* p = static_cast<const uint8_t*>(data);
    t.data.assign(p, p + size_t(nbytes));
    tensors_.push_back(std::move(t));
}

std::vector<uint8_t> Writer::encode_header() const {
    const uint64_t align = alignment();
    std::vector<uint8_t> out;
    put_bytes(out, kMagic, 4);
    put_u32(out, kVersion);
    put_u64(out, tensors_.size());
    put_u64(out, kv_.size());
    for (const KeyValue& kv : kv_) {
        put_string(out, kv.first);
        put_u32(out, uint32_t(kv.second.type()));
        Codec::encode_payload(out, kv.second);
    }
    uint64_t offset = 0;  // tensors are laid out in order, each starting on the alignment
    for (const Tensor& t : tensors_) {
        put_string(out, t.name);
        put_u32(out, uint32_t(t.n_dims));
        for (int d = 0; d < t.n_dims; ++d) put_u64(out, uint64_t(t.ne[d]));
        put_u32(out, uint32_t(t.type));
        put_u64(out, offset);
        offset = align_up(offset + t.data.size(), align);
    }
    return out;
}

template <class Sink>
void Writer::emit(Sink& sink) const {
    const size_t align = alignment();
    const std::vector<uint8_t> header = encode_header();
    sink.write(header.data(), header.size());
    sink.pad_to(align);  // the data section starts aligned, so padding is the same either way
    for (const Tensor& t : tensors_) {
        sink.write(t.data.data(), t.data.size());
        sink.pad_to(align);
    }
}

void Writer::write(const std::string& path) const {
    AtomicWriter out(path);
    emit(out);
    out.commit();
}

std::vector<uint8_t> Writer::to_bytes() const {
    std::vector<uint8_t> bytes;
    VectorSink sink{bytes};
    emit(sink);
    return bytes;
}

Writer Writer::from_file(const File& f) {
    Writer w;
    w.kv_ = f.kv();  // already validated by the reader
    for (const TensorInfo& t : f.tensors()) w.add_tensor(t.name, t.type, t.n_dims, t.ne, t.data);
    return w;
}

}  // namespace mn::gguf
