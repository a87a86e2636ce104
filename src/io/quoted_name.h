#pragma once
// A name read from an untrusted file, fit for a one-line error message: quoted, control and
// non-ASCII bytes shown as '?', and cut after 80 characters (hostile names can be huge).
#include <string>
#include <string_view>

namespace mn {

inline std::string quoted_name(std::string_view s) {
    constexpr size_t kMax = 80;
    std::string out = "'";
    for (size_t i = 0; i < s.size() && i < kMax; ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
    }
    return out + (s.size() > kMax ? "...'" : "'");
}

}  // namespace mn
