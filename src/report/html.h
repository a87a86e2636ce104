#pragma once
// The reports' HTML: one self-contained page (its style inline, pictures inline SVG or data:
// URLs; nothing to fetch, no scripts), tables of settings, and digits drawn as small PNGs.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mn::report {

// <!DOCTYPE html> ... with `title` as <title> and <h1>, then `body` (HTML).
std::string html_page(const std::string& title, const std::string& body);

// A two-column table of names and values (both escaped).
std::string key_value_table(const std::vector<std::pair<std::string, std::string>>& rows, const std::string& id);

// A 28x28 digit (any size) as a <figure> with `attrs` (class, data-*), the image drawn dark on
// light at 2x, and `caption` (HTML) under it.
std::string digit_figure(const uint8_t* pixels, int64_t rows, int64_t cols, const std::string& attrs,
                         const std::string& caption);

}  // namespace mn::report
