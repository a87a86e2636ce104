#pragma once
// PNG writing for reports: an 8-bit grayscale image as a PNG file's bytes (W3C PNG, 2nd
// edition). The pixels go into a zlib stream (RFC 1950) of stored DEFLATE blocks (RFC 1951,
// no compression: an MNIST digit is 28 x 28 bytes, its PNG 880), every chunk closed by its
// CRC-32 (io/crc32.h), the zlib stream by its Adler-32 (io/inflate.h).
#include <cstdint>
#include <vector>

namespace mn {

// pixels: width * height bytes, row-major, 0 = black, 255 = white.
std::vector<uint8_t> png_encode_gray(const uint8_t* pixels, int64_t width, int64_t height);

}  // namespace mn
