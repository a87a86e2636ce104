#include "session/session.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#include "engine/executor.h"
#include "image/digit_split.h"
#include "image/ink.h"
#include "io/mapped_file.h"
#include "models/inference.h"
#include "models/model_io.h"
#include "models/saliency.h"
#include "session/status.h"

namespace mn {

namespace {
constexpr int64_t kBatch = 64;  // most images per graph evaluation in predict_batch
constexpr size_t kKeptBatchGraphs = 3;  // batch graphs of different sizes a worker keeps
constexpr int64_t kPixels = int64_t(kMnistSide) * kMnistSide;

Model load_file(const std::string& path) {
    auto map = with_status(Status::CannotRead, [&] { return std::make_shared<const MappedFile>(path); });
    return with_status(Status::BadModel, [&] { return load_model({map->data(), map->size()}, map); });
}

Model load_bytes(const uint8_t* data, size_t size) {
    if (data == nullptr && size > 0) throw StatusError(Status::InvalidArgument, "no model bytes");
    static const uint8_t none = 0;
    return with_status(Status::BadModel, [&] { return load_model_from_memory(data ? data : &none, size); });
}
}  // namespace

// An executor whose one thread is the caller's, and the graphs it evaluates.
struct Session::Worker {
    Executor executor{1};
    Predictor single;
    std::vector<std::unique_ptr<Predictor>> batches;  // made by predict_batch, by size
    std::unique_ptr<Saliency> saliency;  // made at the first saliency()
    explicit Worker(const Model& m) : single(m, 1, executor) {}

    // The graph for batches of `size` images: kept, so calls of the same sizes reuse theirs
    // (the oldest of kKeptBatchGraphs is dropped for a new size).
    Predictor& batch(const Model& m, int64_t size) {
        for (const auto& p : batches)
            if (p->batch() == size) return *p;
        if (batches.size() == kKeptBatchGraphs) batches.erase(batches.begin());
        batches.push_back(std::make_unique<Predictor>(m, size, executor));
        return *batches.back();
    }
};

// A worker taken from the pool for one call and given back when the call ends.
class Session::Lease {
public:
    explicit Lease(const Session& s) : s_(s) {
        {
            std::lock_guard<std::mutex> lock(s.mutex_);
            if (!s.idle_.empty()) {
                w_ = std::move(s.idle_.back());
                s.idle_.pop_back();
            }
        }
        if (!w_) w_ = s.make_worker();
    }
    ~Lease() {
        std::lock_guard<std::mutex> lock(s_.mutex_);
        s_.idle_.push_back(std::move(w_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Worker* operator->() { return w_.get(); }

private:
    const Session& s_;
    std::unique_ptr<Worker> w_;
};

Session::Session(const std::string& path) : Session(load_file(path)) {}
Session::Session(const uint8_t* data, size_t size) : Session(load_bytes(data, size)) {}

Session::Session(Model model) : model_(std::move(model)) {
    with_status(Status::BadModel, [&] {
        const int64_t pixels = model_input_pixels(model_);
        check(pixels == kPixels, "the model takes " + std::to_string(pixels) + " pixels, not 28x28");
        n_classes_ = int(find_architecture(model_.arch).n_classes(model_));
        idle_.push_back(make_worker());  // builds the graph: a model that cannot run fails here
    });
}

Session::~Session() = default;

std::unique_ptr<Session::Worker> Session::make_worker() const {
    auto w = std::make_unique<Worker>(model_);
    std::lock_guard<std::mutex> lock(mutex_);
    ++n_workers_;
    return w;
}

size_t Session::n_workers() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return n_workers_;
}

namespace {
Prediction read_prediction(const Predictor& p, int64_t i) {
    Prediction r;
    r.digit = p.predicted(i);
    r.probs.assign(p.probs(i), p.probs(i) + p.n_classes());
    return r;
}
}  // namespace

Prediction Session::predict(const uint8_t* pixels) const {
    if (pixels == nullptr) throw StatusError(Status::InvalidArgument, "no pixels");
    Lease w(*this);
    w->single.run(pixels, 1);
    return read_prediction(w->single, 0);
}

std::vector<Prediction> Session::predict_batch(const uint8_t* pixels, size_t n) const {
    if (pixels == nullptr && n > 0) throw StatusError(Status::InvalidArgument, "no pixels");
    std::vector<Prediction> out;
    out.reserve(n);
    if (n == 0) return out;
    if (n == 1) return {predict(pixels)};
    Lease w(*this);
    // As few graph evaluations as kBatch allows, of equal sizes: a static graph computes its
    // whole batch, so 100 images as 64 + 36 would cost 128 (as 50 + 50, 100).
    const int64_t runs = (int64_t(n) + kBatch - 1) / kBatch;
    const int64_t size = (int64_t(n) + runs - 1) / runs;
    Predictor& p = w->batch(model_, size);
    for (size_t done = 0; done < n; done += size_t(size)) {
        const int64_t k = std::min<int64_t>(size, int64_t(n - done));
        p.run(pixels + done * size_t(kPixels), k);
        for (int64_t i = 0; i < k; ++i) out.push_back(read_prediction(p, i));
    }
    return out;
}

std::vector<float> Session::saliency(const uint8_t* pixels, int cls) const {
    if (pixels == nullptr) throw StatusError(Status::InvalidArgument, "no pixels");
    if (cls < 0 || cls >= n_classes_)
        throw StatusError(Status::InvalidArgument,
                          "class " + std::to_string(cls) + " is not between 0 and " + std::to_string(n_classes_ - 1));
    Lease w(*this);
    if (!w->saliency) w->saliency = std::make_unique<Saliency>(model_, w->executor);
    const float* g = w->saliency->run(pixels, cls);
    return std::vector<float>(g, g + w->saliency->n_pixels());
}

InkMap image_ink(const ImageView& img) {
    if (img.pixels == nullptr) throw StatusError(Status::InvalidArgument, "no pixels");
    if (over_pixel_limit(img.width, img.height))
        throw StatusError(Status::ImageTooLarge, pixel_limit_message(img.width, img.height));
    InkMap ink = with_status(Status::BadImage, [&] { return extract_ink(img); });
    if (ink.ink_pixels == 0) throw StatusError(Status::NoDigit, "no digit found: the image is blank");
    return ink;
}

MnistPixels preprocess_image(const ImageView& img) { return mnist_input(image_ink(img).ink); }

ImagePrediction Session::predict_image(const ImageView& img) const {
    const InkMap ink = image_ink(img);
    ImagePrediction r;
    r.box = ink_box(ink.ink);
    r.input = mnist_input(ink.ink, r.box);
    r.prediction = predict(r.input.data());
    return r;
}

NumberReading Session::read_number(const ImageView& img) const {
    const InkMap ink = image_ink(img);
    NumberReading r;
    // A piece's score: how sure the model is of its digit (log of the top probability).
    const std::vector<DigitPiece> pieces = split_digits(ink.ink, [&](const Plane& piece) {
        const Prediction p = predict(mnist_input(piece).data());
        return std::log(std::max(p.probs[size_t(p.digit)], 1e-30f));
    });
    std::vector<uint8_t> inputs;
    for (const DigitPiece& p : pieces) {
        ImagePrediction d;
        d.box = p.box;
        d.input = mnist_input(p.ink);
        inputs.insert(inputs.end(), d.input.begin(), d.input.end());
        r.digits.push_back(d);
    }
    const std::vector<Prediction> preds = predict_batch(inputs.data(), r.digits.size());
    for (size_t i = 0; i < preds.size(); ++i) {
        r.digits[i].prediction = preds[i];
        r.number += char('0' + preds[i].digit);
    }
    return r;
}

}  // namespace mn
