// include/mnist.h over mn::Session: every entry point catches what the session throws and
// turns it into a status and this thread's last-error message.
#include "mnist.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "engine/executor.h"
#include "io/idx.h"
#include "models/checkpoint.h"
#include "models/evaluate.h"
#include "models/model_io.h"
#include "models/trainer.h"
#include "session/session.h"
#include "session/status.h"

struct mnist_model {
    mn::Session session;
    template <typename... A>
    explicit mnist_model(A&&... a) : session(std::forward<A>(a)...) {}
};

// Labelled images, decoded and checked once.
struct mnist_dataset {
    mn::IdxImages images;
    mn::IdxLabels labels;
};

// A network in training: the model, its own copy of the images it trains and validates on, and
// mn::Trainer's loop run a few batches per call (its should_stop ends a call). The epoch's
// running totals are kept here across calls, since each call of Trainer::fit counts from zero.
struct mnist_trainer {
    mn::Model model;
    mn::TrainConfig config;
    mn::IdxImages images;  // [0, n_train) trains, the rest validates
    mn::IdxLabels labels;
    mn::Executor executor{1};  // the calling thread only
    std::unique_ptr<mn::Trainer> trainer;
    mn::TrainPosition pos;
    bool finished = false;
    double epoch_loss_sum = 0.0;  // over the images of the current epoch trained so far
    int64_t epoch_correct = 0, epoch_seen = 0;
    double last_loss = 0.0, last_accuracy = 0.0;  // the last finished epoch's
    double val_loss = -1.0, val_accuracy = -1.0;
};

static_assert(int(MNIST_BAD_DATA) == int(mn::Status::BadData) && int(MNIST_INTERNAL) == int(mn::Status::Internal) && int(MNIST_NO_DIGIT) == int(mn::Status::NoDigit) &&
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

// Runs f(), which returns a new object; NULL (and the last error) when it fails.
template <typename T, typename F>
T* make(F&& f) {
    T* made = nullptr;
    guarded([&] { made = f(); });
    return made;
}

// The network's recipe, or InvalidArgument for an unknown network or preset.
mn::TrainRecipe recipe_of(const char* arch, const char* preset) {
    check_arg(arch != nullptr, "arch is NULL");
    return mn::with_status(mn::Status::InvalidArgument, [&] {
        const mn::Architecture& a = mn::find_architecture(arch);
        a.preset(preset ? preset : "");  // (throws for an unknown preset)
        return a.recipe(preset ? preset : "");
    });
}

void fill_progress(const mnist_trainer& t, bool epoch_done, mnist_train_progress* p) {
    if (!p) return;
    const int64_t n_train = t.trainer->n_train();
    p->epoch = int(t.pos.epoch);
    p->epochs = int(t.config.epochs);
    p->batch = int(t.pos.batch_in_epoch);
    p->batches_per_epoch = int(t.trainer->batches_per_epoch());
    p->images_done = int(t.pos.epoch * n_train + std::min(n_train, t.pos.batch_in_epoch * t.config.batch));
    p->images_total = int(t.config.epochs * n_train);
    p->finished = t.finished ? 1 : 0;
    p->epoch_done = epoch_done ? 1 : 0;
    if (epoch_done || t.epoch_seen == 0) {
        p->loss = t.last_loss;
        p->accuracy = t.last_accuracy;
    } else {
        p->loss = t.epoch_loss_sum / double(t.epoch_seen);
        p->accuracy = double(t.epoch_correct) / double(t.epoch_seen);
    }
    p->validation_loss = t.val_loss;
    p->validation_accuracy = t.val_accuracy;
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

mnist_dataset* mnist_dataset_load(const void* images, size_t images_size, const void* labels, size_t labels_size) {
    return make<mnist_dataset>([&] {
        check_arg(images && labels, "images or labels is NULL");
        auto d = std::make_unique<mnist_dataset>();
        mn::with_status(mn::Status::BadData, [&] {
            try {
                d->images = mn::parse_idx_images(static_cast<const uint8_t*>(images), images_size);
            } catch (const mn::Error& e) {
                throw mn::Error(std::string("images: ") + e.what());
            }
            try {
                d->labels = mn::parse_idx_labels(static_cast<const uint8_t*>(labels), labels_size);
            } catch (const mn::Error& e) {
                throw mn::Error(std::string("labels: ") + e.what());
            }
            mn::check(d->images.rows == mn::kMnistSide && d->images.cols == mn::kMnistSide,
                      "images are " + std::to_string(d->images.rows) + "x" + std::to_string(d->images.cols) +
                          ", not 28x28");
            mn::check_labels_match(d->images, d->labels);
        });
        return d.release();
    });
}

size_t mnist_dataset_count(const mnist_dataset* data) { return data ? size_t(data->images.count) : 0; }

void mnist_dataset_free(mnist_dataset* data) { delete data; }

mnist_status mnist_evaluate(mnist_model* model, const mnist_dataset* data, size_t first, size_t count, size_t* correct,
                            double* loss) {
    return guarded([&] {
        check_arg(model && data, "model or data is NULL");
        check_arg(first <= size_t(data->images.count) && count <= size_t(data->images.count) - first,
                  "images " + std::to_string(first) + ".." + std::to_string(first + count) + " are past the " +
                      std::to_string(data->images.count) + " of the set");
        mn::Executor executor(1);
        const mn::EvalResult r = mn::evaluate(model->session.model(), data->images, &data->labels, int64_t(first),
                                              int64_t(count), executor, 500);  // (`mnist eval`'s batch)
        if (correct) *correct = size_t(r.correct);
        if (loss) *loss = r.loss;
    });
}

mnist_status mnist_train_recipe(const char* arch, const char* preset, int* epochs, int* batch, float* learning_rate) {
    return guarded([&] {
        const mn::TrainRecipe r = recipe_of(arch, preset);
        if (epochs) *epochs = int(r.epochs);
        if (batch) *batch = int(r.batch);
        if (learning_rate) *learning_rate = float(r.lr);
    });
}

mnist_trainer* mnist_trainer_new(const char* arch, const char* preset, const mnist_dataset* data, size_t n_train,
                                 size_t n_val, int epochs, float learning_rate, uint32_t seed) {
    return make<mnist_trainer>([&] {
        const mn::TrainRecipe r = recipe_of(arch, preset);
        check_arg(data != nullptr, "data is NULL");
        check_arg(n_train >= 1, "n_train must be at least 1");
        check_arg(n_train <= size_t(data->images.count) && n_val <= size_t(data->images.count) - n_train,
                  std::to_string(n_train) + " training and " + std::to_string(n_val) +
                      " validation images: the set holds " + std::to_string(data->images.count));
        check_arg(std::isfinite(learning_rate), "the learning rate is not a number");
        auto t = std::make_unique<mnist_trainer>();
        const int64_t total = int64_t(n_train + n_val);
        t->images.count = total;
        t->images.rows = data->images.rows;
        t->images.cols = data->images.cols;
        t->images.pixels.assign(data->images.data(), data->images.data() + total * data->images.image_size());
        t->labels.labels.assign(data->labels.labels.begin(), data->labels.labels.begin() + total);

        // The recipe, as `mnist train` takes it when given no options.
        mn::TrainConfig& c = t->config;
        c.epochs = epochs > 0 ? epochs : r.epochs;
        c.batch = r.batch;
        c.val_split = double(n_val) / double(total);
        c.seed = seed;
        c.augment_shift = r.augment_shift;
        c.label_smoothing = r.label_smoothing;
        mn::with_status(mn::Status::Internal, [&] {
            c.optimizer.kind = mn::parse_optimizer(r.optimizer);
            c.optimizer.schedule = mn::parse_schedule(r.schedule);
        });
        c.optimizer.lr = learning_rate > 0 ? learning_rate : float(r.lr);
        const int64_t per_epoch = (int64_t(n_train) + c.batch - 1) / c.batch;
        check_arg(c.epochs <= 100000 && c.epochs * int64_t(n_train) <= INT32_MAX,
                  "too many epochs: the run would take more than 2^31 images");
        c.optimizer.step_every = 5 * per_epoch;  // (`mnist train`'s --step-epochs 5; only the step schedule reads it)
        c.optimizer.total_steps = c.epochs * per_epoch;
        c.optimizer.warmup_steps = int64_t((r.warmup > 0 ? r.warmup : 0.3) * double(c.optimizer.total_steps));

        t->model = mn::create_model(arch, preset ? preset : "", seed);
        mn::set_training_metadata(t->model, c, "train-images-idx3-ubyte (first " + std::to_string(total) + ")");
        t->trainer = std::make_unique<mn::Trainer>(t->model, c, t->executor, int64_t(n_train));
        return t.release();
    });
}

void mnist_trainer_free(mnist_trainer* trainer) { delete trainer; }

mnist_status mnist_trainer_step(mnist_trainer* trainer, int batches, mnist_train_progress* progress) {
    return guarded([&] {
        check_arg(trainer != nullptr, "trainer is NULL");
        check_arg(batches >= 0, "batches must not be negative");
        mnist_trainer& t = *trainer;
        bool epoch_done = false;
        if (!t.finished && batches > 0) {
            // Trainer::fit counts its running loss from this call's first batch: what it reports
            // is added to what earlier calls of this epoch saw.
            int done = 0;
            int64_t seen = 0, prev_images = t.pos.batch_in_epoch * t.config.batch;
            double call_loss = 0.0;
            int64_t call_correct = 0;
            mn::TrainCallbacks cb;
            cb.should_stop = [&] { return done >= batches || epoch_done; };
            cb.on_batch = [&](const mn::BatchProgress& p) {
                ++done;
                seen += p.images_done - prev_images;
                prev_images = p.images_done;
                call_loss = p.loss * double(seen);
                call_correct = std::llround(p.accuracy * double(seen));
            };
            const auto add_call = [&] {
                t.epoch_loss_sum += call_loss;
                t.epoch_correct += call_correct;
                t.epoch_seen += seen;
                seen = 0;
                call_loss = 0.0;
                call_correct = 0;
            };
            cb.on_epoch = [&](const mn::EpochReport& r) {
                add_call();
                t.last_loss = t.epoch_seen ? t.epoch_loss_sum / double(t.epoch_seen) : 0.0;
                t.last_accuracy = t.epoch_seen ? double(t.epoch_correct) / double(t.epoch_seen) : 0.0;
                t.epoch_loss_sum = 0.0;
                t.epoch_correct = t.epoch_seen = 0;
                if (r.validation.count > 0) {
                    t.val_loss = r.validation.loss;
                    t.val_accuracy = r.validation.accuracy();
                }
                epoch_done = true;
            };
            t.finished = t.trainer->fit(t.images, t.labels, t.pos, cb);
            add_call();
        }
        fill_progress(t, epoch_done, progress);
    });
}

mnist_model* mnist_trainer_model(mnist_trainer* trainer) {
    return make<mnist_model>([&] {
        check_arg(trainer != nullptr, "trainer is NULL");
        const std::vector<uint8_t> bytes = mn::model_gguf_bytes(trainer->model);
        return new mnist_model(bytes.data(), bytes.size());
    });
}

mnist_status mnist_trainer_save_buffer(mnist_trainer* trainer, void** data, size_t* size) {
    return guarded([&] {
        check_arg(trainer && data && size, "trainer, data or size is NULL");
        const std::vector<uint8_t> bytes = mn::model_gguf_bytes(trainer->model);
        void* out = std::malloc(bytes.size());
        if (!out) throw std::bad_alloc();
        std::memcpy(out, bytes.data(), bytes.size());
        *data = out;
        *size = bytes.size();
    });
}

const char* mnist_last_error(void) { return last_error.c_str(); }

const char* mnist_status_string(mnist_status status) { return mn::status_string(static_cast<mn::Status>(status)); }

const char* mnist_version(void) { return MNIST_VERSION; }

}  // extern "C"
