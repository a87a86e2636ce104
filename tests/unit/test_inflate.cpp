// DEFLATE / gzip / zlib decoder tests: hand-made streams for each error path, round trips
// against Python's zlib and gzip output (stored, fixed and dynamic blocks, several levels
// and strategies), corruption and truncation, and decompression bombs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "deflate_writer.h"
#include "engine/error.h"
#include "test_support.h"
#include "io/crc32.h"
#include "io/inflate.h"

namespace {

using mn::test::Bytes;
using mn::test::read_file;
using mn::test::write_file;
using TempDir = mn::test::TempDir;
using mn::test::expect_error;
using mn::test::BitWriter;
using mn::test::zero_bomb;
namespace fs = std::filesystem;

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

bool have_python() {
    return std::system("/usr/bin/python3 -c 'import zlib, gzip' >/dev/null 2>&1") == 0;
}

// Asserts that fn throws mn::Error whose message contains `part`.

// ---- hand-made streams ---------------------------------------------------------------------

Bytes stored_block(const Bytes& data, bool final_block) {
    uint16_t len = static_cast<uint16_t>(data.size());
    Bytes b(5 + data.size());
    b[0] = static_cast<uint8_t>(final_block);
    b[1] = static_cast<uint8_t>(len);
    b[2] = static_cast<uint8_t>(len >> 8);
    b[3] = static_cast<uint8_t>(~len);
    b[4] = static_cast<uint8_t>(~len >> 8);
    std::copy(data.begin(), data.end(), b.begin() + 5);
    return b;
}

void put_le32(Bytes& b, uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// A gzip member around a DEFLATE stream, with every optional header field.
Bytes gzip_member(const Bytes& deflate, const Bytes& content, bool all_fields = true) {
    Bytes g = {0x1f, 0x8b, 8, static_cast<uint8_t>(all_fields ? 0x1E : 0), 0, 0, 0, 0, 0, 3};
    if (all_fields) {
        Bytes extra = {4, 0, 'A', 'B', 0, 0};  // XLEN = 4, then one empty subfield "AB"
        g.insert(g.end(), extra.begin(), extra.end());
        for (char c : std::string("t10k-images-idx3-ubyte")) g.push_back(static_cast<uint8_t>(c));
        g.push_back(0);
        for (char c : std::string("a comment")) g.push_back(static_cast<uint8_t>(c));
        g.push_back(0);
        uint32_t hcrc = mn::crc32(g.data(), g.size());
        g.push_back(static_cast<uint8_t>(hcrc));
        g.push_back(static_cast<uint8_t>(hcrc >> 8));
    }
    g.insert(g.end(), deflate.begin(), deflate.end());
    put_le32(g, mn::crc32(content.data(), content.size()));
    put_le32(g, static_cast<uint32_t>(content.size()));
    return g;
}

Bytes inflate(const Bytes& b, size_t max_output = 1 << 20) {
    return mn::inflate_raw(b.data(), b.size(), max_output);
}

Bytes gunzip(const Bytes& b, size_t max_output = 1 << 20) {
    return mn::gunzip(b.data(), b.size(), max_output);
}

// ---- checksums -----------------------------------------------------------------------------

TEST(Checksums, Crc32KnownValues) {
    Bytes check = bytes_of("123456789");
    EXPECT_EQ(mn::crc32(check.data(), check.size()), 0xCBF43926u);  // the standard check value
    EXPECT_EQ(mn::crc32(nullptr, 0), 0u);
    uint32_t c = mn::crc32_update(0, check.data(), 4);
    c = mn::crc32_update(c, check.data() + 4, 5);
    EXPECT_EQ(c, 0xCBF43926u);
    // The slicing loop and the byte loop agree for every alignment and tail length.
    Bytes data(1000);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
    uint32_t whole = mn::crc32(data.data(), data.size());
    for (size_t split = 0; split < 9; ++split) {
        uint32_t part = mn::crc32_update(0, data.data(), split);
        EXPECT_EQ(mn::crc32_update(part, data.data() + split, data.size() - split), whole);
    }
}

TEST(Checksums, Adler32KnownValues) {
    Bytes wiki = bytes_of("Wikipedia");
    EXPECT_EQ(mn::adler32(wiki.data(), wiki.size()), 0x11E60398u);
    EXPECT_EQ(mn::adler32(nullptr, 0), 1u);
}

// ---- hand-made streams ---------------------------------------------------------------------

TEST(Inflate, StoredBlocks) {
    Bytes hello = bytes_of("hello, ");
    Bytes world = bytes_of("world");
    Bytes s = stored_block(hello, false);
    Bytes tail = stored_block(world, true);
    s.insert(s.end(), tail.begin(), tail.end());
    s.push_back(0xAA);  // not part of the stream
    size_t used = 0;
    Bytes out = mn::inflate_raw(s.data(), s.size(), 100, &used);
    EXPECT_EQ(std::string(out.begin(), out.end()), "hello, world");
    EXPECT_EQ(used, s.size() - 1);

    Bytes empty = stored_block({}, true);
    EXPECT_TRUE(inflate(empty).empty());
}

TEST(Inflate, FixedBlockWithOverlappingMatch) {
    BitWriter w;
    w.fixed_header(true);
    w.fixed_symbol('a');
    w.fixed_symbol('b');
    w.fixed_symbol(264);  // length 10
    w.fixed_distance(1);  // distance 2: copies bytes as it writes them
    w.fixed_symbol(255);  // a 9-bit literal
    w.fixed_symbol(256);
    Bytes out = inflate(w.bytes());
    Bytes expected = bytes_of("abababababab");
    expected.push_back(255);
    EXPECT_EQ(out, expected);
}

// Stored data in the middle of a bit stream: the decoder must realign, copy, and pick the
// bit stream up again right after the stored bytes.
TEST(Inflate, MixedBlockTypes) {
    BitWriter w;
    w.fixed_header(false);
    w.fixed_symbol('x');
    w.fixed_symbol(256);
    w.stored("0123456789abcdef", false);
    w.stored("", false);
    w.fixed_header(true);
    w.fixed_symbol(261);  // length 7
    w.fixed_distance(8);  // distances 17..24: 17 plus 3 extra bits
    w.put(0, 3);          // distance 17: back to the 'x'
    w.fixed_symbol(256);
    EXPECT_EQ(inflate(w.bytes()), bytes_of("x0123456789abcdefx012345"));
}

TEST(Inflate, RejectsBadBlocks) {
    expect_error([] { inflate({}); }, "truncated");
    expect_error([] { inflate({0x07}); }, "invalid block type");  // final, type 3

    Bytes bad_len = stored_block(bytes_of("abc"), true);
    bad_len[3] ^= 1;
    expect_error([&] { inflate(bad_len); }, "stored block length");

    Bytes short_stored = stored_block(bytes_of("abcdef"), true);
    short_stored.pop_back();
    expect_error([&] { inflate(short_stored); }, "truncated");

    BitWriter far;
    far.fixed_header(true);
    far.fixed_symbol('a');
    far.fixed_symbol(257);  // length 3
    far.fixed_distance(1);  // distance 2, but only 1 byte exists
    far.fixed_symbol(256);
    expect_error([&] { inflate(far.bytes()); }, "distance reaches before the start");

    BitWriter bad_length;
    bad_length.fixed_header(true);
    bad_length.fixed_symbol('a');
    bad_length.fixed_symbol(286);
    expect_error([&] { inflate(bad_length.bytes()); }, "invalid length symbol");

    BitWriter bad_distance;
    bad_distance.fixed_header(true);
    bad_distance.fixed_symbol('a');
    bad_distance.fixed_symbol(257);
    bad_distance.fixed_distance(30);
    expect_error([&] { inflate(bad_distance.bytes()); }, "invalid distance symbol");

    BitWriter no_end;  // never sends end-of-block
    no_end.fixed_header(true);
    for (int i = 0; i < 10; ++i) no_end.fixed_symbol('x');
    expect_error([&] { inflate(no_end.bytes()); }, "truncated");
}

// Starts a dynamic block whose code-length code gives symbols 16, 17, 18, 0 these lengths.
BitWriter dynamic_header(int hlit, const std::vector<int>& clen4) {
    BitWriter w;
    w.put(1, 1);
    w.put(2, 2);
    w.put(hlit, 5);
    w.put(0, 5);  // one distance code
    w.put(0, 4);  // four code-length codes: for symbols 16, 17, 18, 0
    for (int len : clen4) w.put(len, 3);
    return w;
}

TEST(Inflate, RejectsBadDynamicHeaders) {
    BitWriter too_many = dynamic_header(30, {1, 0, 0, 1});  // 287 literal/length codes
    expect_error([&] { inflate(too_many.bytes()); }, "too many length or distance codes");

    BitWriter incomplete = dynamic_header(0, {1, 0, 0, 0});
    expect_error([&] { inflate(incomplete.bytes()); }, "incomplete code length code");

    BitWriter oversubscribed = dynamic_header(0, {1, 1, 1, 0});
    expect_error([&] { inflate(oversubscribed.bytes()); }, "over-subscribed code length code");

    // Symbol 0 gets code 0 and symbol 16 code 1; a repeat needs a previous length.
    BitWriter repeat_first = dynamic_header(0, {1, 0, 0, 1});
    repeat_first.put_code(1, 1);
    repeat_first.put(0, 2);
    expect_error([&] { inflate(repeat_first.bytes()); }, "no previous length");

    // Symbol 0 -> code 0, symbol 18 -> code 1. 258 zero lengths: no end-of-block code.
    BitWriter no_eob = dynamic_header(0, {0, 0, 1, 1});
    no_eob.put_code(1, 1);
    no_eob.put(138 - 11, 7);
    no_eob.put_code(1, 1);
    no_eob.put(120 - 11, 7);
    expect_error([&] { inflate(no_eob.bytes()); }, "no end-of-block code");

    // The same but the second run is too long for the 258 lengths.
    BitWriter overrun = dynamic_header(0, {0, 0, 1, 1});
    overrun.put_code(1, 1);
    overrun.put(138 - 11, 7);
    overrun.put_code(1, 1);
    overrun.put(138 - 11, 7);
    expect_error([&] { inflate(overrun.bytes()); }, "run past the end");
}

TEST(Inflate, EveryPrefixOfAStreamIsTruncated) {
    BitWriter w;
    w.fixed_header(false);
    for (char c : std::string("some text, some text, some text")) w.fixed_symbol(c);
    w.fixed_symbol(256);
    w.stored("tail", true);
    Bytes s = w.bytes();
    ASSERT_EQ(inflate(s), bytes_of("some text, some text, some texttail"));
    for (size_t n = 0; n < s.size(); ++n) {
        EXPECT_THROW(mn::inflate_raw(s.data(), n, 1000), mn::Error) << "prefix of " << n;
    }
}

TEST(Inflate, BombIsCappedByMaxOutput) {
    Bytes bomb = zero_bomb(10000);  // 2,580,001 zeros from about 16 KB
    expect_error([&] { inflate(bomb, 1 << 20); }, "larger than the limit of 1048576 bytes");
    Bytes out = inflate(bomb, 2580001);  // the exact size is allowed
    EXPECT_EQ(out.size(), 2580001u);
    EXPECT_EQ(std::count(out.begin(), out.end(), 0), 2580001);
    expect_error([&] { inflate(bomb, 2580000); }, "limit");
}

TEST(Inflate, RandomInputNeverCrashes) {
    std::mt19937 rng(42);
    int ok = 0;
    for (int i = 0; i < 20000; ++i) {
        Bytes b(1 + rng() % 64);
        for (auto& x : b) x = static_cast<uint8_t>(rng());
        try {
            inflate(b, 1 << 16);
            ++ok;
        } catch (const mn::Error&) {
        }
        b.insert(b.begin(), {0x1f, 0x8b, 8, static_cast<uint8_t>(rng() & 0x1f), 0, 0, 0, 0, 0, 3});
        try {
            gunzip(b, 1 << 16);
        } catch (const mn::Error&) {
        }
    }
    SUCCEED() << ok << " random streams happened to decode";
}

// ---- gzip ----------------------------------------------------------------------------------

TEST(Gzip, HeaderFieldsAndTrailer) {
    Bytes content = bytes_of("IDX data would go here");
    Bytes deflate = stored_block(content, true);
    Bytes g = gzip_member(deflate, content, true);
    EXPECT_TRUE(mn::is_gzip(g.data(), g.size()));
    EXPECT_EQ(gunzip(g), content);
    EXPECT_EQ(gunzip(gzip_member(deflate, content, false)), content);

    Bytes bad_hcrc = g;
    bad_hcrc[10 + 6 + 23 + 10] ^= 1;  // the header CRC after extra, name and comment
    expect_error([&] { gunzip(bad_hcrc); }, "gzip header CRC mismatch");

    Bytes reserved = g;
    reserved[3] |= 0x20;
    expect_error([&] { gunzip(reserved); }, "reserved flag");

    Bytes method = g;
    method[2] = 7;
    expect_error([&] { gunzip(method); }, "compression method 7");

    Bytes bad_crc = g;
    bad_crc[bad_crc.size() - 8] ^= 1;
    expect_error([&] { gunzip(bad_crc); }, "CRC-32 mismatch");

    Bytes bad_data = g;
    bad_data[bad_data.size() - 9] ^= 1;  // last content byte
    expect_error([&] { gunzip(bad_data); }, "CRC-32 mismatch");

    Bytes bad_size = g;
    bad_size[bad_size.size() - 4] ^= 1;
    expect_error([&] { gunzip(bad_size); }, "size mismatch");

    Bytes trailing = g;
    trailing.push_back(0);
    expect_error([&] { gunzip(trailing); }, "1 unexpected bytes after the gzip data");

    for (size_t n = 0; n < g.size(); ++n)
        EXPECT_THROW(mn::gunzip(g.data(), n, 1000), mn::Error) << "prefix of " << n;
}

TEST(Gzip, MembersAreConcatenatedButIndependent) {
    Bytes a = bytes_of("abc");
    Bytes two = gzip_member(stored_block(a, true), a, true);
    Bytes second = gzip_member(stored_block(a, true), a, false);
    two.insert(two.end(), second.begin(), second.end());
    EXPECT_EQ(gunzip(two), bytes_of("abcabc"));
    expect_error([&] { gunzip(two, 5); }, "limit");  // the limit covers all members

    // A second member may not refer back into the first one's output.
    BitWriter w;
    w.fixed_header(true);
    w.fixed_symbol(257);
    w.fixed_distance(2);  // distance 3
    w.fixed_symbol(256);
    Bytes first = gzip_member(stored_block(a, true), a, false);
    Bytes bad = gzip_member(w.bytes(), a, false);
    first.insert(first.end(), bad.begin(), bad.end());
    expect_error([&] { gunzip(first); }, "distance reaches before the start");
}

TEST(Gzip, Detection) {
    Bytes not_gz = {0x1f, 0x8b, 7};
    EXPECT_FALSE(mn::is_gzip(not_gz.data(), not_gz.size()));
    EXPECT_FALSE(mn::is_gzip(not_gz.data(), 2));
    Bytes idx = {0, 0, 8, 3};
    EXPECT_FALSE(mn::is_gzip(idx.data(), idx.size()));
    expect_error([&] { gunzip(idx); }, "not gzip data");
}

TEST(Zlib, HeaderAndChecksum) {
    // 78 01: deflate, 32 KiB window, no dictionary; then a stored block and the Adler-32.
    Bytes content = bytes_of("Wikipedia");
    Bytes z = {0x78, 0x01};
    Bytes body = stored_block(content, true);
    z.insert(z.end(), body.begin(), body.end());
    for (int shift : {24, 16, 8, 0}) z.push_back(static_cast<uint8_t>(0x11E60398u >> shift));
    EXPECT_EQ(mn::inflate_zlib(z.data(), z.size(), 100), content);

    Bytes bad = z;
    bad.back() ^= 1;
    expect_error([&] { mn::inflate_zlib(bad.data(), bad.size(), 100); }, "Adler-32 mismatch");
    Bytes dict = z;
    dict[1] = 0x20;  // FDICT set, and (0x78 * 256 + 0x20) % 31 == 0 still holds
    expect_error([&] { mn::inflate_zlib(dict.data(), dict.size(), 100); }, "dictionaries");
    Bytes check_fail = z;
    check_fail[1] = 0x02;
    expect_error([&] { mn::inflate_zlib(check_fail.data(), check_fail.size(), 100); },
                 "header check");
}

// ---- against Python's encoder --------------------------------------------------------------

// Writes <name>.in (original data) and compressed forms, listed in manifest.txt as
// "<format> <compressed file> <original file>".
const char* kCorpusScript = R"PY(
import gzip, io, os, random, sys, zlib
out = sys.argv[1]
rng = random.Random(1234)
text = b"".join(b"line %d: the quick brown fox jumps over the lazy dog\n" % i for i in range(4000))
noise = rng.randbytes(70000)
digits = bytes(rng.choice(b"0123456789") for _ in range(50000))
mixed = text[:50000] + noise + bytes(100000) + text[:30000]
inputs = {"empty": b"", "one": b"x", "text": text, "noise": noise, "digits": digits, "mixed": mixed}
manifest = []
def save(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
def emit(fmt, name, tag, payload):
    fn = "%s.%s.%s" % (name, tag, fmt)
    save(fn, payload)
    manifest.append("%s %s %s.in" % (fmt, fn, name))
strategies = {"default": zlib.Z_DEFAULT_STRATEGY, "fixed": zlib.Z_FIXED,
              "huffman": zlib.Z_HUFFMAN_ONLY, "rle": zlib.Z_RLE, "filtered": zlib.Z_FILTERED}
for name, data in inputs.items():
    save(name + ".in", data)
    for level in (0, 1, 6, 9):
        for sname, strategy in strategies.items():
            if level == 0 and sname != "default":
                continue
            c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
            emit("raw", name, "%d.%s" % (level, sname), c.compress(data) + c.flush())
    c = zlib.compressobj(6, zlib.DEFLATED, -9)
    emit("raw", name, "window9", c.compress(data) + c.flush())
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    parts = [c.compress(data[i:i + 7000]) + c.flush(zlib.Z_SYNC_FLUSH) for i in range(0, len(data), 7000)]
    emit("raw", name, "sync", b"".join(parts) + c.flush())
    emit("zlib", name, "6", zlib.compress(data, 6))
    emit("gzip", name, "9", gzip.compress(data, 9, mtime=0))
    buf = io.BytesIO()
    with gzip.GzipFile(filename="t10k-images-idx3-ubyte", mode="wb", fileobj=buf, mtime=0) as f:
        f.write(data)
    emit("gzip", name, "named", buf.getvalue())
save("two.in", text + digits)
emit("gzip", "two", "members", gzip.compress(text, 1) + gzip.compress(digits, 9))
save("bomb.gz", gzip.compress(bytes(10 << 20), 9))
save("small.in", text[:3000])
save("small.gz", gzip.compress(text[:3000], 9, mtime=0))
save("manifest.txt", ("\n".join(manifest) + "\n").encode())
)PY";

class PythonCorpus : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_python()) GTEST_SKIP() << "/usr/bin/python3 with zlib is not available";
        std::ofstream(dir_.file("make_corpus.py")) << kCorpusScript;
        std::string cmd = "/usr/bin/python3 " + dir_.file("make_corpus.py") + " " + dir_.file("");
        ASSERT_EQ(std::system(cmd.c_str()), 0) << "the corpus script failed";
    }
    TempDir dir_{"inflate"};
};

TEST_F(PythonCorpus, DecodesEveryStream) {
    std::istringstream manifest(std::string(
        [&] { Bytes m = read_file(dir_.file("manifest.txt")); return std::string(m.begin(), m.end()); }()));
    std::string format, compressed_name, original_name;
    int streams = 0;
    while (manifest >> format >> compressed_name >> original_name) {
        SCOPED_TRACE(compressed_name);
        Bytes compressed = read_file(dir_.file(compressed_name));
        Bytes original = read_file(dir_.file(original_name));
        if (format == "raw") {
            size_t used = 0;
            Bytes out = mn::inflate_raw(compressed.data(), compressed.size(), original.size(), &used);
            EXPECT_TRUE(out == original);
            EXPECT_EQ(used, compressed.size());
        } else if (format == "zlib") {
            EXPECT_TRUE(mn::inflate_zlib(compressed.data(), compressed.size(), original.size()) ==
                        original);
        } else {
            ASSERT_TRUE(mn::is_gzip(compressed.data(), compressed.size()));
            EXPECT_TRUE(gunzip(compressed, original.size()) == original);
            if (!original.empty()) expect_error([&] { gunzip(compressed, original.size() - 1); }, "limit");
        }
        ++streams;
    }
    EXPECT_GE(streams, 100);
}

TEST_F(PythonCorpus, BombIsCapped) {
    Bytes bomb = read_file(dir_.file("bomb.gz"));
    ASSERT_LT(bomb.size(), 64u << 10);
    expect_error([&] { gunzip(bomb, 1 << 20); }, "larger than the limit of 1048576 bytes");
    EXPECT_EQ(gunzip(bomb, 10 << 20).size(), size_t{10} << 20);
}

// Flipping any bit gives an error or, where the bit does not matter (header time, OS,
// padding), the right data; never wrong data, a crash or a hang.
TEST_F(PythonCorpus, CorruptionIsDetected) {
    Bytes good = read_file(dir_.file("small.gz"));
    Bytes original = read_file(dir_.file("small.in"));
    int errors = 0;
    for (size_t bit = 0; bit < good.size() * 8; ++bit) {
        Bytes bad = good;
        bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
        try {
            EXPECT_TRUE(gunzip(bad, 1 << 20) == original) << "bit " << bit;
        } catch (const mn::Error&) {
            ++errors;
        }
    }
    EXPECT_GT(errors, static_cast<int>(good.size() * 8 * 9 / 10));
    for (size_t n = 0; n < good.size(); ++n)
        EXPECT_THROW(mn::gunzip(good.data(), n, 1 << 20), mn::Error) << "prefix of " << n;
}

}  // namespace
