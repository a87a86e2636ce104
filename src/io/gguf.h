#pragma once
// GGUF version 3: reader and writer, written from the public GGUF specification.
//
// Layout (all little-endian):
//   magic "GGUF", u32 version (= 3), u64 tensor count, u64 key/value count,
//   key/value pairs:  string key, u32 value type, value,
//   tensor infos:     string name, u32 n_dims, u64 dims[n_dims], u32 ggml type, u64 offset,
//   zero padding up to the alignment (`general.alignment`, u32, default 32),
//   tensor data section; tensor offsets are relative to its start and multiples of the alignment.
// A string is a u64 byte count followed by that many bytes (UTF-8, no terminator).
// An array value is a u32 element type, a u64 element count, then the elements back to back.
//
// The reader treats the file as hostile: every malformed input becomes one mn::Error line
// (which never names the file; the caller adds that), never a crash or a huge allocation.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/dtype.h"

namespace mn {
class MappedFile;
}

namespace mn::gguf {

constexpr uint32_t kVersion = 3;
constexpr uint32_t kDefaultAlignment = 32;
constexpr size_t kMaxKeyBytes = 65535;     // the spec's limit for key names
constexpr size_t kMaxTensorNameBytes = 64;  // the spec's limit for tensor names
constexpr int kMaxDims = 4;

enum class ValueType : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
    STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};

std::string_view value_type_name(ValueType t);  // "u8", "string", "array", ...

struct Codec;  // the file encoder/decoder in gguf.cpp; reads and builds Value internals

// One metadata value: a scalar, a string, or an array of any of these (arrays may nest).
// Arrays of numbers and bools are kept packed, exactly as stored in the file, so a large
// array costs about its size in the file.
class Value {
public:
    // ---- factories (one per GGUF type, so the stored type is never a surprise) ----
    static Value u8(uint8_t v);
    static Value i8(int8_t v);
    static Value u16(uint16_t v);
    static Value i16(int16_t v);
    static Value u32(uint32_t v);
    static Value i32(int32_t v);
    static Value u64(uint64_t v);
    static Value i64(int64_t v);
    static Value f32(float v);
    static Value f64(double v);
    static Value boolean(bool v);
    static Value str(std::string v);

    // Arrays; the element type follows from the C++ element type.
    static Value array(const std::vector<uint8_t>& v);
    static Value array(const std::vector<int8_t>& v);
    static Value array(const std::vector<uint16_t>& v);
    static Value array(const std::vector<int16_t>& v);
    static Value array(const std::vector<uint32_t>& v);
    static Value array(const std::vector<int32_t>& v);
    static Value array(const std::vector<uint64_t>& v);
    static Value array(const std::vector<int64_t>& v);
    static Value array(const std::vector<float>& v);
    static Value array(const std::vector<double>& v);
    static Value array(const std::vector<bool>& v);
    static Value array(const std::vector<std::string>& v);
    // Any element type, including ARRAY (nested arrays). Throws if an item's type differs.
    static Value array(ValueType elem_type, const std::vector<Value>& items);

    // ---- inspection ----
    ValueType type() const { return type_; }
    bool is_array() const { return type_ == ValueType::ARRAY; }
    bool is_integer() const;  // one of the eight integer types
    std::string type_string() const;  // "u32", "string", "array[f32]", "array[array]"

    // Strict accessors: throw Error("expected u32, got string") on any other type.
    uint8_t as_u8() const;
    int8_t as_i8() const;
    uint16_t as_u16() const;
    int16_t as_i16() const;
    uint32_t as_u32() const;
    int32_t as_i32() const;
    uint64_t as_u64() const;
    int64_t as_i64() const;
    float as_f32() const;
    double as_f64() const;
    bool as_bool() const;
    const std::string& as_string() const;

    // Lenient accessors.
    int64_t as_int() const;   // any integer type; throws if a u64 does not fit in i64
    double as_float() const;  // f32 or f64

    // Arrays (all throw if the value is not an array).
    ValueType elem_type() const;
    size_t size() const;  // element count
    Value at(size_t i) const;  // a copy of element i; throws if out of range
    std::vector<int64_t> as_int_array() const;    // elements of any integer type
    std::vector<double> as_float_array() const;   // elements of type f32 or f64
    std::vector<std::string> as_string_array() const;

    // Printable form for dumps: strings quoted and escaped, long strings and arrays shortened.
    std::string to_string() const;

    // Same type and same bits (so NaN == NaN, and 0.0 != -0.0).
    bool operator==(const Value& other) const;

private:
    friend struct Codec;
    Value() = default;

    ValueType type_ = ValueType::U8;
    uint64_t bits_ = 0;  // scalars: the little-endian bytes as in the file, zero-extended
    std::string str_;    // STRING

    // ARRAY: exactly one of the three element stores is used, chosen by elem_type_.
    ValueType elem_type_ = ValueType::U8;
    size_t count_ = 0;
    std::vector<uint8_t> packed_;        // numbers and bools, packed as in the file
    std::vector<std::string> strings_;  // strings
    std::vector<Value> items_;           // nested arrays

    static Value scalar(ValueType t, uint64_t bits);
    void expect(ValueType t) const;
    void expect_array() const;
};

using KeyValue = std::pair<std::string, Value>;

struct TensorInfo {
    std::string name;
    DType type = DType::F32;
    int n_dims = 0;
    int64_t ne[kMaxDims] = {1, 1, 1, 1};  // ne[0] is the innermost (contiguous) dimension
    uint64_t offset = 0;                   // from the start of the data section
    const uint8_t* data = nullptr;         // points into the file's memory map
    size_t nbytes = 0;

    int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

// A parsed GGUF file. Owns the memory map that TensorInfo::data points into, so tensor data
// stays valid for the life of the File (moving a File keeps the pointers valid).
class File {
public:
    static File open(const std::string& path);
    // Parses a buffer the caller owns and keeps alive (for tests and fuzzing).
    static File from_memory(const uint8_t* data, size_t size);

    File(File&&) noexcept;
    File& operator=(File&&) noexcept;
    ~File();

    const std::vector<KeyValue>& kv() const { return kv_; }  // in file order
    const Value* find(std::string_view key) const;            // nullptr if absent
    const Value& get(std::string_view key) const;             // throws "missing key 'x'"

    // Typed getters: throw "missing key 'x'" or "key 'x': expected u32, got string".
    std::string get_string(std::string_view key) const;
    uint32_t get_u32(std::string_view key) const;
    int32_t get_i32(std::string_view key) const;
    uint64_t get_u64(std::string_view key) const;
    int64_t get_i64(std::string_view key) const;
    float get_f32(std::string_view key) const;
    bool get_bool(std::string_view key) const;
    int64_t get_int(std::string_view key) const;  // any integer type
    double get_float(std::string_view key) const;  // f32 or f64

    const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in file order
    const TensorInfo* find_tensor(std::string_view name) const;         // nullptr if absent

    uint32_t version() const { return kVersion; }
    size_t alignment() const { return alignment_; }
    // Start of the data section: end of the tensor infos rounded up to the alignment.
    // For a file without tensors this may lie past the end of the file.
    uint64_t data_offset() const { return data_offset_; }
    size_t file_size() const { return size_; }

private:
    friend struct Codec;
    File() = default;

    std::unique_ptr<MappedFile> map_;  // null for from_memory
    const uint8_t* base_ = nullptr;
    size_t size_ = 0;
    std::vector<KeyValue> kv_;
    std::map<std::string, size_t, std::less<>> kv_index_;
    std::vector<TensorInfo> tensors_;
    std::map<std::string, size_t, std::less<>> tensor_index_;
    size_t alignment_ = kDefaultAlignment;
    uint64_t data_offset_ = 0;
};

// Builds a GGUF file in memory and writes it atomically (temp file + fsync + rename).
// Tensor data is COPIED by add_tensor, so the caller's buffer may be freed right after.
class Writer {
public:
    Writer() = default;

    // Adds a key, or replaces the value of an existing key in place (its position is kept).
    // `general.alignment` must be a u32 power of two; if never set, the default 32 applies
    // and the key is not written.
    void set(const std::string& key, Value value);
    bool remove(std::string_view key);  // true if the key was present
    const Value* find(std::string_view key) const;
    const std::vector<KeyValue>& kv() const { return kv_; }

    // Only ne[0..n_dims-1] are read. Throws on a bad shape, a duplicate name, or a name
    // longer than the spec allows. Copies row_bytes(type, ne[0]) * ne[1] * ... bytes of data.
    void add_tensor(const std::string& name, DType type, int n_dims, const int64_t ne[],
                    const void* data);
    size_t tensor_count() const { return tensors_.size(); }

    size_t alignment() const;
    void write(const std::string& path) const;
    // The whole file as bytes (what write() puts on disk).
    std::vector<uint8_t> to_bytes() const;

    // Copies every key and tensor of `f`, in file order. Writing the result reproduces
    // a file made by this Writer byte for byte.
    static Writer from_file(const File& f);

private:
    struct Tensor {
        std::string name;
        DType type;
        int n_dims;
        int64_t ne[kMaxDims];
        std::vector<uint8_t> data;
    };
    std::vector<KeyValue> kv_;
    std::vector<Tensor> tensors_;

    std::vector<uint8_t> encode_header() const;
    template <class Sink>
    void emit(Sink& sink) const;  // header, padding, tensor data; defined in gguf.cpp
};

}  // namespace mn::gguf
