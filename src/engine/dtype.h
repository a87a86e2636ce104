#pragma once
// Element types, numbered exactly as ggml's `ggml_type` so that GGUF files interoperate.
// Quantized types store blocks of `block_size` elements in `block_bytes` bytes.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mn {

enum class DType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8,
    I32 = 26,
};

struct DTypeInfo {
    std::string_view name;
    int64_t block_size;   // elements per block (1 for plain types)
    size_t block_bytes;   // bytes per block
};

// Returns nullopt for a numeric code we do not know (e.g. read from a file).
std::optional<DType> dtype_from_code(uint32_t code);
const DTypeInfo& dtype_info(DType t);
inline std::string_view dtype_name(DType t) { return dtype_info(t).name; }

// Bytes taken by a row of `n` elements; n must be a multiple of the block size.
inline size_t row_bytes(DType t, int64_t n) {
    const DTypeInfo& i = dtype_info(t);
    return static_cast<size_t>(n / i.block_size) * i.block_bytes;
}

}  // namespace mn
