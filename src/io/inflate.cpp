#include "io/inflate.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "engine/error.h"
#include "io/byte_reader.h"
#include "io/crc32.h"

namespace mn {

namespace {

[[noreturn]] void corrupt(const std::string& why) {
    throw Error("corrupt deflate data: " + why);
}

// ---- bit input -----------------------------------------------------------------------------

// Reads a DEFLATE bit stream: bits are packed starting at the least significant bit of each
// byte. Up to 64 bits are buffered. Past the end of the input, peek() returns zero bits so
// that a table lookup near the end is harmless; consume() is what reports truncation, when
// bits that do not exist are actually used.
class BitReader {
public:
    BitReader(const uint8_t* data, size_t size) : start_(data), next_(data), end_(data + size) {}

    uint32_t peek(int n) {  // n <= 16
        if (count_ < n) refill();
        return static_cast<uint32_t>(buf_) & ((1u << n) - 1);
    }

    void consume(int n) {
        if (n > count_) throw Error("compressed data is truncated");
        buf_ >>= n;
        count_ -= n;
    }

    uint32_t bits(int n) {
        uint32_t v = peek(n);
        consume(n);
        return v;
    }

    void align_to_byte() { consume(count_ % 8); }

    // Copies n whole bytes; only valid right after align_to_byte().
    void copy_bytes(uint8_t* dst, size_t n) {
        for (; n > 0 && count_ > 0; --n) {
            *dst++ = static_cast<uint8_t>(buf_);
            buf_ >>= 8;
            count_ -= 8;
        }
        if (n == 0) return;
        // The buffer is empty now, but may hold look-ahead copies of the bytes at next_,
        // which would no longer line up once next_ moves: drop them.
        buf_ = 0;
        if (n > static_cast<size_t>(end_ - next_)) throw Error("compressed data is truncated");
        std::memcpy(dst, next_, n);
        next_ += n;
    }

    // Input bytes used so far: bytes loaded minus the whole bytes still buffered.
    size_t bytes_used() const { return static_cast<size_t>(next_ - start_) - count_ / 8; }

private:
    void refill() {
        if (end_ - next_ >= 8) {
            // Fast path: OR in 8 bytes but count only the whole bytes that fit. The bits
            // above count_ then hold the following input bytes at the very positions a later
            // refill will OR them into again, so the invariant below still holds.
            uint64_t word;
            std::memcpy(&word, next_, 8);  // little-endian host, like the stream
            buf_ |= word << count_;
            int bytes = (63 - count_) / 8;
            next_ += bytes;
            count_ += 8 * bytes;
            return;
        }
        while (count_ <= 56 && next_ < end_) {
            buf_ |= static_cast<uint64_t>(*next_++) << count_;
            count_ += 8;
        }
    }

    const uint8_t* start_;
    const uint8_t* next_;
    const uint8_t* end_;
    // Bits above count_ are either zero or copies of the input bytes at next_ onwards, never
    // anything else: ORing those bytes in again changes nothing, and peek() past the end of
    // the input sees zeros.
    uint64_t buf_ = 0;
    int count_ = 0;
};

// ---- canonical Huffman codes ---------------------------------------------------------------

constexpr int kMaxCodeBits = 15;
constexpr int kTableBits = 10;  // codes up to this long are decoded with one table lookup

// A canonical Huffman code. Short codes (the frequent symbols) are decoded with one lookup:
// the next `table_bits` input bits index `table`. Since DEFLATE sends codes most significant
// bit first inside an LSB-first stream, a code's index is its bit-reversed value, repeated for
// every setting of the bits after it. An entry holds (symbol << 4) | code length; 0 means
// "no short code starts here", and decode_slow() then walks the canonical code bit by bit.
// The table stays small (2 KiB) so it stays in the L1 cache; a full 15-bit table would not.
struct Huffman {
    int table_bits = 0;
    std::vector<uint16_t> table;
    uint16_t count[kMaxCodeBits + 1] = {};  // number of codes of each length
    std::vector<uint16_t> sorted;           // symbols in canonical order: by length, then value
};

uint32_t reverse_bits(uint32_t code, int len) {
    uint32_t r = 0;
    for (int i = 0; i < len; ++i, code >>= 1) r = (r << 1) | (code & 1);
    return r;
}

// Builds the code for symbols 0..n-1 with the given code lengths (0 = symbol unused), as in
// RFC 1951 section 3.2.2. Over-subscribed length sets are rejected. Incomplete sets are
// rejected too, except a code with no symbols or a single one-bit code (both legitimately
// produced by encoders for distance codes); decoding a hole in such a code is an error.
Huffman build_huffman(const uint8_t* lengths, int n, bool allow_incomplete, const char* what) {
    Huffman h;
    int max_len = 0;
    for (int i = 0; i < n; ++i) {
        ++h.count[lengths[i]];
        max_len = std::max<int>(max_len, lengths[i]);
    }
    h.count[0] = 0;

    int left = 1;  // codes still available at the current length
    for (int len = 1; len <= kMaxCodeBits; ++len) {
        left = 2 * left - h.count[len];
        if (left < 0) corrupt(std::string("over-subscribed ") + what + " code");
    }
    bool empty = max_len == 0;
    bool single_one_bit = max_len == 1 && h.count[1] == 1;
    if (left > 0 && !(allow_incomplete && (empty || single_one_bit)))
        corrupt(std::string("incomplete ") + what + " code");

    // First code and first canonical-order position of each length.
    uint32_t next_code[kMaxCodeBits + 1] = {};
    int offset[kMaxCodeBits + 1] = {};
    for (int len = 1, code = 0; len <= kMaxCodeBits; ++len) {
        code = (code + h.count[len - 1]) << 1;
        next_code[len] = static_cast<uint32_t>(code);
        offset[len] = len == 1 ? 0 : offset[len - 1] + h.count[len - 1];
    }

    h.table_bits = std::min(max_len, kTableBits);
    h.table.assign(size_t{1} << h.table_bits, 0);
    h.sorted.resize(static_cast<size_t>(offset[kMaxCodeBits] + h.count[kMaxCodeBits]));
    for (int sym = 0; sym < n; ++sym) {
        int len = lengths[sym];
        if (len == 0) continue;
        h.sorted[offset[len]++] = static_cast<uint16_t>(sym);
        uint32_t code = next_code[len]++;
        if (len > h.table_bits) continue;
        uint16_t entry = static_cast<uint16_t>((sym << 4) | len);
        for (size_t i = reverse_bits(code, len); i < h.table.size(); i += size_t{1} << len)
            h.table[i] = entry;
    }
    return h;
}

// Codes longer than the table, or bits that start no code. The codes of one length are
// consecutive numbers, starting right after (one bit longer than) the previous length's, so
// reading one bit at a time it suffices to check whether the value so far falls in the range
// of the current length.
[[gnu::noinline]] int decode_slow(BitReader& in, const Huffman& h) {
    uint32_t bits = in.peek(kMaxCodeBits);
    int code = 0;   // the bits read so far, as a number
    int first = 0;  // the first code of the current length
    int index = 0;  // the canonical position of that first code
    for (int len = 1; len <= kMaxCodeBits; ++len) {
        code |= static_cast<int>((bits >> (len - 1)) & 1);
        if (code - first < h.count[len]) {
            in.consume(len);
            return h.sorted[static_cast<size_t>(index + code - first)];
        }
        index += h.count[len];
        first = (first + h.count[len]) << 1;
        code <<= 1;
    }
    corrupt("invalid Huffman code");
}

inline int decode_symbol(BitReader& in, const Huffman& h) {
    uint16_t entry = h.table[in.peek(h.table_bits)];
    if (entry == 0) return decode_slow(in, h);
    in.consume(entry & 15);
    return entry >> 4;
}

// ---- the fixed parts of the format ---------------------------------------------------------

struct BaseExtra {
    uint16_t base;
    uint8_t extra;  // number of extra bits added to base
};

// Length symbols 257..285 (RFC 1951 3.2.5): groups of four share an extra-bit count that
// grows by one per group, bases are contiguous; 285 alone means 258.
constexpr std::array<BaseExtra, 29> make_length_table() {
    std::array<BaseExtra, 29> t{};
    int base = 3;
    for (int i = 0; i < 28; ++i) {
        int extra = i < 8 ? 0 : (i - 4) / 4;
        t[i] = {static_cast<uint16_t>(base), static_cast<uint8_t>(extra)};
        base += 1 << extra;
    }
    t[28] = {258, 0};
    return t;
}

// Distance symbols 0..29: pairs share an extra-bit count, bases are contiguous from 1.
constexpr std::array<BaseExtra, 30> make_distance_table() {
    std::array<BaseExtra, 30> t{};
    int base = 1;
    for (int i = 0; i < 30; ++i) {
        int extra = i < 4 ? 0 : (i - 2) / 2;
        t[i] = {static_cast<uint16_t>(base), static_cast<uint8_t>(extra)};
        base += 1 << extra;
    }
    return t;
}

constexpr auto kLengths = make_length_table();
constexpr auto kDistances = make_distance_table();
static_assert(kLengths[27].base == 227 && kDistances[29].base == 24577);

constexpr int kNumLitLen = 288;  // including the two that never occur in valid data
constexpr int kNumDist = 30;

// The fixed codes of block type 1 (RFC 1951 3.2.6).
const Huffman& fixed_litlen() {
    static const Huffman h = [] {
        uint8_t len[kNumLitLen];
        for (int i = 0; i < kNumLitLen; ++i) len[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
        return build_huffman(len, kNumLitLen, false, "literal/length");
    }();
    return h;
}

const Huffman& fixed_distance() {
    static const Huffman h = [] {
        uint8_t len[32];
        std::fill(len, len + 32, 5);  // 30 and 31 take part in the code but are invalid
        return build_huffman(len, 32, false, "distance");
    }();
    return h;
}

// ---- the decoder ---------------------------------------------------------------------------

class Inflater {
public:
    struct Full {};  // thrown when a prefix is complete

    // Output is appended to out; back-references may reach back to out[base] but not before
    // (each gzip member is independent). out.size() never exceeds max_output: more output is
    // an OutputLimitError, or with `prefix` the end of decoding (Full), the output cut there.
    Inflater(const uint8_t* data, size_t size, std::vector<uint8_t>& out, size_t max_output, bool prefix = false)
        : in_(data, size), out_(out), base_(out.size()), max_(max_output), prefix_(prefix) {}

    // Decodes blocks up to the final one; returns the input bytes used.
    size_t run() {
        bool final_block = false;
        while (!final_block) {
            final_block = in_.bits(1) != 0;
            switch (in_.bits(2)) {
                case 0: stored_block(); break;
                case 1: compressed_block(fixed_litlen(), fixed_distance()); break;
                case 2: dynamic_block(); break;
                default: corrupt("invalid block type 3");
            }
        }
        return in_.bytes_used();
    }

private:
    // How many of n more output bytes may be written: n; over the limit an error, or for a
    // prefix the bytes that still fit (the caller writes them, then stops: full_).
    size_t room_for(size_t n) {
        const size_t room = max_ - out_.size();
        if (n <= room) return n;
        if (!prefix_) too_large();
        full_ = true;
        return room;
    }

    [[noreturn, gnu::noinline]] void too_large() const {
        throw OutputLimitError("decompressed data is larger than the limit of " + std::to_string(max_) + " bytes");
    }

    void stored_block() {
        in_.align_to_byte();
        uint32_t len = in_.bits(16);
        uint32_t nlen = in_.bits(16);
        if (len != (~nlen & 0xFFFF)) corrupt("stored block length check failed");
        len = uint32_t(room_for(len));
        size_t at = out_.size();
        out_.resize(at + len);
        in_.copy_bytes(out_.data() + at, len);
        if (full_) throw Full{};
    }

    void dynamic_block() {
        Huffman litlen, dist;
        read_dynamic_codes(litlen, dist);
        compressed_block(litlen, dist);
    }

    // The code-length code, then the literal/length and distance code lengths it encodes.
    void read_dynamic_codes(Huffman& litlen, Huffman& dist) {
        static constexpr uint8_t kOrder[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                               11, 4,  12, 3, 13, 2, 14, 1, 15};
        int nlit = static_cast<int>(in_.bits(5)) + 257;
        int ndist = static_cast<int>(in_.bits(5)) + 1;
        int nclen = static_cast<int>(in_.bits(4)) + 4;
        if (nlit > 286 || ndist > kNumDist) corrupt("too many length or distance codes");

        uint8_t clen[19] = {};
        for (int i = 0; i < nclen; ++i) clen[kOrder[i]] = static_cast<uint8_t>(in_.bits(3));
        Huffman clcode = build_huffman(clen, 19, false, "code length");

        // One sequence of lengths covers both codes; repeats may run across the boundary.
        uint8_t lengths[286 + kNumDist] = {};
        int total = nlit + ndist;
        for (int n = 0; n < total;) {
            int sym = decode_symbol(in_, clcode);
            if (sym < 16) {
                lengths[n++] = static_cast<uint8_t>(sym);
                continue;
            }
            uint8_t value = 0;
            int repeat;
            if (sym == 16) {
                if (n == 0) corrupt("length repeat with no previous length");
                value = lengths[n - 1];
                repeat = 3 + static_cast<int>(in_.bits(2));
            } else if (sym == 17) {
                repeat = 3 + static_cast<int>(in_.bits(3));
            } else {
                repeat = 11 + static_cast<int>(in_.bits(7));
            }
            if (repeat > total - n) corrupt("code lengths run past the end");
            std::fill(lengths + n, lengths + n + repeat, value);
            n += repeat;
        }
        if (lengths[256] == 0) corrupt("no end-of-block code");
        litlen = build_huffman(lengths, nlit, true, "literal/length");
        dist = build_huffman(lengths + nlit, ndist, true, "distance");
    }

    void compressed_block(const Huffman& litlen, const Huffman& dist) {
        for (;;) {
            int sym = decode_symbol(in_, litlen);
            if (sym < 256) {
                if (room_for(1) == 0) throw Full{};
                out_.push_back(static_cast<uint8_t>(sym));
            } else if (sym == 256) {
                return;
            } else {
                if (sym > 285) corrupt("invalid length symbol");
                const BaseExtra& l = kLengths[sym - 257];
                size_t length = l.base + in_.bits(l.extra);
                int dsym = decode_symbol(in_, dist);
                if (dsym >= kNumDist) corrupt("invalid distance symbol");
                const BaseExtra& d = kDistances[dsym];
                copy_match(d.base + in_.bits(d.extra), length);
            }
        }
    }

    void copy_match(size_t distance, size_t length) {
        if (distance > out_.size() - base_) corrupt("distance reaches before the start of the data");
        length = room_for(length);
        size_t at = out_.size();
        out_.resize(at + length);
        // Byte by byte on purpose: when distance < length the copy reads bytes it just wrote.
        uint8_t* dst = out_.data() + at;
        const uint8_t* src = dst - distance;
        for (size_t i = 0; i < length; ++i) dst[i] = src[i];
        if (full_) throw Full{};
    }

    BitReader in_;
    std::vector<uint8_t>& out_;
    size_t base_;
    size_t max_;
    bool prefix_;
    bool full_ = false;
};

// ---- gzip ----------------------------------------------------------------------------------

constexpr uint8_t kGzipFlagHeaderCrc = 0x02;
constexpr uint8_t kGzipFlagExtra = 0x04;
constexpr uint8_t kGzipFlagName = 0x08;
constexpr uint8_t kGzipFlagComment = 0x10;
constexpr uint8_t kGzipFlagReserved = 0xE0;

void skip_zero_terminated(ByteReader& r, const char* what) {
    while (r.u8(what) != 0) {
    }
}

void read_gzip_header(ByteReader& r) {
    size_t start = r.pos();
    const uint8_t* id = r.take(3, "gzip header");
    check(id[0] == 0x1f && id[1] == 0x8b, "not gzip data (bad magic)");
    check(id[2] == 8, "unsupported gzip compression method " + std::to_string(id[2]) +
                          " (only 8, deflate, exists)");
    uint8_t flags = r.u8("gzip header");
    check((flags & kGzipFlagReserved) == 0, "corrupt gzip header: reserved flag bits are set");
    r.take(6, "gzip header");  // modification time, extra flags, OS: not needed
    if (flags & kGzipFlagExtra) r.take(r.u16("gzip extra field"), "gzip extra field");
    if (flags & kGzipFlagName) skip_zero_terminated(r, "gzip file name");
    if (flags & kGzipFlagComment) skip_zero_terminated(r, "gzip comment");
    if (flags & kGzipFlagHeaderCrc) {
        uint32_t crc = crc32(r.data() + start, r.pos() - start);
        check(r.u16("gzip header CRC") == (crc & 0xFFFF), "gzip header CRC mismatch");
    }
}

// One member starting at r.pos(); its output is appended to out.
void read_gzip_member(ByteReader& r, std::vector<uint8_t>& out, size_t max_output) {
    read_gzip_header(r);
    size_t first = out.size();
    Inflater inflater(r.data() + r.pos(), r.remaining(), out, max_output);
    r.take(inflater.run(), "deflate data");
    uint32_t crc = r.u32("gzip trailer");
    uint32_t isize = r.u32("gzip trailer");
    size_t produced = out.size() - first;
    check(crc32(out.data() + first, produced) == crc, "gzip CRC-32 mismatch: the data is corrupt");
    check(static_cast<uint32_t>(produced) == isize,  // ISIZE is the size modulo 2^32
          "gzip size mismatch: trailer says " + std::to_string(isize) + " bytes, got " +
              std::to_string(produced));
}

}  // namespace

// ---- public API ----------------------------------------------------------------------------

std::vector<uint8_t> inflate_raw(const uint8_t* data, size_t size, size_t max_output,
                                 size_t* consumed) {
    std::vector<uint8_t> out;
    size_t used = Inflater(data, size, out, max_output).run();
    if (consumed) *consumed = used;
    return out;
}

std::vector<uint8_t> gunzip_prefix(const uint8_t* data, size_t size, size_t n) {
    ByteReader r(data, size);
    std::vector<uint8_t> out;
    try {
        while (out.size() < n && !r.at_end()) {
            read_gzip_header(r);
            r.take(Inflater(r.data() + r.pos(), r.remaining(), out, n, /*prefix=*/true).run(), "deflate data");
            r.take(8, "gzip trailer");  // not checked: only a prefix of the data was asked for
        }
    } catch (const Inflater::Full&) {
    }
    return out;
}

uint32_t adler32(const uint8_t* data, size_t size) {
    constexpr uint32_t kMod = 65521;
    // 5552 is the largest run for which the sums cannot overflow 32 bits before reducing.
    constexpr size_t kRun = 5552;
    uint32_t a = 1, b = 0;
    while (size > 0) {
        size_t n = std::min(size, kRun);
        size -= n;
        while (n-- > 0) {
            a += *data++;
            b += a;
        }
        a %= kMod;
        b %= kMod;
    }
    return (b << 16) | a;
}

std::vector<uint8_t> inflate_zlib(const uint8_t* data, size_t size, size_t max_output) {
    ByteReader r(data, size);
    uint8_t cmf = r.u8("zlib header");
    uint8_t flg = r.u8("zlib header");
    check((cmf & 0x0F) == 8 && (cmf >> 4) <= 7, "not zlib data (unsupported method or window)");
    check((cmf * 256u + flg) % 31 == 0, "not zlib data (header check failed)");
    check((flg & 0x20) == 0, "zlib preset dictionaries are not supported");
    std::vector<uint8_t> out;
    r.take(Inflater(r.data() + r.pos(), r.remaining(), out, max_output).run(), "deflate data");
    uint32_t expected = read_be32(r, "zlib trailer");
    check(adler32(out.data(), out.size()) == expected, "zlib Adler-32 mismatch: the data is corrupt");
    check(r.at_end(), std::to_string(r.remaining()) + " unexpected bytes after the zlib data");
    return out;
}

bool is_gzip(const uint8_t* data, size_t size) {
    return size >= 3 && data[0] == 0x1f && data[1] == 0x8b && data[2] == 8;
}

std::vector<uint8_t> gunzip(const uint8_t* data, size_t size, size_t max_output) {
    ByteReader r(data, size);
    std::vector<uint8_t> out;
    // The trailer's ISIZE of a single-member file is a good size hint. It is untrusted, so it
    // is capped by the limit and by DEFLATE's best possible ratio (about 1032:1).
    if (size >= 18) {
        uint32_t isize;
        std::memcpy(&isize, data + size - 4, 4);
        size_t ratio_bound = size < SIZE_MAX / 1032 ? size * 1032 : SIZE_MAX;
        out.reserve(std::min({static_cast<size_t>(isize), max_output, ratio_bound}));
    }
    do {
        read_gzip_member(r, out, max_output);
        check(r.at_end() || is_gzip(r.data() + r.pos(), r.remaining()),
              std::to_string(r.remaining()) + " unexpected bytes after the gzip data");
    } while (!r.at_end());
    return out;
}

}  // namespace mn
