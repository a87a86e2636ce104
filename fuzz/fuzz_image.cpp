// An image file as `mnist predict` reads one (frontend/image_file.h, stb_image): decoded under
// the pixel limit, then made MNIST-like (image/ink.h, image/mnist_input.h) and classified by
// the shipped FC model. A decoded image has the size it says; a prediction is a digit with
// probabilities that sum to 1.
#include <cmath>
#include <memory>

#include "frontend/image_file.h"
#include "fuzz.h"
#include "session/session.h"

using namespace mn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const Session session(fuzz::shipped_model("mnist-fc-f32.gguf"));
    fuzz::run([&] {
        const DecodedImage img = decode_image(data, size);
        fuzz::expect(img.width >= 1 && img.height >= 1 && img.channels >= 1 && img.channels <= 4, "bad decoded size");
        fuzz::expect(!over_pixel_limit(img.width, img.height), "an image over the pixel limit was decoded");
        volatile unsigned sink = fuzz::touch(img.pixels.get(), size_t(img.width) * size_t(img.height) * size_t(img.channels));
        (void)sink;
        const ImagePrediction r = session.predict_image(img.view());
        fuzz::expect(r.prediction.digit >= 0 && r.prediction.digit < 10, "no digit");
        double sum = 0;
        for (float p : r.prediction.probs) sum += p;
        fuzz::expect(std::fabs(sum - 1.0) < 1e-3, "probabilities do not sum to 1");
        fuzz::expect(!r.box.empty(), "a digit without a box");
    });
    return 0;
}
