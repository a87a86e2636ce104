#include "io/crc32.h"

#include <array>

namespace mn {

namespace {

// Four 256-entry tables ("slicing by 4"): table[0] is the classic byte-at-a-time table;
// table[k][b] is the CRC of byte b followed by k zero bytes, so four input bytes can be
// folded in with four independent lookups instead of a serial chain of four.
using Tables = std::array<std::array<uint32_t, 256>, 4>;

constexpr Tables make_tables() {
    Tables t{};
    for (uint32_t b = 0; b < 256; ++b) {
        uint32_t c = b;
        for (int bit = 0; bit < 8; ++bit) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        t[0][b] = c;
    }
    for (uint32_t b = 0; b < 256; ++b)
        for (int k = 1; k < 4; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
    return t;
}

constexpr Tables kTables = make_tables();

}  // namespace

uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t size) {
    uint32_t c = ~crc;
    while (size >= 4) {
        c ^= uint32_t(data[0]) | (uint32_t(data[1]) << 8) | (uint32_t(data[2]) << 16) |
             (uint32_t(data[3]) << 24);
        c = kTables[3][c & 0xFF] ^ kTables[2][(c >> 8) & 0xFF] ^ kTables[1][(c >> 16) & 0xFF] ^
            kTables[0][c >> 24];
        data += 4;
        size -= 4;
    }
    while (size-- > 0) c = (c >> 8) ^ kTables[0][(c ^ *data++) & 0xFF];
    return ~c;
}

}  // namespace mn
