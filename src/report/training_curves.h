#pragma once
// `mnist train --plot`: the loss and the accuracy of training and validation against epochs,
// two panels of one SVG file.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mn::report {

struct EpochPoint {
    int64_t epoch;  // 1 = the first
    double train_loss, train_accuracy;
    std::optional<double> val_loss, val_accuracy;  // none without a validation set
};

// A standalone SVG file's text; polylines of class "train" and "validation" in each panel.
std::string training_curves_svg(const std::vector<EpochPoint>& epochs);

}  // namespace mn::report
