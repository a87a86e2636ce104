// The PyTorch state_dict reader (io/torch_state_dict.h) above the zip layer: the input is a
// pickle and the storages it refers to, which the target packs into an archive as torch.save
// lays it out (archive/data.pkl, archive/data/0, 1, ...), with valid CRCs, so that mutations
// reach the pickle and the tensor decoding (fuzz_zip fuzzes the archive itself).
//   input: u16 pickle length, pickle, then up to 8 storages, each u16 length + bytes
#include <algorithm>
#include <string>

#include "../tests/unit/zip_writer.h"
#include "fuzz.h"
#include "io/torch_state_dict.h"

using namespace mn;

namespace {

// Takes a u16-length-prefixed piece off the front; false when nothing is left.
bool take(const uint8_t*& p, const uint8_t* end, std::string& out) {
    if (end - p < 2) return false;
    size_t n = size_t(p[0]) | size_t(p[1]) << 8;
    p += 2;
    n = std::min(n, size_t(end - p));
    out.assign(reinterpret_cast<const char*>(p), n);
    p += n;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const uint8_t *p = data, *end = data + size;
    test::ZipSpec spec;
    std::string piece;
    if (!take(p, end, piece)) return 0;
    spec.entries.emplace_back("archive/data.pkl", piece);
    for (int i = 0; i < 8 && take(p, end, piece); ++i)
        spec.entries.emplace_back("archive/data/" + std::to_string(i), piece);
    const std::vector<uint8_t> zip = test::make_zip(spec);
    fuzz::run([&] {
        for (const NamedArray& a : parse_torch_state_dict(zip.data(), zip.size())) {
            size_t n = 1;
            for (int64_t d : a.shape) n *= size_t(d);
            fuzz::expect(n == a.data.size(), "a tensor's values do not match its shape");
        }
    });
    return 0;
}
