#pragma once
// Every size that comes from outside (a model file, a data set, an archive, an image, an HTTP
// request) is bounded by one of the limits below and checked with the helpers below, before
// anything is allocated for it. A reader never multiplies or adds such sizes itself: mul_size
// and add_size fail on overflow, check_limit and SizeBudget fail above a limit, all with one
// line that says what was too large and what the limit is ("... is over the limit of ...").
//
// The limits are far above what any real file of this project holds (the largest model is
// 1.6 MB, MNIST's training set 47 MB) and low enough that a hostile input costs at most a few
// hundred MB of memory and a second or two of work.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/error.h"

namespace mn {

namespace limits {

// ---- model files (GGUF, legacy .bin, PyTorch state_dict) ----
// Elements of one tensor: at most 1 GiB of data for every type we read (4 bytes or fewer each).
constexpr uint64_t kTensorElements = uint64_t(1) << 28;
constexpr uint64_t kTensors = 4096;                      // per file
constexpr uint64_t kModelElements = uint64_t(1) << 28;   // all tensors a reader copies, together
// GGUF metadata: key/value pairs, one string's bytes, one array's elements, and the memory
// all decoded values take together (strings and arrays cost more in memory than in the file).
constexpr uint64_t kMetadataEntries = uint64_t(1) << 16;
constexpr uint64_t kStringBytes = uint64_t(1) << 24;
constexpr uint64_t kArrayElements = uint64_t(1) << 24;
constexpr uint64_t kMetadataBytes = uint64_t(64) << 20;
// general.alignment (ggml writes 32): each tensor is padded to it, so a file that asks for 1 GB
// would make a rewrite of it write 1 GB a tensor.
constexpr uint64_t kGgufAlignment = uint64_t(1) << 16;

// ---- archives and compressed data ----
constexpr uint64_t kArchiveEntries = uint64_t(1) << 16;     // zip central directory entries
constexpr uint64_t kArchiveEntryBytes = uint64_t(1) << 31;  // one (stored) zip entry
constexpr uint64_t kDecompressedBytes = uint64_t(1) << 30;  // what one gzip file inflates to
// The pickle machine: values created (also the stack height), references held by containers,
// MARKs open at once, memo entries.
constexpr uint64_t kPickleObjects = uint64_t(1) << 20;
constexpr uint64_t kPickleReferences = uint64_t(1) << 24;
constexpr uint64_t kPickleMarks = 256;

// ---- data sets (IDX) ----
constexpr uint64_t kIdxSide = 4096;  // rows and columns of one image

// ---- images (decoded by stb_image, or handed over as pixels) ----
constexpr uint64_t kImagePixels = 40'000'000;            // phone photos; ~200 MB to work on
constexpr uint64_t kImageFileBytes = uint64_t(256) << 20;  // an image file read whole

// ---- HTTP requests (mnist serve; the defaults of its options) ----
constexpr uint64_t kRequestBodyBytes = uint64_t(1) << 20;
constexpr uint64_t kRequestHeaderBytes = uint64_t(16) << 10;
constexpr uint64_t kJsonDepth = 8;  // nesting of a JSON body's arrays ([N, 1, 28, 28] needs 5)

}  // namespace limits

// "<what> <n> is over the limit of <limit>" unless n <= limit. Returns n.
inline uint64_t check_limit(uint64_t n, uint64_t limit, std::string_view what) {
    if (n > limit)
        throw Error(std::string(what) + " " + std::to_string(n) + " is over the limit of " + std::to_string(limit));
    return n;
}

// a * b and a + b of sizes from outside; "<what> overflows" when the result does not fit.
inline uint64_t mul_size(uint64_t a, uint64_t b, std::string_view what) {
    uint64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) throw Error(std::string(what) + " overflows");
    return r;
}
inline uint64_t add_size(uint64_t a, uint64_t b, std::string_view what) {
    uint64_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) throw Error(std::string(what) + " overflows");
    return r;
}

// A running total that must stay within a limit: the elements of all tensors of a file, the
// memory of all metadata values, the references a pickle's containers hold.
class SizeBudget {
public:
    SizeBudget(uint64_t limit, const char* what) : limit_(limit), what_(what) {}
    void spend(uint64_t n) {
        if (n > limit_ - used_)
            throw Error(std::string(what_) + " " + std::to_string(add_size(used_, n, what_)) +
                        " is over the limit of " + std::to_string(limit_));
        used_ += n;
    }
    uint64_t used() const { return used_; }

private:
    uint64_t limit_;
    const char* what_;
    uint64_t used_ = 0;
};

}  // namespace mn
