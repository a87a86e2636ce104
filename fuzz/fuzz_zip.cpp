// The zip reader (io/zip_reader.h): every entry it lists lies inside the archive, is found by
// its name, and reads (or fails its checks) without a read out of bounds.
#include "fuzz.h"
#include "io/zip_reader.h"

using namespace mn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::run([&] {
        const ZipReader zip(data, size);
        for (const ZipEntry& e : zip.entries()) {
            fuzz::expect(zip.find(e.name) == &e, "an entry is not found by its name");
            fuzz::expect(e.data >= data && e.data + e.compressed_size <= data + size, "entry data outside the archive");
            fuzz::run([&] {
                const std::span<const uint8_t> bytes = zip.contents(e);
                volatile unsigned sink = fuzz::touch(bytes.data(), bytes.size());
                (void)sink;
            });
        }
    });
    return 0;
}
