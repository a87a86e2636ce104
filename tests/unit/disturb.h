#pragma once
// Test images made from MNIST test digits, disturbed the ways real pictures differ from MNIST:
// shifted, enlarged, thick strokes, inverted, small on a large canvas, noisy, unevenly lit,
// rotated, all at once (a "photo"), and numbers of several digits side by side. Each image is
// a pure function of the digit(s) and a seed. Nothing here comes from outside the test set.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "image/image.h"
#include "image/mnist_input.h"

namespace mn::test {

// An 8-bit image owning its pixels.
struct TestImage {
    int w = 0, h = 0, channels = 1;
    std::vector<uint8_t> px;
    ImageView view() const { return {px.data(), w, h, channels}; }
};

inline Plane digit_plane(const uint8_t* px) {
    Plane p(28, 28);
    for (size_t i = 0; i < 784; ++i) p.v[i] = px[i] / 255.0f;
    return p;
}

inline float sample_bilinear(const Plane& p, double x, double y) {  // x, y in pixel-centre units
    x -= 0.5;
    y -= 0.5;
    const int x0 = int(std::floor(x)), y0 = int(std::floor(y));
    const double fx = x - x0, fy = y - y0;
    auto at = [&](int xx, int yy) { return xx < 0 || yy < 0 || xx >= p.w || yy >= p.h ? 0.0f : p.at(xx, yy); };
    return float((1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) +
                 fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1)));
}

// p enlarged s times (bilinear), optionally rotated by `degrees` about its centre.
inline Plane transform(const Plane& p, double s, double degrees = 0) {
    const int w = std::max(1, int(std::lround(p.w * s))), h = std::max(1, int(std::lround(p.h * s)));
    const double a = degrees * M_PI / 180.0, c = std::cos(a), sn = std::sin(a);
    Plane out(w, h);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const double dx = (x + 0.5 - w / 2.0) / s, dy = (y + 0.5 - h / 2.0) / s;
            out.at(x, y) = sample_bilinear(p, c * dx + sn * dy + p.w / 2.0, -sn * dx + c * dy + p.h / 2.0);
        }
    return out;
}

// Max over a disc of radius r: strokes r pixels thicker on each side.
inline Plane dilate(const Plane& p, int r) {
    Plane out(p.w, p.h);
    for (int y = 0; y < p.h; ++y)
        for (int x = 0; x < p.w; ++x) {
            float m = 0;
            for (int dy = -r; dy <= r; ++dy)
                for (int dx = -r; dx <= r; ++dx) {
                    if (dx * dx + dy * dy > r * r) continue;
                    const int xx = x + dx, yy = y + dy;
                    if (xx >= 0 && yy >= 0 && xx < p.w && yy < p.h) m = std::max(m, p.at(xx, yy));
                }
            out.at(x, y) = m;
        }
    return out;
}

// `ink` drawn at (x, y) on a canvas of w x h (ink planes add, capped at 1).
inline void paste(Plane& canvas, const Plane& ink, int x, int y) {
    for (int yy = 0; yy < ink.h; ++yy)
        for (int xx = 0; xx < ink.w; ++xx) {
            const int cx = x + xx, cy = y + yy;
            if (cx < 0 || cy < 0 || cx >= canvas.w || cy >= canvas.h) continue;
            canvas.at(cx, cy) = std::min(1.0f, canvas.at(cx, cy) + ink.at(xx, yy));
        }
}

inline Plane crop_to_ink(const Plane& p) {
    const Box b = ink_box(p);
    Plane out(std::max(1, b.width()), std::max(1, b.height()));
    for (int y = 0; y < b.height(); ++y)
        for (int x = 0; x < b.width(); ++x) out.at(x, y) = p.at(b.x0 + x, b.y0 + y);
    return out;
}

// How a plane of ink becomes gray pixels.
struct Look {
    bool dark_on_light = false;
    double gradient = 0;   // uneven lighting: the light falls off by this share across the image
    double angle = 0;      // direction of the falloff (radians)
    double noise = 0;      // Gaussian noise sigma (of the 0..1 range)
    double speckle = 0;    // share of pixels set to black or white at random
    bool rgb = false;      // tinted colour instead of gray
};

inline TestImage render(const Plane& ink, const Look& look, std::mt19937& rng) {
    std::normal_distribution<double> gauss(0.0, 1.0);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    TestImage img;
    img.w = ink.w;
    img.h = ink.h;
    img.channels = look.rgb ? 3 : 1;
    img.px.resize(size_t(img.w) * size_t(img.h) * size_t(img.channels));
    const double ca = std::cos(look.angle), sa = std::sin(look.angle);
    for (int y = 0; y < ink.h; ++y)
        for (int x = 0; x < ink.w; ++x) {
            // light: 1 on one side, 1 - gradient on the other
            const double t = 0.5 + 0.5 * (ca * (2.0 * x / ink.w - 1) + sa * (2.0 * y / ink.h - 1)) / std::sqrt(2.0);
            const double light = 1.0 - look.gradient * t;
            const double k = ink.at(x, y);
            // paper reflects 0.9, ink 0.1 (lighting multiplies); a screen glows 0.9 on 0.05 (adds)
            double v = look.dark_on_light ? light * (0.9 - 0.8 * k) : 0.05 + (1.0 - light) * 0.4 + 0.85 * k;
            v += look.noise * gauss(rng);
            if (look.speckle > 0 && u(rng) < look.speckle) v = u(rng) < 0.5 ? 0.0 : 1.0;
            v = std::clamp(v, 0.0, 1.0);
            uint8_t* p = img.px.data() + (size_t(y) * size_t(img.w) + size_t(x)) * size_t(img.channels);
            if (look.rgb) {
                p[0] = uint8_t(std::lround(255 * v * 0.95));
                p[1] = uint8_t(std::lround(255 * v * 0.9));
                p[2] = uint8_t(std::lround(255 * v));
            } else {
                p[0] = uint8_t(std::lround(255 * v));
            }
        }
    return img;
}

// What a user without preprocessing feeds the model: the whole picture as gray, averaged down
// to 28x28, taken as it is (no inversion, no cropping).
inline MnistPixels naive_input(const TestImage& img) {
    Plane g(img.w, img.h);
    for (size_t i = 0; i < g.size(); ++i) {
        const uint8_t* p = img.px.data() + i * size_t(img.channels);
        g.v[i] = (img.channels >= 3 ? 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2] : float(p[0])) / 255.0f;
    }
    const Plane small = resample_area(g, 28, 28);
    MnistPixels out{};
    for (size_t i = 0; i < out.size(); ++i) out[i] = uint8_t(std::lround(255 * std::clamp(small.v[i], 0.0f, 1.0f)));
    return out;
}

enum class Disturbance { Clean, Shifted, Scaled, Thick, Inverted, LargeCanvas, Noise, UnevenLight, Rotated, Photo };

inline std::vector<Disturbance> all_disturbances() {
    return {Disturbance::Clean,       Disturbance::Shifted, Disturbance::Scaled,      Disturbance::Thick,
            Disturbance::Inverted,    Disturbance::LargeCanvas, Disturbance::Noise, Disturbance::UnevenLight,
            Disturbance::Rotated,     Disturbance::Photo};
}

inline std::string describe(Disturbance d) {
    switch (d) {
        case Disturbance::Clean: return "none (the test set as it is)";
        case Disturbance::Shifted: return "shifted 3-5 px in x and y";
        case Disturbance::Scaled: return "enlarged 2-8x (56 to 224 px)";
        case Disturbance::Thick: return "thick strokes (+1 to +1.5 px a side), 4x";
        case Disturbance::Inverted: return "inverted (dark on light)";
        case Disturbance::LargeCanvas: return "1.5-4x on a 160-400 px canvas, anywhere";
        case Disturbance::Noise: return "noise (sigma 0.12, 1% speckles), 4x";
        case Disturbance::UnevenLight: return "uneven lighting (light on dark, 0-40% glow gradient), 4x";
        case Disturbance::Rotated: return "rotated 5-12 degrees";
        case Disturbance::Photo: return "photo-like: dark on light, 50% light falloff, noise, colour, on a canvas";
    }
    return "";
}

inline TestImage disturb(const uint8_t* digit, Disturbance d, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    auto uniform = [&](double a, double b) { return a + (b - a) * u(rng); };
    auto sign = [&] { return u(rng) < 0.5 ? -1 : 1; };
    const Plane p = digit_plane(digit);
    Look look;
    switch (d) {
        case Disturbance::Clean: return render(p, look, rng);
        case Disturbance::Shifted: {
            Plane out(28, 28);
            paste(out, p, sign() * int(uniform(3, 6)), sign() * int(uniform(3, 6)));
            return render(out, look, rng);
        }
        case Disturbance::Scaled: return render(transform(p, uniform(2, 8)), look, rng);
        case Disturbance::Thick: return render(dilate(transform(p, 4), int(uniform(4, 7))), look, rng);
        case Disturbance::Inverted: look.dark_on_light = true; return render(p, look, rng);
        case Disturbance::LargeCanvas: {
            const Plane digit_big = transform(p, uniform(1.5, 4));
            Plane canvas(int(uniform(160, 400)), int(uniform(160, 400)));
            paste(canvas, digit_big, int(uniform(0, canvas.w - digit_big.w)), int(uniform(0, canvas.h - digit_big.h)));
            return render(canvas, look, rng);
        }
        case Disturbance::Noise:
            look.noise = 0.12;
            look.speckle = 0.01;
            return render(transform(p, 4), look, rng);
        case Disturbance::UnevenLight:
            look.gradient = 1.0;
            look.angle = uniform(0, 2 * M_PI);
            return render(transform(p, 4), look, rng);
        case Disturbance::Rotated: return render(transform(p, 1, sign() * uniform(5, 12)), look, rng);
        case Disturbance::Photo: {
            const Plane digit_big = dilate(transform(p, uniform(3, 6), sign() * uniform(0, 6)), 1);
            Plane canvas(int(uniform(digit_big.w + 20, 400)), int(uniform(digit_big.h + 20, 400)));
            paste(canvas, digit_big, int(uniform(0, canvas.w - digit_big.w)), int(uniform(0, canvas.h - digit_big.h)));
            look.dark_on_light = true;
            look.gradient = 0.5;
            look.angle = uniform(0, 2 * M_PI);
            look.noise = 0.05;
            look.rgb = true;
            return render(canvas, look, rng);
        }
    }
    return {};
}

// A number written with the given test digits side by side: a common size (2-4x), each digit
// a little bigger or smaller and higher or lower, gaps from a fifth of a digit's height apart
// to touching and overlapping by a tenth, some strokes broken by a pen lift (a gap across the
// digit), dark on light or light on dark, a little noise.
inline TestImage compose_number(const std::vector<const uint8_t*>& digits, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    auto uniform = [&](double a, double b) { return a + (b - a) * u(rng); };
    const double scale = uniform(2, 4);
    std::vector<Plane> glyphs;
    for (const uint8_t* d : digits) {
        Plane g = crop_to_ink(transform(digit_plane(d), scale * uniform(0.9, 1.1)));
        if (u(rng) < 0.25) {  // a pen lift: a gap two pixels high across the middle third
            const int y = int(uniform(g.h / 3.0, 2 * g.h / 3.0));
            for (int yy = y; yy < std::min(g.h, y + 2); ++yy)
                for (int x = 0; x < g.w; ++x) g.at(x, yy) = 0;
        }
        glyphs.push_back(std::move(g));
    }
    const int height = int(std::lround(20 * scale));
    std::vector<int> xs;
    int x = int(uniform(10, 40));
    for (const Plane& g : glyphs) {
        xs.push_back(x);
        x += g.w + int(std::lround(height * uniform(-0.1, 0.2)));
    }
    const int margin = int(uniform(10, 40));
    Plane canvas(x + margin, height * 3 / 2 + 2 * margin);
    for (size_t i = 0; i < glyphs.size(); ++i)
        paste(canvas, glyphs[i], xs[i], margin + (height - glyphs[i].h) / 2 + int(height * uniform(-0.08, 0.08)));
    Look look;
    look.dark_on_light = u(rng) < 0.5;
    look.noise = 0.03;
    return render(canvas, look, rng);
}

}  // namespace mn::test
