// Loading a model from memory through the C API (include/mnist.h): GGUF, legacy .bin or a
// PyTorch state_dict, found by the first bytes. A buffer either loads, and the model then
// predicts (a 28x28 image and a small picture), or NULL comes back with one line in
// mnist_last_error().
#include <cmath>
#include <vector>

#include "fuzz.h"
#include "mnist.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    mnist_model* m = mnist_load_buffer(data, size);
    if (!m) {
        mn::fuzz::check_message(mnist_last_error());
        return 0;
    }
    const int classes = mnist_model_classes(m);
    mn::fuzz::expect(classes >= 1 && classes <= 1024, "a model with no classes");
    uint8_t pixels[MNIST_PIXELS] = {};
    for (int i = 0; i < MNIST_PIXELS; ++i) pixels[i] = uint8_t((i % 28 > 10 && i % 28 < 16) ? 255 : 0);  // a "1"
    std::vector<float> probs(size_t(classes) * 2);
    int digit = -1;
    mn::fuzz::expect(mnist_predict(m, pixels, &digit, probs.data()) == MNIST_OK, mnist_last_error());
    mn::fuzz::expect(digit >= 0 && digit < classes, "a prediction out of range");
    uint8_t picture[40 * 30] = {};
    for (int y = 5; y < 25; ++y) picture[y * 40 + 20] = 255;
    const mnist_status s = mnist_predict_image(m, picture, 40, 30, 1, &digit, probs.data(), nullptr);
    mn::fuzz::expect(s == MNIST_OK, mnist_last_error());
    mnist_free(m);
    return 0;
}
