#pragma once
// Image files written without a library for the formats stb_image_write lacks: GIF (for
// tests/tools/make_test_images and the fuzz seeds, fuzz/make_seeds.cpp) and binary PGM/PPM.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../unit/disturb.h"

namespace mn::test {

// GIF89a, 256 gray levels, LZW with a clear code before the code table would need 10 bits,
// so every code is 9 bits wide: a valid GIF without a real compressor.
inline std::vector<uint8_t> gif_of(const TestImage& img) {
    std::vector<uint8_t> g = {'G', 'I', 'F', '8', '9', 'a'};
    auto u16 = [&](int v) { g.push_back(uint8_t(v & 255)); g.push_back(uint8_t(v >> 8)); };
    u16(img.w);
    u16(img.h);
    g.insert(g.end(), {0xF7, 0, 0});  // global table of 2^(7+1) colours
    for (int i = 0; i < 256; ++i) g.insert(g.end(), {uint8_t(i), uint8_t(i), uint8_t(i)});
    g.push_back(0x2C);
    u16(0); u16(0); u16(img.w); u16(img.h);
    g.push_back(0);
    g.push_back(8);  // LZW minimum code size
    std::vector<uint8_t> data;
    uint32_t acc = 0;
    int bits = 0;
    auto code = [&](int c) {
        acc |= uint32_t(c) << bits;
        bits += 9;
        while (bits >= 8) { data.push_back(uint8_t(acc & 255)); acc >>= 8; bits -= 8; }
    };
    int since_clear = 0;
    code(256);
    for (size_t i = 0; i < size_t(img.w) * size_t(img.h); ++i) {
        if (since_clear == 250) { code(256); since_clear = 0; }
        code(img.px[i * size_t(img.channels)]);
        ++since_clear;
    }
    code(257);
    if (bits > 0) data.push_back(uint8_t(acc & 255));
    for (size_t i = 0; i < data.size(); i += 255) {
        const size_t n = std::min<size_t>(255, data.size() - i);
        g.push_back(uint8_t(n));
        g.insert(g.end(), data.begin() + std::ptrdiff_t(i), data.begin() + std::ptrdiff_t(i + n));
    }
    g.push_back(0);
    g.push_back(0x3B);
    return g;
}

inline std::vector<uint8_t> pnm_of(const TestImage& img) {
    const std::string head = std::string(img.channels == 1 ? "P5" : "P6") + "\n" + std::to_string(img.w) + " " +
                             std::to_string(img.h) + "\n255\n";
    std::vector<uint8_t> b(head.begin(), head.end());
    b.insert(b.end(), img.px.begin(), img.px.end());
    return b;
}

}  // namespace mn::test
