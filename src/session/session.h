#pragma once
// One surface for every front end (the CLI, the server, the C API, a WebAssembly page): load a
// model from a file or from bytes, validate it once, and predict digits from 28x28 pixels, from
// any image (made MNIST-like first: image/ink.h, image/mnist_input.h) or a number from an
// image of several digits (image/digit_split.h).
//
// A Session is safe to call from several threads at once. It keeps a pool of workers (an
// executor with one thread, which is the caller's, and a static graph for one image and one for
// a batch): a call takes a free worker, or makes one when all are busy, and gives it back, so
// there are as many workers as there were calls at once, each with its own activations and
// packed weights (and, once asked for one, a saliency graph); the weights themselves are
// shared, read-only.
//
// Every failure is a StatusError (session/status.h): its status says the kind, its message the
// detail.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "image/image.h"
#include "image/ink.h"
#include "image/mnist_input.h"
#include "models/model.h"

namespace mn {

struct Prediction {
    int digit = -1;
    std::vector<float> probs;  // [n_classes], summing to 1
};

// A digit read from an image: the prediction, the 28x28 input the model saw, and where in the
// image (in the pixels of the working image, see image/ink.h) the digit was found.
struct ImagePrediction {
    Prediction prediction;
    MnistPixels input{};
    Box box;
};

struct NumberReading {
    std::string number;                  // the digits left to right, e.g. "2026"
    std::vector<ImagePrediction> digits;
};

// The ink of an image (image/ink.h), checked: ImageTooLarge, BadImage, NoDigit.
InkMap image_ink(const ImageView& img);
// The MNIST-like 28x28 of a one-digit image (image_ink, then mnist_input).
MnistPixels preprocess_image(const ImageView& img);

class Session {
public:
    explicit Session(const std::string& path);        // CannotRead, BadModel
    Session(const uint8_t* data, size_t size);        // BadModel; the bytes are copied
    explicit Session(Model model);                    // BadModel
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    const Model& model() const { return model_; }
    int n_classes() const { return n_classes_; }

    // pixels: 28 * 28 bytes, row-major, 0 = background, 255 = ink (as MNIST).
    Prediction predict(const uint8_t* pixels) const;
    // n images one after another (784 bytes each).
    std::vector<Prediction> predict_batch(const uint8_t* pixels, size_t n) const;
    // One digit in any image (BadImage, ImageTooLarge, NoDigit).
    ImagePrediction predict_image(const ImageView& img) const;
    // Several digits side by side (NoDigit when there is no ink at all).
    NumberReading read_number(const ImageView& img) const;
    // Where the model looks (models/saliency.h): d logit[cls] / d pixel for the 784 pixels of a
    // 28x28 image (InvalidArgument for a class out of range).
    std::vector<float> saliency(const uint8_t* pixels, int cls) const;

    // Workers made so far (the most calls that ran at once).
    size_t n_workers() const;

private:
    struct Worker;
    class Lease;
    std::unique_ptr<Worker> make_worker() const;

    Model model_;
    int n_classes_ = 0;
    mutable std::mutex mutex_;
    mutable std::vector<std::unique_ptr<Worker>> idle_;
    mutable size_t n_workers_ = 0;
};

}  // namespace mn
