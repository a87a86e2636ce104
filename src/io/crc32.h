#pragma once
// CRC-32 as used by gzip (RFC 1952) and zip: reflected polynomial 0xEDB88320,
// initial value and final XOR 0xFFFFFFFF. crc32(data) is the checksum of a whole buffer;
// crc32_update lets a caller feed data in pieces:
//     uint32_t c = 0; c = crc32_update(c, a, na); c = crc32_update(c, b, nb);  // == crc32(a+b)
#include <cstddef>
#include <cstdint>

namespace mn {

uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t size);

inline uint32_t crc32(const uint8_t* data, size_t size) { return crc32_update(0, data, size); }

}  // namespace mn
