#pragma once
// Scores a model on a labelled set: accuracy and mean cross-entropy loss, batch after batch, and
// each image's prediction with its probability (models/metrics.h makes the rest of them).
#include <cstdint>
#include <vector>

#include "engine/executor.h"
#include "io/idx.h"
#include "models/model.h"

namespace mn {

struct EvalResult {
    int64_t count = 0;
    int64_t correct = 0;
    double loss = 0.0;      // mean cross-entropy
    double accuracy() const { return count ? double(correct) / double(count) : 0.0; }
    double ms = 0.0;        // evaluation time
    size_t activation_bytes = 0;
    std::vector<int> predictions;     // one per image
    std::vector<float> confidences;   // one per image: the probability of its predicted class
};

// Images [first, first + count) of the set; labels may be null (then only predictions).
EvalResult evaluate(const Model& m, const IdxImages& images, const IdxLabels* labels, int64_t first, int64_t count,
                    Executor& executor, int64_t batch);

// Cross-entropy of one example from its logits, computed stably: logsumexp(z) - z[label].
double cross_entropy(const float* logits, int64_t n, int label);

}  // namespace mn
