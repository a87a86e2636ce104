#pragma once
// A tiny zip writer (stored entries only), for archives Python's zipfile would not write: the
// unit tests of the zip reader make malformed ones, the state_dict fuzzer wraps its inputs in
// one. Entries are laid out in order, each with a local header, then the central directory.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "io/crc32.h"

namespace mn::test {

inline void put16(std::vector<uint8_t>& b, uint16_t v) {
    for (int i = 0; i < 2; ++i) b.push_back(uint8_t(v >> (8 * i)));
}
inline void put32(std::vector<uint8_t>& b, uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i)));
}
inline void put64(std::vector<uint8_t>& b, uint64_t v) {
    for (int i = 0; i < 8; ++i) b.push_back(uint8_t(v >> (8 * i)));
}
inline void put(std::vector<uint8_t>& b, const std::string& s) { b.insert(b.end(), s.begin(), s.end()); }

struct ZipSpec {
    std::vector<std::pair<std::string, std::string>> entries;  // name, stored data
    bool zip64 = false;          // add ZIP64 end record + locator and saturate the old fields
    uint16_t count_delta = 0;    // added to the entry count the end record claims
};

inline std::vector<uint8_t> make_zip(const ZipSpec& spec) {
    std::vector<uint8_t> b, dir;
    for (const auto& [name, data] : spec.entries) {
        uint32_t crc = mn::crc32(reinterpret_cast<const uint8_t*>(data.data()), data.size());
        uint32_t offset = static_cast<uint32_t>(b.size());
        put32(b, 0x04034b50);
        put16(b, 20), put16(b, 0), put16(b, 0), put32(b, 0), put32(b, crc);
        put32(b, uint32_t(data.size())), put32(b, uint32_t(data.size()));
        put16(b, uint16_t(name.size())), put16(b, 0), put(b, name), put(b, data);

        put32(dir, 0x02014b50);
        put16(dir, 20), put16(dir, 20), put16(dir, 0), put16(dir, 0), put32(dir, 0), put32(dir, crc);
        put32(dir, uint32_t(data.size())), put32(dir, uint32_t(data.size()));
        put16(dir, uint16_t(name.size())), put16(dir, 0), put16(dir, 0), put16(dir, 0), put16(dir, 0);
        put32(dir, 0), put32(dir, offset), put(dir, name);
    }
    uint64_t dir_offset = b.size(), count = spec.entries.size() + spec.count_delta;
    b.insert(b.end(), dir.begin(), dir.end());
    if (spec.zip64) {
        uint64_t record = b.size();
        put32(b, 0x06064b50), put64(b, 44), put16(b, 45), put16(b, 45), put32(b, 0), put32(b, 0);
        put64(b, count), put64(b, count), put64(b, dir.size()), put64(b, dir_offset);
        put32(b, 0x07064b50), put32(b, 0), put64(b, record), put32(b, 1);
    }
    put32(b, 0x06054b50), put16(b, 0), put16(b, 0);
    put16(b, spec.zip64 ? 0xFFFF : uint16_t(count)), put16(b, spec.zip64 ? 0xFFFF : uint16_t(count));
    put32(b, spec.zip64 ? 0xFFFFFFFF : uint32_t(dir.size()));
    put32(b, spec.zip64 ? 0xFFFFFFFF : uint32_t(dir_offset));
    put16(b, 0);
    return b;
}

}  // namespace mn::test
