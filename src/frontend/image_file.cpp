#include "frontend/image_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>

// stb_image is compiled here, from Debian's header (libstb-dev), rather than linked from its
// library: only the decoders of the formats we take, every function private to this file, its
// failure reason per thread, and built like our own code (with the sanitizers and the fuzzers'
// coverage in build-asan/, so fuzz/fuzz_image.cpp explores and checks the decoders too).
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_GIF
#define STBI_ONLY_BMP
#define STBI_ONLY_PNM
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wstringop-overflow"  // GCC 12's false positives in stbi__convert_format
#endif
#include <stb_image.h>
#pragma GCC diagnostic pop
#include <stb_image_write.h>

#include "engine/error.h"
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

namespace {

// stb_image's reason for a failure: for an unknown PNG chunk it quotes the chunk's four bytes as
// they are in the file (any byte, a newline included).
std::string reason_of_stb() {
    const char* reason = stbi_failure_reason();
    return printable(reason ? reason : "unknown error");
}

// Unsigned integers of a file's headers, big- and little-endian.
uint32_t be32(const uint8_t* d, size_t i) {
    return uint32_t(d[i]) << 24 | uint32_t(d[i + 1]) << 16 | uint32_t(d[i + 2]) << 8 | d[i + 3];
}
uint32_t le16(const uint8_t* d, size_t i) { return uint32_t(d[i]) | uint32_t(d[i + 1]) << 8; }
uint32_t le32(const uint8_t* d, size_t i) { return le16(d, i) | le16(d, i + 2) << 16; }

// Width and height from the fixed places PNG (IHDR), GIF (logical screen) and BMP (info
// header) keep them; false for other formats (stb_image's header reader answers for those,
// but folds its own size refusals into "unknown image type").
bool header_size(const std::string& format, const uint8_t* d, size_t n, int64_t& w, int64_t& h) {
    if (format == "png" && n >= 24) {
        w = be32(d, 16);
        h = be32(d, 20);
    } else if (format == "gif" && n >= 10) {
        w = le16(d, 6);
        h = le16(d, 8);
    } else if (format == "bmp" && n >= 26) {
        w = int32_t(le32(d, 18));
        h = std::abs(int64_t(int32_t(le32(d, 22))));  // negative: rows top to bottom
    } else {
        return false;
    }
    return true;
}

// stb_image 2.27 (Debian 12's) trusts two sizes in a file before it checks them against the
// file (found by fuzz/fuzz_serve and fuzz/fuzz_image): a PNG chunk's length, for which it
// allocates before it reads the chunk (an IDAT of 1 GB claimed in a 900-byte file), and the 16
// code counts of a JPEG Huffman table, whose sum it writes into a table of 256 symbols. The
// file's structure is walked here first, as stb_image would walk it.
void check_png_chunks(const uint8_t* d, size_t n) {
    for (size_t pos = 8; pos + 8 <= n;) {
        const uint64_t len = be32(d, pos);
        if (len > n - pos - 8)
            throw StatusError(Status::BadImage, "cannot decode the png image: a chunk of " + std::to_string(len) +
                                                    " bytes runs past the end of the file");
        if (std::memcmp(d + pos + 4, "IEND", 4) == 0) return;
        pos += 12 + len;  // length, type, data, CRC
    }
}

void check_jpeg_huffman_tables(const uint8_t* d, size_t n) {
    auto byte = [&](size_t i) -> unsigned { return i < n ? d[i] : 0; };  // stb_image reads 0 past the end
    for (size_t pos = 2; pos + 1 < n;) {
        const unsigned marker = d[pos + 1];
        // Between scans: coded data, stuffed zeros, fill bytes and restart markers carry no length.
        if (d[pos] != 0xff || marker == 0xff || marker == 0x00 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
            pos += d[pos] == 0xff && marker != 0xff ? 2 : 1;
            continue;
        }
        if (marker == 0xd8) {
            pos += 2;
            continue;
        }
        if (marker == 0xd9) return;  // end of image
        const size_t len = byte(pos + 2) << 8 | byte(pos + 3);  // with its own two bytes
        if (marker == 0xc4) {  // DHT: tables of (class and id, 16 counts, the symbols)
            for (size_t q = pos + 4; q < pos + 2 + len && q < n;) {
                unsigned codes = 0;
                for (size_t i = 1; i <= 16; ++i) codes += byte(q + i);
                if (codes > 256)
                    throw StatusError(Status::BadImage,
                                      "cannot decode the jpeg image: a Huffman table of " + std::to_string(codes) +
                                                    " codes (at most 256)");
                q += 17 + codes;
            }
        }
        pos += 2 + std::max<size_t>(len, 2);
    }
}

// The pixels of an uncompressed file must be in it: stb_image fills what is missing with zeros,
// so an 81-byte BMP or PGM could stand for 40 megapixels (found by fuzz_image).
void check_pixels_present(const std::string& format, size_t header, int64_t row_bytes, int64_t rows, size_t n) {
    const int64_t needed = row_bytes * rows;  // both under the pixel limit: no overflow
    if (header > n || int64_t(n - header) < needed)
        throw StatusError(Status::BadImage, "cannot decode the " + format + " image: its header gives " +
                                                std::to_string(needed) + " bytes of pixels, the file holds " +
                                                std::to_string(header > n ? 0 : n - header));
}

// PGM ("P5") and PPM ("P6") as stb_image reads them: three numbers (width, height, maximum
// value), each after white space and "#" comments, one white space, then the samples. stb_image
// reads each number into an int without a bound (10 digits overflow it): at most 9 here.
void check_pnm(const std::string& format, const uint8_t* d, size_t n) {
    size_t pos = 2;
    int64_t value[3];
    const char* what[3] = {"width", "height", "maximum value"};
    for (int i = 0; i < 3; ++i) {
        for (;;) {
            while (pos < n && (d[pos] == ' ' || (d[pos] >= '\t' && d[pos] <= '\r'))) ++pos;
            if (pos >= n || d[pos] != '#') break;
            while (pos < n && d[pos] != '\n' && d[pos] != '\r') ++pos;
        }
        size_t digits = 0;
        for (value[i] = 0; pos < n && d[pos] >= '0' && d[pos] <= '9'; ++pos, ++digits)
            if (digits < 9) value[i] = value[i] * 10 + (d[pos] - '0');
        if (digits > 9)
            throw StatusError(Status::BadImage, "cannot read the " + format + " header: its " + what[i] + " has " +
                                                    std::to_string(digits) + " digits");
    }
    const int64_t w = value[0], h = value[1];
    if (w < 1 || h < 1 || value[2] < 1 || value[2] > 65535) return;  // stb_image refuses these itself
    if (over_pixel_limit(w, h)) throw StatusError(Status::ImageTooLarge, pixel_limit_message(w, h));
    const int64_t sample_bytes = value[2] > 255 ? 2 : 1, channels = format == "ppm" ? 3 : 1;
    check_pixels_present(format, pos + 1, w * channels * sample_bytes, h, n);
}

// An uncompressed BMP (BI_RGB or BI_BITFIELDS) holds its rows, each padded to 4 bytes, from the
// offset its file header gives; the last row's padding may be missing.
void check_bmp(const uint8_t* d, size_t n) {
    if (n < 30) return;  // stb_image refuses it
    const uint32_t info = le32(d, 14);
    const bool core = info == 12;  // OS/2 1.x: 16-bit sizes, never compressed
    const int64_t w = core ? le16(d, 18) : int32_t(le32(d, 18));
    const int64_t h = std::abs(core ? int64_t(int16_t(le16(d, 20))) : int64_t(int32_t(le32(d, 22))));
    const int64_t bits = le16(d, core ? 24 : 28);
    const uint32_t compression = core || n < 34 ? 0 : le32(d, 30);
    if (w < 1 || h < 1 || bits < 1 || bits > 32 || (compression != 0 && compression != 3) || over_pixel_limit(w, h))
        return;  // stb_image refuses these (or the pixel limit does, before)
    const int64_t row = (w * bits + 7) / 8, padded = (w * bits + 31) / 32 * 4;
    check_pixels_present("bmp", le32(d, 10), 1, padded * (h - 1) + row, n);
}

}  // namespace

DecodedImage decode_image(const uint8_t* data, size_t size) {
    DecodedImage img;
    img.format = image_format(data, size);
    if (img.format.empty())
        throw StatusError(Status::BadImage, "not an image: expected PNG, JPEG, GIF, BMP, PGM or PPM");
    if (size > size_t(INT32_MAX)) throw StatusError(Status::ImageTooLarge, "image file is over 2 GB");
    const int len = static_cast<int>(size);
    int64_t hw = 0, hh = 0;
    if (header_size(img.format, data, size, hw, hh) && over_pixel_limit(hw, hh))
        throw StatusError(Status::ImageTooLarge, pixel_limit_message(hw, hh));
    if (img.format == "png") check_png_chunks(data, size);
    if (img.format == "jpeg") check_jpeg_huffman_tables(data, size);
    if (img.format == "pgm" || img.format == "ppm") check_pnm(img.format, data, size);
    if (img.format == "bmp") check_bmp(data, size);
    int w = 0, h = 0, ch = 0;
    if (!stbi_info_from_memory(data, len, &w, &h, &ch))
        throw StatusError(Status::BadImage, "cannot read the " + img.format + " header: " + reason_of_stb());
    if (over_pixel_limit(w, h)) throw StatusError(Status::ImageTooLarge, pixel_limit_message(w, h));
    // stb_image's PNM reader takes a header without digits as a 0x0 image (and then "decodes" it).
    if (w < 1 || h < 1 || ch < 1 || ch > 4)
        throw StatusError(Status::BadImage, "the " + img.format + " header gives a " + std::to_string(w) + "x" +
                                                std::to_string(h) + " image with " + std::to_string(ch) + " channels");
    uint8_t* px = stbi_load_from_memory(data, len, &w, &h, &ch, 0);
    if (!px)
        throw StatusError(Status::BadImage, "cannot decode the " + img.format + " image: " + reason_of_stb());
    img.pixels = std::shared_ptr<const uint8_t>(px, [](const uint8_t* p) { stbi_image_free(const_cast<uint8_t*>(p)); });
    if (w < 1 || h < 1 || ch < 1 || ch > 4) throw StatusError(Status::BadImage, "the " + img.format + " image decoded to no pixels");
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
