#pragma once
// DEFLATE streams written bit by bit (RFC 1951), for tests that need streams no compressor
// writes: malformed blocks (tests/unit/test_inflate.cpp) and decompression bombs
// (tests/unit/test_limits.cpp).
#include <cstdint>
#include <string>
#include <vector>

namespace mn::test {

// Writes a DEFLATE bit stream: fields LSB first, Huffman codes MSB first (RFC 1951 3.1.1).
class BitWriter {
public:
    void put(uint32_t value, int n) {
        for (int i = 0; i < n; ++i) push((value >> i) & 1);
    }
    void put_code(uint32_t code, int len) {
        for (int i = len - 1; i >= 0; --i) push((code >> i) & 1);
    }
    // A symbol of the fixed literal/length code (RFC 1951 3.2.6).
    void fixed_symbol(int sym) {
        if (sym < 144) put_code(0x30 + sym, 8);
        else if (sym < 256) put_code(0x190 + sym - 144, 9);
        else if (sym < 280) put_code(sym - 256, 7);
        else put_code(0xC0 + sym - 280, 8);
    }
    void fixed_distance(int sym) { put_code(sym, 5); }
    // A stored block: 3 header bits, padding to a byte boundary, LEN, NLEN, the bytes.
    void stored(const std::string& data, bool final_block) {
        put(final_block, 1);
        put(0, 2);
        while (nbits_ % 8 != 0) push(0);
        put(static_cast<uint32_t>(data.size()), 16);
        put(~static_cast<uint32_t>(data.size()), 16);
        for (char c : data) put(static_cast<uint8_t>(c), 8);
    }
    void fixed_header(bool final_block) {
        put(final_block, 1);
        put(1, 2);
    }
    const std::vector<uint8_t>& bytes() const { return bytes_; }

private:
    void push(uint32_t bit) {
        if (nbits_ % 8 == 0) bytes_.push_back(0);
        bytes_.back() |= static_cast<uint8_t>(bit << (nbits_ % 8));
        ++nbits_;
    }
    std::vector<uint8_t> bytes_;
    size_t nbits_ = 0;
};

// A fixed-Huffman stream of one zero byte followed by `matches` copies of 258 bytes at
// distance 1: 2 bytes of input per 258 of output.
inline std::vector<uint8_t> zero_bomb(int matches) {
    BitWriter w;
    w.fixed_header(true);
    w.fixed_symbol(0);
    for (int i = 0; i < matches; ++i) {
        w.fixed_symbol(285);  // length 258, no extra bits
        w.fixed_distance(0);  // distance 1
    }
    w.fixed_symbol(256);
    return w.bytes();
}

}  // namespace mn::test
