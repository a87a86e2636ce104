// Every limit of engine/limits.h hit by an input just over it: each reader refuses it with one
// line naming the limit ("... is over the limit of ..."), before it allocates anything for it
// (ASan would see a read of the bytes the input only claims). The limits on what only the front
// ends read (image files, request bodies and headers, JSON depth) are hit by the end-to-end
// tests of `mnist predict` and `mnist serve`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include "deflate_writer.h"
#include "engine/limits.h"
#include "image/ink.h"
#include "io/crc32.h"
#include "io/gguf.h"
#include "io/idx.h"
#include "io/legacy_ggml.h"
#include "io/pickle.h"
#include "io/torch_state_dict.h"
#include "io/zip_reader.h"
#include "session/session.h"
#include "session/status.h"
#include "test_support.h"
#include "zip_writer.h"

namespace {

using mn::test::Bytes;
using mn::test::expect_error;
using mn::test::put16;
using mn::test::put32;
using mn::test::put64;
namespace limits = mn::limits;

std::string over(uint64_t n, uint64_t limit) {
    return std::to_string(n) + " is over the limit of " + std::to_string(limit);
}

// ---- GGUF, little-endian by hand ----
struct Le {
    Bytes b;
    Le& u32(uint32_t v) { return put32(b, v), *this; }
    Le& u64(uint64_t v) { return put64(b, v), *this; }
    Le& str(const std::string& s) { return u64(s.size()), b.insert(b.end(), s.begin(), s.end()), *this; }
    Le& fill(size_t n, uint8_t v = 0) { return b.insert(b.end(), n, v), *this; }
};

Le gguf_header(uint64_t n_tensors, uint64_t n_kv) {
    Le e;
    e.b = {'G', 'G', 'U', 'F'};
    return e.u32(3).u64(n_tensors).u64(n_kv);
}

void gguf(const Le& e) { mn::gguf::File::from_memory(e.b.data(), e.b.size()); }

TEST(Limits, CheckedArithmetic) {
    EXPECT_EQ(mn::mul_size(1u << 20, 1u << 20, "x"), uint64_t(1) << 40);
    expect_error([] { mn::mul_size(uint64_t(1) << 32, uint64_t(1) << 32, "tensor size"); }, "tensor size overflows");
    expect_error([] { mn::add_size(~uint64_t(0), 1, "offset"); }, "offset overflows");
    EXPECT_EQ(mn::check_limit(10, 10, "x"), 10u);
    expect_error([] { mn::check_limit(11, 10, "entry count"); }, "entry count 11 is over the limit of 10");
    mn::SizeBudget budget(100, "bytes in all");
    budget.spend(60);
    budget.spend(40);
    expect_error([&] { budget.spend(1); }, "bytes in all 101 is over the limit of 100");
    expect_error([&] { budget.spend(~uint64_t(0)); }, "bytes in all overflows");
    EXPECT_EQ(budget.used(), 100u);
}

TEST(Limits, TensorElements) {
    Le e = gguf_header(1, 0).str("t").u32(1).u64(limits::kTensorElements + 1).u32(0).u64(0);
    expect_error([&] { gguf(e); }, "tensor 't' element count " + over(limits::kTensorElements + 1, limits::kTensorElements));
    // legacy .bin: n_dims 2, sizes 2^14 x (2^14 + 1), no data
    Le l;
    l.u32(mn::kLegacyGgmlMagic).u32(2).u32(1 << 14).u32((1 << 14) + 1);
    expect_error([&] { mn::parse_legacy_ggml(l.b.data(), l.b.size()); },
                 "tensor 0 element count " + over((uint64_t(1) << 28) + (1 << 14), limits::kTensorElements));
}

TEST(Limits, TensorCount) {
    expect_error([] { gguf(gguf_header(limits::kTensors + 1, 0)); },
                 "tensor count " + over(limits::kTensors + 1, limits::kTensors));
}

TEST(Limits, MetadataEntries) {
    expect_error([] { gguf(gguf_header(0, limits::kMetadataEntries + 1)); },
                 "key count " + over(limits::kMetadataEntries + 1, limits::kMetadataEntries));
}

TEST(Limits, GgufAlignment) {
    const uint64_t a = limits::kGgufAlignment * 2;  // a power of two, over the limit
    Le e = gguf_header(0, 1).str("general.alignment").u32(4).u32(uint32_t(a));
    expect_error([&] { gguf(e); }, "general.alignment " + over(a, limits::kGgufAlignment));
    mn::gguf::Writer w;
    expect_error([&] { w.set("general.alignment", mn::gguf::Value::u32(uint32_t(a))); },
                 "general.alignment " + over(a, limits::kGgufAlignment));
}

TEST(Limits, StringBytes) {
    const uint64_t n = limits::kStringBytes + 1;
    Le e = gguf_header(0, 1).str("s").u32(8).u64(n).fill(n, 'x');
    expect_error([&] { gguf(e); }, "key 's': string length " + over(n, limits::kStringBytes));
}

TEST(Limits, ArrayElements) {
    const uint64_t n = limits::kArrayElements + 1;
    Le e = gguf_header(0, 1).str("a").u32(9).u32(0).u64(n).fill(n);
    expect_error([&] { gguf(e); }, "key 'a': array length " + over(n, limits::kArrayElements));
}

TEST(Limits, MetadataBytes) {
    // Empty arrays take 12 bytes in the file and a Value each in memory: about 6 MB of file
    // would decode to more than the 64 MB allowed.
    const uint64_t n = limits::kMetadataBytes / sizeof(mn::gguf::Value) + 1;
    Le e = gguf_header(0, 1).str("nested").u32(9).u32(9).u64(n);
    for (uint64_t i = 0; i < n; ++i) e.u32(0).u64(0);
    expect_error([&] { gguf(e); }, "key 'nested': decoded metadata bytes");
    expect_error([&] { gguf(e); }, "is over the limit of " + std::to_string(limits::kMetadataBytes));
}

// ---- archives ----
TEST(Limits, ArchiveEntries) {
    mn::test::ZipSpec spec;
    spec.entries = {{"a", "x"}, {"b", "y"}};
    spec.zip64 = true;
    spec.count_delta = 65535;  // claims 65537 entries
    const Bytes zip = mn::test::make_zip(spec);
    expect_error([&] { mn::ZipReader(zip.data(), zip.size()); },
                 "zip entry count " + over(65537, limits::kArchiveEntries));
}

// One central directory entry whose ZIP64 extra field says 2^32 bytes.
TEST(Limits, ArchiveEntryBytes) {
    const std::string name = "big";
    Bytes b;
    put32(b, 0x04034b50), put16(b, 45), put16(b, 0), put16(b, 0), put32(b, 0), put32(b, 0);
    put32(b, 0xFFFFFFFF), put32(b, 0xFFFFFFFF), put16(b, uint16_t(name.size())), put16(b, 0);
    mn::test::put(b, name);
    const uint32_t dir_offset = uint32_t(b.size());
    put32(b, 0x02014b50), put16(b, 45), put16(b, 45), put16(b, 0), put16(b, 0), put32(b, 0), put32(b, 0);
    put32(b, 0xFFFFFFFF), put32(b, 0xFFFFFFFF), put16(b, uint16_t(name.size())), put16(b, 20), put16(b, 0);
    put16(b, 0), put16(b, 0), put32(b, 0), put32(b, 0);
    mn::test::put(b, name);
    put16(b, 1), put16(b, 16), put64(b, uint64_t(1) << 32), put64(b, uint64_t(1) << 32);  // ZIP64: size, compressed
    const uint32_t dir_size = uint32_t(b.size()) - dir_offset;
    put32(b, 0x06054b50), put16(b, 0), put16(b, 0), put16(b, 1), put16(b, 1), put32(b, dir_size), put32(b, dir_offset);
    put16(b, 0);
    expect_error([&] { mn::ZipReader(b.data(), b.size()); },
                 "zip entry 'big' size " + over(uint64_t(1) << 32, limits::kArchiveEntryBytes));
}

// The other kind of zip bomb: entries that share bytes. Entry "a" holds entry "b" inside it.
TEST(Limits, OverlappingArchiveEntriesAreRefused) {
    const std::string inner_data = "xyz";
    Bytes inner;  // b's local header and data
    put32(inner, 0x04034b50), put16(inner, 20), put16(inner, 0), put16(inner, 0), put32(inner, 0);
    put32(inner, mn::crc32(reinterpret_cast<const uint8_t*>(inner_data.data()), 3)), put32(inner, 3), put32(inner, 3);
    put16(inner, 1), put16(inner, 0), mn::test::put(inner, "b"), mn::test::put(inner, inner_data);
    const std::string outer(inner.begin(), inner.end());
    mn::test::ZipSpec spec;
    spec.entries = {{"a", outer}};
    Bytes zip = mn::test::make_zip(spec);
    mn::ZipReader ok(zip.data(), zip.size());  // one entry: fine
    // A second central directory entry, for "b" at offset 31 (inside "a"'s data).
    Bytes dir;
    put32(dir, 0x02014b50), put16(dir, 20), put16(dir, 20), put16(dir, 0), put16(dir, 0), put32(dir, 0);
    put32(dir, mn::crc32(reinterpret_cast<const uint8_t*>(inner_data.data()), 3)), put32(dir, 3), put32(dir, 3);
    put16(dir, 1), put16(dir, 0), put16(dir, 0), put16(dir, 0), put16(dir, 0), put32(dir, 0), put32(dir, 31);
    mn::test::put(dir, "b");
    const size_t eocd = zip.size() - 22;
    zip.insert(zip.begin() + std::ptrdiff_t(eocd), dir.begin(), dir.end());
    uint8_t* end = zip.data() + eocd + dir.size();
    end[8] = end[10] = 2;                                                        // entries
    const uint32_t size = uint32_t(end[12] | end[13] << 8) + uint32_t(dir.size());  // directory size
    end[12] = uint8_t(size), end[13] = uint8_t(size >> 8);
    expect_error([&] { mn::ZipReader(zip.data(), zip.size()); }, "zip entries 'a' and 'b' overlap");
}

// A gzip member around a DEFLATE stream (the trailer's CRC and size are for `content`).
Bytes gzip_of(const Bytes& deflate, const Bytes& content) {
    static const uint8_t header[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};  // deflate, no flags, Unix
    Bytes g(sizeof header + deflate.size());
    std::copy(std::begin(header), std::end(header), g.begin());
    std::copy(deflate.begin(), deflate.end(), g.begin() + sizeof header);
    put32(g, mn::crc32(content.data(), content.size()));
    put32(g, uint32_t(content.size()));
    return g;
}

Bytes idx_header(uint32_t count, uint32_t rows, uint32_t cols) {
    Bytes h;
    for (uint32_t v : {mn::kIdxImagesMagic, count, rows, cols})
        for (int i = 3; i >= 0; --i) h.push_back(uint8_t(v >> (8 * i)));
    return h;
}

TEST(Limits, DecompressedBytes) {
    // The header alone claims 40000 images of 200x200: refused before the rest is inflated.
    const Bytes header = idx_header(40000, 200, 200);
    mn::test::BitWriter w;
    w.stored(std::string(header.begin(), header.end()), true);
    const Bytes gz = gzip_of(w.bytes(), header);
    expect_error([&] { mn::parse_idx_images(gz.data(), gz.size()); },
                 "decompressed size " + over(16 + 40000ull * 200 * 200, limits::kDecompressedBytes));
}

TEST(Limits, GzipBombStopsWhereItsHeaderSays) {
    // A header for 10 images of 28x28 (7856 bytes), then 100 MB of zeros from 800 KB: the
    // reader inflates 7857 bytes and stops.
    const Bytes header = idx_header(10, 28, 28);
    mn::test::BitWriter w;
    w.stored(std::string(header.begin(), header.end()), false);
    w.fixed_header(true);
    w.fixed_symbol(0);
    for (int i = 0; i < 400000; ++i) w.fixed_symbol(285), w.fixed_distance(0);
    w.fixed_symbol(256);
    const Bytes gz = gzip_of(w.bytes(), {});
    expect_error([&] { mn::parse_idx_images(gz.data(), gz.size()); },
                 "the gzip data inflates to more than the 7856 bytes its IDX header says");
}

TEST(Limits, IdxSide) {
    const Bytes h = idx_header(1, uint32_t(limits::kIdxSide) + 1, 1);
    expect_error([&] { mn::parse_idx_images(h.data(), h.size()); },
                 "image rows " + over(limits::kIdxSide + 1, limits::kIdxSide));
}

// ---- the pickle machine ----
TEST(Limits, PickleObjects) {
    const std::string p = std::string(limits::kPickleObjects + 1, 'N') + ".";  // None, pushed 2^20 + 1 times
    expect_error([&] { mn::parse_pickle(reinterpret_cast<const uint8_t*>(p.data()), p.size()); },
                 "object count " + over(limits::kPickleObjects + 1, limits::kPickleObjects));
}

TEST(Limits, PickleMarks) {
    const std::string p = std::string(limits::kPickleMarks + 1, '(') + ".";
    expect_error([&] { mn::parse_pickle(reinterpret_cast<const uint8_t*>(p.data()), p.size()); },
                 "MARK nesting " + over(limits::kPickleMarks + 1, limits::kPickleMarks));
}

TEST(Limits, PickleReferencesAndMemo) {
    // The same mechanism as the defaults, with limits a small input reaches.
    mn::PickleLimits small;
    small.max_objects = 100;
    small.max_references = 50;
    // an empty list, then 3 times: MARK, None, DUP x 19, APPENDS: 60 references to one None
    std::string p = "]";
    for (int i = 0; i < 3; ++i) p += "(N" + std::string(19, '2') + "e";
    p += ".";
    expect_error([&] { mn::parse_pickle(reinterpret_cast<const uint8_t*>(p.data()), p.size(), small); },
                 "pickle container items " + over(60, 50));
    // 101 memo entries of one value: BINPUT 0..100
    std::string m = "N";
    for (int i = 0; i <= 100; ++i) m += std::string("q") + char(i);
    m += ".";
    expect_error([&] { mn::parse_pickle(reinterpret_cast<const uint8_t*>(m.data()), m.size(), small); },
                 "memo size " + over(101, 100));
}

// ---- state_dict: what a small archive can make the reader allocate ----
class StateDictLimits : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = std::filesystem::path(MNIST_TEST_TMP) / ("limits_state_dict_" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        // Through the stand-in pickler of make_state_dict.py (the archive torch.save writes).
        const std::string script =
            "import collections, sys\n"
            "sys.path.insert(0, sys.argv[1])\n"
            "import make_state_dict as sd\n"
            "big = sd.Storage('FloatStorage', 'f', '0', [0.0] * (1 << 20))\n"
            "views = collections.OrderedDict((f't{i}', sd.Tensor(big, 0, (1 << 20,), (1,))) for i in range(6))\n"
            "sd.write_archive(sys.argv[2] + '/views.state_dict', 'archive', sd.stand_in_pickle(views, 2), [big])\n"
            "one = sd.Storage('FloatStorage', 'f', '0', [1.0])\n"
            "huge = collections.OrderedDict(t=sd.Tensor(one, 0, (16384, 16385), (0, 0)))\n"
            "sd.write_archive(sys.argv[2] + '/huge.state_dict', 'archive', sd.stand_in_pickle(huge, 2), [one])\n";
        mn::test::write_file(file("make.py"), Bytes(script.begin(), script.end()));
        const std::string cmd = "/usr/bin/python3 '" + file("make.py") + "' '" MNIST_SOURCE_DIR "/tests/fixtures' '" +
                                dir_.string() + "'";
        made_ = std::system(cmd.c_str()) == 0;
    }
    static void TearDownTestSuite() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    static std::string file(const std::string& name) { return (dir_ / name).string(); }
    void SetUp() override {
        if (!made_) GTEST_SKIP() << "/usr/bin/python3 could not write the archives";
    }
    static std::filesystem::path dir_;
    static bool made_;
};
std::filesystem::path StateDictLimits::dir_;
bool StateDictLimits::made_ = false;

TEST_F(StateDictLimits, TensorElements) {
    expect_error([] { mn::read_torch_state_dict(file("huge.state_dict")); },
                 "tensor element count " + over(16384ull * 16385, limits::kTensorElements));
}

TEST_F(StateDictLimits, ElementsInAllStayNearTheArchiveSize) {
    // Six tensors viewing one storage of 2^20 floats: 6 Mi elements from a 4 MB archive.
    expect_error([] { mn::read_torch_state_dict(file("views.state_dict")); }, "state_dict element count");
    expect_error([] { mn::read_torch_state_dict(file("views.state_dict")); }, "is over the limit of");
}

// ---- images handed over as pixels ----
TEST(Limits, ImagePixels) {
    const uint8_t one = 0;  // the view claims 40,010,000 pixels: none of them is read
    const mn::ImageView view{&one, 10000, 4001, 1};
    try {
        mn::image_ink(view);
        ADD_FAILURE() << "no error";
    } catch (const mn::StatusError& e) {
        EXPECT_EQ(e.status(), mn::Status::ImageTooLarge);
        EXPECT_STREQ(e.what(), "image of 10000x4001 pixels is over the limit of 40 megapixels");
    }
}

}  // namespace
