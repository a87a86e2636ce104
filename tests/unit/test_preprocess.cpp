// MNIST-style preprocessing and digit splitting: the pieces against what they must compute,
// then the shipped CNN on test digits our own code disturbs, with and without preprocessing,
// and on numbers composed of test digits. The rates printed are the README's table; the
// bounds asserted are ones a regression would break. MNIST_PREPROCESS_IMAGES=N takes N test
// digits per kind (default 300; 10000 for the README) and N / 5 numbers.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <numeric>

#include "image/components.h"
#include "image/digit_split.h"
#include "image/ink.h"
#include "image/mnist_input.h"
#include "disturb.h"
#include "session/session.h"
#include "session/status.h"
#include "test_support.h"

using namespace mn;
using mn::test::TestImage;

namespace {

int samples_per_kind() {
    const char* env = std::getenv("MNIST_PREPROCESS_IMAGES");
    return std::clamp(env ? std::atoi(env) : 300, 10, 10000);
}

double mass(const Plane& p) { return std::accumulate(p.v.begin(), p.v.end(), 0.0); }

MnistPixels input_of(const TestImage& img) { return preprocess_image(img.view()); }

}  // namespace

TEST(Preprocess, OtsuSplitsTwoClusters) {
    std::vector<float> v;
    for (int i = 0; i < 700; ++i) v.push_back(0.1f + 0.0001f * i);
    for (int i = 0; i < 300; ++i) v.push_back(0.8f + 0.0001f * i);
    const float t = otsu_threshold(v);
    EXPECT_GT(t, 0.17f);
    EXPECT_LT(t, 0.8f);
    EXPECT_EQ(otsu_threshold(std::vector<float>(10, 0.5f)), 0.5f);
}

TEST(Preprocess, AreaResamplingKeepsTheMeanBothWays) {
    Plane p(30, 17);
    for (size_t i = 0; i < p.size(); ++i) p.v[i] = float((i * 7919) % 13) / 13.0f;
    for (auto [w, h] : {std::pair{7, 5}, std::pair{20, 11}, std::pair{90, 40}}) {
        const Plane r = resample_area(p, w, h);
        EXPECT_NEAR(mass(r) / double(r.size()), mass(p) / double(p.size()), 1e-4) << w << "x" << h;
    }
    // Halving averages 2x2 blocks exactly.
    Plane q(4, 2);
    q.v = {0, 1, 1, 1, 0, 1, 0, 0};
    const Plane half = resample_area(q, 2, 1);
    EXPECT_FLOAT_EQ(half.v[0], 0.5f);
    EXPECT_FLOAT_EQ(half.v[1], 0.5f);
}

TEST(Preprocess, PutsTheCentreOfMassAtTheCentreAndFitsTwentyPixels) {
    // A bar 60 x 15 in the corner of a 200 x 100 image, white on black.
    std::vector<uint8_t> px(200 * 100, 0);
    for (int y = 3; y < 18; ++y)
        for (int x = 130; x < 190; ++x) px[size_t(y * 200 + x)] = 255;
    const MnistPixels in = preprocess_image({px.data(), 200, 100, 1});
    Plane p(28, 28);
    for (size_t i = 0; i < 784; ++i) p.v[i] = in[i] / 255.0f;
    double cx, cy;
    centre_of_mass(p, cx, cy);
    EXPECT_NEAR(cx, 14.0, 0.5);
    EXPECT_NEAR(cy, 14.0, 0.5);
    const Box b = ink_box(p);
    EXPECT_EQ(b.width(), 20);
    EXPECT_EQ(b.height(), 5);
}

TEST(Preprocess, FindsTheInkEitherWayRound) {
    MNIST_TEST_SET_OR_SKIP(set);
    const TestImage plain = mn::test::disturb(set->images.image(0), mn::test::Disturbance::Clean, 1);
    const TestImage inverted = mn::test::disturb(set->images.image(0), mn::test::Disturbance::Inverted, 1);
    EXPECT_FALSE(extract_ink(plain.view()).dark_ink);
    EXPECT_TRUE(extract_ink(inverted.view()).dark_ink);
    // Same digit, same input (up to rounding of the inverted gray levels).
    const MnistPixels a = input_of(plain), b = input_of(inverted);
    int differ = 0;
    for (size_t i = 0; i < 784; ++i) differ += std::abs(int(a[i]) - int(b[i])) > 40;
    EXPECT_LE(differ, 10);
}

TEST(Preprocess, TransparentCanvasIsDarkInkOnWhite) {
    // Black strokes on transparent pixels (what a browser canvas exports): RGBA.
    std::vector<uint8_t> px(64 * 64 * 4, 0);
    for (int y = 10; y < 54; ++y)
        for (int x = 30; x < 36; ++x) px[size_t((y * 64 + x) * 4 + 3)] = 255;  // a "1", opaque black
    const InkMap ink = extract_ink(ImageView{px.data(), 64, 64, 4});
    EXPECT_TRUE(ink.dark_ink);
    EXPECT_EQ(ink_box(ink.ink).width(), 6);
    EXPECT_EQ(ink_box(ink.ink).height(), 44);
}

TEST(Preprocess, TinyBlankAndHugeImages) {
    const uint8_t one = 200;
    EXPECT_NO_THROW(extract_ink(ImageView{&one, 1, 1, 1}));
    std::vector<uint8_t> blank(50 * 40, 255);
    mn::test::expect_error([&] { preprocess_image({blank.data(), 50, 40, 1}); }, "blank");
    try {
        preprocess_image({blank.data(), 50, 40, 1});
    } catch (const StatusError& e) {
        EXPECT_EQ(int(e.status()), int(Status::NoDigit));
    }
    // 3000 x 2000: worked on averaged down to at most kWorkPixels.
    std::vector<uint8_t> big(3000 * 2000, 20);
    for (int y = 500; y < 1500; ++y)
        for (int x = 1400; x < 1600; ++x) big[size_t(y) * 3000 + size_t(x)] = 240;
    const Plane lum = luminance({big.data(), 3000, 2000, 1});
    EXPECT_LE(int64_t(lum.size()), kWorkPixels);
    const MnistPixels in = preprocess_image({big.data(), 3000, 2000, 1});
    Plane p(28, 28);
    for (size_t i = 0; i < 784; ++i) p.v[i] = in[i] / 255.0f;
    EXPECT_EQ(ink_box(p).height(), 20);
    std::vector<uint8_t> none(1);
    try {
        preprocess_image({none.data(), 20000, 20000, 1});
        ADD_FAILURE() << "no limit";
    } catch (const StatusError& e) {
        EXPECT_EQ(int(e.status()), int(Status::ImageTooLarge));
    }
}

TEST(Preprocess, ComponentsAreEightConnected) {
    Plane p(6, 4);
    p.at(0, 0) = p.at(1, 1) = p.at(2, 2) = 1;  // a diagonal: one component
    p.at(5, 0) = 0.5f;                         // alone
    const Components c = label_components(p, 0.7f);
    ASSERT_EQ(c.list.size(), 2u);
    EXPECT_EQ(c.list[0].area, 3);
    EXPECT_EQ(c.list[0].strong, 3);
    EXPECT_EQ(c.list[1].strong, 0);
    EXPECT_EQ(c.label[5], 1);
}

// The README's table: the shipped CNN on disturbed test digits, without and with preprocessing.
TEST(Preprocess, DisturbedDigitsReadBetterPreprocessed) {
    MNIST_TEST_SET_OR_SKIP(set);
    const Session cnn(mn::test::shipped_model("mnist-cnn-f32.gguf"));
    const int n = samples_per_kind();
    const int64_t stride = std::max<int64_t>(1, set->images.count / n);
    std::printf("| disturbance | without preprocessing | with preprocessing |\n|---|---|---|\n");
    for (mn::test::Disturbance d : mn::test::all_disturbances()) {
        int naive = 0, pre = 0;
        for (int k = 0; k < n; ++k) {
            const int64_t i = (k * stride) % set->images.count;
            const int label = set->labels.labels[size_t(i)];
            const TestImage img = mn::test::disturb(set->images.image(i), d, uint32_t(1000 + i));
            naive += cnn.predict(mn::test::naive_input(img).data()).digit == label;
            pre += cnn.predict_image(img.view()).prediction.digit == label;
        }
        const double a = 100.0 * naive / n, b = 100.0 * pre / n;
        std::printf("| %s | %.1f%% | %.1f%% |\n", mn::test::describe(d).c_str(), a, b);
        // With preprocessing every kind reads well; where the raw picture is far from MNIST
        // (inverted, on a canvas, unevenly lit, a photo), far better than without.
        EXPECT_GE(b, d == mn::test::Disturbance::Rotated || d == mn::test::Disturbance::Thick ? 90.0 : 95.0)
            << mn::test::describe(d);
        if (a < 50) {
            EXPECT_GE(b - a, 40.0) << mn::test::describe(d);
        }
    }
}

TEST(Preprocess, NumbersReadExactly) {
    MNIST_TEST_SET_OR_SKIP(set);
    const Session cnn(mn::test::shipped_model("mnist-cnn-f32.gguf"));
    const int numbers = std::max(20, samples_per_kind() / 5);
    std::mt19937 rng(7);
    int exact = 0, count_right = 0;
    for (int k = 0; k < numbers; ++k) {
        const int len = 2 + int(rng() % 5);  // 2 to 6 digits
        std::vector<const uint8_t*> glyphs;
        std::string truth;
        for (int j = 0; j < len; ++j) {
            const int64_t i = int64_t(rng() % uint32_t(set->images.count));
            glyphs.push_back(set->images.image(i));
            truth += char('0' + set->labels.labels[size_t(i)]);
        }
        const TestImage img = mn::test::compose_number(glyphs, uint32_t(k));
        const NumberReading r = cnn.read_number(img.view());
        exact += r.number == truth;
        count_right += r.number.size() == truth.size();
    }
    const double rate = 100.0 * exact / numbers;
    std::printf("numbers of 2-6 digits read exactly: %.1f%% of %d (digit count right: %.1f%%)\n", rate, numbers,
                100.0 * count_right / numbers);
    EXPECT_GE(rate, 80.0);
}
