// The legacy ggml .bin (io/legacy_ggml.h): every tensor it accepts holds exactly its shape's
// values.
#include "fuzz.h"
#include "io/legacy_ggml.h"

using namespace mn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::run([&] {
        size_t values = 0;
        for (const LegacyTensor& t : parse_legacy_ggml(data, size)) {
            fuzz::expect(t.data.size() == size_t(t.nelements()), "a tensor's values do not match its shape");
            values += t.data.size();
        }
        fuzz::expect(4 + values * sizeof(float) <= size, "more values than the file holds");
    });
    return 0;
}
