#pragma once
// One exception type for every recoverable failure (bad file, bad argument, bad shape).
// The CLI turns it into a single `error: ...` line and a non-zero exit.
#include <stdexcept>
#include <string>
#include <string_view>

namespace mn {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Throws Error(msg) when cond is false. Used for input validation, not for programmer bugs.
inline void check(bool cond, const std::string& msg) {
    if (!cond) throw Error(msg);
}

// Text from outside (a name or key in a file, a decoder's reason) made safe for one line of an
// error message: bytes outside printable ASCII as \xNN, at most max_shown bytes, then "...".
inline std::string printable(std::string_view s, size_t max_shown = 80) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < s.size() && i < max_shown; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    if (s.size() > max_shown) out += "...";
    return out;
}

}  // namespace mn
