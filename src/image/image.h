#pragma once
// Images as the preprocessing sees them: an 8-bit view of what a decoder or a canvas hands over
// (1 gray, 2 gray + alpha, 3 RGB or 4 RGBA channels, interleaved, rows top to bottom), and a
// float plane (one value per pixel) for everything computed from it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mn {

struct ImageView {
    const uint8_t* pixels = nullptr;  // height rows of width * channels bytes
    int width = 0, height = 0, channels = 1;
};

// Any decoded image is refused above limits::kImagePixels (before it is decoded, where the
// format says its size): 40 megapixels covers phone photos; memory for one stays about 200 MB.
// width * height > the limit, computed without overflow.
bool over_pixel_limit(int64_t width, int64_t height);
std::string pixel_limit_message(int64_t width, int64_t height);  // "image of WxH pixels is over ..."

// Throws Error unless the view is usable: sizes >= 1, channels 1..4, at most limits::kImagePixels.
void check_image(const ImageView& img);

// A w x h plane of floats, row-major: v[y * w + x].
struct Plane {
    int w = 0, h = 0;
    std::vector<float> v;

    Plane() = default;
    Plane(int width, int height, float fill = 0.0f)
        : w(width), h(height), v(static_cast<size_t>(width) * static_cast<size_t>(height), fill) {}
    float& at(int x, int y) { return v[static_cast<size_t>(y) * static_cast<size_t>(w) + static_cast<size_t>(x)]; }
    float at(int x, int y) const { return v[static_cast<size_t>(y) * static_cast<size_t>(w) + static_cast<size_t>(x)]; }
    size_t size() const { return v.size(); }
};

// The bounding box [x0, x1) x [y0, y1) of a set of pixels.
struct Box {
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    int width() const { return x1 - x0; }
    int height() const { return y1 - y0; }
    bool empty() const { return x1 <= x0 || y1 <= y0; }
};

}  // namespace mn
