// Legacy ggml model (.bin) tests: round trip, the seed file when it is available, and
// malformed files (magic, n_dims, hostile sizes, truncation at every length).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "test_support.h"
#include "io/legacy_ggml.h"

namespace {

using mn::test::Bytes;
using mn::test::read_file;
using mn::test::write_file;
using TempDir = mn::test::TempDir;
using mn::test::expect_error;
namespace fs = std::filesystem;

mn::LegacyTensor make_tensor(std::vector<int64_t> ne, float seed) {
    mn::LegacyTensor t;
    t.n_dims = static_cast<int>(ne.size());
    for (size_t i = 0; i < ne.size(); ++i) t.ne[i] = ne[i];
    t.data.resize(static_cast<size_t>(t.nelements()));
    for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = seed + 0.25f * static_cast<float>(i);
    return t;
}

// The FC network's layout, at a small size.
std::vector<mn::LegacyTensor> small_model() {
    return {make_tensor({6, 4}, 1), make_tensor({4}, -2), make_tensor({4, 3}, 0.5f),
            make_tensor({3}, 7)};
}

// Raw file bytes built by hand: magic, then int32 words.
Bytes words(std::vector<int32_t> w, uint32_t magic = mn::kLegacyGgmlMagic) {
    Bytes b(4 + 4 * w.size());
    std::memcpy(b.data(), &magic, 4);
    if (!w.empty()) std::memcpy(b.data() + 4, w.data(), 4 * w.size());
    return b;
}

std::vector<mn::LegacyTensor> parse(const Bytes& b) {
    return mn::parse_legacy_ggml(b.data(), b.size());
}

void expect_same(const mn::LegacyTensor& a, const mn::LegacyTensor& b) {
    EXPECT_EQ(a.n_dims, b.n_dims);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(a.ne[i], b.ne[i]) << "dimension " << i;
    ASSERT_EQ(a.data.size(), b.data.size());
    EXPECT_EQ(std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)), 0);
}

TEST(LegacyGgml, RoundTrip) {
    TempDir dir("legacy");
    std::vector<mn::LegacyTensor> model = small_model();
    model.push_back(make_tensor({2, 3, 4, 5}, 3));
    model.back().data[7] = -0.0f;
    model.back().data[8] = std::nanf("");
    mn::write_legacy_ggml(dir.file("model.bin"), model);

    Bytes raw = read_file(dir.file("model.bin"));
    ASSERT_GE(raw.size(), 12u);
    EXPECT_EQ(Bytes(raw.begin(), raw.begin() + 4), (Bytes{0x6c, 0x6d, 0x67, 0x67}));
    EXPECT_TRUE(mn::is_legacy_ggml(raw.data(), raw.size()));
    size_t expected_size = 4;
    for (const auto& t : model) expected_size += 4 + 4 * t.n_dims + 4 * t.data.size();
    EXPECT_EQ(raw.size(), expected_size);

    std::vector<mn::LegacyTensor> back = mn::read_legacy_ggml(dir.file("model.bin"));
    ASSERT_EQ(back.size(), model.size());
    for (size_t i = 0; i < model.size(); ++i) expect_same(back[i], model[i]);
    EXPECT_EQ(back[4].nelements(), 120);
    EXPECT_EQ(back[1].ne[1], 1);  // unused dimensions read as 1
}

TEST(LegacyGgml, SeedModel) {
    std::string path = std::string(MNIST_SOURCE_DIR) + "/../shared/seed-models/ggml-model-f32.bin";
    if (!fs::exists(path)) GTEST_SKIP() << "seed model not found at " << path;
    std::vector<mn::LegacyTensor> t = mn::read_legacy_ggml(path);
    ASSERT_EQ(t.size(), 4u);
    // fc1.weight, fc1.bias, fc2.weight, fc2.bias in ggml ne order (innermost first).
    const std::vector<std::vector<int64_t>> shapes = {{784, 500}, {500}, {500, 10}, {10}};
    for (size_t i = 0; i < 4; ++i) {
        ASSERT_EQ(t[i].n_dims, static_cast<int>(shapes[i].size())) << "tensor " << i;
        for (size_t d = 0; d < shapes[i].size(); ++d) EXPECT_EQ(t[i].ne[d], shapes[i][d]);
        EXPECT_EQ(static_cast<int64_t>(t[i].data.size()), t[i].nelements());
        for (float v : t[i].data) ASSERT_TRUE(std::isfinite(v) && std::fabs(v) < 100) << v;
    }
    EXPECT_NEAR(t[0].data[0], 0.012964981f, 1e-8);  // float32, not int32
}

TEST(LegacyGgml, BadMagic) {
    expect_error([] { parse(words({1, 1, 0}, 0)); },
                 "not a legacy ggml model: magic is 0x00000000, expected 0x67676d6c");
    expect_error([] { parse(words({1, 1, 0}, 0x46554747)); }, "GGUF file");
    expect_error([] { parse(words({1, 1, 0}, 0x67676a74)); }, "versioned ggml file");
    expect_error([] { parse(Bytes{0x6c, 0x6d, 0x67}); }, "too short");
    Bytes gguf = {'G', 'G', 'U', 'F'};
    EXPECT_FALSE(mn::is_legacy_ggml(gguf.data(), gguf.size()));
    EXPECT_FALSE(mn::is_legacy_ggml(gguf.data(), 2));
    expect_error([] { parse(words({})); }, "holds no tensors");
}

TEST(LegacyGgml, BadDimensionCount) {
    expect_error([] { parse(words({0})); }, "tensor 0: n_dims is 0, expected 1..4");
    expect_error([] { parse(words({5, 1, 1, 1, 1, 1, 0})); }, "tensor 0: n_dims is 5");
    expect_error([] { parse(words({-1})); }, "n_dims is -1");
    Bytes bad = words({1, 1, 0, 7});  // a good 1-element tensor, then a bad one
    expect_error([&] { parse(bad); }, "tensor 1: n_dims is 7");
}

TEST(LegacyGgml, HostileSizes) {
    expect_error([] { parse(words({2, 3, 0})); }, "tensor 0: size 1 is 0, must be at least 1");
    expect_error([] { parse(words({1, -5})); }, "size 0 is -5");
    // 2^31-1 squared fits 64 bits but is over the element limit; to the fourth it overflows.
    expect_error([] { parse(words({2, 0x7FFFFFFF, 0x7FFFFFFF, 0})); },
                 "tensor 0 element count 4611686014132420609 is over the limit of 268435456");
    expect_error([] { parse(words({4, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF})); },
                 "tensor 0 element count overflows");
    expect_error([] { parse(words({3, 0x40000000, 0x40000000, 4})); }, "over the limit");
    // Within the limit, but not in the file.
    expect_error([] { parse(words({2, 1000, 1000, 0})); }, "truncated: tensor 0 of shape [1000, 1000] needs 1000000");
}

TEST(LegacyGgml, EveryTruncationFailsOrKeepsWholeTensors) {
    TempDir dir("legacy");
    std::vector<mn::LegacyTensor> model = small_model();
    mn::write_legacy_ggml(dir.file("model.bin"), model);
    Bytes raw = read_file(dir.file("model.bin"));
    int ok = 0;
    for (size_t n = 0; n < raw.size(); ++n) {
        Bytes cut(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(n));
        try {
            // The format has no tensor count, so a cut exactly between tensors is a valid
            // smaller model; anything else must be an error.
            std::vector<mn::LegacyTensor> t = parse(cut);
            ASSERT_LT(t.size(), model.size());
            for (size_t i = 0; i < t.size(); ++i) expect_same(t[i], model[i]);
            ++ok;
        } catch (const mn::Error&) {
        }
    }
    EXPECT_EQ(ok, 3);  // after tensors 0, 1 and 2
    Bytes cut(raw.begin(), raw.end() - 1);
    expect_error([&] { parse(cut); },
                 "truncated: tensor 3 of shape [3] needs 3 float32 values but only 11 bytes remain");
    Bytes stray = raw;
    stray.push_back(1);
    stray.push_back(0);
    expect_error([&] { parse(stray); }, "truncated: 2 stray bytes after tensor 3");
}

TEST(LegacyGgml, TensorCountIsCapped) {
    std::vector<int32_t> w;
    for (int i = 0; i < mn::kLegacyGgmlMaxTensors; ++i) w.insert(w.end(), {1, 1, 0});
    EXPECT_EQ(parse(words(w)).size(), static_cast<size_t>(mn::kLegacyGgmlMaxTensors));
    w.insert(w.end(), {1, 1, 0});
    expect_error([&] { parse(words(w)); }, "more than 64 tensors");
}

TEST(LegacyGgml, WriterRefusesBadTensors) {
    TempDir dir("legacy");
    std::vector<mn::LegacyTensor> model = small_model();
    model[2].data.pop_back();
    expect_error([&] { mn::write_legacy_ggml(dir.file("m.bin"), model); },
                 "tensor 2 of shape [4, 3] has 11 values, expected 12");
    model = small_model();
    model[0].n_dims = 5;
    expect_error([&] { mn::write_legacy_ggml(dir.file("m.bin"), model); }, "n_dims must be 1..4");
    expect_error([&] { mn::write_legacy_ggml(dir.file("m.bin"), {}); }, "not 0");
    EXPECT_FALSE(fs::exists(dir.file("m.bin")));
}

}  // namespace
