#include "report/html.h"

#include <vector>

#include "report/markup.h"

namespace mn::report {

namespace {

constexpr const char* kStyle = R"(
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; } td.name, th.name { text-align: left; }
.gallery { display: flex; flex-wrap: wrap; gap: 0.6em; }
figure { margin: 0; padding: 0.3em; border: 1px solid #ddd; text-align: center; font-size: 0.8em; width: 7.5em; }
figure img { image-rendering: pixelated; display: block; margin: 0 auto 0.2em; }
.note { color: #666; font-size: 0.9em; }
)";

}  // namespace

std::string html_page(const std::string& title, const std::string& body) {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + escape_xml(title) +
           "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<h1>" + escape_xml(title) + "</h1>\n" + body +
           "</body>\n</html>\n";
}

std::string key_value_table(const std::vector<std::pair<std::string, std::string>>& rows, const std::string& id) {
    std::string out = "<table id=\"" + escape_xml(id) + "\">\n";
    for (const auto& [k, v] : rows) out += "<tr><th class=\"name\">" + escape_xml(k) + "</th><td class=\"name\">" + escape_xml(v) + "</td></tr>\n";
    return out + "</table>\n";
}

std::string digit_figure(const uint8_t* pixels, int64_t rows, int64_t cols, const std::string& attrs,
                         const std::string& caption) {
    // MNIST stores ink as 255: inverted, it is dark on the page's white.
    std::vector<uint8_t> inverted(static_cast<size_t>(rows * cols));
    for (size_t i = 0; i < inverted.size(); ++i) inverted[i] = static_cast<uint8_t>(255 - pixels[i]);
    return "<figure " + attrs + "><img src=\"" + png_data_url(inverted.data(), cols, rows) +
           strf("\" width=\"%lld\" height=\"%lld\" alt=\"digit\"><figcaption>", static_cast<long long>(2 * cols),
                static_cast<long long>(2 * rows)) +
           caption + "</figcaption></figure>\n";
}

}  // namespace mn::report
