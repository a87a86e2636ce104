// Writes the image files the end-to-end tests of `mnist predict` and `mnist serve` read, all
// drawn from MNIST test digits (tests/unit/disturb.h): every format (PNG gray, RGB and RGBA,
// JPEG, GIF, BMP, PGM, PPM), both polarities, a huge and a tiny image, numbers of several
// digits, and broken files (a truncated PNG, a text file, a PNG whose header claims 10^10
// pixels). manifest.txt lists "FILE EXPECTED" per readable file: the label, or the number.
//   usage: make_test_images DATA_DIR OUT_DIR
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <stb_image_write.h>

#include "../unit/disturb.h"
#include "image_writers.h"
#include "io/crc32.h"
#include "io/idx.h"

using namespace mn;
using namespace mn::test;

namespace {

std::string out_dir;
std::ofstream manifest;

void write_bytes(const std::string& name, const std::vector<uint8_t>& bytes) {
    std::ofstream f(out_dir + "/" + name, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

void save(const std::string& name, const TestImage& img, const std::string& expected) {
    const std::string path = out_dir + "/" + name;
    const std::string ext = name.substr(name.rfind('.') + 1);
    bool ok = true;
    if (ext == "png") ok = stbi_write_png(path.c_str(), img.w, img.h, img.channels, img.px.data(), img.w * img.channels);
    else if (ext == "jpg") ok = stbi_write_jpg(path.c_str(), img.w, img.h, img.channels, img.px.data(), 95);
    else if (ext == "bmp") ok = stbi_write_bmp(path.c_str(), img.w, img.h, img.channels, img.px.data());
    else if (ext == "gif") write_bytes(name, gif_of(img));
    else write_bytes(name, pnm_of(img));  // pgm, ppm
    if (!ok) {
        std::fprintf(stderr, "cannot write %s\n", path.c_str());
        std::exit(1);
    }
    if (!expected.empty()) manifest << name << " " << expected << "\n";
}

// A digit drawn `scale` times its size at (x, y) on a w x h canvas.
Plane on_canvas(const uint8_t* digit, double scale, int w, int h, int x, int y) {
    Plane c(w, h);
    paste(c, transform(digit_plane(digit), scale), x, y);
    return c;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: make_test_images DATA_DIR OUT_DIR\n");
        return 2;
    }
    const IdxImages images = read_idx_images(std::string(argv[1]) + "/t10k-images-idx3-ubyte");
    const IdxLabels labels = read_idx_labels(std::string(argv[1]) + "/t10k-labels-idx1-ubyte");
    out_dir = argv[2];
    manifest.open(out_dir + "/manifest.txt");
    std::mt19937 rng(3);
    auto label = [&](int i) { return std::to_string(labels.labels[size_t(i)]); };
    const Look light_on_dark, dark_on_light{true};
    Look colour = dark_on_light;
    colour.rgb = true;

    save("mnist-0.png", render(digit_plane(images.image(0)), light_on_dark, rng), label(0));
    save("canvas-1.png", render(on_canvas(images.image(1), 4, 300, 200, 150, 40), colour, rng), label(1));
    {  // black strokes on transparent pixels, as a browser canvas exports them
        const Plane ink = on_canvas(images.image(2), 6, 200, 200, 10, 20);
        TestImage rgba;
        rgba.w = ink.w;
        rgba.h = ink.h;
        rgba.channels = 4;
        for (float v : ink.v) rgba.px.insert(rgba.px.end(), {0, 0, 0, uint8_t(std::lround(255 * v))});
        save("transparent-2.png", rgba, label(2));
    }
    save("photo-3.jpg", render(on_canvas(images.image(3), 5, 320, 240, 100, 60), colour, rng), label(3));
    save("screen-4.bmp", render(on_canvas(images.image(4), 3, 120, 100, 10, 5), light_on_dark, rng), label(4));
    save("scan-5.gif", render(on_canvas(images.image(5), 2, 90, 70, 20, 10), dark_on_light, rng), label(5));
    save("gray-6.pgm", render(transform(digit_plane(images.image(6)), 5), dark_on_light, rng), label(6));
    Look rgb_light = light_on_dark;
    rgb_light.rgb = true;
    save("colour-7.ppm", render(transform(digit_plane(images.image(7)), 2), rgb_light, rng), label(7));
    save("tiny-8.png", render(transform(digit_plane(images.image(8)), 0.5), light_on_dark, rng), "");
    save("huge-9.png", render(on_canvas(images.image(9), 60, 4000, 3000, 1500, 900), dark_on_light, rng), label(9));
    // Numbers: digits with clear gaps, so that every digit is for the reading to get right.
    const std::vector<std::vector<int>> numbers = {{1, 2, 3}, {11, 12, 13, 14}, {20, 21}, {30, 31, 32, 33, 34}, {40, 41, 42}};
    for (size_t k = 0; k < numbers.size(); ++k) {
        std::vector<const uint8_t*> digits;
        std::string truth;
        for (int i : numbers[k]) {
            digits.push_back(images.image(i));
            truth += label(i);
        }
        // Pasted side by side at 3x, a fifth of a digit apart.
        Plane canvas(int(digits.size()) * 84 + 40, 130);
        for (size_t j = 0; j < digits.size(); ++j)
            paste(canvas, transform(digit_plane(digits[j]), 3), 20 + int(j) * 84, 22);
        save("number-" + std::to_string(k) + ".png", render(canvas, k % 2 ? dark_on_light : light_on_dark, rng), truth);
    }

    // Broken files.
    std::ifstream in(out_dir + "/canvas-1.png", std::ios::binary);
    std::vector<uint8_t> png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    png.resize(png.size() / 2);
    write_bytes("truncated.png", png);
    const std::string text = "this is not an image\n";
    write_bytes("not-an-image.png", std::vector<uint8_t>(text.begin(), text.end()));
    {  // signature, then an IHDR chunk (with its right CRC) for 100000 x 100000 gray pixels
        std::vector<uint8_t> h = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13};
        const std::vector<uint8_t> ihdr = {'I', 'H', 'D', 'R', 0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 0, 0, 0, 0};
        h.insert(h.end(), ihdr.begin(), ihdr.end());
        const uint32_t crc = crc32(ihdr.data(), ihdr.size());
        h.insert(h.end(), {uint8_t(crc >> 24), uint8_t(crc >> 16), uint8_t(crc >> 8), uint8_t(crc)});
        write_bytes("hostile-size.png", h);
    }
    return 0;
}
