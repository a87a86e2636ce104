#pragma once
// Bits and sizes: one value's bits read as another type of the same size (std::bit_cast, which
// the WebAssembly toolchain's C++ library lacks), and sizes rounded up to an alignment.
#include <cstring>
#include <type_traits>

namespace mn {

template <class To, class From>
To bit_cast(const From& from) {
    static_assert(sizeof(To) == sizeof(From) && std::is_trivially_copyable_v<From> && std::is_trivially_copyable_v<To>);
    To to;
    std::memcpy(&to, &from, sizeof(To));
    return to;
}

// n rounded up to a multiple of `alignment` (> 0; the caller keeps n + alignment - 1 in range).
template <class N, class A>
constexpr std::common_type_t<N, A> align_up(N n, A alignment) {
    using T = std::common_type_t<N, A>;
    return (T(n) + T(alignment) - 1) / T(alignment) * T(alignment);
}

}  // namespace mn
