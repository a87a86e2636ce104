#include "image/mnist_input.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace mn {

Box ink_box(const Plane& ink) {
    Box b{ink.w, ink.h, 0, 0};
    for (int y = 0; y < ink.h; ++y)
        for (int x = 0; x < ink.w; ++x)
            if (ink.at(x, y) > 0.0f) {
                b.x0 = std::min(b.x0, x);
                b.x1 = std::max(b.x1, x + 1);
                b.y0 = std::min(b.y0, y);
                b.y1 = std::max(b.y1, y + 1);
            }
    return b.empty() ? Box{} : b;
}

namespace {

// For each of the m output pixels along one axis, the input pixels [first, first + weights)
// it covers and their weights (overlap / footprint, summing to 1).
struct Taps {
    std::vector<int> first;
    std::vector<std::vector<float>> weights;
};

Taps area_taps(int n, int m) {
    Taps t;
    const double step = double(n) / double(m);  // input pixels per output pixel
    for (int j = 0; j < m; ++j) {
        const double a = j * step, b = (j + 1) * step;
        const int i0 = int(std::floor(a)), i1 = std::min(n, int(std::ceil(b)));
        std::vector<float> w;
        for (int i = i0; i < i1; ++i)
            w.push_back(float((std::min(b, double(i + 1)) - std::max(a, double(i))) / step));
        t.first.push_back(i0);
        t.weights.push_back(std::move(w));
    }
    return t;
}

}  // namespace

Plane resample_area(const Plane& src, int w, int h) {
    const Taps tx = area_taps(src.w, w), ty = area_taps(src.h, h);
    Plane rows(w, src.h);  // horizontal pass: [w, src.h]
    for (int y = 0; y < src.h; ++y)
        for (int x = 0; x < w; ++x) {
            float s = 0;
            const auto& wt = tx.weights[size_t(x)];
            for (size_t k = 0; k < wt.size(); ++k) s += wt[k] * src.at(tx.first[size_t(x)] + int(k), y);
            rows.at(x, y) = s;
        }
    Plane out(w, h);  // vertical pass: [w, h]
    for (int y = 0; y < h; ++y) {
        const auto& wt = ty.weights[size_t(y)];
        for (int x = 0; x < w; ++x) {
            float s = 0;
            for (size_t k = 0; k < wt.size(); ++k) s += wt[k] * rows.at(x, ty.first[size_t(y)] + int(k));
            out.at(x, y) = s;
        }
    }
    return out;
}

void centre_of_mass(const Plane& p, double& cx, double& cy) {
    double m = 0, sx = 0, sy = 0;
    for (int y = 0; y < p.h; ++y)
        for (int x = 0; x < p.w; ++x) {
            const double v = p.at(x, y);
            m += v;
            sx += v * (x + 0.5);
            sy += v * (y + 0.5);
        }
    cx = m > 0 ? sx / m : p.w / 2.0;
    cy = m > 0 ? sy / m : p.h / 2.0;
}

MnistPixels mnist_input(const Plane& ink, Box box) {
    MnistPixels out{};
    if (box.empty()) return out;
    Plane crop(box.width(), box.height());
    for (int y = 0; y < crop.h; ++y)
        for (int x = 0; x < crop.w; ++x) crop.at(x, y) = ink.at(box.x0 + x, box.y0 + y);
    // Longer side to 20 pixels; the shorter one in proportion (at least 1).
    const double scale = double(kMnistFit) / double(std::max(crop.w, crop.h));
    const int w = std::clamp(int(std::lround(crop.w * scale)), 1, kMnistFit);
    const int h = std::clamp(int(std::lround(crop.h * scale)), 1, kMnistFit);
    const Plane fit = resample_area(crop, w, h);
    double cx, cy;
    centre_of_mass(fit, cx, cy);
    // Whole-pixel shift that puts the centre of mass nearest (14, 14), the digit kept inside.
    const int ox = std::clamp(int(std::lround(kMnistSide / 2.0 - cx)), 0, kMnistSide - w);
    const int oy = std::clamp(int(std::lround(kMnistSide / 2.0 - cy)), 0, kMnistSide - h);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            out[size_t((oy + y) * kMnistSide + ox + x)] =
                static_cast<uint8_t>(std::lround(255.0f * std::clamp(fit.at(x, y), 0.0f, 1.0f)));
    return out;
}

MnistPixels mnist_input(const Plane& ink) { return mnist_input(ink, ink_box(ink)); }

MnistPixels mnist_input(const ImageView& img) { return mnist_input(extract_ink(img).ink); }

}  // namespace mn
