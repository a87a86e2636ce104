#include "models/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "models/inference.h"

namespace mn {

double cross_entropy(const float* z, int64_t n, int label) {
    double mx = z[0];
    for (int64_t i = 1; i < n; ++i) mx = std::max(mx, double(z[i]));
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += std::exp(double(z[i]) - mx);
    return mx + std::log(sum) - z[label];
}

EvalResult evaluate(const Model& m, const IdxImages& images, const IdxLabels* labels, int64_t first, int64_t count,
                    Executor& executor, int64_t batch) {
    EvalResult r;
    r.count = count;
    r.predictions.resize(static_cast<size_t>(count));
    if (count == 0) return r;
    Predictor p(m, std::min(batch, count), executor);
    r.activation_bytes = p.activation_bytes();
    double loss_sum = 0.0;
    const auto start = std::chrono::steady_clock::now();
    for (int64_t done = 0; done < count; done += p.batch()) {
        const int64_t n = std::min(p.batch(), count - done);
        p.run(images.image(first + done), n);
        for (int64_t i = 0; i < n; ++i) {
            const int pred = p.predicted(i);
            r.predictions[static_cast<size_t>(done + i)] = pred;
            if (!labels) continue;
            const int label = labels->labels[static_cast<size_t>(first + done + i)];
            r.correct += pred == label;
            loss_sum += cross_entropy(p.logits(i), p.n_classes(), label);
        }
    }
    r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    r.loss = loss_sum / double(count);
    return r;
}

}  // namespace mn
