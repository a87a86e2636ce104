#include "report/markup.h"

#include <cstdarg>
#include <cstdio>

#include "io/png.h"

namespace mn::report {

std::string escape_xml(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string strf(const char* format, ...) {
    va_list args;
    va_start(args, format);
    va_list again;
    va_copy(again, args);
    const int n = std::vsnprintf(nullptr, 0, format, args);
    va_end(args);
    std::string out(static_cast<size_t>(n > 0 ? n : 0), '\0');
    std::vsnprintf(out.data(), out.size() + 1, format, again);
    va_end(again);
    return out;
}

std::string base64(const std::vector<uint8_t>& bytes) {
    static constexpr char kDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (size_t i = 0; i < bytes.size(); i += 3) {
        // Three bytes (zeros past the end) are four 6-bit digits; '=' stands for the missing.
        const size_t n = std::min<size_t>(3, bytes.size() - i);
        const uint32_t v = uint32_t(bytes[i]) << 16 | uint32_t(n > 1 ? bytes[i + 1] : 0) << 8 | (n > 2 ? bytes[i + 2] : 0);
        for (size_t k = 0; k < 4; ++k) out += k <= n ? kDigits[(v >> (18 - 6 * k)) & 63] : '=';
    }
    return out;
}

std::string png_data_url(const uint8_t* pixels, int64_t width, int64_t height) {
    return "data:image/png;base64," + base64(png_encode_gray(pixels, width, height));
}

}  // namespace mn::report
