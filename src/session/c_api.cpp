// include/mnist.h over mn::Session: every entry point catches what the session throws and
// turns it into a status and this thread's last-error message.
#include "mnist.h"

#include <cstring>
#include <new>
#include <string>

#include "session/session.h"
#include "session/status.h"

struct mnist_model {
    mn::Session session;
    template <typename... A>
    explicit mnist_model(A&&... a) : session(std::forward<A>(a)...) {}
};

static_assert(int(MNIST_INTERNAL) == int(mn::Status::Internal) && int(MNIST_NO_DIGIT) == int(mn::Status::NoDigit) &&
                  int(MNIST_BAD_MODEL) == int(mn::Status::BadModel),
              "mnist_status numbers mn::Status");
static_assert(MNIST_PIXELS == mn::kMnistSide * mn::kMnistSide, "28x28");

namespace {

thread_local std::string last_error;

mnist_status fail(mn::Status s, const std::string& what) {
    last_error = what;
    return static_cast<mnist_status>(s);
}

// Runs f(), which returns nothing; every exception becomes a status.
template <typename F>
mnist_status guarded(F&& f) {
    try {
        f();
        return MNIST_OK;
    } catch (const mn::StatusError& e) {
        return fail(e.status(), e.what());
    } catch (const mn::Error& e) {
        return fail(mn::Status::InvalidArgument, e.what());
    } catch (const std::bad_alloc&) {
        return fail(mn::Status::OutOfMemory, "out of memory");
    } catch (const std::exception& e) {
        return fail(mn::Status::Internal, e.what());
    }
}

void check_arg(bool ok, const std::string& what) {
    if (!ok) throw mn::StatusError(mn::Status::InvalidArgument, what);
}

template <typename... A>
mnist_model* load(A&&... a) {
    mnist_model* m = nullptr;
    guarded([&] { m = new mnist_model(std::forward<A>(a)...); });
    return m;
}

void write_prediction(const mn::Prediction& p, int* digit, float* probs) {
    if (digit) *digit = p.digit;
    if (probs) std::memcpy(probs, p.probs.data(), p.probs.size() * sizeof(float));
}

mn::ImageView view(const uint8_t* pixels, int width, int height, int channels) {
    check_arg(pixels != nullptr, "pixels is NULL");
    check_arg(width >= 1 && height >= 1, "width and height must be at least 1");
    check_arg(channels >= 1 && channels <= 4, "channels must be 1 to 4");
    return {pixels, width, height, channels};
}

}  // namespace

extern "C" {

mnist_model* mnist_load_file(const char* path) {
    if (!path) {
        fail(mn::Status::InvalidArgument, "path is NULL");
        return nullptr;
    }
    return load(std::string(path));
}

mnist_model* mnist_load_buffer(const void* data, size_t size) {
    if (!data) {
        fail(mn::Status::InvalidArgument, "data is NULL");
        return nullptr;
    }
    return load(static_cast<const uint8_t*>(data), size);
}

void mnist_free(mnist_model* model) { delete model; }

const char* mnist_model_arch(const mnist_model* model) { return model ? model->session.model().arch.c_str() : ""; }

int mnist_model_classes(const mnist_model* model) { return model ? model->session.n_classes() : 0; }

mnist_status mnist_predict(mnist_model* model, const uint8_t* pixels, int* digit, float* probs) {
    return guarded([&] {
        check_arg(model && pixels, "model or pixels is NULL");
        write_prediction(model->session.predict(pixels), digit, probs);
    });
}

mnist_status mnist_predict_batch(mnist_model* model, const uint8_t* pixels, size_t n, int* digits, float* probs) {
    return guarded([&] {
        check_arg(model && (pixels || n == 0), "model or pixels is NULL");
        const std::vector<mn::Prediction> r = model->session.predict_batch(pixels, n);
        const size_t classes = size_t(model->session.n_classes());
        for (size_t i = 0; i < r.size(); ++i)
            write_prediction(r[i], digits ? digits + i : nullptr, probs ? probs + i * classes : nullptr);
    });
}

mnist_status mnist_predict_image(mnist_model* model, const uint8_t* pixels, int width, int height, int channels,
                                 int* digit, float* probs, uint8_t* input) {
    return guarded([&] {
        check_arg(model != nullptr, "model is NULL");
        const mn::ImagePrediction r = model->session.predict_image(view(pixels, width, height, channels));
        write_prediction(r.prediction, digit, probs);
        if (input) std::memcpy(input, r.input.data(), r.input.size());
    });
}

mnist_status mnist_read_number(mnist_model* model, const uint8_t* pixels, int width, int height, int channels,
                               char* number, size_t capacity, float* confidences) {
    return guarded([&] {
        check_arg(model && number, "model or number is NULL");
        const mn::NumberReading r = model->session.read_number(view(pixels, width, height, channels));
        check_arg(r.number.size() < capacity, "the number has " + std::to_string(r.number.size()) +
                                                  " digits: it needs a buffer of " +
                                                  std::to_string(r.number.size() + 1) + " bytes");
        std::memcpy(number, r.number.c_str(), r.number.size() + 1);
        if (confidences)
            for (size_t i = 0; i < r.digits.size(); ++i)
                confidences[i] = r.digits[i].prediction.probs[size_t(r.digits[i].prediction.digit)];
    });
}

mnist_status mnist_saliency(mnist_model* model, const uint8_t* pixels, int cls, float* gradient) {
    return guarded([&] {
        check_arg(model && pixels && gradient, "model, pixels or gradient is NULL");
        const std::vector<float> g = model->session.saliency(pixels, cls);
        std::memcpy(gradient, g.data(), g.size() * sizeof(float));
    });
}

mnist_status mnist_preprocess(const uint8_t* pixels, int width, int height, int channels, uint8_t* out) {
    return guarded([&] {
        check_arg(out != nullptr, "out is NULL");
        const mn::MnistPixels p = mn::preprocess_image(view(pixels, width, height, channels));
        std::memcpy(out, p.data(), p.size());
    });
}

const char* mnist_last_error(void) { return last_error.c_str(); }

const char* mnist_status_string(mnist_status status) { return mn::status_string(static_cast<mn::Status>(status)); }

const char* mnist_version(void) { return MNIST_VERSION; }

}  // extern "C"
