#include "frontend/image_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <stb_image.h>
#include <stb_image_write.h>

#include "io/mapped_file.h"
#include "session/status.h"

namespace mn {

std::string image_format(const uint8_t* d, size_t n) {
    auto starts = [&](const char* magic, size_t len) { return n >= len && std::memcmp(d, magic, len) == 0; };
    if (starts("\x89PNG\r\n\x1a\n", 8)) return "png";
    if (starts("\xff\xd8\xff", 3)) return "jpeg";
    if (starts("GIF87a", 6) || starts("GIF89a", 6)) return "gif";
    if (starts("BM", 2)) return "bmp";
    if (starts("P5", 2)) return "pgm";
    if (starts("P6", 2)) return "ppm";
    return "";
}

DecodedImage decode_image(const uint8_t* data, size_t size) {
    DecodedImage img;
    img.format = image_format(data, size);
    if (img.format.empty())
        throw StatusError(Status::BadImage, "not an image: expected PNG, JPEG, GIF, BMP, PGM or PPM");
    if (size > size_t(INT32_MAX)) throw StatusError(Status::ImageTooLarge, "image file is over 2 GB");
    const int len = static_cast<int>(size);
    int w = 0, h = 0, ch = 0;
    if (!stbi_info_from_memory(data, len, &w, &h, &ch))
        throw StatusError(Status::BadImage, "cannot read the " + img.format + " header: " + stbi_failure_reason());
    if (over_pixel_limit(w, h)) throw StatusError(Status::ImageTooLarge, pixel_limit_message(w, h));
    uint8_t* px = stbi_load_from_memory(data, len, &w, &h, &ch, 0);
    if (!px) throw StatusError(Status::BadImage, "cannot decode the " + img.format + " image: " + stbi_failure_reason());
    img.pixels = std::shared_ptr<const uint8_t>(px, [](const uint8_t* p) { stbi_image_free(const_cast<uint8_t*>(p)); });
    img.width = w;
    img.height = h;
    img.channels = ch;
    return img;
}

std::vector<uint8_t> read_input(const std::string& path, size_t limit) {
    if (path != "-") {
        const MappedFile file = with_status(Status::CannotRead, [&] { return MappedFile(path); });
        if (file.size() > limit)
            throw StatusError(Status::CannotRead, "file is over the limit of " + std::to_string(limit >> 20) + " MB");
        return std::vector<uint8_t>(file.data(), file.data() + file.size());
    }
    std::vector<uint8_t> bytes;
    uint8_t buf[65536];
    for (;;) {
        const size_t n = std::fread(buf, 1, sizeof buf, stdin);
        bytes.insert(bytes.end(), buf, buf + n);
        if (bytes.size() > limit)
            throw StatusError(Status::CannotRead, "input is over the limit of " + std::to_string(limit >> 20) + " MB");
        if (n < sizeof buf) {
            if (std::ferror(stdin)) throw StatusError(Status::CannotRead, std::string("cannot read: ") + std::strerror(errno));
            return bytes;
        }
    }
}

std::vector<uint8_t> encode_png(const uint8_t* pixels, int width, int height, int channels) {
    std::vector<uint8_t> out;
    auto sink = [](void* ctx, void* data, int n) {
        auto* v = static_cast<std::vector<uint8_t>*>(ctx);
        v->insert(v->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + n);
    };
    if (!stbi_write_png_to_func(sink, &out, width, height, channels, pixels, width * channels))
        throw StatusError(Status::Internal, "cannot encode PNG");
    return out;
}

}  // namespace mn
