#include "io/png.h"

#include <algorithm>
#include <string>

#include "engine/error.h"
#include "io/crc32.h"
#include "io/inflate.h"

namespace mn {

namespace {

void put_u32_be(std::vector<uint8_t>& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

// length, type, data, CRC-32 of type and data.
void put_chunk(std::vector<uint8_t>& out, const char type[4], const std::vector<uint8_t>& data) {
    put_u32_be(out, static_cast<uint32_t>(data.size()));
    const size_t typed = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    put_u32_be(out, crc32(out.data() + typed, out.size() - typed));
}

// zlib header (deflate, 32K window, no dictionary, check bits), stored blocks of at most
// 65,535 bytes (each: BFINAL/BTYPE=00 byte, LEN and its complement NLEN, little-endian), Adler-32.
std::vector<uint8_t> zlib_stored(const std::vector<uint8_t>& raw) {
    std::vector<uint8_t> z = {0x78, 0x01};
    size_t done = 0;
    do {
        const size_t n = std::min<size_t>(raw.size() - done, 65535);
        const bool last = done + n == raw.size();
        z.push_back(last ? 1 : 0);
        const uint16_t len = static_cast<uint16_t>(n), nlen = static_cast<uint16_t>(~len);
        z.insert(z.end(), {static_cast<uint8_t>(len), static_cast<uint8_t>(len >> 8), static_cast<uint8_t>(nlen),
                           static_cast<uint8_t>(nlen >> 8)});
        z.insert(z.end(), raw.begin() + static_cast<std::ptrdiff_t>(done), raw.begin() + static_cast<std::ptrdiff_t>(done + n));
        done += n;
    } while (done < raw.size());
    put_u32_be(z, adler32(raw.data(), raw.size()));
    return z;
}

}  // namespace

std::vector<uint8_t> png_encode_gray(const uint8_t* pixels, int64_t width, int64_t height) {
    check(width >= 1 && height >= 1 && width <= 0x7FFFFFFF && height <= 0x7FFFFFFF,
          "a PNG's sides are 1 to 2^31-1 pixels, not " + std::to_string(width) + "x" + std::to_string(height));
    // Each row is its filter type (0: none) and its bytes.
    std::vector<uint8_t> raw;
    raw.reserve(static_cast<size_t>(height * (width + 1)));
    for (int64_t y = 0; y < height; ++y) {
        raw.push_back(0);
        raw.insert(raw.end(), pixels + y * width, pixels + (y + 1) * width);
    }
    std::vector<uint8_t> ihdr;
    put_u32_be(ihdr, static_cast<uint32_t>(width));
    put_u32_be(ihdr, static_cast<uint32_t>(height));
    ihdr.insert(ihdr.end(), {8, 0, 0, 0, 0});  // 8 bits, grayscale, deflate, adaptive filters, no interlace

    std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    put_chunk(png, "IHDR", ihdr);
    put_chunk(png, "IDAT", zlib_stored(raw));
    put_chunk(png, "IEND", {});
    return png;
}

}  // namespace mn
