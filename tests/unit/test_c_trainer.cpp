// Training through the C API (include/mnist.h), as the web page's worker does: a data set
// from IDX bytes, a trainer stepped a few batches at a time, its progress, the model it makes
// and the GGUF bytes it saves, and bad arguments refused with a status and a message.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "mnist.h"
#include "test_support.h"

using mn::test::Bytes;

namespace {

struct Files {
    Bytes images, labels;
};

// The MNIST test set's files as bytes (the tests train on them: any labelled digits will do).
const Files* test_files() {
    static const Files files = [] {
        const std::string dir = mn::test::mnist_data_dir();
        return Files{mn::test::read_file(dir + "/t10k-images-idx3-ubyte"), mn::test::read_file(dir + "/t10k-labels-idx1-ubyte")};
    }();
    return files.images.empty() ? nullptr : &files;
}

#define FILES_OR_SKIP(var)          \
    const Files* var = test_files(); \
    if (!var) GTEST_SKIP() << "MNIST test set not found (run scripts/fetch_data.sh)"

struct DatasetPtr {
    mnist_dataset* p;
    ~DatasetPtr() { mnist_dataset_free(p); }
};
struct TrainerPtr {
    mnist_trainer* p;
    ~TrainerPtr() { mnist_trainer_free(p); }
};
struct ModelPtr {
    mnist_model* p;
    ~ModelPtr() { mnist_free(p); }
};

Bytes saved(mnist_trainer* t) {
    void* data = nullptr;
    size_t size = 0;
    EXPECT_EQ(mnist_trainer_save_buffer(t, &data, &size), MNIST_OK) << mnist_last_error();
    Bytes b(static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
    std::free(data);
    return b;
}

// Trains to the end in calls of `chunk` batches; returns every progress report.
std::vector<mnist_train_progress> train(mnist_trainer* t, int chunk) {
    std::vector<mnist_train_progress> reports;
    for (int calls = 0; calls < 10000; ++calls) {
        mnist_train_progress p{};
        EXPECT_EQ(mnist_trainer_step(t, chunk, &p), MNIST_OK) << mnist_last_error();
        reports.push_back(p);
        if (p.finished) break;
    }
    return reports;
}

}  // namespace

TEST(CTrainer, Recipe) {
    int epochs = 0, batch = 0;
    float lr = 0;
    ASSERT_EQ(mnist_train_recipe("mnist-cnn", "fast", &epochs, &batch, &lr), MNIST_OK);
    EXPECT_EQ(epochs, 2);
    EXPECT_EQ(batch, 128);
    EXPECT_FLOAT_EQ(lr, 0.025f);
    ASSERT_EQ(mnist_train_recipe("mnist-fc", nullptr, &epochs, &batch, nullptr), MNIST_OK);
    EXPECT_EQ(epochs, 30);
    EXPECT_EQ(batch, 1000);
    EXPECT_EQ(mnist_train_recipe("mnist-rnn", "", nullptr, nullptr, nullptr), MNIST_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mnist_last_error()).find("unknown architecture 'mnist-rnn'"), std::string::npos) << mnist_last_error();
    EXPECT_EQ(mnist_train_recipe("mnist-cnn", "huge", nullptr, nullptr, nullptr), MNIST_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mnist_last_error()).find("unknown mnist-cnn preset 'huge'"), std::string::npos) << mnist_last_error();
    EXPECT_EQ(mnist_train_recipe(nullptr, "", nullptr, nullptr, nullptr), MNIST_INVALID_ARGUMENT);
}

TEST(CTrainer, DatasetFromBytes) {
    FILES_OR_SKIP(f);
    DatasetPtr d{mnist_dataset_load(f->images.data(), f->images.size(), f->labels.data(), f->labels.size())};
    ASSERT_NE(d.p, nullptr) << mnist_last_error();
    EXPECT_EQ(mnist_dataset_count(d.p), 10000u);
    EXPECT_EQ(mnist_dataset_count(nullptr), 0u);

    // The shipped CNN scores above 98% on the first 2,000, with a small mean cross-entropy.
    ModelPtr cnn{mnist_load_file((std::string(MNIST_SOURCE_DIR) + "/models/mnist-cnn-f32.gguf").c_str())};
    ASSERT_NE(cnn.p, nullptr) << mnist_last_error();
    size_t correct = 0;
    double loss = -1;
    ASSERT_EQ(mnist_evaluate(cnn.p, d.p, 0, 2000, &correct, &loss), MNIST_OK) << mnist_last_error();
    EXPECT_GT(correct, 1960u);
    EXPECT_GT(loss, 0.0);
    EXPECT_LT(loss, 0.1);
    // A part of the set: the first 100 digits, as mnist_predict_batch reads them.
    std::vector<int> digits(100);
    ASSERT_EQ(mnist_predict_batch(cnn.p, f->images.data() + 16, 100, digits.data(), nullptr), MNIST_OK);
    size_t right = 0;
    for (int i = 0; i < 100; ++i) right += digits[size_t(i)] == f->labels[8 + size_t(i)];
    ASSERT_EQ(mnist_evaluate(cnn.p, d.p, 0, 100, &correct, nullptr), MNIST_OK);
    EXPECT_EQ(correct, right);

    EXPECT_EQ(mnist_evaluate(cnn.p, d.p, 9990, 11, &correct, &loss), MNIST_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mnist_last_error()).find("past the 10000"), std::string::npos) << mnist_last_error();
    EXPECT_EQ(mnist_evaluate(nullptr, d.p, 0, 1, &correct, &loss), MNIST_INVALID_ARGUMENT);
    EXPECT_EQ(mnist_evaluate(cnn.p, nullptr, 0, 1, &correct, &loss), MNIST_INVALID_ARGUMENT);
}

TEST(CTrainer, BadDataRefused) {
    FILES_OR_SKIP(f);
    const uint8_t junk[32] = {1, 2, 3};
    EXPECT_EQ(mnist_dataset_load(junk, sizeof junk, f->labels.data(), f->labels.size()), nullptr);
    EXPECT_NE(std::string(mnist_last_error()).find("images: "), std::string::npos) << mnist_last_error();
    // The labels' file given as images, and images cut short.
    EXPECT_EQ(mnist_dataset_load(f->labels.data(), f->labels.size(), f->labels.data(), f->labels.size()), nullptr);
    EXPECT_EQ(mnist_dataset_load(f->images.data(), 20000, f->labels.data(), f->labels.size()), nullptr);
    EXPECT_NE(std::string(mnist_last_error()).find("images: "), std::string::npos) << mnist_last_error();
    // 10000 images, 9999 labels (the header says 10000: the file is cut short), and images without labels.
    EXPECT_EQ(mnist_dataset_load(f->images.data(), f->images.size(), f->labels.data(), f->labels.size() - 1), nullptr);
    EXPECT_NE(std::string(mnist_last_error()).find("labels: "), std::string::npos) << mnist_last_error();
    EXPECT_EQ(mnist_dataset_load(f->images.data(), f->images.size(), nullptr, 0), nullptr);
    EXPECT_NE(std::string(mnist_last_error()).find("NULL"), std::string::npos) << mnist_last_error();
    EXPECT_STREQ(mnist_status_string(MNIST_BAD_DATA), "not a valid data set");
}

TEST(CTrainer, BadArgumentsRefused) {
    FILES_OR_SKIP(f);
    DatasetPtr d{mnist_dataset_load(f->images.data(), f->images.size(), f->labels.data(), f->labels.size())};
    ASSERT_NE(d.p, nullptr) << mnist_last_error();
    const auto refused = [](mnist_trainer* t, const std::string& part) {
        EXPECT_EQ(t, nullptr);
        mnist_trainer_free(t);
        EXPECT_NE(std::string(mnist_last_error()).find(part), std::string::npos) << mnist_last_error();
    };
    refused(mnist_trainer_new("mnist-rnn", "", d.p, 100, 0, 1, 0, 1), "unknown architecture");
    refused(mnist_trainer_new("mnist-cnn", "huge", d.p, 100, 0, 1, 0, 1), "unknown mnist-cnn preset");
    refused(mnist_trainer_new("mnist-cnn", "fast", nullptr, 100, 0, 1, 0, 1), "data is NULL");
    refused(mnist_trainer_new("mnist-cnn", "fast", d.p, 0, 0, 1, 0, 1), "n_train must be at least 1");
    refused(mnist_trainer_new("mnist-cnn", "fast", d.p, 9000, 1001, 1, 0, 1), "the set holds 10000");
    refused(mnist_trainer_new("mnist-cnn", "fast", d.p, 100, 0, 1, NAN, 1), "not a number");
    refused(mnist_trainer_new("mnist-fc", "", d.p, 10000, 0, 300000, 0, 1), "too many epochs");

    TrainerPtr t{mnist_trainer_new("mnist-fc", "", d.p, 100, 0, 1, 0, 1)};
    ASSERT_NE(t.p, nullptr) << mnist_last_error();
    mnist_train_progress p{};
    EXPECT_EQ(mnist_trainer_step(t.p, -1, &p), MNIST_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mnist_last_error()).find("must not be negative"), std::string::npos);
    EXPECT_EQ(mnist_trainer_step(nullptr, 1, &p), MNIST_INVALID_ARGUMENT);
    void* data = nullptr;
    size_t size = 0;
    EXPECT_EQ(mnist_trainer_save_buffer(t.p, nullptr, &size), MNIST_INVALID_ARGUMENT);
    EXPECT_EQ(mnist_trainer_save_buffer(nullptr, &data, &size), MNIST_INVALID_ARGUMENT);
    EXPECT_EQ(mnist_trainer_model(nullptr), nullptr);
    // Nothing trained yet: step(0) only reports.
    ASSERT_EQ(mnist_trainer_step(t.p, 0, &p), MNIST_OK);
    EXPECT_EQ(p.images_done, 0);
    EXPECT_EQ(p.images_total, 100);
    EXPECT_EQ(p.batches_per_epoch, 1);
    EXPECT_EQ(p.finished, 0);
    EXPECT_EQ(p.validation_accuracy, -1.0);
}

// The fast CNN on 2,048 digits for 2 epochs: the loss falls, the accuracy on 512 held-out digits
// passes 80% (chance: 10%), progress adds up, the saved file loads and predicts as the trainer's
// model does, and training in calls of one batch gives the same bytes as in calls of many.
TEST(CTrainer, TrainsInChunks) {
    FILES_OR_SKIP(f);
    DatasetPtr d{mnist_dataset_load(f->images.data(), f->images.size(), f->labels.data(), f->labels.size())};
    ASSERT_NE(d.p, nullptr) << mnist_last_error();
    const size_t n_train = 2048, n_val = 512;
    TrainerPtr t{mnist_trainer_new("mnist-cnn", "fast", d.p, n_train, n_val, 2, 0, 7)};
    ASSERT_NE(t.p, nullptr) << mnist_last_error();

    ModelPtr before{mnist_trainer_model(t.p)};
    ASSERT_NE(before.p, nullptr) << mnist_last_error();
    double loss_before = 0;
    size_t correct_before = 0;
    ASSERT_EQ(mnist_evaluate(before.p, d.p, n_train, n_val, &correct_before, &loss_before), MNIST_OK);

    const std::vector<mnist_train_progress> reports = train(t.p, 3);
    ASSERT_FALSE(reports.empty());
    const int per_epoch = 16;  // 2048 / 128
    int epochs_done = 0, last_images = 0;
    std::vector<double> epoch_loss;
    for (const mnist_train_progress& p : reports) {
        EXPECT_EQ(p.epochs, 2);
        EXPECT_EQ(p.batches_per_epoch, per_epoch);
        EXPECT_EQ(p.images_total, 2 * int(n_train));
        EXPECT_GT(p.images_done, last_images);  // every call trained something
        last_images = p.images_done;
        EXPECT_TRUE(std::isfinite(p.loss));
        if (p.epoch_done) {
            ++epochs_done;
            EXPECT_EQ(p.epoch, epochs_done);
            EXPECT_EQ(p.images_done, epochs_done * int(n_train));
            EXPECT_GT(p.validation_accuracy, 0.0);
            epoch_loss.push_back(p.loss);
        } else {
            EXPECT_EQ(p.images_done, p.epoch * int(n_train) + p.batch * 128);
            EXPECT_EQ(p.batch % 3, 0);  // calls of 3 batches, cut short at the end of an epoch only
        }
    }
    EXPECT_EQ(epochs_done, 2);
    EXPECT_EQ(reports.back().finished, 1);
    EXPECT_EQ(reports.size(), 12u);  // ceil(16 / 3) calls per epoch
    ASSERT_EQ(epoch_loss.size(), 2u);
    EXPECT_LT(epoch_loss[1], epoch_loss[0]);
    // Finished: no more training.
    mnist_train_progress again{};
    ASSERT_EQ(mnist_trainer_step(t.p, 5, &again), MNIST_OK);
    EXPECT_EQ(again.finished, 1);
    EXPECT_EQ(again.images_done, 2 * int(n_train));

    ModelPtr after{mnist_trainer_model(t.p)};
    ASSERT_NE(after.p, nullptr) << mnist_last_error();
    EXPECT_STREQ(mnist_model_arch(after.p), "mnist-cnn");
    double loss_after = 0;
    size_t correct_after = 0;
    ASSERT_EQ(mnist_evaluate(after.p, d.p, n_train, n_val, &correct_after, &loss_after), MNIST_OK);
    EXPECT_LT(loss_after, loss_before / 2);
    EXPECT_GT(double(correct_after) / double(n_val), 0.8) << correct_after << " of " << n_val;
    // The last epoch's validation figure is this evaluation's.
    EXPECT_DOUBLE_EQ(reports.back().validation_accuracy, double(correct_after) / double(n_val));

    // The saved bytes load as a model that predicts as the trainer's model does, bit for bit.
    const Bytes gguf = saved(t.p);
    ModelPtr loaded{mnist_load_buffer(gguf.data(), gguf.size())};
    ASSERT_NE(loaded.p, nullptr) << mnist_last_error();
    const int n = 200;
    std::vector<int> da(n), db(n);
    std::vector<float> pa(n * 10), pb(n * 10);
    const uint8_t* pixels = f->images.data() + 16 + 9000 * 784;
    ASSERT_EQ(mnist_predict_batch(after.p, pixels, n, da.data(), pa.data()), MNIST_OK);
    ASSERT_EQ(mnist_predict_batch(loaded.p, pixels, n, db.data(), pb.data()), MNIST_OK);
    EXPECT_EQ(da, db);
    EXPECT_EQ(std::memcmp(pa.data(), pb.data(), pa.size() * sizeof(float)), 0);

    // Pauses change nothing: the same run in calls of one batch, and in calls of 1000.
    for (int chunk : {1, 1000}) {
        TrainerPtr u{mnist_trainer_new("mnist-cnn", "fast", d.p, n_train, n_val, 2, 0, 7)};
        ASSERT_NE(u.p, nullptr) << mnist_last_error();
        const std::vector<mnist_train_progress> r = train(u.p, chunk);
        EXPECT_EQ(r.size(), chunk == 1 ? 32u : 2u);
        EXPECT_DOUBLE_EQ(r.back().loss, reports.back().loss) << "chunk " << chunk;
        EXPECT_EQ(saved(u.p), gguf) << "chunk " << chunk;
    }
}
