#pragma once
// What the HTML reports and SVG charts are written with: text escaped for XML (and so for
// HTML), numbers formatted printf-style, bytes as base64, a digit as a data: URL of a PNG.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mn::report {

std::string escape_xml(std::string_view text);  // & < > " '
std::string strf(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string base64(const std::vector<uint8_t>& bytes);  // RFC 4648, with padding
// "data:image/png;base64,..." of a grayscale image (io/png.h).
std::string png_data_url(const uint8_t* pixels, int64_t width, int64_t height);

}  // namespace mn::report
