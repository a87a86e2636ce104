// Classification metrics (models/metrics.h) on small hand-made examples whose answers are
// worked out by hand in the comments.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "models/metrics.h"

namespace {

// Three classes, six images: labels 0 0 1 1 2 2, predicted 0 1 1 1 2 0.
const std::vector<uint8_t> kLabels = {0, 0, 1, 1, 2, 2};
const std::vector<int> kPredicted = {0, 1, 1, 1, 2, 0};

TEST(Metrics, ConfusionMatrix) {
    const mn::ConfusionMatrix m = mn::confusion_matrix(kLabels.data(), kPredicted.data(), 6, 3);
    // rows: true; columns: predicted
    EXPECT_EQ(m.counts, (std::vector<int64_t>{1, 1, 0, 0, 2, 0, 1, 0, 1}));
    EXPECT_EQ(m.total(), 6);
    EXPECT_EQ(m.correct(), 4);
}

TEST(Metrics, PrecisionRecallF1) {
    const auto s = mn::class_scores(mn::confusion_matrix(kLabels.data(), kPredicted.data(), 6, 3));
    ASSERT_EQ(s.size(), 3u);
    // class 0: predicted twice (images 0 and 5), right once: precision 1/2; 1 of its 2 found: recall 1/2
    EXPECT_DOUBLE_EQ(s[0].precision, 0.5);
    EXPECT_DOUBLE_EQ(s[0].recall, 0.5);
    EXPECT_DOUBLE_EQ(s[0].f1, 0.5);
    // class 1: predicted 3 times, right twice: 2/3; both found: 1; F1 = 2 * (2/3) / (5/3) = 0.8
    EXPECT_DOUBLE_EQ(s[1].precision, 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(s[1].recall, 1.0);
    EXPECT_NEAR(s[1].f1, 0.8, 1e-12);
    // class 2: predicted once, right: 1; 1 of 2: 1/2; F1 = 2/3
    EXPECT_DOUBLE_EQ(s[2].precision, 1.0);
    EXPECT_DOUBLE_EQ(s[2].recall, 0.5);
    EXPECT_NEAR(s[2].f1, 2.0 / 3.0, 1e-12);
    for (int c = 0; c < 3; ++c) EXPECT_EQ(s[size_t(c)].support, 2);
}

TEST(Metrics, ClassNeverPredictedOrAbsentScoresZero) {
    const std::vector<uint8_t> labels = {0, 0};
    const std::vector<int> predicted = {0, 0};
    const auto s = mn::class_scores(mn::confusion_matrix(labels.data(), predicted.data(), 2, 2));
    EXPECT_DOUBLE_EQ(s[0].f1, 1.0);
    EXPECT_EQ(s[1].support, 0);
    EXPECT_DOUBLE_EQ(s[1].precision, 0.0);
    EXPECT_DOUBLE_EQ(s[1].recall, 0.0);
    EXPECT_DOUBLE_EQ(s[1].f1, 0.0);
}

TEST(Metrics, CalibrationAndEce) {
    // right: 1 0 1 1 1 0; confidences into 10 bins: 0.95 -> 9, 0.55 -> 5, 0.85 -> 8, 0.91 -> 9,
    // 0.99 -> 9, 0.6 -> 6.
    const std::vector<float> conf = {0.95f, 0.55f, 0.85f, 0.91f, 0.99f, 0.6f};
    const mn::Calibration c = mn::calibration(kLabels.data(), kPredicted.data(), conf.data(), 6, 10);
    ASSERT_EQ(c.bins.size(), 10u);
    EXPECT_EQ(c.bins[9].count, 3);
    EXPECT_NEAR(c.bins[9].confidence, 0.95, 1e-6);  // (0.95 + 0.91 + 0.99) / 3
    EXPECT_DOUBLE_EQ(c.bins[9].accuracy, 1.0);
    EXPECT_EQ(c.bins[5].count, 1);
    EXPECT_DOUBLE_EQ(c.bins[5].accuracy, 0.0);
    EXPECT_EQ(c.bins[0].count + c.bins[1].count + c.bins[7].count, 0);
    // ECE = 1/6 (0.55 + 0.6 + 0.15) + 3/6 * 0.05 = 0.241667
    EXPECT_NEAR(c.ece, 1.3 / 6.0 + 0.025, 1e-6);
}

TEST(Metrics, ConfidenceOneIsInTheLastBin) {
    const std::vector<uint8_t> labels = {3};
    const std::vector<int> predicted = {3};
    const std::vector<float> conf = {1.0f};
    const mn::Calibration c = mn::calibration(labels.data(), predicted.data(), conf.data(), 1, 10);
    EXPECT_EQ(c.bins[9].count, 1);
    EXPECT_DOUBLE_EQ(c.ece, 0.0);  // always right, always sure
}

TEST(Metrics, PairCountsAndMcNemar) {
    // labels all 0; A right on images 0-11, B on 0-3 and 12-13; both wrong on 14-15 (A says 1,
    // B says 2 on 14; both say 1 on 15).
    std::vector<uint8_t> labels(16, 0);
    std::vector<int> a(16, 0), b(16, 0);
    for (int i = 4; i < 12; ++i) b[size_t(i)] = 1;
    for (int i = 12; i < 14; ++i) a[size_t(i)] = 1;
    a[14] = 1, b[14] = 2, a[15] = 1, b[15] = 1;
    const mn::PairCounts p = mn::pair_counts(labels.data(), a.data(), b.data(), 16);
    EXPECT_EQ(p.both, 4);
    EXPECT_EQ(p.only_a, 8);
    EXPECT_EQ(p.only_b, 2);
    EXPECT_EQ(p.neither, 2);
    EXPECT_EQ(p.total(), 16);
    EXPECT_EQ(p.disagree, 11);  // 8 + 2 + image 14
    // (|8 - 2| - 1)^2 / 10 = 2.5; P(chi-square with 1 degree of freedom > 2.5) = 0.1138 (tables)
    EXPECT_DOUBLE_EQ(p.mcnemar_chi2(), 2.5);
    EXPECT_NEAR(p.mcnemar_p(), 0.1138, 1e-4);
}

TEST(Metrics, McNemarWithoutDifferences) {
    const mn::PairCounts p{10, 0, 0, 3, 0};
    EXPECT_DOUBLE_EQ(p.mcnemar_chi2(), 0.0);
    EXPECT_DOUBLE_EQ(p.mcnemar_p(), 1.0);
}

}  // namespace
