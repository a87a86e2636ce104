#pragma once
// A bounds-checked little-endian cursor over a byte range. Every parser of untrusted files
// (GGUF, legacy .bin, IDX, zip, pickle) reads through it, so a truncated or hostile file
// becomes an Error("... truncated ...") instead of a read past the end.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "engine/error.h"

namespace mn {

class ByteReader {
public:
    ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    size_t pos() const { return pos_; }
    size_t size() const { return size_; }
    size_t remaining() const { return size_ - pos_; }
    bool at_end() const { return pos_ == size_; }
    const uint8_t* data() const { return data_; }

    void seek(size_t pos) {
        check(pos <= size_, "offset " + std::to_string(pos) + " is past the end of the file");
        pos_ = pos;
    }

    // Returns a pointer to the next n bytes and advances past them.
    const uint8_t* take(size_t n, const char* what = "data") {
        check(n <= remaining(), std::string("file is truncated (reading ") + what + ")");
        const uint8_t* p = data_ + pos_;
        pos_ += n;
        return p;
    }

    template <typename T>
    T read(const char* what = "value") {
        T v;
        std::memcpy(&v, take(sizeof(T), what), sizeof(T));
        return v;  // all supported hosts are little-endian, as the formats are
    }

    uint8_t u8(const char* what = "u8") { return read<uint8_t>(what); }
    uint16_t u16(const char* what = "u16") { return read<uint16_t>(what); }
    uint32_t u32(const char* what = "u32") { return read<uint32_t>(what); }
    uint64_t u64(const char* what = "u64") { return read<uint64_t>(what); }
    int32_t i32(const char* what = "i32") { return read<int32_t>(what); }

    std::string_view str(size_t n, const char* what = "string") {
        return {reinterpret_cast<const char*>(take(n, what)), n};
    }

private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

// Big-endian 32-bit read (IDX headers are big-endian).
inline uint32_t read_be32(ByteReader& r, const char* what = "u32") {
    const uint8_t* p = r.take(4, what);
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

}  // namespace mn
