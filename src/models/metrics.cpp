#include "models/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>

namespace mn {

int64_t ConfusionMatrix::total() const { return std::accumulate(counts.begin(), counts.end(), int64_t{0}); }

int64_t ConfusionMatrix::correct() const {
    int64_t sum = 0;
    for (int c = 0; c < n; ++c) sum += at(c, c);
    return sum;
}

ConfusionMatrix confusion_matrix(const uint8_t* labels, const int* predicted, int64_t count, int n_classes) {
    ConfusionMatrix m;
    m.n = n_classes;
    m.counts.assign(static_cast<size_t>(n_classes * n_classes), 0);
    for (int64_t i = 0; i < count; ++i) ++m.counts[static_cast<size_t>(labels[i] * n_classes + predicted[i])];
    return m;
}

std::vector<ClassScores> class_scores(const ConfusionMatrix& m) {
    std::vector<ClassScores> scores;
    for (int c = 0; c < m.n; ++c) {
        int64_t row = 0, column = 0;  // images of class c; predictions of c
        for (int k = 0; k < m.n; ++k) {
            row += m.at(c, k);
            column += m.at(k, c);
        }
        const double tp = double(m.at(c, c));
        const double precision = column ? tp / double(column) : 0.0;
        const double recall = row ? tp / double(row) : 0.0;
        const double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
        scores.push_back({row, precision, recall, f1});
    }
    return scores;
}

Calibration calibration(const uint8_t* labels, const int* predicted, const float* confidence, int64_t count, int n_bins) {
    Calibration cal;
    cal.bins.resize(static_cast<size_t>(n_bins));
    for (int64_t i = 0; i < count; ++i) {
        const int b = std::clamp(static_cast<int>(confidence[i] * n_bins), 0, n_bins - 1);
        CalibrationBin& bin = cal.bins[static_cast<size_t>(b)];
        ++bin.count;
        bin.confidence += confidence[i];
        bin.accuracy += predicted[i] == labels[i];
    }
    for (CalibrationBin& bin : cal.bins) {
        if (!bin.count) continue;
        bin.confidence /= double(bin.count);
        bin.accuracy /= double(bin.count);
        cal.ece += double(bin.count) / double(count) * std::abs(bin.accuracy - bin.confidence);
    }
    return cal;
}

PairCounts pair_counts(const uint8_t* labels, const int* predicted_a, const int* predicted_b, int64_t count) {
    PairCounts p;
    for (int64_t i = 0; i < count; ++i) {
        const bool a = predicted_a[i] == labels[i], b = predicted_b[i] == labels[i];
        (a ? (b ? p.both : p.only_a) : (b ? p.only_b : p.neither))++;
        p.disagree += predicted_a[i] != predicted_b[i];
    }
    return p;
}

double PairCounts::mcnemar_chi2() const {
    if (only_a + only_b == 0) return 0.0;
    const double d = std::max(0.0, std::abs(double(only_a - only_b)) - 1.0);
    return d * d / double(only_a + only_b);
}

// The chi-square distribution with 1 degree of freedom: P(X > x) = erfc(sqrt(x / 2)).
double PairCounts::mcnemar_p() const { return std::erfc(std::sqrt(mcnemar_chi2() / 2.0)); }

}  // namespace mn
