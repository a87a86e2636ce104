// Splitting a number into digits (image/digit_split.h) on any plane of ink, scored by the
// shipped FC model as Session::read_number does. input: width - 1, height - 1, then the ink
// row by row as bytes (0 = none, 255 = full; missing bytes are 0). The pieces lie inside the
// plane, in order of their left edges, each plane the size of its box.
#include <algorithm>
#include <cmath>

#include "fuzz.h"
#include "image/digit_split.h"
#include "image/mnist_input.h"
#include "session/session.h"

using namespace mn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const Session session(fuzz::shipped_model("mnist-fc-f32.gguf"));
    if (size < 2) return 0;
    Plane ink(int(data[0]) + 1, int(data[1]) + 1);
    for (size_t i = 0; i < ink.size() && 2 + i < size; ++i) ink.v[i] = float(data[2 + i]) / 255.0f;
    fuzz::run([&] {
        const std::vector<DigitPiece> pieces = split_digits(ink, [&](const Plane& piece) {
            const Prediction p = session.predict(mnist_input(piece).data());
            return std::log(std::max(p.probs[size_t(p.digit)], 1e-30f));
        });
        int last_x0 = -1;
        for (const DigitPiece& p : pieces) {
            fuzz::expect(!p.box.empty() && p.box.x0 >= 0 && p.box.y0 >= 0 && p.box.x1 <= ink.w && p.box.y1 <= ink.h,
                         "a piece outside the plane");
            fuzz::expect(p.ink.w == p.box.width() && p.ink.h == p.box.height(), "a piece's plane is not its box");
            fuzz::expect(p.box.x0 >= last_x0, "pieces out of order");
            last_x0 = p.box.x0;
        }
    });
    return 0;
}
