// The session layer: loading from files and from bytes in every format, one validation, the
// same predictions from one thread or many, malformed buffers refused with a clear status.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "models/model_io.h"
#include "session/session.h"
#include "session/status.h"
#include "test_support.h"

using mn::Session;
using mn::Status;
using mn::test::Bytes;

namespace {

// Predictions of the first n test images, one call each.
std::vector<mn::Prediction> predict_first(const Session& s, const mn::IdxImages& images, int n) {
    std::vector<mn::Prediction> out;
    for (int i = 0; i < n; ++i) out.push_back(s.predict(images.image(i)));
    return out;
}

// The same digits and probabilities; bit for bit unless `tolerance` (a batch runs other
// kernels than one image: the GEMM's tiles instead of a GEMV, summing in another order).
void expect_same(const std::vector<mn::Prediction>& a, const std::vector<mn::Prediction>& b, float tolerance = 0) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].digit, b[i].digit) << "image " << i;
        ASSERT_EQ(a[i].probs.size(), b[i].probs.size());
        for (size_t k = 0; k < a[i].probs.size(); ++k)
            if (tolerance == 0)
                EXPECT_EQ(a[i].probs[k], b[i].probs[k]) << "image " << i << " class " << k;
            else
                EXPECT_NEAR(a[i].probs[k], b[i].probs[k], tolerance) << "image " << i << " class " << k;
    }
}

template <typename F>
void expect_status(Status want, const std::string& part, F&& f) {
    try {
        f();
        ADD_FAILURE() << "expected status " << mn::status_string(want);
    } catch (const mn::StatusError& e) {
        EXPECT_EQ(int(e.status()), int(want)) << e.what();
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line: " << e.what();
    }
}

}  // namespace

TEST(Session, GgufFromMemoryPredictsAsFromFile) {
    MNIST_TEST_SET_OR_SKIP(set);
    for (const char* name : {"mnist-fc-f32.gguf", "mnist-cnn-f32.gguf"}) {
        const Session from_file(mn::test::shipped_model(name));
        Bytes bytes = mn::test::read_file(mn::test::shipped_model(name));
        const Session from_memory(bytes.data(), bytes.size());
        std::fill(bytes.begin(), bytes.end(), 0);  // the session holds its own copy
        expect_same(predict_first(from_file, set->images, 100), predict_first(from_memory, set->images, 100));
        EXPECT_EQ(from_memory.model().source_format, "gguf");
    }
}

// Bytes at an odd address (a caller's buffer, or a file asking for an alignment of 1 or 2):
// the weights are copied where they are not aligned, and predict as from the file.
TEST(Session, GgufAtAnOddAddressPredictsAsFromFile) {
    MNIST_TEST_SET_OR_SKIP(set);
    for (const char* name : {"mnist-fc-f32.gguf", "mnist-cnn-f32.gguf"}) {
        const Session from_file(mn::test::shipped_model(name));
        const Bytes bytes = mn::test::read_file(mn::test::shipped_model(name));
        auto buffer = std::make_shared<std::vector<uint8_t>>(bytes.size() + 1);
        std::copy(bytes.begin(), bytes.end(), buffer->begin() + 1);
        mn::Model model = mn::load_model({buffer->data() + 1, bytes.size()}, buffer);
        for (const mn::Tensor* t : model.params)
            EXPECT_EQ(reinterpret_cast<uintptr_t>(t->data) % alignof(float), 0u) << t->name;
        const Session odd(std::move(model));
        expect_same(predict_first(from_file, set->images, 100), predict_first(odd, set->images, 100));
    }
}

TEST(Session, LegacyBinFromMemoryPredictsAsGguf) {
    MNIST_TEST_SET_OR_SKIP(set);
    mn::test::TempDir dir("session");
    const Session gguf(mn::test::shipped_model("mnist-fc-f32.gguf"));
    mn::save_model_legacy(gguf.model(), dir.file("fc.bin"));
    const Bytes bytes = mn::test::read_file(dir.file("fc.bin"));
    const Session legacy(bytes.data(), bytes.size());
    EXPECT_EQ(legacy.model().source_format, "legacy ggml");
    expect_same(predict_first(gguf, set->images, 100), predict_first(legacy, set->images, 100));
}

TEST(Session, TorchStateDictFromMemoryPredictsAsGguf) {
    MNIST_TEST_SET_OR_SKIP(set);
    mn::test::TempDir dir("session");
    const Session gguf(mn::test::shipped_model("mnist-fc-f32.gguf"));
    // The model's tensors as raw floats, written into a state_dict by our torch-free writer.
    std::string cmd = "/usr/bin/python3 '" MNIST_SOURCE_DIR "/tests/fixtures/make_named_state_dict.py' '" +
                      dir.file("fc.state_dict") + "'";
    for (const mn::Tensor* t : gguf.model().params) {
        const std::string raw = dir.file(std::string(t->name) + ".f32");
        const auto* p = static_cast<const uint8_t*>(t->data);
        mn::test::write_file(raw, Bytes(p, p + t->nbytes()));
        std::string shape;
        for (int d = t->n_dims() - 1; d >= 0; --d) shape += (shape.empty() ? "" : "x") + std::to_string(t->ne[d]);
        cmd += " '" + std::string(t->name) + "=" + shape + "=" + raw + "'";
    }
    if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "cannot run /usr/bin/python3 here";
    const Bytes bytes = mn::test::read_file(dir.file("fc.state_dict"));
    const Session torch(bytes.data(), bytes.size());
    EXPECT_EQ(torch.model().source_format, "pytorch state_dict");
    expect_same(predict_first(gguf, set->images, 100), predict_first(torch, set->images, 100));
}

TEST(Session, MalformedBuffersAreRefused) {
    const Bytes gguf = mn::test::read_file(mn::test::shipped_model("mnist-fc-f32.gguf"));
    ASSERT_GT(gguf.size(), 4096u);
    expect_status(Status::BadModel, "too short", [] { Session s(nullptr, 0); });
    const uint8_t junk[] = {'J', 'U', 'N', 'K', 0, 1, 2, 3};
    expect_status(Status::BadModel, "not a model file", [&] { Session s(junk, sizeof junk); });
    expect_status(Status::BadModel, "past the end", [&] { Session s(gguf.data(), gguf.size() / 2); });
    expect_status(Status::BadModel, "truncated", [&] { Session s(gguf.data(), 20); });
    // A legacy header followed by a hostile size.
    const uint8_t legacy[] = {0x6c, 0x6d, 0x67, 0x67, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f};
    expect_status(Status::BadModel, "", [&] { Session s(legacy, sizeof legacy); });
    expect_status(Status::BadModel, "", [] {
        const uint8_t zip[] = {'P', 'K', 3, 4, 0, 0, 0, 0};
        Session s(zip, sizeof zip);
    });
    expect_status(Status::CannotRead, "cannot open", [] { Session s(std::string(MNIST_TEST_TMP "/no/such.gguf")); });
    expect_status(Status::InvalidArgument, "no pixels", [&] {
        Session s(gguf.data(), gguf.size());
        s.predict(nullptr);
    });
}

TEST(Session, BatchPredictionsEqualSingleOnes) {
    MNIST_TEST_SET_OR_SKIP(set);
    const Session s(mn::test::shipped_model("mnist-cnn-f32.gguf"));
    const std::vector<mn::Prediction> single = predict_first(s, set->images, 150);
    // One graph evaluation, several of equal sizes (150 = 3 x 50, 100 = 2 x 50, 65 = 2 x 33
    // with one blank), sizes seen before again, and more sizes than a worker keeps graphs for.
    for (const int n : {150, 64, 100, 65, 2, 150, 7, 64}) {
        SCOPED_TRACE(n);
        expect_same(std::vector<mn::Prediction>(single.begin(), single.begin() + n),
                    s.predict_batch(set->images.image(0), size_t(n)), 1e-5f);
    }
}

// Several threads predicting at once get what one thread gets, and (printed, not asserted: no
// timing in tests) how throughput scales with them. MNIST_SESSION_IMAGES=N predicts N images
// per thread (default 400) for a steadier measurement.
TEST(Session, ConcurrentPredictionsMatchOneThread) {
    MNIST_TEST_SET_OR_SKIP(set);
    const char* env = std::getenv("MNIST_SESSION_IMAGES");
    const int n = std::clamp(env ? std::atoi(env) : 400, 1, int(set->images.count));
    for (const char* name : {"mnist-fc-f32.gguf", "mnist-cnn-f32.gguf"}) {
        const Session s(mn::test::shipped_model(name));
        const std::vector<mn::Prediction> reference = predict_first(s, set->images, n);
        double per_second[3] = {};
        for (int threads : {1, 2, 4}) {
            std::vector<std::vector<mn::Prediction>> got(static_cast<size_t>(threads));
            const auto t0 = std::chrono::steady_clock::now();
            std::vector<std::thread> pool;
            for (int t = 0; t < threads; ++t)
                pool.emplace_back([&, t] { got[size_t(t)] = predict_first(s, set->images, n); });
            for (auto& th : pool) th.join();
            const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            per_second[threads == 1 ? 0 : threads == 2 ? 1 : 2] = threads * n / sec;
            for (const auto& g : got) expect_same(reference, g);
        }
        EXPECT_LE(s.n_workers(), 5u);
        std::printf("[ session  ] %s: %.0f predictions/s with 1 thread, %.0f with 2, %.0f with 4 (%zu workers)\n", name,
                    per_second[0], per_second[1], per_second[2], s.n_workers());
    }
}
