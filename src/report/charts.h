#pragma once
// The reports' pictures, each an SVG element (report/svg.h): the confusion matrix as a heat map,
// the reliability diagram, line charts (training curves) and grouped bars (two models per class).
// Every mark carries its numbers as data-* attributes, so a test (or a script) reads them back.
#include <string>
#include <utility>
#include <vector>

#include "models/metrics.h"

namespace mn::report {

// Rows are the true class, columns the predicted one; the diagonal is shaded by the row's
// recall (green), mistakes by their count against the largest mistake (red). id="confusion".
std::string confusion_svg(const ConfusionMatrix& m);

// Accuracy against mean confidence per bin, with the diagonal of perfect calibration and the
// ECE in the title. id="reliability".
std::string reliability_svg(const Calibration& c);

struct Series {
    std::string name;   // in the legend
    std::string kind;   // its polyline's class, e.g. "train", "validation"
    std::string color;  // e.g. "#1f77b4"
    std::vector<std::pair<double, double>> points;
};

struct Panel {
    std::string title, y_label;
    bool percent = false;  // y values in [0, 1], drawn as percentages
    std::vector<Series> series;
};

// Panels side by side over the same x (integer ticks: epochs).
std::string line_panels_svg(const std::vector<Panel>& panels, const std::string& x_label, bool standalone);

// Per class, one bar for each of two series (values in [0, 1], drawn as percentages).
std::string grouped_bars_svg(const std::string& title, const std::vector<std::string>& groups,
                             const Series& a, const Series& b, const std::string& id);

}  // namespace mn::report
