// GGUF v3 reader/writer: round trips, a file from an independent writer (Python `struct`),
// and malformed files that must each fail with one clear mn::Error.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "engine/error.h"
#include "io/gguf.h"

#ifndef MNIST_TEST_TMP
#define MNIST_TEST_TMP "/tmp"
#endif

namespace {

using mn::DType;
using mn::gguf::File;
using mn::gguf::Value;
using mn::gguf::ValueType;
using mn::gguf::Writer;
using Bytes = std::vector<uint8_t>;

// A file in the test temp dir, named after the running test (so tests may run in parallel
// processes), removed when it goes out of scope.
struct TempFile {
    std::string path;
    explicit TempFile(const std::string& suffix) {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        path = std::string(MNIST_TEST_TMP) + "/gguf_" + info->test_suite_name() + "_" +
               info->name() + "_" + suffix;
    }
    ~TempFile() { std::remove(path.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
};

Bytes read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const Bytes& b) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
    ASSERT_TRUE(out.good()) << "cannot write " << path;
}

// Opens `bytes` as a file; returns the Error message, or "<no error>" if it parsed.
std::string open_error(const Bytes& bytes) {
    const TempFile file("bad.gguf");
    write_bytes(file.path, bytes);
    try {
        File::open(file.path);
    } catch (const mn::Error& e) {
        return e.what();
    }
    return "<no error>";
}

// ---- a tiny independent encoder for hand-made (and deliberately broken) files ----
struct Enc {
    Bytes b;
    Enc& u8(uint8_t v) { b.push_back(v); return *this; }
    Enc& u32(uint32_t v) { return raw(&v, 4); }
    Enc& u64(uint64_t v) { return raw(&v, 8); }
    Enc& f32(float v) { return raw(&v, 4); }
    Enc& str(const std::string& s) { u64(s.size()); return raw(s.data(), s.size()); }
    Enc& raw(const void* p, size_t n) {
        const auto* c = static_cast<const uint8_t*>(p);
        b.insert(b.end(), c, c + n);
        return *this;
    }
};

Bytes kv_u32(const std::string& key, uint32_t v) { return Enc().str(key).u32(4).u32(v).b; }
Bytes kv_str(const std::string& key, const std::string& v) { return Enc().str(key).u32(8).str(v).b; }

struct TensorSpec {
    std::string name;
    std::vector<uint64_t> dims;
    uint32_t type = 0;  // f32
    uint64_t offset = 0;
    std::optional<uint32_t> n_dims;  // overrides dims.size() in the header
};

struct FileSpec {
    std::string magic = "GGUF";
    uint32_t version = 3;
    std::optional<uint64_t> n_tensors, n_kv;  // override the real counts
    std::vector<Bytes> kvs = {kv_str("general.architecture", "mlp"), kv_u32("mlp.hidden", 16)};
    std::vector<TensorSpec> tensors = {{"a", {4}, 0, 0, {}}, {"b", {2, 2}, 0, 32, {}}};
    size_t alignment = 32;
    size_t data_bytes = 64;
};

Bytes build(const FileSpec& s) {
    Enc e;
    e.raw(s.magic.data(), 4).u32(s.version);
    e.u64(s.n_tensors.value_or(s.tensors.size())).u64(s.n_kv.value_or(s.kvs.size()));
    for (const Bytes& kv : s.kvs) e.raw(kv.data(), kv.size());
    for (const TensorSpec& t : s.tensors) {
        e.str(t.name).u32(t.n_dims.value_or(uint32_t(t.dims.size())));
        for (uint64_t d : t.dims) e.u64(d);
        e.u32(t.type).u64(t.offset);
    }
    while (e.b.size() % s.alignment != 0) e.u8(0);
    for (size_t i = 0; i < s.data_bytes; ++i) e.u8(uint8_t(i));
    return e.b;
}

// A writer with one value of every type, several tensor types, and a custom alignment.
struct Sample {
    Writer w;
    std::vector<float> f32 = {1.5f, -2.0f, 0.25f, 3.0f, 4.0f, -5.5f};
    std::vector<int32_t> i32 = {1, -2, 3, -4, 5};
    std::vector<uint8_t> q8 = std::vector<uint8_t>(2 * 34);
    std::vector<uint16_t> f16 = {0x3c00, 0xbc00, 0x0000, 0x7bff, 0x3800, 0x4000, 0x4200};

    explicit Sample(bool custom_alignment = false) {
        for (size_t i = 0; i < q8.size(); ++i) q8[i] = uint8_t(i * 7);
        w.set("general.architecture", Value::str("mnist-mlp"));
        if (custom_alignment) w.set("general.alignment", Value::u32(64));
        w.set("t.u8", Value::u8(200));
        w.set("t.i8", Value::i8(-100));
        w.set("t.u16", Value::u16(60000));
        w.set("t.i16", Value::i16(-30000));
        w.set("t.u32", Value::u32(4000000000u));
        w.set("t.i32", Value::i32(-2000000000));
        w.set("t.u64", Value::u64(0xfedcba9876543210ull));
        w.set("t.i64", Value::i64(-0x123456789abcdefll));
        w.set("t.f32", Value::f32(3.25f));
        w.set("t.f64", Value::f64(-1e300));
        w.set("t.bool", Value::boolean(true));
        w.set("t.str", Value::str("h\xc3\xa9llo \"w\"\n"));
        w.set("t.empty_str", Value::str(""));
        w.set("t.arr_i32", Value::array(std::vector<int32_t>{784, 128, -10}));
        w.set("t.arr_f32", Value::array(std::vector<float>{0.5f, -1.25f}));
        w.set("t.arr_str", Value::array(std::vector<std::string>{"zero", "", "two"}));
        w.set("t.arr_bool", Value::array(std::vector<bool>{true, false, true}));
        w.set("t.arr_u64", Value::array(std::vector<uint64_t>{1ull << 63, 7}));
        w.set("t.arr_i64", Value::array(std::vector<int64_t>{-1, 1ll << 40}));
        w.set("t.arr_f64", Value::array(std::vector<double>{1e-300, 2.5}));
        w.set("t.arr_u8", Value::array(std::vector<uint8_t>{1, 2, 255}));
        w.set("t.arr_empty", Value::array(std::vector<int16_t>{}));
        w.set("t.arr_nested",
              Value::array(ValueType::ARRAY, {Value::array(std::vector<uint16_t>{1, 2}),
                                              Value::array(std::vector<std::string>{"x"})}));
        const int64_t ne_w[4] = {3, 2, 1, 1};
        const int64_t ne_b[1] = {5};
        const int64_t ne_q[2] = {32, 2};
        const int64_t ne_h[4] = {7, 1, 1, 1};
        w.add_tensor("fc1.weight", DType::F32, 2, ne_w, f32.data());
        w.add_tensor("fc1.bias", DType::I32, 1, ne_b, i32.data());
        w.add_tensor("fc2.weight", DType::Q8_0, 2, ne_q, q8.data());
        w.add_tensor("fc2.bias", DType::F16, 4, ne_h, f16.data());
    }
};

// ============================================================================================
// Round trips
// ============================================================================================
TEST(Gguf, WriteThenReadKeepsEveryValueAndTensor) {
    for (bool custom_alignment : {false, true}) {
        SCOPED_TRACE(custom_alignment ? "alignment 64" : "default alignment");
        Sample s(custom_alignment);
        const TempFile file("roundtrip.gguf");
        const std::string& path = file.path;
        s.w.write(path);
        const File f = File::open(path);

        // Keys in insertion order, values identical.
        ASSERT_EQ(f.kv().size(), s.w.kv().size());
        for (size_t i = 0; i < f.kv().size(); ++i) {
            EXPECT_EQ(f.kv()[i].first, s.w.kv()[i].first);
            EXPECT_TRUE(f.kv()[i].second == s.w.kv()[i].second) << f.kv()[i].first;
        }
        EXPECT_EQ(f.alignment(), custom_alignment ? 64u : 32u);
        EXPECT_EQ(f.data_offset() % f.alignment(), 0u);
        EXPECT_EQ(f.find("general.alignment") != nullptr, custom_alignment);

        EXPECT_EQ(f.get_string("general.architecture"), "mnist-mlp");
        EXPECT_EQ(f.get("t.u8").as_u8(), 200);
        EXPECT_EQ(f.get("t.i8").as_i8(), -100);
        EXPECT_EQ(f.get("t.u16").as_u16(), 60000);
        EXPECT_EQ(f.get("t.i16").as_i16(), -30000);
        EXPECT_EQ(f.get_u32("t.u32"), 4000000000u);
        EXPECT_EQ(f.get_i32("t.i32"), -2000000000);
        EXPECT_EQ(f.get_u64("t.u64"), 0xfedcba9876543210ull);
        EXPECT_EQ(f.get_i64("t.i64"), -0x123456789abcdefll);
        EXPECT_EQ(f.get_f32("t.f32"), 3.25f);
        EXPECT_EQ(f.get("t.f64").as_f64(), -1e300);
        EXPECT_TRUE(f.get_bool("t.bool"));
        EXPECT_EQ(f.get_string("t.str"), "h\xc3\xa9llo \"w\"\n");
        EXPECT_EQ(f.get_string("t.empty_str"), "");
        EXPECT_EQ(f.get("t.arr_i32").as_int_array(), (std::vector<int64_t>{784, 128, -10}));
        EXPECT_EQ(f.get("t.arr_f32").as_float_array(), (std::vector<double>{0.5, -1.25}));
        EXPECT_EQ(f.get("t.arr_str").as_string_array(), (std::vector<std::string>{"zero", "", "two"}));
        EXPECT_EQ(f.get("t.arr_bool").elem_type(), ValueType::BOOL);
        EXPECT_TRUE(f.get("t.arr_bool").at(0).as_bool());
        EXPECT_FALSE(f.get("t.arr_bool").at(1).as_bool());
        EXPECT_EQ(f.get("t.arr_u64").at(0).as_u64(), 1ull << 63);
        EXPECT_EQ(f.get("t.arr_i64").as_int_array(), (std::vector<int64_t>{-1, 1ll << 40}));
        EXPECT_EQ(f.get("t.arr_f64").at(0).as_f64(), 1e-300);
        EXPECT_EQ(f.get("t.arr_u8").as_int_array(), (std::vector<int64_t>{1, 2, 255}));
        EXPECT_EQ(f.get("t.arr_empty").size(), 0u);
        EXPECT_EQ(f.get("t.arr_empty").elem_type(), ValueType::I16);
        const Value& nested = f.get("t.arr_nested");
        ASSERT_EQ(nested.size(), 2u);
        EXPECT_EQ(nested.at(0).as_int_array(), (std::vector<int64_t>{1, 2}));
        EXPECT_EQ(nested.at(1).as_string_array(), (std::vector<std::string>{"x"}));

        // Tensors: order, shapes, types, alignment and bytes.
        ASSERT_EQ(f.tensors().size(), 4u);
        const char* names[] = {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
        for (size_t i = 0; i < 4; ++i) EXPECT_EQ(f.tensors()[i].name, names[i]);
        const mn::gguf::TensorInfo* w1 = f.find_tensor("fc1.weight");
        ASSERT_NE(w1, nullptr);
        EXPECT_EQ(w1->type, DType::F32);
        EXPECT_EQ(w1->n_dims, 2);
        EXPECT_EQ(w1->ne[0], 3);
        EXPECT_EQ(w1->ne[1], 2);
        EXPECT_EQ(w1->ne[2], 1);
        EXPECT_EQ(w1->ne[3], 1);
        EXPECT_EQ(w1->n_elements(), 6);
        ASSERT_EQ(w1->nbytes, s.f32.size() * 4);
        EXPECT_EQ(std::memcmp(w1->data, s.f32.data(), w1->nbytes), 0);
        const auto* b1 = f.find_tensor("fc1.bias");
        ASSERT_NE(b1, nullptr);
        EXPECT_EQ(b1->type, DType::I32);
        ASSERT_EQ(b1->nbytes, 20u);
        EXPECT_EQ(std::memcmp(b1->data, s.i32.data(), 20), 0);
        const auto* q = f.find_tensor("fc2.weight");
        ASSERT_NE(q, nullptr);
        EXPECT_EQ(q->type, DType::Q8_0);
        ASSERT_EQ(q->nbytes, s.q8.size());
        EXPECT_EQ(std::memcmp(q->data, s.q8.data(), q->nbytes), 0);
        const auto* h = f.find_tensor("fc2.bias");
        ASSERT_NE(h, nullptr);
        EXPECT_EQ(h->n_dims, 4);
        ASSERT_EQ(h->nbytes, 14u);
        EXPECT_EQ(std::memcmp(h->data, s.f16.data(), 14), 0);
        for (const auto& t : f.tensors()) {
            EXPECT_EQ(t.offset % f.alignment(), 0u) << t.name;
            // The map is page-aligned, so aligned offsets give aligned pointers.
            EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % f.alignment(), 0u) << t.name;
        }
        EXPECT_EQ(f.find_tensor("nope"), nullptr);
        EXPECT_EQ(f.find("nope"), nullptr);
        EXPECT_EQ(s.w.to_bytes(), read_bytes(path));
    }
}

TEST(Gguf, ReadWriteReadIsByteIdentical) {
    for (bool custom_alignment : {false, true}) {
        Sample s(custom_alignment);
        const TempFile file1("first.gguf"), file2("second.gguf");
        const std::string &first = file1.path, &second = file2.path;
        s.w.write(first);
        {
            const File f = File::open(first);
            Writer::from_file(f).write(second);
        }
        const Bytes a = read_bytes(first), b = read_bytes(second);
        ASSERT_FALSE(a.empty());
        EXPECT_EQ(a, b);
        EXPECT_EQ(a.size() % (custom_alignment ? 64 : 32), 0u);
        const File g = File::open(second);
        EXPECT_EQ(g.kv().size(), s.w.kv().size());
        EXPECT_EQ(g.tensors().size(), 4u);
    }
}

TEST(Gguf, FileStaysValidAfterMove) {
    Sample s;
    const TempFile file("move.gguf");
    const std::string& path = file.path;
    s.w.write(path);
    File f = File::open(path);
    File g = std::move(f);
    const auto* t = g.find_tensor("fc1.weight");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(std::memcmp(t->data, s.f32.data(), t->nbytes), 0);
    EXPECT_EQ(g.get_string("general.architecture"), "mnist-mlp");
}

TEST(Gguf, EmptyFileWithoutTensorsOrKeys) {
    Writer w;
    const Bytes bytes = w.to_bytes();
    EXPECT_EQ(bytes.size(), 32u);  // 24-byte header padded to 32
    const File f = File::from_memory(bytes.data(), bytes.size());
    EXPECT_TRUE(f.kv().empty());
    EXPECT_TRUE(f.tensors().empty());
    EXPECT_EQ(f.data_offset(), 32u);
}

// ============================================================================================
// Writer behaviour
// ============================================================================================
TEST(Gguf, WriterSetReplacesInPlace) {
    Writer w;
    w.set("a", Value::u32(1));
    w.set("b", Value::str("x"));
    w.set("c", Value::boolean(false));
    w.set("b", Value::f32(2.0f));
    ASSERT_EQ(w.kv().size(), 3u);
    EXPECT_EQ(w.kv()[0].first, "a");
    EXPECT_EQ(w.kv()[1].first, "b");
    EXPECT_EQ(w.kv()[1].second.as_f32(), 2.0f);
    EXPECT_EQ(w.kv()[2].first, "c");
    EXPECT_TRUE(w.remove("a"));
    EXPECT_FALSE(w.remove("a"));
    EXPECT_EQ(w.kv().size(), 2u);
}

TEST(Gguf, WriterCopiesTensorData) {
    Writer w;
    std::vector<float> data = {1, 2, 3, 4};
    const int64_t ne[1] = {4};
    w.add_tensor("t", DType::F32, 1, ne, data.data());
    data.assign(4, 0.0f);  // the writer must not see this
    const Bytes bytes = w.to_bytes();
    const File f = File::from_memory(bytes.data(), bytes.size());
    const float* p = reinterpret_cast<const float*>(f.tensors()[0].data);
    EXPECT_EQ(p[0], 1.0f);
    EXPECT_EQ(p[3], 4.0f);
}

std::string writer_error(const std::function<void(Writer&)>& fn) {
    Writer w;
    try {
        fn(w);
    } catch (const mn::Error& e) {
        return e.what();
    }
    return "<no error>";
}

TEST(Gguf, WriterRejectsBadInput) {
    const float data[64] = {};
    const int64_t ne33[1] = {33};
    const int64_t ne0[2] = {4, 0};
    const int64_t ne4[1] = {4};
    EXPECT_NE(writer_error([&](Writer& w) { w.add_tensor("t", DType::Q8_0, 1, ne33, data); })
                  .find("block size 32"), std::string::npos);
    EXPECT_NE(writer_error([&](Writer& w) { w.add_tensor("t", DType::F32, 2, ne0, data); })
                  .find("dimension < 1"), std::string::npos);
    EXPECT_NE(writer_error([&](Writer& w) { w.add_tensor("t", DType::F32, 5, ne4, data); })
                  .find("5 dimensions"), std::string::npos);
    EXPECT_NE(writer_error([&](Writer& w) { w.add_tensor("t", DType::F32, 0, ne4, data); })
                  .find("0 dimensions"), std::string::npos);
    EXPECT_NE(writer_error([&](Writer& w) {
                  w.add_tensor("t", DType::F32, 1, ne4, data);
                  w.add_tensor("t", DType::F32, 1, ne4, data);
              }).find("duplicate tensor name 't'"), std::string::npos);
    EXPECT_NE(writer_error([&](Writer& w) { w.add_tensor(std::string(65, 'n'), DType::F32, 1, ne4, data); })
                  .find("name length 65 is over the limit of 64"), std::string::npos);
    EXPECT_NE(writer_error([&](Writer& w) { w.set("general.alignment", Value::u32(48)); })
                  .find("power of two"), std::string::npos);
    EXPECT_NE(writer_error([&](Writer& w) { w.set("general.alignment", Value::u32(0)); })
                  .find("power of two"), std::string::npos);
    EXPECT_NE(writer_error([&](Writer& w) { w.set("general.alignment", Value::u64(32)); })
                  .find("must be a u32"), std::string::npos);
    EXPECT_NE(writer_error([&](Writer& w) {
                  w.set("x", Value::array(ValueType::U32, {Value::u32(1), Value::str("no")}));
              }).find("array element 1 is string, expected u32"), std::string::npos);
}

// ============================================================================================
// Value accessors and printing
// ============================================================================================
TEST(Gguf, ValueAccessorsAreStrictButAsIntIsLenient) {
    const Value s = Value::str("x");
    try {
        (void)s.as_u32();
        FAIL() << "expected an error";
    } catch (const mn::Error& e) {
        EXPECT_STREQ(e.what(), "expected u32, got string");
    }
    EXPECT_THROW((void)Value::i32(1).as_u32(), mn::Error);
    EXPECT_THROW((void)Value::f32(1).as_f64(), mn::Error);
    EXPECT_THROW((void)Value::u8(1).as_bool(), mn::Error);
    EXPECT_THROW((void)Value::u32(1).size(), mn::Error);

    EXPECT_EQ(Value::u8(255).as_int(), 255);
    EXPECT_EQ(Value::i8(-128).as_int(), -128);
    EXPECT_EQ(Value::u16(65535).as_int(), 65535);
    EXPECT_EQ(Value::i16(-32768).as_int(), -32768);
    EXPECT_EQ(Value::u32(4294967295u).as_int(), 4294967295ll);
    EXPECT_EQ(Value::i32(-7).as_int(), -7);
    EXPECT_EQ(Value::u64(1ull << 62).as_int(), 1ll << 62);
    EXPECT_EQ(Value::i64(std::numeric_limits<int64_t>::min()).as_int(), std::numeric_limits<int64_t>::min());
    EXPECT_THROW((void)Value::u64(1ull << 63).as_int(), mn::Error);
    EXPECT_THROW((void)Value::f32(1).as_int(), mn::Error);
    EXPECT_THROW((void)Value::boolean(true).as_int(), mn::Error);
    EXPECT_EQ(Value::f32(0.5f).as_float(), 0.5);
    EXPECT_EQ(Value::f64(0.1).as_float(), 0.1);
    EXPECT_THROW((void)Value::i32(1).as_float(), mn::Error);

    const Value arr = Value::array(std::vector<int32_t>{1, 2});
    EXPECT_THROW((void)arr.at(2), mn::Error);
    EXPECT_THROW((void)arr.as_float_array(), mn::Error);
    EXPECT_THROW((void)arr.as_string_array(), mn::Error);
    EXPECT_EQ(arr.type_string(), "array[i32]");
    EXPECT_TRUE(Value::f32(NAN) == Value::f32(NAN));  // compared by bits
    EXPECT_FALSE(Value::u32(1) == Value::i32(1));
}

TEST(Gguf, ValueToString) {
    EXPECT_EQ(Value::u64(18446744073709551615ull).to_string(), "18446744073709551615");
    EXPECT_EQ(Value::i8(-5).to_string(), "-5");
    EXPECT_EQ(Value::f32(0.1f).to_string(), "0.1");
    EXPECT_EQ(Value::f64(-2.5).to_string(), "-2.5");
    EXPECT_EQ(Value::boolean(false).to_string(), "false");
    EXPECT_EQ(Value::str("a\"b\\c\n\x01").to_string(), "\"a\\\"b\\\\c\\n\\x01\"");
    EXPECT_EQ(Value::str("h\xc3\xa9").to_string(), "\"h\xc3\xa9\"");
    const std::string long_str = Value::str(std::string(1000, 'z')).to_string();
    EXPECT_LT(long_str.size(), 260u);
    EXPECT_NE(long_str.find("(1000 bytes)"), std::string::npos);
    EXPECT_EQ(Value::array(std::vector<int32_t>{1, -2, 3}).to_string(), "[1, -2, 3]");
    EXPECT_EQ(Value::array(std::vector<std::string>{"a", "b"}).to_string(), "[\"a\", \"b\"]");
    EXPECT_EQ(Value::array(std::vector<uint8_t>{}).to_string(), "[]");
    std::vector<uint32_t> many(1000);
    for (uint32_t i = 0; i < 1000; ++i) many[i] = i;
    EXPECT_EQ(Value::array(many).to_string(), "[0, 1, 2, 3, 4, 5, 6, 7, ... (1000 items)]");
    EXPECT_EQ(Value::array(ValueType::ARRAY, {Value::array(std::vector<bool>{true})}).to_string(),
              "[[true]]");
}

TEST(Gguf, FileGettersNameTheKey) {
    Sample s;
    const Bytes bytes = s.w.to_bytes();
    const File f = File::from_memory(bytes.data(), bytes.size());
    try {
        (void)f.get_u32("nope");
        FAIL();
    } catch (const mn::Error& e) {
        EXPECT_STREQ(e.what(), "missing key 'nope'");
    }
    try {
        (void)f.get_u32("t.str");
        FAIL();
    } catch (const mn::Error& e) {
        EXPECT_STREQ(e.what(), "key 't.str': expected u32, got string");
    }
    EXPECT_EQ(f.get_int("t.u16"), 60000);
    EXPECT_EQ(f.get_float("t.f32"), 3.25);
}

// ============================================================================================
// A file written by an independent implementation (Python's struct module)
// ============================================================================================
const char* kPythonWriter = R"PY(
import struct, sys

def s(x):
    b = x.encode('utf-8')
    return struct.pack('<Q', len(b)) + b

kvs = [
    ('general.architecture', 8, s('mnist-mlp')),
    ('general.alignment', 4, struct.pack('<I', 64)),
    ('mlp.hidden', 4, struct.pack('<I', 128)),
    ('mlp.scale', 6, struct.pack('<f', 0.5)),
    ('mlp.flag', 7, struct.pack('<B', 1)),
    ('mlp.big', 10, struct.pack('<Q', 2**40 + 7)),
    ('mlp.neg', 11, struct.pack('<q', -5)),
    ('mlp.eps', 12, struct.pack('<d', 1e-5)),
    ('mlp.layers', 9, struct.pack('<IQ', 5, 3) + struct.pack('<3i', 784, 128, 10)),
    ('mlp.labels', 9, struct.pack('<IQ', 8, 2) + s('zero') + s('one')),
]
tensors = [
    ('fc.weight', [3, 2], 0, struct.pack('<6f', *[0.5 * i - 1 for i in range(6)])),
    ('fc.bias', [4], 26, struct.pack('<4i', 1, -2, 3, -4)),
]
align = 64
out = struct.pack('<4sIQQ', b'GGUF', 3, len(tensors), len(kvs))
for key, typ, payload in kvs:
    out += s(key) + struct.pack('<I', typ) + payload
data = b''
for name, dims, typ, blob in tensors:
    out += s(name) + struct.pack('<I', len(dims))
    out += b''.join(struct.pack('<Q', d) for d in dims)
    out += struct.pack('<IQ', typ, len(data))
    data += blob + b'\0' * ((-len(blob)) % align)
out += b'\0' * ((-len(out)) % align)
with open(sys.argv[1], 'wb') as f:
    f.write(out + data)
)PY";

TEST(Gguf, ReadsFileFromIndependentWriter) {
    if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "/usr/bin/python3 is not available";
    const TempFile script_file("writer.py"), gguf_file("python.gguf");
    const std::string &script = script_file.path, &path = gguf_file.path;
    {
        std::ofstream out(script);
        out << kPythonWriter;
    }
    const std::string cmd = "/usr/bin/python3 '" + script + "' '" + path + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

    const File f = File::open(path);
    ASSERT_EQ(f.kv().size(), 10u);
    EXPECT_EQ(f.kv()[0].first, "general.architecture");
    EXPECT_EQ(f.kv()[9].first, "mlp.labels");
    EXPECT_EQ(f.alignment(), 64u);
    EXPECT_EQ(f.data_offset() % 64, 0u);
    EXPECT_EQ(f.get_string("general.architecture"), "mnist-mlp");
    EXPECT_EQ(f.get_u32("mlp.hidden"), 128u);
    EXPECT_EQ(f.get_f32("mlp.scale"), 0.5f);
    EXPECT_TRUE(f.get_bool("mlp.flag"));
    EXPECT_EQ(f.get_u64("mlp.big"), (1ull << 40) + 7);
    EXPECT_EQ(f.get_i64("mlp.neg"), -5);
    EXPECT_EQ(f.get_float("mlp.eps"), 1e-5);
    EXPECT_EQ(f.get("mlp.layers").as_int_array(), (std::vector<int64_t>{784, 128, 10}));
    EXPECT_EQ(f.get("mlp.labels").as_string_array(), (std::vector<std::string>{"zero", "one"}));

    ASSERT_EQ(f.tensors().size(), 2u);
    const auto& w = f.tensors()[0];
    EXPECT_EQ(w.name, "fc.weight");
    EXPECT_EQ(w.type, DType::F32);
    EXPECT_EQ(w.n_dims, 2);
    EXPECT_EQ(w.ne[0], 3);
    EXPECT_EQ(w.ne[1], 2);
    ASSERT_EQ(w.nbytes, 24u);
    for (int i = 0; i < 6; ++i) {
        float v;
        std::memcpy(&v, w.data + 4 * i, 4);
        EXPECT_EQ(v, 0.5f * float(i) - 1.0f);
    }
    const auto& b = f.tensors()[1];
    EXPECT_EQ(b.name, "fc.bias");
    EXPECT_EQ(b.type, DType::I32);
    EXPECT_EQ(b.offset, 64u);
    ASSERT_EQ(b.nbytes, 16u);
    const int32_t expect_b[4] = {1, -2, 3, -4};
    EXPECT_EQ(std::memcmp(b.data, expect_b, 16), 0);

    // And our writer reproduces the Python file exactly (same layout conventions).
    EXPECT_EQ(Writer::from_file(f).to_bytes(), read_bytes(path));
}

// ============================================================================================
// Malformed files
// ============================================================================================
struct BadCase {
    std::string what;
    Bytes bytes;
    std::string expected;  // a part of the error message
};

std::vector<BadCase> bad_cases() {
    std::vector<BadCase> cases;
    auto add = [&](const std::string& what, const FileSpec& s, const std::string& expected) {
        cases.push_back({what, build(s), expected});
    };

    {
        Bytes b = build(FileSpec{});
        b.resize(10);
        cases.push_back({"truncated header", b, "truncated"});
    }
    cases.push_back({"empty file", {}, "truncated"});
    FileSpec s;
    s.magic = "GGML";
    add("bad magic", s, "bad magic");
    s = {};
    s.version = 1;
    add("version 1", s, "unsupported GGUF version 1");
    s.version = 2;
    add("version 2", s, "unsupported GGUF version 2");
    s.version = 0x03000000;
    add("big-endian", s, "big-endian");
    s = {};
    s.data_bytes = 40;  // tensor b needs bytes 32..48
    add("tensor data past EOF", s, "tensor 'b' data extends past the end of the file");
    s = {};
    s.tensors[1].offset = 1u << 20;
    add("tensor offset past EOF", s, "tensor 'b' data extends past the end of the file");
    s = {};
    s.tensors[1].dims = {1, 1, 1, 1, 2};
    add("n_dims 5", s, "tensor 'b' has 5 dimensions (must be 1 to 4)");
    s = {};
    s.tensors[1].dims = {};
    add("n_dims 0", s, "tensor 'b' has 0 dimensions");
    s = {};
    s.tensors[1].dims = {1ull << 32, 1ull << 32};
    add("element count overflow", s, "tensor 'b' element count overflows");
    s = {};
    s.tensors[1].dims = {1ull << 62};
    add("element count over the limit", s, "tensor 'b' element count 4611686018427387904 is over the limit of 268435456");
    s = {};
    s.tensors[1].dims = {1ull << 20, 16};
    add("size within the limits, not in the file", s, "tensor 'b' data extends past the end of the file");
    s = {};
    s.tensors[1].type = 99;
    add("unknown tensor type", s, "tensor 'b' has unknown tensor type 99");
    s = {};
    s.kvs.push_back(Enc().str("bad.type").u32(13).u32(0).b);
    add("unknown value type", s, "key 'bad.type': unknown value type 13");
    s = {};
    s.kvs.push_back(Enc().str("bad.arr").u32(9).u32(77).u64(0).b);
    add("unknown array element type", s, "key 'bad.arr': unknown array element type 77");
    s = {};
    s.tensors[1].offset = 16;
    add("misaligned offset", s, "tensor 'b' offset 16 is not a multiple of the alignment 32");
    s = {};
    s.tensors[1].name = "a";
    add("duplicate tensor names", s, "duplicate tensor name 'a'");
    s = {};
    s.tensors[1].offset = 0;
    s.tensors[1].dims = {2};
    add("overlapping tensors", s, "tensors 'a' and 'b' overlap");
    s = {};
    s.kvs.push_back(Enc().str("huge.str").u32(8).u64(1ull << 62).b);
    add("huge string length", s, "key 'huge.str': file is truncated or corrupt: string length 4611686018427387904");
    s = {};
    s.kvs.insert(s.kvs.begin(), Enc().u64(~0ull).str("x").b);
    add("huge key length", s, "key length 18446744073709551615 exceeds the remaining");
    s = {};
    s.kvs.push_back(Enc().str("huge.arr").u32(9).u32(4).u64(1ull << 61).b);
    add("huge array length", s, "key 'huge.arr': file is truncated or corrupt: array of 2305843009213693952 u32");
    s = {};
    s.kvs.push_back(Enc().str("huge.strs").u32(9).u32(8).u64(~0ull).b);
    add("huge string array length", s, "array of 18446744073709551615 string elements");
    s = {};
    s.n_kv = 60000;
    add("key count beyond the file", s, "key count 60000 cannot fit");
    s.n_kv = 1ull << 40;
    add("key count over the limit", s, "key count 1099511627776 is over the limit of 65536");
    s = {};
    s.n_tensors = 4000;
    add("tensor count beyond the file", s, "tensor count 4000 cannot fit");
    s.n_tensors = ~0ull;
    add("tensor count over the limit", s, "tensor count 18446744073709551615 is over the limit of 4096");
    s = {};
    s.tensors[1].dims = {2, 0};
    add("zero-sized tensor", s, "tensor 'b' has a zero-sized dimension");
    s = {};
    s.kvs.push_back(kv_u32("mlp.hidden", 3));
    add("duplicate keys", s, "duplicate key 'mlp.hidden'");
    s = {};
    s.kvs.push_back(kv_u32("general.alignment", 48));
    add("alignment not a power of two", s, "general.alignment 48 is not a nonzero power of two");
    s.kvs.back() = kv_u32("general.alignment", 0);
    add("alignment zero", s, "general.alignment 0 is not a nonzero power of two");
    s.kvs.back() = Enc().str("general.alignment").u32(10).u64(32).b;
    add("alignment of wrong type", s, "general.alignment must be a u32, not u64");
    s = {};
    s.tensors[0].type = 8;  // q8_0
    s.tensors[0].dims = {33};
    add("dimension not a multiple of the block size", s,
        "tensor 'a': first dimension 33 is not a multiple of the q8_0 block size 32");
    s = {};
    s.kvs.push_back(Enc().str("flag").u32(7).u8(2).b);
    add("bool not 0 or 1", s, "key 'flag': invalid bool value 2");
    s = {};
    s.kvs.push_back(Enc().str("flags").u32(9).u32(7).u64(2).u8(1).u8(9).b);
    add("bool array element not 0 or 1", s, "key 'flags': invalid bool value 9");
    s = {};
    {
        Enc deep;
        deep.str("deep").u32(9);
        for (int i = 0; i < 20; ++i) deep.u32(9).u64(1);
        deep.u32(0).u64(0);
        s.kvs.push_back(deep.b);
    }
    add("arrays nested too deeply", s, "key 'deep': arrays are nested more than 8 levels deep");
    s = {};
    s.tensors[1].name = std::string(65, 't');
    add("tensor name too long", s, "tensor name length 65 is over the limit of 64");
    s = {};
    s.kvs.push_back(Enc().str(std::string(70000, 'k')).u32(0).u8(0).b);
    add("key name too long", s, "key length 70000 is over the limit of 65535");
    s = {};
    s.tensors[1].name = "bad\nname";
    s.tensors[1].type = 99;
    add("control characters in names are escaped", s, "tensor 'bad\\x0aname' has unknown tensor type 99");
    return cases;
}

TEST(Gguf, ValidHandMadeFileParses) {
    const Bytes b = build(FileSpec{});
    const File f = File::from_memory(b.data(), b.size());
    EXPECT_EQ(f.get_string("general.architecture"), "mlp");
    ASSERT_EQ(f.tensors().size(), 2u);
    EXPECT_EQ(f.tensors()[1].ne[1], 2);
    EXPECT_EQ(f.tensors()[1].data[0], 32);  // data bytes are 0, 1, 2, ...
}

TEST(Gguf, MalformedFilesAreRejectedWithClearErrors) {
    const std::vector<BadCase> cases = bad_cases();
    ASSERT_GE(cases.size(), 15u);
    for (const BadCase& c : cases) {
        SCOPED_TRACE(c.what);
        const std::string msg = open_error(c.bytes);
        EXPECT_NE(msg.find(c.expected), std::string::npos) << "message: " << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << "message: " << msg;
        EXPECT_EQ(msg.find(MNIST_TEST_TMP), std::string::npos) << "message names the file: " << msg;
    }
}

TEST(Gguf, EveryTruncationFailsCleanly) {
    Sample s;
    const Bytes full = s.w.to_bytes();
    const File ref = File::from_memory(full.data(), full.size());
    const auto& last = ref.tensors().back();
    const size_t needed = size_t(ref.data_offset() + last.offset) + last.nbytes;
    const TempFile file("truncated.gguf");
    const std::string& path = file.path;
    for (size_t len = 0; len <= full.size(); ++len) {
        write_bytes(path, Bytes(full.begin(), full.begin() + std::ptrdiff_t(len)));
        bool ok = true;
        try {
            const File f = File::open(path);
            EXPECT_EQ(f.tensors().size(), 4u);
        } catch (const mn::Error& e) {
            ok = false;
            EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
        }
        EXPECT_EQ(ok, len >= needed) << "length " << len;
    }
}

}  // namespace
