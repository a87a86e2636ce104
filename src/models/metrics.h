#pragma once
// What a classifier's predictions on a labelled set say, beyond its accuracy: the confusion
// matrix, each class's precision, recall and F1, calibration (is a prediction made with
// probability p right a fraction p of the time?) and, for two classifiers on the same set,
// where they differ (McNemar's table).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mn {

struct ConfusionMatrix {
    int n = 0;                    // classes
    std::vector<int64_t> counts;  // [truth * n + predicted]
    int64_t at(int truth, int predicted) const { return counts[static_cast<size_t>(truth * n + predicted)]; }
    int64_t total() const;
    int64_t correct() const;  // the diagonal
};

ConfusionMatrix confusion_matrix(const uint8_t* labels, const int* predicted, int64_t count, int n_classes);

struct ClassScores {
    int64_t support;   // images of the class
    double precision;  // TP / (TP + FP); 0 when the class was never predicted
    double recall;     // TP / (TP + FN); 0 when the class has no images
    double f1;         // their harmonic mean; 0 when both are 0
};

std::vector<ClassScores> class_scores(const ConfusionMatrix& m);

// Predictions grouped by their confidence (the probability of the predicted class) into equal
// bins [i / n, (i + 1) / n) (the last one closed): how many, their mean confidence, and the
// share of them that were right.
struct CalibrationBin {
    int64_t count = 0;
    double confidence = 0.0, accuracy = 0.0;  // means over the bin (0 when it is empty)
};

struct Calibration {
    std::vector<CalibrationBin> bins;
    // Expected calibration error: sum over bins of count / total * |accuracy - confidence|.
    double ece = 0.0;
};

Calibration calibration(const uint8_t* labels, const int* predicted, const float* confidence, int64_t count, int n_bins);

// Two classifiers A and B on the same images: how many each got right alone, both, neither,
// and how many images they answer differently (both wrong, differently, counts there too).
struct PairCounts {
    int64_t both = 0, only_a = 0, only_b = 0, neither = 0;
    int64_t disagree = 0;
    int64_t total() const { return both + only_a + only_b + neither; }
    // McNemar's chi-square with Yates's continuity correction, (|b - c| - 1)^2 / (b + c), on the
    // images exactly one of them got right (0 when there are none), and its p-value (1 degree of
    // freedom): how likely a difference this large is between two equally accurate classifiers.
    double mcnemar_chi2() const;
    double mcnemar_p() const;
};

PairCounts pair_counts(const uint8_t* labels, const int* predicted_a, const int* predicted_b, int64_t count);

}  // namespace mn
