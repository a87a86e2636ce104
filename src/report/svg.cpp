#include "report/svg.h"

#include <cmath>

#include "report/markup.h"

namespace mn::report {

void Svg::rect(double x, double y, double w, double h, const std::string& attrs) {
    body_ += strf("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" %s/>\n", x, y, w, h, attrs.c_str());
}

void Svg::line(double x1, double y1, double x2, double y2, const std::string& attrs) {
    body_ += strf("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" %s/>\n", x1, y1, x2, y2, attrs.c_str());
}

void Svg::polyline(const std::vector<std::pair<double, double>>& points, const std::string& attrs) {
    std::string list;
    for (const auto& [x, y] : points) list += strf("%s%.1f,%.1f", list.empty() ? "" : " ", x, y);
    body_ += "<polyline points=\"" + list + "\" fill=\"none\" " + attrs + "/>\n";
}

void Svg::circle(double x, double y, double r, const std::string& attrs) {
    body_ += strf("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" %s/>\n", x, y, r, attrs.c_str());
}

void Svg::text(double x, double y, const std::string& text, const std::string& attrs) {
    body_ += strf("<text x=\"%.1f\" y=\"%.1f\" %s>", x, y, attrs.c_str()) + escape_xml(text) + "</text>\n";
}


std::string Svg::str(bool standalone, const std::string& attrs) const {
    std::string head = standalone ? "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" " : "<svg ";
    return head + strf("width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\" ",
                       width_, height_, width_, height_) +
           attrs + ">\n" + (standalone ? "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n" : "") + body_ + "</svg>\n";
}

namespace {

double tick_step(double lo, double hi, int max_ticks) {
    const double raw = (hi > lo ? hi - lo : std::max(std::abs(hi), 1.0)) / std::max(1, max_ticks);
    const double power = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0})
        if (m * power >= raw) return m * power;
    return 10.0 * power;
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int max_ticks) {
    const double step = tick_step(lo, hi, max_ticks);
    std::vector<double> ticks;
    for (double t = std::floor(lo / step) * step; t <= hi + step * 1e-9; t += step)
        if (t >= lo - step * 1e-9) ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
    return ticks;
}

std::pair<double, double> nice_range(double lo, double hi, int max_ticks) {
    const double step = tick_step(lo, hi, max_ticks);
    const double a = std::floor(lo / step) * step, b = std::ceil(hi / step) * step;
    return {a, b > a ? b : a + step};
}

}  // namespace mn::report
