#pragma once
// A small SVG writer: shapes and text appended in drawing order, attributes passed as written
// (`R"(fill="#ccc" class="cell")"`), the picture closed by str(). Coordinates in pixels, y down.
#include <string>
#include <utility>
#include <vector>

namespace mn::report {

class Svg {
public:
    Svg(double width, double height) : width_(width), height_(height) {}

    void rect(double x, double y, double w, double h, const std::string& attrs);
    void line(double x1, double y1, double x2, double y2, const std::string& attrs);
    void polyline(const std::vector<std::pair<double, double>>& points, const std::string& attrs);
    void circle(double x, double y, double r, const std::string& attrs);
    // `text` is escaped; attrs set anchor, size, class...
    void text(double x, double y, const std::string& text, const std::string& attrs = "");

    // The <svg> element with `attrs` (an id, a class). A file of its own (standalone) also
    // needs the XML declaration and namespace, and gets a white background (viewers with a dark
    // theme); inside an HTML page none of these is needed.
    std::string str(bool standalone, const std::string& attrs = "") const;

private:
    double width_, height_;
    std::string body_;
};

// Axis ticks at 1, 2 or 5 times a power of ten, at most about `max_ticks` of them, covering
// [lo, hi]; `nice_range` widens [lo, hi] to the outer ticks.
std::vector<double> nice_ticks(double lo, double hi, int max_ticks);
std::pair<double, double> nice_range(double lo, double hi, int max_ticks);

}  // namespace mn::report
