#pragma once
// `mnist eval --report`: one HTML page of what a model does on a labelled set: the confusion
// matrix, each class's precision, recall and F1, its most confident mistakes, its calibration,
// and the run's settings and timings.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "io/idx.h"
#include "models/evaluate.h"

namespace mn::report {

constexpr int kCalibrationBins = 10;
constexpr size_t kShownMistakes = 25;

struct EvalRun {
    const IdxImages& images;
    const IdxLabels& labels;
    const EvalResult& result;
    int n_classes;
    // Shown as they are, in order: model file, architecture, data files, threads, timings...
    std::vector<std::pair<std::string, std::string>> settings;
};

// Indices of the images the model got wrong, the most confident first (at most k).
std::vector<int64_t> confident_mistakes(const EvalResult& r, const IdxLabels& labels, size_t k);

std::string eval_report_html(const EvalRun& run);

}  // namespace mn::report
