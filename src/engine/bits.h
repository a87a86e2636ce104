#pragma once
// The bits of one value read as another type of the same size (std::bit_cast, which the
// WebAssembly toolchain's C++ library lacks).
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

}  // namespace mn
