#pragma once
// Image files for the front ends (the CLI and the server; the library itself takes pixels):
// PNG, JPEG, GIF (first frame), BMP, PGM and PPM (binary), decoded by stb_image (Debian's
// header, compiled into image_file.cpp with only these decoders). The
// format is told by the first bytes; the size is read from the header and checked against
// limits::kImagePixels before any pixel is decoded.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/limits.h"
#include "image/image.h"

namespace mn {

// "png", "jpeg", "gif", "bmp", "pgm", "ppm", or "" for anything else.
std::string image_format(const uint8_t* data, size_t size);

struct DecodedImage {
    std::string format;
    std::shared_ptr<const uint8_t> pixels;  // width * height * channels bytes
    int width = 0, height = 0, channels = 0;
    ImageView view() const { return {pixels.get(), width, height, channels}; }
};

// Throws StatusError: BadImage (not one of the formats, or corrupt), ImageTooLarge.
DecodedImage decode_image(const uint8_t* data, size_t size);

// The bytes of a file, or of standard input for "-" (at most `limit` bytes: CannotRead past it).
std::vector<uint8_t> read_input(const std::string& path, size_t limit = limits::kImageFileBytes);

// A gray or RGB(A) image as a PNG file in memory (stb_image_write).
std::vector<uint8_t> encode_png(const uint8_t* pixels, int width, int height, int channels);

}  // namespace mn
