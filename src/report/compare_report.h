#pragma once
// `mnist compare --report`: one HTML page comparing two models on the same labelled set: each
// one's accuracy, McNemar's table of who got what right, per-class recall side by side, and
// the images they answer differently, drawn with both predictions.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "io/idx.h"
#include "models/evaluate.h"

namespace mn::report {

struct CompareRun {
    const IdxImages& images;
    const IdxLabels& labels;
    std::string name_a, name_b;  // the model files
    const EvalResult& a;
    const EvalResult& b;
    int n_classes;
    size_t max_images;  // disagreements drawn, the first ones in the set's order
    std::vector<std::pair<std::string, std::string>> settings;
};

std::string compare_report_html(const CompareRun& run);

}  // namespace mn::report
