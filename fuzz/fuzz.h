#pragma once
// What every fuzz target shares. A target feeds its bytes to one reader and checks what the
// project promises of every input from outside: the reader either succeeds (and what it built
// holds together) or throws mn::Error with one clear line; it never crashes, hangs, leaks,
// allocates without bound or trips a sanitizer. Anything else that escapes (std::bad_alloc,
// std::out_of_range, ...) reaches libFuzzer and is a finding, as is a broken promise (abort).
//
// Built with clang and -DMNIST_FUZZ=ON these are libFuzzer binaries (scripts/fuzz.sh runs them);
// otherwise fuzz/replay_main.cpp runs them once over files, which is how ctest replays the
// seeds and the inputs fuzzing found (fuzz/regressions/<target>/) in every build.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "engine/error.h"

#ifndef MNIST_SOURCE_DIR
#define MNIST_SOURCE_DIR "."
#endif

namespace mn::fuzz {

// A promise of the project was broken: say which, and stop (libFuzzer saves the input).
[[noreturn]] inline void broken(const std::string& what) {
    std::fprintf(stderr, "fuzz: broken promise: %s\n", what.c_str());
    std::abort();
}

inline void expect(bool cond, const char* what) {
    if (!cond) broken(what);
}

// An error message is one line, short and not empty.
inline void check_message(const char* msg) {
    const size_t n = std::strlen(msg);
    if (n == 0 || n > 2000 || std::strchr(msg, '\n') || std::strchr(msg, '\r'))
        broken(std::string("not a one-line error message: '") + std::string(msg, n < 300 ? n : 300) + "'");
}

// Runs f(); an mn::Error is a fine answer if its message is one clear line.
template <typename F>
void run(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        check_message(e.what());
    }
}

inline std::string shipped_model(const char* name) { return std::string(MNIST_SOURCE_DIR) + "/models/" + name; }

// Reads every byte of a buffer, so that ASan checks each lies inside its allocation.
inline unsigned touch(const uint8_t* p, size_t n) {
    unsigned sum = 0;
    for (size_t i = 0; i < n; ++i) sum += p[i];
    return sum;
}

}  // namespace mn::fuzz
