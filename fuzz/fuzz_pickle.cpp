// The pickle machine (io/pickle.h): any opcode stream, bounded in objects, stack, memo, marks
// and references; the graph it builds (cycles included) can be described.
#include "fuzz.h"
#include "io/pickle.h"

using namespace mn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzz::run([&] {
        const Pickle p = parse_pickle(data, size);
        fuzz::expect(p.root() != nullptr, "no root");
        fuzz::expect(p.object_count() <= limits::kPickleObjects, "more objects than the limit");
        fuzz::check_message(describe(p.root()).c_str());  // as error messages show values
        describe(p.root(), 8);                            // deeper, through shared nodes and cycles
    });
    return 0;
}
