#include "report/training_curves.h"

#include "report/charts.h"

namespace mn::report {

std::string training_curves_svg(const std::vector<EpochPoint>& epochs) {
    Panel loss{"loss", "mean cross-entropy", false, {}}, accuracy{"accuracy", "accuracy", true, {}};
    Series train_loss{"train", "train", "#1f77b4", {}}, val_loss{"validation", "validation", "#d62728", {}};
    Series train_acc = train_loss, val_acc = val_loss;
    for (const EpochPoint& e : epochs) {
        const double x = double(e.epoch);
        train_loss.points.emplace_back(x, e.train_loss);
        train_acc.points.emplace_back(x, e.train_accuracy);
        if (e.val_loss) val_loss.points.emplace_back(x, *e.val_loss);
        if (e.val_accuracy) val_acc.points.emplace_back(x, *e.val_accuracy);
    }
    loss.series = {train_loss, val_loss};
    accuracy.series = {train_acc, val_acc};
    return line_panels_svg({loss, accuracy}, "epoch", true);
}

}  // namespace mn::report
