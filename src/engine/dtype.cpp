#include "engine/dtype.h"

namespace mn {

namespace {
// ggml's block layouts: q8_0 = f16 scale + 32 int8; q4_0 = f16 scale + 16 bytes of nibbles.
constexpr DTypeInfo kF32{"f32", 1, 4};
constexpr DTypeInfo kF16{"f16", 1, 2};
constexpr DTypeInfo kQ4_0{"q4_0", 32, 2 + 16};
constexpr DTypeInfo kQ8_0{"q8_0", 32, 2 + 32};
constexpr DTypeInfo kI32{"i32", 1, 4};
}  // namespace

std::optional<DType> dtype_from_code(uint32_t code) {
    switch (code) {
        case 0: return DType::F32;
        case 1: return DType::F16;
        case 2: return DType::Q4_0;
        case 8: return DType::Q8_0;
        case 26: return DType::I32;
        default: return std::nullopt;
    }
}

const DTypeInfo& dtype_info(DType t) {
    switch (t) {
        case DType::F32: return kF32;
        case DType::F16: return kF16;
        case DType::Q4_0: return kQ4_0;
        case DType::Q8_0: return kQ8_0;
        case DType::I32: return kI32;
    }
    return kF32;
}

}  // namespace mn
