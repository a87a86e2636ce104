#include "image/ink.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "engine/error.h"
#include "engine/limits.h"
#include "image/components.h"

namespace mn {

bool over_pixel_limit(int64_t width, int64_t height) {
    return width > 0 && height > int64_t(limits::kImagePixels) / width;
}

std::string pixel_limit_message(int64_t width, int64_t height) {
    return "image of " + std::to_string(width) + "x" + std::to_string(height) + " pixels is over the limit of " +
           std::to_string(limits::kImagePixels / 1000000) + " megapixels";
}

void check_image(const ImageView& img) {
    check(img.pixels != nullptr, "no pixels");
    check(img.width >= 1 && img.height >= 1, "an image must be at least 1x1 pixels");
    check(img.channels >= 1 && img.channels <= 4, "an image has 1 to 4 channels, not " + std::to_string(img.channels));
    check(!over_pixel_limit(img.width, img.height), pixel_limit_message(img.width, img.height));
}

namespace {

float luma(const uint8_t* p, int channels) {
    if (channels >= 3) return (0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]) * (1.0f / 255.0f);
    return p[0] * (1.0f / 255.0f);
}

// The value at quantile q of v (a copy is partly sorted).
float quantile(std::vector<float> v, double q) {
    if (v.empty()) return 0.0f;
    const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * double(v.size() - 1) + 0.5));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

// The background surface b(x, y) = c0 + c1 x + c2 y + c3 x^2 + c4 xy + c5 y^2, with x and y
// scaled to [-1, 1].
struct Surface {
    std::array<double, 6> c{};
    static std::array<double, 6> basis(double x, double y) { return {1, x, y, x * x, x * y, y * y}; }
    static double coordinate(int i, int n) { return n > 1 ? 2.0 * i / (n - 1) - 1.0 : 0.0; }  // to [-1, 1]
    double at(int px, int py, int w, int h) const {
        const auto b = basis(coordinate(px, w), coordinate(py, h));
        double s = 0;
        for (size_t i = 0; i < 6; ++i) s += c[i] * b[i];
        return s;
    }
};

// The pixels the background is fitted to and thresholded on while it is: a grid of about
// 4096 (all of them in images that small).
struct Samples {
    std::vector<int> x, y;
    std::vector<float> lum;
};

Samples sample_grid(const Plane& p) {
    Samples s;
    const int step = std::max(1, int(std::sqrt(double(p.size()) / 4096.0)));
    for (int y = step / 2; y < p.h; y += step)
        for (int x = step / 2; x < p.w; x += step) {
            s.x.push_back(x);
            s.y.push_back(y);
            s.lum.push_back(p.at(x, y));
        }
    return s;
}

// Least-squares fit of the surface to the samples where `use` is set. Falls back to their
// mean when the normal equations are singular (too few distinct points).
Surface fit_surface(const Samples& smp, const std::vector<uint8_t>& use, int w, int h) {
    Surface s;
    double a[6][7] = {};
    double sum = 0;
    int64_t n = 0;
    for (size_t k = 0; k < smp.lum.size(); ++k) {
        if (!use[k]) continue;
        const auto b = Surface::basis(Surface::coordinate(smp.x[k], w), Surface::coordinate(smp.y[k], h));
        const double v = smp.lum[k];
        for (int i = 0; i < 6; ++i) {
            for (int j = 0; j < 6; ++j) a[i][j] += b[size_t(i)] * b[size_t(j)];
            a[i][6] += b[size_t(i)] * v;
        }
        sum += v;
        ++n;
    }
    if (n == 0) return s;
    // Gaussian elimination with partial pivoting on the 6 x 6 normal equations.
    bool singular = n < 24;
    for (int col = 0; col < 6 && !singular; ++col) {
        int piv = col;
        for (int r = col + 1; r < 6; ++r)
            if (std::fabs(a[r][col]) > std::fabs(a[piv][col])) piv = r;
        if (std::fabs(a[piv][col]) < 1e-9 * double(n)) {
            singular = true;
            break;
        }
        for (int k = 0; k < 7; ++k) std::swap(a[col][k], a[piv][k]);
        for (int r = 0; r < 6; ++r) {
            if (r == col) continue;
            const double f = a[r][col] / a[col][col];
            for (int k = col; k < 7; ++k) a[r][k] -= f * a[col][k];
        }
    }
    if (singular) {
        s.c = {sum / double(n), 0, 0, 0, 0, 0};
    } else {
        for (int i = 0; i < 6; ++i) s.c[size_t(i)] = a[i][6] / a[i][i];
    }
    return s;
}

// Ink signal of a pixel of luminance l over background b: larger = more ink.
inline float signal(float l, float b, bool dark_ink) { return dark_ink ? 1.0f - l / std::max(b, 0.02f) : l - b; }

// The signal of every pixel. Along a row the surface is A + B x + c3 x^2 (A, B fixed by y):
// the row's background is filled in first, then one plain loop the compiler vectorises.
Plane ink_signal(const Plane& lum, const Surface& bg, bool dark_ink) {
    Plane s(lum.w, lum.h);
    const auto& c = bg.c;
    std::vector<float> back(size_t(lum.w));
    for (int py = 0; py < lum.h; ++py) {
        const double y = Surface::coordinate(py, lum.h);
        const double a = c[0] + c[2] * y + c[5] * y * y, b = c[1] + c[4] * y;
        for (int px = 0; px < lum.w; ++px) {
            const double x = Surface::coordinate(px, lum.w);
            back[size_t(px)] = static_cast<float>(a + (b + c[3] * x) * x);
        }
        const float* l = lum.v.data() + size_t(py) * size_t(lum.w);
        float* out = s.v.data() + size_t(py) * size_t(lum.w);
        for (int px = 0; px < lum.w; ++px) out[px] = signal(l[px], back[size_t(px)], dark_ink);
    }
    return s;
}

}  // namespace

Plane luminance(const ImageView& img) {
    check_image(img);
    const int64_t n = int64_t(img.width) * img.height;
    const int f = n <= kWorkPixels ? 1 : int(std::ceil(std::sqrt(double(n) / double(kWorkPixels))));
    const int ch = img.channels;
    const bool alpha = ch == 2 || ch == 4;
    // With transparency, composite over white when what is opaque is dark, else over black:
    // a canvas of black strokes on transparent pixels is black on white.
    float under = 0.0f;
    if (alpha) {
        double lum_sum = 0, alpha_sum = 0;
        bool any_transparent = false;
        for (int64_t i = 0; i < n; ++i) {
            const uint8_t* p = img.pixels + i * ch;
            const float a = p[ch - 1] * (1.0f / 255.0f);
            any_transparent |= p[ch - 1] < 255;
            lum_sum += a * luma(p, ch);
            alpha_sum += a;
        }
        under = any_transparent && alpha_sum > 0 && lum_sum / alpha_sum < 0.5 ? 1.0f : 0.0f;
    }
    Plane out((img.width + f - 1) / f, (img.height + f - 1) / f);
    std::vector<float> count(out.size(), 0.0f);
    for (int y = 0; y < img.height; ++y) {
        const uint8_t* row = img.pixels + size_t(y) * size_t(img.width) * size_t(ch);
        float* orow = out.v.data() + size_t(y / f) * size_t(out.w);
        float* crow = count.data() + size_t(y / f) * size_t(out.w);
        for (int x = 0; x < img.width; ++x) {
            const uint8_t* p = row + size_t(x) * size_t(ch);
            float l = luma(p, ch);
            if (alpha) {
                const float a = p[ch - 1] * (1.0f / 255.0f);
                l = a * l + (1.0f - a) * under;
            }
            orow[x / f] += l;
            crow[x / f] += 1.0f;
        }
    }
    for (size_t i = 0; i < out.size(); ++i) out.v[i] /= count[i];
    return out;
}

float otsu_threshold(const std::vector<float>& v) {
    if (v.empty()) return 0.0f;
    const auto [lo_it, hi_it] = std::minmax_element(v.begin(), v.end());
    const float lo = *lo_it, hi = *hi_it;
    if (hi - lo < 1e-6f) return hi;
    constexpr int kBins = 256;
    std::array<uint32_t, kBins> hist{};
    const float scale = (kBins - 1) / (hi - lo);
    for (float x : v) ++hist[size_t((x - lo) * scale)];
    double total = double(v.size()), sum_all = 0;
    for (int i = 0; i < kBins; ++i) sum_all += double(i) * hist[size_t(i)];
    double w0 = 0, sum0 = 0, best = -1;
    int best_i = 0;
    for (int i = 0; i < kBins - 1; ++i) {
        w0 += hist[size_t(i)];
        sum0 += double(i) * hist[size_t(i)];
        const double w1 = total - w0;
        if (w0 == 0 || w1 == 0) continue;
        const double m0 = sum0 / w0, m1 = (sum_all - sum0) / w1;
        const double between = w0 * w1 * (m0 - m1) * (m0 - m1);
        if (between > best) {
            best = between;
            best_i = i;
        }
    }
    // Pixels in bins <= best_i form the lower class: the threshold is the top of that bin.
    return lo + float(best_i + 1) / scale;
}

InkMap extract_ink(const ImageView& img) { return extract_ink(luminance(img)); }

InkMap extract_ink(const Plane& lum) {
    InkMap out;
    out.ink = Plane(lum.w, lum.h);
    const size_t n = lum.size();

    // Polarity: the border is background; ink is the side of its median with the heavier tail.
    const int ring = std::max(1, std::min(lum.w, lum.h) / 50);
    std::vector<float> border;
    for (int y = 0; y < lum.h; ++y)
        for (int x = 0; x < lum.w; ++x)
            if (x < ring || y < ring || x >= lum.w - ring || y >= lum.h - ring) border.push_back(lum.at(x, y));
    const float border_median = quantile(border, 0.5);
    double above = 0, below = 0;
    for (float l : lum.v) {
        const double d = double(l) - border_median;
        (d > 0 ? above : below) += d * d;
    }
    out.dark_ink = below > above;

    // Background: fitted to every sample, then to those the threshold calls background, twice
    // more; then the signal and its threshold over the whole image.
    const Samples smp = sample_grid(lum);
    std::vector<uint8_t> background(smp.lum.size(), 1);
    std::vector<float> smp_signal(smp.lum.size());
    Surface surface;
    for (int round = 0; round < 3; ++round) {
        surface = fit_surface(smp, background, lum.w, lum.h);
        for (size_t k = 0; k < smp.lum.size(); ++k)
            smp_signal[k] = signal(smp.lum[k], float(surface.at(smp.x[k], smp.y[k], lum.w, lum.h)), out.dark_ink);
        const float ts = otsu_threshold(smp_signal);
        size_t bg_count = 0;
        for (size_t k = 0; k < smp.lum.size(); ++k) bg_count += background[k] = smp_signal[k] <= ts;
        if (bg_count == 0) std::fill(background.begin(), background.end(), 1);
    }
    const Plane s = ink_signal(lum, surface, out.dark_ink);
    const float t = otsu_threshold(s.v);

    // Noise floor of the background (from the samples), and the ink's typical strength.
    std::vector<float> bg_values, ink_values;
    for (float v : smp_signal)
        if (v <= t) bg_values.push_back(v);
    for (float v : s.v)
        if (v > t) ink_values.push_back(v);
    if (ink_values.empty()) return out;
    const float bg_median = quantile(bg_values, 0.5);
    std::vector<float> dev(bg_values.size());
    for (size_t i = 0; i < bg_values.size(); ++i) dev[i] = std::fabs(bg_values[i] - bg_median);
    const float sigma = 1.4826f * quantile(dev, 0.5);
    const float t_low = std::min(t, bg_median + 3.0f * sigma + 0.02f);
    const float level = quantile(ink_values, 0.5);
    // An image with no real contrast (blank, or noise alone) has no ink.
    if (level - bg_median < 0.08f) return out;

    // Hysteresis: regions above t_low that hold enough pixels above t.
    Plane weak(lum.w, lum.h);
    for (size_t i = 0; i < n; ++i) weak.v[i] = s.v[i] > t_low ? s.v[i] : 0.0f;
    const Components comps = label_components(weak, t);
    int64_t most = 0;
    for (const Component& c : comps.list) most = std::max(most, c.strong);
    const int64_t needed = std::max<int64_t>(1, (most + 19) / 20);
    const float span = std::max(level - t_low, 1e-3f);
    for (size_t i = 0; i < n; ++i) {
        const int32_t id = comps.label[i];
        if (id < 0 || comps.list[size_t(id)].strong < needed) continue;
        out.ink.v[i] = std::clamp((s.v[i] - t_low) / span, 0.0f, 1.0f);
        out.ink_pixels += out.ink.v[i] > 0.0f;
    }
    return out;
}

}  // namespace mn
