// The PNG writer (io/png.h): the signature, IHDR's fields, every chunk's CRC-32 checked with the
// project's crc32, and the IDAT stream inflated with the project's own inflate_zlib (which checks
// its Adler-32) gives the rows back, each after its filter byte 0; images larger than one stored
// DEFLATE block (65,535 bytes) too.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/crc32.h"
#include "io/inflate.h"
#include "io/png.h"
#include "test_support.h"

namespace {

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

// The chunks of a PNG by type (IDATs concatenated), each CRC checked; fails the test on a bad one.
std::map<std::string, std::vector<uint8_t>> chunks_of(const std::vector<uint8_t>& png, std::vector<std::string>* order) {
    std::map<std::string, std::vector<uint8_t>> chunks;
    const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    EXPECT_TRUE(png.size() >= 8 && std::equal(signature, signature + 8, png.begin()));
    size_t pos = 8;
    while (pos + 12 <= png.size()) {
        const uint32_t len = be32(&png[pos]);
        EXPECT_LE(pos + 12 + len, png.size());
        const std::string type(png.begin() + long(pos) + 4, png.begin() + long(pos) + 8);
        EXPECT_EQ(be32(&png[pos + 8 + len]), mn::crc32(&png[pos + 4], len + 4)) << "CRC of " << type;
        auto& body = chunks[type];
        body.insert(body.end(), png.begin() + long(pos) + 8, png.begin() + long(pos) + 8 + len);
        order->push_back(type);
        pos += 12 + len;
    }
    EXPECT_EQ(pos, png.size());
    return chunks;
}

void expect_round_trip(int64_t w, int64_t h) {
    std::vector<uint8_t> pixels(static_cast<size_t>(w * h));
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>((i * 7 + i / 13) % 256);
    const std::vector<uint8_t> png = mn::png_encode_gray(pixels.data(), w, h);
    std::vector<std::string> order;
    auto chunks = chunks_of(png, &order);
    ASSERT_EQ(order, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
    const std::vector<uint8_t>& ihdr = chunks["IHDR"];
    ASSERT_EQ(ihdr.size(), 13u);
    EXPECT_EQ(be32(&ihdr[0]), uint32_t(w));
    EXPECT_EQ(be32(&ihdr[4]), uint32_t(h));
    EXPECT_EQ(std::vector<uint8_t>(ihdr.begin() + 8, ihdr.end()), (std::vector<uint8_t>{8, 0, 0, 0, 0}));  // 8-bit gray
    EXPECT_TRUE(chunks["IEND"].empty());
    const std::vector<uint8_t>& idat = chunks["IDAT"];
    const std::vector<uint8_t> raw = mn::inflate_zlib(idat.data(), idat.size(), size_t(1) << 24);
    ASSERT_EQ(raw.size(), size_t(h * (w + 1)));
    for (int64_t y = 0; y < h; ++y) {
        EXPECT_EQ(raw[size_t(y * (w + 1))], 0) << "row " << y << " has a filter";
        EXPECT_TRUE(std::equal(pixels.begin() + long(y * w), pixels.begin() + long((y + 1) * w), raw.begin() + long(y * (w + 1) + 1)))
            << "row " << y;
    }
}

TEST(Png, DigitRoundTrips) { expect_round_trip(28, 28); }
TEST(Png, OnePixel) { expect_round_trip(1, 1); }
TEST(Png, SeveralStoredBlocks) { expect_round_trip(300, 250); }  // 75,250 bytes of rows: two blocks

TEST(Png, DigitSize) {
    const std::vector<uint8_t> pixels(28 * 28, 255);
    // 8 signature + 25 IHDR + 12 IEND + IDAT: 12 + zlib (2 + 5 + 812 + 4)
    EXPECT_EQ(mn::png_encode_gray(pixels.data(), 28, 28).size(), 8u + 25u + 12u + 12u + 823u);
}

TEST(Png, EmptyImageIsAnError) {
    const uint8_t px = 0;
    mn::test::expect_error([&] { mn::png_encode_gray(&px, 0, 5); }, "a PNG's sides are 1 to 2^31-1 pixels, not 0x5");
}

}  // namespace
