// IDX reader/writer tests: round trips (plain and gzip), the real MNIST test set when it has
// been fetched, and malformed files (wrong magic, wrong kind, truncation at every length,
// hostile dimensions, trailing bytes).
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "test_support.h"
#include "io/idx.h"

namespace {

using mn::test::Bytes;
using mn::test::read_file;
using mn::test::write_file;
using TempDir = mn::test::TempDir;
using mn::test::expect_error;
namespace fs = std::filesystem;

mn::IdxImages make_images(int64_t count, int64_t rows, int64_t cols) {
    mn::IdxImages im;
    im.count = count;
    im.rows = rows;
    im.cols = cols;
    im.pixels.resize(static_cast<size_t>(count * rows * cols));
    for (size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = static_cast<uint8_t>(i * 37 + 11);
    return im;
}

mn::IdxLabels make_labels(int64_t count) {
    mn::IdxLabels l;
    for (int64_t i = 0; i < count; ++i) l.labels.push_back(static_cast<uint8_t>(i % 10));
    return l;
}

// A header by hand: magic then big-endian dimensions, then `payload` bytes of 0x7F.
Bytes header(uint32_t magic, const std::vector<uint32_t>& dims, size_t payload = 0) {
    Bytes b;
    auto put = [&](uint32_t v) {
        for (int shift : {24, 16, 8, 0}) b.push_back(static_cast<uint8_t>(v >> shift));
    };
    put(magic);
    for (uint32_t d : dims) put(d);
    b.insert(b.end(), payload, 0x7F);
    return b;
}

mn::IdxImages parse_images(const Bytes& b) { return mn::parse_idx_images(b.data(), b.size()); }
mn::IdxLabels parse_labels(const Bytes& b) { return mn::parse_idx_labels(b.data(), b.size()); }

// Compresses src into dst with the system gzip (or Python's). False when neither exists.
bool gzip_file(const std::string& src, const std::string& dst) {
    std::string cmd = "/usr/bin/gzip -9 -c '" + src + "' > '" + dst + "' 2>/dev/null";
    if (::access("/usr/bin/gzip", X_OK) == 0 && std::system(cmd.c_str()) == 0) return true;
    cmd = "/usr/bin/python3 -c 'import gzip,shutil,sys; shutil.copyfileobj(open(sys.argv[1],\"rb\"), "
          "gzip.open(sys.argv[2],\"wb\"))' '" + src + "' '" + dst + "' 2>/dev/null";
    return ::access("/usr/bin/python3", X_OK) == 0 && std::system(cmd.c_str()) == 0;
}

std::string mnist_dir() {
    const char* env = std::getenv("MNIST_DATA_DIR");
    return env && *env ? env : std::string(MNIST_SOURCE_DIR) + "/data/mnist";
}

// ---- round trips ---------------------------------------------------------------------------

TEST(Idx, RoundTrip) {
    TempDir dir("idx");
    mn::IdxImages im = make_images(7, 3, 5);
    mn::IdxLabels labels = make_labels(7);
    mn::write_idx_images(dir.file("images"), im);
    mn::write_idx_labels(dir.file("labels"), labels);
    EXPECT_EQ(fs::file_size(dir.file("images")), 16u + 7 * 3 * 5);
    EXPECT_EQ(fs::file_size(dir.file("labels")), 8u + 7);

    mn::IdxImages back = mn::read_idx_images(dir.file("images"));
    EXPECT_EQ(back.count, 7);
    EXPECT_EQ(back.rows, 3);
    EXPECT_EQ(back.cols, 5);
    EXPECT_EQ(std::vector<uint8_t>(back.data(), back.data() + im.pixels.size()), im.pixels);
    EXPECT_TRUE(back.mapped != nullptr) << "a plain file is used in place";
    EXPECT_EQ(back.image(2), back.data() + 2 * 15);
    EXPECT_THROW(back.image(7), mn::Error);
    EXPECT_THROW(back.image(-1), mn::Error);

    mn::IdxLabels lback = mn::read_idx_labels(dir.file("labels"));
    EXPECT_EQ(lback.labels, labels.labels);
    mn::check_labels_match(back, lback);

    // The header is big-endian with the documented magic.
    Bytes raw = read_file(dir.file("images"));
    EXPECT_EQ(Bytes(raw.begin(), raw.begin() + 16), header(0x803, {7, 3, 5}));
}

TEST(Idx, GzipReadsIdentically) {
    TempDir dir("idx");
    mn::IdxImages im = make_images(50, 28, 28);
    mn::IdxLabels labels = make_labels(50);
    mn::write_idx_images(dir.file("images"), im);
    mn::write_idx_labels(dir.file("labels"), labels);
    // Detection is by content: the compressed files do not get a .gz name.
    if (!gzip_file(dir.file("images"), dir.file("images-compressed")) ||
        !gzip_file(dir.file("labels"), dir.file("labels-compressed")))
        GTEST_SKIP() << "neither /usr/bin/gzip nor /usr/bin/python3 is available to make .gz files";

    Bytes gz = read_file(dir.file("images-compressed"));
    ASSERT_GE(gz.size(), 2u);
    ASSERT_EQ(gz[0], 0x1f);
    mn::IdxImages back = mn::read_idx_images(dir.file("images-compressed"));
    EXPECT_EQ(back.count, 50);
    EXPECT_EQ(std::vector<uint8_t>(back.data(), back.data() + im.pixels.size()), im.pixels);
    EXPECT_EQ(mn::read_idx_labels(dir.file("labels-compressed")).labels, labels.labels);

    // A damaged .gz is an error too, at any truncation.
    for (size_t n = 0; n < gz.size(); n += 7) {
        Bytes cut(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_THROW(parse_images(cut), mn::Error) << "gzip prefix of " << n;
    }
}

// ---- the real data set ---------------------------------------------------------------------

TEST(Idx, RealMnistTestSet) {
    std::string dir = mnist_dir();
    std::string images_path = dir + "/t10k-images-idx3-ubyte";
    std::string labels_path = dir + "/t10k-labels-idx1-ubyte";
    if (!fs::exists(images_path) || !fs::exists(labels_path))
        GTEST_SKIP() << "MNIST test set not found in " << dir << " (run scripts/fetch_data.sh)";

    mn::IdxImages im = mn::read_idx_images(images_path);
    mn::IdxLabels labels = mn::read_idx_labels(labels_path);
    EXPECT_EQ(im.count, 10000);
    EXPECT_EQ(im.rows, 28);
    EXPECT_EQ(im.cols, 28);
    EXPECT_EQ(im.count * im.image_size(), 10000 * 28 * 28);
    const std::vector<uint8_t> before(im.image(123), im.image(123) + 784);
    im.release(0, 10000);  // pages handed back are read again from the file
    EXPECT_EQ(std::vector<uint8_t>(im.image(123), im.image(123) + 784), before);
    mn::check_labels_match(im, labels);

    std::array<int, 10> histogram{};
    for (uint8_t l : labels.labels) ++histogram[l];
    int total = 0;
    for (int c : histogram) {
        EXPECT_GT(c, 800);  // every digit is well represented (the smallest class has 892)
        total += c;
    }
    EXPECT_EQ(total, 10000);
    EXPECT_EQ(labels.labels[0], 7);  // the famous first test digit
    EXPECT_THROW(mn::read_idx_images(labels_path), mn::Error);
}

// Fashion-MNIST as scripts/fetch_fashion_mnist.sh leaves it: gzip data under plain names.
TEST(Idx, RealFashionMnistTestSetGzip) {
    std::string dir = std::string(MNIST_SOURCE_DIR) + "/data/fashion-mnist";
    std::string images_path = dir + "/t10k-images-idx3-ubyte";
    std::string labels_path = dir + "/t10k-labels-idx1-ubyte";
    if (!fs::exists(images_path) || !fs::exists(labels_path))
        GTEST_SKIP() << "Fashion-MNIST not found in " << dir << " (run scripts/fetch_fashion_mnist.sh)";

    Bytes head = read_file(labels_path);
    ASSERT_GE(head.size(), 2u);
    EXPECT_EQ(head[0], 0x1f) << "expected the gzip-compressed files of the Debian package";
    mn::IdxImages im = mn::read_idx_images(images_path);
    mn::IdxLabels labels = mn::read_idx_labels(labels_path);
    EXPECT_EQ(im.count, 10000);
    EXPECT_EQ(im.rows, 28);
    EXPECT_EQ(im.cols, 28);
    mn::check_labels_match(im, labels);
    std::array<int, 10> histogram{};
    for (uint8_t l : labels.labels) ++histogram[l];
    for (int c : histogram) EXPECT_EQ(c, 1000);  // the test set is balanced
}

// ---- malformed files -----------------------------------------------------------------------

TEST(Idx, WrongMagic) {
    expect_error([] { parse_images(header(0x46554747, {1, 1, 1}, 1)); },
                 "not an IDX file: magic is 0x46554747, expected 0x00000803");
    expect_error([] { parse_labels(header(0x12345678, {1}, 1)); },
                 "not an IDX file: magic is 0x12345678, expected 0x00000801");
    expect_error([] { parse_images(Bytes{0, 0, 8}); }, "too short to be an IDX file");
    expect_error([] { parse_images(Bytes{}); }, "too short");
}

TEST(Idx, WrongKindOfFile) {
    Bytes labels = header(0x801, {3}, 3);
    expect_error([&] { parse_images(labels); },
                 "this is an IDX label file (magic 0x00000801), expected 0x00000803 (an IDX image file)");
    Bytes images = header(0x803, {1, 2, 2}, 4);
    expect_error([&] { parse_labels(images); },
                 "this is an IDX image file (magic 0x00000803), expected 0x00000801 (an IDX label file)");
    expect_error([] { parse_images(header(0x802, {2, 2}, 4)); }, "IDX file has 2 dimensions");
    expect_error([] { parse_images(header(0xD03, {1, 1, 1}, 4)); },
                 "unsupported IDX element type 0x0D (float32), expected 0x08");
}

TEST(Idx, EveryTruncationIsAnError) {
    TempDir dir("idx");
    mn::write_idx_images(dir.file("images"), make_images(3, 4, 5));
    mn::write_idx_labels(dir.file("labels"), make_labels(6));
    Bytes images = read_file(dir.file("images"));
    Bytes labels = read_file(dir.file("labels"));
    for (size_t n = 0; n < images.size(); ++n) {
        Bytes cut(images.begin(), images.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_THROW(parse_images(cut), mn::Error) << "prefix of " << n;
    }
    for (size_t n = 0; n < labels.size(); ++n) {
        Bytes cut(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_THROW(parse_labels(cut), mn::Error) << "prefix of " << n;
    }
    images.pop_back();
    expect_error([&] { parse_images(images); },
                 "truncated: header says 3 images of 4x5 but the file holds 75 bytes (expected 76)");
    labels.pop_back();
    expect_error([&] { parse_labels(labels); }, "truncated: header says 6 labels");
}

TEST(Idx, HostileDimensions) {
    // Claims are checked against the file size before anything is allocated.
    expect_error([] { parse_images(header(0x803, {0x80000000u, 28, 28}, 100)); },
                 "truncated: header says 2147483648 images of 28x28 but the file holds 116 bytes");
    expect_error([] { parse_images(header(0x803, {0xFFFFFFFFu, 4096, 4096}, 10)); }, "truncated");
    expect_error([] { parse_labels(header(0x801, {0xFFFFFFFFu}, 10)); }, "truncated");
    expect_error([] { parse_images(header(0x803, {1, 4097, 1}, 4097)); },
                 "image rows 4097 is over the limit of 4096");
    expect_error([] { parse_images(header(0x803, {1, 1, 5000}, 5000)); }, "image columns 5000 is over the limit of 4096");
    expect_error([] { parse_images(header(0x803, {1, 28, 0}, 0)); }, "image size 28x0");
    expect_error([] { parse_images(header(0x803, {0, 28, 28}, 0)); }, "header says 0 images");
    expect_error([] { parse_labels(header(0x801, {0}, 0)); }, "header says 0 labels");
}

TEST(Idx, TrailingBytes) {
    expect_error([] { parse_images(header(0x803, {2, 2, 2}, 9)); },
                 "file has 1 unexpected bytes after 2 images of 2x2");
    expect_error([] { parse_labels(header(0x801, {2}, 5)); }, "3 unexpected bytes after 2 labels");
}

TEST(Idx, LabelsMustMatchImages) {
    mn::IdxImages im = make_images(4, 2, 2);
    expect_error([&] { mn::check_labels_match(im, make_labels(5)); },
                 "the image file has 4 images but the label file has 5 labels");
    mn::IdxLabels labels = make_labels(4);
    labels.labels[2] = 10;
    expect_error([&] { mn::check_labels_match(im, labels); },
                 "label 10 at index 2 is out of range 0..9");
    mn::check_labels_match(im, labels, 11);  // e.g. a data set with 11 classes
    expect_error([&] { mn::check_labels_match(im, make_labels(4), 3); }, "out of range 0..2");
}

TEST(Idx, WriterRefusesBadData) {
    TempDir dir("idx");
    mn::IdxImages im = make_images(2, 3, 3);
    im.pixels.pop_back();
    expect_error([&] { mn::write_idx_images(dir.file("x"), im); }, "pixel buffer holds 17 bytes");
    expect_error([&] { mn::write_idx_images(dir.file("x"), make_images(1, 5000, 1)); },
                 "cannot write images of 5000x1");
    expect_error([&] { mn::write_idx_labels(dir.file("x"), mn::IdxLabels{}); },
                 "cannot write an IDX file of 0 labels");
    EXPECT_FALSE(fs::exists(dir.file("x")));
}

TEST(Idx, MissingFile) {
    TempDir dir("idx");
    EXPECT_THROW(mn::read_idx_images(dir.file("does-not-exist")), mn::Error);
    write_file(dir.file("empty"), {});
    expect_error([&] { mn::read_idx_labels(dir.file("empty")); }, "too short");
}

}  // namespace
