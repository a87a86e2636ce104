// Our DEFLATE decoder (io/inflate.h), alone: the first byte says which wrapper the rest has
// (0 raw DEFLATE, 1 zlib, 2 gzip). Output is bounded by a limit of 1 MB here; a stream that
// decodes must decode the same under a limit of exactly its size, and fail under one byte less.
#include <vector>

#include "fuzz.h"
#include "io/inflate.h"

using namespace mn;

namespace {

constexpr size_t kLimit = size_t(1) << 20;

std::vector<uint8_t> decode(int mode, const uint8_t* data, size_t size, size_t limit) {
    if (mode == 0) return inflate_raw(data, size, limit);
    if (mode == 1) return inflate_zlib(data, size, limit);
    return gunzip(data, size, limit);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const int mode = data[0] % 3;
    std::vector<uint8_t> out;
    bool ok = false;
    fuzz::run([&] {
        out = decode(mode, data + 1, size - 1, kLimit);
        ok = true;
    });
    if (!ok) return 0;
    fuzz::expect(out.size() <= kLimit, "output over the limit");
    fuzz::expect(decode(mode, data + 1, size - 1, out.size()) == out, "a limit of the output's size changed it");
    if (!out.empty()) {
        bool refused = false;
        try {
            decode(mode, data + 1, size - 1, out.size() - 1);
        } catch (const Error& e) {
            refused = std::strstr(e.what(), "limit") != nullptr;
        }
        fuzz::expect(refused, "output over the limit was not refused");
    }
    return 0;
}
