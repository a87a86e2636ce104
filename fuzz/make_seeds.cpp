// Writes the seed corpus of the fuzz targets that read our own formats, with our own writers:
// tiny models (GGUF, legacy .bin; the raw tensors for a state_dict), IDX files, images of
// MNIST test digits in every format, planes of numbers, and request bodies for `mnist serve`.
// fuzz/make_seeds.py runs it and adds what Python writes (gzip, zlib, zip and pickle seeds).
//   usage: make_seeds DATA_DIR OUT_DIR   (MNIST test digits from DATA_DIR; drawn ones if absent)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <stb_image_write.h>

#include "../tests/tools/image_writers.h"
#include "../tests/unit/disturb.h"
#include "io/gguf.h"
#include "io/idx.h"
#include "io/legacy_ggml.h"
#include "models/model.h"
#include "models/model_io.h"

using namespace mn;
using namespace mn::test;
using Bytes = std::vector<uint8_t>;
namespace fs = std::filesystem;

namespace {

std::string out_dir;

void write(const std::string& target, const std::string& name, const Bytes& bytes, int prefix = -1) {
    fs::create_directories(out_dir + "/" + target);
    std::ofstream f(out_dir + "/" + target + "/" + name, std::ios::binary);
    if (prefix >= 0) f.put(char(prefix));
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

Bytes read(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

// Ten digits 0..9: the first of each in the test set, or drawn (a ring, a bar, ...) without it.
std::vector<Bytes> digits(const std::string& data_dir) {
    std::vector<Bytes> out(10);
    const std::string images = data_dir + "/t10k-images-idx3-ubyte", labels = data_dir + "/t10k-labels-idx1-ubyte";
    if (fs::exists(images) && fs::exists(labels)) {
        const IdxImages im = read_idx_images(images);
        const IdxLabels lb = read_idx_labels(labels);
        for (int64_t i = 0; i < im.count; ++i) {
            Bytes& d = out[lb.labels[size_t(i)]];
            if (d.empty()) d.assign(im.image(i), im.image(i) + 784);
        }
        return out;
    }
    for (int k = 0; k < 10; ++k) {
        Bytes d(784, 0);
        for (int y = 4; y < 24; ++y)
            for (int x = 6; x < 22; ++x) {
                const double dx = (x - 14) / 7.0, dy = (y - 14) / 10.0, r = std::sqrt(dx * dx + dy * dy);
                const bool ring = std::fabs(r - 0.8) < 0.2, bar = std::abs(x - 14) < 2;
                if (k == 0 ? ring : k == 1 ? bar : (ring && (x + k) % 3 != 0) || (bar && y > 14)) d[size_t(y * 28 + x)] = 255;
            }
        out[size_t(k)] = d;
    }
    return out;
}

// What one of stb_image_write's *_to_func writers writes, as bytes.
template <typename F>
Bytes encoded(F&& write_fn) {
    Bytes out;
    write_fn([](void* ctx, void* data, int n) {
        auto* v = static_cast<Bytes*>(ctx);
        v->insert(v->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + n);
    }, &out);
    return out;
}

Bytes png(const TestImage& img) {
    return encoded([&](auto fn, void* ctx) {
        stbi_write_png_to_func(fn, ctx, img.w, img.h, img.channels, img.px.data(), img.w * img.channels);
    });
}

TestImage gray(const Bytes& digit) {
    TestImage img;
    img.w = img.h = 28;
    img.px = digit;
    return img;
}

// Digits side by side on one row (x advancing by `step`, overlapping when step < 28).
Plane row_of(const std::vector<const Bytes*>& ds, int step) {
    Plane p(step * int(ds.size() - 1) + 28, 28);
    for (size_t i = 0; i < ds.size(); ++i) paste(p, digit_plane(ds[i]->data()), int(i) * step, 0);
    return p;
}

Bytes plane_bytes(const Plane& p) {  // the digit_split target's input
    Bytes b = {uint8_t(p.w - 1), uint8_t(p.h - 1)};
    for (float v : p.v) b.push_back(uint8_t(std::lround(255 * std::clamp(v, 0.0f, 1.0f))));
    return b;
}

void models(const std::string& dir) {
    // mnist-fc with 2 hidden units and a CNN of two 1-channel layers: kilobytes, not megabytes.
    const Model fc = create_model("mnist-fc", {{"mnist-fc.n_hidden", gguf::Value::u32(2)}}, 1);
    const Model cnn = create_model(
        "mnist-cnn",
        {{"mnist-cnn.channels", gguf::Value::array(std::vector<int32_t>{1, 1})}, {"mnist-cnn.dropout", gguf::Value::f32(0)}},
        1);
    save_model_gguf(fc, dir + "/fc.gguf");
    save_model_gguf(cnn, dir + "/cnn.gguf");
    save_model_legacy(fc, dir + "/fc.bin");
    for (const char* target : {"c_api", "gguf"}) {
        write(target, "fc.gguf", read(dir + "/fc.gguf"));
        write(target, "cnn.gguf", read(dir + "/cnn.gguf"));
    }
    write("c_api", "fc.bin", read(dir + "/fc.bin"));
    write("legacy_ggml", "fc.bin", read(dir + "/fc.bin"));
    // The FC tensors as raw float32, for make_seeds.py's state_dict (PyTorch shapes: out, in).
    for (const Tensor* t : fc.params)
        write("_raw", t->name + std::string(".f32"), Bytes(static_cast<const uint8_t*>(t->data),
                                                          static_cast<const uint8_t*>(t->data) + t->nbytes()));

    // Every kind of metadata value, tensors of three types, another alignment.
    gguf::Writer w;
    w.set("general.alignment", gguf::Value::u32(64));
    w.set("u8", gguf::Value::u8(7));
    w.set("i8", gguf::Value::i8(-7));
    w.set("u16", gguf::Value::u16(700));
    w.set("i16", gguf::Value::i16(-700));
    w.set("u32", gguf::Value::u32(70000));
    w.set("i32", gguf::Value::i32(-70000));
    w.set("u64", gguf::Value::u64(1ull << 40));
    w.set("i64", gguf::Value::i64(-(1ll << 40)));
    w.set("f32", gguf::Value::f32(0.5f));
    w.set("f64", gguf::Value::f64(-2.25));
    w.set("bool", gguf::Value::boolean(true));
    w.set("str", gguf::Value::str("hello\tworld"));
    w.set("arr.f32", gguf::Value::array(std::vector<float>{1, 2, 3}));
    w.set("arr.str", gguf::Value::array(std::vector<std::string>{"a", "", "ccc"}));
    w.set("arr.bool", gguf::Value::array(std::vector<bool>{true, false}));
    w.set("arr.nested", gguf::Value::array(gguf::ValueType::ARRAY, {gguf::Value::array(std::vector<int16_t>{1, -1}),
                                                                     gguf::Value::array(std::vector<int16_t>{})}));
    const float f32[6] = {1, 2, 3, 4, 5, 6};
    const uint16_t f16[4] = {0x3c00, 0x4000, 0xbc00, 0};
    std::vector<uint8_t> q8(34, 1);  // one q8_0 block: f16 scale, 32 int8
    const int64_t ne_f32[2] = {3, 2}, ne_f16[1] = {4}, ne_q8[1] = {32};
    w.add_tensor("t.f32", DType::F32, 2, ne_f32, f32);
    w.add_tensor("t.f16", DType::F16, 1, ne_f16, f16);
    w.add_tensor("t.q8_0", DType::Q8_0, 1, ne_q8, q8.data());
    write("gguf", "values.gguf", w.to_bytes());
    write("gguf", "empty.gguf", gguf::Writer().to_bytes());

    const LegacyTensor one{1, {3, 1, 1, 1}, {1.0f, -1.0f, 0.5f}};
    write_legacy_ggml(dir + "/one.bin", {one});
    write("legacy_ggml", "one.bin", read(dir + "/one.bin"));
}

void data_sets(const std::string& dir, const std::vector<Bytes>& ds) {
    IdxImages im;
    im.count = 3;
    im.rows = im.cols = 28;
    for (int k = 0; k < 3; ++k) im.pixels.insert(im.pixels.end(), ds[size_t(k)].begin(), ds[size_t(k)].end());
    IdxLabels lb{{0, 1, 2}};
    write_idx_images(dir + "/images.idx", im);
    write_idx_labels(dir + "/labels.idx", lb);
    write("idx", "images", read(dir + "/images.idx"), 0);
    write("idx", "labels", read(dir + "/labels.idx"), 1);
    write("_raw", "images.idx", read(dir + "/images.idx"));  // make_seeds.py gzips these
    write("_raw", "labels.idx", read(dir + "/labels.idx"));
}

void images(const std::vector<Bytes>& ds) {
    std::mt19937 rng(7);
    const TestImage g = gray(ds[3]);
    write("image", "digit.png", png(g));
    write("image", "digit.gif", gif_of(g));
    write("image", "digit.pgm", pnm_of(g));
    write("image", "digit.jpg", encoded([&](auto fn, void* ctx) { stbi_write_jpg_to_func(fn, ctx, 28, 28, 1, g.px.data(), 90); }));
    Look paper{true};
    paper.rgb = true;
    Plane canvas(48, 40);
    paste(canvas, digit_plane(ds[5].data()), 12, 6);
    const TestImage rgb = render(canvas, paper, rng);
    write("image", "canvas.png", png(rgb));
    write("image", "canvas.ppm", pnm_of(rgb));
    write("image", "canvas.bmp", encoded([&](auto fn, void* ctx) { stbi_write_bmp_to_func(fn, ctx, rgb.w, rgb.h, 3, rgb.px.data()); }));
    TestImage rgba;  // black strokes on transparent pixels, as a browser canvas exports them
    rgba.w = rgba.h = 28;
    rgba.channels = 4;
    for (uint8_t v : ds[7]) rgba.px.insert(rgba.px.end(), {0, 0, 0, v});
    write("image", "transparent.png", png(rgba));

    write("digit_split", "two", plane_bytes(row_of({&ds[1], &ds[2]}, 28)));
    write("digit_split", "three-touching", plane_bytes(row_of({&ds[4], &ds[0], &ds[9]}, 22)));
    write("digit_split", "one", plane_bytes(digit_plane(ds[8].data())));

    // Request bodies of `mnist serve` (the first byte picks the request: fuzz/fuzz_serve.cpp).
    write("serve", "raw", ds[6], 0);
    write("serve", "png", png(g), 1);
    const Plane number = row_of({&ds[2], &ds[0], &ds[2], &ds[6]}, 26);
    TestImage number_img = render(number, Look{}, rng);
    write("serve", "number", png(number_img), 2);
    std::string pixels, rows;
    for (size_t i = 0; i < 784; ++i) pixels += (i ? "," : "") + std::to_string(ds[6][i]);
    for (int r = 0; r < 28; ++r) {
        rows += r ? ",[" : "[";
        for (int c = 0; c < 28; ++c) rows += (c ? "," : "") + std::to_string(ds[1][size_t(r * 28 + c)]);
        rows += "]";
    }
    write("serve", "json", text("{\"pixels\":[" + pixels + "]}"), 3);
    write("serve", "json-rows", text("{\"pixels\":[" + rows + "]}"), 3);
    write("serve", "kserve", text("{\"id\":\"1\",\"inputs\":[{\"name\":\"pixels\",\"shape\":[2,784],\"datatype\":\"UINT8\","
                                  "\"data\":[" + pixels + "," + pixels + "]}]}"), 4);
    std::string unit;
    for (size_t i = 0; i < 784; ++i) unit += (i ? "," : "") + std::to_string(ds[0][i] / 255.0);
    write("serve", "kserve-fp32", text("{\"inputs\":[{\"name\":\"x\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":[" +
                                       unit + "]}]}"), 4);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: make_seeds DATA_DIR OUT_DIR\n");
        return 2;
    }
    out_dir = argv[2];
    const std::string scratch = out_dir + "/.scratch";
    fs::create_directories(scratch);
    const std::vector<Bytes> ds = digits(argv[1]);
    models(scratch);
    data_sets(scratch, ds);
    images(ds);
    fs::remove_all(scratch);
    return 0;
}
