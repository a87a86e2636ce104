#include "report/charts.h"

#include <algorithm>
#include <cmath>

#include "report/markup.h"
#include "report/svg.h"

namespace mn::report {

namespace {

// White blended towards (r, g, b) by t in [0, 1].
std::string shade(double t, int r, int g, int b) {
    t = std::clamp(t, 0.0, 1.0);
    auto mix = [t](int c) { return static_cast<int>(std::lround(255.0 + (c - 255.0) * t)); };
    return strf("#%02x%02x%02x", mix(r), mix(g), mix(b));
}

// A plot area's mapping from data to pixels, with its axes and grid.
struct Frame {
    double left, top, width, height;
    double x0, x1, y0, y1;
    double x(double v) const { return left + (v - x0) / (x1 - x0) * width; }
    double y(double v) const { return top + height - (v - y0) / (y1 - y0) * height; }

    void draw_axes(Svg& svg, const std::vector<double>& xticks, const std::vector<double>& yticks, bool percent,
                   const std::string& x_label, const std::string& y_label) const {
        for (double t : yticks) {
            svg.line(left, y(t), left + width, y(t), R"(stroke="#e4e4e4")");
            svg.line(left - 4, y(t), left, y(t), R"(stroke="#333")");
            svg.text(left - 7, y(t) + 4, percent ? strf("%g%%", 100.0 * t) : strf("%g", t), R"(text-anchor="end")");
        }
        for (double t : xticks) {
            svg.line(x(t), top + height, x(t), top + height + 4, R"(stroke="#333")");
            svg.text(x(t), top + height + 17, strf("%g", t), R"(text-anchor="middle")");
        }
        svg.line(left, top, left, top + height, R"(stroke="#333")");
        svg.line(left, top + height, left + width, top + height, R"(stroke="#333")");
        svg.text(left + width / 2, top + height + 34, x_label, R"(text-anchor="middle")");
        svg.text(left - 44, top + height / 2, y_label,
                 strf(R"~(text-anchor="middle" transform="rotate(-90 %.1f %.1f)")~", left - 44, top + height / 2));
    }
};

}  // namespace

std::string confusion_svg(const ConfusionMatrix& m) {
    constexpr double kCell = 42, kLeft = 64, kTop = 56;
    const double side = kCell * m.n;
    Svg svg(kLeft + side + 16, kTop + side + 16);
    int64_t worst = 1;  // the largest off-diagonal count
    for (int t = 0; t < m.n; ++t)
        for (int p = 0; p < m.n; ++p)
            if (t != p) worst = std::max(worst, m.at(t, p));
    svg.text(kLeft + side / 2, 18, "predicted", R"(text-anchor="middle" font-weight="bold")");
    svg.text(18, kTop + side / 2, "true", strf(R"~(text-anchor="middle" font-weight="bold" transform="rotate(-90 18 %.1f)")~", kTop + side / 2));
    for (int c = 0; c < m.n; ++c) {
        svg.text(kLeft + (c + 0.5) * kCell, kTop - 10, std::to_string(c), R"(text-anchor="middle")");
        svg.text(kLeft - 10, kTop + (c + 0.5) * kCell + 4, std::to_string(c), R"(text-anchor="end")");
    }
    for (int t = 0; t < m.n; ++t) {
        int64_t row = 0;
        for (int p = 0; p < m.n; ++p) row += m.at(t, p);
        for (int p = 0; p < m.n; ++p) {
            const int64_t n = m.at(t, p);
            const double level = t == p ? (row ? double(n) / double(row) : 0.0) : std::sqrt(double(n) / double(worst));
            const std::string fill = t == p ? shade(level, 26, 140, 70) : shade(level, 205, 40, 40);
            const double x = kLeft + p * kCell, y = kTop + t * kCell;
            svg.rect(x, y, kCell, kCell,
                     strf(R"(fill="%s" stroke="#fff" class="cell" data-true="%d" data-predicted="%d" data-count="%lld")",
                          fill.c_str(), t, p, static_cast<long long>(n)));
            if (n)
                svg.text(x + kCell / 2, y + kCell / 2 + 4, std::to_string(n),
                         strf(R"(text-anchor="middle" font-size="%d" fill="%s")", n >= 1000 ? 11 : 12,
                              level > 0.6 ? "#fff" : "#222"));
        }
    }
    return svg.str(false, R"(id="confusion" role="img")");
}

std::string reliability_svg(const Calibration& c) {
    const Frame f{56, 34, 300, 300, 0, 1, 0, 1};
    Svg svg(f.left + f.width + 20, f.top + f.height + 46);
    svg.text(f.left + f.width / 2, 18, strf("reliability (ECE %.4f)", c.ece), R"(text-anchor="middle" font-weight="bold")");
    const std::vector<double> ticks = nice_ticks(0, 1, 5);
    f.draw_axes(svg, ticks, ticks, false, "confidence (probability of the prediction)", "accuracy");
    const double n = double(c.bins.size());
    for (size_t i = 0; i < c.bins.size(); ++i) {
        const CalibrationBin& b = c.bins[i];
        const double lo = double(i) / n, hi = double(i + 1) / n;
        if (!b.count) continue;
        svg.rect(f.x(lo) + 1, f.y(b.accuracy), f.x(hi) - f.x(lo) - 2, f.y(0) - f.y(b.accuracy),
                 strf(R"(fill="#4a7fc1" class="bin" data-count="%lld" data-confidence="%.6f" data-accuracy="%.6f")",
                      static_cast<long long>(b.count), b.confidence, b.accuracy));
        svg.text((f.x(lo) + f.x(hi)) / 2, f.y(b.accuracy) - 4, std::to_string(b.count), R"(text-anchor="middle" font-size="9")");
    }
    svg.line(f.x(0), f.y(0), f.x(1), f.y(1), R"(stroke="#c33" stroke-dasharray="5,4")");
    return svg.str(false, R"(id="reliability" role="img")");
}

std::string line_panels_svg(const std::vector<Panel>& panels, const std::string& x_label, bool standalone) {
    constexpr double kPanelWidth = 420, kPlotWidth = 330, kPlotHeight = 230;
    Svg svg(kPanelWidth * double(panels.size()), kPlotHeight + 80);
    double x_lo = 1, x_hi = 1;
    bool first = true;
    for (const Panel& p : panels)
        for (const Series& s : p.series)
            for (const auto& [x, y] : s.points) {
                x_lo = first ? x : std::min(x_lo, x);
                x_hi = first ? x : std::max(x_hi, x);
                first = false;
            }
    if (x_hi <= x_lo) x_hi = x_lo + 1;
    std::vector<double> xticks;
    for (double t : nice_ticks(x_lo, x_hi, 8))
        if (t == std::floor(t)) xticks.push_back(t);
    for (size_t k = 0; k < panels.size(); ++k) {
        const Panel& p = panels[k];
        double y_lo = p.percent ? 1.0 : 0.0, y_hi = 0.0;
        bool any = false;
        for (const Series& s : p.series)
            for (const auto& [x, y] : s.points) {
                y_lo = std::min(y_lo, y);
                y_hi = std::max(y_hi, y);
                any = true;
            }
        if (!any) y_hi = 1.0;
        if (p.percent) y_hi = 1.0;
        const auto [a, b] = nice_range(y_lo, y_hi, 5);
        const Frame f{kPanelWidth * double(k) + 64, 34, kPlotWidth, kPlotHeight, x_lo, x_hi, a, p.percent ? std::min(b, 1.0) : b};
        svg.text(f.left + f.width / 2, 18, p.title, R"(text-anchor="middle" font-weight="bold")");
        f.draw_axes(svg, xticks, nice_ticks(f.y0, f.y1, 5), p.percent, x_label, p.y_label);
        std::vector<const Series*> drawn;  // (a series without points, as validation without a validation set, is left out)
        for (const Series& s : p.series)
            if (!s.points.empty()) drawn.push_back(&s);
        for (size_t i = 0; i < drawn.size(); ++i) {
            const Series& s = *drawn[i];
            std::vector<std::pair<double, double>> px;
            for (const auto& [x, y] : s.points) px.emplace_back(f.x(x), f.y(y));
            svg.polyline(px, strf(R"(stroke="%s" stroke-width="2" class="%s" data-points="%zu")", s.color.c_str(),
                                  s.kind.c_str(), px.size()));
            for (const auto& [x, y] : px) svg.circle(x, y, 2.5, strf(R"(fill="%s")", s.color.c_str()));
            // The legend, top right, or bottom right for percentages (which rise).
            const double ly = p.percent ? f.top + f.height - 14 - 16 * double(drawn.size() - 1 - i) : f.top + 10 + 16 * double(i);
            svg.line(f.left + f.width - 110, ly, f.left + f.width - 90, ly, strf(R"(stroke="%s" stroke-width="2")", s.color.c_str()));
            svg.text(f.left + f.width - 85, ly + 4, s.name);
        }
    }
    return svg.str(standalone, R"(class="curves" role="img")");
}

std::string grouped_bars_svg(const std::string& title, const std::vector<std::string>& groups, const Series& a,
                             const Series& b, const std::string& id) {
    double lo = 1.0;
    for (const Series* s : {&a, &b})
        for (const auto& [x, y] : s->points) lo = std::min(lo, y);
    const auto [y0, y1] = nice_range(lo - 0.01, 1.0, 5);
    const Frame f{64, 34, 48.0 * double(groups.size()), 240, 0, double(groups.size()), std::max(0.0, y0), std::min(1.0, y1)};
    Svg svg(f.left + f.width + 240, f.top + f.height + 46);  // (the legend at the right)
    svg.text(f.left + f.width / 2, 18, title, R"(text-anchor="middle" font-weight="bold")");
    f.draw_axes(svg, {}, nice_ticks(f.y0, f.y1, 5), true, "class", "");
    for (size_t g = 0; g < groups.size(); ++g) {
        svg.text(f.x(double(g) + 0.5), f.top + f.height + 17, groups[g], R"(text-anchor="middle")");
        for (int k = 0; k < 2; ++k) {
            const Series& s = k ? b : a;
            const double v = s.points[g].second;
            const double x = f.x(double(g)) + 6 + 18 * k;
            svg.rect(x, f.y(v), 17, f.y(f.y0) - f.y(v),
                     strf(R"(fill="%s" class="%s" data-value="%.6f")", s.color.c_str(), s.kind.c_str(), v));
        }
    }
    for (int k = 0; k < 2; ++k) {
        const Series& s = k ? b : a;
        svg.rect(f.left + f.width + 16, f.top + 8 + 18 * k, 12, 12, strf(R"(fill="%s")", s.color.c_str()));
        svg.text(f.left + f.width + 34, f.top + 18 + 18 * k, s.name);
    }
    return svg.str(false, strf(R"(id="%s" role="img")", id.c_str()));
}

}  // namespace mn::report
