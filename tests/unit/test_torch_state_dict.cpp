// Tests of the PyTorch state_dict reader and the zip and pickle layers under it.
// Fixtures come from tests/fixtures/make_state_dict.py, run once per test process.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "io/crc32.h"
#include "io/pickle.h"
#include "io/torch_state_dict.h"
#include "io/zip_reader.h"
#include "test_support.h"  // MNIST_SOURCE_DIR, MNIST_TEST_TMP
#include "zip_writer.h"

namespace fs = std::filesystem;
using mn::NamedArray;
using mn::test::make_zip;
using mn::test::ZipSpec;

namespace {

// ---- fixtures -----------------------------------------------------------------------------

// A directory of generated fixtures, private to this process (ctest may run tests in
// parallel processes) and removed at exit. Only the test that needs the torch-made fixtures
// pays for importing torch.
class FixtureDir {
public:
    explicit FixtureDir(bool with_torch) {
        dir_ = fs::path(MNIST_TEST_TMP) /
               ("torch_state_dict." + std::to_string(::getpid()) + (with_torch ? ".torch" : ""));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        std::string cmd = "/usr/bin/python3 '" MNIST_SOURCE_DIR "/tests/fixtures/make_state_dict.py' '" +
                          dir_.string() + "'" + (with_torch ? "" : " --no-torch");
        status_ = std::system(cmd.c_str());
    }
    ~FixtureDir() {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    bool ok() const { return status_ == 0; }
    int status() const { return status_; }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }

private:
    fs::path dir_;
    int status_ = -1;
};

const FixtureDir& fixtures() {
    static const FixtureDir dir(false);
    return dir;
}

const FixtureDir& torch_fixtures() {
    static const FixtureDir dir(true);
    return dir;
}

#define REQUIRE(dir) \
    ASSERT_TRUE((dir).ok()) << "tests/fixtures/make_state_dict.py failed (status " << (dir).status() << ")"
#define REQUIRE_FIXTURES() REQUIRE(fixtures())

std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// One line of a .expected file: name ndim dims... values...
std::vector<NamedArray> read_expected(const std::string& path) {
    std::vector<NamedArray> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        NamedArray a;
        size_t ndim = 0;
        fields >> a.name >> ndim;
        a.shape.resize(ndim);
        for (int64_t& d : a.shape) fields >> d;
        for (std::string v; fields >> v;) a.data.push_back(static_cast<float>(std::strtod(v.c_str(), nullptr)));
        out.push_back(std::move(a));
    }
    return out;
}

void expect_same(const std::vector<NamedArray>& actual, const std::vector<NamedArray>& expected) {
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t i = 0; i < actual.size(); ++i) {
        SCOPED_TRACE("tensor " + expected[i].name);
        EXPECT_EQ(actual[i].name, expected[i].name);
        EXPECT_EQ(actual[i].shape, expected[i].shape);
        ASSERT_EQ(actual[i].data.size(), expected[i].data.size());
        for (size_t j = 0; j < actual[i].data.size(); ++j)
            EXPECT_EQ(actual[i].data[j], expected[i].data[j]) << "element " << j;
    }
}

void check_fixture(const FixtureDir& dir, const std::string& stem) {
    REQUIRE(dir);
    std::vector<NamedArray> expected = read_expected(dir.path(stem + ".expected"));
    ASSERT_FALSE(expected.empty());
    expect_same(mn::read_torch_state_dict(dir.path(stem + ".state_dict")), expected);
}

// Runs f, which must throw mn::Error whose message holds every word.
void expect_error(const std::function<void()>& f, std::initializer_list<const char*> words) {
    try {
        f();
        ADD_FAILURE() << "no error was thrown";
    } catch (const mn::Error& e) {
        std::string msg = e.what();
        for (const char* w : words) EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
}

void expect_file_error(const std::string& fixture, std::initializer_list<const char*> words) {
    REQUIRE_FIXTURES();
    std::string path = fixtures().path(fixture);
    expect_error([&] { mn::read_torch_state_dict(path); }, words);
    try {
        mn::read_torch_state_dict(path);
    } catch (const mn::Error& e) {
        EXPECT_EQ(std::string(e.what()).find(path), std::string::npos) << "message repeats the path: " << e.what();
    }
}

// Parses bytes that may be anything: an Error is fine, so is success; nothing else is.
// The copy is exactly n bytes long so that memory checkers catch any read past it.
bool parses(const uint8_t* data, size_t n) {
    std::vector<uint8_t> copy(data, data + n);
    try {
        mn::parse_torch_state_dict(copy.data(), copy.size());
        return true;
    } catch (const mn::Error&) {
        return false;
    }
}

std::string as_string(std::span<const uint8_t> s) { return {reinterpret_cast<const char*>(s.data()), s.size()}; }

// A string literal's bytes, embedded NULs included.
template <size_t N>
std::string bytes(const char (&literal)[N]) {
    return std::string(literal, N - 1);
}

mn::Pickle unpickle(const std::string& bytes, const mn::PickleLimits& limits = {}) {
    return mn::parse_pickle(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), limits);
}

}  // namespace

// ---- reading good archives -----------------------------------------------------------------

TEST(TorchStateDict, ReadsStandInArchiveProtocol2) { check_fixture(fixtures(), "stdlib_p2"); }

TEST(TorchStateDict, ReadsStandInArchiveProtocol4WithPlainDict) { check_fixture(fixtures(), "stdlib_p4"); }

TEST(TorchStateDict, ReadsRealTorchSave) {
    const FixtureDir& dir = torch_fixtures();
    REQUIRE(dir);
    if (!fs::exists(dir.path("torch_p2.state_dict")))
        GTEST_SKIP() << "no torch-made fixture: " << read_text(dir.path("torch_unavailable.txt"));
    check_fixture(dir, "torch_p2");
    check_fixture(dir, "torch_p4");
}

TEST(TorchStateDict, LooksLikeZip) {
    const uint8_t zip[] = {'P', 'K', 3, 4, 0};
    const uint8_t gguf[] = {'G', 'G', 'U', 'F'};
    EXPECT_TRUE(mn::looks_like_zip(zip, sizeof zip));
    EXPECT_FALSE(mn::looks_like_zip(zip, 3));
    EXPECT_FALSE(mn::looks_like_zip(gguf, sizeof gguf));
}

// The shared seed model, when this checkout has it next to it. It is read in place, never copied.
TEST(TorchStateDict, ReadsSeedModel) {
    std::string path;
    for (const char* p : {"/work/shared/seed-models/mnist_model.state_dict",
                          MNIST_SOURCE_DIR "/../shared/seed-models/mnist_model.state_dict"})
        if (fs::exists(p)) {
            path = p;
            break;
        }
    if (path.empty()) GTEST_SKIP() << "seed model mnist_model.state_dict not found; nothing to check";
    std::vector<NamedArray> sd = mn::read_torch_state_dict(path);
    ASSERT_EQ(sd.size(), 4u);
    EXPECT_EQ(sd[0].name, "fc1.weight");
    EXPECT_EQ(sd[0].shape, (std::vector<int64_t>{500, 784}));
    EXPECT_EQ(sd[1].name, "fc1.bias");
    EXPECT_EQ(sd[1].shape, (std::vector<int64_t>{500}));
    EXPECT_EQ(sd[2].name, "fc2.weight");
    EXPECT_EQ(sd[2].shape, (std::vector<int64_t>{10, 500}));
    EXPECT_EQ(sd[3].name, "fc2.bias");
    EXPECT_EQ(sd[3].shape, (std::vector<int64_t>{10}));
    for (const NamedArray& a : sd) {
        size_t numel = 1;
        for (int64_t d : a.shape) numel *= static_cast<size_t>(d);
        EXPECT_EQ(a.data.size(), numel) << a.name;
    }

    // The same weights in the legacy ggml file beside it (magic, then per tensor: n_dims,
    // sizes innermost first, float32 values) must match bit for bit.
    std::string ggml = fs::path(path).replace_filename("ggml-model-f32.bin").string();
    if (!fs::exists(ggml)) return;
    std::vector<uint8_t> b = read_bytes(ggml);
    size_t pos = 4;
    auto next_i32 = [&] {
        int32_t v = 0;
        if (pos + 4 <= b.size()) std::memcpy(&v, b.data() + pos, 4);
        pos += 4;
        return v;
    };
    for (const NamedArray& a : sd) {
        int32_t dims = next_i32();
        ASSERT_EQ(dims, static_cast<int32_t>(a.shape.size())) << a.name;
        for (int32_t d = 0; d < dims; ++d) ASSERT_EQ(next_i32(), a.shape[a.shape.size() - 1 - size_t(d)]) << a.name;
        ASSERT_LE(pos + a.data.size() * 4, b.size());
        EXPECT_EQ(std::memcmp(b.data() + pos, a.data.data(), a.data.size() * 4), 0) << a.name;
        pos += a.data.size() * 4;
    }
    EXPECT_EQ(pos, b.size());
}

// ---- rejecting bad archives ----------------------------------------------------------------

TEST(TorchStateDictErrors, NotAZip) {
    const std::string text = "this is not a zip archive at all";
    expect_error([&] { mn::parse_torch_state_dict(reinterpret_cast<const uint8_t*>(text.data()), text.size()); },
                 {"not a zip"});
    expect_error([&] { mn::parse_torch_state_dict(nullptr, 0); }, {"not a zip"});
}

TEST(TorchStateDictErrors, MissingFile) {
    expect_error([] { mn::read_torch_state_dict(MNIST_TEST_TMP "/no/such/file.state_dict"); }, {"cannot open"});
}

TEST(TorchStateDictErrors, CompressedEntry) {
    expect_file_error("bad_deflate.state_dict", {"compressed", "method 8", "only stored"});
}

TEST(TorchStateDictErrors, CrcMismatch) {
    REQUIRE_FIXTURES();
    std::vector<uint8_t> bytes = read_bytes(fixtures().path("stdlib_p2.state_dict"));
    mn::ZipReader zip(bytes.data(), bytes.size());
    const mn::ZipEntry* entry = zip.find("stdlib_p2/data/0");
    ASSERT_NE(entry, nullptr);
    bytes[static_cast<size_t>(entry->data - bytes.data())] ^= 0x01;
    expect_error([&] { mn::parse_torch_state_dict(bytes.data(), bytes.size()); },
                 {"fc1.weight", "stdlib_p2/data/0", "CRC-32"});
}

TEST(TorchStateDictErrors, UnknownOpcode) { expect_file_error("bad_opcode.state_dict", {"pickle", "unknown", "0xfe"}); }

TEST(TorchStateDictErrors, StackUnderflow) { expect_file_error("bad_underflow.state_dict", {"pickle", "underflow", "REDUCE"}); }

TEST(TorchStateDictErrors, TensorPastItsStorage) {
    expect_file_error("bad_out_of_bounds.state_dict", {"'w'", "past the end of its storage", "11"});
}

TEST(TorchStateDictErrors, TinyStorageRepeatedIntoAHugeTensor) {
    expect_file_error("bad_repeated.state_dict", {"'w'", "2097152 elements", "storage only 1"});
}

TEST(TorchStateDictErrors, StorageShorterThanItsId) {
    expect_file_error("bad_short_storage.state_dict", {"'w'", "100", "8 bytes"});
}

TEST(TorchStateDictErrors, ValueIsNotATensor) { expect_file_error("bad_not_tensor.state_dict", {"'w'", "not a tensor"}); }

TEST(TorchStateDictErrors, MissingDataPkl) { expect_file_error("bad_no_pickle.state_dict", {"no data.pkl"}); }

TEST(TorchStateDictErrors, EveryTruncationFailsCleanly) {
    REQUIRE_FIXTURES();
    std::vector<uint8_t> bytes = read_bytes(fixtures().path("stdlib_p2.state_dict"));
    ASSERT_GT(bytes.size(), 100u);
    for (size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(parses(bytes.data(), n)) << "prefix of " << n << " bytes";
    EXPECT_TRUE(parses(bytes.data(), bytes.size()));
}

TEST(TorchStateDictErrors, EveryByteFlipFailsCleanlyOrReads) {
    REQUIRE_FIXTURES();
    std::vector<uint8_t> bytes = read_bytes(fixtures().path("stdlib_p2.state_dict"));
    for (size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] ^= 0xFF;
        parses(bytes.data(), bytes.size());  // must not crash, hang or throw anything else
        bytes[i] ^= 0xFF;
    }
}

// Byte flips in the archive mostly stop at the CRC check, so here data.pkl itself is mutated
// and the archive rebuilt with fresh CRCs: the pickle machine and the tensor decoding see it.
TEST(TorchStateDictErrors, EveryPickleMutationFailsCleanlyOrReads) {
    REQUIRE_FIXTURES();
    std::vector<uint8_t> original = read_bytes(fixtures().path("stdlib_p2.state_dict"));
    mn::ZipReader zip(original.data(), original.size());
    ZipSpec spec;
    for (const mn::ZipEntry& e : zip.entries()) spec.entries.emplace_back(e.name, as_string(zip.contents(e)));
    ASSERT_EQ(spec.entries[0].first, "stdlib_p2/data.pkl");
    const std::string pkl = spec.entries[0].second;
    int read_ok = 0;
    for (size_t i = 0; i < pkl.size(); ++i) {
        for (uint8_t mask : {0x01, 0x80, 0xFF}) {
            spec.entries[0].second = pkl;
            spec.entries[0].second[i] = static_cast<char>(spec.entries[0].second[i] ^ mask);
            std::vector<uint8_t> b = make_zip(spec);
            read_ok += parses(b.data(), b.size());
        }
    }
    spec.entries[0].second = pkl;
    std::vector<uint8_t> unchanged = make_zip(spec);
    EXPECT_TRUE(parses(unchanged.data(), unchanged.size()));
    EXPECT_LT(read_ok, static_cast<int>(3 * pkl.size()));  // most mutations must be caught
}

// ---- zip layer -----------------------------------------------------------------------------

TEST(ZipReader, ReadsStoredEntries) {
    for (bool zip64 : {false, true}) {
        SCOPED_TRACE(zip64 ? "zip64" : "zip32");
        ZipSpec spec;
        spec.entries = {{"a/data.pkl", "hello"}, {"a/data/0", std::string(100, 'x')}, {"empty", ""}};
        spec.zip64 = zip64;
        std::vector<uint8_t> b = make_zip(spec);
        mn::ZipReader zip(b.data(), b.size());
        ASSERT_EQ(zip.entries().size(), 3u);
        EXPECT_EQ(zip.entries()[1].name, "a/data/0");
        ASSERT_NE(zip.find("a/data.pkl"), nullptr);
        EXPECT_EQ(as_string(zip.contents(*zip.find("a/data.pkl"))), "hello");
        EXPECT_EQ(as_string(zip.contents(*zip.find("a/data/0"))), std::string(100, 'x'));
        EXPECT_EQ(zip.contents(*zip.find("empty")).size(), 0u);
        EXPECT_EQ(zip.find("missing"), nullptr);
    }
}

TEST(ZipReader, RejectsBadDirectories) {
    ZipSpec spec;
    spec.entries = {{"a", "1"}, {"a", "2"}};
    std::vector<uint8_t> dup = make_zip(spec);
    expect_error([&] { mn::ZipReader(dup.data(), dup.size()); }, {"two entries named 'a'"});

    spec.entries = {{"a", "1"}};
    spec.count_delta = 1000;  // claims more entries than the directory has room for
    std::vector<uint8_t> count = make_zip(spec);
    expect_error([&] { mn::ZipReader(count.data(), count.size()); }, {"claims 1001 entries"});

    spec.count_delta = 0;
    std::vector<uint8_t> offset = make_zip(spec);
    offset[offset.size() - 6] = 0xFF;  // central directory offset's low byte
    expect_error([&] { mn::ZipReader(offset.data(), offset.size()); }, {"past the end"});

    std::vector<uint8_t> empty(22, 0);
    expect_error([&] { mn::ZipReader(empty.data(), empty.size()); }, {"no end of central directory"});
}

TEST(ZipReader, EveryTruncationOfZip64FailsCleanly) {
    ZipSpec spec;
    spec.entries = {{"x/data.pkl", "abc"}, {"x/data/0", "0123456789"}};
    spec.zip64 = true;
    std::vector<uint8_t> b = make_zip(spec);
    for (size_t n = 0; n < b.size(); ++n) {
        std::vector<uint8_t> prefix(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_THROW(mn::ZipReader(prefix.data(), prefix.size()), mn::Error) << n;
    }
}

// ---- pickle layer --------------------------------------------------------------------------

TEST(Pickle, ScalarsAndStrings) {
    mn::Pickle p = unpickle(bytes("\x80\x02(K\x01M\x00\x01J\xff\xff\xff\xff\x8a\x02\x00\x80"
                                  "G?\xf8\x00\x00\x00\x00\x00\x00N\x88\x89X\x02\x00\x00\x00hi"
                                  "C\x02" "ab\x8c\x01zt."));
    const mn::PyValue* t = p.root();
    ASSERT_EQ(t->kind, mn::PyKind::Tuple);
    ASSERT_EQ(t->items.size(), 11u);
    EXPECT_EQ(t->items[0]->integer, 1);
    EXPECT_EQ(t->items[1]->integer, 256);
    EXPECT_EQ(t->items[2]->integer, -1);
    EXPECT_EQ(t->items[3]->integer, -32768);
    EXPECT_EQ(t->items[4]->real, 1.5);
    EXPECT_EQ(t->items[5]->kind, mn::PyKind::None);
    EXPECT_TRUE(t->items[6]->boolean);
    EXPECT_FALSE(t->items[7]->boolean);
    EXPECT_EQ(t->items[8]->text, "hi");
    EXPECT_EQ(t->items[9]->kind, mn::PyKind::Bytes);
    EXPECT_EQ(t->items[9]->text, "ab");
    EXPECT_EQ(t->items[10]->text, "z");
    EXPECT_EQ(mn::describe(t), "(1, 256, -1, -32768, ...)");
}

TEST(Pickle, ListsDictsAndMemo) {
    mn::Pickle list = unpickle(bytes("]q\x00(K\x01K\x02" "eh\x00K\x03" "a0."));
    ASSERT_EQ(list.root()->kind, mn::PyKind::List);
    EXPECT_EQ(mn::describe(list.root()), "[1, 2, 3]");

    mn::Pickle dict = unpickle(bytes("}(X\x01\x00\x00\x00" "aK\x01U\x01" "bK\x02u."));
    ASSERT_EQ(dict.root()->entries.size(), 2u);
    EXPECT_EQ(dict.root()->entries[1].first->text, "b");
    EXPECT_EQ(dict.root()->entries[1].second->integer, 2);

    // protocol 4: FRAME, MEMOIZE, and the memoized value used twice
    mn::Pickle p4 = unpickle(bytes("\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x07\x94h\x00\x86."));
    EXPECT_EQ(mn::describe(p4.root()), "(7, 7)");
}

TEST(Pickle, GlobalsCallsPersistentIdsAndBuild) {
    mn::Pickle p = unpickle(bytes(
        "\x80\x02" "ccollections\nOrderedDict\n)R"      // OrderedDict()
        "X\x01\x00\x00\x00k(X\x07\x00\x00\x00storagetQs"  // ['k'] = persistent_id(('storage',))
        "}b."));                                        // BUILD with {}
    const mn::PyValue* built = p.root();
    ASSERT_EQ(built->kind, mn::PyKind::Build);
    const mn::PyValue* od = built->object;
    ASSERT_EQ(od->kind, mn::PyKind::Call);
    EXPECT_TRUE(od->callable->is_global("collections", "OrderedDict"));
    ASSERT_EQ(od->entries.size(), 1u);
    EXPECT_EQ(od->entries[0].second->kind, mn::PyKind::PersistentId);
    EXPECT_EQ(mn::describe(od->entries[0].second), "persistent_id(('storage',))");
    EXPECT_EQ(built->state->kind, mn::PyKind::Dict);
}

TEST(Pickle, Errors) {
    expect_error([] { unpickle("\x80\x02\xff."); }, {"unknown", "0xff", "offset 2"});
    expect_error([] { unpickle("K\x01R."); }, {"underflow", "REDUCE"});
    expect_error([] { unpickle("(K\x01R."); }, {"underflow"});  // cannot pop past a MARK
    expect_error([] { unpickle("K\x01t."); }, {"needs a MARK"});
    expect_error([] { unpickle("h\x05."); }, {"memo index 5"});
    expect_error([] { unpickle("K\x01"); }, {"without a STOP"});
    expect_error([] { unpickle(""); }, {"without a STOP"});
    expect_error([] { unpickle(bytes("J\x01\x00")); }, {"ends inside", "BININT"});
    expect_error([] { unpickle("X\xff\xff\xff\x7f" "abc."); }, {"runs past the end"});
    expect_error([] { unpickle("cmodule_without_newline"); }, {"GLOBAL"});
    expect_error([] { unpickle("\x8a\x09" "123456789."); }, {"too large"});
    expect_error([] { unpickle("K\x01K\x02" "a."); }, {"cannot add items to a int"});
    expect_error([] { unpickle("\x80\x09."); }, {"protocol 9"});
    expect_error([] { unpickle(std::string(300, '(') + "."); }, {"MARK nesting 257 is over the limit of 256"});
    mn::PickleLimits small;
    small.max_objects = 10;
    expect_error([&] { unpickle(std::string(11, 'N') + ".", small); }, {"object count 11 is over the limit of 10"});
}

TEST(Pickle, HostileShapesStayBounded) {
    // a list that contains itself: describe() must stop
    mn::Pickle cycle = unpickle(bytes("]q\x00h\x00" "a."));
    ASSERT_EQ(cycle.root()->items[0], cycle.root());
    EXPECT_EQ(mn::describe(cycle.root(), 3), "[[[...]]]");
    // tuples nested 100000 deep without a single MARK: no recursion anywhere
    mn::Pickle deep = unpickle("N" + std::string(100000, '\x85') + ".");
    EXPECT_EQ(deep.object_count(), 100001u);
    EXPECT_EQ(mn::describe(deep.root(), 2), "((...,),)");
}
