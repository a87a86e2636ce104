// Training data through the C API (include/mnist.h), the web page's path: an IDX images file and
// an IDX labels file (plain or gzip), one after the other, the first 4 bytes (little-endian) the
// images' length. Either the set loads (then the shipped FC network scores it, and the small
// CNN trains a batch on it with a finite loss and saves bytes that load again), or NULL comes
// back with one line in mnist_last_error().
#include <cmath>
#include <cstdlib>
#include <string>

#include "fuzz.h"
#include "mnist.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 4) return 0;
    const size_t n_images = size_t(data[0]) | size_t(data[1]) << 8 | size_t(data[2]) << 16 | size_t(data[3]) << 24;
    if (n_images > size - 4) return 0;
    mnist_dataset* set = mnist_dataset_load(data + 4, n_images, data + 4 + n_images, size - 4 - n_images);
    if (!set) {
        mn::fuzz::check_message(mnist_last_error());
        return 0;
    }
    const size_t count = mnist_dataset_count(set);
    mn::fuzz::expect(count >= 1, "an empty set was accepted");

    static mnist_model* fc = mnist_load_file(MNIST_SOURCE_DIR "/models/mnist-fc-f32.gguf");
    mn::fuzz::expect(fc != nullptr, "the shipped FC network does not load");
    size_t correct = count + 1;
    double loss = -1;
    const size_t scored = count < 64 ? count : 64;
    mn::fuzz::expect(mnist_evaluate(fc, set, 0, scored, &correct, &loss) == MNIST_OK, mnist_last_error());
    mn::fuzz::expect(correct <= scored && std::isfinite(loss) && loss >= 0, "an evaluation out of range");

    const size_t n_train = count < 16 ? count : 16, n_val = count - n_train < 8 ? count - n_train : 8;
    mnist_trainer* t = mnist_trainer_new("mnist-cnn", "fast", set, n_train, n_val, 1, 0, 1);
    mnist_dataset_free(set);  // (the trainer has its own copy)
    mn::fuzz::expect(t != nullptr, mnist_last_error());
    mnist_train_progress p{};
    mn::fuzz::expect(mnist_trainer_step(t, 1, &p) == MNIST_OK, mnist_last_error());
    mn::fuzz::expect(p.finished == 1 && p.images_done == int(n_train) && std::isfinite(p.loss), "one batch did not train");
    void* bytes = nullptr;
    size_t n_bytes = 0;
    mn::fuzz::expect(mnist_trainer_save_buffer(t, &bytes, &n_bytes) == MNIST_OK, mnist_last_error());
    mnist_model* m = mnist_load_buffer(bytes, n_bytes);
    mn::fuzz::expect(m != nullptr, mnist_last_error());
    mnist_free(m);
    std::free(bytes);
    mnist_trainer_free(t);
    return 0;
}
