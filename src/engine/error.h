#pragma once
// One exception type for every recoverable failure (bad file, bad argument, bad shape).
// The CLI turns it into a single `error: ...` line and a non-zero exit.
#include <stdexcept>
#include <string>

namespace mn {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Throws Error(msg) when cond is false. Used for input validation, not for programmer bugs.
inline void check(bool cond, const std::string& msg) {
    if (!cond) throw Error(msg);
}

}  // namespace mn
